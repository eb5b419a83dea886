/* Sign-in, the public keys, and who am I. */
#include "api/app.h"
#include "api/settings.h"
#include "api/handlers.h"
#include "auth/auth.h"
#include "auth/jwt_token.h"
#include "domain/signin.h"
#include "core/config.h"

#include <stdlib.h>
#include <time.h>

/* 200 the JWK Set that verifies our tokens (empty for HS256). */
int handle_jwks(struct ctx *c)
{
	int rc = ctx_json(c, 200, jwt_jwks(c->settings->keys, c->settings->n_own));
	c->res->content_type = "application/jwk-set+json";
	return rc;
}

const struct json_field signin_schema[] = {
    {"username", JSON_STRING, true, 254, NULL},
    {"password", JSON_STRING, true, PASSWORD_MAX, NULL},
    /* a browser's: the refresh token in an HttpOnly cookie, not the body */
    {"cookie", JSON_BOOL, false, 0, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 200 {accessToken, tokenType, expiresIn, sessionId, refreshToken} (with
 * "cookie": true the refresh token in a cookie instead); 400; 401 (one
 * answer for a wrong password, an unknown or a disabled user); 429 locked;
 * 503. */
int handle_signin(struct ctx *c)
{
	struct signin_user user;
	const char *username = json_str(c->body, "username");
	const char *password = json_str(c->body, "password");
	struct signin_attempt in = {username, password, c->client_addr, c->req->request_id,
				    c->app->dummy_hash};
	if (signin_check(&c->txn, &in, &user, &c->problem) != 0)
		return -1;
	return ctx_session_start(c, user.user_id, user.tenant_id, user.roles,
				 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->body, "cookie")));
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
