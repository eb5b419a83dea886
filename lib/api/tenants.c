/* POST /v1/tenants: sign-up, creating a work account and its global admin. */
#include "api/app.h"
#include "api/handlers.h"
#include "auth/password.h"
#include "core/config.h"
#include "db/db.h"
#include "domain/tenant.h"

#include <sodium.h>
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

/* 201 tenant; 400 invalid fields; 403 sign-up closed; 409 domain or
 * e-mail taken; 503 (every password slot busy, or the database). */
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
	char hash[PASSWORD_HASH_MAX];
	struct tenant_created out;
	int rc = -1;

	if (!c->app->cfg->signup_open)
		return problem_set(p, PROBLEM_FORBIDDEN, "sign-up is closed on this service");
	if (!valid_hostname(domain))
		problem_add_field(p, "domain", "invalid",
				  "must be a lower-case host name such as contoso.com");
	if (!valid_text(display_name, 1, 200))
		problem_add_field(p, "displayName", "invalid",
				  "must be 1 to 200 printable characters");
	check_person(p, "admin.", email, password, first, last);
	/* everything that can refuse it before the password is hashed */
	if (p->kind != PROBLEM_NONE || tenant_signup_check(c->worker->db, domain, email, p) != 0 ||
	    password_hash_bounded(password, hash, p) != 0)
		goto out;
	struct tenant_signup in = {domain,
				   display_name,
				   email,
				   hash,
				   first,
				   last,
				   c->req->request_id,
				   c->req->remote_addr};
	if (tenant_create(c->worker->db, &in, &out, p) != 0)
		goto out;

	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "id", out.tenant_id);
	cJSON_AddStringToObject(doc, "domain", domain);
	cJSON_AddStringToObject(doc, "displayName", display_name);
	cJSON_AddStringToObject(doc, "createdAt", out.created_at);
	cJSON *a = cJSON_AddObjectToObject(doc, "admin");
	cJSON_AddStringToObject(a, "id", out.user_id);
	cJSON_AddStringToObject(a, "email", email);
	cJSON *roles = cJSON_AddArrayToObject(a, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("global_admin"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("admin_agent"));
	rc = ctx_json(c, 201, doc);
out:
	sodium_memzero(hash, sizeof hash);
	return rc;
}
