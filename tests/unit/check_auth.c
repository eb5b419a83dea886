/* Roles and scopes by name and bit, and API tokens. principal_load
 * (domain/principal.h) needs a database and is covered by the integration
 * tests. */
#include "auth/auth.h"
#include "auth/jwt_token.h"
#include "core/problem.h"
#include "suites.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct named_bit {
	unsigned bit;
	const char *name;
};

#define ROW(name, bit, text) {name, text},
static const struct named_bit all_roles[] = {AUTH_ROLES(ROW)};
static const struct named_bit all_scopes[] = {AUTH_SCOPES(ROW)};
#undef ROW

#define N_ROLES	 (sizeof all_roles / sizeof all_roles[0])
#define N_SCOPES (sizeof all_scopes / sizeof all_scopes[0])

#define ALL_SCOPES_CSV                                                                             \
	"profiles:read,relationships:read,relationships:write,customers:read,customers:write,"     \
	"agreements:read,orders:read,orders:write,events:read,webhooks:write"

/* ---- names and bits ---- */

START_TEST(role_bit_every_name)
{
	ck_assert_uint_eq(N_ROLES, 6);
	unsigned seen = 0;
	for (size_t i = 0; i < N_ROLES; i++) {
		ck_assert_uint_eq(role_bit(all_roles[i].name), all_roles[i].bit);
		ck_assert_uint_eq(all_roles[i].bit, 1u << i);
		ck_assert_uint_eq(seen & all_roles[i].bit, 0);
		seen |= all_roles[i].bit;
	}
	ck_assert_uint_eq(role_bit("global_admin"), ROLE_GLOBAL_ADMIN);
	ck_assert_uint_eq(role_bit("admin_agent"), ROLE_ADMIN_AGENT);
	ck_assert_uint_eq(role_bit("sales_agent"), ROLE_SALES_AGENT);
	ck_assert_uint_eq(role_bit("helpdesk_agent"), ROLE_HELPDESK_AGENT);
	ck_assert_uint_eq(role_bit("billing_admin"), ROLE_BILLING_ADMIN);
	ck_assert_uint_eq(role_bit("operator"), ROLE_OPERATOR);
	ck_assert_uint_eq(role_bit("operator"), 32);
}
END_TEST

START_TEST(role_bit_unknown)
{
	ck_assert_uint_eq(role_bit(NULL), 0);
	ck_assert_uint_eq(role_bit(""), 0);
	ck_assert_uint_eq(role_bit("bogus"), 0);
	ck_assert_uint_eq(role_bit("GLOBAL_ADMIN"), 0);
	ck_assert_uint_eq(role_bit("global_admin "), 0);
	ck_assert_uint_eq(role_bit(" global_admin"), 0);
	ck_assert_uint_eq(role_bit("global_admi"), 0);
	ck_assert_uint_eq(role_bit("global_admin,"), 0);
	ck_assert_uint_eq(role_bit("profiles:read"), 0); /* a scope is no role */
}
END_TEST

START_TEST(scope_bit_every_name)
{
	ck_assert_uint_eq(N_SCOPES, 10);
	unsigned seen = 0;
	for (size_t i = 0; i < N_SCOPES; i++) {
		ck_assert_uint_eq(scope_bit(all_scopes[i].name), all_scopes[i].bit);
		ck_assert_uint_eq(all_scopes[i].bit, 1u << i);
		seen |= all_scopes[i].bit;
	}
	ck_assert_uint_eq(seen, SCOPE_ALL);
	ck_assert_uint_eq(scope_bit("profiles:read"), SCOPE_PROFILES_READ);
	ck_assert_uint_eq(scope_bit("relationships:read"), SCOPE_RELATIONSHIPS_READ);
	ck_assert_uint_eq(scope_bit("relationships:write"), SCOPE_RELATIONSHIPS_WRITE);
	ck_assert_uint_eq(scope_bit("customers:read"), SCOPE_CUSTOMERS_READ);
	ck_assert_uint_eq(scope_bit("customers:write"), SCOPE_CUSTOMERS_WRITE);
	ck_assert_uint_eq(scope_bit("agreements:read"), SCOPE_AGREEMENTS_READ);
}
END_TEST

