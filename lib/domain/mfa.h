/* The second factor of a person (issue 18): a TOTP secret (auth/totp.h)
 * set up by the user and confirmed by a first code, recovery codes, the
 * second step of a sign-in, and the tenant's rule that its admins must
 * have one.
 *
 *  - Sign-in: the right password of a user with a confirmed secret answers
 *    a challenge (signin.h: second_factor), never before the password is
 *    right; the challenge and a code or a recovery code complete it. Codes
 *    and passwords are counted toward one lock-out (signin_factor_begin);
 *    a challenge takes MFA_CHALLENGE_TRIES codes and lasts
 *    MFA_CHALLENGE_TTL seconds.
 *  - A code is taken once: the step it was taken for is kept, and only a
 *    later step's code is taken after it.
 *  - Required: for the roles MFA_POLICY_ROLES, by the tenant
 *    (tenants.mfa_required) or the whole platform (mfa_required in the
 *    configuration). Such a user without a confirmed secret signs in with
 *    the password but may only set one up (principal.h: mfa_setup_due;
 *    the routes marked ROUTE_MFA_SETUP).
 *
 * Setting one up or removing one is audited, mailed to the user, and ends
 * the user's other sessions. */
#ifndef TWOTIER_MFA_H
#define TWOTIER_MFA_H

#include <stdbool.h>

#include "auth/auth.h"
#include "auth/totp.h"
#include "core/util.h"
#include "db/db.h"
#include "domain/signin.h"

struct problem;
struct actor;

#define MFA_CHALLENGE_TTL   300
#define MFA_CHALLENGE_TRIES 5
#define MFA_PENDING_TTL	    900 /* a new secret waits this long for its first code */
#define MFA_POLICY_ROLES    (ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT | ROLE_OPERATOR)

struct mfa_status {
	const char *totp; /* "off", "pending" (waiting for its first code), "on" */
	char confirmed_at[TIME_STR];
	long long recovery_codes_left;
	bool required; /* by the tenant or the platform, for the user's roles */
	bool required_by_tenant, required_by_platform;
};

/* The second factor of user_id (of tenant_id, holding roles), in t; the
 * platform's rule is platform_required. DB_OK or DB_FAILED. */
enum db_status mfa_status_get(struct txn *t, const char *tenant_id, const char *user_id,
			      unsigned roles, bool platform_required, struct mfa_status *out);

/* A new secret for the actor (a user), waiting for its first code, in t:
 * secret_b32 and uri (otpauth://, issuer and account named) for the app.
 * Returns 0, or -1 with p set: 409 mfa_already_enabled (a confirmed one
 * is removed first, with a code); or with t failed. */
int mfa_totp_begin(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		   const char *issuer, const char *account, char secret_b32[TOTP_SECRET_B32],
		   char *uri, size_t urisz, struct problem *p);

/* Confirms the actor's waiting secret with code, in t: it becomes the
 * user's second factor, codes receives new recovery codes (shown once),
 * the user's sessions but keep end. Returns 0, or -1 with p set: 400
 * (code wrong), 409 mfa_not_pending (none waiting, or it waited too
 * long); or with t failed. */
int mfa_totp_confirm(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		     const char *code, const char *keep,
		     char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1], struct problem *p);

/* Removes the actor's second factor, proven by code or recovery_code (one
 * of them NULL), counted toward the sign-in lock-out, in t. Returns 0, or
 * -1 with p set: 403 code_wrong, 409 mfa_not_enabled, 429; or with t
 * failed. */
int mfa_totp_remove(struct txn *t, const struct actor *a, const unsigned char key[TOTP_KEY_LEN],
		    const char *code, const char *recovery_code, struct problem *p);

/* A global admin removes the second factor of user_id of its tenant (a
 * lost phone and lost codes), ending the user's sessions, in t. Returns
 * 0, or -1 with p set: 404, 409 mfa_not_enabled; or with t failed. */
int mfa_reset(struct txn *t, const struct actor *a, const char *user_id, struct problem *p);

/* The challenge of user_id's half-done sign-in, in t: token (shown once).
 * DB_OK or DB_FAILED. */
enum db_status mfa_challenge_start(struct txn *t, const char *user_id,
				   char token[LINK_TOKEN_LEN + 1]);

/* The second step: all borrowed; one of code and recovery_code is NULL. */
struct mfa_answer {
	const char *challenge, *code, *recovery_code;
	const char *client_addr, *request_id;
};

/* Completes a sign-in, in t: *out the user. Returns 0, or -1 with p set:
 * 401 mfa_challenge_invalid (unknown, used, expired, or out of tries:
 * sign in again), 401 mfa_code_wrong (the challenge stands), 429; 503 when
 * key is NULL (no mfa_key); or with t failed. */
int mfa_challenge_complete(struct txn *t, const struct mfa_answer *in, const unsigned char *key,
			   struct signin_user *out, struct problem *p);

/* The tenant's rule, in t. */
enum db_status mfa_policy_get(struct txn *t, const char *tenant_id, bool *required);
/* Sets it (a global admin), in t. Returns 0, or -1 with p set: 409
 * mfa_not_enabled when the admin requires it without having one; or with
 * t failed. */
int mfa_policy_set(struct txn *t, const struct actor *a, bool required, struct problem *p);

/* Deletes up to limit challenges past their end (the purge). */
enum db_status mfa_challenge_purge(struct txn *t, long long limit, unsigned long long *deleted);

#endif
