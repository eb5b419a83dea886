#include "domain/agreement.h"

#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_template_insert = {
    STMT_template_insert, "template_insert",
    "INSERT INTO agreement_templates (id, type, version, document_url, document_sha256, "
    "effective_date, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    8, 0};

/* with whether it is the current one of its type */
#define TEMPLATE_COLUMNS                                                                           \
	"t.id, t.type, t.version, t.document_url, t.document_sha256, t.effective_date, "           \
	"t.created_at, t.id = (SELECT c.id FROM agreement_templates c WHERE c.type = t.type AND "  \
	"c.effective_date <= UTC_DATE() ORDER BY c.effective_date DESC, c.created_at DESC "        \
	"LIMIT 1) FROM agreement_templates t "

const struct db_stmt_def stmt_template_get = {STMT_template_get, "template_get",
					      "SELECT " TEMPLATE_COLUMNS "WHERE t.id = ?", 1, 8};

/* the current one of a type: the first row of its index at or before today */
const struct db_stmt_def stmt_template_current_of = {
    STMT_template_current_of, "template_current_of",
    "SELECT " TEMPLATE_COLUMNS "WHERE t.type = ? AND t.effective_date <= UTC_DATE() "
    "ORDER BY t.effective_date DESC, t.created_at DESC LIMIT 1",
    1, 8};

/* one row a type: each type's current version, the one no newer version
 * in effect follows (each probe reads the index (type, effective_date,
 * created_at)) */
const struct db_stmt_def stmt_templates_current = {
    STMT_templates_current, "templates_current",
    "SELECT " TEMPLATE_COLUMNS "WHERE t.effective_date <= UTC_DATE() AND NOT EXISTS ("
    "SELECT 1 FROM agreement_templates n WHERE n.type = t.type AND n.effective_date <= "
    "UTC_DATE() AND (n.effective_date > t.effective_date OR (n.effective_date = "
    "t.effective_date AND n.created_at > t.created_at))) ORDER BY t.type",
    0, 8};

