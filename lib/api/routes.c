/* The route table, built from lib/api/routes.def with the short names its
 * rows use. app.c enforces it before any handler runs. */
#include "api/app.h"
#include "api/handlers.h"
#include "auth/auth.h"

#define ANY  ACCESS_ANYONE
#define AUTH ACCESS_AUTH
#define GA   ROLE_GLOBAL_ADMIN
/* a global admin rules its tenant: whatever an admin agent may, it may
 * (no parentheses: tests/openapi reads the rows, and it only sits between
 * two commas) */
#define AA ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT
/* SPEC §1: who invites and views customers */
#define CUS  ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT | ROLE_SALES_AGENT
#define OP   ROLE_OPERATOR
#define PRO  SCOPE_PROFILES_READ
#define BODY ROUTE_BODY
#define OPT  ROUTE_BODY_OPTIONAL
#define DB   ROUTE_DB
#define IDEM ROUTE_IDEMPOTENT
#define DLG  ROUTE_DELEGABLE
#define PRV  ROUTE_PROVIDER
#define MFA  ROUTE_MFA_SETUP

const struct route app_routes[] = {
#define ROUTE(method, pattern, name, access, roles, scope, flags, schema, handler)                 \
	{method, pattern, name, access, roles, scope, flags, schema, handler},
#include "api/routes.def"
#undef ROUTE
};

const size_t app_n_routes = sizeof app_routes / sizeof app_routes[0];
