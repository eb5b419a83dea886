#include "domain/order.h"

#include "core/problem.h"
#include "domain/agreement.h"
#include "domain/customer.h"
#include "domain/region.h"
#include "domain/tenant.h"

#include <stdio.h>
#include <string.h>

/* ---- offers ---- */

#define OFFER_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, name, DB_TEXT)                                                                        \
	F(T, unit, DB_TEXT)                                                                        \
	F(T, min_quantity, DB_INT)                                                                 \
	F(T, max_quantity, DB_INT)                                                                 \
	F(T, region, DB_TEXT) F(T, currency, DB_TEXT) F(T, unit_price, DB_TEXT)

DB_STATEMENT(offer_rows,
	     "SELECT o.id, o.name, o.unit, o.min_quantity, o.max_quantity, "
	     "op.region_code AS region, op.currency, op.unit_price FROM offers o "
	     "LEFT JOIN offer_prices op ON op.offer_id = o.id AND op.region_code = ? AND "
	     "op.currency = ? ORDER BY o.name, o.id",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct offer, OFFER_FIELDS));

int offer_list(struct txn *t, const char *tenant_id, const char *country, struct offer **items,
	       size_t *n, struct problem *p)
{
	struct region_billing where;
	*items = NULL;
	*n = 0;
	enum db_status rc = country ? region_billing_of_country(t, country, &where)
				    : tenant_billing(t, tenant_id, &where);
	if (rc == DB_FAILED)
		return -1;
	if (rc == DB_EMPTY && country != NULL) {
		snprintf(p->code, sizeof p->code, "unknown_country");
		return problem_set(p, PROBLEM_RULE_REFUSED, "%s is not a country of the programme",
				   country);
	}
	/* a tenant without a CSP country: "" is no region, and no price */
	struct db_arg a[] = {db_text(where.region_code), db_text(where.currency)};
	return db_all(t, &offer_rows, a, (void **)items, n) == DB_OK ? 0 : -1;
}

/* ---- orders ---- */

/* What an order relies on: the offer's bounds, name and price where the
 * customer is billed ("" if none); the provider's and the reseller's
 * relationships with the customer and the pair's own ("" where none is
 * active); and the reseller's signature of the current agreement. */
struct order_terms {
	unsigned long min_quantity, max_quantity;
	char offer_name[801], currency[4], unit_price[24];
	char provider_customer_id[UUID_STR], relationship_id[UUID_STR];
	char reseller_customer_id[UUID_STR];
	bool agreement_signed;
	/* the customer accepted an invitation of this reseller with this
	 * provider: not only each of them, each with another */
	bool accepted_together;
	/* the provider is authorized in the reseller's region still */
	bool in_region;
};
#define TERMS_FIELDS(F, T)                                                                         \
	F(T, min_quantity, DB_INT)                                                                 \
	F(T, max_quantity, DB_INT)                                                                 \
	F(T, offer_name, DB_TEXT)                                                                  \
	F(T, currency, DB_TEXT)                                                                    \
	F(T, unit_price, DB_TEXT)                                                                  \
	F(T, provider_customer_id, DB_TEXT)                                                        \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, reseller_customer_id, DB_TEXT)                                                        \
	F(T, agreement_signed, DB_INT)                                                             \
	F(T, accepted_together, DB_INT) F(T, in_region, DB_INT)

/* All of it in one round trip. Read-locked: an end waits for the orders
 * relying on it, and the next order sees it ended; a new version of the
 * agreement or the reseller's signature of it waits for them too. The
 * other rows it reads are reference data, never written. */
