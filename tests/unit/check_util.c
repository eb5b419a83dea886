#include "suites.h"

START_TEST(placeholder_util)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, placeholder_util);
	suite_add_tcase(s, tc);
	return s;
}
