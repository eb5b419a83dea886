#include "http/json.h"

#include "core/util.h"

#include "core/problem.h"
#include "core/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	if (s == NULL)
		return false;
	while (i < len) {
		long cp = utf8_next(u, len, &i);
		if (cp <= 0) /* malformed, or a NUL */
			return false;
	}
	return true;
}

/* cJSON turns \u0000 into a real NUL that would cut a string short for
 * every C reader after it (and slip past max_len): refuse it. Walking
 * escapes pairwise keeps an escaped backslash from being misread. */
static bool has_escaped_nul(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len && strncmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++;
	}
	return false;
}

/* JSON forbids raw control characters (U+0000-U+001F) inside strings and
 * allows only tab, line feed and carriage return (with space) between
 * tokens; cJSON takes any of them in a string and every byte up to space
 * as whitespace. Returns the offset of the first one out of place, or len
 * when there is none. In valid JSON a quote outside a string opens one and
 * a backslash only appears inside one, so the walk knows where it is. */
static size_t raw_control_at(const char *s, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20) {
			if (in_string || (c != '\t' && c != '\n' && c != '\r'))
				return i;
		} else if (c == '"') {
			in_string = !in_string;
		} else if (c == '\\' && in_string && i + 1 < len &&
			   (unsigned char)s[i + 1] >= 0x20) {
			i++; /* the escaped character; a control after it is caught above */
		}
	}
	return len;
}

static const char *kind_name(enum json_kind kind)
{
	switch (kind) {
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_BOOL: return "a boolean";
	case JSON_OBJECT: return "an object";
	case JSON_STRING_ARRAY: return "an array of strings";
	}
	return "a value";
}

static bool is_integer(const cJSON *v)
{
	double d = v->valuedouble;
	return cJSON_IsNumber(v) && isfinite(d) && d == floor(d) && d >= -9007199254740991.0 &&
	       d <= 9007199254740991.0;
}

static void check_object(const cJSON *obj, const struct json_field *schema, const char *prefix,
			 struct problem *p);

static void check_value(const cJSON *v, const struct json_field *f, const char *path,
			struct problem *p)
{
	switch (f->kind) {
	case JSON_STRING:
		if (!cJSON_IsString(v))
			break;
		if (f->max_len && strlen(v->valuestring) > f->max_len)
			problem_add_field(p, path, "too_long", "must be at most %zu bytes",
					  f->max_len);
		return;
	case JSON_INTEGER:
		if (!is_integer(v))
			break;
		return;
	case JSON_BOOL:
		if (!cJSON_IsBool(v))
			break;
		return;
	case JSON_OBJECT:
		if (!cJSON_IsObject(v))
			break;
		check_object(v, f->fields, path, p);
		return;
	case JSON_STRING_ARRAY: {
		if (!cJSON_IsArray(v))
			break;
		int n = cJSON_GetArraySize(v);
		if (f->max_len && (size_t)n > f->max_len) {
			problem_add_field(p, path, "too_many", "must have at most %zu items",
					  f->max_len);
			return;
		}
		int i = 0;
		for (const cJSON *item = v->child; item != NULL; item = item->next, i++) {
			char ipath[192];
			snprintf(ipath, sizeof ipath, "%s[%d]", path, i);
			if (!cJSON_IsString(item))
				problem_add_field(p, ipath, "wrong_type", "must be a string");
			else if (strlen(item->valuestring) > JSON_ARRAY_ITEM_MAX)
				problem_add_field(p, ipath, "too_long", "must be at most %d bytes",
						  JSON_ARRAY_ITEM_MAX);
		}
		return;
	}
	}
	problem_add_field(p, path, "wrong_type", "must be %s", kind_name(f->kind));
}

static void check_object(const cJSON *obj, const struct json_field *schema, const char *prefix,
			 struct problem *p)
{
	char path[160];
	for (const cJSON *item = obj->child; item != NULL; item = item->next) {
		const struct json_field *f = schema;
		while (f->name != NULL && strcmp(f->name, item->string) != 0)
			f++;
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", item->string);
		if (f->name == NULL) {
			problem_add_field(p, path, "unknown_field",
					  "is not a field of this request");
			continue;
		}
		/* Duplicate keys would let two readers see two values. */
		for (const cJSON *prev = obj->child; prev != item; prev = prev->next) {
			if (strcmp(prev->string, item->string) == 0) {
				problem_add_field(p, path, "duplicate_field",
						  "appears more than once");
				break;
			}
		}
		if (cJSON_IsNull(item) && !f->required)
			continue;
		check_value(item, f, path, p);
	}
	for (const struct json_field *f = schema; f->name != NULL; f++) {
		if (f->required && cJSON_GetObjectItemCaseSensitive(obj, f->name) == NULL) {
			snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
			problem_add_field(p, path, "required", "is required");
		}
	}
}

int json_read(const char *body, size_t len, const struct json_field *schema, cJSON **out,
	      struct problem *p)
{
	const char *end = NULL;
	cJSON *doc = NULL;
	*out = NULL;
	if (body == NULL || len == 0)
		return problem_set(p, PROBLEM_MALFORMED_JSON, "the request body is empty");
	if (!json_utf8_valid(body, len))
		return problem_set(p, PROBLEM_MALFORMED_JSON,
				   "the request body is not valid UTF-8");
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		return problem_set(p, PROBLEM_MALFORMED_JSON,
				   "the body starts with a byte order mark (U+FEFF)");
	if (has_escaped_nul(body, len))
		return problem_set(p, PROBLEM_MALFORMED_JSON,
				   "the body contains an escaped NUL (\\u0000)");
	size_t ctl = raw_control_at(body, len);
	if (ctl < len)
		return problem_set(p, PROBLEM_MALFORMED_JSON,
				   "the body contains a raw control character (byte %zu); "
				   "JSON strings must escape it",
				   ctl);
	doc = cJSON_ParseWithLengthOpts(body, len + 1, &end, 1);
	if (doc == NULL) {
		size_t at = (end != NULL && end >= body) ? (size_t)(end - body) : 0;
		return problem_set(p, PROBLEM_MALFORMED_JSON,
				   "the body is not valid JSON (near byte %zu)", at);
	}
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return problem_set(p, PROBLEM_MALFORMED_JSON, "the body must be a JSON object");
	}
	check_object(doc, schema, "", p);
	if (p->kind != PROBLEM_NONE) {
		cJSON_Delete(doc);
		return -1;
	}
	*out = doc;
	return 0;
}

const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *json_obj(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsObject(v) ? v : NULL;
}

char *json_print(const cJSON *doc, size_t *len)
{
	char *s = cJSON_PrintUnformatted(doc);
	if (s == NULL)
		s = xstrdup("null");
	if (len != NULL)
		*len = strlen(s);
	return s;
}