DB_STATEMENT(
    order_terms,
    "SELECT o.min_quantity, o.max_quantity, o.name AS offer_name, op.currency, "
    "op.unit_price, cp.id AS provider_customer_id, r.id AS relationship_id, "
    "cr.id AS reseller_customer_id, EXISTS (SELECT 1 FROM agreement_acceptances a "
    "WHERE a.tenant_id = ? AND a.template_id = " AGREEMENT_CURRENT_SQL ") AS agreement_signed, "
    "EXISTS (SELECT 1 FROM customer_invitations ci WHERE ci.customer_tenant_id = ? AND "
    "ci.state = 'accepted' AND ci.reseller_tenant_id = ? AND ci.provider_tenant_id = ?) "
    "AS accepted_together, EXISTS (SELECT 1 FROM tenants rt JOIN countries rc ON rc.code = "
    "rt.csp_country JOIN provider_regions pr ON pr.region_code = rc.region_code AND "
    "pr.tenant_id = ? WHERE rt.id = ?) AS in_region FROM offers o "
    "LEFT JOIN customer_relationships cp ON cp.customer_tenant_id = ? AND "
    "cp.partner_tenant_id = ? AND cp.active = 1 "
    "LEFT JOIN relationships r ON r.provider_tenant_id = ? AND r.reseller_tenant_id = ? AND "
    "r.active = 1 "
    "LEFT JOIN customer_relationships cr ON cr.customer_tenant_id = ? AND "
    "cr.partner_tenant_id = ? AND cr.active = 1 "
    "LEFT JOIN countries c ON c.code = cr.country "
    "LEFT JOIN offer_prices op ON op.offer_id = o.id AND op.region_code = c.region_code AND "
    "op.currency = c.currency WHERE o.id = ? LOCK IN SHARE MODE",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
	      DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT),
    DB_ROW(struct order_terms, TERMS_FIELDS));

DB_STATEMENT(
    subscription_insert,
    "INSERT INTO subscriptions (id, customer_tenant_id, provider_tenant_id, "
    "reseller_tenant_id, offer_id, quantity, currency, unit_price, created_by, created_at, "
    "changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_TEXT,
	      DB_TIME, DB_TIME),
    DB_NO_ROW);

DB_STATEMENT(order_insert,
	     "INSERT INTO orders (id, customer_tenant_id, provider_tenant_id, reseller_tenant_id, "
	     "relationship_id, subscription_id, offer_id, kind, quantity, previous_quantity, "
	     "currency, unit_price, created_by, created_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_INT, DB_INT | DB_NULLABLE, DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

/* A partner's own of a customer's orders or subscriptions: those it
 * provides and those placed for it as the reseller (a tenant may be both),
 * two index ranges, (customer_tenant_id, provider_tenant_id, id) and
 * (customer_tenant_id, reseller_tenant_id, id), read as a union (a page of
 * two branches: db.h): keys (customer, partner).  No row is in both ranges
 * (a row's provider is never its reseller: sql/0013), so the count is the
 * sum of the two ranges' counts: a UNION of the ids would put up to twice
 * the cap of them in a temporary table to drop duplicates that cannot be,
 * 0.8 ms against 0.5 ms at 100,000 rows. */
#define PROVIDED(x)    "WHERE " x ".customer_tenant_id = ? AND " x ".provider_tenant_id = ? "
#define RESOLD(x)      "WHERE " x ".customer_tenant_id = ? AND " x ".reseller_tenant_id = ? "
#define AFTER(x)       "AND " x ".id > ? ORDER BY " x ".id LIMIT ?"
#define UNION_OF(a, b) "(" a ") UNION (" b ") ORDER BY id"
#define COUNT_OF_BOTH(table, x)                                                                    \
	"SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM " table " " x                                 \
	" " PROVIDED(x) "LIMIT ?) a) + "                                                           \
			"(SELECT COUNT(*) FROM (SELECT 1 FROM " table " " x                        \
			" " RESOLD(x) "LIMIT ?) b) AS n"

#define ORDER_SELECT                                                                               \
	"SELECT o.id, o.customer_tenant_id AS customer_id, o.provider_tenant_id, "                 \
	"o.reseller_tenant_id, o.relationship_id, o.subscription_id, o.offer_id, o.kind, "         \
	"o.quantity, o.previous_quantity, o.currency, o.unit_price, o.created_by, o.created_at "   \
	"FROM orders o "
#define ORDER_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, customer_id, DB_TEXT)                                                                 \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, relationship_id, DB_TEXT)                                                             \
	F(T, subscription_id, DB_TEXT)                                                             \
	F(T, offer_id, DB_TEXT)                                                                    \
	F(T, kind, DB_TEXT)                                                                        \
	F(T, quantity, DB_INT)                                                                     \
	F(T, previous_quantity, DB_INT)                                                            \
	F(T, currency, DB_TEXT)                                                                    \
	F(T, unit_price, DB_TEXT) F(T, created_by, DB_TEXT) F(T, created_at, DB_TIME)

DB_STATEMENT(
    order_list,
    ORDER_SELECT DB_LIST_INDEX(
	"ix_orders_customer") "WHERE o.customer_tenant_id = ? AND o.id > ? ORDER BY o.id LIMIT ?",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct order, ORDER_FIELDS));
