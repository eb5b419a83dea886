#include "domain/password_reset.h"

#include "auth/auth.h"
#include "core/problem.h"
#include "domain/audit.h"
#include "mail/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

DB_STATEMENT(password_reset_insert,
	     "INSERT INTO password_resets (id, user_id, token_hash, client_addr, created_at, "
	     "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
	     DB_PARAMS(DB_TEXT, DB_TEXT | DB_NULLABLE, DB_TEXT | DB_NULLABLE, DB_TEXT, DB_TIME,
		       DB_TIME),
	     DB_NO_ROW);

/* since: the start of the window */
DB_STATEMENT(password_resets_of_address,
	     "SELECT COUNT(*) AS n FROM password_resets WHERE client_addr = ? AND created_at > ?",
	     DB_PARAMS(DB_TEXT, DB_TIME), DB_ROW_COUNT);

DB_STATEMENT(password_resets_of_user,
	     "SELECT COUNT(*) AS n FROM password_resets WHERE user_id = ? AND token_hash IS NOT "
	     "NULL AND created_at > ?",
	     DB_PARAMS(DB_TEXT, DB_TIME), DB_ROW_COUNT);

/* The account of an address, locked: its requests take turns, so that the
 * count per account holds. */
struct reset_user_row {
	char id[UUID_STR];
	char tenant_id[UUID_STR];
	char first_name[401];
	bool disabled;
};
#define RESET_USER_FIELDS(F, T)                                                                    \
	F(T, id, DB_TEXT) F(T, tenant_id, DB_TEXT) F(T, first_name, DB_TEXT) F(T, disabled, DB_INT)
