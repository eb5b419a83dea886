#include "api/app.h"

#include "api/settings.h"

#include "auth/auth.h"
#include "core/config.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"
#include "domain/principal.h"
#include "domain/relationship.h"
#include "http/json.h"
#include "domain/idempotency.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sodium.h>

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

int ctx_no_content(struct ctx *c)
{
	free(c->res->body);
	c->res->body = NULL;
	c->res->body_len = 0;
	c->res->content_type = NULL;
	c->res->status = 204;
	return 0;
}

const char *ctx_capture(const struct ctx *c, size_t i)
{
	return i < c->match.n_captures ? c->match.captures[i] : NULL;
}

const char *ctx_actor_type(const struct ctx *c)
{
	switch (c->principal.kind) {
	case PRINCIPAL_USER: return "user";
	case PRINCIPAL_TOKEN: return "token";
	case PRINCIPAL_NONE: break;
	}
	return "anonymous";
}

const char *ctx_actor_id(const struct ctx *c)
{
	switch (c->principal.kind) {
	case PRINCIPAL_USER: return c->principal.user_id;
	case PRINCIPAL_TOKEN: return c->principal.token_id;
	case PRINCIPAL_NONE: break;
	}
	return NULL;
}

const char *ctx_delegated_from(const struct ctx *c)
{
	return c->delegated_from[0] ? c->delegated_from : NULL;
}

struct actor ctx_actor(const struct ctx *c)
{
	struct actor a = {ctx_actor_type(c),	  ctx_actor_id(c),
			  c->principal.tenant_id, c->req->request_id,
			  c->client_addr,	  c->principal.roles,
			  ctx_delegated_from(c),  c->delegation[0] ? c->delegation : NULL};
	return a;
}

void etag_format(unsigned long version, char out[32])
{
	snprintf(out, 32, "\"v%lu\"", version);
}

int ctx_if_match(struct ctx *c, unsigned long *version)
{
	const char *h = c->req->if_match;
	char *end = NULL;
	if (h == NULL)
		return problem_set(&c->problem, PROBLEM_PRECONDITION_REQUIRED,
				   "this change needs an If-Match header with the resource's ETag");
	while (*h == ' ')
		h++;
	if (strcmp(h, "*") == 0) {
		*version = 0; /* any current version */
		return 0;
	}
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	/* "v" and a version as etag_format writes it: digits alone, no sign,
	 * no leading zero (versions start at 1; 0 stands for "*"), no more
	 * than fit */
	size_t digits = strncmp(h, "\"v", 2) == 0 ? strspn(h + 2, "0123456789") : 0;
	if (digits > 0 && digits <= 9 && h[2] != '0' && strcmp(h + 2 + digits, "\"") == 0) {
		*version = strtoul(h + 2, &end, 10);
		return 0;
	}
	return problem_set(&c->problem, PROBLEM_PRECONDITION_FAILED,
			   "If-Match does not name the current version of the resource");
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
	/* every 401 names the scheme (RFC 9110 §15.5.2): a refused sign-in's
	 * as much as a missing or bad token's */
	if (c->res->status == 401)
		response_header(c->res, "WWW-Authenticate", "Bearer");
}

static const char *role_list(unsigned roles, char *buf, size_t bufsz)
{
	cJSON *a = roles_to_json(roles);
	char *text = cJSON_PrintUnformatted(a);
	snprintf(buf, bufsz, "%s", text);
	free(text);
	cJSON_Delete(a);
	return buf;
}

/* Delegated admin access (SPEC §5), one check for every route that admits
 * it: the caller, a provider's admin agent signed in, acts in the tenant
 * that On-Behalf-Of-Tenant names while their relationship is active with
 * admin access granted and not past its end, with the roles the consent
 * granted. 400, 403 (naming why), 503. */
