#include "core/problem.h"
#include "http/http.h"
#include "http/json.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Written out by hand, not from PROBLEM_KINDS, so that the test can
 * catch a wrong row in the table. */
static const struct {
	enum problem_kind kind;
	int status;
	const char *slug;
} expected[] = {
    {PROBLEM_NONE, 200, "none"},
    {PROBLEM_MALFORMED_REQUEST, 400, "malformed-request"},
    {PROBLEM_MALFORMED_JSON, 400, "malformed-json"},
    {PROBLEM_VALIDATION, 400, "validation-failed"},
    {PROBLEM_UNAUTHENTICATED, 401, "unauthenticated"},
    {PROBLEM_FORBIDDEN, 403, "forbidden"},
    {PROBLEM_NOT_FOUND, 404, "not-found"},
    {PROBLEM_METHOD_NOT_ALLOWED, 405, "method-not-allowed"},
    {PROBLEM_CONFLICT, 409, "conflict"},
    {PROBLEM_GONE, 410, "gone"},
    {PROBLEM_PRECONDITION_FAILED, 412, "precondition-failed"},
    {PROBLEM_PAYLOAD_TOO_LARGE, 413, "payload-too-large"},
    {PROBLEM_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type"},
    {PROBLEM_RULE_REFUSED, 422, "rule-refused"},
    {PROBLEM_PRECONDITION_REQUIRED, 428, "precondition-required"},
    {PROBLEM_TOO_MANY_REQUESTS, 429, "too-many-requests"},
    {PROBLEM_INTERNAL, 500, "internal-error"},
    {PROBLEM_UNAVAILABLE, 503, "service-unavailable"},
};

START_TEST(every_kind_has_its_status)
{
	size_t n = sizeof expected / sizeof expected[0];
	ck_assert_uint_eq(n, PROBLEM__COUNT);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(problem_status(expected[i].kind), expected[i].status);
		ck_assert_str_eq(problem_slug(expected[i].kind), expected[i].slug);
		ck_assert_ptr_nonnull(problem_title(expected[i].kind));
		ck_assert_str_ne(problem_title(expected[i].kind), "");
	}
}
END_TEST

START_TEST(every_kind_status_is_one_the_service_sends)
{
	for (int k = 0; k < PROBLEM__COUNT; k++)
		ck_assert_ptr_nonnull(http_reason(problem_status((enum problem_kind)k)));
	ck_assert_ptr_null(http_reason(418));
	ck_assert_ptr_null(http_reason(0));
	ck_assert_str_eq(http_reason(422), "Unprocessable Content");
}
END_TEST

START_TEST(out_of_range_kind_is_internal)
{
	const enum problem_kind bad[] = {PROBLEM__COUNT, (enum problem_kind)9999,
					 (enum problem_kind) - 1};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(problem_status(bad[i]), 500);
		ck_assert_str_eq(problem_slug(bad[i]), "internal-error");
		ck_assert_ptr_nonnull(problem_title(bad[i]));
		ck_assert_str_eq(problem_title(bad[i]), problem_title(PROBLEM_INTERNAL));
	}
}
END_TEST

START_TEST(set_formats_and_returns_minus_one)
{
	struct problem p = {0};
	ck_assert_int_eq(problem_set(&p, PROBLEM_NOT_FOUND, "no %s %d", "user", 7), -1);
	ck_assert_int_eq(p.kind, PROBLEM_NOT_FOUND);
	ck_assert_str_eq(p.detail, "no user 7");
	ck_assert_ptr_null(p.errors);
	problem_clear(&p);
}
END_TEST

START_TEST(set_truncates_long_detail)
{
	struct problem p = {0};
	char big[1001];
	memset(big, 'd', 1000);
	big[1000] = '\0';
	p.code[0] = 'c'; /* the byte after detail must survive */
	problem_set(&p, PROBLEM_CONFLICT, "%s", big);
	ck_assert_uint_eq(strlen(p.detail), sizeof p.detail - 1);
	ck_assert_int_eq(strncmp(p.detail, big, sizeof p.detail - 1), 0);
	ck_assert_int_eq(p.code[0], 'c');
	problem_clear(&p);
}
END_TEST

