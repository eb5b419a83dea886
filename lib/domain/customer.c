#include "domain/customer.h"

#include "auth/auth.h"
#include "core/fault.h"
#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "domain/agreement.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name: the legal name if it has one, else the work account's */
#define NAME(t, l) "COALESCE(" l ".company_name, " t ".display_name)"

/* a relationship of the tenant (either side), read-locked alone: its end
 * waits for the change that relies on it, and nothing else does */
const struct db_stmt_def stmt_customer_pair_lock = {
    STMT_customer_pair_lock, "customer_pair_lock",
    "SELECT provider_tenant_id, reseller_tenant_id, state FROM relationships WHERE id = ? AND "
    "(provider_tenant_id = ? OR reseller_tenant_id = ?) LOCK IN SHARE MODE",
    3, 3};

/* the pair's names, domains and the reseller's region (a plain read) */
const struct db_stmt_def stmt_customer_pair_names = {
    STMT_customer_pair_names, "customer_pair_names",
    "SELECT c.region_code, " NAME("rt", "rl") ", rt.domain, " NAME(
	"pt", "pl") ", pt.domain FROM relationships r "
		    "JOIN tenants rt ON rt.id = r.reseller_tenant_id "
		    "LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id "
		    "LEFT JOIN countries c ON c.code = rt.csp_country "
		    "JOIN tenants pt ON pt.id = r.provider_tenant_id "
		    "LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id WHERE r.id = ?",
    1, 5};

const struct db_stmt_def stmt_customer_invitation_insert = {
    STMT_customer_invitation_insert, "customer_invitation_insert",
    "INSERT INTO customer_invitations (id, relationship_id, reseller_tenant_id, "
    "provider_tenant_id, customer_email, customer_domain, company_name, country, language, "
    "token_hash, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?)",
    13, 0};

#define CUSTOMER_INVITATION_COLUMNS                                                                \
	"i.id, i.relationship_id, i.reseller_tenant_id, " NAME(                                    \
	    "rt", "rl") ", rt.domain, "                                                            \
			"i.provider_tenant_id, " NAME(                                             \
			    "pt", "pl") ", pt.domain, "                                            \
					"i.customer_email, "                                       \
					"i.company_name, "                                         \
					"i.country, "                                              \
					"i.language, "                                             \
					"IF(i.state = 'pending' AND i.expires_at <= "              \
					"UTC_TIMESTAMP(6), 'expired', "                            \
					"i.state), i.expires_at, i.created_at, i.created_by, "     \
					"i.customer_tenant_id "                                    \
					"FROM customer_invitations i "                             \
					"JOIN tenants rt ON rt.id = i.reseller_tenant_id "         \
					"LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id "     \
					"JOIN tenants pt ON pt.id = i.provider_tenant_id "         \
					"LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "
#define CUSTOMER_INVITATION_N 17

const struct db_stmt_def stmt_customer_invitation_get = {
    STMT_customer_invitation_get, "customer_invitation_get",
    "SELECT " CUSTOMER_INVITATION_COLUMNS "WHERE i.id = ?", 1, CUSTOMER_INVITATION_N};

const struct db_stmt_def stmt_customer_invitation_list = {
    STMT_customer_invitation_list, "customer_invitation_list",
    "SELECT " CUSTOMER_INVITATION_COLUMNS "WHERE i.relationship_id = ? AND (? = '' OR i.id > ?) "
    "ORDER BY i.id LIMIT ?",
    4, CUSTOMER_INVITATION_N};

const struct db_stmt_def stmt_customer_invitation_count = {
    STMT_customer_invitation_count, "customer_invitation_count",
    "SELECT COUNT(*) FROM customer_invitations WHERE relationship_id = ?", 1, 1};

/* addressed to the tenant's domain */
const struct db_stmt_def stmt_customer_invitation_received = {
    STMT_customer_invitation_received, "customer_invitation_received",
    "SELECT " CUSTOMER_INVITATION_COLUMNS "WHERE i.customer_domain = (SELECT domain FROM tenants "
    "WHERE id = ?) AND (? = '' OR i.id > ?) ORDER BY i.id LIMIT ?",
    4, CUSTOMER_INVITATION_N};

