#include "db/db.h"

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/problem.h"
#include "core/xalloc.h"

#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_MAX_PARAMS	    64
#define DB_MAX_COLUMNS	    32
#define DB_DEADLOCK_RETRIES 3
/* a connection to a later host of db_host tries the earlier ones again
 * this often, so that every host writes to the same node once it is back */
#define DB_FAILBACK_SECONDS 30

/* Every DB_STATEMENT of the program, wherever it is declared: the linker
 * gathers them into one section. Weak, so that a program without any
 * links too. */
extern const struct db_stmt __start_twotier_stmts[] __attribute__((weak));
extern const struct db_stmt __stop_twotier_stmts[] __attribute__((weak));

struct db {
	const struct config *cfg;
	bool prepare;
	bool connected_before;	 /* a later connect is a reconnect */
	MYSQL *mysql;		 /* NULL while disconnected */
	MYSQL_STMT **stmts;	 /* one a DB_STATEMENT, by its place in the section */
	struct txn *txn;	 /* the transaction open on this connection, or NULL */
	unsigned int last_errno; /* of the last statement that failed */
	unsigned host;		 /* the place in db_host of the server connected to */
	time_t failback_at;	 /* when a connection to a later host tries the first */
};

const struct db_stmt *db_statements_all(size_t *n)
{
	*n = __start_twotier_stmts == NULL ? 0
					   : (size_t)(__stop_twotier_stmts - __start_twotier_stmts);
	return __start_twotier_stmts;
}

struct db *db_new(const struct config *cfg, bool prepare)
{
	size_t n;
	struct db *db = xcalloc(1, sizeof *db);
	db->cfg = cfg;
	db->prepare = prepare;
	db_statements_all(&n);
	db->stmts = xcalloc(n ? n : 1, sizeof *db->stmts);
	return db;
}

static void db_disconnect(struct db *db)
{
	size_t n;
	db_statements_all(&n);
	for (size_t i = 0; i < n; i++) {
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
	free(db->stmts);
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
	/* a Galera node out of the primary component, or not yet synced */
	case ER_UNKNOWN_COM_ERROR:
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case 4031: /* ER_CLIENT_INTERACTION_TIMEOUT */ return DB_LOST;
	default: return DB_ERROR;
	}
}

/* ---- checks at prepare ---- */

static bool type_integer(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_BIT:
	case MYSQL_TYPE_YEAR: return true;
	default: return false;
	}
}

static bool type_text(enum enum_field_types t)
{
	switch (t) {
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
	case MYSQL_TYPE_DECIMAL:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_JSON: return true;
	default: return false;
	}
}

static bool type_time(enum enum_field_types t)
{
	return t == MYSQL_TYPE_DATETIME || t == MYSQL_TYPE_TIMESTAMP || t == MYSQL_TYPE_DATE;
}

/* A column's field as the SELECT must name it: a.b is a_b. */
static void column_name(const char *field, char *out, size_t outsz)
{
	size_t i = 0;
	for (; field[i] != '\0' && i + 1 < outsz; i++)
		out[i] = field[i] == '.' ? '_' : field[i];
	out[i] = '\0';
}

/* Whether a field of size bytes can hold a column of type. */
static bool field_fits(const struct db_col *c)
{
	switch (c->type) {
	case DB_INT: return c->size == 1 || c->size == 2 || c->size == 4 || c->size == 8;
	case DB_TEXT: return c->size > 1;
	case DB_TIME: return c->size >= TIME_STR;
	case DB_MICROS: return c->size == sizeof(micros_t);
	case DB_DUP: return c->size == sizeof(char *);
	default: return false;
	}
}

/* The declared columns of s against what the server says its SELECT
 * gives: count, names and types. */
static enum db_status check_columns(MYSQL_STMT *st, const struct db_stmt *s, char *err,
				    size_t errsz)
{
	enum db_status rc = DB_OK;
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	if (meta == NULL)
		return DB_OK; /* no result set: the count check said so */
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	for (unsigned i = 0; i < s->n_cols; i++) {
		const struct db_col *c = &s->cols[i];
		char want[64];
		enum enum_field_types t = fields[i].type;
		bool ok = c->type == DB_INT			       ? type_integer(t)
			  : c->type == DB_TIME || c->type == DB_MICROS ? type_time(t)
								       : type_text(t);
		column_name(c->name, want, sizeof want);
		if (strcmp(fields[i].name, want) != 0) {
			snprintf(err, errsz,
				 "statement %s: column %u is `%s` where the code reads `%s`",
				 s->name, i + 1, fields[i].name, want);
			rc = DB_SCHEMA;
			break;
		}
		if (!ok || !field_fits(c)) {
			snprintf(err, errsz,
				 "statement %s: column `%s` has SQL type %d, which its field "
				 "(type %d, %zu bytes) cannot hold",
				 s->name, want, (int)t, (int)c->type, c->size);
			rc = DB_SCHEMA;
			break;
		}
	}
	mysql_free_result(meta);
	return rc;
}

