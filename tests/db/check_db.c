/* The database layer against a real MariaDB: a throwaway database that
 * tests/db/run makes, migrates and drops (TWOTIER_CONF and TWOTIER_DB_NAME
 * name it). Typed statements and their checks, transactions and their
 * retries, after-commit hooks, lock-free claims, and pages of lists. */
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "mail/template.h"
#include "db_suites.h"

#include <check.h>
#include <mysql.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct config cfg;

/* The scratch tables of these tests, made before any connection prepares
 * the statements below (which name them). */
static const char scratch_sql[] =
    "DROP TABLE IF EXISTS unit_things; DROP TABLE IF EXISTS unit_items; "
    "CREATE TABLE unit_things (id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY, "
    "  small TINYINT NULL, medium SMALLINT NULL, n INT NULL, big BIGINT NULL, flag TINYINT NULL, "
    "  name VARCHAR(10) NULL, body MEDIUMTEXT NULL, at DATETIME(6) NULL, "
    "  roles SET('a', 'b', 'c') NOT NULL DEFAULT '') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4; "
    "CREATE TABLE unit_items (id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY, "
    "  owner VARCHAR(20) CHARACTER SET ascii NOT NULL, label VARCHAR(20) NOT NULL, "
    "  KEY ix_unit_items_owner (owner, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

struct thing {
	char id[UUID_STR];
	signed char small;
	short medium;
	int n;
	long long big;
	bool flag;
	char name[41];
	char *body;
	char at[TIME_STR];
	micros_t at_us;
	unsigned roles;
};
#define THING_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, small, DB_INT)                                                                        \
	F(T, medium, DB_INT)                                                                       \
	F(T, n, DB_INT)                                                                            \
	F(T, big, DB_INT)                                                                          \
	F(T, flag, DB_INT)                                                                         \
	F(T, name, DB_TEXT)                                                                        \
	F(T, body, DB_DUP) F(T, at, DB_TIME) F(T, at_us, DB_MICROS) F(T, roles, DB_INT)

DB_STATEMENT(unit_thing_insert,
	     "INSERT INTO unit_things (id, small, medium, n, big, flag, name, body, at, roles) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_INT | DB_NULLABLE, DB_INT | DB_NULLABLE, DB_INT | DB_NULLABLE,
		       DB_INT | DB_NULLABLE, DB_INT | DB_NULLABLE, DB_TEXT | DB_NULLABLE,
		       DB_TEXT | DB_NULLABLE, DB_TIME | DB_NULLABLE, DB_INT),
	     DB_NO_ROW);

