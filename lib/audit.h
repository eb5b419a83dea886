/* The audit log: written by the domain in the same transaction as the
 * change it records (SPEC §6). */
#ifndef TWOTIER_AUDIT_H
#define TWOTIER_AUDIT_H

#include "db.h"

/* All fields borrowed; actor_id may be NULL (anonymous sign-up, system). */
struct audit_entry {
	const char *tenant_id;
	const char *actor_type; /* "user", "token", "system", "anonymous" */
	const char *actor_id;
	const char *action;     /* "tenant.create" */
	const char *target_type;
	const char *target_id;
	const char *request_id;
	const char *client_addr;
	const char *at;         /* DATETIME(6) text */
};

enum db_status audit_write(struct db *db, const struct audit_entry *e);

#endif
