/* JWT verification is the first code an attacker talks to: every attack
 * here must be refused, each with its own reason. Keys are made at run
 * time (no key files in the repository); tokens are built by hand where
 * libjwt would refuse to make them. */
#include "auth/jwt_token.h"
#include "core/xalloc.h"
#include "suites.h"

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW	1700000000LL
#define ISS	"https://twotier.test"
#define AUD	"twotier-api"
#define EXT_ISS "https://idp.partner.test"
#define EXT_AUD "twotier-partner"
#define SECRET	"0123456789abcdef0123456789abcdef" /* 32 bytes */

#define HDR_ES "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"
#define HDR_RS "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
#define HDR_HS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
/* Every claim but the times, for our issuer. */
#define CLAIMS                                                                                     \
	"\"iss\":\"" ISS "\",\"aud\":\"" AUD                                                       \
	"\",\"sub\":\"user-1\",\"tid\":\"tenant-1\",\"jti\":\"jti-1\""
/* A payload that passes every check at NOW. */
#define PAYLOAD_OK "{" CLAIMS ",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000900}"

/* ---- keys, made once per test case (unchecked fixture) ---- */

static EVP_PKEY *ec_pkey, *rsa_pkey, *ext_pkey;
static char ec_priv[64], ec_pub[64], rsa_priv[64], rsa_pub[64], ext_pub[64];
static struct jwt_key es, rs, hs, ext;

/* Writes pkey as PEM (private or public) to a fresh temp file. */
static void write_pem(char path[64], EVP_PKEY *pkey, int private)
{
	snprintf(path, 64, "/tmp/check_jwt_XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(close(fd), 0);
	BIO *bio = BIO_new_file(path, "w");
	ck_assert_ptr_nonnull(bio);
	int ok = private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
			 : PEM_write_bio_PUBKEY(bio, pkey);
	BIO_free(bio);
	ck_assert_int_eq(ok, 1);
}

static void load_ok(struct jwt_key *k, const char *alg, const char *priv, const char *pub,
		    const char *secret, const char *iss, const char *aud)
{
	char err[256] = "";
	int rc = jwt_key_load(k, alg, priv, pub, secret, iss, aud, err, sizeof err);
	ck_assert_msg(rc == 0, "jwt_key_load %s: %s", alg, err);
}

static void keys_setup(void)
{
	ec_pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ext_pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert(ec_pkey != NULL && rsa_pkey != NULL && ext_pkey != NULL);
	write_pem(ec_priv, ec_pkey, 1);
	write_pem(ec_pub, ec_pkey, 0);
	write_pem(rsa_priv, rsa_pkey, 1);
	write_pem(rsa_pub, rsa_pkey, 0);
	write_pem(ext_pub, ext_pkey, 0);
	load_ok(&es, "ES256", ec_priv, ec_pub, NULL, ISS, AUD);
	load_ok(&rs, "RS256", rsa_priv, rsa_pub, NULL, ISS, AUD);
	load_ok(&hs, "HS256", NULL, NULL, SECRET, ISS, AUD);
	load_ok(&ext, "ES256", NULL, ext_pub, NULL, EXT_ISS, EXT_AUD); /* verify only */
}

static void keys_teardown(void)
{
	jwt_key_free(&es);
	jwt_key_free(&rs);
	jwt_key_free(&hs);
	jwt_key_free(&ext);
	EVP_PKEY_free(ec_pkey);
	EVP_PKEY_free(rsa_pkey);
	EVP_PKEY_free(ext_pkey);
	ec_pkey = rsa_pkey = ext_pkey = NULL;
	unlink(ec_priv);
	unlink(ec_pub);
	unlink(rsa_priv);
	unlink(rsa_pub);
	unlink(ext_pub);
}

/* ---- building tokens by hand ---- */

static char *b64(const void *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(n);
	sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static char *b64s(const char *s)
{
	return b64(s, strlen(s));
}

/* P-256's order n, from OpenSSL's curve (the code under test has its own
 * copy); the caller frees it. */
static BIGNUM *p256_order(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	ck_assert_ptr_nonnull(g);
	BIGNUM *n = BN_dup(EC_GROUP_get0_order(g));
	EC_GROUP_free(g);
	ck_assert_ptr_nonnull(n);
	return n;
}

/* Whether the s of an r || s signature is low (s <= n/2). */
static bool s_is_low(const unsigned char sig[64])
{
	BIGNUM *n = p256_order(), *s = BN_bin2bn(sig + 32, 32, NULL);
	ck_assert(s != NULL && BN_rshift1(n, n));
	bool low = BN_cmp(s, n) <= 0;
	BN_free(n);
	BN_free(s);
	return low;
}

/* Replaces the s of an r || s signature by n - s: the other signature
 * ECDSA accepts for the same message and key. */
static void flip_s(unsigned char sig[64])
{
	BIGNUM *n = p256_order(), *s = BN_bin2bn(sig + 32, 32, NULL);
	ck_assert(s != NULL && BN_sub(s, n, s) && BN_bn2binpad(s, sig + 32, 32) == 32);
	BN_free(n);
	BN_free(s);
}

/* The JWS signature of input with pkey: r || s (64 bytes, s low, as a
 * canonical signer makes it) for EC, the PKCS#1 v1.5 signature for RSA.
 * Returns its length. */
static size_t sign_pkey(EVP_PKEY *pkey, const char *input, unsigned char out[512])
{
	unsigned char der[512];
	size_t der_len = sizeof der;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert_ptr_nonnull(ctx);
	int ok =
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, strlen(input)) == 1;
	EVP_MD_CTX_free(ctx);
	ck_assert(ok);
	if (!EVP_PKEY_is_a(pkey, "EC")) {
		memcpy(out, der, der_len);
		return der_len;
	}
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	ck_assert_ptr_nonnull(sig);
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	ck_assert(ok);
	if (!s_is_low(out))
		flip_s(out);
	return 64;
}

static size_t sign_hmac(const void *secret, size_t secret_len, const char *input,
			unsigned char out[512])
{
	unsigned int len = 0;
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)secret_len,
				   (const unsigned char *)input, strlen(input), out, &len));
	return len;
}

/* "b64(header).b64(payload)". */
static char *signing_input(const char *header, const char *payload)
{
	char *h = b64s(header), *p = b64s(payload);
	char *in = xasprintf("%s.%s", h, p);
	free(h);
	free(p);
	return in;
}

/* input "." b64(sig); an empty signature gives a trailing dot. */
static char *with_sig(const char *input, const unsigned char *sig, size_t sig_len)
{
	char *s = b64(sig, sig_len);
	char *t = xasprintf("%s.%s", input, s);
	free(s);
	return t;
}

/* header.payload signed with pkey (EC: ES256, RSA: RS256). */
static char *token_pkey(const char *header, const char *payload, EVP_PKEY *pkey)
{
	unsigned char sig[512];
	char *in = signing_input(header, payload);
	size_t n = sign_pkey(pkey, in, sig);
	char *t = with_sig(in, sig, n);
	free(in);
	return t;
}

static char *token_hmac(const char *header, const char *payload, const void *secret, size_t len)
{
	unsigned char sig[512];
	char *in = signing_input(header, payload);
	size_t n = sign_hmac(secret, len, in, sig);
	char *t = with_sig(in, sig, n);
	free(in);
	return t;
}

/* header.payload with the given raw signature bytes. */
static char *token_raw(const char *header, const char *payload, const void *sig, size_t len)
{
	char *in = signing_input(header, payload);
	char *t = with_sig(in, sig, len);
	free(in);
	return t;
}

