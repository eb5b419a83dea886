#include "domain/provider.h"

#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_provider_tenant = {
    STMT_provider_tenant, "provider_tenant",
    "SELECT is_platform FROM tenants WHERE id = ? FOR UPDATE", 1, 1};

const struct db_stmt_def stmt_provider_insert = {
    STMT_provider_insert, "provider_insert",
    "INSERT INTO providers (tenant_id, created_by, created_at, updated_at) VALUES (?, ?, ?, ?)", 4,
    0};

const struct db_stmt_def stmt_provider_lock = {
    STMT_provider_lock, "provider_lock",
    "SELECT version FROM providers WHERE tenant_id = ? FOR UPDATE", 1, 1};

const struct db_stmt_def stmt_provider_touch = {
    STMT_provider_touch, "provider_touch",
    "UPDATE providers SET version = version + 1, updated_at = ? WHERE tenant_id = ?", 2, 0};

const struct db_stmt_def stmt_region_known = {STMT_region_known, "region_known",
					      "SELECT code FROM regions WHERE code = ?", 1, 1};

const struct db_stmt_def stmt_provider_regions_clear = {
    STMT_provider_regions_clear, "provider_regions_clear",
    "DELETE FROM provider_regions WHERE tenant_id = ?", 1, 0};

const struct db_stmt_def stmt_provider_region_add = {
    STMT_provider_region_add, "provider_region_add",
    "INSERT IGNORE INTO provider_regions (tenant_id, region_code) VALUES (?, ?)", 2, 0};

/* a provider tenant's global admins join its admin agent group (SPEC §5) */
const struct db_stmt_def stmt_provider_admins_join = {
    STMT_provider_admins_join, "provider_admins_join",
    "UPDATE users SET roles = CONCAT_WS(',', NULLIF(roles, ''), 'admin_agent'), "
    "version = version + 1, updated_at = ? WHERE tenant_id = ? "
    "AND FIND_IN_SET('global_admin', roles) AND NOT FIND_IN_SET('admin_agent', roles)",
    2, 0};

/* name: the legal name if it has one, else the work account's */
#define PROVIDER_COLUMNS                                                                           \
	"p.tenant_id, COALESCE(l.company_name, t.display_name), t.domain, "                        \
	"(SELECT GROUP_CONCAT(r.region_code ORDER BY r.region_code) FROM provider_regions r "      \
	"WHERE r.tenant_id = p.tenant_id), s.email, s.telephone, s.website, p.created_at, "        \
	"p.updated_at, p.version FROM providers p JOIN tenants t ON t.id = p.tenant_id "           \
	"LEFT JOIN legal_profiles l ON l.tenant_id = p.tenant_id "                                 \
	"LEFT JOIN support_profiles s ON s.tenant_id = p.tenant_id "

const struct db_stmt_def stmt_provider_get = {
    STMT_provider_get, "provider_get", "SELECT " PROVIDER_COLUMNS "WHERE p.tenant_id = ?", 1, 10};

const struct db_stmt_def stmt_tenant_region = {
    STMT_tenant_region, "tenant_region",
    "SELECT c.region_code FROM tenants t JOIN countries c ON c.code = t.csp_country "
    "WHERE t.id = ?",
    1, 1};

/* providers in a region, by tenant id, whose name holds a LIKE pattern */
const struct db_stmt_def stmt_provider_find = {
    STMT_provider_find, "provider_find",
    "SELECT " PROVIDER_COLUMNS "JOIN provider_regions pr ON pr.tenant_id = p.tenant_id "
    "AND pr.region_code = ? WHERE COALESCE(l.company_name, t.display_name) LIKE ? "
    "AND (? = '' OR p.tenant_id > ?) ORDER BY p.tenant_id LIMIT ?",
    5, 10};

const struct db_stmt_def stmt_provider_find_count = {
    STMT_provider_find_count, "provider_find_count",
    "SELECT COUNT(*) FROM providers p JOIN tenants t ON t.id = p.tenant_id "
    "LEFT JOIN legal_profiles l ON l.tenant_id = p.tenant_id "
    "JOIN provider_regions pr ON pr.tenant_id = p.tenant_id AND pr.region_code = ? "
    "WHERE COALESCE(l.company_name, t.display_name) LIKE ?",
    2, 1};

static void provider_read(const struct db_rows *rows, size_t i, void *item)
{
	struct provider *v = item;
	char t[TIME_STR];
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->tenant_id, sizeof v->tenant_id);
	db_cell_copy(rows, i, 1, v->name, sizeof v->name);
	db_cell_copy(rows, i, 2, v->domain, sizeof v->domain);
	const char *csv = db_cell(rows, i, 3);
	while (csv != NULL && *csv != '\0' && v->n_regions < PROVIDER_REGIONS_MAX) {
		size_t len = strcspn(csv, ",");
		snprintf(v->regions[v->n_regions++], 65, "%.*s", (int)len, csv);
		csv += len + (csv[len] == ',');
	}
	db_cell_copy(rows, i, 4, v->support_email, sizeof v->support_email);
	db_cell_copy(rows, i, 5, v->support_telephone, sizeof v->support_telephone);
	db_cell_copy(rows, i, 6, v->support_website, sizeof v->support_website);
	db_cell_copy(rows, i, 7, t, sizeof t);
	time_sql_to_api(t, v->created_at);
	db_cell_copy(rows, i, 8, t, sizeof t);
	time_sql_to_api(t, v->updated_at);
	v->version = strtoul(db_cell(rows, i, 9) ? db_cell(rows, i, 9) : "0", NULL, 10);
}

