/* Every SQL statement of the program, by name. The text of each is
 * defined next to the function that runs it (stmt_NAME); this list lets
 * each connection prepare them all at once. */
#ifndef TWOTIER_STATEMENTS_H
#define TWOTIER_STATEMENTS_H

#define DB_STATEMENTS(X)                                                                           \
	X(legal_insert)                                                                            \
	X(tenant_set_csp_country)                                                                  \
	X(country_region)                                                                          \
	X(tenant_add_partner_type)                                                                 \
	X(enrollment_status_of)                                                                    \
	X(provider_in_region)

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