/* Decodes one segment of a token (for inspecting what jwt_issue made). */
static cJSON *segment_json(const char *s, size_t len)
{
	unsigned char *bin = xmalloc(len + 1);
	size_t n = 0;
	ck_assert_int_eq(sodium_base642bin(bin, len, s, len, NULL, &n, NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			 0);
	bin[n] = '\0';
	cJSON *doc = cJSON_Parse((const char *)bin);
	free(bin);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

/* ---- verifying ---- */

static const char *const result_names[] = {
#define RESULT_NAME(name, text) #name,
    JWT_RESULTS(RESULT_NAME)
#undef RESULT_NAME
};

static const char *result_name(enum jwt_result r)
{
	return (unsigned)r < sizeof result_names / sizeof result_names[0] ? result_names[r] : "?";
}

#define EXPECT(call, want)                                                                         \
	do {                                                                                       \
		enum jwt_result r_ = (call);                                                       \
		ck_assert_msg(r_ == (want), "%s: got %s, want %s", #call, result_name(r_),         \
			      result_name(want));                                                  \
	} while (0)

/* Verifies token against the single key k at now. */
static enum jwt_result verify_at(const struct jwt_key *k, const char *token, long long now,
				 struct jwt_claims *c)
{
	const struct jwt_key *keys[] = {k};
	struct jwt_claims tmp;
	size_t which = 99;
	enum jwt_result r = jwt_verify(keys, 1, token, now, c ? c : &tmp, &which);
	if (r == JWT_VALID)
		ck_assert_uint_eq(which, 0);
	return r;
}

/* Builds header.payload (ES256 with our key), verifies it against our ES256
 * key at NOW, frees it. */
static enum jwt_result es_check(const char *header, const char *payload)
{
	char *t = token_pkey(header, payload, ec_pkey);
	enum jwt_result r = verify_at(&es, t, NOW, NULL);
	free(t);
	return r;
}

/* es_check with a payload made from a format (times, mostly). */
__attribute__((format(printf, 1, 2))) static enum jwt_result es_payload(const char *fmt, ...)
{
	va_list ap;
	char payload[2048];
	va_start(ap, fmt);
	vsnprintf(payload, sizeof payload, fmt, ap);
	va_end(ap);
	return es_check(HDR_ES, payload);
}

static cJSON *roles_array(void)
{
	cJSON *roles = cJSON_CreateArray();
	cJSON_AddItemToArray(roles, cJSON_CreateString("admin_agent"));
	return roles;
}

/* ---- round trip through jwt_issue ---- */

static void issue_and_verify(const struct jwt_key *k, const char *alg)
{
	char jti[40] = "";
	cJSON *roles = roles_array();
	char *t = jwt_issue(k, "user-42", "tenant-7", roles, 900, NOW, jti);
	cJSON_Delete(roles);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(jti), 36);

	struct jwt_claims c;
	EXPECT(verify_at(k, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sub, "user-42");
	ck_assert_str_eq(c.tid, "tenant-7");
	ck_assert_str_eq(c.jti, jti);
	ck_assert_int_eq(c.exp, NOW + 900);
	ck_assert_int_eq(c.nbf, NOW);
	ck_assert_int_eq(c.iat, NOW);

	/* what is inside: alg, typ and kid in the header, our roles and aud */
	const char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
	cJSON *h = segment_json(t, (size_t)(d1 - t));
	cJSON *p = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
	ck_assert_str_eq(cJSON_GetObjectItem(h, "alg")->valuestring, alg);
	ck_assert_str_eq(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
	ck_assert_str_eq(cJSON_GetObjectItem(h, "kid")->valuestring, k->kid);
	ck_assert_str_eq(cJSON_GetObjectItem(p, "iss")->valuestring, ISS);
	ck_assert_str_eq(cJSON_GetObjectItem(p, "aud")->valuestring, AUD);
	const cJSON *r = cJSON_GetObjectItem(p, "roles");
	ck_assert(cJSON_IsArray(r) && cJSON_GetArraySize(r) == 1);
	ck_assert_str_eq(cJSON_GetArrayItem(r, 0)->valuestring, "admin_agent");
	cJSON_Delete(h);
	cJSON_Delete(p);
	free(t);
}

START_TEST(issue_verify_es256)
{
	issue_and_verify(&es, "ES256");
}
END_TEST

START_TEST(issue_verify_rs256)
{
	issue_and_verify(&rs, "RS256");
}
END_TEST

START_TEST(issue_verify_hs256)
{
	issue_and_verify(&hs, "HS256");
}
END_TEST

/* A token of one algorithm is never checked with another's key. */
START_TEST(issued_token_other_key_is_bad_alg)
{
	char jti[40];
	char *t_rs = jwt_issue(&rs, "u", "t", NULL, 900, NOW, jti);
	char *t_hs = jwt_issue(&hs, "u", "t", NULL, 900, NOW, jti);
	ck_assert(t_rs != NULL && t_hs != NULL);
	EXPECT(verify_at(&es, t_rs, NOW, NULL), JWT_BAD_ALG);
	EXPECT(verify_at(&es, t_hs, NOW, NULL), JWT_BAD_ALG);
	EXPECT(verify_at(&rs, t_hs, NOW, NULL), JWT_BAD_ALG);
	EXPECT(verify_at(&hs, t_rs, NOW, NULL), JWT_BAD_ALG);
	free(t_rs);
	free(t_hs);
}
END_TEST

/* A key loaded without its private half verifies but cannot sign. */
START_TEST(issue_with_verify_only_key_fails)
{
	char jti[40];
	ck_assert_ptr_null(jwt_issue(&ext, "u", "t", NULL, 900, NOW, jti));
}
END_TEST

/* Hand-built tokens agree with ours: the baseline every attack departs from. */
START_TEST(hand_built_baseline)
{
	struct jwt_claims c;
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sub, "user-1");
	free(t);
	t = token_pkey(HDR_RS, PAYLOAD_OK, rsa_pkey);
	EXPECT(verify_at(&rs, t, NOW, NULL), JWT_VALID);
	free(t);
	t = token_hmac(HDR_HS, PAYLOAD_OK, SECRET, 32);
	EXPECT(verify_at(&hs, t, NOW, NULL), JWT_VALID);
	free(t);
	/* typ may be absent */
	EXPECT(es_check("{\"alg\":\"ES256\"}", PAYLOAD_OK), JWT_VALID);
}
END_TEST

/* ---- algorithm attacks ---- */

START_TEST(alg_none_refused)
{
	static const char *const names[] = {"none", "NONE", "None"};
	unsigned char junk[64];
	memset(junk, 0x41, sizeof junk);
	for (size_t i = 0; i < 3; i++) {
		char header[64];
		snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", names[i]);
		/* empty signature: "h.p." */
		char *t = token_raw(header, PAYLOAD_OK, "", 0);
		ck_assert_msg(t[strlen(t) - 1] == '.', "%s", t);
		EXPECT(verify_at(&es, t, NOW, NULL), JWT_MALFORMED);
		EXPECT(verify_at(&rs, t, NOW, NULL), JWT_MALFORMED);
		EXPECT(verify_at(&hs, t, NOW, NULL), JWT_MALFORMED);
		free(t);
		/* non-empty signature: junk, and a real ES256 signature */
		t = token_raw(header, PAYLOAD_OK, junk, sizeof junk);
		EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_ALG);
		EXPECT(verify_at(&hs, t, NOW, NULL), JWT_BAD_ALG);
		free(t);
		t = token_pkey(header, PAYLOAD_OK, ec_pkey);
		EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_ALG);
		free(t);
	}
}
END_TEST

/* The classic confusion: the RSA public key PEM used as an HMAC secret. */
START_TEST(hs256_with_rsa_public_key_as_secret)
{
	FILE *f = fopen(rsa_pub, "rb");
	ck_assert_ptr_nonnull(f);
	char pem[4096];
	size_t n = fread(pem, 1, sizeof pem - 1, f);
	fclose(f);
	pem[n] = '\0';
	ck_assert(strstr(pem, "BEGIN PUBLIC KEY") != NULL);
	char *t = token_hmac(HDR_HS, PAYLOAD_OK, pem, n);
	EXPECT(verify_at(&rs, t, NOW, NULL), JWT_BAD_ALG);
	free(t);
	/* without the final newline too */
	t = token_hmac(HDR_HS, PAYLOAD_OK, pem, n - 1);
	EXPECT(verify_at(&rs, t, NOW, NULL), JWT_BAD_ALG);
	free(t);
	/* and against the EC key with its PEM */
	f = fopen(ec_pub, "rb");
	ck_assert_ptr_nonnull(f);
	n = fread(pem, 1, sizeof pem - 1, f);
	fclose(f);
	t = token_hmac(HDR_HS, PAYLOAD_OK, pem, n);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_ALG);
	free(t);
}
END_TEST

START_TEST(alg_missing_or_misspelt)
{
	EXPECT(es_check("{\"typ\":\"JWT\"}", PAYLOAD_OK), JWT_BAD_ALG);
	EXPECT(es_check("{\"alg\":\"es256\"}", PAYLOAD_OK), JWT_BAD_ALG);
	EXPECT(es_check("{\"alg\":\"ES384\"}", PAYLOAD_OK), JWT_BAD_ALG);
	EXPECT(es_check("{\"alg\":[\"ES256\"]}", PAYLOAD_OK), JWT_BAD_ALG);
	EXPECT(es_check("{\"alg\":null}", PAYLOAD_OK), JWT_BAD_ALG);
	EXPECT(es_check("{\"Alg\":\"ES256\"}", PAYLOAD_OK), JWT_BAD_ALG);
}
END_TEST

/* ---- signatures ---- */

/* Re-encodes the payload of token with sub replaced, keeping the
 * signature. */
static char *swap_sub(const char *token, const char *sub)
{
	const char *d1 = strchr(token, '.'), *d2 = strchr(d1 + 1, '.');
	cJSON *p = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
	ck_assert(cJSON_ReplaceItemInObjectCaseSensitive(p, "sub", cJSON_CreateString(sub)));
	char *json = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	char *p64 = b64s(json);
	char *t = xasprintf("%.*s.%s%s", (int)(d1 - token), token, p64, d2);
	free(json);
	free(p64);
	return t;
}

START_TEST(payload_changed_after_signing)
{
	const struct jwt_key *const ks[] = {&es, &rs, &hs};
	for (size_t i = 0; i < 3; i++) {
		char jti[40];
		char *t = jwt_issue(ks[i], "user-1", "tenant-1", NULL, 900, NOW, jti);
		ck_assert_ptr_nonnull(t);
		char *forged = swap_sub(t, "admin");
		ck_assert_str_ne(forged, t);
		EXPECT(verify_at(ks[i], forged, NOW, NULL), JWT_BAD_SIGNATURE);
		/* the same payload re-encoded unchanged still verifies */
		char *same = swap_sub(t, "user-1");
		EXPECT(verify_at(ks[i], same, NOW, NULL), JWT_VALID);
		free(same);
		free(forged);
		free(t);
	}
}
END_TEST

