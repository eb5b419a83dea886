#include "auth/auth.h"

#include "auth/jwt_token.h"
#include "core/log.h"
#include "core/problem.h"
#include "core/xalloc.h"
#include "db/db.h"

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

const struct db_stmt_def stmt_user_auth_by_id = {
    STMT_user_auth_by_id, "user_auth_by_id",
    "SELECT u.id, u.tenant_id, u.disabled, u.roles, t.partner_types FROM users u "
    "JOIN tenants t ON t.id = u.tenant_id WHERE u.id = ?",
    1, 5};

const struct db_stmt_def stmt_user_auth_by_external = {
    STMT_user_auth_by_external, "user_auth_by_external",
    "SELECT u.id, u.tenant_id, u.disabled, u.roles, t.partner_types FROM users u "
    "JOIN tenants t ON t.id = u.tenant_id "
    "WHERE u.external_issuer = ? AND u.external_subject = ?",
    2, 5};

const struct db_stmt_def stmt_api_token_by_hash = {
    STMT_api_token_by_hash, "api_token_by_hash",
    "SELECT t.id, t.tenant_id, t.created_by, t.scopes, t.token_hash, "
    "t.expires_at <= UTC_TIMESTAMP(6), t.revoked_at IS NOT NULL, "
    "t.last_used_at IS NULL OR t.last_used_at < UTC_TIMESTAMP(6) - INTERVAL 60 SECOND, "
    "tn.partner_types, u.disabled, FIND_IN_SET('admin_agent', u.roles) + "
    "FIND_IN_SET('global_admin', u.roles) FROM api_tokens t "
    "JOIN users u ON u.id = t.created_by JOIN tenants tn ON tn.id = t.tenant_id "
    "WHERE t.token_hash = ?",
    1, 11};

/* The tenant's memberships of the programme, from its row's SET. */
static unsigned partner_types_of(const char *csv)
{
	unsigned types = 0;
	for (const char *p = csv; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ",");
		if (n == 17 && strncmp(p, "indirect_reseller", n) == 0)
			types |= PARTNER_INDIRECT_RESELLER;
		else if (n == 17 && strncmp(p, "indirect_provider", n) == 0)
			types |= PARTNER_INDIRECT_PROVIDER;
		p += n + (p[n] == ',');
	}
	return types;
}

/* last_used_at is kept to the minute so a busy token costs no write per
 * request. */
const struct db_stmt_def stmt_api_token_touch = {
    STMT_api_token_touch, "api_token_touch",
    "UPDATE api_tokens SET last_used_at = UTC_TIMESTAMP(6) WHERE id = ?", 1, 0};

struct resolve_work {
	const char *token_hash;		 /* API token, or */
	const struct jwt_claims *claims; /* a verified JWT */
	const char *ext_issuer;		 /* set when the JWT is external */
	struct principal *out;
	const char *refusal; /* why a 401, for the log and detail */
};

