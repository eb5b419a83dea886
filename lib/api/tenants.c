/* POST /v1/tenants: sign-up, creating a work account and its global admin. */
#include "api/app.h"
#include "api/handlers.h"
#include "auth/password.h"
#include "core/config.h"
#include "db/db.h"
#include "domain/tenant.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct json_field admin_fields[] = {
    {"email", JSON_STRING, true, 254, NULL},
    {"password", JSON_STRING, true, PASSWORD_MAX, NULL},
    {"firstName", JSON_STRING, true, 100, NULL},
    {"lastName", JSON_STRING, true, 100, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field tenant_create_schema[] = {
    {"domain", JSON_STRING, true, 253, NULL},
    {"displayName", JSON_STRING, true, 200, NULL},
    {"admin", JSON_OBJECT, true, 0, admin_fields},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 202 {status, email, expiresAt}: the same whether or not the domain or
 * address is taken; 400 invalid fields (the address must be at the
 * domain); 403 sign-up closed; 503 (every password slot busy, or the
 * database). */
int handle_tenant_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	const cJSON *admin = json_obj(c->body, "admin");
	const char *domain = json_str(c->body, "domain");
	const char *display_name = json_str(c->body, "displayName");
	const char *email = json_str(admin, "email");
	const char *password = json_str(admin, "password");
	const char *first = json_str(admin, "firstName");
	const char *last = json_str(admin, "lastName");
	char hash[PASSWORD_HASH_MAX], canonical[256], expires_at[TIME_STR];
	int rc = -1;

	hash[0] = '\0';
	if (!c->cfg->signup_open)
		return problem_set(p, PROBLEM_FORBIDDEN, "sign-up is closed on this service");
	if (!valid_hostname(domain))
		problem_add_field(p, "domain", "invalid",
				  "must be a lower-case host name such as contoso.com");
	if (!valid_name(display_name, 1, 200))
		problem_add_field(p, "displayName", "invalid",
				  "must be 1 to 200 printable characters, none invisible, no word "
				  "mixing alphabets");
	check_person(p, "admin.", email, password, first, last);
	/* the link goes to a mailbox of the domain: who reads it owns it */
	if (p->kind == PROBLEM_NONE && email_canonical(email, canonical) &&
	    strcmp(strrchr(canonical, '@') + 1, domain) != 0)
		problem_add_field(p, "admin.email", "not_at_domain",
				  "must be an address at the domain (name@%s)", domain);
	if (p->kind != PROBLEM_NONE || password_hash_bounded(password, hash, p) != 0)
		goto out;
	struct tenant_signup in = {domain, display_name, canonical,	     hash,
				   first,  last,	 c->req->request_id, c->client_addr};
	if (signup_request(&c->txn, &in, c->cfg->public_base_url, expires_at, p) != 0)
		goto out;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "verification_sent");
	cJSON_AddStringToObject(doc, "email", canonical);
	cJSON_AddStringToObject(doc, "expiresAt", expires_at);
	rc = ctx_json(c, 202, doc);
out:
	sodium_memzero(hash, sizeof hash);
	return rc;
}

const struct json_field signup_verification_schema[] = {
    {"token", JSON_STRING, true, 128, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 201 the tenant and its global admin; 400; 404 signup_link_invalid; 409
 * the domain or address was taken meanwhile; 503. */
int handle_signup_verification(struct ctx *c)
{
	struct tenant_created out;
	char domain[254], email[255];
	const char *token = json_str(c->body, "token");
	if (!valid_text(token, 1, 128))
		return problem_add_field(&c->problem, "token", "invalid",
					 "must be the token of the mailed link");
	if (signup_verify(&c->txn, token, c->req->request_id, c->client_addr, &out, domain, email,
			  &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "id", out.tenant_id);
	cJSON_AddStringToObject(doc, "domain", domain);
	cJSON_AddStringToObject(doc, "displayName", out.display_name);
	cJSON_AddStringToObject(doc, "createdAt", out.created_at);
	cJSON *a = cJSON_AddObjectToObject(doc, "admin");
	cJSON_AddStringToObject(a, "id", out.user_id);
	cJSON_AddStringToObject(a, "email", email);
	cJSON *roles = cJSON_AddArrayToObject(a, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("global_admin"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("admin_agent"));
	return ctx_json(c, 201, doc);
}

/* ---- the operator's verified domains of a tenant (issue 21, F7) ---- */

const struct json_field tenant_domain_schema[] = {
    {"domain", JSON_STRING, true, 253, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static cJSON *verified_domain_json(const struct tenant_verified_domain *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "domain", d->domain);
	cJSON_AddStringToObject(o, "tenantId", d->tenant_id);
	cJSON_AddStringToObject(o, "verifiedBy", d->verified_by);
	cJSON_AddStringToObject(o, "verifiedAt", d->verified_at);
	return o;
}

/* A domain the operator may verify: a host name, not a web-based mail
 * service's (a mailbox there shows nothing of a company). */
static void check_verifiable(struct ctx *c, const char *domain)
{
	char probe[300];
	if (!valid_hostname(domain)) {
		problem_add_field(&c->problem, "domain", "invalid",
				  "must be a lower-case host name such as contoso.com");
		return;
	}
	snprintf(probe, sizeof probe, "postmaster@%s", domain);
	if (email_domain_listed(probe, c->cfg->webmail_domains)) {
		snprintf(c->problem.code, sizeof c->problem.code, "webmail_not_allowed");
		problem_set(&c->problem, PROBLEM_RULE_REFUSED,
			    "%s is a web-based mail service's domain, no company's", domain);
	}
}

/* 201 domain (200 when it was verified already); 400; 401; 403; 404
 * unknown tenant; 409 domain_taken; 422 webmail_not_allowed,
 * work_account_domain; 503. */
int handle_operator_tenant_domain_create(struct ctx *c)
{
	struct tenant_verified_domain d;
	bool created = false;
	const char *domain = json_str(c->body, "domain");
	check_verifiable(c, domain);
	if (c->problem.kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	if (tenant_verified_domain_add(&c->txn, &a, ctx_capture(c, 0), domain, &d, &created,
				       &c->problem) != 0)
		return -1;
	return ctx_json(c, created ? 201 : 200, verified_domain_json(&d));
}

/* 200 {items} (every one: a handful); 401; 403; 404 unknown tenant; 503. */
int handle_operator_tenant_domains_list(struct ctx *c)
{
	struct tenant_verified_domain *items = NULL;
	size_t n = 0;
	if (tenant_verified_domains(&c->txn, ctx_capture(c, 0), &items, &n, &c->problem) != 0) {
		free(items);
		return -1;
	}
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, verified_domain_json(&items[i]));
	free(items);
	return ctx_list_all(c, list);
}

/* 204; 401; 403; 404 unknown tenant, domain_not_verified; 503. */
int handle_operator_tenant_domain_delete(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (tenant_verified_domain_remove(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1),
					  &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}
