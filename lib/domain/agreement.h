/* The partner agreement (SPEC §4): versions of each type that the operator
 * publishes, and their acceptance by resellers' global admins. The current
 * version of a type is computed on every read (the newest whose effective
 * date has come), never stored, so a new one takes over on its day and an
 * older acceptance stops counting at once. */
#ifndef TWOTIER_AGREEMENT_H
#define TWOTIER_AGREEMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"
#include "domain/audit.h"

struct problem;

/* The type of agreement every indirect reseller signs: the one programInfo,
 * the checklist and the overview speak of. */
#define AGREEMENT_PROGRAM_TYPE "partner_agreement"

/* The current template of the programme's type, as SQL: a scalar subquery
 * that reads the index (type, effective_date, created_at) backwards. */
#define AGREEMENT_CURRENT_SQL                                                                      \
	"(SELECT x.id FROM agreement_templates x WHERE x.type = '" AGREEMENT_PROGRAM_TYPE "' "     \
	"AND x.effective_date <= UTC_DATE() ORDER BY x.effective_date DESC, x.created_at DESC "    \
	"LIMIT 1)"

struct agreement_template {
	char id[UUID_STR], type[65], version[33], document_url[2001], document_sha256[65];
	char effective_date[11]; /* YYYY-MM-DD */
	char created_at[TIME_STR];
	bool current;
};

/* Publishes a version (operator). Returns 0 with out filled, or -1 with p
 * set: 409 template_version_exists. */
int agreement_template_publish(struct txn *t, const struct actor *a,
			       const struct agreement_template *in, struct agreement_template *out,
			       struct problem *p);

/* The current version of every type (type NULL) or of one. *items
 * allocated (free). Returns 0, or -1 when t failed. */
int agreement_templates_current(struct txn *t, const char *type, struct agreement_template **items,
				size_t *n);

struct agreement_signer {
	char first_name[401], last_name[401], email[255], phone_number[33];
};

struct agreement_acceptance {
	char id[UUID_STR], template_id[UUID_STR], type[65], version[33];
	char user_id[UUID_STR], client_addr[46], accepted_at[TIME_STR];
	struct agreement_signer signer;
};

/* The actor (a global admin) accepts, for its tenant, the template id or
 * (id NULL) the current version of type. Returns 0 with out, or -1 with p
 * set: 409 already_signed; 422 enrollment_not_approved (naming the step),
 * template_unknown, template_type_mismatch, template_not_current,
 * no_current_template. */
int agreement_accept(struct txn *t, const struct actor *a, const char *template_id,
		     const char *type, const struct agreement_signer *signer,
		     struct agreement_acceptance *out, struct problem *p);

/* Pages of struct agreement_acceptance of one tenant (key: its id), of
 * every type, oldest first. */
extern const struct db_page agreement_acceptance_page;

/* Whether the reseller has accepted the current version of the programme's
 * agreement (SPEC §4: before it invites customers or has orders placed for
 * it). Returns 0, or -1 with p set: 422 reseller_agreement_not_signed, or
 * t failed. */
int agreement_require_signed(struct txn *t, const char *reseller_tenant_id, struct problem *p);

#endif
