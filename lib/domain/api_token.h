/* API tokens for partners' systems (SPEC §2): created by admin agents,
 * shown once, stored as SHA-256, revocable. */
#ifndef TWOTIER_API_TOKEN_H
#define TWOTIER_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "core/util.h"

struct db;
struct problem;
struct actor;

struct api_token_view {
	char id[UUID_STR];
	char name[104];
	char prefix[12]; /* the first characters, to tell tokens apart */
	unsigned scopes;
	char expires_at[TIME_STR];
	char last_used_at[TIME_STR]; /* "" when never used */
	char revoked_at[TIME_STR];   /* "" when active */
	char created_at[TIME_STR];
	char created_by[UUID_STR];
	/* why the token does not work while its creator cannot stand behind
	 * it (a static text), or NULL */
	const char *suspended_reason;
};

/* Creates a token for the actor's tenant. expires_sql is a DATETIME(6)
 * text in the future. token receives the secret (shown once). */
int api_token_create(struct db *db, const struct actor *a, const char *name, unsigned scopes,
		     const char *expires_sql, char token[API_TOKEN_LEN + 1],
		     struct api_token_view *out, struct problem *p);

int api_token_list(struct db *db, const char *tenant_id, const char *after, long limit,
		   struct api_token_view **items, size_t *n, long *total, struct problem *p);

/* Revokes (idempotent: revoking a revoked token changes nothing). 404
 * unless the token is the tenant's. */
int api_token_revoke(struct db *db, const struct actor *a, const char *id, struct problem *p);

#endif
