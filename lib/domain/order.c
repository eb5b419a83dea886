#include "domain/order.h"

#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "domain/agreement.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_offer_list = {
    STMT_offer_list, "offer_list",
    "SELECT o.id, o.name, o.unit, o.min_quantity, o.max_quantity, op.region_code, op.currency, "
    "op.unit_price FROM offers o LEFT JOIN offer_prices op ON op.offer_id = o.id AND "
    "op.region_code = ? AND op.currency = ? ORDER BY o.name, o.id",
    2, 8};

const struct db_stmt_def stmt_tenant_billing = {
    STMT_tenant_billing, "tenant_billing",
    "SELECT c.region_code, c.currency FROM tenants t JOIN countries c ON c.code = t.csp_country "
    "WHERE t.id = ?",
    1, 2};

const struct db_stmt_def stmt_country_billing = {
    STMT_country_billing, "country_billing",
    "SELECT region_code, currency FROM countries WHERE code = ?", 1, 2};

/* What an order relies on, in one round trip: the offer (its bounds, and
 * its price where the customer is billed: its country as the reseller
 * knows it), the provider's and the reseller's relationships with the
 * customer and the pair's own (NULL where none is active). Read-locked: an
 * end waits for the orders relying on it, and the next order sees it
 * ended; the other rows it reads are reference data, never written. */
const struct db_stmt_def stmt_order_terms = {
    STMT_order_terms, "order_terms",
    "SELECT o.min_quantity, o.max_quantity, op.currency, op.unit_price, cp.id, r.id, cr.id "
    "FROM offers o "
    "LEFT JOIN customer_relationships cp ON cp.customer_tenant_id = ? AND "
    "cp.partner_tenant_id = ? AND cp.active = 1 "
    "LEFT JOIN relationships r ON r.provider_tenant_id = ? AND r.reseller_tenant_id = ? AND "
    "r.active = 1 "
    "LEFT JOIN customer_relationships cr ON cr.customer_tenant_id = ? AND "
    "cr.partner_tenant_id = ? AND cr.active = 1 "
    "LEFT JOIN countries c ON c.code = cr.country "
    "LEFT JOIN offer_prices op ON op.offer_id = o.id AND op.region_code = c.region_code AND "
    "op.currency = c.currency WHERE o.id = ? LOCK IN SHARE MODE",
    7, 7};

