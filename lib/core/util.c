#include "core/util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void uuid_v7(char out[UUID_STR])
{
	unsigned char b[16];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	unsigned long long ms =
	    (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
	randombytes_buf(b, sizeof b);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (8 * (5 - i)));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0F));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3F));
	snprintf(out, UUID_STR,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

void uuid_v7_floor(micros_t at, char out[UUID_STR])
{
	unsigned long long ms = at > 0 ? (unsigned long long)at / 1000ULL : 0;
	snprintf(out, UUID_STR, "%08llx-%04llx-7000-8000-000000000000", (ms >> 16) & 0xFFFFFFFFULL,
		 ms & 0xFFFFULL);
}

bool uuid_valid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

micros_t time_micros(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (micros_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

micros_t time_micros_after(double seconds)
{
	return time_micros() + (micros_t)(seconds * 1e6);
}

void time_split(micros_t t, struct tm *tm, long *micros)
{
	time_t secs = (time_t)(t / 1000000LL);
	long frac = (long)(t % 1000000LL);
	if (frac < 0) {
		secs--;
		frac += 1000000L;
	}
	gmtime_r(&secs, tm);
	*micros = frac;
}

void time_api(micros_t t, char api[TIME_STR])
{
	struct tm tm;
	char base[24];
	long frac;
	time_split(t, &tm, &frac);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(api, TIME_STR, "%.19s.%06ldZ", base, frac);
}

/* n decimal digits at s into *out. */
static bool digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return true;
}

bool time_parse_api(const char *s, micros_t *t)
{
	int year, mon, day, hour, min, sec, off_h = 0, off_m = 0, sign = 0;
	long micros = 0;
	struct tm tm;
	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &year) || s[4] != '-' ||
	    !digits(s + 5, 2, &mon) || s[7] != '-' || !digits(s + 8, 2, &day) || s[10] != 'T' ||
	    !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				micros = micros * 10 + (*p - '0');
		if (n == 0 || n > 6)
			return false;
		for (; n < 6; n++)
			micros *= 10;
	}
	if (strcmp(p, "Z") != 0) {
		if ((*p != '+' && *p != '-') || strlen(p) != 6 || !digits(p + 1, 2, &off_h) ||
		    p[3] != ':' || !digits(p + 4, 2, &off_m) || off_h > 23 || off_m > 59)
			return false;
		sign = *p == '+' ? 1 : -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t secs = timegm(&tm);
	/* timegm moves 30 February to 2 March: a date it moved did not exist */
	if (tm.tm_year != year - 1900 || tm.tm_mon != mon - 1 || tm.tm_mday != day ||
	    tm.tm_hour != hour || tm.tm_min != min || tm.tm_sec != sec)
		return false;
	secs -= sign * (off_h * 3600 + off_m * 60);
	*t = (micros_t)secs * 1000000LL + micros;
	return true;
}

bool valid_hostname(const char *s)
{
	size_t n = s ? strlen(s) : 0, label = 0, labels = 0;
	bool tld_alpha = false;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			labels++;
			label = 0;
			continue;
		}
		if (label == 0) {
			if (c == '-')
				return false;
			tld_alpha = false;
		}
		if (c >= 'a' && c <= 'z')
			tld_alpha = true;
		else if (!((c >= '0' && c <= '9') || c == '-'))
			return false;
		label++;
	}
	return labels >= 2 && tld_alpha;
}

bool valid_email(const char *s)
{
	char host[256];
	const char *at = s ? strrchr(s, '@') : NULL;
	size_t n = s ? strlen(s) : 0;
	if (at == NULL || at == s || n > 254 || (size_t)(at - s) > 64)
		return false;
	for (const char *p = s; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7F || strchr("\"(),:;<>@[\\]", c) != NULL)
			return false;
	}
	if (s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return false;
	size_t hn = strlen(at + 1);
	if (hn >= sizeof host)
		return false;
	for (size_t i = 0; i <= hn; i++)
		host[i] = (char)tolower((unsigned char)at[1 + i]);
	return valid_hostname(host);
}

long utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char c = s[*i];
	size_t need;
	long cp;
	if (c < 0x80) {
		(*i)++;
		return c;
	} else if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		cp = c & 0x07;
	} else {
		(*i)++;
		return -1;
	}
	if (n - *i <= need) {
		(*i)++;
		return -1;
	}
	for (size_t k = 1; k <= need; k++) {
		if ((s[*i + k] & 0xC0) != 0x80) {
			(*i)++;
			return -1;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3F);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF)) {
		(*i)++;
		return -1;
	}
	*i += need + 1;
	return cp;
}

/* Characters that show nothing: Unicode's White_Space (ASCII's too) and
 * the invisible ones (zero-width space, non-joiner and joiner, the
 * direction marks, word joiner and invisible operators, U+FEFF, the
 * Mongolian vowel separator, the combining grapheme joiner, the Hangul
 * fillers). */
static bool blank_cp(long cp)
{
	static const long blanks[][2] = {
	    {0x09, 0x0D},     {0x20, 0x20},	{0x85, 0x85},	  {0xA0, 0xA0},
	    {0x34F, 0x34F},   {0x61C, 0x61C},	{0x115F, 0x1160}, {0x1680, 0x1680},
	    {0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x2029}, {0x202F, 0x202F},
	    {0x205F, 0x2064}, {0x206A, 0x206F}, {0x3000, 0x3000}, {0x3164, 0x3164},
	    {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0},
	};
	for (size_t i = 0; i < sizeof blanks / sizeof blanks[0]; i++)
		if (cp >= blanks[i][0] && cp <= blanks[i][1])
			return true;
	return false;
}

bool text_blank(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;
	for (size_t i = 0; i < n;)
		if (!blank_cp(utf8_next(u, n, &i)))
			return false;
	return true;
}

bool valid_text(const char *s, size_t min, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;
	bool blank = true;
	if (s == NULL || n < min || n > max)
		return false;
	for (size_t i = 0; i < n;) {
		long cp = utf8_next(u, n, &i);
		/* malformed; C0, DEL and C1 controls; U+FEFF (a byte order mark
		 * or a zero-width no-break space); the bidirectional embeddings,
		 * overrides and isolates that reorder what follows them */
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF ||
		    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
			return false;
		if (!blank_cp(cp))
			blank = false;
	}
	return min == 0 || !blank;
}

/* The script of a letter, for the look-alikes of names: 'L' Latin, 'C'
 * Cyrillic, 'G' Greek, 0 any other (digits, marks, other scripts). */
static char letter_script(long cp)
{
	if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= 0xC0 && cp <= 0x24F))
		return cp == 0xD7 || cp == 0xF7 ? 0 : 'L';
	if (cp >= 0x370 && cp <= 0x3FF)
		return 'G';
	if (cp >= 0x400 && cp <= 0x52F)
		return 'C';
	return 0;
}

bool valid_name(const char *s, size_t min, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0;
	char word = 0; /* the script of the word so far */
	if (!valid_text(s, min, max))
		return false;
	for (size_t i = 0; i < n;) {
		long cp = utf8_next(u, n, &i);
		/* invisible: soft hyphen, combining grapheme joiner, Mongolian
		 * vowel separator, zero-width spaces and joiners, the marks
		 * of direction, word joiner and invisible operators; and the
		 * line and paragraph separators */
		if (cp == 0xAD || cp == 0x34F || cp == 0x180E || (cp >= 0x200B && cp <= 0x200F) ||
		    (cp >= 0x2060 && cp <= 0x2064) || cp == 0x2028 || cp == 0x2029)
			return false;
		char script = letter_script(cp);
		if (blank_cp(cp) || cp == '-' || cp == '.' || cp == ',' || cp == '&')
			word = 0;
		else if (script != 0 && word != 0 && script != word)
			return false; /* "Соntoso": a Cyrillic С among Latin letters */
		else if (script != 0)
			word = script;
	}
	return true;
}

