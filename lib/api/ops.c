/* Operations: liveness, readiness, metrics. */
#include "api/app.h"
#include "api/handlers.h"
#include "core/metrics.h"
#include "db/db.h"
#include "db/schema_version.h"

#include <stdlib.h>

/* 200 always: the process is alive and answering. */
int handle_healthz(struct ctx *c)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "ok");
	return ctx_json(c, 200, doc);
}

/* 200 when the database answers and its schema is the expected version;
 * 503 otherwise. */
int handle_readyz(struct ctx *c)
{
	long version = 0;
	if (db_schema_version(&c->txn, &version) != DB_OK)
		return -1;
	if (version != TWOTIER_SCHEMA_VERSION) {
		c->problem.retry_after = 30;
		return problem_set(&c->problem, PROBLEM_UNAVAILABLE,
				   "the database schema is at version %ld; this build needs %d",
				   version, TWOTIER_SCHEMA_VERSION);
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "ready");
	cJSON_AddNumberToObject(doc, "schemaVersion", (double)version);
	return ctx_json(c, 200, doc);
}

/* 200 with the Prometheus text exposition (nginx keeps it to loopback). */
int handle_metrics(struct ctx *c)
{
	size_t len;
	char *text = metrics_render(&len);
	free(c->res->body);
	c->res->status = 200;
	c->res->content_type = "text/plain; version=0.0.4";
	c->res->body = text;
	c->res->body_len = len;
	return 0;
}
