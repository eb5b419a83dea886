#include "domain/event.h"

#include "domain/audit.h"
#include "domain/webhook.h"
#include "mail/outbox.h"

#include <stdlib.h>
#include <string.h>

static const struct event_type_info type_infos[] = {
#define EVENT_INFO(id, bit, name, schema, what) {bit, name, schema, what},
    EVENT_TYPES(EVENT_INFO)
#undef EVENT_INFO
};

const struct event_type_info *event_type_info(enum event_type type)
{
	return (unsigned)type < EVENT_TYPE__COUNT ? &type_infos[type] : NULL;
}

unsigned event_type_bit(const char *name)
{
	for (size_t i = 0; i < EVENT_TYPE__COUNT; i++)
		if (strcmp(type_infos[i].name, name) == 0)
			return type_infos[i].bit;
	return 0;
}

DB_STATEMENT(event_insert,
	     "INSERT INTO events (id, type, version, actor_type, actor_id, actor_tenant_id, "
	     "delegation_id, occurred_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT | DB_NULLABLE,
		       DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TIME, DB_TEXT),
	     DB_NO_ROW);

/* the tenants' rows of an event in one statement: one, two or three */
#define TENANT_ROW     "(?, ?, ?)"
#define TENANT_PARAMS  DB_TEXT, DB_TEXT, DB_INT
#define TENANTS_INSERT "INSERT INTO event_tenants (tenant_id, event_id, type_bit) VALUES "
DB_STATEMENT(event_tenants_insert_1, TENANTS_INSERT TENANT_ROW, DB_PARAMS(TENANT_PARAMS),
	     DB_NO_ROW);
DB_STATEMENT(event_tenants_insert_2, TENANTS_INSERT TENANT_ROW ", " TENANT_ROW,
	     DB_PARAMS(TENANT_PARAMS, TENANT_PARAMS), DB_NO_ROW);
DB_STATEMENT(event_tenants_insert_3, TENANTS_INSERT TENANT_ROW ", " TENANT_ROW ", " TENANT_ROW,
	     DB_PARAMS(TENANT_PARAMS, TENANT_PARAMS, TENANT_PARAMS), DB_NO_ROW);
static const struct db_stmt *const tenants_insert[] = {
    NULL, &event_tenants_insert_1, &event_tenants_insert_2, &event_tenants_insert_3};
#define TENANTS_AT_ONCE 3

enum db_status event_record(struct txn *t, const struct actor *a, enum event_type type,
			    const char *const *tenants, size_t n, const char *data)
{
	char id[UUID_STR];
	const struct event_type_info *info = event_type_info(type);
	uuid_v7(id);
	/* a delegated actor acts from its own tenant through a relationship */
	const char *own = a->delegated_from != NULL ? a->delegated_from : a->tenant_id;
	struct db_arg e[] = {db_text(id),
			     db_text(info->name),
			     db_int(EVENT_VERSION),
			     db_text(a->type),
			     db_text(a->id),
			     db_text(own),
			     db_text(a->relationship_id),
			     db_time(time_micros()),
			     db_text(data)};
	enum db_status rc = db_exec(t, &event_insert, e, NULL);
	struct db_arg r[3 * TENANTS_AT_ONCE];
	size_t rows = 0;
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		bool seen = tenants[i] == NULL || tenants[i][0] == '\0';
		for (size_t j = 0; j < i && !seen; j++)
			seen = tenants[j] != NULL && strcmp(tenants[j], tenants[i]) == 0;
		if (!seen) {
			r[3 * rows] = db_text(tenants[i]);
			r[3 * rows + 1] = db_text(id);
			r[3 * rows + 2] = db_int(info->bit);
			rows++;
		}
		if (rows > 0 && (rows == TENANTS_AT_ONCE || i + 1 == n)) {
			rc = db_exec(t, tenants_insert[rows], r, NULL);
			rows = 0;
		}
	}
	/* the sequencer numbers it once it is committed */
	if (rc == DB_OK)
		outbox_wake_after_commit(t);
	return rc;
}

DB_STATEMENT(event_sequence_lock,
	     "SELECT next_seq AS n FROM event_sequence WHERE id = 1 FOR UPDATE", DB_NO_PARAMS,
	     DB_ROW_COUNT);

struct unnumbered_row {
	char id[UUID_STR];
};
#define UNNUMBERED_FIELDS(F, T) F(T, id, DB_TEXT)
/* Committed events only: an event whose transaction is still open is
 * locked by it, and skipped (numbered by a later pass, after it). */
DB_STATEMENT(events_unnumbered,
	     "SELECT id FROM events WHERE seq IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED",
	     DB_PARAMS(DB_INT), DB_ROW(struct unnumbered_row, UNNUMBERED_FIELDS));

DB_STATEMENT(event_number, "UPDATE events SET seq = ? WHERE id = ?", DB_PARAMS(DB_INT, DB_TEXT),
	     DB_NO_ROW);
/* the tenants' rows of the events numbered [first, end), in one statement;
 * from the events to their rows (by ix_event_tenants_event), so that it
 * reads, and locks, no row of an event still uncommitted */
DB_STATEMENT(event_tenants_number,
	     "UPDATE events e STRAIGHT_JOIN event_tenants et FORCE INDEX (ix_event_tenants_event) "
	     "ON et.event_id = e.id "
	     "SET et.seq = e.seq WHERE e.seq >= ? AND e.seq < ?",
	     DB_PARAMS(DB_INT, DB_INT), DB_NO_ROW);