DB_STATEMENT(order_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM orders o WHERE o.customer_tenant_id = ? "
	     "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);
DB_STATEMENT(order_list_of_partner,
	     UNION_OF(ORDER_SELECT DB_LIST_INDEX("ix_orders_customer_provider") PROVIDED("o")
			  AFTER("o"),
		      ORDER_SELECT DB_LIST_INDEX("ix_orders_customer_reseller") RESOLD("o")
			  AFTER("o")),
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct order, ORDER_FIELDS));
DB_STATEMENT(order_count_of_partner, COUNT_OF_BOTH("orders", "o"),
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page order_page = {.list = &order_list,
				   .count = &order_count,
				   .n_keys = 1,
				   .cursor_offset = offsetof(struct order, id)};
const struct db_page order_page_of_partner = {.list = &order_list_of_partner,
					      .count = &order_count_of_partner,
					      .n_keys = 2,
					      .cursor_offset = offsetof(struct order, id),
					      .branches = 2};

/* The offer's name in a subquery, not a join: joined, the five offers led
 * the plan and every page sorted all of the customer's subscriptions (33 ms
 * a page at 8,000). */
#define SUBSCRIPTION_SELECT                                                                        \
	"SELECT s.id, s.customer_tenant_id AS customer_id, s.provider_tenant_id, "                 \
	"s.reseller_tenant_id, s.offer_id, (SELECT f.name FROM offers f WHERE f.id = s.offer_id) " \
	"AS offer_name, s.status, s.quantity, s.currency, s.unit_price, s.created_at, "            \
	"s.changed_at, s.version FROM subscriptions s "
#define SUBSCRIPTION_FIELDS(F, T)                                                                  \
	F(T, id, DB_TEXT)                                                                          \
	F(T, customer_id, DB_TEXT)                                                                 \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, offer_id, DB_TEXT)                                                                    \
	F(T, offer_name, DB_TEXT)                                                                  \
	F(T, status, DB_TEXT)                                                                      \
	F(T, quantity, DB_INT)                                                                     \
	F(T, currency, DB_TEXT)                                                                    \
	F(T, unit_price, DB_TEXT)                                                                  \
	F(T, created_at, DB_TIME) F(T, changed_at, DB_TIME) F(T, version, DB_INT)

