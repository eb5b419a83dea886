/* Password hashing and its slots: without a pool nothing is limited; with
 * one, a slot more than the pool has is refused at once with a 503 that
 * says why, and the pool's threads hash and verify for the caller. */
#include "auth/password.h"
#include "core/problem.h"
#include "suites.h"

#include <string.h>

START_TEST(no_pool_no_limit)
{
	struct problem p = {0};
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(password_slot_take(&p), 0);
	for (int i = 0; i < 64; i++)
		password_slot_give();
	ck_assert_int_eq(p.kind, PROBLEM_NONE);
}
END_TEST

START_TEST(slots_of_a_pool)
{
	struct problem p = {0};
	char hash[PASSWORD_HASH_MAX];
	ck_assert_int_eq(password_pool_start(2), 0);
	ck_assert_int_eq(password_slot_take(&p), 0);
	ck_assert_int_eq(password_slot_take(&p), 0);
	ck_assert_int_eq(password_slot_take(&p), -1);
	ck_assert_int_eq(problem_status(p.kind), 503);
	ck_assert_str_eq(p.code, "password_slots_busy");
	ck_assert_int_eq(p.retry_after, 1);
	problem_clear(&p);
	memset(&p, 0, sizeof p);
	/* a bounded hash needs a free slot too */
	ck_assert_int_eq(password_hash_bounded("a long enough password", hash, &p), -1);
	ck_assert_str_eq(p.code, "password_slots_busy");
	problem_clear(&p);
	memset(&p, 0, sizeof p);
	password_slot_give();
	/* the pool's thread does the work; the result is the caller's */
	ck_assert_int_eq(password_slot_hash("a long enough password", hash), 0);
	ck_assert(strncmp(hash, "$argon2id$", 10) == 0);
	ck_assert(password_slot_verify("a long enough password", hash));
	ck_assert(!password_slot_verify("another password!", hash));
	password_slot_give();
	ck_assert_int_eq(password_hash_bounded("a long enough password", hash, &p), 0);
	ck_assert(password_verify("a long enough password", hash));
	password_pool_stop();
	/* stopped: no limit again */
	ck_assert_int_eq(password_slot_take(&p), 0);
	password_slot_give();
	ck_assert_int_eq(p.kind, PROBLEM_NONE);
}
END_TEST

Suite *password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *t = tcase_create("slots");
	tcase_set_timeout(t, 60); /* argon2id under the sanitizers */
	tcase_add_test(t, no_pool_no_limit);
	tcase_add_test(t, slots_of_a_pool);
	suite_add_tcase(s, t);
	return s;
}
