#include "auth/signin.h"

#include "auth/auth.h"
#include "auth/password.h"
#include "core/problem.h"
#include "db/db.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Reads (and locks) the name's row whether or not it is locked out. */
const struct db_stmt_def stmt_signin_locked = {
    STMT_signin_locked, "signin_locked",
    "SELECT IF(locked_until > UTC_TIMESTAMP(6), GREATEST(1, CEIL(TIMESTAMPDIFF(MICROSECOND, "
    "UTC_TIMESTAMP(6), locked_until) / 1000000)), 0) "
    "FROM signin_failures WHERE username_hash = ? FOR UPDATE",
    1, 1};

const struct db_stmt_def stmt_signin_user = {
    STMT_signin_user, "signin_user",
    "SELECT id, tenant_id, password_hash, disabled, roles FROM users WHERE email = ?", 1, 5};

/* In ON DUPLICATE KEY UPDATE the assignments run in order and see the
 * values already assigned: failures first (against the old window), then
 * the window, then the lock from the new count. */
const struct db_stmt_def stmt_signin_failure = {
    STMT_signin_failure, "signin_failure",
    "INSERT INTO signin_failures (username_hash, failures, window_start, locked_until) "
    "VALUES (?, 1, UTC_TIMESTAMP(6), NULL) ON DUPLICATE KEY UPDATE "
    "failures = IF(window_start < UTC_TIMESTAMP(6) - INTERVAL 900 SECOND, 1, failures + 1), "
    "window_start = IF(failures = 1, UTC_TIMESTAMP(6), window_start), "
    "locked_until = IF(failures >= 10, UTC_TIMESTAMP(6) + INTERVAL 900 SECOND, NULL)",
    1, 0};

const struct db_stmt_def stmt_signin_clear = {
    STMT_signin_clear, "signin_clear", "DELETE FROM signin_failures WHERE username_hash = ?", 1, 0};

struct lookup_work {
	const char *username, *name_hash;
	long locked_for;
	bool found, disabled;
	char hash[PASSWORD_HASH_MAX];
	struct signin_user *out;
};

/* Every attempt is counted as a failure before its password is checked,
 * and cleared only when it succeeds: so concurrent attempts cannot check
 * more than SIGNIN_MAX_FAILURES passwords in a window. The row lock taken
 * by the first statement makes attempts on one name wait for each other. */
static enum db_status lookup_run(struct db *db, void *arg, struct problem *p)
{
	struct lookup_work *w = arg;
	struct db_rows rows = {0, 0, NULL};
	struct db_arg h[] = {db_str(w->name_hash)};
	enum db_status rc = db_exec(db, STMT_signin_locked, h, &rows, NULL);
	w->locked_for = 0;
	w->found = false;
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows > 0 && atol(db_cell(&rows, 0, 0)) > 0) {
		w->locked_for = atol(db_cell(&rows, 0, 0));
		goto out;
	}
	db_rows_free(&rows);
	rc = db_exec(db, STMT_signin_failure, h, NULL, NULL);
	if (rc != DB_OK)
		goto out;
	struct db_arg u[] = {db_str(w->username)};
	rc = db_exec(db, STMT_signin_user, u, &rows, NULL);
	if (rc != DB_OK || rows.n_rows == 0)
		goto out;
	w->found = true;
	db_cell_copy(&rows, 0, 0, w->out->user_id, UUID_STR);
	db_cell_copy(&rows, 0, 1, w->out->tenant_id, UUID_STR);
	db_cell_copy(&rows, 0, 2, w->hash, sizeof w->hash);
	w->disabled = strcmp(db_cell(&rows, 0, 3), "0") != 0;
	w->out->roles = roles_from_csv(db_cell(&rows, 0, 4));
out:
	db_rows_free(&rows);
	return rc;
}

static enum db_status clear_run(struct db *db, void *arg, struct problem *p)
{
	const struct lookup_work *w = arg;
	struct db_arg h[] = {db_str(w->name_hash)};
	return db_exec(db, STMT_signin_clear, h, NULL, NULL);
}

int signin_check(struct db *db, const char *username, const char *password, const char *dummy_hash,
		 struct signin_user *out, struct problem *p)
{
	char lower[256], name_hash[65];
	unsigned char digest[32];
	size_t n = strlen(username);
	struct lookup_work w = {username, name_hash, 0, false, false, "", out};
	int rc = -1;
	if (n >= sizeof lower)
		n = sizeof lower - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)username[i]);
	lower[n] = '\0';
	EVP_Digest(lower, n, digest, NULL, EVP_sha256(), NULL);
	sodium_bin2hex(name_hash, sizeof name_hash, digest, sizeof digest);

	/* The slot is taken before the attempt is counted: a sign-in refused
	 * for want of one costs the name nothing. */
	if (password_slot_take(p) != 0)
		return -1;
	if (db_run(db, lookup_run, &w, p) != 0)
		goto out;
	if (w.locked_for > 0) {
		p->retry_after = (int)w.locked_for;
		problem_set(p, PROBLEM_TOO_MANY_REQUESTS,
			    "too many failed sign-ins; try again in %ld seconds", w.locked_for);
		goto out;
	}
	bool ok = password_slot_verify(password, w.found ? w.hash : dummy_hash) && w.found;
	if (!ok || w.disabled) {
		problem_set(p, PROBLEM_UNAUTHENTICATED, "the user name or password is wrong");
		goto out;
	}
	if (db_run(db, clear_run, &w, p) != 0)
		goto out;
	rc = 0;
out:
	password_slot_give();
	sodium_memzero(w.hash, sizeof w.hash);
	return rc;
}
