#include "domain/agreement.h"

#include "core/problem.h"
#include "domain/enrollment.h"

#include <stdio.h>
#include <string.h>

DB_STATEMENT(agreement_template_insert,
	     "INSERT INTO agreement_templates (id, type, version, document_url, document_sha256, "
	     "effective_date, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

/* with whether it is the current one of its type */
#define TEMPLATE_SELECT                                                                            \
	"SELECT t.id, t.type, t.version, t.document_url, t.document_sha256, "                      \
	"DATE_FORMAT(t.effective_date, '%Y-%m-%d') AS effective_date, t.created_at, "              \
	"t.id = (SELECT c.id FROM agreement_templates c WHERE c.type = t.type AND "                \
	"c.effective_date <= UTC_DATE() ORDER BY c.effective_date DESC, c.created_at DESC "        \
	"LIMIT 1) AS current FROM agreement_templates t "
#define TEMPLATE_FIELDS(F, T)                                                                      \
	F(T, id, DB_TEXT)                                                                          \
	F(T, type, DB_TEXT)                                                                        \
	F(T, version, DB_TEXT)                                                                     \
	F(T, document_url, DB_TEXT)                                                                \
	F(T, document_sha256, DB_TEXT)                                                             \
	F(T, effective_date, DB_TEXT) F(T, created_at, DB_TIME) F(T, current, DB_INT)

DB_STATEMENT(agreement_template_get, TEMPLATE_SELECT "WHERE t.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct agreement_template, TEMPLATE_FIELDS));

/* the current one of a type: the first row of its index at or before today */
DB_STATEMENT(agreement_template_current_of,
	     TEMPLATE_SELECT "WHERE t.type = ? AND t.effective_date <= UTC_DATE() "
			     "ORDER BY t.effective_date DESC, t.created_at DESC LIMIT 1",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct agreement_template, TEMPLATE_FIELDS));

/* one row a type: each type's current version, the one no newer version
 * in effect follows (each probe reads the index (type, effective_date,
 * created_at)) */
DB_STATEMENT(agreement_templates_current_all,
	     TEMPLATE_SELECT "WHERE t.effective_date <= UTC_DATE() AND NOT EXISTS ("
			     "SELECT 1 FROM agreement_templates n WHERE n.type = t.type AND "
			     "n.effective_date <= UTC_DATE() AND (n.effective_date > "
			     "t.effective_date OR (n.effective_date = t.effective_date AND "
			     "n.created_at > t.created_at))) ORDER BY t.type",
	     DB_NO_PARAMS, DB_ROW(struct agreement_template, TEMPLATE_FIELDS));

DB_STATEMENT(agreement_acceptance_insert,
	     "INSERT INTO agreement_acceptances (id, tenant_id, template_id, user_id, "
	     "signer_first_name, signer_last_name, signer_email, signer_phone, client_addr, "
	     "request_id, accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT, DB_TEXT,
		       DB_TEXT, DB_TEXT, DB_TIME),
	     DB_NO_ROW);

/* hint: an index hint for the acceptances, or "" */
#define ACCEPTANCE_SELECT_USING(hint)                                                              \
	"SELECT a.id, a.template_id, t.type, t.version, a.user_id, a.client_addr, "                \
	"a.accepted_at, a.signer_first_name AS signer_first_name, a.signer_last_name AS "          \
	"signer_last_name, a.signer_email AS signer_email, a.signer_phone AS signer_phone_number " \
	"FROM agreement_acceptances a " hint "JOIN agreement_templates t ON t.id = a.template_id "
#define ACCEPTANCE_SELECT ACCEPTANCE_SELECT_USING("")
#define ACCEPTANCE_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT)                                                                          \
	F(T, template_id, DB_TEXT)                                                                 \
	F(T, type, DB_TEXT)                                                                        \
	F(T, version, DB_TEXT)                                                                     \
	F(T, user_id, DB_TEXT)                                                                     \
	F(T, client_addr, DB_TEXT)                                                                 \
	F(T, accepted_at, DB_TIME)                                                                 \
	F(T, signer.first_name, DB_TEXT)                                                           \
	F(T, signer.last_name, DB_TEXT)                                                            \
	F(T, signer.email, DB_TEXT) F(T, signer.phone_number, DB_TEXT)

DB_STATEMENT(agreement_acceptance_list,
	     ACCEPTANCE_SELECT_USING(
		 DB_LIST_INDEX("ix_agreement_acceptances_tenant")) "WHERE a.tenant_id = ? AND a.id "
								   "> ? ORDER BY a.id LIMIT ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT),
	     DB_ROW(struct agreement_acceptance, ACCEPTANCE_FIELDS));

DB_STATEMENT(agreement_acceptance_count,
	     "SELECT COUNT(*) AS n FROM (SELECT 1 FROM agreement_acceptances WHERE tenant_id = ? "
	     "LIMIT ?) c",
	     DB_PARAMS(DB_TEXT, DB_INT), DB_ROW_COUNT);

const struct db_page agreement_acceptance_page = {.list = &agreement_acceptance_list,
						  .count = &agreement_acceptance_count,
						  .n_keys = 1,
						  .cursor_offset =
						      offsetof(struct agreement_acceptance, id)};

DB_STATEMENT(agreement_acceptance_get, ACCEPTANCE_SELECT "WHERE a.id = ?", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct agreement_acceptance, ACCEPTANCE_FIELDS));

