#include "domain/user.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_user_insert = {
    STMT_user_insert, "user_insert",
    "INSERT INTO users (id, tenant_id, email, password_hash, first_name, last_name, roles, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    9, 0};

int user_insert(struct db *db, const struct user_row *u)
{
	char roles[ROLES_CSV_MAX];
	roles_to_csv(u->roles, roles, sizeof roles);
	struct db_arg args[] = {
	    db_str(u->id),	   db_str(u->tenant_id), db_str(u->email), db_str(u->password_hash),
	    db_str(u->first_name), db_str(u->last_name), db_str(roles),	   db_str(u->at),
	    db_str(u->at)};
	return legacy_exec(db, STMT_user_insert, args, NULL, NULL);
}

/* The roles are a SET on the user's row, so that the principal of every
 * request is one primary-key read with no join and no subquery. */
#define USER_COLUMNS                                                                               \
	"u.id, u.tenant_id, u.email, u.first_name, u.last_name, u.disabled, u.version, "           \
	"u.created_at, u.updated_at, u.roles"

const struct db_stmt_def stmt_user_list = {
    STMT_user_list, "user_list",
    "SELECT " USER_COLUMNS " FROM users u WHERE u.tenant_id = ? AND (? = '' OR u.id > ?) "
    "ORDER BY u.id LIMIT ?",
    4, 10};

const struct db_stmt_def stmt_user_count = {STMT_user_count, "user_count",
					    "SELECT COUNT(*) FROM users WHERE tenant_id = ?", 1, 1};

const struct db_stmt_def stmt_user_get = {
    STMT_user_get, "user_get",
    "SELECT " USER_COLUMNS " FROM users u WHERE u.tenant_id = ? AND u.id = ?", 2, 10};

/* User changes of one tenant are serialised on its row, so that two admins
 * cannot each remove one of the last two global admins. */
const struct db_stmt_def stmt_tenant_lock = {
    STMT_tenant_lock, "tenant_lock",
    "SELECT is_platform, domain FROM tenants WHERE id = ? FOR UPDATE", 1, 2};

const struct db_stmt_def stmt_user_update = {
    STMT_user_update, "user_update",
    "UPDATE users SET roles = ?, disabled = ?, version = version + 1, updated_at = ? "
    "WHERE id = ? AND version = ?",
    5, 0};

const struct db_stmt_def stmt_global_admins_other = {
    STMT_global_admins_other, "global_admins_other",
    "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND disabled = 0 AND id <> ? "
    "AND FIND_IN_SET('global_admin', roles) > 0",
    2, 1};

const struct db_stmt_def stmt_user_set_external = {
    STMT_user_set_external, "user_set_external",
    "UPDATE users SET external_issuer = ?, external_subject = ? WHERE id = ?", 3, 0};

static void view_from_row(const struct db_rows *rows, size_t i, void *item)
{
	struct user_view *v = item;
	memset(v, 0, sizeof *v);
	db_cell_copy(rows, i, 0, v->id, sizeof v->id);
	db_cell_copy(rows, i, 1, v->tenant_id, sizeof v->tenant_id);
	db_cell_copy(rows, i, 2, v->email, sizeof v->email);
	db_cell_copy(rows, i, 3, v->first_name, sizeof v->first_name);
	db_cell_copy(rows, i, 4, v->last_name, sizeof v->last_name);
	v->disabled = strcmp(db_cell(rows, i, 5), "0") != 0;
	v->version = strtoul(db_cell(rows, i, 6), NULL, 10);
	time_sql_to_api(db_cell(rows, i, 7), v->created_at);
	time_sql_to_api(db_cell(rows, i, 8), v->updated_at);
	v->roles = roles_from_csv(db_cell(rows, i, 9));
}

int user_list(struct db *db, const char *tenant_id, const char *after, long limit,
	      struct user_view **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {STMT_user_list, STMT_user_count, tenant_id, after,
			     limit,	     {0, 0, NULL},    0};
	*items = NULL;
	*n = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, view_from_row, n);
	*total = pg.total;
	return 0;
}

