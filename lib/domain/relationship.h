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
#include "domain/audit.h"

struct db;
struct problem;

/* delegated access lasts at most 730 days */
#define ACCESS_DAYS_MAX 730

struct party {
	char tenant_id[UUID_STR], name[201], domain[254];
};

struct invitation {
	char id[UUID_STR];
	struct party provider;
	char reseller_email[255], message[1001];
	unsigned access_roles;
	char access_ends_at[TIME_STR], state[16], expires_at[TIME_STR], created_at[TIME_STR];
	char relationship_id[UUID_STR];
};

struct invitation_new {
	const char *reseller_email; /* canonical */
	const char *message;	    /* may be NULL */
	unsigned access_roles;
	const char *access_ends_at; /* DATETIME(6) text */
	const char *public_base_url;
	int ttl_seconds; /* the invitation's life (invitation_ttl) */
};

/* The actor's tenant (a provider) invites the reseller at email. Returns 0
 * with out, or -1 with p set: 403 not_provider, 422 own_domain, 503. */
int invitation_create(struct db *db, const struct actor *a, const struct invitation_new *in,
		      struct invitation *out, struct problem *p);

/* A page of the invitations the tenant sent or received (addressed to its
 * domain), by id. */
int invitation_list(struct db *db, const char *tenant_id, const char *after, long limit,
		    struct invitation **items, size_t *n, long *total, struct problem *p);

/* Withdraws an invitation of the actor's tenant (idempotent). Returns 0,
 * or -1 with p set: 404, 409 already accepted. */
int invitation_withdraw(struct db *db, const struct actor *a, const char *id, struct problem *p);

struct relationship {
	char id[UUID_STR];
	struct party provider, reseller;
	char state[8], admin_access[8];
	unsigned access_roles;
	char access_ends_at[TIME_STR], access_changed_at[TIME_STR], access_changed_by[UUID_STR];
	char created_at[TIME_STR], created_by[UUID_STR], ended_at[TIME_STR], ended_by[UUID_STR];
	unsigned long version;
};

/* The actor (the reseller's global admin) consents to invitation id with
 * its token. Returns 0 with out, or -1 with p set: 404 (unknown, not
 * addressed to the actor's domain, or a wrong token), 409 used or
 * withdrawn, 410 expired, 422 access_already_ended, enrollment_not_approved,
 * region_not_authorized,
 * 409 relationship_exists, 503. */
int invitation_authorize(struct db *db, const struct actor *a, const char *id, const char *token,
			 struct relationship *out, struct problem *p);

enum relationship_side { SIDE_PROVIDERS, SIDE_RESELLERS };

/* A page of the tenant's relationships: its providers (it is the
 * reseller) or its resellers. */
int relationship_list(struct db *db, const char *tenant_id, enum relationship_side side,
		      const char *after, long limit, struct relationship **items, size_t *n,
		      long *total, struct problem *p);

/* One relationship of the tenant (either side). 404 otherwise. */
int relationship_get(struct db *db, const char *tenant_id, const char *id, struct relationship *out,
		     struct problem *p);

/* The reseller's global admin removes the provider's admin access; the
 * reseller's global admin or the provider's admin agent ends the
 * relationship. Both idempotent, audited in both tenants, and mail the
 * other side. Returns 0, or -1 with p set: 403, 404, 503. */
int relationship_remove_access(struct db *db, const struct actor *a, const char *id,
			       struct problem *p);
int relationship_end(struct db *db, const struct actor *a, const char *id, struct problem *p);

/* Delegated admin access (SPEC §5): whether the provider tenant may act in
 * the reseller tenant right now. Returns 0 with the relationship's id and
 * the roles it grants, or -1 with p set: 403 naming why not (no
 * relationship, ended, access removed, access past its end date), 503. */
int relationship_delegation(struct db *db, const char *provider_tenant_id,
			    const char *reseller_tenant_id, char relationship_id[UUID_STR],
			    unsigned *roles, struct problem *p);

/* The reseller's global admin narrows the roles of the provider's admin
 * access (never widens them) if the relationship is at version (0: any).
 * Returns 0 with out, or -1 with p set: 403, 404, 409 access not granted,
 * 412, 422 roles_not_narrower, 503. */
int relationship_narrow_access(struct db *db, const struct actor *a, const char *id,
			       unsigned long version, unsigned roles, struct relationship *out,
			       struct problem *p);

#endif
