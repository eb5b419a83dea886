/* Offers, a provider's orders for customers, and the subscriptions they
 * make. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/event.h"
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

static cJSON *order_json(const struct ctx *c, const void *item)
{
	const struct order *v = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
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

static cJSON *subscription_json(const struct ctx *c, const void *item)
{
	const struct subscription *v = item;
	char etag[32];
	cJSON *o = cJSON_CreateObject();
	(void)c;
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
	if (offer_list(&c->txn, c->principal.tenant_id, r > 0 ? country : NULL, &items, &n,
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

/* The quantity of an order or a change: an integer of JSON (the schema's
 * check); the offer's bounds decide the rest. */
static long long quantity_field(const struct ctx *c)
{
	return (long long)cJSON_GetObjectItemCaseSensitive(c->body, "quantity")->valuedouble;
}

/* 201 order; 400; 401; 403 (not a provider's admin agent, a token without
 * orders:write, not_provider); 404; 422 unknown_offer, no_customer_relationship,
 * relationship_not_active, not_reseller_customer, not_shared_customer,
 * reseller_agreement_not_signed, quantity_out_of_range, offer_not_priced;
 * 503. */
int handle_order_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct order out;
	const char *reseller = json_str(c->body, "resellerTenantId");
	const char *offer = json_str(c->body, "offerId");
	if (!uuid_valid(reseller))
		problem_add_field(p, "resellerTenantId", "invalid",
				  "must be the id of the reseller's work account");
	if (!uuid_valid(offer))
		problem_add_field(p, "offerId", "invalid", "must be the id of an offer");
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct order_new in = {ctx_capture(c, 0), reseller, offer, quantity_field(c)};
	if (order_create(&c->txn, &a, &in, &out, p) != 0)
		return -1;
	const char *tenants[] = {out.provider_tenant_id, out.reseller_tenant_id, out.customer_id};
	return ctx_json_event(c, 201, order_json(c, &out), EVENT_ORDER_PLACED, tenants, 3);
}

/* A page of the customer's orders or subscriptions as order_view lets the
 * caller see them: all, or its own (all and own: the two pages). */
static int history_list(struct ctx *c, const struct db_page *all, const struct db_page *own,
			item_render render)
{
	const char *customer = ctx_capture(c, 0);
	enum order_view view;
	struct db_arg keys[] = {db_text(customer), db_text(c->principal.tenant_id)};
	if (order_view(&c->txn, c->principal.tenant_id, customer, &view, &c->problem) != 0)
		return -1;
	return ctx_list(c, view == ORDER_VIEW_ALL ? all : own, keys, render, NULL);
}

/* 200 page of the customer's orders the caller may see; 400; 401; 403;
 * 404; 503. */
int handle_orders_list(struct ctx *c)
{
	return history_list(c, &order_page, &order_page_of_partner, order_json);
}

/* 200 page of the customer's subscriptions the caller may see; 400; 401;
 * 403; 404; 503. */
int handle_subscriptions_list(struct ctx *c)
{
	return history_list(c, &subscription_page, &subscription_page_of_partner,
			    subscription_json);
}

/* 200 subscription with ETag; 400; 401; 403 (not_provider, not the
 * subscription's provider); 404; 412; 422 (as an order); 428; 503. */
int handle_subscription_update(struct ctx *c)
{
	struct subscription out;
	unsigned long version;
	char etag[32];
	if (ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (subscription_set_quantity(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1), version,
				      quantity_field(c), &out, &c->problem) != 0)
		return -1;
	etag_format(out.version, etag);
	response_header(c->res, "ETag", etag);
	const char *tenants[] = {out.provider_tenant_id, out.reseller_tenant_id, out.customer_id};
	return ctx_json_event(c, 200, subscription_json(c, &out), EVENT_SUBSCRIPTION_CHANGED,
			      tenants, 3);
}
