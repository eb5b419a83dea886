#include "app.h"

#include "config.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <time.h>

int ctx_json(struct ctx *c, int status, cJSON *doc)
{
	size_t len;
	char *text = json_print(doc, &len);
	cJSON_Delete(doc);
	free(c->res->body);
	c->res->status = status;
	c->res->content_type = "application/json";
	c->res->body = text;
	c->res->body_len = len;
	return 0;
}

const char *ctx_capture(const struct ctx *c, size_t i)
{
	return i < c->match.n_captures ? c->match.captures[i] : NULL;
}

/* application/json, optionally with charset=utf-8 (any case, any blanks). */
static int content_type_is_json(const char *ct)
{
	static const char json[] = "application/json";
	if (ct == NULL || strncasecmp(ct, json, sizeof json - 1) != 0)
		return 0;
	ct += sizeof json - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (*ct == '\0')
		return 1;
	if (*ct++ != ';')
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, "charset", 7) != 0)
		return 0;
	ct += 7;
	while (*ct == ' ')
		ct++;
	if (*ct++ != '=')
		return 0;
	while (*ct == ' ')
		ct++;
	if (*ct == '"')
		ct++;
	if (strncasecmp(ct, "utf-8", 5) != 0)
		return 0;
	ct += 5;
	if (*ct == '"')
		ct++;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0';
}

static void render_problem(struct ctx *c)
{
	size_t len;
	cJSON *doc = problem_to_json(&c->problem, c->req->request_id);
	char *text = json_print(doc, &len);
	cJSON_Delete(doc);
	free(c->res->body);
	c->res->status = problem_status(c->problem.kind);
	c->res->content_type = "application/problem+json";
	c->res->body = text;
	c->res->body_len = len;
	if (c->problem.retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", c->problem.retry_after);
		response_header(c->res, "Retry-After", ra);
	}
}

/* The front line: everything a handler may take for granted. Returns 0
 * to run the handler, -1 with c->problem set otherwise. */
static int precheck(struct ctx *c, char *allow, size_t allowsz)
{
	const struct request *req = c->req;
	const struct app *app = c->app;
	switch (router_match(app->routes, app->n_routes, req->method, req->path, &c->match, allow,
			     allowsz)) {
	case ROUTE_NOT_FOUND:
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no resource at this path");
	case ROUTE_METHOD_NOT_ALLOWED:
		response_header(c->res, "Allow", allow);
		return problem_set(&c->problem, PROBLEM_METHOD_NOT_ALLOWED,
				   "%s is not allowed here; allowed: %s", req->method, allow);
	case ROUTE_FOUND:
		break;
	}
	const struct route *route = c->match.route;
	if (req->content_length > app->cfg->body_limit)
		return problem_set(&c->problem, PROBLEM_PAYLOAD_TOO_LARGE,
				   "the body is %lld bytes; the limit is %ld", req->content_length,
				   app->cfg->body_limit);
	if (!(route->flags & ROUTE_BODY)) {
		if (req->body_len > 0)
			return problem_set(&c->problem, PROBLEM_MALFORMED_REQUEST,
					   "this request takes no body");
		return 0;
	}
	if (!content_type_is_json(req->content_type))
		return problem_set(&c->problem, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
				   "the body must be application/json (UTF-8)");
	return json_read(req->body, req->body_len, route->schema, &c->body, &c->problem);
}

static void log_request(const struct ctx *c, double seconds)
{
	cJSON *f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "requestId", c->req->request_id);
	cJSON_AddStringToObject(f, "method", c->req->method ? c->req->method : "");
	cJSON_AddStringToObject(f, "route", c->match.route ? c->match.route->name : "unmatched");
	cJSON_AddNumberToObject(f, "status", c->res->status);
	cJSON_AddNumberToObject(f, "durationMs", (double)(long)(seconds * 1e6) / 1000.0);
	cJSON_AddStringToObject(f, "remoteAddr", c->req->remote_addr ? c->req->remote_addr : "");
	if (c->problem.kind != PROBLEM_NONE)
		cJSON_AddStringToObject(f, "problem", problem_slug(c->problem.kind));
	log_event(c->res->status >= 500 ? LOG_ERROR : LOG_INFO, "request", f);
}

void app_handle(const struct app *app, struct worker *w, const struct request *req,
		struct response *res)
{
	struct timespec t0, t1;
	char allow[64];
	struct ctx c;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&c, 0, sizeof c);
	c.app = app;
	c.worker = w;
	c.req = req;
	c.res = res;
	if (precheck(&c, allow, sizeof allow) != 0 || c.match.route->handler(&c) != 0)
		render_problem(&c);
	response_header(res, "X-Request-Id", req->request_id);
	response_header(res, "Cache-Control", "no-store");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_request(&c, seconds);
	metrics_request(c.match.route ? c.match.index : app->n_routes, res->status, seconds);
	cJSON_Delete(c.body);
	problem_clear(&c.problem);
}