static int delegate(struct ctx *c)
{
	struct principal *who = &c->principal;
	const char *tenant = c->req->on_behalf_of;
	char relationship[UUID_STR];
	unsigned roles;
	if (!(c->match.route->flags & ROUTE_DELEGABLE))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "this route does not admit delegated access "
				   "(On-Behalf-Of-Tenant)");
	if (!uuid_valid(tenant))
		return problem_add_field(&c->problem, "On-Behalf-Of-Tenant", "invalid",
					 "must be the id of a reseller's work account");
	if (who->kind != PRINCIPAL_USER)
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "delegated access is for a provider's admin agents signed in; "
				   "API tokens cannot act in another work account");
	if (!(who->roles & (ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT)))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "delegated access is for a provider's admin agents");
	if (strcmp(tenant, who->tenant_id) == 0)
		return 0; /* its own: nothing to delegate */
	if (relationship_delegation(&c->txn, who->tenant_id, tenant, who->user_id, relationship,
				    &roles, &c->problem) != 0)
		return -1;
	memcpy(c->delegated_from, who->tenant_id, UUID_STR);
	memcpy(c->delegation, relationship, UUID_STR);
	memcpy(who->tenant_id, tenant, UUID_STR);
	who->roles = roles;
	who->partner_types = 0;
	return 0;
}

/* Who is calling (401) and, with On-Behalf-Of-Tenant, in which tenant
 * (delegate): the credential read without the database, then its
 * principal read from the database on every request, in a read of its own
 * before the handler's transaction. */
static int identify(struct ctx *c)
{
	struct credential cred;
	int rc;
	if (auth_credential(c->settings->keys, c->settings->n_keys, c->req->authorization,
			    (long long)time(NULL), c->req->request_id, &cred, &c->problem) != 0)
		return -1;
	txn_open(&c->txn, c->worker->db, TXN_AUTOCOMMIT);
	do {
		problem_clear(&c->problem);
		c->delegated_from[0] = c->delegation[0] = '\0';
		rc = principal_load(&c->txn, &cred, c->cfg->mfa_required, c->req->request_id,
				    &c->principal, &c->problem);
		if (rc == 0 && c->principal.kind != PRINCIPAL_NONE && c->req->on_behalf_of != NULL)
			rc = delegate(c);
	} while (txn_end(&c->txn, rc == 0, &c->problem) == TXN_AGAIN);
	return rc;
}

/* Authentication (401) and the route's roles or scope (403). */
static int authorize(struct ctx *c)
{
	const struct route *route = c->match.route;
	const struct principal *who = &c->principal;
	char names[160];
	/* Open routes never look at credentials: /healthz must not need the
	 * database, and a stale token must not break sign-in. */
	if (route->access == ACCESS_ANYONE)
		return 0;
	if (identify(c) != 0)
		return -1;
	if (who->kind == PRINCIPAL_NONE)
		return problem_set(&c->problem, PROBLEM_UNAUTHENTICATED,
				   "this request needs a bearer token");
	/* the rule of the tenant or the platform: a user who must have a
	 * second factor sets one up before anything else */
	if (who->mfa_setup_due && !(route->flags & ROUTE_MFA_SETUP))
		return problem_refuse(&c->problem, PROBLEM_FORBIDDEN, "mfa_setup_required",
				      "two-step sign-in is required for your account: set it up "
				      "first (POST /v1/me/mfa/totp)");
	if ((route->flags & ROUTE_PROVIDER) && !(who->partner_types & PARTNER_INDIRECT_PROVIDER)) {
		snprintf(c->problem.code, sizeof c->problem.code, "not_provider");
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "this is for an indirect provider's work account");
	}
	if ((route->flags & ROUTE_RESELLER) && !(who->partner_types & PARTNER_INDIRECT_RESELLER)) {
		snprintf(c->problem.code, sizeof c->problem.code, "not_reseller");
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "this is for an indirect reseller's work account");
	}
	if (who->kind == PRINCIPAL_TOKEN) {
		if (route->scope == 0 && route->roles == ROLE_GLOBAL_ADMIN)
			return problem_set(&c->problem, PROBLEM_FORBIDDEN,
					   "this is reserved for a global admin signed in "
					   "interactively; API tokens cannot do it");
		if (route->scope == 0)
			return problem_set(&c->problem, PROBLEM_FORBIDDEN,
					   "API tokens cannot do this; a signed-in user must");
		if (!(who->scopes & route->scope)) {
			char csv[200];
			scopes_to_csv(route->scope, csv, sizeof csv);
			return problem_set(&c->problem, PROBLEM_FORBIDDEN,
					   "the API token lacks the scope this needs (%s)", csv);
		}
		return 0;
	}
	if (route->roles != 0 && !(who->roles & route->roles))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN, "this needs one of the roles %s",
				   role_list(route->roles, names, sizeof names));
	return 0;
}

