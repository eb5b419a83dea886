#include "http/http.h"
#include "http/router.h"
#include "suites.h"

#include <stdio.h>
#include <string.h>

/* The matcher reads only method and pattern; access, flags and handler stay zero. */
static const struct route table[] = {
    {.method = "GET", .pattern = "/v1/ping", .name = "ping"},
    {.method = "GET", .pattern = "/v1/users", .name = "users.list"},
    {.method = "POST", .pattern = "/v1/users", .name = "users.create"},
    {.method = "GET", .pattern = "/v1/users/{id}", .name = "users.get"},
    {.method = "DELETE", .pattern = "/v1/users/{id}", .name = "users.delete"},
    {.method = "GET", .pattern = "/v1/tenants/{tid}/users/{uid}", .name = "tenant.user"},
    {.method = "GET", .pattern = "/v1/orders/{id:uuid}", .name = "orders.get"},
    {.method = "PUT", .pattern = "/v1/orders/{id:uuid}/lines/{line:uuid}", .name = "lines.put"},
    {.method = "GET", .pattern = "/v1/odd/{id:nokind}", .name = "odd.get"},
};
#define N_ROUTES (sizeof table / sizeof table[0])

/* Runs the matcher with a roomy Allow buffer. */
static enum route_result match(const char *method, const char *path, struct route_match *m,
			       char allow[64])
{
	memset(m, 0xA5, sizeof *m); /* garbage, so stale fields would show */
	return router_match(table, N_ROUTES, method, path, m, allow, 64);
}

START_TEST(exact_match)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/ping", &m, allow), ROUTE_FOUND);
	ck_assert_ptr_eq(m.route, &table[0]);
	ck_assert_uint_eq(m.index, 0);
	ck_assert_uint_eq(m.n_captures, 0);
	ck_assert_str_eq(m.route->name, "ping");
}
END_TEST