START_TEST(scope_bit_unknown)
{
	ck_assert_uint_eq(scope_bit(NULL), 0);
	ck_assert_uint_eq(scope_bit(""), 0);
	ck_assert_uint_eq(scope_bit("profiles"), 0);
	ck_assert_uint_eq(scope_bit("profiles:write"), 0);
	ck_assert_uint_eq(scope_bit("Profiles:Read"), 0);
	ck_assert_uint_eq(scope_bit("profiles:read "), 0);
	ck_assert_uint_eq(scope_bit("*"), 0);
	ck_assert_uint_eq(scope_bit("operator"), 0); /* a role is no scope */
}
END_TEST

/* ---- csv ---- */

START_TEST(roles_from_csv_bits)
{
	ck_assert_uint_eq(roles_from_csv("global_admin,admin_agent,bogus"),
			  ROLE_GLOBAL_ADMIN | ROLE_ADMIN_AGENT);
	ck_assert_uint_eq(roles_from_csv("global_admin,admin_agent,bogus"), 3);
	ck_assert_uint_eq(roles_from_csv("operator"), ROLE_OPERATOR);
	ck_assert_uint_eq(roles_from_csv("operator,operator"), ROLE_OPERATOR);
	ck_assert_uint_eq(roles_from_csv("global_admin,admin_agent,sales_agent,helpdesk_agent,"
					 "billing_admin,operator"),
			  0x3F);
	/* empty items anywhere are ignored */
	ck_assert_uint_eq(roles_from_csv(",operator"), ROLE_OPERATOR);
	ck_assert_uint_eq(roles_from_csv("operator,"), ROLE_OPERATOR);
	ck_assert_uint_eq(roles_from_csv("sales_agent,,billing_admin"),
			  ROLE_SALES_AGENT | ROLE_BILLING_ADMIN);
	/* no trimming: " operator" is not a role */
	ck_assert_uint_eq(roles_from_csv("admin_agent, operator"), ROLE_ADMIN_AGENT);
	/* scopes are not roles */
	ck_assert_uint_eq(roles_from_csv("profiles:read,operator"), ROLE_OPERATOR);
}
END_TEST

START_TEST(csv_empty_and_null)
{
	ck_assert_uint_eq(roles_from_csv(NULL), 0);
	ck_assert_uint_eq(roles_from_csv(""), 0);
	ck_assert_uint_eq(roles_from_csv(","), 0);
	ck_assert_uint_eq(roles_from_csv(",,,"), 0);
	ck_assert_uint_eq(roles_from_csv("bogus"), 0);
	ck_assert_uint_eq(scopes_from_csv(NULL), 0);
	ck_assert_uint_eq(scopes_from_csv(""), 0);
	ck_assert_uint_eq(scopes_from_csv(","), 0);
}
END_TEST

/* A name longer than any real one is skipped without harm, the next still
 * counts. */
START_TEST(csv_long_item)
{
	char csv[400];
	memset(csv, 'x', 300);
	snprintf(csv + 300, sizeof csv - 300, ",operator");
	ck_assert_uint_eq(roles_from_csv(csv), ROLE_OPERATOR);
	/* 64 characters: one more than the name buffer holds, even if it
	 * starts like a real name */
	memset(csv, 0, sizeof csv);
	snprintf(csv, sizeof csv, "global_admin");
	memset(csv + 12, 'x', 64 - 12);
	snprintf(csv + 64, sizeof csv - 64, ",sales_agent");
	ck_assert_uint_eq(roles_from_csv(csv), ROLE_SALES_AGENT);
	memset(csv, 'y', 300);
	csv[300] = '\0';
	ck_assert_uint_eq(scopes_from_csv(csv), 0);
}
END_TEST

START_TEST(scopes_from_csv_bits)
{
	ck_assert_uint_eq(scopes_from_csv(ALL_SCOPES_CSV), SCOPE_ALL);
	ck_assert_uint_eq(scopes_from_csv("customers:write,profiles:read,nope"),
			  SCOPE_CUSTOMERS_WRITE | SCOPE_PROFILES_READ);
	ck_assert_uint_eq(scopes_from_csv("agreements:read"), SCOPE_AGREEMENTS_READ);
}
END_TEST

