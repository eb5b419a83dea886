/* Reading request bodies: parse, then check against a schema so that
 * unknown fields, wrong types and missing fields are refused before any
 * handler runs, each error naming its field ("admin.email"). */
#ifndef TWOTIER_JSON_H
#define TWOTIER_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct problem;

#define JSON_ARRAY_ITEM_MAX 256

enum json_kind {
	JSON_STRING,
	JSON_INTEGER,
	JSON_BOOL,
	JSON_OBJECT,	   /* fields: the nested schema */
	JSON_STRING_ARRAY, /* array of at most max_len strings of at most 256 bytes */
};

/* A schema is an array of fields ended by one with name == NULL. */
struct json_field {
	const char *name;
	enum json_kind kind;
	bool required;
	size_t max_len;			 /* strings: bytes; arrays: items; 0 = no limit */
	const struct json_field *fields; /* JSON_OBJECT only */
};

/* Parses body (len bytes, NUL-terminated at body[len]) and checks it
 * against schema. On success *out is the document (caller deletes) and 0
 * is returned. On failure p is set (PROBLEM_MALFORMED_JSON or
 * PROBLEM_VALIDATION with every field error) and -1 is returned. A NULL
 * body is malformed, and so is one that is not UTF-8, starts with a byte
 * order mark, holds \u0000, or holds a raw control character (U+0000-
 * U+001F) inside a string or, other than tab, LF and CR, between tokens.
 * Thread-safe (never uses cJSON_GetErrorPtr). */
int json_read(const char *body, size_t len, const struct json_field *schema, cJSON **out,
	      struct problem *p);

/* True when s (len bytes) is well-formed UTF-8 without NUL, overlongs or
 * surrogates. */
bool json_utf8_valid(const char *s, size_t len);

/* Typed getters for a validated document: NULL / fallback when absent. */
const char *json_str(const cJSON *obj, const char *name);
const cJSON *json_obj(const cJSON *obj, const char *name);

/* Prints doc unformatted; caller frees. */
char *json_print(const cJSON *doc, size_t *len);

#endif
