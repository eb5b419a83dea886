#include "domain/profile.h"

#include "core/problem.h"
#include "db/db.h"
#include "domain/agreement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEGAL_COLUMNS                                                                              \
	"company_name, address_line1, address_line2, city, state, postal_code, country, "          \
	"phone_number, version, updated_at FROM legal_profiles WHERE tenant_id = ?"

const struct db_stmt_def stmt_legal_get = {STMT_legal_get, "legal_get", "SELECT " LEGAL_COLUMNS, 1,
					   10};

const struct db_stmt_def stmt_legal_lock = {STMT_legal_lock, "legal_lock",
					    "SELECT " LEGAL_COLUMNS " FOR UPDATE", 1, 10};

const struct db_stmt_def stmt_legal_update = {
    STMT_legal_update, "legal_update",
    "UPDATE legal_profiles SET company_name = ?, address_line1 = ?, address_line2 = ?, city = ?, "
    "state = ?, postal_code = ?, country = ?, phone_number = ?, updated_at = ?, "
    "version = version + 1 WHERE tenant_id = ?",
    10, 0};

#define SUPPORT_COLUMNS                                                                            \
	"email, telephone, website, version, updated_at FROM support_profiles WHERE tenant_id = ?"

const struct db_stmt_def stmt_support_get = {STMT_support_get, "support_get",
					     "SELECT " SUPPORT_COLUMNS, 1, 5};

const struct db_stmt_def stmt_support_lock = {STMT_support_lock, "support_lock",
					      "SELECT " SUPPORT_COLUMNS " FOR UPDATE", 1, 5};

const struct db_stmt_def stmt_support_update = {
    STMT_support_update, "support_update",
    "UPDATE support_profiles SET email = ?, telephone = ?, website = ?, updated_at = ?, "
    "version = version + 1 WHERE tenant_id = ?",
    5, 0};

/* Every change of a profile locks the enrolment first, as a change of its
 * status does (enrollment.c): one order of locks, so they never deadlock,
 * and the status read here cannot change before the commit. */
const struct db_stmt_def stmt_enrollment_status_of = {
    STMT_enrollment_status_of, "enrollment_status_of",
    "SELECT status FROM enrollments WHERE tenant_id = ? FOR UPDATE", 1, 1};

const struct db_stmt_def stmt_organization_get = {
    STMT_organization_get, "organization_get",
    "SELECT t.id, t.domain, t.display_name, l.company_name, t.csp_country, c.region_code, "
    "e.status, acc.accepted_at IS NOT NULL, cur.version, acc.accepted_at, acc.user_id "
    "FROM tenants t LEFT JOIN legal_profiles l ON l.tenant_id = t.id "
    "LEFT JOIN countries c ON c.code = t.csp_country "
    "LEFT JOIN enrollments e ON e.tenant_id = t.id "
    "LEFT JOIN agreement_templates cur ON cur.id = " AGREEMENT_CURRENT_SQL " "
    "LEFT JOIN agreement_acceptances acc ON acc.tenant_id = t.id AND acc.template_id = cur.id "
    "WHERE t.id = ?",
    1, 11};

static enum db_status not_enrolled(struct problem *p)
{
	problem_set(p, PROBLEM_NOT_FOUND,
		    "this work account has no profiles yet: they are given when it enrols "
		    "(POST /v1/enrollments)");
	snprintf(p->code, sizeof p->code, "not_enrolled");
	return DB_REFUSED;
}

static void legal_read(const struct db_rows *rows, struct legal_profile *l)
{
	char t[TIME_STR];
	db_cell_copy(rows, 0, 0, l->company_name, sizeof l->company_name);
	db_cell_copy(rows, 0, 1, l->address_line1, sizeof l->address_line1);
	db_cell_copy(rows, 0, 2, l->address_line2, sizeof l->address_line2);
	db_cell_copy(rows, 0, 3, l->city, sizeof l->city);
	db_cell_copy(rows, 0, 4, l->state, sizeof l->state);
	db_cell_copy(rows, 0, 5, l->postal_code, sizeof l->postal_code);
	db_cell_copy(rows, 0, 6, l->country, sizeof l->country);
	db_cell_copy(rows, 0, 7, l->phone_number, sizeof l->phone_number);
	l->version = strtoul(db_cell(rows, 0, 8), NULL, 10);
	db_cell_copy(rows, 0, 9, t, sizeof t);
	time_sql_to_api(t, l->updated_at);
}

