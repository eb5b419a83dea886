/* Partner-network (MPN) IDs (SPEC §3 step 5): the IDs a tenant lists, each
 * with a country, and the one it claims, whose country must be the CSP
 * country. A claim counts as the tenant's association only once the
 * operator verifies it in the review queue (issue 21, F2): an MPN ID is
 * verified for one tenant at most, and a claim not verified blocks no one;
 * verifying one releases (rejects) the other tenants' claims of the ID. */
#ifndef TWOTIER_MPN_H
#define TWOTIER_MPN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/audit.h"

struct problem;

struct mpn_identifier {
	char mpn_id[8], country[3], location_name[801], created_at[TIME_STR];
};

/* A tenant's claim of one of its IDs (one a tenant), as the tenant and the
 * operator's queue see it. */
struct mpn_association {
	char id[UUID_STR], tenant_id[UUID_STR], tenant_domain[254], company_name[801];
	char mpn_id[8], country[3], location_name[801];
	char status[24]; /* pending_verification, verified, rejected */
	char claimed_at[TIME_STR], decided_at[TIME_STR], decided_by[UUID_STR]; /* "" undecided */
	char reason[8001];     /* "" when none was given */
	bool contact_verified; /* the tenant's primary contact confirmed its mailbox */
};

enum mpn_decision { MPN_DECISION_VERIFY, MPN_DECISION_REJECT };

/* True for 6 or 7 digits. */
int mpn_id_valid(const char *s);

/* Adds an ID to the actor's tenant (in borrowed). Returns 0 with
 * in->created_at set, or -1 with p set (409 mpn_id_exists, 422
 * country_not_in_program) or t failed. */
int mpn_identifier_add(struct txn *t, const struct actor *a, struct mpn_identifier *in,
		       struct problem *p);

/* The tenant's IDs (*items allocated, the caller's to free) and its claim
 * into *claim (*has_claim false when it has none). Returns 0, or -1 when t
 * failed. */
int mpn_profile_get(struct txn *t, const char *tenant_id, struct mpn_identifier **items, size_t *n,
		    struct mpn_association *claim, bool *has_claim);

/* Claims one of the tenant's IDs for verification, replacing an earlier
 * claim (verified or not). Claiming the ID the tenant holds verified or
 * waits for changes nothing. Returns 0 with *out (the claim), or -1 with p
 * set (422 not_enrolled: no CSP country yet, mpn_id_unknown,
 * mpn_country_mismatch; 409 mpn_id_taken: verified for another tenant) or
 * t failed. */
int mpn_associate(struct txn *t, const struct actor *a, const char *mpn_id,
		  struct mpn_association *out, struct problem *p);

/* The operator's decision on a claim waiting for verification. reason
 * (borrowed) may be NULL for a verification only; a rejection is mailed to
 * the tenant's primary contact with it. A verification rejects (and mails)
 * every other tenant's waiting claim of the ID, *released of them. Audited
 * in the tenant(s) and in the operator's tenant. Returns 0 with *out (the
 * claim decided), or -1 with p set (404 no such claim; 409
 * invalid_transition: decided already, naming its status; 409
 * mpn_id_taken: verified for another tenant meanwhile; 422
 * contact_unverified: a verification before the primary contact confirmed
 * its mailbox) or t failed. */
int mpn_association_decide(struct txn *t, const struct actor *operator_, const char *id,
			   enum mpn_decision d, const char *reason, struct mpn_association *out,
			   unsigned long long *released, struct problem *p);

/* True for pending_verification, verified or rejected. */
bool mpn_association_status_valid(const char *s);

/* Pages of struct mpn_association in id order: of every status (no key),
 * and of one status (key: the status). */
extern const struct db_page mpn_association_page, mpn_association_page_of_status;

/* Ends the tenant's association, if any; *dropped (may be NULL) is 1 when
 * there was one. DB_OK or DB_FAILED. */
enum db_status mpn_association_end(struct txn *t, const char *tenant_id,
				   unsigned long long *dropped);

#endif
