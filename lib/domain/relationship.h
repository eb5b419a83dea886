/* Provider-reseller relationships (SPEC §5): a provider's invitation, mailed
 * with a single-use link; the reseller's consent, which makes the
 * relationship and grants the admin access the invitation asked for
 * (roles in the reseller's account, until an end date); the reseller's
 * removal of that access, and the end of the relationship by either side. */
#ifndef TWOTIER_RELATIONSHIP_H
#define TWOTIER_RELATIONSHIP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "mail/outbox.h"
#include "domain/audit.h"

struct problem;

/* delegated access lasts at most 730 days */
#define ACCESS_DAYS_MAX 730

/* One side of a relationship. name: the legal name if it has one, else the
 * work account's (utf8mb4 VARCHAR(200)); domain: ascii VARCHAR(253). */
struct party {
	char tenant_id[UUID_STR], name[801], domain[254];
};

struct invitation {
	char id[UUID_STR];
	struct party provider;
	char reseller_email[255], message[4001]; /* message: "" when none */
	unsigned access_roles;			 /* enum auth_role bits */
	char access_ends_at[TIME_STR];
	/* pending, accepted, withdrawn, declined, or expired (pending past
	 * expires_at) */
	char state[16];
	char expires_at[TIME_STR], created_at[TIME_STR];
	char relationship_id[UUID_STR]; /* "" until accepted */
	char decline_reason[4001];	/* "" unless declined with a reason */
};

struct invitation_new {
	const char *reseller_email; /* canonical */
	const char *message;	    /* may be NULL */
	unsigned access_roles;	    /* enum auth_role bits, delegable ones */
	micros_t access_ends_at;
	const char *public_base_url;
	int ttl_seconds; /* the invitation's life (invitation_ttl) */
};

/* The actor's tenant (a provider: the route's ROUTE_PROVIDER checked it)
 * invites the reseller at in->reseller_email, and the invitation is mailed
 * in t. Returns 0 with out, or -1 with p set: 403 not_provider (a tenant
 * without its provider record), 422 own_domain, region_not_authorized (the
 * work account at the address's domain is in a region the provider does
 * not serve); or t failed. */
int invitation_create(struct txn *t, const struct actor *a, const struct invitation_new *in,
		      struct invitation *out, struct problem *p);

/* Pages of struct invitation that a tenant sent or that are addressed to
 * its domain, by id (keys: the tenant's id, twice). */
extern const struct db_page relationship_invitation_page;

/* Withdraws an invitation of the actor's tenant (idempotent). Returns 0,
 * or -1 with p set: 404, 409 invitation_accepted, invitation_declined; or
 * t failed. */
int invitation_withdraw(struct txn *t, const struct actor *a, const char *id, struct problem *p);

struct relationship {
	char id[UUID_STR];
	struct party provider, reseller;
	char state[8], admin_access[8];
	unsigned access_roles; /* enum auth_role bits */
	char access_ends_at[TIME_STR], access_changed_at[TIME_STR], access_changed_by[UUID_STR];
	char created_at[TIME_STR], created_by[UUID_STR];
	char ended_at[TIME_STR], ended_by[UUID_STR]; /* "" while active */
	unsigned long version;
	bool auto_extend; /* the access extends itself by 180 days at its end */
};

/* The actor (the reseller's global admin) consents to invitation id with
 * its token (the mailed one, in clear). Returns 0 with out, or -1 with p
 * set: 404 invitation_not_found (unknown, not addressed to the actor's
 * domain, or a wrong token), 409 invitation_accepted, invitation_withdrawn,
 * relationship_exists, 410 invitation_expired, 422 access_already_ended,
 * enrollment_not_approved, region_not_authorized; or t failed. */
int invitation_authorize(struct txn *t, const struct actor *a, const char *id, const char *token,
			 struct relationship *out, struct problem *p);

/* The actor (the reseller's global admin) declines invitation id with its
 * token (the mailed one, in clear), giving reason (may be NULL), in t: the
 * provider's user who invited is mailed, both tenants audit it. A repeat
 * changes nothing (*declined false) and answers as the first. Returns 0
 * with out, or -1 with p set: 404 invitation_not_found (as for a
 * consent), 409 invitation_accepted, invitation_withdrawn, 410
 * invitation_expired; or t failed. */
int invitation_decline(struct txn *t, const struct actor *a, const char *id, const char *token,
		       const char *reason, struct invitation *out, bool *declined,
		       struct problem *p);

/* Pages of struct relationship of one tenant (key: the tenant's id), by
 * id: its providers (it is the reseller), or its resellers. */
extern const struct db_page relationship_providers_page, relationship_resellers_page;

/* One relationship of the tenant (either side) into out. Returns 0, or -1
 * with p set: 404; or t failed. */