START_TEST(refuse_sets_the_code_beside_kind_and_detail)
{
	struct problem p = {0};
	char code[100];
	ck_assert_int_eq(problem_refuse(&p, PROBLEM_FORBIDDEN, "not_provider", "the %s", "rule"),
			 -1);
	ck_assert_int_eq(p.kind, PROBLEM_FORBIDDEN);
	ck_assert_str_eq(p.code, "not_provider");
	ck_assert_str_eq(p.detail, "the rule");
	memset(code, 'c', sizeof code - 1);
	code[sizeof code - 1] = '\0';
	problem_refuse(&p, PROBLEM_CONFLICT, code, "x"); /* a code longer than its field: cut */
	ck_assert_uint_eq(strlen(p.code), sizeof p.code - 1);
	ck_assert_str_eq(p.detail, "x");
	problem_clear(&p);
}
END_TEST

START_TEST(add_field_sets_validation)
{
	struct problem p = {0};
	ck_assert_int_eq(problem_add_field(&p, "admin.email", "invalid", "bad %s", "address"), -1);
	ck_assert_int_eq(p.kind, PROBLEM_VALIDATION);
	ck_assert_str_ne(p.detail, "");
	problem_add_field(&p, "domain", "required", "is required");
	ck_assert(cJSON_IsArray(p.errors));
	ck_assert_int_eq(cJSON_GetArraySize(p.errors), 2);
	const cJSON *e = cJSON_GetArrayItem(p.errors, 0);
	ck_assert_str_eq(json_str(e, "field"), "admin.email");
	ck_assert_str_eq(json_str(e, "code"), "invalid");
	ck_assert_str_eq(json_str(e, "message"), "bad address");
	e = cJSON_GetArrayItem(p.errors, 1);
	ck_assert_str_eq(json_str(e, "field"), "domain");
	problem_clear(&p);
}
END_TEST

START_TEST(add_field_keeps_earlier_kind)
{
	struct problem p = {0};
	problem_set(&p, PROBLEM_CONFLICT, "taken");
	problem_add_field(&p, "domain", "taken", "is taken");
	ck_assert_int_eq(p.kind, PROBLEM_CONFLICT);
	ck_assert_str_eq(p.detail, "taken");
	ck_assert_int_eq(cJSON_GetArraySize(p.errors), 1);
	problem_clear(&p);
}
END_TEST

START_TEST(add_field_truncates_long_message)
{
	struct problem p = {0};
	char big[1001];
	memset(big, 'm', 1000);
	big[1000] = '\0';
	problem_add_field(&p, "f", "c", "%s", big);
	const char *msg = json_str(cJSON_GetArrayItem(p.errors, 0), "message");
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_lt(strlen(msg), 1000);
	ck_assert_uint_gt(strlen(msg), 0);
	problem_clear(&p);
}
END_TEST

START_TEST(to_json_has_all_members)
{
	struct problem p = {0};
	problem_add_field(&p, "name", "required", "is required");
	snprintf(p.code, sizeof p.code, "some_reason");
	cJSON *doc = problem_to_json(&p, "req-1");
	const char *type = json_str(doc, "type");
	ck_assert_ptr_nonnull(type);
	ck_assert_int_eq(strncmp(type, PROBLEM_TYPE_BASE, strlen(PROBLEM_TYPE_BASE)), 0);
	ck_assert_str_eq(type + strlen(PROBLEM_TYPE_BASE), "validation-failed");
	ck_assert_str_eq(json_str(doc, "title"), problem_title(PROBLEM_VALIDATION));
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	ck_assert(cJSON_IsNumber(status));
	ck_assert_int_eq(status->valueint, 400);
	ck_assert_str_eq(json_str(doc, "detail"), p.detail);
	ck_assert_str_eq(json_str(doc, "requestId"), "req-1");
	ck_assert_str_eq(json_str(doc, "code"), "some_reason");
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(doc, "errors");
	ck_assert(cJSON_IsArray(errors));
	ck_assert_int_eq(cJSON_GetArraySize(errors), 1);
	ck_assert_str_eq(json_str(cJSON_GetArrayItem(errors, 0), "field"), "name");
	cJSON_Delete(doc);
	problem_clear(&p);
}
END_TEST

