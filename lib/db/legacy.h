/* The positional statement API of before the typed statements (db.h):
 * kept only while modules move to the typed one, then deleted. Work runs
 * through db_run inside the transaction of its owner (the request's, or
 * one db_run opens when there is none). */
#ifndef TWOTIER_DB_LEGACY_H
#define TWOTIER_DB_LEGACY_H

#include "db/statements.h"

struct db_stmt_def {
	enum stmt_id id;
	const char *name;
	const char *sql;
	unsigned params;
	unsigned columns;
};

static inline struct db_arg db_str(const char *s)
{
	return db_text(s);
}

/* A fully fetched result: every cell as text (NULL for SQL NULL). */
struct db_rows {
	size_t n_rows, n_cols;
	char **cells; /* owned, n_rows * n_cols */
};

const char *db_cell(const struct db_rows *rows, size_t row, size_t col);
void db_cell_copy(const struct db_rows *rows, size_t row, size_t col, char *buf, size_t bufsz);
void db_rows_free(struct db_rows *rows);
typedef void (*db_row_reader)(const struct db_rows *rows, size_t row, void *item);
void *db_rows_items(struct db_rows *rows, size_t size, db_row_reader read, size_t *n);

/* Runs one registry statement in the open transaction (or autocommit).
 * Returns DB_OK, DB_DUPLICATE, or why it failed (DB_RETRY, DB_LOST,
 * DB_ERROR). */
enum db_status legacy_exec(struct db *db, enum stmt_id id, const struct db_arg *args,
			   struct db_rows *rows, unsigned long long *affected);

typedef enum db_status (*db_work)(struct db *db, void *arg, struct problem *p);

/* Runs work in the transaction its owner opened on db (txn_open), joining
 * it, or in one of its own when there is none, with txn_end's retries.
 * Returns 0, or -1 with p set (the domain's refusal, or 503 / 500 after
 * marking the joined transaction failed). */
int db_run(struct db *db, db_work work, void *arg, struct problem *p);
/* The same for reads: without a transaction of its own. */
int db_read(struct db *db, db_work work, void *arg, struct problem *p);
/* DB_OK, or why the transaction that db_run joined failed. */
enum db_status db_failure(const struct db *db);

struct legacy_page {
	enum stmt_id list, count;
	const char *tenant_id, *cursor;
	long limit;
	struct db_rows rows;
	long total;
};
int legacy_page_read(struct db *db, struct legacy_page *pg, struct problem *p);

enum db_status db_refuse(struct problem *p, enum problem_kind kind, const char *code,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The transaction that the owner of db's current work opened, or NULL. */
struct txn *db_current_txn(struct db *db);

#endif
