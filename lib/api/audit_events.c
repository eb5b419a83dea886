/* GET /v1/audit-events: the tenant's audit log, newest first. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/audit.h"

cJSON *audit_event_json(const struct ctx *c, const void *item)
{
	const struct audit_event *e = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", e->id);
	cJSON *actor = cJSON_AddObjectToObject(o, "actor");
	cJSON_AddStringToObject(actor, "type", e->actor_type);
	if (e->actor_id[0])
		cJSON_AddStringToObject(actor, "id", e->actor_id);
	else
		cJSON_AddNullToObject(actor, "id");
	cJSON_AddStringToObject(o, "action", e->action);
	cJSON *target = cJSON_AddObjectToObject(o, "target");
	cJSON_AddStringToObject(target, "type", e->target_type);
	cJSON_AddStringToObject(target, "id", e->target_id);
	cJSON_AddStringToObject(o, "requestId", e->request_id);
	cJSON_AddStringToObject(o, "clientAddress", e->client_addr);
	cJSON_AddStringToObject(o, "createdAt", e->created_at);
	if (e->relationship_id[0]) {
		cJSON *d = cJSON_AddObjectToObject(o, "delegation");
		cJSON_AddStringToObject(d, "relationshipId", e->relationship_id);
		cJSON_AddStringToObject(d, "actorTenantId", e->actor_tenant_id);
		cJSON_AddStringToObject(d, "tenantId", e->subject_tenant_id);
	} else {
		cJSON_AddNullToObject(o, "delegation");
	}
	return o;
}

/* 200 page of events; 400; 401; 403; 503. */
int handle_audit_events_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &audit_page, tenant, audit_event_json, NULL);
}
