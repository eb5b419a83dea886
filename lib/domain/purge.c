#include "domain/purge.h"

#include "db/db.h"

#include <stddef.h>
#include <string.h>

/* ORDER BY the column the index covers: each batch is the oldest rows,
 * found through the index, the same ones on every host. */
const struct db_stmt_def stmt_purge_idempotency_keys = {
    STMT_purge_idempotency_keys, "purge_idempotency_keys",
    "DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR "
    "ORDER BY created_at LIMIT ?",
    1, 0};

/* A counter whose window has passed counts from 1 again on the next
 * failure, as if absent; one whose lock has passed locks nothing. */
const struct db_stmt_def stmt_purge_signin_failures = {
    STMT_purge_signin_failures, "purge_signin_failures",
    "DELETE FROM signin_failures WHERE window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND "
    "AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(6)) ORDER BY window_start "
    "LIMIT ?",
    1, 0};

const struct db_stmt_def stmt_purge_signin_account_failures = {
    STMT_purge_signin_account_failures, "purge_signin_account_failures",
    "DELETE FROM signin_account_failures WHERE window_start < UTC_TIMESTAMP(6) - INTERVAL 900 "
    "SECOND ORDER BY window_start LIMIT ?",
    1, 0};

/* a sign-up nobody verified within its 72 hours, or one verified already */
const struct db_stmt_def stmt_purge_pending_signups = {
    STMT_purge_pending_signups, "purge_pending_signups",
    "DELETE FROM pending_signups WHERE expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at LIMIT ?",
    1, 0};

static const struct {
	enum stmt_id stmt;
	size_t count; /* offset in struct purge_counts */
} purges[] = {
    {STMT_purge_idempotency_keys, offsetof(struct purge_counts, idempotency_keys)},
    {STMT_purge_signin_failures, offsetof(struct purge_counts, signin_failures)},
    {STMT_purge_signin_account_failures, offsetof(struct purge_counts, signin_failures)},
    {STMT_purge_pending_signups, offsetof(struct purge_counts, pending_signups)},
};

struct batch_work {
	enum stmt_id stmt;
	unsigned long long deleted;
};

static enum db_status batch_run(struct db *db, void *arg, struct problem *p)
{
	struct batch_work *w = arg;
	struct db_arg a[] = {db_int(PURGE_BATCH)};
	return legacy_exec(db, w->stmt, a, NULL, &w->deleted);
}

int purge_run(struct db *db, struct purge_counts *out, struct problem *p)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
		unsigned long long *count = (unsigned long long *)((char *)out + purges[i].count);
		struct batch_work w = {purges[i].stmt, 0};
		do {
			/* each batch is its own statement, committed on its own */
			if (db_read(db, batch_run, &w, p) != 0)
				return -1;
			*count += w.deleted;
		} while (w.deleted == PURGE_BATCH);
	}
	return 0;
}
