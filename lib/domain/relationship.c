#include "domain/relationship.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name: the legal name if it has one, else the work account's */
#define PARTY(t, l) "COALESCE(" l ".company_name, " t ".display_name), " t ".domain"

const struct db_stmt_def stmt_invitation_insert = {
    STMT_invitation_insert, "invitation_insert",
    "INSERT INTO relationship_invitations (id, provider_tenant_id, reseller_email, "
    "reseller_domain, message, access_roles, access_ends_at, token_hash, expires_at, "
    "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    11, 0};

const struct db_stmt_def stmt_provider_of = {
    STMT_provider_of, "provider_of",
    "SELECT " PARTY("t",
		    "l") " FROM providers p JOIN tenants t ON t.id = p.tenant_id "
			 "LEFT JOIN legal_profiles l ON l.tenant_id = t.id WHERE p.tenant_id = ?",
    1, 2};

#define INVITATION_COLUMNS                                                                         \
	"i.id, i.provider_tenant_id, " PARTY(                                                      \
	    "t",                                                                                   \
	    "l") ", i.reseller_email, i.message, "                                                 \
		 "i.access_roles, i.access_ends_at, IF(i.state = 'pending' AND i.expires_at <= "   \
		 "UTC_TIMESTAMP(6), 'expired', i.state), i.expires_at, i.created_at, "             \
		 "i.relationship_id, "                                                             \
		 "i.token_hash, i.reseller_domain, i.created_by FROM relationship_invitations i "  \
		 "JOIN tenants t ON t.id = i.provider_tenant_id "                                  \
		 "LEFT JOIN legal_profiles l ON l.tenant_id = t.id "
#define INVITATION_N 15

const struct db_stmt_def stmt_invitation_get = {STMT_invitation_get, "invitation_get",
						"SELECT " INVITATION_COLUMNS "WHERE i.id = ?", 1,
						INVITATION_N};

const struct db_stmt_def stmt_invitation_lock = {
    STMT_invitation_lock, "invitation_lock",
    "SELECT " INVITATION_COLUMNS "WHERE i.id = ? FOR UPDATE", 1, INVITATION_N};

/* sent by the tenant, or addressed to its domain */
const struct db_stmt_def stmt_invitation_list = {
    STMT_invitation_list, "invitation_list",
    "SELECT " INVITATION_COLUMNS "WHERE (i.provider_tenant_id = ? OR i.reseller_domain = "
    "(SELECT domain FROM tenants WHERE id = ?)) AND (? = '' OR i.id > ?) ORDER BY i.id LIMIT ?",
    5, INVITATION_N};

const struct db_stmt_def stmt_invitation_count = {
    STMT_invitation_count, "invitation_count",
    "SELECT COUNT(*) FROM relationship_invitations i WHERE i.provider_tenant_id = ? OR "
    "i.reseller_domain = (SELECT domain FROM tenants WHERE id = ?)",
    2, 1};

const struct db_stmt_def stmt_invitation_set_state = {
    STMT_invitation_set_state, "invitation_set_state",
    "UPDATE relationship_invitations SET state = ?, changed_at = ?, relationship_id = ? "
    "WHERE id = ?",
    4, 0};

const struct db_stmt_def stmt_reseller_of = {
    STMT_reseller_of, "reseller_of",
    "SELECT t.domain, e.status, c.region_code, " PARTY(
	"t", "l") " FROM tenants t "
		  "LEFT JOIN enrollments e ON e.tenant_id = t.id "
		  "LEFT JOIN countries c ON c.code = t.csp_country "
		  "LEFT JOIN legal_profiles l ON l.tenant_id = t.id WHERE t.id = ? FOR UPDATE",
    1, 5};

const struct db_stmt_def stmt_provider_in_region = {
    STMT_provider_in_region, "provider_in_region",
    "SELECT COUNT(*) FROM provider_regions WHERE tenant_id = ? AND region_code = ?", 2, 1};

const struct db_stmt_def stmt_relationship_insert = {
    STMT_relationship_insert, "relationship_insert",
    "INSERT INTO relationships (id, provider_tenant_id, reseller_tenant_id, access_roles, "
    "access_ends_at, invitation_id, created_by, created_at, access_changed_at, "
    "access_changed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    10, 0};

#define RELATIONSHIP_COLUMNS                                                                       \
	"r.id, r.provider_tenant_id, " PARTY("pt", "pl") ", r.reseller_tenant_id, " PARTY(         \
	    "rt", "rl") ", r.state, r.admin_access, r.access_roles, r.access_ends_at, "            \
			"r.access_changed_at, r.access_changed_by, r.created_at, r.created_by, "   \
			"r.ended_at, "                                                             \
			"r.ended_by, r.version FROM relationships r "                              \
			"JOIN tenants pt ON pt.id = r.provider_tenant_id "                         \
			"LEFT JOIN legal_profiles pl ON pl.tenant_id = pt.id "                     \
			"JOIN tenants rt ON rt.id = r.reseller_tenant_id "                         \
			"LEFT JOIN legal_profiles rl ON rl.tenant_id = rt.id "
#define RELATIONSHIP_N 18

/* one of the tenant's, from either side */
const struct db_stmt_def stmt_relationship_get = {STMT_relationship_get, "relationship_get",
						  "SELECT " RELATIONSHIP_COLUMNS
						  "WHERE r.id = ? AND (r.provider_tenant_id = ? OR "
						  "r.reseller_tenant_id = ?)",
						  3, RELATIONSHIP_N};

const struct db_stmt_def stmt_relationship_lock = {
    STMT_relationship_lock, "relationship_lock",
    "SELECT r.provider_tenant_id, r.reseller_tenant_id, r.state, r.admin_access "
    "FROM relationships r WHERE r.id = ? AND (r.provider_tenant_id = ? OR "
    "r.reseller_tenant_id = ?) FOR UPDATE",
    3, 4};

const struct db_stmt_def stmt_relationship_list_providers = {
    STMT_relationship_list_providers, "relationship_list_providers",
    "SELECT " RELATIONSHIP_COLUMNS "WHERE r.reseller_tenant_id = ? AND (? = '' OR r.id > ?) "
    "ORDER BY r.id LIMIT ?",
    4, RELATIONSHIP_N};

const struct db_stmt_def stmt_relationship_count_providers = {
    STMT_relationship_count_providers, "relationship_count_providers",
    "SELECT COUNT(*) FROM relationships WHERE reseller_tenant_id = ?", 1, 1};

const struct db_stmt_def stmt_relationship_list_resellers = {
    STMT_relationship_list_resellers, "relationship_list_resellers",
    "SELECT " RELATIONSHIP_COLUMNS "WHERE r.provider_tenant_id = ? AND (? = '' OR r.id > ?) "
    "ORDER BY r.id LIMIT ?",
    4, RELATIONSHIP_N};

const struct db_stmt_def stmt_relationship_count_resellers = {
    STMT_relationship_count_resellers, "relationship_count_resellers",
    "SELECT COUNT(*) FROM relationships WHERE provider_tenant_id = ?", 1, 1};

const struct db_stmt_def stmt_relationship_remove_access = {
    STMT_relationship_remove_access, "relationship_remove_access",
    "UPDATE relationships SET admin_access = 'removed', access_changed_at = ?, "
    "access_changed_by = ?, version = version + 1 WHERE id = ? AND admin_access = 'granted' "
    "AND state = 'active'",
    3, 0};

const struct db_stmt_def stmt_relationship_end = {
    STMT_relationship_end, "relationship_end",
    "UPDATE relationships SET state = 'ended', active = NULL, ended_at = ?, ended_by = ?, "
    "version = version + 1 WHERE id = ? AND state = 'active'",
    3, 0};

/* the other side's address for its mail: the provider's, the user who
 * invited; the reseller's, its primary contact */
const struct db_stmt_def stmt_relationship_contacts = {
    STMT_relationship_contacts, "relationship_contacts",
    "SELECT COALESCE(u.email, tu.email), e.contact_email FROM relationships r "
    "JOIN relationship_invitations i ON i.id = r.invitation_id "
    "LEFT JOIN users u ON u.id = i.created_by "
    "LEFT JOIN api_tokens tk ON tk.id = i.created_by "
    "LEFT JOIN users tu ON tu.id = tk.created_by "
    "LEFT JOIN enrollments e ON e.tenant_id = r.reseller_tenant_id WHERE r.id = ?",
    1, 2};

/* the newest relationship of the pair, the active one first */
const struct db_stmt_def stmt_delegation = {
    STMT_delegation, "delegation",
    "SELECT id, state, admin_access, access_roles, access_ends_at <= UTC_TIMESTAMP(6), "
    "access_ends_at FROM relationships WHERE provider_tenant_id = ? AND reseller_tenant_id = ? "
    "ORDER BY active DESC, id DESC LIMIT 1",
    2, 6};

const struct db_stmt_def stmt_relationship_narrow = {
    STMT_relationship_narrow, "relationship_narrow",
    "UPDATE relationships SET access_roles = ?, access_changed_at = ?, access_changed_by = ?, "
    "version = version + 1 WHERE id = ?",
    4, 0};

const struct db_stmt_def stmt_relationship_access_lock = {
    STMT_relationship_access_lock, "relationship_access_lock",
    "SELECT reseller_tenant_id, state, admin_access, access_roles, version FROM relationships "
    "WHERE id = ? AND (provider_tenant_id = ? OR reseller_tenant_id = ?) FOR UPDATE",
    3, 5};

static void api_time(const struct db_rows *rows, size_t i, size_t col, char out[TIME_STR])
{
	out[0] = '\0';
	if (db_cell(rows, i, col) != NULL)
		time_sql_to_api(db_cell(rows, i, col), out);
}

static void invitation_read(const struct db_rows *rows, size_t i, void *item)
{
	struct invitation *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->provider.tenant_id, sizeof v->provider.tenant_id);
	db_cell_copy(rows, i, 2, v->provider.name, sizeof v->provider.name);
	db_cell_copy(rows, i, 3, v->provider.domain, sizeof v->provider.domain);
	db_cell_copy(rows, i, 4, v->reseller_email, sizeof v->reseller_email);
	db_cell_copy(rows, i, 5, v->message, sizeof v->message);
	v->access_roles = roles_from_csv(db_cell(rows, i, 6));
	api_time(rows, i, 7, v->access_ends_at);
	db_cell_copy(rows, i, 8, v->state, sizeof v->state);
	api_time(rows, i, 9, v->expires_at);
	api_time(rows, i, 10, v->created_at);
	db_cell_copy(rows, i, 11, v->relationship_id, sizeof v->relationship_id);
}

static void relationship_read(const struct db_rows *rows, size_t i, void *item)
{
	struct relationship *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->provider.tenant_id, sizeof v->provider.tenant_id);
	db_cell_copy(rows, i, 2, v->provider.name, sizeof v->provider.name);
	db_cell_copy(rows, i, 3, v->provider.domain, sizeof v->provider.domain);
	db_cell_copy(rows, i, 4, v->reseller.tenant_id, sizeof v->reseller.tenant_id);
	db_cell_copy(rows, i, 5, v->reseller.name, sizeof v->reseller.name);
	db_cell_copy(rows, i, 6, v->reseller.domain, sizeof v->reseller.domain);
	db_cell_copy(rows, i, 7, v->state, sizeof v->state);
	db_cell_copy(rows, i, 8, v->admin_access, sizeof v->admin_access);
	v->access_roles = roles_from_csv(db_cell(rows, i, 9));
	api_time(rows, i, 10, v->access_ends_at);
	api_time(rows, i, 11, v->access_changed_at);
	db_cell_copy(rows, i, 12, v->access_changed_by, sizeof v->access_changed_by);
	api_time(rows, i, 13, v->created_at);
	db_cell_copy(rows, i, 14, v->created_by, sizeof v->created_by);
	api_time(rows, i, 15, v->ended_at);
	db_cell_copy(rows, i, 16, v->ended_by, sizeof v->ended_by);
	v->version = strtoul(db_cell(rows, i, 17) ? db_cell(rows, i, 17) : "0", NULL, 10);
}

