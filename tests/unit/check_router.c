#include "suites.h"

START_TEST(placeholder_router)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, placeholder_router);
	suite_add_tcase(s, tc);
	return s;
}
