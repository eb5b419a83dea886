/* Where the service may send a request of its own (a webhook): the URL's
 * form, and the addresses it may reach. A partner names the URL; without
 * these checks it could make the service call its own network (SSRF). So
 * a URL is https (http only where configured), names no user, and its host
 * is resolved once, here: each address must be public, or in the ranges
 * the configuration allows, and the connection is then made to that very
 * address (no second lookup that could answer otherwise). Pure: the
 * resolver is given. */
#ifndef TWOTIER_OUTBOUND_H
#define TWOTIER_OUTBOUND_H

#include <stdbool.h>
#include <stddef.h>

#define OUTBOUND_URL_MAX 2048

struct outbound_url {
	bool https;
	char host[256]; /* without brackets for an IPv6 literal */
	unsigned port;
};

/* Parses url: "https://host[:port][/path...]" (or http when allow_http).
 * Returns 0 with *out, or -1 with why (a short reason) set. */
int outbound_url_parse(const char *url, bool allow_http, struct outbound_url *out,
		       const char **why);

/* True when the address (text, IPv4 or IPv6) is in no private, loopback,
 * link-local, shared, multicast, reserved or unspecified range, or is in
 * one of allow's ranges (comma-separated CIDRs, "127.0.0.0/8"). False for
 * text that is no address. */
bool outbound_address_allowed(const char *addr, const char *allow);

/* Resolves host with resolve (getaddrinfo's numeric answers, one a
 * NUL-separated entry, the list ended by an empty one; or the test-only
 * map "name=addr,..." first) into addr: the first address; -1 with why
 * when none, or when any of its addresses is not allowed. */
typedef int (*outbound_resolver)(const char *host, char *out, size_t outsz);
int outbound_resolve(const char *host, const char *map, const char *allow,
		     outbound_resolver resolve, char addr[64], const char **why);

/* getaddrinfo as an outbound_resolver. */
int outbound_getaddrinfo(const char *host, char *out, size_t outsz);

#endif
