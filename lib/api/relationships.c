/* Provider-reseller relationships: invitations, consent, the two lists,
 * removal of admin access, and the end. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/event.h"
#include "core/config.h"
#include "domain/relationship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct json_field access_fields[] = {
    {"roles", JSON_STRING_ARRAY, false, 4, NULL},
    {"endsAt", JSON_STRING, false, 40, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field invitation_create_schema[] = {
    {"resellerEmail", JSON_STRING, true, 254, NULL},
    {"message", JSON_STRING, false, 1000, NULL},
    {"adminAccess", JSON_OBJECT, false, 0, access_fields},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field invitation_authorize_schema[] = {
    {"token", JSON_STRING, true, 128, NULL},
    {"consent", JSON_BOOL, false, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field invitation_rejection_schema[] = {
    {"token", JSON_STRING, true, 128, NULL},
    {"reason", JSON_STRING, false, 1000, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

cJSON *party_json(const struct party *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "tenantId", v->tenant_id);
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "domain", v->domain);
	return o;
}

static cJSON *invitation_json(const struct invitation *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddItemToObject(o, "provider", party_json(&v->provider));
	cJSON_AddStringToObject(o, "resellerEmail", v->reseller_email);
	if (v->message[0])
		cJSON_AddStringToObject(o, "message", v->message);
	else
		cJSON_AddNullToObject(o, "message");
	cJSON *a = cJSON_AddObjectToObject(o, "adminAccess");
	cJSON_AddItemToObject(a, "roles", roles_to_json(v->access_roles));
	cJSON_AddStringToObject(a, "endsAt", v->access_ends_at);
	cJSON_AddStringToObject(o, "state", v->state);
	cJSON_AddStringToObject(o, "expiresAt", v->expires_at);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	if (v->relationship_id[0])
		cJSON_AddStringToObject(o, "relationshipId", v->relationship_id);
	else
		cJSON_AddNullToObject(o, "relationshipId");
	if (v->decline_reason[0])
		cJSON_AddStringToObject(o, "declineReason", v->decline_reason);
	else
		cJSON_AddNullToObject(o, "declineReason");
	return o;
}

void add_time_or_null(cJSON *o, const char *name, const char *value)
{
	if (value[0])
		cJSON_AddStringToObject(o, name, value);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *relationship_json(const struct ctx *c, const void *item)
{
	const struct relationship *v = item;
	(void)c;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddItemToObject(o, "provider", party_json(&v->provider));
	cJSON_AddItemToObject(o, "reseller", party_json(&v->reseller));
	cJSON_AddStringToObject(o, "state", v->state);
	cJSON *a = cJSON_AddObjectToObject(o, "adminAccess");
	cJSON_AddStringToObject(a, "status", v->admin_access);
	cJSON_AddItemToObject(a, "roles", roles_to_json(v->access_roles));
	cJSON_AddStringToObject(a, "endsAt", v->access_ends_at);
	cJSON_AddStringToObject(a, "since", v->access_changed_at);
	cJSON_AddStringToObject(a, "by", v->access_changed_by);
	cJSON_AddBoolToObject(a, "autoExtend", v->auto_extend);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	cJSON_AddStringToObject(o, "createdBy", v->created_by);
	add_time_or_null(o, "endedAt", v->ended_at);
	add_time_or_null(o, "endedBy", v->ended_by);
	return o;
}

/* The delegable roles of the admin access that list (a JSON array, or
 * NULL) names, as enum auth_role bits (0 when none); each refusal is a
 * field error in p under field: role_not_delegable, unknown_role, and
 * required for an empty list. */
static unsigned access_roles_read(struct problem *p, const cJSON *list, const char *field)
{
	unsigned roles = 0;
	int i = 0;
	for (const cJSON *r = list ? list->child : NULL; r != NULL; r = r->next, i++) {
		char name[40];
		unsigned bit = role_bit(r->valuestring);
		snprintf(name, sizeof name, "%s[%d]", field, i);
		if (bit == ROLE_GLOBAL_ADMIN || bit == ROLE_OPERATOR)
			problem_add_field(p, name, "role_not_delegable",
					  "global_admin and operator are never delegated");
		else if (bit == 0)
			problem_add_field(p, name, "unknown_role", "is not a role");
		roles |= bit;
	}
	if (list != NULL && i == 0)
		problem_add_field(p, field, "required", "name at least one role");
	return roles;
}

