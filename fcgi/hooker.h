/* The webhook senders: webhook_threads threads, each on a database
 * connection of its own, claiming one due delivery at a time
 * (webhook_delivery_claim: an endpoint's deliveries in order, one at a
 * time, so that a slow endpoint holds one thread and never another
 * tenant's), posting it signed the Standard Webhooks way with libcurl to
 * the address checked before the connection (core/outbound.h), and
 * recording the outcome. Every host runs them; a claim's lease lets
 * another host take over a delivery whose sender died. */
#ifndef TWOTIER_HOOKER_H
#define TWOTIER_HOOKER_H

struct config;

/* Starts the threads (cfg borrowed for their life; none when
 * webhook_threads is 0 or the mail sender is off). Returns 0, or -1 with
 * err. */
int hooker_start(const struct config *cfg, char *err, unsigned long errsz);
/* Wakes the threads: deliveries may be due (after the sequencer). */
void hooker_wake(void);
/* Stops them, each after the delivery it is making. */
void hooker_stop(void);

#endif
