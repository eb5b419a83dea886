/* Groups of a provider's staff and the assignment of a relationship's
 * admin access to them (issue 21, deliverable 3). */
#include "api/app.h"
#include "api/handlers.h"
#include "domain/access_assignment.h"
#include "domain/access_group.h"
#include "domain/relationship.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct json_field group_create_schema[] = {
    {"name", JSON_STRING, true, GROUP_NAME_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field group_members_schema[] = {
    {"userIds", JSON_STRING_ARRAY, true, GROUP_MEMBERS_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field access_assignments_schema[] = {
    {"groupIds", JSON_STRING_ARRAY, true, ASSIGNED_GROUPS_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* The ids of the body's array name (present, at most max: the schema's)
 * into ids and *n; a field error in p for each that is not a canonical id
 * or repeats one before it. */
static void ids_field(struct problem *p, const cJSON *body, const char *name, const char **ids,
		      size_t *n)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, name);
	*n = 0;
	for (const cJSON *e = list ? list->child : NULL; e != NULL; e = e->next, (*n)++) {
		char field[32];
		snprintf(field, sizeof field, "%s[%zu]", name, *n);
		ids[*n] = e->valuestring;
		if (!uuid_valid(e->valuestring)) {
			problem_add_field(p, field, "invalid", "must be an id");
			continue;
		}
		for (size_t j = 0; j < *n; j++)
			if (strcmp(ids[j], e->valuestring) == 0) {
				problem_add_field(p, field, "duplicate", "names %s[%zu] again",
						  name, j);
				break;
			}
	}
}

static cJSON *member_json(const struct group_member *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", m->id);
	cJSON_AddStringToObject(o, "email", m->email);
	cJSON_AddStringToObject(o, "firstName", m->first_name);
	cJSON_AddStringToObject(o, "lastName", m->last_name);
	return o;
}

/* The members of group_id among members[0..n) (by group), as an array. */
static cJSON *members_json(const char *group_id, const struct group_member *members, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		if (strcmp(members[i].group_id, group_id) == 0)
			cJSON_AddItemToArray(a, member_json(&members[i]));
	return a;
}

static cJSON *group_json(const struct ctx *c, const void *item)
{
	const struct access_group *g = item;
	char etag[32];
	(void)c;
	etag_format(g->version, etag);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", g->id);
	cJSON_AddStringToObject(o, "name", g->name);
	cJSON_AddNumberToObject(o, "memberCount", (double)g->member_count);
	cJSON_AddStringToObject(o, "createdBy", g->created_by);
	cJSON_AddStringToObject(o, "createdAt", g->created_at);
	add_time_or_null(o, "changedAt", g->changed_at);
	cJSON_AddStringToObject(o, "etag", etag);
	return o;
}

/* status, the group with its members and its ETag. */
static int respond_group(struct ctx *c, int status, const struct access_group *g,
			 const struct group_member *members, size_t n)
{
	char etag[32];
	cJSON *doc = group_json(c, g);
	cJSON_AddItemToObject(doc, "members", members_json(g->id, members, n));
	etag_format(g->version, etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, status, doc);
}

/* 201 group; 400 (name not a name); 401; 403 (not a global admin, not a
 * provider, a token); 409 group_name_taken, too_many_groups; 503. */
int handle_group_create(struct ctx *c)
{
	struct access_group g;
	const char *name = json_str(c->body, "name");
	char location[64];
	if (!valid_name(name, 1, GROUP_NAME_MAX))
		return problem_add_field(&c->problem, "name", "invalid",
					 "must be 1 to %d bytes of text, without invisible or "
					 "look-alike characters",
					 GROUP_NAME_MAX);
	struct actor a = ctx_actor(c);
	if (group_create(&c->txn, &a, name, &g, &c->problem) != 0)
		return -1;
	snprintf(location, sizeof location, "/v1/groups/%s", g.id);
	response_header(c->res, "Location", location);
	return respond_group(c, 201, &g, NULL, 0);
}

/* 200 page of the tenant's groups (without their members); 400; 401;
 * 403; 503. */
int handle_groups_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &group_page, tenant, group_json, NULL);
}