/* Replaces the tenant's regions with the n given, each known. */
static enum db_status regions_write(struct db *db, const char *tenant_id,
				    const char *const *regions, size_t n, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg t[] = {db_str(tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_provider_regions_clear, t, NULL, NULL);
	for (size_t i = 0; rc == DB_OK && i < n; i++) {
		struct db_arg r[] = {db_str(regions[i])};
		rc = legacy_exec(db, STMT_region_known, r, &rows, NULL);
		if (rc == DB_OK && rows.n_rows == 0) {
			char detail[160];
			snprintf(detail, sizeof detail,
				 "%.64s is not a CSP region of the programme (GET /v1/regions)",
				 regions[i]);
			rc = db_refuse(p, PROBLEM_RULE_REFUSED, "unknown_region", "%s", detail);
		}
		db_rows_free(&rows);
		if (rc != DB_OK)
			break;
		struct db_arg a[] = {db_str(tenant_id), db_str(regions[i])};
		rc = legacy_exec(db, STMT_provider_region_add, a, NULL, NULL);
	}
	return rc;
}

static enum db_status provider_read_one(struct db *db, const char *tenant_id, struct provider *out)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg g[] = {db_str(tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_provider_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows > 0)
		provider_read(&rows, 0, out);
	db_rows_free(&rows);
	return rc;
}

struct create_work {
	const struct actor *a;
	const char *tenant_id;
	const char *const *regions;
	size_t n;
	unsigned long version;
	const struct legal_profile *legal;
	struct provider *out;
};

/* The provider's legal profile, given at onboarding, and its CSP country. */
static enum db_status legal_write(struct db *db, const char *tenant_id,
				  const struct legal_profile *lp, const char *at, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg c[] = {db_str(lp->country)};
	enum db_status rc = legacy_exec(db, STMT_country_region, c, &rows, NULL);
	size_t known = rows.n_rows;
	db_rows_free(&rows);
	if (rc != DB_OK)
		return rc;
	if (known == 0) {
		char detail[160];
		snprintf(detail, sizeof detail,
			 "country %s is not in the programme's CSP regions (GET /v1/regions)",
			 lp->country);
		return db_refuse(p, PROBLEM_RULE_REFUSED, "country_not_in_program", "%s", detail);
	}
	struct db_arg lg[] = {
	    db_str(tenant_id),	       db_str(lp->company_name),
	    db_str(lp->address_line1), db_str(lp->address_line2[0] ? lp->address_line2 : NULL),
	    db_str(lp->city),	       db_str(lp->state[0] ? lp->state : NULL),
	    db_str(lp->postal_code),   db_str(lp->country),
	    db_str(lp->phone_number),  db_str(at)};
	struct db_arg tc[] = {db_str(lp->country), db_str(tenant_id)};
	rc = legacy_exec(db, STMT_legal_insert, lg, NULL, NULL);
	if (rc == DB_DUPLICATE)
		return db_refuse(p, PROBLEM_CONFLICT, "legal_profile_exists", "%s",
				 "the work account has a legal profile already; leave "
				 "legalBusinessProfile out");
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_tenant_set_csp_country, tc, NULL, NULL);
	return rc;
}

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	unsigned long long joined = 0;
	struct db_arg t[] = {db_str(w->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_provider_tenant, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, "tenant_unknown", "%s",
			       "no work account with this id");
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 0), "0") != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "platform_tenant", "%s",
			       "the operator's own tenant cannot be an indirect provider");
		goto out;
	}
	time_now(at, NULL);
	struct db_arg ins[] = {db_str(w->tenant_id), db_str(w->a->id), db_str(at), db_str(at)};
	rc = legacy_exec(db, STMT_provider_insert, ins, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "already_provider", "%s",
			       "this work account is an indirect provider already; "
			       "PUT /v1/operator/providers/{id}/regions changes its regions");
		goto out;
	}
	struct db_arg j[] = {db_str(at), db_str(w->tenant_id)};
	struct db_arg pt[] = {db_str("indirect_provider"), db_str(w->tenant_id),
			      db_str("indirect_provider")};
	struct legacy_audit_entry e = {w->tenant_id,	   w->a->type,	      w->a->id,
				"provider.create", "tenant",	      w->tenant_id,
				w->a->request_id,  w->a->client_addr, at};
	if (rc != DB_OK || (rc = regions_write(db, w->tenant_id, w->regions, w->n, p)) != DB_OK ||
	    (w->legal != NULL && (rc = legal_write(db, w->tenant_id, w->legal, at, p)) != DB_OK) ||
	    (rc = legacy_exec(db, STMT_provider_admins_join, j, NULL, &joined)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_tenant_add_partner_type, pt, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_write(db, &e)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "provider.create", "tenant", w->tenant_id, at)) != DB_OK)
		goto out;
	if (joined > 0) {
		e.action = "user.roles.grant_admin_agent";
		if ((rc = legacy_audit_write(db, &e)) != DB_OK)
			goto out;
	}
	rc = provider_read_one(db, w->tenant_id, w->out);
