#include "domain/audit.h"

#include "core/problem.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

const struct db_stmt_def stmt_audit_insert = {
    STMT_audit_insert, "audit_insert",
    "INSERT INTO audit_events (id, tenant_id, actor_type, actor_id, action, target_type, "
    "target_id, request_id, client_addr, created_at, relationship_id, actor_tenant_id, "
    "subject_tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    13, 0};

/* e with a delegated change's relationship, actor's tenant and changed
 * tenant (all NULL for any other) */
static enum db_status audit_insert(struct db *db, const struct audit_entry *e,
				   const struct actor *delegated)
{
	const char *via = delegated ? delegated->delegated_from : NULL;
	char id[UUID_STR];
	uuid_v7(id);
	struct db_arg args[] = {
	    db_str(id),
	    db_str(e->tenant_id),
	    db_str(e->actor_type),
	    db_str(e->actor_id),
	    db_str(e->action),
	    db_str(e->target_type),
	    db_str(e->target_id),
	    db_str(e->request_id ? e->request_id : ""),
	    db_str(e->client_addr ? e->client_addr : ""),
	    db_str(e->at),
	    db_str(via ? delegated->relationship_id : NULL),
	    db_str(via),
	    db_str(via ? delegated->tenant_id : NULL),
	};
	return legacy_exec(db, STMT_audit_insert, args, NULL, NULL);
}

enum db_status audit_write(struct db *db, const struct audit_entry *e)
{
	return audit_insert(db, e, NULL);
}

enum db_status audit_record_in(struct db *db, const struct actor *a, const char *tenant_id,
			       const char *action, const char *target_type, const char *target_id,
			       const char *at)
{
	struct audit_entry e = {tenant_id, a->type,	  a->id,	  action, target_type,
				target_id, a->request_id, a->client_addr, at};
	return audit_insert(db, &e, a);
}

enum db_status audit_record(struct db *db, const struct actor *a, const char *action,
			    const char *target_type, const char *target_id, const char *at)
{
	enum db_status rc =
	    audit_record_in(db, a, a->tenant_id, action, target_type, target_id, at);
	if (rc == DB_OK && a->delegated_from != NULL)
		rc = audit_record_in(db, a, a->delegated_from, action, target_type, target_id, at);
	return rc;
}

#define AUDIT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)"
const struct db_stmt_def stmt_audit_insert_three = {
    STMT_audit_insert_three, "audit_insert_three",
    "INSERT INTO audit_events (id, tenant_id, actor_type, actor_id, action, target_type, "
    "target_id, request_id, client_addr, created_at, relationship_id, actor_tenant_id, "
    "subject_tenant_id) VALUES " AUDIT_ROW ", " AUDIT_ROW ", " AUDIT_ROW,
    30, 0};

enum db_status audit_record_three(struct db *db, const struct actor *a, const char *second,
				  const char *third, const char *action, const char *target_type,
				  const char *target_id, const char *at)
{
	const char *tenants[3] = {a->tenant_id, second, third};
	char ids[3][UUID_STR];
	struct db_arg args[30];
	enum db_status rc;
	/* a delegated actor's event goes to its own log as well */
	if (a->delegated_from != NULL) {
		if ((rc = audit_record(db, a, action, target_type, target_id, at)) == DB_OK &&
		    (rc = audit_record_in(db, a, second, action, target_type, target_id, at)) ==
			DB_OK)
			rc = audit_record_in(db, a, third, action, target_type, target_id, at);
		return rc;
	}
	for (size_t i = 0; i < 3; i++) {
		struct db_arg *r = &args[i * 10];
		uuid_v7(ids[i]);
		r[0] = db_str(ids[i]);
		r[1] = db_str(tenants[i]);
		r[2] = db_str(a->type);
		r[3] = db_str(a->id);
		r[4] = db_str(action);
		r[5] = db_str(target_type);
		r[6] = db_str(target_id);
		r[7] = db_str(a->request_id ? a->request_id : "");
		r[8] = db_str(a->client_addr ? a->client_addr : "");
		r[9] = db_str(at);
	}
	return legacy_exec(db, STMT_audit_insert_three, args, NULL, NULL);
}

const struct db_stmt_def stmt_audit_list = {
    STMT_audit_list, "audit_list",
    "SELECT id, actor_type, actor_id, action, target_type, target_id, request_id, client_addr, "
    "created_at, relationship_id, actor_tenant_id, subject_tenant_id FROM audit_events "
    "WHERE tenant_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
    4, 12};

const struct db_stmt_def stmt_audit_count = {
    STMT_audit_count, "audit_count", "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ?", 1, 1};

static void event_from_row(const struct db_rows *rows, size_t i, void *item)
{
	struct audit_event *e = item;
	db_cell_copy(rows, i, 0, e->id, sizeof e->id);
	db_cell_copy(rows, i, 1, e->actor_type, sizeof e->actor_type);
	db_cell_copy(rows, i, 2, e->actor_id, sizeof e->actor_id);
	db_cell_copy(rows, i, 3, e->action, sizeof e->action);
	db_cell_copy(rows, i, 4, e->target_type, sizeof e->target_type);
	db_cell_copy(rows, i, 5, e->target_id, sizeof e->target_id);
	db_cell_copy(rows, i, 6, e->request_id, sizeof e->request_id);
	db_cell_copy(rows, i, 7, e->client_addr, sizeof e->client_addr);
	time_sql_to_api(db_cell(rows, i, 8), e->at);
	db_cell_copy(rows, i, 9, e->relationship_id, sizeof e->relationship_id);
	db_cell_copy(rows, i, 10, e->actor_tenant_id, sizeof e->actor_tenant_id);
	db_cell_copy(rows, i, 11, e->subject_tenant_id, sizeof e->subject_tenant_id);
}

int audit_list(struct db *db, const char *tenant_id, const char *before, long limit,
	       struct audit_event **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {STMT_audit_list, STMT_audit_count, tenant_id, before,
			     limit,	      {0, 0, NULL},	0};
	*items = NULL;
	*n = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, event_from_row, n);
	*total = pg.total;
	return 0;
}
