/* Groups of a work account's users (issue 21, deliverable 3): a provider
 * names some of its staff (a group: a name and its members) and assigns a
 * relationship's admin access to groups (access_assignment.h); then only
 * their members act for that reseller. */
#ifndef TWOTIER_ACCESS_GROUP_H
#define TWOTIER_ACCESS_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"

struct problem;
struct actor;

#define GROUP_NAME_MAX	  100 /* characters and bytes: a VARCHAR(100) of utf8mb4 */
#define GROUPS_PER_TENANT 100
#define GROUP_MEMBERS_MAX 200

struct access_group {
	char id[UUID_STR], tenant_id[UUID_STR];
	char name[4 * GROUP_NAME_MAX + 1];
	unsigned long version; /* the ETag's: 1 when made, +1 a change of members */
	long long member_count;
	char created_by[UUID_STR], created_at[TIME_STR];
	char changed_at[TIME_STR]; /* "" until its members change */
};

/* A user in a group, with the group's id (a list of several groups'
 * members names each one's). */
struct group_member {
	char group_id[UUID_STR], id[UUID_STR];
	char email[255], first_name[401], last_name[401];
};

/* Makes a group named name (valid_name, checked by the caller) of the
 * actor's tenant, without members, audited. Returns 0 with out, or -1 with
 * p set: 409 group_name_taken, too_many_groups; or t failed. */
int group_create(struct txn *t, const struct actor *a, const char *name, struct access_group *out,
		 struct problem *p);

/* Group id of tenant_id into out and, when members is not NULL, its
 * members by id into *members (the caller's to free) and *n. Returns 0, or
 * -1 with p set: 404; or t failed. */
int group_get(struct txn *t, const char *tenant_id, const char *id, struct access_group *out,
	      struct group_member **members, size_t *n, struct problem *p);

/* Pages of struct access_group of one tenant (key: its id), by id. */
extern const struct db_page group_page;

/* Makes user_ids (n canonical ids, no two alike: the caller checked) the
 * members of group id of the actor's tenant, if its version is still
 * version; audited. A member taken out waits for the delegated writes
 * it has in flight (they hold its membership: access_assignment_admits).
 * Returns 0, or -1 with p set: 404, 412, 400 (userIds[i] unknown_user: no
 * user of this work account); or t failed. */
int group_members_set(struct txn *t, const struct actor *a, const char *id, unsigned long version,
		      const char *const *user_ids, size_t n, struct problem *p);

/* The groups relationship_id's admin access is assigned to, by id, into
 * *groups and *n, and their members by group and id into *members and *m
 * (each the caller's to free). DB_OK or DB_FAILED. */
enum db_status group_assigned_to(struct txn *t, const char *relationship_id,
				 struct access_group **groups, size_t *n,
				 struct group_member **members, size_t *m);

/* Deletes group id of the actor's tenant with its members, audited.
 * Returns 0, or -1 with p set: 404, 409 group_assigned (the admin access
 * of an active relationship is assigned to it: taking it away would give
 * the access to every admin agent); or t failed. */
int group_delete(struct txn *t, const struct actor *a, const char *id, struct problem *p);

#endif
