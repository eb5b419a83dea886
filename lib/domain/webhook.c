#include "domain/webhook.h"

#include "core/problem.h"
#include "domain/audit.h"
#include "domain/event.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEBHOOK_FIELDS(F, T)                                                                       \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, url, DB_TEXT)                                                                         \
	F(T, types, DB_INT)                                                                        \
	F(T, enabled, DB_INT)                                                                      \
	F(T, version, DB_INT)                                                                      \
	F(T, created_by, DB_TEXT)                                                                  \
	F(T, created_at, DB_TIME) F(T, failing_since, DB_TIME) F(T, disabled_reason, DB_TEXT)
#define WEBHOOK_COLUMNS                                                                            \
	"id, tenant_id, url, types, enabled, version, created_by, created_at, failing_since, "     \
	"disabled_reason"

DB_STATEMENT(webhook_insert,
	     "INSERT INTO webhooks (id, tenant_id, url, types, enabled, secret, created_by, "
	     "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_INT, DB_TEXT, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

DB_STATEMENT(webhook_of_tenant,
	     "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE tenant_id = ? AND id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct webhook, WEBHOOK_FIELDS));

/* the tenant's row locked: registrations of one tenant take turns, so the
 * count holds */
DB_STATEMENT(webhook_tenant_lock, "SELECT COUNT(*) AS n FROM tenants WHERE id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(webhook_count, "SELECT COUNT(*) AS n FROM webhooks WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(webhook_remove, "DELETE FROM webhooks WHERE tenant_id = ? AND id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(webhook_deliveries_remove, "DELETE FROM webhook_deliveries WHERE webhook_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(webhook_list,
	     "SELECT " WEBHOOK_COLUMNS " FROM webhooks " DB_LIST_INDEX(
		 "ix_webhooks_tenant") "WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct webhook, WEBHOOK_FIELDS));
DB_STATEMENT(webhook_list_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM webhooks WHERE tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);
const struct db_page webhook_page = {.list = &webhook_list,
				     .count = &webhook_list_count,
				     .n_keys = 1,
				     .cursor_offset = offsetof(struct webhook, id)};

/* Standard Webhooks' form: whsec_ and 24 random bytes in base64. */
static void secret_make(char secret[WEBHOOK_SECRET_MAX])
{
	unsigned char key[24];
	randombytes_buf(key, sizeof key);
	memcpy(secret, "whsec_", 6);
	sodium_bin2base64(secret + 6, WEBHOOK_SECRET_MAX - 6, key, sizeof key,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof key);
}

/* 0 when url may be an endpoint's, else -1 with p's field error. */
static int url_check(const char *url, const struct webhook_reach *reach, struct problem *p)
{
	struct outbound_url u;
	const char *why = NULL;
	char addr[64];
	if (outbound_url_parse(url, reach->allow_http, &u, &why) != 0 ||
	    outbound_resolve(u.host, reach->resolve_map, reach->allow_private, outbound_getaddrinfo,
			     addr, &why) != 0)
		return problem_add_field(p, "url", "not_allowed", "%s", why);
	return 0;
}

int webhook_create(struct txn *t, const struct actor *a, const char *url, unsigned types,
		   bool enabled, const struct webhook_reach *reach, struct webhook *out,
		   char secret[WEBHOOK_SECRET_MAX], struct problem *p)
{
	struct db_count n;
	char id[UUID_STR];
	if (url_check(url, reach, p) != 0)
		return -1;
	struct db_arg tn[] = {db_text(a->tenant_id)};
	if (db_one(t, &webhook_tenant_lock, tn, &n) != DB_OK ||
	    db_one(t, &webhook_count, tn, &n) != DB_OK)
		return -1;
	if (n.n >= WEBHOOKS_PER_TENANT)
		return problem_refuse(p, PROBLEM_CONFLICT, "too_many_webhooks",
				      "a work account has at most %d endpoints",
				      WEBHOOKS_PER_TENANT);
	secret_make(secret);
	uuid_v7(id);
	micros_t at = time_micros();
	struct db_arg w[] = {db_text(id),     db_text(a->tenant_id), db_text(url),   db_int(types),
			     db_int(enabled), db_text(secret),	     db_text(a->id), db_time(at)};
	if (db_exec(t, &webhook_insert, w, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.create", "webhook", id, at) != DB_OK)
		return -1;
	return webhook_get(t, a->tenant_id, id, out, p);
}

int webhook_get(struct txn *t, const char *tenant_id, const char *id, struct webhook *out,
		struct problem *p)
{
	struct db_arg k[] = {db_text(tenant_id), db_text(id)};
	switch (db_one(t, &webhook_of_tenant, k, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no webhook %s of this work account", id);
	default: return -1;
	}
}

int webhook_delete(struct txn *t, const struct actor *a, const char *id, struct problem *p)
{
	struct webhook w;
	struct db_arg k[] = {db_text(a->tenant_id), db_text(id)};
	struct db_arg d[] = {db_text(id)};
	if (webhook_get(t, a->tenant_id, id, &w, p) != 0 ||
	    db_exec(t, &webhook_deliveries_remove, d, NULL) != DB_OK ||
	    db_exec(t, &webhook_remove, k, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.delete", "webhook", id, time_micros()) != DB_OK)
		return -1;
	return 0;
}

DB_STATEMENT(webhook_of_tenant_locked,
	     "SELECT " WEBHOOK_COLUMNS " FROM webhooks WHERE tenant_id = ? AND id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct webhook, WEBHOOK_FIELDS));

/* an agent's enabling or disabling ends the failing period and the
 * service's reason */
DB_STATEMENT(webhook_set,
	     "UPDATE webhooks SET url = ?, types = ?, enabled = ?, version = version + 1, "
	     "failing_since = IF(?, NULL, failing_since), disabled_reason = IF(?, NULL, "
	     "disabled_reason) WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_INT, DB_INT, DB_INT, DB_TEXT), DB_NO_ROW);

/* the endpoint locked, 404 when the tenant has none of that id */
static int get_locked(struct txn *t, const char *tenant_id, const char *id, struct webhook *out,
		      struct problem *p)
{
	struct db_arg k[] = {db_text(tenant_id), db_text(id)};
	switch (db_one(t, &webhook_of_tenant_locked, k, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no webhook %s of this work account", id);
	default: return -1;
	}
}

int webhook_update(struct txn *t, const struct actor *a, const char *id,
		   const struct webhook_change *change, const struct webhook_reach *reach,
		   struct webhook *out, struct problem *p)
{
	struct webhook w;
	if (change->url != NULL && url_check(change->url, reach, p) != 0)
		return -1;
	if (get_locked(t, a->tenant_id, id, &w, p) != 0)
		return -1;
	if (change->version != 0 && w.version != change->version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the webhook is at version %lu, not %lu (GET it again)",
				   w.version, change->version);
	struct db_arg s[] = {db_text(change->url != NULL ? change->url : w.url),
			     db_int(change->types != 0 ? change->types : w.types),
			     db_int(change->set_enabled ? change->enabled : w.enabled),
			     db_int(change->set_enabled),
			     db_int(change->set_enabled),
			     db_text(id)};
	if (db_exec(t, &webhook_set, s, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.update", "webhook", id, time_micros()) != DB_OK)
		return -1;
	return webhook_get(t, a->tenant_id, id, out, p);
}

/* the replaced secret signs beside the new one for the grace period; one
 * still in its grace is dropped (two keys at most) */
DB_STATEMENT(webhook_secret_set,
	     "UPDATE webhooks SET previous_secret = secret, previous_secret_until = "
	     "UTC_TIMESTAMP(6) + INTERVAL ? HOUR, secret = ? WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TEXT, DB_TEXT), DB_NO_ROW);

int webhook_secret_rotate(struct txn *t, const struct actor *a, const char *id,
			  char secret[WEBHOOK_SECRET_MAX], struct problem *p)
{
	struct webhook w;
	if (get_locked(t, a->tenant_id, id, &w, p) != 0)
		return -1;
	secret_make(secret);
	struct db_arg s[] = {db_int(WEBHOOK_SECRET_GRACE_HOURS), db_text(secret), db_text(id)};
	if (db_exec(t, &webhook_secret_set, s, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.secret_rotate", "webhook", id, time_micros()) != DB_OK)
		return -1;
	return 0;
}

DB_STATEMENT(webhook_fan,
	     "INSERT IGNORE INTO webhook_deliveries (webhook_id, event_id, seq, next_attempt_at, "
	     "created_at) SELECT w.id, e.id, e.seq, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) "
	     "FROM events e JOIN event_tenants et ON et.event_id = e.id "
	     "JOIN webhooks w ON w.tenant_id = et.tenant_id "
	     "WHERE e.seq >= ? AND e.seq < ? AND w.enabled = 1 AND w.types & et.type_bit <> 0",
	     DB_PARAMS(DB_INT, DB_INT), DB_NO_ROW);

enum db_status webhook_fan_out(struct txn *t, long long first, long long end)
{
	struct db_arg a[] = {db_int(first), db_int(end)};
	return db_exec(t, &webhook_fan, a, NULL);
}

#define DELIVERY_FIELDS(F, T)                                                                      \
	F(T, event_id, DB_TEXT)                                                                    \
	F(T, event_type, DB_TEXT)                                                                  \
	F(T, seq, DB_INT)                                                                          \
	F(T, status, DB_TEXT)                                                                      \
	F(T, attempts, DB_INT)                                                                     \
	F(T, response_status, DB_INT)                                                              \
	F(T, duration_ms, DB_INT)                                                                  \
	F(T, next_attempt_at, DB_TIME)                                                             \
	F(T, last_error, DB_TEXT) F(T, created_at, DB_TIME) F(T, delivered_at, DB_TIME)
#define DELIVERY_COLUMNS                                                                           \
	"d.event_id, e.type AS event_type, d.seq, d.status, d.attempts, d.response_status, "       \
	"d.duration_ms, d.next_attempt_at, d.last_error, d.created_at, d.delivered_at"
/* the cursor is the event's id: newest first is the reverse of seq, and
 * of the event ids (time-ordered) alike */
DB_STATEMENT(
    delivery_list,
    "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries d JOIN events e ON e.id = "
    "d.event_id WHERE d.webhook_id = ? AND d.event_id < ? ORDER BY d.event_id DESC LIMIT ?",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct webhook_delivery, DELIVERY_FIELDS));
DB_STATEMENT(delivery_list_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM webhook_deliveries WHERE webhook_id = ? "
	     "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);
const struct db_page webhook_delivery_page = {.list = &delivery_list,
					      .count = &delivery_list_count,
					      .n_keys = 1,
					      .descending = true,
					      .cursor_offset =
						  offsetof(struct webhook_delivery, event_id)};

DB_STATEMENT(delivery_one,
	     "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries d JOIN events e ON e.id = "
	     "d.event_id WHERE d.webhook_id = ? AND d.event_id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct webhook_delivery, DELIVERY_FIELDS));

DB_STATEMENT(delivery_insert,
	     "INSERT INTO webhook_deliveries (webhook_id, event_id, seq, next_attempt_at, "
	     "created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_NO_ROW);

/* due now; a failed one pending again, its attempts and last error kept */
DB_STATEMENT(delivery_due_now,
	     "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = "
	     "UTC_TIMESTAMP(6) WHERE webhook_id = ? AND event_id = ? AND status IN ('pending', "
	     "'failed')",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

static int delivery_read(struct txn *t, const char *webhook_id, const char *event_id,
			 struct webhook_delivery *out, struct problem *p)
{
	struct db_arg k[] = {db_text(webhook_id), db_text(event_id)};
	switch (db_one(t, &delivery_one, k, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no delivery of event %s to webhook %s",
				   event_id, webhook_id);
	default: return -1;
	}
}

int webhook_ping(struct txn *t, const struct actor *a, const struct webhook *w, const char *data,
		 struct webhook_delivery *out, struct problem *p)
{
	char event_id[UUID_STR];
	long long seq;
	if (!w->enabled)
		return problem_refuse(p, PROBLEM_CONFLICT, "webhook_disabled",
				      "the webhook is disabled: enable it to ping it");
	if (event_record_numbered(t, a, EVENT_WEBHOOK_PING, data, event_id, &seq) != DB_OK)
		return -1;
	struct db_arg d[] = {db_text(w->id), db_text(event_id), db_int(seq)};
	if (db_exec(t, &delivery_insert, d, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.ping", "webhook", w->id, time_micros()) != DB_OK)
		return -1;
	return delivery_read(t, w->id, event_id, out, p);
}

int webhook_delivery_retry(struct txn *t, const struct actor *a, const char *id,
			   const char *event_id, struct webhook_delivery *out, struct problem *p)
{
	struct webhook w;
	struct db_arg k[] = {db_text(id), db_text(event_id)};
	if (webhook_get(t, a->tenant_id, id, &w, p) != 0 ||
	    delivery_read(t, id, event_id, out, p) != 0)
		return -1;
	if (strcmp(out->status, "succeeded") == 0 || strcmp(out->status, "sending") == 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "delivery_not_failed",
				      "the delivery is %s: only a failed or pending one is retried",
				      out->status);
	if (db_exec(t, &delivery_due_now, k, NULL) != DB_OK ||
	    audit_record(t, a, "webhook.delivery_retry", "webhook", id, time_micros()) != DB_OK)
		return -1;
	return delivery_read(t, id, event_id, out, p);
}

struct claim_row {
	char webhook_id[UUID_STR], event_id[UUID_STR];
	char url[OUTBOUND_URL_MAX + 1], secret[WEBHOOK_SECRET_MAX];
	char previous_secret[WEBHOOK_SECRET_MAX];
	long long attempts;
};
#define CLAIM_FIELDS(F, T)                                                                         \
	F(T, webhook_id, DB_TEXT)                                                                  \
	F(T, event_id, DB_TEXT)                                                                    \
	F(T, url, DB_TEXT)                                                                         \
	F(T, secret, DB_TEXT) F(T, previous_secret, DB_TEXT) F(T, attempts, DB_INT)
/* The first delivery of each enabled endpoint still to go (pending, or
 * sending: a sending one holds the ones behind it), when it is due
 * (pending, or sending past its lease: its sender died): the soonest due
 * first, a few. Read without locks, from the endpoints (one or two index
 * dives each), so that an endpoint's backlog costs nothing here. */
#define MIN_WAITING(status)                                                                        \
	"COALESCE((SELECT MIN(b.seq) FROM webhook_deliveries b WHERE b.webhook_id = w.id AND "     \
	"b.status = '" status "'), 18446744073709551615)"
struct candidate_row {
	char webhook_id[UUID_STR], event_id[UUID_STR];
};
#define CANDIDATE_FIELDS(F, T) F(T, webhook_id, DB_TEXT) F(T, event_id, DB_TEXT)
DB_STATEMENT(delivery_candidates,
	     "SELECT d.webhook_id, d.event_id FROM webhooks w STRAIGHT_JOIN webhook_deliveries d "
	     "FORCE INDEX (ix_deliveries_order) ON d.webhook_id = w.id AND d.seq = "
	     "LEAST(" MIN_WAITING("pending") ", " MIN_WAITING(
		 "sending") ") "
			    "WHERE w.enabled = 1 AND d.status IN ('pending', 'sending') AND "
			    "d.next_attempt_at <= "
			    "UTC_TIMESTAMP(6) ORDER BY d.next_attempt_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_ROW(struct candidate_row, CANDIDATE_FIELDS));
#define CLAIM_CANDIDATES 8

/* A candidate, and its endpoint's row, locked if no other sender holds
 * them, and if it is still due and still its endpoint's first. */
DB_STATEMENT(delivery_lock,
	     "SELECT d.webhook_id, d.event_id, w.url, w.secret, IF(w.previous_secret_until > "
	     "UTC_TIMESTAMP(6), w.previous_secret, NULL) AS previous_secret, d.attempts "
	     "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
	     "WHERE d.webhook_id = ? AND d.event_id = ? AND d.status IN ('pending', 'sending') "
	     "AND d.next_attempt_at <= UTC_TIMESTAMP(6) AND w.enabled = 1 AND NOT EXISTS "
	     "(SELECT 1 FROM webhook_deliveries b FORCE INDEX (ix_deliveries_waiting) WHERE "
	     "b.webhook_id = d.webhook_id AND b.status IN ('pending', 'sending') AND "
	     "b.seq < d.seq) FOR UPDATE SKIP LOCKED",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct claim_row, CLAIM_FIELDS));

DB_STATEMENT(delivery_take,
	     "UPDATE webhook_deliveries SET status = 'sending', attempts = attempts + 1, "
	     "claimed_by = ?, next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
	     "WHERE webhook_id = ? AND event_id = ?",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT, DB_TEXT), DB_NO_ROW);

enum db_status webhook_delivery_claim(struct txn *t, const char *claimer, long lease,
				      struct webhook_claim *out)
{
	struct claim_row r;
	void *items = NULL;
	size_t n = 0;
	struct db_arg l[] = {db_int(CLAIM_CANDIDATES)};
	enum db_status rc = db_all(t, &delivery_candidates, l, &items, &n);
	/* the first a sender may have: the others' are locked, or gone */
	const struct candidate_row *c = items;
	for (size_t i = 0; rc == DB_OK && i < n; i++) {
		struct db_arg k[] = {db_text(c[i].webhook_id), db_text(c[i].event_id)};
		if ((rc = db_one(t, &delivery_lock, k, &r)) != DB_EMPTY)
			break;
	}
	free(items);
	if (rc == DB_OK && n == 0)
		rc = DB_EMPTY;
	if (rc != DB_OK)
		return rc;
	struct db_arg a[] = {db_text(claimer), db_int(lease), db_text(r.webhook_id),
			     db_text(r.event_id)};
	if ((rc = db_exec(t, &delivery_take, a, NULL)) != DB_OK)
		return rc;
	memcpy(out->webhook_id, r.webhook_id, sizeof out->webhook_id);
	memcpy(out->event_id, r.event_id, sizeof out->event_id);
	memcpy(out->url, r.url, sizeof out->url);
	memcpy(out->secret, r.secret, sizeof out->secret);
	memcpy(out->previous_secret, r.previous_secret, sizeof out->previous_secret);
	out->attempts = r.attempts + 1;
	sodium_memzero(r.secret, sizeof r.secret);
	sodium_memzero(r.previous_secret, sizeof r.previous_secret);
	return DB_OK;
}

DB_STATEMENT(delivery_outcome,
	     "UPDATE webhook_deliveries SET status = ?, claimed_by = NULL, "
	     "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, response_status = ?, "
	     "duration_ms = ?, last_error = ?, delivered_at = IF(? = 'succeeded', "
	     "UTC_TIMESTAMP(6), NULL) WHERE webhook_id = ? AND event_id = ? AND claimed_by = ? "
	     "AND status = 'sending'",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_INT | DB_NULLABLE, DB_INT, DB_TEXT | DB_NULLABLE,
		       DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_NO_ROW);

/* A success ends the failing period; a failure begins one if none has. */
DB_STATEMENT(webhook_failing_end,
	     "UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);
DB_STATEMENT(webhook_failing_begin,
	     "UPDATE webhooks SET failing_since = UTC_TIMESTAMP(6) WHERE id = ? AND failing_since "
	     "IS NULL",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);
/* the one that disables it (of several senders failing at once) mails */
DB_STATEMENT(webhook_failing_disable,
	     "UPDATE webhooks SET enabled = 0, disabled_reason = 'failing', version = version + 1 "
	     "WHERE id = ? AND enabled = 1 AND failing_since <= UTC_TIMESTAMP(6) - INTERVAL ? DAY",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_NO_ROW);

struct owner_row {
	char tenant_id[UUID_STR], url[OUTBOUND_URL_MAX + 1];
	char email[255], first_name[101];
};
#define OWNER_FIELDS(F, T)                                                                         \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, url, DB_TEXT) F(T, email, DB_TEXT) F(T, first_name, DB_TEXT)
/* who registered it: a user, or the user who made the token that did */
DB_STATEMENT(webhook_owner,
	     "SELECT w.tenant_id, w.url, COALESCE(u.email, tu.email) AS email, "
	     "COALESCE(u.first_name, tu.first_name) AS first_name FROM webhooks w "
	     "LEFT JOIN users u ON u.id = w.created_by AND u.disabled = 0 "
	     "LEFT JOIN api_tokens tk ON tk.id = w.created_by "
	     "LEFT JOIN users tu ON tu.id = tk.created_by AND tu.disabled = 0 WHERE w.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct owner_row, OWNER_FIELDS));

/* Disables endpoint id, failing for WEBHOOK_FAILING_DAYS, in t: audited,
 * its owner mailed, *disabled. */
static enum db_status failing_disable(struct txn *t, const char *id, bool *disabled)
{
	struct owner_row o;
	unsigned long long changed = 0;
	char days[8];
	struct db_arg k[] = {db_text(id)};
	struct db_arg d[] = {db_text(id), db_int(WEBHOOK_FAILING_DAYS)};
	enum db_status rc = db_exec(t, &webhook_failing_disable, d, &changed);
	if (rc != DB_OK || changed == 0 || (rc = db_one(t, &webhook_owner, k, &o)) != DB_OK)
		return rc == DB_EMPTY ? DB_OK : rc;
	*disabled = true;
	struct actor sys = {.type = "system", .tenant_id = o.tenant_id};
	if ((rc = audit_record(t, &sys, "webhook.disable", "webhook", id, time_micros())) !=
		DB_OK ||
	    o.email[0] == '\0')
		return rc;
	const char *domain = strchr(o.email, '@');
	snprintf(days, sizeof days, "%d", WEBHOOK_FAILING_DAYS);
	struct mail_var vars[] = {{"first_name", o.first_name},
				  {"domain", domain != NULL ? domain + 1 : o.email},
				  {"url", o.url},
				  {"days", days}};
	struct outbox_mail m = {o.tenant_id, MAIL_WEBHOOK_DISABLED, "en", o.email, vars, 4};
	return outbox_enqueue(t, &m);
}

enum db_status webhook_delivery_done(struct txn *t, const struct webhook_claim *c,
				     const char *claimer, bool succeeded, double retry_in,
				     long response_status, long duration_ms, const char *error,
				     bool *disabled)
{
	const char *status = succeeded ? "succeeded" : retry_in < 0 ? "failed" : "pending";
	char cut[256];
	unsigned long long recorded = 0;
	*disabled = false;
	snprintf(cut, sizeof cut, "%s", error != NULL ? error : "");
	struct db_arg a[] = {db_text(status),
			     db_int(retry_in > 0 ? (long long)(retry_in * 1e6) : 0),
			     response_status > 0 ? db_int(response_status) : db_null(),
			     db_int(duration_ms),
			     error != NULL ? db_text(cut) : db_null(),
			     db_text(status),
			     db_text(c->webhook_id),
			     db_text(c->event_id),
			     db_text(claimer)};
	struct db_arg w[] = {db_text(c->webhook_id)};
	enum db_status rc = db_exec(t, &delivery_outcome, a, &recorded);
	/* a claim lost meanwhile: its new holder's outcome counts */
	if (rc != DB_OK || recorded == 0)
		return rc;
	if (succeeded)
		return db_exec(t, &webhook_failing_end, w, NULL);
	if ((rc = db_exec(t, &webhook_failing_begin, w, NULL)) != DB_OK)
		return rc;
	return failing_disable(t, c->webhook_id, disabled);
}

DB_STATEMENT(webhook_secrets_expired,
	     "UPDATE webhooks SET previous_secret = NULL, previous_secret_until = NULL WHERE "
	     "previous_secret_until <= UTC_TIMESTAMP(6) LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status webhook_purge_secrets(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &webhook_secrets_expired, a, deleted);
}

/* through the event foreign key's index, oldest first */
DB_STATEMENT(webhook_deliveries_expired,
	     "DELETE FROM webhook_deliveries WHERE event_id < ? AND status <> 'sending' "
	     "ORDER BY event_id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_NO_ROW);

enum db_status webhook_purge_deliveries(struct txn *t, int days, long long limit,
					unsigned long long *deleted)
{
	char before[UUID_STR];
	uuid_v7_floor(time_micros_after(-86400.0 * days), before);
	struct db_arg a[] = {db_text(before), db_int(limit)};
	return db_exec(t, &webhook_deliveries_expired, a, deleted);
}
