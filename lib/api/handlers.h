/* Route handlers. Each parses what the central checks left to it, calls
 * one domain function and renders the result; the HTTP codes each can
 * answer are listed at its definition. */
#ifndef TWOTIER_HANDLERS_H
#define TWOTIER_HANDLERS_H

#include "http/json.h"

struct ctx;

int handle_healthz(struct ctx *c);
int handle_readyz(struct ctx *c);
int handle_metrics(struct ctx *c);
int handle_regions_list(struct ctx *c);
int handle_tenant_create(struct ctx *c);
int handle_jwks(struct ctx *c);
int handle_signin(struct ctx *c);
int handle_me(struct ctx *c);
int handle_users_list(struct ctx *c);
int handle_user_create(struct ctx *c);
int handle_user_get(struct ctx *c);
int handle_user_update(struct ctx *c);
int handle_api_tokens_list(struct ctx *c);
int handle_api_token_create(struct ctx *c);
int handle_api_token_revoke(struct ctx *c);
int handle_audit_events_list(struct ctx *c);

/* Field checks of a new user (sign-up's admin, POST /v1/users): adds a
 * field error, named prefix + field, for each bad value. */
struct problem;
void check_person(struct problem *p, const char *prefix, const char *email, const char *password,
		  const char *first, const char *last);

extern const struct json_field tenant_create_schema[];
extern const struct json_field signin_schema[];
extern const struct json_field user_create_schema[];
extern const struct json_field user_update_schema[];
extern const struct json_field api_token_create_schema[];

#endif
