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
#include "domain/audit.h"

struct db;
struct problem;

struct offer {
	char id[UUID_STR], name[201], unit[33];
	unsigned long min_quantity, max_quantity;
	/* the price in the caller's region and currency; "" when unknown */
	char region[65], currency[4], unit_price[24];
};

/* Every offer with its price for the CSP country `country` (its region, in
 * its billing currency); with country NULL, the tenant's own CSP country
 * (prices "" when it has none). Returns 0 with *items (caller frees), or -1
 * with p set: 422 unknown_country, 503. */
int offer_list(struct db *db, const char *tenant_id, const char *country, struct offer **items,
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
 * customer. Beside the three conditions of SPEC §5 the customer must be
 * the reseller's too (a provider serving it for another reseller does not
 * order it for this one). Returns 0 with out, or -1 with p set: 422
 * unknown_offer, no_customer_relationship, relationship_not_active,
 * not_reseller_customer, reseller_agreement_not_signed,
 * quantity_out_of_range, offer_not_priced; 503. */
int order_create(struct db *db, const struct actor *a, const struct order_new *in,
		 struct order *out, struct problem *p);

struct subscription {
	char id[UUID_STR], customer_id[UUID_STR], provider_tenant_id[UUID_STR];
	char reseller_tenant_id[UUID_STR], offer_id[UUID_STR], offer_name[201], status[16];
	unsigned long quantity;
	char currency[4], unit_price[24], created_at[TIME_STR], changed_at[TIME_STR];
	unsigned long version;
};

/* A page of a customer's orders or subscriptions that the tenant may see:
 * all of them for the customer itself, a partner's own otherwise (the
 * provider's, or those placed for the reseller). 404 when the tenant is
 * neither the customer nor ever one of its partners. */
int order_list(struct db *db, const char *tenant_id, const char *customer_id, const char *after,
	       long limit, struct order **items, size_t *n, long *total, struct problem *p);
int subscription_list(struct db *db, const char *tenant_id, const char *customer_id,
		      const char *after, long limit, struct subscription **items, size_t *n,
		      long *total, struct problem *p);

/* The provider changes a subscription's quantity if it is at version (0:
 * any), under the conditions of an order; the change is an order of kind
 * quantity_change. Returns 0 with out, or -1 with p set: 403 (not the
 * provider), 404, 412, the 422s of order_create, 503. */
int subscription_set_quantity(struct db *db, const struct actor *a, const char *customer_id,
			      const char *id, unsigned long version, long long quantity,
			      struct subscription *out, struct problem *p);

#endif
