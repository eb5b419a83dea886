/* Work accounts: a tenant and its first user, its global admin, created
 * once the admin follows the link mailed to its address at the domain. */
#ifndef TWOTIER_TENANT_H
#define TWOTIER_TENANT_H

#include "core/util.h"
#include "db/db.h"

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
	char display_name[801];
	char tenant_id[UUID_STR];
	char user_id[UUID_STR];
	char created_at[TIME_STR]; /* the API's form */
};

/* A sign-up link lives 72 hours. */
#define SIGNUP_TTL_SECONDS (72 * 3600)

/* Starts a sign-up in t: a pending sign-up and the mail of its
 * single-use link {public_base_url}/verify-signup?token=... to the admin
 * address. Nothing is reserved and nothing checked against existing
 * accounts, so that the answer is the same whether or not the domain or
 * address is taken. Returns 0 with the link's expiry (the API's form), or
 * -1 with t failed. */
int signup_request(struct txn *t, const struct tenant_signup *in, const char *public_base_url,
		   char expires_at[TIME_STR], struct problem *p);

/* Follows a sign-up link in t: creates the tenant and its global admin
 * (tenant_create) and uses the link up. domain and email receive the
 * sign-up's. Returns 0, or -1 with p set: 404 signup_link_invalid
 * (unknown, used or expired: one answer), 409 when the domain or address
 * was taken meanwhile (another sign-up of the domain was verified first);
 * or with t failed. */
int signup_verify(struct txn *t, const char *token, const char *request_id, const char *client_addr,
		  struct tenant_created *out, char domain[254], char email[255], struct problem *p);

/* Creates the tenant, its first user with roles global_admin and
 * admin_agent, and the audit event, in t. Returns 0 with out, or -1 with
 * p set: 409 when the domain or the e-mail is taken; or with t failed. */
int tenant_create(struct txn *t, const struct tenant_signup *in, struct tenant_created *out,
		  struct problem *p);

/* Creates an operator user on the platform tenant (created on first use),
 * in t. Returns 0 when created, 1 when a user with that e-mail already
 * exists (nothing changed), or -1 with p set (409: another run created
 * the platform tenant meanwhile) or with t failed. */
int operator_create(struct txn *t, const char *email, const char *password_hash, struct problem *p);

#endif