const struct db_stmt_def stmt_customer_invitation_received_count = {
    STMT_customer_invitation_received_count, "customer_invitation_received_count",
    "SELECT COUNT(*) FROM customer_invitations WHERE customer_domain = (SELECT domain FROM "
    "tenants WHERE id = ?)",
    1, 1};

/* the invitation alone: locking it must not lock the tenants it names */
const struct db_stmt_def stmt_customer_invitation_lock = {
    STMT_customer_invitation_lock, "customer_invitation_lock",
    "SELECT IF(state = 'pending' AND expires_at <= UTC_TIMESTAMP(6), 'expired', state), "
    "token_hash, customer_domain, relationship_id, reseller_tenant_id, provider_tenant_id, "
    "company_name, country FROM customer_invitations WHERE id = ? FOR UPDATE",
    1, 8};

const struct db_stmt_def stmt_customer_invitation_set_state = {
    STMT_customer_invitation_set_state, "customer_invitation_set_state",
    "UPDATE customer_invitations SET state = ?, changed_at = ?, customer_tenant_id = ? "
    "WHERE id = ?",
    4, 0};

const struct db_stmt_def stmt_relationship_sides = {
    STMT_relationship_sides, "relationship_sides",
    "SELECT provider_tenant_id, reseller_tenant_id FROM relationships WHERE id = ? AND "
    "(provider_tenant_id = ? OR reseller_tenant_id = ?)",
    3, 2};

const struct db_stmt_def stmt_tenant_domain = {STMT_tenant_domain, "tenant_domain",
					       "SELECT domain FROM tenants WHERE id = ?", 1, 1};

