#include "core/config.h"

#include "core/xalloc.h"

#ifndef TWOTIER_SQL_DIR
#define TWOTIER_SQL_DIR "/usr/local/share/twotier/sql"
#endif

#ifndef TWOTIER_MAIL_TEMPLATES
#define TWOTIER_MAIL_TEMPLATES "/usr/local/share/twotier/mail"
#endif

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { KEY_STR, KEY_INT, KEY_LONG, KEY_BOOL, KEY_MODE, KEY_PATH };

static const struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;	     /* KEY_STR: buffer size */
	long min, max;	     /* numbers */
	const char *choices; /* KEY_STR: "a|b|c" the only values allowed, or NULL */
	/* read per request, so that SIGHUP can change it; every other key
	 * shapes what runs (sockets, threads, the database, the mail sender)
	 * and changes at a restart */
	bool reloads;
} keys[] = {
#define STRC(k, choices)                                                                           \
	{                                                                                          \
#k, KEY_STR, offsetof(struct config, k), sizeof(((struct config *)0)->k), 0, 0,    \
		    choices, false                                                                 \
	}
#define STR(k) STRC(k, NULL)
/* a key that SIGHUP reloads */
#define RELOADS(...)                                                                               \
	{                                                                                          \
		__VA_ARGS__, true                                                                  \
	}
#define STR_RELOADS(k, choices)                                                                    \
	RELOADS(#k, KEY_STR, offsetof(struct config, k), sizeof(((struct config *)0)->k), 0, 0,    \
		choices)
    STR(listen),
    {"base_path", KEY_PATH, offsetof(struct config, base_path),
     sizeof(((struct config *)0)->base_path), 0, 0, NULL, false},
    {"socket_mode", KEY_MODE, offsetof(struct config, socket_mode), 0, 0, 0777, NULL, false},
    STR(socket_user),
    STR(socket_group),
    {"threads", KEY_INT, offsetof(struct config, threads), 0, 1, 256, NULL, false},
    {"backlog", KEY_INT, offsetof(struct config, backlog), 0, 1, 65535, NULL, false},
    {"max_connections", KEY_INT, offsetof(struct config, max_connections), 0, 16, 65536, NULL,
     false},
    {"hash_concurrency", KEY_INT, offsetof(struct config, hash_concurrency), 0, 0, 256, NULL,
     false},
    {"purge_interval", KEY_INT, offsetof(struct config, purge_interval), 0, 0, 86400, NULL, false},
    STR(db_host),
    {"db_port", KEY_INT, offsetof(struct config, db_port), 0, 1, 65535, NULL, false},
    STR(db_socket),
    STR(db_user),
    STR(db_password),
    STR(db_name),
    STR(sql_dir),
    {"body_limit", KEY_LONG, offsetof(struct config, body_limit), 0, 1024, 16L * 1024 * 1024, NULL,
     false},
    STR_RELOADS(public_base_url, NULL),
    STRC(mail_transport, "file|smtp"),
    STR(mail_dir),
    STR(mail_from),
    STR(mail_templates),
    {"mail_sender", KEY_BOOL, offsetof(struct config, mail_sender), 0, 0, 0, NULL, false},
    {"mail_poll_ms", KEY_INT, offsetof(struct config, mail_poll_ms), 0, 10, 60000, NULL, false},
    {"mail_max_attempts", KEY_INT, offsetof(struct config, mail_max_attempts), 0, 1, 100, NULL,
     false},
    {"mail_retry_base", KEY_INT, offsetof(struct config, mail_retry_base), 0, 1, 86400, NULL,
     false},
    {"mail_retry_max", KEY_INT, offsetof(struct config, mail_retry_max), 0, 1, 604800, NULL, false},
    {"mail_lease", KEY_INT, offsetof(struct config, mail_lease), 0, 5, 86400, NULL, false},
    STR(smtp_url),
    STRC(smtp_starttls, "off|try|required"),
    {"smtp_timeout", KEY_INT, offsetof(struct config, smtp_timeout), 0, 1, 600, NULL, false},
    STR(smtp_user),
    STR(smtp_password),
    STR_RELOADS(webmail_domains, NULL),
    STR_RELOADS(platform_email_domains, NULL),
    RELOADS("signup_open", KEY_BOOL, offsetof(struct config, signup_open), 0, 0, 0, NULL),
    {"shutdown_timeout", KEY_INT, offsetof(struct config, shutdown_timeout), 0, 1, 300, NULL,
     false},
    STR_RELOADS(log_level, "debug|info|warn|error"),
    STR_RELOADS(jwt_alg, "ES256|RS256|HS256"),
    STR_RELOADS(jwt_private_key, NULL),
    STR_RELOADS(jwt_public_key, NULL),
    STR_RELOADS(jwt_secret, NULL),
    STR_RELOADS(jwt_issuer, NULL),
    STR_RELOADS(jwt_audience, NULL),
    STR_RELOADS(jwt_verify_keys, NULL),
    RELOADS("jwt_ttl", KEY_INT, offsetof(struct config, jwt_ttl), 0, 60, 86400, NULL),
    RELOADS("session_idle_timeout", KEY_INT, offsetof(struct config, session_idle_timeout), 0, 300,
	    30 * 86400, NULL),
    RELOADS("session_max_age", KEY_INT, offsetof(struct config, session_max_age), 0, 3600,
	    366 * 86400, NULL),
    STR_RELOADS(ext_issuer, NULL),
    STR_RELOADS(ext_audience, NULL),
    STR_RELOADS(ext_alg, "ES256|RS256"),
    STR_RELOADS(ext_public_key, NULL),
    STR_RELOADS(cors_origins, NULL),
    STR_RELOADS(trusted_proxies, NULL),
    {"webhook_threads", KEY_INT, offsetof(struct config, webhook_threads), 0, 0, 64, NULL, false},
    {"webhook_allow_http", KEY_BOOL, offsetof(struct config, webhook_allow_http), 0, 0, 0, NULL,
     false},
    STR(webhook_allow_private),
    STR(webhook_resolve),
    {"webhook_max_attempts", KEY_INT, offsetof(struct config, webhook_max_attempts), 0, 1, 100,
     NULL, false},
    {"webhook_timeout", KEY_INT, offsetof(struct config, webhook_timeout), 0, 1, 60, NULL, false},
    {"webhook_lease", KEY_INT, offsetof(struct config, webhook_lease), 0, 0, 86400, NULL, false},
    {"event_retention_days", KEY_INT, offsetof(struct config, event_retention_days), 0, 1, 3650,
     NULL, false},
    STR_RELOADS(mfa_key, NULL),
    STR_RELOADS(mfa_issuer, NULL),
    RELOADS("mfa_required", KEY_BOOL, offsetof(struct config, mfa_required), 0, 0, 0, NULL),
    RELOADS("invitation_ttl", KEY_INT, offsetof(struct config, invitation_ttl), 0, 3600, 90 * 86400,
	    NULL),
#undef STR
#undef STRC
#undef STR_RELOADS
#undef RELOADS
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->listen, sizeof cfg->listen, "unix:/run/twotier/twotier.sock");
	cfg->socket_mode = 0660;
	cfg->threads = 4;
	cfg->backlog = 1024;
	cfg->max_connections = 1024;
	cfg->hash_concurrency = 0;
	cfg->purge_interval = 300;
	snprintf(cfg->db_host, sizeof cfg->db_host, "localhost");
	cfg->db_port = 3306;
	snprintf(cfg->db_user, sizeof cfg->db_user, "twotier");
	snprintf(cfg->db_name, sizeof cfg->db_name, "twotier");
	snprintf(cfg->sql_dir, sizeof cfg->sql_dir, "%s", TWOTIER_SQL_DIR);
	cfg->body_limit = 64 * 1024;
	snprintf(cfg->public_base_url, sizeof cfg->public_base_url, "https://localhost");
	snprintf(cfg->mail_transport, sizeof cfg->mail_transport, "file");
	snprintf(cfg->mail_dir, sizeof cfg->mail_dir, "/var/spool/twotier/mail");
	snprintf(cfg->mail_from, sizeof cfg->mail_from, "twotier <no-reply@localhost>");
	snprintf(cfg->mail_templates, sizeof cfg->mail_templates, "%s", TWOTIER_MAIL_TEMPLATES);
	cfg->mail_sender = true;
	cfg->mail_poll_ms = 1000;
	cfg->mail_max_attempts = 8;
	cfg->mail_retry_base = 30;
	cfg->mail_retry_max = 3600;
	cfg->mail_lease = 120;
	cfg->invitation_ttl = 14 * 86400;
	snprintf(cfg->smtp_url, sizeof cfg->smtp_url, "smtp://127.0.0.1:25");
	snprintf(cfg->smtp_starttls, sizeof cfg->smtp_starttls, "try");
	cfg->smtp_timeout = 30;
	/* SPEC §3's list; "name.*" covers the country variants (util.h) */
	snprintf(cfg->webmail_domains, sizeof cfg->webmail_domains,
		 "gmail.com, googlemail.com, yahoo.*, ymail.com, icloud.com, me.com, mac.com, "
		 "aol.com, outlook.*, hotmail.*, live.*, msn.com");
	cfg->signup_open = true;
	cfg->shutdown_timeout = 5;
	snprintf(cfg->log_level, sizeof cfg->log_level, "info");
	snprintf(cfg->jwt_alg, sizeof cfg->jwt_alg, "ES256");
	snprintf(cfg->jwt_issuer, sizeof cfg->jwt_issuer, "twotier");
	snprintf(cfg->jwt_audience, sizeof cfg->jwt_audience, "twotier-api");
	cfg->jwt_ttl = 900;
	/* a working day without a password after the first; a month at most */
	cfg->session_idle_timeout = 12 * 3600;
	cfg->session_max_age = 30 * 86400;
	snprintf(cfg->ext_alg, sizeof cfg->ext_alg, "RS256");
	snprintf(cfg->mfa_issuer, sizeof cfg->mfa_issuer, "twotier");
	cfg->webhook_threads = 2;
	cfg->webhook_max_attempts = 10;
	cfg->webhook_timeout = 10;
	cfg->event_retention_days = 30;
}