START_TEST(to_json_without_optional_members)
{
	struct problem p = {0};
	problem_set(&p, PROBLEM_NOT_FOUND, "%s", "");
	cJSON *doc = problem_to_json(&p, NULL);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc, "requestId"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc, "errors"));
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(doc, "code"));
	/* an empty detail falls back to the title */
	ck_assert_str_eq(json_str(doc, "detail"), problem_title(PROBLEM_NOT_FOUND));
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(doc, "status")->valueint, 404);
	cJSON_Delete(doc);
	problem_clear(&p);
}
END_TEST

START_TEST(to_json_out_of_range_kind)
{
	struct problem p = {0};
	p.kind = (enum problem_kind)9999;
	cJSON *doc = problem_to_json(&p, "r");
	ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(doc, "status")->valueint, 500);
	ck_assert_str_eq(json_str(doc, "type"), PROBLEM_TYPE_BASE "internal-error");
	cJSON_Delete(doc);
}
END_TEST

/* The document only references p.errors: both can be released in either order. */
START_TEST(to_json_does_not_steal_errors)
{
	struct problem p = {0};
	problem_add_field(&p, "a", "b", "c");
	cJSON *doc = problem_to_json(&p, NULL);
	cJSON_Delete(doc);
	ck_assert_int_eq(cJSON_GetArraySize(p.errors), 1);
	char *printed = json_print(p.errors, NULL);
	ck_assert_str_eq(printed, "[{\"field\":\"a\",\"code\":\"b\",\"message\":\"c\"}]");
	free(printed);
	problem_clear(&p);
}
END_TEST

START_TEST(clear_resets)
{
	struct problem p = {0};
	problem_add_field(&p, "a", "b", "c");
	snprintf(p.code, sizeof p.code, "x");
	p.retry_after = 30;
	problem_clear(&p);
	ck_assert_int_eq(p.kind, PROBLEM_NONE);
	ck_assert_str_eq(p.detail, "");
	ck_assert_str_eq(p.code, "");
	ck_assert_ptr_null(p.errors);
	ck_assert_int_eq(p.retry_after, 0);
	problem_clear(&p); /* twice is harmless */
	ck_assert_ptr_null(p.errors);
}
END_TEST

Suite *problem_suite(void)
{
	Suite *s = suite_create("problem");
	TCase *kinds = tcase_create("kinds");
	tcase_add_test(kinds, every_kind_has_its_status);
	tcase_add_test(kinds, out_of_range_kind_is_internal);
	tcase_add_test(kinds, every_kind_status_is_one_the_service_sends);
	suite_add_tcase(s, kinds);

	TCase *build = tcase_create("build");
	tcase_add_test(build, set_formats_and_returns_minus_one);
	tcase_add_test(build, set_truncates_long_detail);
	tcase_add_test(build, refuse_sets_the_code_beside_kind_and_detail);
	tcase_add_test(build, add_field_sets_validation);
	tcase_add_test(build, add_field_keeps_earlier_kind);
	tcase_add_test(build, add_field_truncates_long_message);
	tcase_add_test(build, to_json_has_all_members);
	tcase_add_test(build, to_json_without_optional_members);
	tcase_add_test(build, to_json_out_of_range_kind);
	tcase_add_test(build, to_json_does_not_steal_errors);
	tcase_add_test(build, clear_resets);
	suite_add_tcase(s, build);
	return s;
}
