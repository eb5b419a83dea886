#include "api/settings.h"

#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loads the keys that jwt_verify_keys names (comma separated paths) after
 * the signing key. Returns 0, or -1 with err. */
static int verify_keys_load(struct settings *s, char *err, size_t errsz)
{
	const struct config *cfg = &s->cfg;
	const char *p = cfg->jwt_verify_keys;
	char path[CONFIG_STR], why[200];
	while (*p != '\0') {
		p += strspn(p, " ,");
		size_t len = strcspn(p, ",");
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0)
			break;
		if (s->n_keys == 1 + SETTINGS_VERIFY_KEYS) {
			snprintf(err, errsz, "jwt_verify_keys: at most %d keys",
				 SETTINGS_VERIFY_KEYS);
			return -1;
		}
		if (len >= sizeof path) {
			snprintf(err, errsz, "jwt_verify_keys: a path is too long");
			return -1;
		}
		memcpy(path, p, len);
		path[len] = '\0';
		p += len;
		p += strspn(p, " ");
		struct jwt_key *k = &s->store[s->n_keys];
		if (jwt_key_load_public(k, path, cfg->jwt_issuer, cfg->jwt_audience, why,
					sizeof why) != 0) {
			snprintf(err, errsz, "jwt_verify_keys: %s: %s", path, why);
			return -1;
		}
		s->keys[s->n_keys++] = k;
		/* a kid names one key: a token could name the wrong one */
		for (size_t i = 0; i + 1 < s->n_keys; i++) {
			if (strcmp(s->keys[i]->kid, k->kid) == 0) {
				snprintf(err, errsz, "jwt_verify_keys: %s is %s", path,
					 i == 0 ? "the signing key" : "listed twice");
				return -1;
			}
		}
	}
	return 0;
}

static int keys_load(struct settings *s, char *err, size_t errsz)
{
	const struct config *cfg = &s->cfg;
	char why[256];
	if (jwt_key_load(&s->store[0], cfg->jwt_alg, cfg->jwt_private_key, cfg->jwt_public_key,
			 cfg->jwt_secret, cfg->jwt_issuer, cfg->jwt_audience, why,
			 sizeof why) != 0) {
		snprintf(err, errsz, "token signing key: %s", why);
		return -1;
	}
	s->keys[s->n_keys++] = &s->store[0];
	if (s->store[0].alg != JWT_HS256 && s->store[0].private_pem == NULL) {
		snprintf(err, errsz, "jwt_private_key is needed to sign tokens");
		return -1;
	}
	if (verify_keys_load(s, err, errsz) != 0)
		return -1;
	s->n_own = s->n_keys;
	if (cfg->ext_issuer[0] == '\0')
		return 0;
	/* the issuer tells ours from theirs (auth_credential) */
	if (strcmp(cfg->ext_issuer, cfg->jwt_issuer) == 0) {
		snprintf(err, errsz, "ext_issuer must differ from jwt_issuer");
		return -1;
	}
	struct jwt_key *ext = &s->store[s->n_keys];
	if (jwt_key_load(ext, cfg->ext_alg, NULL, cfg->ext_public_key, NULL, cfg->ext_issuer,
			 cfg->ext_audience, why, sizeof why) != 0) {
		snprintf(err, errsz, "external issuer key: %s", why);
		return -1;
	}
	s->keys[s->n_keys++] = s->external = ext;
	return 0;
}

/* The key that seals TOTP secrets: without one no second factor is set up
 * or checked, so none can be required. */
static int mfa_key_load(struct settings *s, char *err, size_t errsz)
{
	char why[300];
	if (s->cfg.mfa_key[0] == '\0') {
		if (s->cfg.mfa_required) {
			snprintf(err, errsz, "mfa_required needs mfa_key");
			return -1;
		}
		return 0;
	}
	if (totp_key_load(s->cfg.mfa_key, s->mfa_key, why, sizeof why) != 0) {
		snprintf(err, errsz, "mfa_key: %s", why);
		return -1;
	}
	s->has_mfa_key = true;
	return 0;
}

struct settings *settings_load(const char *path, const struct config *running, char *err,
			       size_t errsz)
{
	struct settings *s = xcalloc(1, sizeof *s);
	char why[512];
	const char *changed;
	config_defaults(&s->cfg);
	if (config_load(&s->cfg, path, err, errsz) != 0 ||
	    config_apply_env(&s->cfg, (const char *(*)(const char *))getenv, err, errsz) != 0)
		goto fail;
	if (running != NULL && (changed = config_restart_key_changed(running, &s->cfg)) != NULL) {
		snprintf(err, errsz, "%s: %s changed, which takes a restart", path, changed);
		goto fail;
	}
	if (keys_load(s, why, sizeof why) != 0 || mfa_key_load(s, why, sizeof why) != 0) {
		snprintf(err, errsz, "%s: %s", path, why);
		goto fail;
	}
	return s;
fail:
	settings_free(s);
	return NULL;
}

void settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof s->store / sizeof s->store[0]; i++)
		jwt_key_free(&s->store[i]);
	explicit_bzero(&s->cfg, sizeof s->cfg); /* the database and SMTP passwords */
	explicit_bzero(s->mfa_key, sizeof s->mfa_key);
	free(s);
}

void settings_slot_open(struct settings_slot *slot, struct settings *first)
{
	pthread_mutex_init(&slot->lock, NULL);
	first->holders = 1;
	slot->current = first;
}

void settings_slot_close(struct settings_slot *slot)
{
	settings_release(slot, slot->current);
	slot->current = NULL;
	pthread_mutex_destroy(&slot->lock);
}

const struct settings *settings_hold(struct settings_slot *slot)
{
	pthread_mutex_lock(&slot->lock);
	struct settings *s = slot->current;
	s->holders++;
	pthread_mutex_unlock(&slot->lock);
	return s;
}

void settings_release(struct settings_slot *slot, const struct settings *held)
{
	/* the slot hands out only settings it owns */
	struct settings *s = (struct settings *)held;
	pthread_mutex_lock(&slot->lock);
	bool last = --s->holders == 0;
	pthread_mutex_unlock(&slot->lock);
	if (last)
		settings_free(s);
}

void settings_replace(struct settings_slot *slot, struct settings *next)
{
	pthread_mutex_lock(&slot->lock);
	struct settings *old = slot->current;
	next->holders = 1;
	slot->current = next;
	pthread_mutex_unlock(&slot->lock);
	settings_release(slot, old);
}