int config_webhook_lease(const struct config *cfg)
{
	return cfg->webhook_lease > 0 ? cfg->webhook_lease : cfg->webhook_timeout + 30;
}

bool config_origin_allowed(const struct config *cfg, const char *origin)
{
	size_t n = origin ? strlen(origin) : 0;
	const char *p = cfg->cors_origins;
	if (n == 0)
		return false;
	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, " ,");
		if (len == n && strncmp(p, origin, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool choice_ok(const char *choices, const char *value)
{
	size_t n = strlen(value);
	while (*choices != '\0') {
		size_t len = strcspn(choices, "|");
		if (len == n && strncmp(choices, value, n) == 0)
			return true;
		choices += len + (choices[len] == '|');
	}
	return false;
}

/* Sets one key; returns NULL or a reason. */
static const char *set_key(struct config *cfg, const struct key *k, const char *value)
{
	char *field = (char *)cfg + k->offset;
	char *end = NULL;
	long n;
	switch (k->type) {
	case KEY_STR:
		if (strlen(value) >= k->size)
			return "value is too long";
		if (k->choices != NULL && !choice_ok(k->choices, value))
			return "not one of the allowed values";
		memcpy(field, value, strlen(value) + 1);
		return NULL;
	case KEY_PATH:
		/* "" or "/a/b": segments of unreserved characters, no trailing '/' */
		if (strlen(value) >= k->size)
			return "value is too long";
		for (const char *v = value; *v != '\0'; v++)
			if (*v == '/' ? v[1] == '/' || v[1] == '\0'
				      : !(isalnum((unsigned char)*v) || strchr("-._~", *v) != NULL))
				return "expected a path such as /api: '/' and segments of letters, "
				       "digits, - . _ ~, no '/' at the end";
		if (value[0] != '\0' && value[0] != '/')
			return "expected a path that starts with '/', such as /api";
		memcpy(field, value, strlen(value) + 1);
		return NULL;
	case KEY_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "on") == 0)
			*(bool *)field = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
			 strcmp(value, "off") == 0)
			*(bool *)field = false;
		else
			return "expected true or false";
		return NULL;
	case KEY_MODE:
		errno = 0;
		n = strtol(value, &end, 8);
		if (errno || end == value || *end != '\0' || n < k->min || n > k->max)
			return "expected an octal mode such as 0660";
		*(unsigned *)field = (unsigned)n;
		return NULL;
	case KEY_INT:
	case KEY_LONG:
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0')
			return "expected an integer";
		if (n < k->min || n > k->max)
			return "integer out of range";
		if (k->type == KEY_INT)
			*(int *)field = (int)n;
		else
			*(long *)field = n;
		return NULL;
	}
	return "unknown type";
}

