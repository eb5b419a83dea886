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
#include "db/db.h"
#include "domain/audit.h"
#include "domain/relationship.h"

struct problem;

struct customer_invitation {
	char id[UUID_STR], relationship_id[UUID_STR];
	struct party reseller, provider;
	char customer_email[255], company_name[801], country[3], language[3], state[16];
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
 * invites a customer through relationship in->relationship_id, in t (the
 * mail is queued in it). Returns 0 with out, or -1 with p set: 403
 * delegation_required (the provider itself), other_relationship (a
 * delegated provider naming another provider's relationship), 404, 422
 * relationship_not_active, reseller_agreement_not_signed,
 * country_not_in_region, own_domain; or -1 with t failed. */
int customer_invitation_create(struct txn *t, const struct actor *a,
			       const struct customer_invitation_new *in,
			       struct customer_invitation *out, struct problem *p);

/* Whether the tenant may see what goes through relationship_id (a
 * provider-reseller pair): it is either side, and a provider acting for
 * the reseller (delegated_from, else NULL) sees its own relationship only.
 * Returns 0 with other (the relationship's other side), or -1 with p set:
 * 404, 403 other_relationship; or -1 with t failed. */
int customer_pair_other(struct txn *t, const char *tenant_id, const char *delegated_from,
			const char *relationship_id, char other[UUID_STR], struct problem *p);

/* Pages of struct customer_invitation, by id: those sent through one
 * relationship (key: its id; check it with customer_pair_other first), and
 * those addressed to a tenant's domain (key: the tenant's id), for the
 * customer to review before its global admin accepts one. */
extern const struct db_page customer_invitation_page, customer_invitation_received_page;

/* Withdraws an invitation the actor's tenant (the reseller) sent
 * (idempotent; a delegated provider only its own relationship's). Returns
 * 0, or -1 with p set: 403 other_relationship, 404, 409
 * invitation_accepted; or -1 with t failed. */
int customer_invitation_withdraw(struct txn *t, const struct actor *a, const char *id,
				 struct problem *p);

struct customer_relationship {
	char id[UUID_STR], customer_tenant_id[UUID_STR];
	struct party partner;
	char partner_type[20], company_name[801], country[3], state[8];
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
 * with its token: in t both relationships are made, or neither. Returns 0
 * with out, or -1 with p set: 404 (unknown, not addressed to the actor's
 * domain, or a wrong token), 409 invitation_accepted, invitation_withdrawn,
 * customer_relationships_exist, 410 invitation_expired, 422
 * relationship_not_active, region_not_authorized (the provider no longer
 * serves the customer's country); or -1 with t failed. */
int customer_invitation_accept(struct txn *t, const struct actor *a, const char *id,
			       const char *token, struct customer_acceptance *out,
			       struct problem *p);

/* Pages of struct customer_relationship of one customer tenant (key: its
 * id), its relationships with its partners, by id. */
extern const struct db_page customer_relationship_page;

/* The customer's global admin ends one of its relationships (idempotent,
 * audited in both tenants): *out the relationship after, *changed whether
 * this call ended it. Returns 0, or -1 with p set: 404; or -1 with t
 * failed. */
int customer_relationship_end(struct txn *t, const struct actor *a, const char *id,
			      struct customer_relationship *out, bool *changed, struct problem *p);

/* Whether the tenant is, or was, a partner of customer_id (any
 * relationship, ended too). Returns 0, or -1 with p set: 404; or -1 with t
 * failed. */
int customer_require_partner(struct txn *t, const char *customer_id, const char *tenant_id,
			     struct problem *p);

/* A partner's customer: the customer tenant and the partner's newest
 * relationship with it. */
struct customer {
	char id[UUID_STR], domain[254];
	struct customer_relationship relationship;
};

/* Pages of struct customer, by customer id: a partner's customers with an
 * active relationship (key: the partner's id), and those of them that the
 * other side of one of its relationships has too (keys: the partner's id,
 * the other side's id from customer_pair_other). */
extern const struct db_page customer_page, customer_page_shared;

/* Pages of the reseller's customers that a provider acting for it
 * (delegated access) may see: those that accepted this reseller together
 * with this provider, and have it still (keys: the reseller's id, the
 * provider's id twice). Not those the reseller shares with another
 * provider alone, nor its own customers as a provider. */
extern const struct db_page customer_page_delegated;

/* One customer of the partner (any relationship it had with it) into out;
 * for a provider acting for the partner (via_provider, else NULL) only one
 * of customer_page_delegated's. Returns 0, or -1 with p set: 404; or -1
 * with t failed. */
int customer_get(struct txn *t, const char *partner_tenant_id, const char *via_provider,
		 const char *customer_id, struct customer *out, struct problem *p);

#endif
