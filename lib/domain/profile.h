/* A reseller's profiles (SPEC §8): the legal business profile, whose
 * country is the CSP country, the support profile, and the organization
 * profile with its programme info. Written first by the enrolment
 * (enrollment.h); changed here with optimistic versions (ETags). */
#ifndef TWOTIER_PROFILE_H
#define TWOTIER_PROFILE_H

#include "domain/enrollment.h"

/* The tenant's profile into out. Returns 0, or -1 with p set (404
 * not_enrolled) or t failed. */
int legal_profile_get(struct txn *t, const char *tenant_id, struct legal_profile *out,
		      struct problem *p);
int support_profile_get(struct txn *t, const char *tenant_id, struct support_profile *out,
			struct problem *p);

/* Replaces the actor's tenant's profile if it is at version (0: any).
 * A new legal country becomes the CSP country (it must be in the programme,
 * and cannot change once the enrolment is approved) and ends the MPN
 * association, whose ID was of the old country. An enrolment waiting
 * for more information returns to review. On success *in holds the new
 * version and time. Returns 0, or -1 with p set (404 not_enrolled, 412
 * stale version, 422 country_not_in_program or csp_country_locked) or t
 * failed. */
int legal_profile_put(struct txn *t, const struct actor *a, unsigned long version,
		      struct legal_profile *in, struct problem *p);
int support_profile_put(struct txn *t, const struct actor *a, unsigned long version,
			struct support_profile *in, struct problem *p);

/* The first profiles of tenant_id, written at (all borrowed): the
 * enrolment's (enrollment.c), and the legal profile a provider is given at
 * its onboarding (provider.c). DB_OK, DB_DUPLICATE when the tenant has one
 * already, DB_FAILED. */
enum db_status legal_profile_insert(struct txn *t, const char *tenant_id,
				    const struct legal_profile *lp, micros_t at);
enum db_status support_profile_insert(struct txn *t, const char *tenant_id,
				      const struct support_profile *sp, micros_t at);

/* Whether country is in one of the programme's CSP regions. Returns 0, or
 * -1 with p set (422 country_not_in_program) or t failed. */
int csp_country_in_program(struct txn *t, const char *country, struct problem *p);

struct organization_profile {
	char tenant_id[UUID_STR], domain[254], display_name[801], company_name[801];
	char csp_country[3], csp_region[65];
	char enrollment_status[32]; /* "" when not enrolled */
	/* the current version of the partner agreement, if the tenant signed it */
	bool agreement_signed;
	char agreement_version[33], agreement_signed_at[TIME_STR], agreement_signed_by[UUID_STR];
};

/* The organization profile of tenant_id into out. Returns 0, or -1 with p
 * set (404 no such tenant) or t failed. */
int organization_profile_get(struct txn *t, const char *tenant_id, struct organization_profile *out,
			     struct problem *p);

#endif
