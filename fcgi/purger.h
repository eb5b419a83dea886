/* The service's periodic thread: purge_run (lib/domain/purge.h), then the
 * mails of admin access about to end (relationship_access_notices), every
 * purge_interval seconds on a database connection of its own. Every host
 * runs one; they need no coordination (a notice is taken once, by key). */
#ifndef TWOTIER_PURGER_H
#define TWOTIER_PURGER_H

struct config;

/* Starts the thread unless cfg->purge_interval is 0 (cfg borrowed for the
 * life of the thread). Call after the signal mask is set. Returns 0, or -1
 * with errno. */
int purger_start(const struct config *cfg);
/* Wakes the thread, waits for a pass in progress to end, and joins it. */
void purger_stop(void);

#endif
