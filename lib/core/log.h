/* Logs are one JSON object a line on stderr (SPEC §7). */
#ifndef TWOTIER_LOG_H
#define TWOTIER_LOG_H

#include <cjson/cJSON.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Minimum level written; set once at start ("debug", "info", ...).
 * Returns -1 for an unknown name. */
int log_set_level(const char *name);

/* Writes {"time", "level", "msg", ...fields}; takes ownership of fields
 * (may be NULL). The line is written whole, so threads never interleave. */
void log_event(enum log_level level, const char *msg, cJSON *fields);

/* printf-style message with no extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
