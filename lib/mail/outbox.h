/* The outbox (SPEC §6): a mail is a row written in the transaction of the
 * change that causes it, so a change that rolls back sends nothing and a
 * change that commits never loses its mail. The sender (sender.h)
 * delivers the rows after commit. */
#ifndef TWOTIER_MAIL_OUTBOX_H
#define TWOTIER_MAIL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "mail/template.h"

struct problem;

/* A mail to queue; all borrowed. */
struct outbox_mail {
	const char *tenant_id; /* may be NULL */
	enum mail_template template;
	const char *language; /* "en" when NULL or unknown */
	const char *recipient;
	const struct mail_var *vars;
	size_t n_vars;
};

/* Renders m and inserts it, due now, in the caller's transaction (inside
 * the work of a db_run). DB_ERROR when it cannot be rendered. */
enum db_status outbox_enqueue(struct db *db, const struct outbox_mail *m);

/* The sender's wake-up, which runs after the commit of every transaction
 * that queued mail, so that a mail leaves at once rather than at the next
 * poll. */
void outbox_set_wake(void (*wake)(void));

/* One row as the operator sees it. */
struct outbox_row {
	char id[UUID_STR], tenant_id[UUID_STR], template[65], recipient[255], status[16],
	    next_attempt_at[TIME_STR], created_at[TIME_STR], sent_at[TIME_STR], last_error[256];
	char *subject; /* owned */
	long attempts;
};

/* A page of the outbox in id order after `after` ("" first), of one status
 * (NULL: every status). *items allocated (outbox_rows_free). Returns 0 or
 * -1 with p set (503). */
int outbox_list(struct db *db, const char *status, const char *after, long limit,
		struct outbox_row **items, size_t *n, long *total, struct problem *p);
void outbox_rows_free(struct outbox_row *items, size_t n);

/* Queues a failed mail again with a fresh count of attempts. Returns 0,
 * or -1 with p set: 404 unknown id, 409 not failed (naming its status). */
int outbox_retry(struct db *db, const char *id, struct outbox_row *out, struct problem *p);

/* The backlog, for /metrics. Returns 0 or -1 with p set. */
int outbox_backlog(struct db *db, long *pending, long *failed, struct problem *p);

#endif