struct create_work {
	const struct actor *a;
	const struct invitation_new *in;
	struct invitation *out;
};

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char id[UUID_STR], at[TIME_STR], until[TIME_STR], token[LINK_TOKEN_LEN + 1], hash[65];
	char link[512], roles[ROLES_CSV_MAX], provider_name[201];
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_provider_of, t, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "not_provider",
			       "only an indirect provider invites resellers");
		goto out;
	}
	db_cell_copy(&rows, 0, 0, provider_name, sizeof provider_name);
	const char *domain = strrchr(w->in->reseller_email, '@') + 1;
	if (strcmp(db_cell(&rows, 0, 1), domain) == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "own_domain",
			       "a provider cannot invite its own work account");
		goto out;
	}
	uuid_v7(id);
	time_now(at, NULL);
	time_sql_after(w->in->ttl_seconds, until);
	link_token_generate(token, hash);
	roles_to_csv(w->in->access_roles, roles, sizeof roles);
	struct db_arg a[] = {db_str(id),
			     db_str(w->a->tenant_id),
			     db_str(w->in->reseller_email),
			     db_str(domain),
			     db_str(w->in->message),
			     db_str(roles),
			     db_str(w->in->access_ends_at),
			     db_str(hash),
			     db_str(until),
			     db_str(w->a->id),
			     db_str(at)};
	if ((rc = legacy_exec(db, STMT_invitation_insert, a, NULL, NULL)) != DB_OK)
		goto out;
	snprintf(link, sizeof link, "%s/authorize-provider?invitation=%s&token=%s",
		 w->in->public_base_url, id, token);
	struct mail_var vars[] = {{"company_name", provider_name},
				  {"link", link},
				  {"reason", w->in->message ? w->in->message : ""}};
	struct outbox_mail m = {
	    w->a->tenant_id, MAIL_RELATIONSHIP_INVITATION, "en", w->in->reseller_email, vars, 3};
	if ((rc = legacy_outbox_enqueue(db, &m)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "relationship_invitation.create",
			       "relationship_invitation", id, at)) != DB_OK)
		goto out;
	db_rows_free(&rows);
	struct db_arg g[] = {db_str(id)};
	rc = legacy_exec(db, STMT_invitation_get, g, &rows, NULL);
	if (rc == DB_OK)
		invitation_read(&rows, 0, w->out);