static MYSQL_STMT *prepare_one(struct db *db, const char *name, const char *sql, unsigned n_params,
			       unsigned n_cols, enum db_status *rc, char *err, size_t errsz)
{
	MYSQL_STMT *st = mysql_stmt_init(db->mysql);
	if (st == NULL)
		abort();
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		unsigned int e = mysql_stmt_errno(st);
		snprintf(err, errsz, "statement %s does not prepare: %s", name,
			 mysql_stmt_error(st));
		*rc = classify(e) == DB_LOST ? DB_LOST : DB_SCHEMA;
	} else if (mysql_stmt_param_count(st) != n_params || mysql_stmt_field_count(st) != n_cols) {
		snprintf(err, errsz,
			 "statement %s has %lu parameters and %u columns; the code expects %u "
			 "and %u",
			 name, mysql_stmt_param_count(st), mysql_stmt_field_count(st), n_params,
			 n_cols);
		*rc = DB_SCHEMA;
	} else {
		*rc = DB_OK;
	}
	return st;
}

enum db_status db_prepare_check(struct db *db, const struct db_stmt *s, char *err, size_t errsz)
{
	enum db_status rc;
	if (db->mysql == NULL) {
		snprintf(err, errsz, "not connected");
		return DB_LOST;
	}
	MYSQL_STMT *st = prepare_one(db, s->name, s->sql, s->n_params, s->n_cols, &rc, err, errsz);
	if (rc == DB_OK)
		rc = check_columns(st, s, err, errsz);
	mysql_stmt_close(st);
	return rc;
}

static enum db_status prepare_all(struct db *db, char *err, size_t errsz)
{
	size_t n;
	enum db_status rc = DB_OK;
	const struct db_stmt *all = db_statements_all(&n);
	for (size_t i = 0; i < n && rc == DB_OK; i++) {
		const struct db_stmt *s = &all[i];
		if (s->n_params > DB_MAX_PARAMS || s->n_cols > DB_MAX_COLUMNS) {
			snprintf(err, errsz,
				 "statement %s has more than %d parameters or %d columns", s->name,
				 DB_MAX_PARAMS, DB_MAX_COLUMNS);
			return DB_SCHEMA;
		}
		/* a name is what a log line and a schema error show: one each */
		for (size_t j = 0; j < i; j++)
			if (strcmp(all[j].name, s->name) == 0) {
				snprintf(err, errsz, "two statements are named %s", s->name);
				return DB_SCHEMA;
			}
		db->stmts[i] =
		    prepare_one(db, s->name, s->sql, s->n_params, s->n_cols, &rc, err, errsz);
		if (rc == DB_OK)
			rc = check_columns(db->stmts[i], s, err, errsz);
	}
	return rc;
}

/* The i-th server of db_host (comma separated HOST or HOST:PORT, db_port
 * when it names none). False past the last one. */
static bool host_at(const struct config *cfg, unsigned i, char *host, size_t hostsz, unsigned *port)
{
	const char *p = cfg->db_host;
	for (;; i--) {
		p += strspn(p, " ,");
		size_t len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0)
			return false;
		if (i == 0) {
			/* HOST:PORT; an IPv6 address (two colons or more) names no port */
			const char *colon = memchr(p, ':', len);
			if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon + 1 - p)))
				colon = NULL;
			size_t hlen = colon ? (size_t)(colon - p) : len;
			*port =
			    colon ? (unsigned)strtoul(colon + 1, NULL, 10) : (unsigned)cfg->db_port;
			snprintf(host, hostsz, "%.*s", (int)hlen, p);
			return true;
		}
		p += strcspn(p, ",");
	}
}

/* Whether the server may serve: any server that is not a Galera node; a
 * node only when synced in the primary component (a joining node or a
 * donor accepts connections it cannot serve). Then a causality barrier:
 * the node applies every write the cluster committed before this connect,
 * so that after a failover no acknowledged write is missing from reads. */
