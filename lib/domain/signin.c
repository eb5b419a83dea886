#include "domain/signin.h"

#include "auth/auth.h"
#include "auth/password.h"
#include "core/problem.h"
#include "db/db.h"
#include "domain/audit.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct db_stmt_def stmt_signin_user = {
    STMT_signin_user, "signin_user",
    "SELECT id, tenant_id, password_hash, disabled, roles FROM users WHERE email = ?", 1, 5};

/* The (account, address) row, locked whether or not it is locked out:
 * attempts on one pair wait for each other. Seconds left of a lock, and
 * the failures of the current window. */
const struct db_stmt_def stmt_signin_locked = {
    STMT_signin_locked, "signin_locked",
    "SELECT IF(locked_until > UTC_TIMESTAMP(6), GREATEST(1, CEIL(TIMESTAMPDIFF(MICROSECOND, "
    "UTC_TIMESTAMP(6), locked_until) / 1000000)), 0), "
    "IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 0, failures) "
    "FROM signin_failures WHERE username_hash = ? FOR UPDATE",
    1, 2};

/* In ON DUPLICATE KEY UPDATE the assignments run in order and see the
 * values already assigned: failures first (against the old window), then
 * the window, then the lock from the new count against the threshold. */
const struct db_stmt_def stmt_signin_failure = {
    STMT_signin_failure, "signin_failure",
    "INSERT INTO signin_failures (username_hash, failures, window_start, locked_until) "
    "VALUES (?, 1, UTC_TIMESTAMP(6), IF(? <= 1, UTC_TIMESTAMP(6) + INTERVAL 900 SECOND, NULL)) "
    "ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 1, failures + 1), "
    "window_start = IF(failures = 1, UTC_TIMESTAMP(6), window_start), "
    "locked_until = IF(failures >= ?, UTC_TIMESTAMP(6) + INTERVAL 900 SECOND, NULL)",
    3, 0};

const struct db_stmt_def stmt_signin_account_failures = {
    STMT_signin_account_failures, "signin_account_failures",
    "SELECT IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 0, failures) "
    "FROM signin_account_failures WHERE account_hash = ?",
    1, 1};

const struct db_stmt_def stmt_signin_account_failure = {
    STMT_signin_account_failure, "signin_account_failure",
    "INSERT INTO signin_account_failures (account_hash, failures, window_start) "
    "VALUES (?, 1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 1, failures + 1), "
    "window_start = IF(failures = 1, UTC_TIMESTAMP(6), window_start)",
    1, 0};

const struct db_stmt_def stmt_signin_clear = {
    STMT_signin_clear, "signin_clear", "DELETE FROM signin_failures WHERE username_hash = ?", 1, 0};

static void sha256_hex(const char *a, const char *b, char out[65])
{
	unsigned char digest[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	EVP_DigestUpdate(md, a, strlen(a) + 1); /* the NUL keeps "ab"+"c" from "a"+"bc" */
	if (b != NULL)
		EVP_DigestUpdate(md, b, strlen(b));
	EVP_DigestFinal_ex(md, digest, NULL);
	EVP_MD_CTX_free(md);
	sodium_bin2hex(out, 65, digest, sizeof digest);
}

/* The part of a client address that is one client's: an IPv6 address is
 * counted by its /64 (one subscriber's network: a single host has all of
 * it), an IPv4-mapped one as its IPv4 address. */
static void address_key(const char *addr, char out[64])
{
	unsigned char bin[16];
	snprintf(out, 64, "%s", addr);
	if (inet_pton(AF_INET6, addr, bin) != 1)
		return;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(bin, mapped, sizeof mapped) == 0) {
		inet_ntop(AF_INET, bin + 12, out, 64);
		return;
	}
	memset(bin + 8, 0, 8);
	inet_ntop(AF_INET6, bin, out, 64);
	strncat(out, "/64", 64 - strlen(out) - 1);
}

struct lookup_work {
	const struct signin_attempt *in;
	const char *canonical; /* the name's one spelling, or NULL if it has none */
	const char *lowered;
	long locked_for;
	bool found, disabled, locks_now;
	char pair_hash[65], account_hash[65];
	char hash[PASSWORD_HASH_MAX];
	struct signin_user *out;
};

/* Every attempt is counted as a failure before its password is checked,
 * and cleared only when it succeeds: so concurrent attempts cannot check
 * more passwords in a window than the threshold lets through. */
static enum db_status lookup_run(struct db *db, void *arg, struct problem *p)
{
	struct lookup_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	char account[80];
	enum db_status rc = DB_OK;
	w->locked_for = 0;
	w->found = w->disabled = w->locks_now = false;
	memset(w->out, 0, sizeof *w->out);
	if (w->canonical != NULL) {
		struct db_arg u[] = {db_str(w->canonical)};
		rc = legacy_exec(db, STMT_signin_user, u, &rows, NULL);
		if (rc != DB_OK)
			goto out;
		if (rows.n_rows > 0) {
			w->found = true;
			db_cell_copy(&rows, 0, 0, w->out->user_id, UUID_STR);
			db_cell_copy(&rows, 0, 1, w->out->tenant_id, UUID_STR);
			db_cell_copy(&rows, 0, 2, w->hash, sizeof w->hash);
			w->disabled = strcmp(db_cell(&rows, 0, 3), "0") != 0;
			w->out->roles = roles_from_csv(db_cell(&rows, 0, 4));
		}
		db_rows_free(&rows);
	}
	/* the account a name resolves to, or the name itself */
	if (w->found)
		snprintf(account, sizeof account, "user:%s", w->out->user_id);
	sha256_hex(w->found ? account : "name:", w->found ? NULL : w->lowered, w->account_hash);
	char where[64];
	address_key(w->in->client_addr, where);
	sha256_hex(w->account_hash, where, w->pair_hash);

