/* JSON Web Tokens for people (SPEC §2). Verification is ours, strict, and
 * cheap: the key is parsed once at start and OpenSSL verifies directly;
 * libjwt (which takes the algorithm from the token and checks no claim)
 * is used only to sign. */
#ifndef TWOTIER_JWT_TOKEN_H
#define TWOTIER_JWT_TOKEN_H

#include <cjson/cJSON.h>
#include <stddef.h>

#define JWT_MAX_BYTES 8192
#define JWT_LEEWAY    60

enum token_alg { JWT_ES256, JWT_RS256, JWT_HS256 };

/* A verification (and for our own issuer, signing) key; read-only once
 * loaded, shared by all threads. */
struct jwt_key {
	enum token_alg alg;
	void *pub;	   /* EVP_PKEY * for ES256/RS256 */
	char *private_pem; /* owned; NULL for a verify-only key */
	size_t private_len;
	unsigned char *secret; /* owned; HS256 only */
	size_t secret_len;
	char issuer[256];
	char audience[256];
	char kid[64];		  /* RFC 7638 thumbprint, base64url */
	unsigned long generation; /* distinct for every load */
};

/* Loads a key. alg is "ES256", "RS256" or "HS256". For ES/RS,
 * public_path is required and private_path optional (verify-only); for
 * HS256, secret (at least 32 bytes) is required. Returns 0, or -1 with err. */
int jwt_key_load(struct jwt_key *k, const char *alg, const char *private_path,
		 const char *public_path, const char *secret, const char *issuer,
		 const char *audience, char *err, size_t errsz);
/* Loads a verify-only public key (PEM) whose algorithm is its type's:
 * RS256 for RSA, ES256 for P-256. */
int jwt_key_load_public(struct jwt_key *k, const char *public_path, const char *issuer,
			const char *audience, char *err, size_t errsz);
void jwt_key_free(struct jwt_key *k);

struct jwt_claims {
	char sub[256];
	char tid[40];
	char jti[40];
	char sid[40]; /* the session (ours only), "" when none */
	long long exp, nbf, iat;
};

#define JWT_RESULTS(X)                                                                             \
	X(JWT_VALID, "valid")                                                                      \
	X(JWT_TOO_LARGE, "the token is larger than 8 KiB")                                         \
	X(JWT_MALFORMED, "the token is malformed")                                                 \
	X(JWT_BAD_TYPE, "the token type is not JWT")                                               \
	X(JWT_BAD_ALG, "the token's algorithm is not accepted")                                    \
	X(JWT_BAD_SIGNATURE, "the token's signature is invalid")                                   \
	X(JWT_NO_EXP, "the token has no expiry")                                                   \
	X(JWT_EXPIRED, "the token has expired")                                                    \
	X(JWT_NOT_YET_VALID, "the token is not valid yet")                                         \
	X(JWT_BAD_ISSUER, "the token's issuer is not accepted")                                    \
	X(JWT_BAD_AUDIENCE, "the token's audience is not accepted")                                \
	X(JWT_NO_SUBJECT, "the token has no subject")

enum jwt_result {
#define JWT_RESULT_ENUM(name, text) name,
	JWT_RESULTS(JWT_RESULT_ENUM)
#undef JWT_RESULT_ENUM
};

const char *jwt_result_text(enum jwt_result r);

/* Verifies token against the key of keys whose issuer equals the token's
 * iss and whose kid its header names, or the first of that issuer when
 * none is named (keys[0] when no issuer matches, so that the issuer check
 * fails). now is the current Unix time. On JWT_VALID *out holds the
 * claims and *which the index of the key used. A token has one spelling:
 * each segment strict base64url (A-Z a-z 0-9 - _, no padding, no unused
 * bits set), header and claims JSON without a NUL (raw or \u0000) or a
 * raw control character (JWT_MALFORMED), an ES256 signature r || s with
 * s <= n/2 (the high twin (r, n - s) is JWT_BAD_SIGNATURE), for every
 * issuer. */
enum jwt_result jwt_verify(const struct jwt_key *const *keys, size_t n_keys, const char *token,
			   long long now, struct jwt_claims *out, size_t *which);

/* Signs a token for sub/tid with roles (a JSON array, borrowed) valid for
 * ttl seconds from now (an ES256 signature always in its low-s form).
 * Returns the token (caller frees) or NULL. jti receives the token id. */
char *jwt_issue(const struct jwt_key *k, const char *sub, const char *tid, const cJSON *roles,
		long ttl, long long now, char jti[40]);

/* The same with a session id (sid claim; NULL: none), which the token
 * then stands for: it stops once the session ends. */
char *jwt_issue_in_session(const struct jwt_key *k, const char *sub, const char *tid,
			   const char *sid, const cJSON *roles, long ttl, long long now,
			   char jti[40]);

/* The public keys as a JWK Set {"keys": [...]}, each with its kid (an
 * HS256 key is never published). */
cJSON *jwt_jwks(const struct jwt_key *const *keys, size_t n_keys);

#endif
