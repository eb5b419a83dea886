/* /v1/users: an admin agent's view of its tenant's users. */
#include "api/app.h"
#include "api/settings.h"
#include "api/handlers.h"
#include "auth/auth.h"
#include "auth/jwt_token.h"
#include "auth/password.h"
#include "core/config.h"
#include "domain/user.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROLE_NAMES_MAX 6

const struct json_field user_create_schema[] = {
    {"email", JSON_STRING, true, 254, NULL},
    {"password", JSON_STRING, true, PASSWORD_MAX, NULL},
    {"firstName", JSON_STRING, true, 100, NULL},
    {"lastName", JSON_STRING, true, 100, NULL},
    {"roles", JSON_STRING_ARRAY, true, ROLE_NAMES_MAX, NULL},
    {"externalSubject", JSON_STRING, false, 255, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

const struct json_field user_update_schema[] = {
    {"roles", JSON_STRING_ARRAY, false, ROLE_NAMES_MAX, NULL},
    {"disabled", JSON_BOOL, false, 0, NULL},
    /* null unlinks */
    {"externalSubject", JSON_STRING, false, 255, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* An external identity provider's token for /v1/me/external-identity: its
 * size is the one a bearer token may have. */
const struct json_field external_identity_schema[] = {
    {"token", JSON_STRING, true, JWT_MAX_BYTES, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

static bool ascii_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* An external subject is kept as the column's ASCII and compared byte for
 * byte: 1 to 255 printable characters, not only blanks. */
static bool external_subject_valid(const char *subject)
{
	return valid_text(subject, 1, 255) && ascii_printable(subject);
}

static void check_external_subject(struct problem *p, const char *subject)
{
	if (subject != NULL && !external_subject_valid(subject))
		problem_add_field(p, "externalSubject", "invalid",
				  "must be 1 to 255 printable ASCII characters");
}

void check_person(struct problem *p, const char *prefix, const char *email, const char *password,
		  const char *first, const char *last)
{
	char f[64];
#define FIELD(name) (snprintf(f, sizeof f, "%s%s", prefix, name), f)
	if (!valid_email(email))
		problem_add_field(p, FIELD("email"), "invalid", "must be an e-mail address");
	if (strlen(password) < PASSWORD_MIN)
		problem_add_field(p, FIELD("password"), "too_short",
				  "must be at least %d characters", PASSWORD_MIN);
	else if (text_blank(password))
		problem_add_field(p, FIELD("password"), "invalid",
				  "must contain something other than blanks");
	if (!valid_text(first, 1, 100))
		problem_add_field(p, FIELD("firstName"), "invalid",
				  "must be 1 to 100 printable characters");
	if (!valid_text(last, 1, 100))
		problem_add_field(p, FIELD("lastName"), "invalid",
				  "must be 1 to 100 printable characters");
#undef FIELD
}

/* The configured external issuer, or NULL. */
static const char *external_issuer(const struct ctx *c)
{
	return c->settings->external ? c->settings->external->issuer : NULL;
}

void check_new_password(struct problem *p, const char *field, const char *password,
			const struct user_view *u)
{
	const char *why;
	if (strlen(password) < PASSWORD_MIN)
		problem_add_field(p, field, "too_short", "must be at least %d characters",
				  PASSWORD_MIN);
	else if (text_blank(password))
		problem_add_field(p, field, "invalid", "must contain something other than blanks");
	else if ((why = user_password_personal(password, u, strchr(u->email, '@') + 1)) != NULL)
		problem_add_field(p, field, "personal", "%s", why);
}

static cJSON *user_json(const struct ctx *c, const void *item)
{
	const struct user_view *u = item;
	char etag[32];
	cJSON *o = cJSON_CreateObject();
	(void)c;
	etag_format(u->version, etag);
	cJSON_AddStringToObject(o, "id", u->id);
	cJSON_AddStringToObject(o, "tenantId", u->tenant_id);
	cJSON_AddStringToObject(o, "email", u->email);
	cJSON_AddStringToObject(o, "firstName", u->first_name);
	cJSON_AddStringToObject(o, "lastName", u->last_name);
	cJSON_AddItemToObject(o, "roles", roles_to_json(u->roles));
	cJSON_AddBoolToObject(o, "disabled", u->disabled);
	if (u->external_subject[0] != '\0')
		cJSON_AddStringToObject(o, "externalSubject", u->external_subject);
	else
		cJSON_AddNullToObject(o, "externalSubject");
	cJSON_AddStringToObject(o, "createdAt", u->created_at);
	cJSON_AddStringToObject(o, "updatedAt", u->updated_at);
	cJSON_AddStringToObject(o, "etag", etag);
	return o;
}

static int respond_user(struct ctx *c, int status, const struct user_view *u)
{
	char etag[32];
	etag_format(u->version, etag);
	response_header(c->res, "ETag", etag);
	if (status == 201) {
		char location[64];
		snprintf(location, sizeof location, "/v1/users/%s", u->id);
		response_header(c->res, "Location", location);
	}
	return ctx_json(c, status, user_json(c, u));
}

/* Reads a "roles" array into bits; each unknown name is a field error. */
static unsigned roles_field(struct ctx *c, const cJSON *array)
{
	unsigned bits = 0;
	int i = 0;
	for (const cJSON *r = array ? array->child : NULL; r != NULL; r = r->next, i++) {
		unsigned bit = role_bit(r->valuestring);
		if (bit == 0) {
			char field[32];
			snprintf(field, sizeof field, "roles[%d]", i);
			problem_add_field(&c->problem, field, "unknown_role", "is not a role");
		}
		bits |= bit;
	}
	return bits;
}

/* 200 page of users; 400 bad limit/cursor; 401; 403; 503. */
int handle_users_list(struct ctx *c)
{
	struct db_arg tenant[] = {db_text(c->principal.tenant_id)};
	return ctx_list(c, &user_page, tenant, user_json, NULL);
}

/* 200 user with ETag; 401; 403; 404 (also another tenant's); 503. */
int handle_user_get(struct ctx *c)
{
	struct user_view u;
	if (user_get(&c->txn, c->principal.tenant_id, ctx_capture(c, 0), &u, &c->problem) != 0)
		return -1;
	return respond_user(c, 200, &u);
}

/* 201 user; 400; 401; 403; 409 e-mail taken; 422 operator role; 503 (every
 * password slot busy, or the database). */
int handle_user_create(struct ctx *c)
{
	struct problem *p = &c->problem;
	const char *email = json_str(c->body, "email");
	const char *password = json_str(c->body, "password");
	const char *first = json_str(c->body, "firstName");
	const char *last = json_str(c->body, "lastName");
	const char *external = json_str(c->body, "externalSubject");
	const char *issuer = external_issuer(c);
	unsigned roles = roles_field(c, cJSON_GetObjectItemCaseSensitive(c->body, "roles"));
	char hash[PASSWORD_HASH_MAX];
	struct user_view u;
	int rc = -1;
	char canonical[256];
	check_person(p, "", email, password, first, last);
	email_canonical(email, canonical);
	check_external_subject(p, external);
	if (p->kind != PROBLEM_NONE)
		return -1;
	/* refused before the password's hash is paid for */
	if (external != NULL && issuer == NULL)
		return user_no_external_issuer(p);
	if (password_hash_bounded(password, hash, p) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	struct user_new in = {canonical, hash,	 first,	   last,
			      roles,	 issuer, external, c->cfg->platform_email_domains};
	if (user_create(&c->txn, &a, &in, &u, p) == 0)
		rc = respond_user(c, 201, &u);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

/* 200 user; 400; 401; 403 (an admin agent who is not a global admin
 * grants global_admin, changes a global admin, or links an external
 * identity); 404; 409 external_subject_taken; 412 stale; 422 last global
 * admin, operator role, no_external_issuer; 428 no If-Match; 503. */
int handle_user_update(struct ctx *c)
{
	const cJSON *roles_json = cJSON_GetObjectItemCaseSensitive(c->body, "roles");
	const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(c->body, "disabled");
	const cJSON *external = cJSON_GetObjectItemCaseSensitive(c->body, "externalSubject");
	struct user_change change = {0,
				     cJSON_IsArray(roles_json),
				     cJSON_IsBool(disabled),
				     0,
				     cJSON_IsTrue(disabled),
				     external != NULL,
				     external_issuer(c),
				     json_str(c->body, "externalSubject")};
	struct user_view u;
	change.roles = roles_field(c, roles_json);
	check_external_subject(&c->problem, change.external_subject);
	if (c->problem.kind != PROBLEM_NONE)
		return -1;
	if (!change.set_roles && !change.set_disabled && !change.set_external)
		return problem_add_field(&c->problem, "roles", "required",
					 "give roles, disabled, externalSubject, or several");
	if (ctx_if_match(c, &change.version) != 0)
		return -1;
	struct actor a = ctx_actor(c);
	if (user_update(&c->txn, &a, ctx_capture(c, 0), &change, &u, &c->problem) != 0)
		return -1;
	return respond_user(c, 200, &u);
}

/* The caller's own link to the external identity provider: a person signed
 * in proves the subject with a token of the provider's, verified as a
 * sign-in with it would be (its key, algorithm, issuer, audience, expiry).
 * Our own tokens are not the provider's: only its key is tried.
 * 200 user; 400 (token: invalid, expired, not_yet_valid); 401; 403 an API
 * token; 409 external_subject_taken; 422 no_external_issuer; 503. */
int handle_external_identity_link(struct ctx *c)
{
	const struct jwt_key *key = c->settings->external;
	struct jwt_claims claims;
	struct user_view u;
	size_t which = 0;
	if (key == NULL)
		return user_no_external_issuer(&c->problem);
	enum jwt_result r =
	    jwt_verify(&key, 1, json_str(c->body, "token"), (long long)time(NULL), &claims, &which);
	if (r != JWT_VALID)
		return problem_add_field(&c->problem, "token",
					 r == JWT_EXPIRED	  ? "expired"
					 : r == JWT_NOT_YET_VALID ? "not_yet_valid"
								  : "invalid",
					 "%s", jwt_result_text(r));
	/* a subject we could not store is none the provider may map to us */
	if (!external_subject_valid(claims.sub))
		return problem_add_field(&c->problem, "token", "invalid",
					 "the token's subject is not printable ASCII");
	struct actor a = ctx_actor(c);
	if (user_external_link(&c->txn, &a, c->principal.user_id, key->issuer, claims.sub, 0, &u,
			       &c->problem) != 0)
		return -1;
	return respond_user(c, 200, &u);
}

/* 204 unlinked (also when it was not linked); 400 a body; 401; 403 an API
 * token; 503. */
int handle_external_identity_unlink(struct ctx *c)
{
	struct user_view u;
	struct actor a = ctx_actor(c);
	if (user_external_link(&c->txn, &a, c->principal.user_id, NULL, NULL, 0, &u, &c->problem) !=
	    0)
		return -1;
	return ctx_no_content(c);
}