START_TEST(scopes_to_csv_round_trip)
{
	char buf[200];
	for (unsigned bits = 0; bits <= SCOPE_ALL; bits++) {
		memset(buf, 'Z', sizeof buf);
		scopes_to_csv(bits, buf, sizeof buf);
		ck_assert_msg(scopes_from_csv(buf) == bits, "bits %#x gave '%s'", bits, buf);
		ck_assert_msg(bits == 0 || (buf[0] != ',' && buf[strlen(buf) - 1] != ','),
			      "bits %#x gave '%s'", bits, buf);
	}
	scopes_to_csv(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "");
	scopes_to_csv(SCOPE_ALL, buf, sizeof buf);
	ck_assert_str_eq(buf, ALL_SCOPES_CSV);
	scopes_to_csv(SCOPE_AGREEMENTS_READ | SCOPE_PROFILES_READ, buf, sizeof buf);
	ck_assert_str_eq(buf, "profiles:read,agreements:read");
	/* bits beyond the known ones are ignored */
	scopes_to_csv(~SCOPE_ALL, buf, sizeof buf);
	ck_assert_str_eq(buf, "");
	scopes_to_csv(0xFFFFFFFFu, buf, sizeof buf);
	ck_assert_str_eq(buf, ALL_SCOPES_CSV);
}
END_TEST

/* Every buffer size from 1 up to the full length: nothing is written past
 * the end (the heap buffer has exactly outsz bytes, so ASan would see it),
 * the result is NUL-terminated and a prefix of the full text. */
START_TEST(scopes_to_csv_tiny_buffer)
{
	const size_t full = strlen(ALL_SCOPES_CSV);
	for (size_t outsz = 1; outsz <= full + 1; outsz++) {
		char *out = malloc(outsz);
		ck_assert_ptr_nonnull(out);
		memset(out, 'Z', outsz);
		scopes_to_csv(SCOPE_ALL, out, outsz);
		size_t len = strnlen(out, outsz);
		ck_assert_msg(len < outsz, "size %zu not terminated", outsz);
		ck_assert_msg(strncmp(out, ALL_SCOPES_CSV, len) == 0, "size %zu gave '%s'", outsz,
			      out);
		free(out);
	}
	/* and on the stack, with guards either side */
	char guard[64];
	memset(guard, 'G', sizeof guard);
	scopes_to_csv(SCOPE_ALL, guard + 16, 5);
	ck_assert_uint_eq(strlen(guard + 16), 4);
	for (size_t i = 21; i < sizeof guard; i++)
		ck_assert_int_eq(guard[i], 'G');
	for (size_t i = 0; i < 16; i++)
		ck_assert_int_eq(guard[i], 'G');
}
END_TEST

static void expect_json(cJSON *a, const char *want)
{
	char *text = cJSON_PrintUnformatted(a);
	ck_assert_str_eq(text, want);
	free(text);
	cJSON_Delete(a);
}

START_TEST(roles_to_json_order)
{
	/* bit order, whatever order they were given in */
	expect_json(roles_to_json(ROLE_OPERATOR | ROLE_GLOBAL_ADMIN | ROLE_SALES_AGENT),
		    "[\"global_admin\",\"sales_agent\",\"operator\"]");
	expect_json(roles_to_json(roles_from_csv("operator,billing_admin,admin_agent")),
		    "[\"admin_agent\",\"billing_admin\",\"operator\"]");
	expect_json(roles_to_json(0), "[]");
	expect_json(roles_to_json(0xFFFFFFC0u), "[]");
	expect_json(roles_to_json(0x3F), "[\"global_admin\",\"admin_agent\",\"sales_agent\","
					 "\"helpdesk_agent\",\"billing_admin\",\"operator\"]");
	expect_json(scopes_to_json(SCOPE_ALL),
		    "[\"profiles:read\",\"relationships:read\",\"relationships:write\","
		    "\"customers:read\",\"customers:write\",\"agreements:read\",\"orders:read\","
		    "\"orders:write\",\"events:read\",\"webhooks:write\"]");
	expect_json(scopes_to_json(SCOPE_CUSTOMERS_WRITE | SCOPE_PROFILES_READ),
		    "[\"profiles:read\",\"customers:write\"]");
	expect_json(scopes_to_json(0), "[]");
}
END_TEST

/* ---- API tokens ---- */

