/* twotier-fcgi: the FastCGI adapter. Reads the configuration, opens the
 * socket, runs worker threads that turn each FCGX_Request into a struct
 * request, call app_handle and write the response. On SIGHUP it reads the
 * configuration and the keys again and puts them in force for the next
 * requests (or keeps those in force when they are bad); on SIGTERM it
 * stops accepting, lets requests in flight finish, and exits. */
#include "api/app.h"
#include "api/settings.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"
#include "dispatch.h"
#include "listener.h"
#include "mail/message.h"
#include "mail/template.h"
#include "hooker.h"
#include "mailer.h"
#include "notify.h"
#include "purger.h"
#include "db/db.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* the configuration at start: what only a restart changes (the socket,
 * threads, database, mail sender) is read from here */
static struct config cfg;
static struct settings_slot settings;
static struct app app = {.settings = &settings};
static struct listener listener = {.fd = -1};
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int threads_done;
static char **route_labels; /* "GET /v1/me", for the metrics */

/* Reads the request's input to its end: a body we will not keep, so that
 * nginx can finish sending it and read our answer, and the record that
 * ends the input, so that the next request on a kept connection starts
 * where libfcgi expects a request to start. */
static void drain(FCGX_Stream *in)
{
	char sink[8192];
	while (FCGX_GetStr(sink, sizeof sink, in) > 0)
		;
}

/* Fills req from the FastCGI params; *body is the owned body buffer and
 * *uri_path the owned path (req->path points into it). */
static void request_read(FCGX_Request *fr, struct request *req, char **body, char **uri_path)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
	static const char empty[] = "";
	char *path;

	memset(req, 0, sizeof *req);
	*body = NULL;
	req->method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	path = *uri_path = xstrdup(uri ? uri : "");
	path[strcspn(path, "?#")] = '\0';
	req->path = path;
	req->base = cfg.base_path;
	if (cfg.base_path[0] != '\0') {
		size_t n = strlen(cfg.base_path);
		if (strncmp(path, cfg.base_path, n) == 0 && (path[n] == '/' || path[n] == '\0'))
			req->path = path[n] == '/' ? path + n : "/";
		else
			req->outside_mount = true;
	}
	req->query = FCGX_GetParam("QUERY_STRING", fr->envp);
	if (req->query == NULL)
		req->query = empty;
	req->content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
	req->authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
	req->origin = FCGX_GetParam("HTTP_ORIGIN", fr->envp);
	req->if_match = FCGX_GetParam("HTTP_IF_MATCH", fr->envp);
	req->idempotency_key = FCGX_GetParam("HTTP_IDEMPOTENCY_KEY", fr->envp);
	req->cors_request_method = FCGX_GetParam("HTTP_ACCESS_CONTROL_REQUEST_METHOD", fr->envp);
	req->remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
	req->forwarded_for = FCGX_GetParam("HTTP_X_FORWARDED_FOR", fr->envp);
	req->on_behalf_of = FCGX_GetParam("HTTP_ON_BEHALF_OF_TENANT", fr->envp);
	req->cookie = FCGX_GetParam("HTTP_COOKIE", fr->envp);
	req->user_agent = FCGX_GetParam("HTTP_USER_AGENT", fr->envp);
	req->requested_with = FCGX_GetParam("HTTP_X_REQUESTED_WITH", fr->envp);
	request_id_choose(req, FCGX_GetParam("HTTP_X_REQUEST_ID", fr->envp),
			  FCGX_GetParam("REQUEST_ID", fr->envp));

	req->content_length = -1;
	if (cl != NULL && *cl != '\0') {
		char *end;
		errno = 0;
		long long n = strtoll(cl, &end, 10);
		req->content_length = (errno || *end != '\0' || n < 0) ? cfg.body_limit + 1LL : n;
	}
	if (req->content_length > 0 && req->content_length <= cfg.body_limit) {
		*body = xmalloc((size_t)req->content_length + 1);
		int got = FCGX_GetStr(*body, (int)req->content_length, fr->in);
		if (got < 0)
			got = 0;
		(*body)[got] = '\0';
		req->body = *body;
		req->body_len = (size_t)got;
	}
	drain(fr->in);
}

/* libfcgi's own printf knows no %zu; the head is formatted here. */
static void response_write(FCGX_Request *fr, const struct response *res)
{
	char head[4096];
	size_t n = 0;
	int w =
	    snprintf(head, sizeof head, "Status: %d %s\r\n", res->status, http_reason(res->status));
	n += (size_t)w;
	if (res->content_type != NULL && n < sizeof head)
		n += (size_t)snprintf(head + n, sizeof head - n, "Content-Type: %s\r\n",
				      res->content_type);
	for (size_t i = 0; i < res->n_headers && n < sizeof head; i++)
		n += (size_t)snprintf(head + n, sizeof head - n, "%s: %s\r\n", res->headers[i].name,
				      res->headers[i].value);
	if (n < sizeof head)
		n += (size_t)snprintf(head + n, sizeof head - n, "Content-Length: %zu\r\n\r\n",
				      res->body_len);
	if (n >= sizeof head) /* headers are ours and small; never happens */
		abort();
	FCGX_PutStr(head, (int)n, fr->out);
	if (res->body_len > 0)
		FCGX_PutStr(res->body, (int)res->body_len, fr->out);
}

