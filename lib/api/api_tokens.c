/* /v1/api-tokens: tokens for partners' systems, managed by admin agents. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/api_token.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* A token lives at most this long: a forgotten token should not be
 * valid forever. */
#define API_TOKEN_MAX_DAYS 730

const struct json_field api_token_create_schema[] = {
    {"name", JSON_STRING, true, 100, NULL},
    {"scopes", JSON_STRING_ARRAY, true, 8, NULL},
    {"expiresAt", JSON_STRING, true, 40, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static cJSON *api_token_json(const struct ctx *c, const void *item)
{
	const struct api_token_view *t = item;
	const char *suspended = api_token_suspended_reason(t);
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddItemToObject(o, "scopes", scopes_to_json(t->scopes));
	cJSON_AddStringToObject(o, "expiresAt", t->expires_at);
	if (t->last_used_at[0])
		cJSON_AddStringToObject(o, "lastUsedAt", t->last_used_at);
	else
		cJSON_AddNullToObject(o, "lastUsedAt");
	if (t->revoked_at[0])
		cJSON_AddStringToObject(o, "revokedAt", t->revoked_at);
	else
		cJSON_AddNullToObject(o, "revokedAt");
	cJSON_AddStringToObject(o, "createdAt", t->created_at);
	cJSON_AddStringToObject(o, "createdBy", t->created_by);
	if (suspended != NULL)
		cJSON_AddStringToObject(o, "suspendedReason", suspended);
	else
		cJSON_AddNullToObject(o, "suspendedReason");
	return o;
}

/* A time in the API's form in UTC: "Z" or "+00:00", the documented
 * pattern's (time_parse_api takes any offset). */
static bool utc_time(const char *s, micros_t *t)
{
	size_t n = strlen(s);
	return time_parse_api(s, t) &&
	       (s[n - 1] == 'Z' || (n > 6 && strcmp(s + n - 6, "+00:00") == 0));
}

/* 201 {id, name, scopes, expiresAt, ..., token}: the token is shown this
 * once (an idempotent replay shows "token": null); 400; 401; 403 (also for
 * API tokens); 503. */
int handle_api_token_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	const char *name = json_str(c->body, "name");
	const char *expires = json_str(c->body, "expiresAt");
	const cJSON *scopes_json = cJSON_GetObjectItemCaseSensitive(c->body, "scopes");
	unsigned scopes = 0;
	char token[API_TOKEN_LEN + 1];
	micros_t when = 0, now = time_micros();
	struct api_token_view t;
	int i = 0;
	if (!valid_text(name, 1, 100))
		problem_add_field(p, "name", "invalid", "must be 1 to 100 printable characters");
	for (const cJSON *s = scopes_json->child; s != NULL; s = s->next, i++) {
		unsigned bit = scope_bit(s->valuestring);
		if (bit == 0) {
			char field[32];
			snprintf(field, sizeof field, "scopes[%d]", i);
			problem_add_field(p, field, "unknown_scope", "is not a scope");
		}
		scopes |= bit;
	}
	if (i == 0)
		problem_add_field(p, "scopes", "required", "must name at least one scope");
	if (!utc_time(expires, &when))
		problem_add_field(p, "expiresAt", "invalid",
				  "must be a UTC time such as 2027-01-31T00:00:00Z");
	else if (when <= now)
		problem_add_field(p, "expiresAt", "in_the_past", "must be in the future");
	else if (when > now + API_TOKEN_MAX_DAYS * 86400LL * 1000000LL)
		problem_add_field(p, "expiresAt", "too_far", "must be within %d days",
				  API_TOKEN_MAX_DAYS);
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	if (api_token_create(&c->txn, &a, name, scopes, when, token, &t, p) != 0)
		return -1;
	cJSON *doc = api_token_json(c, &t);
	cJSON_AddStringToObject(doc, "token", token);
	c->secret_field = "token";
	sodium_memzero(token, sizeof token);
	char location[64];
	snprintf(location, sizeof location, "/v1/api-tokens/%s", t.id);
	response_header(c->res, "Location", location);
	return ctx_json(c, 201, doc);
}

/* 200 page of tokens (never the secrets); 400; 401; 403; 503. */
int handle_api_tokens_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &api_token_page, tenant, api_token_json, NULL);
}

/* 204 revoked (also when it already was); 401; 403; 404; 503. */
int handle_api_token_revoke(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (api_token_revoke(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}
