#include "domain/session.h"

#include "core/problem.h"
#include "domain/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

DB_STATEMENT(session_insert,
	     "INSERT INTO sessions (id, user_id, tenant_id, client_addr, user_agent, created_at, "
	     "last_used_at, idle_expires_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME, DB_TIME, DB_TIME,
		       DB_TIME),
	     DB_NO_ROW);

DB_STATEMENT(refresh_token_insert,
	     "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

/* A user agent longer than the column is cut on a character boundary
 * (it is shown, never compared). */
static void user_agent_cut(const char *in, char out[256])
{
	size_t n = in != NULL ? strnlen(in, 255) : 0;
	while (n > 0 && in[n] != '\0' && ((unsigned char)in[n] & 0xC0) == 0x80)
		n--;
	memcpy(out, in != NULL ? in : "", n);
	out[n] = '\0';
}

static enum db_status refresh_token_new(struct txn *t, const char *sid, micros_t now,
					char token[LINK_TOKEN_LEN + 1])
{
	char hash[65];
	link_token_generate(token, hash);
	struct db_arg a[] = {db_text(hash), db_text(sid), db_time(now)};
	return db_exec(t, &refresh_token_insert, a, NULL);
}

enum db_status session_start(struct txn *t, const char *user_id, const char *tenant_id,
			     const char *client_addr, const char *user_agent,
			     const struct session_limits *limits, char sid[UUID_STR],
			     char token[LINK_TOKEN_LEN + 1])
{
	char agent[256];
	micros_t now = time_micros();
	micros_t ends = now + (micros_t)limits->max * 1000000;
	micros_t idle = now + (micros_t)limits->idle * 1000000;
	uuid_v7(sid);
	user_agent_cut(user_agent, agent);
	struct db_arg a[] = {db_text(sid),	 db_text(user_id),
			     db_text(tenant_id), db_text(client_addr),
			     db_text(agent),	 db_time(now),
			     db_time(now),	 db_time(idle < ends ? idle : ends),
			     db_time(ends)};
	enum db_status rc = db_exec(t, &session_insert, a, NULL);
	if (rc == DB_OK)
		rc = refresh_token_new(t, sid, now, token);
	if (rc != DB_OK)
		sodium_memzero(token, LINK_TOKEN_LEN + 1);
	return rc;
}

/* The token presented, its session and its user, locked: two refreshes
 * with one token take turns, and the second finds it retired. */
struct refresh_row {
	char session_id[UUID_STR];
	char token_hash[65];
	bool retired, ended, idle, expired;
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	bool disabled;
	unsigned roles;
};
#define REFRESH_FIELDS(F, T)                                                                       \
	F(T, session_id, DB_TEXT)                                                                  \
	F(T, token_hash, DB_TEXT)                                                                  \
	F(T, retired, DB_INT)                                                                      \
	F(T, ended, DB_INT)                                                                        \
	F(T, idle, DB_INT)                                                                         \
	F(T, expired, DB_INT)                                                                      \
	F(T, user_id, DB_TEXT) F(T, tenant_id, DB_TEXT) F(T, disabled, DB_INT) F(T, roles, DB_INT)

DB_STATEMENT(refresh_token_get,
	     "SELECT r.session_id, r.token_hash, r.retired_at IS NOT NULL AS retired, "
	     "s.ended_at IS NOT NULL AS ended, s.idle_expires_at <= UTC_TIMESTAMP(6) AS idle, "
	     "s.expires_at <= UTC_TIMESTAMP(6) AS expired, s.user_id, s.tenant_id, "
	     "u.disabled, u.roles + 0 AS roles FROM refresh_tokens r "
	     "JOIN sessions s ON s.id = r.session_id JOIN users u ON u.id = s.user_id "
	     "WHERE r.token_hash = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct refresh_row, REFRESH_FIELDS));

DB_STATEMENT(refresh_token_retire,
	     "UPDATE refresh_tokens SET retired_at = ? WHERE token_hash = ? AND retired_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(session_extend,
	     "UPDATE sessions SET last_used_at = ?, idle_expires_at = LEAST(?, expires_at) "
	     "WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TIME, DB_TEXT), DB_NO_ROW);

/* an ended session's idle limit is its end, which the purge goes by */
DB_STATEMENT(session_set_ended,
	     "UPDATE sessions SET ended_at = ?, ended_reason = ?, idle_expires_at = "
	     "LEAST(idle_expires_at, ended_at) WHERE id = ? AND user_id = ? AND ended_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* A retired token again: its session ends, and that is kept (and
 * audited in the session's tenant) although the request fails. */
static int refresh_reused(struct txn *t, const struct refresh_row *r, const char *request_id,
			  const char *client_addr, struct problem *p)
{
	micros_t now = time_micros();
	struct actor who = {"anonymous", NULL, r->tenant_id, request_id,
			    client_addr, 0,    NULL,	     NULL};
	struct db_arg a[] = {db_time(now), db_text("refresh_reused"), db_text(r->session_id),
			     db_text(r->user_id)};
	unsigned long long ended = 0;
	if (db_exec(t, &session_set_ended, a, &ended) != DB_OK ||
	    (ended > 0 && audit_record(t, &who, "session.refresh_reused", "session", r->session_id,
				       now) != DB_OK) ||
	    txn_commit_now(t, p) != 0)
		return -1;
	return auth_refuse(p, "the refresh token was used before: its session has ended",
			   request_id);
}

int session_refresh(struct txn *t, const char *presented, const struct session_limits *limits,
		    const char *request_id, const char *client_addr, char next[LINK_TOKEN_LEN + 1],
		    struct session_refreshed *out, struct problem *p)
{
	struct refresh_row r;
	char hash[65];
	const char *refusal = NULL;
	api_token_hash(presented, hash);
	struct db_arg k[] = {db_text(hash)};
	switch (db_one(t, &refresh_token_get, k, &r)) {
	case DB_OK: break;
	case DB_EMPTY: return auth_refuse(p, "the refresh token is not known", request_id);
	default: return -1;
	}
	/* the index found it; the comparison that decides takes constant time */
	if (sodium_memcmp(r.token_hash, hash, 64) != 0)
		return auth_refuse(p, "the refresh token is not known", request_id);
	if (r.retired && !r.ended)
		return refresh_reused(t, &r, request_id, client_addr, p);
	if (r.ended || r.retired)
		refusal = "the refresh token's session has ended";
	else if (r.expired)
		refusal = "the session has reached its absolute limit: sign in again";
	else if (r.idle)
		refusal = "the session was idle too long: sign in again";
	else if (r.disabled)
		refusal = "the user is disabled";
	if (refusal != NULL)
		return auth_refuse(p, refusal, request_id);
	micros_t now = time_micros();
	struct db_arg retire[] = {db_time(now), db_text(hash)};
	struct db_arg extend[] = {db_time(now), db_time(now + (micros_t)limits->idle * 1000000),
				  db_text(r.session_id)};
	if (db_exec(t, &refresh_token_retire, retire, NULL) != DB_OK ||
	    db_exec(t, &session_extend, extend, NULL) != DB_OK ||
	    refresh_token_new(t, r.session_id, now, next) != DB_OK)
		return -1;
	memcpy(out->sid, r.session_id, sizeof out->sid);
	memcpy(out->user_id, r.user_id, sizeof out->user_id);
	memcpy(out->tenant_id, r.tenant_id, sizeof out->tenant_id);
	out->roles = r.roles;
	return 0;
}

int session_end(struct txn *t, const struct actor *a, const char *user_id, const char *sid,
		const char *reason, struct problem *p)
{
	micros_t now = time_micros();
	unsigned long long ended = 0;
	struct db_arg args[] = {db_time(now), db_text(reason), db_text(sid), db_text(user_id)};
	if (db_exec(t, &session_set_ended, args, &ended) != DB_OK)
		return -1;
	if (ended == 0)
		return problem_set(p, PROBLEM_NOT_FOUND, "no session of yours has this id");
	return audit_record(t, a, "session.end", "session", sid, now) == DB_OK ? 0 : -1;
}

/* keep: a session that goes on ("" for none) */
DB_STATEMENT(sessions_set_ended_but,
	     "UPDATE sessions SET ended_at = ?, ended_reason = 'ended', idle_expires_at = "
	     "LEAST(idle_expires_at, ended_at) WHERE user_id = ? AND tenant_id = ? AND id <> ? "
	     "AND ended_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

static enum db_status sessions_end_but(struct txn *t, const struct actor *a, const char *user_id,
				       const char *keep, micros_t now, unsigned long long *ended)
{
	struct db_arg args[] = {db_time(now), db_text(user_id), db_text(a->tenant_id),
				db_text(keep)};
	return db_exec(t, &sessions_set_ended_but, args, ended);
}

enum db_status sessions_end_others(struct txn *t, const struct actor *a, const char *user_id,
				   const char *keep)
{
	return sessions_end_but(t, a, user_id, keep, time_micros(), NULL);
}

int sessions_end_all(struct txn *t, const struct actor *a, const char *user_id)
{
	micros_t now = time_micros();
	unsigned long long ended = 0;
	if (sessions_end_but(t, a, user_id, "", now, &ended) != DB_OK)
		return -1;
	if (ended > 0 && audit_record(t, a, "session.end_all", "user", user_id, now) != DB_OK)
		return -1;
	return 0;
}

#define SESSION_FIELDS(F, T)                                                                       \
	F(T, id, DB_TEXT)                                                                          \
	F(T, client_addr, DB_TEXT)                                                                 \
	F(T, user_agent, DB_TEXT)                                                                  \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, last_used_at, DB_TIME) F(T, idle_expires_at, DB_TIME) F(T, expires_at, DB_TIME)
#define SESSION_GOING                                                                              \
	"ended_at IS NULL AND idle_expires_at > UTC_TIMESTAMP(6) AND expires_at > "                \
	"UTC_TIMESTAMP(6) "

DB_STATEMENT(session_list,
	     "SELECT id, client_addr, user_agent, created_at, last_used_at, "
	     "idle_expires_at, expires_at FROM sessions " DB_LIST_INDEX(
		 "ix_sessions_user") "WHERE user_id = ? AND " SESSION_GOING
				     "AND id > ? ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct session_view, SESSION_FIELDS));

DB_STATEMENT(
    session_count,
    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM sessions WHERE user_id = ? AND " SESSION_GOING
    "LIMIT ?) c",
    DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page session_page = {.list = &session_list,
				     .count = &session_count,
				     .n_keys = 1,
				     .cursor_offset = offsetof(struct session_view, id)};

/* A day after its end a session is no longer shown or checked: it goes,
 * its refresh tokens with it (ON DELETE CASCADE). */
DB_STATEMENT(session_purge_over,
	     "DELETE FROM sessions WHERE idle_expires_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
	     "ORDER BY idle_expires_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status session_purge(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &session_purge_over, a, deleted);
}
