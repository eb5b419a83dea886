#include "core/config.h"
#include "suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses text over the defaults; err receives the message. */
static int parse(struct config *cfg, const char *text, char *err, size_t errsz)
{
	config_defaults(cfg);
	err[0] = '\0';
	return config_parse(cfg, text, "test.conf", err, errsz);
}

/* Expects text to fail with a message containing want. */
static void expect_error(const char *text, const char *want)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, text, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

START_TEST(defaults)
{
	struct config cfg;
	memset(&cfg, 0xA5, sizeof cfg);
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.listen, "unix:/run/twotier/twotier.sock");
	ck_assert_uint_eq(cfg.socket_mode, 0660);
	ck_assert_int_eq(cfg.threads, 4);
	ck_assert_int_eq(cfg.backlog, 1024);
	ck_assert_str_eq(cfg.socket_user, "");
	ck_assert_str_eq(cfg.socket_group, "");
	ck_assert_str_eq(cfg.db_host, "localhost");
	ck_assert_int_eq(cfg.db_port, 3306);
	ck_assert_str_eq(cfg.db_socket, "");
	ck_assert_str_eq(cfg.db_user, "twotier");
	ck_assert_str_eq(cfg.db_password, "");
	ck_assert_str_eq(cfg.db_name, "twotier");
	ck_assert_str_eq(cfg.sql_dir, TWOTIER_SQL_DIR); /* $(datadir)/twotier/sql */
	ck_assert_int_eq(cfg.body_limit, 64 * 1024);
	ck_assert_str_eq(cfg.mail_dir, "/var/spool/twotier/mail");
	ck_assert(cfg.signup_open);
	ck_assert_int_eq(cfg.shutdown_timeout, 5);
	ck_assert_str_eq(cfg.log_level, "info");
	ck_assert_int_eq(cfg.max_connections, 1024);
	ck_assert_int_eq(cfg.hash_concurrency, 0); /* half the threads */
	ck_assert_int_eq(cfg.purge_interval, 300);
}
END_TEST

START_TEST(limits_of_the_house)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg,
			       "max_connections = 16\nhash_concurrency = 1\npurge_interval = 0\n",
			       err, sizeof err),
			 0);
	ck_assert_int_eq(cfg.max_connections, 16);
	ck_assert_int_eq(cfg.hash_concurrency, 1);
	ck_assert_int_eq(cfg.purge_interval, 0);
	ck_assert_int_eq(
	    parse(&cfg, "max_connections = 65536\npurge_interval = 86400\n", err, sizeof err), 0);
	expect_error("max_connections = 15\n", "out of range");
	expect_error("max_connections = 65537\n", "out of range");
	expect_error("hash_concurrency = -1\n", "out of range");
	expect_error("hash_concurrency = 257\n", "out of range");
	expect_error("purge_interval = 86401\n", "out of range");
	expect_error("\n\npurge_interval = soon\n", "test.conf:3:");
}
END_TEST

/* webhook_lease: 0 follows webhook_timeout; a value of its own stands */
START_TEST(webhook_lease_default_follows_the_timeout)
{
	struct config cfg;
	char err[256];
	config_defaults(&cfg);
	ck_assert_int_eq(cfg.webhook_lease, 0);
	ck_assert_int_eq(config_webhook_lease(&cfg), 40);
	ck_assert_int_eq(parse(&cfg, "webhook_timeout = 3\n", err, sizeof err), 0);
	ck_assert_int_eq(config_webhook_lease(&cfg), 33);
	ck_assert_int_eq(parse(&cfg, "webhook_timeout = 3\nwebhook_lease = 6\n", err, sizeof err),
			 0);
	ck_assert_int_eq(config_webhook_lease(&cfg), 6);
	expect_error("webhook_lease = -1\n", "out of range");
	expect_error("webhook_lease = 86401\n", "out of range");
}
END_TEST