DB_STATEMENT(unit_thing_get,
	     "SELECT id, small, medium, n, big, flag, name, body, at, at AS at_us, "
	     "roles + 0 AS roles FROM unit_things WHERE id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct thing, THING_FIELDS));

DB_STATEMENT(unit_thing_lock, "SELECT COUNT(*) AS n FROM unit_things WHERE id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(unit_thing_count, "SELECT COUNT(*) AS n FROM unit_things WHERE id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(unit_thing_touch, "UPDATE unit_things SET n = n + 1 WHERE id = ?", DB_PARAMS(DB_TEXT),
	     DB_NO_ROW);

/* claims an id without waiting for a lock another transaction holds */
DB_STATEMENT(unit_thing_claim,
	     "SET STATEMENT innodb_lock_wait_timeout = 0 FOR "
	     "INSERT INTO unit_things (id) VALUES (?)",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(unit_connection_id, "SELECT CONNECTION_ID() AS n", DB_NO_PARAMS, DB_ROW_COUNT);

struct item {
	char id[UUID_STR];
	char label[81];
};
#define ITEM_FIELDS(F, T) F(T, id, DB_TEXT) F(T, label, DB_TEXT)

DB_STATEMENT(unit_item_insert, "INSERT INTO unit_items (id, owner, label) VALUES (?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(unit_items_fill,
	     "INSERT INTO unit_items (id, owner, label) SELECT UUID(), ?, 'filler' "
	     "FROM seq_1_to_2000 LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_NO_ROW);
DB_STATEMENT(unit_item_list,
	     "SELECT id, label FROM unit_items WHERE owner = ? AND id > ? ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct item, ITEM_FIELDS));
DB_STATEMENT(unit_item_list_desc,
	     "SELECT id, label FROM unit_items WHERE owner = ? AND id < ? ORDER BY id DESC LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct item, ITEM_FIELDS));
DB_STATEMENT(unit_item_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM unit_items WHERE owner = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

/* the items an owner has, or that are labelled with the owner's name */
DB_STATEMENT(unit_item_list_either,
	     "(SELECT id, label FROM unit_items WHERE owner = ? AND id > ? ORDER BY id LIMIT ?) "
	     "UNION (SELECT id, label FROM unit_items WHERE label = ? AND id > ? ORDER BY id "
	     "LIMIT ?) ORDER BY id",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct item, ITEM_FIELDS));
DB_STATEMENT(unit_item_count_either,
	     "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM unit_items WHERE owner = ? LIMIT ?) a) + "
	     "(SELECT COUNT(*) FROM (SELECT 1 FROM unit_items WHERE label = ? LIMIT ?) b) AS n",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT, DB_INT), DB_ROW_COUNT);
static const struct db_page item_page_either = {.list = &unit_item_list_either,
						.count = &unit_item_count_either,
						.n_keys = 1,
						.cursor_offset = offsetof(struct item, id),
						.branches = 2};

static const struct db_page item_page = {.list = &unit_item_list,
					 .count = &unit_item_count,
					 .n_keys = 1,
					 .cursor_offset = offsetof(struct item, id)};
static const struct db_page item_page_desc = {.list = &unit_item_list_desc,
					      .count = &unit_item_count,
					      .n_keys = 1,
					      .descending = true,
					      .cursor_offset = offsetof(struct item, id)};

/* ---- helpers ---- */

static struct db *connected(void)
{
	char err[512];
	struct db *db = db_new(&cfg, true);
	enum db_status rc = db_connect(db, err, sizeof err);
	ck_assert_msg(rc == DB_OK, "connect: %s", err);
	return db;
}

/* Runs one statement in an autocommit transaction of its own. */
static enum db_status exec_alone(struct db *db, const struct db_stmt *s, const struct db_arg *a)
{
	struct txn t;
	struct problem p = {0};
	enum db_status rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	rc = db_exec(&t, s, a, NULL);
	ck_assert_int_eq(txn_end(&t, rc == DB_OK || rc == DB_DUPLICATE, &p), TXN_COMMITTED);
	return rc;
}

static long long count_of(struct db *db, const char *id)
{
	struct txn t;
	struct problem p = {0};
	struct db_count c = {-1};
	struct db_arg a[] = {db_text(id)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_thing_count, a, &c), DB_OK);
	txn_end(&t, true, &p);
	return c.n;
}

static void new_id(char id[UUID_STR])
{
	uuid_v7(id);
}

/* ---- typed statements ---- */

START_TEST(every_type_reads_back_as_written)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	struct thing got;
	char id[UUID_STR];
	micros_t at = 1796200738123456LL; /* 2026-12-02T08:38:58.123456Z */
	new_id(id);
	struct db_arg a[] = {
	    db_text(id),       db_int(-7), db_int(-30000),	  db_int(2000000000),
	    db_int(1LL << 40), db_int(1),  db_text("ten chars!"), db_text("a body"),
	    db_time(at),       db_int(5)};
	ck_assert_int_eq(exec_alone(db, &unit_thing_insert, a), DB_OK);
	struct db_arg g[] = {db_text(id)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_thing_get, g, &got), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	ck_assert_str_eq(got.id, id);
	ck_assert_int_eq(got.small, -7);
	ck_assert_int_eq(got.medium, -30000);
	ck_assert_int_eq(got.n, 2000000000);
	ck_assert(got.big == 1LL << 40);
	ck_assert(got.flag);
	ck_assert_str_eq(got.name, "ten chars!");
	ck_assert_str_eq(got.body, "a body");
	ck_assert_str_eq(got.at, "2026-12-02T08:38:58.123456Z");
	ck_assert(got.at_us == at);
	ck_assert_uint_eq(got.roles, 5); /* 'a' and 'c': the SET's bits */
	free(got.body);
	db_free(db);
}
END_TEST

START_TEST(null_reads_as_empty_and_zero)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	struct thing got;
	char id[UUID_STR];
	new_id(id);
	struct db_arg a[] = {db_text(id), db_null(), db_null(), db_null(), db_null(),
			     db_null(),	  db_null(), db_null(), db_null(), db_int(0)};
	ck_assert_int_eq(exec_alone(db, &unit_thing_insert, a), DB_OK);
	struct db_arg g[] = {db_text(id)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_thing_get, g, &got), DB_OK);
	txn_end(&t, true, &p);
	ck_assert_int_eq(got.n, 0);
	ck_assert(!got.flag);
	ck_assert_str_eq(got.name, "");
	ck_assert_ptr_null(got.body);
	ck_assert_str_eq(got.at, "");
	ck_assert(got.at_us == 0);
	db_free(db);
}
END_TEST

START_TEST(no_row_is_empty)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	struct thing got;
	struct db_arg g[] = {db_text("00000000-0000-7000-8000-000000000000")};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_thing_get, g, &got), DB_EMPTY);
	ck_assert_int_eq(txn_failure(&t), DB_OK);
	txn_end(&t, true, &p);
	db_free(db);
}
END_TEST

