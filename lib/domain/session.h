/* Sessions (issue 18): a person's sign-in, kept by a refresh token that
 * rotates (RFC 6749 §6, RFC 9700 §2.2.2): each refresh retires the token
 * it was given and answers a new one; a retired token presented again is
 * a stolen copy or its owner's, so the whole session ends. The access
 * tokens of a session carry its id (sid) and stop at the next request once
 * it has ended (principal.c). */
#ifndef TWOTIER_SESSION_H
#define TWOTIER_SESSION_H

#include <stdbool.h>

#include "auth/auth.h"
#include "core/util.h"
#include "db/db.h"

struct problem;
struct actor;

/* How long a session lasts: idle, from its last refresh; absolute, from
 * its start (seconds). */
struct session_limits {
	long idle, max;
};

struct session_view {
	char id[UUID_STR];
	char client_addr[46];
	char user_agent[256];
	char created_at[TIME_STR];
	char last_used_at[TIME_STR];
	char idle_expires_at[TIME_STR];
	char expires_at[TIME_STR];
};

/* A new session of user (of tenant) signed in from client_addr with
 * user_agent (NULL: ""), in t: *sid receives its id and token its first
 * refresh token (shown once). DB_OK or DB_FAILED. */
enum db_status session_start(struct txn *t, const char *user_id, const char *tenant_id,
			     const char *client_addr, const char *user_agent,
			     const struct session_limits *limits, char sid[UUID_STR],
			     char token[LINK_TOKEN_LEN + 1]);

/* What a refresh gives: the session and its user, for the new access
 * token. */
struct session_refreshed {
	char sid[UUID_STR];
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	unsigned roles;
};

/* Retires refresh token presented and answers the next one in next, with
 * the session extended by the idle limit, in t. Returns 0 with *out, or -1
 * with p set: 401 when the token is unknown, its session ended, idle or
 * past its absolute limit, or its user disabled; 401 too for a retired
 * token, whose session is then ended and audited (committed at once, as
 * the request fails); or with t failed. */
int session_refresh(struct txn *t, const char *presented, const struct session_limits *limits,
		    const char *request_id, const char *client_addr, char next[LINK_TOKEN_LEN + 1],
		    struct session_refreshed *out, struct problem *p);

/* Ends session sid of user_id (sign-out, or the user ending one of its
 * own), in t. Returns 0, or -1 with p set: 404 when it is not the user's
 * or has ended; or with t failed. */
int session_end(struct txn *t, const struct actor *a, const char *user_id, const char *sid,
		const char *reason, struct problem *p);

/* Ends every session of user_id of the actor's tenant that is still
 * going, in t (audited when there was one). Returns 0, or -1 with t
 * failed. */
int sessions_end_all(struct txn *t, const struct actor *a, const char *user_id);

/* Ends every session of user_id of the actor's tenant but keep (the
 * caller's own, "" for none), in t. DB_OK or DB_FAILED. */
enum db_status sessions_end_others(struct txn *t, const struct actor *a, const char *user_id,
				   const char *keep);

/* Deletes up to limit sessions a day past their end (the purge). */
enum db_status session_purge(struct txn *t, long long limit, unsigned long long *deleted);

/* Pages of the struct session_view still going of one user (key: the
 * user's id). */
extern const struct db_page session_page;

#endif