const struct db_stmt_def stmt_subscription_insert = {
    STMT_subscription_insert, "subscription_insert",
    "INSERT INTO subscriptions (id, customer_tenant_id, provider_tenant_id, reseller_tenant_id, "
    "offer_id, quantity, currency, unit_price, created_by, created_at, changed_at) VALUES (?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    11, 0};

const struct db_stmt_def stmt_order_insert = {
    STMT_order_insert, "order_insert",
    "INSERT INTO orders (id, customer_tenant_id, provider_tenant_id, reseller_tenant_id, "
    "relationship_id, subscription_id, offer_id, kind, quantity, previous_quantity, currency, "
    "unit_price, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    14, 0};

/* whether the tenant is, or was, a partner of the customer, or has orders
 * placed with it */
const struct db_stmt_def stmt_customer_known = {
    STMT_customer_known, "customer_known",
    "SELECT EXISTS (SELECT 1 FROM customer_relationships WHERE customer_tenant_id = ? AND "
    "partner_tenant_id = ?) OR EXISTS (SELECT 1 FROM orders WHERE customer_tenant_id = ? AND "
    "(provider_tenant_id = ? OR reseller_tenant_id = ?))",
    5, 1};

/* what the tenant sees of a customer's: all of it if it is the customer,
 * else its own */
#define VISIBLE(t)                                                                                 \
	"WHERE " t ".customer_tenant_id = ? AND (" t ".customer_tenant_id = ? OR " t               \
	".provider_tenant_id = ? OR " t ".reseller_tenant_id = ?) "

#define ORDER_COLUMNS                                                                              \
	"o.id, o.customer_tenant_id, o.provider_tenant_id, o.reseller_tenant_id, "                 \
	"o.relationship_id, o.subscription_id, o.offer_id, o.kind, o.quantity, "                   \
	"o.previous_quantity, o.currency, o.unit_price, o.created_by, o.created_at FROM orders o "
#define ORDER_N 14

const struct db_stmt_def stmt_order_list = {
    STMT_order_list, "order_list",
    "SELECT " ORDER_COLUMNS VISIBLE("o") "AND (? = '' OR o.id > ?) ORDER BY o.id LIMIT ?", 7,
    ORDER_N};

const struct db_stmt_def stmt_order_count = {STMT_order_count, "order_count",
					     "SELECT COUNT(*) FROM orders o " VISIBLE("o"), 4, 1};

#define SUBSCRIPTION_COLUMNS                                                                       \
	"s.id, s.customer_tenant_id, s.provider_tenant_id, s.reseller_tenant_id, s.offer_id, "     \
	"f.name, s.status, s.quantity, s.currency, s.unit_price, s.created_at, s.changed_at, "     \
	"s.version FROM subscriptions s JOIN offers f ON f.id = s.offer_id "
#define SUBSCRIPTION_N 13

const struct db_stmt_def stmt_subscription_list = {
    STMT_subscription_list, "subscription_list",
    "SELECT " SUBSCRIPTION_COLUMNS VISIBLE("s") "AND (? = '' OR s.id > ?) ORDER BY s.id LIMIT ?", 7,
    SUBSCRIPTION_N};

const struct db_stmt_def stmt_subscription_count = {
    STMT_subscription_count, "subscription_count",
    "SELECT COUNT(*) FROM subscriptions s " VISIBLE("s"), 4, 1};

const struct db_stmt_def stmt_subscription_get = {STMT_subscription_get, "subscription_get",
						  "SELECT " SUBSCRIPTION_COLUMNS "WHERE s.id = ?",
						  1, SUBSCRIPTION_N};

/* the subscription alone: locking it must not lock its offer's row, which
 * every order of that offer reads */
const struct db_stmt_def stmt_subscription_lock = {
    STMT_subscription_lock, "subscription_lock",
    "SELECT s.provider_tenant_id, s.reseller_tenant_id, s.offer_id, s.quantity, s.version, "
    "s.currency, s.unit_price FROM subscriptions s " VISIBLE("s") "AND s.id = ? FOR UPDATE",
    5, 7};

const struct db_stmt_def stmt_subscription_update = {
    STMT_subscription_update, "subscription_update",
    "UPDATE subscriptions SET quantity = ?, changed_at = ?, version = version + 1 WHERE id = ?", 3,
    0};

static unsigned long cell_ulong(const struct db_rows *rows, size_t i, size_t col)
{
	const char *s = db_cell(rows, i, col);
	return s ? strtoul(s, NULL, 10) : 0;
}

static void api_time(const struct db_rows *rows, size_t i, size_t col, char out[TIME_STR])
{
	out[0] = '\0';
	if (db_cell(rows, i, col) != NULL)
		time_sql_to_api(db_cell(rows, i, col), out);
}

static void offer_read(const struct db_rows *rows, size_t i, void *item)
{
	struct offer *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->name, sizeof v->name);
	db_cell_copy(rows, i, 2, v->unit, sizeof v->unit);
	v->min_quantity = cell_ulong(rows, i, 3);
	v->max_quantity = cell_ulong(rows, i, 4);
	db_cell_copy(rows, i, 5, v->region, sizeof v->region);
	db_cell_copy(rows, i, 6, v->currency, sizeof v->currency);
	db_cell_copy(rows, i, 7, v->unit_price, sizeof v->unit_price);
}

static void order_read(const struct db_rows *rows, size_t i, void *item)
{
	struct order *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->customer_id, sizeof v->customer_id);
	db_cell_copy(rows, i, 2, v->provider_tenant_id, sizeof v->provider_tenant_id);
	db_cell_copy(rows, i, 3, v->reseller_tenant_id, sizeof v->reseller_tenant_id);
	db_cell_copy(rows, i, 4, v->relationship_id, sizeof v->relationship_id);
	db_cell_copy(rows, i, 5, v->subscription_id, sizeof v->subscription_id);
	db_cell_copy(rows, i, 6, v->offer_id, sizeof v->offer_id);
	db_cell_copy(rows, i, 7, v->kind, sizeof v->kind);
	v->quantity = cell_ulong(rows, i, 8);
	v->previous_quantity = cell_ulong(rows, i, 9);
	db_cell_copy(rows, i, 10, v->currency, sizeof v->currency);
	db_cell_copy(rows, i, 11, v->unit_price, sizeof v->unit_price);
	db_cell_copy(rows, i, 12, v->created_by, sizeof v->created_by);
	api_time(rows, i, 13, v->created_at);
}

