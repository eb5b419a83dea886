#include "audit.h"

#include "util.h"

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
