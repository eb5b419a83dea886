#include "hooker.h"

#include "api/handlers.h"
#include "core/config.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/outbound.h"
#include "core/problem.h"
#include "db/db.h"
#include "domain/event.h"
#include "domain/webhook.h"
#include "http/json.h"
#include "mail/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <mysql.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HOOKER_MAX_THREADS 64
#define HOOKER_POLL_MS	   250
/* what is read of a receiver's answer: its status matters, not its body */
#define RESPONSE_CAP 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t threads[HOOKER_MAX_THREADS];
static int n_threads;
static bool woken;
static volatile bool stopping;
static char claimer[64];

void hooker_wake(void)
{
	pthread_mutex_lock(&lock);
	woken = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	size_t *read = arg;
	(void)data;
	*read += size * n;
	/* a receiver that answers without end is cut off */
	return *read > RESPONSE_CAP ? 0 : size * n;
}

/* Standard Webhooks: v1, base64 of HMAC-SHA256(key, "id.timestamp.body"),
 * the key the secret's base64 after "whsec_". */
static int sign(const char *secret, const char *id, long long ts, const char *body, char out[128])
{
	unsigned char key[64], mac[EVP_MAX_MD_SIZE];
	size_t keylen = 0;
	unsigned maclen = 0;
	if (strncmp(secret, "whsec_", 6) != 0 ||
	    sodium_base642bin(key, sizeof key, secret + 6, strlen(secret + 6), NULL, &keylen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	size_t blen = strlen(body), cap = blen + 96;
	char *msg = malloc(cap);
	int n = msg ? snprintf(msg, cap, "%s.%lld.", id, ts) : -1;
	bool ok = n > 0 && (size_t)n + blen < cap;
	if (ok) {
		memcpy(msg + n, body, blen);
		ok = HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
			  (size_t)n + blen, mac, &maclen) != NULL;
	}
	free(msg);
	sodium_memzero(key, sizeof key);
	if (!ok)
		return -1;
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, 125, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

/* The outcome of one post. */
struct post_result {
	bool ok;     /* 2xx */
	bool retry;  /* worth another attempt */
	long status; /* the receiver's, 0 when none */
	long duration_ms;
	char error[256];
};

/* Posts body to the claim's URL, at the address checked now. */
static void post(const struct config *cfg, const struct webhook_claim *c, const char *body,
		 struct post_result *r)
{
	struct outbound_url u;
	const char *why = NULL;
	char addr[64], pin[400], sig[128], old[128], h_id[80], h_ts[64], h_sig[300];
	size_t read = 0;
	long long ts = (long long)time(NULL);
	memset(r, 0, sizeof *r);
	r->retry = true;
	/* checked again here: a name may point elsewhere since registration */
	if (outbound_url_parse(c->url, cfg->webhook_allow_http, &u, &why) != 0 ||
	    outbound_resolve(u.host, cfg->webhook_resolve, cfg->webhook_allow_private,
			     outbound_getaddrinfo, addr, &why) != 0) {
		snprintf(r->error, sizeof r->error, "refused before connecting: the URL %s", why);
		return;
	}
	/* while a rotated secret's grace lasts, both sign (Standard Webhooks:
	 * signatures separated by a space, the receiver accepts either) */
	if (sign(c->secret, c->event_id, ts, body, sig) != 0 ||
	    (c->previous_secret[0] != '\0' &&
	     sign(c->previous_secret, c->event_id, ts, body, old) != 0)) {
		snprintf(r->error, sizeof r->error, "the endpoint's secret is malformed");
		r->retry = false;
		return;
	}
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		snprintf(r->error, sizeof r->error, "libcurl: cannot make a handle");
		return;
	}
	/* the connection goes to the address checked, never to another answer */
	snprintf(pin, sizeof pin, "%s:%u:%s%s%s", u.host, u.port, strchr(addr, ':') ? "[" : "",
		 addr, strchr(addr, ':') ? "]" : "");
	struct curl_slist *resolve = curl_slist_append(NULL, pin);
	snprintf(h_id, sizeof h_id, "webhook-id: %s", c->event_id);
	snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %lld", ts);
	snprintf(h_sig, sizeof h_sig, "webhook-signature: %s%s%s", sig,
		 c->previous_secret[0] != '\0' ? " " : "",
		 c->previous_secret[0] != '\0' ? old : "");
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	headers = curl_slist_append(headers, h_id);
	headers = curl_slist_append(headers, h_ts);
	headers = curl_slist_append(headers, h_sig);
	headers = curl_slist_append(headers, "User-Agent: twotier-webhooks/1");
	headers = curl_slist_append(headers, "Expect:");
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_URL, c->url);
	curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR,
			 cfg->webhook_allow_http ? "http,https" : "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
			 (long)(cfg->webhook_timeout < 5 ? cfg->webhook_timeout : 5));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)cfg->webhook_timeout);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &read);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CURLcode rc = curl_easy_perform(curl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->duration_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc == CURLE_WRITE_ERROR && r->status >= 200) /* the body cut off: the status stands */
		rc = CURLE_OK;
	if (rc != CURLE_OK)
		snprintf(r->error, sizeof r->error, "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (r->status >= 200 && r->status < 300)
		r->ok = true;
	else
		snprintf(r->error, sizeof r->error, "the receiver answered %ld%s", r->status,
			 r->status >= 300 && r->status < 400 ? " (a redirect is not followed)"
							     : "");
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
	curl_easy_cleanup(curl);
}

