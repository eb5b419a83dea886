#include "domain/mpn.h"

#include "core/problem.h"
#include "domain/profile.h"
#include "domain/tenant.h"
#include "mail/outbox.h"

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

/* every ID of the tenant (a handful: no page), by its primary key */
DB_STATEMENT(mpn_identifier_list,
	     "SELECT mpn_id, country, location_name, created_at FROM mpn_identifiers "
	     "WHERE tenant_id = ? ORDER BY created_at, mpn_id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct mpn_identifier, MPN_FIELDS));

DB_STATEMENT(mpn_identifier_get,
	     "SELECT mpn_id, country, location_name, created_at FROM mpn_identifiers "
	     "WHERE tenant_id = ? AND mpn_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct mpn_identifier, MPN_FIELDS));

DB_STATEMENT(mpn_association_delete, "DELETE FROM mpn_associations WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(mpn_association_insert,
	     "INSERT INTO mpn_associations (id, tenant_id, mpn_id, status, associated_at) "
	     "VALUES (?, ?, ?, 'pending_verification', ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

/* A claim as the tenant and the operator see it. */
#define CLAIM_SELECT_USING(hint)                                                                   \
	"SELECT a.id, a.tenant_id, t.domain AS tenant_domain, l.company_name, a.mpn_id, "          \
	"i.country, i.location_name, a.status, a.associated_at AS claimed_at, a.decided_at, "      \
	"a.decided_by, a.reason, e.email_verified_at IS NOT NULL AS contact_verified "             \
	"FROM mpn_associations a " hint "JOIN tenants t ON t.id = a.tenant_id "                    \
	"JOIN mpn_identifiers i ON i.tenant_id = a.tenant_id AND i.mpn_id = a.mpn_id "             \
	"LEFT JOIN legal_profiles l ON l.tenant_id = a.tenant_id "                                 \
	"LEFT JOIN enrollments e ON e.tenant_id = a.tenant_id "
#define CLAIM_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, tenant_domain, DB_TEXT)                                                               \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, mpn_id, DB_TEXT)                                                                      \
	F(T, country, DB_TEXT)                                                                     \
	F(T, location_name, DB_TEXT)                                                               \
	F(T, status, DB_TEXT)                                                                      \
	F(T, claimed_at, DB_TIME)                                                                  \
	F(T, decided_at, DB_TIME)                                                                  \
	F(T, decided_by, DB_TEXT) F(T, reason, DB_TEXT) F(T, contact_verified, DB_INT)

DB_STATEMENT(mpn_claim_of_tenant, CLAIM_SELECT_USING("") "WHERE a.tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct mpn_association, CLAIM_FIELDS));
DB_STATEMENT(mpn_claim_by_id, CLAIM_SELECT_USING("") "WHERE a.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct mpn_association, CLAIM_FIELDS));

/* the operator's queue: the primary key, or ix_mpn_associations_status
 * (status, id) */
DB_STATEMENT(mpn_claim_list_all,
	     CLAIM_SELECT_USING(DB_LIST_INDEX("uq_mpn_associations_id")) "WHERE a.id > ? "
									 "ORDER BY a.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW(struct mpn_association, CLAIM_FIELDS));
DB_STATEMENT(mpn_claim_count_all,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM mpn_associations LIMIT ?) c",
	     DB_PARAMS(DB_INT), DB_ROW_COUNT);
DB_STATEMENT(mpn_claim_list_status,
	     CLAIM_SELECT_USING(
		 DB_LIST_INDEX("ix_mpn_associations_status")) "WHERE a.status = ? "
							      "AND a.id > ? ORDER BY a.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct mpn_association, CLAIM_FIELDS));
DB_STATEMENT(mpn_claim_count_status,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM mpn_associations WHERE status = ? "
	     "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page mpn_association_page = {.list = &mpn_claim_list_all,
					     .count = &mpn_claim_count_all,
					     .n_keys = 0,
					     .cursor_offset = offsetof(struct mpn_association, id)};
const struct db_page mpn_association_page_of_status = {.list = &mpn_claim_list_status,
						       .count = &mpn_claim_count_status,
						       .n_keys = 1,
						       .cursor_offset =
							   offsetof(struct mpn_association, id)};

/* The claim a decision is on, locked (the association's row alone: the
 * contact is read after, unlocked). */
struct claim_locked {
	char id[UUID_STR], tenant_id[UUID_STR], mpn_id[8], status[24];
};
#define CLAIM_LOCKED_FIELDS(F, T)                                                                  \
	F(T, id, DB_TEXT) F(T, tenant_id, DB_TEXT) F(T, mpn_id, DB_TEXT) F(T, status, DB_TEXT)
DB_STATEMENT(mpn_claim_lock,
	     "SELECT id, tenant_id, mpn_id, status FROM mpn_associations WHERE id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct claim_locked, CLAIM_LOCKED_FIELDS));
/* The ID's lock row (sql/0027), written so that Galera certifies it too:
 * a claim of the ID and a verification of one of its claims take it first
 * and so queue. */
DB_STATEMENT(mpn_id_lock,
	     "INSERT INTO mpn_id_locks (mpn_id, locked_at) VALUES (?, ?) "
	     "ON DUPLICATE KEY UPDATE locked_at = VALUES(locked_at)",
	     DB_PARAMS(DB_TEXT, DB_TIME), DB_NO_ROW);
/* the claim a decision names, unlocked: which ID's lock to take */
DB_STATEMENT(mpn_claim_peek,
	     "SELECT id, tenant_id, mpn_id, status FROM mpn_associations WHERE id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct claim_locked, CLAIM_LOCKED_FIELDS));
/* every claim of an ID, locked (under the ID's lock) */
DB_STATEMENT(mpn_claims_of_id,
	     "SELECT id, tenant_id, mpn_id, status FROM mpn_associations WHERE mpn_id = ? "
	     "ORDER BY tenant_id FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct claim_locked, CLAIM_LOCKED_FIELDS));

DB_STATEMENT(mpn_claim_decide,
	     "UPDATE mpn_associations SET status = ?, decided_by = ?, decided_at = ?, reason = ? "
	     "WHERE id = ? AND status = 'pending_verification'",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME, DB_TEXT | DB_NULLABLE, DB_TEXT), DB_NO_ROW);

/* whom a rejection is mailed to: the enrolment's primary contact */
struct claim_contact {
	char first_name[401], email[255], language[3], company_name[801];
};
#define CLAIM_CONTACT_FIELDS(F, T)                                                                 \
	F(T, first_name, DB_TEXT)                                                                  \
	F(T, email, DB_TEXT) F(T, language, DB_TEXT) F(T, company_name, DB_TEXT)
DB_STATEMENT(mpn_claim_contact,
	     "SELECT e.contact_first_name AS first_name, e.contact_email AS email, "
	     "e.contact_language AS language, l.company_name FROM enrollments e "
	     "LEFT JOIN legal_profiles l ON l.tenant_id = e.tenant_id WHERE e.tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct claim_contact, CLAIM_CONTACT_FIELDS));

static const char *const claim_statuses[] = {"pending_verification", "verified", "rejected"};

bool mpn_association_status_valid(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof claim_statuses / sizeof claim_statuses[0]; i++)
		if (strcmp(claim_statuses[i], s) == 0)
			return true;
	return false;
}

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
		    struct mpn_association *claim, bool *has_claim)
{
	struct db_arg a[] = {db_text(tenant_id)};
	*has_claim = false;
	if (db_all(t, &mpn_identifier_list, a, (void **)items, n) != DB_OK)
		return -1;
	switch (db_one(t, &mpn_claim_of_tenant, a, claim)) {
	case DB_OK: *has_claim = true; return 0;
	case DB_EMPTY: return 0;
	default: return -1;
	}
}

static enum db_status id_lock(struct txn *t, const char *mpn_id, micros_t at)
{
	struct db_arg a[] = {db_text(mpn_id), db_time(at)};
	return db_exec(t, &mpn_id_lock, a, NULL);
}

/* The claim of the tenant into out; DB_OK, DB_EMPTY, DB_FAILED. */
static enum db_status claim_of_tenant(struct txn *t, const char *tenant_id,
				      struct mpn_association *out)
{
	struct db_arg k[] = {db_text(tenant_id)};
	return db_one(t, &mpn_claim_of_tenant, k, out);
}

static int mpn_id_taken(struct problem *p, const char *mpn_id)
{
	snprintf(p->code, sizeof p->code, "mpn_id_taken");
	return problem_set(p, PROBLEM_CONFLICT, "MPN ID %s is verified as another work account's",
			   mpn_id);
}

int mpn_associate(struct txn *t, const struct actor *a, const char *mpn_id,
		  struct mpn_association *out, struct problem *p)
{
	struct tenant_locked csp;
	struct mpn_identifier id;
	struct claim_locked *claims = NULL;
	size_t n = 0;
	char claim_id[UUID_STR];
	micros_t at = time_micros();
	int rc = -1;
	struct db_arg g[] = {db_text(a->tenant_id), db_text(mpn_id)};
	struct db_arg m[] = {db_text(mpn_id)};
	memset(out, 0, sizeof *out);
	/* the tenant row, locked: two claims of one tenant queue here */
	enum db_status st = tenant_lock(t, a->tenant_id, &csp);
	if (st == DB_FAILED)
		goto out;
	if (st == DB_EMPTY || csp.csp_country[0] == '\0') {
		snprintf(p->code, sizeof p->code, "not_enrolled");
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "the work account has no CSP country yet: enrol first "
			    "(POST /v1/enrollments)");
		goto out;
	}
	switch (db_one(t, &mpn_identifier_get, g, &id)) {
	case DB_OK: break;
	case DB_EMPTY:
		snprintf(p->code, sizeof p->code, "mpn_id_unknown");
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "MPN ID %s is not among the work account's IDs; add it first "
			    "(POST /v1/profiles/mpn/identifiers)",
			    mpn_id);
		goto out;
	default: goto out;
	}
	if (strcmp(id.country, csp.csp_country) != 0) {
		snprintf(p->code, sizeof p->code, "mpn_country_mismatch");
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "MPN ID %s is registered in %s, but the CSP country is %s; they must "
			    "be the same",
			    mpn_id, id.country, csp.csp_country);
		goto out;
	}
	/* F2: only a verified association of another tenant stands in the way;
	 * under the ID's lock no verification of it runs meanwhile */
	if (id_lock(t, mpn_id, at) != DB_OK ||
	    db_all(t, &mpn_claims_of_id, m, (void **)&claims, &n) != DB_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool mine = strcmp(claims[i].tenant_id, a->tenant_id) == 0;
		if (!mine && strcmp(claims[i].status, "verified") == 0) {
			mpn_id_taken(p, mpn_id);
			goto out;
		}
		/* the same claim again, waiting or verified: nothing changes */
		if (mine && strcmp(claims[i].status, "rejected") != 0) {
			rc = claim_of_tenant(t, a->tenant_id, out) == DB_OK ? 0 : -1;
			goto out;
		}
	}
	uuid_v7(claim_id);
	struct db_arg i[] = {db_text(claim_id), db_text(a->tenant_id), db_text(mpn_id),
			     db_time(at)};
	if (mpn_association_end(t, a->tenant_id, NULL) != DB_OK ||
	    db_exec(t, &mpn_association_insert, i, NULL) != DB_OK ||
	    audit_record(t, a, "mpn.associate", "mpn_association", claim_id, at) != DB_OK ||
	    claim_of_tenant(t, a->tenant_id, out) != DB_OK)
		goto out;
	rc = 0;
out:
	free(claims);
	return rc;
}

/* Rejects one claim (locked, waiting) with reason, audits it in its tenant
 * and mails its primary contact (a tenant that never enrolled has none). */
static enum db_status claim_reject(struct txn *t, const struct actor *op,
				   const struct claim_locked *c, const char *reason, micros_t at)
{
	struct claim_contact to;
	struct db_arg u[] = {db_text("rejected"), db_text(op->id), db_time(at), db_text(reason),
			     db_text(c->id)};
	struct db_arg k[] = {db_text(c->tenant_id)};
	enum db_status rc = db_exec(t, &mpn_claim_decide, u, NULL);
	if (rc == DB_OK)
		rc = audit_record_in(t, op, c->tenant_id, "mpn.association.reject",
				     "mpn_association", c->id, at);
	if (rc != DB_OK)
		return rc;
	if ((rc = db_one(t, &mpn_claim_contact, k, &to)) != DB_OK)
		return rc == DB_EMPTY ? DB_OK : rc;
	struct mail_var vars[] = {{"first_name", to.first_name},
				  {"company_name", to.company_name},
				  {"mpn_id", c->mpn_id},
				  {"reason", reason}};
	struct outbox_mail mail = {
	    c->tenant_id, MAIL_MPN_ASSOCIATION_REJECTED, to.language, to.email, vars, 4};
	return outbox_enqueue(t, &mail);
}

int mpn_association_decide(struct txn *t, const struct actor *operator_, const char *id,
			   enum mpn_decision d, const char *reason, struct mpn_association *out,
			   unsigned long long *released, struct problem *p)
{
	struct claim_locked c, *others = NULL;
	size_t n = 0;
	char why[160];
	micros_t at = time_micros();
	int rc = -1;
	struct db_arg k[] = {db_text(id)};
	memset(out, 0, sizeof *out);
	*released = 0;
	/* the ID's lock first, then the claim: a claim's order too. A claim
	 * replaced meanwhile by another of its tenant is gone. */
	switch (db_one(t, &mpn_claim_peek, k, &c)) {
	case DB_OK:
		if (id_lock(t, c.mpn_id, at) != DB_OK)
			goto out;
		break;
	case DB_EMPTY: break;
	default: goto out;
	}
	switch (db_one(t, &mpn_claim_lock, k, &c)) {
	case DB_OK: break;
	case DB_EMPTY:
		problem_set(p, PROBLEM_NOT_FOUND, "no MPN association with this id");
		goto out;
	default: goto out;
	}
	if (strcmp(c.status, "pending_verification") != 0) {
		snprintf(p->code, sizeof p->code, "invalid_transition");
		problem_set(p, PROBLEM_CONFLICT,
			    "the association is %s; only one pending_verification can be decided",
			    c.status);
		goto out;
	}
	if (d == MPN_DECISION_REJECT) {
		if (claim_reject(t, operator_, &c, reason, at) != DB_OK)
			goto out;
	} else {
		if (claim_of_tenant(t, c.tenant_id, out) != DB_OK)
			goto out;
		/* an unconfirmed contact says nothing of who claims the ID */
		if (!out->contact_verified) {
			snprintf(p->code, sizeof p->code, "contact_unverified");
			problem_set(p, PROBLEM_RULE_REFUSED,
				    "the work account's primary contact has not confirmed its "
				    "address yet; verify the MPN ID after it has");
			goto out;
		}
		struct db_arg m[] = {db_text(c.mpn_id)};
		struct db_arg u[] = {db_text("verified"), db_text(operator_->id), db_time(at),
				     db_text(reason), db_text(c.id)};
		if (db_all(t, &mpn_claims_of_id, m, (void **)&others, &n) != DB_OK)
			goto out;
		switch (db_exec(t, &mpn_claim_decide, u, NULL)) {
		case DB_OK: break;
		case DB_DUPLICATE: mpn_id_taken(p, c.mpn_id); goto out;
		default: goto out;
		}
		if (audit_record_in(t, operator_, c.tenant_id, "mpn.association.verify",
				    "mpn_association", c.id, at) != DB_OK)
			goto out;
		/* the ID is the verified tenant's: the other claims are released */
		snprintf(why, sizeof why, "MPN ID %s was verified as another work account's",
			 c.mpn_id);
		for (size_t i = 0; i < n; i++) {
			if (strcmp(others[i].id, c.id) == 0 ||
			    strcmp(others[i].status, "pending_verification") != 0)
				continue;
			if (claim_reject(t, operator_, &others[i], why, at) != DB_OK)
				goto out;
			(*released)++;
		}
	}
	/* the operator's own tenant keeps its record of the decision too */
	if (audit_record(t, operator_, "mpn.association.decide", "mpn_association", c.id, at) !=
		DB_OK ||
	    claim_of_tenant(t, c.tenant_id, out) != DB_OK)
		goto out;
	rc = 0;
out:
	free(others);
	return rc;
}

enum db_status mpn_association_end(struct txn *t, const char *tenant_id,
				   unsigned long long *dropped)
{
	struct db_arg a[] = {db_text(tenant_id)};
	return db_exec(t, &mpn_association_delete, a, dropped);
}