START_TEST(header_changed_after_signing)
{
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	char *sig = strrchr(t, '.');
	char *h = b64s("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"x\"}");
	char *p = b64s(PAYLOAD_OK);
	char *forged = xasprintf("%s.%s%s", h, p, sig);
	EXPECT(verify_at(&es, forged, NOW, NULL), JWT_BAD_SIGNATURE);
	free(forged);
	free(h);
	free(p);
	free(t);
}
END_TEST

START_TEST(signature_removed)
{
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	char *dot = strrchr(t, '.');
	dot[1] = '\0'; /* "h.p." */
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_MALFORMED);
	dot[0] = '\0'; /* "h.p" */
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_MALFORMED);
	free(t);
	t = token_hmac(HDR_HS, PAYLOAD_OK, SECRET, 32);
	dot = strrchr(t, '.');
	dot[1] = '\0';
	EXPECT(verify_at(&hs, t, NOW, NULL), JWT_MALFORMED);
	dot[0] = '\0';
	EXPECT(verify_at(&hs, t, NOW, NULL), JWT_MALFORMED);
	free(t);
}
END_TEST

START_TEST(signature_wrong)
{
	unsigned char sig[512] = {0};
	char *in = signing_input(HDR_ES, PAYLOAD_OK);
	size_t n = sign_pkey(ec_pkey, in, sig);
	/* one bit flipped */
	sig[10] ^= 0x01;
	char *t = with_sig(in, sig, n);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	sig[10] ^= 0x01;
	/* one byte too many, one too few */
	t = with_sig(in, sig, n + 1);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	t = with_sig(in, sig, n - 1);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	/* r = s = 0 ("psychic signatures", CVE-2022-21449) */
	memset(sig, 0, 64);
	t = with_sig(in, sig, 64);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	/* another key's signature */
	char *other = token_pkey(HDR_ES, PAYLOAD_OK, ext_pkey);
	EXPECT(verify_at(&es, other, NOW, NULL), JWT_BAD_SIGNATURE);
	free(other);
	/* HS256 with another secret */
	other = token_hmac(HDR_HS, PAYLOAD_OK, "0123456789abcdef0123456789abcdeF", 32);
	EXPECT(verify_at(&hs, other, NOW, NULL), JWT_BAD_SIGNATURE);
	free(other);
	/* RS256 truncated */
	free(in);
	in = signing_input(HDR_RS, PAYLOAD_OK);
	n = sign_pkey(rsa_pkey, in, sig);
	ck_assert_uint_eq(n, 256);
	t = with_sig(in, sig, n - 1);
	EXPECT(verify_at(&rs, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	free(in);
}
END_TEST

/* JOSE carries ES256 as r || s; a DER signature is not accepted. */
START_TEST(es256_der_signature_refused)
{
	unsigned char der[128];
	size_t der_len = sizeof der;
	char *in = signing_input(HDR_ES, PAYLOAD_OK);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ec_pkey) == 1);
	ck_assert(EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)in, strlen(in)) == 1);
	EVP_MD_CTX_free(ctx);
	char *t = with_sig(in, der, der_len);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	free(in);
}
END_TEST

/* ---- shape ---- */

START_TEST(segment_count)
{
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	char *two = xstrdup(t);
	*strrchr(two, '.') = '\0';
	char *h = b64s(HDR_ES), *p = b64s(PAYLOAD_OK);
	char *two_b = xasprintf("%s.%s", h, p);
	char *four = xasprintf("%s.%s", t, "AAAA");
	char *four_b = xasprintf("%s.", t);
	char *one = xstrdup(h);
	EXPECT(verify_at(&es, two, NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, two_b, NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, four, NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, four_b, NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, one, NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, "..", NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, "...", NOW, NULL), JWT_MALFORMED);
	EXPECT(verify_at(&es, ".", NOW, NULL), JWT_MALFORMED);
	free(t);
	free(two);
	free(two_b);
	free(four);
	free(four_b);
	free(one);
	free(h);
	free(p);
}
END_TEST

/* Replaces the character at pos of a copy of t by c. */
static char *poke(const char *t, size_t pos, char c)
{
	char *s = xstrdup(t);
	s[pos] = c;
	return s;
}

START_TEST(bad_base64)
{
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	size_t d1 = (size_t)(strchr(t, '.') - t), d2 = (size_t)(strrchr(t, '.') - t);
	char *bad;
	/* '*' in each segment */
	bad = poke(t, 1, '*');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	bad = poke(t, d1 + 2, '*');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	bad = poke(t, d2 + 2, '*');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	/* the standard alphabet's '+' and '/' */
	bad = poke(t, d1 + 2, '+');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	bad = poke(t, d2 + 2, '/');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	/* a space, and a trailing newline */
	bad = poke(t, d1 + 2, ' ');
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	bad = xasprintf("%s\n", t);
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	free(t);

	/* '=' padding: a 16-byte header is 22 characters unpadded ("==" when
	 * padded), a 64-byte r || s 86 ("==" too) */
	static const char hdr16[] = "{\"alg\":\"ES256\" }";
	ck_assert_uint_eq(strlen(hdr16), 16);
	t = token_pkey(hdr16, PAYLOAD_OK, ec_pkey);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	d1 = (size_t)(strchr(t, '.') - t);
	ck_assert_uint_eq(d1, 22);
	bad = xasprintf("%.*s==%s", (int)d1, t, t + d1);
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	bad = xasprintf("%s==", t);
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	/* the header's last character with a non-zero unused bit (a
	 * non-canonical encoding of the same bytes) */
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t idx = (size_t)(strchr(alphabet, t[d1 - 1]) - alphabet);
	ck_assert_uint_eq(idx & 15, 0);
	bad = poke(t, d1 - 1, alphabet[idx | 1]);
	EXPECT(verify_at(&es, bad, NOW, NULL), JWT_MALFORMED);
	free(bad);
	free(t);
}
END_TEST

START_TEST(too_large)
{
	char pad[9300];
	memset(pad, 'a', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	char *payload = xasprintf("{" CLAIMS ",\"exp\":1700000900,\"pad\":\"%s\"}", pad);
	char *t = token_pkey(HDR_ES, payload, ec_pkey);
	ck_assert_uint_gt(strlen(t), 9 * 1024);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_TOO_LARGE);
	free(t);
	free(payload);
	/* the limit itself: 8192 bytes are looked at, 8193 are not */
	char *big = xmalloc(JWT_MAX_BYTES + 2);
	memset(big, 'a', JWT_MAX_BYTES + 1);
	big[JWT_MAX_BYTES + 1] = '\0';
	EXPECT(verify_at(&es, big, NOW, NULL), JWT_TOO_LARGE);
	big[JWT_MAX_BYTES] = '\0';
	EXPECT(verify_at(&es, big, NOW, NULL), JWT_MALFORMED);
	free(big);
}
END_TEST

/* Just under the limit, a valid token is still accepted. */
START_TEST(large_but_valid)
{
	char pad[5000];
	memset(pad, 'a', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	char *payload = xasprintf("{" CLAIMS ",\"exp\":1700000900,\"pad\":\"%s\"}", pad);
	char *t = token_pkey(HDR_ES, payload, ec_pkey);
	ck_assert_uint_le(strlen(t), JWT_MAX_BYTES);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	free(t);
	free(payload);
}
END_TEST

START_TEST(typ_checked)
{
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":\"JOSE\"}", PAYLOAD_OK), JWT_BAD_TYPE);
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", PAYLOAD_OK), JWT_BAD_TYPE);
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":\"\"}", PAYLOAD_OK), JWT_BAD_TYPE);
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":1}", PAYLOAD_OK), JWT_BAD_TYPE);
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":null}", PAYLOAD_OK), JWT_BAD_TYPE);
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", PAYLOAD_OK), JWT_VALID);
	EXPECT(es_check("{\"alg\":\"ES256\"}", PAYLOAD_OK), JWT_VALID);
	/* the type is checked before the algorithm */
	EXPECT(es_check("{\"alg\":\"none\",\"typ\":\"JOSE\"}", PAYLOAD_OK), JWT_BAD_TYPE);
}
END_TEST

START_TEST(crit_refused)
{
	EXPECT(es_check("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"crit\":[\"exp\"],\"exp\":1}",
			PAYLOAD_OK),
	       JWT_MALFORMED);
	EXPECT(es_check("{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}", PAYLOAD_OK),
	       JWT_MALFORMED);
	EXPECT(es_check("{\"alg\":\"ES256\",\"crit\":[]}", PAYLOAD_OK), JWT_MALFORMED);
}
END_TEST

START_TEST(null_and_empty)
{
	const struct jwt_key *keys[] = {&es};
	struct jwt_claims c;
	size_t which = 0;
	memset(&c, 'x', sizeof c);
	EXPECT(jwt_verify(keys, 1, NULL, NOW, &c, &which), JWT_MALFORMED);
	ck_assert_str_eq(c.sub, ""); /* claims cleared on refusal */
	EXPECT(jwt_verify(keys, 1, "", NOW, &c, &which), JWT_MALFORMED);
	/* no keys at all */
	char *t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	EXPECT(jwt_verify(keys, 0, t, NOW, &c, &which), JWT_MALFORMED);
	free(t);
}
END_TEST

