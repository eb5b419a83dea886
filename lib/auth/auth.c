#include "auth/auth.h"

#include "auth/jwt_token.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/xalloc.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

static const struct bit_name {
	unsigned bit;
	const char *name;
} roles[] =
    {
#define AUTH_ROW(name, bit, text) {bit, text},
	AUTH_ROLES(AUTH_ROW)},
  scopes[] = {AUTH_SCOPES(AUTH_ROW)
#undef AUTH_ROW
};

#define N_ROLES	 (sizeof roles / sizeof roles[0])
#define N_SCOPES (sizeof scopes / sizeof scopes[0])

unsigned role_bit(const char *name)
{
	for (size_t i = 0; name && i < N_ROLES; i++)
		if (strcmp(roles[i].name, name) == 0)
			return roles[i].bit;
	return 0;
}

unsigned scope_bit(const char *name)
{
	for (size_t i = 0; name && i < N_SCOPES; i++)
		if (strcmp(scopes[i].name, name) == 0)
			return scopes[i].bit;
	return 0;
}

static unsigned bits_from_csv(const char *csv, unsigned (*lookup)(const char *))
{
	unsigned bits = 0;
	char name[64];
	while (csv != NULL && *csv != '\0') {
		size_t len = strcspn(csv, ",");
		if (len < sizeof name) {
			memcpy(name, csv, len);
			name[len] = '\0';
			bits |= lookup(name);
		}
		csv += len + (csv[len] == ',');
	}
	return bits;
}

unsigned roles_from_csv(const char *csv)
{
	return bits_from_csv(csv, role_bit);
}

unsigned scopes_from_csv(const char *csv)
{
	return bits_from_csv(csv, scope_bit);
}

static void bits_to_csv(unsigned bits, const struct bit_name *names, size_t n_names, char *out,
			size_t outsz)
{
	size_t n = 0;
	if (outsz == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < n_names; i++) {
		if (!(bits & names[i].bit))
			continue;
		int w = snprintf(out + n, outsz - n, "%s%s", n ? "," : "", names[i].name);
		if (w < 0 || (size_t)w >= outsz - n)
			return;
		n += (size_t)w;
	}
}

void roles_to_csv(unsigned bits, char *out, size_t outsz)
{
	bits_to_csv(bits, roles, N_ROLES, out, outsz);
}

void scopes_to_csv(unsigned bits, char *out, size_t outsz)
{
	bits_to_csv(bits, scopes, N_SCOPES, out, outsz);
}

cJSON *roles_to_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < N_ROLES; i++)
		if (bits & roles[i].bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(roles[i].name));
	return a;
}

cJSON *scopes_to_json(unsigned bits)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < N_SCOPES; i++)
		if (bits & scopes[i].bit)
			cJSON_AddItemToArray(a, cJSON_CreateString(scopes[i].name));
	return a;
}

void api_token_hash(const char *token, char hash_hex[65])
{
	unsigned char digest[32];
	unsigned int len = 0;
	EVP_Digest(token, strlen(token), digest, &len, EVP_sha256(), NULL);
	sodium_bin2hex(hash_hex, 65, digest, sizeof digest);
}

void api_token_generate(char token[API_TOKEN_LEN + 1], char hash_hex[65])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	memcpy(token, API_TOKEN_PREFIX, 3);
	sodium_bin2base64(token + 3, API_TOKEN_LEN + 1 - 3, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	api_token_hash(token, hash_hex);
}

void link_token_generate(char token[LINK_TOKEN_LEN + 1], char hash_hex[65])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(token, LINK_TOKEN_LEN + 1, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
	api_token_hash(token, hash_hex);
}

int auth_refuse(struct problem *p, const char *why, const char *request_id)
{
	struct log_field f[] = {LOG_S("requestId", request_id ? request_id : ""),
				LOG_S("reason", why)};
	log_fields(LOG_WARN, "authentication refused", f, 2);
	return problem_set(p, PROBLEM_UNAUTHENTICATED, "%s", why);
}

int auth_credential(const struct jwt_key *const *keys, size_t n_keys, const char *authorization,
		    long long now, const char *request_id, struct credential *out,
		    struct problem *p)
{
	struct jwt_claims claims;
	size_t which = 0;
	memset(out, 0, sizeof *out);
	if (authorization == NULL)
		return 0;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return auth_refuse(p, "the Authorization header must be 'Bearer <token>'",
				   request_id);
	const char *token = authorization + 7;
	while (*token == ' ')
		token++;
	if (strncmp(token, API_TOKEN_PREFIX, 3) == 0) {
		if (strlen(token) != API_TOKEN_LEN)
			return auth_refuse(p, "the API token is malformed", request_id);
		out->kind = CREDENTIAL_TOKEN;
		api_token_hash(token, out->token_hash);
		return 0;
	}
	enum jwt_result r = jwt_verify(keys, n_keys, token, now, &claims, &which);
	if (r != JWT_VALID)
		return auth_refuse(p, jwt_result_text(r), request_id);
	out->kind = CREDENTIAL_JWT;
	memcpy(out->sub, claims.sub, sizeof out->sub);
	memcpy(out->tid, claims.tid, sizeof out->tid);
	memcpy(out->sid, claims.sid, sizeof out->sid);
	/* our verify-only keys have our issuer; an external issuer never does */
	if (strcmp(keys[which]->issuer, keys[0]->issuer) != 0)
		out->external_issuer = keys[which]->issuer;
	return 0;
}
