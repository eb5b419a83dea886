#include "domain/enrollment.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"
#include "domain/agreement.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a verification link lives 72 hours (SPEC §3) */
#define VERIFY_TTL_SECONDS (72 * 3600)

const struct db_stmt_def stmt_enrollment_insert = {
    STMT_enrollment_insert, "enrollment_insert",
    "INSERT INTO enrollments (id, tenant_id, status, contact_first_name, contact_last_name, "
    "contact_email, contact_phone, contact_language, email_verified_at, created_by, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    12, 0};

/* A provider's own record (its legal profile, given at onboarding) and the
 * enrolling global admin: what a provider that enrols as a reseller gives
 * no more ("already enrolled in CSP"). */
const struct db_stmt_def stmt_provider_enrolment_basis = {
    STMT_provider_enrolment_basis, "provider_enrolment_basis",
    "SELECT l.company_name, l.country, l.phone_number, u.first_name, u.last_name, u.email "
    "FROM providers p JOIN legal_profiles l ON l.tenant_id = p.tenant_id "
    "JOIN users u ON u.id = ? AND u.tenant_id = p.tenant_id WHERE p.tenant_id = ?",
    2, 6};

const struct db_stmt_def stmt_legal_insert = {
    STMT_legal_insert, "legal_insert",
    "INSERT INTO legal_profiles (tenant_id, company_name, address_line1, address_line2, city, "
    "state, postal_code, country, phone_number, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    10, 0};

const struct db_stmt_def stmt_support_insert = {
    STMT_support_insert, "support_insert",
    "INSERT INTO support_profiles (tenant_id, email, telephone, website, updated_at) "
    "VALUES (?, ?, ?, ?, ?)",
    5, 0};

const struct db_stmt_def stmt_tenant_set_csp_country = {
    STMT_tenant_set_csp_country, "tenant_set_csp_country",
    "UPDATE tenants SET csp_country = ?, version = version + 1 WHERE id = ?", 2, 0};

const struct db_stmt_def stmt_country_region = {STMT_country_region, "country_region",
						"SELECT region_code FROM countries WHERE code = ?",
						1, 1};

const struct db_stmt_def stmt_transition_insert = {
    STMT_transition_insert, "transition_insert",
    "INSERT INTO enrollment_transitions (id, enrollment_id, from_status, to_status, actor_type, "
    "actor_id, reason, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    9, 0};

const struct db_stmt_def stmt_verification_insert = {
    STMT_verification_insert, "verification_insert",
    "INSERT INTO email_verifications (id, enrollment_id, token_hash, is_resend, created_at, "
    "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    6, 0};

const struct db_stmt_def stmt_verification_by_hash = {
    STMT_verification_by_hash, "verification_by_hash",
    "SELECT v.id, v.enrollment_id, v.expires_at <= ?, "
    "v.used_at IS NOT NULL OR v.replaced_at IS NOT NULL "
    "FROM email_verifications v WHERE v.token_hash = ? FOR UPDATE",
    2, 4};

/* which enrolment a token is of, without a lock: the enrolment is locked
 * first, then the token (the order of resend, and of every change) */
const struct db_stmt_def stmt_verification_find = {
    STMT_verification_find, "verification_find",
    "SELECT enrollment_id FROM email_verifications WHERE token_hash = ?", 1, 1};

const struct db_stmt_def stmt_verification_use = {
    STMT_verification_use, "verification_use",
    "UPDATE email_verifications SET used_at = ? WHERE id = ?", 2, 0};

const struct db_stmt_def stmt_verification_resends = {
    STMT_verification_resends, "verification_resends",
    "SELECT COUNT(*), TIMESTAMPDIFF(SECOND, ?, MIN(created_at) + INTERVAL 1 DAY) "
    "FROM email_verifications WHERE enrollment_id = ? AND is_resend = 1 AND created_at > ?",
    3, 2};

const struct db_stmt_def stmt_verification_replace = {
    STMT_verification_replace, "verification_replace",
    "UPDATE email_verifications SET replaced_at = ? "
    "WHERE enrollment_id = ? AND used_at IS NULL AND replaced_at IS NULL",
    2, 0};

const struct db_stmt_def stmt_enrollment_set_status = {
    STMT_enrollment_set_status, "enrollment_set_status",
    "UPDATE enrollments SET status = ?, updated_at = ? WHERE id = ? AND status = ?", 4, 0};

/* a membership of the programme, on the tenant's row (sql/0010) */
const struct db_stmt_def stmt_tenant_add_partner_type = {
    STMT_tenant_add_partner_type, "tenant_add_partner_type",
    "UPDATE tenants SET partner_types = CONCAT_WS(',', NULLIF(partner_types, ''), ?) "
    "WHERE id = ? AND NOT FIND_IN_SET(?, partner_types)",
    3, 0};

const struct db_stmt_def stmt_enrollment_set_verified = {
    STMT_enrollment_set_verified, "enrollment_set_verified",
    "UPDATE enrollments SET status = 'in_review', email_verified_at = ?, updated_at = ? "
    "WHERE id = ? AND status = 'pending_email_verification'",
    3, 0};

/* The row a change of status locks, with what its mail needs. */
#define LOCK_COLUMNS                                                                               \
	"e.id, e.tenant_id, e.status, e.contact_first_name, e.contact_email, e.contact_language, " \
	"l.company_name FROM enrollments e JOIN legal_profiles l ON l.tenant_id = e.tenant_id "

const struct db_stmt_def stmt_enrollment_lock_tenant = {
    STMT_enrollment_lock_tenant, "enrollment_lock_tenant",
    "SELECT " LOCK_COLUMNS "WHERE e.tenant_id = ? FOR UPDATE", 1, 7};

const struct db_stmt_def stmt_enrollment_lock_id = {
    STMT_enrollment_lock_id, "enrollment_lock_id",
    "SELECT " LOCK_COLUMNS "WHERE e.id = ? FOR UPDATE", 1, 7};

const struct db_stmt_def stmt_user_grant_admin_agent = {
    STMT_user_grant_admin_agent, "user_grant_admin_agent",
    "UPDATE users SET roles = CONCAT_WS(',', NULLIF(roles, ''), 'admin_agent'), "
    "version = version + 1, updated_at = ? WHERE id = ? AND NOT FIND_IN_SET('admin_agent', roles)",
    2, 0};

#define VIEW_COLUMNS                                                                               \
	"e.id, e.tenant_id, t.domain, l.company_name, e.status, t.csp_country, c.region_code, "    \
	"e.email_verified_at, e.created_at, e.updated_at, e.contact_first_name, "                  \
	"e.contact_last_name, e.contact_email, e.contact_phone, e.contact_language, "              \
	"m.mpn_id IS NOT NULL, FIND_IN_SET('admin_agent', u.roles) > 0, cur.version, "             \
	"acc.accepted_at, acc.user_id, EXISTS (SELECT 1 FROM relationships r WHERE "               \
	"r.reseller_tenant_id = e.tenant_id AND r.state = 'active') "                              \
	"FROM enrollments e JOIN tenants t ON t.id = e.tenant_id "                                 \
	"LEFT JOIN legal_profiles l ON l.tenant_id = e.tenant_id "                                 \
	"LEFT JOIN countries c ON c.code = t.csp_country "                                         \
	"LEFT JOIN mpn_associations m ON m.tenant_id = e.tenant_id "                               \
	"LEFT JOIN users u ON u.id = e.created_by "                                                \
	"LEFT JOIN agreement_templates cur ON cur.id = " AGREEMENT_CURRENT_SQL " "                 \
	"LEFT JOIN agreement_acceptances acc ON acc.tenant_id = e.tenant_id "                      \
	"AND acc.template_id = cur.id "
#define VIEW_N 21

const struct db_stmt_def stmt_enrollment_by_tenant = {
    STMT_enrollment_by_tenant, "enrollment_by_tenant",
    "SELECT " VIEW_COLUMNS "WHERE e.tenant_id = ?", 1, VIEW_N};

const struct db_stmt_def stmt_enrollment_by_id = {
    STMT_enrollment_by_id, "enrollment_by_id", "SELECT " VIEW_COLUMNS "WHERE e.id = ?", 1, VIEW_N};

const struct db_stmt_def stmt_enrollment_list = {
    STMT_enrollment_list, "enrollment_list",
    "SELECT " VIEW_COLUMNS "WHERE e.status = ? AND (? = '' OR e.id > ?) ORDER BY e.id LIMIT ?", 4,
    VIEW_N};

const struct db_stmt_def stmt_enrollment_count = {
    STMT_enrollment_count, "enrollment_count", "SELECT COUNT(*) FROM enrollments WHERE status = ?",
    1, 1};

/* every status: the key is the word 'all' */
const struct db_stmt_def stmt_enrollment_list_all = {
    STMT_enrollment_list_all, "enrollment_list_all",
    "SELECT " VIEW_COLUMNS "WHERE ? = 'all' AND (? = '' OR e.id > ?) ORDER BY e.id LIMIT ?", 4,
    VIEW_N};

const struct db_stmt_def stmt_enrollment_count_all = {
    STMT_enrollment_count_all, "enrollment_count_all",
    "SELECT COUNT(*) FROM enrollments WHERE ? = 'all'", 1, 1};

static const char *const statuses[] = {"pending_email_verification", "in_review",
				       "more_info_requested", "approved", "rejected"};

bool enrollment_status_valid(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(statuses[i], s) == 0)
			return true;
	return false;
}

static void view_read(const struct db_rows *rows, size_t i, void *item)
{
	struct enrollment *e = item;
	char t[TIME_STR];
	memset(e, 0, sizeof *e);
	db_cell_copy(rows, i, 0, e->id, sizeof e->id);
	db_cell_copy(rows, i, 1, e->tenant_id, sizeof e->tenant_id);
	db_cell_copy(rows, i, 2, e->tenant_domain, sizeof e->tenant_domain);
	db_cell_copy(rows, i, 3, e->company_name, sizeof e->company_name);
	db_cell_copy(rows, i, 4, e->status, sizeof e->status);
	db_cell_copy(rows, i, 5, e->csp_country, sizeof e->csp_country);
	db_cell_copy(rows, i, 6, e->csp_region, sizeof e->csp_region);
	if (db_cell(rows, i, 7) != NULL)
		time_sql_to_api(db_cell(rows, i, 7), e->email_verified_at);
	db_cell_copy(rows, i, 8, t, sizeof t);
	time_sql_to_api(t, e->created_at);
	db_cell_copy(rows, i, 9, t, sizeof t);
	time_sql_to_api(t, e->updated_at);
	db_cell_copy(rows, i, 10, e->contact.first_name, sizeof e->contact.first_name);
	db_cell_copy(rows, i, 11, e->contact.last_name, sizeof e->contact.last_name);
	db_cell_copy(rows, i, 12, e->contact.email, sizeof e->contact.email);
	db_cell_copy(rows, i, 13, e->contact.phone_number, sizeof e->contact.phone_number);
	db_cell_copy(rows, i, 14, e->contact.language, sizeof e->contact.language);
	e->mpn_associated = db_cell(rows, i, 15) && strcmp(db_cell(rows, i, 15), "1") == 0;
	e->admin_agent_assigned = db_cell(rows, i, 16) && strcmp(db_cell(rows, i, 16), "1") == 0;
	if (db_cell(rows, i, 18) != NULL) {
		db_cell_copy(rows, i, 17, e->agreement_version, sizeof e->agreement_version);
		time_sql_to_api(db_cell(rows, i, 18), e->agreement_signed_at);
		db_cell_copy(rows, i, 19, e->agreement_signed_by, sizeof e->agreement_signed_by);
	}
	e->provider_authorized = db_cell(rows, i, 20) && strcmp(db_cell(rows, i, 20), "1") == 0;
}

static enum db_status not_enrolled(struct problem *p)
{
	problem_set(p, PROBLEM_NOT_FOUND,
		    "this work account has not enrolled as an indirect reseller; "
		    "POST /v1/enrollments first");
	snprintf(p->code, sizeof p->code, "not_enrolled");
	return DB_REFUSED;
}

struct view_work {
	enum stmt_id stmt;
	const char *key;
	struct enrollment *out;
};

static enum db_status view_run(struct db *db, void *arg, struct problem *p)
{
	struct view_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(w->key)};
	enum db_status rc = legacy_exec(db, w->stmt, a, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0)
		rc = not_enrolled(p);
	else if (rc == DB_OK)
		view_read(&rows, 0, w->out);
	db_rows_free(&rows);
	return rc;
}

int enrollment_get(struct db *db, const char *tenant_id, struct enrollment *out, struct problem *p)
{
	struct view_work w = {STMT_enrollment_by_tenant, tenant_id, out};
	return db_read(db, view_run, &w, p);
}

/* The row of a change of status, locked. */
struct locked {
	char id[UUID_STR], tenant_id[UUID_STR], status[32], first_name[101], email[255],
	    language[3], company_name[201];
};

static enum db_status lock_enrollment(struct db *db, enum stmt_id stmt, const char *key,
				      struct locked *l, bool *found)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg a[] = {db_str(key)};
	enum db_status rc = legacy_exec(db, stmt, a, &rows, NULL);
	*found = rc == DB_OK && rows.n_rows > 0;
	if (*found) {
		db_cell_copy(&rows, 0, 0, l->id, sizeof l->id);
		db_cell_copy(&rows, 0, 1, l->tenant_id, sizeof l->tenant_id);
		db_cell_copy(&rows, 0, 2, l->status, sizeof l->status);
		db_cell_copy(&rows, 0, 3, l->first_name, sizeof l->first_name);
		db_cell_copy(&rows, 0, 4, l->email, sizeof l->email);
		db_cell_copy(&rows, 0, 5, l->language, sizeof l->language);
		db_cell_copy(&rows, 0, 6, l->company_name, sizeof l->company_name);
	}
	db_rows_free(&rows);
	return rc;
}

/* A change of status: the transition row, the audit event in the
 * enrolment's tenant, and the primary contact's mail (none when mail is
 * MAIL_TEMPLATE__COUNT). */
static enum db_status transition_write(struct db *db, const struct actor *a, const struct locked *l,
				       const char *to, const char *reason, enum mail_template mail,
				       const char *at, char id_out[UUID_STR])
{
	char id[UUID_STR];
	uuid_v7(id);
	struct db_arg t[] = {
	    db_str(id),	    db_str(l->id),	   db_str(l->status[0] ? l->status : NULL),
	    db_str(to),	    db_str(a->type),	   db_str(a->id),
	    db_str(reason), db_str(a->request_id), db_str(at)};
	enum db_status rc = legacy_exec(db, STMT_transition_insert, t, NULL, NULL);
	if (rc != DB_OK)
		return rc;
	if (id_out != NULL)
		memcpy(id_out, id, UUID_STR);
	char action[64];
	snprintf(action, sizeof action, "enrollment.%s", to);
	rc = legacy_audit_record_in(db, a, l->tenant_id, action, "enrollment", l->id, at);
	if (rc != DB_OK || mail == MAIL_TEMPLATE__COUNT)
		return rc;
	struct mail_var vars[] = {{"first_name", l->first_name},
				  {"company_name", l->company_name},
				  {"reason", reason ? reason : ""}};
	struct outbox_mail m = {l->tenant_id, mail, l->language, l->email, vars, 3};
	return legacy_outbox_enqueue(db, &m);
}

/* A fresh verification token for the enrolment and its mail. */
static enum db_status verification_issue(struct db *db, const struct locked *l, bool resend,
					 const struct enrollment_links *links, const char *at,
					 char expires_at[TIME_STR])
{
	char token[LINK_TOKEN_LEN + 1], hash[65], id[UUID_STR], until[TIME_STR], link[512];
	link_token_generate(token, hash);
	uuid_v7(id);
	time_sql_after(VERIFY_TTL_SECONDS, until);
	struct db_arg v[] = {db_str(id),     db_str(l->id), db_str(hash),
			     db_int(resend), db_str(at),    db_str(until)};
	enum db_status rc = legacy_exec(db, STMT_verification_insert, v, NULL, NULL);
	if (rc == DB_OK) {
		snprintf(link, sizeof link, "%s/verify-email?token=%s", links->public_base_url,
			 token);
		struct mail_var vars[] = {{"first_name", l->first_name},
					  {"company_name", l->company_name},
					  {"link", link}};
		struct outbox_mail m = {
		    l->tenant_id, MAIL_VERIFY_EMAIL, l->language, l->email, vars, 3};
		rc = legacy_outbox_enqueue(db, &m);
	}
	if (expires_at != NULL)
		time_sql_to_api(until, expires_at);
	sodium_memzero(token, sizeof token);
	return rc;
}

struct submit_work {
	const struct actor *a;
	const struct legal_profile *legal;
	const struct primary_contact *contact;
	const struct support_profile *support;
	const struct enrollment_links *links;
	struct enrollment *out;
};

static enum db_status country_in_program(struct db *db, const char *country, struct problem *p)
{
	struct db_rows rows = {0, 0, NULL};
	struct db_arg c[] = {db_str(country)};
	enum db_status rc = legacy_exec(db, STMT_country_region, c, &rows, NULL);
	if (rc == DB_OK && rows.n_rows == 0) {
		problem_set(p, PROBLEM_RULE_REFUSED,
			    "country %s is not in the programme's CSP regions (GET /v1/regions)",
			    country);
		snprintf(p->code, sizeof p->code, "country_not_in_program");
		rc = DB_REFUSED;
	}
	db_rows_free(&rows);
	return rc;
}

static enum db_status submit_run(struct db *db, void *arg, struct problem *p)
{
	struct submit_work *w = arg;
	const struct actor *a = w->a;
	const struct legal_profile *lp = w->legal;
	const struct primary_contact *pc = w->contact;
	const struct support_profile *sp = w->support;
	struct legal_profile provider_legal;
	struct primary_contact provider_contact;
	struct db_rows rows = {0, 0, NULL};
	struct locked l;
	char at[TIME_STR];
	unsigned long long granted = 0;
	bool provider = false;
	enum db_status rc = DB_OK;
	if (lp == NULL || pc == NULL) {
		/* the support profile alone, or everything: half of it leaves an
		 * unverified contact or a profile the record would override */
		struct db_arg b[] = {db_str(a->id), db_str(a->tenant_id)};
		if (lp == NULL && pc == NULL)
			rc = legacy_exec(db, STMT_provider_enrolment_basis, b, &rows, NULL);
		provider = rc == DB_OK && rows.n_rows > 0;
		if (provider) {
			memset(&provider_legal, 0, sizeof provider_legal);
			memset(&provider_contact, 0, sizeof provider_contact);
			db_cell_copy(&rows, 0, 0, provider_legal.company_name,
				     sizeof provider_legal.company_name);
			db_cell_copy(&rows, 0, 1, provider_legal.country,
				     sizeof provider_legal.country);
			db_cell_copy(&rows, 0, 2, provider_legal.phone_number,
				     sizeof provider_legal.phone_number);
			db_cell_copy(&rows, 0, 3, provider_contact.first_name,
				     sizeof provider_contact.first_name);
			db_cell_copy(&rows, 0, 4, provider_contact.last_name,
				     sizeof provider_contact.last_name);
			db_cell_copy(&rows, 0, 5, provider_contact.email,
				     sizeof provider_contact.email);
			snprintf(provider_contact.phone_number,
				 sizeof provider_contact.phone_number, "%s",
				 provider_legal.phone_number);
			snprintf(provider_contact.language, sizeof provider_contact.language, "en");
			lp = lp ? lp : &provider_legal;
			pc = pc ? pc : &provider_contact;
		}
		db_rows_free(&rows);
		if (rc != DB_OK)
			return rc;
		if (!provider) {
			/* only an indirect provider with a legal profile may leave these out */
			if (w->legal == NULL)
				problem_add_field(p, "legalBusinessProfile", "required",
						  "is required");
			if (w->contact == NULL)
				problem_add_field(p, "primaryContact", "required", "is required");
			return DB_REFUSED;
		}
	}
	if ((rc = country_in_program(db, lp->country, p)) != DB_OK)
		return rc;
	time_now(at, NULL);
	memset(&l, 0, sizeof l);
	uuid_v7(l.id);
	snprintf(l.tenant_id, sizeof l.tenant_id, "%s", a->tenant_id);
	snprintf(l.first_name, sizeof l.first_name, "%s", pc->first_name);
	snprintf(l.email, sizeof l.email, "%s", pc->email);
	snprintf(l.language, sizeof l.language, "%s", pc->language);
	snprintf(l.company_name, sizeof l.company_name, "%s", lp->company_name);
	/* a provider's contact is its global admin, whose mailbox its
	 * sign-up proved: its enrolment goes to review at once */
	const char *status = provider ? "in_review" : "pending_email_verification";
	struct db_arg e[] = {db_str(l.id),
			     db_str(a->tenant_id),
			     db_str(status),
			     db_str(pc->first_name),
			     db_str(pc->last_name),
			     db_str(pc->email),
			     db_str(pc->phone_number),
			     db_str(pc->language),
			     db_str(provider ? at : NULL),
			     db_str(a->id),
			     db_str(at),
			     db_str(at)};
	rc = legacy_exec(db, STMT_enrollment_insert, e, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		problem_set(p, PROBLEM_CONFLICT,
			    "this work account has enrolled already (GET /v1/enrollment)");
		snprintf(p->code, sizeof p->code, "already_enrolled");
		return DB_REFUSED;
	}
	if (rc != DB_OK)
		return rc;
	struct db_arg lg[] = {
	    db_str(a->tenant_id),      db_str(lp->company_name),
	    db_str(lp->address_line1), db_str(lp->address_line2[0] ? lp->address_line2 : NULL),
	    db_str(lp->city),	       db_str(lp->state[0] ? lp->state : NULL),
	    db_str(lp->postal_code),   db_str(lp->country),
	    db_str(lp->phone_number),  db_str(at)};
	struct db_arg sg[] = {db_str(a->tenant_id), db_str(sp->email), db_str(sp->telephone),
			      db_str(sp->website), db_str(at)};
	struct db_arg tc[] = {db_str(lp->country), db_str(a->tenant_id)};
	struct db_arg ga[] = {db_str(at), db_str(a->id)};
	/* a provider's legal profile and CSP country are its record's already */
	if ((!provider &&
	     ((rc = legacy_exec(db, STMT_legal_insert, lg, NULL, NULL)) != DB_OK ||
	      (rc = legacy_exec(db, STMT_tenant_set_csp_country, tc, NULL, NULL)) != DB_OK)) ||
	    (rc = legacy_exec(db, STMT_support_insert, sg, NULL, NULL)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_user_grant_admin_agent, ga, NULL, &granted)) != DB_OK)
		return rc;
	/* SPEC §1: an enrolling global admin is put in the admin agent group */
	if (granted > 0 &&
	    (rc = legacy_audit_record(db, a, "user.roles.grant_admin_agent", "user", a->id, at)) != DB_OK)
		return rc;
	struct locked fresh = l;
	fresh.status[0] = '\0'; /* the first transition comes from nothing */
	if (provider)
		rc = transition_write(db, a, &fresh, "in_review", "already enrolled in CSP",
				      MAIL_ENROLLMENT_IN_REVIEW, at, NULL);
	else if ((rc = transition_write(db, a, &fresh, "pending_email_verification", NULL,
					MAIL_TEMPLATE__COUNT, at, NULL)) == DB_OK)
		rc = verification_issue(db, &l, false, w->links, at, NULL);
	if (rc != DB_OK)
		return rc;
	struct view_work v = {STMT_enrollment_by_id, l.id, w->out};
	return view_run(db, &v, p);
}

