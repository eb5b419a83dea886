#include "domain/principal.h"

#include "core/problem.h"
#include "domain/api_token.h"
#include "domain/mfa.h"

#include <sodium.h>
#include <string.h>

/* A user and its tenant's memberships, by primary keys: roles and
 * partner types are SETs on the two rows, read as their bits. */
struct principal_user_row {
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	bool disabled;
	unsigned roles;
	unsigned partner_types;
	bool session_going; /* the token's session has not ended (1 without one) */
	/* a second factor is required of the user (by its tenant, or by the
	 * platform: the first parameter) and it has none */
	bool mfa_setup_due;
};
#define PRINCIPAL_USER_FIELDS(F, T)                                                                \
	F(T, user_id, DB_TEXT)                                                                     \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, disabled, DB_INT)                                                                     \
	F(T, roles, DB_INT)                                                                        \
	F(T, partner_types, DB_INT) F(T, session_going, DB_INT) F(T, mfa_setup_due, DB_INT)
/* the roles of MFA_POLICY_ROLES (mfa.h) are the SET's first, second and
 * sixth members */
#define PRINCIPAL_MFA_DUE                                                                          \
	"((t.mfa_required OR ?) AND u.roles & 35 <> 0 AND NOT EXISTS (SELECT 1 FROM user_mfa m "   \
	"WHERE m.user_id = u.id AND m.totp_confirmed_at IS NOT NULL))"
#define PRINCIPAL_USER_SELECT(session, mfa_due)                                                    \
	"SELECT u.id AS user_id, u.tenant_id, u.disabled, u.roles + 0 AS roles, "                  \
	"t.partner_types + 0 AS partner_types, " session " AS session_going, " mfa_due             \
	" AS mfa_setup_due FROM users u JOIN tenants t ON t.id = u.tenant_id "
_Static_assert(MFA_POLICY_ROLES == 35, "PRINCIPAL_MFA_DUE spells the roles out");

DB_STATEMENT(principal_user_by_id, PRINCIPAL_USER_SELECT("1", PRINCIPAL_MFA_DUE) "WHERE u.id = ?",
	     DB_PARAMS(DB_INT, DB_TEXT), DB_ROW(struct principal_user_row, PRINCIPAL_USER_FIELDS));

/* A token of a session: still the user's, and not ended (one statement,
 * as the principal costs one on every request). */
DB_STATEMENT(principal_user_by_session,
	     PRINCIPAL_USER_SELECT("EXISTS (SELECT 1 FROM sessions s WHERE s.id = ? AND "
				   "s.user_id = u.id AND s.ended_at IS NULL)",
				   PRINCIPAL_MFA_DUE) "WHERE u.id = ?",
	     DB_PARAMS(DB_TEXT, DB_INT, DB_TEXT),
	     DB_ROW(struct principal_user_row, PRINCIPAL_USER_FIELDS));

/* An external identity provider's user: its provider answers for how it
 * signed in, so nothing of ours is due */
DB_STATEMENT(principal_user_by_external,
	     PRINCIPAL_USER_SELECT("1",
				   "0") "WHERE u.external_issuer = ? AND u.external_subject = ?",
	     DB_PARAMS(DB_TEXT, DB_TEXT), DB_ROW(struct principal_user_row, PRINCIPAL_USER_FIELDS));

/* A token with its tenant's memberships and what its creator is now: the
 * token works while its creator could make it again. */
struct principal_token_row {
	char token_id[UUID_STR];
	char tenant_id[UUID_STR];
	char created_by[UUID_STR];
	unsigned scopes;
	char token_hash[65];
	bool expired, revoked;
	bool touch_due; /* last_used_at is a minute old or more, or unset */
	unsigned partner_types;
	bool creator_disabled;
	unsigned creator_roles;
};
#define PRINCIPAL_TOKEN_FIELDS(F, T)                                                               \
	F(T, token_id, DB_TEXT)                                                                    \
	F(T, tenant_id, DB_TEXT)                                                                   \
	F(T, created_by, DB_TEXT)                                                                  \
	F(T, scopes, DB_INT)                                                                       \
	F(T, token_hash, DB_TEXT)                                                                  \
	F(T, expired, DB_INT)                                                                      \
	F(T, revoked, DB_INT)                                                                      \
	F(T, touch_due, DB_INT)                                                                    \
	F(T, partner_types, DB_INT) F(T, creator_disabled, DB_INT) F(T, creator_roles, DB_INT)

