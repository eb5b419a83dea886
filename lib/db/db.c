#include "db/db.h"

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/xalloc.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_MAX_PARAMS	    32
#define DB_MAX_COLUMNS	    32
#define DB_DEADLOCK_RETRIES 3

struct db {
	const struct config *cfg;
	int prepare;
	int connected_before; /* a later connect is a reconnect */
	MYSQL *mysql;	      /* NULL while disconnected */
	MYSQL_STMT *stmts[STMT__COUNT];
	int depth;		 /* transactions open: 0 none, 1 db_run's, more nested */
	enum db_status failure;	 /* why nested work ended the open transaction */
	unsigned int last_errno; /* of the last statement that failed */
};

const char *db_cell(const struct db_rows *rows, size_t row, size_t col)
{
	if (rows == NULL || row >= rows->n_rows || col >= rows->n_cols)
		return NULL;
	return rows->cells[row * rows->n_cols + col];
}

void db_cell_copy(const struct db_rows *rows, size_t row, size_t col, char *buf, size_t bufsz)
{
	const char *cell = db_cell(rows, row, col);
	snprintf(buf, bufsz, "%s", cell ? cell : "");
}

void db_rows_free(struct db_rows *rows)
{
	if (rows == NULL)
		return;
	/* a row's cells share one block, which its first cell that is not
	 * NULL starts (fetch_rows) */
	for (size_t r = 0; r < rows->n_rows; r++) {
		for (size_t c = 0; c < rows->n_cols; c++) {
			if (rows->cells[r * rows->n_cols + c] != NULL) {
				free(rows->cells[r * rows->n_cols + c]);
				break;
			}
		}
	}
	free(rows->cells);
	memset(rows, 0, sizeof *rows);
}

void *db_rows_items(struct db_rows *rows, size_t size, db_row_reader read, size_t *n)
{
	char *items = xcalloc(rows->n_rows, size);
	for (size_t i = 0; i < rows->n_rows; i++)
		read(rows, i, items + i * size);
	*n = rows->n_rows;
	db_rows_free(rows);
	return items;
}

struct db *db_new(const struct config *cfg, int prepare)
{
	struct db *db = xcalloc(1, sizeof *db);
	db->cfg = cfg;
	db->prepare = prepare;
	return db;
}

static void db_disconnect(struct db *db)
{
	for (size_t i = 0; i < STMT__COUNT; i++) {
		if (db->stmts[i] != NULL)
			mysql_stmt_close(db->stmts[i]);
		db->stmts[i] = NULL;
	}
	if (db->mysql != NULL)
		mysql_close(db->mysql);
	db->mysql = NULL;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db);
}

/* Maps a server or client error number to what the caller can do. */
static enum db_status classify(unsigned int err)
{
	switch (err) {
	case 0: return DB_OK;
	case ER_DUP_ENTRY: return DB_DUPLICATE;
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT: return DB_RETRY;
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */ return DB_LOST;
	default: return DB_ERROR;
	}
}

