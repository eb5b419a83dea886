/* The service's mail sender thread: delivers the outbox (lib/mail) on a
 * database connection of its own, polling every mail_poll_ms and woken at
 * once when a request of this process commits mail. Every host may run
 * one; SKIP LOCKED claims keep them from sending a mail twice. */
#ifndef TWOTIER_MAILER_H
#define TWOTIER_MAILER_H

struct config;

/* Starts the thread unless cfg->mail_sender is off (cfg borrowed for the
 * life of the thread). Call after the signal mask is set. Returns 0, or -1
 * with the reason in err. */
int mailer_start(const struct config *cfg, char *err, unsigned long errsz);
/* Asks the thread to stop: the mail being delivered finishes, the rest of
 * its claim is handed back to the outbox, then it is joined. */
void mailer_stop(void);

#endif
