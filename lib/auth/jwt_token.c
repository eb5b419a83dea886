#include "auth/jwt_token.h"

#include "core/util.h"
#include "core/xalloc.h"

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const alg_names[] = {
    [JWT_ES256] = "ES256", [JWT_RS256] = "RS256", [JWT_HS256] = "HS256"};

static const char *const result_texts[] = {
#define JWT_RESULT_TEXT(name, text) text,
    JWT_RESULTS(JWT_RESULT_TEXT)
#undef JWT_RESULT_TEXT
};

const char *jwt_result_text(enum jwt_result r)
{
	return (unsigned)r < sizeof result_texts / sizeof result_texts[0] ? result_texts[r]
									  : "invalid token";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	if (f == NULL)
		return NULL;
	buf = xmalloc(65537);
	n = fread(buf, 1, 65536, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void b64url(const unsigned char *bin, size_t len, char *out, size_t outsz)
{
	sodium_bin2base64(out, outsz, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int bn_b64url(EVP_PKEY *pkey, const char *param, int pad, char *out, size_t outsz)
{
	BIGNUM *bn = NULL;
	unsigned char bin[1024];
	int n;
	if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
		return -1;
	n = pad ? BN_bn2binpad(bn, bin, pad) : BN_bn2bin(bn, bin);
	BN_free(bn);
	if (n <= 0 || (size_t)n > sizeof bin ||
	    sodium_base64_ENCODED_LEN((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > outsz)
		return -1;
	b64url(bin, (size_t)n, out, outsz);
	return 0;
}

/* The JWK members of a public key, in RFC 7638's lexical order. */
static cJSON *public_jwk(const struct jwt_key *k)
{
	char a[1400], b[1400];
	cJSON *jwk = cJSON_CreateObject();
	if (k->alg == JWT_ES256) {
		if (bn_b64url(k->pub, OSSL_PKEY_PARAM_EC_PUB_X, 32, a, sizeof a) != 0 ||
		    bn_b64url(k->pub, OSSL_PKEY_PARAM_EC_PUB_Y, 32, b, sizeof b) != 0)
			goto fail;
		cJSON_AddStringToObject(jwk, "crv", "P-256");
		cJSON_AddStringToObject(jwk, "kty", "EC");
		cJSON_AddStringToObject(jwk, "x", a);
		cJSON_AddStringToObject(jwk, "y", b);
	} else {
		if (bn_b64url(k->pub, OSSL_PKEY_PARAM_RSA_E, 0, a, sizeof a) != 0 ||
		    bn_b64url(k->pub, OSSL_PKEY_PARAM_RSA_N, 0, b, sizeof b) != 0)
			goto fail;
		cJSON_AddStringToObject(jwk, "e", a);
		cJSON_AddStringToObject(jwk, "kty", "RSA");
		cJSON_AddStringToObject(jwk, "n", b);
	}
	return jwk;
fail:
	cJSON_Delete(jwk);
	return NULL;
}

/* A signing key whose public half is not the verifying key would issue
 * tokens that never verify: refuse it at start. */
static bool private_matches(const struct jwt_key *k)
{
	BIO *bio = BIO_new_mem_buf(k->private_pem, (int)k->private_len);
	EVP_PKEY *priv = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	bool ok = priv != NULL && EVP_PKEY_eq(priv, k->pub) == 1;
	EVP_PKEY_free(priv);
	BIO_free(bio);
	return ok;
}

int jwt_key_load(struct jwt_key *k, const char *alg, const char *private_path,
		 const char *public_path, const char *secret, const char *issuer,
		 const char *audience, char *err, size_t errsz)
{
	BIO *bio = NULL;
	char *pem = NULL;
	size_t len = 0;
	int rc = -1;
	static unsigned long generations;
	memset(k, 0, sizeof *k);
	k->generation = __atomic_add_fetch(&generations, 1, __ATOMIC_RELAXED);
	if (alg == NULL || strcmp(alg, "ES256") == 0) {
		k->alg = JWT_ES256;
	} else if (strcmp(alg, "RS256") == 0) {
		k->alg = JWT_RS256;
	} else if (strcmp(alg, "HS256") == 0) {
		k->alg = JWT_HS256;
	} else {
		snprintf(err, errsz, "unsupported algorithm '%s' (ES256, RS256 or HS256)", alg);
		goto out;
	}
	if (issuer == NULL || *issuer == '\0' || strlen(issuer) >= sizeof k->issuer ||
	    audience == NULL || *audience == '\0' || strlen(audience) >= sizeof k->audience) {
		snprintf(err, errsz, "an issuer and an audience are required");
		goto out;
	}
	snprintf(k->issuer, sizeof k->issuer, "%s", issuer);
	snprintf(k->audience, sizeof k->audience, "%s", audience);
	if (k->alg == JWT_HS256) {
		if (secret == NULL || strlen(secret) < 32) {
			snprintf(err, errsz, "HS256 needs a secret of at least 32 bytes");
			goto out;
		}
		k->secret_len = strlen(secret);
		k->secret = (unsigned char *)xstrdup(secret);
		snprintf(k->kid, sizeof k->kid, "hs256");
		rc = 0;
		goto out;
	}
	if (private_path != NULL && *private_path != '\0') {
		k->private_pem = slurp(private_path, &k->private_len);
		if (k->private_pem == NULL) {
			snprintf(err, errsz, "cannot read the private key %s", private_path);
			goto out;
		}
	}
	if (public_path != NULL && *public_path != '\0') {
		pem = slurp(public_path, &len);
		if (pem == NULL) {
			snprintf(err, errsz, "cannot read the public key %s", public_path);
			goto out;
		}
		bio = BIO_new_mem_buf(pem, (int)len);
		k->pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	} else if (k->private_pem != NULL) {
		bio = BIO_new_mem_buf(k->private_pem, (int)k->private_len);
		k->pub = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	}
	if (k->pub == NULL) {
		snprintf(err, errsz, "no usable %s public key (PEM)", alg_names[k->alg]);
		goto out;
	}
	char group[64] = "";
	if (EVP_PKEY_is_a(k->pub, "EC"))
		EVP_PKEY_get_utf8_string_param(k->pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
					       sizeof group, NULL);
	if (k->alg == JWT_ES256 && strcmp(group, "prime256v1") != 0) {
		snprintf(err, errsz, "ES256 needs a P-256 key");
		goto out;
	}
	if (k->alg == JWT_RS256 &&
	    !(EVP_PKEY_is_a(k->pub, "RSA") && EVP_PKEY_get_bits(k->pub) >= 2048)) {
		snprintf(err, errsz, "RS256 needs an RSA key of at least 2048 bits");
		goto out;
	}
	if (k->private_pem != NULL && !private_matches(k)) {
		snprintf(err, errsz, "the private key does not belong to the public key");
		goto out;
	}
	cJSON *jwk = public_jwk(k);
	if (jwk == NULL) {
		snprintf(err, errsz, "cannot read the public key's parameters");
		goto out;
	}
	char *canon = cJSON_PrintUnformatted(jwk);
	unsigned char digest[32];
	unsigned int dlen = 0;
	EVP_Digest(canon, strlen(canon), digest, &dlen, EVP_sha256(), NULL);
	b64url(digest, sizeof digest, k->kid, sizeof k->kid);
	free(canon);
	cJSON_Delete(jwk);
	rc = 0;
out:
	BIO_free(bio);
	free(pem);
	if (rc != 0)
		jwt_key_free(k);
	return rc;
}

int jwt_key_load_public(struct jwt_key *k, const char *public_path, const char *issuer,
			const char *audience, char *err, size_t errsz)
{
	size_t len = 0;
	char *pem = slurp(public_path, &len);
	BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, (int)len) : NULL;
	EVP_PKEY *pub = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	/* an RSA key verifies RS256, any other is tried as ES256's P-256 */
	const char *alg = pub != NULL && EVP_PKEY_is_a(pub, "RSA") ? "RS256" : "ES256";
	EVP_PKEY_free(pub);
	BIO_free(bio);
	free(pem);
	return jwt_key_load(k, alg, NULL, public_path, NULL, issuer, audience, err, errsz);
}

void jwt_key_free(struct jwt_key *k)
{
	EVP_PKEY_free(k->pub);
	free(k->private_pem);
	if (k->secret != NULL)
		sodium_memzero(k->secret, k->secret_len);
	free(k->secret);
	memset(k, 0, sizeof *k);
}

/* Decodes one base64url segment (no padding) into a NUL-terminated
 * buffer; NULL when it is not strict base64url. The alphabet is checked
 * here: libsodium 1.0.18 reads every byte 0x80-0xFF as '_', so that one
 * token would have many spellings. */
static unsigned char *segment(const char *s, size_t len, size_t *out_len)
{
	unsigned char *bin = NULL;
	const char *end = NULL;
	if (!valid_base64url(s, len))
		return NULL;
	bin = xmalloc(len + 1);
	if (sodium_base642bin(bin, len, s, len, NULL, out_len, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len) {
		free(bin);
		return NULL;
	}
	bin[*out_len] = '\0';
	return bin;
}

/* RFC 7515 §4: a JOSE header (and here the claims too) with a member
 * twice is refused, so that no two readers see two values. */
static bool has_duplicate_member(const cJSON *obj)
{
	for (const cJSON *a = obj->child; a != NULL; a = a->next)
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

/* True when the JSON text s (n bytes) has no NUL, raw or escaped as
 * \u0000, and no raw control character where JSON forbids it. cJSON reads
 * \u0000 as a real NUL, so every C string after it is cut there (an
 * issuer's sub "alice\u0000x" would read as "alice"), and it takes raw
 * control characters in strings and as whitespace. Escapes are walked
 * pairwise so that an escaped backslash is not misread. */
static bool json_text_clean(const unsigned char *s, size_t n)
{
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20) {
			if (in_string || (s[i] != '\t' && s[i] != '\n' && s[i] != '\r'))
				return false;
		} else if (s[i] == '"') {
			in_string = !in_string;
		} else if (s[i] == '\\' && in_string && i + 1 < n) {
			if (n - i > 5 && memcmp(s + i + 1, "u0000", 5) == 0)
				return false;
			if (s[i + 1] >= 0x20)
				i++;
		}
	}
	return true;
}

static cJSON *segment_json(const char *s, size_t len)
{
	size_t n;
	unsigned char *bin = segment(s, len, &n);
	cJSON *doc = NULL;
	if (bin == NULL)
		return NULL;
	if (json_text_clean(bin, n))
		doc = cJSON_ParseWithLengthOpts((const char *)bin, n + 1, NULL, 1);
	free(bin);
	if (doc != NULL && (!cJSON_IsObject(doc) || has_duplicate_member(doc))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return doc;
}

/* P-256's group order n, big-endian. */
static const unsigned char p256_order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

/* ECDSA is malleable: when (r, s) verifies, so does (r, n - s). Only the
 * low form, s <= n/2, is accepted (and jwt_issue makes only that one), so
 * that a signed token has one spelling. s is 32 bytes, big-endian. True
 * when s is low; false otherwise, and then, with low_out, n - s is written
 * there. */
static bool p256_low_s(const unsigned char s[32], unsigned char low_out[32])
{
	BIGNUM *n = BN_bin2bn(p256_order, sizeof p256_order, NULL);
	BIGNUM *half = BN_new(), *v = BN_bin2bn(s, 32, NULL);
	bool low = false;
	if (n == NULL || half == NULL || v == NULL || !BN_rshift1(half, n))
		goto out;
	low = BN_cmp(v, half) <= 0;
	if (!low && low_out != NULL && BN_cmp(v, n) < 0 && BN_sub(v, n, v))
		BN_bn2binpad(v, low_out, 32);
out:
	BN_free(n);
	BN_free(half);
	BN_free(v);
	return low;
}

/* A token made by libjwt carries whichever s OpenSSL drew: turn a high
 * one into its low twin, in place (the signature segment keeps its
 * length). */
static void es256_make_low_s(char *token)
{
	char *sig64 = strrchr(token, '.');
	unsigned char sig[64], low[32];
	size_t n = 0;
	if (sig64 == NULL ||
	    sodium_base642bin(sig, sizeof sig, sig64 + 1, strlen(sig64 + 1), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof sig)
		return;
	memcpy(low, sig + 32, sizeof low); /* kept should the arithmetic fail */
	if (p256_low_s(sig + 32, low))
		return;
	memcpy(sig + 32, low, sizeof low);
	b64url(sig, sizeof sig, sig64 + 1, strlen(sig64 + 1) + 1);
}

static bool signature_ok(const struct jwt_key *k, const char *input, size_t input_len,
			 const unsigned char *sig, size_t sig_len)
{
	bool ok = false;
	if (k->alg == JWT_HS256) {
		unsigned char mac[32];
		unsigned int mac_len = 0;
		if (sig_len != sizeof mac ||
		    HMAC(EVP_sha256(), k->secret, (int)k->secret_len, (const unsigned char *)input,
			 input_len, mac, &mac_len) == NULL)
			return false;
		return CRYPTO_memcmp(mac, sig, sizeof mac) == 0;
	}
	unsigned char der_buf[80];
	const unsigned char *verify_sig = sig;
	size_t verify_len = sig_len;
	if (k->alg == JWT_ES256) {
		/* JOSE carries r || s; OpenSSL wants DER. */
		if (sig_len != 64 || !p256_low_s(sig + 32, NULL))
			return false;
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
		ECDSA_SIG_set0(es, r, s);
		unsigned char *p = der_buf;
		int n = i2d_ECDSA_SIG(es, NULL);
		if (n > 0 && (size_t)n <= sizeof der_buf)
			n = i2d_ECDSA_SIG(es, &p);
		else
			n = -1;
		ECDSA_SIG_free(es);
		if (n <= 0)
			return false;
		verify_sig = der_buf;
		verify_len = (size_t)n;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pub) == 1 &&
	    EVP_DigestVerify(ctx, verify_sig, verify_len, (const unsigned char *)input,
			     input_len) == 1)
		ok = true;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static bool number_claim(const cJSON *payload, const char *name, long long *out, bool *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);
	*present = v != NULL;
	if (v == NULL)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15)
		return false;
	*out = (long long)v->valuedouble;
	return true;
}

static bool audience_ok(const cJSON *aud, const char *want)
{
	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return false;
	for (const cJSON *a = aud->child; a != NULL; a = a->next)
		if (cJSON_IsString(a) && strcmp(a->valuestring, want) == 0)
			return true;
	return false;
}

static void copy_claim(const cJSON *payload, const char *name, char *out, size_t outsz)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, name);
	out[0] = '\0';
	if (cJSON_IsString(v) && strlen(v->valuestring) < outsz)
		memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
}

/* Verified tokens, per thread, until they expire: repeated requests with
 * the same token skip the signature check (issue: authentication under
 * 50 µs). Only time-independent checks are cached; exp and nbf are
 * checked again on every hit. */
#define CACHE_SLOTS 256
struct cache_slot {
	unsigned char hash[32];
	size_t which;
	const struct jwt_key *key;
	unsigned long generation; /* a key reloaded at the same address differs */
	struct jwt_claims claims;
	bool used;
};
static __thread struct cache_slot cache[CACHE_SLOTS];

static enum jwt_result times_ok(const struct jwt_claims *c, long long now)
{
	if (now > c->exp + JWT_LEEWAY)
		return JWT_EXPIRED;
	if (c->nbf > 0 && now + JWT_LEEWAY < c->nbf)
		return JWT_NOT_YET_VALID;
	return JWT_VALID;
}

/* The key for a token: among the keys of its issuer, the one its kid names
 * (an issuer has several while a rotated key keeps verifying the tokens it
 * signed), else the issuer's first (an external issuer's kid is its own
 * name, not our thumbprint); keys[0] when no key has its issuer, so that
 * the issuer check fails. */
static size_t key_of(const struct jwt_key *const *keys, size_t n_keys, const cJSON *iss,
		     const cJSON *kid)
{
	size_t first = n_keys;
	for (size_t i = 0; cJSON_IsString(iss) && i < n_keys; i++) {
		if (strcmp(keys[i]->issuer, iss->valuestring) != 0)
			continue;
		if (first == n_keys)
			first = i;
		if (cJSON_IsString(kid) && strcmp(keys[i]->kid, kid->valuestring) == 0)
			return i;
	}
	return first == n_keys ? 0 : first;
}

enum jwt_result jwt_verify(const struct jwt_key *const *keys, size_t n_keys, const char *token,
			   long long now, struct jwt_claims *out, size_t *which)
{
	enum jwt_result rc = JWT_MALFORMED;
	cJSON *header = NULL, *payload = NULL;
	unsigned char *sig = NULL;
	unsigned char hash[32];
	size_t len, sig_len = 0, k_index = 0;
	const char *dot1, *dot2;
	bool present;

	memset(out, 0, sizeof *out);
	if (token == NULL || n_keys == 0)
		return JWT_MALFORMED;
	len = strnlen(token, JWT_MAX_BYTES + 1);
	if (len > JWT_MAX_BYTES)
		return JWT_TOO_LARGE;
	crypto_generichash(hash, sizeof hash, (const unsigned char *)token, len, NULL, 0);
	struct cache_slot *slot = &cache[hash[0]];
	if (slot->used && memcmp(slot->hash, hash, sizeof hash) == 0 && slot->which < n_keys &&
	    keys[slot->which] == slot->key && slot->key->generation == slot->generation) {
		*out = slot->claims;
		*which = slot->which;
		return times_ok(out, now);
	}

	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		goto out;
	header = segment_json(token, (size_t)(dot1 - token));
	payload = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	sig = segment(dot2 + 1, len - (size_t)(dot2 + 1 - token), &sig_len);
	if (header == NULL || payload == NULL || sig == NULL)
		goto out;

	const cJSON *typ = cJSON_GetObjectItemCaseSensitive(header, "typ");
	if (typ != NULL && !(cJSON_IsString(typ) && strcmp(typ->valuestring, "JWT") == 0)) {
		rc = JWT_BAD_TYPE;
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(header, "crit") != NULL)
		goto out; /* no extension is understood here */
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(payload, "iss");
	k_index = key_of(keys, n_keys, iss, cJSON_GetObjectItemCaseSensitive(header, "kid"));
	const struct jwt_key *k = keys[k_index];
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, alg_names[k->alg]) != 0) {
		rc = JWT_BAD_ALG;
		goto out;
	}
	if (!signature_ok(k, token, (size_t)(dot2 - token), sig, sig_len)) {
		rc = JWT_BAD_SIGNATURE;
		goto out;
	}
	if (!number_claim(payload, "exp", &out->exp, &present) || !present) {
		rc = JWT_NO_EXP;
		goto out;
	}
	if (!number_claim(payload, "nbf", &out->nbf, &present) ||
	    !number_claim(payload, "iat", &out->iat, &present))
		goto out;
	if (!cJSON_IsString(iss) || strcmp(iss->valuestring, k->issuer) != 0) {
		rc = JWT_BAD_ISSUER;
		goto out;
	}
	if (!audience_ok(cJSON_GetObjectItemCaseSensitive(payload, "aud"), k->audience)) {
		rc = JWT_BAD_AUDIENCE;
		goto out;
	}
	copy_claim(payload, "sub", out->sub, sizeof out->sub);
	copy_claim(payload, "tid", out->tid, sizeof out->tid);
	copy_claim(payload, "jti", out->jti, sizeof out->jti);
	copy_claim(payload, "sid", out->sid, sizeof out->sid);
	if (out->sub[0] == '\0') {
		rc = JWT_NO_SUBJECT;
		goto out;
	}
	*which = k_index;
	memcpy(slot->hash, hash, sizeof hash);
	slot->which = k_index;
	slot->key = k;
	slot->generation = k->generation;
	slot->claims = *out;
	slot->used = true;
	rc = times_ok(out, now);
out:
	cJSON_Delete(header);
	cJSON_Delete(payload);
	free(sig);
	return rc;
}

char *jwt_issue(const struct jwt_key *k, const char *sub, const char *tid, const cJSON *roles,
		long ttl, long long now, char jti[40])
{
	return jwt_issue_in_session(k, sub, tid, NULL, roles, ttl, now, jti);
}

char *jwt_issue_in_session(const struct jwt_key *k, const char *sub, const char *tid,
			   const char *sid, const cJSON *roles, long ttl, long long now,
			   char jti[40])
{
	jwt_t *jwt = NULL;
	char *encoded = NULL, *result = NULL, *grants = NULL;
	cJSON *g = cJSON_CreateObject();
	uuid_v7(jti);
	cJSON_AddItemToObject(g, "roles", cJSON_Duplicate(roles, 1));
	cJSON_AddStringToObject(g, "aud", k->audience);
	if (sid != NULL)
		cJSON_AddStringToObject(g, "sid", sid);
	grants = cJSON_PrintUnformatted(g);
	cJSON_Delete(g);
	if (jwt_new(&jwt) != 0 || jwt_add_grant(jwt, "iss", k->issuer) != 0 ||
	    jwt_add_grant(jwt, "sub", sub) != 0 || jwt_add_grant(jwt, "tid", tid) != 0 ||
	    jwt_add_grant(jwt, "jti", jti) != 0 || jwt_add_grant_int(jwt, "iat", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "nbf", (long)now) != 0 ||
	    jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) != 0 ||
	    jwt_add_grants_json(jwt, grants) != 0 || jwt_add_header(jwt, "kid", k->kid) != 0)
		goto out;
	if (k->alg == JWT_HS256) {
		if (jwt_set_alg(jwt, JWT_ALG_HS256, k->secret, (int)k->secret_len) != 0)
			goto out;
	} else if (k->private_pem == NULL ||
		   jwt_set_alg(jwt, k->alg == JWT_ES256 ? JWT_ALG_ES256 : JWT_ALG_RS256,
			       (const unsigned char *)k->private_pem, (int)k->private_len) != 0) {
		goto out;
	}
	encoded = jwt_encode_str(jwt);
	if (encoded != NULL)
		result = xstrdup(encoded);
	if (result != NULL && k->alg == JWT_ES256)
		es256_make_low_s(result);
out:
	free(encoded);
	free(grants);
	jwt_free(jwt);
	return result;
}

cJSON *jwt_jwks(const struct jwt_key *const *keys, size_t n_keys)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *set = cJSON_AddArrayToObject(doc, "keys");
	for (size_t i = 0; i < n_keys; i++) {
		const struct jwt_key *k = keys[i];
		cJSON *jwk = k->alg == JWT_HS256 || k->pub == NULL ? NULL : public_jwk(k);
		if (jwk == NULL)
			continue;
		cJSON_AddStringToObject(jwk, "kid", k->kid);
		cJSON_AddStringToObject(jwk, "use", "sig");
		cJSON_AddStringToObject(jwk, "alg", alg_names[k->alg]);
		cJSON_AddItemToArray(set, jwk);
	}
	return doc;
}
