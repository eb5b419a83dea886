/* Domain rules against the migrated schema of the throwaway database: what
 * a rule refuses changes nothing, what it allows is written with its audit
 * and its mail in the same transaction. The world each test needs is
 * written with statements of its own. */
#include "auth/auth.h"
#include "core/config.h"
#include "db/db.h"
#include "db_suites.h"
#include "domain/agreement.h"
#include "domain/audit.h"
#include "domain/event.h"
#include "domain/idempotency.h"
#include "domain/purge.h"
#include "domain/user.h"
#include "mail/outbox.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct config *cfg;

DB_STATEMENT(unit_tenant_insert,
	     "INSERT INTO tenants (id, domain, display_name, is_platform, created_at) "
	     "VALUES (?, ?, 'Unit', ?, UTC_TIMESTAMP(6))",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_INT), DB_NO_ROW);
DB_STATEMENT(unit_audit_count,
	     "SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = ? AND action = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(unit_users_of, "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(unit_outbox_to, "SELECT COUNT(*) AS n FROM mail_outbox WHERE recipient = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);
DB_STATEMENT(unit_idem_age,
	     "UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP(6) - INTERVAL 25 HOUR "
	     "WHERE principal = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);
DB_STATEMENT(unit_idem_count, "SELECT COUNT(*) AS n FROM idempotency_keys WHERE principal = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

/* the feeds' rows of an actor's events that carry their event's number */
DB_STATEMENT(unit_event_rows_numbered,
	     "SELECT COUNT(*) AS n FROM event_tenants et JOIN events e ON e.id = et.event_id "
	     "WHERE e.actor_id = ? AND et.seq = e.seq",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

/* A work account of its own for each test: its id, domain and global admin. */
struct world {
	struct db *db;
	char tenant[UUID_STR], domain[64], admin[UUID_STR];
	struct actor admin_actor;
};

static long long count(struct db *db, const struct db_stmt *s, const struct db_arg *a)
{
	struct txn t;
	struct problem p = {0};
	struct db_count c = {-1};
	txn_open(&t, db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(db_one(&t, s, a, &c), DB_OK);
	txn_end(&t, true, &p);
	return c.n;
}

static void world_make(struct world *w, bool platform)
{
	char err[512], email[128];
	struct txn t;
	struct problem p = {0};
	memset(w, 0, sizeof *w);
	w->db = db_new(cfg, true);
	ck_assert_msg(db_connect(w->db, err, sizeof err) == DB_OK, "%s", err);
	uuid_v7(w->tenant);
	uuid_v7(w->admin);
	snprintf(w->domain, sizeof w->domain, "u%.8s%.4s.example.com", w->tenant + 24,
		 w->tenant + 14);
	snprintf(email, sizeof email, "admin@%s", w->domain);
	struct db_arg ta[] = {db_text(w->tenant), db_text(w->domain), db_int(platform)};
	struct user_row u = {w->admin,
			     w->tenant,
			     email,
			     "x",
			     "Ada",
			     "Admin",
			     ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT,
			     time_micros()};
	txn_open(&t, w->db, TXN_ATOMIC);
	ck_assert_int_eq(db_exec(&t, &unit_tenant_insert, ta, NULL), DB_OK);
	ck_assert_int_eq(user_insert(&t, &u), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	struct actor a = {"user",	  w->admin,    w->tenant,
			  "unit-request", "127.0.0.1", ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT,
			  NULL,		  NULL};
	w->admin_actor = a;
}

/* Runs one domain call in a write transaction the way the pipeline does:
 * committed when it returns 0, rolled back otherwise. */
#define IN_TXN(w, p, call)                                                                         \
	({                                                                                         \
		struct txn t_;                                                                     \
		int rc_;                                                                           \
		txn_open(&t_, (w)->db, TXN_ATOMIC);                                                \
		do {                                                                               \
			struct txn *t = &t_;                                                       \
			problem_clear(p);                                                          \
			rc_ = (call);                                                              \
		} while (txn_end(&t_, rc_ == 0, (p)) == TXN_AGAIN);                                \
		rc_;                                                                               \
	})

START_TEST(the_last_global_admin_stays)
{
	struct world w;
	struct problem p = {0};
	struct user_view v;
	world_make(&w, false);
	struct user_change demote = {0, true, false, ROLE_ADMIN_AGENT, false, false, NULL, NULL};
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &w.admin_actor, w.admin, &demote, &v, &p)),
			 -1);
	ck_assert_int_eq(problem_status(p.kind), 422);
	ck_assert_str_eq(p.code, "last_global_admin");
	struct user_change disable = {0, false, true, 0, true, false, NULL, NULL};
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &w.admin_actor, w.admin, &disable, &v, &p)),
			 -1);
	ck_assert_str_eq(p.code, "last_global_admin");
	/* nothing changed: the user is still at its first version */
	ck_assert_int_eq(IN_TXN(&w, &p, user_get(t, w.tenant, w.admin, &v, &p)), 0);
	ck_assert_uint_eq(v.version, 1);
	ck_assert(!v.disabled);
	struct db_arg a[] = {db_text(w.tenant), db_text("user.update")};
	ck_assert_int_eq(count(w.db, &unit_audit_count, a), 0);
	problem_clear(&p);
	db_free(w.db);
}
END_TEST

START_TEST(a_user_is_made_at_the_domain_and_audited)
{
	struct world w;
	struct problem p = {0};
	struct user_view v;
	char email[128], elsewhere[] = "someone@elsewhere.example.com";
	world_make(&w, false);
	snprintf(email, sizeof email, "grace@%s", w.domain);
	struct user_new in = {email, "hash", "Grace", "Hopper", ROLE_SALES_AGENT, NULL, NULL, NULL};
	ck_assert_int_eq(IN_TXN(&w, &p, user_create(t, &w.admin_actor, &in, &v, &p)), 0);
	ck_assert_str_eq(v.email, email);
	ck_assert_uint_eq(v.roles, ROLE_SALES_AGENT);
	struct db_arg a[] = {db_text(w.tenant), db_text("user.create")};
	ck_assert_int_eq(count(w.db, &unit_audit_count, a), 1);
	/* the same address again: 409, and no second audit event */
	ck_assert_int_eq(IN_TXN(&w, &p, user_create(t, &w.admin_actor, &in, &v, &p)), -1);
	ck_assert_int_eq(problem_status(p.kind), 409);
	ck_assert_int_eq(count(w.db, &unit_audit_count, a), 1);
	/* another domain's address, the operator role outside the platform */
	in.email = elsewhere;
	ck_assert_int_eq(IN_TXN(&w, &p, user_create(t, &w.admin_actor, &in, &v, &p)), -1);
	ck_assert_str_eq(p.code, "email_not_at_domain");
	snprintf(email, sizeof email, "op@%s", w.domain);
	in.email = email;
	in.roles = ROLE_OPERATOR;
	ck_assert_int_eq(IN_TXN(&w, &p, user_create(t, &w.admin_actor, &in, &v, &p)), -1);
	ck_assert_str_eq(p.code, "operator_role_refused");
	/* an admin agent does not make a global admin */
	struct actor agent = w.admin_actor;
	agent.roles = ROLE_ADMIN_AGENT;
	in.roles = ROLE_GLOBAL_ADMIN;
	ck_assert_int_eq(IN_TXN(&w, &p, user_create(t, &agent, &in, &v, &p)), -1);
	ck_assert_int_eq(problem_status(p.kind), 403);
	struct db_arg u[] = {db_text(w.tenant)};
	ck_assert_int_eq(count(w.db, &unit_users_of, u), 2);
	problem_clear(&p);
	db_free(w.db);
}
END_TEST

START_TEST(a_stale_version_changes_nothing)
{
	struct world w;
	struct problem p = {0};
	struct user_view v;
	world_make(&w, false);
	struct user_change c = {1,     true,  false, ROLE_GLOBAL_ADMIN | ROLE_SALES_AGENT,
				false, false, NULL,  NULL};
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &w.admin_actor, w.admin, &c, &v, &p)), 0);
	ck_assert_uint_eq(v.version, 2);
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &w.admin_actor, w.admin, &c, &v, &p)), -1);
	ck_assert_int_eq(problem_status(p.kind), 412);
	problem_clear(&p);
	db_free(w.db);
}
END_TEST

