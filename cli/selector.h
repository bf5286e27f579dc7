/* SPDX-License-Identifier: MIT */
/* Label selector terms as an operator writes them after -l, in the manner
 * of Kubernetes (`env=prod`, `tier!=db`, `env in (prod, staging)`,
 * `zone notin (a,b)`), parsed into the terms of a job's `target.labels`
 * and written as the REST API takes them. No I/O. */
#ifndef CMDBUS_CLI_SELECTOR_H
#define CMDBUS_CLI_SELECTOR_H

#include <stddef.h>

#include "cmdbus/rest.h"

struct cmdbus_jsonw;

/* Bounds of the contract (docs/protocol.md, Targets). */
#define SEL_MAX_TERMS CMDBUS_SELECTOR_MAX_KEYS
#define SEL_MAX_VALUES CMDBUS_SELECTOR_MAX_VALUES

enum sel_op {
	SEL_EQ,	   /* key=value (also key==value) */
	SEL_NE,	   /* key!=value, sent as {"notin":[value]} */
	SEL_IN,	   /* key in (a,b) */
	SEL_NOTIN, /* key notin (a,b) */
};

/* Strings point into the selector's own buffers. */
struct sel_term {
	const char *key;
	enum sel_op op;
	const char *values[SEL_MAX_VALUES];
	size_t nvalues;
};

struct sel_selector {
	struct sel_term terms[SEL_MAX_TERMS];
	size_t nterms;
	char *bufs[SEL_MAX_TERMS]; /* owned: one per text parsed */
	size_t nbufs;
};

/* Parses n texts, each one or more terms separated by commas outside
 * parentheses, into *s (call sel_fini afterwards, whatever the result).
 * Spaces around words and operators are optional. 0; -EINVAL with a
 * one-line reason in err that quotes the malformed term, or names a key
 * given twice; -ENOMEM. */
int sel_parse(const char *const *texts, size_t n, struct sel_selector *s,
	      char *err, size_t errlen);
void sel_fini(struct sel_selector *s);

/* Writes the member "labels" of a target: {"k":"v","k2":{"in":[...]},
 * "k3":{"notin":[...]}}, terms in the order given. */
void sel_write(const struct sel_selector *s, struct cmdbus_jsonw *w);

#endif
