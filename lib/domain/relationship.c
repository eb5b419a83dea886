#include "domain/relationship.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "domain/access_assignment.h"
#include "domain/enrollment.h"
#include "domain/provider.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* access_roles (relationships, relationship_invitations) is a SET whose
 * members start at admin_agent, one bit later than enum auth_role: it is
 * read as `(access_roles + 0) << 1` and written as `? >> 1`. */

/* A party's name: the legal name if it has one, else the work account's;
 * of tenant t with legal profile l, and of a relationship's provider (pt,
 * pl) and reseller (rt, rl). */
#define NAME_OF_T	   "COALESCE(l.company_name, t.display_name)"
#define NAME_OF_PT	   "COALESCE(pl.company_name, pt.display_name)"
#define NAME_OF_RT	   "COALESCE(rl.company_name, rt.display_name)"
#define PARTY_FIELDS(F, T) F(T, tenant_id, DB_TEXT) F(T, name, DB_TEXT) F(T, domain, DB_TEXT)

/* ---- invitations ---- */

/* A provider as a side of an invitation or a relationship (struct party:
 * the name a relationship shows), or nothing when the tenant is not one. */
DB_STATEMENT(relationship_provider_of,
	     "SELECT p.tenant_id, " NAME_OF_T " AS name, t.domain FROM providers p "
	     "JOIN tenants t ON t.id = p.tenant_id "
	     "LEFT JOIN legal_profiles l ON l.tenant_id = t.id WHERE p.tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct party, PARTY_FIELDS));

DB_STATEMENT(relationship_invitation_insert,
	     "INSERT INTO relationship_invitations (id, provider_tenant_id, reseller_email, "
	     "reseller_domain, message, access_roles, access_ends_at, token_hash, expires_at, "
	     "created_by, created_at) VALUES (?, ?, ?, ?, ?, ? >> 1, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT | DB_NULLABLE, DB_INT, DB_TIME,
		       DB_TEXT, DB_TIME, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

/* a pending invitation past its expiry reads as expired */
#define INVITATION_STATE                                                                           \
	"IF(i.state = 'pending' AND i.expires_at <= UTC_TIMESTAMP(6), 'expired', i.state) "        \
	"AS state"

/* hint: an index hint for the invitations, or "" */
#define INVITATION_SELECT_USING(hint)                                                              \
	"SELECT i.id, i.provider_tenant_id, " NAME_OF_T " AS provider_name, "                      \
	"t.domain AS provider_domain, i.reseller_email, i.message, "                               \
	"(i.access_roles + 0) << 1 AS access_roles, i.access_ends_at, " INVITATION_STATE ", "      \
	"i.expires_at, i.created_at, i.relationship_id, i.decline_reason "                         \
	"FROM relationship_invitations i " hint "JOIN tenants t ON t.id = i.provider_tenant_id "   \
	"LEFT JOIN legal_profiles l ON l.tenant_id = t.id "
#define INVITATION_SELECT INVITATION_SELECT_USING("")
#define INVITATION_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, provider.tenant_id, DB_TEXT)                                                          \
	F(T, provider.name, DB_TEXT)                                                               \
	F(T, provider.domain, DB_TEXT)                                                             \
	F(T, reseller_email, DB_TEXT)                                                              \
	F(T, message, DB_TEXT)                                                                     \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, access_ends_at, DB_TIME)                                                              \
	F(T, state, DB_TEXT)                                                                       \
	F(T, expires_at, DB_TIME)                                                                  \
	F(T, created_at, DB_TIME) F(T, relationship_id, DB_TEXT) F(T, decline_reason, DB_TEXT)

DB_STATEMENT(relationship_invitation_get, INVITATION_SELECT "WHERE i.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct invitation, INVITATION_FIELDS));

/* Sent by the tenant, or addressed to its domain: two index ranges
 * (ix_invitations_provider, ix_invitations_domain) that no one index
 * gives in id order, read as a union of two ordered, limited SELECTs (a
 * page of two branches: db.h), so that a page costs two short ranges
 * whatever the length of either list. */
#define INVITATION_SENT_BY_TENANT "i.provider_tenant_id = ?"
#define INVITATION_TO_TENANT	  "i.reseller_domain = (SELECT d.domain FROM tenants d WHERE d.id = ?)"

DB_STATEMENT(
    relationship_invitation_list,
    "(" INVITATION_SELECT_USING(DB_LIST_INDEX(
	"ix_invitations_provider")) "WHERE " INVITATION_SENT_BY_TENANT
				    " AND i.id > ? ORDER BY i.id LIMIT ?) UNION "
				    "(" INVITATION_SELECT_USING(DB_LIST_INDEX(
					"ix_invitations_domain")) "WHERE " INVITATION_TO_TENANT
								  " AND i.id > ? ORDER BY i.id "
								  "LIMIT ?) ORDER BY id",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_INT),
    DB_ROW(struct invitation, INVITATION_FIELDS));

DB_STATEMENT(relationship_invitation_count,
	     "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM relationship_invitations i "
	     "WHERE " INVITATION_SENT_BY_TENANT
	     " LIMIT ?) a) + (SELECT COUNT(*) FROM (SELECT 1 FROM "
	     "relationship_invitations i WHERE " INVITATION_TO_TENANT " LIMIT ?) b) AS n",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page relationship_invitation_page = {.list = &relationship_invitation_list,
						     .count = &relationship_invitation_count,
						     .n_keys = 1,
						     .cursor_offset =
							 offsetof(struct invitation, id),
						     .branches = 2};

/* What a withdrawal or a consent decides on, with the row locked. */
struct invitation_lock_row {
	char provider_tenant_id[UUID_STR], state[16];
	unsigned access_roles; /* enum auth_role bits */
	micros_t access_ends_at;
	char token_hash[65], reseller_domain[254];
};
#define INVITATION_LOCK_FIELDS(F, T)                                                               \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, state, DB_TEXT)                                                                       \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, access_ends_at, DB_MICROS) F(T, token_hash, DB_TEXT) F(T, reseller_domain, DB_TEXT)

DB_STATEMENT(relationship_invitation_lock,
	     "SELECT i.provider_tenant_id, " INVITATION_STATE ", "
	     "(i.access_roles + 0) << 1 AS access_roles, i.access_ends_at, i.token_hash, "
	     "i.reseller_domain FROM relationship_invitations i WHERE i.id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct invitation_lock_row, INVITATION_LOCK_FIELDS));

DB_STATEMENT(relationship_invitation_withdrawn,
	     "UPDATE relationship_invitations SET state = 'withdrawn', changed_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(relationship_invitation_declined,
	     "UPDATE relationship_invitations SET state = 'declined', changed_at = ?, "
	     "decline_reason = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT | DB_NULLABLE, DB_TEXT), DB_NO_ROW);

/* who hears of a declined invitation: the provider's user who invited (or
 * who made the token that did), told the reseller's name */
struct inviter_row {
	char email[255], company[801];
};
#define INVITER_FIELDS(F, T) F(T, email, DB_TEXT) F(T, company, DB_TEXT)
DB_STATEMENT(relationship_invitation_inviter,
	     "SELECT COALESCE(u.email, tu.email) AS email, " NAME_OF_T " AS company "
	     "FROM relationship_invitations i LEFT JOIN users u ON u.id = i.created_by "
	     "LEFT JOIN api_tokens tk ON tk.id = i.created_by "
	     "LEFT JOIN users tu ON tu.id = tk.created_by "
	     "JOIN tenants t ON t.id = ? LEFT JOIN legal_profiles l ON l.tenant_id = t.id "
	     "WHERE i.id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct inviter_row, INVITER_FIELDS));

DB_STATEMENT(relationship_invitation_accepted,
	     "UPDATE relationship_invitations SET state = 'accepted', changed_at = ?, "
	     "relationship_id = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* The consenting reseller: the domain an invitation is addressed to, its
 * enrolment's status ("" when none) and the region of its CSP country. It
 * reads the tenant's row, its enrolment and its country, but it answers the
 * consent's question alone, in one round trip and under the lock the
 * consent takes: so it is the consent's, here, not three functions of
 * tenant.c, enrollment.c and region.c. */
struct reseller_row {
	char domain[254], status[32], region_code[65];
};
#define RESELLER_FIELDS(F, T) F(T, domain, DB_TEXT) F(T, status, DB_TEXT) F(T, region_code, DB_TEXT)
DB_STATEMENT(relationship_reseller_of,
	     "SELECT t.domain, e.status, c.region_code FROM tenants t "
	     "LEFT JOIN enrollments e ON e.tenant_id = t.id "
	     "LEFT JOIN countries c ON c.code = t.csp_country WHERE t.id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct reseller_row, RESELLER_FIELDS));

/* ---- relationships ---- */

/* a relationship of the tenant (either side): its sides and state */
#define PAIR_SELECT                                                                                \
	"SELECT provider_tenant_id, reseller_tenant_id, state FROM relationships WHERE id = ? "    \
	"AND ? IN (provider_tenant_id, reseller_tenant_id)"
#define PAIR_FIELDS(F, T)                                                                          \
	F(T, provider_tenant_id, DB_TEXT) F(T, reseller_tenant_id, DB_TEXT) F(T, state, DB_TEXT)
DB_STATEMENT(relationship_pair_row, PAIR_SELECT, DB_PARAMS(DB_TEXT, DB_TEXT),
	     DB_ROW(struct relationship_pair, PAIR_FIELDS));
DB_STATEMENT(relationship_pair_share_lock, PAIR_SELECT " LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct relationship_pair, PAIR_FIELDS));

DB_STATEMENT(relationship_insert,
	     "INSERT INTO relationships (id, provider_tenant_id, reseller_tenant_id, access_roles, "
	     "access_ends_at, invitation_id, created_by, created_at, access_changed_at, "
	     "access_changed_by) VALUES (?, ?, ?, ? >> 1, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TIME, DB_TEXT, DB_TEXT, DB_TIME,
		       DB_TIME, DB_TEXT),
	     DB_NO_ROW);

/* hint: an index hint for the relationships, or "" */
#define RELATIONSHIP_SELECT_USING(hint)                                                            \
	"SELECT r.id, r.provider_tenant_id, " NAME_OF_PT " AS provider_name, "                     \
	"pt.domain AS provider_domain, r.reseller_tenant_id, " NAME_OF_RT " AS reseller_name, "    \
	"rt.domain AS reseller_domain, r.state, r.admin_access, "                                  \
	"(r.access_roles + 0) << 1 AS access_roles, r.access_ends_at, r.access_changed_at, "       \
	"r.access_changed_by, r.created_at, r.created_by, r.ended_at, r.ended_by, r.version, "     \
	"r.auto_extend FROM relationships r " hint                                                 \
	"JOIN tenants pt ON pt.id = r.provider_tenant_id "                                         \
	"LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "                                     \
	"JOIN tenants rt ON rt.id = r.reseller_tenant_id "                                         \
	"LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id "
#define RELATIONSHIP_SELECT RELATIONSHIP_SELECT_USING("")
#define RELATIONSHIP_FIELDS(F, T)                                                                  \
	F(T, id, DB_TEXT)                                                                          \
	F(T, provider.tenant_id, DB_TEXT)                                                          \
	F(T, provider.name, DB_TEXT)                                                               \
	F(T, provider.domain, DB_TEXT)                                                             \
	F(T, reseller.tenant_id, DB_TEXT)                                                          \
	F(T, reseller.name, DB_TEXT)                                                               \
	F(T, reseller.domain, DB_TEXT)                                                             \
	F(T, state, DB_TEXT)                                                                       \
	F(T, admin_access, DB_TEXT)                                                                \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, access_ends_at, DB_TIME)                                                              \
	F(T, access_changed_at, DB_TIME)                                                           \
	F(T, access_changed_by, DB_TEXT)                                                           \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, created_by, DB_TEXT)                                                                  \
	F(T, ended_at, DB_TIME)                                                                    \
	F(T, ended_by, DB_TEXT) F(T, version, DB_INT) F(T, auto_extend, DB_INT)

/* one of the tenant's, from either side */
DB_STATEMENT(relationship_get_row,
	     RELATIONSHIP_SELECT
	     "WHERE r.id = ? AND (r.provider_tenant_id = ? OR r.reseller_tenant_id = ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct relationship, RELATIONSHIP_FIELDS));

DB_STATEMENT(relationship_list_providers,
	     RELATIONSHIP_SELECT_USING(
		 DB_LIST_INDEX("ix_relationships_reseller")) "WHERE r.reseller_tenant_id = ? AND "
							     "r.id > ? ORDER BY r.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct relationship, RELATIONSHIP_FIELDS));

DB_STATEMENT(relationship_count_providers,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM relationships r "
	     "WHERE r.reseller_tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

DB_STATEMENT(relationship_list_resellers,
	     RELATIONSHIP_SELECT_USING(
		 DB_LIST_INDEX("ix_relationships_provider")) "WHERE r.provider_tenant_id = ? AND "
							     "r.id > ? ORDER BY r.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct relationship, RELATIONSHIP_FIELDS));

DB_STATEMENT(relationship_count_resellers,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM relationships r "
	     "WHERE r.provider_tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

/* the reseller's active relationships: a handful, the providers of its
 * region that it authorized (the bound guards against a runaway) */
DB_STATEMENT(relationship_active_of_reseller,
	     RELATIONSHIP_SELECT "WHERE r.reseller_tenant_id = ? AND r.active = 1 ORDER BY r.id "
				 "LIMIT 1000",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct relationship, RELATIONSHIP_FIELDS));

const struct db_page relationship_providers_page = {.list = &relationship_list_providers,
						    .count = &relationship_count_providers,
						    .n_keys = 1,
						    .cursor_offset =
							offsetof(struct relationship, id)};
const struct db_page relationship_resellers_page = {.list = &relationship_list_resellers,
						    .count = &relationship_count_resellers,
						    .n_keys = 1,
						    .cursor_offset =
							offsetof(struct relationship, id)};

/* What a change of a relationship decides on, with the row locked. */
struct relationship_lock_row {
	char provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR], state[8], admin_access[8];
	unsigned access_roles; /* enum auth_role bits */
	unsigned long version;
};
#define RELATIONSHIP_LOCK_FIELDS(F, T)                                                             \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, state, DB_TEXT)                                                                       \
	F(T, admin_access, DB_TEXT) F(T, access_roles, DB_INT) F(T, version, DB_INT)

DB_STATEMENT(relationship_lock,
	     "SELECT r.provider_tenant_id, r.reseller_tenant_id, r.state, r.admin_access, "
	     "(r.access_roles + 0) << 1 AS access_roles, r.version FROM relationships r "
	     "WHERE r.id = ? AND (r.provider_tenant_id = ? OR r.reseller_tenant_id = ?) FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct relationship_lock_row, RELATIONSHIP_LOCK_FIELDS));

DB_STATEMENT(relationship_access_removed,
	     "UPDATE relationships SET admin_access = 'removed', access_changed_at = ?, "
	     "access_changed_by = ?, version = version + 1 WHERE id = ? AND admin_access = "
	     "'granted' AND state = 'active'",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* An end clears the active key before it takes its time: orders read the
 * row through uq_relationships_active_pair, which covers what they need,
 * so their shared locks are on that index's entry, not on the row
 * relationship_lock took; this UPDATE, which moves the entry, waits for
 * them, and the time taken after it is after every order that relied on
 * it. */
DB_STATEMENT(relationship_ended,
	     "UPDATE relationships SET state = 'ended', active = NULL, ended_by = ?, "
	     "version = version + 1 WHERE id = ? AND state = 'active'",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(relationship_ended_at, "UPDATE relationships SET ended_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(relationship_access_narrowed,
	     "UPDATE relationships SET access_roles = ? >> 1, access_changed_at = ?, "
	     "access_changed_by = ?, version = version + 1 WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* Who hears of a change, and whose name the mail gives: the provider's
 * address is the user who invited (or the user who made the token that
 * did), the reseller's its primary contact; "" when there is none. */
struct contacts_row {
	char provider_email[255], reseller_email[255], provider_name[801], reseller_name[801];
	char provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR];
};
#define CONTACTS_FIELDS(F, T)                                                                      \
	F(T, provider_email, DB_TEXT)                                                              \
	F(T, reseller_email, DB_TEXT)                                                              \
	F(T, provider_name, DB_TEXT)                                                               \
	F(T, reseller_name, DB_TEXT)                                                               \
	F(T, provider_tenant_id, DB_TEXT) F(T, reseller_tenant_id, DB_TEXT)
DB_STATEMENT(relationship_contacts,
	     "SELECT COALESCE(u.email, tu.email) AS provider_email, "
	     "e.contact_email AS reseller_email, " NAME_OF_PT " AS provider_name, " NAME_OF_RT
	     " AS reseller_name, r.provider_tenant_id, r.reseller_tenant_id FROM relationships r "
	     "JOIN relationship_invitations i ON i.id = r.invitation_id "
	     "LEFT JOIN users u ON u.id = i.created_by "
	     "LEFT JOIN api_tokens tk ON tk.id = i.created_by "
	     "LEFT JOIN users tu ON tu.id = tk.created_by "
	     "LEFT JOIN enrollments e ON e.tenant_id = r.reseller_tenant_id "
	     "JOIN tenants pt ON pt.id = r.provider_tenant_id "
	     "LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "
	     "JOIN tenants rt ON rt.id = r.reseller_tenant_id "
	     "LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id WHERE r.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct contacts_row, CONTACTS_FIELDS));

/* The newest relationship of the pair, the active one first (through
 * uq_relationships_active_pair). */
struct delegation_row {
	char id[UUID_STR], state[8], admin_access[8];
	unsigned access_roles; /* enum auth_role bits */
	bool expired;	       /* the access is past its end */
	char access_ends_at[TIME_STR];
	/* the provider is authorized in the reseller's region still */
	bool in_region;
	char region_code[65];
};
#define DELEGATION_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, state, DB_TEXT)                                                                       \
	F(T, admin_access, DB_TEXT)                                                                \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, expired, DB_INT)                                                                      \
	F(T, access_ends_at, DB_TIME) F(T, in_region, DB_INT) F(T, region_code, DB_TEXT)
/* an operator's removal of the provider's region suspends the access in
 * it (F5): read with the relationship */
#define DELEGATION_COLUMNS                                                                         \
	"SELECT r.id, r.state, r.admin_access, (r.access_roles + 0) << 1 AS access_roles, "        \
	"r.access_ends_at <= UTC_TIMESTAMP(6) AS expired, r.access_ends_at, "                      \
	"EXISTS (SELECT 1 FROM provider_regions pr WHERE pr.tenant_id = r.provider_tenant_id "     \
	"AND pr.region_code = c.region_code) AS in_region, c.region_code FROM relationships r "    \
	"JOIN tenants rt ON rt.id = r.reseller_tenant_id "                                         \
	"LEFT JOIN countries c ON c.code = rt.csp_country "
DB_STATEMENT(relationship_delegation_of,
	     DELEGATION_COLUMNS "WHERE r.provider_tenant_id = ? AND r.reseller_tenant_id = ? "
				"ORDER BY r.active DESC, r.id DESC LIMIT 1",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct delegation_row, DELEGATION_FIELDS));

/* The provider that the actor's tenant is, into out, if it may invite
 * the reseller at domain. Returns 0, or -1 with p set (403 not_provider,
 * 422 own_domain) or t failed. */
static int provider_inviting(struct txn *t, const struct actor *a, const char *domain,
			     struct party *out, struct problem *p)
{
	struct db_arg me[] = {db_text(a->tenant_id)};
	switch (db_one(t, &relationship_provider_of, me, out)) {
	case DB_OK: break;
	/* the route's ROUTE_PROVIDER admits providers only, and a provider
	 * record is never removed: this is a tenant that lost its record */
	case DB_EMPTY:
		return problem_refuse(p, PROBLEM_FORBIDDEN, "not_provider",
				      "only an indirect provider invites resellers");
	default: return -1;
	}
	if (strcmp(out->domain, domain) == 0)
		return problem_refuse(p, PROBLEM_RULE_REFUSED, "own_domain",
				      "a provider cannot invite its own work account");
	return 0;
}

static int provider_admitted(struct txn *t, const char *provider_tenant_id, const char *region,
			     struct problem *p);

/* The CSP region of the work account at a domain, when there is one and
 * it has a country. */
struct domain_region_row {
	char region_code[65];
};
#define DOMAIN_REGION_FIELDS(F, T) F(T, region_code, DB_TEXT)
DB_STATEMENT(relationship_domain_region,
	     "SELECT c.region_code FROM tenants t JOIN countries c ON c.code = t.csp_country "
	     "WHERE t.domain = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct domain_region_row, DOMAIN_REGION_FIELDS));

int invitation_create(struct txn *t, const struct actor *a, const struct invitation_new *in,
		      struct invitation *out, struct problem *p)
{
	struct party provider;
	char id[UUID_STR], token[LINK_TOKEN_LEN + 1], hash[65], link[512];
	micros_t at = time_micros();
	const char *domain = strrchr(in->reseller_email, '@') + 1;
	int rc = -1;
	token[0] = link[0] = '\0';
	if (provider_inviting(t, a, domain, &provider, p) != 0)
		goto out;
	/* a reseller whose region the provider does not serve could never
	 * consent: said now, not when it tries (a domain without a work
	 * account, or without a country yet, is told at consent) */
	struct domain_region_row region;
	struct db_arg d[] = {db_text(domain)};
	switch (db_one(t, &relationship_domain_region, d, &region)) {
	case DB_OK:
		if (provider_admitted(t, a->tenant_id, region.region_code, p) != 0)
			goto out;
		break;
	case DB_EMPTY: break;
	default: goto out;
	}
	uuid_v7(id);
	link_token_generate(token, hash);
	struct db_arg ins[] = {db_text(id),
			       db_text(a->tenant_id),
			       db_text(in->reseller_email),
			       db_text(domain),
			       db_text(in->message),
			       db_int(in->access_roles),
			       db_time(in->access_ends_at),
			       db_text(hash),
			       db_time(time_micros_after(in->ttl_seconds)),
			       db_text(a->id),
			       db_time(at)};
	if (db_exec(t, &relationship_invitation_insert, ins, NULL) != DB_OK)
		goto out;
	snprintf(link, sizeof link, "%s/authorize-provider?invitation=%s&token=%s",
		 in->public_base_url, id, token);
	struct mail_var vars[] = {{"company_name", provider.name},
				  {"link", link},
				  {"reason", in->message ? in->message : ""}};
	struct outbox_mail m = {
	    a->tenant_id, MAIL_RELATIONSHIP_INVITATION, "en", in->reseller_email, vars, 3};
	if (outbox_enqueue(t, &m) != DB_OK ||
	    audit_record(t, a, "relationship_invitation.create", "relationship_invitation", id,
			 at) != DB_OK)
		goto out;
	struct db_arg g[] = {db_text(id)};
	switch (db_one(t, &relationship_invitation_get, g, out)) {
	case DB_OK: rc = 0; break;
	case DB_EMPTY: txn_abort(t); break; /* written above: never */
	default: break;
	}
out:
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	return rc;
}

int invitation_withdraw(struct txn *t, const struct actor *a, const char *id, struct problem *p)
{
	struct invitation_lock_row inv;
	struct db_arg g[] = {db_text(id)};
	micros_t at;
	switch (db_one(t, &relationship_invitation_lock, g, &inv)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no invitation %s of this provider", id);
	default: return -1;
	}
	if (strcmp(inv.provider_tenant_id, a->tenant_id) != 0)
		return problem_set(p, PROBLEM_NOT_FOUND, "no invitation %s of this provider", id);
	if (strcmp(inv.state, "accepted") == 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "invitation_accepted",
				      "the invitation was accepted: end the relationship instead");
	if (strcmp(inv.state, "declined") == 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "invitation_declined",
				      "the reseller declined the invitation");
	if (strcmp(inv.state, "withdrawn") == 0)
		return 0; /* idempotent */
	/* now that the row is locked: after every change before */
	at = time_micros();
	struct db_arg u[] = {db_time(at), db_text(id)};
	if (db_exec(t, &relationship_invitation_withdrawn, u, NULL) != DB_OK ||
	    audit_record(t, a, "relationship_invitation.withdraw", "relationship_invitation", id,
			 at) != DB_OK)
		return -1;
	return 0;
}

/* The step of the enrolment that is not done, for an enrolment of status
 * ("" when there is none) that is not approved. */
static const char *step_missing(const char *status)
{
	if (status[0] == '\0')
		return "enrolment (POST /v1/enrollments)";
	if (strcmp(status, "pending_email_verification") == 0)
		return "emailVerified";
	return "reviewApproved";
}

/* Whether the provider may have the reseller of a consent: 0, or -1 with
 * p set (422 region_not_authorized) or t failed. */
static int provider_admitted(struct txn *t, const char *provider_tenant_id, const char *region,
			     struct problem *p)
{
	struct party provider;
	struct db_arg me[] = {db_text(provider_tenant_id)};
	bool in = false;
	if (provider_in_region(t, provider_tenant_id, region, &in) != DB_OK)
		return -1;
	if (in)
		return 0;
	enum db_status st = db_one(t, &relationship_provider_of, me, &provider);
	if (st == DB_EMPTY)
		txn_abort(t); /* the invitation's provider: never */
	if (st != DB_OK)
		return -1;
	return problem_refuse(p, PROBLEM_RULE_REFUSED, "region_not_authorized",
			      "%.100s is not authorized in the reseller's region %.64s",
			      provider.name, region);
}

/* The actor's tenant's row (me, locked), then invitation id (inv, locked)
 * if it is addressed to the tenant's domain with token: 0, or -1 with p
 * set (404 invitation_not_found) or t failed. */
static int invitation_addressed(struct txn *t, const struct actor *a, const char *id,
				const char *token, struct reseller_row *me,
				struct invitation_lock_row *inv, struct problem *p)
{
	char hash[65];
	struct db_arg tenant[] = {db_text(a->tenant_id)};
	struct db_arg g[] = {db_text(id)};
	api_token_hash(token, hash);
	enum db_status st = db_one(t, &relationship_reseller_of, tenant, me);
	if (st == DB_EMPTY)
		txn_abort(t); /* the actor's own tenant: never */
	if (st != DB_OK)
		return -1;
	st = db_one(t, &relationship_invitation_lock, g, inv);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	/* unknown, another's, or a wrong token: one answer */
	if (st == DB_EMPTY || strcmp(inv->reseller_domain, me->domain) != 0 ||
	    sodium_memcmp(inv->token_hash, hash, 64) != 0)
		return problem_refuse(p, PROBLEM_NOT_FOUND, "invitation_not_found",
				      "no invitation %s with this token for this work account", id);
	return 0;
}

/* 0 when an invitation in state may still be answered, else -1 with p
 * set: 409 invitation_accepted, invitation_withdrawn,
 * invitation_declined, 410 invitation_expired. */
static int invitation_open(const char *state, struct problem *p)
{
	if (strcmp(state, "expired") == 0)
		return problem_refuse(p, PROBLEM_GONE, "invitation_expired",
				      "the invitation expired; ask the provider for a new one");
	if (strcmp(state, "pending") != 0) {
		char code[32];
		snprintf(code, sizeof code, "invitation_%s", state);
		return problem_refuse(p, PROBLEM_CONFLICT, code, "the invitation is %s", state);
	}
	return 0;
}

int invitation_decline(struct txn *t, const struct actor *a, const char *id, const char *token,
		       const char *reason, struct invitation *out, bool *declined,
		       struct problem *p)
{
	struct reseller_row me;
	struct invitation_lock_row inv;
	struct inviter_row who;
	struct db_arg g[] = {db_text(id)};
	*declined = false;
	if (invitation_addressed(t, a, id, token, &me, &inv, p) != 0)
		return -1;
	if (strcmp(inv.state, "declined") == 0) /* a repeat: as the first */
		return db_one(t, &relationship_invitation_get, g, out) == DB_OK ? 0 : -1;
	if (invitation_open(inv.state, p) != 0)
		return -1;
	/* now that the rows are locked: after every change before */
	micros_t at = time_micros();
	struct db_arg u[] = {db_time(at), db_text(reason), db_text(id)};
	struct db_arg w[] = {db_text(a->tenant_id), db_text(id)};
	if (db_exec(t, &relationship_invitation_declined, u, NULL) != DB_OK ||
	    audit_record(t, a, "relationship_invitation.decline", "relationship_invitation", id,
			 at) != DB_OK ||
	    audit_record_in(t, a, inv.provider_tenant_id, "relationship_invitation.decline",
			    "relationship_invitation", id, at) != DB_OK ||
	    db_one(t, &relationship_invitation_inviter, w, &who) != DB_OK)
		return -1;
	if (who.email[0] != '\0') {
		struct mail_var vars[] = {{"company_name", who.company},
					  {"reason", reason != NULL ? reason : "(none given)"}};
		struct outbox_mail m = {inv.provider_tenant_id,
					MAIL_RELATIONSHIP_INVITATION_DECLINED,
					"en",
					who.email,
					vars,
					2};
		if (outbox_enqueue(t, &m) != DB_OK)
			return -1;
	}
	*declined = true;
	return db_one(t, &relationship_invitation_get, g, out) == DB_OK ? 0 : -1;
}

int invitation_authorize(struct txn *t, const struct actor *a, const char *id, const char *token,
			 struct relationship *out, struct problem *p)
{
	char enrolment[32];
	struct reseller_row me;
	struct invitation_lock_row inv;
	char rid[UUID_STR];
	micros_t at;
	/* the reseller's enrolment first, before anything else a consent
	 * reads, then the invitation: the order of locks of every change of
	 * an enrolment (profile.c, enrollment.c), so that they never deadlock
	 * and the status read cannot change before the commit */
	if (enrollment_lock_status(t, a->tenant_id, enrolment) != DB_OK ||
	    invitation_addressed(t, a, id, token, &me, &inv, p) != 0)
		return -1;
	/* now that the rows are locked: after every change before */
	at = time_micros();
	if (invitation_open(inv.state, p) != 0)
		return -1;
	if (inv.access_ends_at <= at)
		return problem_refuse(
		    p, PROBLEM_RULE_REFUSED, "access_already_ended",
		    "the admin access this invitation asks for ended already; ask the "
		    "provider for a new invitation");
	if (strcmp(me.status, "approved") != 0)
		return problem_refuse(
		    p, PROBLEM_RULE_REFUSED, "enrollment_not_approved",
		    "only an approved reseller authorizes a provider: the step %s is not "
		    "done",
		    step_missing(me.status));
	if (provider_admitted(t, inv.provider_tenant_id, me.region_code, p) != 0)
		return -1;
	uuid_v7(rid);
	struct db_arg ins[] = {db_text(rid),
			       db_text(inv.provider_tenant_id),
			       db_text(a->tenant_id),
			       db_int(inv.access_roles),
			       db_time(inv.access_ends_at),
			       db_text(id),
			       db_text(a->id),
			       db_time(at),
			       db_time(at),
			       db_text(a->id)};
	switch (db_exec(t, &relationship_insert, ins, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		return problem_refuse(
		    p, PROBLEM_CONFLICT, "relationship_exists",
		    "this provider and this reseller have an active relationship already");
	default: return -1;
	}
	struct db_arg u[] = {db_time(at), db_text(rid), db_text(id)};
	if (db_exec(t, &relationship_invitation_accepted, u, NULL) != DB_OK ||
	    audit_record(t, a, "relationship.create", "relationship", rid, at) != DB_OK ||
	    audit_record_in(t, a, inv.provider_tenant_id, "relationship.create", "relationship",
			    rid, at) != DB_OK ||
	    relationship_notify(t, rid, MAIL_RELATIONSHIP_AUTHORIZED, RELATIONSHIP_PROVIDER, NULL,
				NULL, 0) != 0)
		return -1;
	return relationship_get(t, a->tenant_id, rid, out, p);
}

int relationship_get(struct txn *t, const char *tenant_id, const char *id, struct relationship *out,
		     struct problem *p)
{
	struct db_arg g[] = {db_text(id), db_text(tenant_id), db_text(tenant_id)};
	switch (db_one(t, &relationship_get_row, g, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this work account",
				   id);
	default: return -1;
	}
}

/* Relationship id, locked, into out if the actor's tenant is on either
 * side of it. Returns 0, or -1 with p set (404) or t failed. */
static int relationship_lock_of(struct txn *t, const struct actor *a, const char *id,
				struct relationship_lock_row *out, struct problem *p)
{
	struct db_arg g[] = {db_text(id), db_text(a->tenant_id), db_text(a->tenant_id)};
	switch (db_one(t, &relationship_lock, g, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this work account",
				   id);
	default: return -1;
	}
}

int relationship_notify(struct txn *t, const char *id, enum mail_template which, unsigned sides,
			const char *company, const struct mail_var *extra, size_t n_extra)
{
	struct contacts_row who;
	struct mail_var vars[4];
	struct db_arg c[] = {db_text(id)};
	enum db_status st = db_one(t, &relationship_contacts, c, &who);
	if (st == DB_EMPTY)
		return 0;
	if (st != DB_OK || n_extra > 3)
		return -1;
	if (n_extra > 0)
		memcpy(vars + 1, extra, n_extra * sizeof *extra);
	for (unsigned side = RELATIONSHIP_PROVIDER; side <= RELATIONSHIP_RESELLER; side <<= 1) {
		bool provider = side == RELATIONSHIP_PROVIDER;
		const char *to = provider ? who.provider_email : who.reseller_email;
		if (!(sides & side) || to[0] == '\0')
			continue;
		/* each side is told the other's name, or the customer's */
		vars[0] = (struct mail_var){"company_name", company    ? company
							    : provider ? who.reseller_name
								       : who.provider_name};
		struct outbox_mail m = {provider ? who.provider_tenant_id : who.reseller_tenant_id,
					which,
					"en",
					to,
					vars,
					1 + n_extra};
		if (outbox_enqueue(t, &m) != DB_OK)
			return -1;
	}
	return 0;
}

static int access_requests_end(struct txn *t, const struct actor *a, const char *relationship_id,
			       const struct relationship_lock_row *rel, micros_t at);

/* Removes the admin access (end false) or ends the relationship (end
 * true) for the actor, idempotently. */
static int relationship_change(struct txn *t, const struct actor *a, const char *id, bool end,
			       struct problem *p)
{
	struct relationship_lock_row rel;
	struct contacts_row who;
	micros_t at;
	unsigned long long changed = 0;
	enum db_status st;
	if (relationship_lock_of(t, a, id, &rel, p) != 0)
		return -1;
	/* now that the row is locked: after every change before (an end
	 * takes its time again once the orders relying on it are done) */
	at = time_micros();
	bool is_reseller = strcmp(rel.reseller_tenant_id, a->tenant_id) == 0;
	const char *other = is_reseller ? rel.provider_tenant_id : rel.reseller_tenant_id;
	/* SPEC §1: the reseller's side is its global admin's; a provider's
	 * admin agent (or global admin) may end, never remove access. The
	 * route table admits an admin agent, as the provider's side needs;
	 * whether a global admin is needed depends on the side of the row the
	 * caller's tenant is on, which only the row says: so that rule is
	 * here, not in the route. */
	if (is_reseller && !(a->roles & ROLE_GLOBAL_ADMIN))
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "this is reserved for the reseller's global admin");
	if (!is_reseller && !end)
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "only the reseller removes the provider's admin access");
	struct db_arg u[] = {db_time(at), db_text(a->id), db_text(id)};
	struct db_arg e[] = {db_text(a->id), db_text(id)};
	if (db_exec(t, end ? &relationship_ended : &relationship_access_removed, end ? e : u,
		    &changed) != DB_OK)
		return -1;
	if (changed == 0)
		return 0; /* done already: idempotent */
	if (end) {
		/* now that the orders relying on it are done */
		at = time_micros();
		struct db_arg stamp[] = {db_time(at), db_text(id)};
		if (db_exec(t, &relationship_ended_at, stamp, NULL) != DB_OK)
			return -1;
	}
	const char *action = end ? "relationship.end" : "relationship.admin_access.remove";
	if (audit_record(t, a, action, "relationship", id, at) != DB_OK ||
	    audit_record_in(t, a, other, action, "relationship", id, at) != DB_OK ||
	    (end && access_requests_end(t, a, id, &rel, at) != 0))
		return -1;
	/* the other side hears of it, named by the actor's side */
	struct db_arg c[] = {db_text(id)};
	st = db_one(t, &relationship_contacts, c, &who);
	if (st == DB_EMPTY)
		return 0;
	if (st != DB_OK)
		return -1;
	const char *to = is_reseller ? who.provider_email : who.reseller_email;
	if (to[0] == '\0')
		return 0;
	struct mail_var vars[] = {
	    {"company_name", is_reseller ? who.reseller_name : who.provider_name}};
	struct outbox_mail m = {
	    other, end ? MAIL_RELATIONSHIP_ENDED : MAIL_RELATIONSHIP_ACCESS_REMOVED, "en", to, vars,
	    1};
	return outbox_enqueue(t, &m) == DB_OK ? 0 : -1;
}

/* Granted admin access ending within 30 days whose threshold (the
 * fewest of 30, 7 and 1 days at or above what is left) has not been
 * mailed, the soonest first; not access that extends itself
 * (auto_extend), which does not end. */
struct expiring_row {
	char id[UUID_STR], provider_tenant_id[UUID_STR];
	long long threshold;
	char ends_on[17]; /* "2027-01-31 14:05" */
};
#define EXPIRING_FIELDS(F, T)                                                                      \
	F(T, id, DB_TEXT)                                                                          \
	F(T, provider_tenant_id, DB_TEXT) F(T, threshold, DB_INT) F(T, ends_on, DB_TEXT)
#define EXPIRING_THRESHOLD                                                                         \
	"CASE WHEN r.access_ends_at <= UTC_TIMESTAMP(6) + INTERVAL 1 DAY THEN 1 "                  \
	"WHEN r.access_ends_at <= UTC_TIMESTAMP(6) + INTERVAL 7 DAY THEN 7 ELSE 30 END"
DB_STATEMENT(relationships_expiring,
	     "SELECT r.id, r.provider_tenant_id, " EXPIRING_THRESHOLD " AS threshold, "
	     "DATE_FORMAT(r.access_ends_at, '%Y-%m-%d %H:%i') AS ends_on FROM relationships r "
	     "WHERE r.state = 'active' AND r.admin_access = 'granted' AND r.access_ends_at > "
	     "UTC_TIMESTAMP(6) AND r.access_ends_at <= UTC_TIMESTAMP(6) + INTERVAL 30 DAY AND "
	     "r.auto_extend = 0 AND NOT EXISTS (SELECT 1 FROM relationship_access_notices n WHERE "
	     "n.relationship_id = "
	     "r.id AND n.threshold_days <= " EXPIRING_THRESHOLD ") "
	     "ORDER BY r.access_ends_at LIMIT 100",
	     DB_NO_PARAMS, DB_ROW(struct expiring_row, EXPIRING_FIELDS));

/* The notice of one threshold, taken once: 0 rows when another host took
 * it first. */
DB_STATEMENT(relationship_access_notice,
	     "INSERT IGNORE INTO relationship_access_notices (relationship_id, threshold_days, "
	     "sent_at) VALUES (?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TIME), DB_NO_ROW);

int relationship_access_notices(struct txn *t, relationship_notice_record record,
				unsigned long long *sent)
{
	void *items = NULL;
	size_t n = 0;
	int rc = 0;
	*sent = 0;
	if (db_all(t, &relationships_expiring, NULL, &items, &n) != DB_OK)
		return -1;
	const struct expiring_row *r = items;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct relationship rel;
		struct problem p = {0};
		unsigned long long taken = 0;
		char days[8];
		struct db_arg a[] = {db_text(r[i].id), db_int(r[i].threshold),
				     db_time(time_micros())};
		snprintf(days, sizeof days, "%lld", r[i].threshold);
		struct mail_var vars[] = {{"ends_on", r[i].ends_on}, {"days", days}};
		if (db_exec(t, &relationship_access_notice, a, &taken) != DB_OK)
			rc = -1;
		else if (taken == 1 &&
			 (rc = relationship_notify(t, r[i].id, MAIL_RELATIONSHIP_ACCESS_EXPIRING,
						   RELATIONSHIP_PROVIDER | RELATIONSHIP_RESELLER,
						   NULL, vars, 2)) == 0 &&
			 (rc = relationship_get(t, r[i].provider_tenant_id, r[i].id, &rel, &p)) ==
			     0 &&
			 (rc = record(t, &rel)) == 0)
			(*sent)++;
		problem_clear(&p);
	}
	free(items);
	return rc;
}

int relationship_remove_access(struct txn *t, const struct actor *a, const char *id,
			       struct problem *p)
{
	return relationship_change(t, a, id, false, p);
}

int relationship_end(struct txn *t, const struct actor *a, const char *id, struct problem *p)
{
	return relationship_change(t, a, id, true, p);
}

/* 0 when delegation d admits acting now, else -1 with p set (403). */
static int delegation_admits(const struct delegation_row *d, struct problem *p)
{
	if (strcmp(d->state, "active") != 0)
		return problem_refuse(p, PROBLEM_FORBIDDEN, "relationship_ended",
				      "the relationship with this reseller has ended");
	if (strcmp(d->admin_access, "granted") != 0)
		return problem_refuse(
		    p, PROBLEM_FORBIDDEN, "admin_access_removed",
		    "the reseller has removed the admin access of this relationship");
	if (d->expired)
		return problem_refuse(p, PROBLEM_FORBIDDEN, "admin_access_expired",
				      "the admin access of this relationship ended at %s",
				      d->access_ends_at);
	if (!d->in_region)
		return problem_refuse(
		    p, PROBLEM_FORBIDDEN, "region_not_authorized",
		    "the provider is no longer authorized in the reseller's region "
		    "%.64s: the admin access is suspended until it is again",
		    d->region_code);
	return 0;
}

/* the relationship read again and held (shared) until the write ends */
DB_STATEMENT(relationship_delegation_held, DELEGATION_COLUMNS "WHERE r.id = ? LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct delegation_row, DELEGATION_FIELDS));

int relationship_delegation_hold(struct txn *t, const char *relationship_id, const char *user_id,
				 unsigned roles, struct problem *p)
{
	struct delegation_row d;
	struct db_arg a[] = {db_text(relationship_id)};
	enum db_status st = db_one(t, &relationship_delegation_held, a, &d);
	if (st != DB_OK)
		return st == DB_EMPTY
			   ? problem_refuse(p, PROBLEM_FORBIDDEN, "no_relationship",
					    "the relationship with this reseller is gone")
			   : -1;
	if (delegation_admits(&d, p) != 0)
		return -1;
	if (d.access_roles != roles)
		return problem_refuse(
		    p, PROBLEM_FORBIDDEN, "admin_access_changed",
		    "the reseller changed the roles of the admin access meanwhile; "
		    "send the request again");
	return access_assignment_admits(t, relationship_id, user_id, true, p);
}

int relationship_delegation(struct txn *t, const char *provider_tenant_id,
			    const char *reseller_tenant_id, const char *user_id,
			    char relationship_id[UUID_STR], unsigned *roles, struct problem *p)
{
	struct delegation_row d;
	struct db_arg a[] = {db_text(provider_tenant_id), db_text(reseller_tenant_id)};
	relationship_id[0] = '\0';
	*roles = 0;
	switch (db_one(t, &relationship_delegation_of, a, &d)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_refuse(
		    p, PROBLEM_FORBIDDEN, "no_relationship",
		    "delegated access needs an active relationship with this reseller, "
		    "authorized by its global admin");
	default: return -1;
	}
	if (delegation_admits(&d, p) != 0 ||
	    access_assignment_admits(t, d.id, user_id, false, p) != 0)
		return -1;
	memcpy(relationship_id, d.id, UUID_STR);
	*roles = d.access_roles;
	return 0;
}

int relationship_narrow_access(struct txn *t, const struct actor *a, const char *id,
			       unsigned long version, unsigned roles, struct relationship *out,
			       struct problem *p)
{
	struct relationship_lock_row rel;
	micros_t at;
	if (relationship_lock_of(t, a, id, &rel, p) != 0)
		return -1;
	/* now that the row is locked: after every change before */
	at = time_micros();
	if (strcmp(rel.reseller_tenant_id, a->tenant_id) != 0)
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "only the reseller changes the provider's admin access");
	if (version != 0 && rel.version != version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the relationship has changed since it was read; read it again "
				   "for its ETag");
	if (strcmp(rel.state, "active") != 0 || strcmp(rel.admin_access, "granted") != 0)
		return problem_refuse(
		    p, PROBLEM_CONFLICT, "admin_access_not_granted",
		    "the relationship is %s with admin access %s: nothing to narrow", rel.state,
		    rel.admin_access);
	/* consent granted these roles: more needs a new consent */
	if ((roles & ~rel.access_roles) != 0)
		return problem_refuse(p, PROBLEM_RULE_REFUSED, "roles_not_narrower",
				      "admin access can only be narrowed; widening it needs the "
				      "provider's access request and consent");
	struct db_arg u[] = {db_int(roles), db_time(at), db_text(a->id), db_text(id)};
	if (db_exec(t, &relationship_access_narrowed, u, NULL) != DB_OK ||
	    audit_record(t, a, "relationship.admin_access.narrow", "relationship", id, at) != DB_OK)
		return -1;
	return relationship_get(t, a->tenant_id, id, out, p);
}

int relationship_active_providers(struct txn *t, const char *reseller_tenant_id,
				  struct relationship **items, size_t *n)
{
	struct db_arg key[] = {db_text(reseller_tenant_id)};
	return db_all(t, &relationship_active_of_reseller, key, (void **)items, n) == DB_OK ? 0
											    : -1;
}

enum db_status relationship_pair_get(struct txn *t, const char *id, const char *tenant_id,
				     struct relationship_pair *out)
{
	struct db_arg a[] = {db_text(id), db_text(tenant_id)};
	return db_one(t, &relationship_pair_row, a, out);
}

enum db_status relationship_pair_lock(struct txn *t, const char *id, const char *tenant_id,
				      struct relationship_pair *out)
{
	struct db_arg a[] = {db_text(id), db_text(tenant_id)};
	return db_one(t, &relationship_pair_share_lock, a, out);
}

/* ---- access requests ---- */

/* a pending request past its expiry reads as expired */
#define ACCESS_REQUEST_STATE                                                                       \
	"IF(q.state = 'pending' AND q.expires_at <= UTC_TIMESTAMP(6), 'expired', q.state) "        \
	"AS state"

#define ACCESS_REQUEST_SELECT                                                                      \
	"SELECT q.id, q.relationship_id, q.provider_tenant_id, q.reseller_tenant_id, "             \
	"(q.access_roles + 0) << 1 AS access_roles, q.access_ends_at, q.auto_extend, "             \
	"q.message, " ACCESS_REQUEST_STATE                                                         \
	", q.decline_reason, q.expires_at, q.created_at, q.created_by, "                           \
	"q.changed_at FROM relationship_access_requests q "
#define ACCESS_REQUEST_FIELDS(F, T)                                                                \
	F(T, id, DB_TEXT)                                                                          \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, access_ends_at, DB_TIME)                                                              \
	F(T, auto_extend, DB_INT)                                                                  \
	F(T, message, DB_TEXT)                                                                     \
	F(T, state, DB_TEXT)                                                                       \
	F(T, decline_reason, DB_TEXT)                                                              \
	F(T, expires_at, DB_TIME)                                                                  \
	F(T, created_at, DB_TIME) F(T, created_by, DB_TEXT) F(T, changed_at, DB_TIME)

DB_STATEMENT(access_request_get, ACCESS_REQUEST_SELECT "WHERE q.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct access_request, ACCESS_REQUEST_FIELDS));

DB_STATEMENT(access_request_list,
	     ACCESS_REQUEST_SELECT DB_LIST_INDEX(
		 "ix_access_requests_relationship") "WHERE q.relationship_id = ? AND q.id > ? "
						    "ORDER BY q.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct access_request, ACCESS_REQUEST_FIELDS));

DB_STATEMENT(access_request_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM relationship_access_requests q "
	     "WHERE q.relationship_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page relationship_access_request_page = {.list = &access_request_list,
							 .count = &access_request_count,
							 .n_keys = 1,
							 .cursor_offset =
							     offsetof(struct access_request, id)};

/* whether the relationship has a request pending still (its rows are
 * serialised by the relationship's lock, which every writer takes first) */
DB_STATEMENT(access_request_pending,
	     "SELECT COUNT(*) AS n FROM relationship_access_requests q "
	     "WHERE q.relationship_id = ? AND q.state = 'pending' AND "
	     "q.expires_at > UTC_TIMESTAMP(6)",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(access_request_insert,
	     "INSERT INTO relationship_access_requests (id, relationship_id, provider_tenant_id, "
	     "reseller_tenant_id, access_roles, access_ends_at, auto_extend, message, token_hash, "
	     "expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ? >> 1, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TIME, DB_INT,
		       DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TIME, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

/* What a consent or a decline decides on, locked after the relationship. */
struct access_request_lock_row {
	char state[16];
	unsigned access_roles; /* enum auth_role bits */
	micros_t access_ends_at;
	bool auto_extend;
	char token_hash[65];
};
#define ACCESS_REQUEST_LOCK_FIELDS(F, T)                                                           \
	F(T, state, DB_TEXT)                                                                       \
	F(T, access_roles, DB_INT)                                                                 \
	F(T, access_ends_at, DB_MICROS) F(T, auto_extend, DB_INT) F(T, token_hash, DB_TEXT)
DB_STATEMENT(access_request_lock,
	     "SELECT " ACCESS_REQUEST_STATE ", (q.access_roles + 0) << 1 AS access_roles, "
	     "q.access_ends_at, q.auto_extend, q.token_hash FROM relationship_access_requests q "
	     "WHERE q.id = ? AND q.relationship_id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT),
	     DB_ROW(struct access_request_lock_row, ACCESS_REQUEST_LOCK_FIELDS));

DB_STATEMENT(access_request_answered,
	     "UPDATE relationship_access_requests SET state = ?, changed_at = ?, "
	     "decline_reason = ? WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_TIME, DB_TEXT | DB_NULLABLE, DB_TEXT), DB_NO_ROW);

/* consent: the relationship's access becomes the request's */
DB_STATEMENT(relationship_access_granted,
	     "UPDATE relationships SET admin_access = 'granted', access_roles = ? >> 1, "
	     "access_ends_at = ?, auto_extend = ?, access_changed_at = ?, access_changed_by = ?, "
	     "version = version + 1 WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TIME, DB_INT, DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* a new end is told 30, 7 and 1 day(s) before it again */
DB_STATEMENT(relationship_access_notices_reset,
	     "DELETE FROM relationship_access_notices WHERE relationship_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

/* who hears of an answer: the provider's user who asked (or who made the
 * token that did), told the reseller's name */
DB_STATEMENT(access_request_requester,
	     "SELECT COALESCE(u.email, tu.email) AS email, " NAME_OF_T " AS company "
	     "FROM relationship_access_requests q LEFT JOIN users u ON u.id = q.created_by "
	     "LEFT JOIN api_tokens tk ON tk.id = q.created_by "
	     "LEFT JOIN users tu ON tu.id = tk.created_by "
	     "JOIN tenants t ON t.id = q.reseller_tenant_id "
	     "LEFT JOIN legal_profiles l ON l.tenant_id = t.id WHERE q.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct inviter_row, INVITER_FIELDS));

/* "2027-01-31 14:05" of an API time: the end a mail names */
static void access_ends_on(const char *api_time, char out[17])
{
	snprintf(out, 17, "%.10s %.5s", api_time, api_time + 11);
}

int access_request_create(struct txn *t, const struct actor *a, const char *relationship_id,
			  const struct access_request_new *in, struct access_request *out,
			  struct problem *p)
{
	struct relationship_lock_row rel;
	char id[UUID_STR], token[LINK_TOKEN_LEN + 1], hash[65], link[512], ends_on[17];
	struct db_count pending = {0};
	int rc = -1;
	token[0] = link[0] = '\0';
	if (relationship_lock_of(t, a, relationship_id, &rel, p) != 0)
		goto out;
	/* the reseller's side answers requests, never makes them: as for
	 * another tenant's relationship */
	if (strcmp(rel.provider_tenant_id, a->tenant_id) != 0) {
		problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this provider",
			    relationship_id);
		goto out;
	}
	/* now that the row is locked: after every change before */
	micros_t at = time_micros();
	if (strcmp(rel.state, "active") != 0) {
		problem_refuse(p, PROBLEM_CONFLICT, "relationship_not_active",
			       "the relationship has ended: invite the reseller again");
		goto out;
	}
	struct db_arg r[] = {db_text(relationship_id)};
	if (db_one(t, &access_request_pending, r, &pending) != DB_OK)
		goto out;
	if (pending.n > 0) {
		problem_refuse(p, PROBLEM_CONFLICT, "access_request_pending",
			       "a request for admin access waits for the reseller's answer "
			       "already");
		goto out;
	}
	uuid_v7(id);
	link_token_generate(token, hash);
	struct db_arg ins[] = {db_text(id),
			       db_text(relationship_id),
			       db_text(rel.provider_tenant_id),
			       db_text(rel.reseller_tenant_id),
			       db_int(in->access_roles),
			       db_time(in->access_ends_at),
			       db_int(in->auto_extend),
			       db_text(in->message),
			       db_text(hash),
			       db_time(time_micros_after(in->ttl_seconds)),
			       db_text(a->id),
			       db_time(at)};
	if (db_exec(t, &access_request_insert, ins, NULL) != DB_OK)
		goto out;
	struct db_arg g[] = {db_text(id)};
	switch (db_one(t, &access_request_get, g, out)) {
	case DB_OK: break;
	case DB_EMPTY: txn_abort(t); goto out; /* written above: never */
	default: goto out;
	}
	snprintf(link, sizeof link, "%s/authorize-access?relationship=%s&request=%s&token=%s",
		 in->public_base_url, relationship_id, id, token);
	access_ends_on(out->access_ends_at, ends_on);
	struct mail_var vars[] = {
	    {"link", link}, {"reason", in->message ? in->message : "(none)"}, {"ends_on", ends_on}};
	if (relationship_notify(t, relationship_id, MAIL_RELATIONSHIP_ACCESS_REQUEST,
				RELATIONSHIP_RESELLER, NULL, vars, 3) != 0 ||
	    audit_record(t, a, "relationship_access_request.create", "relationship_access_request",
			 id, at) != DB_OK ||
	    audit_record_in(t, a, rel.reseller_tenant_id, "relationship_access_request.create",
			    "relationship_access_request", id, at) != DB_OK)
		goto out;
	rc = 0;
out:
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	return rc;
}

/* The actor's relationship relationship_id (rel, locked) if the actor's
 * tenant is its reseller, then its request id (q, locked) if token is
 * its: 0, or -1 with p set (404 access_request_not_found) or t failed. */
static int access_request_addressed(struct txn *t, const struct actor *a,
				    const char *relationship_id, const char *id, const char *token,
				    struct relationship_lock_row *rel,
				    struct access_request_lock_row *q, struct problem *p)
{
	char hash[65];
	struct db_arg g[] = {db_text(relationship_id), db_text(a->tenant_id),
			     db_text(a->tenant_id)};
	struct db_arg r[] = {db_text(id), db_text(relationship_id)};
	enum db_status st = db_one(t, &relationship_lock, g, rel);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	if (st == DB_OK)
		st = db_one(t, &access_request_lock, r, q);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	api_token_hash(token, hash);
	/* unknown, another's, the provider's side, or a wrong token: one
	 * answer */
	if (st == DB_EMPTY || strcmp(rel->reseller_tenant_id, a->tenant_id) != 0 ||
	    sodium_memcmp(q->token_hash, hash, 64) != 0)
		return problem_refuse(p, PROBLEM_NOT_FOUND, "access_request_not_found",
				      "no access request %s with this token for this work account",
				      id);
	return 0;
}

/* 0 when a request in state may still be answered, else -1 with p set:
 * 409 access_request_accepted, _declined, _withdrawn, 410
 * access_request_expired. */
static int access_request_open(const char *state, struct problem *p)
{
	if (strcmp(state, "expired") == 0)
		return problem_refuse(p, PROBLEM_GONE, "access_request_expired",
				      "the access request expired; ask the provider for a new one");
	if (strcmp(state, "pending") != 0) {
		char code[40];
		snprintf(code, sizeof code, "access_request_%s", state);
		return problem_refuse(p, PROBLEM_CONFLICT, code, "the access request is %s", state);
	}
	return 0;
}

/* 0 when the relationship rel is active, its requests answerable, else -1
 * with p set: 409 relationship_not_active. */
static int relationship_open(const struct relationship_lock_row *rel, struct problem *p)
{
	if (strcmp(rel->state, "active") != 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "relationship_not_active",
				      "the relationship has ended");
	return 0;
}

/* the relationship's suspension (F5), read under its lock */
DB_STATEMENT(relationship_delegation_row, DELEGATION_COLUMNS "WHERE r.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct delegation_row, DELEGATION_FIELDS));

/* 0 when the provider of relationship relationship_id is authorized in
 * its reseller's region, else -1 with p set (422 region_not_authorized:
 * the request stays pending, to be consented once the region is given
 * back, as the access it would grant is suspended until then) or t
 * failed. */
static int access_request_in_region(struct txn *t, const char *relationship_id, struct problem *p)
{
	struct delegation_row d;
	struct db_arg g[] = {db_text(relationship_id)};
	enum db_status st = db_one(t, &relationship_delegation_row, g, &d);
	if (st == DB_EMPTY)
		txn_abort(t); /* locked above: never */
	if (st != DB_OK)
		return -1;
	if (!d.in_region)
		return problem_refuse(p, PROBLEM_RULE_REFUSED, "region_not_authorized",
				      "the provider is no longer authorized in your region %.64s: "
				      "its admin access is suspended, and this request waits until "
				      "it is authorized again",
				      d.region_code);
	return 0;
}

/* Mails the provider's requester of request id which, with reason (may be
 * NULL: not named): 0, or -1 with t failed. */
static int access_request_tell(struct txn *t, const char *id, const char *provider_tenant_id,
			       enum mail_template which, const char *reason)
{
	struct inviter_row who;
	struct db_arg g[] = {db_text(id)};
	if (db_one(t, &access_request_requester, g, &who) != DB_OK)
		return -1;
	if (who.email[0] == '\0')
		return 0;
	struct mail_var vars[] = {{"company_name", who.company},
				  {"reason", reason != NULL ? reason : "(none given)"}};
	struct outbox_mail m = {provider_tenant_id, which, "en", who.email, vars, 2};
	return outbox_enqueue(t, &m) == DB_OK ? 0 : -1;
}

int access_request_authorize(struct txn *t, const struct actor *a, const char *relationship_id,
			     const char *id, const char *token, struct relationship *out,
			     struct problem *p)
{
	struct relationship_lock_row rel;
	struct access_request_lock_row q;
	/* the relationship first, as every change of it and every delegated
	 * write (which holds it shared) takes it */
	if (access_request_addressed(t, a, relationship_id, id, token, &rel, &q, p) != 0)
		return -1;
	/* now that the rows are locked: after every change before */
	micros_t at = time_micros();
	/* an end withdrew the request: the end is what its link says */
	if (relationship_open(&rel, p) != 0 || access_request_open(q.state, p) != 0)
		return -1;
	if (q.access_ends_at <= at)
		return problem_refuse(p, PROBLEM_RULE_REFUSED, "access_already_ended",
				      "the admin access this request asks for ended already; ask "
				      "the provider for a new request");
	if (access_request_in_region(t, relationship_id, p) != 0)
		return -1;
	struct db_arg u[] = {db_int(q.access_roles), db_time(q.access_ends_at),
			     db_int(q.auto_extend),  db_time(at),
			     db_text(a->id),	     db_text(relationship_id)};
	struct db_arg s[] = {db_text("accepted"), db_time(at), db_text(NULL), db_text(id)};
	struct db_arg n[] = {db_text(relationship_id)};
	if (db_exec(t, &relationship_access_granted, u, NULL) != DB_OK ||
	    db_exec(t, &access_request_answered, s, NULL) != DB_OK ||
	    db_exec(t, &relationship_access_notices_reset, n, NULL) != DB_OK ||
	    audit_record(t, a, "relationship_access_request.accept", "relationship_access_request",
			 id, at) != DB_OK ||
	    audit_record_in(t, a, rel.provider_tenant_id, "relationship_access_request.accept",
			    "relationship_access_request", id, at) != DB_OK ||
	    access_request_tell(t, id, rel.provider_tenant_id,
				MAIL_RELATIONSHIP_ACCESS_REQUEST_ACCEPTED, NULL) != 0)
		return -1;
	return relationship_get(t, a->tenant_id, relationship_id, out, p);
}

int access_request_decline(struct txn *t, const struct actor *a, const char *relationship_id,
			   const char *id, const char *token, const char *reason,
			   struct access_request *out, bool *declined, struct problem *p)
{
	struct relationship_lock_row rel;
	struct access_request_lock_row q;
	struct db_arg g[] = {db_text(id)};
	*declined = false;
	if (access_request_addressed(t, a, relationship_id, id, token, &rel, &q, p) != 0)
		return -1;
	if (strcmp(q.state, "declined") == 0) /* a repeat: as the first */
		return db_one(t, &access_request_get, g, out) == DB_OK ? 0 : -1;
	if (relationship_open(&rel, p) != 0 || access_request_open(q.state, p) != 0)
		return -1;
	/* now that the rows are locked: after every change before */
	micros_t at = time_micros();
	struct db_arg s[] = {db_text("declined"), db_time(at), db_text(reason), db_text(id)};
	if (db_exec(t, &access_request_answered, s, NULL) != DB_OK ||
	    audit_record(t, a, "relationship_access_request.decline", "relationship_access_request",
			 id, at) != DB_OK ||
	    audit_record_in(t, a, rel.provider_tenant_id, "relationship_access_request.decline",
			    "relationship_access_request", id, at) != DB_OK ||
	    access_request_tell(t, id, rel.provider_tenant_id,
				MAIL_RELATIONSHIP_ACCESS_REQUEST_DECLINED, reason) != 0)
		return -1;
	*declined = true;
	return db_one(t, &access_request_get, g, out) == DB_OK ? 0 : -1;
}

/* The requests of a relationship that its end withdraws: those pending
 * and not expired (at most one), locked after the relationship. */
struct open_request_row {
	char id[UUID_STR];
};
#define OPEN_REQUEST_FIELDS(F, T) F(T, id, DB_TEXT)
DB_STATEMENT(access_requests_open,
	     "SELECT q.id FROM relationship_access_requests q WHERE q.relationship_id = ? AND "
	     "q.state = 'pending' AND q.expires_at > UTC_TIMESTAMP(6) ORDER BY q.id FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct open_request_row, OPEN_REQUEST_FIELDS));

/* Request id of rel withdrawn by the actor at at, audited in both
 * tenants: 0, or -1 with t failed. */
static int access_request_withdrawn(struct txn *t, const struct actor *a, const char *id,
				    const struct relationship_lock_row *rel, micros_t at)
{
	struct db_arg s[] = {db_text("withdrawn"), db_time(at), db_text(NULL), db_text(id)};
	const char *other = strcmp(rel->provider_tenant_id, a->tenant_id) == 0
				? rel->reseller_tenant_id
				: rel->provider_tenant_id;
	if (db_exec(t, &access_request_answered, s, NULL) != DB_OK ||
	    audit_record(t, a, "relationship_access_request.withdraw",
			 "relationship_access_request", id, at) != DB_OK ||
	    audit_record_in(t, a, other, "relationship_access_request.withdraw",
			    "relationship_access_request", id, at) != DB_OK)
		return -1;
	return 0;
}

/* An ended relationship takes no consent: its open requests are
 * withdrawn by the actor who ends it, at its end at. 0, or -1 with t
 * failed. */
static int access_requests_end(struct txn *t, const struct actor *a, const char *relationship_id,
			       const struct relationship_lock_row *rel, micros_t at)
{
	void *items = NULL;
	size_t n = 0;
	int rc = 0;
	struct db_arg g[] = {db_text(relationship_id)};
	if (db_all(t, &access_requests_open, g, &items, &n) != DB_OK)
		return -1;
	const struct open_request_row *q = items;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = access_request_withdrawn(t, a, q[i].id, rel, at);
	free(items);
	return rc;
}

int access_request_withdraw(struct txn *t, const struct actor *a, const char *relationship_id,
			    const char *id, struct problem *p)
{
	struct relationship_lock_row rel;
	struct access_request_lock_row q;
	struct db_arg r[] = {db_text(id), db_text(relationship_id)};
	/* the relationship first, as a consent takes it: one of the two
	 * commits before the other reads the request */
	if (relationship_lock_of(t, a, relationship_id, &rel, p) != 0)
		return -1;
	if (strcmp(rel.provider_tenant_id, a->tenant_id) != 0)
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "only the provider withdraws its access request; the reseller "
				   "declines it");
	switch (db_one(t, &access_request_lock, r, &q)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_refuse(p, PROBLEM_NOT_FOUND, "access_request_not_found",
				      "no access request %s of this relationship", id);
	default: return -1;
	}
	if (strcmp(q.state, "accepted") == 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "access_request_accepted",
				      "the reseller granted the request: its access is the "
				      "relationship's now");
	if (strcmp(q.state, "declined") == 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "access_request_declined",
				      "the reseller declined the request");
	if (strcmp(q.state, "withdrawn") == 0)
		return 0; /* idempotent */
	/* now that the rows are locked: after every change before */
	return access_request_withdrawn(t, a, id, &rel, time_micros());
}

/* ---- auto-extension ---- */

struct extending_row {
	char id[UUID_STR], provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR];
	micros_t access_ends_at;
};
#define EXTENDING_FIELDS(F, T)                                                                     \
	F(T, id, DB_TEXT)                                                                          \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT) F(T, access_ends_at, DB_MICROS)
/* through ix_relationships_access_end, the soonest first */
DB_STATEMENT(relationships_extending,
	     "SELECT r.id, r.provider_tenant_id, r.reseller_tenant_id, r.access_ends_at "
	     "FROM relationships r WHERE r.state = 'active' AND r.admin_access = 'granted' AND "
	     "r.access_ends_at <= UTC_TIMESTAMP(6) + INTERVAL 1 DAY AND r.auto_extend = 1 "
	     "ORDER BY r.access_ends_at LIMIT 100",
	     DB_NO_PARAMS, DB_ROW(struct extending_row, EXTENDING_FIELDS));

/* the guard: 0 rows when another host extended it first, or the access
 * changed meanwhile */
DB_STATEMENT(relationship_access_extended,
	     "UPDATE relationships SET access_ends_at = access_ends_at + INTERVAL 180 DAY, "
	     "version = version + 1 WHERE id = ? AND access_ends_at = ? AND state = 'active' "
	     "AND admin_access = 'granted' AND auto_extend = 1",
	     DB_PARAMS(DB_TEXT, DB_TIME), DB_NO_ROW);

/* Extends r by ACCESS_EXTEND_DAYS if no one did since it was read, with
 * its audit and record: 0 (*taken whether it did), or -1 with t failed. */
static int access_extend_one(struct txn *t, const struct extending_row *r,
			     relationship_notice_record record, bool *taken)
{
	struct actor sys = {.type = "system"};
	struct relationship rel;
	struct problem p = {0};
	unsigned long long changed = 0;
	micros_t at = time_micros();
	struct db_arg u[] = {db_text(r->id), db_time(r->access_ends_at)};
	struct db_arg k[] = {db_text(r->id)};
	int rc = -1;
	*taken = false;
	if (db_exec(t, &relationship_access_extended, u, &changed) != DB_OK)
		goto out;
	if (changed == 0) { /* another host, or a change, came first */
		rc = 0;
		goto out;
	}
	if (db_exec(t, &relationship_access_notices_reset, k, NULL) != DB_OK ||
	    audit_record_in(t, &sys, r->provider_tenant_id, "relationship.admin_access.extend",
			    "relationship", r->id, at) != DB_OK ||
	    audit_record_in(t, &sys, r->reseller_tenant_id, "relationship.admin_access.extend",
			    "relationship", r->id, at) != DB_OK ||
	    relationship_get(t, r->provider_tenant_id, r->id, &rel, &p) != 0 ||
	    record(t, &rel) != 0)
		goto out;
	*taken = true;
	rc = 0;
out:
	problem_clear(&p);
	return rc;
}

int relationship_access_extend(struct txn *t, relationship_notice_record record,
			       unsigned long long *extended)
{
	void *items = NULL;
	size_t n = 0;
	int rc = 0;
	*extended = 0;
	if (db_all(t, &relationships_extending, NULL, &items, &n) != DB_OK)
		return -1;
	const struct extending_row *r = items;
	for (size_t i = 0; i < n && rc == 0; i++) {
		bool taken = false;
		rc = access_extend_one(t, &r[i], record, &taken);
		if (taken)
			(*extended)++;
	}
	free(items);
	return rc;
}
