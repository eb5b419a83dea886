/* Indirect providers (SPEC §5): tenants the operator authorizes in CSP
 * regions, and "find a provider" for resellers. */
#ifndef TWOTIER_PROVIDER_H
#define TWOTIER_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/audit.h"
#include "domain/enrollment.h"

struct problem;

#define PROVIDER_REGIONS_MAX 32
/* region codes (ascii VARCHAR(64)), comma-separated */
#define PROVIDER_REGIONS_CSV (PROVIDER_REGIONS_MAX * 65)

struct provider {
	char tenant_id[UUID_STR], name[801], domain[254];
	char regions[PROVIDER_REGIONS_CSV]; /* its region codes in order, comma-separated */
	char support_email[255], support_telephone[33], support_website[2001]; /* "" if none */
	char created_at[TIME_STR], updated_at[TIME_STR];
	unsigned long version;
};

/* Makes the tenant an indirect provider in regions (n of them; each a
 * region code): its global admins join its admin agent group. legal (may
 * be NULL) becomes the tenant's legal profile and its country the CSP
 * country, for a tenant that has none: with it, the provider enrols as a
 * reseller with its support profile alone. Returns 0 with out, or -1 with
 * p set: 404 tenant_unknown, 409 already_provider or legal_profile_exists,
 * 422 unknown_region (naming it), platform_tenant or
 * country_not_in_program; or t failed. */
int provider_create(struct txn *t, const struct actor *operator_, const char *tenant_id,
		    const char *const *regions, size_t n, const struct legal_profile *legal,
		    struct provider *out, struct problem *p);

/* Replaces a provider's regions if it is at version (0: any). Returns 0
 * with out, or -1 with p set: 404 not_provider, 412, 422 unknown_region;
 * or t failed. */
int provider_set_regions(struct txn *t, const struct actor *operator_, const char *tenant_id,
			 unsigned long version, const char *const *regions, size_t n,
			 struct provider *out, struct problem *p);

/* Whether the provider tenant is authorized in the region: *in. DB_OK or
 * DB_FAILED. */
enum db_status provider_in_region(struct txn *t, const char *tenant_id, const char *region_code,
				  bool *in);

/* Whether the provider tenant is authorized in the region of country (an
 * ISO code): *serves. For a customer's acceptance, which knows the
 * customer's country, not its region (customer.c). DB_OK or DB_FAILED. */
enum db_status provider_serves_country(struct txn *t, const char *tenant_id, const char *country,
				       bool *serves);

/* "Find a provider": a reseller finds the providers authorized in the
 * region of its CSP country. The region of the tenant's into region.
 * Returns 0, or -1 with p set (422 enrollment_required: the tenant has no
 * CSP country) or t failed. */
int provider_find_region(struct txn *t, const char *tenant_id, char region[65], struct problem *p);

/* Pages of struct provider authorized in a region, by tenant id: all of
 * them (key: the region code), and those whose name matches a pattern
 * (keys: the region code, a provider_name_pattern). */
extern const struct db_page provider_find_page, provider_find_named_page;
/* Pages of every struct provider, by tenant id (no key): the operator's. */
extern const struct db_page provider_all_page;

/* q (NUL-terminated, qsz bytes at most with its NUL) as the pattern of a
 * name that contains it literally (LIKE's % _ \ escaped) into out, of at
 * least PROVIDER_PATTERN_SIZE(qsz) bytes. */
#define PROVIDER_PATTERN_SIZE(qsz) (2 * (qsz) + 2)
void provider_name_pattern(const char *q, char *out);

#endif
