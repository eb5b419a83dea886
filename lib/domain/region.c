#include "domain/region.h"

#include <string.h>

#define REGION_COUNTRY_FIELDS(F, T)                                                                \
	F(T, region_code, DB_TEXT)                                                                 \
	F(T, region_name, DB_TEXT) F(T, country, DB_TEXT) F(T, currency, DB_TEXT)
DB_STATEMENT(region_countries,
	     "SELECT r.code AS region_code, r.name AS region_name, c.code AS country, c.currency "
	     "FROM regions r JOIN countries c ON c.region_code = r.code ORDER BY r.name, c.code",
	     DB_NO_PARAMS, DB_ROW(struct region_country, REGION_COUNTRY_FIELDS));

struct region_code_row {
	char code[65];
};
#define REGION_CODE_FIELDS(F, T) F(T, code, DB_TEXT)
DB_STATEMENT(region_by_code, "SELECT code FROM regions WHERE code = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct region_code_row, REGION_CODE_FIELDS));

/* a country of the programme: its region and currency (every country is
 * in exactly one region) */
#define REGION_BILLING_FIELDS(F, T) F(T, region_code, DB_TEXT) F(T, currency, DB_TEXT)
DB_STATEMENT(region_by_country, "SELECT region_code, currency FROM countries WHERE code = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct region_billing, REGION_BILLING_FIELDS));

int region_list(struct txn *t, struct region_country **items, size_t *n)
{
	return db_all(t, &region_countries, NULL, (void **)items, n) == DB_OK ? 0 : -1;
}

enum db_status region_known(struct txn *t, const char *code, bool *known)
{
	struct region_code_row r;
	struct db_arg a[] = {db_text(code)};
	enum db_status st = db_one(t, &region_by_code, a, &r);
	*known = st == DB_OK;
	return st == DB_EMPTY ? DB_OK : st;
}

enum db_status region_billing_of_country(struct txn *t, const char *country,
					 struct region_billing *out)
{
	struct db_arg a[] = {db_text(country)};
	return db_one(t, &region_by_country, a, out);
}

enum db_status region_of_country(struct txn *t, const char *country, char region[65])
{
	struct region_billing r;
	enum db_status st = region_billing_of_country(t, country, &r);
	region[0] = '\0';
	if (st == DB_OK)
		memcpy(region, r.region_code, sizeof r.region_code);
	return st;
}

enum db_status region_country_known(struct txn *t, const char *country, bool *known)
{
	struct region_billing r;
	enum db_status st = region_billing_of_country(t, country, &r);
	*known = st == DB_OK;
	return st == DB_EMPTY ? DB_OK : st;
}
