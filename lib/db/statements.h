/* Every SQL statement of the program, by name. The text of each is
 * defined next to the function that runs it (stmt_NAME); this list lets
 * each connection prepare them all at once. */
#ifndef TWOTIER_STATEMENTS_H
#define TWOTIER_STATEMENTS_H

#define DB_STATEMENTS(X)                                                                           \
	X(schema_version)                                                                          \
	X(regions_list)                                                                            \
	X(tenant_insert)                                                                           \
	X(tenant_domain_taken)                                                                     \
	X(user_insert)                                                                             \
	X(user_by_email)                                                                           \
	X(platform_tenant)                                                                         \
	X(platform_tenant_insert)                                                                  \
	X(audit_insert)                                                                            \
	X(user_auth_by_id)                                                                         \
	X(user_auth_by_external)                                                                   \
	X(api_token_by_hash)                                                                       \
	X(api_token_touch)                                                                         \
	X(idem_get)                                                                                \
	X(idem_insert)                                                                             \
	X(idem_delete)                                                                             \
	X(idem_store)                                                                              \
	X(signin_locked)                                                                           \
	X(signin_user)                                                                             \
	X(signin_failure)                                                                          \
	X(signin_clear)                                                                            \
	X(audit_list)                                                                              \
	X(audit_count)                                                                             \
	X(user_list)                                                                               \
	X(user_count)                                                                              \
	X(user_get)                                                                                \
	X(tenant_lock)                                                                             \
	X(user_update)                                                                             \
	X(global_admins_other)                                                                     \
	X(api_token_insert)                                                                        \
	X(api_token_list)                                                                          \
	X(api_token_count)                                                                         \
	X(api_token_revoke)                                                                        \
	X(api_token_get)                                                                           \
	X(user_set_external)                                                                       \
	X(purge_idempotency_keys)                                                                  \
	X(purge_signin_failures)

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
