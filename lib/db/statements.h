/* Every SQL statement of the program, by name. The text of each is
 * defined next to the function that runs it (stmt_NAME); this list lets
 * each connection prepare them all at once. */
#ifndef TWOTIER_STATEMENTS_H
#define TWOTIER_STATEMENTS_H

#define DB_STATEMENTS(X)                                                                           \
	X(regions_list)                                                                            \
	X(legal_insert)                                                                            \
	X(tenant_set_csp_country)                                                                  \
	X(country_region)                                                                          \
	X(provider_tenant)                                                                         \
	X(provider_insert)                                                                         \
	X(provider_lock)                                                                           \
	X(provider_touch)                                                                          \
	X(region_known)                                                                            \
	X(provider_regions_clear)                                                                  \
	X(provider_region_add)                                                                     \
	X(provider_admins_join)                                                                    \
	X(provider_get)                                                                            \
	X(tenant_region)                                                                           \
	X(provider_find)                                                                           \
	X(provider_find_count)                                                                     \
	X(invitation_insert)                                                                       \
	X(provider_of)                                                                             \
	X(invitation_get)                                                                          \
	X(invitation_lock)                                                                         \
	X(invitation_list)                                                                         \
	X(invitation_count)                                                                        \
	X(invitation_set_state)                                                                    \
	X(reseller_of)                                                                             \
	X(provider_in_region)                                                                      \
	X(relationship_insert)                                                                     \
	X(relationship_get)                                                                        \
	X(relationship_lock)                                                                       \
	X(relationship_list_providers)                                                             \
	X(relationship_count_providers)                                                            \
	X(relationship_list_resellers)                                                             \
	X(relationship_count_resellers)                                                            \
	X(relationship_remove_access)                                                              \
	X(relationship_end)                                                                        \
	X(relationship_contacts)                                                                   \
	X(delegation)                                                                              \
	X(relationship_narrow)                                                                     \
	X(relationship_access_lock)                                                                \
	X(tenant_add_partner_type)                                                                 \
	X(enrollment_status_of)

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
