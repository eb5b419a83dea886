/* Every SQL statement of the program, by name. The text of each is
 * defined next to the function that runs it (stmt_NAME); this list lets
 * each connection prepare them all at once. */
#ifndef TWOTIER_STATEMENTS_H
#define TWOTIER_STATEMENTS_H

#define DB_STATEMENTS(X)                                                                           \
	X(tenant_insert)                                                                           \
	X(user_by_email)                                                                           \
	X(platform_tenant)                                                                         \
	X(platform_tenant_insert)                                                                  \
	X(user_auth_by_id)                                                                         \
	X(user_auth_by_external)                                                                   \
	X(api_token_by_hash)                                                                       \
	X(api_token_touch)                                                                         \
	X(signin_locked)                                                                           \
	X(signin_user)                                                                             \
	X(signin_failure)                                                                          \
	X(signin_clear)                                                                            \
	X(signin_account_failures)                                                                 \
	X(signin_account_failure)                                                                  \
	X(api_token_insert)                                                                        \
	X(api_token_list)                                                                          \
	X(api_token_count)                                                                         \
	X(api_token_revoke)                                                                        \
	X(api_token_get)                                                                           \
	X(purge_idempotency_keys)                                                                  \
	X(purge_signin_failures)                                                                   \
	X(purge_signin_account_failures)                                                           \
	X(purge_pending_signups)                                                                   \
	X(outbox_due)                                                                              \
	X(outbox_due_lapsed)                                                                       \
	X(outbox_renew)                                                                            \
	X(outbox_claim)                                                                            \
	X(outbox_sent)                                                                             \
	X(outbox_later)                                                                            \
	X(outbox_release)                                                                          \
	X(pending_signup_insert)                                                                   \
	X(pending_signup_by_hash)                                                                  \
	X(pending_signup_use)                                                                      \
	X(enrollment_insert)                                                                       \
	X(legal_insert)                                                                            \
	X(support_insert)                                                                          \
	X(tenant_set_csp_country)                                                                  \
	X(country_region)                                                                          \
	X(transition_insert)                                                                       \
	X(verification_insert)                                                                     \
	X(verification_by_hash)                                                                    \
	X(template_insert)                                                                         \
	X(template_get)                                                                            \
	X(template_current_of)                                                                     \
	X(templates_current)                                                                       \
	X(acceptance_insert)                                                                       \
	X(acceptance_list)                                                                         \
	X(acceptance_count)                                                                        \
	X(provider_in_region)                                                                      \
	X(customer_pair_lock)                                                                      \
	X(customer_pair_names)                                                                     \
	X(customer_invitation_insert)                                                              \
	X(customer_invitation_get)                                                                 \
	X(customer_invitation_list)                                                                \
	X(customer_invitation_count)                                                               \
	X(customer_invitation_received)                                                            \
	X(customer_invitation_received_count)                                                      \
	X(customer_invitation_lock)                                                                \
	X(customer_invitation_set_state)                                                           \
	X(relationship_sides)                                                                      \
	X(tenant_domain)                                                                           \
	X(customer_relationship_insert)                                                            \
	X(customer_relationship_active)                                                            \
	X(customer_relationship_get)                                                               \
	X(customer_relationship_list)                                                              \
	X(customer_relationship_count)                                                             \
	X(customer_relationship_lock)                                                              \
	X(customer_relationship_end)                                                               \
	X(customer_list)                                                                           \
	X(customer_count)                                                                          \
	X(customer_get)                                                                            \
	X(offer_list)                                                                              \
	X(tenant_billing)                                                                          \
	X(country_billing)                                                                         \
	X(order_terms)                                                                             \
	X(subscription_insert)                                                                     \
	X(order_insert)                                                                            \
	X(customer_known)                                                                          \
	X(order_list)                                                                              \
	X(order_count)                                                                             \
	X(subscription_list)                                                                       \
	X(subscription_count)                                                                      \
	X(subscription_get)                                                                        \
	X(subscription_lock)                                                                       \
	X(subscription_update)                                                                     \
	X(provider_enrolment_basis)                                                                \
	X(tenant_add_partner_type)                                                                 \
	X(verification_find)                                                                       \
	X(verification_use)                                                                        \
	X(verification_resends)                                                                    \
	X(verification_replace)                                                                    \
	X(enrollment_set_status)                                                                   \
	X(enrollment_set_verified)                                                                 \
	X(enrollment_lock_tenant)                                                                  \
	X(enrollment_lock_id)                                                                      \
	X(user_grant_admin_agent)                                                                  \
	X(enrollment_by_tenant)                                                                    \
	X(enrollment_by_id)                                                                        \
	X(enrollment_list)                                                                         \
	X(enrollment_count)                                                                        \
	X(enrollment_list_all)                                                                     \
	X(enrollment_count_all)                                                                    \
	X(legal_get)                                                                               \
	X(legal_lock)                                                                              \
	X(legal_update)                                                                            \
	X(support_get)                                                                             \
	X(support_lock)                                                                            \
	X(support_update)                                                                          \
	X(enrollment_status_of)                                                                    \
	X(organization_get)                                                                        \
	X(mpn_insert)                                                                              \
	X(mpn_list)                                                                                \
	X(mpn_get)                                                                                 \
	X(tenant_csp_country_lock)                                                                 \
	X(mpn_unassociate)                                                                         \
	X(mpn_associate)

enum stmt_id {
#define STMT_ENUM(name) STMT_##name,
	DB_STATEMENTS(STMT_ENUM)
#undef STMT_ENUM
	    STMT__COUNT
};

struct db_stmt_def;
#define STMT_EXTERN(name) extern const struct db_stmt_def stmt_##name;
DB_STATEMENTS(STMT_EXTERN)
#undef STMT_EXTERN

extern const struct db_stmt_def *const db_statements[STMT__COUNT];

#endif
