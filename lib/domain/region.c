#include "domain/region.h"

#include "core/xalloc.h"
#include "db/db.h"

#include <stdlib.h>

const struct db_stmt_def stmt_regions_list = {
    STMT_regions_list, "regions_list",
    "SELECT r.code, r.name, c.code, c.currency FROM regions r "
    "JOIN countries c ON c.region_code = r.code ORDER BY r.name, c.code",
    0, 4};

static enum db_status regions_read(struct db *db, void *arg, struct problem *p)
{
	struct db_rows *rows = arg;
	db_rows_free(rows);
	return legacy_exec(db, STMT_regions_list, NULL, rows, NULL);
}

static void region_read(const struct db_rows *rows, size_t i, void *item)
{
	struct region_country *rc = item;
	db_cell_copy(rows, i, 0, rc->region_code, sizeof rc->region_code);
	db_cell_copy(rows, i, 1, rc->region_name, sizeof rc->region_name);
	db_cell_copy(rows, i, 2, rc->country, sizeof rc->country);
	db_cell_copy(rows, i, 3, rc->currency, sizeof rc->currency);
}

int region_list(struct db *db, struct region_country **items, size_t *n, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	*items = NULL;
	*n = 0;
	if (db_read(db, regions_read, &rows, p) != 0)
		return -1;
	*items = db_rows_items(&rows, sizeof **items, region_read, n);
	return 0;
}