DB_STATEMENT(subscription_list,
	     SUBSCRIPTION_SELECT DB_LIST_INDEX(
		 "ix_subscriptions_customer") "WHERE s.customer_tenant_id = ? AND s.id > ? ORDER "
					      "BY s.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct subscription, SUBSCRIPTION_FIELDS));
DB_STATEMENT(subscription_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM subscriptions s "
	     "WHERE s.customer_tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);
DB_STATEMENT(subscription_list_of_partner,
	     UNION_OF(SUBSCRIPTION_SELECT DB_LIST_INDEX("ix_subscriptions_customer_provider")
			  PROVIDED("s") AFTER("s"),
		      SUBSCRIPTION_SELECT DB_LIST_INDEX("ix_subscriptions_customer_reseller")
			  RESOLD("s") AFTER("s")),
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct subscription, SUBSCRIPTION_FIELDS));
DB_STATEMENT(subscription_count_of_partner, COUNT_OF_BOTH("subscriptions", "s"),
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT, DB_TEXT, DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page subscription_page = {.list = &subscription_list,
					  .count = &subscription_count,
					  .n_keys = 1,
					  .cursor_offset = offsetof(struct subscription, id)};
const struct db_page subscription_page_of_partner = {.list = &subscription_list_of_partner,
						     .count = &subscription_count_of_partner,
						     .n_keys = 2,
						     .cursor_offset =
							 offsetof(struct subscription, id),
						     .branches = 2};

/* the subscription as the tenant sees it (as order_view says), alone:
 * locking it must not lock its offer's row, which every order of that
 * offer reads (its name comes with the order's terms) */
#define SUBSCRIPTION_LOCK_FIELDS(F, T)                                                             \
	F(T, id, DB_TEXT)                                                                          \
	F(T, customer_id, DB_TEXT)                                                                 \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT)                                                          \
	F(T, offer_id, DB_TEXT)                                                                    \
	F(T, status, DB_TEXT)                                                                      \
	F(T, quantity, DB_INT)                                                                     \
	F(T, currency, DB_TEXT)                                                                    \
	F(T, unit_price, DB_TEXT)                                                                  \
	F(T, created_at, DB_TIME) F(T, changed_at, DB_TIME) F(T, version, DB_INT)
DB_STATEMENT(subscription_lock,
	     "SELECT s.id, s.customer_tenant_id AS customer_id, s.provider_tenant_id, "
	     "s.reseller_tenant_id, s.offer_id, s.status, s.quantity, s.currency, s.unit_price, "
	     "s.created_at, s.changed_at, s.version FROM subscriptions s WHERE s.id = ? AND "
	     "s.customer_tenant_id = ? AND ? IN (s.customer_tenant_id, s.provider_tenant_id, "
	     "s.reseller_tenant_id) FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct subscription, SUBSCRIPTION_LOCK_FIELDS));

DB_STATEMENT(subscription_update,
	     "UPDATE subscriptions SET quantity = ?, changed_at = ?, version = version + 1 "
	     "WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TIME, DB_TEXT), DB_NO_ROW);

/* The rule of SPEC §5, in the transaction of the order it admits: the
 * offer, the provider's relationship with the customer, its active
 * relationship with the reseller, the customer's with the reseller, the
 * reseller's signature of the current agreement, and the quantity within
 * the offer's bounds. Returns 0 with terms, or -1 with p set (the first
 * condition that fails) or t failed. */
static int order_check(struct txn *t, const char *provider, const char *customer,
		       const char *reseller, const char *offer, long long quantity,
		       struct order_terms *terms, struct problem *p)
{
	struct db_arg a[] = {db_text(reseller), db_text(customer), db_text(reseller),
			     db_text(provider), db_text(provider), db_text(reseller),
			     db_text(customer), db_text(provider), db_text(provider),
			     db_text(reseller), db_text(customer), db_text(reseller),
			     db_text(offer)};
	switch (db_one(t, &order_terms, a, terms)) {
	case DB_OK: break;
	case DB_EMPTY:
		snprintf(p->code, sizeof p->code, "unknown_offer");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "no offer %s (GET /v1/offers lists them)", offer);
	default: return -1;
	}
	if (terms->provider_customer_id[0] == '\0') {
		snprintf(p->code, sizeof p->code, "no_customer_relationship");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the provider has no reseller relationship with customer %s",
				   customer);
	}
	if (terms->relationship_id[0] == '\0') {
		snprintf(p->code, sizeof p->code, "relationship_not_active");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the provider has no active relationship with reseller %s",
				   reseller);
	}
	if (terms->reseller_customer_id[0] == '\0') {
		snprintf(p->code, sizeof p->code, "not_reseller_customer");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "customer %s has no relationship with reseller %s", customer,
				   reseller);
	}
	if (!terms->in_region) {
		snprintf(p->code, sizeof p->code, "region_not_authorized");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the provider is no longer authorized in the region of reseller "
				   "%s: its orders there are suspended until it is again",
				   reseller);
	}
	if (!terms->accepted_together) {
		snprintf(p->code, sizeof p->code, "not_shared_customer");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "customer %s did not accept reseller %s together with this "
				   "provider",
				   customer, reseller);
	}
	/* the agreement's module words the refusal (a second read, on this
	 * path alone) */
	if (!terms->agreement_signed && agreement_require_signed(t, reseller, p) != 0)
		return -1;
	if (quantity < (long long)terms->min_quantity ||
	    quantity > (long long)terms->max_quantity) {
		snprintf(p->code, sizeof p->code, "quantity_out_of_range");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "the quantity of this offer is %lu to %lu", terms->min_quantity,
				   terms->max_quantity);
	}
	return 0;
}

