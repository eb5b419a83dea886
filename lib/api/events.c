/* Events (issue 20): what a handler records of its change (ctx_event), the
 * feed of a tenant's events (GET /v1/events) and the list of types. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/audit.h"
#include "domain/event.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctx_event(struct ctx *c, enum event_type type, const char *const *tenants, size_t n,
	      const cJSON *resource)
{
	size_t len;
	struct actor a = ctx_actor(c);
	char *data = json_print(resource, &len);
	enum db_status rc = event_record(&c->txn, &a, type, tenants, n, data);
	free(data);
	return rc == DB_OK ? 0 : -1;
}

int ctx_json_event(struct ctx *c, int status, cJSON *doc, enum event_type type,
		   const char *const *tenants, size_t n)
{
	if (ctx_event(c, type, tenants, n, doc) != 0) {
		cJSON_Delete(doc);
		return -1;
	}
	return ctx_json(c, status, doc);
}

/* The types a feed asks for ("a,b"), as bits; every type when absent.
 * -1 with a field error for a name of no type. */
static int types_of(struct ctx *c, unsigned *bits)
{
	char buf[1024];
	int r = request_query_param(c->req, "types", buf, sizeof buf);
	*bits = 0;
	if (r == 0) {
		for (int i = 0; i < EVENT_TYPE__COUNT; i++)
			*bits |= event_type_info((enum event_type)i)->bit;
		return 0;
	}
	if (r < 0)
		return problem_add_field(&c->problem, "types", "invalid",
					 "must be event types separated by commas");
	for (char *save = NULL, *name = strtok_r(buf, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		unsigned bit = event_type_bit(name);
		if (bit == 0)
			return problem_add_field(&c->problem, "types", "unknown_type",
						 "names no event type (GET /v1/event-types)");
		*bits |= bit;
	}
	if (*bits == 0)
		return problem_add_field(&c->problem, "types", "invalid",
					 "must be event types separated by commas");
	return 0;
}

/* The cursor: the position of the last event read (its seq, in decimal);
 * 0 before the first. */
static int after_of(struct ctx *c, long long *after)
{
	char buf[32];
	int r = request_query_param(c->req, "after", buf, sizeof buf);
	*after = 0;
	if (r == 0)
		return 0;
	char *end;
	errno = 0;
	long long v = r > 0 ? strtoll(buf, &end, 10) : -1;
	if (r < 0 || errno != 0 || end == buf || *end != '\0' || v < 0 || buf[0] == '+' ||
	    (buf[0] == '0' && buf[1] != '\0'))
		return problem_add_field(&c->problem, "after", "invalid",
					 "is not a cursor of this feed");
	*after = v;
	return 0;
}

cJSON *event_item_json(const struct event_item *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "type", e->type);
	cJSON_AddNumberToObject(o, "version", (double)e->version);
	cJSON_AddStringToObject(o, "occurredAt", e->occurred_at);
	cJSON *actor = cJSON_AddObjectToObject(o, "actor");
	cJSON_AddStringToObject(actor, "type", e->actor_type);
	if (e->actor_id[0] != '\0')
		cJSON_AddStringToObject(actor, "id", e->actor_id);
	else
		cJSON_AddNullToObject(actor, "id");
	if (e->actor_tenant_id[0] != '\0')
		cJSON_AddStringToObject(actor, "tenantId", e->actor_tenant_id);
	else
		cJSON_AddNullToObject(actor, "tenantId");
	if (e->delegation_id[0] != '\0')
		cJSON_AddStringToObject(actor, "relationshipId", e->delegation_id);
	else
		cJSON_AddNullToObject(actor, "relationshipId");
	cJSON *data = cJSON_Parse(e->data);
	cJSON_AddItemToObject(o, "data", data != NULL ? data : cJSON_CreateNull());
	return o;
}

/* 200 {items, links: {next}}: the tenant's events after the cursor, in
 * commit order; next is the cursor of the last (the same when none, to
 * poll again); 400; 401; 403; 503. */
int handle_events_list(struct ctx *c)
{
	long limit;
	char ignored[40];
	unsigned types;
	long long after;
	struct event_item *items = NULL;
	size_t n = 0;
	if (ctx_page(c, &limit, ignored) != 0 || types_of(c, &types) != 0 ||
	    after_of(c, &after) != 0)
		return -1;
	if (event_feed_read(&c->txn, c->principal.tenant_id, after, types, limit, &items, &n) !=
	    DB_OK)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(doc, "items");
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(list, event_item_json(&items[i]));
		after = items[i].seq;
	}
	event_items_free(items, n);
	/* the next page starts after the last event read; the filter stays */
	char next[1200], filter[1100] = "";
	char buf[1024];
	if (request_query_param(c->req, "types", buf, sizeof buf) > 0)
		snprintf(filter, sizeof filter, "&types=%s", buf);
	snprintf(next, sizeof next, "%s%s?after=%lld&limit=%ld%s", c->req->base ? c->req->base : "",
		 c->req->path, after, limit, filter);
	cJSON *links = cJSON_AddObjectToObject(doc, "links");
	cJSON_AddStringToObject(links, "next", next);
	return ctx_json(c, 200, doc);
}

/* 200 {items: [{type, version, description, schema}]}; 400; 401; 403;
 * 503. */
int handle_event_types_list(struct ctx *c)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(doc, "items");
	for (int i = 0; i < EVENT_TYPE__COUNT; i++) {
		const struct event_type_info *t = event_type_info((enum event_type)i);
		char ref[128];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", t->name);
		cJSON_AddNumberToObject(o, "version", EVENT_VERSION);
		cJSON_AddStringToObject(o, "description", t->description);
		snprintf(ref, sizeof ref, "doc/openapi.yaml#/components/schemas/%s", t->schema);
		cJSON_AddStringToObject(o, "schema", ref);
		cJSON_AddItemToArray(list, o);
	}
	return ctx_json(c, 200, doc);
}