/* user_external_link of w's global admin by w's own, in a transaction of
 * its own; 0 or -1 with p set. */
static int link_admin(struct world *w, const char *iss, const char *subject, unsigned long version,
		      struct user_view *v, struct problem *p)
{
	return IN_TXN(
	    w, p, user_external_link(t, &w->admin_actor, w->admin, iss, subject, version, v, p));
}

START_TEST(an_external_link_is_one_users_and_audited)
{
	struct world w, other;
	struct problem p = {0};
	struct user_view v;
	const char *iss = "https://idp.unit.test";
	char subject[40];
	world_make(&w, false);
	world_make(&other, false);
	snprintf(subject, sizeof subject, "kc-%.12s", w.tenant + 24);
	struct db_arg links[] = {db_text(w.tenant), db_text("user.external_link")};
	struct db_arg unlinks[] = {db_text(w.tenant), db_text("user.external_unlink")};
	/* no issuer configured: nothing to link to */
	ck_assert_int_eq(link_admin(&w, NULL, subject, 0, &v, &p), -1);
	ck_assert_str_eq(p.code, "no_external_issuer");
	ck_assert_int_eq(link_admin(&w, iss, subject, 0, &v, &p), 0);
	ck_assert_str_eq(v.external_subject, subject);
	ck_assert_uint_eq(v.version, 2);
	/* the same link again changes nothing */
	ck_assert_int_eq(link_admin(&w, iss, subject, 2, &v, &p), 0);
	ck_assert_uint_eq(v.version, 2);
	ck_assert_int_eq(count(w.db, &unit_audit_count, links), 1);
	/* another tenant's user cannot take it, nor can a stale version */
	ck_assert_int_eq(link_admin(&other, iss, subject, 0, &v, &p), -1);
	ck_assert_str_eq(p.code, "external_subject_taken");
	ck_assert_int_eq(link_admin(&w, NULL, NULL, 1, &v, &p), -1);
	ck_assert_int_eq(problem_status(p.kind), 412);
	/* an admin agent does not link through a change of the user */
	struct actor agent = w.admin_actor;
	agent.roles = ROLE_ADMIN_AGENT;
	struct user_change c = {0, false, false, 0, false, true, iss, NULL};
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &agent, w.admin, &c, &v, &p)), -1);
	ck_assert_str_eq(p.code, "global_admin_required");
	ck_assert_int_eq(IN_TXN(&w, &p, user_update(t, &w.admin_actor, w.admin, &c, &v, &p)), 0);
	ck_assert_str_eq(v.external_subject, "");
	ck_assert_int_eq(count(w.db, &unit_audit_count, unlinks), 1);
	/* then the subject is free */
	ck_assert_int_eq(link_admin(&other, iss, subject, 0, &v, &p), 0);
	problem_clear(&p);
	db_free(w.db);
	db_free(other.db);
}
END_TEST