out:
	db_rows_free(&rows);
	return rc;
}

int provider_create(struct db *db, const struct actor *operator_, const char *tenant_id,
		    const char *const *regions, size_t n, const struct legal_profile *legal,
		    struct provider *out, struct problem *p)
{
	struct create_work w = {operator_, tenant_id, regions, n, 0, legal, out};
	memset(out, 0, sizeof *out);
	return db_run(db, create_run, &w, p);
}

static enum db_status regions_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	struct db_arg t[] = {db_str(w->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_provider_lock, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, "not_provider", "%s",
			       "no indirect provider with this id");
		goto out;
	}
	if (w->version != 0 && strtoul(db_cell(&rows, 0, 0), NULL, 10) != w->version) {
		problem_set(
		    p, PROBLEM_PRECONDITION_FAILED,
		    "the provider has changed since it was read; read it again for its ETag");
		rc = DB_REFUSED;
		goto out;
	}
	time_now(at, NULL);
	struct db_arg u[] = {db_str(at), db_str(w->tenant_id)};
	struct legacy_audit_entry e = {w->tenant_id,	    w->a->type,	       w->a->id,
				"provider.regions", "tenant",	       w->tenant_id,
				w->a->request_id,   w->a->client_addr, at};
	if ((rc = regions_write(db, w->tenant_id, w->regions, w->n, p)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_provider_touch, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_write(db, &e)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "provider.regions", "tenant", w->tenant_id, at)) != DB_OK)
		goto out;
	rc = provider_read_one(db, w->tenant_id, w->out);
out:
	db_rows_free(&rows);
	return rc;
}

int provider_set_regions(struct db *db, const struct actor *operator_, const char *tenant_id,
			 unsigned long version, const char *const *regions, size_t n,
			 struct provider *out, struct problem *p)
{
	struct create_work w = {operator_, tenant_id, regions, n, version, NULL, out};
	memset(out, 0, sizeof *out);
	return db_run(db, regions_run, &w, p);
}

struct find_work {
	const char *tenant_id, *pattern, *after;
	long limit;
	struct db_rows rows;
	long total;
	bool enrolled;
};

static enum db_status find_run(struct db *db, void *arg, struct problem *p)
{
	struct find_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char region[65];
	struct db_arg t[] = {db_str(w->tenant_id)};
	db_rows_free(&w->rows);
	enum db_status rc = legacy_exec(db, STMT_tenant_region, t, &rows, NULL);
	w->enrolled = rc == DB_OK && rows.n_rows > 0;
	if (w->enrolled)
		db_cell_copy(&rows, 0, 0, region, sizeof region);
	db_rows_free(&rows);
	if (rc != DB_OK || !w->enrolled)
		return rc;
	struct db_arg f[] = {db_str(region), db_str(w->pattern), db_str(w->after), db_str(w->after),
			     db_int(w->limit)};
	struct db_arg c[] = {db_str(region), db_str(w->pattern)};
	if ((rc = legacy_exec(db, STMT_provider_find, f, &w->rows, NULL)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_provider_find_count, c, &rows, NULL)) != DB_OK)
		return rc;
	w->total = atol(db_cell(&rows, 0, 0));
	db_rows_free(&rows);
	return DB_OK;
}

int provider_find(struct db *db, const char *tenant_id, const char *q, const char *after,
		  long limit, struct provider **items, size_t *n, long *total, struct problem *p)
{
	/* q as a LIKE pattern that matches itself only: % _ \ escaped */
	char pattern[2 * 100 + 3];
	size_t k = 0;
	pattern[k++] = '%';
	for (const char *s = q; *s != '\0' && k < sizeof pattern - 3; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			pattern[k++] = '\\';
		pattern[k++] = *s;
	}
	pattern[k++] = '%';
	pattern[k] = '\0';
	struct find_work w = {tenant_id, pattern, after, limit, {0, 0, NULL}, 0, false};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (db_read(db, find_run, &w, p) != 0)
		return -1;
	if (!w.enrolled) {
		db_refuse(p, PROBLEM_RULE_REFUSED, "enrollment_required", "%s",
			  "a reseller finds providers in the region of its CSP country, which its "
			  "enrolment gives: enrol first (POST /v1/enrollments)");
		return -1;
	}
	*items = db_rows_items(&w.rows, sizeof **items, provider_read, n);
	*total = w.total;
	return 0;
}