START_TEST(segments_not_objects)
{
	EXPECT(es_check(HDR_ES, "[1]"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "null"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "\"sub\""), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "42"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, PAYLOAD_OK "x"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, PAYLOAD_OK PAYLOAD_OK), JWT_MALFORMED);
	EXPECT(es_check("[\"ES256\"]", PAYLOAD_OK), JWT_MALFORMED);
	EXPECT(es_check("", PAYLOAD_OK), JWT_MALFORMED);
	/* a NUL inside a segment */
	char *t;
	{
		static const char nul_payload[] = "{\"sub\":\"a\"}";
		char *h = b64s(HDR_ES);
		char raw[sizeof nul_payload + 1];
		memcpy(raw, nul_payload, sizeof nul_payload);
		raw[sizeof nul_payload] = ' ';
		char *p = b64(raw, sizeof raw); /* "...}\0 " */
		char *in = xasprintf("%s.%s", h, p);
		unsigned char sig[512];
		size_t n = sign_pkey(ec_pkey, in, sig);
		t = with_sig(in, sig, n);
		free(h);
		free(p);
		free(in);
	}
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_MALFORMED);
	free(t);
	/* whitespace around the JSON is fine */
	EXPECT(es_check(" " HDR_ES "\n", "\t" PAYLOAD_OK " "), JWT_VALID);
}
END_TEST

/* ---- claims ---- */

START_TEST(exp_required)
{
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"iat\":1700000000,\"nbf\":1700000000}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":\"1700000900\"}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":null}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":true}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":[1700000900]}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":-1}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1e300}"), JWT_NO_EXP);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"EXP\":1700000900}"), JWT_NO_EXP);
	/* the smallest payload that passes */
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900}"), JWT_VALID);
	/* a fraction is fine */
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900.5}"), JWT_VALID);
}
END_TEST

START_TEST(nbf_iat_types)
{
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"nbf\":\"1700000000\"}"),
	       JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"iat\":\"1700000000\"}"),
	       JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"nbf\":-5}"), JWT_MALFORMED);
}
END_TEST

START_TEST(expiry_and_leeway)
{
	/* past exp by more than the 60 s leeway */
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld}", NOW - JWT_LEEWAY - 1), JWT_EXPIRED);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld}", NOW - 3600), JWT_EXPIRED);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":0}"), JWT_EXPIRED);
	/* within the leeway */
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld}", NOW - JWT_LEEWAY), JWT_VALID);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld}", NOW - 30), JWT_VALID);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld}", NOW), JWT_VALID);
}
END_TEST

START_TEST(not_before_and_leeway)
{
	EXPECT(
	    es_payload("{" CLAIMS ",\"exp\":%lld,\"nbf\":%lld}", NOW + 3600, NOW + JWT_LEEWAY + 1),
	    JWT_NOT_YET_VALID);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld,\"nbf\":%lld}", NOW + 3600, NOW + 600),
	       JWT_NOT_YET_VALID);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld,\"nbf\":%lld}", NOW + 3600, NOW + JWT_LEEWAY),
	       JWT_VALID);
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld,\"nbf\":%lld}", NOW + 3600, NOW - 10),
	       JWT_VALID);
	/* iat in the future is not refused (nbf is what counts) */
	EXPECT(es_payload("{" CLAIMS ",\"exp\":%lld,\"iat\":%lld}", NOW + 3600, NOW + 600),
	       JWT_VALID);
}
END_TEST

START_TEST(issuer_checked)
{
	EXPECT(es_check(HDR_ES, "{\"iss\":\"https://evil.test\",\"aud\":\"" AUD
				"\",\"sub\":\"u\",\"exp\":1700000900}"),
	       JWT_BAD_ISSUER);
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "/\",\"aud\":\"" AUD
				"\",\"sub\":\"u\",\"exp\":1700000900}"),
	       JWT_BAD_ISSUER);
	EXPECT(es_check(HDR_ES, "{\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1700000900}"),
	       JWT_BAD_ISSUER);
	EXPECT(es_check(HDR_ES, "{\"iss\":[\"" ISS "\"],\"aud\":\"" AUD
				"\",\"sub\":\"u\",\"exp\":1700000900}"),
	       JWT_BAD_ISSUER);
	EXPECT(
	    es_check(HDR_ES, "{\"iss\":null,\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":1700000900}"),
	    JWT_BAD_ISSUER);
}
END_TEST

START_TEST(audience_checked)
{
#define AUD_PAYLOAD(aud) "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"exp\":1700000900" aud "}"
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":\"other-api\"")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":\"" AUD "x\"")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD("")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":null")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":[]")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":[\"a\",\"b\"]")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":[[\"" AUD "\"]]")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":{\"" AUD "\":1}")), JWT_BAD_AUDIENCE);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":\"" AUD "\"")), JWT_VALID);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":[\"" AUD "\"]")), JWT_VALID);
	EXPECT(es_check(HDR_ES, AUD_PAYLOAD(",\"aud\":[\"a\",1,\"" AUD "\"]")), JWT_VALID);
#undef AUD_PAYLOAD
}
END_TEST

START_TEST(subject_required)
{
	struct jwt_claims c;
	char *t;
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900}"),
	       JWT_NO_SUBJECT);
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				"\",\"sub\":\"\",\"exp\":1700000900}"),
	       JWT_NO_SUBJECT);
	EXPECT(es_check(HDR_ES,
			"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":42,\"exp\":1700000900}"),
	       JWT_NO_SUBJECT);
	/* a subject too long for the claims is refused, not cut */
	char sub[300];
	memset(sub, 's', sizeof sub - 1);
	sub[sizeof sub - 1] = '\0';
	char *payload = xasprintf(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\",\"exp\":1700000900}", sub);
	EXPECT(es_check(HDR_ES, payload), JWT_NO_SUBJECT);
	free(payload);
	/* 255 characters fit */
	sub[255] = '\0';
	payload = xasprintf(
	    "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"%s\",\"exp\":1700000900}", sub);
	t = token_pkey(HDR_ES, payload, ec_pkey);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sub, sub);
	ck_assert_str_eq(c.tid, "");
	ck_assert_str_eq(c.jti, "");
	free(t);
	free(payload);
}
END_TEST

/* The checks run in a fixed order: a token wrong in several ways gets the
 * first reason. */
START_TEST(first_failure_wins)
{
	/* bad signature beats expiry, issuer, audience */
	char *t = token_pkey(HDR_ES, "{\"iss\":\"x\",\"exp\":1}", ext_pkey);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);
	/* no exp beats issuer */
	EXPECT(es_check(HDR_ES, "{\"iss\":\"x\"}"), JWT_NO_EXP);
	/* issuer beats audience, audience beats subject */
	EXPECT(es_check(HDR_ES, "{\"iss\":\"x\",\"exp\":1700000900}"), JWT_BAD_ISSUER);
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"exp\":1700000900}"), JWT_BAD_AUDIENCE);
	/* expiry is the last word */
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1}"),
	       JWT_NO_SUBJECT);
}
END_TEST

/* ---- external issuers ---- */

#define EXT_PAYLOAD                                                                                \
	"{\"iss\":\"" EXT_ISS "\",\"aud\":\"" EXT_AUD "\",\"sub\":\"ext-user\",\"exp\":"           \
	"1700000900}"

START_TEST(external_issuer)
{
	const struct jwt_key *keys[] = {&es, &ext};
	struct jwt_claims c;
	size_t which = 99;

	/* the partner's token with the partner's key */
	char *t = token_pkey(HDR_ES, EXT_PAYLOAD, ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 1);
	ck_assert_str_eq(c.sub, "ext-user");
	/* not accepted by our key alone */
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_BAD_SIGNATURE);
	free(t);

	/* a token claiming the partner's issuer but signed with our key */
	t = token_pkey(HDR_ES, EXT_PAYLOAD, ec_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_BAD_SIGNATURE);
	free(t);

	/* our issuer signed with the partner's key */
	t = token_pkey(HDR_ES, PAYLOAD_OK, ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_BAD_SIGNATURE);
	free(t);

	/* our own tokens still work with the partner listed */
	which = 99;
	t = token_pkey(HDR_ES, PAYLOAD_OK, ec_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 0);
	free(t);

	/* the partner's issuer with our audience */
	t = token_pkey(HDR_ES,
		       "{\"iss\":\"" EXT_ISS "\",\"aud\":\"" AUD
		       "\",\"sub\":\"x\",\"exp\":1700000900}",
		       ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_BAD_AUDIENCE);
	free(t);

	/* an unknown issuer falls to keys[0] and fails the issuer check */
	t = token_pkey(HDR_ES,
		       "{\"iss\":\"https://other.test\",\"aud\":\"" AUD
		       "\",\"sub\":\"x\",\"exp\":1700000900}",
		       ec_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_BAD_ISSUER);
	free(t);

	/* an external HS256 key: the algorithm follows the issuer's key */
	struct jwt_key ext_hs;
	load_ok(&ext_hs, "HS256", NULL, NULL, SECRET "-partner", EXT_ISS, EXT_AUD);
	const struct jwt_key *keys_hs[] = {&es, &ext_hs};
	t = token_hmac(HDR_HS, EXT_PAYLOAD, SECRET "-partner", strlen(SECRET "-partner"));
	EXPECT(jwt_verify(keys_hs, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 1);
	free(t);
	t = token_pkey(HDR_ES, EXT_PAYLOAD, ec_pkey);
	EXPECT(jwt_verify(keys_hs, 2, t, NOW, &c, &which), JWT_BAD_ALG);
	free(t);
	jwt_key_free(&ext_hs);
}
END_TEST

