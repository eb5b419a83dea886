#include "domain/signin.h"

#include "auth/auth.h"
#include "auth/password.h"
#include "core/problem.h"
#include "domain/audit.h"
#include "domain/user.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The (account, address) row, locked whether or not it is locked out:
 * attempts on one pair wait for each other. Seconds left of a lock, and
 * the failures of the current window. The counters keep the database's
 * clock, which every statement of theirs reads. */
struct signin_pair_row {
	long long locked_for;
	long long failures;
};
#define SIGNIN_PAIR_FIELDS(F, T) F(T, locked_for, DB_INT) F(T, failures, DB_INT)

DB_STATEMENT(
    signin_locked,
    "SELECT IF(locked_until > UTC_TIMESTAMP(6), GREATEST(1, CAST(CEIL(TIMESTAMPDIFF("
    "MICROSECOND, UTC_TIMESTAMP(6), locked_until) / 1000000) AS SIGNED)), 0) AS locked_for, "
    "CAST(IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 0, failures) AS SIGNED) "
    "AS failures "
    "FROM signin_failures WHERE username_hash = ? FOR UPDATE",
    DB_PARAMS(DB_TEXT), DB_ROW(struct signin_pair_row, SIGNIN_PAIR_FIELDS));

/* In ON DUPLICATE KEY UPDATE the assignments run in order and see the
 * values already assigned: failures first (against the old window), then
 * the window, then the lock from the new count against the threshold. */
DB_STATEMENT(
    signin_failure,
    "INSERT INTO signin_failures (username_hash, failures, window_start, locked_until) "
    "VALUES (?, 1, UTC_TIMESTAMP(6), IF(? <= 1, UTC_TIMESTAMP(6) + INTERVAL 900 SECOND, "
    "NULL)) ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 1, failures + 1), "
    "window_start = IF(failures = 1, UTC_TIMESTAMP(6), window_start), "
    "locked_until = IF(failures >= ?, UTC_TIMESTAMP(6) + INTERVAL 900 SECOND, NULL)",
    DB_PARAMS(DB_TEXT, DB_INT, DB_INT), DB_NO_ROW);

