/* /v1/profiles/...: the legal business, support, organization and MPN
 * profiles of the caller's tenant. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/mpn.h"
#include "domain/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct json_field address_fields[] = {
    {"addressLine1", JSON_STRING, true, 200, NULL},
    {"addressLine2", JSON_STRING, false, 200, NULL},
    {"city", JSON_STRING, true, 100, NULL},
    {"state", JSON_STRING, false, 100, NULL},
    {"postalCode", JSON_STRING, true, 20, NULL},
    {"country", JSON_STRING, true, 8, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field legal_profile_schema[] = {
    {"companyName", JSON_STRING, true, 200, NULL},
    {"address", JSON_OBJECT, true, 0, address_fields},
    {"phoneNumber", JSON_STRING, true, 32, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field support_profile_schema[] = {
    {"email", JSON_STRING, true, 254, NULL},
    {"telephone", JSON_STRING, true, 32, NULL},
    {"website", JSON_STRING, true, 2000, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field mpn_identifier_schema[] = {
    {"mpnId", JSON_STRING, true, 16, NULL},
    {"country", JSON_STRING, true, 8, NULL},
    {"locationName", JSON_STRING, true, 200, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field mpn_association_schema[] = {
    {"mpnId", JSON_STRING, true, 16, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

#define FIELD(name) (snprintf(f, sizeof f, "%s%s", prefix, name), f)

static void copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src ? src : "");
}

/* A country field: 400 unless ISO 3166-1 alpha-2 (the programme's own
 * list is a rule, checked later: 422 country_not_in_program). */
static void check_country(struct problem *p, const char *field, const char *value)
{
	if (!valid_iso_country(value))
		problem_add_field(p, field, "invalid",
				  "must be an ISO 3166-1 alpha-2 country code in capitals, such "
				  "as DE");
}

static void check_phone(struct problem *p, const char *field, const char *value, char *out)
{
	if (!valid_phone(value, out))
		problem_add_field(p, field, "invalid",
				  "must be an international number: + and 7 to 15 digits, "
				  "such as +49 30 1234567");
}

void read_legal_profile(struct problem *p, const char *prefix, const cJSON *obj,
			struct legal_profile *out)
{
	char f[96];
	const cJSON *addr = json_obj(obj, "address");
	const char *company = json_str(obj, "companyName");
	const char *line1 = json_str(addr, "addressLine1");
	const char *line2 = json_str(addr, "addressLine2");
	const char *city = json_str(addr, "city");
	const char *state = json_str(addr, "state");
	const char *postal = json_str(addr, "postalCode");
	const char *country = json_str(addr, "country");
	memset(out, 0, sizeof *out);
	if (!valid_name(company, 1, 200))
		problem_add_field(p, FIELD("companyName"), "invalid",
				  "must be 1 to 200 printable characters, none invisible, no word "
				  "mixing alphabets");
	if (!valid_text(line1, 1, 200))
		problem_add_field(p, FIELD("address.addressLine1"), "invalid",
				  "must be 1 to 200 printable characters");
	if (line2 != NULL && !valid_text(line2, 0, 200))
		problem_add_field(p, FIELD("address.addressLine2"), "invalid",
				  "must be at most 200 printable characters");
	if (!valid_text(city, 1, 100))
		problem_add_field(p, FIELD("address.city"), "invalid",
				  "must be 1 to 100 printable characters");
	if (state != NULL && !valid_text(state, 0, 100))
		problem_add_field(p, FIELD("address.state"), "invalid",
				  "must be at most 100 printable characters");
	if (!valid_text(postal, 1, 20))
		problem_add_field(p, FIELD("address.postalCode"), "invalid",
				  "must be present: 1 to 20 printable characters");
	check_country(p, FIELD("address.country"), country);
	check_phone(p, FIELD("phoneNumber"), json_str(obj, "phoneNumber"), out->phone_number);
	copy(out->company_name, sizeof out->company_name, company);
	copy(out->address_line1, sizeof out->address_line1, line1);
	copy(out->address_line2, sizeof out->address_line2, line2);
	copy(out->city, sizeof out->city, city);
	copy(out->state, sizeof out->state, state);
	copy(out->postal_code, sizeof out->postal_code, postal);
	copy(out->country, sizeof out->country, country);
}