/* ---- the per-thread cache ---- */

START_TEST(cache_hit_rechecks_time)
{
	char jti[40];
	struct jwt_claims c;
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	ck_assert_ptr_nonnull(t);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	memset(&c, 0, sizeof c);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID); /* the second, from the cache */
	ck_assert_str_eq(c.sub, "user-1");
	ck_assert_str_eq(c.tid, "tenant-1");
	ck_assert_str_eq(c.jti, jti);
	ck_assert_int_eq(c.exp, NOW + 900);
	/* time moves on: exp + leeway is the last valid second */
	EXPECT(verify_at(&es, t, NOW + 900 + JWT_LEEWAY, NULL), JWT_VALID);
	EXPECT(verify_at(&es, t, NOW + 900 + JWT_LEEWAY + 1, NULL), JWT_EXPIRED);
	EXPECT(verify_at(&es, t, NOW + 86400, NULL), JWT_EXPIRED);
	/* and nbf, too */
	EXPECT(verify_at(&es, t, NOW - JWT_LEEWAY - 1, NULL), JWT_NOT_YET_VALID);
	EXPECT(verify_at(&es, t, NOW - JWT_LEEWAY, NULL), JWT_VALID);
	free(t);
}
END_TEST

/* A token first seen expired is remembered without its verdict. */
START_TEST(cache_expired_first)
{
	char jti[40];
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	EXPECT(verify_at(&es, t, NOW + 5000, NULL), JWT_EXPIRED);
	EXPECT(verify_at(&es, t, NOW + 5000, NULL), JWT_EXPIRED);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	free(t);
}
END_TEST

/* Refused tokens are not remembered. */
START_TEST(cache_keeps_no_refusal)
{
	char jti[40];
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	char *forged = swap_sub(t, "admin");
	for (int i = 0; i < 3; i++) {
		EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
		EXPECT(verify_at(&es, forged, NOW, NULL), JWT_BAD_SIGNATURE);
	}
	free(forged);
	free(t);
	/* no subject: refused every time */
	for (int i = 0; i < 2; i++)
		EXPECT(es_check(HDR_ES,
				"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"exp\":1700000900}"),
		       JWT_NO_SUBJECT);
}
END_TEST

/* A token of a session names it (sid), which the principal then checks;
 * one without names none. */
START_TEST(session_id_claim)
{
	char jti[40];
	struct jwt_claims c;
	char *t = jwt_issue_in_session(&es, "user-1", "tenant-1",
				       "0193a000-0000-7000-8000-0000000000a1", NULL, 900, NOW, jti);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sid, "0193a000-0000-7000-8000-0000000000a1");
	free(t);
	t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sid, "");
	free(t);
}
END_TEST

/* Key rotation: the previous key of our issuer keeps verifying the
 * tokens it signed (chosen by their kid) beside the key that signs now;
 * the JWKS publishes both. */
START_TEST(rotated_key_verifies_its_tokens)
{
	struct jwt_key old;
	char err[256] = "", hdr[160], jti[40];
	struct jwt_claims c;
	size_t which = 99;
	ck_assert_msg(jwt_key_load_public(&old, ext_pub, ISS, AUD, err, sizeof err) == 0, "%s",
		      err);
	ck_assert(old.alg == JWT_ES256 && old.private_pem == NULL);
	ck_assert_str_ne(old.kid, es.kid);
	const struct jwt_key *keys[] = {&es, &old};

	/* signed now: the signing key */
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 0);
	free(t);
	/* signed before the rotation, naming its key */
	snprintf(hdr, sizeof hdr, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", old.kid);
	t = token_pkey(hdr, PAYLOAD_OK, ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 1);
	/* once the old key is dropped, its tokens stop */
	EXPECT(jwt_verify(keys, 1, t, NOW, &c, &which), JWT_BAD_SIGNATURE);
	free(t);
	/* a token naming no key, or one we do not have, is checked with the
	 * issuer's first key: a signature of the old key fails there */
	t = token_pkey(HDR_ES, PAYLOAD_OK, ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_BAD_SIGNATURE);
	free(t);
	t = token_pkey("{\"alg\":\"ES256\",\"kid\":\"nobody\"}", PAYLOAD_OK, ec_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 0);
	free(t);

	cJSON *doc = jwt_jwks(keys, 2);
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	ck_assert_int_eq(cJSON_GetArraySize(set), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(set, 0), "kid")->valuestring,
			 es.kid);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(set, 1), "kid")->valuestring,
			 old.kid);
	cJSON_Delete(doc);
	jwt_key_free(&old);

	/* an RSA public key is read as RS256 */
	ck_assert_msg(jwt_key_load_public(&old, rsa_pub, ISS, AUD, err, sizeof err) == 0, "%s",
		      err);
	ck_assert(old.alg == JWT_RS256);
	jwt_key_free(&old);
	ck_assert_int_eq(jwt_key_load_public(&old, "/nonexistent.pem", ISS, AUD, err, sizeof err),
			 -1);
}
END_TEST

/* A cached verdict belongs to the key that gave it. */
START_TEST(cache_bound_to_key)
{
	char jti[40];
	size_t which = 99;
	struct jwt_claims c;
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	/* another key set: not served from the cache */
	EXPECT(verify_at(&rs, t, NOW, NULL), JWT_BAD_ALG);
	EXPECT(verify_at(&ext, t, NOW, NULL), JWT_BAD_SIGNATURE);
	/* the same key at another index gives its own index */
	const struct jwt_key *keys[] = {&ext, &es};
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 1);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_VALID);
	ck_assert_uint_eq(which, 1);
	/* fewer keys than the cached index */
	const struct jwt_key *one[] = {&ext};
	EXPECT(jwt_verify(one, 1, t, NOW, &c, &which), JWT_BAD_SIGNATURE);
	/* a copy of the key at another address is checked afresh */
	struct jwt_key copy = es;
	EXPECT(verify_at(&copy, t, NOW, NULL), JWT_VALID);
	free(t);
}
END_TEST

/* ---- keys ---- */

static void load_fails(const char *alg, const char *priv, const char *pub, const char *secret,
		       const char *iss, const char *aud, const char *want)
{
	struct jwt_key k;
	char err[256] = "";
	memset(&k, 0x5a, sizeof k);
	ck_assert_int_eq(jwt_key_load(&k, alg, priv, pub, secret, iss, aud, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want) != NULL, "want '%s' in '%s'", want, err);
	/* left empty, and freeing it again is harmless */
	ck_assert_ptr_null(k.pub);
	ck_assert_ptr_null(k.private_pem);
	ck_assert_ptr_null(k.secret);
	jwt_key_free(&k);
}

