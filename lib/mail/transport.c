#include "mail/transport.h"

#include "core/config.h"
#include "core/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mail_transport {
	const struct config *cfg;
	CURL *curl; /* smtp only: kept, so that its connection is reused */
};

struct mail_transport *mail_transport_new(const struct config *cfg, char *err, size_t errsz)
{
	struct mail_transport *t = xcalloc(1, sizeof *t);
	t->cfg = cfg;
	if (strcmp(cfg->mail_transport, "smtp") == 0) {
		t->curl = curl_easy_init();
		if (t->curl == NULL) {
			snprintf(err, errsz, "libcurl: cannot make a handle");
			free(t);
			return NULL;
		}
	}
	return t;
}

void mail_transport_free(struct mail_transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	free(t);
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* <mail_dir>/.<id>.<random>.tmp (this writer's alone), flushed to disk,
 * then renamed to <id>.eml and the folder flushed: a reader never sees half
 * a mail, and a mail marked sent is on disk. The same id written twice (a
 * sender that died after writing) leaves one file. */
static enum mail_result file_send(struct mail_transport *t, const char *id, const char *text,
				  size_t len, char *err, size_t errsz)
{
	char tmp[600], final[600], nonce[17];
	unsigned char raw[8];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(nonce, sizeof nonce, raw, sizeof raw);
	snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", t->cfg->mail_dir, id, nonce);
	snprintf(final, sizeof final, "%s/%s.eml", t->cfg->mail_dir, id);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errsz, "cannot create a file in mail_dir: %s", strerror(errno));
		return MAIL_DEFERRED;
	}
	int bad = write_all(fd, text, len) != 0 || fsync(fd) != 0;
	int saved = errno;
	if (close(fd) != 0 && !bad) {
		bad = 1;
		saved = errno;
	}
	if (bad || rename(tmp, final) != 0) {
		snprintf(err, errsz, "cannot write the mail file: %s",
			 strerror(bad ? saved : errno));
		unlink(tmp);
		return MAIL_DEFERRED;
	}
	int dir = open(t->cfg->mail_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 || fsync(dir) != 0) {
		snprintf(err, errsz, "cannot flush mail_dir: %s", strerror(errno));
		if (dir >= 0)
			close(dir);
		return MAIL_DEFERRED;
	}
	close(dir);
	return MAIL_SENT;
}

struct upload {
	const char *text;
	size_t len, off;
};

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb, left = u->len - u->off;
	if (n > left)
		n = left;
	memcpy(dst, u->text + u->off, n);
	u->off += n;
	return n;
}

static enum mail_result smtp_send(struct mail_transport *t, const char *from, const char *rcpt,
				  const char *text, size_t len, char *err, size_t errsz)
{
	const struct config *cfg = t->cfg;
	CURL *c = t->curl;
	struct upload u = {text, len, 0};
	char addr[300];
	struct curl_slist *rcpts = NULL;
	long code = 0;
	enum mail_result result = MAIL_RETRY;
	curl_usessl ssl = CURLUSESSL_TRY;
	if (strcmp(cfg->smtp_starttls, "off") == 0)
		ssl = CURLUSESSL_NONE;
	else if (strcmp(cfg->smtp_starttls, "required") == 0)
		ssl = CURLUSESSL_ALL;
	snprintf(addr, sizeof addr, "<%s>", rcpt);
	rcpts = curl_slist_append(NULL, addr);
	snprintf(addr, sizeof addr, "<%s>", from);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)ssl);
	if (cfg->smtp_user[0] != '\0') {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->smtp_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->smtp_timeout);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		result = MAIL_SENT;
	} else {
		/* 5xx is the relay's final word; 4xx may pass later; no answer,
		 * 421 (the relay closing) or our login refused is our side */
		if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED)
			result = MAIL_FAILED;
		else if (code == 0 || code == 421 || rc == CURLE_LOGIN_DENIED)
			result = MAIL_DEFERRED;
		else
			result = MAIL_RETRY;
		snprintf(err, errsz, "smtp: %s (reply %ld)", curl_easy_strerror(rc), code);
	}
	curl_slist_free_all(rcpts);
	return result;
}

enum mail_result mail_transport_send(struct mail_transport *t, const char *id, const char *from,
				     const char *rcpt, const char *text, size_t len, char *err,
				     size_t errsz)
{
	err[0] = '\0';
	if (t->curl != NULL)
		return smtp_send(t, from, rcpt, text, len, err, errsz);
	return file_send(t, id, text, len, err, errsz);
}
