/* Operations: liveness, readiness, metrics. */
#include "app.h"
#include "db.h"
#include "handlers.h"
#include "metrics.h"
#include "schema.h"

#include <stdlib.h>

/* 200 always: the process is alive and answering. */
int handle_healthz(struct ctx *c)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "ok");
	return ctx_json(c, 200, doc);
}

const struct db_stmt_def stmt_schema_version = {
    STMT_schema_version, "schema_version", "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    0, 1};

static enum db_status schema_version_read(struct db *db, void *arg, struct problem *p)
{
	long *version = arg;
	struct db_rows rows;
	enum db_status rc = db_exec(db, STMT_schema_version, NULL, &rows, NULL);
	if (rc != DB_OK)
		return rc;
	*version = atol(db_cell(&rows, 0, 0) ? db_cell(&rows, 0, 0) : "0");
	db_rows_free(&rows);
	return DB_OK;
}

/* 200 when the database answers and its schema is the expected version;
 * 503 otherwise. */
int handle_readyz(struct ctx *c)
{
	long version = 0;
	if (db_read(c->worker->db, schema_version_read, &version, &c->problem) != 0)
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