START_TEST(key_load_errors)
{
	load_fails("HS512", NULL, NULL, SECRET, ISS, AUD, "HS512");
	load_fails("none", NULL, NULL, SECRET, ISS, AUD, "unsupported");
	load_fails("es256", NULL, ec_pub, NULL, ISS, AUD, "unsupported");
	/* HS256: 31 bytes is too short */
	load_fails("HS256", NULL, NULL, "0123456789abcdef0123456789abcde", ISS, AUD, "32 bytes");
	load_fails("HS256", NULL, NULL, NULL, ISS, AUD, "32 bytes");
	load_fails("HS256", NULL, NULL, "", ISS, AUD, "32 bytes");
	/* missing files */
	load_fails("ES256", NULL, "/nonexistent/twotier/pub.pem", NULL, ISS, AUD,
		   "/nonexistent/twotier/pub.pem");
	load_fails("ES256", "/nonexistent/twotier/priv.pem", ec_pub, NULL, ISS, AUD,
		   "/nonexistent/twotier/priv.pem");
	load_fails("ES256", NULL, NULL, NULL, ISS, AUD, "public key");
	load_fails("RS256", "", "", NULL, ISS, AUD, "public key");
	/* the wrong kind of key */
	load_fails("RS256", NULL, ec_pub, NULL, ISS, AUD, "RSA");
	load_fails("RS256", ec_priv, NULL, NULL, ISS, AUD, "RSA");
	load_fails("ES256", NULL, rsa_pub, NULL, ISS, AUD, "P-256");
	/* a private key where the public one goes is not a PUBKEY */
	load_fails("ES256", NULL, ec_priv, NULL, ISS, AUD, "public key");
	/* issuer and audience are required */
	load_fails("ES256", NULL, ec_pub, NULL, NULL, AUD, "issuer");
	load_fails("ES256", NULL, ec_pub, NULL, "", AUD, "issuer");
	load_fails("ES256", NULL, ec_pub, NULL, ISS, NULL, "audience");
	load_fails("ES256", NULL, ec_pub, NULL, ISS, "", "audience");
	load_fails("HS256", NULL, NULL, SECRET, NULL, AUD, "issuer");
	char longer[300];
	memset(longer, 'i', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	load_fails("ES256", NULL, ec_pub, NULL, longer, AUD, "issuer");
	load_fails("ES256", NULL, ec_pub, NULL, ISS, longer, "audience");
}
END_TEST

START_TEST(key_load_rsa_1024_refused)
{
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ck_assert_ptr_nonnull(small);
	char pub[64], priv[64];
	write_pem(pub, small, 0);
	write_pem(priv, small, 1);
	load_fails("RS256", NULL, pub, NULL, ISS, AUD, "2048");
	load_fails("RS256", priv, NULL, NULL, ISS, AUD, "2048");
	unlink(pub);
	unlink(priv);
	EVP_PKEY_free(small);
}
END_TEST

START_TEST(key_load_garbage_file)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/check_jwt_XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	static const char junk[] =
	    "-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n";
	ck_assert_int_eq(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
	close(fd);
	load_fails("ES256", NULL, path, NULL, ISS, AUD, "public key");
	unlink(path);
}
END_TEST

START_TEST(key_load_variants)
{
	struct jwt_key k;
	char err[256] = "";
	/* HS256: exactly 32 bytes will do; the kid is fixed */
	ck_assert_int_eq(jwt_key_load(&k, "HS256", NULL, NULL, SECRET, ISS, AUD, err, sizeof err),
			 0);
	ck_assert_int_eq(k.alg, JWT_HS256);
	ck_assert_uint_eq(k.secret_len, 32);
	ck_assert_str_eq(k.kid, "hs256");
	ck_assert_str_eq(k.issuer, ISS);
	ck_assert_str_eq(k.audience, AUD);
	jwt_key_free(&k);
	/* no algorithm means ES256 */
	ck_assert_int_eq(jwt_key_load(&k, NULL, NULL, ec_pub, NULL, ISS, AUD, err, sizeof err), 0);
	ck_assert_int_eq(k.alg, JWT_ES256);
	ck_assert_str_eq(k.kid, es.kid);
	ck_assert_ptr_null(k.private_pem);
	jwt_key_free(&k);
	/* the public key taken from the private one; it signs and verifies */
	ck_assert_int_eq(jwt_key_load(&k, "ES256", ec_priv, NULL, NULL, ISS, AUD, err, sizeof err),
			 0);
	ck_assert_str_eq(k.kid, es.kid);
	char jti[40];
	char *t = jwt_issue(&k, "user-1", "tenant-1", NULL, 60, NOW, jti);
	ck_assert_ptr_nonnull(t);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	free(t);
	jwt_key_free(&k);
	ck_assert_int_eq(jwt_key_load(&k, "RS256", rsa_priv, NULL, NULL, ISS, AUD, err, sizeof err),
			 0);
	ck_assert_str_eq(k.kid, rs.kid);
	jwt_key_free(&k);
	/* the kid is 43 base64url characters and differs per key */
	ck_assert_uint_eq(strlen(es.kid), 43);
	ck_assert_uint_eq(strlen(rs.kid), 43);
	ck_assert_str_ne(es.kid, ext.kid);
	/* a tiny error buffer is not overrun */
	char tiny[8];
	memset(tiny, 'x', sizeof tiny);
	ck_assert_int_eq(jwt_key_load(&k, "HS512", NULL, NULL, NULL, ISS, AUD, tiny, 4), -1);
	ck_assert_uint_eq(strlen(tiny), 3);
	ck_assert_int_eq(tiny[4], 'x');
}
END_TEST

/* ---- JWKS ---- */

static char *bn_b64(EVP_PKEY *pkey, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char bin[512];
	ck_assert(EVP_PKEY_get_bn_param(pkey, param, &bn));
	int n = pad ? BN_bn2binpad(bn, bin, pad) : BN_bn2bin(bn, bin);
	BN_free(bn);
	ck_assert_int_gt(n, 0);
	return b64(bin, (size_t)n);
}

/* The RFC 7638 thumbprint of the canonical JWK text. */
static char *thumbprint(const char *canon)
{
	unsigned char d[32];
	unsigned int len = 0;
	ck_assert(EVP_Digest(canon, strlen(canon), d, &len, EVP_sha256(), NULL) == 1);
	return b64(d, sizeof d);
}

static const char *member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	ck_assert_msg(cJSON_IsString(v), "no string member %s", name);
	return v->valuestring;
}

