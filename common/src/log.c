/* SPDX-License-Identifier: MIT */
/* The process-wide logger, in the manner of OpenSMTPD's log.c: global
 * state set once at startup, one line per event, written to stderr with a
 * single write(2), to syslog, or to a sink an embedding program provides. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

/* The longest line, escapes included; longer lines end in "...". */
#define LOG_LINE_MAX 2048

enum log_level log_threshold = LOG_LVL_INFO;

static const char *log_ident = "cmdbus";
static bool log_syslog;
static log_sink_fn *log_sink;
static void *log_sink_ud;

static const char *const level_names[] = {
    [LOG_LVL_ERROR] = "error",
    [LOG_LVL_WARN] = "warn",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *ident, enum log_level level, bool use_syslog)
{
	if (log_syslog)
		closelog();
	log_ident = ident != NULL ? ident : "cmdbus";
	log_threshold = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

void
log_set_sink(log_sink_fn *fn, void *ud)
{
	log_sink = fn;
	log_sink_ud = fn != NULL ? ud : NULL;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int
syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR:
		return LOG_ERR;
	case LOG_LVL_WARN:
		return LOG_WARNING;
	case LOG_LVL_INFO:
		return LOG_INFO;
	case LOG_LVL_DEBUG:
		break;
	}
	return LOG_DEBUG;
}

/* Copies src into dst[*pos..max), writing every byte outside printable
 * ASCII as \xNN so that text from the network can neither start a line
 * nor carry terminal escapes. False when it did not all fit. */
static bool
escape_into(char *dst, size_t *pos, size_t max, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t p = *pos;
	bool ok = true;

	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		if (*s >= 0x20 && *s < 0x7f) {
			if (p + 1 > max) {
				ok = false;
				break;
			}
			dst[p++] = (char)*s;
		} else {
			if (p + 4 > max) {
				ok = false;
				break;
			}
			dst[p++] = '\\';
			dst[p++] = 'x';
			dst[p++] = hex[*s >> 4];
			dst[p++] = hex[*s & 0xf];
		}
	}
	*pos = p;
	return ok;
}

void
log_vwrite(enum log_level level, const char *event, const char *fmt, va_list ap)
{
	/* Formatted text, escaped message, and the stderr line: the message
	 * is capped at LOG_LINE_MAX and the prefix adds a bounded amount. */
	char raw[LOG_LINE_MAX], msg[LOG_LINE_MAX + 4], line[LOG_LINE_MAX + 160];
	char when[32];
	size_t pos = 0, body_max = LOG_LINE_MAX - 3; /* room for "..." */
	int saved_errno = errno;
	bool whole = true, fits;
	int n;

	if (level > log_threshold)
		return;
	if ((int)level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		level = LOG_LVL_ERROR;

	raw[0] = '\0';
	if (fmt != NULL && fmt[0] != '\0') {
		n = vsnprintf(raw, sizeof(raw), fmt, ap);
		if (n < 0)
			raw[0] = '\0';
		else if ((size_t)n >= sizeof(raw))
			whole = false;
	}
	fits = escape_into(msg, &pos, body_max,
			   event != NULL && event[0] ? event : "-");
	if (fits && raw[0] != '\0')
		fits = escape_into(msg, &pos, body_max, " ") &&
		       escape_into(msg, &pos, body_max, raw);
	whole = whole && fits;
	if (!whole) {
		memcpy(msg + pos, "...", 3);
		pos += 3;
	}
	msg[pos] = '\0';

	if (log_sink != NULL) {
		log_sink(level, msg, log_sink_ud);
	} else if (log_syslog) {
		syslog(syslog_priority(level), "%s", msg);
	} else {
		clock_format_iso(clock_now_ms(&clock_system), when,
				 sizeof(when));
		n = snprintf(line, sizeof(line), "%s %s %.64s[%ld]: %s\n", when,
			     level_names[level], log_ident, (long)getpid(),
			     msg);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(line)
					 ? (size_t)n
					 : sizeof(line) - 1;

			/* One write per line, so lines from several
			 * processes sharing stderr do not interleave; a
			 * failed write has nowhere better to be reported. */
			if (write(STDERR_FILENO, line, len) < 0)
				(void)0;
		}
	}
	errno = saved_errno;
}

void
log_write(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, event, fmt, ap);
	va_end(ap);
}
