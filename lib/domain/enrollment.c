#include "domain/enrollment.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "domain/agreement.h"
#include "domain/profile.h"
#include "domain/tenant.h"
#include "domain/user.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* a verification link lives 72 hours (SPEC §3) */
#define VERIFY_TTL_MICROS (72LL * 3600 * 1000000)
#define DAY_MICROS	  (86400LL * 1000000)

DB_STATEMENT(enrollment_insert,
	     "INSERT INTO enrollments (id, tenant_id, status, contact_first_name, "
	     "contact_last_name, contact_email, contact_phone, contact_language, "
	     "email_verified_at, created_by, created_at, updated_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_TIME | DB_NULLABLE, DB_TEXT, DB_TIME, DB_TIME),
	     DB_NO_ROW);

/* A provider's own record (its legal profile, given at onboarding) and the
 * enrolling global admin: what a provider that enrols as a reseller gives
 * no more ("already enrolled in CSP"). */
struct provider_basis {
	struct legal_profile legal;
	struct primary_contact contact;
};
#define PROVIDER_BASIS_FIELDS(F, T)                                                                \
	F(T, legal.company_name, DB_TEXT)                                                          \
	F(T, legal.country, DB_TEXT)                                                               \
	F(T, legal.phone_number, DB_TEXT)                                                          \
	F(T, contact.first_name, DB_TEXT)                                                          \
	F(T, contact.last_name, DB_TEXT) F(T, contact.email, DB_TEXT)
