/* SPDX-License-Identifier: MIT */
/* The table-driven configuration parser: `key value` lines checked against
 * a table of typed, bounded options, with file:line in every complaint.
 * Command-line flags go through the same table with conf_set. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/parse.h"

/* Configuration files are small; anything bigger is a mistake. */
#define CONF_FILE_MAX (1024 * 1024)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void *
field(void *target, const struct conf_option *o)
{
	return (char *)target + o->offset;
}

/* Writes ms as the largest unit that divides it, for range messages. */
static void
fmt_duration(uint64_t ms, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
	    {"d", 86400000},
	    {"h", 3600000},
	    {"m", 60000},
	    {"s", 1000},
	};

	if (ms == UINT64_MAX) {
		snprintf(out, outlen, "%" PRIu64 "ms", ms);
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(out, outlen, "%" PRIu64 "%s", ms / units[i].ms,
				 units[i].unit);
			return;
		}
	}
	snprintf(out, outlen, "%" PRIu64 "%s", ms, ms == 0 ? "" : "ms");
}

static void
range_err(const struct conf_option *o, char *err, size_t errlen)
{
	char lo[32], hi[32];

	if (o->type == CONF_DURATION) {
		fmt_duration(o->min, lo, sizeof(lo));
		fmt_duration(o->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%" PRIu64, o->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, o->max);
	}
	set_err(err, errlen, "option '%s': value out of range [%s, %s]",
		o->name, lo, hi);
}

/* Checks that a string option's value fits; max 0 means unbounded. */
static int
check_length(const struct conf_option *o, const char *value, char *err,
	     size_t errlen)
{
	if (o->max != 0 && strlen(value) > o->max) {
		set_err(err, errlen,
			"option '%s': value longer than %" PRIu64 " bytes",
			o->name, o->max);
		return -ERR_CONFIG;
	}
	return 0;
}

static int
find_choice(const struct conf_option *o, const char *value, int *out, char *err,
	    size_t errlen)
{
	struct buf names;
	int i;

	for (i = 0; o->choices != NULL && o->choices[i] != NULL; i++) {
		if (strcmp(o->choices[i], value) == 0) {
			*out = i;
			return 0;
		}
	}
	buf_init(&names, 512);
	for (i = 0; o->choices != NULL && o->choices[i] != NULL; i++) {
		if (buf_printf(&names, "%s%s", i ? ", " : "", o->choices[i]) <
		    0)
			break;
	}
	set_err(err, errlen, "option '%s': '%.64s' is not one of %s", o->name,
		value, names.data != NULL ? names.data : "(none)");
	buf_fini(&names);
	return -ERR_CONFIG;
}

/* What a value of a numeric type looks like, for error messages. */
static const char *
type_desc(enum conf_type t)
{
	switch (t) {
	case CONF_DURATION:
		return "a duration (e.g. 250ms, 30s, 5m, 2h, 7d)";
	case CONF_SIZE:
		return "a size (e.g. 512, 64k, 16MiB, 1G)";
	default:
		return "a number";
	}
}

/* Parses `value` for option o and stores it in target. Nothing in target
 * changes on failure, and the check hook sees the value before it is
 * stored. */
static int
apply(const struct conf_option *o, void *target, const char *value, char *err,
      size_t errlen)
{
	uint64_t u = 0;
	bool b = false;
	int e = 0, rc = 0;
	char *copy = NULL;

	switch (o->type) {
	case CONF_STRING:
	case CONF_LIST:
		rc = check_length(o, value, err, errlen);
		break;
	case CONF_U64:
		rc = parse_u64(value, o->min, o->max, &u);
		break;
	case CONF_DURATION:
		rc = parse_duration_ms(value, o->min, o->max, &u);
		break;
	case CONF_SIZE:
		rc = parse_size(value, o->min, o->max, &u);
		break;
	case CONF_BOOL:
		if (parse_bool(value, &b) < 0) {
			set_err(err, errlen,
				"option '%s': '%.64s' is not a boolean "
				"(true/false, yes/no, on/off, 1/0)",
				o->name, value);
			return -ERR_CONFIG;
		}
		break;
	case CONF_ENUM:
		rc = find_choice(o, value, &e, err, errlen);
		break;
	default:
		set_err(err, errlen, "option '%s': unknown type %d", o->name,
			(int)o->type);
		return -ERR_CONFIG;
	}
	if (rc == -ERANGE) {
		range_err(o, err, errlen);
		return -ERR_CONFIG;
	}
	if (rc == -EINVAL) {
		set_err(err, errlen, "option '%s': '%.64s' is not %s", o->name,
			value, type_desc(o->type));
		return -ERR_CONFIG;
	}
	if (rc < 0)
		return rc;

	if (o->check != NULL) {
		char why[256] = "";

		if ((rc = o->check(value, why, sizeof(why))) < 0) {
			set_err(err, errlen, "option '%s': %s", o->name,
				why[0] ? why : "invalid value");
			return -ERR_CONFIG;
		}
	}

	if (o->type == CONF_STRING || o->type == CONF_LIST) {
		copy = strdup(value);
		if (copy == NULL) {
			set_err(err, errlen, "option '%s': out of memory",
				o->name);
			return -ENOMEM;
		}
	}
	switch (o->type) {
	case CONF_STRING: {
		char **dst = field(target, o);

		free(*dst);
		*dst = copy;
		break;
	}
	case CONF_LIST: {
		struct conf_list *l = field(target, o);
		char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

		if (v == NULL) {
			free(copy);
			set_err(err, errlen, "option '%s': out of memory",
				o->name);
			return -ENOMEM;
		}
		v[l->n++] = copy;
		l->v = v;
		break;
	}
	case CONF_U64:
	case CONF_DURATION:
	case CONF_SIZE:
		*(uint64_t *)field(target, o) = u;
		break;
	case CONF_BOOL:
		*(bool *)field(target, o) = b;
		break;
	case CONF_ENUM:
		*(int *)field(target, o) = e;
		break;
	}
	return 0;
}

int
conf_defaults(const struct conf_option *table, void *target, char *err,
	      size_t errlen)
{
	int rc;

	for (const struct conf_option *o = table; o->name != NULL; o++) {
		if (o->def == NULL)
			continue;
		if ((rc = apply(o, target, o->def, err, errlen)) < 0)
			return rc == -ENOMEM ? rc : -ERR_CONFIG;
	}
	return 0;
}

/* Flags are written with dashes or underscores ("--listen-port"); the
 * table uses underscores. */
static bool
flag_name_eq(const char *name, const char *key)
{
	for (; *name != '\0' && *key != '\0'; name++, key++) {
		char k = *key == '-' ? '_' : *key;
		char n = *name == '-' ? '_' : *name;

		if (k != n)
			return false;
	}
	return *name == *key;
}

const struct conf_option *
conf_find(const struct conf_option *table, const char *name)
{
	for (const struct conf_option *o = table; o->name != NULL; o++) {
		if (flag_name_eq(o->name, name))
			return o;
	}
	return NULL;
}

/* A file's keys must be spelled as in the table. */
static const struct conf_option *
find_exact(const struct conf_option *table, const char *name, size_t *index)
{
	for (const struct conf_option *o = table; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0) {
			*index = (size_t)(o - table);
			return o;
		}
	}
	return NULL;
}