/* The route of req's path; nothing outside the mount */
static enum route_result route_of(const struct ctx *c, const char *method, struct route_match *m,
				  char *allow, size_t allowsz)
{
	if (c->req->outside_mount)
		return ROUTE_NOT_FOUND;
	return router_match(c->app->routes, c->app->n_routes, method, c->req->path, m, allow,
			    allowsz);
}

/* The front line: everything a handler may take for granted. Returns 0
 * to run the handler, -1 with c->problem set otherwise. */
static int precheck(struct ctx *c, char *allow, size_t allowsz)
{
	const struct request *req = c->req;
	switch (route_of(c, req->method, &c->match, allow, allowsz)) {
	case ROUTE_NOT_FOUND:
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no resource at this path");
	case ROUTE_METHOD_NOT_ALLOWED:
		response_header(c->res, "Allow", allow);
		return problem_set(&c->problem, PROBLEM_METHOD_NOT_ALLOWED,
				   "%s is not allowed here; allowed: %s", req->method, allow);
	case ROUTE_FOUND: break;
	}
	const struct route *route = c->match.route;
	if (req->content_length > c->cfg->body_limit)
		return problem_set(&c->problem, PROBLEM_PAYLOAD_TOO_LARGE,
				   "the body is %lld bytes; the limit is %ld", req->content_length,
				   c->cfg->body_limit);
	if (!(route->flags & ROUTE_BODY) && req->body_len > 0)
		return problem_set(&c->problem, PROBLEM_MALFORMED_REQUEST,
				   "this request takes no body");
	bool bodiless =
	    (route->flags & ROUTE_BODY_OPTIONAL) && req->body_len == 0 && req->content_length <= 0;
	if ((route->flags & ROUTE_BODY) && !bodiless && !content_type_is_json(req->content_type))
		return problem_set(&c->problem, PROBLEM_UNSUPPORTED_MEDIA_TYPE,
				   "the body must be application/json (UTF-8)");
	if (authorize(c) != 0)
		return -1;
	if (!(route->flags & ROUTE_BODY) || bodiless)
		return 0;
	return json_read(req->body, req->body_len, route->schema, &c->body, &c->problem);
}

static void log_request(const struct ctx *c, double seconds)
{
	int who = c->principal.kind != PRINCIPAL_NONE;
	struct log_field f[] = {
	    LOG_S("requestId", c->req->request_id),
	    LOG_S("method", c->req->method ? c->req->method : ""),
	    LOG_S("route", c->match.route ? c->match.route->name : "unmatched"),
	    LOG_I("status", c->res->status),
	    LOG_MS("durationMs", seconds),
	    LOG_S("remoteAddr", c->req->remote_addr ? c->req->remote_addr : ""),
	    LOG_S("problem",
		  c->problem.kind != PROBLEM_NONE ? problem_slug(c->problem.kind) : NULL),
	    LOG_S("actorType", who ? ctx_actor_type(c) : NULL),
	    LOG_S("actor", who ? ctx_actor_id(c) : NULL),
	    LOG_S("tenant", who ? c->principal.tenant_id : NULL),
	    LOG_S("delegatedFrom", c->delegated_from[0] ? c->delegated_from : NULL),
	    LOG_S("relationship", c->delegation[0] ? c->delegation : NULL),
	};
	log_fields(c->res->status >= 500 ? LOG_ERROR : LOG_INFO, "request", f,
		   sizeof f / sizeof f[0]);
}

#define CORS_ALLOW_HEADERS                                                                         \
	"Authorization, Content-Type, If-Match, Idempotency-Key, On-Behalf-Of-Tenant, "            \
	"X-Request-Id, X-Requested-With"
#define CORS_EXPOSE_HEADERS "ETag, Location, Retry-After, X-Request-Id, Idempotent-Replayed"

