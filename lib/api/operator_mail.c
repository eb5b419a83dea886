/* /v1/operator/mail: the outbox as the operator sees it, and a retry of a
 * failed mail. */
#include "api/app.h"
#include "api/handlers.h"
#include "mail/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *mail_json(const struct outbox_row *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", m->id);
	if (m->tenant_id[0])
		cJSON_AddStringToObject(o, "tenantId", m->tenant_id);
	else
		cJSON_AddNullToObject(o, "tenantId");
	cJSON_AddStringToObject(o, "template", m->template);
	cJSON_AddStringToObject(o, "recipient", m->recipient);
	cJSON_AddStringToObject(o, "subject", m->subject ? m->subject : "");
	cJSON_AddStringToObject(o, "status", m->status);
	cJSON_AddNumberToObject(o, "attempts", (double)m->attempts);
	cJSON_AddStringToObject(o, "nextAttemptAt", m->next_attempt_at);
	if (m->last_error[0])
		cJSON_AddStringToObject(o, "lastError", m->last_error);
	else
		cJSON_AddNullToObject(o, "lastError");
	cJSON_AddStringToObject(o, "createdAt", m->created_at);
	if (m->sent_at[0])
		cJSON_AddStringToObject(o, "sentAt", m->sent_at);
	else
		cJSON_AddNullToObject(o, "sentAt");
	return o;
}

static int status_valid(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "sending") == 0 || strcmp(s, "sent") == 0 ||
	       strcmp(s, "failed") == 0;
}

/* 200 page of mails; 400 bad status, limit or cursor; 401; 403; 503. */
int handle_operator_mail_list(struct ctx *c)
{
	struct outbox_row *items = NULL;
	size_t n = 0;
	long limit, total = 0;
	char after[40], status[16] = "", query[32];
	int r = request_query_param(c->req, "status", status, sizeof status);
	if (r < 0 || (r > 0 && !status_valid(status)))
		return problem_add_field(&c->problem, "status", "invalid",
					 "must be one of pending, sending, sent, failed");
	if (ctx_page(c, &limit, after) != 0 ||
	    outbox_list(c->worker->db, r > 0 ? status : NULL, after, limit, &items, &n, &total,
			&c->problem) != 0)
		return -1;
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(list, mail_json(&items[i]));
	snprintf(query, sizeof query, "status=%s", status);
	int rc =
	    ctx_list_query(c, list, total, limit, n ? items[n - 1].id : NULL, r > 0 ? query : NULL);
	outbox_rows_free(items, n);
	return rc;
}

/* 202 the mail, pending again; 401; 403; 404; 409 mail_not_failed; 503. */
int handle_operator_mail_retry(struct ctx *c)
{
	struct outbox_row m;
	const char *id = ctx_capture(c, 0);
	if (!uuid_valid(id))
		return problem_set(&c->problem, PROBLEM_NOT_FOUND, "no mail with this id");
	if (outbox_retry(c->worker->db, id, &m, &c->problem) != 0) {
		free(m.subject);
		return -1;
	}
	int rc = ctx_json(c, 202, mail_json(&m));
	free(m.subject);
	return rc;
}
