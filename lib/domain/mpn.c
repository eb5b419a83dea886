#include "domain/mpn.h"

#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"

#include <stdio.h>
#include <string.h>

const struct db_stmt_def stmt_mpn_insert = {
    STMT_mpn_insert, "mpn_insert",
    "INSERT INTO mpn_identifiers (tenant_id, mpn_id, country, location_name, created_at) "
    "VALUES (?, ?, ?, ?, ?)",
    5, 0};

const struct db_stmt_def stmt_mpn_list = {
    STMT_mpn_list, "mpn_list",
    "SELECT i.mpn_id, i.country, i.location_name, i.created_at, a.mpn_id IS NOT NULL "
    "FROM mpn_identifiers i LEFT JOIN mpn_associations a "
    "ON a.tenant_id = i.tenant_id AND a.mpn_id = i.mpn_id "
    "WHERE i.tenant_id = ? ORDER BY i.created_at, i.mpn_id",
    1, 5};

const struct db_stmt_def stmt_mpn_get = {
    STMT_mpn_get, "mpn_get",
    "SELECT mpn_id, country, location_name, created_at FROM mpn_identifiers "
    "WHERE tenant_id = ? AND mpn_id = ?",
    2, 4};

const struct db_stmt_def stmt_tenant_csp_country_lock = {
    STMT_tenant_csp_country_lock, "tenant_csp_country_lock",
    "SELECT csp_country FROM tenants WHERE id = ? FOR UPDATE", 1, 1};

const struct db_stmt_def stmt_mpn_unassociate = {STMT_mpn_unassociate, "mpn_unassociate",
						 "DELETE FROM mpn_associations WHERE tenant_id = ?",
						 1, 0};

const struct db_stmt_def stmt_mpn_associate = {
    STMT_mpn_associate, "mpn_associate",
    "INSERT INTO mpn_associations (tenant_id, mpn_id, associated_at) VALUES (?, ?, ?)", 3, 0};

int mpn_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 6 || n > 7)
		return 0;
	return strspn(s, "0123456789") == n;
}

static void identifier_read(const struct db_rows *rows, size_t i, struct mpn_identifier *m)
{
	char t[TIME_STR];
	db_cell_copy(rows, i, 0, m->mpn_id, sizeof m->mpn_id);
	db_cell_copy(rows, i, 1, m->country, sizeof m->country);
	db_cell_copy(rows, i, 2, m->location_name, sizeof m->location_name);
	db_cell_copy(rows, i, 3, t, sizeof t);
	time_sql_to_api(t, m->created_at);
}

struct add_work {
	const struct actor *a;
	struct mpn_identifier *m;
};

static enum db_status add_run(struct db *db, void *arg, struct problem *p)
{
	struct add_work *w = arg;
	struct mpn_identifier *m = w->m;
	const struct actor *a = w->a;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	struct db_arg c[] = {db_str(m->country)};
	enum db_status rc = legacy_exec(db, STMT_country_region, c, &rows, NULL);
	size_t known = rows.n_rows;
	db_rows_free(&rows);
	if (rc != DB_OK)
		return rc;
	if (known == 0) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "country %s is not in the programme's CSP regions (GET /v1/regions)",
			    m->country);
		snprintf(p->code, sizeof p->code, "country_not_in_program");
		return DB_REFUSED;
	}
	time_now(at, m->created_at);
	struct db_arg i[] = {db_str(a->tenant_id), db_str(m->mpn_id), db_str(m->country),
			     db_str(m->location_name), db_str(at)};
	rc = legacy_exec(db, STMT_mpn_insert, i, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		problem_set(p, PROBLEM_CONFLICT, "this work account lists MPN ID %s already",
			    m->mpn_id);
		snprintf(p->code, sizeof p->code, "mpn_id_exists");
		return DB_REFUSED;
	}
	if (rc != DB_OK)
		return rc;
	return legacy_audit_record(db, a, "mpn.identifier.add", "tenant", a->tenant_id, at);
}

