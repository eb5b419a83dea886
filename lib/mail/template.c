#include "mail/template.h"

#include "core/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[MAIL_TEMPLATE__COUNT] = {
#define MAIL_TEMPLATE_NAME(id, name) name,
    MAIL_TEMPLATES(MAIL_TEMPLATE_NAME)
#undef MAIL_TEMPLATE_NAME
};

static const char *const languages[] = {"en", "ru"};
#define N_LANGUAGES (sizeof languages / sizeof languages[0])

struct text {
	char *subject, *body;
};
static struct text texts[N_LANGUAGES][MAIL_TEMPLATE__COUNT];
static int loaded;

static int language_index(const char *lang)
{
	for (size_t i = 0; lang != NULL && i < N_LANGUAGES; i++)
		if (strcmp(languages[i], lang) == 0)
			return (int)i;
	return -1;
}

int mail_language_known(const char *lang)
{
	return language_index(lang) >= 0;
}

const char *mail_template_name(enum mail_template t)
{
	return (unsigned)t < MAIL_TEMPLATE__COUNT ? names[t] : "unknown";
}

static char *read_file(const char *path, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t cap = 4096, len = 0, n;
	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	text = xmalloc(cap);
	while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			cap *= 2;
			if (cap > 256 * 1024) {
				snprintf(err, errsz, "%s: larger than 256 KiB", path);
				free(text);
				text = NULL;
				goto out;
			}
			text = xrealloc(text, cap);
		}
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL || strchr(text, '\r') != NULL) {
		snprintf(err, errsz, "%s: holds a NUL or CR byte", path);
		free(text);
		text = NULL;
	}
out:
	fclose(f);
	return text;
}

/* Splits "Subject: s\n\nbody" into its two parts (owned by t). */
static int parse(char *text, struct text *t, const char *path, char *err, size_t errsz)
{
	static const char prefix[] = "Subject: ";
	char *nl = strchr(text, '\n');
	if (strncmp(text, prefix, sizeof prefix - 1) != 0 || nl == NULL || nl[1] != '\n' ||
	    nl == text + sizeof prefix - 1) {
		snprintf(err, errsz, "%s: must start with a 'Subject: ' line and an empty line",
			 path);
		return -1;
	}
	*nl = '\0';
	t->subject = xstrdup(text + sizeof prefix - 1);
	t->body = xstrdup(nl + 2);
	return 0;
}

int mail_templates_load(const char *dir, char *err, size_t errsz)
{
	char path[1024];
	mail_templates_free();
	for (size_t l = 0; l < N_LANGUAGES; l++) {
		for (size_t i = 0; i < MAIL_TEMPLATE__COUNT; i++) {
			snprintf(path, sizeof path, "%s/%s/%s.txt", dir, languages[l], names[i]);
			char *text = read_file(path, err, errsz);
			int rc = text != NULL ? parse(text, &texts[l][i], path, err, errsz) : -1;
			free(text);
			if (rc != 0) {
				mail_templates_free();
				return -1;
			}
		}
	}
	loaded = 1;
	return 0;
}

void mail_templates_free(void)
{
	for (size_t l = 0; l < N_LANGUAGES; l++) {
		for (size_t i = 0; i < MAIL_TEMPLATE__COUNT; i++) {
			free(texts[l][i].subject);
			free(texts[l][i].body);
			texts[l][i].subject = texts[l][i].body = NULL;
		}
	}
	loaded = 0;
}

/* Replaces each {{key}} of in; NULL when a key has no value. */
static char *expand(const char *in, const struct mail_var *vars, size_t n)
{
	size_t cap = strlen(in) + 256, len = 0;
	char *out = xmalloc(cap);
	while (*in != '\0') {
		const char *open = strstr(in, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		size_t lit = close ? (size_t)(open - in) : strlen(in);
		const char *value = NULL;
		size_t vlen = 0;
		if (close != NULL) {
			size_t klen = (size_t)(close - open - 2);
			for (size_t i = 0; i < n && value == NULL; i++)
				if (strlen(vars[i].key) == klen &&
				    strncmp(vars[i].key, open + 2, klen) == 0)
					value = vars[i].value ? vars[i].value : "";
			if (value == NULL) {
				free(out);
				return NULL;
			}
			vlen = strlen(value);
		}
		if (len + lit + vlen + 1 > cap) {
			cap = (len + lit + vlen + 1) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + len, in, lit);
		len += lit;
		memcpy(out + len, value ? value : "", vlen);
		len += vlen;
		in = close ? close + 2 : in + lit;
	}
	out[len] = '\0';
	return out;
}

int mail_render(enum mail_template t, const char *lang, const struct mail_var *vars, size_t n,
		char **subject, char **body)
{
	int l = language_index(lang);
	*subject = *body = NULL;
	if (!loaded || (unsigned)t >= MAIL_TEMPLATE__COUNT)
		return -1;
	if (l < 0)
		l = 0;
	*subject = expand(texts[l][t].subject, vars, n);
	*body = expand(texts[l][t].body, vars, n);
	if (*subject == NULL || *body == NULL || strpbrk(*subject, "\r\n") != NULL) {
		free(*subject);
		free(*body);
		*subject = *body = NULL;
		return -1;
	}
	return 0;
}
