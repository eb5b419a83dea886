#include "domain/tenant.h"

#include "core/problem.h"
#include "db/db.h"
#include "auth/auth.h"
#include "domain/audit.h"
#include "domain/user.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>

#include <string.h>

const struct db_stmt_def stmt_tenant_insert = {
    STMT_tenant_insert, "tenant_insert",
    "INSERT INTO tenants (id, domain, display_name, is_platform, created_at) "
    "VALUES (?, ?, ?, 0, ?)",
    4, 0};

const struct db_stmt_def stmt_user_by_email = {
    STMT_user_by_email, "user_by_email", "SELECT id, tenant_id FROM users WHERE email = ?", 1, 2};

const struct db_stmt_def stmt_platform_tenant = {
    STMT_platform_tenant, "platform_tenant",
    "SELECT id FROM tenants WHERE is_platform = 1 ORDER BY created_at LIMIT 1", 0, 1};

const struct db_stmt_def stmt_platform_tenant_insert = {
    STMT_platform_tenant_insert, "platform_tenant_insert",
    "INSERT INTO tenants (id, domain, display_name, is_platform, created_at) "
    "VALUES (?, 'platform.invalid', 'Programme operator', 1, ?)",
    2, 0};

static enum db_status domain_taken(struct problem *p, const char *domain)
{
	problem_set(p, PROBLEM_CONFLICT, "a work account for domain %s already exists", domain);
	return DB_REFUSED;
}

static enum db_status email_taken(struct problem *p)
{
	problem_set(p, PROBLEM_CONFLICT, "this e-mail address cannot be used for a new account");
	return DB_REFUSED;
}