DB_STATEMENT(event_sequence_set, "UPDATE event_sequence SET next_seq = ? WHERE id = 1",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status event_sequence_run(struct txn *t, long long limit, unsigned long long *numbered)
{
	struct db_count next;
	void *items = NULL;
	size_t n = 0;
	enum db_status rc;
	struct db_arg l[] = {db_int(limit)};
	*numbered = 0;
	/* one sequencer at a time, on every host: numbers never interleave */
	if ((rc = db_one(t, &event_sequence_lock, NULL, &next)) != DB_OK ||
	    (rc = db_all(t, &events_unnumbered, l, &items, &n)) != DB_OK)
		return rc == DB_EMPTY ? DB_FAILED : rc;
	const struct unnumbered_row *r = items;
	long long seq = next.n;
	for (size_t i = 0; i < n && rc == DB_OK; i++, seq++) {
		struct db_arg a[] = {db_int(seq), db_text(r[i].id)};
		rc = db_exec(t, &event_number, a, NULL);
	}
	free(items);
	if (rc != DB_OK || n == 0)
		return rc;
	/* then the batch's rows by the range of its numbers */
	struct db_arg range[] = {db_int(next.n), db_int(seq)};
	struct db_arg s[] = {db_int(seq)};
	if ((rc = db_exec(t, &event_tenants_number, range, NULL)) == DB_OK &&
	    (rc = webhook_fan_out(t, next.n, seq)) == DB_OK &&
	    (rc = db_exec(t, &event_sequence_set, s, NULL)) == DB_OK)
		*numbered = n;
	return rc;
}

DB_STATEMENT(event_insert_numbered,
	     "INSERT INTO events (id, type, version, actor_type, actor_id, actor_tenant_id, "
	     "delegation_id, occurred_at, data, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT | DB_NULLABLE,
		       DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TIME, DB_TEXT, DB_INT),
	     DB_NO_ROW);

enum db_status event_record_numbered(struct txn *t, const struct actor *a, const char *type,
				     const char *data, char id[UUID_STR], long long *seq)
{
	struct db_count next;
	enum db_status rc = db_one(t, &event_sequence_lock, NULL, &next);
	if (rc != DB_OK)
		return DB_FAILED;
	uuid_v7(id);
	*seq = next.n;
	const char *own = a->delegated_from != NULL ? a->delegated_from : a->tenant_id;
	struct db_arg e[] = {
	    db_text(id),    db_text(type), db_int(EVENT_VERSION),	db_text(a->type),
	    db_text(a->id), db_text(own),  db_text(a->relationship_id), db_time(time_micros()),
	    db_text(data),  db_int(*seq)};
	struct db_arg s[] = {db_int(*seq + 1)};
	if ((rc = db_exec(t, &event_insert_numbered, e, NULL)) == DB_OK)
		rc = db_exec(t, &event_sequence_set, s, NULL);
	return rc;
}

/* by the primary key: a v7 id is its moment */
DB_STATEMENT(events_expired,
	     "DELETE FROM events WHERE id < ? AND seq IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
	     "webhook_deliveries d WHERE d.event_id = events.id) ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_NO_ROW);

enum db_status event_purge(struct txn *t, int days, long long limit, unsigned long long *deleted)
{
	char before[UUID_STR];
	uuid_v7_floor(time_micros_after(-86400.0 * days), before);
	struct db_arg a[] = {db_text(before), db_int(limit)};
	return db_exec(t, &events_expired, a, deleted);
}

#define EVENT_ITEM_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, type, DB_TEXT)                                                                        \
	F(T, version, DB_INT)                                                                      \
	F(T, seq, DB_INT)                                                                          \
	F(T, actor_type, DB_TEXT)                                                                  \
	F(T, actor_id, DB_TEXT)                                                                    \
	F(T, actor_tenant_id, DB_TEXT)                                                             \
	F(T, delegation_id, DB_TEXT) F(T, occurred_at, DB_TIME) F(T, data, DB_DUP)
/* ix_event_tenants_feed from the cursor on; the type's filter on the rows
 * it reads */
DB_STATEMENT(event_feed,
	     "SELECT e.id, e.type, e.version, et.seq, e.actor_type, e.actor_id, e.actor_tenant_id, "
	     "e.delegation_id, e.occurred_at, e.data FROM event_tenants et "
	     "FORCE INDEX (ix_event_tenants_feed) JOIN events e ON e.id = et.event_id "
	     "WHERE et.tenant_id = ? AND et.seq > ? AND et.type_bit & ? <> 0 "
	     "ORDER BY et.seq LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_INT, DB_INT),
	     DB_ROW(struct event_item, EVENT_ITEM_FIELDS));

DB_STATEMENT(event_by_id,
	     "SELECT e.id, e.type, e.version, e.seq, e.actor_type, e.actor_id, e.actor_tenant_id, "
	     "e.delegation_id, e.occurred_at, e.data FROM events e WHERE e.id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct event_item, EVENT_ITEM_FIELDS));

enum db_status event_get(struct txn *t, const char *id, struct event_item *out)
{
	struct db_arg a[] = {db_text(id)};
	return db_one(t, &event_by_id, a, out);
}

enum db_status event_feed_read(struct txn *t, const char *tenant_id, long long after,
			       unsigned types, long limit, struct event_item **items, size_t *n)
{
	void *rows = NULL;
	struct db_arg a[] = {db_text(tenant_id), db_int(after), db_int(types), db_int(limit)};
	enum db_status rc = db_all(t, &event_feed, a, &rows, n);
	*items = rows;
	return rc;
}

void event_items_free(struct event_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(items[i].data);
	free(items);
}
