/* Partner-network (MPN) IDs (SPEC §3 step 5): the IDs a tenant lists, each
 * with a country, and the one it associates, whose country must be the
 * CSP country. An MPN ID is associated with one tenant at most. */
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
	bool associated; /* the tenant's associated ID (mpn_profile_get) */
};

/* True for 6 or 7 digits. */
int mpn_id_valid(const char *s);

/* Adds an ID to the actor's tenant (in borrowed). Returns 0 with
 * in->created_at set, or -1 with p set (409 mpn_id_exists, 422
 * country_not_in_program) or t failed. */
int mpn_identifier_add(struct txn *t, const struct actor *a, struct mpn_identifier *in,
		       struct problem *p);

/* The tenant's IDs (*items allocated, the caller's to free) and the
 * associated one ("" if none). Returns 0, or -1 when t failed. */
int mpn_profile_get(struct txn *t, const char *tenant_id, struct mpn_identifier **items, size_t *n,
		    char associated[8]);

/* Associates one of the tenant's IDs, replacing an earlier association.
 * Returns 0 with *out (the ID), or -1 with p set (422 not_enrolled: no
 * CSP country yet, mpn_id_unknown, mpn_country_mismatch; 409 mpn_id_taken)
 * or t failed. */
int mpn_associate(struct txn *t, const struct actor *a, const char *mpn_id,
		  struct mpn_identifier *out, struct problem *p);

/* Ends the tenant's association, if any; *dropped (may be NULL) is 1 when
 * there was one. DB_OK or DB_FAILED. */
enum db_status mpn_association_end(struct txn *t, const char *tenant_id,
				   unsigned long long *dropped);

#endif
