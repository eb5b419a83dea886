/* Enrolment as an indirect reseller (SPEC §3): the enrolment and its
 * states, the primary contact's verification by mail, the operator's
 * review. Every change of status is written as a transition (who, when,
 * from, to, why), audited, and mails the primary contact, all in the
 * transaction of the change. */
#ifndef TWOTIER_ENROLLMENT_H
#define TWOTIER_ENROLLMENT_H

#include <stdbool.h>

#include "core/util.h"
#include "db/db.h"
#include "domain/audit.h"

struct problem;

/* Text fields are sized for their columns (sql/0005): utf8mb4 VARCHAR(n)
 * holds up to 4n bytes, ascii n. */
struct legal_profile {
	char company_name[801], address_line1[801], address_line2[801], city[401], state[401],
	    postal_code[81], country[3], phone_number[33];
	unsigned long version;
	char updated_at[TIME_STR];
};

struct support_profile {
	char email[255], telephone[33], website[2001];
	unsigned long version;
	char updated_at[TIME_STR];
};

struct primary_contact {
	char first_name[401], last_name[401], email[255], phone_number[33], language[3];
};

struct enrollment {
	char id[UUID_STR], tenant_id[UUID_STR], tenant_domain[254], company_name[801];
	char status[32], csp_country[3], csp_region[65];
	char email_verified_at[TIME_STR]; /* "" until verified */
	char created_at[TIME_STR], updated_at[TIME_STR];
	struct primary_contact contact;
	bool mpn_associated;	   /* the tenant has a verified MPN association */
	bool admin_agent_assigned; /* the enrolling global admin is an admin agent */
	/* the current partner agreement, when the tenant signed it ("" if not) */
	char agreement_version[33], agreement_signed_at[TIME_STR], agreement_signed_by[UUID_STR];
	bool provider_authorized; /* an active relationship with a provider */
};

/* What the mails' links point at: {public_base_url}/verify-email?token=. */
struct enrollment_links {
	const char *public_base_url;
};

/* Enrols the actor's tenant (the actor is its global admin) in t: the
 * enrolment in pending_email_verification, both profiles, the CSP
 * country, the admin_agent role for the actor if it lacks it, a
 * verification token and its mail. An indirect provider whose record
 * holds a legal profile may give legal and contact as NULL: its legal
 * profile and CSP country are its record's, its contact the actor, and the
 * enrolment goes to review at once. All borrowed. Returns 0 with *out, or
 * -1 with p set: 400 (legal or contact missing for another tenant), 409
 * already_enrolled, legal_profile_exists (a provider's record holds one
 * and legal was given), 422 country_not_in_program; or t failed. */
int enrollment_submit(struct txn *t, const struct actor *a, const struct legal_profile *legal,
		      const struct primary_contact *contact, const struct support_profile *support,
		      const struct enrollment_links *links, struct enrollment *out,
		      struct problem *p);

/* The tenant's enrolment into out. Returns 0, or -1 with p set (404
 * not_enrolled) or t failed. */
int enrollment_get(struct txn *t, const char *tenant_id, struct enrollment *out, struct problem *p);

/* Confirms the primary contact with the mailed token (borrowed): the
 * enrolment moves to in_review. Returns 0 with *out, or -1 with p set
 * (one 404 for a used, replaced, expired or unknown token alike) or t
 * failed. */
int enrollment_verify_email(struct txn *t, const char *token, const char *request_id,
			    const char *client_addr, struct enrollment *out, struct problem *p);

/* A new verification mail; the token before it stops working. At most
 * ENROLLMENT_RESENDS_PER_DAY in 24 hours. Returns 0 with the new token's
 * expiry, or -1 with p set (404 not enrolled, 409 already verified, 429
 * with retry_after) or t failed. */
#define ENROLLMENT_RESENDS_PER_DAY 5
int enrollment_resend_verification(struct txn *t, const struct actor *a,
				   const struct enrollment_links *links, char expires_at[TIME_STR],
				   struct problem *p);

enum enrollment_decision { DECISION_APPROVE, DECISION_REJECT, DECISION_REQUEST_INFO };

struct enrollment_transition {
	char id[UUID_STR], enrollment_id[UUID_STR], tenant_id[UUID_STR], from_status[32],
	    to_status[32];
	char created_at[TIME_STR];
};

/* An operator's decision on an enrolment in review. reason may be NULL
 * for an approval only. Returns 0 with *out, or -1 with p set (404
 * unknown enrolment, 409 not in review, naming its status) or t failed. */
int enrollment_decide(struct txn *t, const struct actor *operator_, const char *enrollment_id,
		      enum enrollment_decision d, const char *reason,
		      struct enrollment_transition *out, struct problem *p);

/* Pages of struct enrollment in id order: of every status (no key), and
 * of one status (key: the status). */
extern const struct db_page enrollment_page, enrollment_page_of_status;

/* True for one of the five states (SPEC §3). */
bool enrollment_status_valid(const char *s);

/* Locks the tenant's enrolment and reads its status into status ("" when
 * the tenant has not enrolled). Every change of a profile (profile.c), an
 * acceptance of the agreement (agreement.c) and a reseller's consent to a
 * provider (relationship.c) take this lock first, as every change of
 * status does: one order of locks, so they never deadlock, and the status
 * cannot change before the commit. DB_OK or DB_FAILED. */
enum db_status enrollment_lock_status(struct txn *t, const char *tenant_id, char status[32]);

/* In a transaction that changed a profile of a tenant whose enrolment
 * waits for more information: returns it to in_review (transition, audit,
 * mail). Does nothing in any other state. DB_OK or DB_FAILED. */
enum db_status enrollment_profile_updated(struct txn *t, const struct actor *a,
					  const char *tenant_id, micros_t at);

#endif
