/* CSP regions and their countries (SPEC §5): reference data from
 * sql/0002_regions.sql, each country in exactly one region. */
#ifndef TWOTIER_REGION_H
#define TWOTIER_REGION_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"

/* One country of a region, as a row of the region table. */
struct region_country {
	char region_code[65];
	char region_name[401];
	char country[3];
	char currency[4];
};

/* Every country with its region, ordered by region name, then country.
 * *items is allocated (caller frees; NULL when none). Returns 0, or -1
 * when t failed. */
int region_list(struct txn *t, struct region_country **items, size_t *n);

/* Whether code is a region of the programme: *known. DB_OK or DB_FAILED. */
enum db_status region_known(struct txn *t, const char *code, bool *known);

/* The region of country (an ISO code) into region. DB_OK, DB_EMPTY when
 * the country is in none (not in the programme), DB_FAILED. */
enum db_status region_of_country(struct txn *t, const char *country, char region[65]);

/* Whether country (an ISO code) is in one of the programme's regions:
 * *known. For the checks of a CSP country (profile.c, mpn.c). DB_OK or
 * DB_FAILED. */
enum db_status region_country_known(struct txn *t, const char *country, bool *known);

/* Where a country is billed: its region and its currency. */
struct region_billing {
	char region_code[65];
	char currency[4];
};

/* The billing of country (an ISO code) into out, for the prices of offers
 * (order.c). DB_OK, DB_EMPTY when the country is in none of the
 * programme's regions, DB_FAILED. */
enum db_status region_billing_of_country(struct txn *t, const char *country,
					 struct region_billing *out);

#endif