/* Serves requests from the dispatcher until it stops. Each connection is
 * lent to libfcgi for one request: its descriptor is put in the request
 * with keepConnection set, so that FCGX_Accept_r reads a request from it
 * instead of accepting, and taken back once the request is finished. */
static void *worker_main(void *unused)
{
	FCGX_Request fr;
	struct worker w = {db_new(&cfg, 1)};
	char err[512];
	struct dispatch_conn conn;
	/* Connect before the first request so that it does not pay for the
	 * connection and the statements; a database that is down now is
	 * connected to later, by the first request that needs it. */
	if (db_connect(w.db, err, sizeof err) != DB_OK)
		log_msg(LOG_WARN, "worker starts without the database: %s", err);
	FCGX_InitRequest(&fr, dispatch_idle_listener(), 0);
	while (dispatch_next(&conn) == 0) {
		fr.ipcFd = conn.fd;
		fr.keepConnection = 1; /* or FCGX_Accept_r closes it before reading */
		if (FCGX_Accept_r(&fr) < 0) {
			/* nginx closed it, or sent no valid request: libfcgi closed it */
			dispatch_done(&conn, false);
			continue;
		}
		struct request req;
		struct response res;
		char *body, *uri_path;
		memset(&res, 0, sizeof res);
		request_read(&fr, &req, &body, &uri_path);
		app_handle(&app, &w, &req, &res);
		response_write(&fr, &res);
		response_clear(&res);
		free(body);
		free(uri_path);
		FCGX_Finish_r(&fr);
		/* FCGX_Finish_r keeps the connection when nginx asked it to */
		bool kept = fr.ipcFd >= 0;
		fr.ipcFd = -1;
		dispatch_done(&conn, kept);
	}
	FCGX_Free(&fr, 1);
	db_free(w.db);
	mysql_thread_end();
	pthread_mutex_lock(&done_lock);
	threads_done++;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
	return NULL;
}

/* Checks the database at start: a statement that does not prepare stops
 * the start naming it, and so do refused credentials or an unknown
 * database; an unreachable server does not (readyz says 503 and workers
 * connect when it comes). */
static int startup_db_check(void)
{
	char err[512];
	struct db *db = db_new(&cfg, 1);
	enum db_status rc = db_connect(db, err, sizeof err);
	db_free(db);
	mysql_thread_end();
	if (rc == DB_OK)
		return 0;
	if (rc == DB_SCHEMA) {
		log_msg(LOG_ERROR, "the database schema does not match this build: %s", err);
		return -1;
	}
	if (rc == DB_ERROR) { /* refused, not absent: wrong credentials or database */
		log_msg(LOG_ERROR, "%s", err);
		return -1;
	}
	log_msg(LOG_WARN, "starting without the database: %s", err);
	return 0;
}

/* SIGHUP: the next requests get the settings read now; those in flight
 * end with the ones they started with. */