	struct db_arg pair[] = {db_str(w->pair_hash)};
	struct db_arg acct[] = {db_str(w->account_hash)};
	rc = legacy_exec(db, STMT_signin_locked, pair, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	long pair_failures = rows.n_rows > 0 ? atol(db_cell(&rows, 0, 1)) : 0;
	if (rows.n_rows > 0 && atol(db_cell(&rows, 0, 0)) > 0) {
		w->locked_for = atol(db_cell(&rows, 0, 0));
		goto out;
	}
	db_rows_free(&rows);
	rc = legacy_exec(db, STMT_signin_account_failures, acct, &rows, NULL);
	if (rc != DB_OK)
		goto out;
	long account_failures = rows.n_rows > 0 ? atol(db_cell(&rows, 0, 0)) : 0;
	long threshold = account_failures >= SIGNIN_ACCOUNT_ATTACK
			     ? SIGNIN_MAX_FAILURES_UNDER_ATTACK
			     : SIGNIN_MAX_FAILURES;
	if (pair_failures >= threshold) {
		/* the account came under attack after this address failed: it
		 * has had its share */
		w->locked_for = SIGNIN_LOCK_SECONDS;
		goto out;
	}
	w->locks_now = pair_failures + 1 >= threshold;
	struct db_arg f[] = {db_str(w->pair_hash), db_int(threshold), db_int(threshold)};
	if ((rc = legacy_exec(db, STMT_signin_failure, f, NULL, NULL)) != DB_OK)
		goto out;
	rc = legacy_exec(db, STMT_signin_account_failure, acct, NULL, NULL);
out:
	db_rows_free(&rows);
	return rc;
}

struct outcome_work {
	const struct lookup_work *w;
	bool ok;
};

/* After the password check: a success clears this address's count; the
 * account's tenant hears of both. */
static enum db_status outcome_run(struct db *db, void *arg, struct problem *p)
{
	struct outcome_work *o = arg;
	const struct lookup_work *w = o->w;
	const struct signin_attempt *in = w->in;
	char at[TIME_STR];
	enum db_status rc = DB_OK;
	time_now(at, NULL);
	if (o->ok) {
		struct db_arg h[] = {db_str(w->pair_hash)};
		rc = legacy_exec(db, STMT_signin_clear, h, NULL, NULL);
	}
	if (rc != DB_OK || !w->found)
		return rc;
	struct legacy_audit_entry e = {w->out->tenant_id,
				o->ok ? "user" : "anonymous",
				o->ok ? w->out->user_id : NULL,
				o->ok ? "signin.succeeded" : "signin.failed",
				"user",
				w->out->user_id,
				in->request_id,
				in->client_addr,
				at};
	rc = legacy_audit_write(db, &e);
	if (rc == DB_OK && !o->ok && w->locks_now) {
		e.action = "signin.locked_out";
		rc = legacy_audit_write(db, &e);
	}
	return rc;
}

int signin_check(struct db *db, const struct signin_attempt *in, struct signin_user *out,
		 struct problem *p)
{
	char canonical[256];
	bool valid = email_canonical(in->username, canonical);
	struct lookup_work w;
	int rc = -1;
	memset(&w, 0, sizeof w);
	w.in = in;
	w.canonical = valid ? canonical : NULL;
	w.lowered = canonical;
	w.out = out;

	/* The slot is taken before the attempt is counted: a sign-in refused
	 * for want of one costs the name nothing. */
	if (password_slot_take(p) != 0)
		return -1;
	/* the attempt is counted, and the count committed, before the
	 * password is checked: a refusal below rolls back nothing of it, and
	 * no transaction stays open while the hash is computed */
	if (db_run(db, lookup_run, &w, p) != 0 || txn_commit_now(db_current_txn(db), p) != 0)
		goto out;
	if (w.locked_for > 0) {
		p->retry_after = (int)w.locked_for;
		problem_set(p, PROBLEM_TOO_MANY_REQUESTS,
			    "too many failed sign-ins; try again in %ld seconds", w.locked_for);
		goto out;
	}
	bool ok = password_slot_verify(in->password, w.found ? w.hash : in->dummy_hash) &&
		  w.found && !w.disabled;
	struct outcome_work o = {&w, ok};
	/* a failure's audit stands although the request answers 401 */
	if (db_run(db, outcome_run, &o, p) != 0 || txn_commit_now(db_current_txn(db), p) != 0)
		goto out;
	if (!ok) {
		problem_set(p, PROBLEM_UNAUTHENTICATED, "the user name or password is wrong");
		goto out;
	}
	rc = 0;
out:
	password_slot_give();
	sodium_memzero(w.hash, sizeof w.hash);
	return rc;
}