DB_STATEMENT(password_reset_user,
	     "SELECT id, tenant_id, first_name, disabled FROM users WHERE email = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct reset_user_row, RESET_USER_FIELDS));

/* A link for u to email, queued in t. */
static enum db_status reset_link(struct txn *t, const struct reset_user_row *u, const char *email,
				 const char *client_addr, const char *public_base_url, micros_t at)
{
	char id[UUID_STR], token[LINK_TOKEN_LEN + 1], hash[65], link[512];
	link_token_generate(token, hash);
	uuid_v7(id);
	snprintf(link, sizeof link, "%s/reset-password?token=%s", public_base_url, token);
	struct db_arg a[] = {db_text(id),   db_text(u->id),
			     db_text(hash), db_text(client_addr),
			     db_time(at),   db_time(at + PASSWORD_RESET_TTL * 1000000LL)};
	const char *domain = strchr(email, '@');
	struct mail_var vars[] = {
	    {"first_name", u->first_name}, {"domain", domain ? domain + 1 : email}, {"link", link}};
	struct outbox_mail m = {u->tenant_id, MAIL_PASSWORD_RESET, "en", email, vars, 3};
	enum db_status rc = db_exec(t, &password_reset_insert, a, NULL);
	if (rc == DB_OK)
		rc = outbox_enqueue(t, &m);
	sodium_memzero(token, sizeof token);
	sodium_memzero(link, sizeof link);
	return rc;
}

int password_reset_request(struct txn *t, const char *email, const char *client_addr,
			   const char *public_base_url, struct problem *p)
{
	struct db_count n;
	struct reset_user_row u;
	char id[UUID_STR];
	micros_t at = time_micros();
	struct db_arg addr[] = {db_text(client_addr),
				db_time(at - PASSWORD_RESET_WINDOW * 1000000LL)};
	struct db_arg who[] = {db_text(email)};
	if (db_one(t, &password_resets_of_address, addr, &n) != DB_OK)
		return -1;
	if (n.n >= PASSWORD_RESET_PER_ADDRESS) {
		p->retry_after = PASSWORD_RESET_WINDOW;
		return problem_set(p, PROBLEM_TOO_MANY_REQUESTS,
				   "too many password resets asked from this address; try again "
				   "later");
	}
	enum db_status rc = db_one(t, &password_reset_user, who, &u);
	if (rc == DB_OK && !u.disabled) {
		struct db_arg mine[] = {db_text(u.id), db_time(at - 3600 * 1000000LL)};
		if (db_one(t, &password_resets_of_user, mine, &n) != DB_OK)
			return -1;
		if (n.n < PASSWORD_RESET_PER_ACCOUNT)
			return reset_link(t, &u, email, client_addr, public_base_url, at) == DB_OK
				   ? 0
				   : -1;
	} else if (rc != DB_OK && rc != DB_EMPTY) {
		return -1;
	}
	/* no link: the request is still counted for its address */
	uuid_v7(id);
	struct db_arg a[] = {db_text(id),	   db_null(),	db_null(),
			     db_text(client_addr), db_time(at), db_time(at)};
	return db_exec(t, &password_reset_insert, a, NULL) == DB_OK ? 0 : -1;
}

struct reset_row {
	char id[UUID_STR];
	char user_id[UUID_STR];
	char tenant_id[UUID_STR];
	char token_hash[65];
	bool usable;
};
#define RESET_FIELDS(F, T)                                                                         \
	F(T, id, DB_TEXT)                                                                          \
	F(T, user_id, DB_TEXT)                                                                     \
	F(T, tenant_id, DB_TEXT) F(T, token_hash, DB_TEXT) F(T, usable, DB_INT)
DB_STATEMENT(password_reset_by_token,
	     "SELECT r.id, r.user_id, u.tenant_id, r.token_hash, (r.used_at IS NULL AND "
	     "r.expires_at > UTC_TIMESTAMP(6) AND u.disabled = 0) AS usable FROM password_resets r "
	     "JOIN users u ON u.id = r.user_id WHERE r.token_hash = ? FOR UPDATE",
	     DB_PARAMS(DB_TEXT), DB_ROW(struct reset_row, RESET_FIELDS));

int password_reset_find(struct txn *t, const char *token, char reset_id[UUID_STR],
			struct user_view *u, struct problem *p)
{
	struct reset_row r;
	char hash[65];
	api_token_hash(token, hash);
	struct db_arg a[] = {db_text(hash)};
	switch (db_one(t, &password_reset_by_token, a, &r)) {
	case DB_OK: break;
	case DB_EMPTY: r.usable = false; break;
	default: return -1;
	}
	/* the index found it; the comparison that decides takes constant time */
	if (!r.usable || sodium_memcmp(r.token_hash, hash, 64) != 0)
		return problem_set(p, PROBLEM_NOT_FOUND,
				   "the link is not known, was used, or has expired");
	memcpy(reset_id, r.id, UUID_STR);
	return user_get(t, r.tenant_id, r.user_id, u, p);
}

DB_STATEMENT(password_reset_set_used,
	     "UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

/* the user's other links stop too: one reset is the end of them */
DB_STATEMENT(password_reset_set_others_used,
	     "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
	     DB_PARAMS(DB_TIME, DB_TEXT), DB_NO_ROW);

int password_reset_use(struct txn *t, const char *reset_id, const struct user_view *u,
		       const char *hash, const char *request_id, const char *client_addr)
{
	micros_t at = time_micros();
	struct actor a = {"anonymous", NULL, u->tenant_id, request_id, client_addr, 0, NULL, NULL};
	struct db_arg used[] = {db_time(at), db_text(reset_id)};
	struct db_arg others[] = {db_time(at), db_text(u->id)};
	if (db_exec(t, &password_reset_set_used, used, NULL) != DB_OK ||
	    db_exec(t, &password_reset_set_others_used, others, NULL) != DB_OK ||
	    user_password_set(t, &a, u, hash, "", "user.password_reset") != 0)
		return -1;
	return 0;
}

DB_STATEMENT(password_reset_purge_expired,
	     "DELETE FROM password_resets WHERE expires_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
	     "ORDER BY expires_at LIMIT ?",
	     DB_PARAMS(DB_INT), DB_NO_ROW);

enum db_status password_reset_purge(struct txn *t, long long limit, unsigned long long *deleted)
{
	struct db_arg a[] = {db_int(limit)};
	return db_exec(t, &password_reset_purge_expired, a, deleted);
}
