/* Customers (SPEC §5 "Invite new customers", "View customers"): a
 * reseller's invitation of a customer through one of its provider
 * relationships, mailed with a single-use link; the customer's acceptance,
 * which makes its reseller relationships with the reseller and with the
 * provider in one transaction; the customer's list and end of them; and
 * each partner's view of its customers. */
#ifndef TWOTIER_CUSTOMER_H
#define TWOTIER_CUSTOMER_H

#include <stddef.h>

#include "core/util.h"
#include "domain/audit.h"
#include "domain/relationship.h"

struct db;
struct problem;

struct customer_invitation {
	char id[UUID_STR], relationship_id[UUID_STR];
	struct party reseller, provider;
	char customer_email[255], company_name[201], country[3], language[3], state[16];
	char expires_at[TIME_STR], created_at[TIME_STR], created_by[UUID_STR];
	char customer_tenant_id[UUID_STR];
};

struct customer_invitation_new {
	const char *relationship_id;
	const char *customer_email; /* canonical */
	const char *company_name;
	const char *country;  /* ISO 3166-1 alpha-2 */
	const char *language; /* of the mail: a language of MAIL_LANGUAGES */
	const char *public_base_url;
	int ttl_seconds; /* the invitation's life (invitation_ttl) */
};

/* The actor (the reseller's, or its provider's through delegated access)
 * invites a customer through relationship in->relationship_id. Returns 0
 * with out, or -1 with p set: 403 delegation_required (the provider
 * itself), other_relationship (a delegated provider naming another
 * provider's relationship), 404, 422 relationship_not_active,
 * reseller_agreement_not_signed,
 * country_not_in_region, own_domain; 503. */
int customer_invitation_create(struct db *db, const struct actor *a,
			       const struct customer_invitation_new *in,
			       struct customer_invitation *out, struct problem *p);

/* A page of the invitations sent through a relationship of the tenant
 * (either side), by id. 404 when the relationship is not the tenant's; for
 * a provider acting for the reseller (delegated_from, else NULL) 403
 * other_relationship when it is not its own. */
int customer_invitation_list(struct db *db, const char *tenant_id, const char *delegated_from,
			     const char *relationship_id, const char *after, long limit,
			     struct customer_invitation **items, size_t *n, long *total,
			     struct problem *p);

/* A page of the invitations addressed to the tenant's domain (the
 * customer's, to review before its global admin accepts one), by id. */
int customer_invitation_received(struct db *db, const char *tenant_id, const char *after,
				 long limit, struct customer_invitation **items, size_t *n,
				 long *total, struct problem *p);

/* Withdraws an invitation the actor's tenant (the reseller) sent
 * (idempotent; a delegated provider only its own relationship's). Returns
 * 0, or -1 with p set: 403 other_relationship, 404, 409
 * invitation_accepted. */
int customer_invitation_withdraw(struct db *db, const struct actor *a, const char *id,
				 struct problem *p);

struct customer_relationship {
	char id[UUID_STR], customer_tenant_id[UUID_STR];
	struct party partner;
	char partner_type[20], company_name[201], country[3], state[8];
	char invitation_id[UUID_STR], created_at[TIME_STR], ended_at[TIME_STR], ended_by[UUID_STR];
	unsigned long version;
};

/* The customer's partners made by one acceptance: the reseller's and the
 * provider's relationship (one may have stood already). */
struct customer_acceptance {
	struct customer_invitation invitation;
	struct customer_relationship reseller, provider;
};

/* The actor (the customer tenant's global admin) accepts invitation id
 * with its token: in one transaction both relationships are made, or
 * neither. Returns 0 with out, or -1 with p set: 404 (unknown, not
 * addressed to the actor's domain, or a wrong token), 409
 * invitation_accepted, invitation_withdrawn, customer_relationships_exist,
 * 410 invitation_expired, 422 relationship_not_active,
 * region_not_authorized (the provider no longer serves the customer's
 * country), 503. */
int customer_invitation_accept(struct db *db, const struct actor *a, const char *id,
			       const char *token, struct customer_acceptance *out,
			       struct problem *p);

/* A page of the customer tenant's relationships with its partners, by id. */
int customer_relationship_list(struct db *db, const char *customer_tenant_id, const char *after,
			       long limit, struct customer_relationship **items, size_t *n,
			       long *total, struct problem *p);

/* The customer's global admin ends one of its relationships (idempotent,
 * audited in both tenants). Returns 0, or -1 with p set: 404, 503. */
int customer_relationship_end(struct db *db, const struct actor *a, const char *id,
			      struct problem *p);

/* A partner's customer: the customer tenant and the partner's newest
 * relationship with it. */
struct customer {
	char id[UUID_STR], domain[254];
	struct customer_relationship relationship;
};

/* A page of the partner's customers with an active relationship, by
 * customer id; with relationship_id (else NULL) only those it shares with
 * the other side of that relationship of the partner (404 if not the
 * partner's; 403 other_relationship for a delegated provider's
 * (delegated_from, else NULL) request naming another's). */
int customer_list(struct db *db, const char *partner_tenant_id, const char *delegated_from,
		  const char *relationship_id, const char *after, long limit,
		  struct customer **items, size_t *n, long *total, struct problem *p);

/* One customer of the partner (any relationship it had with it). 404
 * otherwise. */
int customer_get(struct db *db, const char *partner_tenant_id, const char *customer_id,
		 struct customer *out, struct problem *p);

#endif
