/* A reseller's profiles (SPEC §8): the legal business profile, whose
 * country is the CSP country, the support profile, and the organization
 * profile with its programme info. Written first by the enrolment
 * (enrollment.h); changed here with optimistic versions (ETags). */
#ifndef TWOTIER_PROFILE_H
#define TWOTIER_PROFILE_H

#include "domain/enrollment.h"

/* The tenant's profile. Returns 0, or -1 with p set: 404 not_enrolled. */
int legal_profile_get(struct db *db, const char *tenant_id, struct legal_profile *out,
		      struct problem *p);
int support_profile_get(struct db *db, const char *tenant_id, struct support_profile *out,
			struct problem *p);

/* Replaces the actor's tenant's profile if it is at version (0: any).
 * A new legal country becomes the CSP country (it must be in the programme,
 * and cannot change once the enrolment is approved) and ends the MPN
 * association, whose ID was of the old country. An enrolment waiting
 * for more information returns to review. On success *in holds the new
 * version and time. Returns 0, or -1 with p set: 404 not_enrolled, 412
 * stale version, 422 country_not_in_program or csp_country_locked. */
int legal_profile_put(struct db *db, const struct actor *a, unsigned long version,
		      struct legal_profile *in, struct problem *p);
int support_profile_put(struct db *db, const struct actor *a, unsigned long version,
			struct support_profile *in, struct problem *p);

struct organization_profile {
	char tenant_id[UUID_STR], domain[254], display_name[201], company_name[201];
	char csp_country[3], csp_region[65];
	char enrollment_status[32]; /* "" when not enrolled */
	/* the current version of the partner agreement, if the tenant signed it */
	bool agreement_signed;
	char agreement_version[33], agreement_signed_at[TIME_STR], agreement_signed_by[UUID_STR];
};

/* The organization profile. Returns 0 or -1 with p set (503). */
int organization_profile_get(struct db *db, const char *tenant_id, struct organization_profile *out,
			     struct problem *p);

#endif
