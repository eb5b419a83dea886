/* Indirect providers: the operator's onboarding (/v1/operator/providers)
 * and a reseller's "find a provider" (GET /v1/providers). */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/provider.h"

#include <stdio.h>
#include <string.h>

const struct json_field provider_create_schema[] = {
    {"tenantId", JSON_STRING, true, 64, NULL},
    {"regions", JSON_STRING_ARRAY, true, PROVIDER_REGIONS_MAX, NULL},
    {"legalBusinessProfile", JSON_OBJECT, false, 0, legal_profile_schema},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field provider_regions_schema[] = {
    {"regions", JSON_STRING_ARRAY, true, PROVIDER_REGIONS_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* The body's regions into out (borrowed from the body); at least one. */
static size_t read_regions(struct ctx *c, const char *out[PROVIDER_REGIONS_MAX])
{
	size_t n = 0;
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(c->body, "regions");
	for (const cJSON *r = a ? a->child : NULL; r != NULL && n < PROVIDER_REGIONS_MAX;
	     r = r->next)
		out[n++] = r->valuestring;
	if (n == 0)
		problem_add_field(&c->problem, "regions", "required",
				  "name at least one CSP region (GET /v1/regions)");
	return n;
}

/* A provider as a reseller finds it; operator_view adds its record's
 * times and ETag. */
static cJSON *provider_json(const struct provider *v, bool operator_view)
{
	char etag[32];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->tenant_id);
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "domain", v->domain);
	cJSON *regions = cJSON_AddArrayToObject(o, "regions");
	for (const char *r = v->regions; *r != '\0';) {
		char code[65];
		size_t len = strcspn(r, ",");
		snprintf(code, sizeof code, "%.*s", (int)len, r);
		cJSON_AddItemToArray(regions, cJSON_CreateString(code));
		r += len + (r[len] == ',');
	}
	if (v->support_email[0]) {
		cJSON *s = cJSON_AddObjectToObject(o, "supportContact");
		cJSON_AddStringToObject(s, "email", v->support_email);
		cJSON_AddStringToObject(s, "telephone", v->support_telephone);
		cJSON_AddStringToObject(s, "website", v->support_website);
	} else {
		cJSON_AddNullToObject(o, "supportContact");
	}
	if (operator_view) {
		etag_format(v->version, etag);
		cJSON_AddStringToObject(o, "createdAt", v->created_at);
		cJSON_AddStringToObject(o, "updatedAt", v->updated_at);
		cJSON_AddStringToObject(o, "etag", etag);
	}
	return o;
}

static cJSON *found_provider_json(const struct ctx *c, const void *item)
{
	(void)c;
	return provider_json(item, false);
}

static int respond_provider(struct ctx *c, int status, const struct provider *v)
{
	char etag[32];
	etag_format(v->version, etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, status, provider_json(v, true));
}

/* 201 provider with ETag; 400; 401; 403; 404 tenant_unknown; 409
 * already_provider, legal_profile_exists; 422 unknown_region,
 * platform_tenant, country_not_in_program; 503. */
int handle_operator_provider_create(struct ctx *c)
{
	const char *regions[PROVIDER_REGIONS_MAX];
	struct provider v;
	struct legal_profile legal;
	const char *tenant_id = json_str(c->body, "tenantId");
	const cJSON *legal_json = json_obj(c->body, "legalBusinessProfile");
	size_t n = read_regions(c, regions);
	if (legal_json != NULL)
		read_legal_profile(&c->problem, "legalBusinessProfile.", legal_json, &legal);
	if (!uuid_valid(tenant_id))
		problem_add_field(&c->problem, "tenantId", "invalid",
				  "must be a work account's id");
	if (c->problem.kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	if (provider_create(&c->txn, &a, tenant_id, regions, n, legal_json ? &legal : NULL, &v,
			    &c->problem) != 0)
		return -1;
	return respond_provider(c, 201, &v);
}

/* 200 provider with ETag; 400; 401; 403; 404 not_provider; 412; 422
 * unknown_region; 428; 503. */
int handle_operator_provider_regions(struct ctx *c)
{
	const char *regions[PROVIDER_REGIONS_MAX];
	struct provider v;
	unsigned long version;
	size_t n = read_regions(c, regions);
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (provider_set_regions(&c->txn, &a, ctx_capture(c, 0), version, regions, n, &v,
				 &c->problem) != 0)
		return -1;
	return respond_provider(c, 200, &v);
}

static cJSON *operator_provider_json(const struct ctx *c, const void *item)
{
	(void)c;
	return provider_json(item, true);
}

/* 200 page of every provider with its regions and etag; 400; 401; 403;
 * 503. */
int handle_operator_providers_list(struct ctx *c)
{
	return ctx_list(c, &provider_all_page, NULL, operator_provider_json, NULL);
}

/* 200 page of providers in the caller's region; 400 bad q, limit or
 * cursor; 401; 403; 422 enrollment_required; 503. */
int handle_providers_find(struct ctx *c)
{
	char region[65], q[128] = "", query[128] = "", pattern[PROVIDER_PATTERN_SIZE(sizeof q)];
	int r = request_query_param(c->req, "q", q, sizeof q);
	if (r < 0 || (r > 0 && !valid_text(q, 1, 100)))
		return problem_add_field(&c->problem, "q", "invalid",
					 "must be 1 to 100 printable characters of a name");
	if (provider_find_region(&c->txn, c->principal.tenant_id, region, &c->problem) != 0)
		return -1;
	if (r == 0) {
		struct db_arg key[] = {db_text(region)};
		return ctx_list(c, &provider_find_page, key, found_provider_json, NULL);
	}
	/* the next link keeps the filter; a name is query-escaped by the
	 * client already, so it is passed on as the client sent it: the
	 * parameter that is q itself, not one whose name ends in q */
	for (const char *qs = c->req->query; qs != NULL && *qs != '\0';
	     qs += strcspn(qs, "&"), qs += *qs == '&') {
		if (strncmp(qs, "q=", 2) == 0) {
			snprintf(query, sizeof query, "%.*s", (int)strcspn(qs, "&"), qs);
			break;
		}
	}
	provider_name_pattern(q, pattern);
	struct db_arg keys[] = {db_text(region), db_text(pattern)};
	return ctx_list(c, &provider_find_named_page, keys, found_provider_json,
			query[0] ? query : NULL);
}
