#include "mail/outbox.h"

#include "core/problem.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_outbox_insert = {
    STMT_outbox_insert, "outbox_insert",
    "INSERT INTO mail_outbox (id, tenant_id, template, language, recipient, subject, body, "
    "status, attempts, next_attempt_at, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, UTC_TIMESTAMP(6), ?)",
    8, 0};

#define OUTBOX_COLUMNS                                                                             \
	"id, tenant_id, template, recipient, subject, status, attempts, next_attempt_at, "         \
	"created_at, sent_at, last_error"

const struct db_stmt_def stmt_outbox_list = {
    STMT_outbox_list, "outbox_list",
    "SELECT " OUTBOX_COLUMNS " FROM mail_outbox WHERE status = ? AND (? = '' OR id > ?) "
    "ORDER BY id LIMIT ?",
    4, 11};

const struct db_stmt_def stmt_outbox_count = {
    STMT_outbox_count, "outbox_count", "SELECT COUNT(*) FROM mail_outbox WHERE status = ?", 1, 1};

/* the same for every status: the key is the word 'all' */
const struct db_stmt_def stmt_outbox_list_all = {
    STMT_outbox_list_all, "outbox_list_all",
    "SELECT " OUTBOX_COLUMNS " FROM mail_outbox WHERE ? = 'all' AND (? = '' OR id > ?) "
    "ORDER BY id LIMIT ?",
    4, 11};

const struct db_stmt_def stmt_outbox_count_all = {
    STMT_outbox_count_all, "outbox_count_all", "SELECT COUNT(*) FROM mail_outbox WHERE ? = 'all'",
    1, 1};

const struct db_stmt_def stmt_outbox_get = {
    STMT_outbox_get, "outbox_get",
    "SELECT " OUTBOX_COLUMNS " FROM mail_outbox WHERE id = ? FOR UPDATE", 1, 11};

const struct db_stmt_def stmt_outbox_requeue = {
    STMT_outbox_requeue, "outbox_requeue",
    "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = "
    "UTC_TIMESTAMP(6), claimed_by = NULL, version = version + 1 WHERE id = ? AND status = "
    "'failed'",
    1, 0};

const struct db_stmt_def stmt_outbox_backlog = {
    STMT_outbox_backlog, "outbox_backlog",
    "SELECT status, COUNT(*) FROM mail_outbox WHERE status IN ('pending', 'sending', 'failed') "
    "GROUP BY status",
    0, 2};

static void (*wake_hook)(void);

void outbox_set_wake(void (*wake)(void))
{
	wake_hook = wake;
}

/* After the commit of a change that queued mail: the sender need not wait
 * for its next poll. */
static void wake_after_commit(void *unused)
{
	(void)unused;
	if (wake_hook != NULL)
		wake_hook();
}

enum db_status outbox_enqueue(struct db *db, const struct outbox_mail *m)
{
	char id[UUID_STR], at[TIME_STR];
	char *subject = NULL, *body = NULL;
	const char *lang = mail_language_known(m->language) ? m->language : "en";
	enum db_status rc = DB_ERROR;
	if (mail_render(m->template, lang, m->vars, m->n_vars, &subject, &body) != 0)
		goto out;
	uuid_v7(id);
	time_now(at, NULL);
	struct db_arg a[] = {db_str(id),
			     db_str(m->tenant_id),
			     db_str(mail_template_name(m->template)),
			     db_str(lang),
			     db_str(m->recipient),
			     db_str(subject),
			     db_str(body),
			     db_str(at)};
	rc = legacy_exec(db, STMT_outbox_insert, a, NULL, NULL);
	if (rc == DB_OK)
		txn_after_commit(db_current_txn(db), wake_after_commit, NULL);
out:
	free(subject);
	free(body);
	return rc;
}

