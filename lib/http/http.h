/* The HTTP model: a plain request built by the FastCGI adapter and a
 * response built by the application. lib/ never sees libfcgi. */
#ifndef TWOTIER_HTTP_H
#define TWOTIER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define REQUEST_ID_MAX 64

/* Every status the service sends, with its reason phrase (RFC 9110): a
 * response of any other status is answered as a 500 (app_handle), so that
 * a status nobody listed never reaches a client. */
#define HTTP_STATUSES(X)                                                                           \
	X(200, "OK")                                                                               \
	X(201, "Created")                                                                          \
	X(202, "Accepted")                                                                         \
	X(204, "No Content")                                                                       \
	X(400, "Bad Request")                                                                      \
	X(401, "Unauthorized")                                                                     \
	X(403, "Forbidden")                                                                        \
	X(404, "Not Found")                                                                        \
	X(405, "Method Not Allowed")                                                               \
	X(409, "Conflict")                                                                         \
	X(410, "Gone")                                                                             \
	X(412, "Precondition Failed")                                                              \
	X(413, "Content Too Large")                                                                \
	X(415, "Unsupported Media Type")                                                           \
	X(422, "Unprocessable Content")                                                            \
	X(428, "Precondition Required")                                                            \
	X(429, "Too Many Requests")                                                                \
	X(500, "Internal Server Error")                                                            \
	X(503, "Service Unavailable")

/* The reason phrase of a listed status; NULL for any other. */
const char *http_reason(int status);

/* All strings are borrowed from the adapter and live until the response
 * is written; absent headers are NULL. body is NUL-terminated (body_len
 * bytes before the NUL) or NULL when there is none. */
struct request {
	const char *method;
	const char *path; /* path part of the request URI, no query, below the mount */
	/* the mount: the configuration's base_path ("" at the root), which
	 * the links the service answers carry; outside_mount: the URI is not
	 * below it (404) */
	const char *base; /* NULL: "" */
	bool outside_mount;
	const char *query; /* raw query string, "" when absent */
	const char *content_type;
	long long content_length; /* -1 when absent */
	const char *body;
	size_t body_len;
	const char *authorization;
	const char *origin;
	const char *if_match;
	const char *idempotency_key;
	const char *cors_request_method; /* Access-Control-Request-Method */
	const char *remote_addr;
	const char *forwarded_for;  /* X-Forwarded-For, believed only from a trusted proxy */
	const char *on_behalf_of;   /* On-Behalf-Of-Tenant: delegated admin access */
	const char *cookie;	    /* Cookie: the browser's refresh token */
	const char *user_agent;	    /* shown in the list of a user's sessions */
	const char *requested_with; /* X-Requested-With: set by script, never by a form */
	char request_id[REQUEST_ID_MAX + 1];
};

#define RESPONSE_MAX_HEADERS 16

struct response_header {
	const char *name; /* a string literal: names are the code's, never input */
	char *value;	  /* owned */
};

struct response {
	int status;
	const char *content_type; /* static string, NULL for no body */
	struct response_header headers[RESPONSE_MAX_HEADERS];
	size_t n_headers;
	char *body; /* owned */
	size_t body_len;
};

/* Adds a header: name must live as long as the process (a literal), value
 * is copied. Beyond RESPONSE_MAX_HEADERS it aborts: that is a programming
 * error, not an input error. */
void response_header(struct response *res, const char *name, const char *value);
/* Replaces the body with a copy of the given bytes. */
void response_body(struct response *res, int status, const char *content_type, const char *body,
		   size_t len);
/* Puts base before a Location that is a path ("/v1/..."): the handlers
 * name their resources below the mount. */
void response_locate_under(struct response *res, const char *base);
/* Frees headers and body and resets the response. */
void response_clear(struct response *res);
/* Back to the response as it was with n_headers headers and no body: for
 * work that runs again from the start (a retried transaction). */
void response_rewind(struct response *res, size_t n_headers);

/* Fills req->request_id: a client-supplied X-Request-Id if it is 1..64
 * characters of [A-Za-z0-9._-], else nginx's $request_id under the same
 * rule, else a fresh random 32-hex-digit id. */
void request_id_choose(struct request *req, const char *client_id, const char *nginx_id);

/* Looks up a query parameter; copies its percent-decoded value into buf.
 * Returns 1 when found, 0 when absent, -1 when malformed or too long. */
int request_query_param(const struct request *req, const char *name, char *buf, size_t bufsz);

#endif
