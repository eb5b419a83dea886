#include "domain/user.h"

#include "auth/auth.h"
#include "auth/password.h"
#include "core/problem.h"
#include "domain/audit.h"
#include "domain/session.h"
#include "domain/tenant.h"
#include "mail/outbox.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* roles is a SET on the user's row, so that the principal of every request
 * is one primary-key read with no join; its members are in the order of
 * enum auth_role's bits, so that it binds and reads as a number. */
DB_STATEMENT(
    user_insert_row,
    "INSERT INTO users (id, tenant_id, email, password_hash, first_name, last_name, roles, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TIME, DB_TIME),
    DB_NO_ROW);

enum db_status user_insert(struct txn *t, const struct user_row *u)
{
	struct db_arg args[] = {db_text(u->id),		db_text(u->tenant_id),
				db_text(u->email),	db_text(u->password_hash),
				db_text(u->first_name), db_text(u->last_name),
				db_int(u->roles),	db_time(u->at),
				db_time(u->at)};
	return db_exec(t, &user_insert_row, args, NULL);
}

/* one user's id, by its e-mail */
struct user_id_row {
	char id[UUID_STR];
};
#define USER_ID_FIELDS(F, T) F(T, id, DB_TEXT)
DB_STATEMENT(user_id_of_email, "SELECT id FROM users WHERE email = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct user_id_row, USER_ID_FIELDS));

enum db_status user_id_by_email(struct txn *t, const char *email, char id[UUID_STR])
{
	struct user_id_row r;
	struct db_arg a[] = {db_text(email)};
	enum db_status st = db_one(t, &user_id_of_email, a, &r);
	id[0] = '\0';
	if (st == DB_OK)
		memcpy(id, r.id, sizeof r.id);
	return st;
}

/* The account a sign-in name resolves to. roles is a SET read as its bits. */
#define USER_CREDENTIALS_FIELDS(F, T)                                                              \
	F(T, user_id, DB_TEXT)                                                                     \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, password_hash, DB_TEXT)                                                               \
	F(T, disabled, DB_INT) F(T, roles, DB_INT) F(T, totp, DB_INT)
#define USER_CREDENTIALS_SELECT                                                                    \
	"SELECT u.id AS user_id, u.tenant_id, u.password_hash, u.disabled, u.roles + 0 AS roles, " \
	"m.totp_confirmed_at IS NOT NULL AS totp FROM users u "                                    \
	"LEFT JOIN user_mfa m ON m.user_id = u.id "
