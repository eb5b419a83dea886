#include "domain/provider.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "domain/profile.h"
#include "domain/region.h"
#include "domain/relationship.h"
#include "domain/tenant.h"
#include "domain/user.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(provider_insert,
	     "INSERT INTO providers (tenant_id, created_by, created_at, updated_at) "
	     "VALUES (?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME, DB_TIME), DB_NO_ROW);

struct provider_version_row {
	unsigned long version;
};
#define PROVIDER_VERSION_FIELDS(F, T) F(T, version, DB_INT)
DB_STATEMENT(provider_lock, "SELECT version FROM providers WHERE tenant_id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct provider_version_row, PROVIDER_VERSION_FIELDS));

DB_STATEMENT(provider_touch,
	     "UPDATE providers SET version = version + 1, updated_at = ? WHERE tenant_id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(provider_regions_clear, "DELETE FROM provider_regions WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

/* IGNORE: a region named twice is in once */
DB_STATEMENT(provider_region_add,
	     "INSERT IGNORE INTO provider_regions (tenant_id, region_code) VALUES (?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(provider_region_authorized,
	     "SELECT COUNT(*) AS n FROM provider_regions WHERE tenant_id = ? AND region_code = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);

/* whether the provider is authorized in the region of a country */
DB_STATEMENT(provider_country_authorized,
	     "SELECT COUNT(*) AS n FROM provider_regions pr JOIN countries c ON "
	     "c.region_code = pr.region_code WHERE pr.tenant_id = ? AND c.code = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);

/* name: the legal name if it has one, else the work account's */
#define PROVIDER_NAME "COALESCE(l.company_name, t.display_name)"
#define PROVIDER_COLUMNS                                                                           \
	"SELECT p.tenant_id, " PROVIDER_NAME " AS name, t.domain, "                                \
	"(SELECT GROUP_CONCAT(r.region_code ORDER BY r.region_code) FROM provider_regions r "      \
	"WHERE r.tenant_id = p.tenant_id) AS regions, s.email AS support_email, "                  \
	"s.telephone AS support_telephone, s.website AS support_website, p.created_at, "           \
	"p.updated_at, p.version "
#define PROVIDER_JOINS                                                                             \
	"JOIN tenants t ON t.id = p.tenant_id "                                                    \
	"LEFT JOIN legal_profiles l ON l.tenant_id = p.tenant_id "                                 \
	"LEFT JOIN support_profiles s ON s.tenant_id = p.tenant_id "
#define PROVIDER_FIELDS(F, T)                                                                      \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, name, DB_TEXT)                                                                        \
	F(T, domain, DB_TEXT)                                                                      \
	F(T, regions, DB_TEXT)                                                                     \
	F(T, support_email, DB_TEXT)                                                               \
	F(T, support_telephone, DB_TEXT)                                                           \
	F(T, support_website, DB_TEXT)                                                             \
	F(T, created_at, DB_TIME) F(T, updated_at, DB_TIME) F(T, version, DB_INT)

DB_STATEMENT(provider_get,
	     PROVIDER_COLUMNS "FROM providers p " PROVIDER_JOINS "WHERE p.tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct provider, PROVIDER_FIELDS));

/* The providers of a region, through ix_provider_regions_region
 * (region_code, tenant_id); a name filter reads the region's providers in
 * order until the page is full. */
#define PROVIDER_IN_REGION                                                                         \
	"FROM provider_regions pr " DB_LIST_INDEX(                                                 \
	    "ix_provider_regions_region") "JOIN providers p ON p.tenant_id = "                     \
					  "pr.tenant_id " PROVIDER_JOINS
#define PROVIDER_NAMED "AND " PROVIDER_NAME " LIKE ? "

DB_STATEMENT(provider_find_list,
	     PROVIDER_COLUMNS PROVIDER_IN_REGION
	     "WHERE pr.region_code = ? AND pr.tenant_id > ? ORDER BY pr.tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct provider, PROVIDER_FIELDS));
DB_STATEMENT(provider_find_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM provider_regions pr "
	     "WHERE pr.region_code = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

DB_STATEMENT(provider_find_named_list,
	     PROVIDER_COLUMNS PROVIDER_IN_REGION
	     "WHERE pr.region_code = ? " PROVIDER_NAMED
	     "AND pr.tenant_id > ? ORDER BY pr.tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct provider, PROVIDER_FIELDS));
DB_STATEMENT(provider_find_named_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM provider_regions pr "
	     "JOIN tenants t ON t.id = pr.tenant_id "
	     "LEFT JOIN legal_profiles l ON l.tenant_id = pr.tenant_id "
	     "WHERE pr.region_code = ? " PROVIDER_NAMED "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW_COUNT);

/* Every provider, for the operator, by tenant id (the primary key). */
DB_STATEMENT(provider_all_list,
	     PROVIDER_COLUMNS "FROM providers p " PROVIDER_JOINS
			      "WHERE p.tenant_id > ? ORDER BY p.tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW(struct provider, PROVIDER_FIELDS));
DB_STATEMENT(provider_all_count, "SELECT COUNT(*) AS n FROM (SELECT 1 FROM providers LIMIT ?) c",
	     DB_PARAMS(DB_INT), DB_ROW_COUNT);
const struct db_page provider_all_page = {.list = &provider_all_list,
					  .count = &provider_all_count,
					  .n_keys = 0,
					  .cursor_offset = offsetof(struct provider, tenant_id)};

const struct db_page provider_find_page = {.list = &provider_find_list,
					   .count = &provider_find_count,
					   .n_keys = 1,
					   .cursor_offset = offsetof(struct provider, tenant_id)};
const struct db_page provider_find_named_page = {.list = &provider_find_named_list,
						 .count = &provider_find_named_count,
						 .n_keys = 2,
						 .cursor_offset =
						     offsetof(struct provider, tenant_id)};

/* Replaces the tenant's regions with the n given, each known. Returns 0,
 * or -1 with p set (422 unknown_region) or t failed. */
static int regions_write(struct txn *t, const char *tenant_id, const char *const *regions, size_t n,
			 struct problem *p)
{
	struct db_arg tenant[] = {db_text(tenant_id)};
	if (db_exec(t, &provider_regions_clear, tenant, NULL) != DB_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		bool known = false;
		if (region_known(t, regions[i], &known) != DB_OK)
			return -1;
		if (!known)
			return problem_refuse(
			    p, PROBLEM_RULE_REFUSED, "unknown_region",
			    "%.64s is not a CSP region of the programme (GET /v1/regions)",
			    regions[i]);
		struct db_arg a[] = {db_text(tenant_id), db_text(regions[i])};
		if (db_exec(t, &provider_region_add, a, NULL) != DB_OK)
			return -1;
	}
	return 0;
}

/* The provider's legal profile, given at onboarding, and its CSP country.
 * Returns 0, or -1 with p set (409 legal_profile_exists, 422
 * country_not_in_program) or t failed. */
static int legal_write(struct txn *t, const char *tenant_id, const struct legal_profile *lp,
		       micros_t at, struct problem *p)
{
	char region[65];
	switch (region_of_country(t, lp->country, region)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_refuse(
		    p, PROBLEM_RULE_REFUSED, "country_not_in_program",
		    "country %s is not in the programme's CSP regions (GET /v1/regions)",
		    lp->country);
	default: return -1;
	}
	switch (legal_profile_insert(t, tenant_id, lp, at)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		return problem_refuse(p, PROBLEM_CONFLICT, "legal_profile_exists",
				      "the work account has a legal profile already; leave "
				      "legalBusinessProfile out");
	default: return -1;
	}
	return tenant_set_csp_country(t, tenant_id, lp->country) == DB_OK ? 0 : -1;
}

/* The provider tenant_id, written in t, into out. */
static int provider_read(struct txn *t, const char *tenant_id, struct provider *out)
{
	struct db_arg a[] = {db_text(tenant_id)};
	switch (db_one(t, &provider_get, a, out)) {
	case DB_OK: return 0;
	case DB_EMPTY: txn_abort(t); return -1; /* written in t: never */
	default: return -1;
	}
}

int provider_create(struct txn *t, const struct actor *operator_, const char *tenant_id,
		    const char *const *regions, size_t n, const struct legal_profile *legal,
		    struct provider *out, struct problem *p)
{
	struct tenant_locked tenant;
	micros_t at;
	unsigned long long joined = 0;
	switch (tenant_lock(t, tenant_id, &tenant)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_refuse(p, PROBLEM_NOT_FOUND, "tenant_unknown",
				      "no work account with this id");
	default: return -1;
	}
	/* now that the row is locked: after every change before */
	at = time_micros();
	if (tenant.is_platform)
		return problem_refuse(p, PROBLEM_RULE_REFUSED, "platform_tenant",
				      "the operator's own tenant cannot be an indirect provider");
	struct db_arg ins[] = {db_text(tenant_id), db_text(operator_->id), db_time(at),
			       db_time(at)};
	switch (db_exec(t, &provider_insert, ins, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		return problem_refuse(
		    p, PROBLEM_CONFLICT, "already_provider",
		    "this work account is an indirect provider already; "
		    "PUT /v1/operator/providers/{id}/regions changes its regions");
	default: return -1;
	}
	if (regions_write(t, tenant_id, regions, n, p) != 0 ||
	    (legal != NULL && legal_write(t, tenant_id, legal, at, p) != 0))
		return -1;
	/* a provider tenant's global admins join its admin agent group (SPEC §5) */
	if (user_grant_role_to_holders(t, tenant_id, ROLE_GLOBAL_ADMIN, ROLE_ADMIN_AGENT, at,
				       &joined) != DB_OK ||
	    tenant_add_partner_type(t, tenant_id, PARTNER_INDIRECT_PROVIDER) != DB_OK ||
	    audit_record_in(t, operator_, tenant_id, "provider.create", "tenant", tenant_id, at) !=
		DB_OK ||
	    audit_record(t, operator_, "provider.create", "tenant", tenant_id, at) != DB_OK ||
	    (joined > 0 && audit_record_in(t, operator_, tenant_id, "user.roles.grant_admin_agent",
					   "tenant", tenant_id, at) != DB_OK))
		return -1;
	return provider_read(t, tenant_id, out);
}

/* The provider's active relationships whose reseller is in a region the
 * provider is authorized in, by id. */
struct served_row {
	char id[UUID_STR];
};
#define SERVED_FIELDS(F, T) F(T, id, DB_TEXT)
DB_STATEMENT(provider_relationships_served,
	     "SELECT r.id FROM relationships r JOIN tenants rt ON rt.id = r.reseller_tenant_id "
	     "JOIN countries c ON c.code = rt.csp_country JOIN provider_regions pr ON "
	     "pr.tenant_id = r.provider_tenant_id AND pr.region_code = c.region_code "
	     "WHERE r.provider_tenant_id = ? AND r.active = 1 ORDER BY r.id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct served_row, SERVED_FIELDS));

/* Mails both sides of each relationship served before (before, n) and not
 * now: its orders and admin access are suspended (F5) until the region
 * is the provider's again. 0, or -1 with t failed. */
static int suspended_notify(struct txn *t, const char *tenant_id, const struct served_row *before,
			    size_t n)
{
	void *items = NULL;
	size_t m = 0;
	struct db_arg a[] = {db_text(tenant_id)};
	if (db_all(t, &provider_relationships_served, a, &items, &m) != DB_OK)
		return -1;
	const struct served_row *now = items;
	int rc = 0;
	for (size_t i = 0, j = 0; i < n && rc == 0; i++) {
		while (j < m && strcmp(now[j].id, before[i].id) < 0)
			j++;
		if (j < m && strcmp(now[j].id, before[i].id) == 0)
			continue;
		rc = relationship_notify(t, before[i].id, MAIL_RELATIONSHIP_SUSPENDED,
					 RELATIONSHIP_PROVIDER | RELATIONSHIP_RESELLER, NULL, NULL,
					 0);
	}
	free(items);
	return rc;
}

int provider_set_regions(struct txn *t, const struct actor *operator_, const char *tenant_id,
			 unsigned long version, const char *const *regions, size_t n,
			 struct provider *out, struct problem *p)
{
	struct provider_version_row now;
	struct db_arg tid[] = {db_text(tenant_id)};
	micros_t at;
	switch (db_one(t, &provider_lock, tid, &now)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_refuse(p, PROBLEM_NOT_FOUND, "not_provider",
				      "no indirect provider with this id");
	default: return -1;
	}
	/* now that the row is locked: after every change before */
	at = time_micros();
	if (version != 0 && now.version != version)
		return problem_set(
		    p, PROBLEM_PRECONDITION_FAILED,
		    "the provider has changed since it was read; read it again for its ETag");
	struct db_arg u[] = {db_time(at), db_text(tenant_id)};
	void *served = NULL;
	size_t n_served = 0;
	if (db_all(t, &provider_relationships_served, tid, &served, &n_served) != DB_OK)
		return -1;
	int rc = regions_write(t, tenant_id, regions, n, p);
	if (rc == 0)
		rc = suspended_notify(t, tenant_id, served, n_served);
	free(served);
	if (rc != 0 || db_exec(t, &provider_touch, u, NULL) != DB_OK ||
	    audit_record_in(t, operator_, tenant_id, "provider.regions", "tenant", tenant_id, at) !=
		DB_OK ||
	    audit_record(t, operator_, "provider.regions", "tenant", tenant_id, at) != DB_OK)
		return -1;
	return provider_read(t, tenant_id, out);
}

enum db_status provider_in_region(struct txn *t, const char *tenant_id, const char *region_code,
				  bool *in)
{
	struct db_count c;
	struct db_arg a[] = {db_text(tenant_id), db_text(region_code)};
	enum db_status st = db_one(t, &provider_region_authorized, a, &c);
	*in = st == DB_OK && c.n > 0;
	return st == DB_EMPTY ? DB_OK : st;
}

enum db_status provider_serves_country(struct txn *t, const char *tenant_id, const char *country,
				       bool *serves)
{
	struct db_count c;
	struct db_arg a[] = {db_text(tenant_id), db_text(country)};
	enum db_status st = db_one(t, &provider_country_authorized, a, &c);
	*serves = st == DB_OK && c.n > 0;
	return st == DB_EMPTY ? DB_OK : st;
}

int provider_find_region(struct txn *t, const char *tenant_id, char region[65], struct problem *p)
{
	/* the region of the tenant's CSP country */
	struct region_billing r;
	region[0] = '\0';
	switch (tenant_billing(t, tenant_id, &r)) {
	case DB_OK: memcpy(region, r.region_code, sizeof r.region_code); return 0;
	case DB_EMPTY:
		return problem_refuse(
		    p, PROBLEM_RULE_REFUSED, "enrollment_required",
		    "a reseller finds providers in the region of its CSP country, which "
		    "its enrolment gives: enrol first (POST /v1/enrollments)");
	default: return -1;
	}
}

void provider_name_pattern(const char *q, char *out)
{
	size_t k = 0;
	out[k++] = '%';
	for (const char *s = q; *s != '\0'; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[k++] = '\\';
		out[k++] = *s;
	}
	out[k++] = '%';
	out[k] = '\0';
}
