#include "mail/sender.h"

#include "core/config.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "mail/message.h"
#include "mail/transport.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Due mail, oldest due first; rows another sender holds locked are
 * skipped, not waited for. One statement a status, so that each reads its
 * index in order and locks only what it returns. 'sending' rows are due
 * when their lease ran out (their sender died or hung). Every time is the
 * database's, so that hosts whose clocks differ agree on leases. */
struct claimed {
	char id[UUID_STR];
	char recipient[255];
	char *subject, *body;
	long attempts; /* before this one */
};
#define CLAIMED_FIELDS(F, T)                                                                       \
	F(T, id, DB_TEXT)                                                                          \
	F(T, recipient, DB_TEXT) F(T, subject, DB_DUP) F(T, body, DB_DUP) F(T, attempts, DB_INT)

DB_STATEMENT(sender_due,
	     "SELECT id, recipient, subject, body, attempts FROM mail_outbox "
	     "WHERE status = 'pending' AND next_attempt_at <= UTC_TIMESTAMP(6) "
	     "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
	     DB_PARAMS(DB_INT), DB_ROW(struct claimed, CLAIMED_FIELDS));

DB_STATEMENT(sender_due_lapsed,
	     "SELECT id, recipient, subject, body, attempts FROM mail_outbox "
	     "WHERE status = 'sending' AND next_attempt_at <= UTC_TIMESTAMP(6) "
	     "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
	     DB_PARAMS(DB_INT), DB_ROW(struct claimed, CLAIMED_FIELDS));