const struct db_stmt_def stmt_customer_relationship_insert = {
    STMT_customer_relationship_insert, "customer_relationship_insert",
    "INSERT INTO customer_relationships (id, customer_tenant_id, partner_tenant_id, "
    "partner_type, company_name, country, invitation_id, created_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    9, 0};

/* the customer's active relationship with a partner, read-locked: an order
 * that relies on it commits before the relationship can end */
const struct db_stmt_def stmt_customer_relationship_active = {
    STMT_customer_relationship_active, "customer_relationship_active",
    "SELECT id FROM customer_relationships WHERE customer_tenant_id = ? AND "
    "partner_tenant_id = ? AND active = 1 LOCK IN SHARE MODE",
    2, 1};

#define CUSTOMER_RELATIONSHIP_COLUMNS                                                              \
	"cr.id, cr.customer_tenant_id, cr.partner_tenant_id, " NAME(                               \
	    "pt", "pl") ", pt.domain, cr.partner_type, cr.company_name, cr.country, cr.state, "    \
			"cr.invitation_id, cr.created_at, cr.ended_at, cr.ended_by, cr.version, "  \
			"ct.domain FROM customer_relationships cr "                                \
			"JOIN tenants pt ON pt.id = cr.partner_tenant_id "                         \
			"LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "                     \
			"JOIN tenants ct ON ct.id = cr.customer_tenant_id "
#define CUSTOMER_RELATIONSHIP_N 15

const struct db_stmt_def stmt_customer_relationship_get = {
    STMT_customer_relationship_get, "customer_relationship_get",
    "SELECT " CUSTOMER_RELATIONSHIP_COLUMNS "WHERE cr.id = ?", 1, CUSTOMER_RELATIONSHIP_N};

const struct db_stmt_def stmt_customer_relationship_list = {
    STMT_customer_relationship_list, "customer_relationship_list",
    "SELECT " CUSTOMER_RELATIONSHIP_COLUMNS "WHERE cr.customer_tenant_id = ? AND "
    "(? = '' OR cr.id > ?) ORDER BY cr.id LIMIT ?",
    4, CUSTOMER_RELATIONSHIP_N};

const struct db_stmt_def stmt_customer_relationship_count = {
    STMT_customer_relationship_count, "customer_relationship_count",
    "SELECT COUNT(*) FROM customer_relationships WHERE customer_tenant_id = ?", 1, 1};

const struct db_stmt_def stmt_customer_relationship_lock = {
    STMT_customer_relationship_lock, "customer_relationship_lock",
    "SELECT partner_tenant_id, state FROM customer_relationships WHERE id = ? AND "
    "customer_tenant_id = ? FOR UPDATE",
    2, 2};

const struct db_stmt_def stmt_customer_relationship_end = {
    STMT_customer_relationship_end, "customer_relationship_end",
    "UPDATE customer_relationships SET state = 'ended', active = NULL, ended_at = ?, "
    "ended_by = ?, version = version + 1 WHERE id = ? AND state = 'active'",
    3, 0};

/* the partner's active customers; with an other partner (else NULL), only
 * those that partner has too */
#define SHARED_WITH                                                                                \
	"(? IS NULL OR EXISTS (SELECT 1 FROM customer_relationships o WHERE "                      \
	"o.customer_tenant_id = cr.customer_tenant_id AND o.partner_tenant_id = ? AND "            \
	"o.active = 1)) "

const struct db_stmt_def stmt_customer_list = {
    STMT_customer_list, "customer_list",
    "SELECT " CUSTOMER_RELATIONSHIP_COLUMNS "WHERE cr.partner_tenant_id = ? AND cr.active = 1 "
    "AND (? = '' OR cr.customer_tenant_id > ?) AND " SHARED_WITH
    "ORDER BY cr.customer_tenant_id LIMIT ?",
    6, CUSTOMER_RELATIONSHIP_N};

const struct db_stmt_def stmt_customer_count = {
    STMT_customer_count, "customer_count",
    "SELECT COUNT(*) FROM customer_relationships cr WHERE cr.partner_tenant_id = ? AND "
    "cr.active = 1 AND " SHARED_WITH,
    3, 1};

/* the partner's newest relationship with the customer, the active one
 * first */
const struct db_stmt_def stmt_customer_get = {
    STMT_customer_get, "customer_get",
    "SELECT " CUSTOMER_RELATIONSHIP_COLUMNS "WHERE cr.partner_tenant_id = ? AND "
    "cr.customer_tenant_id = ? ORDER BY cr.active DESC, cr.id DESC LIMIT 1",
    2, CUSTOMER_RELATIONSHIP_N};

static void api_time(const struct db_rows *rows, size_t i, size_t col, char out[TIME_STR])
{
	out[0] = '\0';
	if (db_cell(rows, i, col) != NULL)
		time_sql_to_api(db_cell(rows, i, col), out);
}

static void party_read(const struct db_rows *rows, size_t i, size_t col, struct party *v)
{
	db_cell_copy(rows, i, col, v->tenant_id, sizeof v->tenant_id);
	db_cell_copy(rows, i, col + 1, v->name, sizeof v->name);
	db_cell_copy(rows, i, col + 2, v->domain, sizeof v->domain);
}

static void invitation_read(const struct db_rows *rows, size_t i, void *item)
{
	struct customer_invitation *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->relationship_id, sizeof v->relationship_id);
	party_read(rows, i, 2, &v->reseller);
	party_read(rows, i, 5, &v->provider);
	db_cell_copy(rows, i, 8, v->customer_email, sizeof v->customer_email);
	db_cell_copy(rows, i, 9, v->company_name, sizeof v->company_name);
	db_cell_copy(rows, i, 10, v->country, sizeof v->country);
	db_cell_copy(rows, i, 11, v->language, sizeof v->language);
	db_cell_copy(rows, i, 12, v->state, sizeof v->state);
	api_time(rows, i, 13, v->expires_at);
	api_time(rows, i, 14, v->created_at);
	db_cell_copy(rows, i, 15, v->created_by, sizeof v->created_by);
	db_cell_copy(rows, i, 16, v->customer_tenant_id, sizeof v->customer_tenant_id);
}

static void relationship_read(const struct db_rows *rows, size_t i, void *item)
{
	struct customer_relationship *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->customer_tenant_id, sizeof v->customer_tenant_id);
	party_read(rows, i, 2, &v->partner);
	db_cell_copy(rows, i, 5, v->partner_type, sizeof v->partner_type);
	db_cell_copy(rows, i, 6, v->company_name, sizeof v->company_name);
	db_cell_copy(rows, i, 7, v->country, sizeof v->country);
	db_cell_copy(rows, i, 8, v->state, sizeof v->state);
	db_cell_copy(rows, i, 9, v->invitation_id, sizeof v->invitation_id);
	api_time(rows, i, 10, v->created_at);
	api_time(rows, i, 11, v->ended_at);
	db_cell_copy(rows, i, 12, v->ended_by, sizeof v->ended_by);
	v->version = strtoul(db_cell(rows, i, 13) ? db_cell(rows, i, 13) : "0", NULL, 10);
}

