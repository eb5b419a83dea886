/* Work accounts: a tenant and its first user, its global admin, created
 * once the admin follows the link mailed to its address at the domain. */
#ifndef TWOTIER_TENANT_H
#define TWOTIER_TENANT_H

#include <stdbool.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/region.h"

struct actor;
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

/* Deletes up to limit pending sign-ups, the oldest first, that nobody
 * verified within their 72 hours or that were verified already, for the
 * purge (purge.c); *deleted: how many. DB_OK or DB_FAILED. */
enum db_status signup_purge(struct txn *t, long long limit, unsigned long long *deleted);

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

/* ---- the tenant's row, for the other modules ---- */

/* What a change serialised on the tenant's row reads of it. */
struct tenant_locked {
	bool is_platform;
	char domain[254];
	char csp_country[3]; /* "" before the enrolment gives it */
};

/* Locks the tenant's row (FOR UPDATE) and reads it into out: the changes
 * of a tenant's users (user.c), its MPN association (mpn.c) and its
 * onboarding as a provider (provider.c) queue here. DB_OK, DB_EMPTY (no
 * such tenant), DB_FAILED. */
enum db_status tenant_lock(struct txn *t, const char *id, struct tenant_locked *out);

/* The tenant's domain into domain, unlocked: the address an invitation
 * must be sent to for its acceptance (customer.c). DB_OK, DB_EMPTY,
 * DB_FAILED. */
enum db_status tenant_domain(struct txn *t, const char *id, char domain[254]);

/* Makes country (a country of the programme) the tenant's CSP country:
 * its enrolment's legal country (enrollment.c, profile.c) or a provider's
 * onboarding legal profile (provider.c). DB_OK or DB_FAILED. */
enum db_status tenant_set_csp_country(struct txn *t, const char *id, const char *country);

/* Adds the memberships of the programme partner_types (enum partner_type
 * bits) to the tenant: an approved enrolment (enrollment.c), a provider's
 * onboarding (provider.c). DB_OK or DB_FAILED. */
enum db_status tenant_add_partner_type(struct txn *t, const char *id, unsigned partner_types);

/* Where the tenant is billed: the region and currency of its CSP country,
 * for the prices of offers (order.c) and the providers a reseller finds
 * (provider.c). DB_OK, DB_EMPTY when the tenant has no CSP country (or is
 * unknown), DB_FAILED. */
enum db_status tenant_billing(struct txn *t, const char *id, struct region_billing *out);

/* ---- domains the operator verified for a tenant (issue 21, F7) ----
 * Besides its work account's domain, a tenant's primary contact may be at
 * a domain the operator has verified for it (or below one). A domain is
 * verified for one tenant at most, and never for one whose work account's
 * domain or verified domain is, contains or lies within another's. */

struct tenant_verified_domain {
	char domain[254], tenant_id[UUID_STR], verified_by[UUID_STR], verified_at[TIME_STR];
};

/* The operator (op) verifies domain (a valid host name; the caller refuses
 * webmail) for the tenant: audited in the tenant and the operator's
 * tenant. Verifying it again changes nothing (*created false). Returns 0
 * with *out, or -1 with p set (404 unknown tenant; 409 domain_taken; 422
 * work_account_domain: the tenant's own) or t failed. */
int tenant_verified_domain_add(struct txn *t, const struct actor *op, const char *tenant_id,
			       const char *domain, struct tenant_verified_domain *out,
			       bool *created, struct problem *p);

/* The tenant's verified domains, by name (*items the caller's to free).
 * Returns 0, or -1 with p set (404 unknown tenant) or t failed. */
int tenant_verified_domains(struct txn *t, const char *tenant_id,
			    struct tenant_verified_domain **items, size_t *n, struct problem *p);

/* Removes a verified domain (audited as the adding is). A contact there
 * already stays; a new enrolment's is refused. Returns 0, or -1 with p set
 * (404 unknown tenant, or domain_not_verified) or t failed. */
int tenant_verified_domain_remove(struct txn *t, const struct actor *op, const char *tenant_id,
				  const char *domain, struct problem *p);

/* Whether email is at the tenant's company's domain: its work account's
 * domain (into domain) or a verified one, or below one. DB_OK with *ok,
 * DB_EMPTY (no such tenant), DB_FAILED. */
enum db_status tenant_contact_domain_ok(struct txn *t, const char *tenant_id, const char *email,
					bool *ok, char domain[254]);

#endif
