/* A tenant's webhook endpoints and their deliveries (issue 20). */
#include "api/app.h"
#include "api/handlers.h"
#include "core/config.h"
#include "domain/audit.h"
#include "domain/event.h"
#include "domain/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(EVENT_TYPE__COUNT == 14, "events: at most every type once");

const struct json_field webhook_create_schema[] = {
    {"url", JSON_STRING, true, OUTBOUND_URL_MAX, NULL},
    {"events", JSON_STRING_ARRAY, true, 14, NULL}, /* at most every type once */
    {"enabled", JSON_BOOL, false, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* PATCH: what is given changes; a null, as a field left out, does not */
const struct json_field webhook_update_schema[] = {
    {"url", JSON_STRING, false, OUTBOUND_URL_MAX, NULL},
    {"events", JSON_STRING_ARRAY, false, 14, NULL},
    {"enabled", JSON_BOOL, false, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* The bits of the body's "events" (present): each unknown name, and an
 * empty list, a field error in p. */
static unsigned events_field(struct problem *p, const cJSON *events)
{
	unsigned types = 0;
	int i = 0;
	for (const cJSON *e = events ? events->child : NULL; e != NULL; e = e->next, i++) {
		unsigned bit = event_type_bit(e->valuestring);
		char field[24];
		snprintf(field, sizeof field, "events[%d]", i);
		if (bit == 0)
			problem_add_field(p, field, "unknown_type",
					  "names no event type (GET /v1/event-types)");
		types |= bit;
	}
	if (i == 0)
		problem_add_field(p, "events", "required", "name at least one event type");
	return types;
}

static cJSON *types_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < EVENT_TYPE__COUNT; i++) {
		const struct event_type_info *t = event_type_info((enum event_type)i);
		if (bits & t->bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(t->name));
	}
	return a;
}

static cJSON *webhook_json(const struct ctx *c, const void *item)
{
	const struct webhook *w = item;
	char etag[32];
	(void)c;
	etag_format(w->version, etag);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", w->id);
	cJSON_AddStringToObject(o, "url", w->url);
	cJSON_AddItemToObject(o, "events", types_json(w->types));
	cJSON_AddBoolToObject(o, "enabled", w->enabled);
	if (w->disabled_reason[0] != '\0')
		cJSON_AddStringToObject(o, "disabledReason", w->disabled_reason);
	else
		cJSON_AddNullToObject(o, "disabledReason");
	add_time_or_null(o, "failingSince", w->failing_since);
	cJSON_AddStringToObject(o, "createdBy", w->created_by);
	cJSON_AddStringToObject(o, "createdAt", w->created_at);
	cJSON_AddStringToObject(o, "etag", etag);
	return o;
}

static int respond_webhook(struct ctx *c, int status, const struct webhook *w)
{
	char etag[32];
	etag_format(w->version, etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, status, webhook_json(c, w));
}

/* 201 endpoint with its secret (this once); 400 (url not_allowed: not
 * https, a user in it, or a private address; an unknown event type); 401;
 * 403; 409 too_many_webhooks; 503. */
int handle_webhook_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct webhook out;
	char secret[WEBHOOK_SECRET_MAX], etag[32];
	int rc = -1;
	unsigned types = events_field(p, cJSON_GetObjectItemCaseSensitive(c->body, "events"));
	if (p->kind != PROBLEM_NONE)
		return -1;
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(c->body, "enabled");
	struct actor a = ctx_actor(c);
	struct webhook_reach reach = {c->cfg->webhook_allow_http, c->cfg->webhook_allow_private,
				      c->cfg->webhook_resolve};
	if (webhook_create(&c->txn, &a, json_str(c->body, "url"), types,
			   enabled == NULL || cJSON_IsTrue(enabled), &reach, &out, secret,
			   p) == 0) {
		cJSON *doc = webhook_json(c, &out);
		cJSON_AddStringToObject(doc, "secret", secret);
		char location[96];
		snprintf(location, sizeof location, "/v1/webhooks/%s", out.id);
		response_header(c->res, "Location", location);
		etag_format(out.version, etag);
		response_header(c->res, "ETag", etag);
		rc = ctx_json(c, 201, doc);
	}
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* 200 page of the tenant's endpoints; 400; 401; 403; 503. */
int handle_webhooks_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &webhook_page, tenant, webhook_json, NULL);
}

/* 200 endpoint with ETag; 401; 403; 404; 503. */
int handle_webhook_get(struct ctx *c)
{
	struct webhook w;
	if (webhook_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &w, &c->problem) != 0)
		return -1;
	return respond_webhook(c, 200, &w);
}

