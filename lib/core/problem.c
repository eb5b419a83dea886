#include "core/problem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *slug;
	const char *title;
} kinds[PROBLEM__COUNT] = {
#define PROBLEM_ROW(name, status, slug, title) [name] = {status, slug, title},
    PROBLEM_KINDS(PROBLEM_ROW)
#undef PROBLEM_ROW
};

static enum problem_kind valid(enum problem_kind kind)
{
	return ((unsigned)kind < PROBLEM__COUNT) ? kind : PROBLEM_INTERNAL;
}

int problem_status(enum problem_kind kind)
{
	return kinds[valid(kind)].status;
}

const char *problem_slug(enum problem_kind kind)
{
	return kinds[valid(kind)].slug;
}

const char *problem_title(enum problem_kind kind)
{
	return kinds[valid(kind)].title;
}

int problem_set(struct problem *p, enum problem_kind kind, const char *fmt, ...)
{
	va_list ap;
	p->kind = kind;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof p->detail, fmt, ap);
	va_end(ap);
	return -1;
}

int problem_refuse(struct problem *p, enum problem_kind kind, const char *code, const char *fmt,
		   ...)
{
	va_list ap;
	p->kind = kind;
	snprintf(p->code, sizeof p->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof p->detail, fmt, ap);
	va_end(ap);
	return -1;
}

int problem_add_field(struct problem *p, const char *field, const char *code, const char *fmt, ...)
{
	char message[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (p->errors == NULL)
		p->errors = cJSON_CreateArray();
	if (cJSON_GetArraySize(p->errors) >= PROBLEM_ERRORS_MAX) {
		p->errors_omitted++;
		snprintf(p->detail, sizeof p->detail,
			 "the request has invalid fields: the first %d are listed, %u more are not",
			 PROBLEM_ERRORS_MAX, p->errors_omitted);
		return -1;
	}
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "field", field);
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToArray(p->errors, e);
	if (p->kind == PROBLEM_NONE) {
		p->kind = PROBLEM_VALIDATION;
		snprintf(p->detail, sizeof p->detail, "the request has invalid fields");
	}
	return -1;
}

cJSON *problem_to_json(const struct problem *p, const char *request_id)
{
	enum problem_kind kind = valid(p->kind);
	cJSON *doc = cJSON_CreateObject();
	char type[128];
	snprintf(type, sizeof type, PROBLEM_TYPE_BASE "%s", problem_slug(kind));
	cJSON_AddStringToObject(doc, "type", type);
	cJSON_AddStringToObject(doc, "title", problem_title(kind));
	cJSON_AddNumberToObject(doc, "status", problem_status(kind));
	cJSON_AddStringToObject(doc, "detail", p->detail[0] ? p->detail : problem_title(kind));
	if (p->code[0])
		cJSON_AddStringToObject(doc, "code", p->code);
	if (request_id != NULL)
		cJSON_AddStringToObject(doc, "requestId", request_id);
	if (p->errors != NULL)
		cJSON_AddItemReferenceToObject(doc, "errors", p->errors);
	for (const cJSON *m = p->extensions ? p->extensions->child : NULL; m != NULL; m = m->next)
		cJSON_AddItemToObject(doc, m->string, cJSON_Duplicate(m, true));
	return doc;
}

void problem_extend(struct problem *p, const char *name, const char *value)
{
	if (p->extensions == NULL)
		p->extensions = cJSON_CreateObject();
	cJSON_AddStringToObject(p->extensions, name, value);
}

void problem_clear(struct problem *p)
{
	cJSON_Delete(p->errors);
	cJSON_Delete(p->extensions);
	memset(p, 0, sizeof *p);
}