/* the failures of the account's current window, as n */
DB_STATEMENT(signin_account_failures,
	     "SELECT CAST(IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 0, failures) "
	     "AS SIGNED) AS n "
	     "FROM signin_account_failures WHERE account_hash = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(
    signin_account_failure,
    "INSERT INTO signin_account_failures (account_hash, failures, window_start) "
    "VALUES (?, 1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 1, failures + 1), "
    "window_start = IF(failures = 1, UTC_TIMESTAMP(6), window_start)",
    DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(signin_clear, "DELETE FROM signin_failures WHERE username_hash = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

/* A counter whose window has passed counts from 1 again on the next
 * failure, as if absent; one whose lock has passed locks nothing. ORDER BY
 * the column the index covers: each batch is the oldest rows, found
 * through the index, the same ones on every host. */
DB_STATEMENT(signin_purge_pairs,
	     "DELETE FROM signin_failures WHERE window_start < UTC_TIMESTAMP(6) - INTERVAL 900 "
	     "SECOND AND (locked_until IS NULL OR locked_until < UTC_TIMESTAMP(6)) "
	     "ORDER BY window_start LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

DB_STATEMENT(signin_purge_accounts,
	     "DELETE FROM signin_account_failures WHERE window_start < UTC_TIMESTAMP(6) - "
	     "INTERVAL 900 SECOND ORDER BY window_start LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status signin_purge_failures(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &signin_purge_pairs, a, deleted);
}

enum db_status signin_purge_account_failures(struct txn *t, long long limit,
					     unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &signin_purge_accounts, a, deleted);
}

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

/* Counts an attempt on the account whose hash c->account_hash holds from
 * client_addr as a failure (a success clears it later): so concurrent
 * attempts cannot check more passwords or codes in a window than the
 * threshold lets through. Nothing is counted when the address is locked
 * out (c->locked_for). DB_OK or DB_FAILED. */
static enum db_status signin_count_pair(struct txn *t, const char *client_addr,
					struct signin_count *c)
{
	struct signin_pair_row pair;
	struct db_count account_failures;
	char where[64];
	enum db_status rc;
	address_key(client_addr, where);
	sha256_hex(c->account_hash, where, c->pair_hash);

	struct db_arg h[] = {db_text(c->pair_hash)};
	struct db_arg acct[] = {db_text(c->account_hash)};
	rc = db_one(t, &signin_locked, h, &pair);
	if (rc != DB_OK && rc != DB_EMPTY)
		return rc;
	if (pair.locked_for > 0) {
		c->locked_for = (long)pair.locked_for;
		return DB_OK;
	}
	rc = db_one(t, &signin_account_failures, acct, &account_failures);
	if (rc != DB_OK && rc != DB_EMPTY)
		return rc;
	long threshold = account_failures.n >= SIGNIN_ACCOUNT_ATTACK
			     ? SIGNIN_MAX_FAILURES_UNDER_ATTACK
			     : SIGNIN_MAX_FAILURES;
	if (pair.failures >= threshold) {
		/* the account came under attack after this address failed: it
		 * has had its share */
		c->locked_for = SIGNIN_LOCK_SECONDS;
		return DB_OK;
	}
	c->locks_now = pair.failures + 1 >= threshold;
	struct db_arg f[] = {db_text(c->pair_hash), db_int(threshold), db_int(threshold)};
	if ((rc = db_exec(t, &signin_failure, f, NULL)) != DB_OK)
		return rc;
	return db_exec(t, &signin_account_failure, acct, NULL);
}

/* The hash an account's failures are counted under. */
static void account_hash_of(const char *user_id, char out[65])
{
	char account[80];
	snprintf(account, sizeof account, "user:%s", user_id);
	sha256_hex(account, NULL, out);
}

/* Counts a password attempt: canonical is the name's one spelling, or
 * NULL if it has none; lowered the name lower-cased, under which a name of
 * no account is counted. DB_OK or DB_FAILED. */
static enum db_status signin_count_attempt(struct txn *t, const struct signin_attempt *in,
					   const char *canonical, const char *lowered,
					   struct signin_count *c)
{
	enum db_status rc;
	memset(c, 0, sizeof *c);
	if (canonical != NULL) {
		rc = user_credentials_by_email(t, canonical, &c->account);
		if (rc != DB_OK && rc != DB_EMPTY)
			return rc;
		c->found = rc == DB_OK;
	}
	/* the account a name resolves to, or the name itself */
	if (c->found)
		account_hash_of(c->account.user_id, c->account_hash);
	else
		sha256_hex("name:", lowered, c->account_hash);
	return signin_count_pair(t, in->client_addr, c);
}

/* After the check: a success clears this address's count when clear; the
 * account's tenant hears of a success (success_action, NULL for none) and
 * of a failure (failure_action), and of a lock-out the failure causes.
 * DB_OK or DB_FAILED. */
static enum db_status signin_record_outcome(struct txn *t, const char *client_addr,
					    const char *request_id, const struct signin_count *c,
					    bool ok, bool clear, const char *success_action,
					    const char *failure_action)
{
	const struct user_credentials *u = &c->account;
	enum db_status rc;
	if (ok && clear) {
		struct db_arg h[] = {db_text(c->pair_hash)};
		if ((rc = db_exec(t, &signin_clear, h, NULL)) != DB_OK)
			return rc;
	}
	if (!c->found || (ok && success_action == NULL))
		return DB_OK;
	struct audit_entry e = {u->tenant_id,
				ok ? "user" : "anonymous",
				ok ? u->user_id : NULL,
				ok ? success_action : failure_action,
				"user",
				u->user_id,
				request_id,
				client_addr,
				time_micros()};
	rc = audit_write(t, &e);
	if (rc == DB_OK && !ok && c->locks_now) {
		e.action = "signin.locked_out";
		rc = audit_write(t, &e);
	}
	return rc;
}

static int locked_out(struct problem *p, long seconds)
{
	p->retry_after = (int)seconds;
	return problem_set(p, PROBLEM_TOO_MANY_REQUESTS,
			   "too many failed sign-ins; try again in %ld seconds", seconds);
}

int signin_factor_begin(struct txn *t, const char *user_id, const char *client_addr,
			struct signin_count *c, struct problem *p)
{
	enum db_status rc;
	memset(c, 0, sizeof *c);
	rc = user_credentials_by_id(t, user_id, &c->account);
	sodium_memzero(c->account.password_hash, sizeof c->account.password_hash);
	if (rc == DB_EMPTY || (rc == DB_OK && c->account.disabled))
		return problem_set(p, PROBLEM_UNAUTHENTICATED, "the user is disabled or gone");
	if (rc != DB_OK)
		return -1;
	c->found = true;
	account_hash_of(user_id, c->account_hash);
	if (signin_count_pair(t, client_addr, c) != DB_OK || txn_commit_now(t, p) != 0)
		return -1;
	if (c->locked_for > 0)
		return locked_out(p, c->locked_for);
	return 0;
}

int signin_factor_end(struct txn *t, const char *client_addr, const char *request_id,
		      const struct signin_count *c, bool ok, const char *success_action,
		      const char *failure_code, const char *failure_detail, struct problem *p)
{
	if (signin_record_outcome(t, client_addr, request_id, c, ok, true, success_action,
				  "signin.second_factor_failed") != DB_OK)
		return -1;
	if (ok)
		return 0;
	/* the failure and its audit stand although the request answers 401 */
	if (txn_commit_now(t, p) != 0)
		return -1;
	return problem_refuse(p, PROBLEM_UNAUTHENTICATED, failure_code, "%s", failure_detail);
}

int signin_check(struct txn *t, const struct signin_attempt *in, struct signin_user *out,
		 struct problem *p)
{
	char canonical[256];
	bool valid = email_canonical(in->username, canonical);
	struct signin_count c;
	int rc = -1;
	memset(&c, 0, sizeof c);
	memset(out, 0, sizeof *out);
	/* The slot is taken before the attempt is counted: a sign-in refused
	 * for want of one costs the name nothing. */
	if (password_slot_take(p) != 0)
		return -1;
	/* the count is committed before the password is checked: a refusal
	 * below rolls back nothing of it, and no transaction stays open while
	 * the hash is computed */
	if (signin_count_attempt(t, in, valid ? canonical : NULL, canonical, &c) != DB_OK ||
	    txn_commit_now(t, p) != 0)
		goto out;
	if (c.locked_for > 0) {
		locked_out(p, c.locked_for);
		goto out;
	}
	bool ok = password_slot_verify(in->password,
				       c.found ? c.account.password_hash : in->dummy_hash) &&
		  c.found && !c.account.disabled;
	/* the right password of a user with a second factor leaves the count
	 * to the code */
	bool second = ok && c.account.totp && !in->reauth;
	/* a failure's audit stands although the request answers 401 */
	if (signin_record_outcome(t, in->client_addr, in->request_id, &c, ok, !second,
				  in->reauth || second ? NULL : "signin.succeeded",
				  "signin.failed") != DB_OK ||
	    txn_commit_now(t, p) != 0)
		goto out;
	if (!ok) {
		problem_set(p, PROBLEM_UNAUTHENTICATED, "the user name or password is wrong");
		goto out;
	}
	out->second_factor = second;
	memcpy(out->user_id, c.account.user_id, sizeof out->user_id);
	memcpy(out->tenant_id, c.account.tenant_id, sizeof out->tenant_id);
	out->roles = c.account.roles;
	rc = 0;
out:
	password_slot_give();
	sodium_memzero(c.account.password_hash, sizeof c.account.password_hash);
	return rc;
}
