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

/* Renders m and inserts it, due now, in t. DB_OK or DB_FAILED (a mail that
 * cannot be rendered ends the transaction: 500). */
enum db_status outbox_enqueue(struct txn *t, const struct outbox_mail *m);

/* The sender's wake-up, which runs after the commit of every transaction
 * that queued mail, so that a mail leaves at once rather than at the next
 * poll. */
void outbox_set_wake(void (*wake)(void));
/* The same wake-up after t commits, for other work the thread does (the
 * events' sequencer). */
void outbox_wake_after_commit(struct txn *t);

/* One row as the operator sees it. */
struct outbox_row {
	char id[UUID_STR], tenant_id[UUID_STR], template[65], recipient[255], status[16],
	    next_attempt_at[TIME_STR], created_at[TIME_STR], sent_at[TIME_STR], last_error[1021];
	char *subject; /* owned: outbox_row_clear */
	long attempts;
};
void outbox_row_clear(struct outbox_row *r);

/* Pages of struct outbox_row: of every status (no key), and of one status
 * (key: the status). */
extern const struct db_page outbox_page, outbox_page_of_status;

/* Queues a failed mail again with a fresh count of attempts. Returns 0
 * with out (cleared by the caller whatever the outcome), or -1 with p set:
 * 404 unknown id, 409 mail_not_failed (naming its status). */
int outbox_retry(struct txn *t, const char *id, struct outbox_row *out, struct problem *p);

/* The backlog, for /metrics: mail waiting or being sent, and failed.
 * Returns 0, or -1 when t failed. */
int outbox_backlog(struct txn *t, long *pending, long *failed);

#endif