static enum db_status resolve_run(struct db *db, void *arg, struct problem *p)
{
	struct resolve_work *w = arg;
	struct principal *out = w->out;
	struct db_rows rows = {0, 0, NULL};
	enum db_status rc;
	w->refusal = NULL;
	if (w->token_hash != NULL) {
		struct db_arg a[] = {db_str(w->token_hash)};
		rc = legacy_exec(db, STMT_api_token_by_hash, a, &rows, NULL);
		if (rc != DB_OK)
			goto out;
		if (rows.n_rows == 0 ||
		    sodium_memcmp(db_cell(&rows, 0, 4), w->token_hash, 64) != 0) {
			w->refusal = "the API token is not known";
		} else if (strcmp(db_cell(&rows, 0, 6), "1") == 0) {
			w->refusal = "the API token has been revoked";
		} else if (strcmp(db_cell(&rows, 0, 5), "1") == 0) {
			w->refusal = "the API token has expired";
		} else if (strcmp(db_cell(&rows, 0, 9), "0") != 0) {
			/* a token acts for its creator: it works while its creator
			 * could make it again */
			w->refusal = "the API token's creator is disabled";
		} else if (strcmp(db_cell(&rows, 0, 10), "0") == 0) {
			w->refusal = "the API token's creator is no longer an admin agent";
		} else {
			out->kind = PRINCIPAL_TOKEN;
			db_cell_copy(&rows, 0, 0, out->token_id, sizeof out->token_id);
			db_cell_copy(&rows, 0, 1, out->tenant_id, sizeof out->tenant_id);
			db_cell_copy(&rows, 0, 2, out->user_id, sizeof out->user_id);
			out->scopes = scopes_from_csv(db_cell(&rows, 0, 3));
			out->partner_types = partner_types_of(db_cell(&rows, 0, 8));
			if (strcmp(db_cell(&rows, 0, 7), "1") == 0) {
				struct db_arg t[] = {db_str(out->token_id)};
				rc = legacy_exec(db, STMT_api_token_touch, t, NULL, NULL);
			}
		}
		goto out;
	}
	if (w->ext_issuer != NULL) {
		struct db_arg a[] = {db_str(w->ext_issuer), db_str(w->claims->sub)};
		rc = legacy_exec(db, STMT_user_auth_by_external, a, &rows, NULL);
	} else {
		struct db_arg a[] = {db_str(w->claims->sub)};
		rc = legacy_exec(db, STMT_user_auth_by_id, a, &rows, NULL);
	}
	if (rc != DB_OK)
		goto out;
	if (rows.n_rows == 0) {
		w->refusal = "the token's user does not exist";
	} else if (w->ext_issuer == NULL && strcmp(db_cell(&rows, 0, 1), w->claims->tid) != 0) {
		w->refusal = "the token's tenant does not match its user";
	} else if (strcmp(db_cell(&rows, 0, 2), "0") != 0) {
		w->refusal = "the user is disabled";
	} else {
		out->kind = PRINCIPAL_USER;
		db_cell_copy(&rows, 0, 0, out->user_id, sizeof out->user_id);
		db_cell_copy(&rows, 0, 1, out->tenant_id, sizeof out->tenant_id);
		out->roles = roles_from_csv(db_cell(&rows, 0, 3));
		out->partner_types = partner_types_of(db_cell(&rows, 0, 4));
	}
out:
	db_rows_free(&rows);
	return rc;
}

static int refuse(struct problem *p, const char *why, const char *request_id)
{
	struct log_field f[] = {LOG_S("requestId", request_id ? request_id : ""),
				LOG_S("reason", why)};
	log_fields(LOG_WARN, "authentication refused", f, 2);
	return problem_set(p, PROBLEM_UNAUTHENTICATED, "%s", why);
}

int auth_resolve(struct db *db, const struct jwt_key *const *keys, size_t n_keys,
		 const char *authorization, long long now, const char *request_id,
		 struct principal *out, struct problem *p)
{
	struct resolve_work w = {NULL, NULL, NULL, out, NULL};
	struct jwt_claims claims;
	char hash[65];
	size_t which = 0;
	memset(out, 0, sizeof *out);
	if (authorization == NULL)
		return 0;
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return refuse(p, "the Authorization header must be 'Bearer <token>'", request_id);
	const char *token = authorization + 7;
	while (*token == ' ')
		token++;
	if (strncmp(token, API_TOKEN_PREFIX, 3) == 0) {
		if (strlen(token) != API_TOKEN_LEN)
			return refuse(p, "the API token is malformed", request_id);
		api_token_hash(token, hash);
		w.token_hash = hash;
	} else {
		enum jwt_result r = jwt_verify(keys, n_keys, token, now, &claims, &which);
		if (r != JWT_VALID)
			return refuse(p, jwt_result_text(r), request_id);
		w.claims = &claims;
		if (which > 0)
			w.ext_issuer = keys[which]->issuer;
	}
	if (db_read(db, resolve_run, &w, p) != 0)
		return -1;
	if (w.refusal != NULL) {
		memset(out, 0, sizeof *out);
		return refuse(p, w.refusal, request_id);
	}
	return 0;
}
