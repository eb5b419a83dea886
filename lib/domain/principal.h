/* The principal of a request (auth.h), loaded from the database on every
 * request so that a disabled user, a revoked token or a role taken away
 * counts at once (and a second factor required of a user who has none:
 * mfa_setup_due; mfa_required is the platform's rule): a user by its id (or an external issuer's
 * subject), a token by its hash, each with its tenant's memberships of the programme, all by
 * primary or unique keys. */
#ifndef TWOTIER_PRINCIPAL_H
#define TWOTIER_PRINCIPAL_H

#include "auth/auth.h"
#include "db/db.h"

struct problem;

/* Loads the principal that cred (auth_credential) stands for into *out
 * (zeroed first; PRINCIPAL_NONE for CREDENTIAL_NONE), in t. A token used
 * more than a minute after its last recorded use has its last_used_at
 * written. Returns 0, or -1 with p set: 401 (an unknown, revoked or
 * expired token, a token whose creator is disabled or no longer an admin,
 * an unknown or disabled user, a JWT whose tenant is not its user's; the
 * reason is in the detail and in the log), or with t failed. */
int principal_load(struct txn *t, const struct credential *cred, bool mfa_required,
		   const char *request_id, struct principal *out, struct problem *p);

#endif
