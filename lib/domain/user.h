/* Users of a tenant and their roles (SPEC §1): listed, added, changed by
 * admin agents; every change audited in its transaction. Another tenant's
 * user is "not found", never "forbidden". */
#ifndef TWOTIER_USER_H
#define TWOTIER_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

struct db;
struct problem;
struct actor;

struct user_view {
	char id[UUID_STR];
	char tenant_id[UUID_STR];
	char email[256];
	char first_name[104];
	char last_name[104];
	unsigned roles;
	bool disabled;
	unsigned long version;
	char created_at[TIME_STR];
	char updated_at[TIME_STR];
};

/* A row to insert; all borrowed. */
struct user_row {
	const char *id, *tenant_id, *email, *password_hash, *first_name, *last_name;
	unsigned roles; /* enum auth_role bits */
	const char *at;
};

/* Inserts a user with its roles inside the caller's transaction. Returns a
 * db_exec status; DB_DUPLICATE when the e-mail is taken. */
int user_insert(struct db *db, const struct user_row *u);

int user_list(struct db *db, const char *tenant_id, const char *after, long limit,
	      struct user_view **items, size_t *n, long *total, struct problem *p);
/* 404 unless the user is in tenant_id. */
int user_get(struct db *db, const char *tenant_id, const char *id, struct user_view *out,
	     struct problem *p);

struct user_new {
	const char *email; /* canonical (email_canonical) */
	const char *password_hash, *first_name, *last_name;
	unsigned roles;
	/* an external identity provider's subject for this user, or NULL */
	const char *external_issuer, *external_subject;
	/* the platform tenant's users may also have addresses at these
	 * (comma-separated, email_domain_listed) */
	const char *platform_domains;
};
/* 201 semantics: 403 when an actor who is not a global admin grants
 * global_admin; 409 when the e-mail or external subject is taken (one
 * text for both); 422 email_not_at_domain unless the address is at the
 * tenant's domain, 422 for 'operator' outside the platform tenant. */
int user_create(struct db *db, const struct actor *a, const struct user_new *in,
		struct user_view *out, struct problem *p);

/* Changes roles (when set_roles) and/or disabled (when set_disabled) if
 * the user is at version (0: any). 403 when an actor who is not a global
 * admin grants global_admin or changes a global admin's roles or state;
 * 404; 412 stale version; 422 when it would leave the tenant without an
 * active global admin. */
int user_update(struct db *db, const struct actor *a, const char *id, unsigned long version,
		bool set_roles, unsigned roles, bool set_disabled, bool disabled,
		struct user_view *out, struct problem *p);

#endif