/* name is VARCHAR(10) of utf8mb4 read into 41 bytes; a shorter field would
 * cut it: the layer refuses instead */
struct short_name {
	char name[8];
};
#define SHORT_NAME_FIELDS(F, T) F(T, name, DB_TEXT)
DB_STATEMENT(unit_short_name, "SELECT name FROM unit_things WHERE id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct short_name, SHORT_NAME_FIELDS));

START_TEST(a_value_longer_than_its_field_fails_the_transaction)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	struct short_name got;
	char id[UUID_STR];
	new_id(id);
	struct db_arg a[] = {
	    db_text(id),	   db_null(), db_null(), db_null(), db_null(), db_null(),
	    db_text("0123456789"), db_null(), db_null(), db_int(0)};
	ck_assert_int_eq(exec_alone(db, &unit_thing_insert, a), DB_OK);
	struct db_arg g[] = {db_text(id)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_short_name, g, &got), DB_FAILED);
	ck_assert_int_eq(txn_failure(&t), DB_ERROR);
	ck_assert_int_eq(txn_end(&t, false, &p), TXN_ROLLED_BACK);
	ck_assert_int_eq(problem_status(p.kind), 500);
	problem_clear(&p);
	db_free(db);
}
END_TEST

START_TEST(an_argument_of_another_type_fails_the_transaction)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	struct db_count c;
	struct db_arg wrong[] = {db_int(1)};
	struct db_arg null[] = {db_null()};
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_one(&t, &unit_thing_count, wrong, &c), DB_FAILED);
	ck_assert_int_eq(txn_failure(&t), DB_SCHEMA);
	/* and every later statement of the attempt fails without running */
	struct db_arg right[] = {db_text("x")};
	ck_assert_int_eq(db_one(&t, &unit_thing_count, right, &c), DB_FAILED);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_ROLLED_BACK);
	problem_clear(&p);
	/* NULL where the statement does not take it */
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_thing_count, null, &c), DB_FAILED);
	ck_assert_int_eq(txn_failure(&t), DB_SCHEMA);
	txn_end(&t, false, &p);
	problem_clear(&p);
	db_free(db);
}
END_TEST

/* statements that do not match what they read: never registered, only
 * checked */
static const struct db_stmt misnamed = {.name = "unit_misnamed",
					.sql = "SELECT id, small AS tiny FROM unit_things",
					DB_NO_PARAMS,
					DB_ROW(struct thing, THING_FIELDS)};
struct two {
	char id[UUID_STR];
	long long n;
};
#define TWO_FIELDS(F, T) F(T, id, DB_TEXT) F(T, n, DB_INT)
static const struct db_stmt reordered = {.name = "unit_reordered",
					 .sql = "SELECT n, id FROM unit_things",
					 DB_NO_PARAMS,
					 DB_ROW(struct two, TWO_FIELDS)};
static const struct db_stmt mistyped = {.name = "unit_mistyped",
					.sql = "SELECT id, name AS n FROM unit_things",
					DB_NO_PARAMS,
					DB_ROW(struct two, TWO_FIELDS)};
static const struct db_stmt miscounted = {.name = "unit_miscounted",
					  .sql = "SELECT id FROM unit_things WHERE id = ?",
					  DB_PARAMS(DB_TEXT, DB_TEXT),
					  DB_NO_ROW};
static const struct db_stmt unknown_column = {.name = "unit_unknown",
					      .sql = "SELECT nothing FROM unit_things",
					      DB_NO_PARAMS,
					      DB_ROW(struct two, TWO_FIELDS)};

