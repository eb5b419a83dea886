/* Sessions (issue 18): the refresh of an access token, sign-out, and a
 * person's view of its sessions. A browser keeps its refresh token in an
 * HttpOnly cookie that only /v1/auth sees; a request that uses it must
 * come from script on a page of ours (its Origin and X-Requested-With),
 * which a cross-site form or link cannot send. */
#include "api/app.h"
#include "api/handlers.h"
#include "api/settings.h"
#include "core/xalloc.h"
#include "auth/auth.h"
#include "auth/jwt_token.h"
#include "core/config.h"
#include "domain/session.h"
#include "domain/user.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REFRESH_COOKIE "twotier_refresh"

static struct session_limits ctx_session_limits(const struct ctx *c)
{
	struct session_limits l = {c->cfg->session_idle_timeout, c->cfg->session_max_age};
	return l;
}

/* The cookie of the refresh token: HttpOnly (no script reads it), Secure,
 * SameSite=Strict, only for the paths that take it; max_age 0 clears it. */
static void refresh_cookie(struct ctx *c, const char *token, long max_age)
{
	char *v =
	    xasprintf("%s=%s; Path=%s/v1/auth; Max-Age=%ld; HttpOnly; Secure; SameSite=Strict",
		      REFRESH_COOKIE, token, c->req->base ? c->req->base : "", max_age);
	response_header(c->res, "Set-Cookie", v);
	free(v);
}

/* Answers status with an access token of session sid and its refresh
 * token: in the body, or (cookie) in the cookie only. */
static int ctx_tokens(struct ctx *c, int status, const char *user_id, const char *tenant_id,
		      unsigned roles, const char *sid, const char *refresh, bool cookie)
{
	char jti[40];
	cJSON *role_names = roles_to_json(roles);
	char *token = jwt_issue_in_session(c->settings->keys[0], user_id, tenant_id, sid,
					   role_names, c->cfg->jwt_ttl, (long long)time(NULL), jti);
	cJSON_Delete(role_names);
	if (token == NULL)
		return problem_set(&c->problem, PROBLEM_INTERNAL, "the token could not be signed");
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "accessToken", token);
	cJSON_AddStringToObject(doc, "tokenType", "Bearer");
	cJSON_AddNumberToObject(doc, "expiresIn", c->cfg->jwt_ttl);
	cJSON_AddStringToObject(doc, "sessionId", sid);
	if (cookie)
		refresh_cookie(c, refresh, c->cfg->session_max_age);
	else
		cJSON_AddStringToObject(doc, "refreshToken", refresh);
	free(token);
	return ctx_json(c, status, doc);
}

int ctx_session_start(struct ctx *c, const char *user_id, const char *tenant_id, unsigned roles,
		      bool cookie)
{
	char sid[UUID_STR], refresh[LINK_TOKEN_LEN + 1];
	struct session_limits limits = ctx_session_limits(c);
	int rc = -1;
	if (session_start(&c->txn, user_id, tenant_id, c->client_addr, c->req->user_agent, &limits,
			  sid, refresh) == DB_OK)
		rc = ctx_tokens(c, 200, user_id, tenant_id, roles, sid, refresh, cookie);
	sodium_memzero(refresh, sizeof refresh);
	return rc;
}

/* The refresh token of the cookie (a pointer into the header), copied
 * into out; false when there is none of the right form. */
static bool cookie_token(const char *cookie, char out[LINK_TOKEN_LEN + 1])
{
	const char *name = REFRESH_COOKIE "=";
	for (const char *p = cookie; p != NULL && *p != '\0';) {
		p += strspn(p, " ;");
		if (strncmp(p, name, strlen(name)) == 0) {
			const char *v = p + strlen(name);
			size_t n = strcspn(v, "; ");
			if (n != LINK_TOKEN_LEN)
				return false;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
		p = strchr(p, ';');
	}
	return false;
}

/* Scheme, host and port of url ("https://a.example:8443"), as an Origin
 * header names them, into out. */
static void origin_of(const char *url, char *out, size_t outsz)
{
	const char *host = strstr(url, "://");
	size_t n = host ? (size_t)(host + 3 - url) + strcspn(host + 3, "/?#") : 0;
	snprintf(out, outsz, "%.*s", (int)n, url);
}

/* A request that uses the cookie comes from script of the front end's
 * origin: 403 otherwise. */
static int cookie_request_trusted(struct ctx *c)
{
	char own[CONFIG_STR];
	const char *origin = c->req->origin;
	origin_of(c->cfg->public_base_url, own, sizeof own);
	if (origin == NULL || !((own[0] != '\0' && strcmp(origin, own) == 0) ||
				config_origin_allowed(c->cfg, origin)))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "the refresh cookie is taken only from the front end's origin "
				   "(Origin)");
	if (c->req->requested_with == NULL || c->req->requested_with[0] == '\0')
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "the refresh cookie is taken only with X-Requested-With");
	return 0;
}