static void reload(const char *conf)
{
	char err[512];
	notify_systemd("RELOADING=1");
	struct settings *next = settings_load(conf, &cfg, err, sizeof err);
	if (next == NULL) {
		log_msg(LOG_ERROR, "reload refused, the settings in force stay: %s", err);
	} else {
		log_set_level(next->cfg.log_level);
		log_msg(LOG_INFO, "reloaded %s: tokens signed with key %s, %zu more verify", conf,
			next->keys[0]->kid, next->n_own - 1);
		settings_replace(&settings, next);
	}
	notify_systemd("READY=1");
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	char err[512];
	int opt, rc = 1;
	pthread_t *threads = NULL;
	sigset_t sigs;

	while ((opt = getopt(argc, argv, "c:")) != -1) {
		if (opt == 'c')
			conf = optarg;
		else
			goto usage;
	}
	if (conf == NULL || optind != argc)
		goto usage;
	struct settings *first = settings_load(conf, NULL, err, sizeof err);
	if (first == NULL) {
		fprintf(stderr, "twotier-fcgi: %s\n", err);
		return 2;
	}
	cfg = first->cfg;
	settings_slot_open(&settings, first);
	log_set_level(cfg.log_level); /* config_load accepts only known levels */
	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0 || FCGX_Init() != 0 ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_msg(LOG_ERROR, "library initialisation failed");
		goto out;
	}
	xalloc_init_cjson();
	app.routes = app_routes;
	app.n_routes = app_n_routes;
	char from[CONFIG_STR];
	/* the sender renews a lease once half of it is gone: the other half
	 * must outlast a delivery */
	if (cfg.mail_sender && cfg.mail_lease < 2 * cfg.smtp_timeout) {
		log_msg(LOG_ERROR,
			"%s: mail_lease (%d s) must be at least twice smtp_timeout (%d s)", conf,
			cfg.mail_lease, cfg.smtp_timeout);
		goto out;
	}
	/* a webhook is posted within webhook_timeout: the rest of the lease
	 * covers the address check and the transactions around the post */
	if (cfg.webhook_lease != 0 && cfg.webhook_lease < 2 * cfg.webhook_timeout) {
		log_msg(LOG_ERROR,
			"%s: webhook_lease (%d s) must be at least twice webhook_timeout (%d s)",
			conf, cfg.webhook_lease, cfg.webhook_timeout);
		goto out;
	}
	if (mail_address_of(cfg.mail_from, from, sizeof from) != 0) {
		log_msg(LOG_ERROR, "%s: mail_from: no address in '%s'", conf, cfg.mail_from);
		goto out;
	}
	if (mail_templates_load(cfg.mail_templates, err, sizeof err) != 0) {
		log_msg(LOG_ERROR, "%s: mail_templates: %s", conf, err);
		goto out;
	}
	if (password_hash("no user has this password", app.dummy_hash) != 0) {
		log_msg(LOG_ERROR, "cannot compute a password hash");
		goto out;
	}
	route_labels = xcalloc(app_n_routes, sizeof *route_labels);
	for (size_t i = 0; i < app_n_routes; i++)
		route_labels[i] = xasprintf("%s %s", app_routes[i].method, app_routes[i].pattern);
	metrics_init((const char *const *)route_labels, app_n_routes);
	if (startup_db_check() != 0)
		goto out;
	if (listener_open(&listener, &cfg, err, sizeof err) != 0) {
		log_msg(LOG_ERROR, "%s", err);
		goto out;
	}
	if (dispatch_open(listener.fd, cfg.max_connections, listener.tcp) != 0) {
		log_msg(LOG_ERROR, "cannot watch the FastCGI socket: %s", strerror(errno));
		goto out;
	}

	/* Workers inherit a mask without SIGTERM/SIGINT; this thread waits
	 * for them with sigwait, so no handler runs inside libfcgi. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Password hashes get half the threads by default, so that a flood of
	 * sign-ins always leaves the other half to the rest of the API. */
	if (password_pool_start(cfg.hash_concurrency > 0
				    ? cfg.hash_concurrency
				    : (cfg.threads > 1 ? cfg.threads / 2 : 1)) != 0) {
		log_msg(LOG_ERROR, "cannot start the password threads: %s", strerror(errno));
		goto out;
	}
	if (purger_start(&cfg) != 0) {
		log_msg(LOG_ERROR, "cannot start the purge thread: %s", strerror(errno));
		goto out;
	}
	if (mailer_start(&cfg, err, sizeof err) != 0) {
		log_msg(LOG_ERROR, "cannot start the mail sender: %s", err);
		goto out;
	}
	if (hooker_start(&cfg, err, sizeof err) != 0) {
		log_msg(LOG_ERROR, "cannot start the webhook senders: %s", err);
		goto out;
	}
	threads = xcalloc((size_t)cfg.threads, sizeof *threads);
	for (int i = 0; i < cfg.threads; i++) {
		if (pthread_create(&threads[i], NULL, worker_main, NULL) != 0) {
			log_msg(LOG_ERROR, "cannot start worker thread %d", i);
			abort();
		}
	}
	log_msg(LOG_INFO, "twotier-fcgi listening on %s with %d threads", listener.what,
		cfg.threads);
	notify_systemd("READY=1");

	int sig = 0;
	for (sigwait(&sigs, &sig); sig == SIGHUP; sigwait(&sigs, &sig))
		reload(conf);
	log_msg(LOG_INFO, "signal %d: stopping; finishing requests in flight", sig);
	notify_systemd("STOPPING=1");
	/* Stops accepting and wakes every idle worker; requests being handled
	 * run to their end on their own connections. */
	dispatch_stop();

	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += cfg.shutdown_timeout;
	pthread_mutex_lock(&done_lock);
	while (threads_done < cfg.threads) {
		if (pthread_cond_timedwait(&done_cond, &done_lock, &deadline) != 0)
			break;
	}
	int all_done = threads_done == cfg.threads;
	pthread_mutex_unlock(&done_lock);
	if (!all_done) {
		log_msg(LOG_WARN, "requests still running after %d s; exiting anyway",
			cfg.shutdown_timeout);
		_exit(1);
	}
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(threads[i], NULL);
	dispatch_close();
	listener.fd = -1;
	listener_unlink(&listener);
	log_msg(LOG_INFO, "stopped");
	rc = 0;
out:
	hooker_stop();
	mailer_stop();
	purger_stop();
	password_pool_stop();
	if (listener.fd >= 0) {
		close(listener.fd);
		listener_unlink(&listener);
	}
	free(threads);
	for (size_t i = 0; route_labels != NULL && i < app_n_routes; i++)
		free(route_labels[i]);
	free(route_labels);
	settings_slot_close(&settings);
	mail_templates_free();
	curl_global_cleanup();
	mysql_library_end();
	return rc;
usage:
	fprintf(stderr, "usage: twotier-fcgi -c CONFIG\n");
	return 2;
}