static void subscription_read(const struct db_rows *rows, size_t i, void *item)
{
	struct subscription *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->customer_id, sizeof v->customer_id);
	db_cell_copy(rows, i, 2, v->provider_tenant_id, sizeof v->provider_tenant_id);
	db_cell_copy(rows, i, 3, v->reseller_tenant_id, sizeof v->reseller_tenant_id);
	db_cell_copy(rows, i, 4, v->offer_id, sizeof v->offer_id);
	db_cell_copy(rows, i, 5, v->offer_name, sizeof v->offer_name);
	db_cell_copy(rows, i, 6, v->status, sizeof v->status);
	v->quantity = cell_ulong(rows, i, 7);
	db_cell_copy(rows, i, 8, v->currency, sizeof v->currency);
	db_cell_copy(rows, i, 9, v->unit_price, sizeof v->unit_price);
	api_time(rows, i, 10, v->created_at);
	api_time(rows, i, 11, v->changed_at);
	v->version = cell_ulong(rows, i, 12);
}

struct offers_work {
	const char *tenant_id, *country;
	struct db_rows rows;
};

static enum db_status offers_read(struct db *db, void *arg, struct problem *p)
{
	struct offers_work *w = arg;
	struct db_rows where = {0, 0, NULL};
	struct db_arg t[] = {db_str(w->country ? w->country : w->tenant_id)};
	db_rows_free(&w->rows);
	enum db_status rc = legacy_exec(db, w->country ? STMT_country_billing : STMT_tenant_billing,
					t, &where, NULL);
	if (rc != DB_OK)
		goto out;
	if (w->country != NULL && where.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "unknown_country",
			       "%s is not a country of the programme", w->country);
		goto out;
	}
	struct db_arg a[] = {db_str(db_cell(&where, 0, 0)), db_str(db_cell(&where, 0, 1))};
	rc = legacy_exec(db, STMT_offer_list, a, &w->rows, NULL);
out:
	db_rows_free(&where);
	return rc;
}

int offer_list(struct db *db, const char *tenant_id, const char *country, struct offer **items,
	       size_t *n, struct problem *p)
{
	struct offers_work w = {tenant_id, country, {0, 0, NULL}};
	*items = NULL;
	*n = 0;
	if (db_read(db, offers_read, &w, p) != 0)
		return -1;
	*items = db_rows_items(&w.rows, sizeof **items, offer_read, n);
	return 0;
}

/* What an order may rely on: the offer's price where the customer is
 * billed ("" if none) and the relationship of the pair. */
struct order_terms {
	char relationship_id[UUID_STR], currency[4], unit_price[24];
};

/* The rule of SPEC §5, in the transaction of the order it admits: the
 * offer, the provider's relationship with the customer, its active
 * relationship with the reseller, the customer's with the reseller, the
 * reseller's signature of the current agreement, and the quantity within
 * the offer's bounds. */