out:
	sodium_memzero(token, sizeof token);
	db_rows_free(&rows);
	return rc;
}

int invitation_create(struct db *db, const struct actor *a, const struct invitation_new *in,
		      struct invitation *out, struct problem *p)
{
	struct create_work w = {a, in, out};
	memset(out, 0, sizeof *out);
	return db_run(db, create_run, &w, p);
}

struct page_work {
	const char *tenant_id, *after;
	long limit;
	struct db_rows rows;
	long total;
};

static enum db_status invitations_read(struct db *db, void *arg, struct problem *p)
{
	struct page_work *w = arg;
	struct db_rows count = {0, 0, NULL};
	struct db_arg l[] = {db_str(w->tenant_id), db_str(w->tenant_id), db_str(w->after),
			     db_str(w->after), db_int(w->limit)};
	struct db_arg c[] = {db_str(w->tenant_id), db_str(w->tenant_id)};
	db_rows_free(&w->rows);
	enum db_status rc = legacy_exec(db, STMT_invitation_list, l, &w->rows, NULL);
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_invitation_count, c, &count, NULL);
	if (rc == DB_OK)
		w->total = atol(db_cell(&count, 0, 0));
	db_rows_free(&count);
	return rc;
}

int invitation_list(struct db *db, const char *tenant_id, const char *after, long limit,
		    struct invitation **items, size_t *n, long *total, struct problem *p)
{
	struct page_work w = {tenant_id, after, limit, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (db_read(db, invitations_read, &w, p) != 0)
		return -1;
	*items = db_rows_items(&w.rows, sizeof **items, invitation_read, n);
	*total = w.total;
	return 0;
}

struct withdraw_work {
	const struct actor *a;
	const char *id;
};

static enum db_status withdraw_run(struct db *db, void *arg, struct problem *p)
{
	struct withdraw_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	struct db_arg g[] = {db_str(w->id)};
	enum db_status rc = legacy_exec(db, STMT_invitation_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0 || strcmp(db_cell(&rows, 0, 1), w->a->tenant_id) != 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL, "no invitation %s of this provider",
			       w->id);
		goto out;
	}
	const char *state = db_cell(&rows, 0, 8);
	if (strcmp(state, "accepted") == 0) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "invitation_accepted",
			       "the invitation was accepted: end the relationship instead");
		goto out;
	}
	if (strcmp(state, "withdrawn") == 0)
		goto out; /* idempotent */
	time_now(at, NULL);
	struct db_arg u[] = {db_str("withdrawn"), db_str(at), db_str(NULL), db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_invitation_set_state, u, NULL, NULL)) == DB_OK)
		rc = legacy_audit_record(db, w->a, "relationship_invitation.withdraw",
				  "relationship_invitation", w->id, at);
