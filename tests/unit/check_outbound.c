/* Where a webhook may go: the URL's form, and the addresses refused
 * before any connection (SSRF), with the test-only name map. */
#include "core/outbound.h"
#include "suites.h"

#include <string.h>

START_TEST(urls)
{
	struct outbound_url u;
	const char *why = NULL;
	ck_assert_int_eq(outbound_url_parse("https://Hooks.Example.com/in?x=1", false, &u, &why),
			 0);
	ck_assert_str_eq(u.host, "hooks.example.com");
	ck_assert_uint_eq(u.port, 443);
	ck_assert_int_eq(outbound_url_parse("https://[2001:db8::1]:8443/", false, &u, &why), 0);
	ck_assert_str_eq(u.host, "2001:db8::1");
	ck_assert_uint_eq(u.port, 8443);
	ck_assert_int_eq(outbound_url_parse("http://127.0.0.5:9/h", true, &u, &why), 0);
	ck_assert(!u.https);
	static const char *const bad[] = {
	    "http://a.example/",	  "ftp://a.example/",	  "https://",
	    "https://user:pw@a.example/", "https://a.example:0/", "https://a.example:99999/",
	    "https://a.example:x/",	  "https://a .example/",  "https://[::1/",
	    "https://a.example:/",	  "//a.example/",	  "https://\xc3\xa9.example/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(outbound_url_parse(bad[i], false, &u, &why) == -1, "%s", bad[i]);
}
END_TEST

START_TEST(addresses)
{
	static const char *const refused[] = {
	    "127.0.0.1",       "10.1.2.3",	  "172.16.0.1",	   "172.31.255.255",
	    "192.168.1.1",     "169.254.169.254", "100.64.0.1",	   "0.0.0.0",
	    "224.0.0.1",       "255.255.255.255", "::1",	   "::",
	    "fe80::1",	       "fc00::1",	  "fd12::1",	   "::ffff:127.0.0.1",
	    "::ffff:10.0.0.1", "2001:db8::1",	  "not an address"};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
		ck_assert_msg(!outbound_address_allowed(refused[i], ""), "%s", refused[i]);
	static const char *const public_[] = {"93.184.216.34", "172.32.0.1", "8.8.8.8",
					      "2606:4700::1111", "::ffff:8.8.8.8"};
	for (size_t i = 0; i < sizeof public_ / sizeof public_[0]; i++)
		ck_assert_msg(outbound_address_allowed(public_[i], ""), "%s", public_[i]);
	ck_assert(outbound_address_allowed("127.0.0.5", "127.0.0.0/8"));
	ck_assert(!outbound_address_allowed("10.0.0.5", "127.0.0.0/8"));
	ck_assert(outbound_address_allowed("fd00::5", "10.0.0.0/8, fd00::/8"));
}
END_TEST

static int fake_dns(const char *host, char *out, size_t outsz)
{
	/* one public and one private address: the name is refused whole */
	static const char both[] = "93.184.216.34\0"
				   "10.0.0.7\0";
	if (strcmp(host, "mixed.example") == 0 && outsz >= sizeof both) {
		memcpy(out, both, sizeof both);
		return 0;
	}
	return -1;
}

START_TEST(resolving)
{
	char addr[64];
	const char *why = NULL;
	ck_assert_int_eq(outbound_resolve("93.184.216.34", "", "", fake_dns, addr, &why), 0);
	ck_assert_str_eq(addr, "93.184.216.34");
	ck_assert_int_eq(outbound_resolve("mixed.example", "", "", fake_dns, addr, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "private"));
	ck_assert_int_eq(outbound_resolve("nowhere.example", "", "", fake_dns, addr, &why), -1);
	/* the test-only map answers first, and its answer is judged too */
	ck_assert_int_eq(
	    outbound_resolve("hook.test", "hook.test=10.0.0.9", "", fake_dns, addr, &why), -1);
	ck_assert_int_eq(outbound_resolve("hook.test", "x=1.1.1.1, hook.test=127.0.0.7",
					  "127.0.0.0/8", fake_dns, addr, &why),
			 0);
	ck_assert_str_eq(addr, "127.0.0.7");
}
END_TEST

Suite *outbound_suite(void)
{
	Suite *s = suite_create("outbound");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, urls);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, resolving);
	suite_add_tcase(s, tc);
	return s;
}
