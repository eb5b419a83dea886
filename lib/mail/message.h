/* One mail as RFC 5322 text: the headers every mail carries (Date,
 * Message-ID, From, To, Subject encoded per RFC 2047, MIME-Version) and a
 * UTF-8 plain-text body in base64, CRLF line ends throughout. */
#ifndef TWOTIER_MAIL_MESSAGE_H
#define TWOTIER_MAIL_MESSAGE_H

#include <stddef.h>
#include <time.h>

struct mail_message {
	const char *from;	/* "Name <address>" or an address */
	const char *to;		/* an address */
	const char *subject;	/* UTF-8 */
	const char *body;	/* UTF-8, lines end in LF */
	const char *message_id; /* without the angle brackets: "id@host" */
	time_t date;
};

/* The text of m in *out (caller frees) and its length in *len. Returns 0,
 * or -1 when a header value holds CR, LF or another control character. */
int mail_format(const struct mail_message *m, char **out, size_t *len);

/* The address of a From value ("Name <a@b>" gives "a@b") into out.
 * Returns 0, or -1 when it holds none. */
int mail_address_of(const char *from, char *out, size_t outsz);

#endif