out:
	db_rows_free(&rows);
	return rc;
}

int invitation_withdraw(struct db *db, const struct actor *a, const char *id, struct problem *p)
{
	struct withdraw_work w = {a, id};
	return db_run(db, withdraw_run, &w, p);
}

static enum db_status relationship_read_one(struct db *db, const char *tenant_id, const char *id,
					    struct relationship *out, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg g[] = {db_str(id), db_str(tenant_id), db_str(tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_relationship_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0)
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no relationship %s of this work account", id);
	else if (rc == DB_OK)
		relationship_read(&rows, 0, out);
	db_rows_free(&rows);
	return rc;
}

struct authorize_work {
	const struct actor *a;
	const char *id, *hash;
	struct relationship *out;
};

static enum db_status authorize_run(struct db *db, void *arg, struct problem *p)
{
	struct authorize_work *w = arg;
	struct db_rows inv = {0, 0, NULL}, me = {0, 0, NULL}, rows = {0, 0, NULL};
	char rid[UUID_STR], at[TIME_STR], provider[UUID_STR], roles[ROLES_CSV_MAX], ends[TIME_STR];
	struct db_arg t[] = {db_str(w->a->tenant_id)};
	struct db_arg g[] = {db_str(w->id)};
	/* the reseller's enrolment first, then the invitation: the order of
	 * locks of every change of an enrolment */
	enum db_status rc = legacy_exec(db, STMT_enrollment_status_of, t, &rows, NULL);
	db_rows_free(&rows);
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_reseller_of, t, &me, NULL);
	if (rc == DB_OK)
		rc = legacy_exec(db, STMT_invitation_lock, g, &inv, NULL);
	if (rc != DB_OK)
		goto out;
	/* unknown, another's, or a wrong token: one answer */
	if (inv.n_rows == 0 || me.n_rows == 0 ||
	    strcmp(db_cell(&inv, 0, 13), db_cell(&me, 0, 0)) != 0 ||
	    sodium_memcmp(db_cell(&inv, 0, 12), w->hash, 64) != 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, "invitation_not_found",
			       "no invitation %s with this token for this work account", w->id);
		goto out;
	}
	const char *state = db_cell(&inv, 0, 8);
	if (strcmp(state, "accepted") == 0 || strcmp(state, "withdrawn") == 0) {
		rc = db_refuse(p, PROBLEM_CONFLICT,
			       strcmp(state, "accepted") == 0 ? "invitation_accepted"
							      : "invitation_withdrawn",
			       "the invitation is %s", state);
		goto out;
	}
	if (strcmp(state, "expired") == 0) {
		rc = db_refuse(p, PROBLEM_GONE, "invitation_expired",
			       "the invitation expired; ask the provider for a new one");
		goto out;
	}
	char now[TIME_STR];
	time_now(now, NULL);
	if (strcmp(db_cell(&inv, 0, 7), now) <= 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "access_already_ended",
			       "the admin access this invitation asks for ended already; ask the "
			       "provider for a new invitation");
		goto out;
	}
	const char *status = db_cell(&me, 0, 1);
	if (status == NULL || strcmp(status, "approved") != 0) {
		rc = db_refuse(
		    p, PROBLEM_RULE_REFUSED, "enrollment_not_approved",
		    "only an approved reseller authorizes a provider: the step %s is not "
		    "done",
		    status == NULL ? "enrolment (POST /v1/enrollments)"
		    : strcmp(status, "pending_email_verification") == 0 ? "emailVerified"
									: "reviewApproved");
		goto out;
	}
	db_cell_copy(&inv, 0, 1, provider, sizeof provider);
	struct db_arg r[] = {db_str(provider), db_str(db_cell(&me, 0, 2))};
	if ((rc = legacy_exec(db, STMT_provider_in_region, r, &rows, NULL)) != DB_OK)
		goto out;
	if (strcmp(db_cell(&rows, 0, 0), "0") == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "region_not_authorized",
			       "%.100s is not authorized in the reseller's region %.64s",
			       db_cell(&inv, 0, 2), db_cell(&me, 0, 2));
		goto out;
	}
	uuid_v7(rid);
	time_now(at, NULL);
	db_cell_copy(&inv, 0, 6, roles, sizeof roles);
	db_cell_copy(&inv, 0, 7, ends, sizeof ends);
	struct db_arg ins[] = {db_str(rid),	 db_str(provider), db_str(w->a->tenant_id),
			       db_str(roles),	 db_str(ends),	   db_str(w->id),
			       db_str(w->a->id), db_str(at),	   db_str(at),
			       db_str(w->a->id)};
	rc = legacy_exec(db, STMT_relationship_insert, ins, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		rc = db_refuse(
		    p, PROBLEM_CONFLICT, "relationship_exists",
		    "this provider and this reseller have an active relationship already");
		goto out;
	}
	struct db_arg u[] = {db_str("accepted"), db_str(at), db_str(rid), db_str(w->id)};
	if (rc != DB_OK || (rc = legacy_exec(db, STMT_invitation_set_state, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "relationship.create", "relationship", rid, at)) !=
		DB_OK ||
	    (rc = legacy_audit_record_in(db, w->a, provider, "relationship.create", "relationship", rid,
				  at)) != DB_OK)
		goto out;
	rc = relationship_read_one(db, w->a->tenant_id, rid, w->out, p);