START_TEST(a_statement_that_does_not_match_the_schema_is_named)
{
	struct db *db = connected();
	char err[512];
	ck_assert_int_eq(db_prepare_check(db, &unit_thing_get, err, sizeof err), DB_OK);
	ck_assert_int_eq(db_prepare_check(db, &misnamed, err, sizeof err), DB_SCHEMA);
	ck_assert_ptr_nonnull(strstr(err, "unit_misnamed"));
	ck_assert_int_eq(db_prepare_check(db, &reordered, err, sizeof err), DB_SCHEMA);
	ck_assert_ptr_nonnull(strstr(err, "column 1 is `n` where the code reads `id`"));
	ck_assert_int_eq(db_prepare_check(db, &mistyped, err, sizeof err), DB_SCHEMA);
	ck_assert_ptr_nonnull(strstr(err, "`n`"));
	ck_assert_int_eq(db_prepare_check(db, &miscounted, err, sizeof err), DB_SCHEMA);
	ck_assert_ptr_nonnull(strstr(err, "1 parameters"));
	ck_assert_int_eq(db_prepare_check(db, &unknown_column, err, sizeof err), DB_SCHEMA);
	ck_assert_ptr_nonnull(strstr(err, "does not prepare"));
	db_free(db);
}
END_TEST

START_TEST(every_declared_statement_is_prepared_at_connect)
{
	size_t n;
	const struct db_stmt *all = db_statements_all(&n);
	bool seen = false;
	for (size_t i = 0; i < n; i++)
		seen = seen || &all[i] == &unit_thing_get;
	ck_assert(seen);
	ck_assert_uint_gt(n, 10); /* the library's as well as these tests' */
	struct db *db = connected();
	db_free(db);
}
END_TEST

/* ---- transactions ---- */

static int hook_runs;
static void hook(void *arg)
{
	hook_runs += *(int *)arg;
}

START_TEST(a_commit_keeps_and_runs_the_hooks_once)
{
	struct db *db = connected(), *other = connected();
	struct txn t;
	struct problem p = {0};
	char id[UUID_STR];
	int one = 1;
	new_id(id);
	struct db_arg a[] = {db_text(id)};
	hook_runs = 0;
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_OK);
	txn_after_commit(&t, hook, &one);
	txn_after_commit(&t, hook, &one); /* the same hook once */
	/* not visible to another connection before the commit */
	ck_assert_int_eq(count_of(other, id), 0);
	ck_assert_int_eq(hook_runs, 0);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(hook_runs, 1);
	ck_assert_int_eq(count_of(other, id), 1);
	db_free(db);
	db_free(other);
}
END_TEST

START_TEST(a_refusal_rolls_back_and_runs_no_hook)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char id[UUID_STR];
	int one = 1;
	new_id(id);
	struct db_arg a[] = {db_text(id)};
	hook_runs = 0;
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_OK);
	txn_after_commit(&t, hook, &one);
	problem_set(&p, PROBLEM_RULE_REFUSED, "refused");
	ck_assert_int_eq(txn_end(&t, false, &p), TXN_ROLLED_BACK);
	ck_assert_int_eq(p.kind, PROBLEM_RULE_REFUSED); /* the work's problem stands */
	ck_assert_int_eq(hook_runs, 0);
	ck_assert_int_eq(count_of(db, id), 0);
	db_free(db);
}
END_TEST

START_TEST(a_duplicate_leaves_the_transaction_going)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char id[UUID_STR], second[UUID_STR];
	new_id(id);
	new_id(second);
	struct db_arg a[] = {db_text(id)}, b[] = {db_text(second)};
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_OK);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_DUPLICATE);
	ck_assert_int_eq(txn_failure(&t), DB_OK);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, b, NULL), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(count_of(db, id), 1);
	ck_assert_int_eq(count_of(db, second), 1);
	db_free(db);
}
END_TEST

START_TEST(commit_now_keeps_the_first_part)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char first[UUID_STR], second[UUID_STR];
	new_id(first);
	new_id(second);
	struct db_arg a[] = {db_text(first)}, b[] = {db_text(second)};
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_OK);
	ck_assert_int_eq(txn_commit_now(&t, &p), 0);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, b, NULL), DB_OK);
	ck_assert_int_eq(txn_end(&t, false, &p), TXN_ROLLED_BACK);
	ck_assert_int_eq(count_of(db, first), 1);
	ck_assert_int_eq(count_of(db, second), 0);
	db_free(db);
}
END_TEST

