/* The log line writer: one valid JSON object a line, whatever the values. */
#include "core/log.h"
#include "suites.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs fn with stderr sent to a temporary file; returns what it wrote
 * (caller frees). */
static char *captured(void (*fn)(void))
{
	char path[] = "/tmp/twotier-check-log-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	off_t n = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(pread(fd, text, (size_t)n, 0), n);
	close(fd);
	unlink(path);
	return text;
}

/* The one line of text as a JSON object (caller deletes). */
static cJSON *one_line(const char *text)
{
	size_t n = strlen(text);
	ck_assert_msg(n > 0 && text[n - 1] == '\n', "no newline at the end: %s", text);
	ck_assert_msg(strchr(text, '\n') == text + n - 1, "more than one line: %s", text);
	cJSON *doc = cJSON_ParseWithLength(text, n - 1);
	ck_assert_msg(cJSON_IsObject(doc), "not a JSON object: %s", text);
	return doc;
}

static void write_kinds(void)
{
	struct log_field f[] = {LOG_S("route", "users.get"), LOG_I("status", 404),
				LOG_MS("durationMs", 0.0012346), LOG_S("absent", NULL),
				LOG_I("negative", -7)};
	log_fields(LOG_INFO, "request", f, sizeof f / sizeof f[0]);
}

START_TEST(kinds)
{
	char *text = captured(write_kinds);
	cJSON *doc = one_line(text);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "level")->valuestring, "info");
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "msg")->valuestring, "request");
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "route")->valuestring, "users.get");
	ck_assert_int_eq(cJSON_GetObjectItem(doc, "status")->valueint, 404);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(doc, "durationMs")->valuedouble, 1.235, 1e-9);
	ck_assert_ptr_null(cJSON_GetObjectItem(doc, "absent"));
	ck_assert_int_eq(cJSON_GetObjectItem(doc, "negative")->valueint, -7);
	const char *when = cJSON_GetObjectItem(doc, "time")->valuestring;
	ck_assert_int_eq(strlen(when), 24); /* 2026-12-01T22:35:18.123Z */
	ck_assert_int_eq(when[10], 'T');
	ck_assert_int_eq(when[23], 'Z');
	cJSON_Delete(doc);
	free(text);
}
END_TEST

static const char hostile[] = "quote\" backslash\\ newline\n tab\t nul-free \x01\x1f del\x7f é";

static void write_hostile(void)
{
	struct log_field f[] = {LOG_S("value", hostile), LOG_S("key\"with\nodd", "x")};
	log_fields(LOG_WARN, hostile, f, 2);
}

START_TEST(hostile_strings_round_trip)
{
	char *text = captured(write_hostile);
	cJSON *doc = one_line(text);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "msg")->valuestring, hostile);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "value")->valuestring, hostile);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "key\"with\nodd")->valuestring, "x");
	cJSON_Delete(doc);
	free(text);
}
END_TEST

static char *huge;

static void write_huge(void)
{
	struct log_field f[] = {LOG_S("a", huge), LOG_S("b", huge), LOG_I("after", 1)};
	log_fields(LOG_ERROR, huge, f, 3);
}

START_TEST(too_long_is_cut_and_stays_valid)
{
	huge = malloc(20000);
	for (size_t i = 0; i < 19999; i++)
		huge[i] = i % 7 == 0 ? '"' : 'x'; /* escapes at the cut, too */
	huge[19999] = '\0';
	char *text = captured(write_huge);
	ck_assert_int_le(strlen(text), 4096);
	cJSON *doc = one_line(text);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "level")->valuestring, "error");
	cJSON_Delete(doc);
	free(text);
	free(huge);
}
END_TEST

static void write_below_level(void)
{
	log_set_level("warn");
	log_msg(LOG_INFO, "not written %d", 1);
	log_msg(LOG_WARN, "written %d", 2);
	log_set_level("info");
}

START_TEST(level_filters_and_formats)
{
	char *text = captured(write_below_level);
	cJSON *doc = one_line(text);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "msg")->valuestring, "written 2");
	ck_assert_int_eq(log_set_level("loud"), -1);
	cJSON_Delete(doc);
	free(text);
}
END_TEST

Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *t = tcase_create("lines");
	tcase_add_test(t, kinds);
	tcase_add_test(t, hostile_strings_round_trip);
	tcase_add_test(t, too_long_is_cut_and_stays_valid);
	tcase_add_test(t, level_filters_and_formats);
	suite_add_tcase(s, t);
	return s;
}