DB_STATEMENT(user_credentials_of_email, USER_CREDENTIALS_SELECT "WHERE u.email = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct user_credentials, USER_CREDENTIALS_FIELDS));
DB_STATEMENT(user_credentials_of_id, USER_CREDENTIALS_SELECT "WHERE u.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct user_credentials, USER_CREDENTIALS_FIELDS));

enum db_status user_credentials_by_email(struct txn *t, const char *email,
					 struct user_credentials *out)
{
	struct db_arg a[] = {db_text(email)};
	return db_one(t, &user_credentials_of_email, a, out);
}

enum db_status user_credentials_by_id(struct txn *t, const char *id, struct user_credentials *out)
{
	struct db_arg a[] = {db_text(id)};
	return db_one(t, &user_credentials_of_id, a, out);
}

/* roles | ?: a SET whose members are in the order of enum auth_role's
 * bits. The parameters: the role, the time, the user, the role. */
DB_STATEMENT(user_role_grant,
	     "UPDATE users SET roles = roles | ?, version = version + 1, updated_at = ? "
	     "WHERE id = ? AND roles & ? = 0",
	     DB_PARAMS(DB_INT, DB_TIME, DB_TEXT, DB_INT), DB_NO_ROW);

/* The parameters: the role, the time, the tenant, the holders' roles, the
 * role. */
DB_STATEMENT(user_role_grant_to_holders,
	     "UPDATE users SET roles = roles | ?, version = version + 1, updated_at = ? "
	     "WHERE tenant_id = ? AND roles & ? <> 0 AND roles & ? = 0",
	     DB_PARAMS(DB_INT, DB_TIME, DB_TEXT, DB_INT, DB_INT), DB_NO_ROW);

enum db_status user_grant_role(struct txn *t, const char *id, unsigned role, micros_t at,
			       unsigned long long *granted)
{
	struct db_arg a[] = {db_int(role), db_time(at), db_text(id), db_int(role)};
	return db_exec(t, &user_role_grant, a, granted);
}

enum db_status user_grant_role_to_holders(struct txn *t, const char *tenant_id, unsigned holders,
					  unsigned role, micros_t at, unsigned long long *granted)
{
	struct db_arg a[] = {db_int(role), db_time(at), db_text(tenant_id), db_int(holders),
			     db_int(role)};
	return db_exec(t, &user_role_grant_to_holders, a, granted);
}

#define USER_SELECT                                                                                \
	"SELECT u.id, u.tenant_id, u.email, u.first_name, u.last_name, u.roles + 0 AS roles, "     \
	"u.disabled, u.external_issuer, u.external_subject, u.version, u.created_at, "             \
	"u.updated_at FROM users u "
#define USER_FIELDS(F, T)                                                                          \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, email, DB_TEXT)                                                                       \
	F(T, first_name, DB_TEXT)                                                                  \
	F(T, last_name, DB_TEXT)                                                                   \
	F(T, roles, DB_INT)                                                                        \
	F(T, disabled, DB_INT)                                                                     \
	F(T, external_issuer, DB_TEXT)                                                             \
	F(T, external_subject, DB_TEXT)                                                            \
	F(T, version, DB_INT) F(T, created_at, DB_TIME) F(T, updated_at, DB_TIME)

DB_STATEMENT(user_list,
	     USER_SELECT DB_LIST_INDEX(
		 "ix_users_tenant") "WHERE u.tenant_id = ? AND u.id > ? ORDER BY u.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct user_view, USER_FIELDS));

DB_STATEMENT(user_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM users WHERE tenant_id = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page user_page = {.list = &user_list,
				  .count = &user_count,
				  .n_keys = 1,
				  .cursor_offset = offsetof(struct user_view, id)};

DB_STATEMENT(user_get_row, USER_SELECT "WHERE u.tenant_id = ? AND u.id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct user_view, USER_FIELDS));

DB_STATEMENT(user_update_row,
	     "UPDATE users SET roles = ?, disabled = ?, version = version + 1, updated_at = ? "
	     "WHERE id = ? AND version = ?",
	     DB_PARAMS(DB_INT, DB_INT, DB_TIME, DB_TEXT, DB_INT), DB_NO_ROW);

DB_STATEMENT(user_global_admins_other,
	     "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ? AND disabled = 0 AND id <> ? "
	     "AND FIND_IN_SET('global_admin', roles) > 0",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(user_set_external,
	     "UPDATE users SET external_issuer = ?, external_subject = ? WHERE id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT), DB_NO_ROW);

int user_get(struct txn *t, const char *tenant_id, const char *id, struct user_view *out,
	     struct problem *p)
{
	struct db_arg a[] = {db_text(tenant_id), db_text(id)};
	switch (db_one(t, &user_get_row, a, out)) {
	case DB_OK: return 0;
	case DB_EMPTY: return problem_set(p, PROBLEM_NOT_FOUND, "no user %s in this tenant", id);
	default: return -1;
	}
}

static int operator_refused(struct problem *p)
{
	snprintf(p->code, sizeof p->code, "operator_role_refused");
	return problem_set(p, PROBLEM_RULE_REFUSED,
			   "the operator role exists only on the platform tenant");
}

/* An admin agent may not make anyone (itself included) a global admin, nor
 * change a global admin's roles or state: only a global admin may. */
static int global_admin_refused(struct problem *p)
{
	return problem_set(
	    p, PROBLEM_FORBIDDEN,
	    "only a global admin may make a global admin or change a global admin's roles or "
	    "state");
}

/* One text for a taken address and a taken external subject, which says
 * nothing of where either is registered. */
static int identity_taken(struct problem *p)
{
	return problem_set(p, PROBLEM_CONFLICT,
			   "a user with this e-mail address or external subject cannot be created");
}

int user_create(struct txn *t, const struct actor *a, const struct user_new *in,
		struct user_view *out, struct problem *p)
{
	struct tenant_locked tenant;
	char id[UUID_STR];
	micros_t at = time_micros();
	enum db_status rc;
	/* user changes of one tenant are serialised on its row */
	if (tenant_lock(t, a->tenant_id, &tenant) != DB_OK)
		return -1;
	/* sign-in names are unique across tenants: an address at another
	 * tenant's domain would take it from that tenant */
	const char *host = strrchr(in->email, '@') + 1;
	if (strcmp(host, tenant.domain) != 0 &&
	    !(tenant.is_platform && email_domain_listed(in->email, in->platform_domains))) {
		snprintf(p->code, sizeof p->code, "email_not_at_domain");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "a user's address must be at the work account's domain (%s)",
				   tenant.domain);
	}
	if ((in->roles & ROLE_OPERATOR) && !tenant.is_platform)
		return operator_refused(p);
	if ((in->roles & ROLE_GLOBAL_ADMIN) && !(a->roles & ROLE_GLOBAL_ADMIN))
		return global_admin_refused(p);
	uuid_v7(id);
	struct user_row u = {id,
			     a->tenant_id,
			     in->email,
			     in->password_hash,
			     in->first_name,
			     in->last_name,
			     in->roles,
			     at};
	rc = user_insert(t, &u);
	if (rc == DB_OK && in->external_subject != NULL) {
		struct db_arg e[] = {db_text(in->external_issuer), db_text(in->external_subject),
				     db_text(id)};
		rc = db_exec(t, &user_set_external, e, NULL);
	}
	if (rc == DB_DUPLICATE)
		return identity_taken(p);
	if (rc != DB_OK || audit_record(t, a, "user.create", "user", id, at) != DB_OK)
		return -1;
	return user_get(t, a->tenant_id, id, out, p);
}

/* Applies change's roles and disabled to the user before (of the actor's
 * tenant, locked) at: the rules of who may and of the last global admin,
 * the row at before's version and its audit. 0, or -1 with p set (403,
 * 412, 422) or t failed. */
static int user_roles_apply(struct txn *t, const struct actor *a,
			    const struct tenant_locked *tenant, const struct user_view *before,
			    const struct user_change *change, micros_t at, struct problem *p)
{
	struct db_count others;
	unsigned long long affected = 0;
	unsigned roles = change->set_roles ? change->roles : before->roles;
	bool disabled = change->set_disabled ? change->disabled : before->disabled;
	if ((roles & ROLE_OPERATOR) && !(before->roles & ROLE_OPERATOR) && !tenant->is_platform)
		return operator_refused(p);
	/* a global admin's roles and state are its peers' alone to change,
	 * and only a global admin makes another */
	bool touches_admin = (before->roles | roles) & ROLE_GLOBAL_ADMIN;
	if (touches_admin && !(a->roles & ROLE_GLOBAL_ADMIN))
		return global_admin_refused(p);
	bool was_admin = (before->roles & ROLE_GLOBAL_ADMIN) && !before->disabled;
	bool is_admin = (roles & ROLE_GLOBAL_ADMIN) && !disabled;
	if (was_admin && !is_admin) {
		struct db_arg g[] = {db_text(a->tenant_id), db_text(before->id)};
		if (db_one(t, &user_global_admins_other, g, &others) != DB_OK)
			return -1;
		if (others.n == 0) {
			snprintf(p->code, sizeof p->code, "last_global_admin");
			return problem_set(p, PROBLEM_RULE_REFUSED,
					   "this is the tenant's last active global admin; it "
					   "cannot be removed or disabled");
		}
	}
	struct db_arg u[] = {db_int(roles), db_int(disabled), db_time(at), db_text(before->id),
			     db_int((long long)before->version)};
	if (db_exec(t, &user_update_row, u, &affected) != DB_OK)
		return -1;
	if (affected == 0)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the user has changed since you read it");
	return audit_record(t, a, "user.update", "user", before->id, at) == DB_OK ? 0 : -1;
}

/* A user's link to the external identity provider is a global admin's to
 * set for another: whoever it names signs in as the user. */
static int external_link_refused(struct problem *p)
{
	return problem_refuse(p, PROBLEM_FORBIDDEN, "global_admin_required",
			      "only a global admin may link or unlink a user's external identity");
}

int user_update(struct txn *t, const struct actor *a, const char *id,
		const struct user_change *change, struct user_view *out, struct problem *p)
{
	struct tenant_locked tenant;
	struct user_view before;
	micros_t at = time_micros();
	/* user changes of one tenant are serialised on its row, so that two
	 * admins cannot each remove one of the last two global admins */
	if (tenant_lock(t, a->tenant_id, &tenant) != DB_OK ||
	    user_get(t, a->tenant_id, id, &before, p) != 0)
		return -1;
	if (change->version != 0 && before.version != change->version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the user has changed since you read it (now at \"v%lu\")",
				   before.version);
	if (change->set_external && !(a->roles & ROLE_GLOBAL_ADMIN))
		return external_link_refused(p);
	if ((change->set_roles || change->set_disabled) &&
	    user_roles_apply(t, a, &tenant, &before, change, at, p) != 0)
		return -1;
	/* the version was checked above, under the tenant's lock */
	if (change->set_external)
		return user_external_link(t, a, id, change->external_issuer,
					  change->external_subject, 0, out, p);
	return user_get(t, a->tenant_id, id, out, p);
}

/* The parameters: the issuer, the subject (both NULL to unlink), the
 * time, the user, its version. */
DB_STATEMENT(user_external_set,
	     "UPDATE users SET external_issuer = ?, external_subject = ?, version = version + 1, "
	     "updated_at = ? WHERE id = ? AND version = ?",
	     DB_PARAMS(DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TIME, DB_TEXT, DB_INT),
	     DB_NO_ROW);

static bool external_unchanged(const struct user_view *u, const char *issuer, const char *subject)
{
	if (subject == NULL)
		return u->external_subject[0] == '\0';
	return issuer != NULL && strcmp(u->external_issuer, issuer) == 0 &&
	       strcmp(u->external_subject, subject) == 0;
}

int user_no_external_issuer(struct problem *p)
{
	return problem_refuse(p, PROBLEM_RULE_REFUSED, "no_external_issuer",
			      "no external identity provider is configured");
}

int user_external_link(struct txn *t, const struct actor *a, const char *id, const char *issuer,
		       const char *subject, unsigned long version, struct user_view *out,
		       struct problem *p)
{
	struct tenant_locked tenant;
	micros_t at = time_micros();
	unsigned long long affected = 0;
	if (subject != NULL && issuer == NULL)
		return user_no_external_issuer(p);
	/* serialised with the tenant's other user changes; the unique key
	 * (external_issuer, external_subject) decides between tenants */
	if (tenant_lock(t, a->tenant_id, &tenant) != DB_OK ||
	    user_get(t, a->tenant_id, id, out, p) != 0)
		return -1;
	if (version != 0 && out->version != version)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the user has changed since you read it (now at \"v%lu\")",
				   out->version);
	if (external_unchanged(out, issuer, subject))
		return 0;
	struct db_arg u[] = {db_text(subject ? issuer : NULL), db_text(subject), db_time(at),
			     db_text(id), db_int((long long)out->version)};
	switch (db_exec(t, &user_external_set, u, &affected)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		return problem_refuse(p, PROBLEM_CONFLICT, "external_subject_taken",
				      "another user is already linked to this subject of the "
				      "external identity provider");
	default: return -1;
	}
	if (affected == 0)
		return problem_set(p, PROBLEM_PRECONDITION_FAILED,
				   "the user has changed since you read it");
	/* who may sign in as the user has changed: its sessions end */
	if (audit_record(t, a, subject ? "user.external_link" : "user.external_unlink", "user", id,
			 at) != DB_OK ||
	    sessions_end_all(t, a, id) != 0)
		return -1;
	return user_get(t, a->tenant_id, id, out, p);
}

DB_STATEMENT(user_password_update,
	     "UPDATE users SET password_hash = ?, version = version + 1, updated_at = ? "
	     "WHERE id = ? AND tenant_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

int user_password_set(struct txn *t, const struct actor *a, const struct user_view *u,
		      const char *hash, const char *keep, const char *action)
{
	micros_t at = time_micros();
	struct db_arg args[] = {db_text(hash), db_time(at), db_text(u->id), db_text(u->tenant_id)};
	const char *domain = strchr(u->email, '@');
	struct mail_var vars[] = {{"first_name", u->first_name},
				  {"domain", domain ? domain + 1 : u->email}};
	struct outbox_mail m = {u->tenant_id, MAIL_PASSWORD_CHANGED, "en", u->email, vars, 2};
	if (db_exec(t, &user_password_update, args, NULL) != DB_OK ||
	    audit_record(t, a, action, "user", u->id, at) != DB_OK ||
	    sessions_end_others(t, a, u->id, keep) != DB_OK || outbox_enqueue(t, &m) != DB_OK)
		return -1;
	return 0;
}

/* True when the lower-cased password holds word (at least 3 bytes, any
 * letter case) */
static bool holds(const char *lower, const char *word, size_t len)
{
	char w[256];
	if (len < 3 || len >= sizeof w)
		return false;
	for (size_t i = 0; i < len; i++)
		w[i] = (char)tolower((unsigned char)word[i]);
	w[len] = '\0';
	return strstr(lower, w) != NULL;
}

const char *user_password_personal(const char *password, const struct user_view *u,
				   const char *domain)
{
	char lower[PASSWORD_MAX + 1];
	size_t n = strnlen(password, PASSWORD_MAX);
	const char *at = strchr(u->email, '@');
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)password[i]);
	lower[n] = '\0';
	if (holds(lower, u->first_name, strlen(u->first_name)) ||
	    holds(lower, u->last_name, strlen(u->last_name)))
		return "must not contain your name";
	if (at != NULL && holds(lower, u->email, (size_t)(at - u->email)))
		return "must not contain your e-mail address";
	if (domain != NULL && holds(lower, domain, strcspn(domain, ".")))
		return "must not contain your organisation's domain";
	return NULL;
}
