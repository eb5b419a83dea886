/* The periodic purge of rows whose time is over: idempotency keys after
 * 24 h, sign-in failure counters whose window and lock have passed,
 * sign-ups past their 72 hours, sessions a day past their end, password
 * resets and second-factor challenges past their expiry, webhooks'
 * previous secrets past their grace, and events with their deliveries
 * past the retention (event_retention_days). One table of the modules' purges (each statement is
 * its table's module's: idempotency.c, signin.c, tenant.c), each deleting a small batch in its own
 * short statement, repeated until a batch comes back short: no lock is held for long, and several
 * hosts purging at once only find less to delete. */
#ifndef TWOTIER_PURGE_H
#define TWOTIER_PURGE_H

#include <stddef.h>

struct txn;

#define PURGE_BATCH 500

/* What one pass deleted, by table. */
struct purge_counts {
	unsigned long long idempotency_keys;
	unsigned long long signin_failures; /* per address and per account */
	unsigned long long pending_signups;
	unsigned long long sessions;	    /* a day past their end, with their refresh tokens */
	unsigned long long password_resets; /* a day past their expiry */
	unsigned long long mfa_challenges;  /* past their expiry */
	unsigned long long webhook_secrets; /* previous secrets past their grace */
	unsigned long long webhook_deliveries, events; /* past the retention */
};

/* How long what has a retention is kept (the configuration's). */
struct purge_policy {
	int event_retention_days;
};

/* One pass over every table, in t, which must run each statement on its
 * own (TXN_AUTOCOMMIT: a batch is committed as it is deleted, so that no lock is
 * held across batches). Returns 0, or -1 when t failed; what was deleted
 * before stays deleted. */
int purge_run(struct txn *t, const struct purge_policy *policy, struct purge_counts *out);

#endif
