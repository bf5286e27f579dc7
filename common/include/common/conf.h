/* SPDX-License-Identifier: MIT */
/* A table-driven configuration parser for `key value` lines in the manner
 * of mosquitto.conf: one option per line, `#` comments on their own line,
 * blank lines ignored, unknown keys and out-of-range values rejected with
 * file:line. The same table serves command-line flags (`--key value`). */
#ifndef CMDBUS_COMMON_CONF_H
#define CMDBUS_COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conf_type {
	CONF_STRING,   /* char *, owned by the target, max length in `max` */
	CONF_U64,      /* uint64_t within [min, max] */
	CONF_BOOL,     /* bool */
	CONF_DURATION, /* uint64_t milliseconds within [min, max] */
	CONF_SIZE,     /* uint64_t bytes within [min, max] */
	CONF_LIST,     /* struct conf_list: the option may repeat, each line
			  appends one string (max length in `max`) */
	CONF_ENUM,     /* int: index of the value in `choices` */
};

/* A repeatable option's values, in file order. */
struct conf_list {
	char **v; /* each owned by the list */
	size_t n;
};

/* Extra validation for one value, run after the type's own parsing:
 * returns 0, or a negative code with a sentence in err. */
typedef int conf_check_fn(const char *value, char *err, size_t errlen);

struct conf_option {
	const char *name;      /* the key, e.g. "listen_port" */
	enum conf_type type;
	size_t offset;         /* offsetof(struct your_config, field) */
	uint64_t min, max;     /* numeric bounds, or max string length */
	const char *def;       /* default as text, or NULL for none */
	const char *const *choices; /* CONF_ENUM: NULL-terminated names */
	conf_check_fn *check;  /* optional */
	const char *help;      /* one line for --help and the example file */
};
/* A table ends with an entry whose name is NULL. */

/* Applies every default of the table to `target` (zeroed by the caller).
 * 0, or -ERR_CONFIG with the reason in err (a bad default is a bug). */
int conf_defaults(const struct conf_option *table, void *target, char *err,
		  size_t errlen);

/* Reads a file. A non-repeatable key given twice in one file is an error.
 * 0; -errno when the file cannot be read; -ERR_CONFIG with
 * "path:line: reason" in err. */
int conf_load_file(const struct conf_option *table, void *target,
		   const char *path, char *err, size_t errlen);

/* The same for text held in memory; `name` stands for the path in
 * messages. */
int conf_load_text(const struct conf_option *table, void *target,
		   const char *name, const char *text, size_t len, char *err,
		   size_t errlen);

/* Sets one option, as from a command-line flag; it replaces a value from
 * the file (a list option gains the value). 0; -ENOENT for an unknown key
 * or -ERR_CONFIG, with the reason in err. */
int conf_set(const struct conf_option *table, void *target, const char *key,
	     const char *value, char *err, size_t errlen);

/* Finds an option by name, or NULL. */
const struct conf_option *conf_find(const struct conf_option *table,
				    const char *name);

/* Frees the strings and lists the table's options own in `target`. */
void conf_free(const struct conf_option *table, void *target);

#endif
