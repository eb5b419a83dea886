#include "mail/message.h"

#include "core/xalloc.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A header value may not end the header early or smuggle another. */
static int header_value_ok(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return 0;
	return s != NULL;
}

static int ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			return 0;
	return 1;
}

/* Length of the UTF-8 sequence that starts with byte c. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	return 4;
}

/* RFC 2047: printable ASCII that fits a line goes as it is; anything else
 * as "B" encoded-words of whole characters, each at most 75 bytes long, on
 * folded lines. */
static void put_subject(struct buf *b, const char *subject)
{
	size_t n = strlen(subject);
	if (ascii_printable(subject) && n <= 66 && strstr(subject, "=?") == NULL) {
		puts_(b, subject);
		return;
	}
	const char *p = subject;
	int first = 1;
	while (*p != '\0') {
		/* 39 bytes of text make 52 of base64; with "=?UTF-8?B?" and "?="
		 * a word is 64 bytes, so that even the first line, after
		 * "Subject: ", stays within RFC 2047's 76 */
		size_t take = 0;
		while (p[take] != '\0') {
			size_t c = utf8_len((unsigned char)p[take]);
			if (take + c > 39 || strnlen(p + take, c) < c)
				break;
			take += c;
		}
		if (take == 0)
			take = strlen(p) < 4 ? strlen(p) : 4;
		char word[128];
		sodium_bin2base64(word, sizeof word, (const unsigned char *)p, take,
				  sodium_base64_VARIANT_ORIGINAL);
		if (!first)
			puts_(b, "\r\n ");
		puts_(b, "=?UTF-8?B?");
		puts_(b, word);
		puts_(b, "?=");
		first = 0;
		p += take;
	}
}

/* The body in canonical form (CRLF line ends) as base64 lines of 76. */
static void put_body(struct buf *b, const char *body)
{
	struct buf crlf = {NULL, 0, 0};
	put(&crlf, "", 0);
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n')
			put(&crlf, "\r\n", 2);
		else if (*p == '\r')
			continue; /* a line ends in LF; CRLF is ours to write */
		else
			put(&crlf, p, 1);
	}
	size_t enc_len = sodium_base64_encoded_len(crlf.len, sodium_base64_VARIANT_ORIGINAL);
	char *enc = xmalloc(enc_len);
	sodium_bin2base64(enc, enc_len, (const unsigned char *)crlf.s, crlf.len,
			  sodium_base64_VARIANT_ORIGINAL);
	size_t n = strlen(enc);
	for (size_t i = 0; i < n; i += 76) {
		put(b, enc + i, n - i < 76 ? n - i : 76);
		put(b, "\r\n", 2);
	}
	free(enc);
	free(crlf.s);
}

int mail_address_of(const char *from, char *out, size_t outsz)
{
	const char *lt = from ? strrchr(from, '<') : NULL;
	const char *gt = lt ? strchr(lt, '>') : NULL;
	const char *s = from;
	size_t n = from ? strlen(from) : 0;
	if (lt != NULL && gt == NULL)
		return -1;
	if (lt != NULL) {
		s = lt + 1;
		n = (size_t)(gt - s);
	}
	if (s == NULL || n == 0 || n >= outsz || memchr(s, '@', n) == NULL)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int mail_format(const struct mail_message *m, char **out, size_t *len)
{
	struct buf b = {NULL, 0, 0};
	char date[64];
	struct tm tm;
	*out = NULL;
	*len = 0;
	if (!header_value_ok(m->from) || !header_value_ok(m->to) || !header_value_ok(m->subject) ||
	    !header_value_ok(m->message_id) || m->body == NULL)
		return -1;
	gmtime_r(&m->date, &tm);
	/* the C locale's names, which are RFC 5322's */
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	puts_(&b, "Date: ");
	puts_(&b, date);
	puts_(&b, "\r\nMessage-ID: <");
	puts_(&b, m->message_id);
	puts_(&b, ">\r\nFrom: ");
	puts_(&b, m->from);
	puts_(&b, "\r\nTo: ");
	puts_(&b, m->to);
	puts_(&b, "\r\nSubject: ");
	put_subject(&b, m->subject);
	puts_(&b, "\r\nMIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n"
		  "Auto-Submitted: auto-generated\r\n\r\n");
	put_body(&b, m->body);
	*out = b.s;
	*len = b.len;
	return 0;
}
