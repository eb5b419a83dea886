/* Sign-in with a user name and password (SPEC §2), with the lock-out:
 * 10 failures in 15 minutes lock the name for 15 minutes, whether or not
 * it exists, so that no answer tells which names are real. */
#ifndef TWOTIER_SIGNIN_H
#define TWOTIER_SIGNIN_H

#include "core/util.h"

struct db;
struct problem;

#define SIGNIN_MAX_FAILURES   10
#define SIGNIN_WINDOW_SECONDS 900
#define SIGNIN_LOCK_SECONDS   900

struct signin_user {
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	unsigned roles;
};

/* Checks username/password in a password slot (password.h). dummy_hash is
 * verified against when the name is unknown, so both paths cost one
 * argon2id. Returns 0 with *out, or -1 with p set: 401 (wrong, unknown or
 * disabled: one answer), 429 with retry_after while locked, 503 (every
 * password slot busy, or the database). */
int signin_check(struct db *db, const char *username, const char *password, const char *dummy_hash,
		 struct signin_user *out, struct problem *p);

#endif