const struct json_field refresh_schema[] = {
    {"refreshToken", JSON_STRING, false, 64, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 200 {accessToken, tokenType, expiresIn, sessionId, refreshToken} (the
 * refresh token in the cookie instead when it came in one); 400; 401 (an
 * unknown, retired, idle or expired token; a retired one ends its
 * session); 403 (the cookie without its defences); 503. */
int handle_refresh(struct ctx *c)
{
	char from_cookie[LINK_TOKEN_LEN + 1], next[LINK_TOKEN_LEN + 1];
	struct session_refreshed r;
	struct session_limits limits = ctx_session_limits(c);
	/* the body's is hashed whole: a longer one is not known, never cut */
	const char *presented = c->body != NULL ? json_str(c->body, "refreshToken") : NULL;
	bool cookie = presented == NULL;
	int rc = -1;
	if (cookie) {
		if (!cookie_token(c->req->cookie, from_cookie))
			return problem_add_field(&c->problem, "refreshToken", "required",
						 "a refresh token, in the body or the cookie");
		if (cookie_request_trusted(c) != 0)
			return -1;
		presented = from_cookie;
	}
	if (session_refresh(&c->txn, presented, &limits, c->req->request_id, c->client_addr, next,
			    &r, &c->problem) == 0)
		rc = ctx_tokens(c, 200, r.user_id, r.tenant_id, r.roles, r.sid, next, cookie);
	sodium_memzero(next, sizeof next);
	sodium_memzero(from_cookie, sizeof from_cookie);
	return rc;
}

/* 204: the session of the access token has ended (and the cookie is
 * cleared); 401; 503. */
int handle_sign_out(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	const char *sid = c->principal.session_id;
	if (sid[0] != '\0' &&
	    session_end(&c->txn, &a, c->principal.user_id, sid, "sign_out", &c->problem) != 0)
		return -1;
	refresh_cookie(c, "", 0);
	return ctx_no_content(c);
}

static cJSON *session_render(const struct ctx *c, const void *item)
{
	const struct session_view *s = item;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "id", s->id);
	cJSON_AddBoolToObject(doc, "current", strcmp(s->id, c->principal.session_id) == 0);
	cJSON_AddStringToObject(doc, "clientAddress", s->client_addr);
	cJSON_AddStringToObject(doc, "userAgent", s->user_agent);
	cJSON_AddStringToObject(doc, "createdAt", s->created_at);
	cJSON_AddStringToObject(doc, "lastUsedAt", s->last_used_at);
	cJSON_AddStringToObject(doc, "idleExpiresAt", s->idle_expires_at);
	cJSON_AddStringToObject(doc, "expiresAt", s->expires_at);
	return doc;
}

/* 200 the caller's sessions that are still going; 400; 401; 503. */
int handle_sessions_list(struct ctx *c)
{
	struct db_arg k[] = {db_text(c->principal.user_id)};
	return ctx_list(c, &session_page, k, session_render, NULL);
}

/* 204; 404 (not the caller's, or ended); 401; 503. */
int handle_session_end(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (session_end(&c->txn, &a, c->principal.user_id, ctx_capture(c, 0), "ended",
			&c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 204: every session of the caller has ended (sign-out everywhere). */
int handle_sessions_end_all(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (sessions_end_all(&c->txn, &a, c->principal.user_id) != 0)
		return -1;
	refresh_cookie(c, "", 0);
	return ctx_no_content(c);
}

/* 204: a global admin has ended every session of a user of its tenant;
 * 404 (not a user of the tenant); 401; 403; 503. */
int handle_user_sessions_end(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	struct user_view u;
	if (user_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &u, &c->problem) != 0 ||
	    sessions_end_all(&c->txn, &a, u.id) != 0)
		return -1;
	return ctx_no_content(c);
}