out:
	db_rows_free(&inv);
	db_rows_free(&me);
	db_rows_free(&rows);
	return rc;
}

int invitation_authorize(struct db *db, const struct actor *a, const char *id, const char *token,
			 struct relationship *out, struct problem *p)
{
	char hash[65];
	api_token_hash(token, hash);
	struct authorize_work w = {a, id, hash, out};
	memset(out, 0, sizeof *out);
	return db_run(db, authorize_run, &w, p);
}

int relationship_list(struct db *db, const char *tenant_id, enum relationship_side side,
		      const char *after, long limit, struct relationship **items, size_t *n,
		      long *total, struct problem *p)
{
	struct legacy_page pg = {side == SIDE_PROVIDERS ? STMT_relationship_list_providers
						    : STMT_relationship_list_resellers,
			     side == SIDE_PROVIDERS ? STMT_relationship_count_providers
						    : STMT_relationship_count_resellers,
			     tenant_id,
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

struct get_work {
	const char *tenant_id, *id;
	struct relationship *out;
};

static enum db_status get_run(struct db *db, void *arg, struct problem *p)
{
	struct get_work *w = arg;
	return relationship_read_one(db, w->tenant_id, w->id, w->out, p);
}

int relationship_get(struct db *db, const char *tenant_id, const char *id, struct relationship *out,
		     struct problem *p)
{
	struct get_work w = {tenant_id, id, out};
	memset(out, 0, sizeof *out);
	return db_read(db, get_run, &w, p);
}

struct change_work {
	const struct actor *a;
	const char *id;
	bool end; /* else: remove the admin access */
};

static enum db_status change_run(struct db *db, void *arg, struct problem *p)
{
	struct change_work *w = arg;
	struct db_rows rows = {0, 0, NULL}, who = {0, 0, NULL};
	char at[TIME_STR], provider[UUID_STR], reseller[UUID_STR], other_name[201];
	unsigned long long changed = 0;
	struct db_arg g[] = {db_str(w->id), db_str(w->a->tenant_id), db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_relationship_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no relationship %s of this work account", w->id);
		goto out;
	}
	db_cell_copy(&rows, 0, 0, provider, sizeof provider);
	db_cell_copy(&rows, 0, 1, reseller, sizeof reseller);
	bool is_reseller = strcmp(reseller, w->a->tenant_id) == 0;
	/* SPEC §1: the reseller's side is its global admin's; a provider's
	 * admin agent (or global admin) may end, never remove access */
	if (is_reseller && !(w->a->roles & ROLE_GLOBAL_ADMIN)) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, NULL,
			       "this is reserved for the reseller's global admin");
		goto out;
	}
	if (!is_reseller && !w->end) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, NULL,
			       "only the reseller removes the provider's admin access");
		goto out;
	}
	time_now(at, NULL);
	struct db_arg u[] = {db_str(at), db_str(w->a->id), db_str(w->id)};
	rc = legacy_exec(db, w->end ? STMT_relationship_end : STMT_relationship_remove_access, u, NULL,
		     &changed);
	if (rc != DB_OK || changed == 0)
		goto out; /* done already: idempotent */
	const char *action = w->end ? "relationship.end" : "relationship.admin_access.remove";
	if ((rc = legacy_audit_record(db, w->a, action, "relationship", w->id, at)) != DB_OK ||
	    (rc = legacy_audit_record_in(db, w->a, is_reseller ? provider : reseller, action,
				  "relationship", w->id, at)) != DB_OK)
		goto out;
	/* the other side hears of it */
	struct db_arg c[] = {db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_relationship_contacts, c, &who, NULL)) != DB_OK)
		goto out;
	db_rows_free(&rows);
	struct db_arg me[] = {db_str(is_reseller ? reseller : provider)};
	if ((rc = legacy_exec(db, STMT_reseller_of, me, &rows, NULL)) != DB_OK)
		goto out;
	db_cell_copy(&rows, 0, 3, other_name, sizeof other_name);
	const char *to = db_cell(&who, 0, is_reseller ? 0 : 1);
	if (who.n_rows > 0 && to != NULL) {
		struct mail_var vars[] = {{"company_name", other_name}};
		struct outbox_mail m = {is_reseller ? provider : reseller,
					w->end ? MAIL_RELATIONSHIP_ENDED
					       : MAIL_RELATIONSHIP_ACCESS_REMOVED,
					"en",
					to,
					vars,
					1};
		rc = legacy_outbox_enqueue(db, &m);
	}
