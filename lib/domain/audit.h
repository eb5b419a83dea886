/* The audit log: written by the domain in the same transaction as the
 * change it records (SPEC §6). */
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
	const char *at; /* DATETIME(6) text */
};

enum db_status audit_write(struct db *db, const struct audit_entry *e);

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
 * written in its own tenant's log as well, both naming the relationship. */
enum db_status audit_record(struct db *db, const struct actor *a, const char *action,
			    const char *target_type, const char *target_id, const char *at);
/* The same event in another tenant's log, for a change that touches it (a
 * provider's, a customer's); a delegated actor's delegation is kept. */
enum db_status audit_record_in(struct db *db, const struct actor *a, const char *tenant_id,
			       const char *action, const char *target_type, const char *target_id,
			       const char *at);

/* The event in the actor's log and in the logs of two more tenants the
 * change touches (an order: the reseller's and the customer's), in one
 * round trip. */
enum db_status audit_record_three(struct db *db, const struct actor *a, const char *second,
				  const char *third, const char *action, const char *target_type,
				  const char *target_id, const char *at);

struct audit_event {
	char id[40], actor_type[16], actor_id[40], action[65], target_type[65], target_id[40],
	    request_id[65], client_addr[46], at[32];
	/* a delegated change's relationship, the actor's tenant and the tenant
	 * changed; "" otherwise */
	char relationship_id[40], actor_tenant_id[40], subject_tenant_id[40];
};

/* A page of the tenant's log, newest first, before the id `before` ("" for
 * the first page). *items is allocated (caller frees). Returns 0 or -1
 * with p set (503). */
int audit_list(struct db *db, const char *tenant_id, const char *before, long limit,
	       struct audit_event **items, size_t *n, long *total, struct problem *p);

#endif
