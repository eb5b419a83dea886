/* CSP regions and their countries (SPEC §5): reference data from
 * sql/0002_regions.sql, each country in exactly one region. */
#ifndef TWOTIER_REGION_H
#define TWOTIER_REGION_H

#include <stddef.h>

struct db;
struct problem;

/* One country of a region, as a row of the region table. */
struct region_country {
	char region_code[65];
	char region_name[101];
	char country[3];
	char currency[4];
};

/* Every country with its region, ordered by region name, then country.
 * *items is allocated (caller frees). Returns 0, or -1 with p set (503). */
int region_list(struct db *db, struct region_country **items, size_t *n, struct problem *p);

#endif
