/* The database layer: one connection per worker thread with every
 * statement prepared once, and transactions that their owner opens, ends
 * and retries. No auto-reconnect: a lost server is detected, the
 * connection opened again and the statements prepared again.
 *
 * A statement is declared once, by the module that owns its table, with
 * DB_STATEMENT: its text, the type of each parameter and its result
 * columns by name and C type. Every statement of the program is prepared
 * at connect and its counts, column names and column types checked
 * against the schema, so a drift stops the start with a message that
 * names the statement. This layer names nothing above it: the statements
 * find it through a linker section, not through a list here. */
#ifndef TWOTIER_DB_H
#define TWOTIER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/problem.h"
#include "core/util.h"

struct config;
struct db;

/* The type of a parameter or a result column. */
enum db_type {
	/* param: long long. column: an integer field of 1, 2, 4 or 8 bytes
	 * (bool, int, unsigned, long); NULL reads as 0. A SET column read
	 * as `col + 0` is its members' bits. */
	DB_INT = 1,
	/* param: const char *. column: a char array, "" for NULL; a value
	 * that does not fit is an error, never cut. */
	DB_TEXT,
	/* param: micros_t. column: a char[TIME_STR] in the API's form
	 * ("2026-12-02T17:38:58.123456Z"), "" for NULL. */
	DB_TIME,
	/* column: micros_t, 0 for NULL. */
	DB_MICROS,
	/* column: char *, the value in a new allocation (the reader frees
	 * it), NULL for NULL: for text of no fixed bound. */
	DB_DUP,
	/* param flag: the value may be NULL (db_text(NULL), db_null()) */
	DB_NULLABLE = 0x40,
};

/* One result column: read into the field at offset of the row struct. */
struct db_col {
	const char *name; /* the field's name, which the SELECT must use */
	enum db_type type;
	size_t offset, size;
};

/* A statement; declare it with DB_STATEMENT, never by hand. */
struct db_stmt {
	const char *name;
	const char *sql;
	const unsigned char *params; /* enum db_type of each '?' */
	unsigned n_params;
	const struct db_col *cols;
	unsigned n_cols;
	size_t row_size; /* of the struct a row is read into */
};

/* Declares the statement `id` of this file (static: a module exports
 * functions, never statements):
 *
 *   DB_STATEMENT(user_get,
 *       "SELECT u.id, u.email, u.roles + 0 AS roles FROM users u WHERE u.id = ?",
 *       DB_PARAMS(DB_TEXT), DB_ROW(struct user_view, USER_FIELDS));
 *
 * with USER_FIELDS(F, T) a list of F(T, field, type): the columns in
 * SELECT order, each named as its field (an alias where the expression is
 * not a plain column; a field of a nested struct, a.b, is selected as
 * a_b). DB_NO_PARAMS and DB_NO_ROW for a statement without either. */
