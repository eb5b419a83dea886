/* The outbox's sender: claims due mail, delivers it through a transport,
 * and records the outcome. Any number of senders (threads, hosts) may run
 * on one outbox: a claim takes rows with FOR UPDATE SKIP LOCKED and marks
 * them 'sending' with a lease, so two senders never hold one mail; a mail
 * whose sender died is claimed again when its lease runs out. */
#ifndef TWOTIER_MAIL_SENDER_H
#define TWOTIER_MAIL_SENDER_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct db;
struct mail_transport;
struct problem;

struct mail_pass {
	size_t claimed, sent, retried, failed, released;
	/* the transport's way was closed (MAIL_DEFERRED): the pass stopped
	 * there, error says why */
	bool deferred;
	char error[256];
};

/* One pass: claims up to `batch` due mails in the name of `sender` (its
 * host and process; a random part is added for each claim), renews each
 * mail's lease just before delivering it (a mail whose lease ran out is
 * someone else's now, and left alone), delivers each, and marks it sent, due again later (with
 * exponential back-off and jitter) or failed (a 5xx answer, or the last
 * attempt). When *stop becomes true between two mails, the rest of the
 * claim is handed back undelivered; so is all of it from a mail the
 * transport deferred (our side is down: out->deferred), that mail due
 * again at once with its attempt uncounted, so that the next pass finds
 * the way open or closed again. Returns 0 with *out, or -1 with p set
 * (the database failed; what was delivered stays marked as far as it
 * could be). */
int mail_send_due(struct db *db, struct mail_transport *t, const struct config *cfg,
		  const char *sender, size_t batch, const volatile bool *stop,
		  struct mail_pass *out, struct problem *p);

/* Seconds to wait before attempt number `attempt` + 1 (attempt >= 1):
 * base * 2^(attempt-1), at most max, then scaled by a random factor in
 * [0.5, 1) so that mails failed together do not return together. */
double mail_backoff(int attempt, int base, int max);

#endif