START_TEST(a_busy_claim_undoes_itself_alone)
{
	struct db *db = connected(), *other = connected();
	struct txn t, u;
	struct problem p = {0};
	char id[UUID_STR], mine[UUID_STR];
	new_id(id);
	new_id(mine);
	struct db_arg a[] = {db_text(id)}, m[] = {db_text(mine)};
	txn_open(&t, db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_thing_claim, a, NULL), DB_OK);
	txn_open(&u, other, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&u, &unit_thing_claim, m, NULL), DB_OK);
	/* the twin's key is held by t, uncommitted: busy at once, not a wait */
	ck_assert_int_eq(db_try_exec(&u, &unit_thing_claim, a, NULL), DB_BUSY);
	ck_assert_int_eq(txn_failure(&u), DB_OK);
	ck_assert_int_eq(txn_end(&u, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(count_of(db, mine), 1);
	db_free(db);
	db_free(other);
}
END_TEST

/* Two transactions that lock two rows in opposite orders: InnoDB aborts
 * one as a deadlock, and txn_end runs it again. */
struct crossing {
	struct db *db;
	const char *first, *second;
	pthread_barrier_t *both_locked;
	int attempts;
	enum txn_outcome outcome;
};

static void *cross(void *arg)
{
	struct crossing *x = arg;
	struct txn t;
	struct problem p = {0};
	struct db_count c;
	enum db_status rc;
	struct db_arg f[] = {db_text(x->first)}, s[] = {db_text(x->second)};
	txn_open(&t, x->db, TXN_ATOMIC);
	do {
		x->attempts++;
		rc = db_one(&t, &unit_thing_lock, f, &c);
		if (x->attempts == 1)
			pthread_barrier_wait(x->both_locked);
		if (rc == DB_OK)
			rc = db_exec(&t, &unit_thing_touch, s, NULL);
	} while ((x->outcome = txn_end(&t, rc == DB_OK, &p)) == TXN_AGAIN);
	problem_clear(&p);
	mysql_thread_end();
	return NULL;
}

START_TEST(a_deadlock_is_run_again_whole)
{
	struct db *a = connected(), *b = connected();
	char one[UUID_STR], two[UUID_STR];
	pthread_barrier_t both;
	pthread_t ta, tb;
	new_id(one);
	new_id(two);
	struct db_arg x[] = {db_text(one)}, y[] = {db_text(two)};
	ck_assert_int_eq(exec_alone(a, &unit_thing_claim, x), DB_OK);
	ck_assert_int_eq(exec_alone(a, &unit_thing_claim, y), DB_OK);
	pthread_barrier_init(&both, NULL, 2);
	struct crossing ca = {a, one, two, &both, 0, TXN_ROLLED_BACK};
	struct crossing cb = {b, two, one, &both, 0, TXN_ROLLED_BACK};
	pthread_create(&ta, NULL, cross, &ca);
	pthread_create(&tb, NULL, cross, &cb);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&both);
	ck_assert_int_eq(ca.outcome, TXN_COMMITTED);
	ck_assert_int_eq(cb.outcome, TXN_COMMITTED);
	ck_assert_int_eq(ca.attempts + cb.attempts, 3); /* one of them twice */
	db_free(a);
	db_free(b);
}
END_TEST

START_TEST(a_lost_connection_is_run_again_on_a_new_one)
{
	struct db *db = connected(), *killer = connected();
	struct txn t;
	struct problem p = {0};
	struct db_count id, after;
	char kill[64];
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, &unit_connection_id, NULL, &id), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	/* KILL is not a statement of the service: run it as a script */
	snprintf(kill, sizeof kill, "KILL CONNECTION %lld", id.n);
	char err[256];
	ck_assert_int_eq(db_script(killer, kill, strlen(kill), err, sizeof err), DB_OK);
	int attempts = 0;
	enum db_status rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do {
		attempts++;
		rc = db_one(&t, &unit_connection_id, NULL, &after);
	} while (txn_end(&t, rc == DB_OK, &p) == TXN_AGAIN);
	ck_assert_int_eq(rc, DB_OK);
	ck_assert_int_eq(attempts, 2);
	ck_assert(after.n != id.n);
	db_free(db);
	db_free(killer);
}
END_TEST

