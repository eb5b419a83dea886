#include "domain/api_token.h"

#include "core/problem.h"
#include "domain/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* scopes is a SET whose members are in the order of enum auth_scope's
 * bits: it binds and reads as a number. */
DB_STATEMENT(api_token_insert,
	     "INSERT INTO api_tokens (id, tenant_id, created_by, name, token_hash, scopes, "
	     "expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TIME, DB_TIME),
	     DB_NO_ROW);

/* with its creator as it is now, which decides whether the token works */
#define API_TOKEN_SELECT_USING(hint)                                                               \
	"SELECT t.id, t.name, t.scopes + 0 AS scopes, t.expires_at, t.last_used_at, "              \
	"t.revoked_at, t.created_at, t.created_by, u.disabled AS creator_disabled, "               \
	"u.roles + 0 AS creator_roles FROM api_tokens t " hint                                     \
	"JOIN users u ON u.id = t.created_by "
#define API_TOKEN_SELECT API_TOKEN_SELECT_USING("")
#define API_TOKEN_FIELDS(F, T)                                                                     \
	F(T, id, DB_TEXT)                                                                          \
	F(T, name, DB_TEXT)                                                                        \
	F(T, scopes, DB_INT)                                                                       \
	F(T, expires_at, DB_TIME)                                                                  \
	F(T, last_used_at, DB_TIME)                                                                \
	F(T, revoked_at, DB_TIME)                                                                  \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, created_by, DB_TEXT) F(T, creator_disabled, DB_INT) F(T, creator_roles, DB_INT)

DB_STATEMENT(
    api_token_list,
    API_TOKEN_SELECT_USING(DB_LIST_INDEX(
	"ix_api_tokens_tenant")) "WHERE t.tenant_id = ? AND t.id > ? ORDER BY t.id LIMIT ?",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct api_token_view, API_TOKEN_FIELDS));

DB_STATEMENT(api_token_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM api_tokens WHERE tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page api_token_page = {.list = &api_token_list,
				       .count = &api_token_count,
				       .n_keys = 1,
				       .cursor_offset = offsetof(struct api_token_view, id)};

DB_STATEMENT(api_token_get, API_TOKEN_SELECT "WHERE t.tenant_id = ? AND t.id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct api_token_view, API_TOKEN_FIELDS));

DB_STATEMENT(api_token_last_used,
	     "UPDATE api_tokens SET last_used_at = UTC_TIMESTAMP(6) WHERE id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

enum db_status api_token_touch(struct txn *t, const char *id)
{
	struct db_arg a[] = {db_text(id)};
	return db_exec(t, &api_token_last_used, a, NULL);
}

DB_STATEMENT(api_token_set_revoked,
	     "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

const char *api_token_suspended_reason(const struct api_token_view *v)
{
	if (v->creator_disabled)
		return "its creator is disabled";
	if (!(v->creator_roles & API_TOKEN_CREATOR_ROLES))
		return "its creator is no longer an admin agent or a global admin";
	return NULL;
}

/* Token id of the tenant into out (NULL: only whether it is there),
 * locked. 404 when it is not the tenant's. */
static int api_token_lock(struct txn *t, const char *tenant_id, const char *id,
			  struct api_token_view *out, struct problem *p)
{
	struct api_token_view v;
	struct db_arg a[] = {db_text(tenant_id), db_text(id)};
	switch (db_one(t, &api_token_get, a, out != NULL ? out : &v)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no API token %s in this tenant", id);
	default: return -1;
	}
}

int api_token_create(struct txn *t, const struct actor *a, const char *name, unsigned scopes,
		     micros_t expires_at, char token[API_TOKEN_LEN + 1], struct api_token_view *out,
		     struct problem *p)
{
	char id[UUID_STR], hash[65];
	micros_t at = time_micros();
	int rc = -1;
	api_token_generate(token, hash);
	uuid_v7(id);
	struct db_arg r[] = {
	    db_text(id),   db_text(a->tenant_id), db_text(a->id),      db_text(name),
	    db_text(hash), db_int(scopes),	  db_time(expires_at), db_time(at)};
	if (db_exec(t, &api_token_insert, r, NULL) != DB_OK ||
	    audit_record(t, a, "api_token.create", "api_token", id, at) != DB_OK)
		goto out;
	rc = api_token_lock(t, a->tenant_id, id, out, p);
out:
	if (rc != 0)
		sodium_memzero(token, API_TOKEN_LEN + 1);
	return rc;
}

int api_token_revoke(struct txn *t, const struct actor *a, const char *id, struct problem *p)
{
	unsigned long long affected = 0;
	micros_t at = time_micros();
	if (api_token_lock(t, a->tenant_id, id, NULL, p) != 0)
		return -1;
	struct db_arg r[] = {db_time(at), db_text(id)};
	if (db_exec(t, &api_token_set_revoked, r, &affected) != DB_OK)
		return -1;
	if (affected > 0 && audit_record(t, a, "api_token.revoke", "api_token", id, at) != DB_OK)
		return -1;
	return 0;
}
