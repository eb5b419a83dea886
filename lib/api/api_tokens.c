/* /v1/api-tokens: tokens for partners' systems, managed by admin agents. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/api_token.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A token lives at most this long: a forgotten token should not be
 * valid forever. */
#define API_TOKEN_MAX_DAYS 730

const struct json_field api_token_create_schema[] = {
    {"name", JSON_STRING, true, 100, NULL},
    {"scopes", JSON_STRING_ARRAY, true, 8, NULL},
    {"expiresAt", JSON_STRING, true, 40, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static cJSON *token_json(const struct api_token_view *t)
{
	cJSON *o = cJSON_CreateObject();
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
	if (t->suspended_reason != NULL)
		cJSON_AddStringToObject(o, "suspendedReason", t->suspended_reason);
	else
		cJSON_AddNullToObject(o, "suspendedReason");
	return o;
}

/* Reads exactly n digits at s. */
static int digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+00:00)" strictly (no blanks,
 * no short fields, no 30 February) into DATETIME(6) text and Unix time. */
static int parse_time(const char *s, char sql[TIME_STR], time_t *when)
{
	int year, mon, day, hour, min, sec;
	long micros = 0;
	struct tm tm;
	const char *p = s + 19;
	if (strlen(s) < 20 || digits(s, 4, &year) || s[4] != '-' || digits(s + 5, 2, &mon) ||
	    s[7] != '-' || digits(s + 8, 2, &day) || s[10] != 'T' || digits(s + 11, 2, &hour) ||
	    s[13] != ':' || digits(s + 14, 2, &min) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				micros = micros * 10 + (*p - '0');
		if (n == 0 || n > 6)
			return -1;
		for (; n < 6; n++)
			micros *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*when = timegm(&tm);
	/* timegm moves 30 February to 2 March: a date it moved did not exist. */
	if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != day ||
	    tm.tm_hour != hour || tm.tm_min != min || tm.tm_sec != sec)
		return -1;
	char text[96];
	int n = snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06ld", year, mon, day,
			 hour, min, sec, micros);
	if (n < 0 || n >= TIME_STR)
		return -1;
	memcpy(sql, text, (size_t)n + 1);
	return 0;
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
	char token[API_TOKEN_LEN + 1], expires_sql[TIME_STR];
	time_t when = 0, now = time(NULL);
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
	if (parse_time(expires, expires_sql, &when) != 0)
		problem_add_field(p, "expiresAt", "invalid",
				  "must be a UTC time such as 2027-01-31T00:00:00Z");
	else if (when <= now)
		problem_add_field(p, "expiresAt", "in_the_past", "must be in the future");
	else if (when > now + API_TOKEN_MAX_DAYS * 86400L)
		problem_add_field(p, "expiresAt", "too_far", "must be within %d days",
				  API_TOKEN_MAX_DAYS);
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	if (api_token_create(c->worker->db, &a, name, scopes, expires_sql, token, &t, p) != 0)
		return -1;
	cJSON *doc = token_json(&t);
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
	struct api_token_view *items = NULL;
	size_t n = 0;
	long limit, total = 0;
	char after[40];
	if (ctx_page(c, &limit, after) != 0 ||
	    api_token_list(c->worker->db, c->principal.tenant_id, after, limit, &items, &n, &total,
			   &c->problem) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, token_json(&items[i]));
	int rc = legacy_list(c, list, total, limit, n ? items[n - 1].id : NULL);
	free(items);
	return rc;
}

/* 204 revoked (also when it already was); 401; 403; 404; 503. */
int handle_api_token_revoke(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (api_token_revoke(c->worker->db, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}
