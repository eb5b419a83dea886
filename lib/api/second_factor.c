/* The second factor: a person's own (GET /v1/me/mfa, the TOTP routes), a
 * global admin's reset of a user's, and the tenant's rule (security
 * policy). Sign-in's second step is in identity.c. */
#include "api/app.h"
#include "api/handlers.h"
#include "api/settings.h"
#include "domain/audit.h"
#include "domain/mfa.h"
#include "domain/user.h"

#include <sodium.h>
#include <string.h>

/* The sealing key, or a 503 that names the configuration it lacks. */
static const unsigned char *mfa_key(struct ctx *c)
{
	if (c->settings->has_mfa_key)
		return c->settings->mfa_key;
	problem_refuse(&c->problem, PROBLEM_UNAVAILABLE, "mfa_not_configured",
		       "two-step sign-in is not configured on this service (mfa_key)");
	return NULL;
}

/* 200 {totp, confirmedAt, recoveryCodesLeft, required, requiredByTenant,
 * requiredByPlatform}; 401; 403 (an API token); 503. */
int handle_mfa_status(struct ctx *c)
{
	const struct principal *who = &c->principal;
	struct mfa_status s;
	if (mfa_status_get(&c->txn, who->tenant_id, who->user_id, who->roles, c->cfg->mfa_required,
			   &s) != DB_OK)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "totp", s.totp);
	if (s.confirmed_at[0] != '\0')
		cJSON_AddStringToObject(doc, "confirmedAt", s.confirmed_at);
	else
		cJSON_AddNullToObject(doc, "confirmedAt");
	cJSON_AddNumberToObject(doc, "recoveryCodesLeft", (double)s.recovery_codes_left);
	cJSON_AddBoolToObject(doc, "required", s.required);
	cJSON_AddBoolToObject(doc, "requiredByTenant", s.required_by_tenant);
	cJSON_AddBoolToObject(doc, "requiredByPlatform", s.required_by_platform);
	return ctx_json(c, 200, doc);
}

/* 201 {secret, otpauthUri}: a new secret waiting for its first code;
 * 401; 403; 409 mfa_already_enabled; 503 (mfa_not_configured). */
int handle_totp_begin(struct ctx *c)
{
	struct user_view u;
	struct actor a = ctx_actor(c);
	char secret[TOTP_SECRET_B32], uri[1024];
	const unsigned char *key = mfa_key(c);
	int rc = -1;
	if (key == NULL ||
	    user_get(&c->txn, c->principal.tenant_id, c->principal.user_id, &u, &c->problem) != 0)
		return -1;
	if (mfa_totp_begin(&c->txn, &a, key, c->cfg->mfa_issuer, u.email, secret, uri, sizeof uri,
			   &c->problem) == 0) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "secret", secret);
		cJSON_AddStringToObject(doc, "otpauthUri", uri);
		rc = ctx_json(c, 201, doc);
	}
	sodium_memzero(secret, sizeof secret);
	sodium_memzero(uri, sizeof uri);
	return rc;
}

const struct json_field totp_confirm_schema[] = {
    {"code", JSON_STRING, true, 16, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 200 {recoveryCodes}: the waiting secret is the user's second factor,
 * and its other sessions have ended; 400 (the code wrong); 401; 403; 409
 * mfa_not_pending; 503. */
int handle_totp_confirm(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
	const unsigned char *key = mfa_key(c);
	int rc = -1;
	if (key != NULL && mfa_totp_confirm(&c->txn, &a, key, json_str(c->body, "code"),
					    c->principal.session_id, codes, &c->problem) == 0) {
		cJSON *doc = cJSON_CreateObject();
		cJSON *list = cJSON_AddArrayToObject(doc, "recoveryCodes");
		for (int i = 0; i < RECOVERY_CODES; i++)
			cJSON_AddItemToArray(list, cJSON_CreateString(codes[i]));
		rc = ctx_json(c, 200, doc);
	}
	sodium_memzero(codes, sizeof codes);
	return rc;
}

const struct json_field totp_remove_schema[] = {
    {"code", JSON_STRING, false, 16, NULL},
    {"recoveryCode", JSON_STRING, false, 32, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* One of code and recoveryCode: 400 naming them otherwise. */
int mfa_check_one_code(struct problem *p, const char *code, const char *recovery)
{
	if ((code == NULL) == (recovery == NULL))
		return problem_add_field(p, code ? "recoveryCode" : "code",
					 code ? "conflict" : "required",
					 "give a code from the authenticator app or a recovery "
					 "code, one of them");
	return 0;
}

/* 204: the caller's second factor is gone, proven by a code or a
 * recovery code; 400; 401; 403 (an API token, code_wrong); 409
 * mfa_not_enabled; 429; 503. */
int handle_totp_remove(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	const char *code = json_str(c->body, "code");
	const char *recovery = json_str(c->body, "recoveryCode");
	if (mfa_check_one_code(&c->problem, code, recovery) != 0)
		return -1;
	/* without the key a recovery code still proves the factor */
	const unsigned char *key = c->settings->has_mfa_key ? c->settings->mfa_key : NULL;
	if (mfa_totp_remove(&c->txn, &a, key, code, recovery, &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

/* 204: the user's second factor is gone and its sessions have ended; 401;
 * 403; 404; 409 mfa_not_enabled; 503. */
int handle_user_mfa_reset(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	if (mfa_reset(&c->txn, &a, ctx_capture(c, 0), &c->problem) != 0)
		return -1;
	return ctx_no_content(c);
}

static int security_policy(struct ctx *c, int status)
{
	bool required;
	if (mfa_policy_get(&c->txn, c->principal.tenant_id, &required) != DB_OK)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddBoolToObject(doc, "mfaRequired", required);
	cJSON_AddBoolToObject(doc, "mfaRequiredByPlatform", c->cfg->mfa_required);
	return ctx_json(c, status, doc);
}

/* 200 {mfaRequired, mfaRequiredByPlatform}; 401; 403; 503. */
int handle_security_policy_get(struct ctx *c)
{
	return security_policy(c, 200);
}

const struct json_field security_policy_schema[] = {
    {"mfaRequired", JSON_BOOL, true, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 200 the policy as set; 400; 401; 403; 409 mfa_not_enabled; 503. */
int handle_security_policy_put(struct ctx *c)
{
	struct actor a = ctx_actor(c);
	bool required = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->body, "mfaRequired"));
	if (mfa_policy_set(&c->txn, &a, required, &c->problem) != 0)
		return -1;
	return security_policy(c, 200);
}