/* The order row of a new subscription or a change at `at`, audited in each
 * of the three tenants. DB_OK or DB_FAILED. */
static enum db_status order_write(struct txn *t, const struct actor *a, const struct order *o,
				  micros_t at)
{
	bool new_subscription = strcmp(o->kind, "new") == 0;
	struct db_arg ins[] = {db_text(o->id),
			       db_text(o->customer_id),
			       db_text(o->provider_tenant_id),
			       db_text(o->reseller_tenant_id),
			       db_text(o->relationship_id),
			       db_text(o->subscription_id),
			       db_text(o->offer_id),
			       db_text(o->kind),
			       db_int((long long)o->quantity),
			       new_subscription ? db_null()
						: db_int((long long)o->previous_quantity),
			       db_text(o->currency),
			       db_text(o->unit_price),
			       db_text(o->created_by),
			       db_time(at)};
	enum db_status rc = db_exec(t, &order_insert, ins, NULL);
	/* a new id: a duplicate is the program's error */
	if (rc == DB_DUPLICATE)
		return txn_abort(t);
	if (rc != DB_OK)
		return rc;
	return audit_record_three(t, a, o->reseller_tenant_id, o->customer_id,
				  new_subscription ? "order.create" : "subscription.quantity",
				  "order", o->id, at);
}

int order_create(struct txn *t, const struct actor *a, const struct order_new *in, struct order *o,
		 struct problem *p)
{
	struct order_terms terms;
	memset(o, 0, sizeof *o);
	if (order_check(t, a->tenant_id, in->customer_id, in->reseller_tenant_id, in->offer_id,
			in->quantity, &terms, p) != 0)
		return -1;
	/* every country of the programme has a region and a currency, and
	 * every offer a price in each */
	if (terms.unit_price[0] == '\0') {
		snprintf(p->code, sizeof p->code, "offer_not_priced");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "offer %s has no price where the customer is billed",
				   in->offer_id);
	}
	micros_t at = time_micros();
	uuid_v7(o->id);
	uuid_v7(o->subscription_id);
	snprintf(o->customer_id, sizeof o->customer_id, "%s", in->customer_id);
	snprintf(o->provider_tenant_id, sizeof o->provider_tenant_id, "%s", a->tenant_id);
	snprintf(o->reseller_tenant_id, sizeof o->reseller_tenant_id, "%s", in->reseller_tenant_id);
	snprintf(o->offer_id, sizeof o->offer_id, "%s", in->offer_id);
	snprintf(o->kind, sizeof o->kind, "new");
	o->quantity = (unsigned long)in->quantity;
	memcpy(o->relationship_id, terms.relationship_id, UUID_STR);
	memcpy(o->currency, terms.currency, sizeof o->currency);
	memcpy(o->unit_price, terms.unit_price, sizeof o->unit_price);
	snprintf(o->created_by, sizeof o->created_by, "%s", a->id);
	time_api(at, o->created_at);
	struct db_arg s[] = {db_text(o->subscription_id),
			     db_text(o->customer_id),
			     db_text(o->provider_tenant_id),
			     db_text(o->reseller_tenant_id),
			     db_text(o->offer_id),
			     db_int((long long)o->quantity),
			     db_text(o->currency),
			     db_text(o->unit_price),
			     db_text(a->id),
			     db_time(at),
			     db_time(at)};
	enum db_status rc = db_exec(t, &subscription_insert, s, NULL);
	if (rc == DB_DUPLICATE)
		txn_abort(t); /* a new id */
	if (rc != DB_OK || order_write(t, a, o, at) != DB_OK)
		return -1;
	return 0;
}