static enum db_status order_check(struct db *db, const char *provider, const char *customer,
				  const char *reseller, const char *offer, long long quantity,
				  struct order_terms *t, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(customer), db_str(provider), db_str(provider), db_str(reseller),
			     db_str(customer), db_str(reseller), db_str(offer)};
	unsigned long min, max;
	memset(t, 0, sizeof *t);
	enum db_status rc = legacy_exec(db, STMT_order_terms, a, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "unknown_offer",
			       "no offer %s (GET /v1/offers lists them)", offer);
		goto out;
	}
	min = cell_ulong(&rows, 0, 0);
	max = cell_ulong(&rows, 0, 1);
	if (db_cell(&rows, 0, 4) == NULL) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "no_customer_relationship",
			       "the provider has no reseller relationship with customer %s",
			       customer);
	} else if (db_cell(&rows, 0, 5) == NULL) {
		rc =
		    db_refuse(p, PROBLEM_RULE_REFUSED, "relationship_not_active",
			      "the provider has no active relationship with reseller %s", reseller);
	} else if (db_cell(&rows, 0, 6) == NULL) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "not_reseller_customer",
			       "customer %s has no relationship with reseller %s", customer,
			       reseller);
	} else if ((rc = legacy_agreement_require_signed(db, reseller, p)) == DB_OK &&
		   (quantity < (long long)min || quantity > (long long)max)) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "quantity_out_of_range",
			       "the quantity of this offer is %lu to %lu", min, max);
	}
	if (rc == DB_OK) {
		db_cell_copy(&rows, 0, 5, t->relationship_id, sizeof t->relationship_id);
		db_cell_copy(&rows, 0, 2, t->currency, sizeof t->currency);
		db_cell_copy(&rows, 0, 3, t->unit_price, sizeof t->unit_price);
	}
out:
	db_rows_free(&rows);
	return rc;
}

/* The order row of a new subscription or a change at `at` (DATETIME
 * text), audited in each of the three tenants. */
static enum db_status order_write(struct db *db, const struct actor *a, const struct order *o,
				  const char *at)
{
	char quantity[24], previous[24];
	snprintf(quantity, sizeof quantity, "%lu", o->quantity);
	snprintf(previous, sizeof previous, "%lu", o->previous_quantity);
	struct db_arg ins[] = {db_str(o->id),
			       db_str(o->customer_id),
			       db_str(o->provider_tenant_id),
			       db_str(o->reseller_tenant_id),
			       db_str(o->relationship_id),
			       db_str(o->subscription_id),
			       db_str(o->offer_id),
			       db_str(o->kind),
			       db_str(quantity),
			       db_str(strcmp(o->kind, "new") == 0 ? NULL : previous),
			       db_str(o->currency),
			       db_str(o->unit_price),
			       db_str(o->created_by),
			       db_str(at)};
	const char *action = strcmp(o->kind, "new") == 0 ? "order.create" : "subscription.quantity";
	enum db_status rc = legacy_exec(db, STMT_order_insert, ins, NULL, NULL);
	if (rc == DB_OK)
		rc = legacy_audit_record_three(db, a, o->reseller_tenant_id, o->customer_id, action,
					       "order", o->id, at);
	return rc;
}

