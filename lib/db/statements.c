#include "db/statements.h"

#include "db/db.h"

const struct db_stmt_def *const db_statements[STMT__COUNT] = {
#define STMT_ROW(name) [STMT_##name] = &stmt_##name,
    DB_STATEMENTS(STMT_ROW)
#undef STMT_ROW
};
