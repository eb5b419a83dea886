/* The database layer: one connection per worker thread with every
 * statement prepared once. No auto-reconnect: a lost server is detected,
 * the connection re-opened and the statements prepared again. Work runs
 * in db_run(), a transaction retried on deadlock and lock-wait timeout. */
#ifndef TWOTIER_DB_H
#define TWOTIER_DB_H

#include <stddef.h>
#include <string.h>

#include "core/problem.h"
#include "db/statements.h"

struct config;

/* A statement: its text lives next to the function that runs it; the
 * registry in statements.c lists them all so each connection prepares
 * every one at connect and checks its counts against the schema. */
struct db_stmt_def {
	enum stmt_id id;
	const char *name;
	const char *sql;
	unsigned params;
	unsigned columns;
};

enum db_status {
	DB_OK = 0,
	DB_DUPLICATE, /* unique key violated (1062) */
	DB_RETRY,     /* deadlock (1213) or lock wait timeout (1205): retry the transaction */
	DB_LOST,      /* the server went away or cannot be reached */
	DB_ERROR,     /* any other server error (logged, never shown) */
	DB_SCHEMA,    /* a statement does not match the schema */
	DB_REFUSED,   /* a domain rule refused the work; the problem says why */
};

enum db_arg_type { DB_ARG_NULL, DB_ARG_STR, DB_ARG_INT };

struct db_arg {
	enum db_arg_type type;
	const char *s; /* borrowed */
	unsigned long len;
	long long i;
};

static inline struct db_arg db_str(const char *s)
{
	struct db_arg a = {DB_ARG_NULL, NULL, 0, 0};
	if (s != NULL) {
		a.type = DB_ARG_STR;
		a.s = s;
		a.len = (unsigned long)strlen(s);
	}
	return a;
}

static inline struct db_arg db_int(long long i)
{
	struct db_arg a = {DB_ARG_INT, NULL, 0, i};
	return a;
}

/* A fully fetched result: every cell as text (NULL for SQL NULL). */
struct db_rows {
	size_t n_rows, n_cols;
	char **cells; /* owned, n_rows * n_cols */
};

const char *db_cell(const struct db_rows *rows, size_t row, size_t col);
/* Copies a cell into buf (truncated to fit; "" for NULL or out of range). */
void db_cell_copy(const struct db_rows *rows, size_t row, size_t col, char *buf, size_t bufsz);
void db_rows_free(struct db_rows *rows);

/* Reads row `row` of rows into item (a resource's struct). */
typedef void (*db_row_reader)(const struct db_rows *rows, size_t row, void *item);
/* The rows as an array of items of size bytes, each filled by read; *n
 * is their count. Frees rows; the array is the caller's (free). */
void *db_rows_items(struct db_rows *rows, size_t size, db_row_reader read, size_t *n);

struct db;

/* A disconnected handle for cfg (borrowed; must outlive it). With
 * prepare = 0 the connection prepares nothing (the migration tool, which
 * runs before the tables exist). */
struct db *db_new(const struct config *cfg, int prepare);
void db_free(struct db *db);

/* Connects if not connected, preparing every statement and checking its
 * parameter and column counts. Returns DB_OK, DB_LOST (unreachable) or
 * DB_SCHEMA / DB_ERROR with the reason, naming the statement, in err. */
enum db_status db_connect(struct db *db, char *err, size_t errsz);

/* Runs one statement with args (def->params of them). rows (may be NULL)
 * receives the result set; affected (may be NULL) the affected rows. */
enum db_status db_exec(struct db *db, enum stmt_id id, const struct db_arg *args,
		       struct db_rows *rows, unsigned long long *affected);

/* Prepares def, runs it once and closes it: for the admin tool's
 * statements, which are not in the per-connection registry. */
enum db_status db_exec_once(struct db *db, const struct db_stmt_def *def, const struct db_arg *args,
			    struct db_rows *rows);

/* The work of one transaction. It may run more than once (after a
 * deadlock), so it must reset what it outputs on entry. Returns DB_OK, a
 * db_exec status, or DB_REFUSED with p set. */
typedef enum db_status (*db_work)(struct db *db, void *arg, struct problem *p);

/* Runs work in a transaction: connects first if needed; retries on
 * DB_RETRY up to 3 times and once after a lost connection. Returns 0 when
 * committed, else -1 with p set (the domain's problem, or 503 / 500).
 *
 * Called inside the work of another db_run, it joins that transaction
 * instead: its work commits with the outer one. A refusal (DB_REFUSED)
 * rolls back only what this work wrote (a savepoint) and returns -1 with
 * the domain's problem; any other failure returns -1 with 503 / 500 and
 * leaves db_failure set, and the outer work must then return that status,
 * so that the whole transaction is retried or given up. */
int db_run(struct db *db, db_work work, void *arg, struct problem *p);

/* Runs work without a transaction, each statement on its own (autocommit):
 * for reads on the request path, which need no snapshot and so save two
 * round trips. Reconnects and retries like db_run; inside a db_run it
 * reads in that transaction, like a nested db_run. */
int db_read(struct db *db, db_work work, void *arg, struct problem *p);

/* DB_OK, or the status that made nested work (a db_run or db_read inside
 * the work of a db_run) give up the transaction it joined. */
enum db_status db_failure(const struct db *db);

/* One page of a tenant's list: `list` takes (tenant_id, cursor, cursor,
 * limit) with "" as the first page's cursor, `count` takes (tenant_id).
 * Each runs on its own, without a transaction (two round trips fewer): the
 * total may count what committed between the two, as a total of a list
 * that others change can always be out of date by the time it is read. On
 * success rows (owned: db_rows_free) and total are set. */
struct db_page {
	enum stmt_id list, count;
	const char *tenant_id, *cursor;
	long limit;
	struct db_rows rows;
	long total;
};
int db_page_read(struct db *db, struct db_page *pg, struct problem *p);

/* A domain rule's refusal: sets p (kind, the detail from fmt, code as its
 * machine-readable reason, or none when NULL) and returns DB_REFUSED, for
 * work functions to return. */
enum db_status db_refuse(struct problem *p, enum problem_kind kind, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The newest migration applied (0 before any). Returns 0, or -1 with p
 * set (503). */
int db_schema_version(struct db *db, long *version, struct problem *p);

/* Runs one multi-statement SQL script outside any transaction (the
 * migration tool's use). Returns DB_OK or DB_ERROR with err set. */
enum db_status db_script(struct db *db, const char *sql, size_t len, char *err, size_t errsz);

#endif