START_TEST(an_unreachable_database_is_503)
{
	struct config bad = cfg;
	struct txn t;
	struct problem p = {0};
	struct db_count c;
	snprintf(bad.db_socket, sizeof bad.db_socket, "/nonexistent/mysqld.sock");
	struct db *db = db_new(&bad, true);
	enum db_status rc;
	txn_open(&t, db, TXN_AUTOCOMMIT);
	do
		rc = db_one(&t, &unit_connection_id, NULL, &c);
	while (txn_end(&t, rc == DB_OK, &p) == TXN_AGAIN);
	ck_assert_int_eq(rc, DB_FAILED);
	ck_assert_int_eq(problem_status(p.kind), 503);
	ck_assert_int_gt(p.retry_after, 0);
	problem_clear(&p);
	db_free(db);
}
END_TEST

/* ---- pages ---- */

static int by_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Fills owner with n items; returns their ids in id order (ids made in one
 * millisecond need not sort in the order they were made). */
static void fill(struct db *db, const char *owner, int n, char ids[][UUID_STR])
{
	for (int i = 0; i < n; i++) {
		char label[16];
		snprintf(label, sizeof label, "item %d", i);
		new_id(ids[i]);
		struct db_arg a[] = {db_text(ids[i]), db_text(owner), db_text(label)};
		ck_assert_int_eq(exec_alone(db, &unit_item_insert, a), DB_OK);
	}
	qsort(ids, (size_t)n, UUID_STR, by_id);
}

START_TEST(pages_walk_a_list_in_id_order_each_way)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char owner[21], ids[25][UUID_STR], cursor[UUID_STR] = "";
	struct db_page_result r;
	snprintf(owner, sizeof owner, "o%llx", (unsigned long long)time_micros());
	fill(db, owner, 25, ids);
	struct db_arg key[] = {db_text(owner)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	int seen = 0;
	for (int page = 0; page < 3; page++) {
		ck_assert_int_eq(db_page_read(&t, &item_page, key, cursor, 10, &r), DB_OK);
		ck_assert_int_eq(r.total, 25);
		ck_assert(!r.total_capped);
		ck_assert_uint_eq(r.n, page < 2 ? 10 : 5);
		for (size_t i = 0; i < r.n; i++, seen++)
			ck_assert_str_eq(((struct item *)r.items)[i].id, ids[seen]);
		ck_assert_str_eq(r.last_id, ids[seen - 1]);
		snprintf(cursor, sizeof cursor, "%s", r.last_id);
		db_page_free(&item_page, &r);
	}
	ck_assert_int_eq(seen, 25);
	ck_assert_int_eq(db_page_read(&t, &item_page, key, cursor, 10, &r), DB_OK);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_ptr_null(r.last_id);
	db_page_free(&item_page, &r);
	/* newest first */
	ck_assert_int_eq(db_page_read(&t, &item_page_desc, key, "", 4, &r), DB_OK);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_str_eq(((struct item *)r.items)[0].id, ids[24]);
	ck_assert_str_eq(r.last_id, ids[21]);
	snprintf(cursor, sizeof cursor, "%s", r.last_id);
	db_page_free(&item_page_desc, &r);
	ck_assert_int_eq(db_page_read(&t, &item_page_desc, key, cursor, 4, &r), DB_OK);
	ck_assert_str_eq(((struct item *)r.items)[0].id, ids[20]);
	db_page_free(&item_page_desc, &r);
	txn_end(&t, true, &p);
	db_free(db);
}
END_TEST

START_TEST(the_count_stops_at_its_cap)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char owner[21];
	struct db_page_result r;
	snprintf(owner, sizeof owner, "c%llx", (unsigned long long)time_micros());
	struct db_arg f[] = {db_text(owner), db_int(DB_COUNT_CAP + 5)};
	ck_assert_int_eq(exec_alone(db, &unit_items_fill, f), DB_OK);
	struct db_arg key[] = {db_text(owner)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_page_read(&t, &item_page, key, "", 3, &r), DB_OK);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_int_eq(r.total, DB_COUNT_CAP);
	ck_assert(r.total_capped);
	db_page_free(&item_page, &r);
	txn_end(&t, true, &p);
	db_free(db);
}
END_TEST