START_TEST(full_valid_text)
{
	static const char text[] = "listen = 127.0.0.1:9000\n"
				   "socket_mode = 0600\n"
				   "threads = 16\n"
				   "backlog = 2048\n"
				   "socket_user = www-data\n"
				   "socket_group = nginx\n"
				   "db_host = db.internal\n"
				   "db_port = 3307\n"
				   "db_socket = /run/mysqld/mysqld.sock\n"
				   "db_user = app\n"
				   "db_password = s3cret = with equals\n"
				   "db_name = app_db\n"
				   "sql_dir = /opt/sql\n"
				   "body_limit = 1048576\n"
				   "mail_dir = /tmp/mail\n"
				   "signup_open = false\n"
				   "shutdown_timeout = 30\n"
				   "log_level = debug"; /* no final newline */
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, text, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(cfg.listen, "127.0.0.1:9000");
	ck_assert_uint_eq(cfg.socket_mode, 0600);
	ck_assert_int_eq(cfg.threads, 16);
	ck_assert_int_eq(cfg.backlog, 2048);
	ck_assert_str_eq(cfg.socket_user, "www-data");
	ck_assert_str_eq(cfg.socket_group, "nginx");
	ck_assert_str_eq(cfg.db_host, "db.internal");
	ck_assert_int_eq(cfg.db_port, 3307);
	ck_assert_str_eq(cfg.db_socket, "/run/mysqld/mysqld.sock");
	ck_assert_str_eq(cfg.db_user, "app");
	ck_assert_str_eq(cfg.db_password, "s3cret = with equals"); /* split at the first '=' */
	ck_assert_str_eq(cfg.db_name, "app_db");
	ck_assert_str_eq(cfg.sql_dir, "/opt/sql");
	ck_assert_int_eq(cfg.body_limit, 1048576);
	ck_assert_str_eq(cfg.mail_dir, "/tmp/mail");
	ck_assert(!cfg.signup_open);
	ck_assert_int_eq(cfg.shutdown_timeout, 30);
	ck_assert_str_eq(cfg.log_level, "debug");
}
END_TEST

