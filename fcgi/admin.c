/* twotier-admin: the operator's tool. `migrate` applies the numbered SQL
 * files of sql_dir in order, recording each in schema_version, and checks
 * afterwards that every statement of this build prepares against the
 * schema. `create-operator` adds an operator user to the platform tenant. */
#include "auth/password.h"
#include "core/config.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "db/schema_version.h"
#include "domain/purge.h"
#include "domain/tenant.h"
#include "mail/sender.h"
#include "mail/template.h"
#include "mail/transport.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

DB_STATEMENT_ONCE(version_table,
		  "CREATE TABLE IF NOT EXISTS schema_version ("
		  " version INT UNSIGNED NOT NULL PRIMARY KEY,"
		  " name VARCHAR(255) NOT NULL,"
		  " applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
		  DB_NO_PARAMS, DB_NO_ROW);

struct version_row {
	long long version;
};
#define VERSION_FIELDS(F, T) F(T, version, DB_INT)
DB_STATEMENT_ONCE(versions_applied, "SELECT version FROM schema_version ORDER BY version",
		  DB_NO_PARAMS, DB_ROW(struct version_row, VERSION_FIELDS));
DB_STATEMENT_ONCE(version_record,
		  "INSERT INTO schema_version (version, name, applied_at) "
		  "VALUES (?, ?, UTC_TIMESTAMP(6))",
		  DB_PARAMS(DB_INT, DB_TEXT), DB_NO_ROW);
/* Two migrate runs at once would apply a file twice: the one that holds
 * the lock's row migrates. A row, not GET_LOCK, whose lock stays on the
 * Galera node that took it: two runs on two nodes would both get it. A
 * lease, so that a run killed while it held the lock does not hold it
 * forever. */
DB_STATEMENT_ONCE(migrate_lock_table,
		  "CREATE TABLE IF NOT EXISTS schema_migration_lock ("
		  " id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
		  " holder VARCHAR(100) NOT NULL,"
		  " expires_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
		  DB_NO_PARAMS, DB_NO_ROW);
DB_STATEMENT_ONCE(migrate_lock_expired,
		  "DELETE FROM schema_migration_lock WHERE expires_at < UTC_TIMESTAMP(6)",
		  DB_NO_PARAMS, DB_NO_ROW);
DB_STATEMENT_ONCE(migrate_lock_take,
		  "INSERT INTO schema_migration_lock (id, holder, expires_at) "
		  "VALUES (1, ?, UTC_TIMESTAMP(6) + INTERVAL 15 MINUTE)",
		  DB_PARAMS(DB_TEXT), DB_NO_ROW);
DB_STATEMENT_ONCE(migrate_lock_give,
		  "DELETE FROM schema_migration_lock WHERE id = 1 AND holder = ?",
		  DB_PARAMS(DB_TEXT), DB_NO_ROW);
