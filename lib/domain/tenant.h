/* Work accounts: a tenant and its first user, its global admin. */
#ifndef TWOTIER_TENANT_H
#define TWOTIER_TENANT_H

#include "core/util.h"

struct db;
struct problem;

/* Input of a sign-up; all borrowed, already validated. */
struct tenant_signup {
	const char *domain;
	const char *display_name;
	const char *email;
	const char *password_hash;
	const char *first_name;
	const char *last_name;
	const char *request_id;
	const char *client_addr;
};

struct tenant_created {
	char tenant_id[UUID_STR];
	char user_id[UUID_STR];
	char created_at[TIME_STR]; /* RFC 3339 */
};

/* What a sign-up can be refused for before its password is hashed: 409
 * when the domain or the e-mail is taken (tenant_create checks again, in
 * its transaction). Returns 0, or -1 with p set (409, 503). */
int tenant_signup_check(struct db *db, const char *domain, const char *email, struct problem *p);

/* Creates the tenant, its first user with roles global_admin and
 * admin_agent, and the audit event, in one transaction. Returns 0, or -1
 * with p set: 409 when the domain or the e-mail is taken, 503. */
int tenant_create(struct db *db, const struct tenant_signup *in, struct tenant_created *out,
		  struct problem *p);

/* Creates an operator user on the platform tenant (created on first use).
 * Returns 0 when created, 1 when a user with that e-mail already exists,
 * -1 with p set. */
int operator_create(struct db *db, const char *email, const char *password_hash, struct problem *p);

#endif
