/* GET /v1/regions: the CSP regions with their countries and currencies. */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/region.h"

#include <stdlib.h>
#include <string.h>

/* 200 {"items": [{code, name, countries: [{code, currency}]}]}; 503. */
int handle_regions_list(struct ctx *c)
{
	struct region_country *rows = NULL;
	size_t n = 0;
	cJSON *items, *doc, *countries = NULL;
	const char *current = NULL;
	if (region_list(&c->txn, &rows, &n) != 0)
		return -1;
	doc = cJSON_CreateObject();
	items = cJSON_AddArrayToObject(doc, "items");
	for (size_t i = 0; i < n; i++) {
		const struct region_country *rc = &rows[i];
		if (current == NULL || strcmp(current, rc->region_code) != 0) {
			cJSON *region = cJSON_CreateObject();
			cJSON_AddStringToObject(region, "code", rc->region_code);
			cJSON_AddStringToObject(region, "name", rc->region_name);
			countries = cJSON_AddArrayToObject(region, "countries");
			cJSON_AddItemToArray(items, region);
			current = rc->region_code;
		}
		cJSON *country = cJSON_CreateObject();
		cJSON_AddStringToObject(country, "code", rc->country);
		cJSON_AddStringToObject(country, "currency", rc->currency);
		cJSON_AddItemToArray(countries, country);
	}
	cJSON_AddNumberToObject(doc, "totalCount", cJSON_GetArraySize(items));
	free(rows);
	return ctx_json(c, 200, doc);
}
