/* Offers, a provider's orders for customers, and the subscriptions they
 * make. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct json_field order_create_schema[] = {
    {"resellerTenantId", JSON_STRING, true, 36, NULL},
    {"offerId", JSON_STRING, true, 36, NULL},
    {"quantity", JSON_INTEGER, true, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field subscription_update_schema[] = {
    {"quantity", JSON_INTEGER, true, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static cJSON *price_json(const char *currency, const char *unit_price)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "currency", currency);
	/* money as decimal text: never a binary fraction */
	cJSON_AddStringToObject(o, "unitPrice", unit_price);
	return o;
}

static cJSON *offer_json(const struct offer *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "unit", v->unit);
	cJSON_AddNumberToObject(o, "minQuantity", (double)v->min_quantity);
	cJSON_AddNumberToObject(o, "maxQuantity", (double)v->max_quantity);
	if (v->unit_price[0]) {
		cJSON *price = price_json(v->currency, v->unit_price);
		cJSON_AddStringToObject(price, "region", v->region);
		cJSON_AddItemToObject(o, "price", price);
	} else {
		cJSON_AddNullToObject(o, "price");
	}
	return o;
}

static cJSON *order_json(const struct order *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "customerId", v->customer_id);
	cJSON_AddStringToObject(o, "providerTenantId", v->provider_tenant_id);
	cJSON_AddStringToObject(o, "resellerTenantId", v->reseller_tenant_id);
	cJSON_AddStringToObject(o, "relationshipId", v->relationship_id);
	cJSON_AddStringToObject(o, "subscriptionId", v->subscription_id);
	cJSON_AddStringToObject(o, "offerId", v->offer_id);
	cJSON_AddStringToObject(o, "kind", v->kind);
	cJSON_AddNumberToObject(o, "quantity", (double)v->quantity);
	if (strcmp(v->kind, "new") == 0)
		cJSON_AddNullToObject(o, "previousQuantity");
	else
		cJSON_AddNumberToObject(o, "previousQuantity", (double)v->previous_quantity);
	cJSON_AddItemToObject(o, "price", price_json(v->currency, v->unit_price));
	cJSON_AddStringToObject(o, "createdBy", v->created_by);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	return o;
}

static cJSON *subscription_json(const struct subscription *v)
{
	char etag[32];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "customerId", v->customer_id);
	cJSON_AddStringToObject(o, "providerTenantId", v->provider_tenant_id);
	cJSON_AddStringToObject(o, "resellerTenantId", v->reseller_tenant_id);
	cJSON *offer = cJSON_AddObjectToObject(o, "offer");
	cJSON_AddStringToObject(offer, "id", v->offer_id);
	cJSON_AddStringToObject(offer, "name", v->offer_name);
	cJSON_AddStringToObject(o, "status", v->status);
	cJSON_AddNumberToObject(o, "quantity", (double)v->quantity);
	cJSON_AddItemToObject(o, "price", price_json(v->currency, v->unit_price));
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	cJSON_AddStringToObject(o, "changedAt", v->changed_at);
	etag_format(v->version, etag);
	cJSON_AddStringToObject(o, "etag", etag);
	return o;
}

/* 200 {items, totalCount, links}: every offer with the price of the
 * caller's CSP country (?country= another's); 400; 401; 422
 * unknown_country; 503. */
