/* Users of a tenant and their roles (SPEC §1): listed, added, changed by
 * admin agents; every change audited in its transaction. Another tenant's
 * user is "not found", never "forbidden". */
#ifndef TWOTIER_USER_H
#define TWOTIER_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"

struct problem;
struct actor;

struct user_view {
	char id[UUID_STR];
	char tenant_id[UUID_STR];
	char email[256];
	char first_name[401];
	char last_name[401];
	unsigned roles; /* enum auth_role bits */
	bool disabled;
	/* the external identity provider and the user's subject there, ""
	 * when none */
	char external_issuer[256];
	char external_subject[256];
	unsigned long version;
	char created_at[TIME_STR];
	char updated_at[TIME_STR];
};

/* A row to insert; all borrowed. */
struct user_row {
	const char *id, *tenant_id, *email, *password_hash, *first_name, *last_name;
	unsigned roles; /* enum auth_role bits */
	micros_t at;
};

/* Inserts a user with its roles in t. DB_OK, DB_DUPLICATE when the e-mail
 * is taken, DB_FAILED. */
enum db_status user_insert(struct txn *t, const struct user_row *u);

/* The id of the user whose e-mail is email (canonical) into id: whether
 * the operator to be created exists already (tenant.c's operator_create).
 * DB_OK, DB_EMPTY when none, DB_FAILED. */
enum db_status user_id_by_email(struct txn *t, const char *email, char id[UUID_STR]);

/* What a sign-in checks of the account a name resolves to. */
struct user_credentials {
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	char password_hash[256];
	bool disabled;
	unsigned roles; /* enum auth_role bits */
	bool totp;	/* a second factor is confirmed: sign-in takes a code too */
};

/* The account whose e-mail is email (canonical) into out, for a sign-in
 * (signin.c), which wipes out->password_hash once it is checked. DB_OK,
 * DB_EMPTY when none, DB_FAILED. */
enum db_status user_credentials_by_email(struct txn *t, const char *email,
					 struct user_credentials *out);
/* The same, by the user's id (the second step of a sign-in). */
enum db_status user_credentials_by_id(struct txn *t, const char *id, struct user_credentials *out);

/* Gives role (an enum auth_role bit) to user id, at, if it lacks it: the
 * enrolling global admin joins the admin agent group (enrollment.c).
 * *granted (may be NULL) is 1 when it did, else 0. DB_OK or DB_FAILED. */
enum db_status user_grant_role(struct txn *t, const char *id, unsigned role, micros_t at,
			       unsigned long long *granted);

/* Gives role (an enum auth_role bit), at, to every user of tenant_id that
 * holds one of holders (enum auth_role bits) and lacks it: a provider's
 * global admins join its admin agent group (provider.c). *granted (may be
 * NULL) is the number of users it changed. DB_OK or DB_FAILED. */
enum db_status user_grant_role_to_holders(struct txn *t, const char *tenant_id, unsigned holders,
					  unsigned role, micros_t at, unsigned long long *granted);

/* Pages of struct user_view of one tenant (key: the tenant's id). */
extern const struct db_page user_page;

/* One user of tenant_id into out. Returns 0, or -1 with p set: 404. */
int user_get(struct txn *t, const char *tenant_id, const char *id, struct user_view *out,
	     struct problem *p);

struct user_new {
	const char *email; /* canonical (email_canonical) */
	const char *password_hash, *first_name, *last_name;
	unsigned roles;
	/* an external identity provider's subject for this user, or NULL */
	const char *external_issuer, *external_subject;
	/* the platform tenant's users may also have addresses at these
	 * (comma-separated, email_domain_listed) */
	const char *platform_domains;
};

/* Adds a user to the actor's tenant. Returns 0 with out, or -1 with p
 * set: 403 when an actor who is not a global admin grants global_admin;
 * 409 when the e-mail or external subject is taken (one text for both);
 * 422 email_not_at_domain unless the address is at the tenant's domain,
 * 422 operator_role_refused outside the platform tenant. */
int user_create(struct txn *t, const struct actor *a, const struct user_new *in,
		struct user_view *out, struct problem *p);

/* What a change of a user sets: roles when set_roles, disabled when
 * set_disabled, the external identity (user_external_link) when
 * set_external, if the user is at version (0: any). */
struct user_change {
	unsigned long version;
	bool set_roles, set_disabled;
	unsigned roles;
	bool disabled;
	bool set_external;
	/* the configured external issuer (NULL when none) and the subject to
	 * link there, NULL to unlink */
	const char *external_issuer, *external_subject;
};

/* Changes user id of the actor's tenant. Returns 0 with out, or -1 with p
 * set: 403 when an actor who is not a global admin grants global_admin,
 * changes a global admin's roles or state, or links or unlinks an external
 * identity (code global_admin_required); 404; 409 as user_external_link;
 * 412 stale version; 422 last_global_admin when it would leave the tenant
 * without an active global admin, operator_role_refused,
 * no_external_issuer. */
int user_update(struct txn *t, const struct actor *a, const char *id,
		const struct user_change *change, struct user_view *out, struct problem *p);

/* Refuses a link to an external identity provider when none is
 * configured: 422 no_external_issuer. Returns -1. */
int user_no_external_issuer(struct problem *p);

/* Links user id of the actor's tenant to subject at the external identity
 * provider issuer (its tokens then act as the user), or unlinks it when
 * subject is NULL, if the user is at version (0: any). Who may is the
 * caller's rule: a global admin (user_update), or the user itself having
 * shown a token of the subject. The one place a link changes: the change
 * and its audit (user.external_link, user.external_unlink) in t, and the
 * end of every session of the user (how it signs in has changed; the
 * caller's own too, when the user links itself). A link that is already
 * so changes nothing (no new version, no audit, no session ended).
 * Returns 0 with out, or -1 with p set: 404; 409 external_subject_taken
 * when another user holds subject at issuer; 412 stale version; 422
 * no_external_issuer when subject is given but issuer is NULL. */
int user_external_link(struct txn *t, const struct actor *a, const char *id, const char *issuer,
		       const char *subject, unsigned long version, struct user_view *out,
		       struct problem *p);

/* User u's new password hash (its right to set it checked by the
 * caller: the current password, or a reset link), in t: audited as action
 * (user.password_change, user.password_reset), every session of the user
 * but keep ("": none) ends, and the user is mailed that its password was
 * changed. Returns 0, or -1 with t failed. */
int user_password_set(struct txn *t, const struct actor *a, const struct user_view *u,
		      const char *hash, const char *keep, const char *action);

/* Why password is too close to what is known of the user (its names, the
 * local part of its address, its tenant's domain's first label, each of 3
 * bytes or more, in any letter case): a static text, or NULL. */
const char *user_password_personal(const char *password, const struct user_view *u,
				   const char *domain);

#endif