START_TEST(jwks_es256)
{
	cJSON *doc = jwt_jwks((const struct jwt_key *const[]){&es}, 1);
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	ck_assert(cJSON_IsArray(keys));
	ck_assert_int_eq(cJSON_GetArraySize(keys), 1);
	const cJSON *k = cJSON_GetArrayItem(keys, 0);
	ck_assert_str_eq(member(k, "kty"), "EC");
	ck_assert_str_eq(member(k, "crv"), "P-256");
	ck_assert_str_eq(member(k, "alg"), "ES256");
	ck_assert_str_eq(member(k, "use"), "sig");
	ck_assert_str_eq(member(k, "kid"), es.kid);
	ck_assert_uint_eq(strlen(member(k, "x")), 43);
	ck_assert_uint_eq(strlen(member(k, "y")), 43);
	/* no private member */
	ck_assert_ptr_null(cJSON_GetObjectItem(k, "d"));
	/* the coordinates are the key's */
	char *x = bn_b64(ec_pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
	char *y = bn_b64(ec_pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
	ck_assert_str_eq(member(k, "x"), x);
	ck_assert_str_eq(member(k, "y"), y);
	/* kid is the RFC 7638 thumbprint */
	char *canon =
	    xasprintf("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	char *tp = thumbprint(canon);
	ck_assert_str_eq(es.kid, tp);
	free(canon);
	free(tp);
	free(x);
	free(y);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(jwks_rs256)
{
	cJSON *doc = jwt_jwks((const struct jwt_key *const[]){&rs}, 1);
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
	ck_assert_int_eq(cJSON_GetArraySize(keys), 1);
	const cJSON *k = cJSON_GetArrayItem(keys, 0);
	ck_assert_str_eq(member(k, "kty"), "RSA");
	ck_assert_str_eq(member(k, "alg"), "RS256");
	ck_assert_str_eq(member(k, "kid"), rs.kid);
	ck_assert_str_eq(member(k, "e"), "AQAB");
	ck_assert_uint_eq(strlen(member(k, "n")), 342); /* 256 bytes */
	char *n = bn_b64(rsa_pkey, OSSL_PKEY_PARAM_RSA_N, 0);
	ck_assert_str_eq(member(k, "n"), n);
	char *canon = xasprintf("{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", n);
	char *tp = thumbprint(canon);
	ck_assert_str_eq(rs.kid, tp);
	free(canon);
	free(tp);
	free(n);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(jwks_hs256_is_empty)
{
	cJSON *doc = jwt_jwks((const struct jwt_key *const[]){&hs}, 1);
	char *text = cJSON_PrintUnformatted(doc);
	ck_assert_str_eq(text, "{\"keys\":[]}");
	free(text);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(result_texts)
{
	for (int r = JWT_VALID; r <= JWT_NO_SUBJECT; r++) {
		const char *t = jwt_result_text((enum jwt_result)r);
		ck_assert(t != NULL && *t != '\0');
		for (int q = JWT_VALID; q < r; q++)
			ck_assert_str_ne(t, jwt_result_text((enum jwt_result)q));
	}
	ck_assert_str_eq(jwt_result_text(JWT_VALID), "valid");
	ck_assert_str_eq(jwt_result_text(JWT_EXPIRED), "the token has expired");
	ck_assert_str_eq(jwt_result_text((enum jwt_result)(JWT_NO_SUBJECT + 1)), "invalid token");
	ck_assert_str_eq(jwt_result_text((enum jwt_result) - 1), "invalid token");
}
END_TEST

/* ---- cost ---- */

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 + (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

/* Verifies tokens[0..n-1] (each `rounds` times) between *a and *b; no
 * ck_assert inside, as each one costs a message to the parent process.
 * Returns how many were not valid. */
static int timed_verify(const struct jwt_key *k, char **tokens, int n, int rounds,
			struct timespec *a, struct timespec *b)
{
	const struct jwt_key *keys[] = {k};
	struct jwt_claims c;
	size_t which;
	int refused = 0;
	clock_gettime(CLOCK_MONOTONIC, a);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			refused += jwt_verify(keys, 1, tokens[i], NOW, &c, &which) != JWT_VALID;
	clock_gettime(CLOCK_MONOTONIC, b);
	return refused;
}

/* Average µs of one uncached verification of n distinct tokens issued by k. */
static double uncached_us(const struct jwt_key *k, int n)
{
	char **tokens = xcalloc((size_t)n, sizeof *tokens);
	char jti[40];
	struct timespec a, b;
	for (int i = 0; i < n; i++) {
		tokens[i] = jwt_issue(k, "user-1", "tenant-1", NULL, 900, NOW, jti);
		ck_assert_ptr_nonnull(tokens[i]);
	}
	int refused = timed_verify(k, tokens, n, 1, &a, &b);
	for (int i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
	ck_assert_int_eq(refused, 0);
	return elapsed_us(&a, &b) / n;
}

START_TEST(verify_cost)
{
	enum { CACHED = 2000, UNCACHED = 200 };
	char jti[40];
	struct timespec a, b;
	char *t = jwt_issue(&es, "user-1", "tenant-1", NULL, 900, NOW, jti);
	ck_assert_ptr_nonnull(t);
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID); /* fills the cache */
	int refused = timed_verify(&es, &t, 1, CACHED, &a, &b);
	free(t);
	ck_assert_int_eq(refused, 0);
	double cached = elapsed_us(&a, &b) / CACHED;
	double es_un = uncached_us(&es, UNCACHED);
	double rs_un = uncached_us(&rs, UNCACHED);
	double hs_un = uncached_us(&hs, UNCACHED);
	printf("jwt: ES256 verify uncached %.1f us, cached %.2f us (%d distinct tokens, %d cached "
	       "verifications)\n",
	       es_un, cached, UNCACHED, CACHED);
	printf("jwt: RS256 verify uncached %.1f us, HS256 verify uncached %.1f us\n", rs_un, hs_un);
	fflush(stdout);
	/* sanity only: this may run under sanitizers on a busy machine */
	ck_assert_msg(cached < 2000.0, "cached verification %.1f us", cached);
	ck_assert_msg(es_un < 2000.0, "uncached ES256 verification %.1f us", es_un);
	ck_assert_msg(cached < es_un, "cached %.2f us is not cheaper than uncached %.1f us", cached,
		      es_un);
}
END_TEST

/* ---- regressions: bugs found once, fixed, kept fixed ---- */

/* jwt_key_load checks only "EC, 256 bits" for ES256 (lib/jwt_token.c,
 * jwt_key_load: EVP_PKEY_get_bits(k->pub) == 256), so secp256k1 or
 * brainpoolP256r1 keys are taken as ES256 keys: tokens are then signed on
 * the wrong curve (that is ES256K, RFC 8812) and the JWKS publishes the
 * point as "crv": "P-256", which no relying party can use. */
START_TEST(es256_other_256_bit_curves_refused)
{
	static const char *const curves[] = {"secp256k1", "brainpoolP256r1"};
	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);
		ck_assert_ptr_nonnull(pk);
		ck_assert_int_eq(EVP_PKEY_get_bits(pk), 256);
		char pub[64];
		write_pem(pub, pk, 0);
		struct jwt_key k;
		char err[256] = "";
		int rc = jwt_key_load(&k, "ES256", NULL, pub, NULL, ISS, AUD, err, sizeof err);
		unlink(pub);
		EVP_PKEY_free(pk);
		if (rc == 0)
			jwt_key_free(&k);
		ck_assert_msg(rc == -1, "ES256 accepted a %s key", curves[i]);
		ck_assert_msg(strstr(err, "P-256") != NULL, "got '%s'", err);
	}
}
END_TEST

/* RFC 7515 §4 and RFC 7519 §4: a JWS/JWT with duplicate member names must
 * be rejected, or only the lexically last one used. cJSON's lookup returns
 * the first, so {"sub":"alice","sub":"admin"} verifies as "alice" and a
 * header {"alg":"ES256","alg":"none"} as ES256 (lib/jwt_token.c, jwt_verify
 * and copy_claim via cJSON_GetObjectItemCaseSensitive). */
START_TEST(duplicate_members_refused_or_last_wins)
{
	struct jwt_claims c;
	char *t = token_pkey(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"sub\":\"admin\"}", ec_pkey);
	enum jwt_result r = verify_at(&es, t, NOW, &c);
	free(t);
	ck_assert_msg(r == JWT_MALFORMED || (r == JWT_VALID && strcmp(c.sub, "admin") == 0),
		      "duplicate sub: got %s with sub '%s'", result_name(r), c.sub);
	t = token_pkey("{\"alg\":\"ES256\",\"alg\":\"none\"}", PAYLOAD_OK, ec_pkey);
	r = verify_at(&es, t, NOW, NULL);
	free(t);
	ck_assert_msg(r != JWT_VALID, "duplicate alg: got %s", result_name(r));
}
END_TEST

/* Latent: a cached verdict is tied to the key's address. Not reachable
 * today (keys are loaded once, SIGHUP reloads nothing), but a key reloaded
 * into the same struct keeps honouring tokens of the old key from every
 * thread's cache until they expire. */
START_TEST(cache_forgets_a_replaced_key)
{
	struct jwt_key k;
	char jti[40];
	load_ok(&k, "ES256", ec_priv, ec_pub, NULL, ISS, AUD);
	char *t = jwt_issue(&k, "user-1", "tenant-1", NULL, 900, NOW, jti);
	ck_assert_ptr_nonnull(t);
	EXPECT(verify_at(&k, t, NOW, NULL), JWT_VALID);
	jwt_key_free(&k);
	load_ok(&k, "ES256", NULL, ext_pub, NULL, ISS, AUD); /* rotated */
	enum jwt_result r = verify_at(&k, t, NOW, NULL);
	jwt_key_free(&k);
	free(t);
	ck_assert_msg(r == JWT_BAD_SIGNATURE, "old key's token: got %s", result_name(r));
}
END_TEST

/* jwt_key_load takes a private and a public key that do not belong
 * together: every token it then issues fails its own verification. */
START_TEST(key_pair_mismatch_refused)
{
	struct jwt_key k;
	char err[256] = "";
	int rc = jwt_key_load(&k, "ES256", ec_priv, ext_pub, NULL, ISS, AUD, err, sizeof err);
	if (rc == 0)
		jwt_key_free(&k);
	ck_assert_msg(rc == -1, "a private key with another key's public half was accepted");
}
END_TEST

/* ---- one spelling per token (issue 7, finding 8) ---- */

/* Whether OpenSSL itself (no JOSE rule on top) accepts the r || s
 * signature sig of input under pkey. */
static bool ecdsa_accepts(EVP_PKEY *pkey, const char *input, const unsigned char sig[64])
{
	ECDSA_SIG *e = ECDSA_SIG_new();
	ck_assert_ptr_nonnull(e);
	ck_assert(ECDSA_SIG_set0(e, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)));
	unsigned char *der = NULL;
	int der_len = i2d_ECDSA_SIG(e, &der);
	ECDSA_SIG_free(e);
	ck_assert_int_gt(der_len, 0);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		  EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)input,
				   strlen(input)) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok;
}

/* ECDSA is malleable: with (r, s), (r, n - s) verifies too. Only the low
 * form is accepted, for our issuer and for an external one. */
START_TEST(es256_high_s_twin_refused)
{
	const struct jwt_key *keys[] = {&es, &ext};
	struct jwt_claims c;
	size_t which;
	for (int i = 0; i < 16; i++) {
		EVP_PKEY *pkey = i % 2 ? ext_pkey : ec_pkey;
		char *payload = xasprintf(i % 2 ? "{\"iss\":\"" EXT_ISS "\",\"aud\":\"" EXT_AUD
						  "\",\"sub\":\"ext-%d\",\"exp\":1700000900}"
						: "{" CLAIMS ",\"n\":%d,\"exp\":1700000900}",
					  i);
		char *in = signing_input(HDR_ES, payload);
		unsigned char sig[512];
		ck_assert_uint_eq(sign_pkey(pkey, in, sig), 64);
		ck_assert(s_is_low(sig));
		char *low = with_sig(in, sig, 64);
		flip_s(sig);
		ck_assert(!s_is_low(sig));
		ck_assert_msg(ecdsa_accepts(pkey, in, sig), "the twin is a valid ECDSA signature");
		char *high = with_sig(in, sig, 64);
		EXPECT(jwt_verify(keys, 2, low, NOW, &c, &which), JWT_VALID);
		/* twice: a refusal is not cached as a success */
		EXPECT(jwt_verify(keys, 2, high, NOW, &c, &which), JWT_BAD_SIGNATURE);
		EXPECT(jwt_verify(keys, 2, high, NOW, &c, &which), JWT_BAD_SIGNATURE);
		free(payload);
		free(in);
		free(low);
		free(high);
	}
}
END_TEST

/* libjwt signs with whichever s OpenSSL draws (high half the time):
 * jwt_issue hands out only the low form, so every token it makes verifies. */
START_TEST(es256_issued_tokens_are_low_s)
{
	cJSON *roles = roles_array();
	for (int i = 0; i < 48; i++) {
		char jti[40];
		char *t = jwt_issue(&es, "user-1", "tenant-1", roles, 900, NOW, jti);
		ck_assert_ptr_nonnull(t);
		const char *sig64 = strrchr(t, '.') + 1;
		unsigned char sig[64];
		size_t n = 0;
		ck_assert_uint_eq(strlen(sig64), 86);
		ck_assert_int_eq(sodium_base642bin(sig, sizeof sig, sig64, 86, NULL, &n, NULL,
						   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
				 0);
		ck_assert_uint_eq(n, 64);
		ck_assert_msg(s_is_low(sig), "token %d has a high s", i);
		EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
		free(t);
	}
	cJSON_Delete(roles);
}
END_TEST

/* The first '_' in [from, to) of t, or SIZE_MAX. */
static size_t underscore_in(const char *t, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (t[i] == '_')
			return i;
	return SIZE_MAX;
}

/* libsodium 1.0.18's URL-safe decoder reads every byte 0x80-0xFF as '_':
 * each such spelling of a segment is refused, in each of the three. */
START_TEST(segment_high_bytes_refused)
{
	/* "???" encodes with a '_' at any alignment; signatures are drawn
	 * again until one has a '_' too */
	char *t = NULL;
	size_t d1 = 0, d2 = 0, at[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
	for (int i = 0; i < 200 && (at[0] == SIZE_MAX || at[1] == SIZE_MAX || at[2] == SIZE_MAX);
	     i++) {
		char *header = xasprintf("{\"alg\":\"ES256\",\"kid\":\"%.*s???\"}", i % 3, "xx");
		char *payload = xasprintf("{" CLAIMS ",\"p\":\"%.*s???\",\"exp\":1700000900}",
					  (i / 3) % 3, "xx");
		free(t);
		t = token_pkey(header, payload, ec_pkey);
		free(header);
		free(payload);
		d1 = (size_t)(strchr(t, '.') - t);
		d2 = (size_t)(strrchr(t, '.') - t);
		at[0] = underscore_in(t, 0, d1);
		at[1] = underscore_in(t, d1 + 1, d2);
		at[2] = underscore_in(t, d2 + 1, strlen(t));
	}
	ck_assert_msg(at[0] != SIZE_MAX && at[1] != SIZE_MAX && at[2] != SIZE_MAX,
		      "no token with a '_' in every segment");
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	static const unsigned char high[] = {0x80, 0x9F, 0xBF, 0xC3, 0xDF, 0xFF};
	for (size_t seg = 0; seg < 3; seg++) {
		for (size_t h = 0; h < sizeof high; h++) {
			char *bad = poke(t, at[seg], (char)high[h]);
			ck_assert_msg(verify_at(&es, bad, NOW, NULL) == JWT_MALFORMED,
				      "segment %zu with 0x%02X for '_' not refused", seg,
				      (unsigned)high[h]);
			free(bad);
		}
	}
	/* and the same token with its '_' (from the cache, then not) */
	EXPECT(verify_at(&es, t, NOW, NULL), JWT_VALID);
	free(t);
}
END_TEST

/* cJSON reads \u0000 as a NUL, cutting the string there: "user-1\u0000x"
 * would be read as "user-1". Refused anywhere, and from any issuer. */
START_TEST(escaped_nul_refused)
{
	const struct jwt_key *keys[] = {&es, &ext};
	struct jwt_claims c;
	size_t which;
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				"\",\"sub\":\"user-1\\u0000admin\",\"exp\":1700000900}"),
	       JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"x\\u0000\":1}"), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{" CLAIMS ",\"exp\":1700000900,\"x\":[\"\\u0000\"]}"),
	       JWT_MALFORMED);
	EXPECT(es_check("{\"alg\":\"ES256\",\"kid\":\"a\\u0000b\"}", PAYLOAD_OK), JWT_MALFORMED);
	EXPECT(es_check("{\"alg\":\"ES256\\u0000x\"}", PAYLOAD_OK), JWT_MALFORMED);
	/* the external issuer's subject */
	char *t = token_pkey(HDR_ES,
			     "{\"iss\":\"" EXT_ISS "\",\"aud\":\"" EXT_AUD
			     "\",\"sub\":\"ext-user\\u0000other\",\"exp\":1700000900}",
			     ext_pkey);
	EXPECT(jwt_verify(keys, 2, t, NOW, &c, &which), JWT_MALFORMED);
	free(t);
	/* an escaped backslash followed by "u0000" is six characters, not a NUL */
	t = token_pkey(HDR_ES,
		       "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
		       "\",\"sub\":\"a\\\\u0000\",\"exp\":1700000900}",
		       ec_pkey);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sub, "a\\u0000");
	free(t);
	/* other escapes are read as they were */
	t = token_pkey(HDR_ES,
		       "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
		       "\",\"sub\":\"user\\u0041\\u00e9\\\"\",\"exp\":1700000900}",
		       ec_pkey);
	EXPECT(verify_at(&es, t, NOW, &c), JWT_VALID);
	ck_assert_str_eq(c.sub, "userA\xc3\xa9\"");
	free(t);
}
END_TEST