out:
	db_rows_free(&rows);
	db_rows_free(&who);
	return rc;
}

int relationship_remove_access(struct db *db, const struct actor *a, const char *id,
			       struct problem *p)
{
	struct change_work w = {a, id, false};
	return db_run(db, change_run, &w, p);
}

int relationship_end(struct db *db, const struct actor *a, const char *id, struct problem *p)
{
	struct change_work w = {a, id, true};
	return db_run(db, change_run, &w, p);
}

struct delegation_work {
	const char *provider, *reseller;
	char *relationship_id;
	unsigned *roles;
};

static enum db_status delegation_read(struct db *db, void *arg, struct problem *p)
{
	struct delegation_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->provider), db_str(w->reseller)};
	enum db_status rc = legacy_exec(db, STMT_delegation, a, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "no_relationship",
			       "delegated access needs an active relationship with this reseller, "
			       "authorized by its global admin");
	} else if (strcmp(db_cell(&rows, 0, 1), "active") != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "relationship_ended",
			       "the relationship with this reseller has ended");
	} else if (strcmp(db_cell(&rows, 0, 2), "granted") != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "admin_access_removed",
			       "the reseller has removed the admin access of this relationship");
	} else if (strcmp(db_cell(&rows, 0, 4), "0") != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, "admin_access_expired",
			       "the admin access of this relationship ended at %.26s",
			       db_cell(&rows, 0, 5));
	} else {
		db_cell_copy(&rows, 0, 0, w->relationship_id, UUID_STR);
		*w->roles = roles_from_csv(db_cell(&rows, 0, 3));
	}