#define DB_STATEMENT(id, text, params, row)                                                        \
	__attribute__((section("twotier_stmts"), used,                                             \
		       aligned(8))) static const struct db_stmt id = {                             \
	    .name = #id, .sql = text, params, row}

/* The same for a statement that is not prepared at connect but run once
 * by db_exec_once (the migration tool's, which run before the tables
 * exist). */
#define DB_STATEMENT_ONCE(id, text, params, row)                                                   \
	static const struct db_stmt id = {.name = #id, .sql = text, params, row}

#define DB_PARAMS(...)                                                                             \
	.params = (const unsigned char[]){__VA_ARGS__},                                            \
	.n_params = sizeof((const unsigned char[]){__VA_ARGS__})
#define DB_NO_PARAMS	       .params = NULL, .n_params = 0
#define DB_COL(T, field, type) {#field, type, offsetof(T, field), sizeof(((T *)0)->field)},
#define DB_ROW(T, FIELDS)                                                                          \
	.cols = (const struct db_col[]){FIELDS(DB_COL, T)},                                        \
	.n_cols = sizeof((const struct db_col[]){FIELDS(DB_COL, T)}) / sizeof(struct db_col),      \
	.row_size = sizeof(T)
#define DB_NO_ROW .cols = NULL, .n_cols = 0, .row_size = 0

/* The row of a statement that reads one number (a count), named n. */
struct db_count {
	long long n;
};
#define DB_COUNT_FIELDS(F, T) F(T, n, DB_INT)
#define DB_ROW_COUNT	      DB_ROW(struct db_count, DB_COUNT_FIELDS)

/* An argument of a statement; made by the helpers below, which borrow. */
struct db_arg {
	unsigned char type; /* enum db_type, 0 for NULL */
	const char *s;
	unsigned long len;
	long long i;
};

static inline struct db_arg db_text(const char *s)
{
	struct db_arg a = {0, NULL, 0, 0};
	if (s != NULL) {
		a.type = DB_TEXT;
		a.s = s;
		a.len = (unsigned long)strlen(s);
	}
	return a;
}

static inline struct db_arg db_int(long long i)
{
	struct db_arg a = {DB_INT, NULL, 0, i};
	return a;
}

static inline struct db_arg db_time(micros_t t)
{
	struct db_arg a = {DB_TIME, NULL, 0, t};
	return a;
}

static inline struct db_arg db_null(void)
{
	struct db_arg a = {0, NULL, 0, 0};
	return a;
}

enum db_status {
	DB_OK = 0,
	DB_EMPTY,     /* db_one: no row */
	DB_DUPLICATE, /* a unique key refused the row (1062); the transaction goes on */
	DB_BUSY,      /* db_try_exec: another transaction holds the lock */
	DB_FAILED,    /* the transaction failed: txn_end retries it or says why */
	/* why a transaction failed (txn_failure) */
	DB_RETRY,  /* deadlock (1213) or lock wait timeout (1205): run it again */
	DB_LOST,   /* the server went away or cannot be reached */
	DB_ERROR,  /* any other server error (logged, never shown) */
	DB_SCHEMA, /* a statement does not match the schema, or its arguments its types */
};

/* A disconnected handle for cfg (borrowed; must outlive it). With
 * prepare = false the connection prepares nothing (the migration tool,
 * which runs before the tables exist). */
struct db *db_new(const struct config *cfg, bool prepare);
void db_free(struct db *db);

/* Connects if not connected, preparing every statement and checking it.
 * Returns DB_OK, DB_LOST (unreachable) or DB_SCHEMA / DB_ERROR with the
 * reason, naming the statement, in err. */
enum db_status db_connect(struct db *db, char *err, size_t errsz);

/* Prepares s on db's connection and checks it as db_connect checks every
 * declared statement (counts, column names and types), then closes it:
 * for the tests of this layer and for tools. DB_OK, or DB_SCHEMA /
 * DB_LOST with the reason in err. */
enum db_status db_prepare_check(struct db *db, const struct db_stmt *s, char *err, size_t errsz);

/* Every declared statement, for a start-up report; n receives the count. */
const struct db_stmt *db_statements_all(size_t *n);

/* ---- transactions ----
 *
 * The owner of a unit of work (the request pipeline, a background
 * thread) opens it, runs the work, and ends it; txn_end says whether to
 * run the work again:
 *
 *   struct txn t;
 *   txn_open(&t, db, TXN_ATOMIC);
 *   do
 *       rc = outbox_claim(&t, ..., &p);
 *   while (txn_end(&t, rc == 0, &p) == TXN_AGAIN);
 *
 * An atomic transaction sends START TRANSACTION before its first statement
 * (none at all for work that runs none). In autocommit each statement
 * commits on its own, two round trips fewer and no snapshot: for reads,
 * and for work whose statements stand alone (a purge's batches, a mail's
 * outcome). An atomic transaction at READ COMMITTED takes no gap locks
 * (its locking reads lock the rows they return, no range), for a queue's
 * worker that must not hold up the writers appending to it; each statement
 * sees what had committed when it began. */
enum txn_mode {
	TXN_AUTOCOMMIT,		   /* each statement on its own */
	TXN_ATOMIC,		   /* all of the work, or none of it */
	TXN_ATOMIC_READ_COMMITTED, /* the same, at READ COMMITTED */
};
enum txn_outcome {
	TXN_COMMITTED,	 /* the work succeeded and its changes are kept */
	TXN_ROLLED_BACK, /* the work refused (its p), or the database failed (p set) */
	TXN_AGAIN,	 /* rolled back after a deadlock or a lost connection: run it again */
};

#define TXN_HOOKS 4
struct txn {
	/* private to db.c */
	struct db *db;
	enum txn_mode mode;
	bool started;
	enum db_status failure;
	int deadlocks, reconnects;
	struct {
		void (*fn)(void *);
		void *arg;
	} hooks[TXN_HOOKS];
	size_t n_hooks;
};

void txn_open(struct txn *t, struct db *db, enum txn_mode mode);

/* Ends one attempt: ok commits (after which the hooks run), !ok rolls
 * back. After a failure of the database it rolls back and returns
 * TXN_AGAIN while retries remain (3 after deadlocks, with a pause; 1
 * after a lost connection), else TXN_ROLLED_BACK with p set to 503 (busy,
 * unreachable, or the commit's fate unknown) or 500. The transaction is
 * ready for the next attempt either way. */
enum txn_outcome txn_end(struct txn *t, bool ok, struct problem *p);

/* Commits what the work did so far and goes on in a new transaction: for
 * the rare route whose first part must stand whatever the second does
 * (a failed sign-in is counted before the password is checked). Returns
 * 0, or -1 with p set when the commit failed. */
int txn_commit_now(struct txn *t, struct problem *p);

/* fn(arg) runs once the transaction commits (not if it rolls back):
 * the mail sender's wake-up, say. The same fn and arg are kept once. */
void txn_after_commit(struct txn *t, void (*fn)(void *), void *arg);

/* Ends the attempt as failed for a reason of the program, not of the
 * database (a mail that cannot be rendered): txn_end answers 500 and does
 * not retry. Returns DB_FAILED, for the work to return. */
enum db_status txn_abort(struct txn *t);

/* DB_OK, or why the transaction failed. */
enum db_status txn_failure(const struct txn *t);
struct db *txn_db(const struct txn *t);

/* ---- statements ----
 * Each runs s with args (s->n_params of them, of its types) in t. After a
 * failure of the database they return DB_FAILED, and so does every later
 * call in the same attempt: the work gives up and txn_end decides. */

/* A statement without rows; *affected (may be NULL) the rows it changed.
 * DB_OK, DB_DUPLICATE, DB_FAILED. */
enum db_status db_exec(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
		       unsigned long long *affected);
/* The same for a statement that does not wait for a lock (it sets
 * innodb_lock_wait_timeout = 0): DB_BUSY when another transaction holds
 * it, which undoes the statement alone and leaves t going. */
enum db_status db_try_exec(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
			   unsigned long long *affected);
/* The first row into *row (a struct of s's row type; zeroed first).
 * DB_OK, DB_EMPTY when there is none, DB_FAILED. */
enum db_status db_one(struct txn *t, const struct db_stmt *s, const struct db_arg *args, void *row);
/* Every row, into a new array of s->row_size items (*items, the caller's
 * to free; NULL when none) and *n. DB_OK, DB_FAILED. */
enum db_status db_all(struct txn *t, const struct db_stmt *s, const struct db_arg *args,
		      void **items, size_t *n);

/* ---- pages of a list (SPEC §6) ----
 * A list is read in id order (or its reverse) from after the cursor, the
 * id of the last item of the page before, through an index that starts
 * with the list's keys and ends with the id: a page costs the same
 * whatever the length of the list.
 *
 *   list:  keys..., cursor (DB_TEXT), limit (DB_INT): "... WHERE k = ? AND id > ?
 *          ORDER BY id LIMIT ?" ("id < ?" ... "DESC" when descending)
 *   count: keys..., cap (DB_INT): "SELECT COUNT(*) AS n FROM (SELECT 1 FROM ...
 *          WHERE k = ? LIMIT ?) c": counts no further than the cap.
 *
 * The cap is the largest page (list.c): counting to 1,000 took a tenant of
 * 100,000 users 0.34 ms against 0.14 ms for one of ten, most of what made
 * its page dearer; counting to 200 takes 0.17 ms. */
#define DB_COUNT_CAP 200
/* The index a list statement reads, forced, after its table in the FROM:
 * without it MariaDB may read the index by its leading key alone (a `ref`
 * that the column's statistics make look cheap) and walk every entry before
 * the cursor: a deep page of a tenant's 100,000 users took 10 ms so,
 * against 0.2 ms as a range from the cursor. */
#define DB_LIST_INDEX(name) "FORCE INDEX (" name ") "
struct db_page {
	const struct db_stmt *list, *count;
	unsigned n_keys;
	bool descending;
	size_t cursor_offset; /* of the id field (char[UUID_STR]) in the row */
	/* frees what an item owns (its DB_DUP fields), or NULL */
	void (*item_free)(void *item);
	/* A list that is the union of several index ranges (sent OR
	 * received) is read as a UNION of that many ordered, limited SELECTs:
	 * the list statement takes (keys, cursor, limit) once a branch, the
	 * count (keys, cap) once a branch and adds the branches' counts up,
	 * and the page keeps the first limit rows of the union. 0 means 1. */
	unsigned branches;
};

struct db_page_result {
	void *items; /* owned: db_page_free */
	size_t n;
	long total;	     /* the list's length, up to DB_COUNT_CAP */
	bool total_capped;   /* the list is longer than DB_COUNT_CAP */
	const char *last_id; /* the id of the last item, or NULL when none */
};

/* One page: limit items after cursor ("" for the first page). DB_OK or
 * DB_FAILED. */
enum db_status db_page_read(struct txn *t, const struct db_page *pg, const struct db_arg *keys,
			    const char *cursor, long limit, struct db_page_result *out);
void db_page_free(const struct db_page *pg, struct db_page_result *r);

/* ---- what sits outside transactions ---- */

/* Prepares s, runs it once and closes it: for the migration tool, whose
 * statements are not prepared at connect. Rows as db_all. */
enum db_status db_exec_once(struct db *db, const struct db_stmt *s, const struct db_arg *args,
			    void **items, size_t *n);

/* Runs one multi-statement SQL script outside any transaction (the
 * migration tool's use). Returns DB_OK or DB_ERROR with err set. */
enum db_status db_script(struct db *db, const char *sql, size_t len, char *err, size_t errsz);

/* The newest migration applied (0 before any), read in t. DB_OK or
 * DB_FAILED. */
enum db_status db_schema_version(struct txn *t, long *version);

#endif
