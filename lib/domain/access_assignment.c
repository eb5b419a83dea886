#include "domain/access_assignment.h"

#include "core/problem.h"
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void access_assignment_free(struct access_assignment *x)
{
	free(x->groups);
	free(x->members);
	x->groups = NULL;
	x->members = NULL;
	x->n_groups = x->n_members = 0;
}

struct assignment_rel_row {
	char provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR], state[8];
	long long version;
};
#define ASSIGNMENT_REL_FIELDS(F, T)                                                                \
	F(T, provider_tenant_id, DB_TEXT)                                                          \
	F(T, reseller_tenant_id, DB_TEXT) F(T, state, DB_TEXT) F(T, version, DB_INT)
#define ASSIGNMENT_REL_SELECT                                                                      \
	"SELECT provider_tenant_id, reseller_tenant_id, state, version FROM relationships "        \
	"WHERE id = ? AND (provider_tenant_id = ? OR reseller_tenant_id = ?)"
DB_STATEMENT(assignment_relationship, ASSIGNMENT_REL_SELECT, DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct assignment_rel_row, ASSIGNMENT_REL_FIELDS));
/* locked: an assignment takes turns with the reseller's changes of the
 * access and with delegated writes, which hold the row shared */
DB_STATEMENT(assignment_relationship_locked, ASSIGNMENT_REL_SELECT " FOR UPDATE",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT),
	     DB_ROW(struct assignment_rel_row, ASSIGNMENT_REL_FIELDS));

/* Relationship id of which tenant_id is a side into out, locked or not.
 * 0, or -1 with p set (404) or t failed. */
static int assignment_relationship_of(struct txn *t, const char *tenant_id, const char *id,
				      bool lock, struct assignment_rel_row *out, struct problem *p)
{
	struct db_arg k[] = {db_text(id), db_text(tenant_id), db_text(tenant_id)};
	switch (
	    db_one(t, lock ? &assignment_relationship_locked : &assignment_relationship, k, out)) {
	case DB_OK: return 0;
	case DB_EMPTY:
		return problem_set(p, PROBLEM_NOT_FOUND, "no relationship %s of this work account",
				   id);
	default: return -1;
	}
}

int access_assignment_get(struct txn *t, const char *tenant_id, const char *id,
			  struct access_assignment *out, struct problem *p)
{
	struct assignment_rel_row rel;
	memset(out, 0, sizeof *out);
	if (assignment_relationship_of(t, tenant_id, id, false, &rel, p) != 0)
		return -1;
	memcpy(out->relationship_id, id, UUID_STR);
	out->version = (unsigned long)rel.version;
	return group_assigned_to(t, id, &out->groups, &out->n_groups, &out->members,
				 &out->n_members) == DB_OK
		   ? 0
		   : -1;
}

DB_STATEMENT(assignment_clear,
	     "DELETE FROM relationship_access_assignments WHERE relationship_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);
/* the group held (shared): a deletion of it waits, or is seen */
DB_STATEMENT(assignment_group_held,
	     "SELECT COUNT(*) AS n FROM access_groups WHERE id = ? AND tenant_id = ? "
	     "LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(assignment_insert,
	     "INSERT INTO relationship_access_assignments (relationship_id, group_id, "
	     "assigned_by, assigned_at) VALUES (?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);
DB_STATEMENT(assignment_relationship_changed,
	     "UPDATE relationships SET version = version + 1 WHERE id = ?", DB_PARAMS(DB_TEXT),
	     DB_NO_ROW);

int access_assignment_set(struct txn *t, const struct actor *a, const char *id,
			  unsigned long version, const char *const *group_ids, size_t n,
			  struct problem *p)
{
	struct assignment_rel_row rel;
	if (assignment_relationship_of(t, a->tenant_id, id, true, &rel, p) != 0)
		return -1;
	if (strcmp(rel.provider_tenant_id, a->tenant_id) != 0)
		return problem_set(p, PROBLEM_FORBIDDEN,
				   "only the provider assigns its staff to the admin access; the "
				   "reseller reads the assignment");
	if ((unsigned long)rel.version != version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the relationship has changed since it was read; read it again "
				   "for its ETag");
	if (strcmp(rel.state, "active") != 0)
		return problem_refuse(p, PROBLEM_CONFLICT, "relationship_ended",
				      "the relationship has ended: there is no access to assign");
	micros_t at = time_micros();
	struct db_arg r[] = {db_text(id)};
	if (db_exec(t, &assignment_clear, r, NULL) != DB_OK)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct db_count found;
		struct db_arg g[] = {db_text(group_ids[i]), db_text(a->tenant_id)};
		struct db_arg x[] = {db_text(id), db_text(group_ids[i]), db_text(a->id),
				     db_time(at)};
		if (db_one(t, &assignment_group_held, g, &found) != DB_OK)
			return -1;
		if (found.n == 0) {
			char field[40];
			snprintf(field, sizeof field, "groupIds[%zu]", i);
			problem_add_field(p, field, "unknown_group",
					  "names no group of this work account");
		} else if (db_exec(t, &assignment_insert, x, NULL) != DB_OK) {
			return -1;
		}
	}
	if (p->kind != PROBLEM_NONE)
		return -1;
	if (db_exec(t, &assignment_relationship_changed, r, NULL) != DB_OK ||
	    audit_record(t, a, "relationship.access_assignments.set", "relationship", id, at) !=
		DB_OK ||
	    audit_record_in(t, a, rel.reseller_tenant_id, "relationship.access_assignments.set",
			    "relationship", id, at) != DB_OK)
		return -1;
	return 0;
}

struct admits_row {
	long long assigned, mine;
};
#define ADMITS_FIELDS(F, T) F(T, assigned, DB_INT) F(T, mine, DB_INT)
#define ADMITS_SELECT                                                                              \
	"SELECT COUNT(*) AS assigned, COUNT(m.user_id) AS mine "                                   \
	"FROM relationship_access_assignments x LEFT JOIN access_group_members m "                 \
	"ON m.group_id = x.group_id AND m.user_id = ? WHERE x.relationship_id = ?"
DB_STATEMENT(assignment_admits, ADMITS_SELECT, DB_PARAMS(DB_TEXT, DB_TEXT),
	     DB_ROW(struct admits_row, ADMITS_FIELDS));
/* the rows read held until the write ends: an assignment or a membership
 * taken away waits for it */
DB_STATEMENT(assignment_admits_held, ADMITS_SELECT " LOCK IN SHARE MODE",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct admits_row, ADMITS_FIELDS));

int access_assignment_admits(struct txn *t, const char *id, const char *user_id, bool hold,
			     struct problem *p)
{
	struct admits_row r;
	struct db_arg k[] = {db_text(user_id), db_text(id)};
	if (db_one(t, hold ? &assignment_admits_held : &assignment_admits, k, &r) != DB_OK)
		return -1;
	if (r.assigned > 0 && r.mine == 0)
		return problem_refuse(
		    p, PROBLEM_FORBIDDEN, "not_assigned",
		    "the provider has assigned this relationship's admin access to chosen groups "
		    "of its staff, and you are in none of them");
	return 0;
}
