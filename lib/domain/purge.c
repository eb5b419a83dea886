#include "domain/purge.h"

#include "db/db.h"
#include "domain/event.h"
#include "domain/idempotency.h"
#include "domain/mfa.h"
#include "domain/password_reset.h"
#include "domain/session.h"
#include "domain/signin.h"
#include "domain/tenant.h"
#include "domain/webhook.h"

#include <stddef.h>
#include <string.h>

/* Each module deletes its own rows, in batches of the oldest first: rows
 * whose own time is over (purge), or older than the retention (older, in
 * days). In this order: an event goes once no delivery holds it. */
static const struct {
	enum db_status (*purge)(struct txn *t, long long limit, unsigned long long *deleted);
	enum db_status (*older)(struct txn *t, int days, long long limit,
				unsigned long long *deleted);
	size_t count; /* offset in struct purge_counts */
} purges[] = {
    {idem_purge, NULL, offsetof(struct purge_counts, idempotency_keys)},
    {signin_purge_failures, NULL, offsetof(struct purge_counts, signin_failures)},
    {signin_purge_account_failures, NULL, offsetof(struct purge_counts, signin_failures)},
    {signup_purge, NULL, offsetof(struct purge_counts, pending_signups)},
    {session_purge, NULL, offsetof(struct purge_counts, sessions)},
    {password_reset_purge, NULL, offsetof(struct purge_counts, password_resets)},
    {mfa_challenge_purge, NULL, offsetof(struct purge_counts, mfa_challenges)},
    {webhook_purge_secrets, NULL, offsetof(struct purge_counts, webhook_secrets)},
    {NULL, webhook_purge_deliveries, offsetof(struct purge_counts, webhook_deliveries)},
    {NULL, event_purge, offsetof(struct purge_counts, events)},
};

int purge_run(struct txn *t, const struct purge_policy *policy, struct purge_counts *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof purges / sizeof purges[0]; i++) {
		unsigned long long *count = (unsigned long long *)((char *)out + purges[i].count);
		unsigned long long deleted;
		do {
			enum db_status rc = purges[i].purge != NULL
						? purges[i].purge(t, PURGE_BATCH, &deleted)
						: purges[i].older(t, policy->event_retention_days,
								  PURGE_BATCH, &deleted);
			if (rc != DB_OK)
				return -1;
			*count += deleted;
		} while (deleted == PURGE_BATCH);
	}
	return 0;
}