const struct db_stmt_def stmt_acceptance_insert = {
    STMT_acceptance_insert, "acceptance_insert",
    "INSERT INTO agreement_acceptances (id, tenant_id, template_id, user_id, signer_first_name, "
    "signer_last_name, signer_email, signer_phone, client_addr, request_id, accepted_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    11, 0};

#define ACCEPTANCE_COLUMNS                                                                         \
	"a.id, a.template_id, t.type, t.version, a.user_id, a.client_addr, a.accepted_at, "        \
	"a.signer_first_name, a.signer_last_name, a.signer_email, a.signer_phone "                 \
	"FROM agreement_acceptances a JOIN agreement_templates t ON t.id = a.template_id "

const struct db_stmt_def stmt_acceptance_list = {STMT_acceptance_list, "acceptance_list",
						 "SELECT " ACCEPTANCE_COLUMNS
						 "WHERE a.tenant_id = ? AND (? = '' OR a.id > ?) "
						 "ORDER BY a.id LIMIT ?",
						 4, 11};

const struct db_stmt_def stmt_acceptance_count = {
    STMT_acceptance_count, "acceptance_count",
    "SELECT COUNT(*) FROM agreement_acceptances WHERE tenant_id = ?", 1, 1};

static void template_read(const struct db_rows *rows, size_t i, void *item)
{
	struct agreement_template *t = item;
	char at[TIME_STR];
	memset(t, 0, sizeof *t);
	db_cell_copy(rows, i, 0, t->id, sizeof t->id);
	db_cell_copy(rows, i, 1, t->type, sizeof t->type);
	db_cell_copy(rows, i, 2, t->version, sizeof t->version);
	db_cell_copy(rows, i, 3, t->document_url, sizeof t->document_url);
	db_cell_copy(rows, i, 4, t->document_sha256, sizeof t->document_sha256);
	db_cell_copy(rows, i, 5, t->effective_date, sizeof t->effective_date);
	db_cell_copy(rows, i, 6, at, sizeof at);
	time_sql_to_api(at, t->created_at);
	t->current = db_cell(rows, i, 7) != NULL && strcmp(db_cell(rows, i, 7), "1") == 0;
}

struct publish_work {
	const struct actor *a;
	const struct agreement_template *in;
	struct agreement_template *out;
};

static enum db_status publish_run(struct db *db, void *arg, struct problem *p)
{
	struct publish_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char id[UUID_STR], at[TIME_STR];
	uuid_v7(id);
	time_now(at, NULL);
	struct db_arg a[] = {db_str(id),
			     db_str(w->in->type),
			     db_str(w->in->version),
			     db_str(w->in->document_url),
			     db_str(w->in->document_sha256),
			     db_str(w->in->effective_date),
			     db_str(w->a->id),
			     db_str(at)};
	enum db_status rc = legacy_exec(db, STMT_template_insert, a, NULL, NULL);
	if (rc == DB_DUPLICATE)
		return db_refuse(p, PROBLEM_CONFLICT, "template_version_exists",
				 "version %s of %s is published already", w->in->version,
				 w->in->type);
	if (rc != DB_OK)
		return rc;
	if ((rc = legacy_audit_record(db, w->a, "agreement_template.publish", "agreement_template",
				      id, at)) != DB_OK)
		return rc;
	struct db_arg g[] = {db_str(id)};
	rc = legacy_exec(db, STMT_template_get, g, &rows, NULL);
	if (rc == DB_OK)
		template_read(&rows, 0, w->out);
	db_rows_free(&rows);
	return rc;
}

int agreement_template_publish(struct db *db, const struct actor *a,
			       const struct agreement_template *in, struct agreement_template *out,
			       struct problem *p)
{
	struct publish_work w = {a, in, out};
	return db_run(db, publish_run, &w, p);
}

struct current_work {
	const char *type;
	struct db_rows rows;
};

static enum db_status current_read(struct db *db, void *arg, struct problem *p)
{
	struct current_work *w = arg;
	struct db_arg a[] = {db_str(w->type)};
	db_rows_free(&w->rows);
	return legacy_exec(db, w->type ? STMT_template_current_of : STMT_templates_current,
			   w->type ? a : NULL, &w->rows, NULL);
}

int agreement_templates_current(struct db *db, const char *type, struct agreement_template **items,
				size_t *n, struct problem *p)
{
	struct current_work w = {type, {0, 0, NULL}};
	*items = NULL;
	*n = 0;
	if (db_read(db, current_read, &w, p) != 0)
		return -1;
	*items = db_rows_items(&w.rows, sizeof **items, template_read, n);
	return 0;
}

/* The step of the enrolment checklist that is not done yet, for a tenant
 * whose enrolment has status (NULL: none). */
static const char *missing_step(const char *status)
{
	if (status == NULL)
		return "enrolment (POST /v1/enrollments)";
	if (strcmp(status, "pending_email_verification") == 0)
		return "emailVerified";
	return "reviewApproved";
}

struct accept_work {
	const struct actor *a;
	const char *template_id, *type;
	const struct agreement_signer *signer;
	struct agreement_acceptance *out;
};

static enum db_status accept_run(struct db *db, void *arg, struct problem *p)
{
	struct accept_work *w = arg;
	struct agreement_acceptance *out = w->out;
	struct db_rows rows = {0, 0, NULL};
	struct agreement_template t;
	char at[TIME_STR];
	struct db_arg tenant[] = {db_str(w->a->tenant_id)};
	/* the enrolment, locked: the order of locks of every change of it */
	enum db_status rc = legacy_exec(db, STMT_enrollment_status_of, tenant, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	const char *status = rows.n_rows > 0 ? db_cell(&rows, 0, 0) : NULL;
	if (status == NULL || strcmp(status, "approved") != 0) {
		rc = db_refuse(
		    p, PROBLEM_RULE_REFUSED, "enrollment_not_approved",
		    "only an approved reseller signs the agreement: the enrolment is %s, and "
		    "the step %s is not done",
		    status ? status : "missing", missing_step(status));
		goto out;
	}
	db_rows_free(&rows);
	if (w->template_id != NULL) {
		struct db_arg g[] = {db_str(w->template_id)};
		rc = legacy_exec(db, STMT_template_get, g, &rows, NULL);
	} else {
		struct db_arg g[] = {db_str(w->type)};
		rc = legacy_exec(db, STMT_template_current_of, g, &rows, NULL);
	}
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		rc = w->template_id != NULL
			 ? db_refuse(p, PROBLEM_RULE_REFUSED, "template_unknown",
				     "no agreement template %s", w->template_id)
			 : db_refuse(p, PROBLEM_RULE_REFUSED, "no_current_template",
				     "no version of %s is in effect yet", w->type);
		goto out;
	}
	template_read(&rows, 0, &t);
	if (w->type != NULL && strcmp(t.type, w->type) != 0) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "template_type_mismatch",
			       "the template is of type %s, not %s", t.type, w->type);
		goto out;
	}
	if (!t.current) {
		rc = db_refuse(p, PROBLEM_RULE_REFUSED, "template_not_current",
			       "version %s of %s is not the current one; sign the current version "
			       "(GET /v1/agreement-templates)",
			       t.version, t.type);
		goto out;
	}
	uuid_v7(out->id);
	time_now(at, out->accepted_at);
	snprintf(out->template_id, sizeof out->template_id, "%s", t.id);
	snprintf(out->type, sizeof out->type, "%s", t.type);
	snprintf(out->version, sizeof out->version, "%s", t.version);
	snprintf(out->user_id, sizeof out->user_id, "%s", w->a->id);
	snprintf(out->client_addr, sizeof out->client_addr, "%s", w->a->client_addr);
	out->signer = *w->signer;
	struct db_arg ins[] = {db_str(out->id),
			       db_str(w->a->tenant_id),
			       db_str(t.id),
			       db_str(w->a->id),
			       db_str(w->signer->first_name),
			       db_str(w->signer->last_name),
			       db_str(w->signer->email),
			       db_str(w->signer->phone_number),
			       db_str(w->a->client_addr),
			       db_str(w->a->request_id),
			       db_str(at)};
	rc = legacy_exec(db, STMT_acceptance_insert, ins, NULL, NULL);
	if (rc == DB_DUPLICATE) {
		rc = db_refuse(p, PROBLEM_CONFLICT, "already_signed",
			       "this work account has signed version %s of %s already", t.version,
			       t.type);
		goto out;
	}
	if (rc == DB_OK)
		rc = legacy_audit_record(db, w->a, "agreement.accept", "agreement_acceptance",
					 out->id, at);