static void customer_read(const struct db_rows *rows, size_t i, void *item)
{
	struct customer *v = item;
	memset(v, 0, sizeof *v);
	relationship_read(rows, i, &v->relationship);
	memcpy(v->id, v->relationship.customer_tenant_id, UUID_STR);
	db_cell_copy(rows, i, 14, v->domain, sizeof v->domain);
}

static enum db_status invitation_read_one(struct db *db, const char *id,
					  struct customer_invitation *out)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg g[] = {db_str(id)};
	enum db_status rc = legacy_exec(db, STMT_customer_invitation_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows > 0)
		invitation_read(&rows, 0, out);
	db_rows_free(&rows);
	return rc;
}

struct create_work {
	const struct actor *a;
	const struct customer_invitation_new *in;
	struct customer_invitation *out;
};

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	const struct actor *a = w->a;
	struct db_rows pair = {0, 0, NULL}, rows = {0, 0, NULL};
	char id[UUID_STR], at[TIME_STR], until[TIME_STR], token[LINK_TOKEN_LEN + 1], hash[65];
	char link[512], provider[UUID_STR];
	struct db_arg r[] = {db_str(w->in->relationship_id), db_str(a->tenant_id),
			     db_str(a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_customer_pair_lock, r, &pair, NULL);
	if (rc != DB_OK)
		goto out;
	if (pair.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no relationship %s of this work account", w->in->relationship_id);
		goto out;
	}
	db_cell_copy(&pair, 0, 0, provider, sizeof provider);
	/* the customers are the reseller's: a provider invites them in the
	 * reseller's work account, as its delegated admin */
	if (strcmp(db_cell(&pair, 0, 1), a->tenant_id) != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "delegation_required",
			       "a provider invites the reseller's customers through its delegated "
			       "admin access: send On-Behalf-Of-Tenant: %s",
			       db_cell(&pair, 0, 1));
		goto out;
	}
	if (a->delegated_from != NULL && strcmp(a->delegated_from, provider) != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "other_relationship",
			       "delegated access admits inviting customers through its own "
			       "relationship only");
		goto out;
	}
	if (strcmp(db_cell(&pair, 0, 2), "active") != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "relationship_not_active",
			       "the relationship %s has ended", w->in->relationship_id);
		goto out;
	}
	struct db_arg n[] = {db_str(w->in->relationship_id)};
	struct db_arg c[] = {db_str(w->in->country)};
	db_rows_free(&pair);
	if ((rc = legacy_agreement_require_signed(db, a->tenant_id, p)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_customer_pair_names, n, &pair, NULL)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_country_region, c, &rows, NULL)) != DB_OK)
		goto out;
	const char *region = db_cell(&pair, 0, 0);
	if (rows.n_rows == 0 || region == NULL || strcmp(db_cell(&rows, 0, 0), region) != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "country_not_in_region",
			       "%s is not in the reseller's CSP region %.64s", w->in->country,
			       region ? region : "(none)");
		goto out;
	}
	const char *domain = strrchr(w->in->customer_email, '@') + 1;
	if (strcmp(domain, db_cell(&pair, 0, 2)) == 0 ||
	    strcmp(domain, db_cell(&pair, 0, 4)) == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "own_domain",
			       "a customer is another work account than the reseller's and the "
			       "provider's");
		goto out;
	}
	uuid_v7(id);
	time_now(at, NULL);
	time_sql_after(w->in->ttl_seconds, until);
	link_token_generate(token, hash);
	struct db_arg ins[] = {db_str(id),
			       db_str(w->in->relationship_id),
			       db_str(a->tenant_id),
			       db_str(provider),
			       db_str(w->in->customer_email),
			       db_str(domain),
			       db_str(w->in->company_name),
			       db_str(w->in->country),
			       db_str(w->in->language),
			       db_str(hash),
			       db_str(until),
			       db_str(a->id),
			       db_str(at)};
	if ((rc = legacy_exec(db, STMT_customer_invitation_insert, ins, NULL, NULL)) != DB_OK)
		goto out;
	snprintf(link, sizeof link, "%s/accept-customer-invitation?invitation=%s&token=%s",
		 w->in->public_base_url, id, token);
	struct mail_var vars[] = {{"company_name", db_cell(&pair, 0, 1)},
				  {"provider_name", db_cell(&pair, 0, 3)},
				  {"link", link}};
	struct outbox_mail m = {a->tenant_id,
				MAIL_CUSTOMER_INVITATION,
				w->in->language,
				w->in->customer_email,
				vars,
				3};
	if ((rc = legacy_outbox_enqueue(db, &m)) != DB_OK ||
	    (rc = legacy_audit_record(db, a, "customer_invitation.create", "customer_invitation",
				      id, at)) != DB_OK)
		goto out;
	/* the provider's log has it already when its admin sent it */
	if (a->delegated_from == NULL &&
	    (rc = legacy_audit_record_in(db, a, provider, "customer_invitation.create",
					 "customer_invitation", id, at)) != DB_OK)
		goto out;
	rc = invitation_read_one(db, id, w->out);
