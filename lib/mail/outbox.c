#include "mail/outbox.h"

#include "core/log.h"
#include "core/problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STATEMENT(outbox_insert,
	     "INSERT INTO mail_outbox (id, tenant_id, template, language, recipient, subject, "
	     "body, status, attempts, next_attempt_at, created_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, UTC_TIMESTAMP(6), ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_TIME),
	     DB_NO_ROW);

#define OUTBOX_SELECT                                                                              \
	"SELECT id, tenant_id, template, recipient, subject, status, attempts, next_attempt_at, "  \
	"created_at, sent_at, last_error FROM mail_outbox "
#define OUTBOX_FIELDS(F, T)                                                                        \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, template, DB_TEXT)                                                                    \
	F(T, recipient, DB_TEXT)                                                                   \
	F(T, subject, DB_DUP)                                                                      \
	F(T, status, DB_TEXT)                                                                      \
	F(T, attempts, DB_INT)                                                                     \
	F(T, next_attempt_at, DB_TIME)                                                             \
	F(T, created_at, DB_TIME) F(T, sent_at, DB_TIME) F(T, last_error, DB_TEXT)

DB_STATEMENT(outbox_list, OUTBOX_SELECT DB_LIST_INDEX("PRIMARY") "WHERE id > ? ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW(struct outbox_row, OUTBOX_FIELDS));
DB_STATEMENT(outbox_count, "SELECT COUNT(*) AS n FROM (SELECT 1 FROM mail_outbox LIMIT ?) c",
	     DB_PARAMS(DB_INT), DB_ROW_COUNT);
DB_STATEMENT(outbox_list_status,
	     OUTBOX_SELECT DB_LIST_INDEX(
		 "ix_outbox_status") "WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct outbox_row, OUTBOX_FIELDS));
DB_STATEMENT(outbox_count_status,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM mail_outbox WHERE status = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

static void outbox_row_free(void *item)
{
	struct outbox_row *r = item;
	free(r->subject);
	r->subject = NULL;
}

const struct db_page outbox_page = {.list = &outbox_list,
				    .count = &outbox_count,
				    .n_keys = 0,
				    .cursor_offset = offsetof(struct outbox_row, id),
				    .item_free = outbox_row_free};
const struct db_page outbox_page_of_status = {.list = &outbox_list_status,
					      .count = &outbox_count_status,
					      .n_keys = 1,
					      .cursor_offset = offsetof(struct outbox_row, id),
					      .item_free = outbox_row_free};

DB_STATEMENT(outbox_get, OUTBOX_SELECT "WHERE id = ? FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct outbox_row, OUTBOX_FIELDS));

DB_STATEMENT(outbox_requeue,
	     "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = "
	     "UTC_TIMESTAMP(6), claimed_by = NULL, version = version + 1 WHERE id = ? AND "
	     "status = 'failed'",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

struct backlog_row {
	char status[16];
	long long n;
};
#define BACKLOG_FIELDS(F, T) F(T, status, DB_TEXT) F(T, n, DB_INT)
DB_STATEMENT(outbox_backlog_count,
	     "SELECT status, COUNT(*) AS n FROM mail_outbox "
	     "WHERE status IN ('pending', 'sending', 'failed') GROUP BY status",
	     DB_NO_PARAMS, DB_ROW(struct backlog_row, BACKLOG_FIELDS));

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

void outbox_wake_after_commit(struct txn *t)
{
	txn_after_commit(t, wake_after_commit, NULL);
}

enum db_status outbox_enqueue(struct txn *t, const struct outbox_mail *m)
{
	char id[UUID_STR];
	char *subject = NULL, *body = NULL;
	const char *lang = mail_language_known(m->language) ? m->language : "en";
	enum db_status rc;
	if (mail_render(m->template, lang, m->vars, m->n_vars, &subject, &body) != 0) {
		log_msg(LOG_ERROR, "mail %s (%s) cannot be rendered",
			mail_template_name(m->template), lang);
		return txn_abort(t);
	}
	uuid_v7(id);
	struct db_arg a[] = {
	    db_text(id),   db_text(m->tenant_id), db_text(mail_template_name(m->template)),
	    db_text(lang), db_text(m->recipient), db_text(subject),
	    db_text(body), db_time(time_micros())};
	rc = db_exec(t, &outbox_insert, a, NULL);
	if (rc == DB_OK)
		txn_after_commit(t, wake_after_commit, NULL);
	free(subject);
	free(body);
	return rc;
}

void outbox_row_clear(struct outbox_row *r)
{
	outbox_row_free(r);
}

int outbox_retry(struct txn *t, const char *id, struct outbox_row *out, struct problem *p)
{
	struct db_arg a[] = {db_text(id)};
	switch (db_one(t, &outbox_get, a, out)) {
	case DB_OK: break;
	case DB_EMPTY: return problem_set(p, PROBLEM_NOT_FOUND, "no mail with this id");
	default: return -1;
	}
	if (strcmp(out->status, "failed") != 0) {
		snprintf(p->code, sizeof p->code, "mail_not_failed");
		return problem_set(p, PROBLEM_CONFLICT, "the mail is %s, not failed", out->status);
	}
	outbox_row_clear(out);
	if (db_exec(t, &outbox_requeue, a, NULL) != DB_OK ||
	    db_one(t, &outbox_get, a, out) != DB_OK)
		return -1;
	txn_after_commit(t, wake_after_commit, NULL);
	return 0;
}

int outbox_backlog(struct txn *t, long *pending, long *failed)
{
	struct backlog_row *rows = NULL;
	size_t n = 0;
	*pending = *failed = 0;
	if (db_all(t, &outbox_backlog_count, NULL, (void **)&rows, &n) != DB_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].status, "failed") == 0)
			*failed += (long)rows[i].n;
		else
			*pending += (long)rows[i].n;
	}
	free(rows);
	return 0;
}