const struct db_stmt_def stmt_pending_signup_insert = {
    STMT_pending_signup_insert, "pending_signup_insert",
    "INSERT INTO pending_signups (id, domain, display_name, email, password_hash, first_name, "
    "last_name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    10, 0};

const struct db_stmt_def stmt_pending_signup_by_hash = {
    STMT_pending_signup_by_hash, "pending_signup_by_hash",
    "SELECT id, domain, display_name, email, password_hash, first_name, last_name, "
    "expires_at <= ? OR used_at IS NOT NULL FROM pending_signups WHERE token_hash = ? FOR UPDATE",
    2, 8};

const struct db_stmt_def stmt_pending_signup_use = {
    STMT_pending_signup_use, "pending_signup_use",
    "UPDATE pending_signups SET used_at = ? WHERE id = ?", 2, 0};

struct request_work {
	const struct tenant_signup *in;
	const char *public_base_url;
	char *expires_at;
};

static enum db_status request_run(struct db *db, void *arg, struct problem *p)
{
	struct request_work *w = arg;
	const struct tenant_signup *in = w->in;
	char id[UUID_STR], at[TIME_STR], until[TIME_STR], token[LINK_TOKEN_LEN + 1], hash[65],
	    link[512];
	uuid_v7(id);
	time_now(at, NULL);
	time_sql_after(SIGNUP_TTL_SECONDS, until);
	time_sql_to_api(until, w->expires_at);
	link_token_generate(token, hash);
	struct db_arg a[] = {db_str(id),
			     db_str(in->domain),
			     db_str(in->display_name),
			     db_str(in->email),
			     db_str(in->password_hash),
			     db_str(in->first_name),
			     db_str(in->last_name),
			     db_str(hash),
			     db_str(at),
			     db_str(until)};
	enum db_status rc = legacy_exec(db, STMT_pending_signup_insert, a, NULL, NULL);
	if (rc == DB_OK) {
		snprintf(link, sizeof link, "%s/verify-signup?token=%s", w->public_base_url, token);
		struct mail_var vars[] = {
		    {"first_name", in->first_name}, {"domain", in->domain}, {"link", link}};
		struct outbox_mail m = {NULL, MAIL_SIGNUP_VERIFY, "en", in->email, vars, 3};
		rc = legacy_outbox_enqueue(db, &m);
	}
	sodium_memzero(token, sizeof token);
	return rc;
}

int signup_request(struct db *db, const struct tenant_signup *in, const char *public_base_url,
		   char expires_at[TIME_STR], struct problem *p)
{
	struct request_work w = {in, public_base_url, expires_at};
	return db_run(db, request_run, &w, p);
}

struct signup_work {
	const struct tenant_signup *in;
	struct tenant_created *out;
};

static enum db_status signup_run(struct db *db, void *arg, struct problem *p)
{
	struct signup_work *w = arg;
	const struct tenant_signup *in = w->in;
	struct tenant_created *out = w->out;
	char at[TIME_STR];
	enum db_status rc;

	uuid_v7(out->tenant_id);
	uuid_v7(out->user_id);
	snprintf(out->display_name, sizeof out->display_name, "%s", in->display_name);
	time_now(at, out->created_at);
	struct db_arg t[] = {db_str(out->tenant_id), db_str(in->domain), db_str(in->display_name),
			     db_str(at)};
	rc = legacy_exec(db, STMT_tenant_insert, t, NULL, NULL);
	if (rc == DB_DUPLICATE)
		return domain_taken(p, in->domain);
	if (rc != DB_OK)
		return rc;
	struct user_row u = {out->user_id,
			     out->tenant_id,
			     in->email,
			     in->password_hash,
			     in->first_name,
			     in->last_name,
			     ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT,
			     time_sql_micros(at)};
	rc = user_insert(db_current_txn(db), &u);
	if (rc == DB_DUPLICATE)
		return email_taken(p);
	if (rc != DB_OK)
		return rc;
	struct legacy_audit_entry e = {out->tenant_id,	"anonymous",	 NULL,
				       "tenant.create", "tenant",	 out->tenant_id,
				       in->request_id,	in->client_addr, at};
	return legacy_audit_write(db, &e);
}

int tenant_create(struct db *db, const struct tenant_signup *in, struct tenant_created *out,
		  struct problem *p)
{
	struct signup_work w = {in, out};
	return db_run(db, signup_run, &w, p);
}

struct verify_work {
	const char *hash, *request_id, *client_addr;
	struct tenant_created *out;
	char domain[254], email[255];
};

static enum db_status verify_run(struct db *db, void *arg, struct problem *p)
{
	struct verify_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char now[TIME_STR];
	time_now(now, NULL);
	struct db_arg a[] = {db_str(now), db_str(w->hash)};
	enum db_status rc = legacy_exec(db, STMT_pending_signup_by_hash, a, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0 || strcmp(db_cell(&rows, 0, 7), "0") != 0) {
		/* one answer for unknown, used and expired links */
		problem_set(p, PROBLEM_NOT_FOUND,
			    "this sign-up link is not valid: it may have been used or expired; "
			    "sign up again");
		snprintf(p->code, sizeof p->code, "signup_link_invalid");
		rc = DB_REFUSED;
		goto out;
	}
	db_cell_copy(&rows, 0, 1, w->domain, sizeof w->domain);
	db_cell_copy(&rows, 0, 3, w->email, sizeof w->email);
	struct tenant_signup in = {w->domain,
				   db_cell(&rows, 0, 2),
				   w->email,
				   db_cell(&rows, 0, 4),
				   db_cell(&rows, 0, 5),
				   db_cell(&rows, 0, 6),
				   w->request_id,
				   w->client_addr};
	struct signup_work s = {&in, w->out};
	/* the first verified sign-up of a domain wins; the others' links
	 * then meet the taken domain here */
	if ((rc = signup_run(db, &s, p)) != DB_OK)
		goto out;
	struct db_arg u[] = {db_str(now), db_str(db_cell(&rows, 0, 0))};
	rc = legacy_exec(db, STMT_pending_signup_use, u, NULL, NULL);
out:
	db_rows_free(&rows);
	return rc;
}

int signup_verify(struct db *db, const char *token, const char *request_id, const char *client_addr,
		  struct tenant_created *out, char domain[254], char email[255], struct problem *p)
{
	char hash[65];
	api_token_hash(token, hash);
	struct verify_work w = {hash, request_id, client_addr, out, "", ""};
	int rc = db_run(db, verify_run, &w, p);
	snprintf(domain, 254, "%s", w.domain);
	snprintf(email, 255, "%s", w.email);
	return rc;
}

struct operator_work {
	const char *email, *hash;
	int existed;
};

static enum db_status operator_run(struct db *db, void *arg, struct problem *p)
{
	struct operator_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char tenant_id[UUID_STR], user_id[UUID_STR], at[TIME_STR];
	enum db_status rc;

	w->existed = 0;
	struct db_arg e[] = {db_str(w->email)};
	rc = legacy_exec(db, STMT_user_by_email, e, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0) {
		w->existed = 1;
		goto out;
	}
	db_rows_free(&rows);
	time_now(at, NULL);
	rc = legacy_exec(db, STMT_platform_tenant, NULL, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0) {
		strncpy(tenant_id, db_cell(&rows, 0, 0), sizeof tenant_id - 1);
		tenant_id[sizeof tenant_id - 1] = '\0';
	} else {
		uuid_v7(tenant_id);
		struct db_arg t[] = {db_str(tenant_id), db_str(at)};
		rc = legacy_exec(db, STMT_platform_tenant_insert, t, NULL, NULL);
		if (rc != DB_OK)
			goto out;
	}
	uuid_v7(user_id);
	struct user_row u = {user_id,	  tenant_id,  w->email,	     w->hash,
			     "Programme", "Operator", ROLE_OPERATOR, time_sql_micros(at)};
	rc = user_insert(db_current_txn(db), &u);
	if (rc != DB_OK)
		goto out;
	struct legacy_audit_entry a = {tenant_id,	  "system", NULL,
				       "operator.create", "user",   user_id,
				       "twotier-admin",	  "local",  at};
	rc = legacy_audit_write(db, &a);
out:
	db_rows_free(&rows);
	return rc;
}

int operator_create(struct db *db, const char *email, const char *password_hash, struct problem *p)
{
	struct operator_work w = {email, password_hash, 0};
	if (db_run(db, operator_run, &w, p) != 0)
		return -1;
	return w.existed;
}
