#include "domain/tenant.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "domain/audit.h"
#include "domain/user.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(tenant_insert,
	     "INSERT INTO tenants (id, domain, display_name, is_platform, created_at) "
	     "VALUES (?, ?, ?, 0, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

/* one tenant's id */
struct tenant_id_row {
	char id[UUID_STR];
};
#define TENANT_ID_FIELDS(F, T) F(T, id, DB_TEXT)

DB_STATEMENT(tenant_platform,
	     "SELECT id FROM tenants WHERE is_platform = 1 ORDER BY created_at LIMIT 1",
	     DB_NO_PARAMS, DB_ROW(struct tenant_id_row, TENANT_ID_FIELDS));

DB_STATEMENT(tenant_platform_insert,
	     "INSERT INTO tenants (id, domain, display_name, is_platform, created_at) "
	     "VALUES (?, 'platform.invalid', 'Programme operator', 1, ?)",
	     DB_PARAMS(DB_TEXT, DB_TIME), DB_NO_ROW);

DB_STATEMENT(tenant_signup_insert,
	     "INSERT INTO pending_signups (id, domain, display_name, email, password_hash, "
	     "first_name, last_name, token_hash, created_at, expires_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_TIME, DB_TIME),
	     DB_NO_ROW);

/* A pending sign-up, and whether its link is spent (expired or used). */
struct tenant_signup_row {
	char id[UUID_STR];
	char domain[254];
	char display_name[801];
	char email[255];
	char password_hash[256];
	char first_name[401];
	char last_name[401];
	bool spent;
};
#define TENANT_SIGNUP_FIELDS(F, T)                                                                 \
	F(T, id, DB_TEXT)                                                                          \
	F(T, domain, DB_TEXT)                                                                      \
	F(T, display_name, DB_TEXT)                                                                \
	F(T, email, DB_TEXT)                                                                       \
	F(T, password_hash, DB_TEXT)                                                               \
	F(T, first_name, DB_TEXT) F(T, last_name, DB_TEXT) F(T, spent, DB_INT)

DB_STATEMENT(tenant_signup_by_hash,
	     "SELECT id, domain, display_name, email, password_hash, first_name, last_name, "
	     "expires_at <= ? OR used_at IS NOT NULL AS spent FROM pending_signups "
	     "WHERE token_hash = ? FOR UPDATE",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_ROW(struct tenant_signup_row, TENANT_SIGNUP_FIELDS));

