/* What a request reads of the configuration, replaced whole by SIGHUP:
 * the configuration and the JWT keys made from it. A request holds the
 * settings it started with to its end, so that a reload never changes a
 * request midway; replaced settings are freed when the last request that
 * holds them ends. */
#ifndef TWOTIER_SETTINGS_H
#define TWOTIER_SETTINGS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/jwt_token.h"
#include "auth/totp.h"
#include "core/config.h"

/* jwt_verify_keys names at most this many keys */
#define SETTINGS_VERIFY_KEYS 4

struct settings {
	struct config cfg;
	/* keys[0] signs our tokens; keys[1 .. n_own - 1] are our issuer's
	 * verify-only keys (jwt_verify_keys); an external issuer's key comes
	 * last. keys[0 .. n_own - 1] are published (the JWKS). */
	const struct jwt_key *keys[2 + SETTINGS_VERIFY_KEYS];
	size_t n_keys, n_own;
	const struct jwt_key *external; /* the external issuer's key, or NULL */
	struct jwt_key store[2 + SETTINGS_VERIFY_KEYS];
	/* seals TOTP secrets (mfa_key), when has_mfa_key */
	unsigned char mfa_key[TOTP_KEY_LEN];
	bool has_mfa_key;
	unsigned holders; /* requests holding these, and the slot while in force */
};

/* Reads the file at path and the environment's overrides, then loads the
 * keys they name. running is the configuration in force (NULL at start):
 * a key that only a restart changes must equal it there. Returns new
 * settings (the caller owns them until settings_slot_open or
 * settings_replace takes them; settings_free otherwise), or NULL with the
 * reason in err. */
struct settings *settings_load(const char *path, const struct config *running, char *err,
			       size_t errsz);
void settings_free(struct settings *s);

/* The settings in force, shared by the worker threads. */
struct settings_slot {
	pthread_mutex_t lock;
	struct settings *current;
};

/* Puts first in force (takes it). */
void settings_slot_open(struct settings_slot *slot, struct settings *first);
/* After the last request: frees the settings in force. */
void settings_slot_close(struct settings_slot *slot);

/* The settings in force, which stay valid until settings_release. */
const struct settings *settings_hold(struct settings_slot *slot);
void settings_release(struct settings_slot *slot, const struct settings *s);

/* Puts next in force (takes it); the settings it replaces are freed once
 * no request holds them. */
void settings_replace(struct settings_slot *slot, struct settings *next);

#endif
