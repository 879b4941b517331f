/*
 * The daemon's log. Its threshold and its form (terminal or journald) are
 * the only process-wide state outside the daemon context: set before the
 * loop starts (the threshold again by a reload), so that every module
 * can log without carrying the context around.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Changed by a reload while workers log: read and written atomically. */
static _Atomic int log_threshold = LOG_LEVEL_INFO;
static int log_journal;

/* syslog(3) priorities of the levels: err, warning, info, debug. */
static const int log_priorities[] = {3, 4, 6, 7};

static const char *const log_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level)
{
	log_threshold = (int)level;
}

const char *log_level_name(enum log_level level)
{
	return log_names[level];
}

void log_set_journal(const char *journal_stream)
{
	log_journal = journal_stream != NULL && journal_stream[0] != '\0';
}

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(name, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char stamp[32], prefix[80];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if ((int)level > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_journal)
		snprintf(prefix, sizeof(prefix),
			 "<%d>%s: ", log_priorities[level], log_names[level]);
	else
		snprintf(prefix, sizeof(prefix),
			 "%s.%03ldZ tamwild %s: ", stamp, ts.tv_nsec / 1000000,
			 log_names[level]);
	va_start(ap, fmt);
	flockfile(stderr);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