DB_STATEMENT(principal_token_by_hash,
	     "SELECT t.id AS token_id, t.tenant_id, t.created_by, t.scopes + 0 AS scopes, "
	     "t.token_hash, t.expires_at <= UTC_TIMESTAMP(6) AS expired, "
	     "t.revoked_at IS NOT NULL AS revoked, (t.last_used_at IS NULL OR "
	     "t.last_used_at < UTC_TIMESTAMP(6) - INTERVAL 60 SECOND) AS touch_due, "
	     "tn.partner_types + 0 AS partner_types, u.disabled AS creator_disabled, "
	     "u.roles + 0 AS creator_roles FROM api_tokens t "
	     "JOIN users u ON u.id = t.created_by JOIN tenants tn ON tn.id = t.tenant_id "
	     "WHERE t.token_hash = ?",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct principal_token_row, PRINCIPAL_TOKEN_FIELDS));

static int principal_of_token(struct txn *t, const char *hash, const char *request_id,
			      struct principal *out, struct problem *p)
{
	struct principal_token_row r;
	struct db_arg a[] = {db_text(hash)};
	const char *refusal = NULL;
	switch (db_one(t, &principal_token_by_hash, a, &r)) {
	case DB_OK: break;
	case DB_EMPTY: return auth_refuse(p, "the API token is not known", request_id);
	default: return -1;
	}
	/* the index found it; the comparison that decides takes constant time */
	if (sodium_memcmp(r.token_hash, hash, 64) != 0)
		refusal = "the API token is not known";
	else if (r.revoked)
		refusal = "the API token has been revoked";
	else if (r.expired)
		refusal = "the API token has expired";
	else if (r.creator_disabled)
		refusal = "the API token's creator is disabled";
	else if (!(r.creator_roles & API_TOKEN_CREATOR_ROLES))
		refusal = "the API token's creator is no longer an admin agent";
	if (refusal != NULL)
		return auth_refuse(p, refusal, request_id);
	/* last_used_at is kept to the minute so that a busy token costs no
	 * write per request */
	if (r.touch_due && api_token_touch(t, r.token_id) != DB_OK)
		return -1;
	out->kind = PRINCIPAL_TOKEN;
	memcpy(out->token_id, r.token_id, sizeof out->token_id);
	memcpy(out->tenant_id, r.tenant_id, sizeof out->tenant_id);
	memcpy(out->user_id, r.created_by, sizeof out->user_id);
	out->scopes = r.scopes;
	out->partner_types = r.partner_types;
	return 0;
}

static int principal_of_user(struct txn *t, const struct credential *cred, bool mfa_required,
			     const char *request_id, struct principal *out, struct problem *p)
{
	struct principal_user_row r;
	enum db_status rc;
	if (cred->external_issuer != NULL) {
		struct db_arg a[] = {db_text(cred->external_issuer), db_text(cred->sub)};
		rc = db_one(t, &principal_user_by_external, a, &r);
	} else if (cred->sid[0] != '\0') {
		struct db_arg a[] = {db_text(cred->sid), db_int(mfa_required), db_text(cred->sub)};
		rc = db_one(t, &principal_user_by_session, a, &r);
	} else {
		struct db_arg a[] = {db_int(mfa_required), db_text(cred->sub)};
		rc = db_one(t, &principal_user_by_id, a, &r);
	}
	if (rc == DB_EMPTY)
		return auth_refuse(p, "the token's user does not exist", request_id);
	if (rc != DB_OK)
		return -1;
	/* an external issuer knows nothing of our tenants: its subject alone
	 * names the user */
	if (cred->external_issuer == NULL && strcmp(r.tenant_id, cred->tid) != 0)
		return auth_refuse(p, "the token's tenant does not match its user", request_id);
	if (r.disabled)
		return auth_refuse(p, "the user is disabled", request_id);
	if (!r.session_going)
		return auth_refuse(p, "the token's session has ended", request_id);
	out->kind = PRINCIPAL_USER;
	memcpy(out->session_id, cred->sid, sizeof out->session_id);
	memcpy(out->user_id, r.user_id, sizeof out->user_id);
	memcpy(out->tenant_id, r.tenant_id, sizeof out->tenant_id);
	out->roles = r.roles;
	out->partner_types = r.partner_types;
	out->mfa_setup_due = r.mfa_setup_due;
	return 0;
}

int principal_load(struct txn *t, const struct credential *cred, bool mfa_required,
		   const char *request_id, struct principal *out, struct problem *p)
{
	memset(out, 0, sizeof *out);
	switch (cred->kind) {
	case CREDENTIAL_NONE: return 0;
	case CREDENTIAL_TOKEN: return principal_of_token(t, cred->token_hash, request_id, out, p);
	case CREDENTIAL_JWT: return principal_of_user(t, cred, mfa_required, request_id, out, p);
	}
	return 0;
}
