/* The second factor's pure parts: RFC 4226 and RFC 6238's own test
 * vectors, the window and the replay rule, the provisioning URI, the
 * sealing of secrets and the recovery codes. */
#include "auth/totp.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const unsigned char rfc_secret[] = "12345678901234567890";

START_TEST(hotp_rfc4226_vectors)
{
	static const uint32_t want[] = {755224, 287082, 359152, 969429, 338314,
					254676, 287922, 162583, 399871, 520489};
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_uint_eq(hotp(rfc_secret, 20, i, 6), want[i]);
}
END_TEST

START_TEST(totp_rfc6238_vectors)
{
	static const struct {
		long long t;
		uint32_t code;
	} v[] = {{59, 94287082},	 {1111111109, 7081804},	 {1111111111, 14050471},
		 {1234567890, 89005924}, {2000000000, 69279037}, {20000000000LL, 65353130}};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		ck_assert_uint_eq(hotp(rfc_secret, 20, (uint64_t)totp_step(v[i].t), 8), v[i].code);
}
END_TEST

START_TEST(match_window_and_replay)
{
	char code[8];
	long long now = 1111111111, step = totp_step(now);
	/* the previous step, this one and the next match; two away do not */
	for (long long d = -2; d <= 2; d++) {
		snprintf(code, sizeof code, "%06u",
			 hotp(rfc_secret, 20, (uint64_t)(step + d), TOTP_DIGITS));
		long long got = totp_match(rfc_secret, code, now, 0);
		ck_assert_int_eq(got, d >= -1 && d <= 1 ? step + d : -1);
		/* a step already used is not taken again */
		ck_assert_int_eq(totp_match(rfc_secret, code, now, step + d), -1);
	}
	snprintf(code, sizeof code, "%06u", hotp(rfc_secret, 20, (uint64_t)step, TOTP_DIGITS));
	char spaced[9] = {code[0], code[1], code[2], ' ', code[3], code[4], code[5], '\0'};
	ck_assert_int_eq(totp_match(rfc_secret, spaced, now, 0), step);
	ck_assert_int_eq(totp_match(rfc_secret, "12345", now, 0), -1);
	ck_assert_int_eq(totp_match(rfc_secret, "1234567", now, 0), -1);
	ck_assert_int_eq(totp_match(rfc_secret, "12a456", now, 0), -1);
	ck_assert_int_eq(totp_match(rfc_secret, "", now, 0), -1);
}
END_TEST

START_TEST(uri_and_secret)
{
	unsigned char s[TOTP_SECRET_LEN];
	char b32[TOTP_SECRET_B32], uri[512];
	totp_secret_new(s, b32);
	ck_assert_uint_eq(strlen(b32), 32);
	ck_assert_int_eq(totp_uri(uri, sizeof uri, "Contoso Cloud", "anna@contoso.example",
				  "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
			 0);
	ck_assert_str_eq(uri, "otpauth://totp/Contoso%20Cloud:anna%40contoso.example"
			      "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Contoso%20Cloud"
			      "&algorithm=SHA1&digits=6&period=30");
	ck_assert_int_eq(totp_uri(uri, 40, "twotier", "anna@contoso.example", b32), -1);
}
END_TEST

START_TEST(seal_binds_key_and_user)
{
	unsigned char key[TOTP_KEY_LEN], other[TOTP_KEY_LEN], s[TOTP_SECRET_LEN],
	    back[TOTP_SECRET_LEN];
	char b32[TOTP_SECRET_B32], sealed[TOTP_SEALED_LEN];
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	totp_secret_new(s, b32);
	totp_seal(key, "user-a", s, sealed);
	ck_assert_uint_eq(strlen(sealed), TOTP_SEALED_LEN - 1);
	ck_assert_int_eq(totp_open(key, "user-a", sealed, back), 0);
	ck_assert_mem_eq(back, s, sizeof s);
	ck_assert_int_eq(totp_open(key, "user-b", sealed, back), -1);
	ck_assert_int_eq(totp_open(other, "user-a", sealed, back), -1);
	sealed[40] = sealed[40] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(totp_open(key, "user-a", sealed, back), -1);
	ck_assert_int_eq(totp_open(key, "user-a", "short", back), -1);
}
END_TEST

START_TEST(key_file)
{
	char path[] = "/tmp/twotier-totp-key-XXXXXX", err[256];
	unsigned char key[TOTP_KEY_LEN];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	fputs("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", f);
	fclose(f);
	ck_assert_int_eq(totp_key_load(path, key, err, sizeof err), 0);
	ck_assert_uint_eq(key[31], 31);
	f = fopen(path, "w");
	fputs("AAECAwQF\n", f);
	fclose(f);
	ck_assert_int_eq(totp_key_load(path, key, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "32 bytes"));
	unlink(path);
	ck_assert_int_eq(totp_key_load(path, key, err, sizeof err), -1);
}
END_TEST

START_TEST(recovery_codes)
{
	char code[RECOVERY_CODE_LEN + 1], norm[RECOVERY_CODE_CHARS + 1];
	recovery_code_new(code);
	ck_assert_uint_eq(strlen(code), RECOVERY_CODE_LEN);
	ck_assert_int_eq(code[5], '-');
	ck_assert(recovery_code_normalize(code, norm));
	ck_assert_uint_eq(strlen(norm), RECOVERY_CODE_CHARS);
	ck_assert(recovery_code_normalize("ABCDE FGHJK", norm));
	ck_assert_str_eq(norm, "abcdefghjk");
	ck_assert(!recovery_code_normalize("abcde-fghj", norm));
	ck_assert(!recovery_code_normalize("abcde-fghjkm", norm));
	ck_assert(!recovery_code_normalize("abcde-fghj1", norm)); /* 1 is not in the alphabet */
	ck_assert(!recovery_code_normalize("", norm));
}
END_TEST

Suite *totp_suite(void)
{
	Suite *s = suite_create("totp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, hotp_rfc4226_vectors);
	tcase_add_test(tc, totp_rfc6238_vectors);
	tcase_add_test(tc, match_window_and_replay);
	tcase_add_test(tc, uri_and_secret);
	tcase_add_test(tc, seal_binds_key_and_user);
	tcase_add_test(tc, key_file);
	tcase_add_test(tc, recovery_codes);
	suite_add_tcase(s, tc);
	return s;
}
