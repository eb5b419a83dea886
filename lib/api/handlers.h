/* Route handlers. Each parses what the central checks left to it, calls
 * one domain function and renders the result; the HTTP codes each can
 * answer are listed at its definition. */
#ifndef TWOTIER_HANDLERS_H
#define TWOTIER_HANDLERS_H

#include <cjson/cJSON.h>

#include "http/json.h"

struct ctx;
struct party;

/* Shared renderings: a party of a relationship {tenantId, name, domain};
 * a time, or null when "". */
cJSON *party_json(const struct party *v);
/* An audit event as GET /v1/audit-events shows it (an item_render). */
cJSON *audit_event_json(const struct ctx *c, const void *item);
void add_time_or_null(cJSON *o, const char *name, const char *value);

int handle_healthz(struct ctx *c);
int handle_readyz(struct ctx *c);
int handle_metrics(struct ctx *c);
int handle_regions_list(struct ctx *c);
int handle_tenant_create(struct ctx *c);
int handle_signup_verification(struct ctx *c);
int handle_jwks(struct ctx *c);
int handle_signin(struct ctx *c);
int handle_me(struct ctx *c);
int handle_users_list(struct ctx *c);
int handle_user_create(struct ctx *c);
int handle_user_get(struct ctx *c);
int handle_user_update(struct ctx *c);
int handle_api_tokens_list(struct ctx *c);
int handle_api_token_create(struct ctx *c);
int handle_api_token_revoke(struct ctx *c);
int handle_audit_events_list(struct ctx *c);
int handle_enrollment_create(struct ctx *c);
int handle_enrollment_get(struct ctx *c);
int handle_email_verification(struct ctx *c);
int handle_enrollment_resend(struct ctx *c);
int handle_operator_enrollments_list(struct ctx *c);
int handle_operator_enrollment_decide(struct ctx *c);
int handle_legal_profile_get(struct ctx *c);
int handle_legal_profile_put(struct ctx *c);
int handle_support_profile_get(struct ctx *c);
int handle_support_profile_put(struct ctx *c);
int handle_organization_profile_get(struct ctx *c);
int handle_mpn_profile_get(struct ctx *c);
int handle_mpn_identifier_create(struct ctx *c);
int handle_mpn_association_put(struct ctx *c);
int handle_operator_mail_list(struct ctx *c);
int handle_operator_mail_retry(struct ctx *c);
int handle_overview(struct ctx *c);
int handle_operator_provider_create(struct ctx *c);
int handle_operator_provider_regions(struct ctx *c);
int handle_providers_find(struct ctx *c);
int handle_invitation_create(struct ctx *c);
int handle_invitations_list(struct ctx *c);
int handle_invitation_withdraw(struct ctx *c);
int handle_invitation_authorize(struct ctx *c);
int handle_relationships_list(struct ctx *c);
int handle_relationship_get(struct ctx *c);
int handle_relationship_access_remove(struct ctx *c);
int handle_relationship_access_narrow(struct ctx *c);
int handle_relationship_end(struct ctx *c);
int handle_relationship_customers(struct ctx *c);
int handle_customer_invitation_create(struct ctx *c);
int handle_customer_invitations_list(struct ctx *c);
int handle_customer_invitations_received(struct ctx *c);
int handle_customer_invitation_withdraw(struct ctx *c);
int handle_customer_invitation_accept(struct ctx *c);
int handle_customer_relationships_list(struct ctx *c);
int handle_customer_relationship_end(struct ctx *c);
int handle_customers_list(struct ctx *c);
int handle_customer_get(struct ctx *c);
int handle_offers_list(struct ctx *c);
int handle_order_create(struct ctx *c);
int handle_orders_list(struct ctx *c);
int handle_subscriptions_list(struct ctx *c);
int handle_subscription_update(struct ctx *c);
int handle_agreement_template_create(struct ctx *c);
int handle_agreement_templates_list(struct ctx *c);
int handle_agreement_accept(struct ctx *c);
int handle_agreements_list(struct ctx *c);

/* SPEC §8's programStatus: pending, qualified (approved, the current
 * agreement unsigned), active (approved and signed), rejected. */
const char *program_status(const char *enrollment_status, bool agreement_signed);

/* Field checks of a new user (sign-up's admin, POST /v1/users): adds a
 * field error, named prefix + field, for each bad value. */
struct problem;
void check_person(struct problem *p, const char *prefix, const char *email, const char *password,
		  const char *first, const char *last);

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
extern const struct json_field invitation_create_schema[];
extern const struct json_field access_narrow_schema[];
extern const struct json_field invitation_authorize_schema[];
extern const struct json_field provider_create_schema[];
extern const struct json_field provider_regions_schema[];
extern const struct json_field agreement_template_schema[];
extern const struct json_field agreement_accept_schema[];
extern const struct json_field tenant_create_schema[];
extern const struct json_field signup_verification_schema[];
extern const struct json_field signin_schema[];
extern const struct json_field user_create_schema[];
extern const struct json_field user_update_schema[];
extern const struct json_field api_token_create_schema[];
extern const struct json_field customer_invitation_schema[];
extern const struct json_field customer_acceptance_schema[];
extern const struct json_field order_create_schema[];
extern const struct json_field subscription_update_schema[];

#endif