/* Reads one user of the tenant into out; DB_REFUSED 404 when absent. */
static enum db_status read_user(struct db *db, const char *tenant_id, const char *id,
				struct user_view *out, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(tenant_id), db_str(id)};
	enum db_status rc = legacy_exec(db, STMT_user_get, a, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0) {
		problem_set(p, PROBLEM_NOT_FOUND, "no user %s in this tenant", id);
		rc = DB_REFUSED;
	} else if (rc == DB_OK) {
		view_from_row(&rows, 0, out);
	}
	db_rows_free(&rows);
	return rc;
}

struct get_work {
	const char *tenant_id, *id;
	struct user_view *out;
};

static enum db_status get_run(struct db *db, void *arg, struct problem *p)
{
	struct get_work *w = arg;
	return read_user(db, w->tenant_id, w->id, w->out, p);
}

int user_get(struct db *db, const char *tenant_id, const char *id, struct user_view *out,
	     struct problem *p)
{
	struct get_work w = {tenant_id, id, out};
	if (!uuid_valid(id))
		return problem_set(p, PROBLEM_NOT_FOUND, "no user %s in this tenant", id);
	return db_run(db, get_run, &w, p);
}

/* Locks the tenant; *platform tells whether it is the operator's, domain
 * (may be NULL) receives its domain. */
static enum db_status lock_tenant(struct db *db, const char *tenant_id, bool *platform,
				  char domain[254])
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg t[] = {db_str(tenant_id)};
	enum db_status rc = legacy_exec(db, STMT_tenant_lock, t, &rows, NULL);
	if (rc == DB_OK)
		*platform = rows.n_rows > 0 && strcmp(db_cell(&rows, 0, 0), "1") == 0;
	if (rc == DB_OK && domain != NULL)
		db_cell_copy(&rows, 0, 1, domain, 254);
	db_rows_free(&rows);
	return rc;
}

static enum db_status operator_refused(struct problem *p)
{
	problem_set(p, PROBLEM_RULE_REFUSED,
		    "the operator role exists only on the platform tenant");
	snprintf(p->code, sizeof p->code, "operator_role_refused");
	return DB_REFUSED;
}

/* An admin agent may not make anyone (itself included) a global admin, nor
 * change a global admin's roles or state: only a global admin may. */
static enum db_status global_admin_refused(struct problem *p)
{
	problem_set(
	    p, PROBLEM_FORBIDDEN,
	    "only a global admin may make a global admin or change a global admin's roles or "
	    "state");
	return DB_REFUSED;
}

/* One text for a taken address and a taken external subject, which says
 * nothing of where either is registered. */
static enum db_status identity_taken(struct problem *p)
{
	problem_set(p, PROBLEM_CONFLICT,
		    "a user with this e-mail address or external subject cannot be created");
	return DB_REFUSED;
}

struct create_work {
	const struct actor *a;
	const struct user_new *in;
	struct user_view *out;
};

static enum db_status create_run(struct db *db, void *arg, struct problem *p)
{
	struct create_work *w = arg;
	char id[UUID_STR], at[TIME_STR], domain[254];
	bool platform = false;
	enum db_status rc = lock_tenant(db, w->a->tenant_id, &platform, domain);
	if (rc != DB_OK)
		return rc;
	/* sign-in names are unique across tenants: an address at another
	 * tenant's domain would take it from that tenant */
	const char *host = strrchr(w->in->email, '@') + 1;
	if (strcmp(host, domain) != 0 &&
	    !(platform && email_domain_listed(w->in->email, w->in->platform_domains))) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "a user's address must be at the work account's domain (%s)", domain);
		snprintf(p->code, sizeof p->code, "email_not_at_domain");
		return DB_REFUSED;
	}
	if ((w->in->roles & ROLE_OPERATOR) && !platform)
		return operator_refused(p);
	if ((w->in->roles & ROLE_GLOBAL_ADMIN) && !(w->a->roles & ROLE_GLOBAL_ADMIN))
		return global_admin_refused(p);
	uuid_v7(id);
	time_now(at, NULL);
	struct user_row u = {id,
			     w->a->tenant_id,
			     w->in->email,
			     w->in->password_hash,
			     w->in->first_name,
			     w->in->last_name,
			     w->in->roles,
			     at};
	rc = user_insert(db, &u);
	if (rc == DB_DUPLICATE) {
		return identity_taken(p);
	}
	if (rc == DB_OK && w->in->external_subject != NULL) {
		struct db_arg e[] = {db_str(w->in->external_issuer),
				     db_str(w->in->external_subject), db_str(id)};
		rc = legacy_exec(db, STMT_user_set_external, e, NULL, NULL);
		if (rc == DB_DUPLICATE) {
			return identity_taken(p);
		}
	}
	if (rc == DB_OK)
		rc = audit_record(db, w->a, "user.create", "user", id, at);
	if (rc == DB_OK)
		rc = read_user(db, w->a->tenant_id, id, w->out, p);
	return rc;
}

