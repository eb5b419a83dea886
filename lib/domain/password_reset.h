/* Password resets (issue 18): a single-use link mailed to the account's
 * address, kept as the hash of its token, good for PASSWORD_RESET_TTL
 * seconds. The request answers the same whether or not the address is an
 * account's; a client address asks at most PASSWORD_RESET_PER_ADDRESS
 * times in PASSWORD_RESET_WINDOW (then 429, for every address alike), and
 * an account gets at most PASSWORD_RESET_PER_ACCOUNT links an hour (more
 * requests send nothing). Following the link sets the password, ends
 * every session of the user, and mails it that its password was changed. */
#ifndef TWOTIER_PASSWORD_RESET_H
#define TWOTIER_PASSWORD_RESET_H

#include "core/util.h"
#include "db/db.h"
#include "domain/user.h"

struct problem;

#define PASSWORD_RESET_TTL	   1800
#define PASSWORD_RESET_WINDOW	   900
#define PASSWORD_RESET_PER_ADDRESS 10
#define PASSWORD_RESET_PER_ACCOUNT 3

/* A reset asked for the address email (canonical) from client_addr, in t;
 * the link is {public_base_url}/reset-password?token=... Returns 0 (a mail
 * queued or not: nothing tells), or -1 with p set: 429 with retry_after
 * when client_addr has asked too often; or with t failed. */
int password_reset_request(struct txn *t, const char *email, const char *client_addr,
			   const char *public_base_url, struct problem *p);

/* The user a reset link's token stands for, its reset locked, in t.
 * Returns 0 with *u and reset_id, or -1 with p set: 404 when the token is
 * not known, used, or expired (one answer); or with t failed. */
int password_reset_find(struct txn *t, const char *token, char reset_id[UUID_STR],
			struct user_view *u, struct problem *p);

/* Uses reset reset_id: the user's password becomes hash (user_password_set,
 * every session ended), in t. Returns 0, or -1 with t failed. */
int password_reset_use(struct txn *t, const char *reset_id, const struct user_view *u,
		       const char *hash, const char *request_id, const char *client_addr);

/* Deletes up to limit resets a day past their expiry (the purge). */
enum db_status password_reset_purge(struct txn *t, long long limit, unsigned long long *deleted);

#endif