int agreement_template_publish(struct txn *t, const struct actor *a,
			       const struct agreement_template *in, struct agreement_template *out,
			       struct problem *p)
{
	char id[UUID_STR];
	micros_t at = time_micros();
	uuid_v7(id);
	struct db_arg args[] = {db_text(id),
				db_text(in->type),
				db_text(in->version),
				db_text(in->document_url),
				db_text(in->document_sha256),
				db_text(in->effective_date),
				db_text(a->id),
				db_time(at)};
	struct db_arg g[] = {db_text(id)};
	switch (db_exec(t, &agreement_template_insert, args, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		snprintf(p->code, sizeof p->code, "template_version_exists");
		return problem_set(p, PROBLEM_CONFLICT, "version %s of %s is published already",
				   in->version, in->type);
	default: return -1;
	}
	if (audit_record(t, a, "agreement_template.publish", "agreement_template", id, at) !=
		DB_OK ||
	    db_one(t, &agreement_template_get, g, out) != DB_OK)
		return -1;
	return 0;
}

int agreement_templates_current(struct txn *t, const char *type, struct agreement_template **items,
				size_t *n)
{
	struct db_arg a[] = {db_text(type)};
	if (type == NULL)
		return db_all(t, &agreement_templates_current_all, NULL, (void **)items, n) == DB_OK
			   ? 0
			   : -1;
	return db_all(t, &agreement_template_current_of, a, (void **)items, n) == DB_OK ? 0 : -1;
}

/* The step of the enrolment checklist that is not done yet, for a tenant
 * whose enrolment has status ("" for none). */
static const char *missing_step(const char *status)
{
	if (status[0] == '\0')
		return "enrolment (POST /v1/enrollments)";
	if (strcmp(status, "pending_email_verification") == 0)
		return "emailVerified";
	return "reviewApproved";
}

/* The template an acceptance names: by id, or the current one of type. */
static int template_to_sign(struct txn *t, const char *template_id, const char *type,
			    struct agreement_template *out, struct problem *p)
{
	struct db_arg g[] = {db_text(template_id != NULL ? template_id : type)};
	enum db_status rc = db_one(
	    t, template_id != NULL ? &agreement_template_get : &agreement_template_current_of, g,
	    out);
	if (rc == DB_OK)
		return 0;
	if (rc != DB_EMPTY)
		return -1;
	if (template_id != NULL) {
		snprintf(p->code, sizeof p->code, "template_unknown");
		return problem_set(p, PROBLEM_RULE_REFUSED, "no agreement template %s",
				   template_id);
	}
	snprintf(p->code, sizeof p->code, "no_current_template");
	return problem_set(p, PROBLEM_RULE_REFUSED, "no version of %s is in effect yet", type);
}

int agreement_accept(struct txn *t, const struct actor *a, const char *template_id,
		     const char *type, const struct agreement_signer *signer,
		     struct agreement_acceptance *out, struct problem *p)
{
	char status[32];
	struct agreement_template tpl;
	char id[UUID_STR];
	micros_t at = time_micros();
	/* the tenant's enrolment, locked: the order of locks of every change
	 * of it */
	if (enrollment_lock_status(t, a->tenant_id, status) != DB_OK)
		return -1;
	if (strcmp(status, "approved") != 0) {
		snprintf(p->code, sizeof p->code, "enrollment_not_approved");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "only an approved reseller signs the agreement: the enrolment "
				   "is %s, and the step %s is not done",
				   status[0] ? status : "missing", missing_step(status));
	}
	if (template_to_sign(t, template_id, type, &tpl, p) != 0)
		return -1;
	if (type != NULL && strcmp(tpl.type, type) != 0) {
		snprintf(p->code, sizeof p->code, "template_type_mismatch");
		return problem_set(p, PROBLEM_RULE_REFUSED, "the template is of type %s, not %s",
				   tpl.type, type);
	}
	if (!tpl.current) {
		snprintf(p->code, sizeof p->code, "template_not_current");
		return problem_set(p, PROBLEM_RULE_REFUSED,
				   "version %s of %s is not the current one; sign the current "
				   "version (GET /v1/agreement-templates)",
				   tpl.version, tpl.type);
	}
	uuid_v7(id);
	struct db_arg ins[] = {db_text(id),
			       db_text(a->tenant_id),
			       db_text(tpl.id),
			       db_text(a->id),
			       db_text(signer->first_name),
			       db_text(signer->last_name),
			       db_text(signer->email),
			       db_text(signer->phone_number),
			       db_text(a->client_addr),
			       db_text(a->request_id),
			       db_time(at)};
	struct db_arg g[] = {db_text(id)};
	switch (db_exec(t, &agreement_acceptance_insert, ins, NULL)) {
	case DB_OK: break;
	case DB_DUPLICATE:
		snprintf(p->code, sizeof p->code, "already_signed");
		return problem_set(p, PROBLEM_CONFLICT,
				   "this work account has signed version %s of %s already",
				   tpl.version, tpl.type);
	default: return -1;
	}
	if (audit_record(t, a, "agreement.accept", "agreement_acceptance", id, at) != DB_OK ||
	    db_one(t, &agreement_acceptance_get, g, out) != DB_OK)
		return -1;
	return 0;
}

DB_STATEMENT(agreement_signed,
	     "SELECT COUNT(*) AS n FROM agreement_acceptances WHERE tenant_id = ? AND "
	     "template_id = " AGREEMENT_CURRENT_SQL,
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

int agreement_require_signed(struct txn *t, const char *reseller_tenant_id, struct problem *p)
{
	struct db_count signed_;
	struct db_arg a[] = {db_text(reseller_tenant_id)};
	if (db_one(t, &agreement_signed, a, &signed_) != DB_OK)
		return -1;
	if (signed_.n > 0)
		return 0;
	snprintf(p->code, sizeof p->code, "reseller_agreement_not_signed");
	return problem_set(p, PROBLEM_RULE_REFUSED,
			   "the reseller has not signed the current version of the partner "
			   "agreement (POST /v1/agreements)");
}
