/* The baselines of scripts/bench: the least a libfcgi program can do per
 * request, so that twotier's numbers are read as ratios to them.
 *
 *   fcgi_baseline -l SOCKET -t THREADS                 answers {"status":"ok"}
 *   fcgi_baseline -l SOCKET -t THREADS -d DB_SOCKET -u USER -n DB
 *                                                      plus one prepared
 *       primary-key SELECT of a user per request (the id from ?id=), on a
 *       MariaDB connection of its own per thread; the password comes from
 *       TWOTIER_DB_PASSWORD.
 *
 * Each thread runs the plain FCGX_Accept_r loop: the way libfcgi is meant
 * to be used, nothing of twotier's. Stops on SIGTERM. */
#include <fcgiapp.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int listen_fd = -1;
static const char *db_socket, *db_user, *db_name, *db_password;

#define SELECT_USER "SELECT id, tenant_id, disabled, email FROM users WHERE id = ?"

struct conn {
	MYSQL *mysql;
	MYSQL_STMT *stmt;
};

static int conn_open(struct conn *c)
{
	c->mysql = mysql_init(NULL);
	if (mysql_real_connect(c->mysql, NULL, db_user, db_password, db_name, 0, db_socket, 0) ==
	    NULL) {
		fprintf(stderr, "fcgi_baseline: %s\n", mysql_error(c->mysql));
		return -1;
	}
	c->stmt = mysql_stmt_init(c->mysql);
	if (mysql_stmt_prepare(c->stmt, SELECT_USER, sizeof SELECT_USER - 1) != 0) {
		fprintf(stderr, "fcgi_baseline: %s\n", mysql_stmt_error(c->stmt));
		return -1;
	}
	return 0;
}

/* One SELECT of the user named by ?id=; writes a small JSON answer. */
static int select_user(struct conn *c, const char *query, char *out, size_t outsz)
{
	char id[40] = "", tenant[40] = "", disabled[8] = "", email[256] = "";
	unsigned long lens[4];
	my_bool nulls[4];
	MYSQL_BIND p, r[4];
	const char *q = query ? strstr(query, "id=") : NULL;
	if (q != NULL)
		snprintf(id, sizeof id, "%.36s", q + 3);
	memset(&p, 0, sizeof p);
	p.buffer_type = MYSQL_TYPE_STRING;
	p.buffer = id;
	p.buffer_length = strlen(id);
	char *bufs[4] = {id, tenant, disabled, email};
	size_t sizes[4] = {sizeof id, sizeof tenant, sizeof disabled, sizeof email};
	memset(r, 0, sizeof r);
	for (int i = 0; i < 4; i++) {
		r[i].buffer_type = MYSQL_TYPE_STRING;
		r[i].buffer = bufs[i];
		r[i].buffer_length = sizes[i];
		r[i].length = &lens[i];
		r[i].is_null = &nulls[i];
	}
	if (mysql_stmt_bind_param(c->stmt, &p) != 0 || mysql_stmt_execute(c->stmt) != 0 ||
	    mysql_stmt_bind_result(c->stmt, r) != 0 || mysql_stmt_store_result(c->stmt) != 0)
		return 500;
	int found = mysql_stmt_fetch(c->stmt) == 0;
	mysql_stmt_free_result(c->stmt);
	if (!found)
		return 404;
	snprintf(out, outsz,
		 "{\"userId\":\"%s\",\"tenantId\":\"%s\",\"disabled\":%s,\"email\":\"%s\"}", id,
		 tenant, strcmp(disabled, "0") ? "true" : "false", email);
	return 200;
}

static void *worker(void *unused)
{
	FCGX_Request fr;
	struct conn c = {NULL, NULL};
	char body[512], head[256];
	if (db_socket != NULL && conn_open(&c) != 0)
		exit(1);
	FCGX_InitRequest(&fr, listen_fd, 0);
	while (FCGX_Accept_r(&fr) >= 0) {
		int status = 200;
		if (db_socket != NULL)
			status = select_user(&c, FCGX_GetParam("QUERY_STRING", fr.envp), body,
					     sizeof body);
		else
			snprintf(body, sizeof body, "{\"status\":\"ok\"}");
		if (status != 200)
			snprintf(body, sizeof body, "{\"status\":%d}", status);
		size_t len = strlen(body);
		int n = snprintf(head, sizeof head,
				 "Status: %d\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\n\r\n",
				 status, len);
		FCGX_PutStr(head, n, fr.out);
		FCGX_PutStr(body, (int)len, fr.out);
		FCGX_Finish_r(&fr);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *listen_path = NULL;
	int threads = 4, opt;
	sigset_t sigs;
	while ((opt = getopt(argc, argv, "l:t:d:u:n:")) != -1) {
		switch (opt) {
		case 'l': listen_path = optarg; break;
		case 't': threads = atoi(optarg); break;
		case 'd': db_socket = optarg; break;
		case 'u': db_user = optarg; break;
		case 'n': db_name = optarg; break;
		default: goto usage;
		}
	}
	if (listen_path == NULL || threads < 1 || threads > 256 ||
	    (db_socket != NULL && (db_user == NULL || db_name == NULL)))
		goto usage;
	db_password = getenv("TWOTIER_DB_PASSWORD");
	if (mysql_library_init(0, NULL, NULL) != 0 || FCGX_Init() != 0)
		return 1;
	listen_fd = FCGX_OpenSocket(listen_path, 1024);
	if (listen_fd < 0) {
		perror("fcgi_baseline: listen");
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) != 0)
			return 1;
	}
	int sig;
	sigwait(&sigs, &sig);
	unlink(listen_path);
	_exit(0); /* workers block in accept; nothing to flush */
usage:
	fprintf(stderr,
		"usage: fcgi_baseline -l SOCKET [-t THREADS] [-d DB_SOCKET -u USER -n DB]\n");
	return 2;
}