static void expect_hex64(const char *h)
{
	ck_assert_uint_eq(strlen(h), 64);
	for (size_t i = 0; i < 64; i++)
		ck_assert_msg(strchr("0123456789abcdef", h[i]) != NULL && h[i] != '\0',
			      "'%s' is not lowercase hex", h);
}

START_TEST(api_token_shape)
{
	/* exactly sized heap buffers: an overrun would show */
	char *token = malloc(API_TOKEN_LEN + 1);
	char *hash = malloc(65);
	char again[65];
	ck_assert(token != NULL && hash != NULL);
	api_token_generate(token, hash);
	ck_assert_uint_eq(API_TOKEN_LEN, 46);
	ck_assert_uint_eq(strlen(token), API_TOKEN_LEN);
	ck_assert_int_eq(strncmp(token, API_TOKEN_PREFIX, 3), 0);
	ck_assert_int_eq(strncmp(token, "tt_", 3), 0);
	for (size_t i = 3; i < API_TOKEN_LEN; i++)
		ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789-_",
				     token[i]) != NULL,
			      "'%s' has '%c'", token, token[i]);
	expect_hex64(hash);
	api_token_hash(token, again);
	ck_assert_str_eq(hash, again);
	free(token);
	free(hash);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(api_tokens_differ)
{
	enum { N = 200 };
	static char tokens[N][API_TOKEN_LEN + 1], hashes[N][65];
	char *sorted[N];
	for (int i = 0; i < N; i++) {
		api_token_generate(tokens[i], hashes[i]);
		ck_assert_uint_eq(strlen(tokens[i]), API_TOKEN_LEN);
		sorted[i] = tokens[i];
	}
	ck_assert_str_ne(tokens[0], tokens[1]);
	ck_assert_str_ne(hashes[0], hashes[1]);
	qsort(sorted, N, sizeof sorted[0], cmp_str);
	for (int i = 1; i < N; i++)
		ck_assert_str_ne(sorted[i - 1], sorted[i]);
}
END_TEST