out:
	sodium_memzero(token, sizeof token);
	db_rows_free(&pair);
	db_rows_free(&rows);
	return rc;
}

int customer_invitation_create(struct db *db, const struct actor *a,
			       const struct customer_invitation_new *in,
			       struct customer_invitation *out, struct problem *p)
{
	struct create_work w = {a, in, out};
	memset(out, 0, sizeof *out);
	return db_run(db, create_run, &w, p);
}

struct sides_work {
	const char *tenant_id, *relationship_id;
	const char *delegated_from; /* a delegated caller's own tenant, or NULL */
	char other[UUID_STR];	    /* the relationship's other side */
};

static enum db_status sides_read(struct db *db, void *arg, struct problem *p)
{
	struct sides_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->relationship_id), db_str(w->tenant_id),
			     db_str(w->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_relationship_sides, a, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0)
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no relationship %s of this work account", w->relationship_id);
	/* a provider acting for the reseller sees what goes through its own
	 * relationship, not the reseller's with other providers */
	else if (rc == DB_OK && w->delegated_from != NULL &&
		 strcmp(db_cell(&rows, 0, 0), w->delegated_from) != 0)
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "other_relationship",
			       "delegated access admits the provider's own relationship only");
	else if (rc == DB_OK)
		db_cell_copy(&rows, 0, strcmp(db_cell(&rows, 0, 0), w->tenant_id) == 0 ? 1 : 0,
			     w->other, sizeof w->other);
	db_rows_free(&rows);
	return rc;
}

/* One page of invitations by pg's statements. */
static int invitation_page(struct db *db, struct legacy_page *pg,
			   struct customer_invitation **items, size_t *n, long *total,
			   struct problem *p)
{
	if (legacy_page_read(db, pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg->rows, sizeof **items, invitation_read, n);
	*total = pg->total;
	return 0;
}

int customer_invitation_received(struct db *db, const char *tenant_id, const char *after,
				 long limit, struct customer_invitation **items, size_t *n,
				 long *total, struct problem *p)
{
	struct legacy_page pg = {STMT_customer_invitation_received,
				 STMT_customer_invitation_received_count,
				 tenant_id,
				 after,
				 limit,
				 {0, 0, NULL},
				 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	return invitation_page(db, &pg, items, n, total, p);
}

int customer_invitation_list(struct db *db, const char *tenant_id, const char *delegated_from,
			     const char *relationship_id, const char *after, long limit,
			     struct customer_invitation **items, size_t *n, long *total,
			     struct problem *p)
{
	struct sides_work s = {tenant_id, relationship_id, delegated_from, ""};
	struct legacy_page pg = {STMT_customer_invitation_list,
				 STMT_customer_invitation_count,
				 relationship_id,
				 after,
				 limit,
				 {0, 0, NULL},
				 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (db_read(db, sides_read, &s, p) != 0)
		return -1;
	return invitation_page(db, &pg, items, n, total, p);
}

struct withdraw_work {
	const struct actor *a;
	const char *id;
};

static enum db_status withdraw_run(struct db *db, void *arg, struct problem *p)
{
	struct withdraw_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR], provider[UUID_STR];
	struct db_arg g[] = {db_str(w->id)};
	enum db_status rc = legacy_exec(db, STMT_customer_invitation_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0 || strcmp(db_cell(&rows, 0, 4), w->a->tenant_id) != 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no customer invitation %s of this work account", w->id);
		goto out;
	}
	db_cell_copy(&rows, 0, 5, provider, sizeof provider);
	if (w->a->delegated_from != NULL && strcmp(w->a->delegated_from, provider) != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "other_relationship",
			       "delegated access admits the provider's own invitations only");
		goto out;
	}
	const char *state = db_cell(&rows, 0, 0);
	if (strcmp(state, "accepted") == 0) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "invitation_accepted",
			       "the customer accepted the invitation already");
		goto out;
	}
	if (strcmp(state, "withdrawn") == 0)
		goto out; /* idempotent */
	time_now(at, NULL);
	struct db_arg u[] = {db_str("withdrawn"), db_str(at), db_str(NULL), db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_customer_invitation_set_state, u, NULL, NULL)) == DB_OK)
		rc = legacy_audit_record(db, w->a, "customer_invitation.withdraw",
					 "customer_invitation", w->id, at);
	/* the provider's log has it already when its admin withdrew it */
	if (rc == DB_OK && w->a->delegated_from == NULL)
		rc = legacy_audit_record_in(db, w->a, provider, "customer_invitation.withdraw",
					    "customer_invitation", w->id, at);
