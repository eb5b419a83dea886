#include "domain/mfa.h"

#include "core/log.h"
#include "core/problem.h"
#include "domain/audit.h"
#include "domain/session.h"
#include "domain/user.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A user's second factor; text columns read "" for NULL. */
struct mfa_row {
	char secret[TOTP_SEALED_LEN];
	bool confirmed;
	char confirmed_at[TIME_STR];
	long long last_step;
	char pending[TOTP_SEALED_LEN];
	bool pending_fresh; /* waiting, and not for longer than MFA_PENDING_TTL */
};
#define MFA_FIELDS(F, T)                                                                           \
	F(T, secret, DB_TEXT)                                                                      \
	F(T, confirmed, DB_INT)                                                                    \
	F(T, confirmed_at, DB_TIME)                                                                \
	F(T, last_step, DB_INT) F(T, pending, DB_TEXT) F(T, pending_fresh, DB_INT)
#define MFA_SELECT                                                                                 \
	"SELECT totp_secret AS secret, totp_confirmed_at IS NOT NULL AS confirmed, "               \
	"totp_confirmed_at AS confirmed_at, totp_last_step AS last_step, pending_secret AS "       \
	"pending, (pending_secret IS NOT NULL AND pending_created_at > UTC_TIMESTAMP(6) - "        \
	"INTERVAL 900 SECOND) AS pending_fresh FROM user_mfa WHERE user_id = ?"

DB_STATEMENT(mfa_of_user, MFA_SELECT, DB_PARAMS(DB_TEXT), DB_ROW(struct mfa_row, MFA_FIELDS));
/* the row locked: a code, a confirmation or a removal of one user at a
 * time, so that each step is taken once */