/* The end of admin access that ends_at (NULL: the latest) names, or a
 * field error in p under field: invalid, out_of_range (not in the future,
 * or past ACCESS_DAYS_MAX days). */
static micros_t access_end_read(struct problem *p, const char *ends_at, const char *field)
{
	/* the latest end, and the default */
	micros_t latest = time_micros_after(ACCESS_DAYS_MAX * 86400.0), ends = latest;
	if (ends_at != NULL && !time_parse_api(ends_at, &ends))
		problem_add_field(p, field, "invalid",
				  "must be an RFC 3339 UTC time such as 2027-06-30T00:00:00Z");
	else if (ends <= time_micros() || ends > latest)
		problem_add_field(p, field, "out_of_range",
				  "must be in the future and within %d days", ACCESS_DAYS_MAX);
	return ends;
}

/* The answer to a mailed link (an invitation's, an access request's):
 * its token, and for a consent (what: what it grants) "consent": true,
 * the guide's checkbox; for a decline (what NULL) an optional reason.
 * Returns 0, or -1 with p set: field errors, or 422 consent_required. */
static int answer_read(struct ctx *c, const char *what, const char **token, const char **reason)
{
	*token = json_str(c->body, "token");
	if (!valid_text(*token, 1, 128))
		problem_add_field(&c->problem, "token", "invalid",
				  "must be the token of the mailed link");
	if (what == NULL) {
		*reason = json_str(c->body, "reason");
		if (*reason != NULL && !valid_text(*reason, 1, 1000))
			problem_add_field(&c->problem, "reason", "invalid",
					  "must be 1 to 1000 printable characters of plain text");
	}
	if (c->problem.errors != NULL)
		return -1;
	/* nothing but true is consent */
	if (what != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->body, "consent"))) {
		problem_set(&c->problem, PROBLEM_RULE_REFUSED,
			    "%s needs explicit consent: \"consent\": true", what);
		snprintf(c->problem.code, sizeof c->problem.code, "consent_required");
		return -1;
	}
	return 0;
}

/* 201 invitation; 400 (a role not delegable: field code
 * role_not_delegable); 401; 403 (not an admin agent of a provider, or a
 * token without relationships:write); 422 own_domain; 503. */
int handle_invitation_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct invitation out;
	char email[256];
	const char *message = json_str(c->body, "message");
	const cJSON *access = json_obj(c->body, "adminAccess");
	const cJSON *roles_json = cJSON_GetObjectItemCaseSensitive(access, "roles");
	const char *ends_at = json_str(access, "endsAt");
	if (!email_canonical(json_str(c->body, "resellerEmail"), email))
		problem_add_field(p, "resellerEmail", "invalid", "must be an e-mail address");
	if (message != NULL && !valid_text(message, 1, 1000))
		problem_add_field(p, "message", "invalid",
				  "must be 1 to 1000 printable characters of plain text");
	unsigned roles = access_roles_read(p, roles_json, "adminAccess.roles");
	if (roles == 0)
		roles = ROLE_ADMIN_AGENT; /* the default the programme asks for */
	micros_t ends = access_end_read(p, ends_at, "adminAccess.endsAt");
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct invitation_new in = {
	    email, message, roles, ends, c->cfg->public_base_url, c->cfg->invitation_ttl};
	if (invitation_create(&c->txn, &a, &in, &out, p) != 0)
		return -1;
	const char *tenant[] = {out.provider.tenant_id};
	return ctx_json_event(c, 201, invitation_json(&out), EVENT_RELATIONSHIP_INVITED, tenant, 1);
}

/* An invitation of the caller's list, with whether its tenant sent it or
 * received it. */
static cJSON *listed_invitation_json(const struct ctx *c, const void *item)
{
	const struct invitation *v = item;
	cJSON *o = invitation_json(v);
	bool sent = strcmp(v->provider.tenant_id, c->principal.tenant_id) == 0;
	cJSON_AddStringToObject(o, "direction", sent ? "sent" : "received");
	return o;
}

