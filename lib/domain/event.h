/* Events (issue 20): a record of every change a partner may care about,
 * written in the transaction of the change, so that an event exists if and
 * only if its change committed. Each names the tenants it concerns (each
 * reads it in its feed), its actor and the delegation it came through,
 * and carries the resource as the API renders it.
 *
 * The feed's order is the order in which events committed, as the
 * sequencer saw them: it numbers committed events one batch at a time
 * under one row's lock (event_sequence), so that a number is given only
 * to an event that is visible, and never below one given before. */
#ifndef TWOTIER_EVENT_H
#define TWOTIER_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"

struct actor;

/* X(id, bit, type, resource schema (doc/openapi.yaml), what happened) */
#define EVENT_TYPES(X)                                                                             \
	X(EVENT_ENROLLMENT_STATUS_CHANGED, 1u << 0, "enrollment.status_changed", "Enrollment",     \
	  "An enrolment was submitted, its contact verified, or the operator decided on it.")      \
	X(EVENT_AGREEMENT_ACCEPTED, 1u << 1, "agreement.accepted", "AgreementAcceptance",          \
	  "A reseller accepted a version of the partner agreement.")                               \
	X(EVENT_RELATIONSHIP_INVITED, 1u << 2, "relationship.invited", "Invitation",               \
	  "A provider invited a reseller.")                                                        \
	X(EVENT_RELATIONSHIP_AUTHORIZED, 1u << 3, "relationship.authorized", "Relationship",       \
	  "A reseller authorized a provider: the relationship and its admin access began.")        \
	X(EVENT_RELATIONSHIP_ACCESS_CHANGED, 1u << 4, "relationship.access_changed",               \
	  "Relationship",                                                                          \
	  "The provider's admin access changed: the reseller narrowed its roles or consented to "  \
	  "an access request, or it extended itself (adminAccess.autoExtend).")                    \
	X(EVENT_RELATIONSHIP_ACCESS_REMOVED, 1u << 5, "relationship.access_removed",               \
	  "Relationship", "The reseller removed the provider's admin access.")                     \
	X(EVENT_RELATIONSHIP_ENDED, 1u << 6, "relationship.ended", "Relationship",                 \
	  "The reseller or the provider ended the relationship.")                                  \
	X(EVENT_CUSTOMER_INVITED, 1u << 7, "customer.invited", "CustomerInvitation",               \
	  "A reseller (or its provider for it) invited a customer.")                               \
	X(EVENT_CUSTOMER_ACCEPTED, 1u << 8, "customer.accepted", "CustomerAcceptance",             \
	  "A customer accepted an invitation: it is a customer of the reseller and the provider.") \
	X(EVENT_CUSTOMER_ENDED, 1u << 9, "customer.ended", "CustomerRelationship",                 \
	  "A customer ended its relationship with a partner.")                                     \
	X(EVENT_ORDER_PLACED, 1u << 10, "order.placed", "Order",                                   \
	  "A provider placed an order for a customer.")                                            \
	X(EVENT_SUBSCRIPTION_CHANGED, 1u << 11, "subscription.changed", "Subscription",            \
	  "A subscription's quantity changed.")                                                    \
	X(EVENT_RELATIONSHIP_ACCESS_EXPIRING, 1u << 12, "relationship.access_expiring",            \
	  "Relationship",                                                                          \
	  "The relationship's admin access ends in 30, 7 or 1 day(s) or less "                     \
	  "(adminAccess.endsAt).")                                                                 \
	X(EVENT_RELATIONSHIP_DECLINED, 1u << 13, "relationship.declined", "Invitation",            \
	  "A reseller declined a provider's invitation (declineReason: why, if it said).")

enum event_type {
#define EVENT_ENUM(id, bit, name, schema, what) id,
	EVENT_TYPES(EVENT_ENUM)
#undef EVENT_ENUM
	    EVENT_TYPE__COUNT
};

/* Every event is of version 1 of its type. */
#define EVENT_VERSION 1

struct event_type_info {
	unsigned bit;
	const char *name, *schema, *description;
};
const struct event_type_info *event_type_info(enum event_type type);
/* The bit of a type's name, 0 when it is none. */
unsigned event_type_bit(const char *name);

/* Records an event of type by the actor, concerning tenants (n, at most
 * 3; NULL or "" entries and repeats are skipped), with data the resource
 * as JSON text (borrowed), in t. DB_OK or DB_FAILED. */
enum db_status event_record(struct txn *t, const struct actor *a, enum event_type type,
			    const char *const *tenants, size_t n, const char *data);

/* The type of a ping (POST /v1/webhooks/{id}/ping): in no tenant's feed,
 * delivered to the endpoint pinged alone. */
#define EVENT_WEBHOOK_PING "webhook.ping"

/* Records an event of type (a name outside EVENT_TYPES: no endpoint
 * subscribes to it) by the actor with data (JSON text, borrowed),
 * concerning no tenant, and numbers it at once, in t: id and *seq. The
 * number is taken under the sequencer's lock (event_sequence, held until t
 * ends), as event_sequence_run takes its own, so numbers stay unique and
 * rising and the sequencer never numbers it again; no feed shows it (a
 * feed reads event_tenants). A delivery given *seq keeps its endpoint's
 * order. DB_OK or DB_FAILED. */
enum db_status event_record_numbered(struct txn *t, const struct actor *a, const char *type,
				     const char *data, char id[UUID_STR], long long *seq);

/* Numbers the committed events that have none, up to limit, and makes
 * their webhooks' deliveries (webhook_fan_out), in t (a transaction of its
 * own; TXN_ATOMIC_READ_COMMITTED, so that it holds no gap in events or
 * event_tenants: the transactions recording events never wait on it):
 * *numbered, how many. DB_OK or DB_FAILED. */
enum db_status event_sequence_run(struct txn *t, long long limit, unsigned long long *numbered);

/* Deletes up to limit numbered events made more than days ago that no
 * delivery holds any more (webhook_purge_deliveries goes first), with
 * their feeds' rows, in t: *deleted. For purge.h. */
enum db_status event_purge(struct txn *t, int days, long long limit, unsigned long long *deleted);

/* One event of a feed. */
struct event_item {
	char id[UUID_STR];
	char type[65];
	long long version;
	long long seq;
	char actor_type[17], actor_id[UUID_STR], actor_tenant_id[UUID_STR], delegation_id[UUID_STR];
	char occurred_at[TIME_STR];
	char *data; /* owned: event_items_free */
};

/* The events of tenant_id after seq after whose type's bit is in types,
 * in order, at most limit, into a new array (*items, *n), in t. DB_OK or
 * DB_FAILED. */
enum db_status event_feed_read(struct txn *t, const char *tenant_id, long long after,
			       unsigned types, long limit, struct event_item **items, size_t *n);
void event_items_free(struct event_item *items, size_t n);
/* One event by its id into *out (out->data the caller's to free), in t.
 * DB_OK, DB_EMPTY, DB_FAILED. */
enum db_status event_get(struct txn *t, const char *id, struct event_item *out);

#endif