#define MIGRATE_LOCK_WAIT 60 /* seconds a run waits for another to end */

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* NNNN_name.sql */
static int migration_file(const struct dirent *d)
{
	const char *n = d->d_name;
	size_t len = strlen(n);
	for (int i = 0; i < 4; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	return len > 9 && n[4] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 65536, n = 0, got;
	char *text = xmalloc(cap);
	while ((got = fread(text + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap)
			text = xrealloc(text, cap *= 2);
	}
	fclose(f);
	text[n] = '\0';
	*len = n;
	return text;
}

/* Takes the migration lock for holder, waiting while another run holds
 * it. Returns 0, or -1 when it is still held after MIGRATE_LOCK_WAIT. */
static int migrate_lock(struct db *db, const char *holder)
{
	struct db_arg args[] = {db_text(holder)};
	for (int tries = 0; tries < MIGRATE_LOCK_WAIT * 4; tries++) {
		enum db_status st = DB_OK;
		if (db_exec_once(db, &migrate_lock_table, NULL, NULL, NULL) != DB_OK ||
		    db_exec_once(db, &migrate_lock_expired, NULL, NULL, NULL) != DB_OK)
			return -1;
		/* taken elsewhere: a duplicate, or on Galera a certification conflict */
		st = db_exec_once(db, &migrate_lock_take, args, NULL, NULL);
		if (st == DB_OK)
			return 0;
		if (st != DB_DUPLICATE && st != DB_RETRY)
			return -1;
		usleep(250 * 1000);
	}
	return -1;
}

static int migrate(const struct config *cfg)
{
	struct dirent **files = NULL;
	struct version_row *applied = NULL;
	size_t n_applied = 0;
	char err[1024], holder[100], host[64] = "";
	int n = -1, rc = 1, count = 0;
	bool locked = false;
	struct db *db = db_new(cfg, false), *check = NULL;

	gethostname(host, sizeof host - 1);
	snprintf(holder, sizeof holder, "%s:%ld", host, (long)getpid());
	if (db_connect(db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		goto out;
	}
	if (migrate_lock(db, holder) != 0) {
		fprintf(stderr, "twotier-admin: another migration holds the lock "
				"(schema_migration_lock)\n");
		goto out;
	}
	locked = true;
	if (db_exec_once(db, &version_table, NULL, NULL, NULL) != DB_OK ||
	    db_exec_once(db, &versions_applied, NULL, (void **)&applied, &n_applied) != DB_OK) {
		fprintf(stderr, "twotier-admin: cannot read schema_version\n");
		goto out;
	}
	n = scandir(cfg->sql_dir, &files, migration_file, by_name);
	if (n < 0) {
		fprintf(stderr, "twotier-admin: %s: %s\n", cfg->sql_dir, strerror(errno));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *name = files[i]->d_name;
		long version = strtol(name, NULL, 10);
		int done = 0;
		for (size_t r = 0; r < n_applied; r++)
			if (applied[r].version == version)
				done = 1;
		if (done)
			continue;
		char *path = xasprintf("%s/%s", cfg->sql_dir, name);
		size_t len;
		char *sql = read_file(path, &len);
		free(path);
		if (sql == NULL) {
			fprintf(stderr, "twotier-admin: %s: %s\n", name, strerror(errno));
			goto out;
		}
		enum db_status st = db_script(db, sql, len, err, sizeof err);
		free(sql);
		if (st != DB_OK) {
			fprintf(stderr, "twotier-admin: %s failed: %s\n", name, err);
			goto out;
		}
		struct db_arg args[] = {db_int(version), db_text(name)};
		if (db_exec_once(db, &version_record, args, NULL, NULL) != DB_OK) {
			fprintf(stderr, "twotier-admin: cannot record %s\n", name);
			goto out;
		}
		printf("applied %s\n", name);
		count++;
	}
	/* The schema must now take every statement of this build. */
	check = db_new(cfg, true);
	if (db_connect(check, err, sizeof err) != DB_OK) {
		fprintf(stderr, "twotier-admin: after migrating: %s\n", err);
		goto out;
	}
	printf("schema at version %d (%d migration%s applied)\n", TWOTIER_SCHEMA_VERSION, count,
	       count == 1 ? "" : "s");
	rc = 0;
out:
	if (locked) {
		struct db_arg args[] = {db_text(holder)};
		db_exec_once(db, &migrate_lock_give, args, NULL, NULL);
	}
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	free(applied);
	db_free(check);
	db_free(db);
	return rc;
}

/* The password comes from a file or standard input: never argv, which
 * other users can read from /proc. */
static int read_password(const char *file, char *buf, size_t bufsz)
{
	FILE *f = file ? fopen(file, "r") : stdin;
	if (f == NULL)
		return -1;
	char *line = fgets(buf, (int)bufsz, f);
	if (file)
		fclose(f);
	if (line == NULL)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

struct tenant_args {
	const char *domain, *name, *email;
};

/* Reads, checks and hashes the password of a new account. */
static int new_password(const char *file, char hash[PASSWORD_HASH_MAX])
{
	char password[PASSWORD_MAX + 2];
	int rc = -1;
	if (read_password(file, password, sizeof password) != 0)
		fprintf(stderr, "twotier-admin: no password on %s\n",
			file ? file : "standard input");
	else if (strlen(password) < PASSWORD_MIN || strlen(password) > PASSWORD_MAX)
		fprintf(stderr, "twotier-admin: the password must be %d to %d characters\n",
			PASSWORD_MIN, PASSWORD_MAX);
	else if (password_hash(password, hash) != 0)
		fprintf(stderr, "twotier-admin: cannot hash the password\n");
	else
		rc = 0;
	sodium_memzero(password, sizeof password);
	return rc;
}

/* A verified work account made directly, as the one who runs the service
 * vouches for its domain: the demo account of scripts/up, an account
 * moved from elsewhere. An existing domain or address changes nothing. */
static int create_tenant(const struct config *cfg, const struct tenant_args *t, const char *file)
{
	char hash[PASSWORD_HASH_MAX], err[512], email[256];
	struct problem p = {0};
	struct tenant_created out;
	struct db *db = db_new(cfg, 1);
	int rc = 1;
	if (t->domain == NULL || !valid_hostname(t->domain) || t->name == NULL ||
	    !valid_text(t->name, 1, 200) || t->email == NULL || !email_canonical(t->email, email) ||
	    strcmp(strrchr(email, '@') + 1, t->domain) != 0) {
		fprintf(stderr, "twotier-admin: create-tenant needs --domain DOMAIN --name NAME "
				"--email ADDRESS (at DOMAIN)\n");
		goto out;
	}
	if (new_password(file, hash) != 0)
		goto out;
	if (db_connect(db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		goto out;
	}
	struct tenant_signup in = {t->domain, t->name, email,		hash,
				   "Global",  "Admin", "twotier-admin", "local"};
	struct txn txn;
	enum txn_outcome o;
	int created;
	txn_open(&txn, db, TXN_ATOMIC);
	do {
		problem_clear(&p);
		created = tenant_create(&txn, &in, &out, &p);
	} while ((o = txn_end(&txn, created == 0, &p)) == TXN_AGAIN);
	if (o == TXN_COMMITTED) {
		printf("work account %s created: tenant %s, global admin %s\n", t->domain,
		       out.tenant_id, email);
		rc = 0;
	} else if (p.kind == PROBLEM_CONFLICT) {
		printf("%s; nothing changed\n", p.detail);
		rc = 0;
	} else {
		fprintf(stderr, "twotier-admin: %s\n", p.detail);
	}
out:
	sodium_memzero(hash, sizeof hash);
	problem_clear(&p);
	db_free(db);
	return rc;
}

static int create_operator(const struct config *cfg, const char *given, const char *file)
{
	char hash[PASSWORD_HASH_MAX], err[512], email[256];
	struct problem p = {0};
	struct db *db = db_new(cfg, 1);
	int rc = 1;
	hash[0] = '\0';
	if (given == NULL || !email_canonical(given, email)) {
		fprintf(stderr, "twotier-admin: create-operator needs --email ADDRESS\n");
		goto out;
	}
	if (new_password(file, hash) != 0)
		goto out;
	if (db_connect(db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		goto out;
	}
	struct txn txn;
	enum txn_outcome o;
	int created;
	txn_open(&txn, db, TXN_ATOMIC);
	do {
		problem_clear(&p);
		created = operator_create(&txn, email, hash, &p);
	} while ((o = txn_end(&txn, created >= 0, &p)) == TXN_AGAIN);
	switch (o == TXN_COMMITTED ? created : -1) {
	case 0:
		printf("operator %s created\n", email);
		rc = 0;
		break;
	case 1:
		printf("a user %s already exists; nothing changed\n", email);
		rc = 0;
		break;
	default: fprintf(stderr, "twotier-admin: %s\n", p.detail);
	}
out:
	sodium_memzero(hash, sizeof hash);
	problem_clear(&p);
	db_free(db);
	return rc;
}

/* One pass of the purge the service runs every purge_interval seconds,
 * now (for cron, or after a long stop). */
static int purge(const struct config *cfg)
{
	struct db *db = db_new(cfg, 1);
	struct problem p = {0};
	struct purge_policy policy = {cfg->event_retention_days};
	struct purge_counts n;
	struct txn t;
	char err[512];
	int rc = 1, done;
	if (db_connect(db, err, sizeof err) != DB_OK) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		goto out;
	}
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do
		done = purge_run(&t, &policy, &n);
	while (txn_end(&t, done == 0, &p) == TXN_AGAIN);
	if (done != 0) {
		fprintf(stderr, "twotier-admin: %s\n", p.detail);
		goto out;
	}
	printf(
	    "purged %llu idempotency keys, %llu sign-in failure counters, %llu pending sign-ups, "
	    "%llu sessions, %llu password resets, %llu sign-in challenges, %llu webhook secrets, "
	    "%llu webhook deliveries, %llu events\n",
	    n.idempotency_keys, n.signin_failures, n.pending_signups, n.sessions, n.password_resets,
	    n.mfa_challenges, n.webhook_secrets, n.webhook_deliveries, n.events);
	rc = 0;
out:
	problem_clear(&p);
	db_free(db);
	return rc;
}

/* Delivers the outbox's due mail until none is left, as one more sender
 * beside the service's threads (they never send a mail twice). */
static int mail_send(const struct config *cfg, const char *claimer_name)
{
	struct db *db = db_new(cfg, 1);
	struct problem p = {0};
	struct mail_pass pass, total = {0};
	struct mail_transport *t = NULL;
	char claimer[64], err[256];
	int rc = 1;
	snprintf(claimer, sizeof claimer, "admin:%ld:%.40s", (long)getpid(),
		 claimer_name ? claimer_name : "");
	if (mail_templates_load(cfg->mail_templates, err, sizeof err) != 0 ||
	    (t = mail_transport_new(cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		goto out;
	}
	do {
		problem_clear(&p);
		if (mail_send_due(db, t, cfg, claimer, 10, NULL, &pass, &p) != 0) {
			fprintf(stderr, "twotier-admin: %s\n", p.detail);
			goto out;
		}
		total.claimed += pass.claimed;
		total.sent += pass.sent;
		total.retried += pass.retried;
		total.failed += pass.failed;
		if (pass.deferred) {
			fprintf(stderr,
				"twotier-admin: the mail transport is down (%s): %zu sent, "
				"the rest waits for it\n",
				pass.error, total.sent);
			goto out;
		}
	} while (pass.claimed > 0);
	printf("mail: %zu sent, %zu to retry, %zu failed\n", total.sent, total.retried,
	       total.failed);
	rc = 0;
out:
	mail_transport_free(t);
	problem_clear(&p);
	db_free(db);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: twotier-admin -c CONFIG migrate\n"
			"       twotier-admin -c CONFIG create-operator --email ADDRESS "
			"[--password-file FILE]\n"
			"       twotier-admin -c CONFIG create-tenant --domain DOMAIN --name NAME "
			"--email ADDRESS [--password-file FILE]\n"
			"       twotier-admin -c CONFIG purge\n"
			"       twotier-admin -c CONFIG mail-send [--name NAME]\n"
			"(without --password-file the password is read from standard input)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"email", required_argument, NULL, 'e'},
	    {"password-file", required_argument, NULL, 'p'},
	    {"name", required_argument, NULL, 'n'},
	    {"domain", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct config cfg;
	const char *conf = NULL, *email = NULL, *pwfile = NULL, *name = NULL, *domain = NULL;
	char err[512];
	int opt, rc;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'e': email = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'n': name = optarg; break;
		case 'd': domain = optarg; break;
		default: usage(); return 2;
		}
	}
	if (conf == NULL || optind != argc - 1) {
		usage();
		return 2;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, conf, err, sizeof err) != 0 ||
	    config_apply_env(&cfg, (const char *(*)(const char *))getenv, err, sizeof err) != 0) {
		fprintf(stderr, "twotier-admin: %s\n", err);
		return 2;
	}
	if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0 ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	xalloc_init_cjson();
	if (strcmp(argv[optind], "migrate") == 0) {
		rc = migrate(&cfg);
	} else if (strcmp(argv[optind], "create-operator") == 0) {
		rc = create_operator(&cfg, email, pwfile);
	} else if (strcmp(argv[optind], "create-tenant") == 0) {
		struct tenant_args t = {domain, name, email};
		rc = create_tenant(&cfg, &t, pwfile);
	} else if (strcmp(argv[optind], "purge") == 0) {
		rc = purge(&cfg);
	} else if (strcmp(argv[optind], "mail-send") == 0) {
		rc = mail_send(&cfg, name);
	} else {
		usage();
		rc = 2;
	}
	mail_templates_free();
	curl_global_cleanup();
	mysql_library_end();
	return rc;
}
