/*
 * The daemon's log: one line per event on stderr. On a terminal or in a
 * file each line has a UTC timestamp and a level; under systemd, where
 * journald stamps the lines itself, each starts with the syslog priority
 * ("<3>") that journald turns into the entry's level.
 */
#ifndef TAMWIL_LOG_H
#define TAMWIL_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * Lines below this level are dropped; set at start-up and by a reload,
 * while other threads log.
 */
void log_set_level(enum log_level level);

/* "error", "warn", "info" or "debug". */
const char *log_level_name(enum log_level level);

/*
 * Chooses the journald form when journal_stream, the value of
 * $JOURNAL_STREAM, is set and non-empty; set once at start-up.
 */
void log_set_journal(const char *journal_stream);

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *name, enum log_level *level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
