#include "api/idempotency.h"

#include "core/log.h"
#include "core/problem.h"
#include "db/db.h"
#include "http/http.h"
#include "http/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct db_stmt_def stmt_idem_get = {
    STMT_idem_get, "idem_get",
    "SELECT request_hash, status, content_type, etag, location, body, "
    "created_at < UTC_TIMESTAMP(6) - INTERVAL 24 HOUR "
    "FROM idempotency_keys WHERE principal = ? AND idem_key = ? FOR UPDATE",
    2, 7};

const struct db_stmt_def stmt_idem_insert = {
    STMT_idem_insert, "idem_insert",
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

struct begin_work {
	const char *principal, *key, *hash;
	struct response *res;
	enum idem_state state;
};

static enum db_status begin_run(struct db *db, void *arg, struct problem *p)
{
	struct begin_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg k[] = {db_str(w->principal), db_str(w->key)};
	enum db_status rc = db_exec(db, STMT_idem_get, k, &rows, NULL);
	w->state = IDEM_NEW;
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0 && strcmp(db_cell(&rows, 0, 6), "1") == 0) {
		rc = db_exec(db, STMT_idem_delete, k, NULL, NULL); /* expired */
		if (rc != DB_OK)
			goto out;
		db_rows_free(&rows);
	}
	if (rows.n_rows == 0) {
		struct db_arg a[] = {db_str(w->principal), db_str(w->key), db_str(w->hash)};
		rc = db_exec(db, STMT_idem_insert, a, NULL, NULL);
		if (rc == DB_DUPLICATE)
			rc = DB_RETRY; /* a twin got there first: look again */
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 0), w->hash) != 0) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "this Idempotency-Key was used with another request body");
		snprintf(p->code, sizeof p->code, "idempotency_key_reused");
		rc = DB_REFUSED;
		goto out;
	}
	if (db_cell(&rows, 0, 1) == NULL) {
		problem_set(p, PROBLEM_CONFLICT,
			    "the first request with this Idempotency-Key is still running");
		rc = DB_REFUSED;
		goto out;
	}
	const char *body = db_cell(&rows, 0, 5) ? db_cell(&rows, 0, 5) : "";
	response_body(w->res, atoi(db_cell(&rows, 0, 1)), NULL, body, strlen(body));
	/* content_type is a static string in a response; map the stored one */
	const char *ct = db_cell(&rows, 0, 2);
	w->res->content_type = ct == NULL ? NULL
			       : strcmp(ct, "application/problem+json") == 0
				   ? "application/problem+json"
				   : "application/json";
	if (db_cell(&rows, 0, 3) != NULL)
		response_header(w->res, "ETag", db_cell(&rows, 0, 3));
	if (db_cell(&rows, 0, 4) != NULL)
		response_header(w->res, "Location", db_cell(&rows, 0, 4));
	response_header(w->res, "Idempotent-Replayed", "true");
	w->state = IDEM_REPLAY;
out:
	db_rows_free(&rows);
	return rc;
}

int idem_begin(struct db *db, const char *principal, const char *key, const char *request_hash,
	       struct response *res, struct problem *p)
{
	struct begin_work w = {principal, key, request_hash, res, IDEM_NEW};
	if (db_run(db, begin_run, &w, p) != 0)
		return -1;
	return (int)w.state;
}

struct finish_work {
	const char *principal, *key;
	const struct response *res;
	const char *body; /* what is stored */
};

static const char *header_of(const struct response *res, const char *name)
{
	for (size_t i = 0; i < res->n_headers; i++)
		if (strcasecmp(res->headers[i].name, name) == 0)
			return res->headers[i].value;
	return NULL;
}

static enum db_status finish_run(struct db *db, void *arg, struct problem *p)
{
	struct finish_work *w = arg;
	if (w->res->status >= 500) {
		struct db_arg k[] = {db_str(w->principal), db_str(w->key)};
		return db_exec(db, STMT_idem_delete, k, NULL, NULL);
	}
	struct db_arg a[] = {db_int(w->res->status),
			     db_str(w->res->content_type),
			     db_str(header_of(w->res, "ETag")),
			     db_str(header_of(w->res, "Location")),
			     db_str(w->body),
			     db_str(w->principal),
			     db_str(w->key)};
	return db_exec(db, STMT_idem_store, a, NULL, NULL);
}

void idem_finish(struct db *db, const char *principal, const char *key, const struct response *res,
		 const char *secret_field)
{
	struct problem p = {0};
	struct finish_work w = {principal, key, res, res->body ? res->body : ""};
	char *redacted = NULL;
	cJSON *doc = secret_field ? cJSON_ParseWithLength(w.body, res->body_len) : NULL;
	if (cJSON_GetObjectItemCaseSensitive(doc, secret_field) != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(doc, secret_field, cJSON_CreateNull());
		redacted = json_print(doc, NULL);
		w.body = redacted;
	}
	if (db_run(db, finish_run, &w, &p) != 0)
		log_msg(LOG_ERROR, "cannot store the response of an idempotent request: %s",
			p.detail);
	cJSON_Delete(doc);
	free(redacted);
	problem_clear(&p);
}
