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
};

/* The attempt: all borrowed. */
struct signin_attempt {
	const char *username, *password;
	const char *client_addr; /* nginx's REMOTE_ADDR */
	const char *request_id;
	const char *dummy_hash; /* verified when the name is unknown: both cost one argon2id */
};

/* Checks the attempt in a password slot (password.h), in t: the attempt
 * is counted, and the count committed (txn_commit_now), before the
 * password is checked, and the outcome's audit committed although a
 * failure answers 401. Returns 0 with *out, or -1 with p set: 401 (wrong,
 * unknown or disabled: one answer), 429 with retry_after while this
 * address is locked out of the account, 503 (every password slot busy, or
 * a commit failed); or with t failed. */
int signin_check(struct txn *t, const struct signin_attempt *in, struct signin_user *out,
		 struct problem *p);

/* For the purge (purge.c): delete up to limit counters, the oldest first,
 * of addresses whose window and lock have passed, and of accounts whose
 * window has; *deleted: how many. DB_OK or DB_FAILED. */
enum db_status signin_purge_failures(struct txn *t, long long limit, unsigned long long *deleted);
enum db_status signin_purge_account_failures(struct txn *t, long long limit,
					     unsigned long long *deleted);

#endif
