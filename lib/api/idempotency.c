#include "api/idempotency.h"

#include "core/problem.h"
#include "db/db.h"
#include "http/http.h"
#include "http/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const struct db_stmt_def stmt_idem_get = {
    STMT_idem_get, "idem_get",
    "SELECT request_hash, status, content_type, etag, location, body, "
    "created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR "
    "FROM idempotency_keys WHERE principal = ? AND idem_key = ?",
    2, 7};

/* Never waits for the key's row lock: a twin transaction holding it is a
 * request still running, answered 409 at once (1205 without a wait). */
const struct db_stmt_def stmt_idem_insert = {
    STMT_idem_insert, "idem_insert",
    "SET STATEMENT innodb_lock_wait_timeout = 0 FOR "
    "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
    3, 0};

const struct db_stmt_def stmt_idem_delete = {
    STMT_idem_delete, "idem_delete",
    "DELETE FROM idempotency_keys WHERE principal = ? AND idem_key = ?", 2, 0};

const struct db_stmt_def stmt_idem_store = {
    STMT_idem_store, "idem_store",
    "UPDATE idempotency_keys SET status = ?, content_type = ?, etag = ?, location = ?, "
    "body = ? WHERE principal = ? AND idem_key = ?",
    7, 0};

static enum db_status still_running(struct problem *p)
{
	problem_set(p, PROBLEM_CONFLICT,
		    "the first request with this Idempotency-Key is still running");
	return DB_REFUSED;
}

/* The committed row of a key: replayed, or refused for another body. */
static enum db_status replay(const struct db_rows *rows, const char *hash, struct response *res,
			     struct problem *p)
{
	if (strcmp(db_cell(rows, 0, 0), hash) != 0) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "this Idempotency-Key was used with another request body");
		snprintf(p->code, sizeof p->code, "idempotency_key_reused");
		return DB_REFUSED;
	}
	/* a row without a response is one a version before 0004 claimed and
	 * never finished: whether its change committed is unknown, so it is
	 * never run again */
	if (db_cell(rows, 0, 1) == NULL)
		return still_running(p);
	const char *body = db_cell(rows, 0, 5) ? db_cell(rows, 0, 5) : "";
	response_body(res, atoi(db_cell(rows, 0, 1)), NULL, body, strlen(body));
	/* content_type is a static string in a response; map the stored one */
	const char *ct = db_cell(rows, 0, 2);
	res->content_type = ct == NULL ? NULL
			    : strcmp(ct, "application/problem+json") == 0
				? "application/problem+json"
				: "application/json";
	if (db_cell(rows, 0, 3) != NULL)
		response_header(res, "ETag", db_cell(rows, 0, 3));
	if (db_cell(rows, 0, 4) != NULL)
		response_header(res, "Location", db_cell(rows, 0, 4));
	response_header(res, "Idempotent-Replayed", "true");
	return DB_OK;
}

enum db_status idem_claim(struct db *db, const char *principal, const char *key,
			  const char *request_hash, struct response *res, enum idem_state *state,
			  struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg k[] = {db_str(principal), db_str(key)};
	struct db_arg a[] = {db_str(principal), db_str(key), db_str(request_hash)};
	enum db_status rc = db_exec(db, STMT_idem_insert, a, NULL, NULL);
	/* A lock wait on the claim is a twin holding the key, or, for an
	 * instant, another transaction's lock on the gap of the index that a
	 * new key goes into (seen under load with distinct keys): tried twice
	 * more, milliseconds apart, before it is taken for a twin. Never a
	 * deadlock: the claim is the transaction's first statement and waits
	 * for nothing. */
	for (int i = 1; rc == DB_RETRY && i <= 2; i++) {
		struct timespec pause = {0, 2000000L * i};
		nanosleep(&pause, NULL);
		rc = db_exec(db, STMT_idem_insert, a, NULL, NULL);
	}
	*state = IDEM_NEW;
	if (rc == DB_RETRY)
		return still_running(p);
	if (rc != DB_DUPLICATE)
		goto out;
	rc = db_exec(db, STMT_idem_get, k, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) { /* deleted since: claim it again */
		rc = DB_RETRY;
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 6), "1") == 0) { /* expired, not purged yet */
		rc = db_exec(db, STMT_idem_delete, k, NULL, NULL);
		if (rc == DB_OK)
			rc = db_exec(db, STMT_idem_insert, a, NULL, NULL);
		goto out;
	}
	rc = replay(&rows, request_hash, res, p);
	if (rc == DB_OK)
		*state = IDEM_REPLAY;
out:
	db_rows_free(&rows);
	return rc;
}

static const char *header_of(const struct response *res, const char *name)
{
	for (size_t i = 0; i < res->n_headers; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

enum db_status idem_store(struct db *db, const char *principal, const char *key,
			  const struct response *res, const char *secret_field)
{
	const char *body = res->body ? res->body : "";
	char *redacted = NULL;
	cJSON *doc = secret_field ? cJSON_ParseWithLength(body, res->body_len) : NULL;
	if (cJSON_GetObjectItemCaseSensitive(doc, secret_field) != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(doc, secret_field, cJSON_CreateNull());
		redacted = json_print(doc, NULL);
		body = redacted;
	}
	struct db_arg a[] = {db_int(res->status),
			     db_str(res->content_type),
			     db_str(header_of(res, "ETag")),
			     db_str(header_of(res, "Location")),
			     db_str(body),
			     db_str(principal),
			     db_str(key)};
	enum db_status rc = db_exec(db, STMT_idem_store, a, NULL, NULL);
	cJSON_Delete(doc);
	free(redacted);
	return rc;
}
