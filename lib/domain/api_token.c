#include "domain/api_token.h"

#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "domain/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_api_token_insert = {
    STMT_api_token_insert, "api_token_insert",
    "INSERT INTO api_tokens (id, tenant_id, created_by, name, token_hash, scopes, expires_at, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    8, 0};

/* with whether its creator can still stand behind it (auth.c refuses the
 * token while it cannot) */
#define TOKEN_COLUMNS                                                                              \
	"t.id, t.name, t.scopes, t.expires_at, t.last_used_at, t.revoked_at, t.created_at, "       \
	"t.created_by, u.disabled, FIND_IN_SET('admin_agent', u.roles) + "                         \
	"FIND_IN_SET('global_admin', u.roles) FROM api_tokens t JOIN users u ON u.id = "           \
	"t.created_by "

const struct db_stmt_def stmt_api_token_list = {STMT_api_token_list, "api_token_list",
						"SELECT " TOKEN_COLUMNS
						"WHERE t.tenant_id = ? AND (? = '' OR t.id > ?) "
						"ORDER BY t.id LIMIT ?",
						4, 10};

const struct db_stmt_def stmt_api_token_count = {
    STMT_api_token_count, "api_token_count", "SELECT COUNT(*) FROM api_tokens WHERE tenant_id = ?",
    1, 1};

const struct db_stmt_def stmt_api_token_get = {
    STMT_api_token_get, "api_token_get",
    "SELECT " TOKEN_COLUMNS "WHERE t.tenant_id = ? AND t.id = ? FOR UPDATE", 2, 10};

const struct db_stmt_def stmt_api_token_revoke = {
    STMT_api_token_revoke, "api_token_revoke",
    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", 2, 0};

static void view_from_row(const struct db_rows *rows, size_t i, void *item)
{
	struct api_token_view *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->name, sizeof v->name);
	v->scopes = scopes_from_csv(db_cell(rows, i, 2));
	time_sql_to_api(db_cell(rows, i, 3), v->expires_at);
	if (db_cell(rows, i, 4) != NULL)
		time_sql_to_api(db_cell(rows, i, 4), v->last_used_at);
	if (db_cell(rows, i, 5) != NULL)
		time_sql_to_api(db_cell(rows, i, 5), v->revoked_at);
	time_sql_to_api(db_cell(rows, i, 6), v->created_at);
	db_cell_copy(rows, i, 7, v->created_by, sizeof v->created_by);
	if (strcmp(db_cell(rows, i, 8), "0") != 0)
		v->suspended_reason = "its creator is disabled";
	else if (strcmp(db_cell(rows, i, 9), "0") == 0)
		v->suspended_reason = "its creator is no longer an admin agent or a global admin";
}

struct create_work {
	const struct actor *a;
	const char *name, *expires, *hash;
	unsigned scopes;
	struct api_token_view *out;
};

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	char at[TIME_STR], csv[200];
	struct db_rows rows = {0, 0, NULL};
	uuid_v7(w->out->id);
	time_now(at, NULL);
	scopes_to_csv(w->scopes, csv, sizeof csv);
	struct db_arg a[] = {db_str(w->out->id), db_str(w->a->tenant_id),
			     db_str(w->a->id),	 db_str(w->name),
			     db_str(w->hash),	 db_str(csv),
			     db_str(w->expires), db_str(at)};
	enum db_status rc = legacy_exec(db, STMT_api_token_insert, a, NULL, NULL);
	if (rc == DB_OK)
		rc = legacy_audit_record(db, w->a, "api_token.create", "api_token", w->out->id, at);
	if (rc == DB_OK) {
		struct db_arg g[] = {db_str(w->a->tenant_id), db_str(w->out->id)};
		rc = legacy_exec(db, STMT_api_token_get, g, &rows, NULL);
		if (rc == DB_OK && rows.n_rows == 1)
			view_from_row(&rows, 0, w->out);
	}
	db_rows_free(&rows);
	return rc;
}

int api_token_create(struct db *db, const struct actor *a, const char *name, unsigned scopes,
		     const char *expires_sql, char token[API_TOKEN_LEN + 1],
		     struct api_token_view *out, struct problem *p)
{
	char hash[65];
	api_token_generate(token, hash);
	struct create_work w = {a, name, expires_sql, hash, scopes, out};
	int rc = db_run(db, create_run, &w, p);
	snprintf(out->prefix, sizeof out->prefix, "%.10s", token);
	if (rc != 0)
		sodium_memzero(token, API_TOKEN_LEN + 1);
	return rc;
}

int api_token_list(struct db *db, const char *tenant_id, const char *after, long limit,
		   struct api_token_view **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {
	    STMT_api_token_list, STMT_api_token_count, tenant_id, after, limit, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, view_from_row, n);
	*total = pg.total;
	return 0;
}

struct revoke_work {
	const struct actor *a;
	const char *id;
};

static enum db_status revoke_run(struct db *db, void *arg, struct problem *p)
{
	struct revoke_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	unsigned long long affected = 0;
	char at[TIME_STR];
	struct db_arg g[] = {db_str(w->a->tenant_id), db_str(w->id)};
	enum db_status rc = legacy_exec(db, STMT_api_token_get, g, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0) {
		problem_set(p, PROBLEM_NOT_FOUND, "no API token %s in this tenant", w->id);
		rc = DB_REFUSED;
	}
	db_rows_free(&rows);
	if (rc != DB_OK)
		return rc;
	time_now(at, NULL);
	struct db_arg r[] = {db_str(at), db_str(w->id)};
	rc = legacy_exec(db, STMT_api_token_revoke, r, NULL, &affected);
	if (rc == DB_OK && affected > 0)
		rc = legacy_audit_record(db, w->a, "api_token.revoke", "api_token", w->id, at);
	return rc;
}

int api_token_revoke(struct db *db, const struct actor *a, const char *id, struct problem *p)
{
	struct revoke_work w = {a, id};
	if (!uuid_valid(id))
		return problem_set(p, PROBLEM_NOT_FOUND, "no API token %s in this tenant", id);
	return db_run(db, revoke_run, &w, p);
}