int
conf_set(const struct conf_option *table, void *target, const char *key,
	 const char *value, char *err, size_t errlen)
{
	const struct conf_option *o = conf_find(table, key);
	int rc;

	if (o == NULL) {
		set_err(err, errlen, "unknown option '%.64s'", key);
		return -ENOENT;
	}
	if (value == NULL || value[0] == '\0') {
		set_err(err, errlen, "option '%s' needs a value", o->name);
		return -ERR_CONFIG;
	}
	rc = apply(o, target, value, err, errlen);
	return rc == -ENOMEM || rc == 0 ? rc : -ERR_CONFIG;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Handles one line (NUL-terminated, newline removed). `seen` holds, for
 * each option, the line it was first given on in this file. */
static int
parse_line(const struct conf_option *table, void *target, const char *name,
	   unsigned lineno, char *line, size_t len, unsigned *seen, char *err,
	   size_t errlen)
{
	const struct conf_option *o;
	char reason[512];
	char *key, *value;
	size_t idx = 0;
	int rc;

	/* A CRLF file leaves a CR before the newline; it and any other
	 * trailing blanks are not part of the value. */
	while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\r'))
		line[--len] = '\0';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == '\0') {
			set_err(err, errlen, "%s:%u: NUL byte in line", name,
				lineno);
			return -ERR_CONFIG;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			set_err(err, errlen,
				"%s:%u: control character 0x%02x in line", name,
				lineno, c);
			return -ERR_CONFIG;
		}
	}
	key = line;
	while (is_blank(*key))
		key++;
	if (*key == '\0' || *key == '#')
		return 0;
	value = key;
	while (*value != '\0' && !is_blank(*value))
		value++;
	if (*value != '\0') {
		*value++ = '\0';
		while (is_blank(*value))
			value++;
	}
	o = find_exact(table, key, &idx);
	if (o == NULL) {
		set_err(err, errlen, "%s:%u: unknown option '%.64s'", name,
			lineno, key);
		return -ERR_CONFIG;
	}
	if (*value == '\0') {
		set_err(err, errlen, "%s:%u: option '%s' needs a value", name,
			lineno, o->name);
		return -ERR_CONFIG;
	}
	if (o->type != CONF_LIST && seen[idx] != 0) {
		set_err(err, errlen,
			"%s:%u: option '%s' given twice (first on line %u)",
			name, lineno, o->name, seen[idx]);
		return -ERR_CONFIG;
	}
	if ((rc = apply(o, target, value, reason, sizeof(reason))) < 0) {
		set_err(err, errlen, "%s:%u: %s", name, lineno, reason);
		return rc == -ENOMEM ? rc : -ERR_CONFIG;
	}
	seen[idx] = lineno;
	return 0;
}

