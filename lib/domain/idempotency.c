#include "domain/idempotency.h"

#include "core/problem.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct idem_row {
	char request_hash[65];
	long status;
	char content_type[65], etag[65], location[256];
	char *body;
	bool expired;
};
#define IDEM_FIELDS(F, T)                                                                          \
	F(T, request_hash, DB_TEXT)                                                                \
	F(T, status, DB_INT)                                                                       \
	F(T, content_type, DB_TEXT)                                                                \
	F(T, etag, DB_TEXT) F(T, location, DB_TEXT) F(T, body, DB_DUP) F(T, expired, DB_INT)

DB_STATEMENT(idem_get,
	     "SELECT request_hash, status, content_type, etag, location, body, "
	     "created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR AS expired "
	     "FROM idempotency_keys WHERE principal = ? AND idem_key = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct idem_row, IDEM_FIELDS));

/* Never waits for the key's row lock: a twin transaction holding it is a
 * request still running, answered 409 at once (1205 without a wait). */
DB_STATEMENT(idem_insert,
	     "SET STATEMENT innodb_lock_wait_timeout = 0 FOR "
	     "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) "
	     "VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(idem_delete, "DELETE FROM idempotency_keys WHERE principal = ? AND idem_key = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(idem_update,
	     "UPDATE idempotency_keys SET status = ?, content_type = ?, etag = ?, location = ?, "
	     "body = ? WHERE principal = ? AND idem_key = ?",
	     DB_PARAMS(DB_INT, DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE,
		       DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_NO_ROW);

/* ORDER BY the column the index covers: each batch is the oldest rows,
 * found through the index, the same ones on every host. */
DB_STATEMENT(idem_purge_expired,
	     "DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR "
	     "ORDER BY created_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status idem_purge(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &idem_purge_expired, a, deleted);
}

void idem_response_clear(struct idem_response *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

static int still_running(struct problem *p)
{
	return problem_set(p, PROBLEM_CONFLICT,
			   "the first request with this Idempotency-Key is still running");
}

int idem_claim(struct txn *t, const char *principal, const char *key, const char *request_hash,
	       enum idem_state *state, struct idem_response *stored, struct problem *p)
{
	struct idem_row row = {0};
	struct db_arg k[] = {db_text(principal), db_text(key)};
	struct db_arg a[] = {db_text(principal), db_text(key), db_text(request_hash)};
	int rc = -1;
	*state = IDEM_NEW;
	memset(stored, 0, sizeof *stored);
	enum db_status st = db_try_exec(t, &idem_insert, a, NULL);
	/* A lock wait on the claim is a twin holding the key, or another
	 * transaction's lock on the gap of the index that a new key goes into
	 * (seen under load with distinct keys), held until that transaction
	 * commits: tried again, 2 to 128 ms apart (254 ms in all: a commit on
	 * a Galera cluster waits for certification, tens of milliseconds),
	 * before it is taken for a twin. Never a deadlock: the claim is the
	 * transaction's first statement and waits for nothing. */
	for (int i = 0; st == DB_BUSY && i < 7; i++) {
		struct timespec pause = {0, 2000000L << i};
		nanosleep(&pause, NULL);
		st = db_try_exec(t, &idem_insert, a, NULL);
	}
	if (st == DB_OK)
		return 0;
	if (st == DB_BUSY)
		return still_running(p);
	if (st != DB_DUPLICATE)
		return -1;
	st = db_one(t, &idem_get, k, &row);
	if (st == DB_EMPTY) { /* an expired key, purged since: claimed afresh */
		st = db_try_exec(t, &idem_insert, a, NULL);
		return st == DB_OK ? 0 : st == DB_FAILED ? -1 : still_running(p);
	}
	if (st != DB_OK)
		goto out;
	if (row.expired) { /* not purged yet: claimed afresh */
		if (db_exec(t, &idem_delete, k, NULL) == DB_OK &&
		    db_exec(t, &idem_insert, a, NULL) == DB_OK)
			rc = 0;
		goto out;
	}
	if (strcmp(row.request_hash, request_hash) != 0) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "this Idempotency-Key was used with another request body");
		snprintf(p->code, sizeof p->code, "idempotency_key_reused");
		goto out;
	}
	/* a row without a response is one a version before 0004 claimed and
	 * never finished: whether its change committed is unknown, so it is
	 * never run again */
	if (row.status == 0) {
		still_running(p);
		goto out;
	}
	stored->status = row.status;
	memcpy(stored->content_type, row.content_type, sizeof row.content_type);
	memcpy(stored->etag, row.etag, sizeof row.etag);
	memcpy(stored->location, row.location, sizeof row.location);
	stored->body = row.body;
	row.body = NULL;
	*state = IDEM_REPLAY;
	rc = 0;
out:
	free(row.body);
	return rc;
}

int idem_store(struct txn *t, const char *principal, const char *key, const struct idem_response *r)
{
	struct db_arg a[] = {db_int(r->status),
			     db_text(r->content_type[0] ? r->content_type : NULL),
			     db_text(r->etag[0] ? r->etag : NULL),
			     db_text(r->location[0] ? r->location : NULL),
			     db_text(r->body ? r->body : ""),
			     db_text(principal),
			     db_text(key)};
	return db_exec(t, &idem_update, a, NULL) == DB_OK ? 0 : -1;
}
