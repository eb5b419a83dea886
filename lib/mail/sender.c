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
const struct db_stmt_def stmt_outbox_due = {
    STMT_outbox_due, "outbox_due",
    "SELECT id, recipient, subject, body, attempts FROM mail_outbox "
    "WHERE status = 'pending' AND next_attempt_at <= UTC_TIMESTAMP(6) "
    "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
    1, 5};

const struct db_stmt_def stmt_outbox_due_lapsed = {
    STMT_outbox_due_lapsed, "outbox_due_lapsed",
    "SELECT id, recipient, subject, body, attempts FROM mail_outbox "
    "WHERE status = 'sending' AND next_attempt_at <= UTC_TIMESTAMP(6) "
    "ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED",
    1, 5};

const struct db_stmt_def stmt_outbox_claim = {
    STMT_outbox_claim, "outbox_claim",
    "UPDATE mail_outbox SET status = 'sending', claimed_by = ?, attempts = attempts + 1, "
    "next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE id = ?",
    3, 0};

/* Before each delivery: the lease is made whole again, while the claim is
 * still ours; a mail whose lease ran out meanwhile (another sender took
 * it) is not delivered. */
const struct db_stmt_def stmt_outbox_renew = {
    STMT_outbox_renew, "outbox_renew",
    "UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND "
    "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
    3, 0};

/* The outcome, only while the claim is still ours. A sent mail's body is
 * blanked: it may hold a link's token, which is kept nowhere else but as
 * a hash (a failed one keeps its body, for the operator's retry). */
const struct db_stmt_def stmt_outbox_sent = {
    STMT_outbox_sent, "outbox_sent",
    "UPDATE mail_outbox SET status = 'sent', sent_at = UTC_TIMESTAMP(6), body = '', "
    "last_error = NULL, claimed_by = NULL WHERE id = ? AND claimed_by = ? AND status = 'sending'",
    2, 0};

const struct db_stmt_def stmt_outbox_later = {
    STMT_outbox_later, "outbox_later",
    "UPDATE mail_outbox SET status = ?, next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL ? "
    "MICROSECOND, last_error = ?, claimed_by = NULL "
    "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
    5, 0};

/* handing back a claim undelivered: the attempt did not happen */
const struct db_stmt_def stmt_outbox_release = {
    STMT_outbox_release, "outbox_release",
    "UPDATE mail_outbox SET status = 'pending', attempts = attempts - 1, "
    "next_attempt_at = UTC_TIMESTAMP(6), claimed_by = NULL "
    "WHERE id = ? AND claimed_by = ? AND status = 'sending'",
    2, 0};

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

struct claimed {
	char id[UUID_STR];
	char recipient[255];
	char *subject, *body;
	int attempt; /* this one, counting from 1 */
};

struct claim_work {
	const struct config *cfg;
	const char *claimer;
	size_t batch;
	struct claimed *items;
	size_t n;
};

static void claimed_clear(struct claim_work *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->items[i].subject);
		free(w->items[i].body);
	}
	w->n = 0;
}

static enum db_status claim_from(struct db *db, struct claim_work *w, enum stmt_id due)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_int((long long)(w->batch - w->n))};
	enum db_status rc = legacy_exec(db, due, a, &rows, NULL);
	for (size_t i = 0; rc == DB_OK && i < rows.n_rows; i++) {
		struct claimed *c = &w->items[w->n];
		db_cell_copy(&rows, i, 0, c->id, sizeof c->id);
		struct db_arg u[] = {db_str(w->claimer), db_int(w->cfg->mail_lease), db_str(c->id)};
		rc = legacy_exec(db, STMT_outbox_claim, u, NULL, NULL);
		if (rc != DB_OK)
			break;
		db_cell_copy(&rows, i, 1, c->recipient, sizeof c->recipient);
		c->subject = xstrdup(db_cell(&rows, i, 2) ? db_cell(&rows, i, 2) : "");
		c->body = xstrdup(db_cell(&rows, i, 3) ? db_cell(&rows, i, 3) : "");
		c->attempt = atoi(db_cell(&rows, i, 4) ? db_cell(&rows, i, 4) : "0") + 1;
		w->n++;
	}
	db_rows_free(&rows);
	return rc;
}