/* JSON forbids raw control characters in strings (cJSON takes them), and
 * between tokens allows only tab, line feed and carriage return. */
START_TEST(raw_controls_in_claims_refused)
{
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				"\",\"sub\":\"user\t1\",\"exp\":1700000900}"),
	       JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				"\",\"sub\":\"user\n1\",\"exp\":1700000900}"),
	       JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
				"\",\"sub\":\"user\x1b[1\",\"exp\":1700000900}"),
	       JWT_MALFORMED);
	EXPECT(es_check("{\"alg\":\"ES256\",\"kid\":\"\x01\"}", PAYLOAD_OK), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "\x0c" PAYLOAD_OK), JWT_MALFORMED);
	EXPECT(es_check(HDR_ES, "{\x01" CLAIMS ",\"exp\":1700000900}"), JWT_MALFORMED);
	/* tab, line feed and carriage return between tokens are fine */
	EXPECT(es_check(HDR_ES, "{\t" CLAIMS ",\r\n\"exp\":1700000900}"), JWT_VALID);
}
END_TEST

static TCase *jwt_one_spelling(void)
{
	TCase *tc = tcase_create("one spelling");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_test(tc, es256_high_s_twin_refused);
	tcase_add_test(tc, es256_issued_tokens_are_low_s);
	tcase_add_test(tc, segment_high_bytes_refused);
	tcase_add_test(tc, escaped_nul_refused);
	tcase_add_test(tc, raw_controls_in_claims_refused);
	return tc;
}

static TCase *jwt_regressions(void)
{
	TCase *tc = tcase_create("regressions");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_test(tc, es256_other_256_bit_curves_refused);
	tcase_add_test(tc, duplicate_members_refused_or_last_wins);
	tcase_add_test(tc, cache_forgets_a_replaced_key);
	tcase_add_test(tc, key_pair_mismatch_refused);
	return tc;
}

Suite *jwt_suite(void)
{
	Suite *s = suite_create("jwt");

	TCase *rt = tcase_create("round trip");
	tcase_add_unchecked_fixture(rt, keys_setup, keys_teardown);
	tcase_add_test(rt, issue_verify_es256);
	tcase_add_test(rt, issue_verify_rs256);
	tcase_add_test(rt, issue_verify_hs256);
	tcase_add_test(rt, issued_token_other_key_is_bad_alg);
	tcase_add_test(rt, issue_with_verify_only_key_fails);
	tcase_add_test(rt, hand_built_baseline);
	suite_add_tcase(s, rt);

	TCase *atk = tcase_create("attacks");
	tcase_add_unchecked_fixture(atk, keys_setup, keys_teardown);
	tcase_add_test(atk, alg_none_refused);
	tcase_add_test(atk, hs256_with_rsa_public_key_as_secret);
	tcase_add_test(atk, alg_missing_or_misspelt);
	tcase_add_test(atk, payload_changed_after_signing);
	tcase_add_test(atk, header_changed_after_signing);
	tcase_add_test(atk, signature_removed);
	tcase_add_test(atk, signature_wrong);
	tcase_add_test(atk, es256_der_signature_refused);
	tcase_add_test(atk, segment_count);
	tcase_add_test(atk, bad_base64);
	tcase_add_test(atk, too_large);
	tcase_add_test(atk, large_but_valid);
	tcase_add_test(atk, typ_checked);
	tcase_add_test(atk, crit_refused);
	tcase_add_test(atk, null_and_empty);
	tcase_add_test(atk, segments_not_objects);
	suite_add_tcase(s, atk);

	TCase *cl = tcase_create("claims");
	tcase_add_unchecked_fixture(cl, keys_setup, keys_teardown);
	tcase_add_test(cl, exp_required);
	tcase_add_test(cl, nbf_iat_types);
	tcase_add_test(cl, expiry_and_leeway);
	tcase_add_test(cl, not_before_and_leeway);
	tcase_add_test(cl, issuer_checked);
	tcase_add_test(cl, audience_checked);
	tcase_add_test(cl, subject_required);
	tcase_add_test(cl, first_failure_wins);
	tcase_add_test(cl, external_issuer);
	tcase_add_test(cl, rotated_key_verifies_its_tokens);
	tcase_add_test(cl, session_id_claim);
	suite_add_tcase(s, cl);

	TCase *cache = tcase_create("cache");
	tcase_add_unchecked_fixture(cache, keys_setup, keys_teardown);
	tcase_add_test(cache, cache_hit_rechecks_time);
	tcase_add_test(cache, cache_expired_first);
	tcase_add_test(cache, cache_keeps_no_refusal);
	tcase_add_test(cache, cache_bound_to_key);
	suite_add_tcase(s, cache);

	TCase *keys = tcase_create("keys");
	tcase_add_unchecked_fixture(keys, keys_setup, keys_teardown);
	tcase_add_test(keys, key_load_errors);
	tcase_add_test(keys, key_load_rsa_1024_refused);
	tcase_add_test(keys, key_load_garbage_file);
	tcase_add_test(keys, key_load_variants);
	tcase_add_test(keys, jwks_es256);
	tcase_add_test(keys, jwks_rs256);
	tcase_add_test(keys, jwks_hs256_is_empty);
	tcase_add_test(keys, result_texts);
	suite_add_tcase(s, keys);

	TCase *cost = tcase_create("cost");
	tcase_add_unchecked_fixture(cost, keys_setup, keys_teardown);
	tcase_set_timeout(cost, 60);
	tcase_add_test(cost, verify_cost);
	suite_add_tcase(s, cost);
	suite_add_tcase(s, jwt_regressions());
	suite_add_tcase(s, jwt_one_spelling());
	return s;
}
