#include "core/metrics.h"

#include "core/xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				 0.05,	 0.1,	0.25,	0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])
#define N_STATUS  500 /* 100..599 */

static const char *const *route_labels;
static size_t n_routes;
static uint64_t requests[METRICS_MAX_ROUTES + 1][N_STATUS];
static uint64_t bucket_counts[N_BUCKETS + 1]; /* last = +Inf */
static uint64_t duration_us_sum;
static uint64_t mail_sent, mail_retry, mail_failed, mail_deferred, mail_pending_now,
    mail_failed_now;
static uint64_t db_reconnects, db_retries, db_errors, password_busy, connections;

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void metrics_init(const char *const *labels, size_t n)
{
	route_labels = labels;
	n_routes = n < METRICS_MAX_ROUTES ? n : METRICS_MAX_ROUTES;
}

void metrics_request(size_t route_index, int status, double seconds)
{
	size_t r = route_index < n_routes ? route_index : n_routes;
	if (status >= 100 && status <= 599)
		add(&requests[r][status - 100], 1);
	size_t b = 0;
	while (b < N_BUCKETS && seconds > buckets[b])
		b++;
	add(&bucket_counts[b], 1);
	add(&duration_us_sum, (uint64_t)(seconds * 1e6));
}

void metrics_db_reconnect(void)
{
	add(&db_reconnects, 1);
}

void metrics_db_retry(void)
{
	add(&db_retries, 1);
}

void metrics_db_error(void)
{
	add(&db_errors, 1);
}

void metrics_password_busy(void)
{
	add(&password_busy, 1);
}

void metrics_connections(long open)
{
	__atomic_store_n(&connections, (uint64_t)(open > 0 ? open : 0), __ATOMIC_RELAXED);
}

void metrics_mail_delivery(const char *result)
{
	if (strcmp(result, "sent") == 0)
		add(&mail_sent, 1);
	else if (strcmp(result, "retry") == 0)
		add(&mail_retry, 1);
	else if (strcmp(result, "deferred") == 0)
		add(&mail_deferred, 1);
	else
		add(&mail_failed, 1);
}

void metrics_mail_backlog(long pending, long failed)
{
	__atomic_store_n(&mail_pending_now, (uint64_t)(pending > 0 ? pending : 0),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&mail_failed_now, (uint64_t)(failed > 0 ? failed : 0), __ATOMIC_RELAXED);
}

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
}

char *metrics_render(size_t *len)
{
	struct buf b = {xmalloc(8192), 0, 8192};
	b.s[0] = '\0';
	put(&b, "# HELP twotier_http_requests_total Requests by route and status.\n"
		"# TYPE twotier_http_requests_total counter\n");
	for (size_t r = 0; r <= n_routes; r++) {
		for (int s = 0; s < N_STATUS; s++) {
			uint64_t v = get(&requests[r][s]);
			if (v == 0)
				continue;
			if (r < n_routes)
				put(&b,
				    "twotier_http_requests_total{route=\"%s\",status=\"%d\"} "
				    "%llu\n",
				    route_labels[r], s + 100, (unsigned long long)v);
			else
				put(&b,
				    "twotier_http_requests_total{route=\"unmatched\",status=\"%d\"}"
				    " %llu\n",
				    s + 100, (unsigned long long)v);
		}
	}
	put(&b, "# HELP twotier_http_request_duration_seconds Time from request to response.\n"
		"# TYPE twotier_http_request_duration_seconds histogram\n");
	uint64_t cumulative = 0;
	for (size_t i = 0; i < N_BUCKETS; i++) {
		cumulative += get(&bucket_counts[i]);
		put(&b, "twotier_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
		    buckets[i], (unsigned long long)cumulative);
	}
	cumulative += get(&bucket_counts[N_BUCKETS]);
	put(&b, "twotier_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)cumulative);
	put(&b, "twotier_http_request_duration_seconds_sum %.6f\n",
	    (double)get(&duration_us_sum) / 1e6);
	put(&b, "twotier_http_request_duration_seconds_count %llu\n",
	    (unsigned long long)cumulative);
	put(&b,
	    "# HELP twotier_db_reconnects_total Database connections re-opened.\n"
	    "# TYPE twotier_db_reconnects_total counter\n"
	    "twotier_db_reconnects_total %llu\n"
	    "# HELP twotier_db_retries_total Transactions retried after a deadlock or lock wait "
	    "timeout.\n"
	    "# TYPE twotier_db_retries_total counter\n"
	    "twotier_db_retries_total %llu\n"
	    "# HELP twotier_db_errors_total Database errors answered as 5xx.\n"
	    "# TYPE twotier_db_errors_total counter\n"
	    "twotier_db_errors_total %llu\n"
	    "# HELP twotier_password_busy_total Requests refused because every password-hashing "
	    "slot was in use.\n"
	    "# TYPE twotier_password_busy_total counter\n"
	    "twotier_password_busy_total %llu\n"
	    "# HELP twotier_fcgi_connections FastCGI connections open, kept ones included.\n"
	    "# TYPE twotier_fcgi_connections gauge\n"
	    "twotier_fcgi_connections %llu\n",
	    (unsigned long long)get(&db_reconnects), (unsigned long long)get(&db_retries),
	    (unsigned long long)get(&db_errors), (unsigned long long)get(&password_busy),
	    (unsigned long long)get(&connections));
	put(&b,
	    "# HELP twotier_mail_deliveries_total Mail delivery attempts by outcome.\n"
	    "# TYPE twotier_mail_deliveries_total counter\n"
	    "twotier_mail_deliveries_total{result=\"sent\"} %llu\n"
	    "twotier_mail_deliveries_total{result=\"retry\"} %llu\n"
	    "twotier_mail_deliveries_total{result=\"failed\"} %llu\n"
	    "twotier_mail_deliveries_total{result=\"deferred\"} %llu\n"
	    "# HELP twotier_mail_outbox Mails in the outbox by status, as the sender last "
	    "counted.\n"
	    "# TYPE twotier_mail_outbox gauge\n"
	    "twotier_mail_outbox{status=\"pending\"} %llu\n"
	    "twotier_mail_outbox{status=\"failed\"} %llu\n",
	    (unsigned long long)get(&mail_sent), (unsigned long long)get(&mail_retry),
	    (unsigned long long)get(&mail_failed), (unsigned long long)get(&mail_deferred),
	    (unsigned long long)get(&mail_pending_now), (unsigned long long)get(&mail_failed_now));
	if (len != NULL)
		*len = b.len;
	return b.s;
}