int enrollment_submit(struct db *db, const struct actor *a, const struct legal_profile *legal,
		      const struct primary_contact *contact, const struct support_profile *support,
		      const struct enrollment_links *links, struct enrollment *out,
		      struct problem *p)
{
	struct submit_work w = {a, legal, contact, support, links, out};
	return db_run(db, submit_run, &w, p);
}

struct verify_work {
	const char *hash, *request_id, *client_addr;
	struct enrollment *out;
};

static enum db_status link_invalid(struct problem *p)
{
	/* one answer for every reason, so the answer tells nothing of
	 * which tokens exist */
	problem_set(p, PROBLEM_NOT_FOUND,
		    "this verification link is not valid: it may have been used, replaced by a "
		    "newer one, or expired; a global admin can ask for a new one");
	snprintf(p->code, sizeof p->code, "verification_link_invalid");
	return DB_REFUSED;
}

static enum db_status verify_run(struct db *db, void *arg, struct problem *p)
{
	struct verify_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct locked l;
	char now[TIME_STR], vid[UUID_STR], eid[UUID_STR];
	bool found;
	time_now(now, NULL);
	struct db_arg h[] = {db_str(w->hash)};
	enum db_status rc = legacy_exec(db, STMT_verification_find, h, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = link_invalid(p);
		goto out;
	}
	db_cell_copy(&rows, 0, 0, eid, sizeof eid);
	db_rows_free(&rows);
	rc = lock_enrollment(db, STMT_enrollment_lock_id, eid, &l, &found);
	if (rc != DB_OK)
		goto out;
	struct db_arg a[] = {db_str(now), db_str(w->hash)};
	rc = legacy_exec(db, STMT_verification_by_hash, a, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (!found || strcmp(l.status, "pending_email_verification") != 0 || rows.n_rows == 0 ||
	    strcmp(db_cell(&rows, 0, 2), "0") != 0 || strcmp(db_cell(&rows, 0, 3), "0") != 0) {
		rc = link_invalid(p);
		goto out;
	}
	db_cell_copy(&rows, 0, 0, vid, sizeof vid);
	struct db_arg u[] = {db_str(now), db_str(vid)};
	struct db_arg s[] = {db_str(now), db_str(now), db_str(eid)};
	/* the token is the proof: the change has no user behind it */
	struct actor anon = {"anonymous",    NULL, l.tenant_id, w->request_id,
			     w->client_addr, 0,	   NULL,	NULL};
	if ((rc = legacy_exec(db, STMT_verification_use, u, NULL, NULL)) != DB_OK ||
	    (rc = legacy_exec(db, STMT_enrollment_set_verified, s, NULL, NULL)) != DB_OK ||
	    (rc = transition_write(db, &anon, &l, "in_review", NULL, MAIL_ENROLLMENT_IN_REVIEW, now,
				   NULL)) != DB_OK)
		goto out;
	struct view_work v = {STMT_enrollment_by_id, eid, w->out};
	rc = view_run(db, &v, p);
out:
	db_rows_free(&rows);
	return rc;
}

int enrollment_verify_email(struct db *db, const char *token, const char *request_id,
			    const char *client_addr, struct enrollment *out, struct problem *p)
{
	char hash[65];
	api_token_hash(token, hash);
	struct verify_work w = {hash, request_id, client_addr, out};
	return db_run(db, verify_run, &w, p);
}

struct resend_work {
	const struct actor *a;
	const struct enrollment_links *links;
	char *expires_at;
};

static enum db_status resend_run(struct db *db, void *arg, struct problem *p)
{
	struct resend_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct locked l;
	char now[TIME_STR], day_ago[TIME_STR];
	bool found;
	enum db_status rc =
	    lock_enrollment(db, STMT_enrollment_lock_tenant, w->a->tenant_id, &l, &found);
	if (rc != DB_OK)
		goto out;
	if (!found) {
		rc = not_enrolled(p);
		goto out;
	}
	if (strcmp(l.status, "pending_email_verification") != 0) {
		problem_set(p, PROBLEM_CONFLICT,
			    "the primary contact is verified already; the enrolment is %s",
			    l.status);
		snprintf(p->code, sizeof p->code, "already_verified");
		rc = DB_REFUSED;
		goto out;
	}
	time_now(now, NULL);
	time_sql_after(-86400, day_ago);
	struct db_arg c[] = {db_str(now), db_str(l.id), db_str(day_ago)};
	rc = legacy_exec(db, STMT_verification_resends, c, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	if (atol(db_cell(&rows, 0, 0)) >= ENROLLMENT_RESENDS_PER_DAY) {
		long wait = db_cell(&rows, 0, 1) ? atol(db_cell(&rows, 0, 1)) : 1;
		problem_set(p, PROBLEM_TOO_MANY_REQUESTS,
			    "the verification mail was sent again %d times in 24 hours; try later",
			    ENROLLMENT_RESENDS_PER_DAY);
		snprintf(p->code, sizeof p->code, "resend_limit");
		p->retry_after = wait > 0 ? (int)wait : 1;
		rc = DB_REFUSED;
		goto out;
	}
	struct db_arg r[] = {db_str(now), db_str(l.id)};
	if ((rc = legacy_exec(db, STMT_verification_replace, r, NULL, NULL)) != DB_OK ||
	    (rc = verification_issue(db, &l, true, w->links, now, w->expires_at)) != DB_OK)
		goto out;
	rc = legacy_audit_record(db, w->a, "enrollment.verification_resend", "enrollment", l.id, now);
out:
	db_rows_free(&rows);
	return rc;
}

int enrollment_resend_verification(struct db *db, const struct actor *a,
				   const struct enrollment_links *links, char expires_at[TIME_STR],
				   struct problem *p)
{
	struct resend_work w = {a, links, expires_at};
	expires_at[0] = '\0';
	return db_run(db, resend_run, &w, p);
}

static const struct {
	const char *to;
	enum mail_template mail;
} decisions[] = {
    [DECISION_APPROVE] = {"approved", MAIL_ENROLLMENT_APPROVED},
    [DECISION_REJECT] = {"rejected", MAIL_ENROLLMENT_REJECTED},
    [DECISION_REQUEST_INFO] = {"more_info_requested", MAIL_ENROLLMENT_MORE_INFO},
};

struct decide_work {
	const struct actor *a;
	const char *id, *reason;
	enum enrollment_decision d;
	struct enrollment_transition *out;
};

static enum db_status decide_run(struct db *db, void *arg, struct problem *p)
{
	struct decide_work *w = arg;
	struct locked l;
	char now[TIME_STR];
	bool found;
	unsigned long long changed = 0;
	enum db_status rc = lock_enrollment(db, STMT_enrollment_lock_id, w->id, &l, &found);
	if (rc != DB_OK)
		return rc;
	if (!found) {
		problem_set(p, PROBLEM_NOT_FOUND, "no enrolment with this id");
		return DB_REFUSED;
	}
	/* SPEC §3: only an enrolment in review is decided */
	if (strcmp(l.status, "in_review") != 0) {
		problem_set(p, PROBLEM_CONFLICT,
			    "the enrolment is %s; only an enrolment in_review can be decided",
			    l.status);
		snprintf(p->code, sizeof p->code, "invalid_transition");
		return DB_REFUSED;
	}
	const char *to = decisions[w->d].to;
	time_now(now, NULL);
	struct db_arg s[] = {db_str(to), db_str(now), db_str(l.id), db_str("in_review")};
	if ((rc = legacy_exec(db, STMT_enrollment_set_status, s, NULL, &changed)) != DB_OK)
		return rc;
	struct db_arg pt[] = {db_str("indirect_reseller"), db_str(l.tenant_id),
			      db_str("indirect_reseller")};
	if (w->d == DECISION_APPROVE &&
	    (rc = legacy_exec(db, STMT_tenant_add_partner_type, pt, NULL, NULL)) != DB_OK)
		return rc;
	if ((rc = transition_write(db, w->a, &l, to, w->reason, decisions[w->d].mail, now,
				   w->out->id)) != DB_OK)
		return rc;
	/* the operator's own tenant keeps its record of the decision too */
	if ((rc = legacy_audit_record(db, w->a, "enrollment.decide", "enrollment", l.id, now)) != DB_OK)
		return rc;
	snprintf(w->out->enrollment_id, sizeof w->out->enrollment_id, "%s", l.id);
	snprintf(w->out->from_status, sizeof w->out->from_status, "%s", l.status);
	snprintf(w->out->to_status, sizeof w->out->to_status, "%s", to);
	time_sql_to_api(now, w->out->created_at);
	return DB_OK;
}

int enrollment_decide(struct db *db, const struct actor *operator_, const char *enrollment_id,
		      enum enrollment_decision d, const char *reason,
		      struct enrollment_transition *out, struct problem *p)
{
	struct decide_work w = {operator_, enrollment_id, reason, d, out};
	memset(out, 0, sizeof *out);
	return db_run(db, decide_run, &w, p);
}

int enrollment_list(struct db *db, const char *status, const char *after, long limit,
		    struct enrollment **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {status ? STMT_enrollment_list : STMT_enrollment_list_all,
			     status ? STMT_enrollment_count : STMT_enrollment_count_all,
			     status ? status : "all",
			     after,
			     limit,
			     {0, 0, NULL},
			     0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, view_read, n);
	*total = pg.total;
	return 0;
}

enum db_status enrollment_profile_updated(struct db *db, const struct actor *a,
					  const char *tenant_id, const char *at)
{
	struct locked l;
	bool found;
	unsigned long long changed = 0;
	enum db_status rc = lock_enrollment(db, STMT_enrollment_lock_tenant, tenant_id, &l, &found);
	if (rc != DB_OK || !found || strcmp(l.status, "more_info_requested") != 0)
		return rc;
	struct db_arg s[] = {db_str("in_review"), db_str(at), db_str(l.id),
			     db_str("more_info_requested")};
	if ((rc = legacy_exec(db, STMT_enrollment_set_status, s, NULL, &changed)) != DB_OK)
		return rc;
	return transition_write(db, a, &l, "in_review", "the partner updated its profile",
				MAIL_ENROLLMENT_IN_REVIEW, at, NULL);
}
