/* Small pure helpers: ids, time stamps, input checks. */
#ifndef TWOTIER_UTIL_H
#define TWOTIER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STR 37

/* Writes a version 7 UUID (time-ordered) into out. */
void uuid_v7(char out[UUID_STR]);
/* The least version 7 UUID of the millisecond of at (micros_t, below):
 * every one made before at sorts below it, as text. */
typedef long long micros_t;
void uuid_v7_floor(micros_t at, char out[UUID_STR]);
/* True for a canonical lower-case UUID string. */
bool uuid_valid(const char *s);

/* A moment: microseconds since 1970-01-01 00:00:00 UTC (micros_t). */
/* Now, and now plus seconds (may be negative). */
micros_t time_micros(void);
micros_t time_micros_after(double seconds);
/* The RFC 3339 form the API shows: "2026-12-02T17:38:58.123456Z". */
#define TIME_STR 32
void time_api(micros_t t, char api[TIME_STR]);
/* t as a UTC calendar time and the microseconds of its second. */
struct tm;
void time_split(micros_t t, struct tm *tm, long *micros);
/* Reads the API's form back (any fraction of up to 6 digits, "Z" or a
 * numeric offset); false for anything else. */
bool time_parse_api(const char *s, micros_t *t);

/* A lower-case DNS host name of two or more labels. */
bool valid_hostname(const char *s);
/* A plausible mail address: local@host, at most 254 bytes, host a valid
 * host name (case-insensitive). */
bool valid_email(const char *s);
/* The code point of the UTF-8 sequence at s[*i] (of n bytes), *i moved past
 * it; -1, *i moved one byte on, for a malformed, overlong or surrogate
 * sequence. */
long utf8_next(const unsigned char *s, size_t n, size_t *i);

/* Text (UTF-8) of min..max bytes, well-formed, with no control character
 * (C0, DEL, C1), no U+FEFF and no bidirectional embedding, override or
 * isolate (U+202A-U+202E, U+2066-U+2069), and, when min > 0, not only
 * blanks (text_blank). */
bool valid_text(const char *s, size_t min, size_t max);
/* A name other tenants see (a company's: "find a provider", mail
 * subjects): valid_text, and no invisible character (soft hyphen,
 * zero-width spaces and joiners, marks of direction, word joiner), no line
 * or paragraph separator, and no word that mixes Latin, Cyrillic and
 * Greek letters (a look-alike: "Соntoso" with a Cyrillic С). */
bool valid_name(const char *s, size_t min, size_t max);
/* True when s (UTF-8; NULL and "" included) holds nothing but blanks:
 * whitespace, ASCII or Unicode (U+00A0, U+2000-U+200A, U+3000, ...), and
 * invisible characters (U+200B-U+200F, U+2060-U+2064, U+FEFF, Hangul
 * fillers, ...). A malformed byte is not a blank. */
bool text_blank(const char *s);
/* True when s[0..len) is not empty and only of the base64url alphabet
 * (A-Z a-z 0-9 - _), without padding. libsodium 1.0.18's decoder also
 * reads bytes 0x80-0xFF as '_': check with this first. */
bool valid_base64url(const char *s, size_t len);

/* An ISO 3166-1 alpha-2 code in upper case ("DE"), assigned today. */
bool valid_iso_country(const char *s);
/* An E.164-like phone number: "+", then 7 to 15 digits, the first not 0,
 * with single spaces or hyphens allowed between digits. With out (at least
 * 17 bytes) the number is written there as "+" and its digits only. */
bool valid_phone(const char *s, char *out);
/* An https URL of a valid host name, printable ASCII, at most max bytes. */
bool valid_https_url(const char *s, size_t max);
/* True when the host of mail address email (any case) is one of the
 * comma-separated domains, or a sub-domain of one. An entry "name.*" stands
 * for name's country variants: name followed by a top-level label
 * (hotmail.fr) or by one of co, com, net, org, ne, or, ac, gov, edu and a
 * top-level label (yahoo.co.uk, outlook.com.br). */
bool email_domain_listed(const char *email, const char *domains);

/* The one spelling of a sign-in name: in lower-cased into out (at least
 * 255 bytes). True when in is a valid address in ASCII (valid_email) with
 * nothing around it; false, with out still the lower-cased text, for
 * anything else (a blank, an invisible or a non-ASCII character). */
bool email_canonical(const char *in, char *out);

#endif
