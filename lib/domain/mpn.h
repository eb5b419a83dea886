/* Partner-network (MPN) IDs (SPEC §3 step 5): the IDs a tenant lists, each
 * with a country, and the one it associates, whose country must be the
 * CSP country. An MPN ID is associated with one tenant at most. */
#ifndef TWOTIER_MPN_H
#define TWOTIER_MPN_H

#include <stddef.h>

#include "core/util.h"
#include "domain/audit.h"

struct db;
struct problem;

struct mpn_identifier {
	char mpn_id[8], country[3], location_name[201], created_at[TIME_STR];
};

/* True for 6 or 7 digits. */
int mpn_id_valid(const char *s);

/* Adds an ID to the actor's tenant. Returns 0 with created_at set, or -1
 * with p set: 409 mpn_id_exists, 422 country_not_in_program, 503. */
int mpn_identifier_add(struct db *db, const struct actor *a, struct mpn_identifier *in,
		       struct problem *p);

/* The tenant's IDs (allocated; free) and the associated one ("" if
 * none). Returns 0 or -1 with p set. */
int mpn_profile_get(struct db *db, const char *tenant_id, struct mpn_identifier **items, size_t *n,
		    char associated[8], struct problem *p);

/* Associates one of the tenant's IDs, replacing an earlier association.
 * Returns 0 with *out (the ID), or -1 with p set: 422 not_enrolled (no CSP
 * country yet), mpn_id_unknown, mpn_country_mismatch; 409 mpn_id_taken. */
int mpn_associate(struct db *db, const struct actor *a, const char *mpn_id,
		  struct mpn_identifier *out, struct problem *p);

#endif
