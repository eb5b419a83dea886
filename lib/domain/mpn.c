#include "domain/mpn.h"

#include "core/problem.h"
#include "domain/profile.h"
#include "domain/tenant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(mpn_identifier_insert,
	     "INSERT INTO mpn_identifiers (tenant_id, mpn_id, country, location_name, created_at) "
	     "VALUES (?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

#define MPN_FIELDS(F, T)                                                                           \
	F(T, mpn_id, DB_TEXT)                                                                      \
	F(T, country, DB_TEXT) F(T, location_name, DB_TEXT) F(T, created_at, DB_TIME)
#define MPN_LIST_FIELDS(F, T) MPN_FIELDS(F, T) F(T, associated, DB_INT)

/* every ID of the tenant (a handful: no page), by its primary key */
DB_STATEMENT(mpn_identifier_list,
	     "SELECT i.mpn_id, i.country, i.location_name, i.created_at, "
	     "a.mpn_id IS NOT NULL AS associated "
	     "FROM mpn_identifiers i LEFT JOIN mpn_associations a "
	     "ON a.tenant_id = i.tenant_id AND a.mpn_id = i.mpn_id "
	     "WHERE i.tenant_id = ? ORDER BY i.created_at, i.mpn_id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct mpn_identifier, MPN_LIST_FIELDS));

DB_STATEMENT(mpn_identifier_get,
	     "SELECT mpn_id, country, location_name, created_at FROM mpn_identifiers "
	     "WHERE tenant_id = ? AND mpn_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct mpn_identifier, MPN_FIELDS));

DB_STATEMENT(mpn_association_delete, "DELETE FROM mpn_associations WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(mpn_association_insert,
	     "INSERT INTO mpn_associations (tenant_id, mpn_id, associated_at) VALUES (?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

int mpn_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 6 || n > 7)
		return 0;
	return strspn(s, "0123456789") == n;
}

int mpn_identifier_add(struct txn *t, const struct actor *a, struct mpn_identifier *in,
		       struct problem *p)
{
	micros_t at = time_micros();
	if (csp_country_in_program(t, in->country, p) != 0)
		return -1;
	struct db_arg i[] = {db_text(a->tenant_id), db_text(in->mpn_id), db_text(in->country),
			     db_text(in->location_name), db_time(at)};
	switch (db_exec(t, &mpn_identifier_insert, i, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		snprintf(p->code, sizeof p->code, "mpn_id_exists");
		return problem_set(p, PROBLEM_CONFLICT, "this work account lists MPN ID %s already",
				   in->mpn_id);
	default: return -1;
	}
	if (audit_record(t, a, "mpn.identifier.add", "tenant", a->tenant_id, at) != DB_OK)
		return -1;
	time_api(at, in->created_at);
	return 0;
}

int mpn_profile_get(struct txn *t, const char *tenant_id, struct mpn_identifier **items, size_t *n,
		    char associated[8])
{
	struct db_arg a[] = {db_text(tenant_id)};
	associated[0] = '\0';
	if (db_all(t, &mpn_identifier_list, a, (void **)items, n) != DB_OK)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if ((*items)[i].associated)
			memcpy(associated, (*items)[i].mpn_id, sizeof(*items)[i].mpn_id);
	return 0;
}

enum db_status mpn_association_end(struct txn *t, const char *tenant_id,
				   unsigned long long *dropped)
{
	struct db_arg a[] = {db_text(tenant_id)};
	return db_exec(t, &mpn_association_delete, a, dropped);
}

int mpn_associate(struct txn *t, const struct actor *a, const char *mpn_id,
		  struct mpn_identifier *out, struct problem *p)
{
	struct tenant_locked csp;
	micros_t at = time_micros();
	struct db_arg g[] = {db_text(a->tenant_id), db_text(mpn_id)};
	memset(out, 0, sizeof *out);
	/* the tenant row, locked: two associations of one tenant queue here */
	enum db_status rc = tenant_lock(t, a->tenant_id, &csp);
	if (rc == DB_FAILED)
		return -1;
	if (rc == DB_EMPTY || csp.csp_country[0] == '\0') {
		snprintf(p->code, sizeof p->code, "not_enrolled");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the work account has no CSP country yet: enrol first "
				   "(POST /v1/enrollments)");
	}
	switch (db_one(t, &mpn_identifier_get, g, out)) {
	case DB_OK: break;
	case DB_EMPTY:
		snprintf(p->code, sizeof p->code, "mpn_id_unknown");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "MPN ID %s is not among the work account's IDs; add it first "
				   "(POST /v1/profiles/mpn/identifiers)",
				   mpn_id);
	default: return -1;
	}
	if (strcmp(out->country, csp.csp_country) != 0) {
		snprintf(p->code, sizeof p->code, "mpn_country_mismatch");
		return problem_set(
		    p, PROBLEM_RULE_REFUSED,
		    "MPN ID %s is registered in %s, but the CSP country is %s; they must "
		    "be the same",
		    mpn_id, out->country, csp.csp_country);
	}
	struct db_arg i[] = {db_text(a->tenant_id), db_text(mpn_id), db_time(at)};
	if (mpn_association_end(t, a->tenant_id, NULL) != DB_OK)
		return -1;
	switch (db_exec(t, &mpn_association_insert, i, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		snprintf(p->code, sizeof p->code, "mpn_id_taken");
		return problem_set(p, PROBLEM_CONFLICT,
				   "MPN ID %s is associated with another work account", mpn_id);
	default: return -1;
	}
	return audit_record(t, a, "mpn.associate", "tenant", a->tenant_id, at) == DB_OK ? 0 : -1;
}
