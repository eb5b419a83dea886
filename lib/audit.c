#include "audit.h"

#include "problem.h"
#include "util.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>

const struct db_stmt_def stmt_audit_insert = {
	STMT_audit_insert, "audit_insert",
	"INSERT INTO audit_events (id, tenant_id, actor_type, actor_id, action, target_type, "
	"target_id, request_id, client_addr, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	10, 0};

enum db_status audit_write(struct db *db, const struct audit_entry *e)
{
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
	};
	return db_exec(db, STMT_audit_insert, args, NULL, NULL);
}

enum db_status audit_record(struct db *db, const struct actor *a, const char *action,
			    const char *target_type, const char *target_id, const char *at)
{
	struct audit_entry e = {a->tenant_id, a->type,       a->id,          action, target_type,
				target_id,    a->request_id, a->client_addr, at};
	return audit_write(db, &e);
}

const struct db_stmt_def stmt_audit_list = {
	STMT_audit_list, "audit_list",
	"SELECT id, actor_type, actor_id, action, target_type, target_id, request_id, client_addr, "
	"created_at FROM audit_events WHERE tenant_id = ? AND (? = '' OR id < ?) "
	"ORDER BY id DESC LIMIT ?",
	4, 9};

const struct db_stmt_def stmt_audit_count = {
	STMT_audit_count, "audit_count", "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ?", 1,
	1};

struct list_work {
	const char *tenant_id, *before;
	long limit;
	struct db_rows rows;
	long total;
};

static enum db_status list_run(struct db *db, void *arg, struct problem *p)
{
	struct list_work *w = arg;
	struct db_rows count = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->tenant_id), db_str(w->before), db_str(w->before),
			     db_int(w->limit)};
	struct db_arg t[] = {db_str(w->tenant_id)};
	db_rows_free(&w->rows);
	enum db_status rc = db_exec(db, STMT_audit_list, a, &w->rows, NULL);
	if (rc == DB_OK)
		rc = db_exec(db, STMT_audit_count, t, &count, NULL);
	if (rc == DB_OK)
		w->total = atol(db_cell(&count, 0, 0));
	db_rows_free(&count);
	return rc;
}

static void cell_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

int audit_list(struct db *db, const char *tenant_id, const char *before, long limit,
	       struct audit_event **items, size_t *n, long *total, struct problem *p)
{
	struct list_work w = {tenant_id, before, limit, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	if (db_run(db, list_run, &w, p) != 0) {
		db_rows_free(&w.rows);
		return -1;
	}
	*items = xcalloc(w.rows.n_rows, sizeof **items);
	for (size_t i = 0; i < w.rows.n_rows; i++) {
		struct audit_event *e = &(*items)[i];
		cell_copy(e->id, sizeof e->id, db_cell(&w.rows, i, 0));
		cell_copy(e->actor_type, sizeof e->actor_type, db_cell(&w.rows, i, 1));
		cell_copy(e->actor_id, sizeof e->actor_id, db_cell(&w.rows, i, 2));
		cell_copy(e->action, sizeof e->action, db_cell(&w.rows, i, 3));
		cell_copy(e->target_type, sizeof e->target_type, db_cell(&w.rows, i, 4));
		cell_copy(e->target_id, sizeof e->target_id, db_cell(&w.rows, i, 5));
		cell_copy(e->request_id, sizeof e->request_id, db_cell(&w.rows, i, 6));
		cell_copy(e->client_addr, sizeof e->client_addr, db_cell(&w.rows, i, 7));
		time_sql_to_api(db_cell(&w.rows, i, 8), e->at);
	}
	*n = w.rows.n_rows;
	*total = w.total;
	db_rows_free(&w.rows);
	return 0;
}
