#include "api/app.h"
#include "api/handlers.h"
#include "core/problem.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "http/http.h"
#include "suites.h"

#include <sodium.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- uuid ---- */

START_TEST(uuid_v7_format)
{
	char id[UUID_STR];
	memset(id, 'Z', sizeof id);
	uuid_v7(id);
	ck_assert_uint_eq(strlen(id), 36);
	ck_assert(uuid_valid(id));
	ck_assert_int_eq(id[14], '7');
	ck_assert_msg(strchr("89ab", id[19]) != NULL, "variant nibble '%c'", id[19]);
}
END_TEST

START_TEST(uuid_v7_differs_and_sorts)
{
	char a[UUID_STR], b[UUID_STR], c[UUID_STR];
	uuid_v7(a);
	uuid_v7(b);
	ck_assert_str_ne(a, b);
	/* 2 ms apart the 48-bit millisecond prefix must have grown */
	nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 2000000}, NULL);
	uuid_v7(c);
	ck_assert_msg(strcmp(a, c) < 0, "%s !< %s", a, c);
	ck_assert_msg(strcmp(b, c) < 0, "%s !< %s", b, c);
}
END_TEST

/* the floor of a moment sorts above the ids made before it and at or
 * below those made from its millisecond on */
START_TEST(uuid_v7_floor_bounds)
{
	char before[UUID_STR], floor[UUID_STR], after[UUID_STR];
	uuid_v7(before);
	nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 2000000}, NULL);
	micros_t at = time_micros();
	uuid_v7_floor(at, floor);
	nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 2000000}, NULL);
	uuid_v7(after);
	ck_assert(uuid_valid(floor));
	ck_assert_msg(strcmp(before, floor) < 0, "%s !< %s", before, floor);
	ck_assert_msg(strcmp(floor, after) < 0, "%s !< %s", floor, after);
	/* 2026-12-02T00:00:00Z is 1796169600000 ms: 0x01a2340d0c00 */
	uuid_v7_floor(1796169600000000LL, floor);
	ck_assert_str_eq(floor, "01a2340d-0c00-7000-8000-000000000000");
}
END_TEST

START_TEST(uuid_valid_rejects)
{
	ck_assert(uuid_valid("01890a5d-ac96-774b-bcce-b302099a8057"));
	ck_assert(uuid_valid("00000000-0000-0000-0000-000000000000"));
	ck_assert(!uuid_valid(NULL));
	ck_assert(!uuid_valid(""));
	ck_assert(!uuid_valid("01890A5D-AC96-774B-BCCE-B302099A8057"));
	ck_assert(!uuid_valid("01890a5d-ac96-774b-bcce-b302099a805F"));
	ck_assert(!uuid_valid("01890a5d-ac96-774b-bcce-b302099a805"));	 /* 35 */
	ck_assert(!uuid_valid("01890a5d-ac96-774b-bcce-b302099a80571")); /* 37 */
	ck_assert(!uuid_valid("01890a5dac96-774b-bcce-b302099a8057-"));	 /* dashes moved */
	ck_assert(!uuid_valid("01890a5d-ac96-774b-bcceb-302099a8057"));
	ck_assert(!uuid_valid("01890a5d0ac960774b0bcce0b302099a8057")); /* no dashes */
	ck_assert(!uuid_valid("0189ga5d-ac96-774b-bcce-b302099a8057"));
	ck_assert(!uuid_valid("{1890a5d-ac96-774b-bcce-b302099a805}"));
	ck_assert(!uuid_valid("------------------------------------"));
}
END_TEST

/* ---- time ---- */

/* Checks s against a layout where '9' is any digit and other bytes must match. */
static void expect_layout(const char *s, const char *layout)
{
	ck_assert_msg(strlen(s) == strlen(layout), "'%s' is not like '%s'", s, layout);
	for (size_t i = 0; layout[i] != '\0'; i++) {
		if (layout[i] == '9')
			ck_assert_msg(isdigit((unsigned char)s[i]), "'%s' is not like '%s'", s,
				      layout);
		else
			ck_assert_msg(s[i] == layout[i], "'%s' is not like '%s'", s, layout);
	}
}

START_TEST(time_api_formats)
{
	char api[TIME_STR];
	time_api(0, api);
	ck_assert_str_eq(api, "1970-01-01T00:00:00.000000Z");
	time_api(1709251198123456LL, api);
	ck_assert_str_eq(api, "2024-02-29T23:59:58.123456Z");
	time_api(-1, api); /* a microsecond before the epoch */
	ck_assert_str_eq(api, "1969-12-31T23:59:59.999999Z");
	time_api(time_micros(), api);
	expect_layout(api, "9999-99-99T99:99:99.999999Z");
}
END_TEST

START_TEST(time_parse_reads_what_api_writes)
{
	const micros_t moments[] = {0, 1, 1709251198123456LL, 4102444799999999LL, -1};
	for (size_t i = 0; i < sizeof moments / sizeof moments[0]; i++) {
		char api[TIME_STR];
		micros_t back = 12345;
		time_api(moments[i], api);
		ck_assert_msg(time_parse_api(api, &back), "'%s' does not parse", api);
		ck_assert_msg(back == moments[i], "%s read as %lld", api, back);
	}
}
END_TEST

START_TEST(time_parse_forms)
{
	micros_t t;
	ck_assert(time_parse_api("2024-02-29T23:59:58Z", &t));
	ck_assert(t == 1709251198000000LL);
	ck_assert(time_parse_api("2024-02-29T23:59:58.5Z", &t));
	ck_assert(t == 1709251198500000LL);
	ck_assert(time_parse_api("2024-03-01T01:59:58+02:00", &t));
	ck_assert(t == 1709251198000000LL);
	ck_assert(time_parse_api("2024-02-29T20:29:58-03:30", &t));
	ck_assert(t == 1709251198000000LL);
	const char *bad[] = {NULL,
			     "",
			     "2024-02-29",
			     "2024-02-29 23:59:58Z",
			     "2024-02-30T00:00:00Z", /* no such day */
			     "2023-02-29T00:00:00Z",
			     "2024-02-29T24:00:00Z",
			     "2024-02-29T23:59:58",
			     "2024-02-29T23:59:58.Z",
			     "2024-02-29T23:59:58.1234567Z",
			     "2024-02-29T23:59:58+2:00",
			     "2024-02-29T23:59:58+24:00",
			     "2024-02-29T23:59:58Z ",
			     " 2024-02-29T23:59:58Z",
			     "2024-2-29T23:59:58Z"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!time_parse_api(bad[i], &t), "'%s' parsed", bad[i] ? bad[i] : "NULL");
}
END_TEST

