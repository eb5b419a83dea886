/* GET /v1/audit-events: the tenant's audit log, newest first. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/audit.h"

#include <stdlib.h>

/* 200 page of events; 400; 401; 403; 503. */
int handle_audit_events_list(struct ctx *c)
{
	struct audit_event *items = NULL;
	size_t n = 0;
	long limit, total = 0;
	char before[40];
	if (ctx_page(c, &limit, before) != 0 ||
	    audit_list(c->worker->db, c->principal.tenant_id, before, limit, &items, &n, &total,
		       &c->problem) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		const struct audit_event *e = &items[i];
		cJSON *o = cJSON_CreateObject();
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
		cJSON_AddStringToObject(o, "createdAt", e->at);
		if (e->relationship_id[0]) {
			cJSON *d = cJSON_AddObjectToObject(o, "delegation");
			cJSON_AddStringToObject(d, "relationshipId", e->relationship_id);
			cJSON_AddStringToObject(d, "actorTenantId", e->actor_tenant_id);
			cJSON_AddStringToObject(d, "tenantId", e->subject_tenant_id);
		} else {
			cJSON_AddNullToObject(o, "delegation");
		}
		cJSON_AddItemToArray(list, o);
	}
	int rc = ctx_list(c, list, total, limit, n ? items[n - 1].id : NULL);
	free(items);
	return rc;
}
