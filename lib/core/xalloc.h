/* Allocation that cannot fail: out of memory aborts the process, so callers
 * never carry an error path for it (see STYLE.md, "memory"). */
#ifndef TWOTIER_XALLOC_H
#define TWOTIER_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Installs xmalloc/free as cJSON's allocator. Call once, before threads. */
void xalloc_init_cjson(void);

#endif