START_TEST(time_after_offsets)
{
	const double offsets[] = {0, 1.5, -1.5, 59.999999, -86400 * 30.0, 86400 * 365.0, -0.000001};
	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		micros_t now = time_micros();
		micros_t then = time_micros_after(offsets[i]);
		double d = (double)(then - now) / 1e6;
		ck_assert_msg(d > offsets[i] - 1 && d < offsets[i] + 1, "%f, not %f", d,
			      offsets[i]);
	}
}
END_TEST

START_TEST(time_split_is_utc)
{
	struct tm tm;
	long micros;
	time_split(1709251198123456LL, &tm, &micros);
	ck_assert_int_eq(tm.tm_year, 124);
	ck_assert_int_eq(tm.tm_mon, 1);
	ck_assert_int_eq(tm.tm_mday, 29);
	ck_assert_int_eq(tm.tm_hour, 23);
	ck_assert_int_eq(tm.tm_sec, 58);
	ck_assert_int_eq(micros, 123456);
	time_split(-1, &tm, &micros);
	ck_assert_int_eq(tm.tm_year, 69);
	ck_assert_int_eq(micros, 999999);
}
END_TEST

/* ---- host names, mail addresses, text ---- */

/* Writes labels of the given lengths joined by dots into out. */
static const char *labels(char *out, size_t outsz, const size_t *lens, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_lt(o + lens[i] + 1, outsz);
		if (i > 0)
			out[o++] = '.';
		memset(out + o, 'a', lens[i]);
		o += lens[i];
	}
	out[o] = '\0';
	return out;
}

START_TEST(hostname_ok)
{
	char buf[300];
	ck_assert(valid_hostname("contoso.com"));
	ck_assert(valid_hostname("mail.eu.contoso.com"));
	ck_assert(valid_hostname("a-b.c0m"));
	ck_assert(valid_hostname("123.com"));
	ck_assert(valid_hostname("xn--bcher-kva.example"));
	ck_assert(valid_hostname("a.b"));
	ck_assert(valid_hostname(labels(buf, sizeof buf, (size_t[]){63, 3}, 2)));
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	ck_assert(valid_hostname(labels(buf, sizeof buf, (size_t[]){63, 63, 63, 61}, 4)));
	ck_assert_uint_eq(strlen(buf), 253);
}
END_TEST

START_TEST(hostname_rejects)
{
	char buf[300];
	ck_assert(!valid_hostname(NULL));
	ck_assert(!valid_hostname(""));
	ck_assert(!valid_hostname("Contoso.com"));
	ck_assert(!valid_hostname("contoso.COM"));
	ck_assert(!valid_hostname("localhost"));
	ck_assert(!valid_hostname("-contoso.com"));
	ck_assert(!valid_hostname("contoso-.com"));
	ck_assert(!valid_hostname("contoso.-com"));
	ck_assert(!valid_hostname("contoso.com-"));
	ck_assert(!valid_hostname("a..b"));
	ck_assert(!valid_hostname(".contoso.com"));
	ck_assert(!valid_hostname("contoso.com."));
	ck_assert(!valid_hostname("."));
	ck_assert(!valid_hostname("1.2.3.4"));
	ck_assert(!valid_hostname("contoso.123"));
	ck_assert(!valid_hostname("con_toso.com"));
	ck_assert(!valid_hostname("con toso.com"));
	ck_assert(!valid_hostname("contoso.com/x"));
	ck_assert(!valid_hostname("b\xc3\xbc"
				  "cher.de"));
	ck_assert(!valid_hostname(labels(buf, sizeof buf, (size_t[]){64, 3}, 2)));
	ck_assert(!valid_hostname(labels(buf, sizeof buf, (size_t[]){3, 64}, 2)));
	ck_assert(!valid_hostname(labels(buf, sizeof buf, (size_t[]){63, 63, 63, 62}, 4)));
	ck_assert_uint_eq(strlen(buf), 254);
}
END_TEST

START_TEST(email_ok)
{
	char buf[300];
	ck_assert(valid_email("user@contoso.com"));
	ck_assert(valid_email("first.last+tag@mail.contoso.com"));
	ck_assert(valid_email("O'Brien_#1!@contoso.com"));
	ck_assert(valid_email("User@Contoso.COM")); /* host compared case-insensitively */
	/* 64-byte local part */
	memset(buf, 'l', 64);
	snprintf(buf + 64, sizeof buf - 64, "@contoso.com");
	ck_assert(valid_email(buf));
	/* 254 bytes in all: 64 + 1 + (63 + 1 + 63 + 1 + 61) */
	labels(buf + 65, sizeof buf - 65, (size_t[]){63, 63, 61}, 3);
	ck_assert_uint_eq(strlen(buf), 254);
	ck_assert(valid_email(buf));
}
END_TEST

START_TEST(email_rejects)
{
	char buf[300];
	ck_assert(!valid_email(NULL));
	ck_assert(!valid_email(""));
	ck_assert(!valid_email("user.contoso.com"));
	ck_assert(!valid_email("@contoso.com"));
	ck_assert(!valid_email("user@"));
	ck_assert(!valid_email("user@contoso"));
	ck_assert(!valid_email("us..er@contoso.com"));
	ck_assert(!valid_email(".user@contoso.com"));
	ck_assert(!valid_email("user.@contoso.com"));
	ck_assert(!valid_email("us er@contoso.com"));
	ck_assert(!valid_email(" user@contoso.com"));
	ck_assert(!valid_email("user@contoso.com "));
	ck_assert(!valid_email("us\ter@contoso.com"));
	ck_assert(!valid_email("a@b@contoso.com"));
	ck_assert(!valid_email("\"q\"@contoso.com"));
	ck_assert(!valid_email("user@contoso..com"));
	ck_assert(!valid_email("user@[127.0.0.1]"));
	ck_assert(!valid_email("us\xc3\xa9r@contoso.com"));
	/* 65-byte local part */
	memset(buf, 'l', 65);
	snprintf(buf + 65, sizeof buf - 65, "@contoso.com");
	ck_assert(!valid_email(buf));
	/* 255 bytes in all, with a valid host */
	memset(buf, 'l', 64);
	buf[64] = '@';
	labels(buf + 65, sizeof buf - 65, (size_t[]){63, 63, 62}, 3);
	ck_assert_uint_eq(strlen(buf), 255);
	ck_assert(!valid_email(buf));
}
END_TEST

