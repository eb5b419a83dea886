/* The one table of error kinds (SPEC §6): each kind has an HTTP status, a
 * stable type slug and a title. Domain code sets a kind and a detail; the
 * response writer turns it into RFC 9457 application/problem+json. */
#ifndef TWOTIER_PROBLEM_H
#define TWOTIER_PROBLEM_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* X(name, status, slug, title) */
#define PROBLEM_KINDS(X)                                                                           \
	X(PROBLEM_NONE, 200, "none", "No problem")                                                 \
	X(PROBLEM_MALFORMED_REQUEST, 400, "malformed-request", "Malformed request")                \
	X(PROBLEM_MALFORMED_JSON, 400, "malformed-json", "Malformed JSON")                         \
	X(PROBLEM_VALIDATION, 400, "validation-failed", "Validation failed")                       \
	X(PROBLEM_UNAUTHENTICATED, 401, "unauthenticated", "Authentication required")              \
	X(PROBLEM_FORBIDDEN, 403, "forbidden", "Forbidden")                                        \
	X(PROBLEM_NOT_FOUND, 404, "not-found", "Not found")                                        \
	X(PROBLEM_METHOD_NOT_ALLOWED, 405, "method-not-allowed", "Method not allowed")             \
	X(PROBLEM_CONFLICT, 409, "conflict", "Conflict with the current state")                    \
	X(PROBLEM_GONE, 410, "gone", "Gone")                                                       \
	X(PROBLEM_PRECONDITION_FAILED, 412, "precondition-failed", "Precondition failed")          \
	X(PROBLEM_PAYLOAD_TOO_LARGE, 413, "payload-too-large", "Payload too large")                \
	X(PROBLEM_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type") \
	X(PROBLEM_RULE_REFUSED, 422, "rule-refused", "Refused by a rule")                          \
	X(PROBLEM_PRECONDITION_REQUIRED, 428, "precondition-required", "Precondition required")    \
	X(PROBLEM_TOO_MANY_REQUESTS, 429, "too-many-requests", "Too many requests")                \
	X(PROBLEM_INTERNAL, 500, "internal-error", "Internal error")                               \
	X(PROBLEM_UNAVAILABLE, 503, "service-unavailable", "Service unavailable")

enum problem_kind {
#define PROBLEM_ENUM(name, status, slug, title) name,
	PROBLEM_KINDS(PROBLEM_ENUM)
#undef PROBLEM_ENUM
	    PROBLEM__COUNT
};

#define PROBLEM_TYPE_BASE "https://twotier.example/problems/"

/* A problem being built. Zero-initialise; problem_clear() releases it. */
struct problem {
	enum problem_kind kind;
	char detail[256];
	char code[48];		 /* optional machine-readable reason, e.g. "mpn_country_mismatch" */
	cJSON *errors;		 /* owned: array of {field, code, message}, or NULL */
	unsigned errors_omitted; /* beyond PROBLEM_ERRORS_MAX: counted, not listed */
	int retry_after;	 /* seconds for 429/503, 0 = none */
	/* owned: extension members (RFC 9457 §3.2), e.g. a sign-in's
	 * challenge, or NULL */
	cJSON *extensions;
};

/* Status, slug and title of a kind; an out-of-range kind maps to
 * PROBLEM_INTERNAL, never to garbage. */
int problem_status(enum problem_kind kind);
const char *problem_slug(enum problem_kind kind);
const char *problem_title(enum problem_kind kind);

/* Sets kind and detail (printf-style, truncated to fit). Returns -1 so
 * callers can `return problem_set(...)`. */
int problem_set(struct problem *p, enum problem_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets kind, code (problem+json's `code`: a rule's name) and detail, as
 * problem_set. Returns -1, for `return problem_refuse(...)`. */
int problem_refuse(struct problem *p, enum problem_kind kind, const char *code, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* Appends {field, code, message} to the errors list; sets kind to
 * PROBLEM_VALIDATION if none is set yet. Past PROBLEM_ERRORS_MAX errors
 * the rest are counted, not listed (the detail says how many): a body of
 * thousands of bad fields gets an answer of bounded size. Returns -1. */
#define PROBLEM_ERRORS_MAX 50
int problem_add_field(struct problem *p, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds the extension member name (a string) to the document. */
void problem_extend(struct problem *p, const char *name, const char *value);

/* Renders the problem+json document; caller owns the result. request_id
 * may be NULL. */
cJSON *problem_to_json(const struct problem *p, const char *request_id);

void problem_clear(struct problem *p);

#endif