void read_support_profile(struct problem *p, const char *prefix, const cJSON *obj,
			  struct support_profile *out)
{
	char f[96];
	const char *email = json_str(obj, "email");
	const char *website = json_str(obj, "website");
	memset(out, 0, sizeof *out);
	if (!valid_email(email))
		problem_add_field(p, FIELD("email"), "invalid", "must be an e-mail address");
	check_phone(p, FIELD("telephone"), json_str(obj, "telephone"), out->telephone);
	if (!valid_https_url(website, 2000))
		problem_add_field(p, FIELD("website"), "invalid",
				  "must be an https URL such as https://contoso.com");
	copy(out->email, sizeof out->email, email);
	copy(out->website, sizeof out->website, website);
}

#undef FIELD

static cJSON *legal_profile_json(const struct legal_profile *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "companyName", l->company_name);
	cJSON *a = cJSON_AddObjectToObject(o, "address");
	cJSON_AddStringToObject(a, "addressLine1", l->address_line1);
	if (l->address_line2[0])
		cJSON_AddStringToObject(a, "addressLine2", l->address_line2);
	else
		cJSON_AddNullToObject(a, "addressLine2");
	cJSON_AddStringToObject(a, "city", l->city);
	if (l->state[0])
		cJSON_AddStringToObject(a, "state", l->state);
	else
		cJSON_AddNullToObject(a, "state");
	cJSON_AddStringToObject(a, "postalCode", l->postal_code);
	cJSON_AddStringToObject(a, "country", l->country);
	cJSON_AddStringToObject(o, "phoneNumber", l->phone_number);
	return o;
}

static cJSON *support_profile_json(const struct support_profile *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "email", s->email);
	cJSON_AddStringToObject(o, "telephone", s->telephone);
	cJSON_AddStringToObject(o, "website", s->website);
	return o;
}

/* The profile with its version as ETag and as "etag". */
static int respond_versioned(struct ctx *c, cJSON *o, unsigned long version, const char *updated_at)
{
	char etag[32];
	etag_format(version, etag);
	cJSON_AddStringToObject(o, "updatedAt", updated_at);
	cJSON_AddStringToObject(o, "etag", etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, 200, o);
}

/* 200 profile with ETag; 401; 403; 404 not_enrolled; 503. */
int handle_legal_profile_get(struct ctx *c)
{
	struct legal_profile l;
	if (legal_profile_get(&c->txn, c->principal.tenant_id, &l, &c->problem) != 0)
		return -1;
	return respond_versioned(c, legal_profile_json(&l), l.version, l.updated_at);
}

/* 200 profile with ETag; 400; 401; 403; 404 not_enrolled; 412; 422
 * country_not_in_program, csp_country_locked; 428; 503. */
int handle_legal_profile_put(struct ctx *c)
{
	struct legal_profile l;
	unsigned long version;
	read_legal_profile(&c->problem, "", c->body, &l);
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (legal_profile_put(&c->txn, &a, version, &l, &c->problem) != 0)
		return -1;
	return respond_versioned(c, legal_profile_json(&l), l.version, l.updated_at);
}

/* 200 profile with ETag; 401; 403; 404 not_enrolled; 503. */
int handle_support_profile_get(struct ctx *c)
{
	struct support_profile s;
	if (support_profile_get(&c->txn, c->principal.tenant_id, &s, &c->problem) != 0)
		return -1;
	return respond_versioned(c, support_profile_json(&s), s.version, s.updated_at);
}

/* 200 profile with ETag; 400; 401; 403; 404 not_enrolled; 412; 428; 503. */
int handle_support_profile_put(struct ctx *c)
{
	struct support_profile s;
	unsigned long version;
	read_support_profile(&c->problem, "", c->body, &s);
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (support_profile_put(&c->txn, &a, version, &s, &c->problem) != 0)
		return -1;
	return respond_versioned(c, support_profile_json(&s), s.version, s.updated_at);
}

const char *program_status(const char *enrollment_status, bool agreement_signed)
{
	if (strcmp(enrollment_status, "approved") == 0)
		return agreement_signed ? "active" : "qualified";
	if (strcmp(enrollment_status, "rejected") == 0)
		return "rejected";
	return "pending";
}