out:
	db_rows_free(&rows);
	return rc;
}

int customer_invitation_withdraw(struct db *db, const struct actor *a, const char *id,
				 struct problem *p)
{
	struct withdraw_work w = {a, id};
	return db_run(db, withdraw_run, &w, p);
}

static enum db_status relationship_read_one(struct db *db, const char *id,
					    struct customer_relationship *out)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg g[] = {db_str(id)};
	enum db_status rc = legacy_exec(db, STMT_customer_relationship_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows > 0)
		relationship_read(&rows, 0, out);
	db_rows_free(&rows);
	return rc;
}

/* The customer's active relationship with partner: the one standing, or a
 * new one. *made tells which. */
static enum db_status relationship_make(struct db *db, const struct actor *a, const char *partner,
					const char *partner_type, const char *invitation_id,
					const struct db_rows *inv, const char *at,
					char id[UUID_STR], bool *made)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg f[] = {db_str(a->tenant_id), db_str(partner)};
	enum db_status rc = legacy_exec(db, STMT_customer_relationship_active, f, &rows, NULL);
	*made = false;
	if (rc == DB_OK && rows.n_rows > 0) {
		db_cell_copy(&rows, 0, 0, id, UUID_STR);
		goto out;
	}
	if (rc != DB_OK)
		goto out;
	uuid_v7(id);
	struct db_arg ins[] = {db_str(id),
			       db_str(a->tenant_id),
			       db_str(partner),
			       db_str(partner_type),
			       db_str(db_cell(inv, 0, 6)),
			       db_str(db_cell(inv, 0, 7)),
			       db_str(invitation_id),
			       db_str(a->id),
			       db_str(at)};
	rc = legacy_exec(db, STMT_customer_relationship_insert, ins, NULL, NULL);
	*made = rc == DB_OK;
	/* another invitation's acceptance made it meanwhile and committed (the
	 * insert waited for it): the locking read sees it now */
	if (rc == DB_DUPLICATE) {
		db_rows_free(&rows);
		rc = legacy_exec(db, STMT_customer_relationship_active, f, &rows, NULL);
	}
	if (*made == false && rc == DB_OK) {
		if (rows.n_rows > 0)
			db_cell_copy(&rows, 0, 0, id, UUID_STR);
		else
			rc = DB_RETRY; /* ended again since: run the whole work again */
	}
out:
	db_rows_free(&rows);
	return rc;
}

struct accept_work {
	const struct actor *a;
	const char *id, *hash;
	struct customer_acceptance *out;
};

