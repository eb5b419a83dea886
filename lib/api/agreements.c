/* The partner agreement: versions (operator), the current ones, and
 * acceptances. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/event.h"
#include "domain/agreement.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct json_field agreement_template_schema[] = {
    {"type", JSON_STRING, true, 64, NULL},	    {"version", JSON_STRING, true, 32, NULL},
    {"documentUrl", JSON_STRING, true, 2000, NULL}, {"documentSha256", JSON_STRING, true, 64, NULL},
    {"effectiveDate", JSON_STRING, true, 10, NULL}, {NULL, JSON_STRING, false, 0, NULL},
};

static const struct json_field signer_fields[] = {
    {"firstName", JSON_STRING, true, 100, NULL}, {"lastName", JSON_STRING, true, 100, NULL},
    {"email", JSON_STRING, true, 254, NULL},	 {"phoneNumber", JSON_STRING, true, 32, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field agreement_accept_schema[] = {
    {"templateId", JSON_STRING, false, 64, NULL},
    {"type", JSON_STRING, false, 64, NULL},
    {"signer", JSON_OBJECT, true, 0, signer_fields},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* A type or a version: 1 to max of [a-z0-9_-] (versions also '.', and
 * capitals). */
static int valid_slug(const char *s, size_t max, int version)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' ||
		      (version && (isupper(c) || c == '.'))))
			return 0;
	}
	return 1;
}

/* YYYY-MM-DD, a day of the calendar. */
static int valid_date(const char *s)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;
	char end;
	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &end) != 3 || y < 2000 || y > 9999 || m < 1 ||
	    m > 12 || d < 1 || d > days[m - 1])
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

static cJSON *template_json(const struct agreement_template *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "type", t->type);
	cJSON_AddStringToObject(o, "version", t->version);
	cJSON_AddStringToObject(o, "documentUrl", t->document_url);
	cJSON_AddStringToObject(o, "documentSha256", t->document_sha256);
	cJSON_AddStringToObject(o, "effectiveDate", t->effective_date);
	cJSON_AddBoolToObject(o, "current", t->current);
	cJSON_AddStringToObject(o, "createdAt", t->created_at);
	return o;
}

/* 201 template; 400; 401; 403; 409 template_version_exists; 503. */
int handle_agreement_template_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct agreement_template in, out;
	const char *type = json_str(c->body, "type");
	const char *version = json_str(c->body, "version");
	const char *url = json_str(c->body, "documentUrl");
	const char *sha = json_str(c->body, "documentSha256");
	const char *date = json_str(c->body, "effectiveDate");
	memset(&in, 0, sizeof in);
	if (!valid_slug(type, 64, 0))
		problem_add_field(p, "type", "invalid",
				  "must be 1 to 64 of a-z, 0-9, '_' and '-', such as "
				  "partner_agreement");
	if (!valid_slug(version, 32, 1))
		problem_add_field(p, "version", "invalid",
				  "must be 1 to 32 of letters, digits, '.', '_' and '-'");
	if (!valid_https_url(url, 2000))
		problem_add_field(p, "documentUrl", "invalid", "must be an https URL");
	if (sha == NULL || strlen(sha) != 64 || strspn(sha, "0123456789abcdefABCDEF") != 64)
		problem_add_field(p, "documentSha256", "invalid", "must be 64 hexadecimal digits");
	if (!valid_date(date))
		problem_add_field(p, "effectiveDate", "invalid", "must be a date, YYYY-MM-DD");
	if (p->kind != PROBLEM_NONE)
		return -1;
	snprintf(in.type, sizeof in.type, "%s", type);
	snprintf(in.version, sizeof in.version, "%s", version);
	snprintf(in.document_url, sizeof in.document_url, "%s", url);
	for (size_t i = 0; i < 64; i++)
		in.document_sha256[i] = (char)tolower((unsigned char)sha[i]);
	snprintf(in.effective_date, sizeof in.effective_date, "%s", date);
	struct actor a = ctx_actor(c);
	if (agreement_template_publish(&c->txn, &a, &in, &out, p) != 0)
		return -1;
	return ctx_json(c, 201, template_json(&out));
}

