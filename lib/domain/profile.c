#include "domain/profile.h"

#include "core/problem.h"
#include "domain/agreement.h"
#include "domain/mpn.h"
#include "domain/region.h"
#include "domain/tenant.h"

#include <stdio.h>
#include <string.h>

#define LEGAL_SELECT                                                                               \
	"SELECT company_name, address_line1, address_line2, city, state, postal_code, country, "   \
	"phone_number, version, updated_at FROM legal_profiles WHERE tenant_id = ?"
#define LEGAL_FIELDS(F, T)                                                                         \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, address_line1, DB_TEXT)                                                               \
	F(T, address_line2, DB_TEXT)                                                               \
	F(T, city, DB_TEXT)                                                                        \
	F(T, state, DB_TEXT)                                                                       \
	F(T, postal_code, DB_TEXT)                                                                 \
	F(T, country, DB_TEXT)                                                                     \
	F(T, phone_number, DB_TEXT) F(T, version, DB_INT) F(T, updated_at, DB_TIME)

DB_STATEMENT(profile_legal_get, LEGAL_SELECT, DB_PARAMS(DB_TEXT),
	     DB_ROW(struct legal_profile, LEGAL_FIELDS));
DB_STATEMENT(profile_legal_lock, LEGAL_SELECT " FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct legal_profile, LEGAL_FIELDS));

#define LEGAL_PARAMS                                                                               \
	DB_TEXT, DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TEXT, \
	    DB_TEXT
DB_STATEMENT(profile_legal_insert,
	     "INSERT INTO legal_profiles (company_name, address_line1, address_line2, city, state, "
	     "postal_code, country, phone_number, updated_at, tenant_id) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(LEGAL_PARAMS, DB_TIME, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(profile_legal_update,
	     "UPDATE legal_profiles SET company_name = ?, address_line1 = ?, address_line2 = ?, "
	     "city = ?, state = ?, postal_code = ?, country = ?, phone_number = ?, updated_at = ?, "
	     "version = version + 1 WHERE tenant_id = ?",
	     DB_PARAMS(LEGAL_PARAMS, DB_TIME, DB_TEXT), DB_NO_ROW);

#define SUPPORT_SELECT                                                                             \
	"SELECT email, telephone, website, version, updated_at FROM support_profiles "             \
	"WHERE tenant_id = ?"
#define SUPPORT_FIELDS(F, T)                                                                       \
	F(T, email, DB_TEXT)                                                                       \
	F(T, telephone, DB_TEXT)                                                                   \
	F(T, website, DB_TEXT) F(T, version, DB_INT) F(T, updated_at, DB_TIME)

DB_STATEMENT(profile_support_get, SUPPORT_SELECT, DB_PARAMS(DB_TEXT),
	     DB_ROW(struct support_profile, SUPPORT_FIELDS));
DB_STATEMENT(profile_support_lock, SUPPORT_SELECT " FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct support_profile, SUPPORT_FIELDS));
DB_STATEMENT(profile_support_insert,
	     "INSERT INTO support_profiles (email, telephone, website, updated_at, tenant_id) "
	     "VALUES (?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(profile_support_update,
	     "UPDATE support_profiles SET email = ?, telephone = ?, website = ?, updated_at = ?, "
	     "version = version + 1 WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME, DB_TEXT), DB_NO_ROW);

#define ORGANIZATION_FIELDS(F, T)                                                                  \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, domain, DB_TEXT)                                                                      \
	F(T, display_name, DB_TEXT)                                                                \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, csp_country, DB_TEXT)                                                                 \
	F(T, csp_region, DB_TEXT)                                                                  \
	F(T, enrollment_status, DB_TEXT)                                                           \
	F(T, agreement_signed, DB_INT)                                                             \
	F(T, agreement_version, DB_TEXT)                                                           \
	F(T, agreement_signed_at, DB_TIME) F(T, agreement_signed_by, DB_TEXT)
DB_STATEMENT(
    profile_organization_get,
    "SELECT t.id AS tenant_id, t.domain, t.display_name, l.company_name, t.csp_country, "
    "c.region_code AS csp_region, e.status AS enrollment_status, "
    "acc.id IS NOT NULL AS agreement_signed, "
    "IF(acc.id IS NULL, NULL, cur.version) AS agreement_version, "
    "acc.accepted_at AS agreement_signed_at, acc.user_id AS agreement_signed_by "
    "FROM tenants t LEFT JOIN legal_profiles l ON l.tenant_id = t.id "
    "LEFT JOIN countries c ON c.code = t.csp_country "
    "LEFT JOIN enrollments e ON e.tenant_id = t.id "
    "LEFT JOIN agreement_templates cur ON cur.id = " AGREEMENT_CURRENT_SQL " "
    "LEFT JOIN agreement_acceptances acc ON acc.tenant_id = t.id AND acc.template_id = cur.id "
    "WHERE t.id = ?",
    DB_PARAMS(DB_TEXT), DB_ROW(struct organization_profile, ORGANIZATION_FIELDS));

static int not_enrolled(struct problem *p)
{
	snprintf(p->code, sizeof p->code, "not_enrolled");
	return problem_set(p, PROBLEM_NOT_FOUND,
			   "this work account has no profiles yet: they are given when it enrols "
			   "(POST /v1/enrollments)");
}

static int stale(struct problem *p)
{
	return problem_set(p, PROBLEM_PRECONDITION_FAILED,
			   "the profile has changed since it was read; read it again for its ETag");
}

/* The profile of tenant_id that s reads, into out. */
static int profile_read(struct txn *t, const struct db_stmt *s, const char *tenant_id, void *out,
			struct problem *p)
{
	struct db_arg a[] = {db_text(tenant_id)};
	switch (db_one(t, s, a, out)) {
	case DB_OK: return 0;
	case DB_EMPTY: return not_enrolled(p);
	default: return -1;
	}
}

int legal_profile_get(struct txn *t, const char *tenant_id, struct legal_profile *out,
		      struct problem *p)
{
	return profile_read(t, &profile_legal_get, tenant_id, out, p);
}

int support_profile_get(struct txn *t, const char *tenant_id, struct support_profile *out,
			struct problem *p)
{
	return profile_read(t, &profile_support_get, tenant_id, out, p);
}

/* The arguments of the legal insert and update: lp's fields, at, and the
 * tenant. */
static void legal_args(struct db_arg r[10], const struct legal_profile *lp, micros_t at,
		       const char *tenant_id)
{
	r[0] = db_text(lp->company_name);
	r[1] = db_text(lp->address_line1);
	r[2] = db_text(lp->address_line2[0] ? lp->address_line2 : NULL);
	r[3] = db_text(lp->city);
	r[4] = db_text(lp->state[0] ? lp->state : NULL);
	r[5] = db_text(lp->postal_code);
	r[6] = db_text(lp->country);
	r[7] = db_text(lp->phone_number);
	r[8] = db_time(at);
	r[9] = db_text(tenant_id);
}

enum db_status legal_profile_insert(struct txn *t, const char *tenant_id,
				    const struct legal_profile *lp, micros_t at)
{
	struct db_arg r[10];
	legal_args(r, lp, at, tenant_id);
	return db_exec(t, &profile_legal_insert, r, NULL);
}

enum db_status support_profile_insert(struct txn *t, const char *tenant_id,
				      const struct support_profile *sp, micros_t at)
{
	struct db_arg r[] = {db_text(sp->email), db_text(sp->telephone), db_text(sp->website),
			     db_time(at), db_text(tenant_id)};
	return db_exec(t, &profile_support_insert, r, NULL);
}

int csp_country_in_program(struct txn *t, const char *country, struct problem *p)
{
	bool known = false;
	if (region_country_known(t, country, &known) != DB_OK)
		return -1;
	if (known)
		return 0;
	snprintf(p->code, sizeof p->code, "country_not_in_program");
	return problem_set(p, PROBLEM_RULE_REFUSED,
			   "country %s is not in the programme's CSP regions (GET /v1/regions)",
			   country);
}

/* A new legal country: the tenant's CSP country changes with it. */
static int legal_country_change(struct txn *t, const struct actor *a, const char *status,
				const char *from, const char *to, micros_t at, struct problem *p)
{
	unsigned long long dropped = 0;
	/* the CSP country is the programme's contract with the reseller */
	if (strcmp(status, "approved") == 0) {
		snprintf(p->code, sizeof p->code, "csp_country_locked");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the CSP country (%s) cannot change once the enrolment is "
				   "approved",
				   from);
	}
	if (csp_country_in_program(t, to, p) != 0)
		return -1;
	/* the associated MPN ID was of the old country: it no longer
	 * qualifies (SPEC §3 step 5) */
	if (tenant_set_csp_country(t, a->tenant_id, to) != DB_OK ||
	    mpn_association_end(t, a->tenant_id, &dropped) != DB_OK)
		return -1;
	if (dropped > 0 &&
	    audit_record(t, a, "mpn.unassociate", "tenant", a->tenant_id, at) != DB_OK)
		return -1;
	return 0;
}

int legal_profile_put(struct txn *t, const struct actor *a, unsigned long version,
		      struct legal_profile *in, struct problem *p)
{
	struct legal_profile cur;
	struct db_arg u[10];
	char status[32];
	micros_t at = time_micros();
	if (enrollment_lock_status(t, a->tenant_id, status) != DB_OK ||
	    profile_read(t, &profile_legal_lock, a->tenant_id, &cur, p) != 0)
		return -1;
	if (version != 0 && version != cur.version)
		return stale(p);
	if (strcmp(cur.country, in->country) != 0 &&
	    legal_country_change(t, a, status, cur.country, in->country, at, p) != 0)
		return -1;
	legal_args(u, in, at, a->tenant_id);
	if (db_exec(t, &profile_legal_update, u, NULL) != DB_OK ||
	    audit_record(t, a, "profile.legalbusiness.update", "tenant", a->tenant_id, at) !=
		DB_OK ||
	    enrollment_profile_updated(t, a, a->tenant_id, at) != DB_OK)
		return -1;
	in->version = cur.version + 1;
	time_api(at, in->updated_at);
	return 0;
}

int support_profile_put(struct txn *t, const struct actor *a, unsigned long version,
			struct support_profile *in, struct problem *p)
{
	struct support_profile cur;
	char status[32];
	micros_t at = time_micros();
	if (enrollment_lock_status(t, a->tenant_id, status) != DB_OK ||
	    profile_read(t, &profile_support_lock, a->tenant_id, &cur, p) != 0)
		return -1;
	if (version != 0 && version != cur.version)
		return stale(p);
	struct db_arg u[] = {db_text(in->email), db_text(in->telephone), db_text(in->website),
			     db_time(at), db_text(a->tenant_id)};
	if (db_exec(t, &profile_support_update, u, NULL) != DB_OK ||
	    audit_record(t, a, "profile.support.update", "tenant", a->tenant_id, at) != DB_OK ||
	    enrollment_profile_updated(t, a, a->tenant_id, at) != DB_OK)
		return -1;
	in->version = cur.version + 1;
	time_api(at, in->updated_at);
	return 0;
}

int organization_profile_get(struct txn *t, const char *tenant_id, struct organization_profile *out,
			     struct problem *p)
{
	struct db_arg a[] = {db_text(tenant_id)};
	switch (db_one(t, &profile_organization_get, a, out)) {
	case DB_OK: return 0;
	case DB_EMPTY: return problem_set(p, PROBLEM_NOT_FOUND, "no such work account");
	default: return -1;
	}
}
