/* Enrolment: POST /v1/enrollments, GET /v1/enrollment, the primary
 * contact's verification, and the operator's review. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/event.h"
#include "core/config.h"
#include "domain/enrollment.h"
#include "domain/relationship.h"
#include "mail/template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct json_field contact_fields[] = {
    {"firstName", JSON_STRING, true, 100, NULL}, {"lastName", JSON_STRING, true, 100, NULL},
    {"email", JSON_STRING, true, 254, NULL},	 {"phoneNumber", JSON_STRING, true, 32, NULL},
    {"language", JSON_STRING, false, 8, NULL},	 {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field enrollment_create_schema[] = {
    /* an indirect provider may leave both out (enrollment.h) */
    {"legalBusinessProfile", JSON_OBJECT, false, 0, legal_profile_schema},
    {"primaryContact", JSON_OBJECT, false, 0, contact_fields},
    {"supportProfile", JSON_OBJECT, true, 0, support_profile_schema},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field email_verification_schema[] = {
    {"token", JSON_STRING, true, 128, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field enrollment_decision_schema[] = {
    {"decision", JSON_STRING, true, 32, NULL},
    {"reason", JSON_STRING, false, 2000, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static void read_contact(struct ctx *c, const cJSON *obj, struct primary_contact *out)
{
	struct problem *p = &c->problem;
	const char *first = json_str(obj, "firstName");
	const char *last = json_str(obj, "lastName");
	const char *email = json_str(obj, "email");
	const char *language = json_str(obj, "language");
	memset(out, 0, sizeof *out);
	if (!valid_text(first, 1, 100))
		problem_add_field(p, "primaryContact.firstName", "invalid",
				  "must be 1 to 100 printable characters");
	if (!valid_text(last, 1, 100))
		problem_add_field(p, "primaryContact.lastName", "invalid",
				  "must be 1 to 100 printable characters");
	if (!valid_email(email))
		problem_add_field(p, "primaryContact.email", "invalid",
				  "must be an e-mail address");
	else if (email_domain_listed(email, c->cfg->webmail_domains))
		/* a field of its own code, so a form can say what to fix; the
		 * request is refused as a rule (422) once the rest is valid */
		problem_add_field(p, "primaryContact.email", "webmail_not_allowed",
				  "must be an address at the company's own domain, not a "
				  "web-based mail service");
	if (!valid_phone(json_str(obj, "phoneNumber"), out->phone_number))
		problem_add_field(p, "primaryContact.phoneNumber", "invalid",
				  "must be an international number: + and 7 to 15 digits, "
				  "such as +49 30 1234567");
	if (language != NULL && !mail_language_known(language))
		problem_add_field(p, "primaryContact.language", "invalid",
				  "must be one of: " MAIL_LANGUAGES);
	snprintf(out->first_name, sizeof out->first_name, "%s", first ? first : "");
	snprintf(out->last_name, sizeof out->last_name, "%s", last ? last : "");
	snprintf(out->email, sizeof out->email, "%s", email ? email : "");
	snprintf(out->language, sizeof out->language, "%s", language ? language : "en");
}

/* A problem whose only field errors are webmail refusals is the rule's
 * 422 webmail_not_allowed, not a malformed request. */
static void webmail_as_rule(struct problem *p)
{
	int n = 0, webmail = 0;
	for (const cJSON *e = p->errors ? p->errors->child : NULL; e != NULL; e = e->next, n++) {
		const char *code = json_str(e, "code");
		webmail += code != NULL && strcmp(code, "webmail_not_allowed") == 0;
	}
	if (n > 0 && n == webmail) {
		p->kind = PROBLEM_RULE_REFUSED;
		snprintf(p->detail, sizeof p->detail,
			 "the primary contact's address is at a web-based mail service; use one at "
			 "the company's domain");
		snprintf(p->code, sizeof p->code, "webmail_not_allowed");
	}
}

static const struct {
	const char *step, *next;
} checklist_steps[] = {
    {"emailVerified", "open the link mailed to the primary contact "
		      "(POST /v1/enrollment/email-verification/resend sends it again)"},
    {"reviewApproved", "wait for the programme team to review the enrolment"},
    {"mpnAssociated", "associate an MPN ID of the CSP country (PUT /v1/profiles/mpn/association); "
		      "the programme team then verifies it"},
    {"agreementSigned", "sign the partner agreement once the enrolment is approved"},
    {"adminAgentAssigned", "add the enrolling global admin to the admin agent group"},
    {"providerAuthorized", "authorize an indirect provider once the enrolment is approved"},
};

#define N_STEPS (sizeof checklist_steps / sizeof checklist_steps[0])

/* Whether each step of checklist_steps is done. */
static void steps_done(const struct enrollment *e, bool done[N_STEPS])
{
	done[0] = e->email_verified_at[0] != '\0';
	done[1] = strcmp(e->status, "approved") == 0;
	done[2] = e->mpn_associated;
	done[3] = e->agreement_version[0] != '\0';
	done[4] = e->admin_agent_assigned;
	done[5] = e->provider_authorized;
}

static cJSON *checklist_json(const struct enrollment *e)
{
	bool done[N_STEPS];
	cJSON *list = cJSON_CreateArray();
	steps_done(e, done);
	for (size_t i = 0; i < N_STEPS; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "step", checklist_steps[i].step);
		cJSON_AddBoolToObject(s, "done", done[i]);
		if (done[i])
			cJSON_AddNullToObject(s, "next");
		else
			cJSON_AddStringToObject(s, "next", checklist_steps[i].next);
		cJSON_AddItemToArray(list, s);
	}
	return list;
}

static cJSON *enrollment_json(const struct enrollment *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "tenantId", e->tenant_id);
	cJSON_AddStringToObject(o, "status", e->status);
	cJSON_AddStringToObject(o, "companyName", e->company_name);
	cJSON_AddStringToObject(o, "cspCountry", e->csp_country);
	cJSON_AddStringToObject(o, "cspRegion", e->csp_region);
	cJSON *pc = cJSON_AddObjectToObject(o, "primaryContact");
	cJSON_AddStringToObject(pc, "firstName", e->contact.first_name);
	cJSON_AddStringToObject(pc, "lastName", e->contact.last_name);
	cJSON_AddStringToObject(pc, "email", e->contact.email);
	cJSON_AddStringToObject(pc, "phoneNumber", e->contact.phone_number);
	cJSON_AddStringToObject(pc, "language", e->contact.language);
	if (e->email_verified_at[0])
		cJSON_AddStringToObject(o, "emailVerifiedAt", e->email_verified_at);
	else
		cJSON_AddNullToObject(o, "emailVerifiedAt");
	cJSON_AddItemToObject(o, "checklist", checklist_json(e));
	cJSON_AddStringToObject(o, "createdAt", e->created_at);
	cJSON_AddStringToObject(o, "updatedAt", e->updated_at);
	return o;
}

/* 201 enrolment; 400; 401; 403 (not a GA, or an API token); 409
 * already_enrolled, legal_profile_exists; 422 country_not_in_program,
 * webmail_not_allowed; 503. */
int handle_enrollment_create(struct ctx *c)
{
	struct legal_profile legal;
	struct primary_contact contact;
	struct support_profile support;
	struct enrollment e;
	const cJSON *legal_json = json_obj(c->body, "legalBusinessProfile");
	const cJSON *contact_json = json_obj(c->body, "primaryContact");
	if (legal_json != NULL)
		read_legal_profile(&c->problem, "legalBusinessProfile.", legal_json, &legal);
	if (contact_json != NULL)
		read_contact(c, contact_json, &contact);
	read_support_profile(&c->problem, "supportProfile.", json_obj(c->body, "supportProfile"),
			     &support);
	if (c->problem.kind != PROBLEM_NONE) {
		webmail_as_rule(&c->problem);
		return -1;
	}
	struct actor a = ctx_actor(c);
	struct enrollment_links links = {c->cfg->public_base_url};
	if (enrollment_submit(&c->txn, &a, legal_json ? &legal : NULL,
			      contact_json ? &contact : NULL, &support, &links, &e,
			      &c->problem) != 0)
		return -1;
	response_header(c->res, "Location", "/v1/enrollment");
	const char *tenant[] = {e.tenant_id};
	return ctx_json_event(c, 201, enrollment_json(&e), EVENT_ENROLLMENT_STATUS_CHANGED, tenant,
			      1);
}

/* 200 enrolment with its checklist; 401; 403; 404 not_enrolled; 503. */
int handle_enrollment_get(struct ctx *c)
{
	struct enrollment e;
	if (enrollment_get(&c->txn, c->principal.tenant_id, &e, &c->problem) != 0)
		return -1;
	return ctx_json(c, 200, enrollment_json(&e));
}

/* 200 what the CSP overview page shows: the enrolment's status, the
 * programme status, the checklist and its next step, and once the current
 * agreement is signed its banner; 401; 403; 503. */
int handle_overview(struct ctx *c)
{
	struct enrollment e;
	cJSON *doc = cJSON_CreateObject();
	if (enrollment_get(&c->txn, c->principal.tenant_id, &e, &c->problem) != 0) {
		cJSON_Delete(doc);
		if (c->problem.kind != PROBLEM_NOT_FOUND)
			return -1;
		/* not enrolled: the overview says so, and what to do */
		problem_clear(&c->problem);
		doc = cJSON_CreateObject();
		cJSON_AddNullToObject(doc, "enrollmentStatus");
		cJSON_AddStringToObject(doc, "programStatus", "pending");
		cJSON_AddArrayToObject(doc, "checklist");
		cJSON *next = cJSON_AddObjectToObject(doc, "nextStep");
		cJSON_AddStringToObject(next, "step", "enrollment");
		cJSON_AddStringToObject(next, "next",
					"enrol as an indirect reseller (POST /v1/enrollments)");
		cJSON_AddNullToObject(doc, "banner");
		cJSON_AddArrayToObject(doc, "providers");
		return ctx_json(c, 200, doc);
	}
	bool done[N_STEPS];
	steps_done(&e, done);
	cJSON_AddStringToObject(doc, "enrollmentStatus", e.status);
	cJSON_AddStringToObject(doc, "programStatus", program_status(e.status, done[3]));
	cJSON_AddStringToObject(doc, "companyName", e.company_name);
	cJSON_AddItemToObject(doc, "checklist", checklist_json(&e));
	size_t first = N_STEPS;
	for (size_t i = 0; i < N_STEPS && first == N_STEPS; i++)
		if (!done[i])
			first = i;
	if (first < N_STEPS) {
		cJSON *next = cJSON_AddObjectToObject(doc, "nextStep");
		cJSON_AddStringToObject(next, "step", checklist_steps[first].step);
		cJSON_AddStringToObject(next, "next", checklist_steps[first].next);
	} else {
		cJSON_AddNullToObject(doc, "nextStep");
	}
	/* the reseller's indirect providers: its active relationships, for
	 * whoever may read relationships (a token without relationships:read
	 * reads no more of them here than at GET /v1/relationships) */
	struct relationship *rels = NULL;
	size_t n_rels = 0;
	bool may_read = c->principal.kind != PRINCIPAL_TOKEN ||
			(c->principal.scopes & SCOPE_RELATIONSHIPS_READ);
	if (may_read &&
	    relationship_active_providers(&c->txn, c->principal.tenant_id, &rels, &n_rels) != 0) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON *providers = may_read ? cJSON_AddArrayToObject(doc, "providers")
				    : cJSON_AddNullToObject(doc, "providers");
	for (size_t i = 0; i < n_rels; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "relationshipId", rels[i].id);
		cJSON_AddStringToObject(o, "tenantId", rels[i].provider.tenant_id);
		cJSON_AddStringToObject(o, "name", rels[i].provider.name);
		cJSON_AddStringToObject(o, "adminAccess", rels[i].admin_access);
		cJSON_AddItemToArray(providers, o);
	}
	free(rels);
	if (done[3]) {
		cJSON *banner = cJSON_AddObjectToObject(doc, "banner");
		cJSON_AddStringToObject(banner, "kind", "agreement_accepted");
		cJSON_AddStringToObject(banner, "version", e.agreement_version);
		cJSON_AddStringToObject(banner, "signedAt", e.agreement_signed_at);
	} else {
		cJSON_AddNullToObject(doc, "banner");
	}
	return ctx_json(c, 200, doc);
}

/* 200 {enrollmentId, status}; 400; 404 verification_link_invalid; 503. */
int handle_email_verification(struct ctx *c)
{
	struct enrollment e;
	const char *token = json_str(c->body, "token");
	if (!valid_text(token, 1, 128))
		return problem_add_field(&c->problem, "token", "invalid",
					 "must be the token of the mailed link");
	if (enrollment_verify_email(&c->txn, token, c->req->request_id, c->client_addr, &e,
				    &c->problem) != 0)
		return -1;
	const char *tenant[] = {e.tenant_id};
	cJSON *whole = enrollment_json(&e);
	int rc = ctx_event(c, EVENT_ENROLLMENT_STATUS_CHANGED, tenant, 1, whole);
	cJSON_Delete(whole);
	if (rc != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "enrollmentId", e.id);
	cJSON_AddStringToObject(doc, "status", e.status);
	cJSON_AddStringToObject(doc, "emailVerifiedAt", e.email_verified_at);
	return ctx_json(c, 200, doc);
}

/* 202 {status, expiresAt}; 401; 403; 404 not_enrolled; 409
 * already_verified; 429 resend_limit with Retry-After; 503. */
int handle_enrollment_resend(struct ctx *c)
{
	char expires_at[TIME_STR];
	struct actor a = ctx_actor(c);
	struct enrollment_links links = {c->cfg->public_base_url};
	if (enrollment_resend_verification(&c->txn, &a, &links, expires_at, &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "pending_email_verification");
	cJSON_AddStringToObject(doc, "expiresAt", expires_at);
	return ctx_json(c, 202, doc);
}

/* An enrolment as the operator's list shows it: with the tenant's domain. */
static cJSON *operator_enrollment_json(const struct ctx *c, const void *item)
{
	const struct enrollment *e = item;
	cJSON *o = enrollment_json(e);
	(void)c;
	cJSON_AddStringToObject(o, "tenantDomain", e->tenant_domain);
	return o;
}

/* 200 page of enrolments; 400 bad status, limit or cursor; 401; 403; 503. */
int handle_operator_enrollments_list(struct ctx *c)
{
	return ctx_list_of_status(c, &enrollment_page, &enrollment_page_of_status,
				  enrollment_status_valid,
				  "one of pending_email_verification, in_review, "
				  "more_info_requested, approved, rejected",
				  operator_enrollment_json);
}

/* 201 decision; 400; 401; 403; 404 unknown enrolment; 409
 * invalid_transition (naming the current status); 503. */
int handle_operator_enrollment_decide(struct ctx *c)
{
	static const char *const names[] = {[DECISION_APPROVE] = "approve",
					    [DECISION_REJECT] = "reject",
					    [DECISION_REQUEST_INFO] = "request_info"};
	struct enrollment_transition t;
	const char *decision = json_str(c->body, "decision");
	const char *reason = json_str(c->body, "reason");
	const char *id = ctx_capture(c, 0);
	int d = -1;
	for (int i = 0; i < 3; i++)
		if (strcmp(decision, names[i]) == 0)
			d = i;
	if (d < 0)
		problem_add_field(&c->problem, "decision", "invalid",
				  "must be approve, reject or request_info");
	if (reason != NULL && !valid_text(reason, 1, 2000))
		problem_add_field(&c->problem, "reason", "invalid",
				  "must be 1 to 2000 printable characters");
	else if (reason == NULL && d > DECISION_APPROVE)
		problem_add_field(&c->problem, "reason", "required",
				  "a rejection or a request for information needs a reason");
	if (c->problem.kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct enrollment e;
	if (enrollment_decide(&c->txn, &a, id, (enum enrollment_decision)d, reason, &t,
			      &c->problem) != 0 ||
	    enrollment_get(&c->txn, t.tenant_id, &e, &c->problem) != 0)
		return -1;
	const char *tenant[] = {t.tenant_id};
	cJSON *whole = enrollment_json(&e);
	int rc = ctx_event(c, EVENT_ENROLLMENT_STATUS_CHANGED, tenant, 1, whole);
	cJSON_Delete(whole);
	if (rc != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "id", t.id);
	cJSON_AddStringToObject(doc, "enrollmentId", t.enrollment_id);
	cJSON_AddStringToObject(doc, "decision", names[d]);
	cJSON_AddStringToObject(doc, "fromStatus", t.from_status);
	cJSON_AddStringToObject(doc, "toStatus", t.to_status);
	if (reason != NULL)
		cJSON_AddStringToObject(doc, "reason", reason);
	else
		cJSON_AddNullToObject(doc, "reason");
	cJSON_AddStringToObject(doc, "decidedBy", a.id);
	cJSON_AddStringToObject(doc, "createdAt", t.created_at);
	return ctx_json(c, 201, doc);
}