/* True when method is one of the comma-separated list. */
static int method_listed(const char *list, const char *method)
{
	size_t n = method ? strlen(method) : 0;
	while (n > 0 && *list != '\0') {
		while (*list == ' ' || *list == ',')
			list++;
		size_t len = strcspn(list, " ,");
		if (len == n && strncmp(list, method, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

/* OPTIONS: a CORS preflight from an allowed origin gets 204 with what the
 * path accepts; anything else a problem. */
static int preflight(struct ctx *c, char *allow, size_t allowsz)
{
	struct route_match m;
	const struct request *req = c->req;
	if (route_of(c, "OPTIONS", &m, allow, allowsz) == ROUTE_NOT_FOUND)
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no resource at this path");
	if (!config_origin_allowed(c->cfg, req->origin))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "the origin is not allowed to call this API");
	if (!method_listed(allow, req->cors_request_method))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "the preflight asks for a method this path does not take");
	response_header(c->res, "Access-Control-Allow-Methods", allow);
	response_header(c->res, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
	response_header(c->res, "Access-Control-Max-Age", "600");
	return ctx_no_content(c);
}

static int idempotency_key_valid(const char *key)
{
	size_t n = 0;
	for (; key[n] != '\0'; n++)
		if ((unsigned char)key[n] < 0x21 || (unsigned char)key[n] > 0x7E || n == 255)
			return 0;
	return n > 0;
}

/* An idempotent request's key: who sent it, the key, and the hash of what
 * it asked (method, path, body). */
struct idem_key {
	char principal[80], hash[65];
	const char *key;
};

static void idem_key_make(const struct ctx *c, struct idem_key *k)
{
	const struct request *req = c->req;
	unsigned char digest[32];
	switch (c->principal.kind) {
	case PRINCIPAL_USER:
		snprintf(k->principal, sizeof k->principal, "u:%s", c->principal.user_id);
		break;
	case PRINCIPAL_TOKEN:
		snprintf(k->principal, sizeof k->principal, "t:%s", c->principal.token_id);
		break;
	case PRINCIPAL_NONE:
		snprintf(k->principal, sizeof k->principal, "a:%.64s", c->client_addr);
		break;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, req->method, strlen(req->method) + 1);
	EVP_DigestUpdate(md, req->path, strlen(req->path) + 1);
	EVP_DigestUpdate(md, req->body ? req->body : "", req->body_len);
	EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	sodium_bin2hex(k->hash, sizeof k->hash, digest, sizeof digest);
	k->key = req->idempotency_key;
}

static const char *header_of(const struct response *res, const char *name)
{
	for (size_t i = 0; i < res->n_headers; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

/* Claims the request's key in the open transaction; a key used before
 * puts its first response into c->res. 0 new, 1 replayed, -1 refused (p
 * says why). */
static int idem_begin(struct ctx *c, const struct idem_key *k, struct problem *p)
{
	struct idem_response stored;
	enum idem_state state;
	if (idem_claim(&c->txn, k->principal, k->key, k->hash, &state, &stored, p) != 0)
		return -1;
	if (state == IDEM_NEW)
		return 0;
	const char *body = stored.body ? stored.body : "";
	response_body(c->res, (int)stored.status, NULL, body, strlen(body));
	/* content_type is a static string in a response; map the stored one */
	c->res->content_type = !stored.content_type[0] ? NULL
			       : strcmp(stored.content_type, "application/problem+json") == 0
				   ? "application/problem+json"
				   : "application/json";
	if (stored.etag[0])
		response_header(c->res, "ETag", stored.etag);
	if (stored.location[0])
		response_header(c->res, "Location", stored.location);
	response_header(c->res, "Idempotent-Replayed", "true");
	idem_response_clear(&stored);
	return 1;
}

/* Keeps the response with the key, in the open transaction. The field
 * that a response shows once (c->secret_field) is kept as null, even for
 * a replay. Returns 0, or -1 when the transaction failed. */
static int idem_finish(struct ctx *c, const struct idem_key *k)
{
	const struct response *res = c->res;
	struct idem_response r = {0};
	const char *etag = header_of(res, "ETag"), *location = header_of(res, "Location");
	cJSON *doc =
	    c->secret_field && res->body ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
	r.status = res->status;
	snprintf(r.content_type, sizeof r.content_type, "%s",
		 res->content_type ? res->content_type : "");
	snprintf(r.etag, sizeof r.etag, "%s", etag ? etag : "");
	snprintf(r.location, sizeof r.location, "%s", location ? location : "");
	if (cJSON_GetObjectItemCaseSensitive(doc, c->secret_field) != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(doc, c->secret_field, cJSON_CreateNull());
		r.body = json_print(doc, NULL);
	} else {
		r.body = xstrdup(res->body ? res->body : "");
	}
	cJSON_Delete(doc);
	int rc = idem_store(&c->txn, k->principal, k->key, &r);
	idem_response_clear(&r);
	return rc;
}

/* A refusal of an idempotent request is its first response too: the
 * change rolled back, and the key is claimed anew to keep it with the
 * rendered refusal. A twin that got there first is replayed instead. */
static void idem_keep_refusal(struct ctx *c, const struct idem_key *k)
{
	struct problem p = {0};
	int rc;
	render_problem(c);
	txn_open(&c->txn, c->worker->db, TXN_ATOMIC);
	do {
		problem_clear(&p);
		rc = idem_begin(c, k, &p);
		if (rc == 0)
			rc = idem_finish(c, k);
	} while (txn_end(&c->txn, rc >= 0, &p) == TXN_AGAIN);
	problem_clear(&p); /* kept or not, the refusal is the answer */
}

/* Runs the handler in the request's transaction, which the pipeline
 * owns: a read (GET) runs each statement on its own, anything else in
 * one transaction, committed when the handler succeeds with a status
 * below 500 and rolled back otherwise, and run again whole after a
 * deadlock or a lost connection. On a creating route with an
 * Idempotency-Key the key is claimed, and the response kept, in the same
 * transaction. Returns the handler's 0, or -1 with c->problem set. */
static int run_handler(struct ctx *c)
{
	const struct route *route = c->match.route;
	const struct request *req = c->req;
	bool idem = (route->flags & ROUTE_IDEMPOTENT) && req->idempotency_key != NULL;
	bool write = strcmp(req->method, "GET") != 0;
	size_t n_headers = c->res->n_headers;
	struct idem_key k;
	enum txn_outcome o;
	bool ok, ran, failed;
	int rc;
	if (!(route->flags & ROUTE_DB))
		return route->handler(c);
	if (idem && !idempotency_key_valid(req->idempotency_key))
		return problem_add_field(&c->problem, "Idempotency-Key", "invalid",
					 "must be 1 to 255 visible ASCII characters");
	if (idem)
		idem_key_make(c, &k);
	txn_open(&c->txn, c->worker->db, write ? TXN_ATOMIC : TXN_AUTOCOMMIT);
	do {
		response_rewind(c->res, n_headers);
		problem_clear(&c->problem);
		c->secret_field = NULL;
		ran = false;
		/* a delegated write holds its relationship: nothing delegated
		 * commits after the access was removed */
		rc =
		    write && c->delegation[0] != '\0'
			? relationship_delegation_hold(&c->txn, c->delegation, c->principal.user_id,
						       c->principal.roles, &c->problem)
			: 0;
		if (rc == 0 && idem)
			rc = idem_begin(c, &k, &c->problem);
		if (rc == 0) {
			ran = true;
			rc = route->handler(c);
		}
		ok = rc >= 0 && c->res->status < 500;
		if (ok && ran && idem) {
			ok = idem_finish(c, &k) == 0;
			if (ok)
				fault_point("idem.before_commit");
		}
		failed = txn_failure(&c->txn) != DB_OK;
	} while ((o = txn_end(&c->txn, ok, &c->problem)) == TXN_AGAIN);
	if (o == TXN_COMMITTED) {
		if (idem)
			fault_point("idem.after_commit");
		return rc > 0 ? 0 : rc;
	}
	if (failed || ok) {
		/* the database failed (c->problem says so): whatever the
		 * handler wrote is not what happened */
		response_rewind(c->res, n_headers);
		return -1;
	}
	if (rc == 0)
		return 0; /* a 5xx the handler answered: rolled back, and sent */
	if (!idem || !ran || problem_status(c->problem.kind) >= 500)
		return -1;
	idem_keep_refusal(c, &k);
	return 0; /* rendered, and kept */
}

/* True when addr is one of the comma-separated list. */
static int address_listed(const char *list, const char *addr, size_t n)
{
	while (n > 0 && *list != '\0') {
		while (*list == ' ' || *list == ',')
			list++;
		size_t len = strcspn(list, " ,");
		if (len == n && strncmp(list, addr, n) == 0)
			return 1;
		list += len;
	}
	return 0;
}

/* Rewrites an IP address in its one text form (inet_ntop's: lower-case,
 * shortest IPv6). False when it is none. */
static bool address_canonical(char addr[46])
{
	unsigned char bin[16];
	if (inet_pton(AF_INET, addr, bin) == 1)
		return inet_ntop(AF_INET, bin, addr, 46) != NULL;
	if (inet_pton(AF_INET6, addr, bin) == 1)
		return inet_ntop(AF_INET6, bin, addr, 46) != NULL;
	return false;
}

/* REMOTE_ADDR, unless it is a trusted proxy: then the nearest address of
 * X-Forwarded-For (read from the right) that is not one, if it is an IP
 * address. */
static void client_addr_choose(const struct config *cfg, const struct request *req, char out[46])
{
	const char *remote = req->remote_addr ? req->remote_addr : "";
	snprintf(out, 46, "%s", remote);
	if (req->forwarded_for == NULL ||
	    !address_listed(cfg->trusted_proxies, remote, strlen(remote)))
		return;
	const char *end = req->forwarded_for + strlen(req->forwarded_for);
	while (end > req->forwarded_for) {
		const char *start = end;
		while (start > req->forwarded_for && start[-1] != ',')
			start--;
		const char *a = start, *b = end;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		char addr[46];
		/* "[2001:db8::1]:443" and "192.0.2.1:4711" name an address too */
		if (a < b && *a == '[') {
			const char *close = memchr(a, ']', (size_t)(b - a));
			if (close != NULL) {
				a++;
				b = close;
			}
		} else {
			const char *colon = memchr(a, ':', (size_t)(b - a));
			if (colon != NULL &&
			    memchr(colon + 1, ':', (size_t)(b - colon - 1)) == NULL)
				b = colon;
		}
		size_t n = (size_t)(b - a);
		if (n == 0 || n >= sizeof addr)
			return;
		memcpy(addr, a, n);
		addr[n] = '\0';
		if (!address_canonical(addr))
			return;
		n = strlen(addr);
		if (!address_listed(cfg->trusted_proxies, addr, n)) {
			memcpy(out, addr, n + 1);
			return;
		}
		end = start > req->forwarded_for ? start - 1 : start;
	}
}

void app_handle(const struct app *app, struct worker *w, const struct request *req,
		struct response *res)
{
	struct timespec t0, t1;
	char allow[64];
	struct ctx c;
	int rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&c, 0, sizeof c);
	c.app = app;
	c.worker = w;
	c.req = req;
	c.res = res;
	c.settings = settings_hold(app->settings);
	c.cfg = &c.settings->cfg;
	client_addr_choose(c.cfg, req, c.client_addr);
	if (req->method != NULL && strcmp(req->method, "OPTIONS") == 0)
		rc = preflight(&c, allow, sizeof allow);
	else
		rc = precheck(&c, allow, sizeof allow) != 0 ? -1 : run_handler(&c);
	if (rc != 0)
		render_problem(&c);
	if (http_reason(res->status) == NULL) {
		log_msg(LOG_ERROR, "a handler answered %d, which is not in HTTP_STATUSES",
			res->status);
		problem_clear(&c.problem);
		problem_set(&c.problem, PROBLEM_INTERNAL, "the request could not be completed");
		render_problem(&c);
	}
	response_locate_under(res, req->base);
	if (config_origin_allowed(c.cfg, req->origin)) {
		response_header(res, "Access-Control-Allow-Origin", req->origin);
		response_header(res, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
	}
	if (req->origin != NULL)
		response_header(res, "Vary", "Origin");
	response_header(res, "X-Request-Id", req->request_id);
	response_header(res, "Cache-Control", "no-store");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_request(&c, seconds);
	metrics_request(c.match.route ? c.match.index : app->n_routes, res->status, seconds);
	cJSON_Delete(c.body);
	problem_clear(&c.problem);
	settings_release(app->settings, c.settings);
}