int
conf_load_text(const struct conf_option *table, void *target, const char *name,
	       const char *text, size_t len, char *err, size_t errlen)
{
	unsigned *seen;
	size_t nopts = 0, start = 0;
	unsigned lineno = 0;
	char *copy;
	int rc = 0;

	if (name == NULL)
		name = "(config)";
	if (len > CONF_FILE_MAX) {
		set_err(err, errlen, "%s: file too large (over %d bytes)", name,
			CONF_FILE_MAX);
		return -ERR_CONFIG;
	}
	while (table[nopts].name != NULL)
		nopts++;
	/* The copy gives each line a terminating NUL in place of its
	 * newline, and one more byte for a last line without one. */
	copy = malloc(len + 1);
	seen = calloc(nopts + 1, sizeof(*seen));
	if (copy == NULL || seen == NULL) {
		free(copy);
		free(seen);
		set_err(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	while (start < len) {
		char *nl = memchr(copy + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - copy) : len;

		lineno++;
		copy[end] = '\0';
		rc = parse_line(table, target, name, lineno, copy + start,
				end - start, seen, err, errlen);
		if (rc < 0)
			break;
		start = end + 1;
	}
	free(copy);
	free(seen);
	return rc;
}

int
conf_load_file(const struct conf_option *table, void *target, const char *path,
	       char *err, size_t errlen)
{
	struct buf b;
	char chunk[8192];
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, err_str(rc));
		return rc;
	}
	/* One byte over the cap tells "too large" from "exactly at it". */
	buf_init(&b, CONF_FILE_MAX + 1);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			set_err(err, errlen, "%s: %s", path, err_str(rc));
			break;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > CONF_FILE_MAX) {
			set_err(err, errlen,
				"%s: file too large (over %d bytes)", path,
				CONF_FILE_MAX);
			rc = -ERR_CONFIG;
			break;
		}
		if ((rc = buf_append(&b, chunk, (size_t)n)) < 0) {
			set_err(err, errlen, "%s: %s", path, err_str(rc));
			break;
		}
	}
	close(fd);
	if (rc == 0)
		rc = conf_load_text(table, target, path,
				    b.data != NULL ? b.data : "", b.len, err,
				    errlen);
	buf_fini(&b);
	return rc;
}

void
conf_free(const struct conf_option *table, void *target)
{
	for (const struct conf_option *o = table; o->name != NULL; o++) {
		if (o->type == CONF_STRING) {
			char **s = field(target, o);

			free(*s);
			*s = NULL;
		} else if (o->type == CONF_LIST) {
			struct conf_list *l = field(target, o);

			for (size_t i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
}
