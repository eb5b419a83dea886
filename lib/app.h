/* The application: central checks before any handler, then one handler,
 * then one response, one log line and the metrics. The FastCGI adapter
 * builds a request, calls app_handle and writes the response. */
#ifndef TWOTIER_APP_H
#define TWOTIER_APP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "http.h"
#include "problem.h"
#include "router.h"

struct config;
struct db;

/* Shared by all threads, read-only after start. */
struct app {
	const struct config *cfg;
	const struct route *routes;
	size_t n_routes;
};

/* Per worker thread. */
struct worker {
	struct db *db;
};

/* One request in flight. */
struct ctx {
	const struct app *app;
	struct worker *worker;
	const struct request *req;
	struct response *res;
	struct route_match match;
	cJSON *body;            /* validated body (owned) or NULL */
	struct problem problem; /* set by a handler that returns -1 */
};

/* The route table (routes.c). */
extern const struct route app_routes[];
extern const size_t app_n_routes;

/* Handles one request; res must be zeroed, the caller clears it after
 * writing. Never fails: every outcome is a response. */
void app_handle(const struct app *app, struct worker *w, const struct request *req,
		struct response *res);

/* Handler helpers. ctx_json takes ownership of doc. */
int ctx_json(struct ctx *c, int status, cJSON *doc);
const char *ctx_capture(const struct ctx *c, size_t i);

#endif
