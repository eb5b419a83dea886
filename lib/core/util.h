/* Small pure helpers: ids, time stamps, input checks. */
#ifndef TWOTIER_UTIL_H
#define TWOTIER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#define UUID_STR 37

/* Writes a version 7 UUID (time-ordered) into out. */
void uuid_v7(char out[UUID_STR]);
/* True for a canonical lower-case UUID string. */
bool uuid_valid(const char *s);

/* Current UTC time as "YYYY-MM-DD HH:MM:SS.ffffff" (for DATETIME(6)) and
 * as the RFC 3339 form the API shows. */
#define TIME_STR 32
void time_now(char sql[TIME_STR], char api[TIME_STR]);
/* "YYYY-MM-DD HH:MM:SS[.ffffff]" → "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
void time_sql_to_api(const char *sql, char api[TIME_STR]);

/* A lower-case DNS host name of two or more labels. */
bool valid_hostname(const char *s);
/* A plausible mail address: local@host, at most 254 bytes, host a valid
 * host name (case-insensitive). */
bool valid_email(const char *s);
/* Text of min..max bytes with no control characters and not only blanks. */
bool valid_text(const char *s, size_t min, size_t max);

#endif
