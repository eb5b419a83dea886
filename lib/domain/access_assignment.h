/* Who of a provider's staff holds a relationship's admin access (issue
 * 21, deliverable 3): the groups (access_group.h) the provider's global
 * admin assigns it to, or, when none is assigned, every admin agent of
 * the provider as before. The relationship's version is the assignment's
 * ETag: a change of it is a change of the relationship. */
#ifndef TWOTIER_ACCESS_ASSIGNMENT_H
#define TWOTIER_ACCESS_ASSIGNMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/access_group.h"

struct problem;
struct actor;

#define ASSIGNED_GROUPS_MAX 20

/* A relationship's assignment: its groups by id, and their members by
 * group and id (each owned: access_assignment_free). */
struct access_assignment {
	char relationship_id[UUID_STR];
	unsigned long version; /* the relationship's */
	struct access_group *groups;
	size_t n_groups;
	struct group_member *members;
	size_t n_members;
};

void access_assignment_free(struct access_assignment *x);

/* The assignment of relationship id, of which tenant_id is either side,
 * into out. Returns 0, or -1 with p set: 404; or t failed. */
int access_assignment_get(struct txn *t, const char *tenant_id, const char *id,
			  struct access_assignment *out, struct problem *p);

/* The provider's global admin (the actor) assigns the admin access of
 * relationship id to group_ids (n canonical ids of its tenant's groups, no
 * two alike; none: every admin agent), if the relationship's version is
 * still version: the relationship's version +1, audited in both tenants.
 * Returns 0, or -1 with p set: 403 (the reseller's side), 404, 409
 * relationship_ended, 412, 400 (groupIds[i] unknown_group); or t failed. */
int access_assignment_set(struct txn *t, const struct actor *a, const char *id,
			  unsigned long version, const char *const *group_ids, size_t n,
			  struct problem *p);

/* Whether user_id may act under relationship id's admin access: yes when
 * nothing is assigned, else when it is in an assigned group. With hold,
 * the assignment and the membership read are held (shared) until t ends,
 * so that neither is taken away before a delegated write commits. Returns
 * 0, or -1 with p set: 403 not_assigned; or t failed. */
int access_assignment_admits(struct txn *t, const char *id, const char *user_id, bool hold,
			     struct problem *p);

#endif