START_TEST(comments_blanks_and_spacing)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, "", err, sizeof err), 0);
	ck_assert_int_eq(
	    parse(&cfg, "\n\n# only a comment\n   \n\t\n   # indented\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 4);
	ck_assert_int_eq(parse(&cfg, "\t threads\t=\t8 \t\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 8);
	ck_assert_int_eq(parse(&cfg, "threads=9", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 9);
	/* a later line wins */
	ck_assert_int_eq(parse(&cfg, "threads = 2\nthreads = 3\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 3);
	/* an empty string value is allowed */
	ck_assert_int_eq(parse(&cfg, "db_host =\n", err, sizeof err), 0);
	ck_assert_str_eq(cfg.db_host, "");
}
END_TEST

START_TEST(crlf_line_endings)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(
	    parse(&cfg, "# c\r\n\r\ndb_user = crlf\r\nthreads = 7\r\n", err, sizeof err), 0);
	ck_assert_str_eq(cfg.db_user, "crlf");
	ck_assert_int_eq(cfg.threads, 7);
	expect_error("\r\n\r\nbogus = 1\r\n", "test.conf:3:");
}
END_TEST

START_TEST(unknown_key_names_line)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, "threads = 2\n\n# comment\nbogus = 1\n", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "test.conf:4:") != NULL, "got '%s'", err);
	ck_assert_msg(strstr(err, "bogus") != NULL, "got '%s'", err);

	ck_assert_int_eq(parse(&cfg, "\n# comment\nbogus = 1\n", err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "test.conf:3:", 12) == 0, "got '%s'", err);
	/* keys are case-sensitive */
	expect_error("Threads = 2\n", "test.conf:1: unknown key");
}
END_TEST

START_TEST(missing_equals)
{
	expect_error("threads 4\n", "test.conf:1:");
	expect_error("# ok\nthreads\n", "test.conf:2: expected 'key = value'");
	expect_error("= 4\n", "unknown key");
}
END_TEST

START_TEST(integer_range)
{
	struct config cfg;
	char err[256];
	expect_error("threads = 0\n", "out of range");
	expect_error("threads = 257\n", "out of range");
	expect_error("threads = -1\n", "out of range");
	expect_error("db_port = 65536\n", "out of range");
	expect_error("shutdown_timeout = 301\n", "out of range");
	expect_error("body_limit = 1023\n", "out of range");
	expect_error("body_limit = 16777217\n", "out of range");
	ck_assert_int_eq(parse(&cfg, "threads = 1\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 1);
	ck_assert_int_eq(parse(&cfg, "threads = 256\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.threads, 256);
	ck_assert_int_eq(parse(&cfg, "body_limit = 16777216\n", err, sizeof err), 0);
	ck_assert_int_eq(cfg.body_limit, 16777216L);
	/* a value that fits no long must not wrap into range */
	expect_error("threads = 18446744073709551620\n", "threads");
}
END_TEST

START_TEST(non_integer)
{
	expect_error("threads = four\n", "expected an integer");
	expect_error("threads = 4x\n", "expected an integer");
	expect_error("threads = 4.0\n", "expected an integer");
	expect_error("threads = 0x10\n", "expected an integer");
	expect_error("threads =\n", "expected an integer");
	expect_error("threads = 4 # four\n", "expected an integer");
}
END_TEST

START_TEST(bool_values)
{
	static const struct {
		const char *text;
		bool value;
	} ok[] = {
	    {"true", true},   {"yes", true}, {"on", true},
	    {"false", false}, {"no", false}, {"off", false},
	};
	struct config cfg;
	char err[256], text[64];
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "signup_open = %s\n", ok[i].text);
		config_defaults(&cfg);
		cfg.signup_open = !ok[i].value;
		ck_assert_int_eq(config_parse(&cfg, text, "t", err, sizeof err), 0);
		ck_assert_int_eq(cfg.signup_open, ok[i].value);
	}
	expect_error("signup_open = 1\n", "expected true or false");
	expect_error("signup_open = TRUE\n", "expected true or false");
	expect_error("signup_open = \n", "expected true or false");
}
END_TEST

START_TEST(base_path_is_a_path_prefix)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, "base_path = /api\n", err, sizeof err), 0);
	ck_assert_str_eq(cfg.base_path, "/api");
	ck_assert_int_eq(parse(&cfg, "base_path = /partners/api-v1.x_~\n", err, sizeof err), 0);
	ck_assert_str_eq(cfg.base_path, "/partners/api-v1.x_~");
	ck_assert_int_eq(parse(&cfg, "base_path =\n", err, sizeof err), 0);
	ck_assert_str_eq(cfg.base_path, "");
	expect_error("base_path = api\n", "starts with '/'");
	expect_error("base_path = /api/\n", "no '/' at the end");
	expect_error("base_path = /\n", "no '/' at the end");
	expect_error("base_path = /a//b\n", "no '/' at the end");
	expect_error("base_path = /a b\n", "segments of letters");
	expect_error("base_path = /a?b\n", "segments of letters");
	expect_error("base_path = /a%20b\n", "segments of letters");
}
END_TEST

/* SIGHUP applies a file only when what it changes is read per request. */
START_TEST(restart_keys_tell_a_reload_from_a_restart)
{
	struct config running, next;
	char err[256];
	config_defaults(&running);
	static const char *const reloads[] = {
	    "log_level = debug",	"jwt_ttl = 120",
	    "signup_open = false",	"public_base_url = https://x",
	    "jwt_verify_keys = /k.pem", "trusted_proxies = 10.0.0.1",
	    "cors_origins = https://a", "ext_issuer = https://idp",
	    "invitation_ttl = 7200",
	};
	for (size_t i = 0; i < sizeof reloads / sizeof reloads[0]; i++) {
		config_defaults(&next);
		ck_assert_int_eq(config_parse(&next, reloads[i], "t", err, sizeof err), 0);
		ck_assert_msg(config_restart_key_changed(&running, &next) == NULL, "%s",
			      reloads[i]);
	}
	static const struct {
		const char *line, *key;
	} restarts[] = {
	    {"threads = 9", "threads"},
	    {"listen = 127.0.0.1:9", "listen"},
	    {"body_limit = 2048", "body_limit"},
	    {"socket_mode = 0600", "socket_mode"},
	    {"mail_sender = false", "mail_sender"},
	    {"base_path = /api", "base_path"},
	    {"db_password = other", "db_password"},
	};
	for (size_t i = 0; i < sizeof restarts / sizeof restarts[0]; i++) {
		config_defaults(&next);
		ck_assert_int_eq(config_parse(&next, restarts[i].line, "t", err, sizeof err), 0);
		const char *changed = config_restart_key_changed(&running, &next);
		ck_assert_ptr_nonnull(changed);
		ck_assert_str_eq(changed, restarts[i].key);
	}
	config_defaults(&next);
	ck_assert_ptr_null(config_restart_key_changed(&running, &next));
}
END_TEST

START_TEST(socket_mode_octal)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, "socket_mode = 0660\n", err, sizeof err), 0);
	ck_assert_uint_eq(cfg.socket_mode, 0660);
	ck_assert_int_eq(parse(&cfg, "socket_mode = 777\n", err, sizeof err), 0);
	ck_assert_uint_eq(cfg.socket_mode, 0777);
	ck_assert_int_eq(parse(&cfg, "socket_mode = 0\n", err, sizeof err), 0);
	ck_assert_uint_eq(cfg.socket_mode, 0);
	expect_error("socket_mode = 0660x\n", "octal");
	expect_error("socket_mode = 0800\n", "octal");
	expect_error("socket_mode = 01000\n", "octal");
	expect_error("socket_mode = -1\n", "octal");
	expect_error("socket_mode = rw\n", "octal");
}
END_TEST

