/* Configuration: one file of `key = value` lines read at start, then
 * environment overrides for secrets. A bad file stops the start with a
 * message naming the file and line. SIGHUP reads it again: the keys read
 * per request take their new values (twotier.conf(5) lists them), the
 * others only at a restart. */
#ifndef TWOTIER_CONFIG_H
#define TWOTIER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_STR 256

struct config {
	char listen[CONFIG_STR]; /* "unix:/path" or "127.0.0.1:9000" */
	/* the path the web server mounts the API at ("/api"), "" at the root */
	char base_path[CONFIG_STR];
	unsigned socket_mode; /* permissions of a unix socket */
	/* owner and group of a unix socket the service binds; "": its own */
	char socket_user[CONFIG_STR], socket_group[CONFIG_STR];
	int threads;
	int backlog;
	int max_connections;  /* FastCGI connections open at once (kept ones included) */
	int hash_concurrency; /* password hashes at once; 0: half the threads, at least 1 */
	int purge_interval;   /* seconds between purges of expired rows; 0: none */
	char db_host[CONFIG_STR];
	int db_port;
	char db_socket[CONFIG_STR];
	char db_user[CONFIG_STR];
	char db_password[CONFIG_STR];
	char db_name[CONFIG_STR];
	char sql_dir[CONFIG_STR];
	long body_limit; /* bytes */
	/* links in mails: {public_base_url}/verify-email?token=... */
	char public_base_url[CONFIG_STR];
	/* mail (SPEC §6): the outbox's sender and its transport */
	char mail_transport[8]; /* "file" | "smtp" */
	char mail_dir[CONFIG_STR];
	char mail_from[CONFIG_STR];	 /* "Name <address>" or an address */
	char mail_templates[CONFIG_STR]; /* folder of <language>/<name>.txt */
	bool mail_sender;		 /* this process runs a sender thread */
	int mail_poll_ms;		 /* the sender looks for due mail this often */
	int mail_max_attempts;		 /* then the mail is failed */
	int mail_retry_base;		 /* seconds before the 2nd attempt; doubles each time */
	int mail_retry_max;		 /* seconds, the longest wait between attempts */
	int mail_lease;			 /* seconds a claimed mail stays with its sender */
	char smtp_url[CONFIG_STR];	 /* smtp://host:port (or smtps://) */
	char smtp_starttls[12];		 /* "off" | "try" | "required" */
	int smtp_timeout;		 /* seconds, connect and whole transfer */
	char smtp_user[CONFIG_STR];
	char smtp_password[CONFIG_STR];
	/* the platform tenant's users may have addresses at these domains
	 * (comma-separated, sub-domains included), not only at its own */
	char platform_email_domains[1024];
	/* primary contacts at these mail services are refused (SPEC §3) */
	char webmail_domains[1024];
	bool signup_open;
	int shutdown_timeout; /* seconds */
	char log_level[16];
	/* tokens we issue */
	char jwt_alg[16];
	char jwt_private_key[CONFIG_STR];
	char jwt_public_key[CONFIG_STR];
	char jwt_secret[CONFIG_STR];
	char jwt_issuer[CONFIG_STR];
	char jwt_audience[CONFIG_STR];
	/* public keys (PEM files, comma separated) that verify our tokens and
	 * are published, but sign none: the previous key after a rotation */
	char jwt_verify_keys[1024];
	int jwt_ttl;
	/* a session (refresh tokens) ends this long after its last refresh,
	 * and this long after its sign-in whatever happens (seconds) */
	int session_idle_timeout, session_max_age;
	/* an external identity provider whose tokens are accepted */
	char ext_issuer[CONFIG_STR];
	char ext_audience[CONFIG_STR];
	char ext_alg[16];
	char ext_public_key[CONFIG_STR];
	/* the second factor: the file of the key that seals TOTP secrets,
	 * the issuer authenticator apps show, and whether every global admin,
	 * admin agent and operator of every tenant must have one */
	char mfa_key[CONFIG_STR];
	char mfa_issuer[64];
	bool mfa_required;
	/* webhooks: threads delivering them on each host; http allowed (for a
	 * receiver on this machine); private ranges allowed (CIDRs, comma
	 * separated); a test-only map of names to addresses ("name=addr,...");
	 * attempts before a delivery fails; seconds a delivery may take;
	 * seconds a claimed delivery stays with its sender (0: see
	 * config_webhook_lease) */
	int webhook_threads;
	bool webhook_allow_http;
	char webhook_allow_private[256];
	char webhook_resolve[512];
	int webhook_max_attempts;
	int webhook_timeout;
	int webhook_lease;
	int event_retention_days; /* events and their deliveries are kept this long */
	int invitation_ttl;	  /* seconds a provider's invitation can be accepted */
	/* addresses of proxies in front of nginx whose X-Forwarded-For is
	 * believed (comma separated); from any other, REMOTE_ADDR is the
	 * client */
	char trusted_proxies[1024];
	/* front ends on other origins, comma separated */
	char cors_origins[1024];
};

/* Fills cfg with the defaults. */
void config_defaults(struct config *cfg);

/* Parses text (NUL-terminated) into cfg, which should hold the defaults.
 * name labels errors. Returns 0, or -1 with "name:LINE: reason" in err. */
int config_parse(struct config *cfg, const char *text, const char *name, char *err, size_t errsz);

/* The seconds a claimed webhook delivery stays with its sender:
 * webhook_lease, or webhook_timeout + 30 when that is 0. */
int config_webhook_lease(const struct config *cfg);

/* True when origin (borrowed, may be NULL) is one of cors_origins. */
bool config_origin_allowed(const struct config *cfg, const char *origin);

/* Reads and parses a file. Returns 0, or -1 with the reason in err. */
int config_load(struct config *cfg, const char *path, char *err, size_t errsz);

/* The name of the first key that differs between running and next and
 * that only a restart changes, or NULL when SIGHUP can apply next. */
const char *config_restart_key_changed(const struct config *running, const struct config *next);

/* Applies TWOTIER_DB_PASSWORD, TWOTIER_DB_HOST, TWOTIER_DB_USER,
 * TWOTIER_DB_SOCKET, TWOTIER_DB_NAME, TWOTIER_JWT_SECRET,
 * TWOTIER_JWT_PRIVATE_KEY_FILE, TWOTIER_JWT_PUBLIC_KEY_FILE,
 * TWOTIER_MAIL_TRANSPORT, TWOTIER_SMTP_URL, TWOTIER_SMTP_STARTTLS,
 * TWOTIER_SMTP_USER, TWOTIER_SMTP_PASSWORD, TWOTIER_MFA_KEY_FILE from the environment (env lookup
 * is given so tests can pass their own). Returns 0, or -1 with err set when a value does not fit.
 */
int config_apply_env(struct config *cfg, const char *(*getenv_fn)(const char *), char *err,
		     size_t errsz);

#endif
