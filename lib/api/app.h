/* The application: central checks before any handler, then one handler,
 * then one response, one log line and the metrics. The FastCGI adapter
 * builds a request, calls app_handle and writes the response. */
#ifndef TWOTIER_APP_H
#define TWOTIER_APP_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "auth/auth.h"
#include "auth/password.h"
#include "core/problem.h"
#include "db/db.h"
#include "domain/audit.h"
#include "http/http.h"
#include "http/router.h"

struct config;
struct db;
struct settings;
struct settings_slot;

/* Shared by all threads, read-only after start (but for the settings
 * that SIGHUP replaces, which each request holds for itself). */
struct app {
	struct settings_slot *settings;
	const struct route *routes;
	size_t n_routes;
	/* verified against when a sign-in names no user, so that both cost the same */
	char dummy_hash[PASSWORD_HASH_MAX];
};

/* Per worker thread. */
struct worker {
	struct db *db;
};

/* One request in flight. */
struct ctx {
	const struct app *app;
	struct worker *worker;
	/* the settings in force when the request came, held to its end, and
	 * their configuration */
	const struct settings *settings;
	const struct config *cfg;
	const struct request *req;
	struct response *res;
	struct route_match match;
	struct principal principal;
	cJSON *body; /* validated body (owned) or NULL */
	/* the client's address: REMOTE_ADDR, or from a trusted proxy the
	 * nearest untrusted address of X-Forwarded-For */
	char client_addr[46];
	/* a delegated request (On-Behalf-Of-Tenant): the caller's own tenant
	 * and the relationship that admits it; "" otherwise. The principal
	 * then holds the reseller's tenant and the delegated roles. */
	char delegated_from[UUID_STR], delegation[UUID_STR];
	struct problem problem; /* set by a handler that returns -1 */
	/* the request's transaction, which the pipeline opens and ends
	 * (run_handler): handlers pass it to the domain */
	struct txn txn;
	/* a top-level field of the response shown once and never stored,
	 * not even for an idempotent replay (which shows it as null) */
	const char *secret_field;
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
/* 204 with no body. */
int ctx_no_content(struct ctx *c);
const char *ctx_capture(const struct ctx *c, size_t i);
/* The actor for the audit log: "user" or "token" and its id. */
const char *ctx_actor_type(const struct ctx *c);
const char *ctx_actor_id(const struct ctx *c);

/* A delegated request's own tenant (the provider's), or NULL. */
const char *ctx_delegated_from(const struct ctx *c);

/* The principal as the actor of a change (borrowed from c). */
struct actor ctx_actor(const struct ctx *c);

/* ETag of a version: "\"v<N>\"". */
void etag_format(unsigned long version, char out[32]);
/* The version an If-Match names (0 for "*": any current version).
 * Returns 0, or -1 with p set: 428 when the header is absent, 412 when it
 * names no version of ours. */
int ctx_if_match(struct ctx *c, unsigned long *version);

/* Pagination (SPEC §6): ?limit= (default 50, 1..200) and an opaque
 * ?cursor= (base64url of the last id seen). Returns 0 with *limit and
 * after (a UUID, "" for the first page), or -1 with p set (400). */
int ctx_page(struct ctx *c, long *limit, char after[40]);

/* Renders one item of a page (a struct of the page's row type) as the API
 * shows it; the caller owns the result. */
typedef cJSON *(*item_render)(const struct ctx *c, const void *item);

/* Answers a GET of a list: the page that ?limit= and ?cursor= ask for of
 * pg, with its keys (pg->n_keys of them) read in the request's
 * transaction, as 200 {items, totalCount, totalCountCapped, links: {next}},
 * each item rendered by render. query: the list's filter ("status=failed")
 * kept in the next link, or NULL. Returns 0, or -1 with c->problem set
 * (400 for a bad limit or cursor; the database's failure). */
int ctx_list(struct ctx *c, const struct db_page *pg, const struct db_arg *keys, item_render render,
	     const char *query);

/* A list of every status (all), or of the one ?status= names (of_status,
 * keyed by it); a status that valid refuses is 400, its message saying
 * which are (valid_ones, "one of pending, sent"). Returns as ctx_list. */
int ctx_list_of_status(struct ctx *c, const struct db_page *all, const struct db_page *of_status,
		       bool (*valid)(const char *), const char *valid_ones, item_render render);

/* The same shape for a list that is short by nature and read whole (the
 * current agreement templates, the offers): every item in one page,
 * links.next null. Takes items. */
int ctx_list_all(struct ctx *c, cJSON *items);

#endif
