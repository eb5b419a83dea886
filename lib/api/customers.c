/* Customers: a reseller's invitations of customers, their acceptance, the
 * customer's partners, and each partner's customers. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/event.h"
#include "core/config.h"
#include "domain/customer.h"
#include "mail/template.h"

#include <stdio.h>

const struct json_field customer_invitation_schema[] = {
    {"customerEmail", JSON_STRING, true, 254, NULL},
    {"companyName", JSON_STRING, true, 200, NULL},
    {"country", JSON_STRING, true, 2, NULL},
    {"language", JSON_STRING, false, 8, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field customer_acceptance_schema[] = {
    {"token", JSON_STRING, true, 128, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static void add_or_null(cJSON *o, const char *name, const char *value)
{
	if (value[0])
		cJSON_AddStringToObject(o, name, value);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *invitation_json(const struct ctx *c, const void *item)
{
	const struct customer_invitation *v = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "relationshipId", v->relationship_id);
	cJSON_AddItemToObject(o, "reseller", party_json(&v->reseller));
	cJSON_AddItemToObject(o, "provider", party_json(&v->provider));
	cJSON_AddStringToObject(o, "customerEmail", v->customer_email);
	cJSON_AddStringToObject(o, "companyName", v->company_name);
	cJSON_AddStringToObject(o, "country", v->country);
	cJSON_AddStringToObject(o, "language", v->language);
	cJSON_AddStringToObject(o, "state", v->state);
	cJSON_AddStringToObject(o, "expiresAt", v->expires_at);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	cJSON_AddStringToObject(o, "createdBy", v->created_by);
	add_or_null(o, "customerTenantId", v->customer_tenant_id);
	return o;
}

static cJSON *customer_relationship_json(const struct ctx *c, const void *item)
{
	const struct customer_relationship *v = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "customerTenantId", v->customer_tenant_id);
	cJSON_AddItemToObject(o, "partner", party_json(&v->partner));
	cJSON_AddStringToObject(o, "partnerType", v->partner_type);
	cJSON_AddStringToObject(o, "state", v->state);
	cJSON_AddStringToObject(o, "invitationId", v->invitation_id);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	add_time_or_null(o, "endedAt", v->ended_at);
	add_or_null(o, "endedBy", v->ended_by);
	return o;
}

static cJSON *customer_json(const struct ctx *c, const void *item)
{
	const struct customer *v = item;
	const struct customer_relationship *r = &v->relationship;
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "companyName", r->company_name);
	cJSON_AddStringToObject(o, "domain", v->domain);
	cJSON_AddStringToObject(o, "country", r->country);
	cJSON *rel = cJSON_AddObjectToObject(o, "relationship");
	cJSON_AddStringToObject(rel, "id", r->id);
	cJSON_AddStringToObject(rel, "state", r->state);
	cJSON_AddStringToObject(rel, "createdAt", r->created_at);
	add_time_or_null(rel, "endedAt", r->ended_at);
	return o;
}

/* 201 invitation; 400; 401; 403 (not an admin or sales agent of the
 * reseller, a token without customers:write, delegation_required,
 * other_relationship); 404; 422 relationship_not_active,
 * reseller_agreement_not_signed, country_not_in_region, own_domain; 503. */
int handle_customer_invitation_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct customer_invitation out;
	char email[256];
	const char *company = json_str(c->body, "companyName");
	const char *country = json_str(c->body, "country");
	const char *language = json_str(c->body, "language");
	if (!email_canonical(json_str(c->body, "customerEmail"), email))
		problem_add_field(p, "customerEmail", "invalid", "must be an e-mail address");
	if (!valid_name(company, 1, 200))
		problem_add_field(p, "companyName", "invalid",
				  "must be 1 to 200 printable characters of plain text, none "
				  "invisible, no word mixing alphabets");
	if (!valid_iso_country(country))
		problem_add_field(p, "country", "invalid",
				  "must be an ISO 3166-1 alpha-2 code such as DE");
	if (language != NULL && !mail_language_known(language))
		problem_add_field(p, "language", "invalid", "must be one of: " MAIL_LANGUAGES);
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct customer_invitation_new in = {ctx_capture(c, 0),
					     email,
					     company,
					     country,
					     language ? language : "en",
					     c->cfg->public_base_url,
					     c->cfg->invitation_ttl};
	if (customer_invitation_create(&c->txn, &a, &in, &out, p) != 0)
		return -1;
	const char *tenants[] = {out.reseller.tenant_id, out.provider.tenant_id};
	return ctx_json_event(c, 201, invitation_json(c, &out), EVENT_CUSTOMER_INVITED, tenants, 2);
}

/* 200 page of the relationship's customer invitations; 400; 401; 403
 * (other_relationship); 404; 503. */
int handle_customer_invitations_list(struct ctx *c)
{
	const char *id = ctx_capture(c, 0);
	char other[UUID_STR];
	struct db_arg relationship[] = {db_text(id)};
	if (customer_pair_other(&c->txn, c->principal.tenant_id, ctx_delegated_from(c), id, other,
				&c->problem) != 0)
		return -1;
	return ctx_list(c, &customer_invitation_page, relationship, invitation_json, NULL);
}

