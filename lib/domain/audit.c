#include "domain/audit.h"

#include "core/util.h"

#include <stddef.h>

#define AUDIT_COLUMNS                                                                              \
	"(id, tenant_id, actor_type, actor_id, action, target_type, target_id, request_id, "       \
	"client_addr, created_at, relationship_id, actor_tenant_id, subject_tenant_id)"
#define AUDIT_PARAMS                                                                               \
	DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,      \
	    DB_TEXT, DB_TIME, DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE

DB_STATEMENT(audit_insert,
	     "INSERT INTO audit_events " AUDIT_COLUMNS
	     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(AUDIT_PARAMS), DB_NO_ROW);

DB_STATEMENT(audit_insert_three,
	     "INSERT INTO audit_events " AUDIT_COLUMNS
	     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), "
	     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(AUDIT_PARAMS, AUDIT_PARAMS, AUDIT_PARAMS), DB_NO_ROW);

/* The 13 arguments of one row: e, with a delegated change's relationship,
 * actor's tenant and changed tenant from delegated (none when NULL). */
static void audit_args(struct db_arg *r, char id[UUID_STR], const struct audit_entry *e,
		       const struct actor *delegated)
{
	const char *via = delegated ? delegated->delegated_from : NULL;
	uuid_v7(id);
	r[0] = db_text(id);
	r[1] = db_text(e->tenant_id);
	r[2] = db_text(e->actor_type);
	r[3] = db_text(e->actor_id);
	r[4] = db_text(e->action);
	r[5] = db_text(e->target_type);
	r[6] = db_text(e->target_id);
	r[7] = db_text(e->request_id ? e->request_id : "");
	r[8] = db_text(e->client_addr ? e->client_addr : "");
	r[9] = db_time(e->at);
	r[10] = db_text(via ? delegated->relationship_id : NULL);
	r[11] = db_text(via);
	r[12] = db_text(via ? delegated->tenant_id : NULL);
}

static enum db_status audit_insert_one(struct txn *t, const struct audit_entry *e,
				       const struct actor *delegated)
{
	struct db_arg args[13];
	char id[UUID_STR];
	audit_args(args, id, e, delegated);
	return db_exec(t, &audit_insert, args, NULL);
}

enum db_status audit_write(struct txn *t, const struct audit_entry *e)
{
	return audit_insert_one(t, e, NULL);
}

enum db_status audit_record_in(struct txn *t, const struct actor *a, const char *tenant_id,
			       const char *action, const char *target_type, const char *target_id,
			       micros_t at)
{
	struct audit_entry e = {tenant_id, a->type,	  a->id,	  action, target_type,
				target_id, a->request_id, a->client_addr, at};
	return audit_insert_one(t, &e, a);
}

enum db_status audit_record(struct txn *t, const struct actor *a, const char *action,
			    const char *target_type, const char *target_id, micros_t at)
{
	enum db_status rc = audit_record_in(t, a, a->tenant_id, action, target_type, target_id, at);
	if (rc == DB_OK && a->delegated_from != NULL)
		rc = audit_record_in(t, a, a->delegated_from, action, target_type, target_id, at);
	return rc;
}

enum db_status audit_record_three(struct txn *t, const struct actor *a, const char *second,
				  const char *third, const char *action, const char *target_type,
				  const char *target_id, micros_t at)
{
	const char *tenants[3] = {a->tenant_id, second, third};
	char ids[3][UUID_STR];
	struct db_arg args[39];
	enum db_status rc;
	/* a delegated actor's event goes to its own log as well */
	if (a->delegated_from != NULL) {
		if ((rc = audit_record(t, a, action, target_type, target_id, at)) == DB_OK &&
		    (rc = audit_record_in(t, a, second, action, target_type, target_id, at)) ==
			DB_OK)
			rc = audit_record_in(t, a, third, action, target_type, target_id, at);
		return rc;
	}
	for (size_t i = 0; i < 3; i++) {
		struct audit_entry e = {tenants[i],    a->type,	       a->id,
					action,	       target_type,    target_id,
					a->request_id, a->client_addr, at};
		audit_args(&args[i * 13], ids[i], &e, NULL);
	}
	return db_exec(t, &audit_insert_three, args, NULL);
}

#define EVENT_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, actor_type, DB_TEXT)                                                                  \
	F(T, actor_id, DB_TEXT)                                                                    \
	F(T, action, DB_TEXT)                                                                      \
	F(T, target_type, DB_TEXT)                                                                 \
	F(T, target_id, DB_TEXT)                                                                   \
	F(T, request_id, DB_TEXT)                                                                  \
	F(T, client_addr, DB_TEXT)                                                                 \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, actor_tenant_id, DB_TEXT) F(T, subject_tenant_id, DB_TEXT)

DB_STATEMENT(audit_list,
	     "SELECT id, actor_type, actor_id, action, target_type, target_id, request_id, "
	     "client_addr, created_at, relationship_id, actor_tenant_id, subject_tenant_id "
	     "FROM audit_events " DB_LIST_INDEX(
		 "ix_audit_tenant") "WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct audit_event, EVENT_FIELDS));

DB_STATEMENT(audit_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM audit_events WHERE tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page audit_page = {.list = &audit_list,
				   .count = &audit_count,
				   .n_keys = 1,
				   .descending = true,
				   .cursor_offset = offsetof(struct audit_event, id)};