static bool node_serves(MYSQL *m, char *err, size_t errsz)
{
	char state[16] = "", ready[8] = "", cluster[32] = "";
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	bool galera = false, ok = false;
	if (mysql_query(m, "SHOW GLOBAL STATUS WHERE Variable_name IN "
			   "('wsrep_local_state', 'wsrep_ready', 'wsrep_cluster_status')") != 0 ||
	    (res = mysql_store_result(m)) == NULL)
		goto out;
	/* MariaDB without a wsrep provider shows wsrep_ready and
	 * wsrep_cluster_status too, but no wsrep_local_state */
	while ((row = mysql_fetch_row(res)) != NULL) {
		const char *v = row[1] ? row[1] : "";
		if (strcmp(row[0], "wsrep_local_state") == 0) {
			galera = true;
			snprintf(state, sizeof state, "%s", v);
		} else if (strcmp(row[0], "wsrep_ready") == 0)
			snprintf(ready, sizeof ready, "%s", v);
		else
			snprintf(cluster, sizeof cluster, "%s", v);
	}
	if (galera && !(strcmp(state, "4") == 0 && strcmp(ready, "ON") == 0 &&
			strcmp(cluster, "Primary") == 0)) {
		snprintf(err, errsz,
			 "the Galera node is not synced in the primary component "
			 "(wsrep_local_state %s, wsrep_ready %s, wsrep_cluster_status %s)",
			 state, ready, cluster);
		goto out;
	}
	ok = !galera || mysql_query(m, "SET SESSION wsrep_sync_wait = 1; SELECT 1; "
				       "SET SESSION wsrep_sync_wait = 0") == 0;
	/* the three results, read to the end; an error in any ends the walk */
	for (int more = galera && ok ? 0 : -1; more == 0; more = mysql_next_result(m))
		mysql_free_result(mysql_store_result(m));
	ok = ok && mysql_errno(m) == 0;
	if (!ok && galera)
		snprintf(err, errsz, "the Galera node did not catch up: %s", mysql_error(m));
out:
	if (res != NULL)
		mysql_free_result(res);
	if (!ok && err[0] == '\0')
		snprintf(err, errsz, "cannot read the server's state: %s", mysql_error(m));
	return ok;
}

/* One connection to host:port (or db_socket when host is NULL). Returns it,
 * or NULL with err and *rc. */
static MYSQL *connect_to(const struct config *cfg, const char *host, unsigned port,
			 enum db_status *rc, char *err, size_t errsz)
{
	unsigned int timeout = 3, rw_timeout = 10;
	my_bool report = 1;
	MYSQL *m = mysql_init(NULL);
	if (m == NULL)
		abort();
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
	mysql_options(m, MYSQL_REPORT_DATA_TRUNCATION, &report);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_INIT_COMMAND,
		      "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
		      "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'");
	err[0] = '\0';
	if (mysql_real_connect(m, host, cfg->db_user, cfg->db_password, cfg->db_name, port,
			       host == NULL ? cfg->db_socket : NULL,
			       CLIENT_MULTI_STATEMENTS) == NULL) {
		snprintf(err, errsz, "cannot connect to the database%s%s: %s", host ? " at " : "",
			 host ? host : "", mysql_error(m));
		/* Access denied or an unknown database is as good as unreachable
		 * for a request; the start-up check reports it as an error. */
		*rc = classify(mysql_errno(m)) == DB_LOST ? DB_LOST : DB_ERROR;
		mysql_close(m);
		return NULL;
	}
	if (!node_serves(m, err, errsz)) {
		*rc = DB_LOST;
		mysql_close(m);
		return NULL;
	}
	*rc = DB_OK;
	return m;
}

/* Connects to the first server of db_host that serves, from the first up
 * to (not including) the one at before. */
static MYSQL *connect_first(const struct db *db, unsigned before, unsigned *host,
			    enum db_status *rc, char *err, size_t errsz)
{
	char name[CONFIG_STR];
	unsigned port;
	MYSQL *m = NULL;
	*rc = DB_LOST;
	if (db->cfg->db_socket[0] != '\0') {
		*host = 0;
		return before > 0 ? connect_to(db->cfg, NULL, 0, rc, err, errsz) : NULL;
	}
	for (unsigned i = 0;
	     m == NULL && i < before && host_at(db->cfg, i, name, sizeof name, &port); i++) {
		m = connect_to(db->cfg, name, port, rc, err, errsz);
		*host = i;
		/* a refusal of the credentials or the database is the same on every node */
		if (m == NULL && *rc == DB_ERROR)
			break;
	}
	return m;
}

