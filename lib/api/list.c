/* Lists (SPEC §6): a page of items after an opaque cursor, with the
 * list's length and the link to the next page. Every list route is one
 * call of ctx_list with its page (the domain's statements) and a renderer
 * of one item. */
#include "api/app.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ctx_page(struct ctx *c, long *limit, char after[40])
{
	char buf[128];
	int r;
	*limit = 50;
	after[0] = '\0';
	r = request_query_param(c->req, "limit", buf, sizeof buf);
	if (r < 0)
		return problem_add_field(&c->problem, "limit", "invalid", "must be 1 to 200");
	if (r > 0) {
		char *end;
		long n = strtol(buf, &end, 10);
		if (end == buf || *end != '\0' || n < 1 || n > 200)
			return problem_add_field(&c->problem, "limit", "invalid",
						 "must be 1 to 200");
		*limit = n;
	}
	r = request_query_param(c->req, "cursor", buf, sizeof buf);
	if (r < 0)
		return problem_add_field(&c->problem, "cursor", "invalid",
					 "is not a cursor of this list");
	if (r > 0) {
		unsigned char bin[64];
		size_t n = 0;
		const char *end = NULL;
		/* the alphabet first: libsodium reads bytes 0x80-0xFF as '_' */
		if (!valid_base64url(buf, strlen(buf)) ||
		    sodium_base642bin(bin, sizeof bin - 1, buf, strlen(buf), NULL, &n, &end,
				      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
		    *end != '\0' || n != 36)
			return problem_add_field(&c->problem, "cursor", "invalid",
						 "is not a cursor of this list");
		bin[n] = '\0';
		if (!uuid_valid((const char *)bin))
			return problem_add_field(&c->problem, "cursor", "invalid",
						 "is not a cursor of this list");
		memcpy(after, bin, n + 1);
	}
	return 0;
}

/* 200 {items, totalCount, totalCountCapped, links: {next}}: next is set
 * when the page is full (more may follow after last_id), with query (the
 * list's filter, or NULL) kept in it. Takes items. */
static int list_answer(struct ctx *c, cJSON *items, long total, bool capped, long limit,
		       const char *last_id, const char *query)
{
	cJSON *doc = cJSON_CreateObject();
	int n = cJSON_GetArraySize(items);
	cJSON_AddItemToObject(doc, "items", items);
	cJSON_AddNumberToObject(doc, "totalCount", (double)total);
	cJSON_AddBoolToObject(doc, "totalCountCapped", capped);
	cJSON *links = cJSON_AddObjectToObject(doc, "links");
	if (n < limit || last_id == NULL) {
		cJSON_AddNullToObject(links, "next");
	} else {
		char cursor[64], next[512];
		sodium_bin2base64(cursor, sizeof cursor, (const unsigned char *)last_id,
				  strlen(last_id), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(next, sizeof next, "%s%s?%s%slimit=%ld&cursor=%s",
			 c->req->base ? c->req->base : "", c->req->path, query ? query : "",
			 query ? "&" : "", limit, cursor);
		cJSON_AddStringToObject(links, "next", next);
	}
	return ctx_json(c, 200, doc);
}

int ctx_list(struct ctx *c, const struct db_page *pg, const struct db_arg *keys, item_render render,
	     const char *query)
{
	struct db_page_result r;
	char cursor[40];
	long limit;
	if (ctx_page(c, &limit, cursor) != 0)
		return -1;
	if (db_page_read(&c->txn, pg, keys, cursor, limit, &r) != DB_OK)
		return -1;
	cJSON *items = cJSON_CreateArray();
	for (size_t i = 0; i < r.n; i++)
		cJSON_AddItemToArray(items,
				     render(c, (const char *)r.items + i * pg->list->row_size));
	int rc = list_answer(c, items, r.total, r.total_capped, limit, r.last_id, query);
	db_page_free(pg, &r);
	return rc;
}

int ctx_list_all(struct ctx *c, cJSON *items)
{
	return list_answer(c, items, cJSON_GetArraySize(items), false, 0, NULL, NULL);
}

int ctx_list_of_status(struct ctx *c, const struct db_page *all, const struct db_page *of_status,
		       bool (*valid)(const char *), const char *valid_ones, item_render render)
{
	char status[40] = "", query[64];
	int r = request_query_param(c->req, "status", status, sizeof status);
	if (r < 0 || (r > 0 && !valid(status)))
		return problem_add_field(&c->problem, "status", "invalid", "must be %s",
					 valid_ones);
	if (r == 0)
		return ctx_list(c, all, NULL, render, NULL);
	struct db_arg key[] = {db_text(status)};
	snprintf(query, sizeof query, "status=%s", status);
	return ctx_list(c, of_status, key, render, query);
}