int user_create(struct db *db, const struct actor *a, const struct user_new *in,
		struct user_view *out, struct problem *p)
{
	struct create_work w = {a, in, out};
	return db_run(db, create_run, &w, p);
}

struct update_work {
	const struct actor *a;
	const char *id;
	unsigned long version;
	bool set_roles, set_disabled, disabled;
	unsigned roles;
	struct user_view *out;
};

static enum db_status update_run(struct db *db, void *arg, struct problem *p)
{
	struct update_work *w = arg;
	struct user_view before;
	struct db_rows rows = {0, 0, NULL};
	char at[TIME_STR];
	bool platform = false;
	unsigned long long affected = 0;
	enum db_status rc = lock_tenant(db, w->a->tenant_id, &platform, NULL);
	if (rc == DB_OK)
		rc = read_user(db, w->a->tenant_id, w->id, &before, p);
	if (rc != DB_OK)
		return rc;
	if (w->version != 0 && before.version != w->version) {
		problem_set(p, PROBLEM_PRECONDITION_FAILED,
			    "the user has changed since you read it (now at \"v%lu\")",
			    before.version);
		return DB_REFUSED;
	}
	unsigned roles = w->set_roles ? w->roles : before.roles;
	bool disabled = w->set_disabled ? w->disabled : before.disabled;
	if ((roles & ROLE_OPERATOR) && !(before.roles & ROLE_OPERATOR) && !platform)
		return operator_refused(p);
	/* a global admin's roles and state are its peers' alone to change,
	 * and only a global admin makes another */
	bool touches_admin = (before.roles | roles) & ROLE_GLOBAL_ADMIN;
	if (touches_admin && !(w->a->roles & ROLE_GLOBAL_ADMIN))
		return global_admin_refused(p);
	bool was_admin = (before.roles & ROLE_GLOBAL_ADMIN) && !before.disabled;
	bool is_admin = (roles & ROLE_GLOBAL_ADMIN) && !disabled;
	if (was_admin && !is_admin) {
		struct db_arg g[] = {db_str(w->a->tenant_id), db_str(w->id)};
		rc = legacy_exec(db, STMT_global_admins_other, g, &rows, NULL);
		long others = rc == DB_OK ? atol(db_cell(&rows, 0, 0)) : 0;
		db_rows_free(&rows);
		if (rc != DB_OK)
			return rc;
		if (others == 0) {
			problem_set(p, PROBLEM_RULE_REFUSED,
				    "this is the tenant's last active global admin; it cannot be "
				    "removed or disabled");
			snprintf(p->code, sizeof p->code, "last_global_admin");
			return DB_REFUSED;
		}
	}
	time_now(at, NULL);
	char csv[ROLES_CSV_MAX];
	roles_to_csv(roles, csv, sizeof csv);
	struct db_arg u[] = {db_str(csv), db_int(disabled), db_str(at), db_str(w->id),
			     db_int((long long)before.version)};
	rc = legacy_exec(db, STMT_user_update, u, NULL, &affected);
	if (rc == DB_OK && affected == 0) {
		problem_set(p, PROBLEM_PRECONDITION_FAILED,
			    "the user has changed since you read it");
		return DB_REFUSED;
	}
	if (rc == DB_OK)
		rc = audit_record(db, w->a, "user.update", "user", w->id, at);
	if (rc == DB_OK)
		rc = read_user(db, w->a->tenant_id, w->id, w->out, p);
	return rc;
}

int user_update(struct db *db, const struct actor *a, const char *id, unsigned long version,
		bool set_roles, unsigned roles, bool set_disabled, bool disabled,
		struct user_view *out, struct problem *p)
{
	struct update_work w = {a, id, version, set_roles, set_disabled, disabled, roles, out};
	if (!uuid_valid(id))
		return problem_set(p, PROBLEM_NOT_FOUND, "no user %s in this tenant", id);
	return db_run(db, update_run, &w, p);
}