DB_STATEMENT(sender_claim,
	     "UPDATE mail_outbox SET status = 'sending', claimed_by = ?, attempts = attempts + 1, "
	     "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT), DB_NO_ROW);

/* Before each delivery: the lease is made whole again, while the claim is
 * still ours; a mail whose lease ran out meanwhile (another sender took
 * it) is not delivered. */
DB_STATEMENT(sender_renew,
	     "UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
	     "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
	     DB_PARAMS(DB_INT, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* The outcome, only while the claim is still ours. A sent mail's body is
 * blanked: it may hold a link's token, which is kept nowhere else but as
 * a hash (a failed one keeps its body, for the operator's retry). */
DB_STATEMENT(sender_sent,
	     "UPDATE mail_outbox SET status = 'sent', sent_at = UTC_TIMESTAMP(6), body = '', "
	     "last_error = NULL, claimed_by = NULL WHERE id = ? AND claimed_by = ? AND "
	     "status = 'sending'",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(sender_later,
	     "UPDATE mail_outbox SET status = ?, next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? "
	     "MICROSECOND, last_error = ?, claimed_by = NULL "
	     "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

/* handing back a claim undelivered: the attempt did not happen */
DB_STATEMENT(sender_release,
	     "UPDATE mail_outbox SET status = 'pending', attempts = attempts - 1, "
	     "next_attempt_at = UTC_TIMESTAMP(6), claimed_by = NULL "
	     "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

/* our side was down: the attempt did not count, and the mail goes as soon
 * as the way is open (the error kept for the operator) */
DB_STATEMENT(sender_deferred,
	     "UPDATE mail_outbox SET status = 'pending', attempts = attempts - 1, "
	     "next_attempt_at = UTC_TIMESTAMP(6), last_error = ?, claimed_by = NULL "
	     "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

double mail_backoff(int attempt, int base, int max)
{
	double d = (double)base * pow(2.0, attempt > 1 ? attempt - 1 : 0);
	if (d > max)
		d = max;
	/* 0.5 .. 1.0 of the delay, in steps of 1/1000 */
	return d * (0.5 + (double)randombytes_uniform(500) / 1000.0);
}

static void claimed_free(struct claimed *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].subject);
		free(items[i].body);
	}
	free(items);
}

/* Claims up to batch due mails for claimer, in t: *items (claimed_free)
 * and *n. Returns 0, or -1 when t failed. */
static int claim(struct txn *t, const struct config *cfg, const char *claimer, size_t batch,
		 struct claimed **items, size_t *n)
{
	struct claimed *lapsed = NULL;
	size_t n_lapsed = 0;
	struct db_arg due[] = {db_int((long long)batch)};
	int rc = -1;
	if (db_all(t, &sender_due, due, (void **)items, n) != DB_OK)
		goto out;
	if (*n < batch) {
		due[0] = db_int((long long)(batch - *n));
		if (db_all(t, &sender_due_lapsed, due, (void **)&lapsed, &n_lapsed) != DB_OK)
			goto out;
	}
	if (n_lapsed > 0) {
		*items = xrealloc(*items, (*n + n_lapsed) * sizeof **items);
		memcpy(*items + *n, lapsed, n_lapsed * sizeof *lapsed);
		*n += n_lapsed;
		free(lapsed); /* its values are the claim's now */
		lapsed = NULL;
		n_lapsed = 0;
	}
	for (size_t i = 0; i < *n; i++) {
		struct db_arg u[] = {db_text(claimer), db_int(cfg->mail_lease),
				     db_text((*items)[i].id)};
		if (db_exec(t, &sender_claim, u, NULL) != DB_OK)
			goto out;
	}
	rc = 0;
out:
	claimed_free(lapsed, n_lapsed);
	return rc;
}

/* Runs one statement of a delivery's outcome on its own. Returns 0, or -1
 * with p set. */
static int mark(struct db *db, const struct db_stmt *s, const struct db_arg *args,
		unsigned long long *affected, struct problem *p)
{
	struct txn t;
	enum db_status rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do
		rc = db_exec(&t, s, args, affected);
	while (txn_end(&t, rc == DB_OK, p) == TXN_AGAIN);
	return rc == DB_OK ? 0 : -1;
}

static const char *result_name(enum mail_result r)
{
	switch (r) {
	case MAIL_SENT: return "sent";
	case MAIL_RETRY: return "retry";
	case MAIL_FAILED: return "failed";
	case MAIL_DEFERRED: return "deferred";
	}
	return "unknown";
}

/* Delivers one claimed mail; returns what became of it. */
static enum mail_result deliver(struct mail_transport *t, const struct config *cfg,
				const struct claimed *c, char *err, size_t errsz)
{
	struct mail_message m;
	char from[300], host[256], message_id[400];
	char *text = NULL;
	size_t len = 0;
	enum mail_result r = MAIL_FAILED;
	if (mail_address_of(cfg->mail_from, from, sizeof from) != 0) {
		snprintf(err, errsz, "mail_from holds no address");
		return MAIL_RETRY;
	}
	const char *at = strrchr(from, '@');
	snprintf(host, sizeof host, "%s", at + 1);
	/* stable across attempts, so a receiver can drop a repeat */
	snprintf(message_id, sizeof message_id, "%s@%s", c->id, host);
	m.from = cfg->mail_from;
	m.to = c->recipient;
	m.subject = c->subject;
	m.body = c->body;
	m.message_id = message_id;
	m.date = time(NULL);
	if (mail_format(&m, &text, &len) != 0) {
		snprintf(err, errsz, "a header value holds a line break or a control character");
		return MAIL_FAILED;
	}
	fault_point("mail.before_send");
	r = mail_transport_send(t, c->id, from, c->recipient, text, len, err, errsz);
	fault_point("mail.after_send");
	free(text);
	return r;
}

int mail_send_due(struct db *db, struct mail_transport *t, const struct config *cfg,
		  const char *sender, size_t batch, const volatile bool *stop,
		  struct mail_pass *out, struct problem *p)
{
	char claimer[64], nonce[17];
	unsigned char raw[8];
	struct claimed *items = NULL;
	size_t n = 0;
	struct txn txn;
	int rc;
	/* a name for this claim alone: two senders that share a name (one
	 * host name and pid in two containers) still never hold one mail */
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
	snprintf(claimer, sizeof claimer, "%.46s/%s", sender, nonce);
	memset(out, 0, sizeof *out);
	struct timespec claimed_at;
	clock_gettime(CLOCK_MONOTONIC, &claimed_at);
	txn_open(&txn, db, TXN_ATOMIC);
	do {
		claimed_free(items, n);
		items = NULL;
		n = 0;
		rc = claim(&txn, cfg, claimer, batch, &items, &n);
	} while (txn_end(&txn, rc == 0, p) == TXN_AGAIN);
	if (rc != 0)
		goto out;
	out->claimed = n;
	for (size_t i = 0; i < n; i++) {
		const struct claimed *c = &items[i];
		int attempt = (int)c->attempts + 1;
		unsigned long long affected = 0;
		char err[256] = "";
		problem_clear(p);
		if ((stop != NULL && *stop) || out->deferred) {
			struct db_arg r[] = {db_text(c->id), db_text(claimer)};
			out->released++;
			if ((rc = mark(db, &sender_release, r, NULL, p)) != 0)
				goto out;
			continue;
		}
		/* half the lease gone: renew it before this delivery, so that
		 * what is left of it (at least mail_lease / 2 >= smtp_timeout)
		 * outlasts the delivery; a mail whose lease ran out is no
		 * longer ours */
		if (seconds_since(&claimed_at) > cfg->mail_lease / 2.0) {
			struct db_arg r[] = {db_int(cfg->mail_lease), db_text(c->id),
					     db_text(claimer)};
			if ((rc = mark(db, &sender_renew, r, &affected, p)) != 0)
				goto out;
			if (affected == 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &claimed_at);
		}
		enum mail_result r = deliver(t, cfg, c, err, sizeof err);
		if (r == MAIL_RETRY && attempt >= cfg->mail_max_attempts)
			r = MAIL_FAILED;
		metrics_mail_delivery(result_name(r));
		if (r == MAIL_DEFERRED) {
			/* the mailer says so once an outage, not once a mail */
			struct db_arg a[] = {db_text(err), db_text(c->id), db_text(claimer)};
			out->deferred = true;
			snprintf(out->error, sizeof out->error, "%s", err);
			if ((rc = mark(db, &sender_deferred, a, NULL, p)) != 0)
				goto out;
			continue;
		}
		struct log_field f[] = {LOG_S("mail", c->id), LOG_S("result", result_name(r)),
					LOG_I("attempt", attempt),
					LOG_S("error", err[0] ? err : NULL)};
		log_fields(r == MAIL_SENT ? LOG_INFO : LOG_WARN, "mail", f, 4);
		if (r == MAIL_SENT) {
			struct db_arg a[] = {db_text(c->id), db_text(claimer)};
			unsigned long long marked = 0;
			out->sent++;
			rc = mark(db, &sender_sent, a, &marked, p);
			/* the claim was taken from us while the mail went: another
			 * sender may send it again (at least once, not exactly) */
			if (rc == 0 && marked == 0)
				log_fields(LOG_WARN,
					   "mail sent, but its claim was lost: it may go again", f,
					   1);
		} else {
			double wait = r == MAIL_RETRY ? mail_backoff(attempt, cfg->mail_retry_base,
								     cfg->mail_retry_max)
						      : 0;
			struct db_arg a[] = {db_text(r == MAIL_RETRY ? "pending" : "failed"),
					     db_int((long long)(wait * 1e6)), db_text(err),
					     db_text(c->id), db_text(claimer)};
			if (r == MAIL_RETRY)
				out->retried++;
			else
				out->failed++;
			rc = mark(db, &sender_later, a, NULL, p);
		}
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	claimed_free(items, n);
	return rc;
}
