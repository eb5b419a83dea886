/* Runs every unit suite; exit status tells. */
#include "core/xalloc.h"
#include "suites.h"

#include <sodium.h>
#include <stdlib.h>

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	xalloc_init_cjson();
	SRunner *sr = srunner_create(router_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, problem_suite());
	srunner_add_suite(sr, util_suite());
	srunner_add_suite(sr, jwt_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, password_suite());
	srunner_add_suite(sr, mail_suite());
	srunner_add_suite(sr, totp_suite());
	srunner_add_suite(sr, outbound_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