START_TEST(string_length_limit)
{
	struct config cfg;
	char err[256];
	char text[CONFIG_STR + 32];
	int prefix = snprintf(text, sizeof text, "db_host = ");
	/* CONFIG_STR - 1 bytes fit with the NUL */
	memset(text + prefix, 'h', CONFIG_STR - 1);
	text[prefix + CONFIG_STR - 1] = '\0';
	ck_assert_int_eq(parse(&cfg, text, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(cfg.db_host), CONFIG_STR - 1);
	/* CONFIG_STR bytes do not */
	text[prefix + CONFIG_STR - 1] = 'h';
	text[prefix + CONFIG_STR] = '\0';
	ck_assert_int_eq(parse(&cfg, text, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "too long") != NULL, "got '%s'", err);
	ck_assert_str_eq(cfg.db_host, "localhost"); /* left untouched */
	/* log_level is a 16-byte field */
	expect_error("log_level = 0123456789abcdef\n", "too long");
}
END_TEST

START_TEST(null_text)
{
	struct config cfg;
	char err[256];
	ck_assert_int_eq(parse(&cfg, NULL, err, sizeof err), -1);
	ck_assert_str_ne(err, "");
	ck_assert_int_eq(cfg.threads, 4);
}
END_TEST

START_TEST(error_buffer_is_bounded)
{
	struct config cfg;
	char err[8];
	memset(err, 'x', sizeof err);
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, "bogus_key_with_a_long_name = 1\n", "a-long-file-name",
				      err, sizeof err - 1),
			 -1);
	ck_assert_uint_eq(strlen(err), sizeof err - 2);
	ck_assert_int_eq(err[sizeof err - 1], 'x');
}
END_TEST

/* Fake environments for config_apply_env. */
static const char *env_none(const char *name)
{
	(void)name;
	return NULL;
}

static const char *env_some(const char *name)
{
	if (strcmp(name, "TWOTIER_DB_PASSWORD") == 0)
		return "from-env";
	if (strcmp(name, "TWOTIER_DB_NAME") == 0)
		return "envdb";
	return NULL;
}

static char long_value[CONFIG_STR + 1];

static const char *env_too_long(const char *name)
{
	return strcmp(name, "TWOTIER_DB_PASSWORD") == 0 ? long_value : NULL;
}

START_TEST(apply_env)
{
	struct config cfg;
	char err[256] = "";
	config_defaults(&cfg);
	snprintf(cfg.db_password, sizeof cfg.db_password, "from-file");
	ck_assert_int_eq(config_apply_env(&cfg, env_none, err, sizeof err), 0);
	ck_assert_str_eq(cfg.db_password, "from-file");

	ck_assert_int_eq(config_apply_env(&cfg, env_some, err, sizeof err), 0);
	ck_assert_str_eq(cfg.db_password, "from-env");
	ck_assert_str_eq(cfg.db_name, "envdb");
	ck_assert_str_eq(cfg.db_host, "localhost");
	ck_assert_str_eq(cfg.db_user, "twotier");
}
END_TEST