int config_parse(struct config *cfg, const char *text, const char *name, char *err, size_t errsz)
{
	int rc = -1;
	unsigned line = 0;
	char *copy = xstrdup(text ? text : "");
	char *cursor = copy;
	if (text == NULL) {
		snprintf(err, errsz, "%s: no text", name);
		goto out;
	}
	/* strtok_r would skip empty lines and so miscount; walk by hand. */
	while (cursor != NULL) {
		char *nl = strchr(cursor, '\n');
		if (nl != NULL)
			*nl = '\0';
		line++;
		char *s = trim(cursor);
		cursor = nl ? nl + 1 : NULL;
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errsz, "%s:%u: expected 'key = value'", name, line);
			goto out;
		}
		*eq = '\0';
		char *key = trim(s);
		char *value = trim(eq + 1);
		const struct key *k = NULL;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strcmp(keys[i].name, key) == 0)
				k = &keys[i];
		if (k == NULL) {
			snprintf(err, errsz, "%s:%u: unknown key '%.64s'", name, line, key);
			goto out;
		}
		const char *why = set_key(cfg, k, value);
		if (why != NULL) {
			snprintf(err, errsz, "%s:%u: %s: %s%s%s", name, line, key, why,
				 k->choices ? ": " : "", k->choices ? k->choices : "");
			goto out;
		}
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	int rc = -1;
	char *text = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	size_t cap = 4096, len = 0, n;
	text = xmalloc(cap);
	while ((n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			if (cap >= 1024 * 1024) {
				snprintf(err, errsz, "%s: file is larger than 1 MiB", path);
				goto out;
			}
			cap *= 2;
			text = xrealloc(text, cap);
		}
	}
	if (ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errsz, "%s: file contains a NUL byte", path);
		goto out;
	}
	rc = config_parse(cfg, text, path, err, errsz);
