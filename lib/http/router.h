/* Routes are data: one const table of method, path pattern, who may call,
 * whether a body is taken, and the handler. The router only matches; the
 * central checks in app.c act on what it finds. */
#ifndef TWOTIER_ROUTER_H
#define TWOTIER_ROUTER_H

#include <stddef.h>

struct ctx;
struct json_field;

typedef int (*route_handler)(struct ctx *c);

/* Who may call a route. */
enum route_access {
	ACCESS_ANYONE, /* no credentials needed (a principal is still resolved if sent) */
	ACCESS_AUTH,   /* a principal: a user holding one of `roles` (0: any user), or
			  an API token holding `scope` (0: tokens refused) */
};

enum route_flags {
	ROUTE_BODY = 1 << 0,	   /* takes a JSON body */
	ROUTE_DB = 1 << 1,	   /* needs the database: runs in the request's transaction */
	ROUTE_IDEMPOTENT = 1 << 2, /* a creating POST: honours Idempotency-Key */
	ROUTE_DELEGABLE = 1 << 3,  /* a provider's admin agent may call it in a reseller's
				    * tenant (On-Behalf-Of-Tenant) */
	ROUTE_PROVIDER = 1 << 4,   /* the caller's tenant must be an indirect provider */
	ROUTE_RESELLER = 1 << 5,   /* the caller's tenant must be an indirect reseller */
	/* with ROUTE_BODY: a request without a body (no Content-Length, or 0)
	 * is taken too, as an empty object (a browser's cookie refresh) */
	ROUTE_BODY_OPTIONAL = 1 << 6,
	/* open to a user who must set up a second factor and has not yet
	 * (principal.h: mfa_setup_due): setting one up, who am I, sessions */
	ROUTE_MFA_SETUP = 1 << 7,
};

struct route {
	const char *method;
	/* "/v1/users/{id:uuid}": a {name} matches one non-empty segment, a
	 * {name:uuid} only a canonical (lower-case) UUID; a segment of the
	 * wrong kind is a path of no resource (404) */
	const char *pattern;
	const char *name; /* stable label for logs and metrics */
	enum route_access access;
	unsigned roles; /* enum auth_role bits */
	unsigned scope; /* enum auth_scope bit */
	unsigned flags;
	const struct json_field *schema; /* body schema when ROUTE_BODY */
	route_handler handler;
};

#define ROUTE_MAX_CAPTURES 4
#define ROUTE_CAPTURE_MAX  64

struct route_match {
	const struct route *route;
	size_t index;
	size_t n_captures;
	char captures[ROUTE_MAX_CAPTURES][ROUTE_CAPTURE_MAX + 1];
};

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED, /* allow holds "GET, POST" */
};

/* Matches method and path against the table. On ROUTE_METHOD_NOT_ALLOWED
 * the methods that the path does take are written to allow (comma
 * separated; truncated to allowsz). NULL method or path never match. */
enum route_result router_match(const struct route *table, size_t n, const char *method,
			       const char *path, struct route_match *m, char *allow,
			       size_t allowsz);

#endif
