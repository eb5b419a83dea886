/* A forgotten password (issue 18): the request, which mails a single-use
 * link and answers the same whether or not the address is an account's,
 * and the link's use, which sets the new password. */
#include "api/app.h"
#include "api/handlers.h"
#include "auth/password.h"
#include "core/config.h"
#include "core/util.h"
#include "domain/password_reset.h"
#include "domain/user.h"

#include <sodium.h>
#include <string.h>

const struct json_field password_reset_schema[] = {
    {"email", JSON_STRING, true, 254, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 202 {email, expiresIn}: a link is mailed if the address is an account's
 * (nothing tells whether it is); 400; 429 (this client address asked too
 * often); 503. */
int handle_password_reset_request(struct ctx *c)
{
	char email[256];
	if (!email_canonical(json_str(c->body, "email"), email) || !valid_email(email))
		return problem_add_field(&c->problem, "email", "invalid",
					 "must be an e-mail address");
	if (password_reset_request(&c->txn, email, c->client_addr, c->cfg->public_base_url,
				   &c->problem) != 0)
		return -1;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "email", email);
	cJSON_AddNumberToObject(doc, "expiresIn", PASSWORD_RESET_TTL);
	return ctx_json(c, 202, doc);
}

const struct json_field password_reset_use_schema[] = {
    {"token", JSON_STRING, true, 64, NULL},
    {"password", JSON_STRING, true, PASSWORD_MAX, NULL},
    {NULL, JSON_STRING, false, 0, NULL},
};

/* 204: the password is the new one, every session of the user has ended,
 * and the user is mailed so; 400 (the new one too short, blank or
 * personal); 404 (the link is not known, used, or expired); 503. */
int handle_password_reset_use(struct ctx *c)
{
	struct problem *p = &c->problem;
	struct user_view u;
	char reset_id[UUID_STR], hash[PASSWORD_HASH_MAX];
	const char *password = json_str(c->body, "password");
	if (password_reset_find(&c->txn, json_str(c->body, "token"), reset_id, &u, p) != 0)
		return -1;
	check_new_password(p, "password", password, &u);
	if (p->kind != PROBLEM_NONE)
		return -1;
	if (password_hash_bounded(password, hash, p) != 0 ||
	    password_reset_use(&c->txn, reset_id, &u, hash, c->req->request_id, c->client_addr) !=
		0)
		return -1;
	sodium_memzero(hash, sizeof hash);
	return ctx_no_content(c);
}