DB_STATEMENT(mfa_of_user_locked, MFA_SELECT " FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct mfa_row, MFA_FIELDS));

DB_STATEMENT(mfa_pending_set,
	     "INSERT INTO user_mfa (user_id, pending_secret, pending_created_at) VALUES (?, ?, ?) "
	     "ON DUPLICATE KEY UPDATE pending_secret = VALUES(pending_secret), "
	     "pending_created_at = VALUES(pending_created_at)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

DB_STATEMENT(mfa_confirm,
	     "UPDATE user_mfa SET totp_secret = pending_secret, totp_confirmed_at = ?, "
	     "totp_last_step = ?, pending_secret = NULL, pending_created_at = NULL "
	     "WHERE user_id = ?",
	     DB_PARAMS(DB_TIME, DB_INT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(mfa_step_taken, "UPDATE user_mfa SET totp_last_step = ? WHERE user_id = ?",
	     DB_PARAMS(DB_INT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(mfa_delete, "DELETE FROM user_mfa WHERE user_id = ?", DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(recovery_codes_delete, "DELETE FROM recovery_codes WHERE user_id = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(recovery_code_insert,
	     "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME), DB_NO_ROW);

DB_STATEMENT(recovery_code_spend,
	     "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND "
	     "used_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(recovery_codes_left,
	     "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(challenge_insert,
	     "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at) "
	     "VALUES (?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT, DB_TIME, DB_TIME), DB_NO_ROW);

struct challenge_row {
	char user_id[UUID_STR];
	bool usable; /* not used, not expired, tries left */
};
#define CHALLENGE_FIELDS(F, T) F(T, user_id, DB_TEXT) F(T, usable, DB_INT)
#define CHALLENGE_SELECT                                                                           \
	"SELECT user_id, (used_at IS NULL AND expires_at > UTC_TIMESTAMP(6) AND failures < 5) "    \
	"AS usable FROM mfa_challenges WHERE token_hash = ?"
DB_STATEMENT(challenge_of, CHALLENGE_SELECT, DB_PARAMS(DB_TEXT),
	     DB_ROW(struct challenge_row, CHALLENGE_FIELDS));
DB_STATEMENT(challenge_of_locked, CHALLENGE_SELECT " FOR UPDATE", DB_PARAMS(DB_TEXT),
	     DB_ROW(struct challenge_row, CHALLENGE_FIELDS));

DB_STATEMENT(challenge_used, "UPDATE mfa_challenges SET used_at = ? WHERE token_hash = ?",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

DB_STATEMENT(challenge_failed,
	     "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = ?",
	     DB_PARAMS(DB_TEXT), DB_NO_ROW);

DB_STATEMENT(challenge_purge,
	     "DELETE FROM mfa_challenges WHERE expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at "
	     "LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

DB_STATEMENT(tenant_mfa_required, "SELECT mfa_required AS n FROM tenants WHERE id = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW_COUNT);

DB_STATEMENT(tenant_mfa_set, "UPDATE tenants SET mfa_required = ? WHERE id = ?",
	     DB_PARAMS(DB_INT, DB_TEXT), DB_NO_ROW);

_Static_assert(MFA_PENDING_TTL == 900 && MFA_CHALLENGE_TRIES == 5,
	       "the statements above spell these out");

/* The hex SHA-256 a recovery code is kept under: the user's id, a NUL and
 * the code as normalized. */
static void recovery_code_hash(const char *user_id, const char *normalized, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)user_id, strlen(user_id) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)normalized, strlen(normalized));
	crypto_hash_sha256_final(&st, digest);
	sodium_bin2hex(out, 65, digest, sizeof digest);
}

/* Mails the user of the actor's tenant that its second factor was set up
 * or removed, in t. */
static int mfa_mail(struct txn *t, const struct actor *a, const char *user_id,
		    enum mail_template which, struct problem *p)
{
	struct user_view u;
	if (user_get(t, a->tenant_id, user_id, &u, p) != 0)
		return -1;
	const char *domain = strchr(u.email, '@');
	struct mail_var vars[] = {{"first_name", u.first_name},
				  {"domain", domain ? domain + 1 : u.email}};
	struct outbox_mail m = {u.tenant_id, which, "en", u.email, vars, 2};
	return outbox_enqueue(t, &m) == DB_OK ? 0 : -1;
}

enum db_status mfa_status_get(struct txn *t, const char *tenant_id, const char *user_id,
			      unsigned roles, bool platform_required, struct mfa_status *out)
{
	struct mfa_row r;
	struct db_count left = {0}, tenant = {0};
	struct db_arg u[] = {db_text(user_id)};
	struct db_arg tn[] = {db_text(tenant_id)};
	enum db_status rc = db_one(t, &mfa_of_user, u, &r);
	memset(out, 0, sizeof *out);
	if (rc == DB_EMPTY)
		memset(&r, 0, sizeof r);
	else if (rc != DB_OK)
		return rc;
	if ((rc = db_one(t, &recovery_codes_left, u, &left)) != DB_OK ||
	    (rc = db_one(t, &tenant_mfa_required, tn, &tenant)) != DB_OK)
		return rc;
	out->totp = r.confirmed ? "on" : r.pending_fresh ? "pending" : "off";
	memcpy(out->confirmed_at, r.confirmed_at, sizeof out->confirmed_at);
	out->recovery_codes_left = r.confirmed ? left.n : 0;
	out->required_by_tenant = tenant.n != 0;
	out->required_by_platform = platform_required;
	out->required =
	    (out->required_by_tenant || platform_required) && (roles & MFA_POLICY_ROLES);
	return DB_OK;
}

int mfa_totp_begin(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		   const char *issuer, const char *account, char secret_b32[TOTP_SECRET_B32],
		   char *uri, size_t urisz, struct problem *p)
{
	struct mfa_row r;
	unsigned char secret[TOTP_SECRET_LEN];
	char sealed[TOTP_SEALED_LEN];
	struct db_arg u[] = {db_text(a->id)};
	int rc = -1;
	switch (db_one(t, &mfa_of_user_locked, u, &r)) {
	case DB_OK:
		if (r.confirmed)
			return problem_refuse(p, PROBLEM_CONFLICT, "mfa_already_enabled",
					      "two-step sign-in is already on; turn it off with "
					      "a code first to set up another device");
		break;
	case DB_EMPTY: break;
	default: return -1;
	}
	totp_secret_new(secret, secret_b32);
	totp_seal(key, a->id, secret, sealed);
	struct db_arg args[] = {db_text(a->id), db_text(sealed), db_time(time_micros())};
	if (totp_uri(uri, urisz, issuer, account, secret_b32) != 0)
		problem_set(p, PROBLEM_INTERNAL, "the provisioning URI does not fit");
	else if (db_exec(t, &mfa_pending_set, args, NULL) == DB_OK &&
		 audit_record(t, a, "mfa.totp_started", "user", a->id, time_micros()) == DB_OK)
		rc = 0;
	sodium_memzero(secret, sizeof secret);
	return rc;
}

/* New recovery codes of user_id, replacing any, in t. */
static enum db_status recovery_codes_new(struct txn *t, const char *user_id, micros_t at,
					 char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1])
{
	struct db_arg u[] = {db_text(user_id)};
	enum db_status rc = db_exec(t, &recovery_codes_delete, u, NULL);
	for (int i = 0; i < RECOVERY_CODES && rc == DB_OK; i++) {
		char norm[RECOVERY_CODE_CHARS + 1], hash[65];
		recovery_code_new(codes[i]);
		recovery_code_normalize(codes[i], norm);
		recovery_code_hash(user_id, norm, hash);
		struct db_arg c[] = {db_text(user_id), db_text(hash), db_time(at)};
		rc = db_exec(t, &recovery_code_insert, c, NULL);
	}
	return rc;
}

int mfa_totp_confirm(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		     const char *code, const char *keep,
		     char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1], struct problem *p)
{
	struct mfa_row r;
	unsigned char secret[TOTP_SECRET_LEN];
	struct db_arg u[] = {db_text(a->id)};
	micros_t at = time_micros();
	long long step;
	switch (db_one(t, &mfa_of_user_locked, u, &r)) {
	case DB_OK: break;
	case DB_EMPTY: r.pending_fresh = false; break;
	default: return -1;
	}
	if (!r.pending_fresh)
		return problem_refuse(p, PROBLEM_CONFLICT, "mfa_not_pending",
				      "no new secret is waiting for its first code (or it waited "
				      "longer than %d minutes): start again",
				      MFA_PENDING_TTL / 60);
	if (totp_open(key, a->id, r.pending, secret) != 0) {
		log_msg(LOG_ERROR, "a TOTP secret does not open with mfa_key");
		return problem_set(p, PROBLEM_UNAVAILABLE,
				   "the second factor cannot be checked now");
	}
	step = totp_match(secret, code, (long long)time(NULL), 0);
	sodium_memzero(secret, sizeof secret);
	if (step < 0)
		return problem_add_field(p, "code", "code_wrong",
					 "the code does not match the new secret: check that the "
					 "device's clock is right and enter the current code");
	struct db_arg c[] = {db_time(at), db_int(step), db_text(a->id)};
	if (db_exec(t, &mfa_confirm, c, NULL) != DB_OK ||
	    recovery_codes_new(t, a->id, at, codes) != DB_OK ||
	    audit_record(t, a, "mfa.totp_enabled", "user", a->id, at) != DB_OK ||
	    sessions_end_others(t, a, a->id, keep) != DB_OK)
		return -1;
	return mfa_mail(t, a, a->id, MAIL_MFA_ENABLED, p);
}

/* Checks code or recovery_code against the confirmed factor of user_id,
 * in t, its row locked: *ok. A right code's step is kept, a right
 * recovery code spent (*recovery_used). *enabled is false when the user
 * has no confirmed factor (nothing checked). Returns 0, or -1 with p set
 * (503: key is NULL, or the secret does not open with it) or with t
 * failed. */
static int factor_verify(struct txn *t, const char *user_id, const unsigned char *key,
			 const char *code, const char *recovery_code, bool *ok, bool *enabled,
			 bool *recovery_used, struct problem *p)
{
	struct mfa_row r;
	struct db_arg u[] = {db_text(user_id)};
	*ok = *enabled = *recovery_used = false;
	switch (db_one(t, &mfa_of_user_locked, u, &r)) {
	case DB_OK: break;
	case DB_EMPTY: return 0;
	default: return -1;
	}
	if (!r.confirmed)
		return 0;
	*enabled = true;
	if (recovery_code != NULL) {
		char norm[RECOVERY_CODE_CHARS + 1], hash[65];
		unsigned long long spent = 0;
		if (!recovery_code_normalize(recovery_code, norm))
			return 0;
		recovery_code_hash(user_id, norm, hash);
		struct db_arg s[] = {db_time(time_micros()), db_text(user_id), db_text(hash)};
		if (db_exec(t, &recovery_code_spend, s, &spent) != DB_OK)
			return -1;
		*ok = *recovery_used = spent == 1;
		return 0;
	}
	unsigned char secret[TOTP_SECRET_LEN];
	if (key == NULL || totp_open(key, user_id, r.secret, secret) != 0) {
		log_msg(LOG_ERROR, key == NULL ? "a second factor is set up but mfa_key is not"
					       : "a TOTP secret does not open with mfa_key");
		return problem_set(p, PROBLEM_UNAVAILABLE,
				   "the second factor cannot be checked now");
	}
	long long step = totp_match(secret, code, (long long)time(NULL), r.last_step);
	sodium_memzero(secret, sizeof secret);
	if (step < 0)
		return 0;
	struct db_arg s[] = {db_int(step), db_text(user_id)};
	if (db_exec(t, &mfa_step_taken, s, NULL) != DB_OK)
		return -1;
	*ok = true;
	return 0;
}

/* Removes user_id's factor and recovery codes, in t. */
static enum db_status factor_delete(struct txn *t, const char *user_id)
{
	struct db_arg u[] = {db_text(user_id)};
	enum db_status rc = db_exec(t, &mfa_delete, u, NULL);
	return rc == DB_OK ? db_exec(t, &recovery_codes_delete, u, NULL) : rc;
}

int mfa_totp_remove(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		    const char *code, const char *recovery_code, struct problem *p)
{
	struct signin_count c;
	bool ok, enabled, recovery_used;
	struct mfa_row r;
	struct db_arg u[] = {db_text(a->id)};
	enum db_status st = db_one(t, &mfa_of_user, u, &r);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	if (st == DB_EMPTY || !r.confirmed)
		return problem_refuse(p, PROBLEM_CONFLICT, "mfa_not_enabled",
				      "two-step sign-in is not on");
	/* a stolen access token does not guess codes: they count as
	 * sign-in failures */
	if (signin_factor_begin(t, a->id, a->client_addr, &c, p) != 0 ||
	    factor_verify(t, a->id, key, code, recovery_code, &ok, &enabled, &recovery_used, p) !=
		0)
		return -1;
	if (signin_factor_end(t, a->client_addr, a->request_id, &c, ok && enabled, NULL,
			      "code_wrong", "the code is wrong", p) != 0) {
		/* the caller is signed in: a 401 would tell a front end it is not */
		if (p->kind == PROBLEM_UNAUTHENTICATED) {
			problem_clear(p);
			problem_refuse(p, PROBLEM_FORBIDDEN, "code_wrong", "the code is wrong");
		}
		return -1;
	}
	micros_t at = time_micros();
	if (factor_delete(t, a->id) != DB_OK ||
	    audit_record(t, a, "mfa.totp_disabled", "user", a->id, at) != DB_OK)
		return -1;
	return mfa_mail(t, a, a->id, MAIL_MFA_DISABLED, p);
}

int mfa_reset(struct txn *t, const struct actor *a, const char *user_id, struct problem *p)
{
	struct user_view target;
	struct mfa_row r;
	struct db_arg u[] = {db_text(user_id)};
	enum db_status st;
	if (user_get(t, a->tenant_id, user_id, &target, p) != 0)
		return -1;
	st = db_one(t, &mfa_of_user_locked, u, &r);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	if (st == DB_EMPTY || !r.confirmed)
		return problem_refuse(p, PROBLEM_CONFLICT, "mfa_not_enabled",
				      "the user has no second factor");
	micros_t at = time_micros();
	if (factor_delete(t, user_id) != DB_OK ||
	    audit_record(t, a, "mfa.reset", "user", user_id, at) != DB_OK ||
	    sessions_end_all(t, a, user_id) != 0)
		return -1;
	return mfa_mail(t, a, user_id, MAIL_MFA_DISABLED, p);
}

enum db_status mfa_challenge_start(struct txn *t, const char *user_id,
				   char token[LINK_TOKEN_LEN + 1])
{
	char hash[65];
	micros_t at = time_micros();
	link_token_generate(token, hash);
	struct db_arg a[] = {db_text(hash), db_text(user_id), db_time(at),
			     db_time(at + MFA_CHALLENGE_TTL * 1000000LL)};
	return db_exec(t, &challenge_insert, a, NULL);
}

static int challenge_invalid(struct problem *p)
{
	return problem_refuse(p, PROBLEM_UNAUTHENTICATED, "mfa_challenge_invalid",
			      "the sign-in has expired or was used up: sign in again with the "
			      "password");
}

int mfa_challenge_complete(struct txn *t, const struct mfa_answer *in, const unsigned char *key,
			   struct signin_user *out, struct problem *p)
{
	struct challenge_row ch;
	struct signin_count c;
	char hash[65];
	bool ok, enabled, recovery_used;
	memset(out, 0, sizeof *out);
	api_token_hash(in->challenge, hash);
	struct db_arg h[] = {db_text(hash)};
	switch (db_one(t, &challenge_of, h, &ch)) {
	case DB_OK: break;
	case DB_EMPTY: return challenge_invalid(p);
	default: return -1;
	}
	if (!ch.usable)
		return challenge_invalid(p);
	/* counted, and the count committed, before the code is checked */
	if (signin_factor_begin(t, ch.user_id, in->client_addr, &c, p) != 0)
		return -1;
	/* two answers to one challenge take turns: the second finds it used */
	switch (db_one(t, &challenge_of_locked, h, &ch)) {
	case DB_OK: break;
	case DB_EMPTY: return challenge_invalid(p);
	default: return -1;
	}
	if (!ch.usable)
		return challenge_invalid(p);
	if (factor_verify(t, ch.user_id, key, in->code, in->recovery_code, &ok, &enabled,
			  &recovery_used, p) != 0)
		return -1;
	if (!enabled) /* removed since the password was checked */
		return challenge_invalid(p);
	struct db_arg used[] = {db_time(time_micros()), db_text(hash)};
	if (db_exec(t, ok ? &challenge_used : &challenge_failed, ok ? used : h, NULL) != DB_OK ||
	    signin_factor_end(t, in->client_addr, in->request_id, &c, ok, "signin.succeeded",
			      "mfa_code_wrong",
			      in->recovery_code != NULL
				  ? "the recovery code is wrong or was used before"
				  : "the code is wrong (or was used before): enter the current one",
			      p) != 0)
		return -1;
	if (recovery_used) {
		struct actor a = {
		    "user", ch.user_id, c.account.tenant_id, in->request_id, in->client_addr, 0,
		    NULL,   NULL};
		if (audit_record(t, &a, "mfa.recovery_code_used", "user", ch.user_id,
				 time_micros()) != DB_OK)
			return -1;
	}
	memcpy(out->user_id, c.account.user_id, sizeof out->user_id);
	memcpy(out->tenant_id, c.account.tenant_id, sizeof out->tenant_id);
	out->roles = c.account.roles;
	return 0;
}

enum db_status mfa_policy_get(struct txn *t, const char *tenant_id, bool *required)
{
	struct db_count n = {0};
	struct db_arg a[] = {db_text(tenant_id)};
	enum db_status rc = db_one(t, &tenant_mfa_required, a, &n);
	*required = n.n != 0;
	return rc;
}

int mfa_policy_set(struct txn *t, const struct actor *a, bool required, struct problem *p)
{
	struct mfa_row r;
	struct db_arg u[] = {db_text(a->id)};
	enum db_status st = db_one(t, &mfa_of_user, u, &r);
	if (st != DB_OK && st != DB_EMPTY)
		return -1;
	/* the admin who requires it would be the first kept out */
	if (required && (st == DB_EMPTY || !r.confirmed))
		return problem_refuse(p, PROBLEM_CONFLICT, "mfa_not_enabled",
				      "set up two-step sign-in for yourself before requiring it");
	struct db_arg s[] = {db_int(required), db_text(a->tenant_id)};
	if (db_exec(t, &tenant_mfa_set, s, NULL) != DB_OK ||
	    audit_record(t, a, required ? "tenant.mfa_required" : "tenant.mfa_not_required",
			 "tenant", a->tenant_id, time_micros()) != DB_OK)
		return -1;
	return 0;
}

enum db_status mfa_challenge_purge(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &challenge_purge, a, deleted);
}
