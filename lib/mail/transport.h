/* Where mail goes: `file` writes each mail as <id>.eml into mail_dir
 * (written under a temporary name and renamed, so that a reader never sees
 * half a mail); `smtp` hands it to the configured relay through libcurl.
 * One transport per sending thread. */
#ifndef TWOTIER_MAIL_TRANSPORT_H
#define TWOTIER_MAIL_TRANSPORT_H

#include <stddef.h>

struct config;
struct mail_transport;

enum mail_result {
	MAIL_SENT,
	MAIL_RETRY,  /* a 4xx answer, or a connection broken mid-mail: try again later */
	MAIL_FAILED, /* a 5xx answer: trying again will not help */
	/* our side failed, not the mail's: the folder cannot be written (full,
	 * gone, read-only), or the relay is down (no connection, no answer,
	 * 421, our login refused); every mail waits for it alike, so the
	 * attempt does not count and the mail goes as soon as the way is open */
	MAIL_DEFERRED,
};

/* A transport for cfg (borrowed; must outlive it). curl_global_init must
 * have run before threads started. Returns NULL with err set. */
struct mail_transport *mail_transport_new(const struct config *cfg, char *err, size_t errsz);
void mail_transport_free(struct mail_transport *t);

/* Delivers the message text (len bytes, CRLF lines) of outbox mail id from
 * envelope sender from to rcpt. err receives the reason of a failure. */
enum mail_result mail_transport_send(struct mail_transport *t, const char *id, const char *from,
				     const char *rcpt, const char *text, size_t len, char *err,
				     size_t errsz);

#endif
