#include "domain/access_group.h"

#include "core/problem.h"
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, name, DB_TEXT)                                                                        \
	F(T, version, DB_INT)                                                                      \
	F(T, member_count, DB_INT)                                                                 \
	F(T, created_by, DB_TEXT) F(T, created_at, DB_TIME) F(T, changed_at, DB_TIME)
#define GROUP_COLUMNS                                                                              \
	"g.id, g.tenant_id, g.name, g.version, (SELECT COUNT(*) FROM access_group_members m "      \
	"WHERE m.group_id = g.id) AS member_count, g.created_by, g.created_at, g.changed_at "

DB_STATEMENT(group_of_tenant,
	     "SELECT " GROUP_COLUMNS "FROM access_groups g WHERE g.tenant_id = ? AND g.id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct access_group, GROUP_FIELDS));

#define MEMBER_FIELDS(F, T)                                                                        \
	F(T, group_id, DB_TEXT)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, email, DB_TEXT) F(T, first_name, DB_TEXT) F(T, last_name, DB_TEXT)
DB_STATEMENT(group_members_of,
	     "SELECT m.group_id, u.id, u.email, u.first_name, u.last_name "
	     "FROM access_group_members m JOIN users u ON u.id = m.user_id "
	     "WHERE m.group_id = ? ORDER BY u.id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct group_member, MEMBER_FIELDS));

/* the tenant's row locked: groups of one tenant are made in turn, so the
 * count holds */
DB_STATEMENT(group_tenant_lock, "SELECT COUNT(*) AS n FROM tenants WHERE id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(group_count, "SELECT COUNT(*) AS n FROM access_groups WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(group_insert,
	     "INSERT INTO access_groups (id, tenant_id, name, created_by, created_at) "
	     "VALUES (?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

DB_STATEMENT(group_list,
	     "SELECT " GROUP_COLUMNS "FROM access_groups g " DB_LIST_INDEX(
		 "ix_access_groups_tenant") "WHERE g.tenant_id = ? AND g.id > ? ORDER BY g.id "
					    "LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct access_group, GROUP_FIELDS));
DB_STATEMENT(
    group_list_count,
    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM access_groups WHERE tenant_id = ? LIMIT ?) c",
    DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);
const struct db_page group_page = {.list = &group_list,
				   .count = &group_list_count,
				   .n_keys = 1,
				   .cursor_offset = offsetof(struct access_group, id)};

int group_create(struct txn *t, const struct actor *a, const char *name, struct access_group *out,
		 struct problem *p)
{
	struct db_count n;
	char id[UUID_STR];
	struct db_arg tn[] = {db_text(a->tenant_id)};
	if (db_one(t, &group_tenant_lock, tn, &n) != DB_OK ||
	    db_one(t, &group_count, tn, &n) != DB_OK)
		return -1;
	if (n.n >= GROUPS_PER_TENANT)
		return problem_refuse(p, PROBLEM_CONFLICT, "too_many_groups",
				      "a work account has at most %d groups", GROUPS_PER_TENANT);
	uuid_v7(id);
	micros_t at = time_micros();
	struct db_arg g[] = {db_text(id), db_text(a->tenant_id), db_text(name), db_text(a->id),
			     db_time(at)};
	switch (db_exec(t, &group_insert, g, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		return problem_refuse(p, PROBLEM_CONFLICT, "group_name_taken",
				      "this work account has a group of that name");
	default: return -1;
	}
	if (audit_record(t, a, "group.create", "group", id, at) != DB_OK)
		return -1;
	return group_get(t, a->tenant_id, id, out, NULL, NULL, p);
}

int group_get(struct txn *t, const char *tenant_id, const char *id, struct access_group *out,
	      struct group_member **members, size_t *n, struct problem *p)
{
	struct db_arg k[] = {db_text(tenant_id), db_text(id)};
	struct db_arg g[] = {db_text(id)};
	switch (db_one(t, &group_of_tenant, k, out)) {
	case DB_OK: break;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no group %s of this work account", id);
	default: return -1;
	}
	if (members != NULL && db_all(t, &group_members_of, g, (void **)members, n) != DB_OK)
		return -1;
	return 0;
}

DB_STATEMENT(groups_assigned,
	     "SELECT " GROUP_COLUMNS "FROM relationship_access_assignments x "
	     "JOIN access_groups g ON g.id = x.group_id WHERE x.relationship_id = ? ORDER BY g.id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct access_group, GROUP_FIELDS));
DB_STATEMENT(group_members_assigned,
	     "SELECT m.group_id, u.id, u.email, u.first_name, u.last_name "
	     "FROM relationship_access_assignments x "
	     "JOIN access_group_members m ON m.group_id = x.group_id "
	     "JOIN users u ON u.id = m.user_id WHERE x.relationship_id = ? "
	     "ORDER BY m.group_id, u.id",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct group_member, MEMBER_FIELDS));

enum db_status group_assigned_to(struct txn *t, const char *relationship_id,
				 struct access_group **groups, size_t *n,
				 struct group_member **members, size_t *m)
{
	struct db_arg r[] = {db_text(relationship_id)};
	*groups = NULL;
	*members = NULL;
	*n = *m = 0;
	if (db_all(t, &groups_assigned, r, (void **)groups, n) != DB_OK)
		return DB_FAILED;
	return db_all(t, &group_members_assigned, r, (void **)members, m);
}

DB_STATEMENT(group_lock,
	     "SELECT version AS n FROM access_groups WHERE tenant_id = ? AND id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);

/* Group id of the actor's tenant, locked. 0, or -1 with p set (404) or t
 * failed. */
static int group_lock_of(struct txn *t, const struct actor *a, const char *id,
			 unsigned long *version, struct problem *p)
{
	struct db_count v;
	struct db_arg k[] = {db_text(a->tenant_id), db_text(id)};
	switch (db_one(t, &group_lock, k, &v)) {
	case DB_OK: *version = (unsigned long)v.n; return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no group %s of this work account", id);
	default: return -1;
	}
}

DB_STATEMENT(group_members_clear, "DELETE FROM access_group_members WHERE group_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);
/* a user of the group's tenant, or no row */
DB_STATEMENT(group_member_add,
	     "INSERT INTO access_group_members (group_id, user_id, added_at) "
	     "SELECT ?, u.id, ? FROM users u WHERE u.id = ? AND u.tenant_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);
DB_STATEMENT(group_changed,
	     "UPDATE access_groups SET version = version + 1, changed_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

int group_members_set(struct txn *t, const struct actor *a, const char *id, unsigned long version,
		      const char *const *user_ids, size_t n, struct problem *p)
{
	unsigned long current;
	if (group_lock_of(t, a, id, &current, p) != 0)
		return -1;
	if (current != version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the group has changed since it was read; read it again for "
				   "its ETag");
	struct db_arg g[] = {db_text(id)};
	if (db_exec(t, &group_members_clear, g, NULL) != DB_OK)
		return -1;
	/* now that the delegated writes of the members taken out are done */
	micros_t at = time_micros();
	for (size_t i = 0; i < n; i++) {
		unsigned long long added = 0;
		struct db_arg m[] = {db_text(id), db_time(at), db_text(user_ids[i]),
				     db_text(a->tenant_id)};
		if (db_exec(t, &group_member_add, m, &added) != DB_OK)
			return -1;
		if (added == 0) {
			char field[40];
			snprintf(field, sizeof field, "userIds[%zu]", i);
			problem_add_field(p, field, "unknown_user",
					  "names no user of this work account");
		}
	}
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct db_arg c[] = {db_time(at), db_text(id)};
	if (db_exec(t, &group_changed, c, NULL) != DB_OK ||
	    audit_record(t, a, "group.members.set", "group", id, at) != DB_OK)
		return -1;
	return 0;
}

/* locking: after a concurrent assignment of it commits, it is seen */
DB_STATEMENT(group_assigned_active,
	     "SELECT COUNT(*) AS n FROM relationship_access_assignments x "
	     "JOIN relationships r ON r.id = x.relationship_id "
	     "WHERE x.group_id = ? AND r.state = 'active' LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(group_assignments_clear,
	     "DELETE FROM relationship_access_assignments WHERE group_id = ?", DB_PARAMS(DB_TEXT),
	     DB_NO_ROW);
DB_STATEMENT(group_remove, "DELETE FROM access_groups WHERE id = ?", DB_PARAMS(DB_TEXT), DB_NO_ROW);

int group_delete(struct txn *t, const struct actor *a, const char *id, struct problem *p)
{
	unsigned long version;
	struct db_count n;
	struct db_arg g[] = {db_text(id)};
	if (group_lock_of(t, a, id, &version, p) != 0 ||
	    db_one(t, &group_assigned_active, g, &n) != DB_OK)
		return -1;
	if (n.n > 0)
		return problem_refuse(
		    p, PROBLEM_CONFLICT, "group_assigned",
		    "the admin access of %lld active relationship(s) is assigned to this group; "
		    "assign it elsewhere first (PUT /v1/relationships/{id}/access-assignments)",
		    n.n);
	/* an ended relationship's assignment goes with the group */
	if (db_exec(t, &group_assignments_clear, g, NULL) != DB_OK ||
	    db_exec(t, &group_members_clear, g, NULL) != DB_OK ||
	    db_exec(t, &group_remove, g, NULL) != DB_OK ||
	    audit_record(t, a, "group.delete", "group", id, time_micros()) != DB_OK)
		return -1;
	return 0;
}