START_TEST(a_page_of_two_branches_is_their_union_in_order)
{
	struct db *db = connected();
	struct txn t;
	struct problem p = {0};
	char owner[21], other[21], ids[10][UUID_STR], cursor[UUID_STR] = "";
	struct db_page_result r;
	snprintf(owner, sizeof owner, "e%llx", (unsigned long long)time_micros());
	snprintf(other, sizeof other, "f%llx", (unsigned long long)time_micros());
	/* five of its own, five of another owner's labelled with its name,
	 * made one after the other so that the branches interleave */
	for (int i = 0; i < 10; i++) {
		new_id(ids[i]);
		struct db_arg a[] = {db_text(ids[i]), db_text(i % 2 ? other : owner),
				     db_text(i % 2 ? owner : "mine")};
		ck_assert_int_eq(exec_alone(db, &unit_item_insert, a), DB_OK);
	}
	qsort(ids, 10, UUID_STR, by_id);
	struct db_arg key[] = {db_text(owner)};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	for (int page = 0, seen = 0; page < 3; page++) {
		ck_assert_int_eq(db_page_read(&t, &item_page_either, key, cursor, 4, &r), DB_OK);
		ck_assert_int_eq(r.total, 10);
		ck_assert_uint_eq(r.n, page < 2 ? 4 : 2);
		for (size_t i = 0; i < r.n; i++, seen++)
			ck_assert_str_eq(((struct item *)r.items)[i].id, ids[seen]);
		snprintf(cursor, sizeof cursor, "%s", r.last_id);
		db_page_free(&item_page_either, &r);
	}
	txn_end(&t, true, &p);
	db_free(db);
}
END_TEST

Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *typed = tcase_create("typed statements");
	tcase_add_test(typed, every_type_reads_back_as_written);
	tcase_add_test(typed, null_reads_as_empty_and_zero);
	tcase_add_test(typed, no_row_is_empty);
	tcase_add_test(typed, a_value_longer_than_its_field_fails_the_transaction);
	tcase_add_test(typed, an_argument_of_another_type_fails_the_transaction);
	tcase_add_test(typed, a_statement_that_does_not_match_the_schema_is_named);
	tcase_add_test(typed, every_declared_statement_is_prepared_at_connect);
	suite_add_tcase(s, typed);
	TCase *txn = tcase_create("transactions");
	tcase_set_timeout(txn, 30);
	tcase_add_test(txn, a_commit_keeps_and_runs_the_hooks_once);
	tcase_add_test(txn, a_refusal_rolls_back_and_runs_no_hook);
	tcase_add_test(txn, a_duplicate_leaves_the_transaction_going);
	tcase_add_test(txn, commit_now_keeps_the_first_part);
	tcase_add_test(txn, a_busy_claim_undoes_itself_alone);
	tcase_add_test(txn, a_deadlock_is_run_again_whole);
	tcase_add_test(txn, a_lost_connection_is_run_again_on_a_new_one);
	tcase_add_test(txn, an_unreachable_database_is_503);
	suite_add_tcase(s, txn);
	TCase *pages = tcase_create("pages");
	tcase_add_test(pages, pages_walk_a_list_in_id_order_each_way);
	tcase_add_test(pages, the_count_stops_at_its_cap);
	tcase_add_test(pages, a_page_of_two_branches_is_their_union_in_order);
	suite_add_tcase(s, pages);
	return s;
}

static const char *env_of(const char *name)
{
	return getenv(name);
}

int main(void)
{
	char err[512];
	const char *conf = getenv("TWOTIER_CONF");
	config_defaults(&cfg);
	if (conf == NULL || config_load(&cfg, conf, err, sizeof err) != 0 ||
	    config_apply_env(&cfg, env_of, err, sizeof err) != 0) {
		fprintf(stderr, "check_db: needs TWOTIER_CONF and the stack's environment (%s)\n",
			conf ? err : "TWOTIER_CONF is not set");
		return 2;
	}
	if (mysql_library_init(0, NULL, NULL) != 0)
		return 2;
	xalloc_init_cjson();
	log_set_level("error");
	if (mail_templates_load(cfg.mail_templates, err, sizeof err) != 0) {
		fprintf(stderr, "check_db: %s\n", err);
		return 2;
	}
	/* the scratch tables, before anything prepares a statement of them */
	struct db *setup = db_new(&cfg, false);
	if (db_connect(setup, err, sizeof err) != DB_OK ||
	    db_script(setup, scratch_sql, strlen(scratch_sql), err, sizeof err) != DB_OK) {
		fprintf(stderr, "check_db: %s\n", err);
		return 2;
	}
	db_free(setup);
	SRunner *sr = srunner_create(db_suite());
	srunner_add_suite(sr, domain_suite(&cfg));
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mysql_library_end();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