out:
	if (f != NULL)
		fclose(f);
	free(text);
	return rc;
}

int config_apply_env(struct config *cfg, const char *(*getenv_fn)(const char *), char *err,
		     size_t errsz)
{
	static const struct {
		const char *env;
		const char *key;
	} overrides[] = {
	    {"TWOTIER_DB_PASSWORD", "db_password"},
	    {"TWOTIER_DB_HOST", "db_host"},
	    {"TWOTIER_DB_USER", "db_user"},
	    {"TWOTIER_DB_SOCKET", "db_socket"},
	    {"TWOTIER_DB_NAME", "db_name"},
	    {"TWOTIER_JWT_SECRET", "jwt_secret"},
	    {"TWOTIER_JWT_PRIVATE_KEY_FILE", "jwt_private_key"},
	    {"TWOTIER_JWT_PUBLIC_KEY_FILE", "jwt_public_key"},
	    {"TWOTIER_MAIL_TRANSPORT", "mail_transport"},
	    {"TWOTIER_SMTP_URL", "smtp_url"},
	    {"TWOTIER_SMTP_STARTTLS", "smtp_starttls"},
	    {"TWOTIER_SMTP_USER", "smtp_user"},
	    {"TWOTIER_SMTP_PASSWORD", "smtp_password"},
	    {"TWOTIER_MFA_KEY_FILE", "mfa_key"},
	};
	for (size_t i = 0; i < sizeof overrides / sizeof overrides[0]; i++) {
		const char *value = getenv_fn(overrides[i].env);
		if (value == NULL)
			continue;
		for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++) {
			if (strcmp(keys[j].name, overrides[i].key) != 0)
				continue;
			const char *why = set_key(cfg, &keys[j], value);
			if (why != NULL) {
				snprintf(err, errsz, "environment %s: %s", overrides[i].env, why);
				return -1;
			}
		}
	}
	return 0;
}

/* The bytes of a key's value in cfg, for comparing two configurations. */
static size_t key_bytes(const struct key *k)
{
	switch (k->type) {
	case KEY_STR:
	case KEY_PATH: return k->size;
	case KEY_INT: return sizeof(int);
	case KEY_LONG: return sizeof(long);
	case KEY_BOOL: return sizeof(bool);
	case KEY_MODE: return sizeof(unsigned);
	}
	return 0;
}

const char *config_restart_key_changed(const struct config *running, const struct config *next)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		const char *a = (const char *)running + k->offset,
			   *b = (const char *)next + k->offset;
		bool differ = k->type == KEY_STR || k->type == KEY_PATH
				  ? strcmp(a, b) != 0
				  : memcmp(a, b, key_bytes(k)) != 0;
		if (!k->reloads && differ)
			return k->name;
	}
	return NULL;
}