struct create_work {
	const struct actor *a;
	const struct order_new *in;
	struct order *out;
};

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	struct order *o = w->out;
	char at[TIME_STR], quantity[24];
	struct order_terms t;
	memset(o, 0, sizeof *o);
	enum db_status rc =
	    order_check(db, w->a->tenant_id, w->in->customer_id, w->in->reseller_tenant_id,
			w->in->offer_id, w->in->quantity, &t, p);
	if (rc != DB_OK)
		goto out;
	/* every country of the programme has a region and a currency, and
	 * every offer a price in each */
	if (t.unit_price[0] == '\0') {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "offer_not_priced",
			       "offer %s has no price where the customer is billed",
			       w->in->offer_id);
		goto out;
	}
	time_now(at, NULL);
	uuid_v7(o->id);
	uuid_v7(o->subscription_id);
	memcpy(o->customer_id, w->in->customer_id, UUID_STR);
	memcpy(o->provider_tenant_id, w->a->tenant_id, UUID_STR);
	memcpy(o->reseller_tenant_id, w->in->reseller_tenant_id, UUID_STR);
	memcpy(o->offer_id, w->in->offer_id, UUID_STR);
	snprintf(o->kind, sizeof o->kind, "new");
	o->quantity = (unsigned long)w->in->quantity;
	memcpy(o->relationship_id, t.relationship_id, UUID_STR);
	memcpy(o->currency, t.currency, sizeof o->currency);
	memcpy(o->unit_price, t.unit_price, sizeof o->unit_price);
	snprintf(o->created_by, sizeof o->created_by, "%s", w->a->id);
	time_sql_to_api(at, o->created_at);
	snprintf(quantity, sizeof quantity, "%lu", o->quantity);
	struct db_arg s[] = {db_str(o->subscription_id),
			     db_str(o->customer_id),
			     db_str(o->provider_tenant_id),
			     db_str(o->reseller_tenant_id),
			     db_str(o->offer_id),
			     db_str(quantity),
			     db_str(o->currency),
			     db_str(o->unit_price),
			     db_str(w->a->id),
			     db_str(at),
			     db_str(at)};
	if ((rc = legacy_exec(db, STMT_subscription_insert, s, NULL, NULL)) == DB_OK)
		rc = order_write(db, w->a, o, at);
out:
	return rc;
}

int order_create(struct db *db, const struct actor *a, const struct order_new *in,
		 struct order *out, struct problem *p)
{
	struct create_work w = {a, in, out};
	return db_run(db, create_run, &w, p);
}

struct page_work {
	const char *tenant_id, *customer_id, *after;
	long limit;
	enum stmt_id list, count;
	struct db_rows rows;
	long total;
};

static enum db_status page_read(struct db *db, void *arg, struct problem *p)
{
	struct page_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	const char *t = w->tenant_id, *c = w->customer_id;
	struct db_arg k[] = {db_str(c), db_str(t), db_str(c), db_str(t), db_str(t)};
	struct db_arg l[] = {db_str(c),	       db_str(t),	 db_str(t),	  db_str(t),
			     db_str(w->after), db_str(w->after), db_int(w->limit)};
	db_rows_free(&w->rows);
	enum db_status rc = DB_OK;
	if (strcmp(t, c) != 0) {
		if ((rc = legacy_exec(db, STMT_customer_known, k, &rows, NULL)) != DB_OK)
			goto out;
		if (strcmp(db_cell(&rows, 0, 0), "0") == 0) {
			rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
				       "no customer %s of this work account", c);
			goto out;
		}
		db_rows_free(&rows);
	}
	/* the count takes the first four of the list's arguments */
	if ((rc = legacy_exec(db, w->list, l, &w->rows, NULL)) != DB_OK ||
	    (rc = legacy_exec(db, w->count, l, &rows, NULL)) != DB_OK)
		goto out;
	w->total = atol(db_cell(&rows, 0, 0));
out:
	db_rows_free(&rows);
	return rc;
}