static enum db_status accept_run(struct db *db, void *arg, struct problem *p)
{
	struct accept_work *w = arg;
	const struct actor *a = w->a;
	struct db_rows inv = {0, 0, NULL}, me = {0, 0, NULL}, rows = {0, 0, NULL};
	char at[TIME_STR], reseller[UUID_STR], provider[UUID_STR], pair[UUID_STR];
	char reseller_cr[UUID_STR], provider_cr[UUID_STR];
	bool made_reseller = false, made_provider = false;
	struct db_arg t[] = {db_str(a->tenant_id)};
	struct db_arg g[] = {db_str(w->id)};
	enum db_status rc = legacy_exec(db, STMT_tenant_domain, t, &me, NULL);
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_customer_invitation_lock, g, &inv, NULL);
	if (rc != DB_OK)
		goto out;
	/* unknown, another's, or a wrong token: one answer */
	if (inv.n_rows == 0 || me.n_rows == 0 ||
	    strcmp(db_cell(&inv, 0, 2), db_cell(&me, 0, 0)) != 0 ||
	    sodium_memcmp(db_cell(&inv, 0, 1), w->hash, 64) != 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, "invitation_not_found",
			       "no customer invitation %s with this token for this work account",
			       w->id);
		goto out;
	}
	const char *state = db_cell(&inv, 0, 0);
	if (strcmp(state, "accepted") == 0 || strcmp(state, "withdrawn") == 0) {
		rc = db_refuse(p, PROBLEM_CONFLICT,
			       strcmp(state, "accepted") == 0 ? "invitation_accepted"
							      : "invitation_withdrawn",
			       "the invitation is %s", state);
		goto out;
	}
	if (strcmp(state, "expired") == 0) {
		rc = db_refuse(p, PROBLEM_GONE, "invitation_expired",
			       "the invitation expired; ask the reseller for a new one");
		goto out;
	}
	db_cell_copy(&inv, 0, 3, pair, sizeof pair);
	db_cell_copy(&inv, 0, 4, reseller, sizeof reseller);
	db_cell_copy(&inv, 0, 5, provider, sizeof provider);
	struct db_arg r[] = {db_str(pair), db_str(reseller), db_str(reseller)};
	if ((rc = legacy_exec(db, STMT_customer_pair_lock, r, &rows, NULL)) != DB_OK)
		goto out;
	if (rows.n_rows == 0 || strcmp(db_cell(&rows, 0, 2), "active") != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "relationship_not_active",
			       "the reseller's relationship with the provider has ended");
		goto out;
	}
	time_now(at, NULL);
	rc = relationship_make(db, a, reseller, "indirect_reseller", w->id, &inv, at, reseller_cr,
			       &made_reseller);
	if (rc != DB_OK)
		goto out;
	/* a crash here must leave neither relationship */
	fault_point("customer.between_relationships");
	/* the operator may have changed the provider's regions since */
	db_rows_free(&rows);
	struct db_arg c[] = {db_str(db_cell(&inv, 0, 7))};
	if ((rc = legacy_exec(db, STMT_country_region, c, &rows, NULL)) != DB_OK)
		goto out;
	struct db_arg pr[] = {db_str(provider), db_str(db_cell(&rows, 0, 0))};
	db_rows_free(&me);
	if ((rc = legacy_exec(db, STMT_provider_in_region, pr, &me, NULL)) != DB_OK)
		goto out;
	if (strcmp(db_cell(&me, 0, 0), "0") == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "region_not_authorized",
			       "the provider is no longer authorized in the region of %s: neither "
			       "relationship was made",
			       db_cell(&inv, 0, 7));
		goto out;
	}
	rc = relationship_make(db, a, provider, "indirect_provider", w->id, &inv, at, provider_cr,
			       &made_provider);
	if (rc != DB_OK)
		goto out;
	if (!made_reseller && !made_provider) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "customer_relationships_exist",
			       "this work account is a customer of the reseller and of the "
			       "provider already");
		goto out;
	}
	struct db_arg u[] = {db_str("accepted"), db_str(at), db_str(a->tenant_id), db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_customer_invitation_set_state, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_record_three(db, a, reseller, provider, "customer_invitation.accept",
					    "customer_invitation", w->id, at)) != DB_OK)
		goto out;
	if ((rc = invitation_read_one(db, w->id, &w->out->invitation)) == DB_OK &&
	    (rc = relationship_read_one(db, reseller_cr, &w->out->reseller)) == DB_OK)
		rc = relationship_read_one(db, provider_cr, &w->out->provider);
out:
	db_rows_free(&inv);
	db_rows_free(&me);
	db_rows_free(&rows);
	return rc;
}

int customer_invitation_accept(struct db *db, const struct actor *a, const char *id,
			       const char *token, struct customer_acceptance *out,
			       struct problem *p)
{
	char hash[65];
	api_token_hash(token, hash);
	struct accept_work w = {a, id, hash, out};
	memset(out, 0, sizeof *out);
	return db_run(db, accept_run, &w, p);
}