int relationship_get(struct txn *t, const char *tenant_id, const char *id, struct relationship *out,
		     struct problem *p);

/* The sides of a relationship (bits). */
enum relationship_side { RELATIONSHIP_PROVIDER = 1, RELATIONSHIP_RESELLER = 2 };

/* Mails which to the sides of relationship id, in t: the provider at the
 * address of the user who invited, the reseller at its primary contact.
 * The mail's company_name is company, or for each side the other side's
 * name; extra (at most 3, borrowed) adds variables. Returns 0, or -1 with
 * t failed. */
int relationship_notify(struct txn *t, const char *id, enum mail_template which, unsigned sides,
			const char *company, const struct mail_var *extra, size_t n_extra);

/* What is recorded beside a notice's mails, in its transaction: the event
 * of relationship r (the API layer renders it), 0 or -1 with t failed. */
typedef int (*relationship_notice_record)(struct txn *t, const struct relationship *r);

/* Mails both sides of each relationship whose granted admin access ends
 * within 30, 7 or 1 day(s), once a threshold, ever (the periodic job),
 * and records each notice (record), in t; *sent: how many relationships
 * were mailed. Returns 0, or -1 with t failed. */
int relationship_access_notices(struct txn *t, relationship_notice_record record,
				unsigned long long *sent);

/* The reseller's global admin removes the provider's admin access; the
 * reseller's global admin or the provider's admin agent ends the
 * relationship. Both idempotent, audited in both tenants, and mail the
 * other side. An end withdraws the relationship's pending access request
 * (audited in both tenants as its withdrawal): its link answers 409
 * relationship_not_active; a removal leaves it, to be consented.
 * Returns 0, or -1 with p set: 403, 404; or t failed. */
int relationship_remove_access(struct txn *t, const struct actor *a, const char *id,
			       struct problem *p);
int relationship_end(struct txn *t, const struct actor *a, const char *id, struct problem *p);

/* Delegated admin access (SPEC §5): whether the provider tenant may act in
 * the reseller tenant right now, by its user user_id (in a group the
 * access is assigned to, when it is assigned: access_assignment.h).
 * Returns 0 with the relationship's id and the roles it grants, or -1
 * with p set: 403 naming why not (no_relationship, relationship_ended,
 * admin_access_removed, admin_access_expired, region_not_authorized,
 * not_assigned); or t failed. */
int relationship_delegation(struct txn *t, const char *provider_tenant_id,
			    const char *reseller_tenant_id, const char *user_id,
			    char relationship_id[UUID_STR], unsigned *roles, struct problem *p);

/* A delegated write's hold on the relationship that admitted it (as
 * relationship_delegation found it, with roles), in the write's
 * transaction t: the relationship read again, shared-locked until t ends,
 * so that a removal, an end or a narrowing of the access commits either
 * before it (and it is refused) or after it; the same for the user's
 * assignment and membership. Returns 0, or -1 with p set: 403 as
 * relationship_delegation, or admin_access_changed (the roles changed
 * since); or t failed. */
int relationship_delegation_hold(struct txn *t, const char *relationship_id, const char *user_id,
				 unsigned roles, struct problem *p);

/* The reseller's global admin narrows the roles of the provider's admin
 * access (never widens them) if the relationship is at version (0: any).
 * Returns 0 with out, or -1 with p set: 403, 404, 409
 * admin_access_not_granted, 412, 422 roles_not_narrower; or t failed. */
int relationship_narrow_access(struct txn *t, const struct actor *a, const char *id,
			       unsigned long version, unsigned roles, struct relationship *out,
			       struct problem *p);

/* ---- access requests (issue 21): a lifecycle for admin access ---- */

/* auto_extend lengthens granted access by this many days at its end */
#define ACCESS_EXTEND_DAYS 180

/* The provider's request for new or more admin access, or a later end, on
 * an active relationship; the reseller's global admin consents to it (the
 * relationship's access becomes the request's) or declines it. */
struct access_request {
	char id[UUID_STR], relationship_id[UUID_STR];
	char provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR];
	unsigned access_roles; /* enum auth_role bits */
	char access_ends_at[TIME_STR];
	bool auto_extend;
	char message[4001]; /* "" when none */
	/* pending, accepted, declined, withdrawn, or expired (pending past
	 * expires_at) */
	char state[16];
	char decline_reason[4001]; /* "" unless declined with a reason */
	char expires_at[TIME_STR], created_at[TIME_STR], created_by[UUID_STR];
	char changed_at[TIME_STR]; /* "" while pending */
};

struct access_request_new {
	unsigned access_roles; /* enum auth_role bits, delegable ones */
	micros_t access_ends_at;
	bool auto_extend;
	const char *message; /* may be NULL */
	const char *public_base_url;
	int ttl_seconds; /* the request's life (invitation_ttl) */
};

