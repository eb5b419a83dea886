/* Logs are one JSON object a line on stderr (SPEC §7), formatted without
 * building a JSON tree: the request path writes one line a request. */
#ifndef TWOTIER_LOG_H
#define TWOTIER_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Minimum level written; set once at start ("debug", "info", ...).
 * Returns -1 for an unknown name. */
int log_set_level(const char *name);

enum log_kind { LOG_STR, LOG_INT, LOG_MILLIS };

/* One field of a line; a LOG_STR whose value is NULL is left out. */
struct log_field {
	const char *name;
	enum log_kind kind;
	const char *s;	/* LOG_STR, borrowed */
	long long i;	/* LOG_INT */
	double seconds; /* LOG_MILLIS: written in milliseconds, 3 decimals */
};

#define LOG_S(n, v)  ((struct log_field){(n), LOG_STR, (v), 0, 0})
#define LOG_I(n, v)  ((struct log_field){(n), LOG_INT, NULL, (v), 0})
#define LOG_MS(n, v) ((struct log_field){(n), LOG_MILLIS, NULL, 0, (v)})

/* Writes {"time", "level", "msg", ...fields} as one line with one write(2),
 * so that threads never interleave. Values too long for a line are cut;
 * the line is always valid JSON. */
void log_fields(enum log_level level, const char *msg, const struct log_field *fields, size_t n);

/* printf-style message with no extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
