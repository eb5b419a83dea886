#include "core/log.h"

#include "core/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_set_level(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(level_names[i], name) == 0) {
			min_level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_event(enum log_level level, const char *msg, cJSON *fields)
{
	if (level < min_level) {
		cJSON_Delete(fields);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);

	cJSON *line = cJSON_CreateObject();
	cJSON_AddStringToObject(line, "time", when);
	cJSON_AddStringToObject(line, "level", level_names[level]);
	cJSON_AddStringToObject(line, "msg", msg);
	if (fields != NULL) {
		while (fields->child != NULL) {
			cJSON *item = cJSON_DetachItemViaPointer(fields, fields->child);
			cJSON_AddItemToObject(line, item->string, item);
		}
		cJSON_Delete(fields);
	}
	char *text = cJSON_PrintUnformatted(line);
	cJSON_Delete(line);
	flockfile(stderr);
	fputs(text, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
	fflush(stderr);
	free(text);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_event(level, msg, NULL);
}