int order_view(struct txn *t, const char *tenant_id, const char *customer_id, enum order_view *view,
	       struct problem *p)
{
	*view = ORDER_VIEW_ALL;
	if (strcmp(tenant_id, customer_id) == 0)
		return 0;
	*view = ORDER_VIEW_OWN;
	/* an order needs both partners' relationships with the customer, and
	 * none is ever deleted: whoever has orders with it was its partner */
	return customer_require_partner(t, customer_id, tenant_id, p);
}

int subscription_set_quantity(struct txn *t, const struct actor *a, const char *customer_id,
			      const char *id, unsigned long version, long long quantity,
			      struct subscription *out, struct problem *p)
{
	const char *tenant = a->tenant_id;
	struct order_terms terms;
	struct order o;
	struct db_arg g[] = {db_text(id), db_text(customer_id), db_text(tenant)};
	switch (db_one(t, &subscription_lock, g, out)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND,
				   "no subscription %s of customer %s for this work account", id,
				   customer_id);
	default: return -1;
	}
	if (strcmp(out->provider_tenant_id, tenant) != 0)
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "only the provider changes a subscription's quantity");
	if (version != 0 && out->version != version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the subscription has changed since it was read; read it again "
				   "for its ETag");
	if (order_check(t, tenant, customer_id, out->reseller_tenant_id, out->offer_id, quantity,
			&terms, p) != 0)
		return -1;
	memcpy(out->offer_name, terms.offer_name, sizeof out->offer_name);
	if ((unsigned long)quantity == out->quantity)
		return 0;
	micros_t at = time_micros();
	memset(&o, 0, sizeof o);
	uuid_v7(o.id);
	memcpy(o.customer_id, out->customer_id, UUID_STR);
	memcpy(o.provider_tenant_id, tenant, UUID_STR);
	memcpy(o.reseller_tenant_id, out->reseller_tenant_id, UUID_STR);
	memcpy(o.relationship_id, terms.relationship_id, UUID_STR);
	memcpy(o.subscription_id, out->id, UUID_STR);
	memcpy(o.offer_id, out->offer_id, UUID_STR);
	snprintf(o.kind, sizeof o.kind, "quantity_change");
	o.quantity = (unsigned long)quantity;
	o.previous_quantity = out->quantity;
	/* the subscription keeps the price it was made with */
	memcpy(o.currency, out->currency, sizeof o.currency);
	memcpy(o.unit_price, out->unit_price, sizeof o.unit_price);
	snprintf(o.created_by, sizeof o.created_by, "%s", a->id);
	struct db_arg u[] = {db_int(quantity), db_time(at), db_text(id)};
	if (db_exec(t, &subscription_update, u, NULL) != DB_OK ||
	    order_write(t, a, &o, at) != DB_OK)
		return -1;
	/* the row as the update left it, without reading it again */
	out->quantity = o.quantity;
	time_api(at, out->changed_at);
	out->version++;
	return 0;
}