START_TEST(api_token_hash_vectors)
{
	char h[65];
	/* SHA-256 test vectors (FIPS 180-2) */
	api_token_hash("", h);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	api_token_hash("abc", h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* a token is hashed as the whole string, prefix included */
	char with[65], without[65];
	api_token_hash("tt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", with);
	api_token_hash("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", without);
	expect_hex64(with);
	ck_assert_str_ne(with, without);
}
END_TEST

/* ---- credentials: the Authorization header read without the database ---- */

#define CRED_SECRET "0123456789abcdef0123456789abcdef-unit"

static struct jwt_key *cred_key(const char *issuer)
{
	static struct jwt_key keys[2];
	char err[256];
	struct jwt_key *k = &keys[strcmp(issuer, "https://ours.example") != 0];
	jwt_key_free(k);
	memset(k, 0, sizeof *k);
	ck_assert_msg(jwt_key_load(k, "HS256", NULL, NULL, CRED_SECRET, issuer, "twotier", err,
				   sizeof err) == 0,
		      "%s", err);
	return k;
}

/* 0 with *out, or the problem's status */
static int read_credential(const struct jwt_key *const *keys, size_t n, const char *header,
			   struct credential *out)
{
	struct problem p = {0};
	int rc = auth_credential(keys, n, header, 1900000000LL, "unit", out, &p);
	int status = rc == 0 ? 0 : problem_status(p.kind);
	ck_assert(rc == 0 || p.kind == PROBLEM_UNAUTHENTICATED);
	problem_clear(&p);
	return status;
}

START_TEST(credential_none_and_malformed)
{
	const struct jwt_key *keys[1] = {cred_key("https://ours.example")};
	struct credential c;
	ck_assert_int_eq(read_credential(keys, 1, NULL, &c), 0);
	ck_assert_int_eq(c.kind, CREDENTIAL_NONE);
	ck_assert_int_eq(read_credential(keys, 1, "Basic dXNlcjpwYXNz", &c), 401);
	ck_assert_int_eq(read_credential(keys, 1, "Bearer tt_short", &c), 401);
	ck_assert_int_eq(read_credential(keys, 1, "Bearer not-a-jwt", &c), 401);
	ck_assert_int_eq(c.kind, CREDENTIAL_NONE);
}
END_TEST

START_TEST(credential_api_token_is_its_hash)
{
	const struct jwt_key *keys[1] = {cred_key("https://ours.example")};
	char token[API_TOKEN_LEN + 1], hash[65], header[64];
	struct credential c;
	api_token_generate(token, hash);
	/* the scheme in any case, blanks before the token */
	snprintf(header, sizeof header, "bEARER   %s", token);
	ck_assert_int_eq(read_credential(keys, 1, header, &c), 0);
	ck_assert_int_eq(c.kind, CREDENTIAL_TOKEN);
	ck_assert_str_eq(c.token_hash, hash);
}
END_TEST

START_TEST(credential_jwt_claims_and_issuer)
{
	const struct jwt_key *keys[2] = {cred_key("https://ours.example"),
					 cred_key("https://idp.example")};
	char jti[40], header[1024];
	struct credential c;
	cJSON *roles = cJSON_CreateArray();
	char *ours = jwt_issue(keys[0], "user-1", "tenant-1", roles, 600, 1900000000LL, jti);
	char *theirs = jwt_issue(keys[1], "subject-9", "", roles, 600, 1900000000LL, jti);
	ck_assert(ours != NULL && theirs != NULL);
	snprintf(header, sizeof header, "Bearer %s", ours);
	ck_assert_int_eq(read_credential(keys, 2, header, &c), 0);
	ck_assert_int_eq(c.kind, CREDENTIAL_JWT);
	ck_assert_str_eq(c.sub, "user-1");
	ck_assert_str_eq(c.tid, "tenant-1");
	ck_assert_ptr_null(c.external_issuer);
	snprintf(header, sizeof header, "Bearer %s", theirs);
	ck_assert_int_eq(read_credential(keys, 2, header, &c), 0);
	ck_assert_str_eq(c.sub, "subject-9");
	ck_assert_str_eq(c.external_issuer, "https://idp.example");
	/* without the external issuer's key it is refused */
	ck_assert_int_eq(read_credential(keys, 1, header, &c), 401);
	free(ours);
	free(theirs);
	cJSON_Delete(roles);
}
END_TEST

/* ---- regressions: bugs found once, fixed, kept fixed ---- */

/* Minor: scopes_to_csv writes out[0] before looking at outsz
 * (lib/auth.c, scopes_to_csv), so outsz 0 overruns by one byte. Callers
 * today pass 200-byte buffers. */
START_TEST(scopes_to_csv_zero_size)
{
	char *out = malloc(1);
	ck_assert_ptr_nonnull(out);
	out[0] = 'Z';
	scopes_to_csv(SCOPE_ALL, out, 0); /* must write nothing */
	ck_assert_int_eq(out[0], 'Z');
	free(out);
}
END_TEST

static TCase *auth_regressions(void)
{
	TCase *tc = tcase_create("regressions");
	tcase_add_test(tc, scopes_to_csv_zero_size);
	return tc;
}

Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *names = tcase_create("names");
	tcase_add_test(names, role_bit_every_name);
	tcase_add_test(names, role_bit_unknown);
	tcase_add_test(names, scope_bit_every_name);
	tcase_add_test(names, scope_bit_unknown);
	tcase_add_test(names, roles_from_csv_bits);
	tcase_add_test(names, csv_empty_and_null);
	tcase_add_test(names, csv_long_item);
	tcase_add_test(names, scopes_from_csv_bits);
	tcase_add_test(names, scopes_to_csv_round_trip);
	tcase_add_test(names, scopes_to_csv_tiny_buffer);
	tcase_add_test(names, roles_to_json_order);
	suite_add_tcase(s, names);

	TCase *tokens = tcase_create("api tokens");
	tcase_add_test(tokens, api_token_shape);
	tcase_add_test(tokens, api_tokens_differ);
	tcase_add_test(tokens, api_token_hash_vectors);
	suite_add_tcase(s, tokens);

	TCase *credentials = tcase_create("credentials");
	tcase_add_test(credentials, credential_none_and_malformed);
	tcase_add_test(credentials, credential_api_token_is_its_hash);
	tcase_add_test(credentials, credential_jwt_claims_and_issuer);
	suite_add_tcase(s, credentials);
	suite_add_tcase(s, auth_regressions());
	return s;
}
