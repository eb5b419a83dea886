#include "suites.h"

START_TEST(placeholder_json)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, placeholder_json);
	suite_add_tcase(s, tc);
	return s;
}
