#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(level_names[i], name) == 0) {
			min_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* A line being built; room is kept for the closing "}\n". */
struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
};

#define LINE_ROOM (LINE_MAX_BYTES - 3)

static void put_raw(struct line *l, const char *s, size_t n)
{
	if (n > LINE_ROOM - l->len)
		n = LINE_ROOM - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* A JSON string: quotes, backslashes and control characters escaped; a
 * value that does not fit is cut at a character boundary of the escaping. */
static void put_string(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put_raw(l, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6];
		size_t n = 0;
		if (c == '"' || c == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			esc[n++] = '\\';
			esc[n++] = 'u';
			esc[n++] = '0';
			esc[n++] = '0';
			esc[n++] = hex[c >> 4];
			esc[n++] = hex[c & 15];
		} else {
			esc[n++] = (char)c;
		}
		if (l->len + n + 1 > LINE_ROOM)
			break; /* the closing quote still fits */
		memcpy(l->buf + l->len, esc, n);
		l->len += n;
	}
	l->buf[l->len++] = '"';
}

/* "time" as RFC 3339 with milliseconds; the seconds part is formatted
 * once a second per thread. */
static void put_time(struct line *l)
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[32];
	struct timespec ts;
	char when[48];
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	int n =
	    snprintf(when, sizeof when, "{\"time\":\"%s.%03ldZ\"", cached, ts.tv_nsec / 1000000);
	put_raw(l, when, (size_t)n);
}

static void write_all(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to log to */
		s += w;
		n -= (size_t)w;
	}
}

void log_fields(enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
	struct line l;
	char num[48];
	if (level < min_level)
		return;
	l.len = 0;
	put_time(&l);
	put_raw(&l, ",\"level\":", 9);
	put_string(&l, level_names[level]);
	put_raw(&l, ",\"msg\":", 7);
	put_string(&l, msg);
	for (size_t i = 0; i < n; i++) {
		const struct log_field *f = &fields[i];
		int w = 0;
		if (f->kind == LOG_STR && f->s == NULL)
			continue;
		/* a field that cannot start whole is left out, so the line stays
		 * valid JSON; 64 is room for a number and the punctuation */
		if (l.len + strlen(f->name) + 64 > LINE_ROOM)
			break;
		put_raw(&l, ",", 1);
		put_string(&l, f->name);
		put_raw(&l, ":", 1);
		switch (f->kind) {
		case LOG_STR: put_string(&l, f->s); break;
		case LOG_INT: w = snprintf(num, sizeof num, "%lld", f->i); break;
		case LOG_MILLIS: w = snprintf(num, sizeof num, "%.3f", f->seconds * 1e3); break;
		}
		if (w > 0)
			put_raw(&l, num, (size_t)w);
	}
	l.buf[l.len++] = '}';
	l.buf[l.len++] = '\n';
	write_all(l.buf, l.len);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_fields(level, msg, NULL, 0);
}
