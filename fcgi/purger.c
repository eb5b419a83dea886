#include "purger.h"

#include "api/handlers.h"
#include "core/config.h"
#include "core/log.h"
#include "core/problem.h"
#include "db/db.h"
#include "domain/purge.h"
#include "domain/relationship.h"

#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, stopping;

static void purge_once(struct db *db, const struct config *cfg)
{
	struct purge_policy policy = {cfg->event_retention_days};
	struct purge_counts n;
	struct problem p = {0};
	struct txn t;
	int rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do
		rc = purge_run(&t, &policy, &n);
	while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
	if (rc != 0) {
		log_msg(LOG_WARN, "purge: %s; trying again later", p.detail);
	} else if (n.idempotency_keys + n.signin_failures + n.pending_signups + n.sessions +
		       n.password_resets + n.mfa_challenges + n.webhook_secrets +
		       n.webhook_deliveries + n.events >
		   0) {
		struct log_field f[] = {LOG_I("idempotencyKeys", (long long)n.idempotency_keys),
					LOG_I("signinFailures", (long long)n.signin_failures),
					LOG_I("pendingSignups", (long long)n.pending_signups),
					LOG_I("sessions", (long long)n.sessions),
					LOG_I("passwordResets", (long long)n.password_resets),
					LOG_I("mfaChallenges", (long long)n.mfa_challenges),
					LOG_I("webhookSecrets", (long long)n.webhook_secrets),
					LOG_I("webhookDeliveries", (long long)n.webhook_deliveries),
					LOG_I("events", (long long)n.events)};
		log_fields(LOG_INFO, "purged", f, 9);
	}
	problem_clear(&p);
}

/* The mails of admin access about to end, in a transaction of their own:
 * a notice and its mails commit together, or neither. */
static void notices_once(struct db *db)
{
	struct problem p = {0};
	struct txn t;
	unsigned long long sent = 0;
	int rc;
	txn_open(&t, db, TXN_ATOMIC);
	do
		rc = relationship_access_notices(&t, relationship_expiring_record, &sent);
	while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
	if (rc != 0) {
		log_msg(LOG_WARN, "access notices: %s; trying again later", p.detail);
	} else if (sent > 0) {
		struct log_field f[] = {LOG_I("relationships", (long long)sent)};
		log_fields(LOG_INFO, "admin access ending: mailed", f, 1);
	}
	problem_clear(&p);
}

/* The extension of admin access granted with autoExtend, in a
 * transaction of its own: an extension, its audit and its event commit
 * together, or none. */
static void extensions_once(struct db *db)
{
	struct problem p = {0};
	struct txn t;
	unsigned long long extended = 0;
	int rc;
	txn_open(&t, db, TXN_ATOMIC);
	do
		rc = relationship_access_extend(&t, relationship_extended_record, &extended);
	while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
	if (rc != 0) {
		log_msg(LOG_WARN, "access extensions: %s; trying again later", p.detail);
	} else if (extended > 0) {
		struct log_field f[] = {LOG_I("relationships", (long long)extended)};
		log_fields(LOG_INFO, "admin access extended", f, 1);
	}
	problem_clear(&p);
}

static void *purger_main(void *arg)
{
	const struct config *cfg = arg;
	struct db *db = db_new(cfg, 1);
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += cfg->purge_interval;
		while (!stopping && pthread_cond_timedwait(&wake, &lock, &until) != ETIMEDOUT)
			;
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);
		purge_once(db, cfg);
		extensions_once(db);
		notices_once(db);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	db_free(db);
	mysql_thread_end();
	return NULL;
}

int purger_start(const struct config *cfg)
{
	int rc;
	if (cfg->purge_interval == 0)
		return 0;
	rc = pthread_create(&thread, NULL, purger_main, (void *)cfg);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	running = true;
	return 0;
}

void purger_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = false;
}
