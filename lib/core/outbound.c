#include "core/outbound.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int outbound_url_parse(const char *url, bool allow_http, struct outbound_url *out, const char **why)
{
	const char *p;
	memset(out, 0, sizeof *out);
	if (url == NULL || strlen(url) > OUTBOUND_URL_MAX) {
		*why = "is too long";
		return -1;
	}
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			*why = "must be ASCII without spaces";
			return -1;
		}
	if (strncmp(url, "https://", 8) == 0) {
		out->https = true;
		p = url + 8;
		out->port = 443;
	} else if (allow_http && strncmp(url, "http://", 7) == 0) {
		p = url + 7;
		out->port = 80;
	} else {
		*why = allow_http ? "must be an https or http URL" : "must be an https URL";
		return -1;
	}
	size_t auth = strcspn(p, "/?#");
	if (memchr(p, '@', auth) != NULL) {
		*why = "must not name a user";
		return -1;
	}
	const char *host = p, *end = p + auth, *colon;
	size_t hlen;
	if (*host == '[') {
		const char *close = memchr(host, ']', auth);
		if (close == NULL) {
			*why = "has a malformed host";
			return -1;
		}
		host++;
		hlen = (size_t)(close - host);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close + 1 != end) {
			*why = "has a malformed host";
			return -1;
		}
	} else {
		colon = memchr(host, ':', auth);
		hlen = (size_t)((colon ? colon : end) - host);
	}
	if (hlen == 0 || hlen >= sizeof out->host) {
		*why = "has no host";
		return -1;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	for (size_t i = 0; i < hlen; i++)
		out->host[i] = (char)tolower((unsigned char)out->host[i]);
	if (colon != NULL) {
		char *stop;
		long port = strtol(colon + 1, &stop, 10);
		if (stop != end || stop == colon + 1 || port < 1 || port > 65535) {
			*why = "has a malformed port";
			return -1;
		}
		out->port = (unsigned)port;
	}
	return 0;
}

/* addr in the CIDR range "a.b.c.d/n" or "x::/n" */
static bool in_range(const unsigned char *bin, int family, const char *cidr, size_t len)
{
	char text[64];
	unsigned char net[16];
	if (len == 0 || len >= sizeof text)
		return false;
	memcpy(text, cidr, len);
	text[len] = '\0';
	char *slash = strchr(text, '/');
	int bits = family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		*slash = '\0';
		bits = atoi(slash + 1);
	}
	int fam = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (fam != family || inet_pton(fam, text, net) != 1 || bits < 0 ||
	    bits > (fam == AF_INET ? 32 : 128))
		return false;
	for (int i = 0; i < bits; i++) {
		int byte = i / 8, bit = 7 - i % 8;
		if (((bin[byte] >> bit) & 1) != ((net[byte] >> bit) & 1))
			return false;
	}
	return true;
}

static bool in_list(const unsigned char *bin, int family, const char *list)
{
	for (const char *p = list; p != NULL && *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, ", ");
		if (n > 0 && in_range(bin, family, p, n))
			return true;
		p += n;
	}
	return false;
}

/* IANA's special-purpose registries: nothing a partner's public endpoint
 * is at */
static const char reserved_v4[] = "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,127.0.0.0/8,"
				  "169.254.0.0/16,172.16.0.0/12,192.0.0.0/24,192.0.2.0/24,"
				  "192.88.99.0/24,192.168.0.0/16,198.18.0.0/15,198.51.100.0/24,"
				  "203.0.113.0/24,224.0.0.0/4,240.0.0.0/4";
static const char reserved_v6[] = "::/128,::1/128,::ffff:0:0/96,64:ff9b::/96,64:ff9b:1::/48,"
				  "100::/64,2001::/23,2001:db8::/32,2002::/16,fc00::/7,"
				  "fe80::/10,ff00::/8";

bool outbound_address_allowed(const char *addr, const char *allow)
{
	unsigned char bin[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, bin) != 1)
		return false;
	if (in_list(bin, family, allow))
		return true;
	/* an IPv4 address written as IPv6 is judged as itself */
	if (family == AF_INET6) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(bin, mapped, 12) == 0) {
			char v4[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, bin + 12, v4, sizeof v4);
			return outbound_address_allowed(v4, allow);
		}
		return !in_list(bin, family, reserved_v6);
	}
	return !in_list(bin, family, reserved_v4);
}

/* The test-only map's address for host, into out: true when it has one. */
static bool mapped(const char *map, const char *host, char *out, size_t outsz)
{
	size_t hl = strlen(host);
	for (const char *p = map; p != NULL && *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, ", ");
		const char *eq = memchr(p, '=', n);
		if (eq != NULL && (size_t)(eq - p) == hl && strncasecmp(p, host, hl) == 0) {
			size_t al = n - hl - 1;
			if (al + 2 > outsz)
				return false;
			memcpy(out, eq + 1, al);
			out[al] = '\0';
			out[al + 1] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

int outbound_resolve(const char *host, const char *map, const char *allow,
		     outbound_resolver resolve, char addr[64], const char **why)
{
	char list[1024];
	unsigned char bin[16];
	addr[0] = '\0';
	if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
		snprintf(list, sizeof list, "%s", host);
		list[strlen(list) + 1] = '\0';
	} else if (!mapped(map, host, list, sizeof list) && resolve(host, list, sizeof list) != 0) {
		*why = "names a host that does not resolve";
		return -1;
	}
	if (list[0] == '\0') {
		*why = "names a host that does not resolve";
		return -1;
	}
	/* every address the name has must be allowed: the connection may go
	 * to any of them */
	for (const char *a = list; *a != '\0'; a += strlen(a) + 1)
		if (!outbound_address_allowed(a, allow)) {
			*why = "resolves to a private, loopback or reserved address";
			return -1;
		}
	snprintf(addr, 64, "%s", list);
	return 0;
}

int outbound_getaddrinfo(const char *host, char *out, size_t outsz)
{
	struct addrinfo hints, *res = NULL;
	size_t o = 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *r = res; r != NULL; r = r->ai_next) {
		char text[INET6_ADDRSTRLEN];
		const void *a = r->ai_family == AF_INET
				    ? (const void *)&((struct sockaddr_in *)r->ai_addr)->sin_addr
				    : (const void *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr;
		if ((r->ai_family != AF_INET && r->ai_family != AF_INET6) ||
		    inet_ntop(r->ai_family, a, text, sizeof text) == NULL)
			continue;
		size_t n = strlen(text) + 1;
		if (o + n + 1 > outsz)
			break;
		memcpy(out + o, text, n);
		o += n;
	}
	freeaddrinfo(res);
	if (o + 1 > outsz)
		return -1;
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}
