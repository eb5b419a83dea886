/* Sign-in with a user name and password (SPEC §2), with lock-outs that a
 * stranger cannot turn against the owner (issue 7):
 *
 *  - a name resolves to one account whatever its spelling: the address in
 *    its one canonical form (lower-case ASCII, nothing around it), compared
 *    byte for byte; a name that resolves to no account is counted under its
 *    own lower-cased text, so that no answer tells which names are real;
 *  - failures are counted per (account, client address; an IPv6 address by
 *    its /64, which one host holds whole): SIGNIN_MAX_FAILURES
 *    in SIGNIN_WINDOW_SECONDS lock that address out of that account for
 *    SIGNIN_LOCK_SECONDS (429), and the owner signs in from any other;
 *  - failures are also counted per account across addresses: past
 *    SIGNIN_ACCOUNT_ATTACK in the window the account is under attack, and
 *    each address gets only SIGNIN_MAX_FAILURES_UNDER_ATTACK failures, which
 *    throttles guessing spread over many addresses while an address with
 *    no failures (the owner's) still signs in.
 *
 * Sign-ins, failures and lock-outs of an account are in its tenant's
 * audit log. */
#ifndef TWOTIER_SIGNIN_H
#define TWOTIER_SIGNIN_H

#include "core/util.h"
#include "db/db.h"
#include "domain/user.h"

struct problem;

#define SIGNIN_MAX_FAILURES		 10
#define SIGNIN_MAX_FAILURES_UNDER_ATTACK 3
#define SIGNIN_ACCOUNT_ATTACK		 50
#define SIGNIN_WINDOW_SECONDS		 900
#define SIGNIN_LOCK_SECONDS		 900

struct signin_user {
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	unsigned roles;
	/* the password was right and the user has a second factor: the
	 * sign-in is not done until a code is (mfa.h) */
	bool second_factor;
};

/* The attempt: all borrowed. */
struct signin_attempt {
	const char *username, *password;
	const char *client_addr; /* nginx's REMOTE_ADDR */
	const char *request_id;
	const char *dummy_hash; /* verified when the name is unknown: both cost one argon2id */
	/* a signed-in user proving the password again (a password change):
	 * no sign-in is audited and no second factor asked */
	bool reauth;
};

/* Checks the attempt in a password slot (password.h), in t: the attempt
 * is counted, and the count committed (txn_commit_now), before the
 * password is checked, and the outcome's audit committed although a
 * failure answers 401. The right password of a user with a second factor
 * leaves the count standing until the code is right (out->second_factor):
 * guesses of codes count toward the same lock-out. Returns 0 with *out,
 * or -1 with p set: 401 (wrong, unknown or disabled: one answer), 429 with
 * retry_after while this address is locked out of the account, 503 (every
 * password slot busy, or a commit failed); or with t failed. */
int signin_check(struct txn *t, const struct signin_attempt *in, struct signin_user *out,
		 struct problem *p);

/* What counting an attempt found. */
struct signin_count {
	struct user_credentials account; /* the name's account, when found */
	bool found;
	char pair_hash[65], account_hash[65];
	long locked_for; /* seconds this address is still locked out, or 0 */
	bool locks_now;	 /* a failure now locks this address out */
};

/* A factor other than the password (a code of the second factor, mfa.c),
 * counted as the password is. signin_factor_begin counts an attempt of
 * user_id from client_addr as a failure and commits the count, into *c
 * (with the account); 0, or -1 with p set: 401 when the user is gone or
 * disabled, 429 while the address is locked out; or with t failed.
 * signin_factor_end records the outcome: a success clears the count and
 * audits success_action (NULL: none); a failure is audited, committed,
 * and answers 401 with p's detail and code set to failure_detail and
 * failure_code. Returns 0 on a success, else -1. */
int signin_factor_begin(struct txn *t, const char *user_id, const char *client_addr,
			struct signin_count *c, struct problem *p);
int signin_factor_end(struct txn *t, const char *client_addr, const char *request_id,
		      const struct signin_count *c, bool ok, const char *success_action,
		      const char *failure_code, const char *failure_detail, struct problem *p);

/* For the purge (purge.c): delete up to limit counters, the oldest first,
 * of addresses whose window and lock have passed, and of accounts whose
 * window has; *deleted: how many. DB_OK or DB_FAILED. */
enum db_status signin_purge_failures(struct txn *t, long long limit, unsigned long long *deleted);
enum db_status signin_purge_account_failures(struct txn *t, long long limit,
					     unsigned long long *deleted);

#endif
