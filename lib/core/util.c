#include "core/util.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
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

void time_now(char sql[TIME_STR], char api[TIME_STR])
{
	struct timespec ts;
	struct tm tm;
	char base[24];
	int micros;
	clock_gettime(CLOCK_REALTIME, &ts);
	micros = (int)(ts.tv_nsec / 1000) % 1000000;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
	if (sql != NULL)
		snprintf(sql, TIME_STR, "%.19s.%06d", base, micros);
	if (api != NULL) {
		base[10] = 'T';
		snprintf(api, TIME_STR, "%.19s.%06dZ", base, micros);
	}
}

void time_sql_to_api(const char *sql, char api[TIME_STR])
{
	char frac[7] = "000000";
	size_t n = sql ? strlen(sql) : 0;
	if (n < 19) {
		snprintf(api, TIME_STR, "1970-01-01T00:00:00.000000Z");
		return;
	}
	if (n > 20 && sql[19] == '.')
		for (size_t i = 0; i < 6 && sql[20 + i] >= '0' && sql[20 + i] <= '9'; i++)
			frac[i] = sql[20 + i];
	snprintf(api, TIME_STR, "%.10sT%.8s.%sZ", sql, sql + 11, frac);
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

bool valid_text(const char *s, size_t min, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	bool blank = true;
	if (s == NULL || n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F)
			return false;
		if (c != ' ')
			blank = false;
	}
	return min == 0 || !blank;
}
