#include "domain/purge.h"

#include "db/db.h"
#include "domain/idempotency.h"
#include "domain/mfa.h"
#include "domain/password_reset.h"
#include "domain/session.h"
#include "domain/signin.h"
#include "domain/tenant.h"

#include <stddef.h>
#include <string.h>

/* Each module deletes its own rows, in batches of the oldest first. */
static const struct {
	enum db_status (*purge)(struct txn *t, long long limit, unsigned long long *deleted);
	size_t count; /* offset in struct purge_counts */
} purges[] = {
    {idem_purge, offsetof(struct purge_counts, idempotency_keys)},
    {signin_purge_failures, offsetof(struct purge_counts, signin_failures)},
    {signin_purge_account_failures, offsetof(struct purge_counts, signin_failures)},
    {signup_purge, offsetof(struct purge_counts, pending_signups)},
    {session_purge, offsetof(struct purge_counts, sessions)},
    {password_reset_purge, offsetof(struct purge_counts, password_resets)},
    {mfa_challenge_purge, offsetof(struct purge_counts, mfa_challenges)},
};

int purge_run(struct txn *t, struct purge_counts *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
		unsigned long long *count = (unsigned long long *)((char *)out + purges[i].count);
		unsigned long long deleted;
		do {
			if (purges[i].purge(t, PURGE_BATCH, &deleted) != DB_OK)
				return -1;
			*count += deleted;
		} while (deleted == PURGE_BATCH);
	}
	return 0;
}
