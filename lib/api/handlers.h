/* What the handlers share: renderings, field checks and the body schemas
 * that lib/api/routes.def names. Each handler (declared by its row of
 * routes.def) parses what the central checks left to it, calls the domain
 * and renders the result; the HTTP codes each can answer are listed at its
 * definition. */
#ifndef TWOTIER_HANDLERS_H
#define TWOTIER_HANDLERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "http/json.h"

struct ctx;
struct party;
struct problem;

/* Every handler, declared by its row of routes.def (whose other columns
 * this expansion leaves unread). */
#define ROUTE(method, pattern, name, access, roles, scope, flags, schema, handler)                 \
	int handler(struct ctx *c);
#include "api/routes.def"
#undef ROUTE

/* A new session of the user who signed in (sessions.c): answers 200 with
 * an access token of it and its refresh token, in the body or (cookie) in
 * an HttpOnly cookie only. Returns 0, or -1 with c->problem set. */
int ctx_session_start(struct ctx *c, const char *user_id, const char *tenant_id, unsigned roles,
		      bool cookie);

/* Records an event of the request's change (event.h) in its transaction,
 * with resource (borrowed) its data, concerning tenants (n, at most 3).
 * Returns 0, or -1 with the transaction failed. */
enum event_type;
int ctx_event(struct ctx *c, enum event_type type, const char *const *tenants, size_t n,
	      const cJSON *resource);

/* An event as the feed and a webhook's delivery show it. */
struct event_item;
cJSON *event_item_json(const struct event_item *e);

/* ctx_event with doc, then ctx_json with it (takes doc). */
int ctx_json_event(struct ctx *c, int status, cJSON *doc, enum event_type type,
		   const char *const *tenants, size_t n);

/* The event of relationship r's admin access about to end, by the system
 * (the periodic job: no request), in t: relationship.h's
 * relationship_notice_record. */
struct txn;
struct relationship;
int relationship_expiring_record(struct txn *t, const struct relationship *r);
/* A change of who holds relationship v's access (groups.c), by the
 * caller: relationship.access_changed in both feeds. */
int relationship_access_changed_event(struct ctx *c, const struct relationship *v);
/* The same of its extension by auto_extend (relationship.access_changed). */
int relationship_extended_record(struct txn *t, const struct relationship *r);

/* One of a second factor's code and recovery code (mfa.c): 0, or -1 with
 * a field error in p when both or neither are given. */
int mfa_check_one_code(struct problem *p, const char *code, const char *recovery);

/* Shared renderings: a party of a relationship {tenantId, name, domain};
 * a time, or null when "". */
cJSON *party_json(const struct party *v);
/* An audit event as GET /v1/audit-events shows it (an item_render). */
cJSON *audit_event_json(const struct ctx *c, const void *item);
void add_time_or_null(cJSON *o, const char *name, const char *value);

/* SPEC §8's programStatus: pending, qualified (approved, the current
 * agreement unsigned), active (approved and signed), rejected. */
const char *program_status(const char *enrollment_status, bool agreement_signed);

/* Field checks of a new user (sign-up's admin, POST /v1/users): adds a
 * field error, named prefix + field, for each bad value. */
struct problem;
void check_person(struct problem *p, const char *prefix, const char *email, const char *password,
		  const char *first, const char *last);

/* The checks of a user's new password (a change, a reset): its length,
 * not blanks only, not the user's names, address or domain; a field error
 * named field for the first that fails. */
struct user_view;
void check_new_password(struct problem *p, const char *field, const char *password,
			const struct user_view *u);

/* The profiles' fields (profiles.c), read from obj into out; each bad
 * one is a field error named prefix + its path. */
struct legal_profile;
struct support_profile;
void read_legal_profile(struct problem *p, const char *prefix, const cJSON *obj,
			struct legal_profile *out);
void read_support_profile(struct problem *p, const char *prefix, const cJSON *obj,
			  struct support_profile *out);

extern const struct json_field legal_profile_schema[];
extern const struct json_field support_profile_schema[];
extern const struct json_field enrollment_create_schema[];
extern const struct json_field email_verification_schema[];
extern const struct json_field enrollment_decision_schema[];
extern const struct json_field mpn_identifier_schema[];
extern const struct json_field mpn_association_schema[];
extern const struct json_field mpn_association_decision_schema[];
extern const struct json_field tenant_domain_schema[];
extern const struct json_field invitation_create_schema[];
extern const struct json_field access_narrow_schema[];
extern const struct json_field invitation_authorize_schema[];
extern const struct json_field invitation_rejection_schema[];
extern const struct json_field access_request_create_schema[];
extern const struct json_field provider_create_schema[];
extern const struct json_field provider_regions_schema[];
extern const struct json_field agreement_template_schema[];
extern const struct json_field agreement_accept_schema[];
extern const struct json_field tenant_create_schema[];
extern const struct json_field signup_verification_schema[];
extern const struct json_field signin_schema[];
extern const struct json_field refresh_schema[];
extern const struct json_field password_change_schema[];
extern const struct json_field password_reset_schema[];
extern const struct json_field password_reset_use_schema[];
extern const struct json_field user_create_schema[];
extern const struct json_field user_update_schema[];
extern const struct json_field external_identity_schema[];
extern const struct json_field totp_confirm_schema[];
extern const struct json_field totp_remove_schema[];
extern const struct json_field security_policy_schema[];
extern const struct json_field webhook_create_schema[];
extern const struct json_field group_create_schema[];
extern const struct json_field group_members_schema[];
extern const struct json_field access_assignments_schema[];
extern const struct json_field webhook_update_schema[];
extern const struct json_field api_token_create_schema[];
extern const struct json_field customer_invitation_schema[];
extern const struct json_field customer_acceptance_schema[];
extern const struct json_field order_create_schema[];
extern const struct json_field subscription_update_schema[];

#endif