/* 200 page of the customer invitations addressed to the caller's domain;
 * 400; 401; 403; 503. */
int handle_customer_invitations_received(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &customer_invitation_received_page, tenant, invitation_json, NULL);
}

/* 204 withdrawn (also when it was); 401; 403; 404; 409 invitation_accepted;
 * 503. */
int handle_customer_invitation_withdraw(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (customer_invitation_withdraw(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 201 {invitation, relationships}; 400; 401; 403; 404; 409 accepted,
 * withdrawn, customer_relationships_exist; 410; 422 relationship_not_active,
 * region_not_authorized; 503. */
int handle_customer_invitation_accept(struct ctx *c)
{
	struct customer_acceptance out;
	const char *token = json_str(c->body, "token");
	if (token == NULL || token[0] == '\0')
		return problem_add_field(&c->problem, "token", "required",
					 "the token of the invitation's link");
	struct actor a = ctx_actor(c);
	if (customer_invitation_accept(&c->txn, &a, ctx_capture(c, 0), token, &out, &c->problem) !=
	    0)
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "invitation", invitation_json(c, &out.invitation));
	cJSON *list = cJSON_AddArrayToObject(o, "relationships");
	cJSON_AddItemToArray(list, customer_relationship_json(c, &out.reseller));
	cJSON_AddItemToArray(list, customer_relationship_json(c, &out.provider));
	const char *tenants[] = {out.invitation.reseller.tenant_id,
				 out.invitation.provider.tenant_id, a.tenant_id};
	return ctx_json_event(c, 201, o, EVENT_CUSTOMER_ACCEPTED, tenants, 3);
}

/* 200 page of the customer's relationships with its partners; 400; 401;
 * 403; 503. */
int handle_customer_relationships_list(struct ctx *c)
{
	struct db_arg customer[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &customer_relationship_page, customer, customer_relationship_json, NULL);
}

/* 204 ended (also when it was); 401; 403; 404; 503. */
int handle_customer_relationship_end(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	struct customer_relationship out;
	bool changed;
	if (customer_relationship_end(&c->txn, &a, ctx_capture(c, 0), &out, &changed,
				      &c->problem) != 0)
		return -1;
	if (changed) {
		const char *tenants[] = {out.customer_tenant_id, out.partner.tenant_id};
		cJSON *doc = customer_relationship_json(c, &out);
		int rc = ctx_event(c, EVENT_CUSTOMER_ENDED, tenants, 2, doc);
		cJSON_Delete(doc);
		if (rc != 0)
			return -1;
	}
	return ctx_no_content(c);
}

/* A page of the caller's customers, those it shares with the other side of
 * relationship (else NULL); query goes into the next link. */
static int customers_page(struct ctx *c, const char *relationship, const char *query)
{
	const char *tenant = c->principal.tenant_id;
	char other[UUID_STR];
	const char *provider = ctx_delegated_from(c);
	if (relationship == NULL && provider != NULL) {
		/* a provider acting for the reseller: their customers only */
		struct db_arg keys[] = {db_text(tenant), db_text(provider), db_text(provider)};
		return ctx_list(c, &customer_page_delegated, keys, customer_json, query);
	}
	if (relationship == NULL) {
		struct db_arg partner[] = {db_text(tenant)};
		return ctx_list(c, &customer_page, partner, customer_json, query);
	}
	if (customer_pair_other(&c->txn, tenant, ctx_delegated_from(c), relationship, other,
				&c->problem) != 0)
		return -1;
	struct db_arg pair[] = {db_text(tenant), db_text(other)};
	return ctx_list(c, &customer_page_shared, pair, customer_json, query);
}

/* 200 page of the customers the two sides share; 400; 401; 403
 * (other_relationship); 404; 503. */
int handle_relationship_customers(struct ctx *c)
{
	return customers_page(c, ctx_capture(c, 0), NULL);
}

/* 200 page of the caller's customers, ?relationship= those it shares with
 * that relationship's other side; 400; 401; 403 (other_relationship); 404
 * (an unknown relationship); 503. */
int handle_customers_list(struct ctx *c)
{
	char relationship[40] = "", query[64];
	int r = request_query_param(c->req, "relationship", relationship, sizeof relationship);
	if (r < 0 || (r > 0 && !uuid_valid(relationship)))
		return problem_add_field(&c->problem, "relationship", "invalid",
					 "must be the id of a relationship");
	snprintf(query, sizeof query, "relationship=%s", relationship);
	return customers_page(c, r > 0 ? relationship : NULL, r > 0 ? query : NULL);
}

/* 200 customer; 401; 403; 404 (never the caller's customer); 503. */
int handle_customer_get(struct ctx *c)
{
	struct customer out;
	if (customer_get(&c->txn, c->principal.tenant_id, ctx_delegated_from(c), ctx_capture(c, 0),
			 &out, &c->problem) != 0)
		return -1;
	return ctx_json(c, 200, customer_json(c, &out));
}
