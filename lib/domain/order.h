/* Offers, orders and subscriptions (SPEC §5 last rule): the catalogue with
 * a price per CSP region; a provider's order for a customer on a
 * reseller's behalf, allowed only while the provider has a relationship
 * with the customer, an active relationship with the reseller, and the
 * reseller has signed the current agreement, checked in the order's own
 * transaction; the subscription an order makes and the changes of its
 * quantity. The provider, the reseller and the customer read the same
 * history. */
#ifndef TWOTIER_ORDER_H
#define TWOTIER_ORDER_H

#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/audit.h"

struct problem;

struct offer {
	char id[UUID_STR], name[801], unit[33];
	unsigned long min_quantity, max_quantity;
	/* the price in the caller's region and currency; "" when unknown */
	char region[65], currency[4], unit_price[24];
};

/* Every offer with its price for the CSP country `country` (its region, in
 * its billing currency); with country NULL, the tenant's own CSP country
 * (prices "" when it has none). Returns 0 with *items (the caller frees)
 * and *n, or -1 with p set: 422 unknown_country; or -1 with t failed. */
int offer_list(struct txn *t, const char *tenant_id, const char *country, struct offer **items,
	       size_t *n, struct problem *p);

struct order {
	char id[UUID_STR], customer_id[UUID_STR], provider_tenant_id[UUID_STR];
	char reseller_tenant_id[UUID_STR], relationship_id[UUID_STR], subscription_id[UUID_STR];
	char offer_id[UUID_STR], kind[16];
	unsigned long quantity, previous_quantity; /* previous: 0 for a new subscription */
	char currency[4], unit_price[24], created_by[UUID_STR], created_at[TIME_STR];
};

struct order_new {
	const char *customer_id, *reseller_tenant_id, *offer_id;
	long long quantity;
};

/* The actor (a provider's admin agent or billing system) orders for a
 * customer in t. Beside the three conditions of SPEC §5 the customer must
 * be the reseller's too (a provider serving it for another reseller does
 * not order it for this one). Returns 0 with out, or -1 with p set: 422
 * unknown_offer, no_customer_relationship, relationship_not_active,
 * not_reseller_customer, reseller_agreement_not_signed,
 * quantity_out_of_range, offer_not_priced; or -1 with t failed. */
int order_create(struct txn *t, const struct actor *a, const struct order_new *in,
		 struct order *out, struct problem *p);

struct subscription {
	char id[UUID_STR], customer_id[UUID_STR], provider_tenant_id[UUID_STR];
	char reseller_tenant_id[UUID_STR], offer_id[UUID_STR], offer_name[801], status[16];
	unsigned long quantity;
	char currency[4], unit_price[24], created_at[TIME_STR], changed_at[TIME_STR];
	unsigned long version;
};

/* What a tenant sees of a customer's orders and subscriptions: all of
 * them when it is the customer, its own (those it provides, or that were
 * placed for it as the reseller) when it is or was one of its partners. */
enum order_view { ORDER_VIEW_ALL, ORDER_VIEW_OWN };

/* The tenant's view of customer_id's orders and subscriptions into *view.
 * Returns 0, or -1 with p set: 404 when the tenant is neither the customer
 * nor ever one of its partners; or -1 with t failed. */
int order_view(struct txn *t, const char *tenant_id, const char *customer_id, enum order_view *view,
	       struct problem *p);

/* Pages of struct order and of struct subscription by id: of the whole
 * (key: the customer's id), and a partner's own (keys: the customer's id,
 * the partner's id). */
extern const struct db_page order_page, order_page_of_partner;
extern const struct db_page subscription_page, subscription_page_of_partner;

/* The provider changes a subscription's quantity if it is at version (0:
 * any), under the conditions of an order; the change is an order of kind
 * quantity_change. Returns 0 with out, or -1 with p set: 403 (not the
 * provider), 404, 412, the 422s of order_create; or -1 with t failed. */
int subscription_set_quantity(struct txn *t, const struct actor *a, const char *customer_id,
			      const char *id, unsigned long version, long long quantity,
			      struct subscription *out, struct problem *p);

#endif
