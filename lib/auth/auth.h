/* Who is calling: the Authorization header read into a credential, a
 * user's JWT verified or a partner's API token hashed, with no database;
 * the domain (domain/principal.h) loads the principal it stands for, with
 * the roles or scopes it holds right now, on every request. */
#ifndef TWOTIER_AUTH_H
#define TWOTIER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

struct problem;
struct jwt_key;
struct cJSON;

#define AUTH_ROLES(X)                                                                              \
	X(ROLE_GLOBAL_ADMIN, 1u << 0, "global_admin")                                              \
	X(ROLE_ADMIN_AGENT, 1u << 1, "admin_agent")                                                \
	X(ROLE_SALES_AGENT, 1u << 2, "sales_agent")                                                \
	X(ROLE_HELPDESK_AGENT, 1u << 3, "helpdesk_agent")                                          \
	X(ROLE_BILLING_ADMIN, 1u << 4, "billing_admin")                                            \
	X(ROLE_OPERATOR, 1u << 5, "operator")

#define AUTH_SCOPES(X)                                                                             \
	X(SCOPE_PROFILES_READ, 1u << 0, "profiles:read")                                           \
	X(SCOPE_RELATIONSHIPS_READ, 1u << 1, "relationships:read")                                 \
	X(SCOPE_RELATIONSHIPS_WRITE, 1u << 2, "relationships:write")                               \
	X(SCOPE_CUSTOMERS_READ, 1u << 3, "customers:read")                                         \
	X(SCOPE_CUSTOMERS_WRITE, 1u << 4, "customers:write")                                       \
	X(SCOPE_AGREEMENTS_READ, 1u << 5, "agreements:read")                                       \
	X(SCOPE_ORDERS_READ, 1u << 6, "orders:read")                                               \
	X(SCOPE_ORDERS_WRITE, 1u << 7, "orders:write")                                             \
	X(SCOPE_EVENTS_READ, 1u << 8, "events:read")                                               \
	X(SCOPE_WEBHOOKS_WRITE, 1u << 9, "webhooks:write")

enum auth_role {
#define AUTH_BIT(name, bit, text) name = bit,
	AUTH_ROLES(AUTH_BIT)
};
enum auth_scope {
	AUTH_SCOPES(AUTH_BIT)
#undef AUTH_BIT
};
/* Any scope at all: routes every token may read (GET /v1/me). */
#define SCOPE_ALL 0x3FFu

/* Name <-> bit. *_bit returns 0 for an unknown name. */
unsigned role_bit(const char *name);
unsigned scope_bit(const char *name);
/* Parses "a,b,c" (a SET column); unknown names are
 * ignored. NULL gives 0. */
unsigned roles_from_csv(const char *csv);
unsigned scopes_from_csv(const char *csv);
/* Writes the names of the bits set, comma separated, into out (the text
 * of a SET column). */
void roles_to_csv(unsigned roles, char *out, size_t outsz);
void scopes_to_csv(unsigned scopes, char *out, size_t outsz);
/* Room for every role name, comma separated. */
#define ROLES_CSV_MAX 96
/* A JSON array of the names of the bits set (caller owns). */
struct cJSON *roles_to_json(unsigned roles);
struct cJSON *scopes_to_json(unsigned scopes);

/* A tenant's memberships of the programme (SPEC §1, "partner"). */
enum partner_type { PARTNER_INDIRECT_RESELLER = 1u << 0, PARTNER_INDIRECT_PROVIDER = 1u << 1 };

enum principal_kind { PRINCIPAL_NONE, PRINCIPAL_USER, PRINCIPAL_TOKEN };

struct principal {
	enum principal_kind kind;
	char user_id[UUID_STR]; /* the user; for a token, its creator */
	char tenant_id[UUID_STR];
	char token_id[UUID_STR]; /* tokens only */
	/* a user's session (the sid of its access token), "" when none */
	char session_id[40];
	unsigned roles;		/* users only */
	unsigned scopes;	/* tokens only */
	unsigned partner_types; /* of the tenant: enum partner_type bits */
	/* a user of whom a second factor is required and who has none: only
	 * the routes that set one up are open to it (ROUTE_MFA_SETUP) */
	bool mfa_setup_due;
};

/* What an Authorization header carries, read and checked without the
 * database. */
enum credential_kind { CREDENTIAL_NONE, CREDENTIAL_TOKEN, CREDENTIAL_JWT };

struct credential {
	enum credential_kind kind;
	char token_hash[65]; /* CREDENTIAL_TOKEN: the SHA-256 it is stored under */
	/* CREDENTIAL_JWT: its verified subject and tenant (tid, ours only) */
	char sub[256], tid[40];
	/* the session of one of our JWTs, "" when it names none */
	char sid[40];
	/* the issuer of an external identity provider's JWT (borrowed from
	 * the key that verified it), or NULL for ours */
	const char *external_issuer;
};

/* Reads an Authorization header value (NULL: anonymous, CREDENTIAL_NONE).
 * keys are the accepted JWT keys, keys[0] our own signing key (a key with
 * another issuer is an external one's, borrowed by out: external_issuer); now is Unix time. Returns
 * 0 with *out, or -1 with p set: 401 (malformed, or a JWT invalid or expired; the reason is in the
 * detail and in the log). */
int auth_credential(const struct jwt_key *const *keys, size_t n_keys, const char *authorization,
		    long long now, const char *request_id, struct credential *out,
		    struct problem *p);

/* Refuses authentication: logs why with the request's id and sets p to
 * 401 with why as the detail. Returns -1. */
int auth_refuse(struct problem *p, const char *why, const char *request_id);

/* API tokens: "tt_" + 43 base64url characters (32 random bytes). */
#define API_TOKEN_PREFIX "tt_"
#define API_TOKEN_LEN	 46
/* Makes a new token and the hex SHA-256 under which it is stored. */
void api_token_generate(char token[API_TOKEN_LEN + 1], char hash_hex[65]);
void api_token_hash(const char *token, char hash_hex[65]);

/* Single-use links (mail verification, invitations): 43 base64url
 * characters (32 random bytes from the OS), kept only as the hex SHA-256
 * that api_token_hash gives. */
#define LINK_TOKEN_LEN 43
void link_token_generate(char token[LINK_TOKEN_LEN + 1], char hash_hex[65]);

#endif
