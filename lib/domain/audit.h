/* The audit log: written by the domain in the same transaction as the
 * change it records (SPEC §6), read by a tenant's admin agents. */
#ifndef TWOTIER_AUDIT_H
#define TWOTIER_AUDIT_H

#include "db/db.h"

/* All fields borrowed; actor_id may be NULL (anonymous sign-up, system). */
struct audit_entry {
	const char *tenant_id;
	const char *actor_type; /* "user", "token", "system", "anonymous" */
	const char *actor_id;
	const char *action; /* "tenant.create" */
	const char *target_type;
	const char *target_id;
	const char *request_id;
	const char *client_addr;
	micros_t at;
};

/* Writes e in t. DB_OK or DB_FAILED. */
enum db_status audit_write(struct txn *t, const struct audit_entry *e);

/* Who made a change, for domain functions that write the audit log. */
struct actor {
	const char *type; /* "user", "token", "anonymous", "system" */
	const char *id;	  /* NULL when anonymous */
	const char *tenant_id;
	const char *request_id;
	const char *client_addr;
	unsigned roles; /* the actor's roles, for rules that depend on them */
	/* a delegated change (SPEC §5): the actor's own tenant and the
	 * relationship that admits it acting in tenant_id; NULL otherwise */
	const char *delegated_from;
	const char *relationship_id;
};

/* Writes an event for actor on its tenant; a delegated actor's event is
 * written in its own tenant's log as well, both naming the relationship.
 * DB_OK or DB_FAILED. */
enum db_status audit_record(struct txn *t, const struct actor *a, const char *action,
			    const char *target_type, const char *target_id, micros_t at);
/* The same event in another tenant's log, for a change that touches it (a
 * provider's, a customer's); a delegated actor's delegation is kept. */
enum db_status audit_record_in(struct txn *t, const struct actor *a, const char *tenant_id,
			       const char *action, const char *target_type, const char *target_id,
			       micros_t at);
/* The event in the actor's log and in the logs of two more tenants the
 * change touches (an order: the reseller's and the customer's), in one
 * round trip. */
enum db_status audit_record_three(struct txn *t, const struct actor *a, const char *second,
				  const char *third, const char *action, const char *target_type,
				  const char *target_id, micros_t at);

struct audit_event {
	char id[UUID_STR], actor_type[16], actor_id[UUID_STR], action[65], target_type[65],
	    target_id[UUID_STR], request_id[65], client_addr[46], created_at[TIME_STR];
	/* a delegated change's relationship, the actor's tenant and the tenant
	 * changed; "" otherwise */
	char relationship_id[UUID_STR], actor_tenant_id[UUID_STR], subject_tenant_id[UUID_STR];
};

/* Pages of struct audit_event of one tenant (key: the tenant's id), newest
 * first. */
extern const struct db_page audit_page;

#endif