enum db_status db_connect(struct db *db, char *err, size_t errsz)
{
	enum db_status rc = DB_LOST;
	if (db->mysql != NULL)
		return DB_OK;
	db->mysql = connect_first(db, UINT32_MAX, &db->host, &rc, err, errsz);
	if (db->mysql == NULL)
		goto out;
	db->failback_at = time(NULL) + DB_FAILBACK_SECONDS;
	if (db->host > 0)
		log_msg(LOG_WARN, "connected to server %u of db_host: the first does not serve",
			db->host + 1);
	rc = db->prepare ? prepare_all(db, err, errsz) : DB_OK;
	if (rc == DB_OK && db->connected_before)
		metrics_db_reconnect();
	if (rc == DB_OK)
		db->connected_before = true;
out:
	if (rc != DB_OK)
		db_disconnect(db);
	return rc;
}

/* A connection to a later server of db_host moves to an earlier one that
 * serves again, between transactions; when none does, it stays. */
static void db_failback(struct db *db)
{
	char err[512];
	enum db_status rc;
	unsigned host;
	if (db->mysql == NULL || db->host == 0 || time(NULL) < db->failback_at)
		return;
	db->failback_at = time(NULL) + DB_FAILBACK_SECONDS;
	MYSQL *m = connect_first(db, db->host, &host, &rc, err, sizeof err);
	if (m == NULL)
		return;
	db_disconnect(db);
	db->mysql = m;
	db->host = host;
	log_msg(LOG_INFO, "the database connection moved back to server %u of db_host", host + 1);
	if (db->prepare && prepare_all(db, err, sizeof err) != DB_OK) {
		log_msg(LOG_WARN, "%s", err);
		db_disconnect(db); /* the next statement connects afresh */
	}
}

/* ---- running a statement ---- */

/* What one fetched row needs besides the caller's struct: the lengths,
 * NULL flags, truncation flags, and scratch for the columns that are
 * converted after the fetch. */
struct fetch_state {
	MYSQL_BIND bind[DB_MAX_COLUMNS];
	unsigned long len[DB_MAX_COLUMNS];
	my_bool null[DB_MAX_COLUMNS], error[DB_MAX_COLUMNS];
	long long ints[DB_MAX_COLUMNS];
	MYSQL_TIME times[DB_MAX_COLUMNS];
};

static enum db_status stmt_failed(struct db *db, MYSQL_STMT *st, const char *name)
{
	unsigned int e = mysql_stmt_errno(st);
	enum db_status rc = classify(e);
	db->last_errno = e;
	if (rc == DB_LOST) {
		db_disconnect(db);
	} else if (rc == DB_ERROR) {
		struct log_field f[] = {LOG_S("statement", name), LOG_I("errno", e),
					LOG_S("error", mysql_stmt_error(st))};
		log_fields(LOG_ERROR, "statement failed", f, 3);
	}
	return rc;
}

static void time_to_mysql(micros_t t, MYSQL_TIME *out)
{
	struct tm tm;
	long frac;
	time_split(t, &tm, &frac);
	memset(out, 0, sizeof *out);
	out->year = (unsigned)tm.tm_year + 1900;
	out->month = (unsigned)tm.tm_mon + 1;
	out->day = (unsigned)tm.tm_mday;
	out->hour = (unsigned)tm.tm_hour;
	out->minute = (unsigned)tm.tm_min;
	out->second = (unsigned)tm.tm_sec;
	out->second_part = (unsigned long)frac;
	out->time_type = MYSQL_TIMESTAMP_DATETIME;
}

static micros_t time_from_mysql(const MYSQL_TIME *m)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (int)m->year - 1900;
	tm.tm_mon = (int)m->month - 1;
	tm.tm_mday = (int)m->day;
	tm.tm_hour = (int)m->hour;
	tm.tm_min = (int)m->minute;
	tm.tm_sec = (int)m->second;
	return (micros_t)timegm(&tm) * 1000000LL + (micros_t)m->second_part;
}