/* names other tenants see: no invisible character, no separator, no
 * look-alike mixing alphabets in a word (issue 21) */
START_TEST(name_refuses_invisible_and_look_alikes)
{
	const char *good[] = {
	    "Contoso GmbH",	 "Контора ООО",	     "Contoso Контора", "Ελληνικά AE",
	    "Müller & Söhne KG", "Fabrikam-Контора", "O'Brien Ltd.",	"3M"};
	const char *bad[] = {
	    "\xd0\xa1ontoso",	       /* Cyrillic С, Latin ontoso */
	    "Contos\xd0\xbe GmbH",     /* a Cyrillic о at the end */
	    "C\xce\xbfntoso",	       /* a Greek ο */
	    "Con\xe2\x80\x8btoso",     /* zero-width space */
	    "Con\xc2\xadtoso",	       /* soft hyphen */
	    "Contoso\xe2\x80\x8e",     /* left-to-right mark */
	    "Contoso\xe2\x80\xa8GmbH", /* line separator */
	    "Contoso\xe2\x81\xa0GmbH", /* word joiner */
	    "Contoso\nGmbH",	       /* a line break, as valid_text */
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(valid_name(good[i], 1, 200), "%s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!valid_name(bad[i], 1, 200), "%zu", i);
	ck_assert(!valid_name("", 1, 200));
	ck_assert(!valid_name(NULL, 1, 200));
}
END_TEST

START_TEST(text_bounds)
{
	ck_assert(valid_text("abc", 1, 3));
	ck_assert(valid_text("abc", 3, 3));
	ck_assert(!valid_text("abcd", 1, 3));
	ck_assert(!valid_text("ab", 3, 10));
	ck_assert(!valid_text("", 1, 10));
	ck_assert(valid_text("", 0, 10));
	ck_assert(valid_text(" a ", 1, 10));
	ck_assert(valid_text("caf\xc3\xa9", 1, 5)); /* bytes, not characters */
	ck_assert(!valid_text("caf\xc3\xa9", 1, 4));
	ck_assert(!valid_text(NULL, 0, 10));
	ck_assert(!valid_text(NULL, 1, 10));
}
END_TEST

START_TEST(text_rejects_controls_and_blanks)
{
	ck_assert(!valid_text("a\tb", 1, 10));
	ck_assert(!valid_text("a\nb", 1, 10));
	ck_assert(!valid_text("a\rb", 1, 10));
	ck_assert(!valid_text("\x1b[31m", 1, 10));
	ck_assert(!valid_text("a\x7f", 1, 10));
	ck_assert(!valid_text(" ", 1, 10));
	ck_assert(!valid_text("     ", 1, 10));
}
END_TEST

/* Names of invisible characters only, or holding a bidirectional override
 * ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"), are refused (issue 7,
 * finding 9); so are U+FEFF and C1 controls anywhere. */
#define ZWSP "\xe2\x80\x8b" /* U+200B zero-width space */
#define ZWNJ "\xe2\x80\x8c" /* U+200C */
#define ZWJ  "\xe2\x80\x8d" /* U+200D */
#define WJ   "\xe2\x81\xa0" /* U+2060 word joiner */
#define BOM  "\xef\xbb\xbf" /* U+FEFF */
#define NBSP "\xc2\xa0"	    /* U+00A0 */
#define IDSP "\xe3\x80\x80" /* U+3000 ideographic space */
#define RLO  "\xe2\x80\xae" /* U+202E right-to-left override */

START_TEST(text_refuses_invisible_only)
{
	ck_assert(!valid_text(ZWSP, 1, 10));
	ck_assert(!valid_text(ZWSP ZWSP ZWSP, 1, 10));
	ck_assert(!valid_text(ZWNJ ZWJ WJ, 1, 10));
	ck_assert(!valid_text(NBSP, 1, 10));
	ck_assert(!valid_text(IDSP IDSP, 1, 10));
	ck_assert(!valid_text(" " ZWSP " " NBSP " " IDSP, 1, 20));
	ck_assert(!valid_text("\xe2\x80\x83\xe2\x80\x8a", 1, 10)); /* em space, hair space */
	ck_assert(!valid_text("\xe2\x80\x8e\xe2\x80\x8f", 1, 10)); /* LRM, RLM */
	ck_assert(!valid_text("\xe3\x85\xa4", 1, 10));		   /* Hangul filler */
	ck_assert(!valid_text("\xe1\xa0\x8e", 1, 10));		   /* Mongolian vowel sep. */
	/* an optional field may stay blank, as with spaces */
	ck_assert(valid_text(ZWSP, 0, 10));
	ck_assert(valid_text(" ", 0, 10));
	/* something visible among them is fine */
	ck_assert(valid_text(ZWSP "a" ZWSP, 1, 10));
	ck_assert(valid_text("Ada" NBSP "Lovelace", 1, 20));
	ck_assert(valid_text("\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9", 1, 20)); /* emoji ZWJ */
	ck_assert(valid_text("Jos\xc3\xa9", 1, 10));
	ck_assert(valid_text("\xd8\xb9\xd9\x85\xd8\xb1", 1, 10)); /* Arabic */
	ck_assert(valid_text("\xe5\x90\x8d\xe5\x89\x8d", 1, 10)); /* CJK */
	ck_assert(valid_text("\xf0\x9f\x98\x80", 1, 10));	  /* 4 bytes */
}
END_TEST

START_TEST(text_refuses_bidi_bom_c1)
{
	ck_assert(!valid_text(RLO, 1, 10));
	ck_assert(!valid_text("invoice" RLO "fdp.exe", 1, 20));
	ck_assert(!valid_text("a\xe2\x80\xaa", 1, 10)); /* U+202A LRE */
	ck_assert(!valid_text("a\xe2\x80\xab", 1, 10)); /* U+202B RLE */
	ck_assert(!valid_text("a\xe2\x80\xac", 1, 10)); /* U+202C PDF */
	ck_assert(!valid_text("a\xe2\x80\xad", 1, 10)); /* U+202D LRO */
	ck_assert(!valid_text("a\xe2\x81\xa6", 1, 10)); /* U+2066 LRI */
	ck_assert(!valid_text("a\xe2\x81\xa7", 1, 10)); /* U+2067 RLI */
	ck_assert(!valid_text("a\xe2\x81\xa8", 1, 10)); /* U+2068 FSI */
	ck_assert(!valid_text("a\xe2\x81\xa9", 1, 10)); /* U+2069 PDI */
	/* just outside the ranges */
	ck_assert(valid_text("a\xe2\x80\xa9", 1, 10)); /* U+2029 (a blank) */
	ck_assert(valid_text("a\xe2\x80\xaf", 1, 10)); /* U+202F narrow nbsp */
	ck_assert(valid_text("a\xe2\x81\xa5", 1, 10)); /* U+2065 */
	ck_assert(valid_text("a\xe2\x81\xaa", 1, 10)); /* U+206A */
	/* U+FEFF anywhere, even among visible text, and even when optional */
	ck_assert(!valid_text(BOM "Ada", 1, 10));
	ck_assert(!valid_text("A" BOM "da", 1, 10));
	ck_assert(!valid_text(BOM, 0, 10));
	/* C1 controls U+0080-U+009F; U+00A0 and U+00A1 are not */
	ck_assert(!valid_text("a\xc2\x80", 1, 10));
	ck_assert(!valid_text("a\xc2\x85", 1, 10));
	ck_assert(!valid_text("a\xc2\x9b[31m", 1, 10));
	ck_assert(!valid_text("a\xc2\x9f", 1, 10));
	ck_assert(!valid_text("\xc2\x85", 0, 10));
	ck_assert(valid_text("a\xc2\xa1", 1, 10));
	/* ASCII controls still */
	ck_assert(!valid_text("a\x01", 1, 10));
	ck_assert(!valid_text("a\x1f", 1, 10));
	ck_assert(!valid_text("\t", 0, 10));
	/* malformed UTF-8: a stray continuation, a lone lead byte, an
	 * overlong '/', a surrogate, beyond U+10FFFF */
	ck_assert(!valid_text("a\x80", 1, 10));
	ck_assert(!valid_text("a\xc3", 1, 10));
	ck_assert(!valid_text("\xc0\xaf", 1, 10));
	ck_assert(!valid_text("\xe0\x80\xaf", 1, 10));
	ck_assert(!valid_text("\xed\xa0\x80", 1, 10));
	ck_assert(!valid_text("\xf4\x90\x80\x80", 1, 10));
	ck_assert(!valid_text("\xff", 1, 10));
	ck_assert(!valid_text("a\xe2\x80", 1, 10)); /* cut short */
}
END_TEST

START_TEST(text_blank_counts_every_blank)
{
	ck_assert(text_blank(NULL));
	ck_assert(text_blank(""));
	ck_assert(text_blank("            ")); /* the 12-space password */
	ck_assert(text_blank(" \t\n\v\f\r"));
	ck_assert(text_blank(NBSP IDSP ZWSP ZWNJ ZWJ WJ BOM));
	ck_assert(text_blank("\xe2\x80\x80\xe2\x80\x8a\xe2\x80\xa8\xe2\x80\xa9\xe2\x81\x9f"));
	ck_assert(text_blank("\xe1\x9a\x80\xc2\x85")); /* U+1680, U+0085 */
	ck_assert(!text_blank("a"));
	ck_assert(!text_blank("            a"));
	ck_assert(!text_blank(ZWSP "." ZWSP));
	ck_assert(!text_blank("\xff"));	     /* a malformed byte is not a blank */
	ck_assert(!text_blank(" \xe2\x80")); /* nor a cut sequence */
	ck_assert(!text_blank(RLO));	     /* refused by valid_text, but not blank */
}
END_TEST

START_TEST(base64url_alphabet)
{
	ck_assert(valid_base64url(
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 64));
	ck_assert(valid_base64url("ab=", 2)); /* only len bytes are looked at */
	ck_assert(!valid_base64url("ab=", 3));
	ck_assert(!valid_base64url("", 0));
	ck_assert(!valid_base64url(NULL, 0));
	ck_assert(!valid_base64url(NULL, 4));
	static const char *const bad[] = {"ab+c", "ab/c", "ab c", "ab.c", "ab\nc", "ab~c", "ab%5F"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!valid_base64url(bad[i], strlen(bad[i])), "%s", bad[i]);
	/* libsodium 1.0.18 reads each of these as '_' */
	for (int c = 0x80; c <= 0xFF; c++) {
		char s[5] = {'a', 'b', (char)c, 'c', '\0'};
		ck_assert_msg(!valid_base64url(s, 4), "0x%02X", (unsigned)c);
	}
	char nul[4] = {'a', '\0', 'b', 'c'};
	ck_assert(!valid_base64url(nul, 4));
}
END_TEST

/* ---- countries, phones, URLs, mail domains ---- */

START_TEST(country_ok)
{
	const char *ok[] = {"DE", "AD", "ZW", "US", "GB", "RU", "FR", "SS", "AX", "BQ"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		ck_assert_msg(valid_iso_country(ok[i]), "'%s' refused", ok[i]);
}
END_TEST

START_TEST(country_rejects)
{
	const char *bad[] = {
	    "de",  "De", "dE", "XX", "ZZ", "AA",  "UK", /* reserved, not assigned */
	    "EU",  "XK", "AN",				/* withdrawn */
	    "DEU", "D",	 "",   "D1", "12", "DE ", " DE", "D-", "\xc3\x84T", "D\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!valid_iso_country(bad[i]), "'%s' accepted", bad[i]);
	ck_assert(!valid_iso_country(NULL));
}
END_TEST

/* ISO 3166-1 assigns 249 codes today. */
START_TEST(country_count)
{
	int n = 0;
	char code[3] = "AA";
	for (code[0] = 'A'; code[0] <= 'Z'; code[0]++)
		for (code[1] = 'A'; code[1] <= 'Z'; code[1]++)
			n += valid_iso_country(code);
	ck_assert_int_eq(n, 249);
}
END_TEST

START_TEST(phone_ok_and_normalised)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"+49 30 1234567", "+49301234567"},
	    {"+49301234567", "+49301234567"},
	    {"+1-202-555-0143", "+12025550143"},
	    {"+44 20-7946 0958", "+442079460958"},
	    {"+1234567", "+1234567"},		      /* 7 digits */
	    {"+123456789012345", "+123456789012345"}, /* 15 digits */
	    {"+1 2 3 4 5 6 7 8 9 0 1 2 3 4 5", "+123456789012345"},
	    {"+9 000 000", "+9000000"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[17]; /* the documented minimum, so ASan sees an overrun */
		memset(out, '#', sizeof out);
		ck_assert_msg(valid_phone(cases[i].in, out), "'%s' refused", cases[i].in);
		ck_assert_str_eq(out, cases[i].out);
		ck_assert(valid_phone(cases[i].in, NULL));
	}
}
END_TEST

START_TEST(phone_rejects)
{
	const char *bad[] = {
	    "49301234567",   /* no plus */
	    "0049301234567", /* no plus */
	    "+049301234567", /* 0 after the plus */
	    "+0",
	    "+",
	    "",
	    "+123456",		      /* 6 digits */
	    "+1234567890123456",      /* 16 digits */
	    "+1 234 567 890 123 456", /* 16 digits with spaces */
	    "+49  30 1234567",	      /* double space */
	    "+49 - 30 1234567",
	    "+49--301234567",
	    "+49 30 1234567 ", /* trailing separator */
	    "+49 30 1234567-",
	    "+ 49 30 1234567", /* separator after the plus */
	    "+-49301234567",
	    " +49301234567",
	    "++49301234567",
	    "+49 30 123456a",
	    "+49 30 CALL-NOW",
	    "+49(30)1234567",
	    "+49.30.1234567",
	    "+49/30/1234567",
	    "+49\t30\t1234567",
	    "+49 30 1234567\n",
	    "+49 30\xc2\xa0"
	    "1234567", /* no-break space */
	    "+\xd9\xa4\xd9\xa9"
	    "1234567", /* Arabic-Indic digits */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char out[17];
		memset(out, '#', sizeof out);
		ck_assert_msg(!valid_phone(bad[i], out), "'%s' accepted", bad[i]);
		for (size_t k = 0; k < sizeof out; k++)
			ck_assert_msg(out[k] == '#', "'%s' refused but out was written", bad[i]);
	}
	ck_assert(!valid_phone(NULL, NULL));
	char out[17] = "";
	ck_assert(!valid_phone(NULL, out));
}
END_TEST

START_TEST(https_url_ok)
{
	const char *ok[] = {
	    "https://example.com",
	    "https://example.com/",
	    "https://www.example.co.uk/path/to?q=1&r=a%20b#frag",
	    "https://Example.COM/Path",
	    "https://example.com:8443",
	    "https://example.com:443/x",
	    "https://example.com?x=1",
	    "https://example.com#top",
	    "https://xn--bcher-kva.example/",
	    "https://a-b.c0.example.com/~user/",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		ck_assert_msg(valid_https_url(ok[i], 2000), "'%s' refused", ok[i]);
}
END_TEST

START_TEST(https_url_rejects)
{
	const char *bad[] = {
	    "",
	    "http://example.com",
	    "ftp://example.com",
	    "example.com",
	    "//example.com",
	    "https:/example.com",
	    "https://",
	    "https:///path",
	    "https://:443",
	    "https://?q",
	    "https://-bad.com",
	    "https://bad-.com",
	    "https://ex_ample.com",
	    "https://example..com",
	    "https://.example.com",
	    "https://localhost",
	    "https://localhost/x",
	    "https://1.2.3.4/",
	    "https://[::1]/",
	    "https://user@example.com",
	    "https://user:pw@example.com",
	    "https://example.com:",
	    "https://example.com:/x",
	    "https://example.com:abc",
	    "https://example.com:123456",
	    "https://example.com:80x",
	    "https://exa mple.com",
	    "https://example.com/a b",
	    " https://example.com",
	    "https://example.com ",
	    "https://example.com/\t",
	    "https://example.com/\r\nX-Injected: 1",
	    "https://example.com/\x7f",
	    "https://example.com/\x1b[31m",
	    "https://b\xc3\xbc"
	    "cher.de/",
	    "https://example.com\\@evil.com",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!valid_https_url(bad[i], 2000), "'%s' accepted", bad[i]);
	ck_assert(!valid_https_url(NULL, 2000));
	ck_assert(!valid_https_url(NULL, 0));
}
END_TEST

START_TEST(https_url_max_length)
{
	char url[2100];
	size_t n = 2000;
	strcpy(url, "https://example.com/");
	memset(url + strlen(url), 'a', n - strlen(url));
	url[n] = '\0';
	ck_assert(valid_https_url(url, n));
	ck_assert(!valid_https_url(url, n - 1));
	url[n] = 'a';
	url[n + 1] = '\0';
	ck_assert(!valid_https_url(url, n));
	ck_assert(!valid_https_url("https://example.com", 0));
	ck_assert(valid_https_url("https://example.com", 19));
	ck_assert(!valid_https_url("https://example.com", 18));
}
END_TEST

START_TEST(https_url_long_host)
{
	char url[600];
	size_t lens[] = {63, 63, 63, 60};
	char host[400];
	labels(host, sizeof host, lens, 4); /* 252 bytes: a valid host */
	snprintf(url, sizeof url, "https://%s/", host);
	ck_assert(valid_https_url(url, 2000));
	size_t longer[] = {63, 63, 63, 63, 63};
	labels(host, sizeof host, longer, 5); /* 319 bytes */
	snprintf(url, sizeof url, "https://%s/", host);
	ck_assert(!valid_https_url(url, 2000));
	size_t long_label[] = {64, 3};
	labels(host, sizeof host, long_label, 2);
	snprintf(url, sizeof url, "https://%s", host);
	ck_assert(!valid_https_url(url, 2000));
}
END_TEST

#define WEBMAIL                                                                                    \
	"gmail.com, googlemail.com, yahoo.*, ymail.com, icloud.com, me.com, mac.com, aol.com, "    \
	"outlook.*, hotmail.*, live.*, msn.com"

START_TEST(webmail_listed)
{
	const char *listed[] = {
	    "a@gmail.com",	   "A@GMAIL.COM",
	    "a@mail.gmail.com",	   "a@yahoo.co.uk",
	    "a@yahoo.com",	   "a@hotmail.fr",
	    "a@live.de",	   "a@outlook.com.br",
	    "a@eu.yahoo.co.uk",	   "a@msn.com",
	    "a@GoogleMail.Com",	   "a@ymail.com",
	    "a@icloud.com",	   "a@me.com",
	    "a@mac.com",	   "a@aol.com",
	    "a@outlook.com",	   "a@hotmail.co.jp",
	    "a@live.co.uk",	   "a@YAHOO.CO.UK",
	    "a@gmail.com.",	   "a@yahoo.co.uk.",
	    "a@x.y.z.hotmail.com", "first.last+tag@gmail.com",
	    "a@b@gmail.com",
	};
	for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++)
		ck_assert_msg(email_domain_listed(listed[i], WEBMAIL), "'%s' not listed",
			      listed[i]);
}
END_TEST

START_TEST(webmail_not_listed)
{
	const char *not_listed[] = {
	    "a@contoso.com",
	    "a@notgmail.com",
	    "a@gmail.com.evil.org",
	    "a@live.acme.com",
	    "a@yahoo.co.uk.evil.com",
	    "a@myyahoo.com",
	    "a@gmail.co",
	    "a@gmail",
	    "a@mail.com",
	    "a@gmail-com.org",
	    "a@gmailxcom",
	    "a@yahoo",
	    "a@yahoo.",
	    "a@yahoo..uk",
	    "a@xlive.com",
	    "a@live-x.com",
	    "a@hotmail.foo.bar",
	    "a@mac.com.au",
	    "a@me.company.com",
	    "gmail.com",
	    "a.gmail.com",
	    "a@",
	    "",
	    "gmail.com@contoso.com",
	};
	for (size_t i = 0; i < sizeof not_listed / sizeof not_listed[0]; i++)
		ck_assert_msg(!email_domain_listed(not_listed[i], WEBMAIL), "'%s' listed",
			      not_listed[i]);
	ck_assert(!email_domain_listed(NULL, WEBMAIL));
}
END_TEST

START_TEST(webmail_lists)
{
	ck_assert(!email_domain_listed("a@gmail.com", NULL));
	ck_assert(!email_domain_listed("a@gmail.com", ""));
	ck_assert(!email_domain_listed("a@gmail.com", " , ,, "));
	ck_assert(email_domain_listed("a@gmail.com", "gmail.com"));
	ck_assert(email_domain_listed("a@gmail.com", ",,gmail.com,,"));
	ck_assert(email_domain_listed("a@gmail.com", "GMAIL.COM"));
	ck_assert(email_domain_listed("a@sub.example.org", "contoso.com,example.org"));
	ck_assert(!email_domain_listed("a@badexample.org", "example.org"));
	ck_assert(!email_domain_listed("a@example.org", "sub.example.org"));
	ck_assert(!email_domain_listed("a@gmail.com", "*"));
	ck_assert(!email_domain_listed("a@gmail.com", ".*"));
	ck_assert(!email_domain_listed("a@gmail.com", "*.*"));
	ck_assert(email_domain_listed("a@web.de", "web.*"));
	ck_assert(!email_domain_listed("a@web.de", "web.de.*"));
}
END_TEST

START_TEST(webmail_hostile_hosts)
{
	char email[1200];
	/* a host longer than any buffer */
	strcpy(email, "a@");
	memset(email + 2, 'g', 1000);
	strcpy(email + 1002, ".gmail.com");
	ck_assert(!email_domain_listed(email, WEBMAIL));
	/* 256 bytes of host: just past the buffer */
	strcpy(email, "a@");
	memset(email + 2, 'g', 256 - strlen(".gmail.com"));
	strcpy(email + 2 + 256 - strlen(".gmail.com"), ".gmail.com");
	ck_assert_uint_eq(strlen(email + 2), 256);
	ck_assert(!email_domain_listed(email, WEBMAIL));
	/* 255 bytes fit */
	memmove(email + 2, email + 3, strlen(email + 3) + 1);
	ck_assert_uint_eq(strlen(email + 2), 255);
	ck_assert(email_domain_listed(email, WEBMAIL));
	/* only dots */
	ck_assert(!email_domain_listed("a@....", WEBMAIL));
	ck_assert(!email_domain_listed("a@.", WEBMAIL));
	ck_assert(!email_domain_listed("@", WEBMAIL));
}
END_TEST

/* ---- request id ---- */

static void expect_hex32(const char *id)
{
	ck_assert_uint_eq(strlen(id), 32);
	for (size_t i = 0; i < 32; i++)
		ck_assert_msg(strchr("0123456789abcdef", id[i]) != NULL, "'%s' is not hex", id);
}

START_TEST(request_id_client_accepted)
{
	struct request req = {0};
	memset(req.request_id, 'Z', sizeof req.request_id);
	request_id_choose(&req, "Abc-123_x.y", "nginxid");
	ck_assert_str_eq(req.request_id, "Abc-123_x.y");
	char max[REQUEST_ID_MAX + 1];
	memset(max, 'm', REQUEST_ID_MAX);
	max[REQUEST_ID_MAX] = '\0';
	request_id_choose(&req, max, "nginxid");
	ck_assert_str_eq(req.request_id, max);
}
END_TEST

START_TEST(request_id_falls_back_to_nginx)
{
	static const char *bad[] = {NULL,	 "",	    "has space",   "semi;colon",
				    "new\nline", "quote\"", "caf\xc3\xa9", "slash/"};
	struct request req = {0};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		request_id_choose(&req, bad[i], "0123456789abcdef0123456789abcdef");
		ck_assert_str_eq(req.request_id, "0123456789abcdef0123456789abcdef");
	}
	char over[REQUEST_ID_MAX + 2];
	memset(over, 'o', REQUEST_ID_MAX + 1);
	over[REQUEST_ID_MAX + 1] = '\0';
	request_id_choose(&req, over, "nginx-id");
	ck_assert_str_eq(req.request_id, "nginx-id");
}
END_TEST

START_TEST(request_id_random_when_both_bad)
{
	struct request req = {0};
	char over[REQUEST_ID_MAX + 2];
	memset(over, 'o', REQUEST_ID_MAX + 1);
	over[REQUEST_ID_MAX + 1] = '\0';
	request_id_choose(&req, NULL, NULL);
	expect_hex32(req.request_id);
	char first[REQUEST_ID_MAX + 1];
	memcpy(first, req.request_id, sizeof first);
	request_id_choose(&req, "bad id", over);
	expect_hex32(req.request_id);
	ck_assert_str_ne(req.request_id, first);
	request_id_choose(&req, "", "");
	expect_hex32(req.request_id);
}
END_TEST

/* ---- query parameters ---- */

static int param(const char *query, const char *name, char *buf, size_t bufsz)
{
	struct request req = {0};
	req.query = query;
	return request_query_param(&req, name, buf, bufsz);
}

START_TEST(response_rewind_keeps_earlier_headers)
{
	struct response res;
	memset(&res, 0, sizeof res);
	response_header(&res, "X-Early", "kept");
	response_header(&res, "ETag", "\"v1\"");
	response_header(&res, "Location", "/v1/users/x");
	response_body(&res, 201, "application/json", "{}", 2);
	response_rewind(&res, 1);
	ck_assert_uint_eq(res.n_headers, 1);
	ck_assert_str_eq(res.headers[0].name, "X-Early");
	ck_assert_str_eq(res.headers[0].value, "kept");
	ck_assert_ptr_null(res.body);
	ck_assert_uint_eq(res.body_len, 0);
	ck_assert_int_eq(res.status, 0);
	ck_assert_ptr_null(res.content_type);
	response_rewind(&res, 5); /* more than there are: nothing to drop */
	ck_assert_uint_eq(res.n_headers, 1);
	response_clear(&res);
}
END_TEST

START_TEST(query_found_and_absent)
{
	const char *q = "status=active&page=2&empty=&a=b=c&page=3";
	char buf[32];
	ck_assert_int_eq(param(q, "status", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "active");
	ck_assert_int_eq(param(q, "page", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "2"); /* the first one wins */
	ck_assert_int_eq(param(q, "empty", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(param(q, "a", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "b=c");
	ck_assert_int_eq(param(q, "nope", buf, sizeof buf), 0);
	ck_assert_int_eq(param(q, "Status", buf, sizeof buf), 0);
	ck_assert_int_eq(param("", "status", buf, sizeof buf), 0);
	ck_assert_int_eq(param(NULL, "status", buf, sizeof buf), 0);
	ck_assert_int_eq(param("&&status=x&", "status", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "x");
}
END_TEST

START_TEST(query_name_prefix)
{
	char buf[32];
	ck_assert_int_eq(param("statusx=1&status=2", "status", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "2");
	ck_assert_int_eq(param("status=2&statusx=1", "statusx", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(param("statusx=1", "status", buf, sizeof buf), 0);
	ck_assert_int_eq(param("status=2", "statusx", buf, sizeof buf), 0);
	ck_assert_int_eq(param("status=2", "statu", buf, sizeof buf), 0);
	ck_assert_int_eq(param("xstatus=2", "status", buf, sizeof buf), 0);
}
END_TEST

START_TEST(query_decoding)
{
	char buf[32];
	ck_assert_int_eq(param("q=a+b%20c%2Fd", "q", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "a b c/d");
	ck_assert_int_eq(param("q=%41%7e%7E", "q", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "A~~");
	ck_assert_int_eq(param("q=%26x%3D1&x=2", "q", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "&x=1");
	ck_assert_int_eq(param("q=%2B", "q", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "+");
	ck_assert_int_eq(param("q=%", "q", buf, sizeof buf), -1);
	ck_assert_int_eq(param("q=%4", "q", buf, sizeof buf), -1);
	ck_assert_int_eq(param("q=%4&r=1", "q", buf, sizeof buf), -1);
	ck_assert_int_eq(param("q=%zz", "q", buf, sizeof buf), -1);
	ck_assert_int_eq(param("q=%g1", "q", buf, sizeof buf), -1);
	ck_assert_int_eq(param("q=a%00b", "q", buf, sizeof buf), -1);
	/* a bad escape in another parameter does not matter */
	ck_assert_int_eq(param("x=%zz&q=ok", "q", buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "ok");
}
END_TEST

START_TEST(query_buffer_too_small)
{
	char buf[16];
	memset(buf, '#', sizeof buf);
	ck_assert_int_eq(param("status=active", "status", buf, 6), -1);
	ck_assert_int_eq(buf[6], '#'); /* nothing written past bufsz */
	ck_assert_int_eq(param("status=active", "status", buf, 7), 1);
	ck_assert_str_eq(buf, "active");
	ck_assert_int_eq(param("q=%41%42", "q", buf, 2), -1);
	ck_assert_int_eq(param("q=%41%42", "q", buf, 3), 1);
	ck_assert_str_eq(buf, "AB");
	ck_assert_int_eq(param("q=x", "q", buf, 1), -1);
	ck_assert_int_eq(param("q=", "q", buf, 1), 1);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Known bug: with bufsz 0 an empty value is still terminated at buf[0]. */
START_TEST(query_zero_buffer)
{
	char buf[1] = {'#'};
	struct request req = {0};
	req.query = "empty=";
	ck_assert_int_eq(request_query_param(&req, "empty", buf, 0), -1);
	ck_assert_int_eq(buf[0], '#');
}
END_TEST

/* ---- the callers of these checks (lib/api) ---- */

/* The one field error of p: its field and code; NULL when there is none. */
static const char *field_error(const struct problem *p, const char *member)
{
	if (p->kind != PROBLEM_VALIDATION || cJSON_GetArraySize(p->errors) != 1)
		return NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(p->errors, 0), member);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ctx_page with the query string query: 0 and after, or -1 and the
 * problem's field. */
static int page(const char *query, char after[40], struct problem *p)
{
	struct request req = {0};
	struct ctx c = {0};
	long limit = 0;
	req.query = query;
	c.req = &req;
	int rc = ctx_page(&c, &limit, after);
	*p = c.problem;
	return rc;
}

/* A list cursor is strict base64url (issue 7): libsodium 1.0.18 reads
 * bytes 0x80-0xFF as '_'. (A UUID's encoding has no '_', and uuid_valid
 * refused what those bytes decode to; the alphabet is now checked first.) */
START_TEST(cursor_strict_base64url)
{
	char id[UUID_STR], cursor[64], after[40], *query;
	uuid_v7(id);
	sodium_bin2base64(cursor, sizeof cursor, (const unsigned char *)id, strlen(id),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ck_assert_uint_eq(strlen(cursor), 48);
	const char *u = cursor + 20;
	struct problem p;
	query = xasprintf("cursor=%s", cursor);
	ck_assert_int_eq(page(query, after, &p), 0);
	ck_assert_str_eq(after, id);
	problem_clear(&p);
	free(query);
	static const char *const spellings[] = {"%80", "%BF", "%DF", "%FF", "%2B",
						"%2F", "%3D", "%20", "%2E"};
	for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
		query =
		    xasprintf("cursor=%.*s%s%s", (int)(u - cursor), cursor, spellings[i], u + 1);
		ck_assert_msg(page(query, after, &p) == -1, "%s accepted", query);
		ck_assert_str_eq(field_error(&p, "field"), "cursor");
		ck_assert_str_eq(field_error(&p, "code"), "invalid");
		problem_clear(&p);
		free(query);
	}
	/* padded, or with a byte more */
	query = xasprintf("cursor=%s%%3D%%3D", cursor);
	ck_assert_int_eq(page(query, after, &p), -1);
	problem_clear(&p);
	free(query);
}
END_TEST

/* check_person (users and sign-up): a password of blanks only is refused
 * (issue 7, finding 9), whatever its length. */
START_TEST(person_password_not_only_blanks)
{
	static const char *const blank[] = {
	    "            ",	 "\t\t\t\t\t\t\t\t\t\t\t\t", NBSP NBSP NBSP NBSP NBSP NBSP,
	    IDSP IDSP IDSP IDSP, ZWSP ZWSP ZWSP ZWSP,	     "      " NBSP "   " IDSP};
	for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
		struct problem p = {0};
		check_person(&p, "admin.", "ada@contoso.com", blank[i], "Ada", "Admin");
		ck_assert_msg(field_error(&p, "field") != NULL, "password %zu accepted", i);
		ck_assert_str_eq(field_error(&p, "field"), "admin.password");
		ck_assert_str_eq(field_error(&p, "code"), "invalid");
		ck_assert_str_eq(field_error(&p, "message"),
				 "must contain something other than blanks");
		problem_clear(&p);
	}
	/* too short stays too short (one error, not two) */
	struct problem p = {0};
	check_person(&p, "", "ada@contoso.com", "   ", "Ada", "Admin");
	ck_assert_str_eq(field_error(&p, "code"), "too_short");
	problem_clear(&p);
	/* blanks around something are a password */
	static const char *const fine[] = {"           .", " a long passphrase ",
					   "correct horse battery staple"};
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		memset(&p, 0, sizeof p);
		check_person(&p, "", "ada@contoso.com", fine[i], "Ada", "Admin");
		ck_assert_msg(p.kind == PROBLEM_NONE, "'%s' refused", fine[i]);
		problem_clear(&p);
	}
	/* and names of invisible characters only, or with an override */
	memset(&p, 0, sizeof p);
	check_person(&p, "", "ada@contoso.com", "a long passphrase", ZWSP ZWSP, "Admin");
	ck_assert_str_eq(field_error(&p, "field"), "firstName");
	problem_clear(&p);
	memset(&p, 0, sizeof p);
	check_person(&p, "", "ada@contoso.com", "a long passphrase", "Ada", "nimdA" RLO);
	ck_assert_str_eq(field_error(&p, "field"), "lastName");
	problem_clear(&p);
}
END_TEST

/* Bug found: the country list had no blank after its last code, so a code
 * not in it ("XX") stepped over the list's NUL and read on past it. */
START_TEST(country_unknown_stays_in_list)
{
	ck_assert(!valid_iso_country("XX"));
	ck_assert(!valid_iso_country("ZX"));
	ck_assert(valid_iso_country("ZW"));
}
END_TEST

/* Bugs found once, fixed, kept fixed. */
static TCase *util_regressions(void)
{
	TCase *tc = tcase_create("regressions");
	tcase_add_test(tc, query_zero_buffer);
	tcase_add_test(tc, country_unknown_stays_in_list);
	tcase_add_test(tc, cursor_strict_base64url);
	tcase_add_test(tc, person_password_not_only_blanks);
	return tc;
}

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *ids = tcase_create("uuid");
	tcase_add_test(ids, uuid_v7_format);
	tcase_add_test(ids, uuid_v7_differs_and_sorts);
	tcase_add_test(ids, uuid_v7_floor_bounds);
	tcase_add_test(ids, uuid_valid_rejects);
	suite_add_tcase(s, ids);

	TCase *times = tcase_create("time");
	tcase_add_test(times, time_api_formats);
	tcase_add_test(times, time_parse_reads_what_api_writes);
	tcase_add_test(times, time_parse_forms);
	tcase_add_test(times, time_after_offsets);
	tcase_add_test(times, time_split_is_utc);
	suite_add_tcase(s, times);

	TCase *checks = tcase_create("validation");
	tcase_add_test(checks, hostname_ok);
	tcase_add_test(checks, hostname_rejects);
	tcase_add_test(checks, email_ok);
	tcase_add_test(checks, email_rejects);
	tcase_add_test(checks, text_bounds);
	tcase_add_test(checks, name_refuses_invisible_and_look_alikes);
	tcase_add_test(checks, text_rejects_controls_and_blanks);
	tcase_add_test(checks, text_refuses_invisible_only);
	tcase_add_test(checks, text_refuses_bidi_bom_c1);
	tcase_add_test(checks, text_blank_counts_every_blank);
	tcase_add_test(checks, base64url_alphabet);
	tcase_add_test(checks, country_ok);
	tcase_add_test(checks, country_rejects);
	tcase_add_test(checks, country_count);
	tcase_add_test(checks, phone_ok_and_normalised);
	tcase_add_test(checks, phone_rejects);
	tcase_add_test(checks, https_url_ok);
	tcase_add_test(checks, https_url_rejects);
	tcase_add_test(checks, https_url_max_length);
	tcase_add_test(checks, https_url_long_host);
	tcase_add_test(checks, webmail_listed);
	tcase_add_test(checks, webmail_not_listed);
	tcase_add_test(checks, webmail_lists);
	tcase_add_test(checks, webmail_hostile_hosts);
	suite_add_tcase(s, checks);

	TCase *http = tcase_create("request");
	tcase_add_test(http, request_id_client_accepted);
	tcase_add_test(http, request_id_falls_back_to_nginx);
	tcase_add_test(http, request_id_random_when_both_bad);
	tcase_add_test(http, query_found_and_absent);
	tcase_add_test(http, query_name_prefix);
	tcase_add_test(http, query_decoding);
	tcase_add_test(http, query_buffer_too_small);
	tcase_add_test(http, response_rewind_keeps_earlier_headers);
	suite_add_tcase(s, http);
	suite_add_tcase(s, util_regressions());
	return s;
}