/* 200 page of invitations sent or received; 400; 401; 403; 503. */
int handle_invitations_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &relationship_invitation_page, tenant, listed_invitation_json, NULL);
}

/* 204 withdrawn (also when it was); 401; 403; 404; 409 invitation_accepted;
 * 503. */
int handle_invitation_withdraw(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (invitation_withdraw(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 201 relationship; 400; 401; 403 (not a GA, or a token); 404; 409
 * invitation_accepted, invitation_withdrawn, relationship_exists; 410
 * invitation_expired; 422 consent_required, enrollment_not_approved,
 * region_not_authorized; 503. */
int handle_invitation_authorize(struct ctx *c)
{
	struct relationship out;
	const char *id = ctx_capture(c, 0);
	const char *token;
	if (answer_read(c, "authorizing a provider", &token, NULL) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (invitation_authorize(&c->txn, &a, id, token, &out, &c->problem) != 0)
		return -1;
	const char *tenants[] = {out.provider.tenant_id, out.reseller.tenant_id};
	return ctx_json_event(c, 201, relationship_json(c, &out), EVENT_RELATIONSHIP_AUTHORIZED,
			      tenants, 2);
}

/* 200 invitation (declined; a repeat answers the same); 400; 401; 403
 * (not a GA, or a token); 404 invitation_not_found; 409
 * invitation_accepted, invitation_withdrawn; 410 invitation_expired;
 * 503. */
int handle_invitation_reject(struct ctx *c)
{
	struct invitation out;
	bool declined = false;
	const char *token, *reason;
	if (answer_read(c, NULL, &token, &reason) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (invitation_decline(&c->txn, &a, ctx_capture(c, 0), token, reason, &out, &declined,
			       &c->problem) != 0)
		return -1;
	if (!declined)
		return ctx_json(c, 200, invitation_json(&out));
	const char *tenants[] = {out.provider.tenant_id, a.tenant_id};
	return ctx_json_event(c, 200, invitation_json(&out), EVENT_RELATIONSHIP_DECLINED, tenants,
			      2);
}

/* 200 page of the tenant's providers or resellers; 400; 401; 403; 503. */
int handle_relationships_list(struct ctx *c)
{
	char type[32] = "", query[48];
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	const struct db_page *page;
	int r = request_query_param(c->req, "type", type, sizeof type);
	if (r > 0 && strcmp(type, "indirectProviders") == 0)
		page = &relationship_providers_page;
	else if (r > 0 && strcmp(type, "indirectResellers") == 0)
		page = &relationship_resellers_page;
	else
		return problem_add_field(&c->problem, "type", "invalid",
					 "must be indirectProviders or indirectResellers");
	snprintf(query, sizeof query, "type=%s", type);
	return ctx_list(c, page, tenant, relationship_json, query);
}

/* The relationship's change as an event of both sides. */
static int relationship_event(struct ctx *c, const struct relationship *v, enum event_type type)
{
	const char *tenants[] = {v->provider.tenant_id, v->reseller.tenant_id};
	cJSON *doc = relationship_json(c, v);
	int rc = ctx_event(c, type, tenants, 2, doc);
	cJSON_Delete(doc);
	return rc;
}

int relationship_access_changed_event(struct ctx *c, const struct relationship *v)
{
	return relationship_event(c, v, EVENT_RELATIONSHIP_ACCESS_CHANGED);
}

/* The event type of relationship r by the system (no request), in t: 0,
 * or -1 with t failed. */
static int relationship_system_record(struct txn *t, const struct relationship *r,
				      enum event_type type)
{
	struct actor sys = {.type = "system"};
	const char *tenants[] = {r->provider.tenant_id, r->reseller.tenant_id};
	size_t len;
	cJSON *doc = relationship_json(NULL, r);
	char *data = json_print(doc, &len);
	enum db_status rc = event_record(t, &sys, type, tenants, 2, data);
	free(data);
	cJSON_Delete(doc);
	return rc == DB_OK ? 0 : -1;
}

int relationship_expiring_record(struct txn *t, const struct relationship *r)
{
	return relationship_system_record(t, r, EVENT_RELATIONSHIP_ACCESS_EXPIRING);
}

/* 200 relationship with its ETag. */
static int respond_relationship(struct ctx *c, const struct relationship *v)
{
	char etag[32];
	etag_format(v->version, etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, 200, relationship_json(c, v));
}

/* 200 relationship; 401; 403; 404 (also another pair's); 503. */
int handle_relationship_get(struct ctx *c)
{
	struct relationship out;
	if (relationship_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &out,
			     &c->problem) != 0)
		return -1;
	return respond_relationship(c, &out);
}

const struct json_field access_narrow_schema[] = {
    {"roles", JSON_STRING_ARRAY, true, 4, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 200 relationship with ETag; 400; 401; 403; 404; 409 not granted; 412;
 * 422 roles_not_narrower; 428; 503. */
int handle_relationship_access_narrow(struct ctx *c)
{
	struct relationship out;
	unsigned long version;
	unsigned roles = 0;
	int i = 0;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(c->body, "roles");
	for (const cJSON *r = list ? list->child : NULL; r != NULL; r = r->next, i++) {
		char field[24];
		unsigned bit = role_bit(r->valuestring);
		snprintf(field, sizeof field, "roles[%d]", i);
		if (bit == 0 || bit == ROLE_GLOBAL_ADMIN || bit == ROLE_OPERATOR)
			problem_add_field(&c->problem, field, "invalid",
					  "must be a delegable role");
		roles |= bit;
	}
	if (i == 0)
		problem_add_field(&c->problem, "roles", "required",
				  "name the roles to keep; to take them all, DELETE the admin "
				  "access");
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (relationship_narrow_access(&c->txn, &a, ctx_capture(c, 0), version, roles, &out,
				       &c->problem) != 0 ||
	    relationship_event(c, &out, EVENT_RELATIONSHIP_ACCESS_CHANGED) != 0)
		return -1;
	return respond_relationship(c, &out);
}

/* Removes the admin access or ends the relationship; an event when it
 * changed (not when done already). */
static int relationship_change(struct ctx *c, bool end)
{
	struct actor a = ctx_actor(c);
	struct relationship before, after;
	const char *id = ctx_capture(c, 0);
	if (relationship_get(&c->txn, c->principal.tenant_id, id, &before, &c->problem) != 0 ||
	    (end ? relationship_end(&c->txn, &a, id, &c->problem)
		 : relationship_remove_access(&c->txn, &a, id, &c->problem)) != 0 ||
	    relationship_get(&c->txn, c->principal.tenant_id, id, &after, &c->problem) != 0)
		return -1;
	if (after.version != before.version &&
	    relationship_event(
		c, &after, end ? EVENT_RELATIONSHIP_ENDED : EVENT_RELATIONSHIP_ACCESS_REMOVED) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 204 (also when done already); 401; 403; 404; 503. */
int handle_relationship_access_remove(struct ctx *c)
{
	return relationship_change(c, false);
}

/* 204 (also when ended already); 401; 403; 404; 503. */
int handle_relationship_end(struct ctx *c)
{
	return relationship_change(c, true);
}

/* ---- access requests ---- */

const struct json_field access_request_create_schema[] = {
    {"roles", JSON_STRING_ARRAY, true, 4, NULL}, {"endsAt", JSON_STRING, true, 40, NULL},
    {"autoExtend", JSON_BOOL, false, 0, NULL},	 {"message", JSON_STRING, false, 1000, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static cJSON *access_request_json(const struct ctx *c, const void *item)
{
	const struct access_request *v = item;
	(void)c;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", v->id);
	cJSON_AddStringToObject(o, "relationshipId", v->relationship_id);
	cJSON_AddStringToObject(o, "providerTenantId", v->provider_tenant_id);
	cJSON_AddStringToObject(o, "resellerTenantId", v->reseller_tenant_id);
	cJSON *a = cJSON_AddObjectToObject(o, "adminAccess");
	cJSON_AddItemToObject(a, "roles", roles_to_json(v->access_roles));
	cJSON_AddStringToObject(a, "endsAt", v->access_ends_at);
	cJSON_AddBoolToObject(a, "autoExtend", v->auto_extend);
	if (v->message[0])
		cJSON_AddStringToObject(o, "message", v->message);
	else
		cJSON_AddNullToObject(o, "message");
	cJSON_AddStringToObject(o, "state", v->state);
	if (v->decline_reason[0])
		cJSON_AddStringToObject(o, "declineReason", v->decline_reason);
	else
		cJSON_AddNullToObject(o, "declineReason");
	cJSON_AddStringToObject(o, "expiresAt", v->expires_at);
	cJSON_AddStringToObject(o, "createdAt", v->created_at);
	cJSON_AddStringToObject(o, "createdBy", v->created_by);
	add_time_or_null(o, "answeredAt", v->changed_at);
	return o;
}

/* 201 access request; 400 (roles: role_not_delegable, unknown_role,
 * too_many; endsAt: out_of_range); 401; 403 (not an admin agent of a
 * provider, or a token without relationships:write); 404 (not the
 * provider's relationship); 409 relationship_not_active,
 * access_request_pending; 503. */
int handle_access_request_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct access_request out;
	const char *message = json_str(c->body, "message");
	const cJSON *auto_extend = cJSON_GetObjectItemCaseSensitive(c->body, "autoExtend");
	unsigned roles =
	    access_roles_read(p, cJSON_GetObjectItemCaseSensitive(c->body, "roles"), "roles");
	micros_t ends = access_end_read(p, json_str(c->body, "endsAt"), "endsAt");
	if (message != NULL && !valid_text(message, 1, 1000))
		problem_add_field(p, "message", "invalid",
				  "must be 1 to 1000 printable characters of plain text");
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct actor a = ctx_actor(c);
	struct access_request_new in = {roles,
					ends,
					cJSON_IsTrue(auto_extend),
					message,
					c->cfg->public_base_url,
					c->cfg->invitation_ttl};
	if (access_request_create(&c->txn, &a, ctx_capture(c, 0), &in, &out, p) != 0)
		return -1;
	return ctx_json(c, 201, access_request_json(c, &out));
}

/* 200 page of the relationship's access requests (either side); 400;
 * 401; 403; 404 (not the tenant's relationship); 503. */
int handle_access_requests_list(struct ctx *c)
{
	struct relationship rel;
	const char *id = ctx_capture(c, 0);
	if (relationship_get(&c->txn, c->principal.tenant_id, id, &rel, &c->problem) != 0)
		return -1;
	struct db_arg key[] = {db_text(id)};
	return ctx_list(c, &relationship_access_request_page, key, access_request_json, NULL);
}

/* 204 withdrawn (also when it was); 401; 403 (not an admin agent, a
 * token without relationships:write, or the reseller's side); 404
 * (access_request_not_found: not of this relationship); 409
 * access_request_accepted, access_request_declined; 503. */
int handle_access_request_withdraw(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (access_request_withdraw(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1),
				    &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 200 relationship (its access the request's); 400; 401; 403 (not a GA,
 * or a token); 404 access_request_not_found; 409 access_request_accepted,
 * access_request_declined, access_request_withdrawn,
 * relationship_not_active; 410 access_request_expired; 422
 * consent_required, access_already_ended, region_not_authorized; 503. */
int handle_access_request_authorize(struct ctx *c)
{
	struct relationship out;
	const char *token;
	if (answer_read(c, "granting admin access", &token, NULL) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (access_request_authorize(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1), token, &out,
				     &c->problem) != 0 ||
	    relationship_event(c, &out, EVENT_RELATIONSHIP_ACCESS_CHANGED) != 0)
		return -1;
	return respond_relationship(c, &out);
}

/* 200 access request (declined; a repeat answers the same); 400; 401;
 * 403 (not a GA, or a token); 404 access_request_not_found; 409
 * access_request_accepted, access_request_withdrawn,
 * relationship_not_active; 410 access_request_expired; 503. */
int handle_access_request_reject(struct ctx *c)
{
	struct access_request out;
	bool declined = false;
	const char *token, *reason;
	if (answer_read(c, NULL, &token, &reason) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (access_request_decline(&c->txn, &a, ctx_capture(c, 0), ctx_capture(c, 1), token, reason,
				   &out, &declined, &c->problem) != 0)
		return -1;
	return ctx_json(c, 200, access_request_json(c, &out));
}

int relationship_extended_record(struct txn *t, const struct relationship *r)
{
	return relationship_system_record(t, r, EVENT_RELATIONSHIP_ACCESS_CHANGED);
}
