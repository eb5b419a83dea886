#include "http/http.h"

#include "core/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void response_header(struct response *res, const char *name, const char *value)
{
	if (res->n_headers == RESPONSE_MAX_HEADERS)
		abort();
	res->headers[res->n_headers].name = name;
	res->headers[res->n_headers].value = xstrdup(value);
	res->n_headers++;
}

void response_body(struct response *res, int status, const char *content_type, const char *body,
		   size_t len)
{
	free(res->body);
	res->status = status;
	res->content_type = content_type;
	res->body = xstrndup(body, len);
	res->body_len = len;
}

void response_locate_under(struct response *res, const char *base)
{
	for (size_t i = 0; base != NULL && base[0] != '\0' && i < res->n_headers; i++) {
		struct response_header *h = &res->headers[i];
		if (strcmp(h->name, "Location") != 0 || h->value[0] != '/')
			continue;
		char *under = xasprintf("%s%s", base, h->value);
		free(h->value);
		h->value = under;
	}
}

void response_clear(struct response *res)
{
	for (size_t i = 0; i < res->n_headers; i++)
		free(res->headers[i].value);
	free(res->body);
	memset(res, 0, sizeof *res);
}

void response_rewind(struct response *res, size_t n_headers)
{
	while (res->n_headers > n_headers)
		free(res->headers[--res->n_headers].value);
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	res->content_type = NULL;
	res->status = 0;
}

static int request_id_valid(const char *id)
{
	size_t n = 0;
	if (id == NULL)
		return 0;
	for (; id[n] != '\0'; n++) {
		char c = id[n];
		if (n == REQUEST_ID_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return n > 0;
}

void request_id_choose(struct request *req, const char *client_id, const char *nginx_id)
{
	const char *id = request_id_valid(client_id)  ? client_id
			 : request_id_valid(nginx_id) ? nginx_id
						      : NULL;
	if (id != NULL) {
		snprintf(req->request_id, sizeof req->request_id, "%s", id);
		return;
	}
	unsigned char raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(req->request_id, sizeof req->request_id, raw, sizeof raw);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int request_query_param(const struct request *req, const char *name, char *buf, size_t bufsz)
{
	const char *q = req->query ? req->query : "";
	size_t nlen = strlen(name);
	if (bufsz == 0)
		return -1;
	while (*q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end ? (size_t)(end - q) : strlen(q);
		if (len > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
			size_t o = 0;
			for (size_t i = nlen + 1; i < len; i++) {
				int c = (unsigned char)q[i];
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					int hi = i + 2 < len ? hexval(q[i + 1]) : -1;
					int lo = i + 2 < len ? hexval(q[i + 2]) : -1;
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
						return -1;
					c = hi * 16 + lo;
					i += 2;
				}
				if (o + 1 >= bufsz)
					return -1;
				buf[o++] = (char)c;
			}
			buf[o] = '\0';
			return 1;
		}
		q += len + (end ? 1 : 0);
	}
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
#define HTTP_REASON(code, text)                                                                    \
	case code: return text;
		HTTP_STATUSES(HTTP_REASON)
#undef HTTP_REASON
	default: return NULL;
	}
}