START_TEST(apply_env_too_long)
{
	struct config cfg;
	char err[256] = "";
	memset(long_value, 'p', CONFIG_STR);
	long_value[CONFIG_STR] = '\0';
	config_defaults(&cfg);
	ck_assert_int_eq(config_apply_env(&cfg, env_too_long, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "TWOTIER_DB_PASSWORD") != NULL, "got '%s'", err);
	ck_assert_msg(strstr(err, "too long") != NULL, "got '%s'", err);
	ck_assert_str_eq(cfg.db_password, "");
	/* one byte shorter fits */
	long_value[CONFIG_STR - 1] = '\0';
	ck_assert_int_eq(config_apply_env(&cfg, env_too_long, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(cfg.db_password), CONFIG_STR - 1);
}
END_TEST

START_TEST(load_missing_file)
{
	struct config cfg;
	char err[256] = "";
	const char *path = "/nonexistent/twotier-test/twotier.conf";
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	ck_assert_msg(strstr(err, path) != NULL, "got '%s'", err);
}
END_TEST

/* Writes len bytes of text to a fresh temp file; path receives its name. */
static void write_temp(char path[64], const char *text, size_t len)
{
	snprintf(path, 64, "/tmp/check_config_XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(load_file)
{
	static const char text[] = "# twotier\nthreads = 12\ndb_password = pw\n";
	struct config cfg;
	char err[256] = "";
	char path[64];
	write_temp(path, text, sizeof text - 1);
	config_defaults(&cfg);
	int rc = config_load(&cfg, path, err, sizeof err);
	unlink(path);
	ck_assert_msg(rc == 0, "got '%s'", err);
	ck_assert_int_eq(cfg.threads, 12);
	ck_assert_str_eq(cfg.db_password, "pw");
}
END_TEST

START_TEST(load_file_errors_name_path_and_line)
{
	static const char text[] = "threads = 2\n\nthreads = 0\n";
	struct config cfg;
	char err[256] = "", want[80];
	char path[64];
	write_temp(path, text, sizeof text - 1);
	config_defaults(&cfg);
	int rc = config_load(&cfg, path, err, sizeof err);
	unlink(path);
	ck_assert_int_eq(rc, -1);
	snprintf(want, sizeof want, "%s:3:", path);
	ck_assert_msg(strstr(err, want) != NULL, "got '%s'", err);
}
END_TEST

START_TEST(load_file_with_nul)
{
	static const char text[] = "threads = 2\n\0threads = 0\n";
	struct config cfg;
	char err[256] = "";
	char path[64];
	write_temp(path, text, sizeof text - 1);
	config_defaults(&cfg);
	int rc = config_load(&cfg, path, err, sizeof err);
	unlink(path);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(err, "NUL") != NULL, "got '%s'", err);
}
END_TEST

/* Bigger than the 4 KiB first read, so the buffer has to grow. */
START_TEST(load_large_file)
{
	enum { LINES = 2000 };
	static char text[LINES * 16 + 32];
	size_t len = 0;
	for (int i = 0; i < LINES; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "# comment %04d\n", i);
	len += (size_t)snprintf(text + len, sizeof text - len, "threads = 33\n");
	struct config cfg;
	char err[256] = "";
	char path[64];
	write_temp(path, text, len);
	config_defaults(&cfg);
	int rc = config_load(&cfg, path, err, sizeof err);
	unlink(path);
	ck_assert_msg(rc == 0, "got '%s'", err);
	ck_assert_int_eq(cfg.threads, 33);
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, webhook_lease_default_follows_the_timeout);
	tcase_add_test(tc, full_valid_text);
	tcase_add_test(tc, comments_blanks_and_spacing);
	tcase_add_test(tc, crlf_line_endings);
	tcase_add_test(tc, unknown_key_names_line);
	tcase_add_test(tc, missing_equals);
	tcase_add_test(tc, integer_range);
	tcase_add_test(tc, limits_of_the_house);
	tcase_add_test(tc, non_integer);
	tcase_add_test(tc, bool_values);
	tcase_add_test(tc, socket_mode_octal);
	tcase_add_test(tc, restart_keys_tell_a_reload_from_a_restart);
	tcase_add_test(tc, base_path_is_a_path_prefix);
	tcase_add_test(tc, string_length_limit);
	tcase_add_test(tc, null_text);
	tcase_add_test(tc, error_buffer_is_bounded);
	suite_add_tcase(s, tc);

	TCase *env = tcase_create("env");
	tcase_add_test(env, apply_env);
	tcase_add_test(env, apply_env_too_long);
	suite_add_tcase(s, env);

	TCase *load = tcase_create("load");
	tcase_add_test(load, load_missing_file);
	tcase_add_test(load, load_file);
	tcase_add_test(load, load_file_errors_name_path_and_line);
	tcase_add_test(load, load_file_with_nul);
	tcase_add_test(load, load_large_file);
	suite_add_tcase(s, load);
	return s;
}