START_TEST(a_delegated_change_is_audited_in_both_tenants)
{
	struct world reseller, provider;
	struct problem p = {0};
	world_make(&reseller, false);
	world_make(&provider, false);
	struct actor a = reseller.admin_actor;
	a.id = provider.admin;
	a.delegated_from = provider.tenant;
	a.relationship_id = "00000000-0000-7000-8000-000000000001";
	ck_assert_int_eq(IN_TXN(&reseller, &p,
				audit_record(t, &a, "unit.delegated", "tenant", reseller.tenant,
					     time_micros()) == DB_OK
				    ? 0
				    : -1),
			 0);
	struct db_arg r[] = {db_text(reseller.tenant), db_text("unit.delegated")};
	struct db_arg v[] = {db_text(provider.tenant), db_text("unit.delegated")};
	ck_assert_int_eq(count(reseller.db, &unit_audit_count, r), 1);
	ck_assert_int_eq(count(reseller.db, &unit_audit_count, v), 1);
	db_free(reseller.db);
	db_free(provider.db);
}
END_TEST

START_TEST(a_key_replays_its_response_and_refuses_another_body)
{
	struct world w;
	struct problem p = {0};
	struct idem_response stored;
	enum idem_state state;
	char principal[64];
	world_make(&w, false);
	snprintf(principal, sizeof principal, "u:%s", w.admin);
	struct idem_response first = {201, "application/json", "\"v1\"", "/v1/things/1", NULL};
	first.body = strdup("{\"id\":1}");
	ck_assert_int_eq(
	    IN_TXN(&w, &p,
		   idem_claim(t, principal, "k1", "hash-a", &state, &stored, &p) == 0 &&
			   state == IDEM_NEW
		       ? idem_store(t, principal, "k1", &first)
		       : -1),
	    0);
	ck_assert_int_eq(
	    IN_TXN(&w, &p, idem_claim(t, principal, "k1", "hash-a", &state, &stored, &p)), 0);
	ck_assert_int_eq(state, IDEM_REPLAY);
	ck_assert_int_eq(stored.status, 201);
	ck_assert_str_eq(stored.body, "{\"id\":1}");
	ck_assert_str_eq(stored.etag, "\"v1\"");
	ck_assert_str_eq(stored.location, "/v1/things/1");
	idem_response_clear(&stored);
	ck_assert_int_eq(
	    IN_TXN(&w, &p, idem_claim(t, principal, "k1", "hash-b", &state, &stored, &p)), -1);
	ck_assert_str_eq(p.code, "idempotency_key_reused");
	/* a day later the key is forgotten: purged, and free to claim */
	struct db_arg pr[] = {db_text(principal)};
	ck_assert_int_eq(IN_TXN(&w, &p, db_exec(t, &unit_idem_age, pr, NULL) == DB_OK ? 0 : -1), 0);
	struct purge_counts purged;
	struct txn t;
	txn_open(&t, w.db, TXN_AUTOCOMMIT);
	ck_assert_int_eq(purge_run(&t, &(struct purge_policy){30}, &purged), 0);
	txn_end(&t, true, &p);
	ck_assert_uint_ge(purged.idempotency_keys, 1);
	ck_assert_int_eq(count(w.db, &unit_idem_count, pr), 0);
	idem_response_clear(&first);
	problem_clear(&p);
	db_free(w.db);
}
END_TEST

