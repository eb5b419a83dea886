/* Webhooks (issue 20): a tenant's endpoints for its events, and their
 * deliveries. An endpoint is registered with an https URL (checked by
 * core/outbound.h: a private address is refused here and again before
 * each delivery), the event types it wants and a secret the service makes
 * and shows once. Each event numbered by the sequencer becomes one
 * delivery to each enabled endpoint of its tenants that wants its type;
 * an endpoint's deliveries leave in the feed's order, one at a time
 * (webhook_delivery_claim), and are retried with back-off when the
 * receiver fails. */
#ifndef TWOTIER_WEBHOOK_H
#define TWOTIER_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "core/outbound.h"

struct problem;
struct actor;

#define WEBHOOK_SECRET_MAX  64
#define WEBHOOKS_PER_TENANT 20

struct webhook {
	char id[UUID_STR], tenant_id[UUID_STR];
	char url[OUTBOUND_URL_MAX + 1];
	unsigned types; /* event type bits */
	bool enabled;
	unsigned long version; /* the ETag's: 1 at registration, +1 a change */
	char created_by[UUID_STR], created_at[TIME_STR];
	/* its first failed attempt since its last success: "" when none */
	char failing_since[TIME_STR];
	/* why it is disabled: "failing" when the service disabled it, "" when
	 * an agent did or it is enabled */
	char disabled_reason[17];
};

/* An endpoint whose deliveries have failed for this long, with no success
 * between, is disabled and its owner mailed (webhook_delivery_done). */
#define WEBHOOK_FAILING_DAYS 5

/* Where an endpoint may be (the configuration's): http allowed, private
 * ranges allowed, the test-only name map. All borrowed. */
struct webhook_reach {
	bool allow_http;
	const char *allow_private, *resolve_map;
};

/* Registers an endpoint of the actor's tenant, in t: *out, and secret its
 * secret (shown once). Returns 0, or -1 with p set: 400 (url with why),
 * 409 too_many_webhooks; or with t failed. */
int webhook_create(struct txn *t, const struct actor *a, const char *url, unsigned types,
		   bool enabled, const struct webhook_reach *reach, struct webhook *out,
		   char secret[WEBHOOK_SECRET_MAX], struct problem *p);

/* How long a rotated secret still signs beside its successor. */
#define WEBHOOK_SECRET_GRACE_HOURS 24

/* A change of an endpoint (PATCH): what is set, if it is at version (0:
 * any). */
struct webhook_change {
	unsigned long version;
	const char *url; /* NULL: unchanged */
	unsigned types;	 /* 0: unchanged */
	bool set_enabled, enabled;
};

/* Changes the actor's tenant's endpoint id (audited webhook.update), in t:
 * *out as it is now. A disabled endpoint is given no new deliveries and
 * sends none of those it holds until enabled again. Enabling or disabling
 * it ends its failing period and clears its disabled reason. Returns 0, or -1 with
 * p set: 400 (url not_allowed, as at registration), 404, 412 stale
 * version; or with t failed. */
int webhook_update(struct txn *t, const struct actor *a, const char *id,
		   const struct webhook_change *change, const struct webhook_reach *reach,
		   struct webhook *out, struct problem *p);

/* Gives the actor's tenant's endpoint id a new secret (audited
 * webhook.secret_rotate), in t: secret, shown once. The one it replaces
 * signs beside it for WEBHOOK_SECRET_GRACE_HOURS (one replaced within
 * that time is dropped). Returns 0, or -1 with p set (404) or t failed. */
int webhook_secret_rotate(struct txn *t, const struct actor *a, const char *id,
			  char secret[WEBHOOK_SECRET_MAX], struct problem *p);

/* The tenant's endpoint id: 0, or -1 with p set (404) or t failed. */
int webhook_get(struct txn *t, const char *tenant_id, const char *id, struct webhook *out,
		struct problem *p);

/* Removes it with its deliveries (audited). Returns 0, or -1 with p set
 * (404) or t failed. */
int webhook_delete(struct txn *t, const struct actor *a, const char *id, struct problem *p);