out:
	db_rows_free(&rows);
	return rc;
}

int relationship_delegation(struct db *db, const char *provider_tenant_id,
			    const char *reseller_tenant_id, char relationship_id[UUID_STR],
			    unsigned *roles, struct problem *p)
{
	struct delegation_work w = {provider_tenant_id, reseller_tenant_id, relationship_id, roles};
	relationship_id[0] = '\0';
	*roles = 0;
	return db_read(db, delegation_read, &w, p);
}

struct narrow_work {
	const struct actor *a;
	const char *id;
	unsigned long version;
	unsigned roles;
	struct relationship *out;
};

static enum db_status narrow_run(struct db *db, void *arg, struct problem *p)
{
	struct narrow_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR], csv[ROLES_CSV_MAX];
	struct db_arg g[] = {db_str(w->id), db_str(w->a->tenant_id), db_str(w->a->tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_relationship_access_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no relationship %s of this work account", w->id);
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 0), w->a->tenant_id) != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, NULL,
			       "only the reseller changes the provider's admin access");
		goto out;
	}
	if (w->version != 0 && strtoul(db_cell(&rows, 0, 4), NULL, 10) != w->version) {
		problem_set(p, PROBLEM_PRECONDITION_FAILED,
			    "the relationship has changed since it was read; read it again for "
			    "its ETag");
		rc = DB_REFUSED;
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 1), "active") != 0 ||
	    strcmp(db_cell(&rows, 0, 2), "granted") != 0) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "admin_access_not_granted",
			       "the relationship is %s with admin access %s: nothing to narrow",
			       db_cell(&rows, 0, 1), db_cell(&rows, 0, 2));
		goto out;
	}
	unsigned now = roles_from_csv(db_cell(&rows, 0, 3));
	/* consent granted these roles: more needs a new consent */
	if ((w->roles & ~now) != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "roles_not_narrower",
			       "admin access can only be narrowed; widening it needs a new "
			       "invitation and consent");
		goto out;
	}
	time_now(at, NULL);
	roles_to_csv(w->roles, csv, sizeof csv);
	struct db_arg u[] = {db_str(csv), db_str(at), db_str(w->a->id), db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_relationship_narrow, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_audit_record(db, w->a, "relationship.admin_access.narrow", "relationship", w->id,
			       at)) != DB_OK)
		goto out;
	rc = relationship_read_one(db, w->a->tenant_id, w->id, w->out, p);
out:
	db_rows_free(&rows);
	return rc;
}

int relationship_narrow_access(struct db *db, const struct actor *a, const char *id,
			       unsigned long version, unsigned roles, struct relationship *out,
			       struct problem *p)
{
	struct narrow_work w = {a, id, version, roles, out};
	memset(out, 0, sizeof *out);
	return db_run(db, narrow_run, &w, p);
}