/* Binds args to st after checking them against s's declared types. */
static enum db_status bind_params(MYSQL_STMT *st, const struct db_stmt *s,
				  const struct db_arg *args, MYSQL_TIME *times)
{
	MYSQL_BIND pb[DB_MAX_PARAMS];
	if (s->n_params == 0)
		return DB_OK;
	memset(pb, 0, sizeof pb);
	for (unsigned i = 0; i < s->n_params; i++) {
		unsigned want = s->params[i] & ~(unsigned)DB_NULLABLE;
		const struct db_arg *a = &args[i];
		if (a->type == 0 && (s->params[i] & DB_NULLABLE)) {
			pb[i].buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		if (a->type != want) {
			struct log_field f[] = {LOG_S("statement", s->name),
						LOG_I("parameter", i + 1), LOG_I("declared", want),
						LOG_I("given", a->type)};
			log_fields(LOG_ERROR, "statement called with an argument of another type",
				   f, 4);
			return DB_SCHEMA;
		}
		switch (want) {
		case DB_TEXT:
			pb[i].buffer_type = MYSQL_TYPE_STRING;
			pb[i].buffer = (void *)a->s;
			pb[i].buffer_length = a->len;
			break;
		case DB_INT:
			pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
			pb[i].buffer = (void *)&a->i;
			break;
		case DB_TIME:
			time_to_mysql(a->i, &times[i]);
			pb[i].buffer_type = MYSQL_TYPE_DATETIME;
			pb[i].buffer = &times[i];
			break;
		default: return DB_SCHEMA;
		}
	}
	return mysql_stmt_bind_param(st, pb) == 0 ? DB_OK : DB_ERROR;
}

/* Points the result binds at row (a struct of s's row type) and the
 * scratch of f. */
static void bind_row(const struct db_stmt *s, struct fetch_state *f, char *row)
{
	memset(f->bind, 0, sizeof f->bind);
	for (unsigned c = 0; c < s->n_cols; c++) {
		const struct db_col *col = &s->cols[c];
		MYSQL_BIND *b = &f->bind[c];
		b->length = &f->len[c];
		b->is_null = &f->null[c];
		b->error = &f->error[c];
		switch (col->type) {
		case DB_INT:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			b->buffer = &f->ints[c];
			break;
		case DB_TEXT:
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = row + col->offset;
			b->buffer_length = col->size;
			break;
		case DB_TIME:
		case DB_MICROS:
			b->buffer_type = MYSQL_TYPE_DATETIME;
			b->buffer = &f->times[c];
			break;
		case DB_DUP:
			/* its length first; the value by mysql_stmt_fetch_column */
			b->buffer_type = MYSQL_TYPE_STRING;
			b->buffer = NULL;
			b->buffer_length = 0;
			break;
		default: break;
		}
	}
}

/* Completes a fetched row: terminators, conversions, the DB_DUP values.
 * DB_ERROR when a value does not fit its field. */
static enum db_status finish_row(MYSQL_STMT *st, const struct db_stmt *s, struct fetch_state *f,
				 char *row)
{
	for (unsigned c = 0; c < s->n_cols; c++) {
		const struct db_col *col = &s->cols[c];
		char *field = row + col->offset;
		long long v = f->null[c] ? 0 : f->ints[c];
		switch (col->type) {
		case DB_INT:
			switch (col->size) {
			case 1: *(int8_t *)field = (int8_t)v; break;
			case 2: *(int16_t *)field = (int16_t)v; break;
			case 4: *(int32_t *)field = (int32_t)v; break;
			default: *(int64_t *)field = v; break;
			}
			break;
		case DB_TEXT:
			if (f->null[c]) {
				field[0] = '\0';
			} else if (f->len[c] >= col->size) {
				struct log_field lf[] = {LOG_S("statement", s->name),
							 LOG_S("column", col->name),
							 LOG_I("length", (long long)f->len[c])};
				log_fields(LOG_ERROR, "a value is longer than its field", lf, 3);
				return DB_ERROR;
			} else {
				field[f->len[c]] = '\0';
			}
			break;
		case DB_TIME:
			if (f->null[c])
				field[0] = '\0';
			else
				time_api(time_from_mysql(&f->times[c]), field);
			break;
		case DB_MICROS:
			*(micros_t *)field = f->null[c] ? 0 : time_from_mysql(&f->times[c]);
			break;
		case DB_DUP: {
			char *text = NULL;
			if (!f->null[c]) {
				MYSQL_BIND one;
				memset(&one, 0, sizeof one);
				text = xmalloc(f->len[c] + 1);
				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = text;
				one.buffer_length = f->len[c] + 1;
				if (mysql_stmt_fetch_column(st, &one, c, 0) != 0)
					abort(); /* the length came from this very row */
				text[f->len[c]] = '\0';
			}
			memcpy(field, &text, sizeof text);
			break;
		}
		default: break;
		}
	}
	return DB_OK;
}

/* Binds args, executes st (the prepared s) and reads up to max rows into
 * a new array (*items, *n; NULL items discards them). */
static enum db_status execute(struct db *db, MYSQL_STMT *st, const struct db_stmt *s,
			      const struct db_arg *args, unsigned long long *affected, void **items,
			      size_t *n, size_t max)
{
	MYSQL_TIME ptimes[DB_MAX_PARAMS];
	struct fetch_state *f = NULL;
	size_t cap = 0, count = 0;
	char *out = NULL;
	enum db_status rc = bind_params(st, s, args, ptimes);
	if (rc == DB_ERROR)
		rc = stmt_failed(db, st, s->name);
	if (rc != DB_OK)
		goto out;
	if (mysql_stmt_execute(st) != 0) {
		rc = stmt_failed(db, st, s->name);
		goto out;
	}
	if (affected != NULL)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	if (s->n_cols == 0)
		goto out;
	f = xmalloc(sizeof *f);
	for (;;) {
		if (count == cap) {
			cap = cap ? cap * 2 : (max == 1 ? 1 : 8);
			out = xrealloc(out, cap * s->row_size);
		}
		char *row = out + count * s->row_size;
		memset(row, 0, s->row_size);
		bind_row(s, f, row);
		int got = mysql_stmt_bind_result(st, f->bind) != 0 ? 1 : mysql_stmt_fetch(st);
		if (got == MYSQL_NO_DATA)
			break;
		if (got == 1) {
			rc = stmt_failed(db, st, s->name);
			break;
		}
		/* MYSQL_DATA_TRUNCATED: a DB_DUP column (read now) or a value
		 * too long for its field (an error) */
		rc = finish_row(st, s, f, row);
		if (rc != DB_OK || ++count == max)
			break;
	}
	/* discards the rows not read (db_one's) */
	if (db->mysql != NULL)
		mysql_stmt_free_result(st);
out:
	free(f);
	if (items != NULL && rc == DB_OK && count > 0) {
		*items = out;
		*n = count;
	} else {
		free(out);
	}
	return rc;
}

/* Runs s on its statement prepared at connect. */
static enum db_status run(struct db *db, const struct db_stmt *s, const struct db_arg *args,
			  unsigned long long *affected, void **items, size_t *n, size_t max)
{
	size_t all;
	const struct db_stmt *base = db_statements_all(&all);
	return execute(db, db->stmts[s - base], s, args, affected, items, n, max);
}

/* ---- transactions ---- */

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

void txn_open(struct txn *t, struct db *db, enum txn_mode mode)
{
	/* one transaction at a time on a connection: a second would be a
	 * nested one in disguise */
	if (db->txn != NULL && db->txn != t)
		abort();
	memset(t, 0, sizeof *t);
	t->db = db;
	t->mode = mode;
	t->failure = DB_OK;
	db->txn = t;
	db_failback(db);
}

struct db *txn_db(const struct txn *t)
{
	return t->db;
}

enum db_status txn_failure(const struct txn *t)
{
	return t->failure;
}

void txn_after_commit(struct txn *t, void (*fn)(void *), void *arg)
{
	for (size_t i = 0; i < t->n_hooks; i++)
		if (t->hooks[i].fn == fn && t->hooks[i].arg == arg)
			return;
	if (t->n_hooks == TXN_HOOKS)
		abort(); /* a new kind of hook: make room for it */
	t->hooks[t->n_hooks].fn = fn;
	t->hooks[t->n_hooks].arg = arg;
	t->n_hooks++;
}

/* Marks t failed with rc (the first failure stands) and returns DB_FAILED. */
static enum db_status txn_fail(struct txn *t, enum db_status rc)
{
	if (t->failure == DB_OK)
		t->failure = rc;
	return DB_FAILED;
}

enum db_status txn_abort(struct txn *t)
{
	return txn_fail(t, DB_ERROR);
}

/* Makes t ready for a statement: connected, and in a write transaction
 * started. DB_OK or DB_FAILED. */
static enum db_status txn_ready(struct txn *t)
{
	char err[512];
	enum db_status rc;
	if (t->failure != DB_OK)
		return DB_FAILED;
	if (t->db->mysql == NULL) {
		rc = db_connect(t->db, err, sizeof err);
		if (rc != DB_OK) {
			log_msg(LOG_WARN, "%s", err);
			/* unreachable, or not what this build expects: either way
			 * the request cannot be served now */
			return txn_fail(t, DB_LOST);
		}
	}
	if (t->mode != TXN_AUTOCOMMIT && !t->started) {
		/* for the next transaction only */
		rc = t->mode == TXN_ATOMIC_READ_COMMITTED
			 ? plain_query(t->db, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
			 : DB_OK;
		if (rc == DB_OK)
			rc = plain_query(t->db, "START TRANSACTION");
		if (rc != DB_OK)
			return txn_fail(t, rc);
		t->started = true;
	}
	return DB_OK;
}

/* The outcome of one statement in t: a failure of the database ends the
 * attempt; a duplicate key does not. */
static enum db_status txn_status(struct txn *t, enum db_status rc)
{
	if (rc == DB_OK || rc == DB_DUPLICATE)
		return rc;
	return txn_fail(t, rc);
}

enum db_status db_exec(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
		       unsigned long long *affected)
{
	enum db_status rc = txn_ready(t);
	if (rc != DB_OK)
		return rc;
	return txn_status(t, run(t->db, s, args, affected, NULL, NULL, 0));
}

enum db_status db_try_exec(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
			   unsigned long long *affected)
{
	enum db_status rc = txn_ready(t);
	if (rc != DB_OK)
		return rc;
	rc = run(t->db, s, args, affected, NULL, NULL, 0);
	/* a lock wait timeout undoes the statement, not the transaction
	 * (innodb_rollback_on_timeout is off) */
	if (rc == DB_RETRY && t->db->last_errno == ER_LOCK_WAIT_TIMEOUT)
		return DB_BUSY;
	return txn_status(t, rc);
}

enum db_status db_one(struct txn *t, const struct db_stmt *s, const struct db_arg *args, void *row)
{
	void *items = NULL;
	size_t n = 0;
	enum db_status rc = txn_ready(t);
	memset(row, 0, s->row_size);
	if (rc != DB_OK)
		return rc;
	rc = txn_status(t, run(t->db, s, args, NULL, &items, &n, 1));
	if (rc == DB_OK && n == 0)
		rc = DB_EMPTY;
	if (n > 0)
		memcpy(row, items, s->row_size);
	free(items);
	return rc;
}

enum db_status db_all(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
		      void **items, size_t *n)
{
	enum db_status rc = txn_ready(t);
	*items = NULL;
	*n = 0;
	if (rc != DB_OK)
		return rc;
	return txn_status(t, run(t->db, s, args, NULL, items, n, SIZE_MAX));
}

static void backoff(int attempt)
{
	/* 10, 20, 40 ms and a little jitter, so two retrying peers part ways */
	struct timespec ts = {0, (long)((10L << attempt) + rand() % 5) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Ready for another attempt, or for nothing more. */
static void txn_reset(struct txn *t)
{
	t->started = false;
	t->failure = DB_OK;
	t->n_hooks = 0;
}

static void txn_close(struct txn *t)
{
	txn_reset(t);
	if (t->db->txn == t)
		t->db->txn = NULL;
}

static enum txn_outcome give_up(struct txn *t, struct problem *p, enum problem_kind kind,
				int retry_after, const char *detail)
{
	metrics_db_error();
	problem_clear(p);
	p->retry_after = retry_after;
	problem_set(p, kind, "%s", detail);
	txn_close(t);
	return TXN_ROLLED_BACK;
}

enum txn_outcome txn_end(struct txn *t, bool ok, struct problem *p)
{
	struct db *db = t->db;
	enum db_status rc = t->failure;
	if (rc == DB_OK && ok && t->started) {
		rc = plain_query(db, "COMMIT");
		/* the commit may or may not have happened: never run it twice */
		if (rc == DB_LOST)
			return give_up(t, p, PROBLEM_UNAVAILABLE, 5,
				       "the database connection was lost");
		/* Galera's certification fails at COMMIT as a deadlock: retried */
	}
	if (rc == DB_OK && ok) {
		size_t n = t->n_hooks;
		txn_close(t);
		for (size_t i = 0; i < n; i++)
			t->hooks[i].fn(t->hooks[i].arg);
		return TXN_COMMITTED;
	}
	if (t->started && db->mysql != NULL)
		plain_query(db, "ROLLBACK");
	t->started = false;
	switch (rc) {
	case DB_OK: /* the work refused: its problem stands */ txn_close(t); return TXN_ROLLED_BACK;
	case DB_RETRY:
		if (t->deadlocks++ < DB_DEADLOCK_RETRIES) {
			log_msg(LOG_WARN, "transaction aborted by %s (%u); retry %d of %d",
				db->last_errno == ER_LOCK_DEADLOCK ? "a deadlock"
								   : "a lock wait timeout",
				db->last_errno, t->deadlocks, DB_DEADLOCK_RETRIES);
			metrics_db_retry();
			backoff(t->deadlocks);
			txn_reset(t);
			return TXN_AGAIN;
		}
		return give_up(t, p, PROBLEM_UNAVAILABLE, 1, "the database is busy; try again");
	case DB_LOST:
		if (t->reconnects++ < 1) {
			txn_reset(t);
			return TXN_AGAIN;
		}
		return give_up(t, p, PROBLEM_UNAVAILABLE, 5,
			       "the database is unavailable; try again shortly");
	default: return give_up(t, p, PROBLEM_INTERNAL, 0, "the request could not be completed");
	}
}

int txn_commit_now(struct txn *t, struct problem *p)
{
	enum db_status rc = t->failure;
	if (rc == DB_OK && t->started)
		rc = plain_query(t->db, "COMMIT");
	if (rc != DB_OK) {
		metrics_db_error();
		problem_clear(p);
		p->retry_after = 5;
		txn_fail(t, rc);
		return problem_set(p, PROBLEM_UNAVAILABLE, "the database is unavailable");
	}
	t->started = false;
	for (size_t i = 0; i < t->n_hooks; i++)
		t->hooks[i].fn(t->hooks[i].arg);
	t->n_hooks = 0;
	return 0;
}

/* ---- pages ---- */

enum db_status db_page_read(struct txn *t, const struct db_page *pg, const struct db_arg *keys,
			    const char *cursor, long limit, struct db_page_result *out)
{
	struct db_arg args[DB_MAX_PARAMS];
	struct db_count count;
	unsigned branches = pg->branches ? pg->branches : 1, n = 0;
	enum db_status rc;
	memset(out, 0, sizeof *out);
	if (branches * (pg->n_keys + 2) > DB_MAX_PARAMS)
		abort();
	/* the first page starts before every id: "" sorts first, "~" after
	 * every hexadecimal digit */
	for (unsigned b = 0; b < branches; b++) {
		if (pg->n_keys > 0)
			memcpy(&args[n], keys, pg->n_keys * sizeof *args);
		n += pg->n_keys;
		args[n++] = db_text(cursor[0] ? cursor : pg->descending ? "~" : "");
		args[n++] = db_int(limit);
	}
	rc = db_all(t, pg->list, args, &out->items, &out->n);
	if (rc != DB_OK)
		return rc;
	/* a union gives up to limit rows a branch, in order: the page is the
	 * first limit of them */
	for (size_t i = (size_t)limit; i < out->n; i++)
		if (pg->item_free != NULL)
			pg->item_free((char *)out->items + i * pg->list->row_size);
	if (out->n > (size_t)limit)
		out->n = (size_t)limit;
	n = 0;
	for (unsigned b = 0; b < branches; b++) {
		if (pg->n_keys > 0)
			memcpy(&args[n], keys, pg->n_keys * sizeof *args);
		n += pg->n_keys;
		args[n++] = db_int(DB_COUNT_CAP + 1);
	}
	rc = db_one(t, pg->count, args, &count);
	if (rc == DB_EMPTY)
		count.n = 0;
	else if (rc != DB_OK) {
		db_page_free(pg, out);
		return rc;
	}
	out->total_capped = count.n > DB_COUNT_CAP;
	out->total = out->total_capped ? DB_COUNT_CAP : (long)count.n;
	if (out->n > 0)
		out->last_id = (const char *)out->items + (out->n - 1) * pg->list->row_size +
			       pg->cursor_offset;
	return DB_OK;
}

void db_page_free(const struct db_page *pg, struct db_page_result *r)
{
	for (size_t i = 0; pg->item_free != NULL && i < r->n; i++)
		pg->item_free((char *)r->items + i * pg->list->row_size);
	free(r->items);
	memset(r, 0, sizeof *r);
}

/* ---- outside transactions ---- */

enum db_status db_exec_once(struct db *db, const struct db_stmt *s, const struct db_arg *args,
			    void **items, size_t *n)
{
	enum db_status rc;
	char err[512];
	if (items != NULL) {
		*items = NULL;
		*n = 0;
	}
	if (db->mysql == NULL)
		return DB_LOST;
	MYSQL_STMT *st =
	    prepare_one(db, s->name, s->sql, s->n_params, s->n_cols, &rc, err, sizeof err);
	if (rc != DB_OK)
		log_msg(LOG_ERROR, "%s", err);
	else
		rc = execute(db, st, s, args, NULL, items, n, SIZE_MAX);
	if (db->mysql != NULL)
		mysql_stmt_close(st);
	return rc;
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

DB_STATEMENT(schema_version_get,
	     "SELECT CAST(COALESCE(MAX(version), 0) AS SIGNED) AS n FROM schema_version",
	     DB_NO_PARAMS, DB_ROW_COUNT);

enum db_status db_schema_version(struct txn *t, long *version)
{
	struct db_count row;
	enum db_status rc = db_one(t, &schema_version_get, NULL, &row);
	*version = rc == DB_OK ? (long)row.n : 0;
	return rc == DB_EMPTY ? DB_OK : rc;
}
