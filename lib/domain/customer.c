#include "domain/customer.h"

#include "auth/auth.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/problem.h"
#include "domain/agreement.h"
#include "domain/provider.h"
#include "domain/tenant.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* name: the legal name if it has one, else the work account's */
#define NAME(t, l) "COALESCE(" l ".company_name, " t ".display_name)"

/* ---- the provider-reseller relationship an invitation goes through ---- */

/* The pair's names and domains, the reseller's CSP region and the region
 * of the country a customer is invited in ("" where none). */
struct pair_names {
	char reseller_region[65], country_region[65];
	char reseller_name[801], reseller_domain[254], provider_name[801], provider_domain[254];
};
#define PAIR_NAMES_FIELDS(F, T)                                                                    \
	F(T, reseller_region, DB_TEXT)                                                             \
	F(T, country_region, DB_TEXT)                                                              \
	F(T, reseller_name, DB_TEXT)                                                               \
	F(T, reseller_domain, DB_TEXT) F(T, provider_name, DB_TEXT) F(T, provider_domain, DB_TEXT)

/* a plain read: names and regions are never what a change relies on */
DB_STATEMENT(
    customer_pair_names,
    "SELECT c.region_code AS reseller_region, (SELECT x.region_code FROM countries x "
    "WHERE x.code = ?) AS country_region, " NAME(
	"rt", "rl") " AS reseller_name, "
		    "rt.domain AS reseller_domain, " NAME(
			"pt",
			"pl") " AS provider_name, "
			      "pt.domain AS provider_domain FROM relationships r "
			      "JOIN tenants rt ON rt.id = r.reseller_tenant_id "
			      "LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id "
			      "LEFT JOIN countries c ON c.code = rt.csp_country "
			      "JOIN tenants pt ON pt.id = r.provider_tenant_id "
			      "LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id WHERE r.id = ?",
    DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct pair_names, PAIR_NAMES_FIELDS));

/* ---- invitations ---- */

DB_STATEMENT(
    customer_invitation_insert,
    "INSERT INTO customer_invitations (id, relationship_id, reseller_tenant_id, "
    "provider_tenant_id, customer_email, customer_domain, company_name, country, language, "
    "token_hash, expires_at, created_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
	      DB_TEXT, DB_TIME, DB_TEXT, DB_TIME),
    DB_NO_ROW);

/* a pending invitation past its expiry reads as expired */
#define INVITATION_STATE                                                                           \
	"IF(i.state = 'pending' AND i.expires_at <= UTC_TIMESTAMP(6), 'expired', i.state) AS "     \
	"state"

/* hint: an index hint for the invitations, or "" */
#define INVITATION_SELECT_USING(hint)                                                              \
	"SELECT i.id, i.relationship_id, i.reseller_tenant_id, " NAME(                             \
	    "rt", "rl") " AS reseller_name, rt.domain AS reseller_domain, "                        \
			"i.provider_tenant_id, " NAME("pt",                                        \
						      "pl") " AS provider_name, pt.domain AS "     \
							    "provider_domain, i.customer_email, "  \
							    "i.company_name, "                     \
							    "i.country, "                          \
							    "i.language, " INVITATION_STATE        \
							    ", i.expires_at, i.created_at, "       \
							    "i.created_by, "                       \
							    "i.customer_tenant_id FROM "           \
							    "customer_invitations i " hint         \
							    "JOIN tenants rt ON rt.id = "          \
							    "i.reseller_tenant_id "                \
							    "LEFT JOIN legal_profiles rl ON "      \
							    "rl.tenant_id = rt.id "                \
							    "JOIN tenants pt ON pt.id = "          \
							    "i.provider_tenant_id "                \
							    "LEFT JOIN legal_profiles pl ON "      \
							    "pl.tenant_id = pt.id "
#define INVITATION_SELECT INVITATION_SELECT_USING("")
#define INVITATION_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, reseller.tenant_id, DB_TEXT)                                                          \
	F(T, reseller.name, DB_TEXT)                                                               \
	F(T, reseller.domain, DB_TEXT)                                                             \
	F(T, provider.tenant_id, DB_TEXT)                                                          \
	F(T, provider.name, DB_TEXT)                                                               \
	F(T, provider.domain, DB_TEXT)                                                             \
	F(T, customer_email, DB_TEXT)                                                              \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, country, DB_TEXT)                                                                     \
	F(T, language, DB_TEXT)                                                                    \
	F(T, state, DB_TEXT)                                                                       \
	F(T, expires_at, DB_TIME)                                                                  \
	F(T, created_at, DB_TIME) F(T, created_by, DB_TEXT) F(T, customer_tenant_id, DB_TEXT)

