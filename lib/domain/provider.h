/* Indirect providers (SPEC §5): tenants the operator authorizes in CSP
 * regions, and "find a provider" for resellers. */
#ifndef TWOTIER_PROVIDER_H
#define TWOTIER_PROVIDER_H

#include <stddef.h>

#include "core/util.h"
#include "domain/audit.h"
#include "domain/enrollment.h"

struct db;
struct problem;

#define PROVIDER_REGIONS_MAX 32

struct provider {
	char tenant_id[UUID_STR], name[201], domain[254];
	char regions[PROVIDER_REGIONS_MAX][65];
	size_t n_regions;
	char support_email[255], support_telephone[17], support_website[2001]; /* "" if none */
	char created_at[TIME_STR], updated_at[TIME_STR];
	unsigned long version;
};

/* Makes the tenant an indirect provider in regions (n of them; each a
 * region code): its global admins join its admin agent group. legal (may
 * be NULL) becomes the tenant's legal profile and its country the CSP
 * country, for a tenant that has none: with it, the provider enrols as a
 * reseller with its support profile alone. Returns 0 with out, or -1 with
 * p set: 404 no such tenant, 409 already_provider or legal_profile_exists,
 * 422 unknown_region (naming it), platform_tenant or
 * country_not_in_program, 503. */
int provider_create(struct db *db, const struct actor *operator_, const char *tenant_id,
		    const char *const *regions, size_t n, const struct legal_profile *legal,
		    struct provider *out, struct problem *p);

/* Replaces a provider's regions if it is at version (0: any). Returns 0
 * with out, or -1 with p set: 404, 412, 422 unknown_region, 503. */
int provider_set_regions(struct db *db, const struct actor *operator_, const char *tenant_id,
			 unsigned long version, const char *const *regions, size_t n,
			 struct provider *out, struct problem *p);

/* A page of the providers authorized in the region of the caller's CSP
 * country, by tenant id after `after`, whose name contains q (may be
 * ""). *items allocated (free). Returns 0 or -1 with p set: 422
 * enrollment_required when the caller's tenant has no CSP country. */
int provider_find(struct db *db, const char *tenant_id, const char *q, const char *after,
		  long limit, struct provider **items, size_t *n, long *total, struct problem *p);

#endif
