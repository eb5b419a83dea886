#include "domain/tenant.h"

#include "core/problem.h"
#include "db/db.h"
#include "auth/auth.h"
#include "domain/audit.h"
#include "domain/user.h"

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

const struct db_stmt_def stmt_tenant_domain_taken = {
    STMT_tenant_domain_taken, "tenant_domain_taken",
    "SELECT COUNT(*) FROM tenants WHERE domain = ?", 1, 1};

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

struct check_work {
	const char *domain, *email;
};

static enum db_status check_run(struct db *db, void *arg, struct problem *p)
{
	struct check_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg d[] = {db_str(w->domain)};
	struct db_arg e[] = {db_str(w->email)};
	enum db_status rc = db_exec(db, STMT_tenant_domain_taken, d, &rows, NULL);
	if (rc == DB_OK && strcmp(db_cell(&rows, 0, 0), "0") != 0)
		rc = domain_taken(p, w->domain);
	db_rows_free(&rows);
	if (rc == DB_OK)
		rc = db_exec(db, STMT_user_by_email, e, &rows, NULL);
	if (rc == DB_OK && rows.n_rows > 0)
		rc = email_taken(p);
	db_rows_free(&rows);
	return rc;
}

int tenant_signup_check(struct db *db, const char *domain, const char *email, struct problem *p)
{
	struct check_work w = {domain, email};
	return db_read(db, check_run, &w, p);
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
	time_now(at, out->created_at);
	struct db_arg t[] = {db_str(out->tenant_id), db_str(in->domain), db_str(in->display_name),
			     db_str(at)};
	rc = db_exec(db, STMT_tenant_insert, t, NULL, NULL);
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
			     at};
	rc = user_insert(db, &u);
	if (rc == DB_DUPLICATE)
		return email_taken(p);
	if (rc != DB_OK)
		return rc;
	struct audit_entry e = {out->tenant_id,	 "anonymous",	  NULL,
				"tenant.create", "tenant",	  out->tenant_id,
				in->request_id,	 in->client_addr, at};
	return audit_write(db, &e);
}

int tenant_create(struct db *db, const struct tenant_signup *in, struct tenant_created *out,
		  struct problem *p)
{
	struct signup_work w = {in, out};
	return db_run(db, signup_run, &w, p);
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
	rc = db_exec(db, STMT_user_by_email, e, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0) {
		w->existed = 1;
		goto out;
	}
	db_rows_free(&rows);
	time_now(at, NULL);
	rc = db_exec(db, STMT_platform_tenant, NULL, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0) {
		strncpy(tenant_id, db_cell(&rows, 0, 0), sizeof tenant_id - 1);
		tenant_id[sizeof tenant_id - 1] = '\0';
	} else {
		uuid_v7(tenant_id);
		struct db_arg t[] = {db_str(tenant_id), db_str(at)};
		rc = db_exec(db, STMT_platform_tenant_insert, t, NULL, NULL);
		if (rc != DB_OK)
			goto out;
	}
	uuid_v7(user_id);
	struct user_row u = {user_id,	  tenant_id,  w->email,	     w->hash,
			     "Programme", "Operator", ROLE_OPERATOR, at};
	rc = user_insert(db, &u);
	if (rc != DB_OK)
		goto out;
	struct audit_entry a = {tenant_id,	 "system", NULL, "operator.create", "user", user_id,
				"twotier-admin", "local",  at};
	rc = audit_write(db, &a);
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