/* 200 group with its members and ETag; 401; 403; 404; 503. */
int handle_group_get(struct ctx *c)
{
	struct access_group g;
	struct group_member *members = NULL;
	size_t n = 0;
	int rc = -1;
	if (group_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &g, &members, &n,
		      &c->problem) == 0)
		rc = respond_group(c, 200, &g, members, n);
	free(members);
	return rc;
}

/* 200 group with its new members and ETag; 400 (an id not an id, twice, or not of this work
 * account); 401; 403; 404; 412; 400 unknown_user; 428; 503. */
int handle_group_members_put(struct ctx *c)
{
	const char *ids[GROUP_MEMBERS_MAX];
	size_t n;
	unsigned long version;
	ids_field(&c->problem, c->body, "userIds", ids, &n);
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (group_members_set(&c->txn, &a, ctx_capture(c, 0), version, ids, n, &c->problem) != 0)
		return -1;
	return handle_group_get(c);
}

/* 204; 401; 403; 404; 409 group_assigned; 503. */
int handle_group_delete(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (group_delete(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 200 {relationshipId, allAdminAgents, groupIds, groups: [{id, name,
 * members}]} with the relationship's ETag. */
static int respond_assignment(struct ctx *c, const struct access_assignment *x)
{
	char etag[32];
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "relationshipId", x->relationship_id);
	cJSON_AddBoolToObject(doc, "allAdminAgents", x->n_groups == 0);
	cJSON *ids = cJSON_AddArrayToObject(doc, "groupIds");
	cJSON *groups = cJSON_AddArrayToObject(doc, "groups");
	for (size_t i = 0; i < x->n_groups; i++) {
		const struct access_group *g = &x->groups[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToArray(ids, cJSON_CreateString(g->id));
		cJSON_AddStringToObject(o, "id", g->id);
		cJSON_AddStringToObject(o, "name", g->name);
		cJSON_AddItemToObject(o, "members", members_json(g->id, x->members, x->n_members));
		cJSON_AddItemToArray(groups, o);
	}
	etag_format(x->version, etag);
	cJSON_AddStringToObject(doc, "etag", etag);
	response_header(c->res, "ETag", etag);
	return ctx_json(c, 200, doc);
}

/* 200 the assignment (either side); 401; 403; 404; 503. */
int handle_access_assignments_get(struct ctx *c)
{
	struct access_assignment x;
	int rc = -1;
	if (access_assignment_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &x,
				  &c->problem) == 0)
		rc = respond_assignment(c, &x);
	access_assignment_free(&x);
	return rc;
}

/* 200 the new assignment; 400 (an id not an id, twice, or not of this work account); 401; 403 (the
 * reseller, not a global admin, a token); 404; 409 relationship_ended;
 * 412; 400 unknown_group; 428; 503. A relationship.access_changed event
 * in both feeds. */
int handle_access_assignments_put(struct ctx *c)
{
	const char *ids[ASSIGNED_GROUPS_MAX];
	size_t n;
	unsigned long version;
	ids_field(&c->problem, c->body, "groupIds", ids, &n);
	if (c->problem.kind != PROBLEM_NONE || ctx_if_match(c, &version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	struct relationship r;
	/* who holds the access is part of it: both sides' systems hear */
	if (access_assignment_set(&c->txn, &a, ctx_capture(c, 0), version, ids, n, &c->problem) !=
		0 ||
	    relationship_get(&c->txn, a.tenant_id, ctx_capture(c, 0), &r, &c->problem) != 0 ||
	    relationship_access_changed_event(c, &r) != 0)
		return -1;
	return handle_access_assignments_get(c);
}
