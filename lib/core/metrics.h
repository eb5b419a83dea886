/* Process-wide counters for GET /metrics, updated with atomics so that
 * worker threads never take a lock on the request path. */
#ifndef TWOTIER_METRICS_H
#define TWOTIER_METRICS_H

#include <stddef.h>

/* labels[i] ("GET /v1/users/{id}", borrowed for the life of the process)
 * names route index i; index n_routes is "unmatched". Call once before
 * threads start. Routes above METRICS_MAX_ROUTES are counted as unmatched. */
#define METRICS_MAX_ROUTES 96
void metrics_init(const char *const *labels, size_t n_routes);

void metrics_request(size_t route_index, int status, double seconds);
void metrics_db_reconnect(void);
void metrics_db_retry(void);
void metrics_db_error(void);
/* A request refused because every password-hashing slot was in use. */
void metrics_password_busy(void);
/* The FastCGI connections open now (kept ones included). */
void metrics_connections(long open);

/* A mail delivery attempt's outcome: "sent", "retry" or "failed". */
void metrics_mail_delivery(const char *result);
/* The outbox's backlog as a sender last counted it. */
void metrics_mail_backlog(long pending, long failed);

/* Renders Prometheus text exposition; caller frees. */
char *metrics_render(size_t *len);

#endif
