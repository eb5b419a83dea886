#include "mailer.h"

#include "hooker.h"

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "db/db.h"
#include "domain/event.h"
#include "mail/outbox.h"
#include "mail/sender.h"
#include "mail/transport.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAILER_BATCH   10
#define SEQUENCE_BATCH 500
/* under load, the events of this long are numbered in one pass */
#define SEQUENCE_GATHER_US 5000
/* how often the backlog gauge is counted while nothing happens */
#define BACKLOG_EVERY 5

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, woken;
static volatile bool stopping;
static struct mail_transport *transport;
static char claimer[64];
static long long numbered_at; /* when a pass last numbered events (monotonic_us) */

static void mailer_wake(void)
{
	pthread_mutex_lock(&lock);
	woken = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

static void count_backlog(struct db *db)
{
	long pending = 0, failed = 0;
	struct problem p = {0};
	struct txn t;
	int rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do
		rc = outbox_backlog(&t, &pending, &failed);
	while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
	if (rc == 0)
		metrics_mail_backlog(pending, failed);
	problem_clear(&p);
}

static long long monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Numbers the events committed since the last pass (event.h), in
 * transactions of their own, a batch at a time. A pass that follows one
 * that numbered events by less than SEQUENCE_GATHER_US waits for the
 * rest of it: under load, each order's commit wakes this thread, and a
 * pass (a transaction, a commit, some ten statements) for every one or
 * two events would cost the database more than the events themselves;
 * after a quiet spell an event goes at once. */
static void sequence_events(struct db *db)
{
	unsigned long long numbered;
	long long since = monotonic_us() - numbered_at;
	if (since >= 0 && since < SEQUENCE_GATHER_US) {
		struct timespec ts = {0, (long)(SEQUENCE_GATHER_US - since) * 1000L};
		nanosleep(&ts, NULL);
	}
	do {
		struct problem p = {0};
		struct txn t;
		int rc;
		numbered = 0;
		/* no gap locks: the orders appending events never wait on it */
		txn_open(&t, db, TXN_ATOMIC_READ_COMMITTED);
		do
			rc = event_sequence_run(&t, SEQUENCE_BATCH, &numbered) == DB_OK ? 0 : -1;
		while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
		if (rc != 0) {
			log_msg(LOG_WARN, "event sequencer: %s; trying again later", p.detail);
			numbered = 0;
		} else if (numbered > 0) {
			hooker_wake(); /* their deliveries are due */
			numbered_at = monotonic_us();
		}
		problem_clear(&p);
	} while (numbered == SEQUENCE_BATCH && !stopping);
}

/* An outage of our side (the transport deferred) is said once as it
 * begins, and once as it ends. */
static void outage_note(bool *down, const struct mail_pass *pass)
{
	if (pass->deferred && !*down)
		log_fields(LOG_WARN, "mail transport down: mail waits for it, uncounted",
			   (struct log_field[]){LOG_S("error", pass->error)}, 1);
	else if (!pass->deferred && *down && pass->sent > 0)
		log_msg(LOG_INFO, "mail transport back: what waited is on its way");
	else
		return;
	*down = pass->deferred;
}

static void *mailer_main(void *arg)
{
	const struct config *cfg = arg;
	struct db *db = db_new(cfg, 1);
	time_t counted = 0;
	bool down = false;
	for (;;) {
		struct mail_pass pass;
		struct problem p = {0};
		sequence_events(db);
		int rc =
		    mail_send_due(db, transport, cfg, claimer, MAILER_BATCH, &stopping, &pass, &p);
		if (rc != 0)
			log_msg(LOG_WARN, "mail sender: %s; trying again later", p.detail);
		else
			outage_note(&down, &pass);
		problem_clear(&p);
		if (pass.claimed > 0 || time(NULL) - counted >= BACKLOG_EVERY) {
			count_backlog(db);
			counted = time(NULL);
		}
		/* a full batch: there may be more due at once (unless the way is
		 * closed: then the next look is after the poll interval) */
		if (rc == 0 && pass.claimed == MAILER_BATCH && !pass.deferred && !stopping)
			continue;
		pthread_mutex_lock(&lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)cfg->mail_poll_ms % 1000 * 1000000L;
		until.tv_sec += cfg->mail_poll_ms / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!stopping && !woken &&
		       pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
			;
		woken = false;
		bool stop = stopping;
		pthread_mutex_unlock(&lock);
		if (stop)
			break;
	}
	db_free(db);
	mysql_thread_end();
	return NULL;
}

int mailer_start(const struct config *cfg, char *err, unsigned long errsz)
{
	char host[48] = "host";
	if (!cfg->mail_sender)
		return 0;
	transport = mail_transport_new(cfg, err, errsz);
	if (transport == NULL)
		return -1;
	gethostname(host, sizeof host - 1);
	snprintf(claimer, sizeof claimer, "%.40s:%ld", host, (long)getpid());
	int rc = pthread_create(&thread, NULL, mailer_main, (void *)cfg);
	if (rc != 0) {
		snprintf(err, errsz, "cannot start the mail thread: %s", strerror(rc));
		mail_transport_free(transport);
		transport = NULL;
		return -1;
	}
	outbox_set_wake(mailer_wake);
	running = true;
	return 0;
}

void mailer_stop(void)
{
	if (!running)
		return;
	outbox_set_wake(NULL);
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	mail_transport_free(transport);
	transport = NULL;
	running = false;
}