/* 200 organization profile; 401; 403; 503. */
int handle_organization_profile_get(struct ctx *c)
{
	struct organization_profile o;
	if (organization_profile_get(&c->txn, c->principal.tenant_id, &o, &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "id", o.tenant_id);
	cJSON_AddStringToObject(doc, "companyName",
				o.company_name[0] ? o.company_name : o.display_name);
	cJSON_AddStringToObject(doc, "displayName", o.display_name);
	cJSON_AddStringToObject(doc, "domain", o.domain);
	if (o.csp_country[0]) {
		cJSON_AddStringToObject(doc, "cspCountry", o.csp_country);
		cJSON_AddStringToObject(doc, "cspRegion", o.csp_region);
	} else {
		cJSON_AddNullToObject(doc, "cspCountry");
		cJSON_AddNullToObject(doc, "cspRegion");
	}
	cJSON *info = cJSON_AddObjectToObject(doc, "programInfo");
	if (o.enrollment_status[0])
		cJSON_AddStringToObject(info, "enrollmentStatus", o.enrollment_status);
	else
		cJSON_AddNullToObject(info, "enrollmentStatus");
	cJSON_AddStringToObject(info, "programStatus",
				program_status(o.enrollment_status, o.agreement_signed));
	cJSON *agreement = cJSON_AddObjectToObject(info, "agreement");
	cJSON_AddBoolToObject(agreement, "signed", o.agreement_signed);
	if (o.agreement_signed) {
		cJSON_AddStringToObject(agreement, "version", o.agreement_version);
		cJSON_AddStringToObject(agreement, "signedBy", o.agreement_signed_by);
		cJSON_AddStringToObject(agreement, "signedAt", o.agreement_signed_at);
	} else {
		cJSON_AddNullToObject(agreement, "version");
		cJSON_AddNullToObject(agreement, "signedBy");
		cJSON_AddNullToObject(agreement, "signedAt");
	}
	return ctx_json(c, 200, doc);
}

static cJSON *mpn_json(const struct mpn_identifier *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mpnId", m->mpn_id);
	cJSON_AddStringToObject(o, "country", m->country);
	cJSON_AddStringToObject(o, "locationName", m->location_name);
	cJSON_AddStringToObject(o, "createdAt", m->created_at);
	return o;
}

/* A claim as its tenant sees it. */
static cJSON *claim_json(const struct mpn_association *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "mpnId", m->mpn_id);
	cJSON_AddStringToObject(o, "country", m->country);
	cJSON_AddStringToObject(o, "locationName", m->location_name);
	cJSON_AddStringToObject(o, "status", m->status);
	cJSON_AddStringToObject(o, "claimedAt", m->claimed_at);
	if (m->decided_at[0]) {
		cJSON_AddStringToObject(o, "decidedAt", m->decided_at);
	} else {
		cJSON_AddNullToObject(o, "decidedAt");
	}
	if (m->reason[0])
		cJSON_AddStringToObject(o, "reason", m->reason);
	else
		cJSON_AddNullToObject(o, "reason");
	return o;
}

/* associatedMpnId: the ID whose association the operator verified, null
 * while it waits or after a rejection (the claim says which) */
static void add_associated(cJSON *doc, const struct mpn_association *m, bool has)
{
	if (has && strcmp(m->status, "verified") == 0)
		cJSON_AddStringToObject(doc, "associatedMpnId", m->mpn_id);
	else
		cJSON_AddNullToObject(doc, "associatedMpnId");
}

/* 200 {identifiers, associatedMpnId, association}; 401; 403; 503. */
int handle_mpn_profile_get(struct ctx *c)
{
	struct mpn_identifier *items = NULL;
	struct mpn_association claim;
	bool has = false;
	size_t n = 0;
	if (mpn_profile_get(&c->txn, c->principal.tenant_id, &items, &n, &claim, &has) != 0) {
		free(items);
		return -1;
	}
	cJSON *doc = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(doc, "identifiers");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, mpn_json(&items[i]));
	add_associated(doc, &claim, has);
	if (has)
		cJSON_AddItemToObject(doc, "association", claim_json(&claim));
	else
		cJSON_AddNullToObject(doc, "association");
	free(items);
	return ctx_json(c, 200, doc);
}

/* 201 identifier; 400; 401; 403; 409 mpn_id_exists; 503. */
int handle_mpn_identifier_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct mpn_identifier m;
	const char *mpn_id = json_str(c->body, "mpnId");
	const char *country = json_str(c->body, "country");
	const char *location = json_str(c->body, "locationName");
	memset(&m, 0, sizeof m);
	if (!mpn_id_valid(mpn_id))
		problem_add_field(p, "mpnId", "invalid", "must be 6 or 7 digits");
	check_country(p, "country", country);
	if (!valid_text(location, 1, 200))
		problem_add_field(p, "locationName", "invalid",
				  "must be 1 to 200 printable characters");
	if (p->kind != PROBLEM_NONE)
		return -1;
	copy(m.mpn_id, sizeof m.mpn_id, mpn_id);
	copy(m.country, sizeof m.country, country);
	copy(m.location_name, sizeof m.location_name, location);
	struct actor a = ctx_actor(c);
	if (mpn_identifier_add(&c->txn, &a, &m, p) != 0)
		return -1;
	response_header(c->res, "Location", "/v1/profiles/mpn");
	return ctx_json(c, 201, mpn_json(&m));
}