/* The actor (the provider's admin agent) asks for in on its relationship
 * relationship_id, in t: the reseller's primary contact is mailed a link
 * with a single-use token, both tenants audit it. Returns 0 with out, or
 * -1 with p set: 404 (no relationship of the actor's tenant, or one where
 * it is the reseller), 409 relationship_not_active, access_request_pending
 * (one is pending still); or t failed. */
int access_request_create(struct txn *t, const struct actor *a, const char *relationship_id,
			  const struct access_request_new *in, struct access_request *out,
			  struct problem *p);

/* The actor (the reseller's global admin) consents to request id of
 * relationship relationship_id with its token (the mailed one, in clear),
 * the relationship locked first: the relationship's admin access becomes
 * granted with the request's roles, end and auto_extend; the provider's
 * requester is mailed, both tenants audit it. Returns 0 with out (the
 * relationship), or -1 with p set: 404 access_request_not_found (unknown,
 * not of this reseller's relationship, or a wrong token: one answer), 409
 * access_request_accepted, access_request_declined,
 * access_request_withdrawn, relationship_not_active (before the
 * request's own state: an end withdraws it), 410 access_request_expired,
 * 422 access_already_ended, region_not_authorized (the provider's region
 * was taken: the request waits, pending, until it is given back); or t
 * failed. */
int access_request_authorize(struct txn *t, const struct actor *a, const char *relationship_id,
			     const char *id, const char *token, struct relationship *out,
			     struct problem *p);

/* The actor (the reseller's global admin) declines request id as
 * access_request_authorize consents, giving reason (may be NULL): the
 * provider's requester is mailed, both tenants audit it. A repeat changes
 * nothing (*declined false) and answers as the first. Returns 0 with out,
 * or -1 with p set: 404 access_request_not_found, 409
 * access_request_accepted, access_request_withdrawn,
 * relationship_not_active, 410 access_request_expired; or t failed. */
int access_request_decline(struct txn *t, const struct actor *a, const char *relationship_id,
			   const char *id, const char *token, const char *reason,
			   struct access_request *out, bool *declined, struct problem *p);

/* The actor (an admin agent of the provider, or its token) withdraws its
 * request id of relationship relationship_id, the relationship locked
 * first: its link answers 409 access_request_withdrawn from then on, both
 * tenants audit it. A withdrawn request stays so (0, nothing changes); an
 * expired one is withdrawn as a pending one. Returns 0, or -1 with p set:
 * 403 (the actor's tenant is the reseller), 404 (no relationship of the
 * actor's tenant; access_request_not_found: no such request of it), 409
 * access_request_accepted, access_request_declined; or t failed. */
int access_request_withdraw(struct txn *t, const struct actor *a, const char *relationship_id,
			    const char *id, struct problem *p);

/* Pages of struct access_request of one relationship (key: its id), by
 * id. The caller checks that the relationship is the tenant's. */
extern const struct db_page relationship_access_request_page;

/* Extends by ACCESS_EXTEND_DAYS, once, each granted admin access of an
 * active relationship with auto_extend whose end is within the next day
 * (or past: a host that was down catches up), in t; the UPDATE that
 * names the end it read is the guard, so that of several hosts at once
 * one extends. Audited in both tenants by the system, and recorded
 * (record) as the change of access; *extended: how many. Returns 0, or -1
 * with t failed. */
int relationship_access_extend(struct txn *t, relationship_notice_record record,
			       unsigned long long *extended);

/* The two sides of a relationship and its state ("active", "ended"). */
struct relationship_pair {
	char provider_tenant_id[UUID_STR], reseller_tenant_id[UUID_STR], state[8];
};

/* Relationship id into out if tenant_id is on either side of it, unlocked:
 * what a tenant may see through it (customer.c's customer_pair_other).
 * DB_OK, DB_EMPTY (no such relationship of the tenant), DB_FAILED. */
enum db_status relationship_pair_get(struct txn *t, const char *id, const char *tenant_id,
				     struct relationship_pair *out);

/* The same, read-locked (LOCK IN SHARE MODE) alone: the relationship's end
 * waits for the change that relies on it (a customer's invitation or its
 * acceptance, customer.c), and nothing else does. DB_OK, DB_EMPTY,
 * DB_FAILED. */
enum db_status relationship_pair_lock(struct txn *t, const char *id, const char *tenant_id,
				      struct relationship_pair *out);

/* The reseller's active relationships (at most 1000), oldest first, for
 * the overview: *items (free) and *n. Returns 0, or -1 when t failed. */
int relationship_active_providers(struct txn *t, const char *reseller_tenant_id,
				  struct relationship **items, size_t *n);

#endif