DB_STATEMENT(tenant_signup_use, "UPDATE pending_signups SET used_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

/* a sign-up nobody verified within its 72 hours, or one verified already;
 * ORDER BY the column the index covers: each batch is the oldest rows */
DB_STATEMENT(tenant_signup_purge,
	     "DELETE FROM pending_signups WHERE expires_at < UTC_TIMESTAMP(6) "
	     "ORDER BY expires_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status signup_purge(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &tenant_signup_purge, a, deleted);
}

int signup_request(struct txn *t, const struct tenant_signup *in, const char *public_base_url,
		   char expires_at[TIME_STR], struct problem *p)
{
	char id[UUID_STR], token[LINK_TOKEN_LEN + 1], hash[65], link[512];
	micros_t at = time_micros(), until = at + SIGNUP_TTL_SECONDS * 1000000LL;
	int rc = -1;
	(void)p; /* nothing here refuses */
	uuid_v7(id);
	time_api(until, expires_at);
	link_token_generate(token, hash);
	snprintf(link, sizeof link, "%s/verify-signup?token=%s", public_base_url, token);
	struct db_arg a[] = {db_text(id),
			     db_text(in->domain),
			     db_text(in->display_name),
			     db_text(in->email),
			     db_text(in->password_hash),
			     db_text(in->first_name),
			     db_text(in->last_name),
			     db_text(hash),
			     db_time(at),
			     db_time(until)};
	struct mail_var vars[] = {
	    {"first_name", in->first_name}, {"domain", in->domain}, {"link", link}};
	struct outbox_mail m = {NULL, MAIL_SIGNUP_VERIFY, "en", in->email, vars, 3};
	if (db_exec(t, &tenant_signup_insert, a, NULL) == DB_OK && outbox_enqueue(t, &m) == DB_OK)
		rc = 0;
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	return rc;
}

int tenant_create(struct txn *t, const struct tenant_signup *in, struct tenant_created *out,
		  struct problem *p)
{
	micros_t at = time_micros();
	enum db_status rc;
	uuid_v7(out->tenant_id);
	uuid_v7(out->user_id);
	snprintf(out->display_name, sizeof out->display_name, "%s", in->display_name);
	time_api(at, out->created_at);
	struct db_arg r[] = {db_text(out->tenant_id), db_text(in->domain),
			     db_text(in->display_name), db_time(at)};
	rc = db_exec(t, &tenant_insert, r, NULL);
	if (rc == DB_DUPLICATE)
		return problem_set(p, PROBLEM_CONFLICT,
				   "a work account for domain %s already exists", in->domain);
	if (rc != DB_OK)
		return -1;
	struct user_row u = {out->user_id,
			     out->tenant_id,
			     in->email,
			     in->password_hash,
			     in->first_name,
			     in->last_name,
			     ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT,
			     at};
	rc = user_insert(t, &u);
	if (rc == DB_DUPLICATE)
		return problem_set(p, PROBLEM_CONFLICT,
				   "this e-mail address cannot be used for a new account");
	if (rc != DB_OK)
		return -1;
	struct audit_entry e = {out->tenant_id,	 "anonymous",	  NULL,
				"tenant.create", "tenant",	  out->tenant_id,
				in->request_id,	 in->client_addr, at};
	return audit_write(t, &e) == DB_OK ? 0 : -1;
}

int signup_verify(struct txn *t, const char *token, const char *request_id, const char *client_addr,
		  struct tenant_created *out, char domain[254], char email[255], struct problem *p)
{
	struct tenant_signup_row s;
	char hash[65];
	micros_t now = time_micros();
	int rc = -1;
	api_token_hash(token, hash);
	struct db_arg a[] = {db_time(now), db_text(hash)};
	switch (db_one(t, &tenant_signup_by_hash, a, &s)) {
	case DB_OK: break;
	case DB_EMPTY: s.spent = true; break;
	default: goto out;
	}
	if (s.spent) {
		/* one answer for unknown, used and expired links */
		problem_set(p, PROBLEM_NOT_FOUND,
			    "this sign-up link is not valid: it may have been used or expired; "
			    "sign up again");
		snprintf(p->code, sizeof p->code, "signup_link_invalid");
		goto out;
	}
	memcpy(domain, s.domain, sizeof s.domain);
	memcpy(email, s.email, sizeof s.email);
	struct tenant_signup in = {s.domain,	 s.display_name, s.email,    s.password_hash,
				   s.first_name, s.last_name,	 request_id, client_addr};
	/* the first verified sign-up of a domain wins; the others' links
	 * then meet the taken domain here */
	if (tenant_create(t, &in, out, p) != 0)
		goto out;
	struct db_arg u[] = {db_time(now), db_text(s.id)};
	if (db_exec(t, &tenant_signup_use, u, NULL) == DB_OK)
		rc = 0;
out:
	sodium_memzero(s.password_hash, sizeof s.password_hash);
	return rc;
}

int operator_create(struct txn *t, const char *email, const char *password_hash, struct problem *p)
{
	struct tenant_id_row found;
	char tenant_id[UUID_STR], user_id[UUID_STR];
	micros_t at = time_micros();
	enum db_status rc;
	switch (user_id_by_email(t, email, user_id)) {
	case DB_OK: return 1;
	case DB_EMPTY: break;
	default: return -1;
	}
	switch (db_one(t, &tenant_platform, NULL, &found)) {
	case DB_OK: memcpy(tenant_id, found.id, sizeof tenant_id); break;
	case DB_EMPTY: {
		uuid_v7(tenant_id);
		struct db_arg r[] = {db_text(tenant_id), db_time(at)};
		rc = db_exec(t, &tenant_platform_insert, r, NULL);
		if (rc == DB_DUPLICATE)
			return problem_set(p, PROBLEM_CONFLICT,
					   "the platform tenant was created meanwhile; run again");
		if (rc != DB_OK)
			return -1;
		break;
	}
	default: return -1;
	}
	uuid_v7(user_id);
	struct user_row u = {user_id,	  tenant_id,  email,	     password_hash,
			     "Programme", "Operator", ROLE_OPERATOR, at};
	rc = user_insert(t, &u);
	if (rc == DB_DUPLICATE) /* made meanwhile by another run */
		return 1;
	if (rc != DB_OK)
		return -1;
	struct audit_entry a = {tenant_id,	 "system", NULL, "operator.create", "user", user_id,
				"twotier-admin", "local",  at};
	return audit_write(t, &a) == DB_OK ? 0 : -1;
}

/* ---- the tenant's row, for the other modules ---- */

#define TENANT_LOCKED_FIELDS(F, T)                                                                 \
	F(T, is_platform, DB_INT) F(T, domain, DB_TEXT) F(T, csp_country, DB_TEXT)
DB_STATEMENT(tenant_lock_row,
	     "SELECT is_platform, domain, csp_country FROM tenants WHERE id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct tenant_locked, TENANT_LOCKED_FIELDS));

struct tenant_domain_row {
	char domain[254];
};
#define TENANT_DOMAIN_FIELDS(F, T) F(T, domain, DB_TEXT)
DB_STATEMENT(tenant_domain_of, "SELECT domain FROM tenants WHERE id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct tenant_domain_row, TENANT_DOMAIN_FIELDS));

/* the CSP country is on the tenant's row, so that its region is one join
 * from anything of the tenant */
DB_STATEMENT(tenant_csp_country_set,
	     "UPDATE tenants SET csp_country = ?, version = version + 1 WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

/* The tenant's memberships of the programme on its row (sql/0010):
 * partner_types is a SET in the order of enum partner_type's bits. */
DB_STATEMENT(tenant_partner_type_add,
	     "UPDATE tenants SET partner_types = partner_types | ? WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TEXT), DB_NO_ROW);

#define TENANT_BILLING_FIELDS(F, T) F(T, region_code, DB_TEXT) F(T, currency, DB_TEXT)
DB_STATEMENT(tenant_billing_row,
	     "SELECT c.region_code, c.currency FROM tenants t JOIN countries c ON "
	     "c.code = t.csp_country WHERE t.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct region_billing, TENANT_BILLING_FIELDS));

enum db_status tenant_lock(struct txn *t, const char *id, struct tenant_locked *out)
{
	struct db_arg a[] = {db_text(id)};
	return db_one(t, &tenant_lock_row, a, out);
}

enum db_status tenant_domain(struct txn *t, const char *id, char domain[254])
{
	struct tenant_domain_row r;
	struct db_arg a[] = {db_text(id)};
	enum db_status st = db_one(t, &tenant_domain_of, a, &r);
	domain[0] = '\0';
	if (st == DB_OK)
		memcpy(domain, r.domain, sizeof r.domain);
	return st;
}

enum db_status tenant_set_csp_country(struct txn *t, const char *id, const char *country)
{
	struct db_arg a[] = {db_text(country), db_text(id)};
	return db_exec(t, &tenant_csp_country_set, a, NULL);
}

enum db_status tenant_add_partner_type(struct txn *t, const char *id, unsigned partner_types)
{
	struct db_arg a[] = {db_int(partner_types), db_text(id)};
	return db_exec(t, &tenant_partner_type_add, a, NULL);
}

enum db_status tenant_billing(struct txn *t, const char *id, struct region_billing *out)
{
	struct db_arg a[] = {db_text(id)};
	return db_one(t, &tenant_billing_row, a, out);
}

/* ---- domains the operator verified for a tenant (issue 21, F7) ---- */

#define VERIFIED_DOMAIN_FIELDS(F, T)                                                               \
	F(T, domain, DB_TEXT)                                                                      \
	F(T, tenant_id, DB_TEXT) F(T, verified_by, DB_TEXT) F(T, verified_at, DB_TIME)
/* a tenant's handful, by ix_tenant_verified_domains_tenant */
DB_STATEMENT(tenant_verified_domain_list_of,
	     "SELECT domain, tenant_id, verified_by, verified_at FROM tenant_verified_domains "
	     "WHERE tenant_id = ? ORDER BY domain",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct tenant_verified_domain, VERIFIED_DOMAIN_FIELDS));
DB_STATEMENT(tenant_verified_domain_get,
	     "SELECT domain, tenant_id, verified_by, verified_at FROM tenant_verified_domains "
	     "WHERE domain = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct tenant_verified_domain, VERIFIED_DOMAIN_FIELDS));
DB_STATEMENT(tenant_verified_domain_insert,
	     "INSERT INTO tenant_verified_domains (domain, tenant_id, verified_by, verified_at) "
	     "VALUES (?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);
DB_STATEMENT(tenant_verified_domain_delete,
	     "DELETE FROM tenant_verified_domains WHERE tenant_id = ? AND domain = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);
/* Another tenant whose work account's domain or a verified domain is the
 * domain, above it or below it: its mailboxes would be the other's
 * contacts'. A scan of both tables, on an operator's rare change. */
DB_STATEMENT(tenant_domain_overlap,
	     "SELECT id FROM tenants WHERE id <> ? AND (domain = ? "
	     "OR ? LIKE CONCAT('%.', domain) OR domain LIKE CONCAT('%.', ?)) "
	     "UNION ALL SELECT tenant_id AS id FROM tenant_verified_domains WHERE tenant_id <> ? "
	     "AND (domain = ? OR ? LIKE CONCAT('%.', domain) OR domain LIKE CONCAT('%.', ?)) "
	     "LIMIT 1",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct tenant_id_row, TENANT_ID_FIELDS));

static int tenant_unknown(struct problem *p)
{
	return problem_set(p, PROBLEM_NOT_FOUND, "no work account with this id");
}

int tenant_verified_domain_add(struct txn *t, const struct actor *op, const char *tenant_id,
			       const char *domain, struct tenant_verified_domain *out,
			       bool *created, struct problem *p)
{
	struct tenant_locked tl;
	struct tenant_id_row other;
	micros_t at = time_micros();
	struct db_arg d[] = {db_text(domain)};
	memset(out, 0, sizeof *out);
	*created = false;
	switch (tenant_lock(t, tenant_id, &tl)) {
	case DB_OK: break;
	case DB_EMPTY: return tenant_unknown(p);
	default: return -1;
	}
	if (strcmp(tl.domain, domain) == 0) {
		snprintf(p->code, sizeof p->code, "work_account_domain");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "%s is the work account's own domain; a contact there needs "
				   "no verified domain",
				   domain);
	}
	/* verified for this tenant already: the same answer again */
	switch (db_one(t, &tenant_verified_domain_get, d, out)) {
	case DB_OK:
		if (strcmp(out->tenant_id, tenant_id) == 0)
			return 0;
		break;
	case DB_EMPTY: break;
	default: return -1;
	}
	struct db_arg o[] = {db_text(tenant_id), db_text(domain), db_text(domain), db_text(domain),
			     db_text(tenant_id), db_text(domain), db_text(domain), db_text(domain)};
	switch (db_one(t, &tenant_domain_overlap, o, &other)) {
	case DB_EMPTY: break;
	case DB_OK:
		snprintf(p->code, sizeof p->code, "domain_taken");
		return problem_set(p, PROBLEM_CONFLICT,
				   "%s is, contains or lies within another work account's domain",
				   domain);
	default: return -1;
	}
	struct db_arg i[] = {db_text(domain), db_text(tenant_id), db_text(op->id), db_time(at)};
	switch (db_exec(t, &tenant_verified_domain_insert, i, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE: /* verified for another tenant meanwhile */
		snprintf(p->code, sizeof p->code, "domain_taken");
		return problem_set(p, PROBLEM_CONFLICT, "%s is another work account's domain",
				   domain);
	default: return -1;
	}
	if (audit_record_in(t, op, tenant_id, "tenant.domain.verify", "tenant", tenant_id, at) !=
		DB_OK ||
	    audit_record(t, op, "tenant.domain.verify", "tenant", tenant_id, at) != DB_OK)
		return -1;
	*created = true;
	return db_one(t, &tenant_verified_domain_get, d, out) == DB_OK ? 0 : -1;
}

int tenant_verified_domains(struct txn *t, const char *tenant_id,
			    struct tenant_verified_domain **items, size_t *n, struct problem *p)
{
	char domain[254];
	struct db_arg k[] = {db_text(tenant_id)};
	*items = NULL;
	*n = 0;
	switch (tenant_domain(t, tenant_id, domain)) {
	case DB_OK: break;
	case DB_EMPTY: return tenant_unknown(p);
	default: return -1;
	}
	return db_all(t, &tenant_verified_domain_list_of, k, (void **)items, n) == DB_OK ? 0 : -1;
}

int tenant_verified_domain_remove(struct txn *t, const struct actor *op, const char *tenant_id,
				  const char *domain, struct problem *p)
{
	struct tenant_locked tl;
	unsigned long long n = 0;
	micros_t at = time_micros();
	struct db_arg k[] = {db_text(tenant_id), db_text(domain)};
	switch (tenant_lock(t, tenant_id, &tl)) {
	case DB_OK: break;
	case DB_EMPTY: return tenant_unknown(p);
	default: return -1;
	}
	if (db_exec(t, &tenant_verified_domain_delete, k, &n) != DB_OK)
		return -1;
	if (n == 0) {
		snprintf(p->code, sizeof p->code, "domain_not_verified");
		return problem_set(p, PROBLEM_NOT_FOUND,
				   "%s is not a verified domain of this work account", domain);
	}
	if (audit_record_in(t, op, tenant_id, "tenant.domain.remove", "tenant", tenant_id, at) !=
		DB_OK ||
	    audit_record(t, op, "tenant.domain.remove", "tenant", tenant_id, at) != DB_OK)
		return -1;
	return 0;
}

enum db_status tenant_contact_domain_ok(struct txn *t, const char *tenant_id, const char *email,
					bool *ok, char domain[254])
{
	struct tenant_verified_domain *items = NULL;
	size_t n = 0;
	struct db_arg k[] = {db_text(tenant_id)};
	*ok = false;
	enum db_status rc = tenant_domain(t, tenant_id, domain);
	if (rc != DB_OK)
		return rc;
	*ok = email_domain_listed(email, domain);
	if (!*ok &&
	    (rc = db_all(t, &tenant_verified_domain_list_of, k, (void **)&items, &n)) == DB_OK)
		for (size_t i = 0; i < n && !*ok; i++)
			*ok = email_domain_listed(email, items[i].domain);
	free(items);
	return rc;
}