out:
	db_rows_free(&rows);
	return rc;
}

int agreement_accept(struct db *db, const struct actor *a, const char *template_id,
		     const char *type, const struct agreement_signer *signer,
		     struct agreement_acceptance *out, struct problem *p)
{
	struct accept_work w = {a, template_id, type, signer, out};
	memset(out, 0, sizeof *out);
	return db_run(db, accept_run, &w, p);
}

static void acceptance_read(const struct db_rows *rows, size_t i, void *item)
{
	struct agreement_acceptance *a = item;
	char at[TIME_STR];
	db_cell_copy(rows, i, 0, a->id, sizeof a->id);
	db_cell_copy(rows, i, 1, a->template_id, sizeof a->template_id);
	db_cell_copy(rows, i, 2, a->type, sizeof a->type);
	db_cell_copy(rows, i, 3, a->version, sizeof a->version);
	db_cell_copy(rows, i, 4, a->user_id, sizeof a->user_id);
	db_cell_copy(rows, i, 5, a->client_addr, sizeof a->client_addr);
	db_cell_copy(rows, i, 6, at, sizeof at);
	time_sql_to_api(at, a->accepted_at);
	db_cell_copy(rows, i, 7, a->signer.first_name, sizeof a->signer.first_name);
	db_cell_copy(rows, i, 8, a->signer.last_name, sizeof a->signer.last_name);
	db_cell_copy(rows, i, 9, a->signer.email, sizeof a->signer.email);
	db_cell_copy(rows, i, 10, a->signer.phone_number, sizeof a->signer.phone_number);
}

int agreement_list(struct db *db, const char *tenant_id, const char *after, long limit,
		   struct agreement_acceptance **items, size_t *n, long *total, struct problem *p)
{
	struct legacy_page pg = {
	    STMT_acceptance_list, STMT_acceptance_count, tenant_id, after, limit, {0, 0, NULL}, 0};
	*items = NULL;
	*n = 0;
	*total = 0;
	if (legacy_page_read(db, &pg, p) != 0)
		return -1;
	*items = db_rows_items(&pg.rows, sizeof **items, acceptance_read, n);
	*total = pg.total;
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