static void support_read(const struct db_rows *rows, struct support_profile *s)
{
	char t[TIME_STR];
	db_cell_copy(rows, 0, 0, s->email, sizeof s->email);
	db_cell_copy(rows, 0, 1, s->telephone, sizeof s->telephone);
	db_cell_copy(rows, 0, 2, s->website, sizeof s->website);
	s->version = strtoul(db_cell(rows, 0, 3), NULL, 10);
	db_cell_copy(rows, 0, 4, t, sizeof t);
	time_sql_to_api(t, s->updated_at);
}

struct get_work {
	enum stmt_id stmt;
	const char *tenant_id;
	void (*read)(const struct db_rows *rows, void *out);
	void *out;
};

static enum db_status get_run(struct db *db, void *arg, struct problem *p)
{
	struct get_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->tenant_id)};
	enum db_status rc = legacy_exec(db, w->stmt, a, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0)
		rc = not_enrolled(p);
	else if (rc == DB_OK)
		w->read(&rows, w->out);
	db_rows_free(&rows);
	return rc;
}

static void legal_read_any(const struct db_rows *rows, void *out)
{
	legal_read(rows, out);
}

static void support_read_any(const struct db_rows *rows, void *out)
{
	support_read(rows, out);
}

int legal_profile_get(struct db *db, const char *tenant_id, struct legal_profile *out,
		      struct problem *p)
{
	struct get_work w = {STMT_legal_get, tenant_id, legal_read_any, out};
	memset(out, 0, sizeof *out);
	return db_read(db, get_run, &w, p);
}

int support_profile_get(struct db *db, const char *tenant_id, struct support_profile *out,
			struct problem *p)
{
	struct get_work w = {STMT_support_get, tenant_id, support_read_any, out};
	memset(out, 0, sizeof *out);
	return db_read(db, get_run, &w, p);
}

static enum db_status stale(struct problem *p)
{
	problem_set(p, PROBLEM_PRECONDITION_FAILED,
		    "the profile has changed since it was read; read it again for its ETag");
	return DB_REFUSED;
}

struct put_work {
	const struct actor *a;
	unsigned long version;
	void *in;
};

/* The profile as it is, locked, if it is at the version the change was
 * made against (0: any). */
static enum db_status lock_current(struct db *db, enum stmt_id stmt, const struct put_work *w,
				   struct db_rows *rows,
				   void (*read)(const struct db_rows *, void *), void *cur,
				   const unsigned long *cur_version, struct problem *p)
{
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, stmt, t, rows, NULL);
	if (rc != DB_OK)
		return rc;
	if (rows->n_rows == 0)
		return not_enrolled(p);
	read(rows, cur);
	if (w->version != 0 && w->version != *cur_version)
		return stale(p);
	return DB_OK;
}

