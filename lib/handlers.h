/* Route handlers. Each parses what the central checks left to it, calls
 * one domain function and renders the result; the HTTP codes each can
 * answer are listed at its definition. */
#ifndef TWOTIER_HANDLERS_H
#define TWOTIER_HANDLERS_H

#include "json.h"

struct ctx;

int handle_healthz(struct ctx *c);
int handle_readyz(struct ctx *c);
int handle_metrics(struct ctx *c);
int handle_regions_list(struct ctx *c);
int handle_tenant_create(struct ctx *c);

extern const struct json_field tenant_create_schema[];

#endif
