/* Sign-in, the public keys, and who am I. */
#include "api/app.h"
#include "api/settings.h"
#include "api/handlers.h"
#include "auth/auth.h"
#include "auth/jwt_token.h"
#include "domain/mfa.h"
#include "domain/signin.h"
#include "core/config.h"
#include "core/util.h"
#include "domain/user.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 200 the JWK Set that verifies our tokens (empty for HS256). */
int handle_jwks(struct ctx *c)
{
	int rc = ctx_json(c, 200, jwt_jwks(c->settings->keys, c->settings->n_own));
	c->res->content_type = "application/jwk-set+json";
	return rc;
}

const struct json_field signin_schema[] = {
    /* the first step: the password */
    {"username", JSON_STRING, false, 254, NULL},
    {"password", JSON_STRING, false, PASSWORD_MAX, NULL},
    /* the second, for a user with a second factor: the first step's
     * challenge, and a code or a recovery code */
    {"challenge", JSON_STRING, false, 64, NULL},
    {"code", JSON_STRING, false, 16, NULL},
    {"recoveryCode", JSON_STRING, false, 32, NULL},
    /* a browser's: the refresh token in an HttpOnly cookie, not the body */
    {"cookie", JSON_BOOL, false, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static bool wants_cookie(const struct ctx *c)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->body, "cookie"));
}

/* The password was right and the user has a second factor: 401
 * mfa_required with a challenge, which stands although the request
 * fails. */
static int signin_challenge(struct ctx *c, const struct signin_user *user)
{
	char token[LINK_TOKEN_LEN + 1];
	struct problem *p = &c->problem;
	if (mfa_challenge_start(&c->txn, user->user_id, token) == DB_OK &&
	    txn_commit_now(&c->txn, p) == 0) {
		problem_refuse(p, PROBLEM_UNAUTHENTICATED, "mfa_required",
			       "enter the code from your authenticator app, or a recovery code");
		problem_extend(p, "challenge", token);
	}
	sodium_memzero(token, sizeof token);
	return -1;
}

/* The second step: {challenge, code | recoveryCode}. */
static int signin_second_step(struct ctx *c, const char *challenge)
{
	struct signin_user user;
	struct problem *p = &c->problem;
	const char *code = json_str(c->body, "code");
	const char *recovery = json_str(c->body, "recoveryCode");
	if (json_str(c->body, "username") != NULL || json_str(c->body, "password") != NULL)
		return problem_add_field(p, "challenge", "conflict",
					 "the second step takes the challenge and a code, not the "
					 "user name and password again");
	if (mfa_check_one_code(p, code, recovery) != 0)
		return -1;
	struct mfa_answer in = {challenge, code, recovery, c->client_addr, c->req->request_id};
	if (mfa_challenge_complete(&c->txn, &in,
				   c->settings->has_mfa_key ? c->settings->mfa_key : NULL, &user,
				   p) != 0)
		return -1;
	return ctx_session_start(c, user.user_id, user.tenant_id, user.roles, wants_cookie(c));
}

/* 200 {accessToken, tokenType, expiresIn, sessionId, refreshToken} (with
 * "cookie": true the refresh token in a cookie instead); 400; 401 (one
 * answer for a wrong password, an unknown or a disabled user;
 * mfa_required with a challenge when the password was right and a code
 * must follow; mfa_challenge_invalid, mfa_code_wrong at the second step);
 * 429 locked; 503. */
int handle_signin(struct ctx *c)
{
	struct signin_user user;
	struct problem *p = &c->problem;
	const char *challenge = json_str(c->body, "challenge");
	const char *username = json_str(c->body, "username");
	const char *password = json_str(c->body, "password");
	if (challenge != NULL)
		return signin_second_step(c, challenge);
	if (username == NULL)
		problem_add_field(p, "username", "required", "is required");
	if (password == NULL)
		problem_add_field(p, "password", "required", "is required");
	if (json_str(c->body, "code") != NULL || json_str(c->body, "recoveryCode") != NULL)
		problem_add_field(p, "challenge", "required",
				  "a code is taken with the challenge of the first step");
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct signin_attempt in = {username,		password,	    c->client_addr,
				    c->req->request_id, c->app->dummy_hash, false};
	if (signin_check(&c->txn, &in, &user, p) != 0)
		return -1;
	if (user.second_factor)
		return signin_challenge(c, &user);
	return ctx_session_start(c, user.user_id, user.tenant_id, user.roles, wants_cookie(c));
}

const struct json_field password_change_schema[] = {
    {"currentPassword", JSON_STRING, true, PASSWORD_MAX, NULL},
    {"newPassword", JSON_STRING, true, PASSWORD_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 204: the caller's password is the new one, and its other sessions have
 * ended; 400 (the new one too short, blank, or holding the user's names,
 * address or domain); 401; 403 (an API token; current_password_wrong);
 * 429 (this address locked out of the account, as sign-in); 503. The
 * current password is checked as a sign-in is, its failures counted
 * toward the same lock-out: a stolen access token does not guess it. */
int handle_password_change(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct user_view u;
	struct signin_user who;
	struct actor a = ctx_actor(c);
	char hash[PASSWORD_HASH_MAX];
	const char *current = json_str(c->body, "currentPassword");
	const char *next = json_str(c->body, "newPassword");
	if (user_get(&c->txn, c->principal.tenant_id, c->principal.user_id, &u, p) != 0)
		return -1;
	check_new_password(p, "newPassword", next, &u);
	if (p->kind != PROBLEM_NONE)
		return -1;
	struct signin_attempt in = {
	    u.email, current, c->client_addr, c->req->request_id, c->app->dummy_hash, true};
	if (signin_check(&c->txn, &in, &who, p) != 0) {
		/* the caller is signed in: a 401 would tell a front end it is not */
		if (p->kind == PROBLEM_UNAUTHENTICATED) {
			problem_clear(p);
			problem_refuse(p, PROBLEM_FORBIDDEN, "current_password_wrong",
				       "the current password is wrong");
		}
		return -1;
	}
	if (password_hash_bounded(next, hash, p) != 0 ||
	    user_password_set(&c->txn, &a, &u, hash, c->principal.session_id,
			      "user.password_change") != 0)
		return -1;
	return ctx_no_content(c);
}

/* 200 {userId, tenantId, roles, partnerTypes, tokenScopes?}; 401; 503. */
int handle_me(struct ctx *c)
{
	const struct principal *who = &c->principal;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "userId", who->user_id);
	cJSON_AddStringToObject(doc, "tenantId", who->tenant_id);
	cJSON_AddItemToObject(doc, "roles", roles_to_json(who->roles));
	cJSON *types = cJSON_AddArrayToObject(doc, "partnerTypes");
	if (who->partner_types & PARTNER_INDIRECT_RESELLER)
		cJSON_AddItemToArray(types, cJSON_CreateString("indirect_reseller"));
	if (who->partner_types & PARTNER_INDIRECT_PROVIDER)
		cJSON_AddItemToArray(types, cJSON_CreateString("indirect_provider"));
	if (who->kind == PRINCIPAL_TOKEN) {
		cJSON_AddStringToObject(doc, "tokenId", who->token_id);
		cJSON_AddItemToObject(doc, "tokenScopes", scopes_to_json(who->scopes));
	}
	return ctx_json(c, 200, doc);
}