enum db_status db_connect(struct db *db, char *err, size_t errsz)
{
	const struct config *cfg = db->cfg;
	enum db_status rc = DB_LOST;
	unsigned int timeout = 3, rw_timeout = 10;
	if (db->mysql != NULL)
		return DB_OK;
	db->mysql = mysql_init(NULL);
	if (db->mysql == NULL)
		abort();
	mysql_options(db->mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(db->mysql, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(db->mysql, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(db->mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(db->mysql, MYSQL_INIT_COMMAND,
		      "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
		      "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'");
	if (mysql_real_connect(db->mysql, cfg->db_socket[0] ? NULL : cfg->db_host, cfg->db_user,
			       cfg->db_password, cfg->db_name, (unsigned)cfg->db_port,
			       cfg->db_socket[0] ? cfg->db_socket : NULL,
			       CLIENT_MULTI_STATEMENTS) == NULL) {
		snprintf(err, errsz, "cannot connect to the database: %s", mysql_error(db->mysql));
		rc = classify(mysql_errno(db->mysql)) == DB_LOST ? DB_LOST : DB_ERROR;
		/* Access denied or an unknown database is as good as unreachable
		 * for a request; the start-up check reports it as an error. */
		goto out;
	}
	for (size_t i = 0; db->prepare && i < STMT__COUNT; i++) {
		const struct db_stmt_def *def = db_statements[i];
		if (def == NULL || def->id != (enum stmt_id)i) {
			snprintf(err, errsz, "statement registry slot %zu is wrong", i);
			rc = DB_SCHEMA;
			goto out;
		}
		MYSQL_STMT *st = mysql_stmt_init(db->mysql);
		if (st == NULL)
			abort();
		db->stmts[i] = st;
		if (mysql_stmt_prepare(st, def->sql, (unsigned long)strlen(def->sql)) != 0) {
			unsigned int e = mysql_stmt_errno(st);
			snprintf(err, errsz, "statement %s does not prepare: %s", def->name,
				 mysql_stmt_error(st));
			rc = classify(e) == DB_LOST ? DB_LOST : DB_SCHEMA;
			goto out;
		}
		if (mysql_stmt_param_count(st) != def->params ||
		    mysql_stmt_field_count(st) != def->columns) {
			snprintf(
			    err, errsz,
			    "statement %s has %lu parameters and %u columns; the code expects %u "
			    "and %u",
			    def->name, mysql_stmt_param_count(st), mysql_stmt_field_count(st),
			    def->params, def->columns);
			rc = DB_SCHEMA;
			goto out;
		}
	}
	rc = DB_OK;
	if (db->connected_before)
		metrics_db_reconnect();
	db->connected_before = 1;
out:
	if (rc != DB_OK)
		db_disconnect(db);
	return rc;
}

static enum db_status stmt_failed(struct db *db, MYSQL_STMT *st, const struct db_stmt_def *def)
{
	unsigned int e = mysql_stmt_errno(st);
	enum db_status rc = classify(e);
	db->last_errno = e;
	if (rc == DB_LOST) {
		db_disconnect(db);
	} else if (rc == DB_ERROR) {
		struct log_field f[] = {LOG_S("statement", def->name), LOG_I("errno", e),
					LOG_S("error", mysql_stmt_error(st))};
		log_fields(LOG_ERROR, "statement failed", f, 3);
	}
	return rc;
}

static enum db_status fetch_rows(struct db *db, MYSQL_STMT *st, const struct db_stmt_def *def,
				 struct db_rows *rows)
{
	MYSQL_BIND rb[DB_MAX_COLUMNS];
	unsigned long lens[DB_MAX_COLUMNS];
	my_bool nulls[DB_MAX_COLUMNS];
	size_t cap = 0;
	unsigned n = def->columns;
	memset(rb, 0, sizeof rb);
	for (unsigned c = 0; c < n; c++) {
		rb[c].buffer_type = MYSQL_TYPE_STRING;
		rb[c].length = &lens[c];
		rb[c].is_null = &nulls[c];
	}
	if (mysql_stmt_bind_result(st, rb) != 0 || mysql_stmt_store_result(st) != 0)
		return stmt_failed(db, st, def);
	rows->n_cols = n;
	for (;;) {
		int f = mysql_stmt_fetch(st);
		if (f == MYSQL_NO_DATA)
			break;
		if (f == 1) {
			enum db_status rc = stmt_failed(db, st, def);
			if (db->mysql != NULL)
				mysql_stmt_free_result(st);
			return rc;
		}
		if (rows->n_rows == cap) {
			cap = cap ? cap * 2 : 16;
			rows->cells = xrealloc(rows->cells, cap * n * sizeof *rows->cells);
		}
		char **row = rows->cells + rows->n_rows * n;
		size_t size = 0;
		for (unsigned c = 0; c < n; c++)
			size += nulls[c] ? 0 : lens[c] + 1;
		/* one allocation a row: the cells follow each other in it */
		char *next = size > 0 ? xmalloc(size) : NULL;
		for (unsigned c = 0; c < n; c++) {
			row[c] = NULL;
			if (nulls[c])
				continue;
			row[c] = next;
			next += lens[c] + 1;
			MYSQL_BIND one;
			memset(&one, 0, sizeof one);
			one.buffer_type = MYSQL_TYPE_STRING;
			one.buffer = row[c];
			one.buffer_length = lens[c] + 1;
			if (mysql_stmt_fetch_column(st, &one, c, 0) != 0)
				abort(); /* the length came from this very row */
			row[c][lens[c]] = '\0';
		}
		rows->n_rows++;
	}
	mysql_stmt_free_result(st);
	return DB_OK;
}

/* Binds args, executes st and fetches its rows. */
static enum db_status run_stmt(struct db *db, MYSQL_STMT *st, const struct db_stmt_def *def,
			       const struct db_arg *args, struct db_rows *rows,
			       unsigned long long *affected)
{
	MYSQL_BIND pb[DB_MAX_PARAMS];
	struct db_rows discard = {0, 0, NULL};
	enum db_status rc;
	if (def->params > DB_MAX_PARAMS || def->columns > DB_MAX_COLUMNS)
		abort();
	memset(pb, 0, sizeof pb);
	for (unsigned i = 0; i < def->params; i++) {
		switch (args[i].type) {
		case DB_ARG_NULL: pb[i].buffer_type = MYSQL_TYPE_NULL; break;
		case DB_ARG_STR:
			pb[i].buffer_type = MYSQL_TYPE_STRING;
			pb[i].buffer = (void *)args[i].s;
			pb[i].buffer_length = args[i].len;
			break;
		case DB_ARG_INT:
			pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			pb[i].buffer = (void *)&args[i].i;
			break;
		}
	}
	if (def->params > 0 && mysql_stmt_bind_param(st, pb) != 0)
		return stmt_failed(db, st, def);
	if (mysql_stmt_execute(st) != 0)
		return stmt_failed(db, st, def);
	if (affected != NULL)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	if (def->columns == 0)
		return DB_OK;
	if (rows != NULL)
		memset(rows, 0, sizeof *rows);
	rc = fetch_rows(db, st, def, rows != NULL ? rows : &discard);
	db_rows_free(&discard);
	if (rc != DB_OK && rows != NULL)
		db_rows_free(rows);
	return rc;
}

enum db_status db_exec(struct db *db, enum stmt_id id, const struct db_arg *args,
		       struct db_rows *rows, unsigned long long *affected)
{
	if (db->mysql == NULL)
		return DB_LOST;
	return run_stmt(db, db->stmts[id], db_statements[id], args, rows, affected);
}

enum db_status db_exec_once(struct db *db, const struct db_stmt_def *def, const struct db_arg *args,
			    struct db_rows *rows)
{
	enum db_status rc;
	if (db->mysql == NULL)
		return DB_LOST;
	MYSQL_STMT *st = mysql_stmt_init(db->mysql);
	if (st == NULL)
		abort();
	if (mysql_stmt_prepare(st, def->sql, (unsigned long)strlen(def->sql)) != 0 ||
	    mysql_stmt_param_count(st) != def->params ||
	    mysql_stmt_field_count(st) != def->columns) {
		rc = stmt_failed(db, st, def);
		if (rc == DB_OK)
			rc = DB_SCHEMA;
		goto out;
	}
	rc = run_stmt(db, st, def, args, rows, NULL);
out:
	mysql_stmt_close(st);
	return rc;
}

static enum db_status plain_query(struct db *db, const char *sql)
{
	if (db->mysql == NULL)
		return DB_LOST;
	if (mysql_query(db->mysql, sql) == 0)
		return DB_OK;
	db->last_errno = mysql_errno(db->mysql);
	enum db_status rc = classify(db->last_errno);
	if (rc == DB_LOST)
		db_disconnect(db);
	else if (rc == DB_ERROR)
		log_msg(LOG_ERROR, "%s failed: %s", sql, mysql_error(db->mysql));
	return rc;
}

static void backoff(int attempt)
{
	/* 10, 20, 40 ms and a little jitter, so two retrying peers part ways. */
	struct timespec ts = {0, (long)((10L << attempt) + rand() % 5) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The problem a failed transaction answers with. */
static int failure_problem(enum db_status rc, struct problem *p)
{
	switch (rc) {
	case DB_RETRY:
		p->retry_after = 1;
		return problem_set(p, PROBLEM_UNAVAILABLE, "the database is busy; try again");
	case DB_LOST:
		p->retry_after = 5;
		return problem_set(p, PROBLEM_UNAVAILABLE,
				   "the database is unavailable; try again shortly");
	default: /* DB_DUPLICATE included: a domain function should have mapped it */
		return problem_set(p, PROBLEM_INTERNAL, "the request could not be completed");
	}
}

/* Gives a transaction up: counted, and answered with its problem. */
static int give_up(enum db_status rc, struct problem *p)
{
	metrics_db_error();
	return failure_problem(rc, p);
}

/* Work inside a transaction that is already open (db_transaction's): it
 * joins it. A refusal undoes only what this work wrote (a savepoint); any
 * other failure ends the whole transaction, which is retried or given up
 * by whoever opened it (db_failure tells it why). */
static int run_nested(struct db *db, db_work work, void *arg, struct problem *p, bool txn)
{
	char savepoint[32], undo[48];
	enum db_status rc = DB_OK;
	snprintf(savepoint, sizeof savepoint, "SAVEPOINT tt_%d", db->depth);
	snprintf(undo, sizeof undo, "ROLLBACK TO SAVEPOINT tt_%d", db->depth);
	if (txn)
		rc = plain_query(db, savepoint);
	if (rc == DB_OK) {
		problem_clear(p);
		db->depth++;
		rc = work(db, arg, p);
		db->depth--;
		if (rc == DB_OK)
			return 0;
		if (rc == DB_REFUSED && (!txn || (rc = plain_query(db, undo)) == DB_OK))
			return -1;
	}
	if (db->failure == DB_OK)
		db->failure = rc;
	problem_clear(p);
	return failure_problem(rc, p); /* the outer transaction decides what happens */
}

/* Runs work, in a transaction when txn; see db_run and db_read. */
static int run_work(struct db *db, db_work work, void *arg, struct problem *p, bool txn)
{
	int deadlocks = 0, reconnects = 0;
	char err[512];
	if (db->depth > 0)
		return run_nested(db, work, arg, p, txn);
	for (;;) {
		enum db_status rc;
		if (db->mysql == NULL) {
			rc = db_connect(db, err, sizeof err);
			if (rc != DB_OK) {
				log_msg(LOG_WARN, "%s", err);
				return give_up(DB_LOST, p);
			}
		}
		db->failure = DB_OK;
		if (!txn) {
			problem_clear(p);
			rc = work(db, arg, p);
			if (rc == DB_OK)
				return 0;
		} else if ((rc = plain_query(db, "START TRANSACTION")) == DB_OK) {
			problem_clear(p);
			db->depth = 1;
			rc = work(db, arg, p);
			db->depth = 0;
			if (rc == DB_OK) {
				rc = plain_query(db, "COMMIT");
				if (rc == DB_OK)
					return 0;
				if (rc == DB_LOST) {
					/* The commit may or may not have happened: do not
					 * run the work a second time. */
					metrics_db_error();
					p->retry_after = 5;
					return problem_set(p, PROBLEM_UNAVAILABLE,
							   "the database connection was lost");
				}
			} else if (db->mysql != NULL) {
				plain_query(db, "ROLLBACK");
			}
		}
		switch (rc) {
		case DB_REFUSED: return -1;
		case DB_RETRY:
			if (deadlocks++ < DB_DEADLOCK_RETRIES) {
				log_msg(LOG_WARN, "transaction aborted by %s (%u); retry %d of %d",
					db->last_errno == ER_LOCK_DEADLOCK ? "a deadlock"
									   : "a lock wait timeout",
					db->last_errno, deadlocks, DB_DEADLOCK_RETRIES);
				metrics_db_retry();
				backoff(deadlocks);
				continue;
			}
			return give_up(rc, p);
		case DB_LOST:
			if (reconnects++ < 1)
				continue;
			return give_up(rc, p);
		default: return give_up(rc, p);
		}
	}
}

enum db_status db_failure(const struct db *db)
{
	return db->failure;
}

int db_run(struct db *db, db_work work, void *arg, struct problem *p)
{
	return run_work(db, work, arg, p, true);
}

int db_read(struct db *db, db_work work, void *arg, struct problem *p)
{
	return run_work(db, work, arg, p, false);
}

enum db_status db_script(struct db *db, const char *sql, size_t len, char *err, size_t errsz)
{
	if (db->mysql == NULL) {
		snprintf(err, errsz, "not connected");
		return DB_LOST;
	}
	int status = mysql_real_query(db->mysql, sql, (unsigned long)len);
	for (;;) {
		if (status != 0) {
			snprintf(err, errsz, "%s", mysql_error(db->mysql));
			return DB_ERROR;
		}
		MYSQL_RES *res = mysql_store_result(db->mysql);
		if (res != NULL)
			mysql_free_result(res);
		else if (mysql_field_count(db->mysql) != 0) {
			snprintf(err, errsz, "%s", mysql_error(db->mysql));
			return DB_ERROR;
		}
		status = mysql_next_result(db->mysql);
		if (status == -1)
			return DB_OK;
		if (status > 0)
			status = 1;
	}
}

static enum db_status page_run(struct db *db, void *arg, struct problem *p)
{
	struct db_page *pg = arg;
	struct db_rows count = {0, 0, NULL};
	struct db_arg a[] = {db_str(pg->tenant_id), db_str(pg->cursor), db_str(pg->cursor),
			     db_int(pg->limit)};
	struct db_arg t[] = {db_str(pg->tenant_id)};
	db_rows_free(&pg->rows);
	enum db_status rc = db_exec(db, pg->list, a, &pg->rows, NULL);
	if (rc == DB_OK)
		rc = db_exec(db, pg->count, t, &count, NULL);
	if (rc == DB_OK)
		pg->total = atol(db_cell(&count, 0, 0));
	db_rows_free(&count);
	return rc;
}

int db_page_read(struct db *db, struct db_page *pg, struct problem *p)
{
	memset(&pg->rows, 0, sizeof pg->rows);
	pg->total = 0;
	if (db_read(db, page_run, pg, p) == 0)
		return 0;
	db_rows_free(&pg->rows);
	return -1;
}

const struct db_stmt_def stmt_schema_version = {
    STMT_schema_version, "schema_version", "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    0, 1};

static enum db_status schema_version_read(struct db *db, void *arg, struct problem *p)
{
	long *version = arg;
	struct db_rows rows;
	enum db_status rc = db_exec(db, STMT_schema_version, NULL, &rows, NULL);
	if (rc != DB_OK)
		return rc;
	*version = atol(db_cell(&rows, 0, 0) ? db_cell(&rows, 0, 0) : "0");
	db_rows_free(&rows);
	return DB_OK;
}

int db_schema_version(struct db *db, long *version, struct problem *p)
{
	*version = 0;
	return db_read(db, schema_version_read, version, p);
}

enum db_status db_refuse(struct problem *p, enum problem_kind kind, const char *code,
			 const char *fmt, ...)
{
	char detail[sizeof p->detail];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	problem_set(p, kind, "%s", detail);
	if (code != NULL)
		snprintf(p->code, sizeof p->code, "%s", code);
	return DB_REFUSED;
}