/* Claims, delivers and records one delivery: true when there was one. */
static bool deliver_one(struct db *db, const struct config *cfg)
{
	struct webhook_claim c;
	struct event_item e;
	struct problem p = {0};
	struct txn t;
	enum db_status st = DB_FAILED;
	char *body = NULL;
	char name[64], nonce[17];
	unsigned char raw[8];
	/* a name for this claim alone, as mail's (sender.c): two threads, or a
	 * process and its predecessor of the same host and pid, never take
	 * each other's outcome for their own */
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
	snprintf(name, sizeof name, "%.46s/%s", claimer, nonce);
	memset(&e, 0, sizeof e);
	/* read committed: the rows the claim reads and passes over (an
	 * endpoint's waiting deliveries behind its first) are not held */
	txn_open(&t, db, TXN_ATOMIC_READ_COMMITTED);
	do {
		st = webhook_delivery_claim(&t, name, config_webhook_lease(cfg), &c);
		if (st == DB_OK) {
			free(e.data);
			e.data = NULL;
			st = event_get(&t, c.event_id, &e);
		}
	} while (txn_end(&t, st == DB_OK, &p) == TXN_AGAIN);
	problem_clear(&p);
	if (st != DB_OK) {
		free(e.data);
		return false;
	}
	cJSON *doc = event_item_json(&e);
	size_t len;
	body = json_print(doc, &len);
	cJSON_Delete(doc);
	free(e.data);
	struct post_result r;
	fault_point("webhook.before_send");
	post(cfg, &c, body, &r);
	fault_point("webhook.after_send");
	free(body);
	double retry_in = -1;
	if (!r.ok && r.retry && c.attempts < cfg->webhook_max_attempts)
		retry_in = mail_backoff((int)c.attempts, cfg->mail_retry_base, cfg->mail_retry_max);
	struct log_field f[] = {LOG_S("webhook", c.webhook_id), LOG_S("event", c.event_id),
				LOG_I("attempt", c.attempts), LOG_I("status", r.status),
				LOG_S("error", r.error[0] ? r.error : NULL)};
	log_fields(r.ok ? LOG_INFO : LOG_WARN, "webhook delivery", f, 5);
	bool disabled = false;
	txn_open(&t, db, TXN_ATOMIC);
	do
		st = webhook_delivery_done(&t, &c, name, r.ok, retry_in, r.status, r.duration_ms,
					   r.ok ? NULL : r.error, &disabled);
	while (txn_end(&t, st == DB_OK, &p) == TXN_AGAIN);
	if (st == DB_OK && disabled)
		log_fields(LOG_WARN, "webhook disabled: its deliveries failed for days", f, 1);
	problem_clear(&p);
	sodium_memzero(c.secret, sizeof c.secret);
	sodium_memzero(c.previous_secret, sizeof c.previous_secret);
	return true;
}

static void *hooker_main(void *arg)
{
	const struct config *cfg = arg;
	struct db *db = db_new(cfg, 1);
	for (;;) {
		while (!stopping && deliver_one(db, cfg))
			;
		pthread_mutex_lock(&lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += HOOKER_POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
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

int hooker_start(const struct config *cfg, char *err, unsigned long errsz)
{
	char host[48] = "host";
	if (!cfg->mail_sender || cfg->webhook_threads == 0)
		return 0;
	gethostname(host, sizeof host - 1);
	snprintf(claimer, sizeof claimer, "%.40s:%ld", host, (long)getpid());
	for (int i = 0; i < cfg->webhook_threads && i < HOOKER_MAX_THREADS; i++) {
		int rc = pthread_create(&threads[i], NULL, hooker_main, (void *)cfg);
		if (rc != 0) {
			snprintf(err, errsz, "cannot start a webhook thread: %s", strerror(rc));
			hooker_stop();
			return -1;
		}
		n_threads++;
	}
	return 0;
}

void hooker_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	n_threads = 0;
}
