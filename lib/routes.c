/* The whole API, one row a route. Reading this table tells who may call
 * what; app.c enforces it before any handler runs. */
#include "app.h"
#include "handlers.h"

const struct route app_routes[] = {
	/* method, pattern, name, access, flags, body schema, handler */
	{"GET", "/healthz", "healthz", ACCESS_ANYONE, 0, NULL, handle_healthz},
	{"GET", "/readyz", "readyz", ACCESS_ANYONE, ROUTE_DB, NULL, handle_readyz},
	{"GET", "/metrics", "metrics", ACCESS_ANYONE, 0, NULL, handle_metrics},
	{"GET", "/v1/regions", "regions.list", ACCESS_ANYONE, ROUTE_DB, NULL, handle_regions_list},
	{"POST", "/v1/tenants", "tenants.create", ACCESS_ANYONE, ROUTE_BODY | ROUTE_DB,
	 tenant_create_schema, handle_tenant_create},
};

const size_t app_n_routes = sizeof app_routes / sizeof app_routes[0];