DB_STATEMENT(customer_invitation_row, INVITATION_SELECT "WHERE i.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct customer_invitation, INVITATION_FIELDS));

DB_STATEMENT(customer_invitation_list,
	     INVITATION_SELECT_USING(DB_LIST_INDEX(
		 "ix_customer_invitations_relationship")) "WHERE i.relationship_id = ? AND i.id > "
							  "? ORDER BY i.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct customer_invitation, INVITATION_FIELDS));
DB_STATEMENT(customer_invitation_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_invitations i "
	     "WHERE i.relationship_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page customer_invitation_page = {.list = &customer_invitation_list,
						 .count = &customer_invitation_count,
						 .n_keys = 1,
						 .cursor_offset =
						     offsetof(struct customer_invitation, id)};

/* addressed to the tenant's domain */
#define RECEIVED "i.customer_domain = (SELECT d.domain FROM tenants d WHERE d.id = ?) "
DB_STATEMENT(customer_invitation_received_list,
	     INVITATION_SELECT_USING(DB_LIST_INDEX(
		 "ix_customer_invitations_domain")) "WHERE " RECEIVED
						    "AND i.id > ? ORDER BY i.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct customer_invitation, INVITATION_FIELDS));
DB_STATEMENT(customer_invitation_received_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_invitations i WHERE " RECEIVED
	     "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page customer_invitation_received_page = {
    .list = &customer_invitation_received_list,
    .count = &customer_invitation_received_count,
    .n_keys = 1,
    .cursor_offset = offsetof(struct customer_invitation, id)};

/* What a change of an invitation needs of it. */
struct invitation_lock_row {
	char state[16], token_hash[65], customer_domain[254], relationship_id[UUID_STR];
	char reseller_tenant_id[UUID_STR], provider_tenant_id[UUID_STR];
	char company_name[801], country[3];
};
#define INVITATION_LOCK_FIELDS(F, T)                                                               \
	F(T, state, DB_TEXT)                                                                       \
	F(T, token_hash, DB_TEXT)                                                                  \
	F(T, customer_domain, DB_TEXT)                                                             \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, provider_tenant_id, DB_TEXT) F(T, company_name, DB_TEXT) F(T, country, DB_TEXT)

/* the invitation alone: locking it must not lock the tenants it names */
DB_STATEMENT(customer_invitation_lock,
	     "SELECT " INVITATION_STATE ", i.token_hash, i.customer_domain, i.relationship_id, "
	     "i.reseller_tenant_id, i.provider_tenant_id, i.company_name, i.country "
	     "FROM customer_invitations i WHERE i.id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct invitation_lock_row, INVITATION_LOCK_FIELDS));

DB_STATEMENT(customer_invitation_set_state,
	     "UPDATE customer_invitations SET state = ?, changed_at = ?, customer_tenant_id = ? "
	     "WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_TIME, DB_TEXT | DB_NULLABLE, DB_TEXT), DB_NO_ROW);

/* ---- the customer's relationships with its partners ---- */

DB_STATEMENT(customer_relationship_insert,
	     "INSERT INTO customer_relationships (id, customer_tenant_id, partner_tenant_id, "
	     "partner_type, company_name, country, invitation_id, created_by, created_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_TIME),
	     DB_NO_ROW);

struct id_row {
	char id[UUID_STR];
};
#define ID_FIELDS(F, T) F(T, id, DB_TEXT)

/* the customer's active relationship with a partner, read-locked: an order
 * that relies on it commits before the relationship can end */
DB_STATEMENT(customer_relationship_active,
	     "SELECT id FROM customer_relationships WHERE customer_tenant_id = ? AND "
	     "partner_tenant_id = ? AND active = 1 LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct id_row, ID_FIELDS));

/* A customer relationship's columns, each named P + its field (P: the
 * path of the struct customer_relationship in the row's struct). */
#define RELATIONSHIP_COLUMNS(P)                                                                    \
	"cr.id AS " P "id, cr.customer_tenant_id AS " P "customer_tenant_id, "                     \
	"cr.partner_tenant_id AS " P "partner_tenant_id, " NAME(                                   \
	    "pt", "pl") " AS " P "partner_name, pt.domain AS " P                                   \
			"partner_domain, cr.partner_type AS " P "partner_type, "                   \
			"cr.company_name AS " P "company_name, cr.country AS " P                   \
			"country, cr.state AS " P "state, cr.invitation_id AS " P                  \
			"invitation_id, cr.created_at AS " P "created_at, "                        \
			"cr.ended_at AS " P "ended_at, cr.ended_by AS " P                          \
			"ended_by, cr.version AS " P "version "
/* hint: an index hint for the customer relationships, or "" */
#define RELATIONSHIP_FROM_USING(hint)                                                              \
	"FROM customer_relationships cr " hint "JOIN tenants pt ON pt.id = cr.partner_tenant_id "  \
	"LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "
#define RELATIONSHIP_FROM RELATIONSHIP_FROM_USING("")
#define RELATIONSHIP_FIELDS(F, T)                                                                  \
	F(T, id, DB_TEXT)                                                                          \
	F(T, customer_tenant_id, DB_TEXT)                                                          \
	F(T, partner.tenant_id, DB_TEXT)                                                           \
	F(T, partner.name, DB_TEXT)                                                                \
	F(T, partner.domain, DB_TEXT)                                                              \
	F(T, partner_type, DB_TEXT)                                                                \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, country, DB_TEXT)                                                                     \
	F(T, state, DB_TEXT)                                                                       \
	F(T, invitation_id, DB_TEXT)                                                               \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, ended_at, DB_TIME) F(T, ended_by, DB_TEXT) F(T, version, DB_INT)

DB_STATEMENT(customer_relationship_row,
	     "SELECT " RELATIONSHIP_COLUMNS("") RELATIONSHIP_FROM "WHERE cr.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct customer_relationship, RELATIONSHIP_FIELDS));

DB_STATEMENT(customer_relationship_list,
	     "SELECT " RELATIONSHIP_COLUMNS("") RELATIONSHIP_FROM_USING(DB_LIST_INDEX(
		 "ix_customer_relationships_customer")) "WHERE cr.customer_tenant_id = ? AND cr.id "
							"> ? ORDER BY cr.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct customer_relationship, RELATIONSHIP_FIELDS));
DB_STATEMENT(customer_relationship_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_relationships cr "
	     "WHERE cr.customer_tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page customer_relationship_page = {.list = &customer_relationship_list,
						   .count = &customer_relationship_count,
						   .n_keys = 1,
						   .cursor_offset =
						       offsetof(struct customer_relationship, id)};

struct relationship_lock_row {
	char partner_tenant_id[UUID_STR], state[8];
};
#define RELATIONSHIP_LOCK_FIELDS(F, T) F(T, partner_tenant_id, DB_TEXT) F(T, state, DB_TEXT)
DB_STATEMENT(customer_relationship_lock,
	     "SELECT partner_tenant_id, state FROM customer_relationships WHERE id = ? AND "
	     "customer_tenant_id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT),
	     DB_ROW(struct relationship_lock_row, RELATIONSHIP_LOCK_FIELDS));

/* What the partners are told of an ended customer relationship: the
 * relationship its invitation came through, the customer's name as
 * invited, and the partner it ended with. */
struct ended_notice_row {
	char relationship_id[UUID_STR], company_name[801], partner_name[801];
};
#define ENDED_NOTICE_FIELDS(F, T)                                                                  \
	F(T, relationship_id, DB_TEXT) F(T, company_name, DB_TEXT) F(T, partner_name, DB_TEXT)
DB_STATEMENT(customer_relationship_notice,
	     "SELECT i.relationship_id, i.company_name, COALESCE(pl.company_name, "
	     "pt.display_name) AS partner_name FROM customer_relationships cr "
	     "JOIN customer_invitations i ON i.id = cr.invitation_id "
	     "JOIN tenants pt ON pt.id = cr.partner_tenant_id "
	     "LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id WHERE cr.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct ended_notice_row, ENDED_NOTICE_FIELDS));

/* An end clears the active key before it takes its time: orders read the
 * row through uq_customer_relationships_active, which covers what they
 * need, so their shared locks are on that index's entry, not on the row
 * the lock above took; this UPDATE, which moves the entry, waits for them,
 * and the time taken after it is after every order that relied on it. */
DB_STATEMENT(customer_relationship_set_ended,
	     "UPDATE customer_relationships SET state = 'ended', active = NULL, ended_by = ?, "
	     "version = version + 1 WHERE id = ? AND state = 'active'",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(customer_relationship_ended_at,
	     "UPDATE customer_relationships SET ended_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

/* whether the tenant is, or was, a partner of the customer */
DB_STATEMENT(customer_partner_known,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_relationships WHERE "
	     "customer_tenant_id = ? AND partner_tenant_id = ? LIMIT 1) k",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);

/* ---- a partner's customers ---- */

/* the customer and the partner's relationship with it */
#define CUSTOMER_SELECT                                                                            \
	"SELECT " RELATIONSHIP_COLUMNS(                                                            \
	    "relationship_") ", cr.customer_tenant_id AS id, "                                     \
			     "ct.domain AS domain " RELATIONSHIP_FROM_USING(DB_LIST_INDEX(         \
				 "ix_customer_relationships_partner")) "JOIN tenants ct ON ct.id " \
								       "= "                        \
								       "cr.customer_tenant_id "
#define CUSTOMER_FIELDS(F, T)                                                                      \
	F(T, relationship.id, DB_TEXT)                                                             \
	F(T, relationship.customer_tenant_id, DB_TEXT)                                             \
	F(T, relationship.partner.tenant_id, DB_TEXT)                                              \
	F(T, relationship.partner.name, DB_TEXT)                                                   \
	F(T, relationship.partner.domain, DB_TEXT)                                                 \
	F(T, relationship.partner_type, DB_TEXT)                                                   \
	F(T, relationship.company_name, DB_TEXT)                                                   \
	F(T, relationship.country, DB_TEXT)                                                        \
	F(T, relationship.state, DB_TEXT)                                                          \
	F(T, relationship.invitation_id, DB_TEXT)                                                  \
	F(T, relationship.created_at, DB_TIME)                                                     \
	F(T, relationship.ended_at, DB_TIME)                                                       \
	F(T, relationship.ended_by, DB_TEXT)                                                       \
	F(T, relationship.version, DB_INT) F(T, id, DB_TEXT) F(T, domain, DB_TEXT)

/* the partner's active customers, through the index (partner_tenant_id,
 * active, customer_tenant_id) */
#define PARTNER_ACTIVE "cr.partner_tenant_id = ? AND cr.active = 1 "
/* of them, those that another partner has too */
#define SHARED                                                                                     \
	"AND EXISTS (SELECT 1 FROM customer_relationships o WHERE "                                \
	"o.customer_tenant_id = cr.customer_tenant_id AND o.partner_tenant_id = ? AND "            \
	"o.active = 1) "

DB_STATEMENT(customer_list,
	     CUSTOMER_SELECT "WHERE " PARTNER_ACTIVE
			     "AND cr.customer_tenant_id > ? ORDER BY cr.customer_tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct customer, CUSTOMER_FIELDS));
DB_STATEMENT(customer_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_relationships cr "
	     "WHERE " PARTNER_ACTIVE "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

DB_STATEMENT(customer_list_shared,
	     CUSTOMER_SELECT "WHERE " PARTNER_ACTIVE SHARED
			     "AND cr.customer_tenant_id > ? ORDER BY cr.customer_tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct customer, CUSTOMER_FIELDS));
DB_STATEMENT(customer_count_shared,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_relationships cr "
	     "WHERE " PARTNER_ACTIVE SHARED "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW_COUNT);

/* of them, those that accepted the partner (the reseller) together with
 * the provider acting for it */
#define TOGETHER                                                                                   \
	"AND EXISTS (SELECT 1 FROM customer_invitations ci WHERE ci.customer_tenant_id = "         \
	"cr.customer_tenant_id AND ci.state = 'accepted' AND ci.provider_tenant_id = ? AND "       \
	"ci.reseller_tenant_id = cr.partner_tenant_id) "

DB_STATEMENT(customer_list_delegated,
	     CUSTOMER_SELECT "WHERE " PARTNER_ACTIVE SHARED TOGETHER
			     "AND cr.customer_tenant_id > ? ORDER BY cr.customer_tenant_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct customer, CUSTOMER_FIELDS));
DB_STATEMENT(customer_count_delegated,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_relationships cr "
	     "WHERE " PARTNER_ACTIVE SHARED TOGETHER "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT), DB_ROW_COUNT);
const struct db_page customer_page_delegated = {.list = &customer_list_delegated,
						.count = &customer_count_delegated,
						.n_keys = 3,
						.cursor_offset = offsetof(struct customer, id)};

const struct db_page customer_page = {.list = &customer_list,
				      .count = &customer_count,
				      .n_keys = 1,
				      .cursor_offset = offsetof(struct customer, id)};
const struct db_page customer_page_shared = {.list = &customer_list_shared,
					     .count = &customer_count_shared,
					     .n_keys = 2,
					     .cursor_offset = offsetof(struct customer, id)};

/* the partner's newest relationship with the customer, the active one
 * first */
DB_STATEMENT(customer_row,
	     CUSTOMER_SELECT "WHERE cr.partner_tenant_id = ? AND cr.customer_tenant_id = ? "
			     "ORDER BY cr.active DESC, cr.id DESC LIMIT 1",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct customer, CUSTOMER_FIELDS));
DB_STATEMENT(customer_row_delegated,
	     CUSTOMER_SELECT "WHERE " PARTNER_ACTIVE SHARED TOGETHER
			     "AND cr.customer_tenant_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct customer, CUSTOMER_FIELDS));

/* ---- helpers ---- */

/* A row this transaction locked or wrote: its absence is the program's
 * error (500), not the caller's. DB_OK or DB_FAILED. */
static enum db_status must_read(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
				void *row)
{
	enum db_status rc = db_one(t, s, args, row);
	return rc == DB_EMPTY ? txn_abort(t) : rc;
}

/* A row of a new id and token: a duplicate is the program's error too. */
static enum db_status insert_new(struct txn *t, const struct db_stmt *s, const struct db_arg *args)
{
	enum db_status rc = db_exec(t, s, args, NULL);
	return rc == DB_DUPLICATE ? txn_abort(t) : rc;
}

/* ---- invitations ---- */

int customer_invitation_create(struct txn *t, const struct actor *a,
			       const struct customer_invitation_new *in,
			       struct customer_invitation *out, struct problem *p)
{
	struct relationship_pair pair;
	struct pair_names names;
	char id[UUID_STR], token[LINK_TOKEN_LEN + 1], hash[65], link[512];
	micros_t at = time_micros();
	int rc = -1;
	memset(out, 0, sizeof *out);
	switch (relationship_pair_lock(t, in->relationship_id, a->tenant_id, &pair)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this work account",
				   in->relationship_id);
	default: return -1;
	}
	/* the customers are the reseller's: a provider invites them in the
	 * reseller's work account, as its delegated admin */
	if (strcmp(pair.reseller_tenant_id, a->tenant_id) != 0) {
		snprintf(p->code, sizeof p->code, "delegation_required");
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "a provider invites the reseller's customers through its "
				   "delegated admin access: send On-Behalf-Of-Tenant: %s",
				   pair.reseller_tenant_id);
	}
	if (a->delegated_from != NULL && strcmp(a->delegated_from, pair.provider_tenant_id) != 0) {
		snprintf(p->code, sizeof p->code, "other_relationship");
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "delegated access admits inviting customers through its own "
				   "relationship only");
	}
	if (strcmp(pair.state, "active") != 0) {
		snprintf(p->code, sizeof p->code, "relationship_not_active");
		return problem_set(p, PROBLEM_RULE_REFUSED, "the relationship %s has ended",
				   in->relationship_id);
	}
	struct db_arg n[] = {db_text(in->country), db_text(in->relationship_id)};
	if (agreement_require_signed(t, a->tenant_id, p) != 0 ||
	    must_read(t, &customer_pair_names, n, &names) != DB_OK)
		return -1;
	if (names.reseller_region[0] == '\0' ||
	    strcmp(names.country_region, names.reseller_region) != 0) {
		snprintf(p->code, sizeof p->code, "country_not_in_region");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "%s is not in the reseller's CSP region %.64s", in->country,
				   names.reseller_region[0] ? names.reseller_region : "(none)");
	}
	const char *domain = strrchr(in->customer_email, '@') + 1;
	if (strcmp(domain, names.reseller_domain) == 0 ||
	    strcmp(domain, names.provider_domain) == 0) {
		snprintf(p->code, sizeof p->code, "own_domain");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "a customer is another work account than the reseller's and the "
				   "provider's");
	}
	uuid_v7(id);
	link_token_generate(token, hash);
	struct db_arg ins[] = {db_text(id),
			       db_text(in->relationship_id),
			       db_text(a->tenant_id),
			       db_text(pair.provider_tenant_id),
			       db_text(in->customer_email),
			       db_text(domain),
			       db_text(in->company_name),
			       db_text(in->country),
			       db_text(in->language),
			       db_text(hash),
			       db_time(time_micros_after(in->ttl_seconds)),
			       db_text(a->id),
			       db_time(at)};
	if (insert_new(t, &customer_invitation_insert, ins) != DB_OK)
		goto out;
	snprintf(link, sizeof link, "%s/accept-customer-invitation?invitation=%s&token=%s",
		 in->public_base_url, id, token);
	struct mail_var vars[] = {{"company_name", names.reseller_name},
				  {"provider_name", names.provider_name},
				  {"link", link}};
	struct outbox_mail m = {
	    a->tenant_id, MAIL_CUSTOMER_INVITATION, in->language, in->customer_email, vars, 3};
	if (outbox_enqueue(t, &m) != DB_OK || audit_record(t, a, "customer_invitation.create",
							   "customer_invitation", id, at) != DB_OK)
		goto out;
	/* the provider's log has it already when its admin sent it */
	if (a->delegated_from == NULL &&
	    audit_record_in(t, a, pair.provider_tenant_id, "customer_invitation.create",
			    "customer_invitation", id, at) != DB_OK)
		goto out;
	struct db_arg g[] = {db_text(id)};
	if (must_read(t, &customer_invitation_row, g, out) == DB_OK)
		rc = 0;
out:
	sodium_memzero(token, sizeof token);
	return rc;
}

int customer_pair_other(struct txn *t, const char *tenant_id, const char *delegated_from,
			const char *relationship_id, char other[UUID_STR], struct problem *p)
{
	struct relationship_pair s;
	switch (relationship_pair_get(t, relationship_id, tenant_id, &s)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this work account",
				   relationship_id);
	default: return -1;
	}
	/* a provider acting for the reseller sees what goes through its own
	 * relationship, not the reseller's with other providers */
	if (delegated_from != NULL && strcmp(s.provider_tenant_id, delegated_from) != 0) {
		snprintf(p->code, sizeof p->code, "other_relationship");
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "delegated access admits the provider's own relationship only");
	}
	memcpy(other,
	       strcmp(s.provider_tenant_id, tenant_id) == 0 ? s.reseller_tenant_id
							    : s.provider_tenant_id,
	       UUID_STR);
	return 0;
}

int customer_invitation_withdraw(struct txn *t, const struct actor *a, const char *id,
				 struct problem *p)
{
	struct invitation_lock_row inv;
	struct db_arg g[] = {db_text(id)};
	enum db_status rc = db_one(t, &customer_invitation_lock, g, &inv);
	if (rc == DB_FAILED)
		return -1;
	if (rc == DB_EMPTY || strcmp(inv.reseller_tenant_id, a->tenant_id) != 0)
		return problem_set(p, PROBLEM_NOT_FOUND,
				   "no customer invitation %s of this work account", id);
	if (a->delegated_from != NULL && strcmp(a->delegated_from, inv.provider_tenant_id) != 0) {
		snprintf(p->code, sizeof p->code, "other_relationship");
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "delegated access admits the provider's own invitations only");
	}
	if (strcmp(inv.state, "accepted") == 0) {
		snprintf(p->code, sizeof p->code, "invitation_accepted");
		return problem_set(p, PROBLEM_CONFLICT,
				   "the customer accepted the invitation already");
	}
	if (strcmp(inv.state, "withdrawn") == 0)
		return 0; /* idempotent */
	micros_t at = time_micros();
	struct db_arg u[] = {db_text("withdrawn"), db_time(at), db_null(), db_text(id)};
	if (db_exec(t, &customer_invitation_set_state, u, NULL) != DB_OK ||
	    audit_record(t, a, "customer_invitation.withdraw", "customer_invitation", id, at) !=
		DB_OK)
		return -1;
	/* the provider's log has it already when its admin withdrew it */
	if (a->delegated_from == NULL &&
	    audit_record_in(t, a, inv.provider_tenant_id, "customer_invitation.withdraw",
			    "customer_invitation", id, at) != DB_OK)
		return -1;
	return 0;
}

/* The customer's active relationship with partner into id: the one
 * standing, or one made now from the invitation (*made). DB_OK or
 * DB_FAILED. */
static enum db_status relationship_make(struct txn *t, const struct actor *a, const char *partner,
					const char *partner_type, const char *invitation_id,
					const struct invitation_lock_row *inv, micros_t at,
					char id[UUID_STR], bool *made)
{
	struct id_row row;
	struct db_arg f[] = {db_text(a->tenant_id), db_text(partner)};
	enum db_status rc;
	*made = false;
	/* Another invitation's acceptance may make it meanwhile: the insert
	 * waits for that one to commit and is a duplicate, and the locking
	 * read sees its row then; unless it was ended again since, when the
	 * insert goes through the second time. */
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = db_one(t, &customer_relationship_active, f, &row);
		if (rc == DB_OK) {
			memcpy(id, row.id, UUID_STR);
			return DB_OK;
		}
		if (rc != DB_EMPTY)
			return rc;
		uuid_v7(id);
		struct db_arg ins[] = {db_text(id),
				       db_text(a->tenant_id),
				       db_text(partner),
				       db_text(partner_type),
				       db_text(inv->company_name),
				       db_text(inv->country),
				       db_text(invitation_id),
				       db_text(a->id),
				       db_time(at)};
		rc = db_exec(t, &customer_relationship_insert, ins, NULL);
		if (rc != DB_DUPLICATE) {
			*made = rc == DB_OK;
			return rc;
		}
	}
	log_msg(LOG_ERROR, "customer relationship %s-%s made and ended twice meanwhile",
		a->tenant_id, partner);
	return txn_abort(t);
}

int customer_invitation_accept(struct txn *t, const struct actor *a, const char *id,
			       const char *token, struct customer_acceptance *out,
			       struct problem *p)
{
	char domain[254];
	struct invitation_lock_row inv;
	struct relationship_pair pair;
	bool serves = false;
	char hash[65], reseller_cr[UUID_STR], provider_cr[UUID_STR];
	bool made_reseller = false, made_provider = false;
	struct db_arg g[] = {db_text(id)};
	enum db_status rc;
	memset(out, 0, sizeof *out);
	api_token_hash(token, hash);
	/* the accepting tenant's domain, which the invitation must be
	 * addressed to */
	if ((rc = tenant_domain(t, a->tenant_id, domain)) == DB_OK)
		rc = db_one(t, &customer_invitation_lock, g, &inv);
	if (rc == DB_FAILED)
		return -1;
	/* unknown, another's, or a wrong token: one answer */
	if (rc == DB_EMPTY || strcmp(inv.customer_domain, domain) != 0 ||
	    sodium_memcmp(inv.token_hash, hash, 64) != 0) {
		snprintf(p->code, sizeof p->code, "invitation_not_found");
		return problem_set(
		    p, PROBLEM_NOT_FOUND,
		    "no customer invitation %s with this token for this work account", id);
	}
	if (strcmp(inv.state, "accepted") == 0 || strcmp(inv.state, "withdrawn") == 0) {
		snprintf(p->code, sizeof p->code, "%s",
			 strcmp(inv.state, "accepted") == 0 ? "invitation_accepted"
							    : "invitation_withdrawn");
		return problem_set(p, PROBLEM_CONFLICT, "the invitation is %s", inv.state);
	}
	if (strcmp(inv.state, "expired") == 0) {
		snprintf(p->code, sizeof p->code, "invitation_expired");
		return problem_set(p, PROBLEM_GONE,
				   "the invitation expired; ask the reseller for a new one");
	}
	rc = relationship_pair_lock(t, inv.relationship_id, inv.reseller_tenant_id, &pair);
	if (rc == DB_FAILED)
		return -1;
	if (rc == DB_EMPTY || strcmp(pair.state, "active") != 0) {
		snprintf(p->code, sizeof p->code, "relationship_not_active");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the reseller's relationship with the provider has ended");
	}
	micros_t at = time_micros();
	if (relationship_make(t, a, inv.reseller_tenant_id, "indirect_reseller", id, &inv, at,
			      reseller_cr, &made_reseller) != DB_OK)
		return -1;
	/* a crash here must leave neither relationship */
	fault_point("customer.between_relationships");
	/* the operator may have changed the provider's regions since */
	if (provider_serves_country(t, inv.provider_tenant_id, inv.country, &serves) != DB_OK)
		return -1;
	if (!serves) {
		snprintf(p->code, sizeof p->code, "region_not_authorized");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the provider is no longer authorized in the region of %s: "
				   "neither relationship was made",
				   inv.country);
	}
	if (relationship_make(t, a, inv.provider_tenant_id, "indirect_provider", id, &inv, at,
			      provider_cr, &made_provider) != DB_OK)
		return -1;
	if (!made_reseller && !made_provider) {
		snprintf(p->code, sizeof p->code, "customer_relationships_exist");
		return problem_set(p, PROBLEM_CONFLICT,
				   "this work account is a customer of the reseller and of the "
				   "provider already");
	}
	struct db_arg u[] = {db_text("accepted"), db_time(at), db_text(a->tenant_id), db_text(id)};
	struct db_arg rr[] = {db_text(reseller_cr)}, pr[] = {db_text(provider_cr)};
	if (db_exec(t, &customer_invitation_set_state, u, NULL) != DB_OK ||
	    audit_record_three(t, a, inv.reseller_tenant_id, inv.provider_tenant_id,
			       "customer_invitation.accept", "customer_invitation", id,
			       at) != DB_OK ||
	    must_read(t, &customer_invitation_row, g, &out->invitation) != DB_OK ||
	    must_read(t, &customer_relationship_row, rr, &out->reseller) != DB_OK ||
	    must_read(t, &customer_relationship_row, pr, &out->provider) != DB_OK ||
	    relationship_notify(t, inv.relationship_id, MAIL_RELATIONSHIP_CUSTOMER_ACCEPTED,
				RELATIONSHIP_PROVIDER | RELATIONSHIP_RESELLER, inv.company_name,
				NULL, 0) != 0)
		return -1;
	return 0;
}

/* ---- relationships and customers ---- */

int customer_relationship_end(struct txn *t, const struct actor *a, const char *id,
			      struct customer_relationship *out, bool *changed, struct problem *p)
{
	struct relationship_lock_row row;
	unsigned long long ended = 0;
	struct db_arg g[] = {db_text(id), db_text(a->tenant_id)};
	*changed = false;
	switch (db_one(t, &customer_relationship_lock, g, &row)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND,
				   "no customer relationship %s of this work account", id);
	default: return -1;
	}
	struct db_arg u[] = {db_text(a->id), db_text(id)};
	struct db_arg k[] = {db_text(id)};
	if (db_exec(t, &customer_relationship_set_ended, u, &ended) != DB_OK)
		return -1;
	/* now that the orders relying on it are done */
	micros_t at = time_micros();
	struct db_arg e[] = {db_time(at), db_text(id)};
	if ((ended == 1 && db_exec(t, &customer_relationship_ended_at, e, NULL) != DB_OK) ||
	    must_read(t, &customer_relationship_row, k, out) != DB_OK)
		return -1;
	*changed = ended == 1;
	if (ended == 0)
		return 0; /* ended already: idempotent */
	if (audit_record(t, a, "customer_relationship.end", "customer_relationship", id, at) !=
		DB_OK ||
	    audit_record_in(t, a, row.partner_tenant_id, "customer_relationship.end",
			    "customer_relationship", id, at) != DB_OK)
		return -1;
	/* both partners of the customer hear of it */
	struct ended_notice_row n;
	if (must_read(t, &customer_relationship_notice, k, &n) != DB_OK)
		return -1;
	struct mail_var partner[] = {{"partner_name", n.partner_name}};
	return relationship_notify(t, n.relationship_id, MAIL_RELATIONSHIP_CUSTOMER_ENDED,
				   RELATIONSHIP_PROVIDER | RELATIONSHIP_RESELLER, n.company_name,
				   partner, 1);
}

int customer_require_partner(struct txn *t, const char *customer_id, const char *tenant_id,
			     struct problem *p)
{
	struct db_count known;
	struct db_arg k[] = {db_text(customer_id), db_text(tenant_id)};
	if (must_read(t, &customer_partner_known, k, &known) != DB_OK)
		return -1;
	if (known.n == 0)
		return problem_set(p, PROBLEM_NOT_FOUND, "no customer %s of this work account",
				   customer_id);
	return 0;
}

int customer_get(struct txn *t, const char *partner_tenant_id, const char *via_provider,
		 const char *customer_id, struct customer *out, struct problem *p)
{
	struct db_arg g[] = {db_text(partner_tenant_id), db_text(customer_id)};
	struct db_arg d[] = {db_text(partner_tenant_id), db_text(via_provider),
			     db_text(via_provider), db_text(customer_id)};
	switch (via_provider != NULL ? db_one(t, &customer_row_delegated, d, out)
				     : db_one(t, &customer_row, g, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no customer %s of this work account",
				   customer_id);
	default: return -1;
	}
}
