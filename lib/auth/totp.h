/* The second factor (issue 18): time-based one-time passwords (RFC 6238:
 * HMAC-SHA-1, 6 digits, 30-second steps, one step either side for clock
 * drift), their secrets sealed with a key from the configuration, and
 * recovery codes. Pure functions: what a code is, not who used it
 * (domain/mfa.c keeps the steps used and the codes spent). */
#ifndef TWOTIER_TOTP_H
#define TWOTIER_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_LEN 20 /* 160 bits, RFC 4226's recommendation for SHA-1 */
#define TOTP_SECRET_B32 33 /* its base32, 32 characters, and the NUL */
#define TOTP_STEP	30
#define TOTP_DIGITS	6
#define TOTP_KEY_LEN	32
/* a sealed secret: base64 of nonce, ciphertext and tag */
#define TOTP_SEALED_LEN 81

/* 10 recovery codes of 10 characters, shown "abcde-fghjk" */
#define RECOVERY_CODES	    10
#define RECOVERY_CODE_LEN   11 /* with the dash */
#define RECOVERY_CODE_CHARS 10

/* RFC 4226's HOTP of counter with key, digits long (6 to 8). */
uint32_t hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits);

/* The step that code matches among now's step and one either side, the
 * earliest first, that is after last_step (steps used before are not taken
 * again); -1 when none does, or code is not 6 digits (spaces between them
 * are allowed). Every step is computed and compared whatever matches. */
long long totp_match(const unsigned char key[TOTP_SECRET_LEN], const char *code, long long now,
		     long long last_step);

/* The step of Unix time now. */
long long totp_step(long long now);

/* A new random secret and its base32 (RFC 4648, no padding). */
void totp_secret_new(unsigned char secret[TOTP_SECRET_LEN], char b32[TOTP_SECRET_B32]);

/* The otpauth:// URI an authenticator app reads (the Key Uri Format of
 * Google Authenticator): issuer and account percent-encoded. Returns 0,
 * or -1 when it does not fit in outsz. */
int totp_uri(char *out, size_t outsz, const char *issuer, const char *account,
	     const char b32[TOTP_SECRET_B32]);

/* Seals secret with key for user_id (bound to it: a sealed secret copied
 * to another user's row does not open) into out, NUL-terminated. */
void totp_seal(const unsigned char key[TOTP_KEY_LEN], const char *user_id,
	       const unsigned char secret[TOTP_SECRET_LEN], char out[TOTP_SEALED_LEN]);
/* Opens sealed into secret: 0, or -1 when it does not open with key for
 * user_id (another key, another user, or altered). */
int totp_open(const unsigned char key[TOTP_KEY_LEN], const char *user_id, const char *sealed,
	      unsigned char secret[TOTP_SECRET_LEN]);

/* Reads the sealing key from the file at path: 32 bytes in base64 (what
 * `openssl rand -base64 32` writes). Returns 0, or -1 with the reason in
 * err. */
int totp_key_load(const char *path, unsigned char key[TOTP_KEY_LEN], char *err, size_t errsz);

/* A new recovery code, "abcde-fghjk", from 31 letters and digits that
 * cannot be mistaken for each other (about 50 bits). */
void recovery_code_new(char out[RECOVERY_CODE_LEN + 1]);
/* The code as typed, lower-cased without dashes or spaces, into out:
 * false when it is not RECOVERY_CODE_CHARS of the alphabet. */
bool recovery_code_normalize(const char *typed, char out[RECOVERY_CODE_CHARS + 1]);

#endif