static int wakes;
static void wake(void)
{
	wakes++;
}

START_TEST(mail_goes_with_its_change_or_not_at_all)
{
	struct world w;
	struct problem p = {0};
	char to[128];
	struct txn t;
	world_make(&w, false);
	snprintf(to, sizeof to, "pia@%s", w.domain);
	struct mail_var vars[] = {{"first_name", "Pia"},
				  {"company_name", "Unit"},
				  {"link", "https://example.com/verify-email?token=x"}};
	struct outbox_mail m = {w.tenant, MAIL_VERIFY_EMAIL, "en", to, vars, 3};
	struct db_arg rcpt[] = {db_text(to)};
	outbox_set_wake(wake);
	wakes = 0;
	txn_open(&t, w.db, TXN_ATOMIC);
	ck_assert_int_eq(outbox_enqueue(&t, &m), DB_OK);
	problem_set(&p, PROBLEM_RULE_REFUSED, "the change is refused");
	ck_assert_int_eq(txn_end(&t, false, &p), TXN_ROLLED_BACK);
	ck_assert_int_eq(wakes, 0);
	ck_assert_int_eq(count(w.db, &unit_outbox_to, rcpt), 0);
	problem_clear(&p);
	txn_open(&t, w.db, TXN_ATOMIC);
	ck_assert_int_eq(outbox_enqueue(&t, &m), DB_OK);
	ck_assert_int_eq(outbox_enqueue(&t, &m), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(wakes, 1); /* one wake for the transaction */
	ck_assert_int_eq(count(w.db, &unit_outbox_to, rcpt), 2);
	outbox_set_wake(NULL);
	db_free(w.db);
}
END_TEST

START_TEST(an_unenrolled_tenant_signs_nothing)
{
	struct world w;
	struct problem p = {0};
	struct agreement_acceptance out;
	struct agreement_signer s = {"Sam", "Signer", "sam@example.com", "+4930123456"};
	world_make(&w, false);
	ck_assert_int_eq(
	    IN_TXN(&w, &p,
		   agreement_accept(t, &w.admin_actor, NULL, AGREEMENT_PROGRAM_TYPE, &s, &out, &p)),
	    -1);
	ck_assert_str_eq(p.code, "enrollment_not_approved");
	ck_assert_ptr_nonnull(strstr(p.detail, "enrolment (POST /v1/enrollments)"));
	ck_assert_int_eq(IN_TXN(&w, &p, agreement_require_signed(t, w.tenant, &p)), -1);
	ck_assert_str_eq(p.code, "reseller_agreement_not_signed");
	problem_clear(&p);
	db_free(w.db);
}
END_TEST

/* One pass of the sequencer as the mail thread runs it; the number of
 * events numbered. */
static unsigned long long sequence(struct db *db)
{
	struct txn t;
	struct problem p = {0};
	unsigned long long n = 0;
	txn_open(&t, db, TXN_ATOMIC_READ_COMMITTED);
	ck_assert_int_eq(event_sequence_run(&t, 500, &n), DB_OK);
	ck_assert_int_eq(txn_end(&t, true, &p), TXN_COMMITTED);
	return n;
}

START_TEST(an_event_is_numbered_once_committed_with_its_tenants)
{
	struct world w;
	struct problem p = {0};
	struct txn seq, open;
	char err[512];
	unsigned long long n;
	world_make(&w, false);
	struct db *sequencer = db_new(cfg, true);
	ck_assert_msg(db_connect(sequencer, err, sizeof err) == DB_OK, "%s", err);
	/* four tenants once each, in two statements (three rows at most) */
	const char *tenants[] = {w.tenant,
				 "",
				 w.tenant,
				 "00000000-0000-7000-8000-0000000000b1",
				 NULL,
				 "00000000-0000-7000-8000-0000000000b2",
				 "00000000-0000-7000-8000-0000000000b3"};
	struct db_arg me[] = {db_text(w.admin)};
	/* a pass under way holds up no change recording an event */
	txn_open(&seq, sequencer, TXN_ATOMIC_READ_COMMITTED);
	ck_assert_int_eq(event_sequence_run(&seq, 500, &n), DB_OK);
	ck_assert_int_eq(
	    IN_TXN(&w, &p,
		   event_record(t, &w.admin_actor, EVENT_ORDER_PLACED, tenants, 7, "{}") == DB_OK
		       ? 0
		       : -1),
	    0);
	ck_assert_int_eq(txn_end(&seq, true, &p), TXN_COMMITTED);
	/* an event still uncommitted is left for a later pass */
	txn_open(&open, w.db, TXN_ATOMIC);
	ck_assert_int_eq(event_record(&open, &w.admin_actor, EVENT_ORDER_PLACED, tenants, 1, "{}"),
			 DB_OK);
	ck_assert_int_eq(sequence(sequencer), 1);
	ck_assert_int_eq(count(sequencer, &unit_event_rows_numbered, me), 4);
	ck_assert_int_eq(txn_end(&open, true, &p), TXN_COMMITTED);
	ck_assert_int_eq(sequence(sequencer), 1);
	ck_assert_int_eq(count(sequencer, &unit_event_rows_numbered, me), 5);
	ck_assert_int_eq(sequence(sequencer), 0);
	db_free(sequencer);
	db_free(w.db);
}
END_TEST

Suite *domain_suite(const struct config *c)
{
	cfg = c;
	Suite *s = suite_create("domain");
	TCase *users = tcase_create("users");
	tcase_add_test(users, the_last_global_admin_stays);
	tcase_add_test(users, a_user_is_made_at_the_domain_and_audited);
	tcase_add_test(users, a_stale_version_changes_nothing);
	tcase_add_test(users, an_external_link_is_one_users_and_audited);
	suite_add_tcase(s, users);
	TCase *log = tcase_create("audit, idempotency, mail");
	tcase_add_test(log, a_delegated_change_is_audited_in_both_tenants);
	tcase_add_test(log, a_key_replays_its_response_and_refuses_another_body);
	tcase_add_test(log, mail_goes_with_its_change_or_not_at_all);
	suite_add_tcase(s, log);
	TCase *agreement = tcase_create("agreement");
	tcase_add_test(agreement, an_unenrolled_tenant_signs_nothing);
	suite_add_tcase(s, agreement);
	TCase *events = tcase_create("events");
	tcase_add_test(events, an_event_is_numbered_once_committed_with_its_tenants);
	suite_add_tcase(s, events);
	return s;
}
