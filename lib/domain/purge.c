#include "domain/purge.h"

#include "db/db.h"

#include <stddef.h>
#include <string.h>

/* ORDER BY the column the index covers: each batch is the oldest rows,
 * found through the index, the same ones on every host. */
DB_STATEMENT(purge_idempotency_keys,
	     "DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR "
	     "ORDER BY created_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

/* A counter whose window has passed counts from 1 again on the next
 * failure, as if absent; one whose lock has passed locks nothing. */
DB_STATEMENT(purge_signin_failures,
	     "DELETE FROM signin_failures WHERE window_start < UTC_TIMESTAMP(6) - INTERVAL 900 "
	     "SECOND AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(6)) "
	     "ORDER BY window_start LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

DB_STATEMENT(purge_signin_account_failures,
	     "DELETE FROM signin_account_failures WHERE window_start < UTC_TIMESTAMP(6) - "
	     "INTERVAL 900 SECOND ORDER BY window_start LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

/* a sign-up nobody verified within its 72 hours, or one verified already */
DB_STATEMENT(purge_pending_signups,
	     "DELETE FROM pending_signups WHERE expires_at < UTC_TIMESTAMP(6) "
	     "ORDER BY expires_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

static const struct {
	const struct db_stmt *stmt;
	size_t count; /* offset in struct purge_counts */
} purges[] = {
    {&purge_idempotency_keys, offsetof(struct purge_counts, idempotency_keys)},
    {&purge_signin_failures, offsetof(struct purge_counts, signin_failures)},
    {&purge_signin_account_failures, offsetof(struct purge_counts, signin_failures)},
    {&purge_pending_signups, offsetof(struct purge_counts, pending_signups)},
};

int purge_run(struct txn *t, struct purge_counts *out)
{
	struct db_arg a[] = {db_int(PURGE_BATCH)};
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
		unsigned long long *count = (unsigned long long *)((char *)out + purges[i].count);
		unsigned long long deleted;
		do {
			if (db_exec(t, purges[i].stmt, a, &deleted) != DB_OK)
				return -1;
			*count += deleted;
		} while (deleted == PURGE_BATCH);
	}
	return 0;
}