bool valid_base64url(const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* ISO 3166-1 alpha-2, the codes assigned today. */
static const char iso_countries[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ "
    "BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM "
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS "
    "GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN "
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ "
    "MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM "
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI "
    "VN VU WF WS YE YT ZA ZM ZW ";

bool valid_iso_country(const char *s)
{
	if (s == NULL || strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return false;
	for (const char *p = iso_countries; *p != '\0'; p += 3)
		if (p[0] == s[0] && p[1] == s[1])
			return true;
	return false;
}

bool valid_phone(const char *s, char *out)
{
	size_t digits = 0;
	char buf[17];
	if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	buf[0] = '+';
	for (const char *p = s + 1; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (++digits > 15)
				return false;
			buf[digits] = *p;
		} else if ((*p == ' ' || *p == '-') && p[-1] >= '0' && p[-1] <= '9' &&
			   p[1] >= '0' && p[1] <= '9') {
			continue;
		} else {
			return false;
		}
	}
	if (digits < 7)
		return false;
	buf[digits + 1] = '\0';
	if (out != NULL)
		memcpy(out, buf, digits + 2);
	return true;
}

bool valid_https_url(const char *s, size_t max)
{
	static const char scheme[] = "https://";
	char host[254];
	size_t n = s ? strlen(s) : 0;
	if (n > max || strncmp(s ? s : "", scheme, sizeof scheme - 1) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
			return false;
	const char *h = s + sizeof scheme - 1;
	size_t hn = strcspn(h, ":/?#");
	if (hn == 0 || hn >= sizeof host)
		return false;
	for (size_t i = 0; i < hn; i++)
		host[i] = (char)tolower((unsigned char)h[i]);
	host[hn] = '\0';
	if (h[hn] == ':') {
		const char *port = h + hn + 1;
		size_t pn = strspn(port, "0123456789");
		long number = pn > 0 && pn <= 5 ? strtol(port, NULL, 10) : 0;
		if (number < 1 || number > 65535 ||
		    (port[pn] != '\0' && port[pn] != '/' && port[pn] != '?' && port[pn] != '#'))
			return false;
	}
	return valid_hostname(host);
}

/* True when the label [s, s+n) is one of a country variant's second-level
 * labels (the "co" of yahoo.co.uk). */
static bool second_level_label(const char *s, size_t n)
{
	static const char *const labels[] = {"co", "com", "net", "org", "ne",
					     "or", "ac",  "gov", "edu"};
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strlen(labels[i]) == n && strncmp(labels[i], s, n) == 0)
			return true;
	return false;
}

/* Does host (lower case) end, at a label boundary, with entry [e, e+n)? */
static bool domain_matches(const char *host, const char *e, size_t n)
{
	size_t hn = strlen(host);
	bool wildcard = n > 2 && e[n - 2] == '.' && e[n - 1] == '*';
	if (!wildcard) {
		return hn >= n && strncasecmp(host + hn - n, e, n) == 0 &&
		       (hn == n || host[hn - n - 1] == '.');
	}
	size_t name = n - 1; /* "yahoo." */
	for (const char *h = host; h != NULL; h = strchr(h, '.'), h = h ? h + 1 : NULL) {
		if (strncasecmp(h, e, name) != 0)
			continue;
		const char *rest = h + name; /* "co.uk" */
		const char *dot = strchr(rest, '.');
		if (*rest != '\0' && dot == NULL)
			return true;
		if (dot != NULL && dot > rest && strchr(dot + 1, '.') == NULL && dot[1] != '\0' &&
		    second_level_label(rest, (size_t)(dot - rest)))
			return true;
	}
	return false;
}

bool email_domain_listed(const char *email, const char *domains)
{
	char host[256];
	const char *at = email ? strrchr(email, '@') : NULL;
	if (at == NULL || strlen(at + 1) >= sizeof host || domains == NULL)
		return false;
	size_t hn = strlen(at + 1);
	for (size_t i = 0; i <= hn; i++)
		host[i] = (char)tolower((unsigned char)at[1 + i]);
	while (hn > 0 && host[hn - 1] == '.')
		host[--hn] = '\0'; /* "gmail.com." is gmail.com */
	for (const char *p = domains; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, " ,");
		if (len > 0 && domain_matches(host, p, len))
			return true;
		p += len;
	}
	return false;
}

bool email_canonical(const char *in, char *out)
{
	size_t n = in ? strlen(in) : 0;
	if (n > 254)
		n = 254;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
	return in != NULL && strlen(in) <= 254 && valid_email(out);
}
