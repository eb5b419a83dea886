#include "suites.h"

START_TEST(placeholder_problem)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *problem_suite(void)
{
	Suite *s = suite_create("problem");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, placeholder_problem);
	suite_add_tcase(s, tc);
	return s;
}