/* 200 {items}: the current version of every type, or of ?type=; 400; 401;
 * 503. */
int handle_agreement_templates_list(struct ctx *c)
{
	struct agreement_template *items = NULL;
	size_t n = 0;
	char type[80];
	int r = request_query_param(c->req, "type", type, sizeof type);
	if (r < 0 || (r > 0 && !valid_slug(type, 64, 0)))
		return problem_add_field(&c->problem, "type", "invalid",
					 "must be an agreement type such as partner_agreement");
	if (agreement_templates_current(&c->txn, r > 0 ? type : NULL, &items, &n) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, template_json(&items[i]));
	free(items);
	return ctx_list_all(c, list);
}

static cJSON *acceptance_json(const struct ctx *c, const void *item)
{
	const struct agreement_acceptance *a = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "templateId", a->template_id);
	cJSON_AddStringToObject(o, "type", a->type);
	cJSON_AddStringToObject(o, "version", a->version);
	cJSON *s = cJSON_AddObjectToObject(o, "signer");
	cJSON_AddStringToObject(s, "firstName", a->signer.first_name);
	cJSON_AddStringToObject(s, "lastName", a->signer.last_name);
	cJSON_AddStringToObject(s, "email", a->signer.email);
	cJSON_AddStringToObject(s, "phoneNumber", a->signer.phone_number);
	cJSON_AddStringToObject(o, "signedBy", a->user_id);
	cJSON_AddStringToObject(o, "signedAt", a->accepted_at);
	cJSON_AddStringToObject(o, "clientAddress", a->client_addr);
	return o;
}

/* 201 acceptance; 400; 401; 403 (not a GA, or an API token); 409
 * already_signed; 422 enrollment_not_approved, template_unknown,
 * template_type_mismatch, template_not_current, no_current_template; 503. */
int handle_agreement_accept(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct agreement_signer signer;
	struct agreement_acceptance out;
	const char *template_id = json_str(c->body, "templateId");
	const char *type = json_str(c->body, "type");
	const cJSON *s = json_obj(c->body, "signer");
	const char *first = json_str(s, "firstName");
	const char *last = json_str(s, "lastName");
	const char *email = json_str(s, "email");
	memset(&signer, 0, sizeof signer);
	if (template_id == NULL && type == NULL)
		problem_add_field(p, "templateId", "required",
				  "give templateId, or type for its current version");
	if (template_id != NULL && !uuid_valid(template_id))
		problem_add_field(p, "templateId", "invalid", "must be a template's id");
	if (type != NULL && !valid_slug(type, 64, 0))
		problem_add_field(p, "type", "invalid", "must be an agreement type");
	if (!valid_text(first, 1, 100))
		problem_add_field(p, "signer.firstName", "invalid",
				  "must be 1 to 100 printable characters");
	if (!valid_text(last, 1, 100))
		problem_add_field(p, "signer.lastName", "invalid",
				  "must be 1 to 100 printable characters");
	if (!email_canonical(email, signer.email))
		problem_add_field(p, "signer.email", "invalid", "must be an e-mail address");
	if (!valid_phone(json_str(s, "phoneNumber"), signer.phone_number))
		problem_add_field(p, "signer.phoneNumber", "invalid",
				  "must be an international number: + and 7 to 15 digits");
	if (p->kind != PROBLEM_NONE)
		return -1;
	snprintf(signer.first_name, sizeof signer.first_name, "%s", first);
	snprintf(signer.last_name, sizeof signer.last_name, "%s", last);
	struct actor a = ctx_actor(c);
	if (agreement_accept(&c->txn, &a, template_id, type, &signer, &out, p) != 0)
		return -1;
	const char *tenant[] = {a.tenant_id};
	return ctx_json_event(c, 201, acceptance_json(c, &out), EVENT_AGREEMENT_ACCEPTED, tenant,
			      1);
}

/* 200 page of the tenant's acceptances; 400; 401; 403; 503. */
int handle_agreements_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &agreement_acceptance_page, tenant, acceptance_json, NULL);
}