static void row_read(const struct db_rows *rows, size_t i, void *item)
{
	struct outbox_row *r = item;
	char t[TIME_STR];
	db_cell_copy(rows, i, 0, r->id, sizeof r->id);
	db_cell_copy(rows, i, 1, r->tenant_id, sizeof r->tenant_id);
	db_cell_copy(rows, i, 2, r->template, sizeof r->template);
	db_cell_copy(rows, i, 3, r->recipient, sizeof r->recipient);
	r->subject = xstrdup(db_cell(rows, i, 4) ? db_cell(rows, i, 4) : "");
	db_cell_copy(rows, i, 5, r->status, sizeof r->status);
	r->attempts = atol(db_cell(rows, i, 6) ? db_cell(rows, i, 6) : "0");
	db_cell_copy(rows, i, 7, t, sizeof t);
	time_sql_to_api(t, r->next_attempt_at);
	db_cell_copy(rows, i, 8, t, sizeof t);
	time_sql_to_api(t, r->created_at);
	r->sent_at[0] = '\0';
	if (db_cell(rows, i, 9) != NULL)
		time_sql_to_api(db_cell(rows, i, 9), r->sent_at);
	db_cell_copy(rows, i, 10, r->last_error, sizeof r->last_error);
}

void outbox_rows_free(struct outbox_row *items, size_t n)
{
	for (size_t i = 0; items != NULL && i < n; i++)
		free(items[i].subject);
	free(items);
}

int outbox_list(struct db *db, const char *status, const char *after, long limit,
		struct outbox_row **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {status ? STMT_outbox_list : STMT_outbox_list_all,
				 status ? STMT_outbox_count : STMT_outbox_count_all,
				 status ? status : "all",
				 after,
				 limit,
				 {0, 0, NULL},
				 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, row_read, n);
	*total = pg.total;
	return 0;
}

struct retry_work {
	const char *id;
	struct outbox_row *out;
};

static enum db_status retry_run(struct db *db, void *arg, struct problem *p)
{
	struct retry_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg id[] = {db_str(w->id)};
	free(w->out->subject);
	w->out->subject = NULL;
	enum db_status rc = legacy_exec(db, STMT_outbox_get, id, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		problem_set(p, PROBLEM_NOT_FOUND, "no mail with this id");
		rc = DB_REFUSED;
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 5), "failed") != 0) {
		problem_set(p, PROBLEM_CONFLICT, "the mail is %s, not failed",
			    db_cell(&rows, 0, 5));
		snprintf(p->code, sizeof p->code, "mail_not_failed");
		rc = DB_REFUSED;
		goto out;
	}
	struct db_arg a[] = {db_str(w->id)};
	rc = legacy_exec(db, STMT_outbox_requeue, a, NULL, NULL);
	if (rc != DB_OK)
		goto out;
	db_rows_free(&rows);
	rc = legacy_exec(db, STMT_outbox_get, id, &rows, NULL);
	if (rc == DB_OK)
		row_read(&rows, 0, w->out);
	txn_after_commit(db_current_txn(db), wake_after_commit, NULL);
out:
	db_rows_free(&rows);
	return rc;
}

int outbox_retry(struct db *db, const char *id, struct outbox_row *out, struct problem *p)
{
	struct retry_work w = {id, out};
	memset(out, 0, sizeof *out);
	return db_run(db, retry_run, &w, p);
}

struct backlog {
	long pending, failed;
};

static enum db_status backlog_read(struct db *db, void *arg, struct problem *p)
{
	struct backlog *b = arg;
	struct db_rows rows = {0, 0, NULL};
	b->pending = b->failed = 0;
	enum db_status rc = legacy_exec(db, STMT_outbox_backlog, NULL, &rows, NULL);
	for (size_t i = 0; rc == DB_OK && i < rows.n_rows; i++) {
		long n = atol(db_cell(&rows, i, 1));
		if (strcmp(db_cell(&rows, i, 0), "failed") == 0)
			b->failed += n;
		else
			b->pending += n;
	}
	db_rows_free(&rows);
	return rc;
}

int outbox_backlog(struct db *db, long *pending, long *failed, struct problem *p)
{
	struct backlog b = {0, 0};
	int rc = db_read(db, backlog_read, &b, p);
	*pending = b.pending;
	*failed = b.failed;
	return rc;
}