static enum db_status claim_run(struct db *db, void *arg, struct problem *p)
{
	struct claim_work *w = arg;
	claimed_clear(w);
	enum db_status rc = claim_from(db, w, STMT_outbox_due);
	if (rc == DB_OK && w->n < w->batch)
		rc = claim_from(db, w, STMT_outbox_due_lapsed);
	return rc;
}

struct mark_work {
	enum stmt_id stmt;
	struct db_arg args[5];
	unsigned long long affected;
};

static enum db_status mark_run(struct db *db, void *arg, struct problem *p)
{
	struct mark_work *w = arg;
	return legacy_exec(db, w->stmt, w->args, NULL, &w->affected);
}

static const char *result_name(enum mail_result r)
{
	switch (r) {
	case MAIL_SENT: return "sent";
	case MAIL_RETRY: return "retry";
	case MAIL_FAILED: return "failed";
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
	/* a name for this claim alone: two senders that share a name (one
	 * host name and pid in two containers) still never hold one mail */
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
	snprintf(claimer, sizeof claimer, "%.46s/%s", sender, nonce);
	struct claim_work w = {cfg, claimer, batch, NULL, 0};
	int rc = -1;
	memset(out, 0, sizeof *out);
	w.items = xcalloc(batch, sizeof *w.items);
	struct timespec claimed_at;
	clock_gettime(CLOCK_MONOTONIC, &claimed_at);
	if (db_run(db, claim_run, &w, p) != 0)
		goto out;
	out->claimed = w.n;
	for (size_t i = 0; i < w.n; i++) {
		const struct claimed *c = &w.items[i];
		char err[256];
		struct mark_work mw;
		memset(&mw, 0, sizeof mw);
		if (stop != NULL && *stop) {
			mw.stmt = STMT_outbox_release;
			mw.args[0] = db_str(c->id);
			mw.args[1] = db_str(claimer);
			out->released++;
			problem_clear(p);
			if (db_run(db, mark_run, &mw, p) != 0)
				goto out;
			continue;
		}
		/* half the lease gone: renew it before this delivery, so that
		 * what is left of it (at least mail_lease / 2 >= smtp_timeout)
		 * outlasts the delivery; a mail whose lease ran out is no
		 * longer ours */
		if (seconds_since(&claimed_at) > cfg->mail_lease / 2.0) {
			mw.stmt = STMT_outbox_renew;
			mw.args[0] = db_int(cfg->mail_lease);
			mw.args[1] = db_str(c->id);
			mw.args[2] = db_str(claimer);
			problem_clear(p);
			if (db_run(db, mark_run, &mw, p) != 0)
				goto out;
			if (mw.affected == 0)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &claimed_at);
		}
		enum mail_result r = deliver(t, cfg, c, err, sizeof err);
		if (r == MAIL_RETRY && c->attempt >= cfg->mail_max_attempts)
			r = MAIL_FAILED;
		metrics_mail_delivery(result_name(r));
		struct log_field f[] = {LOG_S("mail", c->id), LOG_S("result", result_name(r)),
					LOG_I("attempt", c->attempt),
					LOG_S("error", err[0] ? err : NULL)};
		log_fields(r == MAIL_SENT ? LOG_INFO : LOG_WARN, "mail", f, 4);
		memset(&mw, 0, sizeof mw);
		if (r == MAIL_SENT) {
			mw.stmt = STMT_outbox_sent;
			mw.args[0] = db_str(c->id);
			mw.args[1] = db_str(claimer);
			out->sent++;
		} else {
			double wait = r == MAIL_RETRY
					  ? mail_backoff(c->attempt, cfg->mail_retry_base,
							 cfg->mail_retry_max)
					  : 0;
			mw.stmt = STMT_outbox_later;
			mw.args[0] = db_str(r == MAIL_RETRY ? "pending" : "failed");
			mw.args[1] = db_int((long long)(wait * 1e6));
			mw.args[2] = db_str(err);
			mw.args[3] = db_str(c->id);
			mw.args[4] = db_str(claimer);
			if (r == MAIL_RETRY)
				out->retried++;
			else
				out->failed++;
		}
		problem_clear(p);
		if (db_run(db, mark_run, &mw, p) != 0)
			goto out;
	}
	rc = 0;
out:
	claimed_clear(&w);
	free(w.items);
	return rc;
}
