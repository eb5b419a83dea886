/* The whole API, one row a route. Reading this table tells who may call
 * what; app.c enforces it before any handler runs. roles: a user needs one
 * of them (0: any user); scope: what an API token needs (0: no token may). */
#include "api/app.h"
#include "api/handlers.h"
#include "auth/auth.h"

#define ANY  ACCESS_ANYONE
#define AUTH ACCESS_AUTH
#define GA   ROLE_GLOBAL_ADMIN
/* a global admin rules its tenant: whatever an admin agent may, it may
 * (no parentheses: tests/openapi reads this table, and it only sits
 * between two commas) */
#define AA ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT
/* SPEC §1: who invites and views customers */
#define CUS  ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT | ROLE_SALES_AGENT
#define OP   ROLE_OPERATOR
#define PRO  SCOPE_PROFILES_READ
#define BODY ROUTE_BODY
#define DB   ROUTE_DB
#define IDEM ROUTE_IDEMPOTENT
#define DLG  ROUTE_DELEGABLE
#define PRV  ROUTE_PROVIDER

const struct route app_routes[] = {
    /* method, pattern, name, access, roles, scope, flags, body schema, handler */
    {"GET", "/healthz", "healthz", ANY, 0, 0, 0, NULL, handle_healthz},
    {"GET", "/readyz", "readyz", ANY, 0, 0, DB, NULL, handle_readyz},
    {"GET", "/metrics", "metrics", ANY, 0, 0, 0, NULL, handle_metrics},
    {"GET", "/.well-known/jwks.json", "jwks", ANY, 0, 0, 0, NULL, handle_jwks},
    {"GET", "/v1/regions", "regions.list", ANY, 0, 0, DB, NULL, handle_regions_list},
    {"POST", "/v1/tenants", "tenants.create", ANY, 0, 0, BODY | DB | IDEM, tenant_create_schema,
     handle_tenant_create},
    {"POST", "/v1/signup-verifications", "signup_verifications.create", ANY, 0, 0, BODY | DB,
     signup_verification_schema, handle_signup_verification},
    {"POST", "/v1/auth/token", "auth.token", ANY, 0, 0, BODY | DB, signin_schema, handle_signin},
    {"GET", "/v1/me", "me", AUTH, 0, SCOPE_ALL, DB, NULL, handle_me},
    {"GET", "/v1/users", "users.list", AUTH, AA, 0, DB | DLG, NULL, handle_users_list},
    {"POST", "/v1/users", "users.create", AUTH, AA, 0, BODY | DB | IDEM, user_create_schema,
     handle_user_create},
    {"GET", "/v1/users/{id:uuid}", "users.get", AUTH, AA, 0, DB | DLG, NULL, handle_user_get},
    {"PATCH", "/v1/users/{id:uuid}", "users.update", AUTH, AA, 0, BODY | DB, user_update_schema,
     handle_user_update},
    {"GET", "/v1/api-tokens", "api_tokens.list", AUTH, AA, 0, DB, NULL, handle_api_tokens_list},
    {"POST", "/v1/api-tokens", "api_tokens.create", AUTH, AA, 0, BODY | DB | IDEM,
     api_token_create_schema, handle_api_token_create},
    {"DELETE", "/v1/api-tokens/{id:uuid}", "api_tokens.revoke", AUTH, AA, 0, DB, NULL,
     handle_api_token_revoke},
    {"GET", "/v1/audit-events", "audit_events.list", AUTH, AA, 0, DB, NULL,
     handle_audit_events_list},
    {"POST", "/v1/enrollments", "enrollments.create", AUTH, GA, 0, BODY | DB | IDEM,
     enrollment_create_schema, handle_enrollment_create},
    {"GET", "/v1/enrollment", "enrollment.get", AUTH, 0, PRO, DB, NULL, handle_enrollment_get},
    {"POST", "/v1/email-verifications", "email_verifications.create", ANY, 0, 0, BODY | DB,
     email_verification_schema, handle_email_verification},
    {"POST", "/v1/enrollment/email-verification/resend", "enrollment.verification_resend", AUTH, GA,
     0, DB, NULL, handle_enrollment_resend},
    {"GET", "/v1/profiles/legalbusiness", "profiles.legalbusiness.get", AUTH, 0, PRO, DB | DLG,
     NULL, handle_legal_profile_get},
    {"PUT", "/v1/profiles/legalbusiness", "profiles.legalbusiness.put", AUTH, GA, 0, BODY | DB,
     legal_profile_schema, handle_legal_profile_put},
    {"GET", "/v1/profiles/support", "profiles.support.get", AUTH, 0, PRO, DB | DLG, NULL,
     handle_support_profile_get},
    {"PUT", "/v1/profiles/support", "profiles.support.put", AUTH, GA, 0, BODY | DB,
     support_profile_schema, handle_support_profile_put},
    {"GET", "/v1/profiles/organization", "profiles.organization.get", AUTH, 0, PRO, DB | DLG, NULL,
     handle_organization_profile_get},
    {"GET", "/v1/profiles/mpn", "profiles.mpn.get", AUTH, 0, PRO, DB, NULL, handle_mpn_profile_get},
    {"POST", "/v1/profiles/mpn/identifiers", "profiles.mpn.identifiers.create", AUTH, GA, 0,
     BODY | DB | IDEM, mpn_identifier_schema, handle_mpn_identifier_create},
    {"PUT", "/v1/profiles/mpn/association", "profiles.mpn.association.put", AUTH, GA, 0, BODY | DB,
     mpn_association_schema, handle_mpn_association_put},
    {"GET", "/v1/operator/enrollments", "operator.enrollments.list", AUTH, OP, 0, DB, NULL,
     handle_operator_enrollments_list},
    {"POST", "/v1/operator/enrollments/{id:uuid}/decisions", "operator.enrollments.decide", AUTH,
     OP, 0, BODY | DB | IDEM, enrollment_decision_schema, handle_operator_enrollment_decide},
    {"POST", "/v1/operator/agreement-templates", "operator.agreement_templates.create", AUTH, OP, 0,
     BODY | DB | IDEM, agreement_template_schema, handle_agreement_template_create},
    {"GET", "/v1/agreement-templates", "agreement_templates.list", AUTH, 0, SCOPE_ALL, DB, NULL,
     handle_agreement_templates_list},
    {"POST", "/v1/agreements", "agreements.create", AUTH, GA, 0, BODY | DB | IDEM,
     agreement_accept_schema, handle_agreement_accept},
    {"GET", "/v1/agreements", "agreements.list", AUTH, 0, SCOPE_AGREEMENTS_READ, DB, NULL,
     handle_agreements_list},
    {"GET", "/v1/overview", "overview", AUTH, 0, PRO | SCOPE_AGREEMENTS_READ, DB, NULL,
     handle_overview},
    {"POST", "/v1/operator/providers", "operator.providers.create", AUTH, OP, 0, BODY | DB | IDEM,
     provider_create_schema, handle_operator_provider_create},
    {"PUT", "/v1/operator/providers/{id:uuid}/regions", "operator.providers.regions", AUTH, OP, 0,
     BODY | DB, provider_regions_schema, handle_operator_provider_regions},
    {"GET", "/v1/providers", "providers.find", AUTH, 0, SCOPE_RELATIONSHIPS_READ, DB, NULL,
     handle_providers_find},
    {"POST", "/v1/relationship-invitations", "relationship_invitations.create", AUTH, AA,
     SCOPE_RELATIONSHIPS_WRITE, BODY | DB | IDEM | PRV, invitation_create_schema,
     handle_invitation_create},
    {"GET", "/v1/relationship-invitations", "relationship_invitations.list", AUTH, 0,
     SCOPE_RELATIONSHIPS_READ, DB, NULL, handle_invitations_list},
    {"DELETE", "/v1/relationship-invitations/{id:uuid}", "relationship_invitations.withdraw", AUTH,
     AA, SCOPE_RELATIONSHIPS_WRITE, DB, NULL, handle_invitation_withdraw},
    {"POST", "/v1/relationship-invitations/{id:uuid}/authorization",
     "relationship_invitations.authorize", AUTH, GA, 0, BODY | DB, invitation_authorize_schema,
     handle_invitation_authorize},
    {"GET", "/v1/relationships", "relationships.list", AUTH, 0, SCOPE_RELATIONSHIPS_READ, DB, NULL,
     handle_relationships_list},
    {"GET", "/v1/relationships/{id:uuid}", "relationships.get", AUTH, 0, SCOPE_RELATIONSHIPS_READ,
     DB, NULL, handle_relationship_get},
    {"PATCH", "/v1/relationships/{id:uuid}/admin-access", "relationships.admin_access.narrow", AUTH,
     GA, 0, BODY | DB, access_narrow_schema, handle_relationship_access_narrow},
    {"DELETE", "/v1/relationships/{id:uuid}/admin-access", "relationships.admin_access.remove",
     AUTH, GA, 0, DB, NULL, handle_relationship_access_remove},
    {"DELETE", "/v1/relationships/{id:uuid}", "relationships.end", AUTH, AA, 0, DB, NULL,
     handle_relationship_end},
    {"GET", "/v1/relationships/{id:uuid}/customers", "relationships.customers", AUTH, CUS,
     SCOPE_CUSTOMERS_READ, DB | DLG, NULL, handle_relationship_customers},
    {"POST", "/v1/relationships/{id:uuid}/customer-invitations", "customer_invitations.create",
     AUTH, CUS, SCOPE_CUSTOMERS_WRITE, BODY | DB | IDEM | DLG, customer_invitation_schema,
     handle_customer_invitation_create},
    {"GET", "/v1/relationships/{id:uuid}/customer-invitations", "customer_invitations.list", AUTH,
     CUS, SCOPE_CUSTOMERS_READ, DB | DLG, NULL, handle_customer_invitations_list},
    {"GET", "/v1/customer-invitations", "customer_invitations.received", AUTH, 0,
     SCOPE_RELATIONSHIPS_READ, DB, NULL, handle_customer_invitations_received},
    {"DELETE", "/v1/customer-invitations/{id:uuid}", "customer_invitations.withdraw", AUTH, CUS,
     SCOPE_CUSTOMERS_WRITE, DB | DLG, NULL, handle_customer_invitation_withdraw},
    {"POST", "/v1/customer-invitations/{id:uuid}/acceptance", "customer_invitations.accept", AUTH,
     GA, 0, BODY | DB | IDEM, customer_acceptance_schema, handle_customer_invitation_accept},
    {"GET", "/v1/customer-relationships", "customer_relationships.list", AUTH, 0,
     SCOPE_RELATIONSHIPS_READ, DB, NULL, handle_customer_relationships_list},
    {"DELETE", "/v1/customer-relationships/{id:uuid}", "customer_relationships.end", AUTH, GA, 0,
     DB, NULL, handle_customer_relationship_end},
    {"GET", "/v1/customers", "customers.list", AUTH, CUS, SCOPE_CUSTOMERS_READ, DB | DLG, NULL,
     handle_customers_list},
    {"GET", "/v1/customers/{id:uuid}", "customers.get", AUTH, CUS, SCOPE_CUSTOMERS_READ, DB | DLG,
     NULL, handle_customer_get},
    {"GET", "/v1/offers", "offers.list", AUTH, 0, SCOPE_ALL, DB, NULL, handle_offers_list},
    {"POST", "/v1/customers/{id:uuid}/orders", "orders.create", AUTH, AA, SCOPE_ORDERS_WRITE,
     BODY | DB | IDEM | PRV, order_create_schema, handle_order_create},
    {"GET", "/v1/customers/{id:uuid}/orders", "orders.list", AUTH, 0, SCOPE_ORDERS_READ, DB, NULL,
     handle_orders_list},
    {"GET", "/v1/customers/{id:uuid}/subscriptions", "subscriptions.list", AUTH, 0,
     SCOPE_ORDERS_READ, DB, NULL, handle_subscriptions_list},
    {"PATCH", "/v1/customers/{id:uuid}/subscriptions/{sid:uuid}", "subscriptions.update", AUTH, AA,
     SCOPE_ORDERS_WRITE, BODY | DB | PRV, subscription_update_schema, handle_subscription_update},
    {"GET", "/v1/operator/mail", "operator.mail.list", AUTH, OP, 0, DB, NULL,
     handle_operator_mail_list},
    {"POST", "/v1/operator/mail/{id:uuid}/retry", "operator.mail.retry", AUTH, OP, 0, DB, NULL,
     handle_operator_mail_retry},
};

const size_t app_n_routes = sizeof app_routes / sizeof app_routes[0];