START_TEST(same_path_picks_method)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("POST", "/v1/users", &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(m.index, 2);
	ck_assert_int_eq(match("GET", "/v1/users", &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(m.index, 1);
}
END_TEST

START_TEST(one_capture)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/users/42", &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(m.index, 3);
	ck_assert_uint_eq(m.n_captures, 1);
	ck_assert_str_eq(m.captures[0], "42");
}
END_TEST

START_TEST(two_captures_are_copied)
{
	struct route_match m;
	char allow[64];
	char path[] = "/v1/tenants/t-1/users/u-2";
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(m.index, 5);
	ck_assert_uint_eq(m.n_captures, 2);
	memset(path, 'x', sizeof path - 1); /* captures must not point into path */
	ck_assert_str_eq(m.captures[0], "t-1");
	ck_assert_str_eq(m.captures[1], "u-2");
}
END_TEST

START_TEST(unknown_path_is_404)
{
	struct route_match m;
	char allow[64] = "stale";
	ck_assert_int_eq(match("GET", "/v1/nothing", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_str_eq(allow, "");
	ck_assert_int_eq(match("GET", "", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/", &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(wrong_method_is_405_with_allow)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("DELETE", "/v1/users", &m, allow), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET, POST");
	ck_assert_int_eq(match("PUT", "/v1/users/7", &m, allow), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET, DELETE");
	ck_assert_int_eq(match("POST", "/v1/ping", &m, allow), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

START_TEST(method_is_case_sensitive)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("get", "/v1/ping", &m, allow), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

START_TEST(allow_lists_each_method_once)
{
	static const struct route dup[] = {
	    {.method = "GET", .pattern = "/a", .name = "a1"},
	    {.method = "GET", .pattern = "/{x}", .name = "a2"},
	    {.method = "POST", .pattern = "/a", .name = "a3"},
	};
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(router_match(dup, 3, "PATCH", "/a", &m, allow, sizeof allow),
			 ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET, POST");
}
END_TEST

START_TEST(trailing_slash_does_not_match)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/ping/", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/users/42/", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/users/", &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(empty_segment_is_no_capture)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/tenants//users/u", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/tenants/t/users/", &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(capture_length_boundary)
{
	struct route_match m;
	char allow[64];
	char path[128] = "/v1/users/";
	size_t base = strlen(path);
	memset(path + base, 'a', ROUTE_CAPTURE_MAX);
	path[base + ROUTE_CAPTURE_MAX] = '\0';
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(strlen(m.captures[0]), ROUTE_CAPTURE_MAX);
	ck_assert_str_eq(m.captures[0], path + base);

	path[base + ROUTE_CAPTURE_MAX] = 'a';
	path[base + ROUTE_CAPTURE_MAX + 1] = '\0';
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(null_method_or_path)
{
	struct route_match m;
	char allow[64] = "stale";
	ck_assert_int_eq(match(NULL, "/v1/ping", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_str_eq(allow, "");
	ck_assert_int_eq(match("GET", NULL, &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match(NULL, NULL, &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

/* The adapter strips the query; the router must not interpret one. */
START_TEST(query_chars_are_literal)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/ping?x=1", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/users/42?x=1", &m, allow), ROUTE_FOUND);
	ck_assert_str_eq(m.captures[0], "42?x=1");
	ck_assert_int_eq(match("GET", "/v1/users/a%2Fb", &m, allow), ROUTE_FOUND);
	ck_assert_str_eq(m.captures[0], "a%2Fb");
}
END_TEST

START_TEST(very_long_path)
{
	struct route_match m;
	char allow[64];
	enum { LEN = 100000 };
	static char path[LEN + 1];
	memset(path, 'a', LEN);
	path[0] = '/';
	path[LEN] = '\0';
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_NOT_FOUND);
	memcpy(path, "/v1/users/", 10);
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(prefix_is_not_a_match)
{
	struct route_match m;
	char allow[64];
	/* pattern is a prefix of the path */
	ck_assert_int_eq(match("GET", "/v1/pingpong", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/ping/x", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/users/1/extra", &m, allow), ROUTE_NOT_FOUND);
	/* path is a prefix of the pattern */
	ck_assert_int_eq(match("GET", "/v1/pin", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/tenants/t/users", &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(tiny_allow_buffer_truncates)
{
	struct route_match m;
	char allow[16];
	for (size_t sz = 1; sz <= 10; sz++) {
		memset(allow, '#', sizeof allow);
		ck_assert_int_eq(router_match(table, N_ROUTES, "PUT", "/v1/users", &m, allow, sz),
				 ROUTE_METHOD_NOT_ALLOWED);
		ck_assert_uint_lt(strlen(allow), sz);
		ck_assert_int_eq(strncmp(allow, "GET, POST", strlen(allow)), 0);
		for (size_t i = sz; i < sizeof allow; i++)
			ck_assert_int_eq(allow[i], '#');
	}
	ck_assert_str_eq(allow, "GET, POST");
}
END_TEST

START_TEST(zero_allow_buffer)
{
	struct route_match m;
	ck_assert_int_eq(router_match(table, N_ROUTES, "PUT", "/v1/users", &m, NULL, 0),
			 ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_int_eq(router_match(table, N_ROUTES, "GET", "/v1/users", &m, NULL, 0),
			 ROUTE_FOUND);
}
END_TEST

START_TEST(empty_table)
{
	struct route_match m;
	char allow[8];
	ck_assert_int_eq(router_match(table, 0, "GET", "/v1/ping", &m, allow, sizeof allow),
			 ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(uuid_kind_takes_only_a_canonical_uuid)
{
	struct route_match m;
	char allow[64];
	const char *id = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
	char path[128];
	snprintf(path, sizeof path, "/v1/orders/%s", id);
	ck_assert_int_eq(match("GET", path, &m, allow), ROUTE_FOUND);
	ck_assert_str_eq(m.route->name, "orders.get");
	ck_assert_str_eq(m.captures[0], id);
	/* not a UUID, an upper-case one, one too short: no resource there */
	ck_assert_int_eq(match("GET", "/v1/orders/1", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/orders/0192F3A4-5B6C-7D8E-9F01-23456789ABCD", &m, allow),
			 ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("GET", "/v1/orders/0192f3a4-5b6c-7d8e-9f01-23456789abc", &m, allow),
			 ROUTE_NOT_FOUND);
	/* a path of a known shape with a bad id is not a 405 either */
	ck_assert_int_eq(match("DELETE", "/v1/orders/1", &m, allow), ROUTE_NOT_FOUND);
	ck_assert_int_eq(match("DELETE", path, &m, allow), ROUTE_METHOD_NOT_ALLOWED);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

START_TEST(every_capture_is_checked)
{
	struct route_match m;
	char allow[64];
	const char *a = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
	char path[160];
	snprintf(path, sizeof path, "/v1/orders/%s/lines/%s", a, a);
	ck_assert_int_eq(match("PUT", path, &m, allow), ROUTE_FOUND);
	ck_assert_uint_eq(m.n_captures, 2);
	snprintf(path, sizeof path, "/v1/orders/%s/lines/x", a);
	ck_assert_int_eq(match("PUT", path, &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(unknown_kind_matches_nothing)
{
	struct route_match m;
	char allow[64];
	ck_assert_int_eq(match("GET", "/v1/odd/x", &m, allow), ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(a_location_path_goes_under_the_mount)
{
	struct response res = {0};
	response_header(&res, "ETag", "\"1\"");
	response_header(&res, "Location", "/v1/users/42");
	response_locate_under(&res, "/api");
	ck_assert_str_eq(res.headers[0].value, "\"1\"");
	ck_assert_str_eq(res.headers[1].value, "/api/v1/users/42");
	response_clear(&res);
	response_header(&res, "Location", "https://elsewhere.example/x"); /* not a path: kept */
	response_locate_under(&res, "/api");
	response_locate_under(&res, ""); /* at the root: nothing to do */
	response_locate_under(&res, NULL);
	ck_assert_str_eq(res.headers[0].value, "https://elsewhere.example/x");
	response_clear(&res);
}
END_TEST

Suite *router_suite(void)
{

	Suite *s = suite_create("router");
	TCase *tc = tcase_create("match");
	tcase_add_test(tc, exact_match);
	tcase_add_test(tc, same_path_picks_method);
	tcase_add_test(tc, one_capture);
	tcase_add_test(tc, two_captures_are_copied);
	tcase_add_test(tc, unknown_path_is_404);
	tcase_add_test(tc, wrong_method_is_405_with_allow);
	tcase_add_test(tc, method_is_case_sensitive);
	tcase_add_test(tc, allow_lists_each_method_once);
	tcase_add_test(tc, trailing_slash_does_not_match);
	tcase_add_test(tc, empty_segment_is_no_capture);
	tcase_add_test(tc, capture_length_boundary);
	tcase_add_test(tc, null_method_or_path);
	tcase_add_test(tc, query_chars_are_literal);
	tcase_add_test(tc, very_long_path);
	tcase_add_test(tc, prefix_is_not_a_match);
	tcase_add_test(tc, tiny_allow_buffer_truncates);
	tcase_add_test(tc, zero_allow_buffer);
	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, uuid_kind_takes_only_a_canonical_uuid);
	tcase_add_test(tc, every_capture_is_checked);
	tcase_add_test(tc, unknown_kind_matches_nothing);
	tcase_add_test(tc, a_location_path_goes_under_the_mount);
	suite_add_tcase(s, tc);
	return s;
}