/* 200 {associatedMpnId, mpnId, country, locationName, association}; 400;
 * 401; 403; 409 mpn_id_taken; 422 not_enrolled, mpn_id_unknown,
 * mpn_country_mismatch; 503. */
int handle_mpn_association_put(struct ctx *c)
{
	struct mpn_association m;
	const char *mpn_id = json_str(c->body, "mpnId");
	if (!mpn_id_valid(mpn_id))
		return problem_add_field(&c->problem, "mpnId", "invalid", "must be 6 or 7 digits");
	struct actor a = ctx_actor(c);
	if (mpn_associate(&c->txn, &a, mpn_id, &m, &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	add_associated(doc, &m, true);
	cJSON_AddStringToObject(doc, "mpnId", m.mpn_id);
	cJSON_AddStringToObject(doc, "country", m.country);
	cJSON_AddStringToObject(doc, "locationName", m.location_name);
	cJSON_AddItemToObject(doc, "association", claim_json(&m));
	return ctx_json(c, 200, doc);
}

/* A claim as the operator's queue shows it: with its tenant. */
static cJSON *operator_claim_json(const struct ctx *c, const void *item)
{
	const struct mpn_association *m = item;
	cJSON *o = claim_json(m);
	(void)c;
	cJSON_AddStringToObject(o, "tenantId", m->tenant_id);
	cJSON_AddStringToObject(o, "tenantDomain", m->tenant_domain);
	cJSON_AddStringToObject(o, "companyName", m->company_name);
	cJSON_AddBoolToObject(o, "contactVerified", m->contact_verified);
	if (m->decided_by[0])
		cJSON_AddStringToObject(o, "decidedBy", m->decided_by);
	else
		cJSON_AddNullToObject(o, "decidedBy");
	return o;
}

/* 200 page of claims; 400 bad status, limit or cursor; 401; 403; 503. */
int handle_operator_mpn_associations_list(struct ctx *c)
{
	return ctx_list_of_status(
	    c, &mpn_association_page, &mpn_association_page_of_status, mpn_association_status_valid,
	    "one of pending_verification, verified, rejected", operator_claim_json);
}

const struct json_field mpn_association_decision_schema[] = {
    {"decision", JSON_STRING, true, 16, NULL},
    {"reason", JSON_STRING, false, 2000, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 201 {decision, association, released}; 400; 401; 403; 404 unknown
 * association; 409 invalid_transition (naming its status), mpn_id_taken;
 * 422 contact_unverified; 503. */
int handle_operator_mpn_association_decide(struct ctx *c)
{
	static const char *const names[] = {
	    [MPN_DECISION_VERIFY] = "verify", [MPN_DECISION_REJECT] = "reject"};
	struct mpn_association m;
	unsigned long long released = 0;
	const char *decision = json_str(c->body, "decision");
	const char *reason = json_str(c->body, "reason");
	int d = -1;
	for (int i = 0; i < 2; i++)
		if (strcmp(decision, names[i]) == 0)
			d = i;
	if (d < 0)
		problem_add_field(&c->problem, "decision", "invalid", "must be verify or reject");
	if (reason != NULL && !valid_text(reason, 1, 2000))
		problem_add_field(&c->problem, "reason", "invalid",
				  "must be 1 to 2000 printable characters");
	else if (reason == NULL && d == MPN_DECISION_REJECT)
		problem_add_field(&c->problem, "reason", "required",
				  "a rejection needs a reason (it is mailed to the partner)");
	if (c->problem.kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	if (mpn_association_decide(&c->txn, &a, ctx_capture(c, 0), (enum mpn_decision)d, reason, &m,
				   &released, &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "decision", names[d]);
	cJSON_AddItemToObject(doc, "association", operator_claim_json(c, &m));
	cJSON_AddNumberToObject(doc, "released", (double)released);
	return ctx_json(c, 201, doc);
}
