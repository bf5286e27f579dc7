/* SPDX-License-Identifier: MIT */
/* The one log module: levels, one line per event with key=value context,
 * to stderr or syslog. The level is checked before arguments are
 * evaluated, so a debug line costs nothing when debug is off. */
#ifndef CMDBUS_COMMON_LOG_H
#define CMDBUS_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_INFO = 2,
	LOG_LVL_DEBUG = 3,
};

/* Where lines go. A sink receives the finished line without newline; it
 * lets an embedding firmware route the agent library's log. */
typedef void log_sink_fn(enum log_level level, const char *line, void *ud);

/* Configures the process-wide logger. `ident` is borrowed and must outlive
 * logging (a string literal or argv[0]). With `use_syslog` lines go to
 * syslog(3) under LOG_DAEMON, else to stderr with an ISO-8601 UTC time. */
void log_init(const char *ident, enum log_level level, bool use_syslog);
void log_set_level(enum log_level level);
/* Replaces stderr/syslog by `fn` (NULL restores the default). */
void log_set_sink(log_sink_fn *fn, void *ud);

/* Parses "error", "warn", "info" or "debug". 0, or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);

/* Current threshold; used by the macros below. */
extern enum log_level log_threshold;

/* Writes one line: `event` is a short dotted name ("job.created"), `fmt`
 * the key=value context ("job=%s devices=%zu"). Control characters in the
 * formatted text are escaped so that a value from the network can never
 * start a new line. Prefer the macros. */
void log_write(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_level level, const char *event, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

#define LOG_AT(lvl, ...)                                                      \
	do {                                                                  \
		if ((lvl) <= log_threshold)                                   \
			log_write((lvl), __VA_ARGS__);                        \
	} while (0)
#define log_error(...) LOG_AT(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