int mpn_identifier_add(struct db *db, const struct actor *a, struct mpn_identifier *in,
		       struct problem *p)
{
	struct add_work w = {a, in};
	return db_run(db, add_run, &w, p);
}

struct list_work {
	const char *tenant_id;
	struct db_rows rows;
};

static enum db_status list_run(struct db *db, void *arg, struct problem *p)
{
	struct list_work *w = arg;
	struct db_arg a[] = {db_str(w->tenant_id)};
	db_rows_free(&w->rows);
	return legacy_exec(db, STMT_mpn_list, a, &w->rows, NULL);
}

int mpn_profile_get(struct db *db, const char *tenant_id, struct mpn_identifier **items, size_t *n,
		    char associated[8], struct problem *p)
{
	struct list_work w = {tenant_id, {0, 0, NULL}};
	*items = NULL;
	*n = 0;
	associated[0] = '\0';
	if (db_read(db, list_run, &w, p) != 0)
		return -1;
	*items = xcalloc(w.rows.n_rows, sizeof **items);
	for (size_t i = 0; i < w.rows.n_rows; i++) {
		identifier_read(&w.rows, i, &(*items)[i]);
		if (strcmp(db_cell(&w.rows, i, 4), "1") == 0)
			snprintf(associated, 8, "%s", (*items)[i].mpn_id);
	}
	*n = w.rows.n_rows;
	db_rows_free(&w.rows);
	return 0;
}

struct associate_work {
	const struct actor *a;
	const char *mpn_id;
	struct mpn_identifier *out;
};

static enum db_status associate_run(struct db *db, void *arg, struct problem *p)
{
	struct associate_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char csp[3], at[TIME_STR], detail[200];
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	/* the tenant row, locked: two associations of one tenant queue here */
	enum db_status rc = legacy_exec(db, STMT_tenant_csp_country_lock, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0 || db_cell(&rows, 0, 0) == NULL) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "not_enrolled", "%s",
			       "the work account has no CSP country yet: enrol first "
			       "(POST /v1/enrollments)");
		goto out;
	}
	db_cell_copy(&rows, 0, 0, csp, sizeof csp);
	db_rows_free(&rows);
	struct db_arg g[] = {db_str(w->a->tenant_id), db_str(w->mpn_id)};
	rc = legacy_exec(db, STMT_mpn_get, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		snprintf(detail, sizeof detail,
			 "MPN ID %s is not among the work account's IDs; add it first "
			 "(POST /v1/profiles/mpn/identifiers)",
			 w->mpn_id);
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "mpn_id_unknown", "%s", detail);
		goto out;
	}
	identifier_read(&rows, 0, w->out);
	if (strcmp(w->out->country, csp) != 0) {
		snprintf(detail, sizeof detail,
			 "MPN ID %s is registered in %s, but the CSP country is %s; they must be "
			 "the same",
			 w->mpn_id, w->out->country, csp);
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "mpn_country_mismatch", "%s", detail);
		goto out;
	}
	time_now(at, NULL);
	struct db_arg i[] = {db_str(w->a->tenant_id), db_str(w->mpn_id), db_str(at)};
	if ((rc = legacy_exec(db, STMT_mpn_unassociate, t, NULL, NULL)) != DB_OK)
		goto out;
	rc = legacy_exec(db, STMT_mpn_associate, i, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		snprintf(detail, sizeof detail, "MPN ID %s is associated with another work account",
			 w->mpn_id);
		rc = db_refuse(p, PROBLEM_CONFLICT, "mpn_id_taken", "%s", detail);
		goto out;
	}
	if (rc == DB_OK)
		rc = legacy_audit_record(db, w->a, "mpn.associate", "tenant", w->a->tenant_id, at);
out:
	db_rows_free(&rows);
	return rc;
}

int mpn_associate(struct db *db, const struct actor *a, const char *mpn_id,
		  struct mpn_identifier *out, struct problem *p)
{
	struct associate_work w = {a, mpn_id, out};
	memset(out, 0, sizeof *out);
	return db_run(db, associate_run, &w, p);
}