DB_STATEMENT(enrollment_provider_basis,
	     "SELECT l.company_name AS legal_company_name, l.country AS legal_country, "
	     "l.phone_number AS legal_phone_number, u.first_name AS contact_first_name, "
	     "u.last_name AS contact_last_name, u.email AS contact_email "
	     "FROM providers p JOIN legal_profiles l ON l.tenant_id = p.tenant_id "
	     "JOIN users u ON u.id = ? AND u.tenant_id = p.tenant_id WHERE p.tenant_id = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct provider_basis, PROVIDER_BASIS_FIELDS));

DB_STATEMENT(enrollment_transition_insert,
	     "INSERT INTO enrollment_transitions (id, enrollment_id, from_status, to_status, "
	     "actor_type, actor_id, reason, request_id, created_at) "
	     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TEXT,
		       DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

DB_STATEMENT(enrollment_verification_insert,
	     "INSERT INTO email_verifications (id, enrollment_id, token_hash, is_resend, "
	     "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_INT, DB_TIME, DB_TIME), DB_NO_ROW);

/* which enrolment a token is of, without a lock: the enrolment is locked
 * first, then the token (the order of resend, and of every change) */
struct verification_target {
	char enrollment_id[UUID_STR];
};
#define VERIFICATION_TARGET_FIELDS(F, T) F(T, enrollment_id, DB_TEXT)
DB_STATEMENT(enrollment_verification_find,
	     "SELECT enrollment_id FROM email_verifications WHERE token_hash = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct verification_target, VERIFICATION_TARGET_FIELDS));

/* the token, locked, and whether it still works at the moment given */
struct verification_row {
	char id[UUID_STR];
	bool expired, spent;
};
#define VERIFICATION_FIELDS(F, T) F(T, id, DB_TEXT) F(T, expired, DB_INT) F(T, spent, DB_INT)
DB_STATEMENT(enrollment_verification_lock,
	     "SELECT id, expires_at <= ? AS expired, "
	     "used_at IS NOT NULL OR replaced_at IS NOT NULL AS spent "
	     "FROM email_verifications WHERE token_hash = ? FOR UPDATE",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_ROW(struct verification_row, VERIFICATION_FIELDS));

DB_STATEMENT(enrollment_verification_use, "UPDATE email_verifications SET used_at = ? WHERE id = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

/* the resends since a moment, and the seconds until the oldest of them is
 * a day old (the wait before the next) */
struct resends_row {
	long long n, wait;
};
#define RESENDS_FIELDS(F, T) F(T, n, DB_INT) F(T, wait, DB_INT)
DB_STATEMENT(enrollment_verification_resends,
	     "SELECT COUNT(*) AS n, TIMESTAMPDIFF(SECOND, ?, MIN(created_at) + INTERVAL 1 DAY) "
	     "AS wait FROM email_verifications "
	     "WHERE enrollment_id = ? AND is_resend = 1 AND created_at > ?",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TIME), DB_ROW(struct resends_row, RESENDS_FIELDS));

DB_STATEMENT(enrollment_verification_replace,
	     "UPDATE email_verifications SET replaced_at = ? "
	     "WHERE enrollment_id = ? AND used_at IS NULL AND replaced_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(enrollment_set_status,
	     "UPDATE enrollments SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
	     DB_PARAMS(DB_TEXT, DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(enrollment_set_verified,
	     "UPDATE enrollments SET status = 'in_review', email_verified_at = ?, updated_at = ? "
	     "WHERE id = ? AND status = 'pending_email_verification'",
	     DB_PARAMS(DB_TIME, DB_TIME, DB_TEXT), DB_NO_ROW);

/* The row a change of status locks, with what its mail needs. */
struct locked {
	char id[UUID_STR], tenant_id[UUID_STR], status[32], first_name[401], email[255],
	    language[3], company_name[801];
};
#define LOCKED_FIELDS(F, T)                                                                        \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, status, DB_TEXT)                                                                      \
	F(T, first_name, DB_TEXT)                                                                  \
	F(T, email, DB_TEXT) F(T, language, DB_TEXT) F(T, company_name, DB_TEXT)
#define LOCKED_SELECT                                                                              \
	"SELECT e.id, e.tenant_id, e.status, e.contact_first_name AS first_name, "                 \
	"e.contact_email AS email, e.contact_language AS language, l.company_name "                \
	"FROM enrollments e JOIN legal_profiles l ON l.tenant_id = e.tenant_id "

DB_STATEMENT(enrollment_lock_tenant, LOCKED_SELECT "WHERE e.tenant_id = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct locked, LOCKED_FIELDS));
DB_STATEMENT(enrollment_lock_id, LOCKED_SELECT "WHERE e.id = ? FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct locked, LOCKED_FIELDS));

struct status_row {
	char status[32];
};
#define STATUS_FIELDS(F, T) F(T, status, DB_TEXT)
DB_STATEMENT(enrollment_status_lock,
	     "SELECT status FROM enrollments WHERE tenant_id = ? FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct status_row, STATUS_FIELDS));

/* The enrolment as the API shows it, with its checklist's facts. The
 * agreement's fields are the current version's only when the tenant
 * accepted it. */
/* hint: an index hint for the enrolments, or "" */
#define VIEW_SELECT_USING(hint)                                                                    \
	"SELECT e.id, e.tenant_id, t.domain AS tenant_domain, l.company_name, e.status, "          \
	"t.csp_country, c.region_code AS csp_region, e.email_verified_at, e.created_at, "          \
	"e.updated_at, e.contact_first_name, e.contact_last_name, e.contact_email, "               \
	"e.contact_phone AS contact_phone_number, e.contact_language, "                            \
	"m.mpn_id IS NOT NULL AS mpn_associated, "                                                 \
	"FIND_IN_SET('admin_agent', u.roles) > 0 AS admin_agent_assigned, "                        \
	"IF(acc.id IS NULL, NULL, cur.version) AS agreement_version, "                             \
	"acc.accepted_at AS agreement_signed_at, acc.user_id AS agreement_signed_by, "             \
	"EXISTS (SELECT 1 FROM relationships r WHERE r.reseller_tenant_id = e.tenant_id "          \
	"AND r.state = 'active') AS provider_authorized "                                          \
	"FROM enrollments e " hint "JOIN tenants t ON t.id = e.tenant_id "                         \
	"LEFT JOIN legal_profiles l ON l.tenant_id = e.tenant_id "                                 \
	"LEFT JOIN countries c ON c.code = t.csp_country "                                         \
	"LEFT JOIN mpn_associations m ON m.tenant_id = e.tenant_id AND m.status = 'verified' "     \
	"LEFT JOIN users u ON u.id = e.created_by "                                                \
	"LEFT JOIN agreement_templates cur ON cur.id = " AGREEMENT_CURRENT_SQL " "                 \
	"LEFT JOIN agreement_acceptances acc ON acc.tenant_id = e.tenant_id "                      \
	"AND acc.template_id = cur.id "
#define VIEW_SELECT VIEW_SELECT_USING("")
#define VIEW_FIELDS(F, T)                                                                          \
	F(T, id, DB_TEXT)                                                                          \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, tenant_domain, DB_TEXT)                                                               \
	F(T, company_name, DB_TEXT)                                                                \
	F(T, status, DB_TEXT)                                                                      \
	F(T, csp_country, DB_TEXT)                                                                 \
	F(T, csp_region, DB_TEXT)                                                                  \
	F(T, email_verified_at, DB_TIME)                                                           \
	F(T, created_at, DB_TIME)                                                                  \
	F(T, updated_at, DB_TIME)                                                                  \
	F(T, contact.first_name, DB_TEXT)                                                          \
	F(T, contact.last_name, DB_TEXT)                                                           \
	F(T, contact.email, DB_TEXT)                                                               \
	F(T, contact.phone_number, DB_TEXT)                                                        \
	F(T, contact.language, DB_TEXT)                                                            \
	F(T, mpn_associated, DB_INT)                                                               \
	F(T, admin_agent_assigned, DB_INT)                                                         \
	F(T, agreement_version, DB_TEXT)                                                           \
	F(T, agreement_signed_at, DB_TIME)                                                         \
	F(T, agreement_signed_by, DB_TEXT) F(T, provider_authorized, DB_INT)

DB_STATEMENT(enrollment_by_tenant, VIEW_SELECT "WHERE e.tenant_id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct enrollment, VIEW_FIELDS));
DB_STATEMENT(enrollment_by_id, VIEW_SELECT "WHERE e.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct enrollment, VIEW_FIELDS));

/* every status: the primary key; one status: ix_enrollments_status
 * (status, id) */
DB_STATEMENT(enrollment_list_all,
	     VIEW_SELECT_USING(DB_LIST_INDEX("PRIMARY")) "WHERE e.id > ? ORDER BY e.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW(struct enrollment, VIEW_FIELDS));
DB_STATEMENT(enrollment_count_all,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM enrollments LIMIT ?) c", DB_PARAMS(DB_INT),
	     DB_ROW_COUNT);
DB_STATEMENT(enrollment_list_status,
	     VIEW_SELECT_USING(DB_LIST_INDEX(
		 "ix_enrollments_status")) "WHERE e.status = ? AND e.id > ? ORDER BY e.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_ROW(struct enrollment, VIEW_FIELDS));
DB_STATEMENT(enrollment_count_status,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM enrollments WHERE status = ? LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page enrollment_page = {.list = &enrollment_list_all,
					.count = &enrollment_count_all,
					.n_keys = 0,
					.cursor_offset = offsetof(struct enrollment, id)};
const struct db_page enrollment_page_of_status = {.list = &enrollment_list_status,
						  .count = &enrollment_count_status,
						  .n_keys = 1,
						  .cursor_offset = offsetof(struct enrollment, id)};

static const char *const statuses[] = {"pending_email_verification", "in_review",
				       "more_info_requested", "approved", "rejected"};

bool enrollment_status_valid(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(statuses[i], s) == 0)
			return true;
	return false;
}

static int not_enrolled(struct problem *p)
{
	snprintf(p->code, sizeof p->code, "not_enrolled");
	return problem_set(p, PROBLEM_NOT_FOUND,
			   "this work account has not enrolled as an indirect reseller; "
			   "POST /v1/enrollments first");
}

/* The enrolment that s finds by key, into out. */
static int view_get(struct txn *t, const struct db_stmt *s, const char *key, struct enrollment *out,
		    struct problem *p)
{
	struct db_arg a[] = {db_text(key)};
	switch (db_one(t, s, a, out)) {
	case DB_OK: return 0;
	case DB_EMPTY: return not_enrolled(p);
	default: return -1;
	}
}

int enrollment_get(struct txn *t, const char *tenant_id, struct enrollment *out, struct problem *p)
{
	return view_get(t, &enrollment_by_tenant, tenant_id, out, p);
}

enum db_status enrollment_lock_status(struct txn *t, const char *tenant_id, char status[32])
{
	struct status_row row;
	struct db_arg a[] = {db_text(tenant_id)};
	enum db_status rc = db_one(t, &enrollment_status_lock, a, &row);
	status[0] = '\0';
	if (rc == DB_OK)
		memcpy(status, row.status, sizeof row.status);
	return rc == DB_EMPTY ? DB_OK : rc;
}

/* A change of status: the transition row, the audit event in the
 * enrolment's tenant, and the primary contact's mail (none when mail is
 * MAIL_TEMPLATE__COUNT). The transition's id goes to id_out (may be NULL). */
static enum db_status transition_write(struct txn *t, const struct actor *a, const struct locked *l,
				       const char *to, const char *reason, enum mail_template mail,
				       micros_t at, char id_out[UUID_STR])
{
	char id[UUID_STR], action[64];
	enum db_status rc;
	uuid_v7(id);
	struct db_arg r[] = {
	    db_text(id),     db_text(l->id),	     db_text(l->status[0] ? l->status : NULL),
	    db_text(to),     db_text(a->type),	     db_text(a->id),
	    db_text(reason), db_text(a->request_id), db_time(at)};
	if ((rc = db_exec(t, &enrollment_transition_insert, r, NULL)) != DB_OK)
		return rc;
	if (id_out != NULL)
		memcpy(id_out, id, UUID_STR);
	snprintf(action, sizeof action, "enrollment.%s", to);
	rc = audit_record_in(t, a, l->tenant_id, action, "enrollment", l->id, at);
	if (rc != DB_OK || mail == MAIL_TEMPLATE__COUNT)
		return rc;
	struct mail_var vars[] = {{"first_name", l->first_name},
				  {"company_name", l->company_name},
				  {"reason", reason ? reason : ""}};
	struct outbox_mail m = {l->tenant_id, mail, l->language, l->email, vars, 3};
	return outbox_enqueue(t, &m);
}

/* A fresh verification token for the enrolment, issued at, and its mail;
 * its expiry goes to *expires (may be NULL). */
static enum db_status verification_issue(struct txn *t, const struct locked *l, bool resend,
					 const struct enrollment_links *links, micros_t at,
					 micros_t *expires)
{
	char token[LINK_TOKEN_LEN + 1], hash[65], id[UUID_STR], link[512];
	micros_t until = at + VERIFY_TTL_MICROS;
	link_token_generate(token, hash);
	uuid_v7(id);
	struct db_arg v[] = {db_text(id),    db_text(l->id), db_text(hash),
			     db_int(resend), db_time(at),    db_time(until)};
	enum db_status rc = db_exec(t, &enrollment_verification_insert, v, NULL);
	if (rc == DB_OK) {
		snprintf(link, sizeof link, "%s/verify-email?token=%s", links->public_base_url,
			 token);
		struct mail_var vars[] = {{"first_name", l->first_name},
					  {"company_name", l->company_name},
					  {"link", link}};
		struct outbox_mail m = {
		    l->tenant_id, MAIL_VERIFY_EMAIL, l->language, l->email, vars, 3};
		rc = outbox_enqueue(t, &m);
	}
	if (expires != NULL)
		*expires = until;
	/* the token is the proof of the mailbox: only its hash is kept */
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	return rc;
}

/* What a provider whose record holds a legal profile enrols with instead
 * of legal and contact, into *basis. Returns 1 when the actor's tenant is
 * such a provider, 0 when it is not, -1 when t failed. */
static int provider_basis_read(struct txn *t, const struct actor *a, struct provider_basis *basis)
{
	struct db_arg b[] = {db_text(a->id), db_text(a->tenant_id)};
	switch (db_one(t, &enrollment_provider_basis, b, basis)) {
	case DB_OK: break;
	case DB_EMPTY: return 0;
	default: return -1;
	}
	/* its contact is the global admin that enrols, reached at the
	 * record's number */
	memcpy(basis->contact.phone_number, basis->legal.phone_number,
	       sizeof basis->contact.phone_number);
	snprintf(basis->contact.language, sizeof basis->contact.language, "en");
	return 1;
}

int enrollment_submit(struct txn *t, const struct actor *a, const struct legal_profile *legal,
		      const struct primary_contact *contact, const struct support_profile *support,
		      const struct enrollment_links *links, struct enrollment *out,
		      struct problem *p)
{
	struct provider_basis basis;
	struct locked l;
	micros_t at = time_micros();
	unsigned long long granted = 0;
	int provider = 0;
	enum db_status rc;
	if (legal == NULL || contact == NULL) {
		/* the support profile alone, or everything: half of it leaves an
		 * unverified contact or a profile the record would override */
		if (legal == NULL && contact == NULL &&
		    (provider = provider_basis_read(t, a, &basis)) < 0)
			return -1;
		if (!provider) {
			/* only an indirect provider with a legal profile may leave these out */
			if (legal == NULL)
				problem_add_field(p, "legalBusinessProfile", "required",
						  "is required");
			if (contact == NULL)
				problem_add_field(p, "primaryContact", "required", "is required");
			return -1;
		}
		legal = &basis.legal;
		contact = &basis.contact;
	}
	if (csp_country_in_program(t, legal->country, p) != 0)
		return -1;
	/* F7: verifying the contact's mailbox shows that it is the company's
	 * only when the mailbox is at the company's domain (or below it): the
	 * work account's, or one the operator verified for the tenant */
	if (!provider) {
		char domain[254];
		bool at_domain;
		if (tenant_contact_domain_ok(t, a->tenant_id, contact->email, &at_domain, domain) !=
		    DB_OK)
			return -1;
		if (!at_domain) {
			snprintf(p->code, sizeof p->code, "contact_not_at_domain");
			return problem_set(p, PROBLEM_RULE_REFUSED,
					   "the primary contact's address must be at the work "
					   "account's domain %s, a domain the operator verified "
					   "for it, or a domain below one of them",
					   domain);
		}
	}
	memset(&l, 0, sizeof l);
	uuid_v7(l.id);
	snprintf(l.tenant_id, sizeof l.tenant_id, "%s", a->tenant_id);
	memcpy(l.first_name, contact->first_name, sizeof l.first_name);
	memcpy(l.email, contact->email, sizeof l.email);
	memcpy(l.language, contact->language, sizeof l.language);
	memcpy(l.company_name, legal->company_name, sizeof l.company_name);
	/* a provider's contact is its global admin, whose mailbox its
	 * sign-up proved: its enrolment goes to review at once */
	struct db_arg e[] = {db_text(l.id),
			     db_text(a->tenant_id),
			     db_text(provider ? "in_review" : "pending_email_verification"),
			     db_text(contact->first_name),
			     db_text(contact->last_name),
			     db_text(contact->email),
			     db_text(contact->phone_number),
			     db_text(contact->language),
			     provider ? db_time(at) : db_null(),
			     db_text(a->id),
			     db_time(at),
			     db_time(at)};
	rc = db_exec(t, &enrollment_insert, e, NULL);
	if (rc == DB_DUPLICATE) {
		snprintf(p->code, sizeof p->code, "already_enrolled");
		return problem_set(p, PROBLEM_CONFLICT,
				   "this work account has enrolled already (GET /v1/enrollment)");
	}
	if (rc != DB_OK)
		return -1;
	/* a provider's legal profile and CSP country are its record's already */
	if (!provider) {
		rc = legal_profile_insert(t, a->tenant_id, legal, at);
		if (rc == DB_DUPLICATE) {
			snprintf(p->code, sizeof p->code, "legal_profile_exists");
			return problem_set(p, PROBLEM_CONFLICT,
					   "the work account has a legal profile already (its "
					   "provider record's); enrol with the support profile "
					   "alone");
		}
		if (rc != DB_OK || tenant_set_csp_country(t, a->tenant_id, legal->country) != DB_OK)
			return -1;
	}
	/* SPEC §1: an enrolling global admin is put in the admin agent group */
	if (support_profile_insert(t, a->tenant_id, support, at) != DB_OK ||
	    user_grant_role(t, a->id, ROLE_ADMIN_AGENT, at, &granted) != DB_OK)
		return -1;
	if (granted > 0 &&
	    audit_record(t, a, "user.roles.grant_admin_agent", "user", a->id, at) != DB_OK)
		return -1;
	struct locked fresh = l;
	fresh.status[0] = '\0'; /* the first transition comes from nothing */
	if (provider)
		rc = transition_write(t, a, &fresh, "in_review", "already enrolled in CSP",
				      MAIL_ENROLLMENT_IN_REVIEW, at, NULL);
	else if ((rc = transition_write(t, a, &fresh, "pending_email_verification", NULL,
					MAIL_TEMPLATE__COUNT, at, NULL)) == DB_OK)
		rc = verification_issue(t, &l, false, links, at, NULL);
	if (rc != DB_OK)
		return -1;
	return view_get(t, &enrollment_by_id, l.id, out, p);
}

static int link_invalid(struct problem *p)
{
	/* one answer for every reason, so the answer tells nothing of
	 * which tokens exist */
	snprintf(p->code, sizeof p->code, "verification_link_invalid");
	return problem_set(p, PROBLEM_NOT_FOUND,
			   "this verification link is not valid: it may have been used, replaced "
			   "by a newer one, or expired; a global admin can ask for a new one");
}

int enrollment_verify_email(struct txn *t, const char *token, const char *request_id,
			    const char *client_addr, struct enrollment *out, struct problem *p)
{
	struct verification_target target;
	struct verification_row v;
	struct locked l;
	char hash[65];
	micros_t now = time_micros();
	api_token_hash(token, hash);
	struct db_arg h[] = {db_text(hash)};
	switch (db_one(t, &enrollment_verification_find, h, &target)) {
	case DB_OK: break;
	case DB_EMPTY: return link_invalid(p);
	default: return -1;
	}
	struct db_arg e[] = {db_text(target.enrollment_id)};
	switch (db_one(t, &enrollment_lock_id, e, &l)) {
	case DB_OK: break;
	case DB_EMPTY: return link_invalid(p);
	default: return -1;
	}
	struct db_arg k[] = {db_time(now), db_text(hash)};
	switch (db_one(t, &enrollment_verification_lock, k, &v)) {
	case DB_OK: break;
	case DB_EMPTY: return link_invalid(p);
	default: return -1;
	}
	if (strcmp(l.status, "pending_email_verification") != 0 || v.expired || v.spent)
		return link_invalid(p);
	struct db_arg u[] = {db_time(now), db_text(v.id)};
	struct db_arg s[] = {db_time(now), db_time(now), db_text(l.id)};
	/* the token is the proof: the change has no user behind it */
	struct actor anon = {"anonymous", NULL, l.tenant_id, request_id,
			     client_addr, 0,	NULL,	     NULL};
	if (db_exec(t, &enrollment_verification_use, u, NULL) != DB_OK ||
	    db_exec(t, &enrollment_set_verified, s, NULL) != DB_OK ||
	    transition_write(t, &anon, &l, "in_review", NULL, MAIL_ENROLLMENT_IN_REVIEW, now,
			     NULL) != DB_OK)
		return -1;
	return view_get(t, &enrollment_by_id, l.id, out, p);
}

int enrollment_resend_verification(struct txn *t, const struct actor *a,
				   const struct enrollment_links *links, char expires_at[TIME_STR],
				   struct problem *p)
{
	struct locked l;
	struct resends_row sent;
	micros_t now = time_micros(), until = 0;
	struct db_arg k[] = {db_text(a->tenant_id)};
	expires_at[0] = '\0';
	switch (db_one(t, &enrollment_lock_tenant, k, &l)) {
	case DB_OK: break;
	case DB_EMPTY: return not_enrolled(p);
	default: return -1;
	}
	if (strcmp(l.status, "pending_email_verification") != 0) {
		snprintf(p->code, sizeof p->code, "already_verified");
		return problem_set(p, PROBLEM_CONFLICT,
				   "the primary contact is verified already; the enrolment is %s",
				   l.status);
	}
	struct db_arg c[] = {db_time(now), db_text(l.id), db_time(now - DAY_MICROS)};
	if (db_one(t, &enrollment_verification_resends, c, &sent) != DB_OK)
		return -1;
	if (sent.n >= ENROLLMENT_RESENDS_PER_DAY) {
		snprintf(p->code, sizeof p->code, "resend_limit");
		p->retry_after = sent.wait > 0 ? (int)sent.wait : 1;
		return problem_set(
		    p, PROBLEM_TOO_MANY_REQUESTS,
		    "the verification mail was sent again %d times in 24 hours; try later",
		    ENROLLMENT_RESENDS_PER_DAY);
	}
	struct db_arg r[] = {db_time(now), db_text(l.id)};
	if (db_exec(t, &enrollment_verification_replace, r, NULL) != DB_OK ||
	    verification_issue(t, &l, true, links, now, &until) != DB_OK ||
	    audit_record(t, a, "enrollment.verification_resend", "enrollment", l.id, now) != DB_OK)
		return -1;
	time_api(until, expires_at);
	return 0;
}

static const struct {
	const char *to;
	enum mail_template mail;
} decisions[] = {
    [DECISION_APPROVE] = {"approved", MAIL_ENROLLMENT_APPROVED},
    [DECISION_REJECT] = {"rejected", MAIL_ENROLLMENT_REJECTED},
    [DECISION_REQUEST_INFO] = {"more_info_requested", MAIL_ENROLLMENT_MORE_INFO},
};

int enrollment_decide(struct txn *t, const struct actor *operator_, const char *enrollment_id,
		      enum enrollment_decision d, const char *reason,
		      struct enrollment_transition *out, struct problem *p)
{
	struct locked l;
	micros_t now = time_micros();
	const char *to = decisions[d].to;
	struct db_arg k[] = {db_text(enrollment_id)};
	memset(out, 0, sizeof *out);
	switch (db_one(t, &enrollment_lock_id, k, &l)) {
	case DB_OK: break;
	case DB_EMPTY: return problem_set(p, PROBLEM_NOT_FOUND, "no enrolment with this id");
	default: return -1;
	}
	/* SPEC §3: only an enrolment in review is decided */
	if (strcmp(l.status, "in_review") != 0) {
		snprintf(p->code, sizeof p->code, "invalid_transition");
		return problem_set(
		    p, PROBLEM_CONFLICT,
		    "the enrolment is %s; only an enrolment in_review can be decided", l.status);
	}
	struct db_arg s[] = {db_text(to), db_time(now), db_text(l.id), db_text("in_review")};
	if (db_exec(t, &enrollment_set_status, s, NULL) != DB_OK ||
	    (d == DECISION_APPROVE &&
	     tenant_add_partner_type(t, l.tenant_id, PARTNER_INDIRECT_RESELLER) != DB_OK) ||
	    transition_write(t, operator_, &l, to, reason, decisions[d].mail, now, out->id) !=
		DB_OK)
		return -1;
	/* the operator's own tenant keeps its record of the decision too */
	if (audit_record(t, operator_, "enrollment.decide", "enrollment", l.id, now) != DB_OK)
		return -1;
	memcpy(out->enrollment_id, l.id, sizeof out->enrollment_id);
	memcpy(out->tenant_id, l.tenant_id, sizeof out->tenant_id);
	memcpy(out->from_status, l.status, sizeof out->from_status);
	snprintf(out->to_status, sizeof out->to_status, "%s", to);
	time_api(now, out->created_at);
	return 0;
}

enum db_status enrollment_profile_updated(struct txn *t, const struct actor *a,
					  const char *tenant_id, micros_t at)
{
	struct locked l;
	struct db_arg k[] = {db_text(tenant_id)};
	enum db_status rc = db_one(t, &enrollment_lock_tenant, k, &l);
	if (rc == DB_EMPTY)
		return DB_OK;
	if (rc != DB_OK || strcmp(l.status, "more_info_requested") != 0)
		return rc;
	struct db_arg s[] = {db_text("in_review"), db_time(at), db_text(l.id),
			     db_text("more_info_requested")};
	if ((rc = db_exec(t, &enrollment_set_status, s, NULL)) != DB_OK)
		return rc;
	return transition_write(t, a, &l, "in_review", "the partner updated its profile",
				MAIL_ENROLLMENT_IN_REVIEW, at, NULL);
}
