#include "auth/totp.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

uint32_t hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits)
{
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	uint32_t mod = 1;
	for (int i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof msg, mac, &maclen);
	/* RFC 4226 §5.3: dynamic truncation */
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
		       ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	for (int i = 0; i < digits; i++)
		mod *= 10;
	sodium_memzero(mac, sizeof mac);
	return bin % mod;
}

long long totp_step(long long now)
{
	return now / TOTP_STEP;
}

/* The digits of code, spaces between them dropped ("123 456"), as a
 * number; -1 unless exactly TOTP_DIGITS. */
static long code_value(const char *code)
{
	long v = 0;
	int n = 0;
	for (const char *p = code; *p != '\0'; p++) {
		if (*p == ' ')
			continue;
		if (!isdigit((unsigned char)*p) || ++n > TOTP_DIGITS)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return n == TOTP_DIGITS ? v : -1;
}

long long totp_match(const unsigned char key[TOTP_SECRET_LEN], const char *code, long long now,
		     long long last_step)
{
	long want = code_value(code);
	long long step = totp_step(now), found = -1;
	if (want < 0)
		return -1;
	for (long long s = step - 1; s <= step + 1; s++) {
		uint32_t v = hotp(key, TOTP_SECRET_LEN, (uint64_t)s, TOTP_DIGITS);
		/* no early exit: the time taken tells nothing of which matched */
		bool hit = (long)v == want && s > last_step;
		if (hit && found < 0)
			found = s;
	}
	return found;
}

static void base32(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned buffer = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		buffer = (buffer << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(buffer >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(buffer << (5 - bits)) & 31];
	out[o] = '\0';
}

void totp_secret_new(unsigned char secret[TOTP_SECRET_LEN], char b32[TOTP_SECRET_B32])
{
	randombytes_buf(secret, TOTP_SECRET_LEN);
	base32(secret, TOTP_SECRET_LEN, b32);
}

/* Appends s percent-encoded (RFC 3986: all but the unreserved) to out at
 * *o. false when it does not fit. */
static bool append_encoded(char *out, size_t outsz, size_t *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		bool plain = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';
		if (*o + (plain ? 1 : 3) >= outsz)
			return false;
		if (plain) {
			out[(*o)++] = (char)*p;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[*p >> 4];
			out[(*o)++] = hex[*p & 15];
		}
	}
	out[*o] = '\0';
	return true;
}

static bool append(char *out, size_t outsz, size_t *o, const char *s)
{
	size_t n = strlen(s);
	if (*o + n >= outsz)
		return false;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return true;
}

int totp_uri(char *out, size_t outsz, const char *issuer, const char *account,
	     const char b32[TOTP_SECRET_B32])
{
	size_t o = 0;
	/* the label is "issuer:account", the issuer repeated as a parameter
	 * for the apps that read only that */
	bool ok = append(out, outsz, &o, "otpauth://totp/") &&
		  append_encoded(out, outsz, &o, issuer) && append(out, outsz, &o, ":") &&
		  append_encoded(out, outsz, &o, account) && append(out, outsz, &o, "?secret=") &&
		  append(out, outsz, &o, b32) && append(out, outsz, &o, "&issuer=") &&
		  append_encoded(out, outsz, &o, issuer) &&
		  append(out, outsz, &o, "&algorithm=SHA1&digits=6&period=30");
	return ok ? 0 : -1;
}

/* The associated data that binds a sealed secret to its user. */
static void seal_context(const char *user_id, char ad[80])
{
	snprintf(ad, 80, "twotier-totp:%s", user_id);
}

void totp_seal(const unsigned char key[TOTP_KEY_LEN], const char *user_id,
	       const unsigned char secret[TOTP_SECRET_LEN], char out[TOTP_SEALED_LEN])
{
	unsigned char box[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + TOTP_SECRET_LEN +
			  crypto_aead_xchacha20poly1305_ietf_ABYTES];
	unsigned char *nonce = box;
	char ad[80];
	seal_context(user_id, ad);
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, secret, TOTP_SECRET_LEN,
	    (const unsigned char *)ad, strlen(ad), NULL, nonce, key);
	sodium_bin2base64(out, TOTP_SEALED_LEN, box, sizeof box, sodium_base64_VARIANT_ORIGINAL);
}

int totp_open(const unsigned char key[TOTP_KEY_LEN], const char *user_id, const char *sealed,
	      unsigned char secret[TOTP_SECRET_LEN])
{
	unsigned char box[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + TOTP_SECRET_LEN +
			  crypto_aead_xchacha20poly1305_ietf_ABYTES];
	size_t n = 0;
	char ad[80];
	seal_context(user_id, ad);
	if (sodium_base642bin(box, sizeof box, sealed, strlen(sealed), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != sizeof box)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
		   secret, NULL, NULL, box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
		   sizeof box - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
		   (const unsigned char *)ad, strlen(ad), box, key) == 0
		   ? 0
		   : -1;
}

int totp_key_load(const char *path, unsigned char key[TOTP_KEY_LEN], char *err, size_t errsz)
{
	char text[256];
	size_t n = 0, len;
	int rc = -1;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = '\0';
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	if (sodium_base642bin(key, TOTP_KEY_LEN, text, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != TOTP_KEY_LEN)
		snprintf(err, errsz,
			 "%s: not 32 bytes in base64 (make one with openssl rand -base64 32)",
			 path);
	else
		rc = 0;
	sodium_memzero(text, sizeof text);
	return rc;
}

static const char recovery_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

void recovery_code_new(char out[RECOVERY_CODE_LEN + 1])
{
	size_t o = 0;
	for (int i = 0; i < RECOVERY_CODE_CHARS; i++) {
		if (i == RECOVERY_CODE_CHARS / 2)
			out[o++] = '-';
		out[o++] = recovery_alphabet[randombytes_uniform(sizeof recovery_alphabet - 1)];
	}
	out[o] = '\0';
}

bool recovery_code_normalize(const char *typed, char out[RECOVERY_CODE_CHARS + 1])
{
	int n = 0;
	for (const char *p = typed; *p != '\0'; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		char c = (char)tolower((unsigned char)*p);
		if (c == '\0' || strchr(recovery_alphabet, c) == NULL || n == RECOVERY_CODE_CHARS)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return n == RECOVERY_CODE_CHARS;
}