int customer_relationship_list(struct db *db, const char *customer_tenant_id, const char *after,
			       long limit, struct customer_relationship **items, size_t *n,
			       long *total, struct problem *p)
{
	struct legacy_page pg = {STMT_customer_relationship_list,
				 STMT_customer_relationship_count,
				 customer_tenant_id,
				 after,
				 limit,
				 {0, 0, NULL},
				 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, relationship_read, n);
	*total = pg.total;
	return 0;
}

struct end_work {
	const struct actor *a;
	const char *id;
};

static enum db_status end_run(struct db *db, void *arg, struct problem *p)
{
	struct end_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR], partner[UUID_STR];
	unsigned long long changed = 0;
	struct db_arg g[] = {db_str(w->id), db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_customer_relationship_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no customer relationship %s of this work account", w->id);
		goto out;
	}
	db_cell_copy(&rows, 0, 0, partner, sizeof partner);
	time_now(at, NULL);
	struct db_arg u[] = {db_str(at), db_str(w->a->id), db_str(w->id)};
	rc = legacy_exec(db, STMT_customer_relationship_end, u, NULL, &changed);
	if (rc != DB_OK || changed == 0)
		goto out; /* ended already: idempotent */
	if ((rc = legacy_audit_record(db, w->a, "customer_relationship.end",
				      "customer_relationship", w->id, at)) == DB_OK)
		rc = legacy_audit_record_in(db, w->a, partner, "customer_relationship.end",
					    "customer_relationship", w->id, at);
out:
	db_rows_free(&rows);
	return rc;
}

int customer_relationship_end(struct db *db, const struct actor *a, const char *id,
			      struct problem *p)
{
	struct end_work w = {a, id};
	return db_run(db, end_run, &w, p);
}

struct list_work {
	const char *tenant_id, *after, *other;
	long limit;
	struct db_rows rows;
	long total;
};

static enum db_status customers_read(struct db *db, void *arg, struct problem *p)
{
	struct list_work *w = arg;
	struct db_rows count = {0, 0, NULL};
	struct db_arg l[] = {db_str(w->tenant_id), db_str(w->after), db_str(w->after),
			     db_str(w->other),	   db_str(w->other), db_int(w->limit)};
	struct db_arg c[] = {db_str(w->tenant_id), db_str(w->other), db_str(w->other)};
	(void)p;
	db_rows_free(&w->rows);
	enum db_status rc = legacy_exec(db, STMT_customer_list, l, &w->rows, NULL);
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_customer_count, c, &count, NULL);
	if (rc == DB_OK)
		w->total = atol(db_cell(&count, 0, 0));
	db_rows_free(&count);
	return rc;
}

int customer_list(struct db *db, const char *partner_tenant_id, const char *delegated_from,
		  const char *relationship_id, const char *after, long limit,
		  struct customer **items, size_t *n, long *total, struct problem *p)
{
	struct sides_work s = {partner_tenant_id, relationship_id, delegated_from, ""};
	struct list_work w = {partner_tenant_id, after, NULL, limit, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (relationship_id != NULL) {
		if (db_read(db, sides_read, &s, p) != 0)
			return -1;
		w.other = s.other;
	}
	if (db_read(db, customers_read, &w, p) != 0) {
		db_rows_free(&w.rows); /* the list, when the count failed */
		return -1;
	}
	*items = db_rows_items(&w.rows, sizeof **items, customer_read, n);
	*total = w.total;
	return 0;
}

struct get_work {
	const char *tenant_id, *id;
	struct customer *out;
};

static enum db_status customer_read_one(struct db *db, void *arg, struct problem *p)
{
	struct get_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg g[] = {db_str(w->tenant_id), db_str(w->id)};
	enum db_status rc = legacy_exec(db, STMT_customer_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0)
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL, "no customer %s of this work account",
			       w->id);
	else if (rc == DB_OK)
		customer_read(&rows, 0, w->out);
	db_rows_free(&rows);
	return rc;
}

int customer_get(struct db *db, const char *partner_tenant_id, const char *customer_id,
		 struct customer *out, struct problem *p)
{
	struct get_work w = {partner_tenant_id, customer_id, out};
	memset(out, 0, sizeof *out);
	return db_read(db, customer_read_one, &w, p);
}
