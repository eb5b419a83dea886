/* /v1/operator/mail: the outbox as the operator sees it, and a retry of a
 * failed mail. */
#include "api/app.h"
#include "api/handlers.h"
#include "mail/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *mail_json(const struct ctx *c, const void *item)
{
	const struct outbox_row *m = item;
	cJSON *o = cJSON_CreateObject();
	(void)c;
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

static bool status_valid(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "sending") == 0 || strcmp(s, "sent") == 0 ||
	       strcmp(s, "failed") == 0;
}

/* 200 page of mails; 400 bad status, limit or cursor; 401; 403; 503. */
int handle_operator_mail_list(struct ctx *c)
{
	return ctx_list_of_status(c, &outbox_page, &outbox_page_of_status, status_valid,
				  "one of pending, sending, sent, failed", mail_json);
}

/* 202 the mail, pending again; 401; 403; 404; 409 mail_not_failed; 503. */
int handle_operator_mail_retry(struct ctx *c)
{
	struct outbox_row m = {0};
	int rc = -1;
	if (outbox_retry(&c->txn, ctx_capture(c, 0), &m, &c->problem) == 0)
		rc = ctx_json(c, 202, mail_json(c, &m));
	outbox_row_clear(&m);
	return rc;
}
