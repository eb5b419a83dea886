/* API tokens for partners' systems (SPEC §2): created by admin agents,
 * shown once, stored as SHA-256, revocable. A token acts for its creator:
 * it works while its creator could make it again (principal.h refuses it
 * otherwise). */
#ifndef TWOTIER_API_TOKEN_H
#define TWOTIER_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/util.h"
#include "db/db.h"

struct problem;
struct actor;

/* The roles of which a token's creator must hold one for the token to
 * work. */
#define API_TOKEN_CREATOR_ROLES (ROLE_ADMIN_AGENT | ROLE_GLOBAL_ADMIN)

struct api_token_view {
	char id[UUID_STR];
	char name[401];
	unsigned scopes; /* enum auth_scope bits */
	char expires_at[TIME_STR];
	char last_used_at[TIME_STR]; /* "" when never used */
	char revoked_at[TIME_STR];   /* "" when active */
	char created_at[TIME_STR];
	char created_by[UUID_STR];
	/* the creator as it is now */
	bool creator_disabled;
	unsigned creator_roles;
};

/* Why the token does not work while its creator cannot stand behind it (a
 * static text), or NULL. */
const char *api_token_suspended_reason(const struct api_token_view *v);

/* Creates a token for the actor's tenant (the actor is its creator),
 * expiring at expires_at, in t. token receives the secret (shown once;
 * zeroed unless 0 is returned). Returns 0 with out, or -1 with t
 * failed. */
int api_token_create(struct txn *t, const struct actor *a, const char *name, unsigned scopes,
		     micros_t expires_at, char token[API_TOKEN_LEN + 1], struct api_token_view *out,
		     struct problem *p);

/* Pages of struct api_token_view of one tenant (key: the tenant's id). */
extern const struct db_page api_token_page;

/* Sets the token's last use to now (the database's clock): the principal
 * of a request made with it (principal.c), once a minute at most. DB_OK or
 * DB_FAILED. */
enum db_status api_token_touch(struct txn *t, const char *id);

/* Revokes token id of the actor's tenant, in t (idempotent: revoking a
 * revoked token changes nothing and is not audited again). Returns 0, or
 * -1 with p set: 404 unless the token is the tenant's; or with t
 * failed. */
int api_token_revoke(struct txn *t, const struct actor *a, const char *id, struct problem *p);

#endif
