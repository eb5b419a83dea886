/* Every SQL statement of the program, by name. The text of each is
 * defined next to the function that runs it (stmt_NAME); this list lets
 * each connection prepare them all at once. */
#ifndef TWOTIER_STATEMENTS_H
#define TWOTIER_STATEMENTS_H

#define DB_STATEMENTS(X)      \
	X(schema_version)     \
	X(regions_list)       \
	X(tenant_insert)      \
	X(user_insert)        \
	X(user_role_insert)   \
	X(user_by_email)      \
	X(platform_tenant)    \
	X(platform_tenant_insert) \
	X(audit_insert)

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
