#include "http/router.h"

#include "core/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Whether the segment path[0..len) is of the kind the placeholder
 * {name:kind} that starts at pattern names ({name} takes any). */
static bool kind_match(const char *pattern, const char *close, const char *path, size_t len)
{
	const char *colon = memchr(pattern, ':', (size_t)(close - pattern));
	char segment[ROUTE_CAPTURE_MAX + 1];
	if (colon == NULL)
		return true;
	memcpy(segment, path, len);
	segment[len] = '\0';
	if ((size_t)(close - colon - 1) == 4 && strncmp(colon + 1, "uuid", 4) == 0)
		return uuid_valid(segment);
	return false; /* a kind the router does not know matches nothing */
}

/* Matches one pattern; fills captures. A capture is a whole segment of
 * 1..ROUTE_CAPTURE_MAX bytes, of its placeholder's kind. */
static int pattern_match(const char *pattern, const char *path, struct route_match *m)
{
	size_t n_captures = 0;
	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '{') {
			const char *close = strchr(pattern, '}');
			size_t len = strcspn(path, "/");
			if (close == NULL || len == 0 || len > ROUTE_CAPTURE_MAX ||
			    n_captures == ROUTE_MAX_CAPTURES ||
			    !kind_match(pattern, close, path, len))
				return 0;
			if (m != NULL) {
				memcpy(m->captures[n_captures], path, len);
				m->captures[n_captures][len] = '\0';
			}
			n_captures++;
			pattern = close + 1;
			path += len;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	if (*pattern != '\0' || *path != '\0')
		return 0;
	if (m != NULL)
		m->n_captures = n_captures;
	return 1;
}

enum route_result router_match(const struct route *table, size_t n, const char *method,
			       const char *path, struct route_match *m, char *allow, size_t allowsz)
{
	int path_known = 0;
	size_t used = 0;
	if (allowsz > 0)
		allow[0] = '\0';
	if (method == NULL || path == NULL)
		return ROUTE_NOT_FOUND;
	for (size_t i = 0; i < n; i++) {
		if (!pattern_match(table[i].pattern, path, NULL))
			continue;
		if (strcmp(table[i].method, method) == 0) {
			memset(m, 0, sizeof *m);
			pattern_match(table[i].pattern, path, m);
			m->route = &table[i];
			m->index = i;
			return ROUTE_FOUND;
		}
		path_known = 1;
		if (allowsz > used && strstr(allow, table[i].method) == NULL) {
			int w = snprintf(allow + used, allowsz - used, "%s%s", used ? ", " : "",
					 table[i].method);
			used = (w < 0 || (size_t)w >= allowsz - used) ? allowsz : used + (size_t)w;
		}
	}
	return path_known ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}