/* 200 endpoint with ETag; 400 (nothing to change, url not_allowed, an
 * unknown or no event type); 401; 403; 404; 412 stale; 428 no If-Match;
 * 503. */
int handle_webhook_update(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct webhook_change change = {0};
	struct webhook w;
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(c->body, "events");
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(c->body, "enabled");
	change.url = json_str(c->body, "url");
	if (cJSON_IsArray(events))
		change.types = events_field(p, events);
	change.set_enabled = cJSON_IsBool(enabled);
	change.enabled = cJSON_IsTrue(enabled);
	if (p->kind != PROBLEM_NONE)
		return -1;
	if (change.url == NULL && !cJSON_IsArray(events) && !change.set_enabled)
		return problem_add_field(p, "url", "required",
					 "give url, events, enabled, or several");
	if (ctx_if_match(c, &change.version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	struct webhook_reach reach = {c->cfg->webhook_allow_http, c->cfg->webhook_allow_private,
				      c->cfg->webhook_resolve};
	if (webhook_update(&c->txn, &a, ctx_capture(c, 0), &change, &reach, &w, p) != 0)
		return -1;
	return respond_webhook(c, 200, &w);
}

/* 200 {secret}: the endpoint's new secret, shown this once; the old one
 * signs beside it for 24 hours; 401; 403; 404; 503. */
int handle_webhook_secret_rotate(struct ctx *c)
{
	char secret[WEBHOOK_SECRET_MAX];
	int rc = -1;
	struct actor a = ctx_actor(c);
	if (webhook_secret_rotate(&c->txn, &a, ctx_capture(c, 0), secret, &c->problem) == 0) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "secret", secret);
		rc = ctx_json(c, 200, doc);
	}
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* 204 removed with its deliveries; 401; 403; 404; 503. */
int handle_webhook_delete(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (webhook_delete(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

static void add_int_or_null(cJSON *o, const char *name, long long v)
{
	if (v > 0)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *delivery_json(const struct ctx *c, const void *item)
{
	const struct webhook_delivery *d = item;
	(void)c;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "eventId", d->event_id);
	cJSON_AddStringToObject(o, "eventType", d->event_type);
	cJSON_AddStringToObject(o, "status", d->status);
	cJSON_AddNumberToObject(o, "attempts", (double)d->attempts);
	add_int_or_null(o, "responseStatus", d->response_status);
	if (d->attempts > 0)
		cJSON_AddNumberToObject(o, "durationMs", (double)d->duration_ms);
	else
		cJSON_AddNullToObject(o, "durationMs");
	add_time_or_null(o, "nextAttemptAt",
			 strcmp(d->status, "pending") == 0 ? d->next_attempt_at : "");
	add_time_or_null(o, "lastError", d->last_error);
	cJSON_AddStringToObject(o, "createdAt", d->created_at);
	add_time_or_null(o, "deliveredAt", d->delivered_at);
	return o;
}

/* 200 page of the endpoint's deliveries, newest first; 400; 401; 403;
 * 404; 503. */
int handle_webhook_deliveries_list(struct ctx *c)
{
	struct webhook w;
	const char *id = ctx_capture(c, 0);
	struct db_arg key[] = {db_text(id)};
	if (webhook_get(&c->txn, c->principal.tenant_id, id, &w, &c->problem) != 0)
		return -1;
	return ctx_list(c, &webhook_delivery_page, key, delivery_json, NULL);
}

/* 202 the ping's delivery (pending): an event of type webhook.ping, in no
 * feed, its data the endpoint, to this endpoint alone; 401; 403; 404; 409
 * webhook_disabled; 503. */
int handle_webhook_ping(struct ctx *c)
{
	struct webhook w;
	struct webhook_delivery d;
	size_t len;
	if (webhook_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &w, &c->problem) != 0)
		return -1;
	cJSON *doc = webhook_json(c, &w);
	char *data = json_print(doc, &len);
	cJSON_Delete(doc);
	struct actor a = ctx_actor(c);
	int rc = webhook_ping(&c->txn, &a, &w, data, &d, &c->problem);
	free(data);
	if (rc != 0)
		return -1;
	return ctx_json(c, 202, delivery_json(c, &d));
}

/* 202 the delivery, due again now (its attempts kept); 401; 403; 404
 * (another tenant's endpoint, or no such delivery); 409
 * delivery_not_failed (succeeded or being sent); 503. */
int handle_webhook_delivery_retry(struct ctx *c)
{
	struct webhook_delivery d;
	struct actor a = ctx_actor(c);
	if (webhook_delivery_retry(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1), &d,
				   &c->problem) != 0)
		return -1;
	return ctx_json(c, 202, delivery_json(c, &d));
}