int order_list(struct db *db, const char *tenant_id, const char *customer_id, const char *after,
	       long limit, struct order **items, size_t *n, long *total, struct problem *p)
{
	struct page_work w = {tenant_id,       customer_id,	 after,	       limit,
			      STMT_order_list, STMT_order_count, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (db_read(db, page_read, &w, p) != 0) {
		db_rows_free(&w.rows); /* the list, when the count failed */
		return -1;
	}
	*items = db_rows_items(&w.rows, sizeof **items, order_read, n);
	*total = w.total;
	return 0;
}

int subscription_list(struct db *db, const char *tenant_id, const char *customer_id,
		      const char *after, long limit, struct subscription **items, size_t *n,
		      long *total, struct problem *p)
{
	struct page_work w = {tenant_id,
			      customer_id,
			      after,
			      limit,
			      STMT_subscription_list,
			      STMT_subscription_count,
			      {0, 0, NULL},
			      0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (db_read(db, page_read, &w, p) != 0) {
		db_rows_free(&w.rows); /* the list, when the count failed */
		return -1;
	}
	*items = db_rows_items(&w.rows, sizeof **items, subscription_read, n);
	*total = w.total;
	return 0;
}

struct quantity_work {
	const struct actor *a;
	const char *customer_id, *id;
	unsigned long version;
	long long quantity;
	struct subscription *out;
};

static enum db_status quantity_run(struct db *db, void *arg, struct problem *p)
{
	struct quantity_work *w = arg;
	const char *t = w->a->tenant_id;
	struct db_rows rows = {0, 0, NULL};
	struct order_terms terms;
	struct order o;
	char at[TIME_STR], quantity[24];
	struct db_arg g[] = {db_str(w->customer_id), db_str(t), db_str(t), db_str(t),
			     db_str(w->id)};
	memset(&o, 0, sizeof o);
	enum db_status rc = legacy_exec(db, STMT_subscription_lock, g, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = db_refuse(p, PROBLEM_NOT_FOUND, NULL,
			       "no subscription %s of customer %s for this work account", w->id,
			       w->customer_id);
		goto out;
	}
	if (strcmp(db_cell(&rows, 0, 0), t) != 0) {
		rc = db_refuse(p, PROBLEM_FORBIDDEN, NULL,
			       "only the provider changes a subscription's quantity");
		goto out;
	}
	if (w->version != 0 && cell_ulong(&rows, 0, 4) != w->version) {
		problem_set(p, PROBLEM_PRECONDITION_FAILED,
			    "the subscription has changed since it was read; read it again for "
			    "its ETag");
		rc = DB_REFUSED;
		goto out;
	}
	db_cell_copy(&rows, 0, 1, o.reseller_tenant_id, sizeof o.reseller_tenant_id);
	db_cell_copy(&rows, 0, 2, o.offer_id, sizeof o.offer_id);
	/* the subscription keeps the price it was made with */
	if ((rc = order_check(db, t, w->customer_id, o.reseller_tenant_id, o.offer_id, w->quantity,
			      &terms, p)) != DB_OK)
		goto out;
	memcpy(o.relationship_id, terms.relationship_id, UUID_STR);
	o.previous_quantity = cell_ulong(&rows, 0, 3);
	o.quantity = (unsigned long)w->quantity;
	if (o.quantity != o.previous_quantity) {
		time_now(at, NULL);
		uuid_v7(o.id);
		memcpy(o.customer_id, w->customer_id, UUID_STR);
		memcpy(o.provider_tenant_id, t, UUID_STR);
		memcpy(o.subscription_id, w->id, UUID_STR);
		snprintf(o.kind, sizeof o.kind, "quantity_change");
		db_cell_copy(&rows, 0, 5, o.currency, sizeof o.currency);
		db_cell_copy(&rows, 0, 6, o.unit_price, sizeof o.unit_price);
		snprintf(o.created_by, sizeof o.created_by, "%s", w->a->id);
		snprintf(quantity, sizeof quantity, "%lu", o.quantity);
		struct db_arg u[] = {db_str(quantity), db_str(at), db_str(w->id)};
		if ((rc = legacy_exec(db, STMT_subscription_update, u, NULL, NULL)) != DB_OK ||
		    (rc = order_write(db, w->a, &o, at)) != DB_OK)
			goto out;
	}
	db_rows_free(&rows);
	struct db_arg s[] = {db_str(w->id)};
	if ((rc = legacy_exec(db, STMT_subscription_get, s, &rows, NULL)) == DB_OK &&
	    rows.n_rows > 0)
		subscription_read(&rows, 0, w->out);
out:
	db_rows_free(&rows);
	return rc;
}

int subscription_set_quantity(struct db *db, const struct actor *a, const char *customer_id,
			      const char *id, unsigned long version, long long quantity,
			      struct subscription *out, struct problem *p)
{
	struct quantity_work w = {a, customer_id, id, version, quantity, out};
	memset(out, 0, sizeof *out);
	return db_run(db, quantity_run, &w, p);
}