int handle_offers_list(struct ctx *c)
{
	struct offer *items = NULL;
	size_t n = 0;
	char country[8] = "";
	int r = request_query_param(c->req, "country", country, sizeof country);
	if (r < 0 || (r > 0 && !valid_iso_country(country)))
		return problem_add_field(&c->problem, "country", "invalid",
					 "must be an ISO 3166-1 alpha-2 code such as DE");
	if (offer_list(c->worker->db, c->principal.tenant_id, r > 0 ? country : NULL, &items, &n,
		       &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(doc, "items");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, offer_json(&items[i]));
	cJSON_AddNumberToObject(doc, "totalCount", (double)n);
	cJSON_AddFalseToObject(doc, "totalCountCapped");
	cJSON_AddNullToObject(cJSON_AddObjectToObject(doc, "links"), "next");
	free(items);
	return ctx_json(c, 200, doc);
}

/* The provider's checks a handler makes before the domain's: the customer
 * id and the quantity. */
static int order_input(struct ctx *c, const char *customer, long long *quantity)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(c->body, "quantity");
	if (!uuid_valid(customer))
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no customer %s", customer);
	if (!(c->principal.partner_types & PARTNER_INDIRECT_PROVIDER))
		return problem_set(&c->problem, PROBLEM_FORBIDDEN,
				   "only an indirect provider submits orders and changes "
				   "subscriptions");
	/* an integer of JSON (the schema's check): the offer's bounds decide */
	*quantity = (long long)q->valuedouble;
	return 0;
}

/* 201 order; 400; 401; 403 (not a provider's admin agent, a token without
 * orders:write); 404; 422 unknown_offer, no_customer_relationship,
 * relationship_not_active, not_reseller_customer,
 * reseller_agreement_not_signed, quantity_out_of_range, offer_not_priced;
 * 503. */
int handle_order_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct order out;
	long long quantity;
	const char *reseller = json_str(c->body, "resellerTenantId");
	const char *offer = json_str(c->body, "offerId");
	if (order_input(c, ctx_capture(c, 0), &quantity) != 0)
		return -1;
	if (!uuid_valid(reseller))
		problem_add_field(p, "resellerTenantId", "invalid",
				  "must be the id of the reseller's work account");
	if (!uuid_valid(offer))
		problem_add_field(p, "offerId", "invalid", "must be the id of an offer");
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct order_new in = {ctx_capture(c, 0), reseller, offer, quantity};
	if (order_create(c->worker->db, &a, &in, &out, p) != 0)
		return -1;
	return ctx_json(c, 201, order_json(&out));
}

/* 200 page of the customer's orders the caller may see; 400; 401; 403;
 * 404; 503. */
int handle_orders_list(struct ctx *c)
{
	struct order *items = NULL;
	size_t n = 0;
	long limit, total = 0;
	char after[40];
	const char *id = ctx_capture(c, 0);
	if (!uuid_valid(id))
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no customer %s", id);
	if (ctx_page(c, &limit, after) != 0 ||
	    order_list(c->worker->db, c->principal.tenant_id, id, after, limit, &items, &n, &total,
		       &c->problem) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, order_json(&items[i]));
	int rc = legacy_list(c, list, total, limit, n ? items[n - 1].id : NULL);
	free(items);
	return rc;
}

/* 200 page of the customer's subscriptions the caller may see; 400; 401;
 * 403; 404; 503. */
int handle_subscriptions_list(struct ctx *c)
{
	struct subscription *items = NULL;
	size_t n = 0;
	long limit, total = 0;
	char after[40];
	const char *id = ctx_capture(c, 0);
	if (!uuid_valid(id))
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no customer %s", id);
	if (ctx_page(c, &limit, after) != 0 ||
	    subscription_list(c->worker->db, c->principal.tenant_id, id, after, limit, &items, &n,
			      &total, &c->problem) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, subscription_json(&items[i]));
	int rc = legacy_list(c, list, total, limit, n ? items[n - 1].id : NULL);
	free(items);
	return rc;
}

/* 200 subscription with ETag; 400; 401; 403; 404; 412; 422 (as an order);
 * 428; 503. */
int handle_subscription_update(struct ctx *c)
{
	struct subscription out;
	unsigned long version;
	long long quantity;
	const char *sid = ctx_capture(c, 1);
	char etag[32];
	if (order_input(c, ctx_capture(c, 0), &quantity) != 0)
		return -1;
	if (!uuid_valid(sid))
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no subscription %s", sid);
	if (ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (subscription_set_quantity(c->worker->db, &a, ctx_capture(c, 0), sid, version, quantity,
				      &out, &c->problem) != 0)
		return -1;
	etag_format(out.version, etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, 200, subscription_json(&out));
}
