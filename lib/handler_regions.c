/* GET /v1/regions: the CSP regions with their countries and currencies. */
#include "app.h"
#include "db.h"
#include "handlers.h"

#include <string.h>

const struct db_stmt_def stmt_regions_list = {
    STMT_regions_list, "regions_list",
    "SELECT r.code, r.name, c.code, c.currency FROM regions r "
    "JOIN countries c ON c.region_code = r.code ORDER BY r.name, c.code",
    0, 4};

static enum db_status regions_read(struct db *db, void *arg, struct problem *p)
{
	struct db_rows *rows = arg;
	db_rows_free(rows);
	return db_exec(db, STMT_regions_list, NULL, rows, NULL);
}

/* 200 {"items": [{code, name, countries: [{code, currency}]}]}; 503. */
int handle_regions_list(struct ctx *c)
{
	struct db_rows rows = {0, 0, NULL};
	cJSON *items, *doc, *countries = NULL;
	const char *current = NULL;
	if (db_read(c->worker->db, regions_read, &rows, &c->problem) != 0)
		return -1;
	doc = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(doc, "items");
	for (size_t i = 0; i < rows.n_rows; i++) {
		const char *code = db_cell(&rows, i, 0);
		if (current == NULL || strcmp(current, code) != 0) {
			cJSON *region = cJSON_CreateObject();
			cJSON_AddStringToObject(region, "code", code);
			cJSON_AddStringToObject(region, "name", db_cell(&rows, i, 1));
			countries = cJSON_AddArrayToObject(region, "countries");
			cJSON_AddItemToArray(items, region);
			current = code;
		}
		cJSON *country = cJSON_CreateObject();
		cJSON_AddStringToObject(country, "code", db_cell(&rows, i, 2));
		cJSON_AddStringToObject(country, "currency", db_cell(&rows, i, 3));
		cJSON_AddItemToArray(countries, country);
	}
	cJSON_AddNumberToObject(doc, "totalCount", cJSON_GetArraySize(items));
	db_rows_free(&rows);
	return ctx_json(c, 200, doc);
}