/* Pages of a tenant's endpoints (key: the tenant). */
extern const struct db_page webhook_page;

/* The deliveries of the events numbered [first, end) in t (by the
 * sequencer, before it commits): one of each to each enabled endpoint of
 * its tenants that wants its type. DB_OK or DB_FAILED. */
enum db_status webhook_fan_out(struct txn *t, long long first, long long end);

/* One delivery as its endpoint's log shows it. */
struct webhook_delivery {
	char event_id[UUID_STR], event_type[65];
	long long seq;
	char status[12];
	long long attempts, response_status, duration_ms;
	char next_attempt_at[TIME_STR], last_error[256], created_at[TIME_STR],
	    delivered_at[TIME_STR];
};
/* Pages of an endpoint's deliveries, newest first (key: the endpoint). */
extern const struct db_page webhook_delivery_page;

/* A ping of the endpoint w (the caller's tenant's, as webhook_get read it)
 * by the actor (audited webhook.ping), in t: an event of type
 * EVENT_WEBHOOK_PING with data (JSON text, borrowed) in no tenant's feed,
 * and its delivery to w alone, due now, in w's order (event.h's
 * event_record_numbered). *out the delivery. Returns 0, or -1 with p set
 * (409 webhook_disabled) or t failed. */
int webhook_ping(struct txn *t, const struct actor *a, const struct webhook *w, const char *data,
		 struct webhook_delivery *out, struct problem *p);

/* Makes the delivery of event_id to the actor's tenant's endpoint id due
 * again now (audited webhook.delivery_retry), its attempts kept: a failed
 * one is given one more attempt at least (as many as remain of the
 * bounded number), a pending one waits no longer. *out the delivery.
 * Returns 0, or -1 with p set: 404 (no such endpoint or delivery), 409
 * delivery_not_failed (succeeded, or being sent); or t failed. */
int webhook_delivery_retry(struct txn *t, const struct actor *a, const char *id,
			   const char *event_id, struct webhook_delivery *out, struct problem *p);

/* A delivery claimed by a sender: where, with what key, and the event. */
struct webhook_claim {
	char webhook_id[UUID_STR], event_id[UUID_STR];
	char url[OUTBOUND_URL_MAX + 1];
	char secret[WEBHOOK_SECRET_MAX];
	/* the secret it replaced, while it still signs: "" when none */
	char previous_secret[WEBHOOK_SECRET_MAX];
	long long attempts; /* this one included */
};

/* Claims the next delivery that may leave (due, and none before it of its
 * endpoint waiting), for lease seconds, as claimer, in t (atomic; read
 * committed will do): DB_OK with *out, DB_EMPTY when none, DB_FAILED. The
 * endpoint's row is locked with the delivery (SKIP LOCKED), so that two
 * senders never claim two deliveries of one endpoint at once. */
enum db_status webhook_delivery_claim(struct txn *t, const char *claimer, long lease,
				      struct webhook_claim *out);

/* The outcome of a claimed delivery, in t (TXN_ATOMIC): succeeded (2xx),
 * or retried in retry_in seconds (a negative retry_in: failed for good).
 * A success ends the endpoint's failing period; a failure begins one, and
 * an endpoint failing for WEBHOOK_FAILING_DAYS is disabled ("failing"),
 * audited webhook.disable by the system, and its owner (the user who
 * registered it, or the user who made the token that did) mailed:
 * *disabled true. DB_OK or DB_FAILED. */
enum db_status webhook_delivery_done(struct txn *t, const struct webhook_claim *c,
				     const char *claimer, bool succeeded, double retry_in,
				     long response_status, long duration_ms, const char *error,
				     bool *disabled);

/* Deletes up to limit deliveries of events made more than days ago,
 * except those being sent, in t: *deleted. For purge.h. */
enum db_status webhook_purge_deliveries(struct txn *t, int days, long long limit,
					unsigned long long *deleted);

/* Drops the previous secrets whose grace is over, up to limit, in t:
 * *deleted. For purge.h. */
enum db_status webhook_purge_secrets(struct txn *t, long long limit, unsigned long long *deleted);

#endif