static enum db_status legal_put_run(struct db *db, void *arg, struct problem *p)
{
	struct put_work *w = arg;
	struct legal_profile *in = w->in, cur = {0};
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	char status[32] = "";
	enum db_status rc = legacy_exec(db, STMT_enrollment_status_of, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	db_cell_copy(&rows, 0, 0, status, sizeof status);
	db_rows_free(&rows);
	rc = lock_current(db, STMT_legal_lock, w, &rows, legal_read_any, &cur, &cur.version, p);
	if (rc != DB_OK)
		goto out;
	if (strcmp(cur.country, in->country) != 0) {
		db_rows_free(&rows);
		/* the CSP country is the programme's contract with the reseller */
		if (strcmp(status, "approved") == 0) {
			problem_set(p, PROBLEM_RULE_REFUSED,
				    "the CSP country (%s) cannot change once the enrolment is "
				    "approved",
				    cur.country);
			snprintf(p->code, sizeof p->code, "csp_country_locked");
			rc = DB_REFUSED;
			goto out;
		}
		db_rows_free(&rows);
		struct db_arg c[] = {db_str(in->country)};
		rc = legacy_exec(db, STMT_country_region, c, &rows, NULL);
		if (rc != DB_OK)
			goto out;
		if (rows.n_rows == 0) {
			problem_set(p, PROBLEM_RULE_REFUSED,
				    "country %s is not in the programme's CSP regions "
				    "(GET /v1/regions)",
				    in->country);
			snprintf(p->code, sizeof p->code, "country_not_in_program");
			rc = DB_REFUSED;
			goto out;
		}
		/* the associated MPN ID was of the old country: it no longer
		 * qualifies (SPEC §3 step 5) */
		struct db_arg tc[] = {db_str(in->country), db_str(w->a->tenant_id)};
		unsigned long long dropped = 0;
		if ((rc = legacy_exec(db, STMT_tenant_set_csp_country, tc, NULL, NULL)) != DB_OK ||
		    (rc = legacy_exec(db, STMT_mpn_unassociate, t, NULL, &dropped)) != DB_OK)
			goto out;
		time_now(at, NULL);
		if (dropped > 0 && (rc = legacy_audit_record(db, w->a, "mpn.unassociate", "tenant",
						      w->a->tenant_id, at)) != DB_OK)
			goto out;
	}
	time_now(at, in->updated_at);
	struct db_arg u[] = {db_str(in->company_name),
			     db_str(in->address_line1),
			     db_str(in->address_line2[0] ? in->address_line2 : NULL),
			     db_str(in->city),
			     db_str(in->state[0] ? in->state : NULL),
			     db_str(in->postal_code),
			     db_str(in->country),
			     db_str(in->phone_number),
			     db_str(at),
			     db_str(w->a->tenant_id)};
	if ((rc = legacy_exec(db, STMT_legal_update, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "profile.legalbusiness.update", "tenant", w->a->tenant_id,
			       at)) != DB_OK ||
	    (rc = enrollment_profile_updated(db, w->a, w->a->tenant_id, at)) != DB_OK)
		goto out;
	in->version = cur.version + 1;
out:
	db_rows_free(&rows);
	return rc;
}

int legal_profile_put(struct db *db, const struct actor *a, unsigned long version,
		      struct legal_profile *in, struct problem *p)
{
	struct put_work w = {a, version, in};
	return db_run(db, legal_put_run, &w, p);
}

static enum db_status support_put_run(struct db *db, void *arg, struct problem *p)
{
	struct put_work *w = arg;
	struct support_profile *in = w->in, cur = {0};
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_enrollment_status_of, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	db_rows_free(&rows);
	rc = lock_current(db, STMT_support_lock, w, &rows, support_read_any, &cur, &cur.version, p);
	if (rc != DB_OK)
		goto out;
	time_now(at, in->updated_at);
	struct db_arg u[] = {db_str(in->email), db_str(in->telephone), db_str(in->website),
			     db_str(at), db_str(w->a->tenant_id)};
	if ((rc = legacy_exec(db, STMT_support_update, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "profile.support.update", "tenant", w->a->tenant_id,
			       at)) != DB_OK ||
	    (rc = enrollment_profile_updated(db, w->a, w->a->tenant_id, at)) != DB_OK)
		goto out;
	in->version = cur.version + 1;
out:
	db_rows_free(&rows);
	return rc;
}

int support_profile_put(struct db *db, const struct actor *a, unsigned long version,
			struct support_profile *in, struct problem *p)
{
	struct put_work w = {a, version, in};
	return db_run(db, support_put_run, &w, p);
}

struct org_work {
	const char *tenant_id;
	struct organization_profile *out;
};

static enum db_status org_run(struct db *db, void *arg, struct problem *p)
{
	struct org_work *w = arg;
	struct organization_profile *o = w->out;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->tenant_id)};
	memset(o, 0, sizeof *o);
	enum db_status rc = legacy_exec(db, STMT_organization_get, a, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0) {
		problem_set(p, PROBLEM_NOT_FOUND, "no such work account");
		rc = DB_REFUSED;
	} else if (rc == DB_OK) {
		db_cell_copy(&rows, 0, 0, o->tenant_id, sizeof o->tenant_id);
		db_cell_copy(&rows, 0, 1, o->domain, sizeof o->domain);
		db_cell_copy(&rows, 0, 2, o->display_name, sizeof o->display_name);
		db_cell_copy(&rows, 0, 3, o->company_name, sizeof o->company_name);
		db_cell_copy(&rows, 0, 4, o->csp_country, sizeof o->csp_country);
		db_cell_copy(&rows, 0, 5, o->csp_region, sizeof o->csp_region);
		db_cell_copy(&rows, 0, 6, o->enrollment_status, sizeof o->enrollment_status);
		o->agreement_signed = strcmp(db_cell(&rows, 0, 7), "1") == 0;
		if (o->agreement_signed) {
			db_cell_copy(&rows, 0, 8, o->agreement_version,
				     sizeof o->agreement_version);
			time_sql_to_api(db_cell(&rows, 0, 9), o->agreement_signed_at);
			db_cell_copy(&rows, 0, 10, o->agreement_signed_by,
				     sizeof o->agreement_signed_by);
		}
	}
	db_rows_free(&rows);
	return rc;
}

int organization_profile_get(struct db *db, const char *tenant_id, struct organization_profile *out,
			     struct problem *p)
{
	struct org_work w = {tenant_id, out};
	return db_read(db, org_run, &w, p);
}
