/* SPDX-License-Identifier: MIT */
/* The -l selector terms: a small scanner over words and the operators
 * `=`, `==`, `!=`, `(`, `)` and `,`, with the words `in` and `notin`, so
 * that spaces are optional wherever they would be in Kubernetes. Keys and
 * values are checked here, so that a typo is a usage error on the
 * operator's terminal rather than a 400 from the server. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/jsonv.h"
#include "cmdbus/proto.h"
#include "selector.h"

struct scan {
	const char *text, *p;
	const char *term; /* where the current term starts, for errors */
	char *out;	  /* next free byte of the owned buffer */
	char *err;
	size_t errlen;
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_word(char c)
{
	return c != '\0' && !is_space(c) && strchr("()=!,", c) == NULL;
}

static void
skip_spaces(struct scan *sc)
{
	while (is_space(*sc->p))
		sc->p++;
}

/* The current term as written, up to the next comma outside parentheses,
 * for error messages. */
static int
malformed(struct scan *sc, const char *why)
{
	const char *e = sc->term;
	int depth = 0;

	while (*e != '\0' && !(*e == ',' && depth == 0)) {
		if (*e == '(')
			depth++;
		else if (*e == ')' && depth > 0)
			depth--;
		e++;
	}
	while (e > sc->term && is_space(e[-1]))
		e--;
	if (e == sc->term) {
		/* Nothing after a comma: quote the whole text. */
		sc->term = sc->text;
		e = sc->text + strlen(sc->text);
	}
	snprintf(sc->err, sc->errlen,
		 "malformed label selector term '%.*s' (%s; expected "
		 "key=value, key!=value, key in (a,b) or key notin (a,b))",
		 (int)(e - sc->term), sc->term, why);
	return -EINVAL;
}

/* Copies the next word into the buffer; NULL when there is none. */
static const char *
word(struct scan *sc)
{
	const char *start;
	char *w = sc->out;

	skip_spaces(sc);
	start = sc->p;
	while (is_word(*sc->p))
		*sc->out++ = *sc->p++;
	if (sc->p == start)
		return NULL;
	*sc->out++ = '\0';
	return w;
}

static int
label_ok(struct scan *sc, const char *what, const char *s)
{
	char why[160];

	if (cmdbus_valid_label(s))
		return 0;
	snprintf(why, sizeof(why),
		 "%s '%.64s' is not 1 to 64 of [A-Za-z0-9_.-]", what, s);
	return malformed(sc, why);
}

static int
add_value(struct scan *sc, struct sel_term *t, const char *v)
{
	char why[160];
	int rc;

	if (v == NULL)
		return malformed(sc, "a value is missing");
	if ((rc = label_ok(sc, "value", v)) < 0)
		return rc;
	for (size_t i = 0; i < t->nvalues; i++)
		if (strcmp(t->values[i], v) == 0) {
			snprintf(why, sizeof(why), "value '%s' listed twice",
				 v);
			return malformed(sc, why);
		}
	if (t->nvalues >= SEL_MAX_VALUES)
		return malformed(sc, "more than 64 values");
	t->values[t->nvalues++] = v;
	return 0;
}

/* "(a, b, c)" after in/notin. */
static int
value_list(struct scan *sc, struct sel_term *t)
{
	int rc;

	skip_spaces(sc);
	if (*sc->p != '(')
		return malformed(sc, "a list in parentheses must follow");
	sc->p++;
	for (;;) {
		if ((rc = add_value(sc, t, word(sc))) < 0)
			return rc;
		skip_spaces(sc);
		if (*sc->p == ')') {
			sc->p++;
			return 0;
		}
		if (*sc->p != ',')
			return malformed(sc, "values are separated by commas "
					     "and closed by ')'");
		sc->p++;
	}
}

static int
term(struct scan *sc, struct sel_term *t)
{
	const char *op;
	int rc;

	memset(t, 0, sizeof(*t));
	skip_spaces(sc);
	sc->term = sc->p;
	if ((t->key = word(sc)) == NULL)
		return malformed(sc, "a key is missing");
	if ((rc = label_ok(sc, "key", t->key)) < 0)
		return rc;
	skip_spaces(sc);
	if (sc->p[0] == '=' || (sc->p[0] == '!' && sc->p[1] == '=')) {
		t->op = sc->p[0] == '!' ? SEL_NE : SEL_EQ;
		sc->p += sc->p[0] == '!' || sc->p[1] == '=' ? 2 : 1;
		return add_value(sc, t, word(sc));
	}
	if ((op = word(sc)) == NULL)
		return malformed(sc, "an operator is missing");
	if (strcmp(op, "in") == 0)
		t->op = SEL_IN;
	else if (strcmp(op, "notin") == 0)
		t->op = SEL_NOTIN;
	else
		return malformed(sc, "unknown operator");
	return value_list(sc, t);
}

static int
parse_text(struct sel_selector *s, const char *text, char *buf, char *err,
	   size_t errlen)
{
	struct scan sc = {text, text, text, buf, err, errlen};
	int rc;

	for (;;) {
		struct sel_term t;

		if ((rc = term(&sc, &t)) < 0)
			return rc;
		for (size_t i = 0; i < s->nterms; i++)
			if (strcmp(s->terms[i].key, t.key) == 0) {
				snprintf(err, errlen,
					 "label key '%s' is given twice in "
					 "the selector",
					 t.key);
				return -EINVAL;
			}
		if (s->nterms >= SEL_MAX_TERMS) {
			snprintf(err, errlen,
				 "a label selector has at most %d keys",
				 SEL_MAX_TERMS);
			return -EINVAL;
		}
		s->terms[s->nterms++] = t;
		skip_spaces(&sc);
		if (*sc.p == '\0')
			return 0;
		if (*sc.p != ',')
			return malformed(&sc, "unexpected text after the term");
		sc.p++;
	}
}

int
sel_parse(const char *const *texts, size_t n, struct sel_selector *s, char *err,
	  size_t errlen)
{
	int rc;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		/* Words are copied with a NUL each: never more than twice
		 * the text. */
		char *buf = malloc(2 * strlen(texts[i]) + 2);

		if (buf == NULL)
			return -ENOMEM;
		if (s->nbufs >= SEL_MAX_TERMS) {
			free(buf);
			snprintf(err, errlen,
				 "a label selector has at most %d keys",
				 SEL_MAX_TERMS);
			return -EINVAL;
		}
		s->bufs[s->nbufs++] = buf;
		if ((rc = parse_text(s, texts[i], buf, err, errlen)) < 0)
			return rc;
	}
	return 0;
}

void
sel_fini(struct sel_selector *s)
{
	for (size_t i = 0; i < s->nbufs; i++)
		free(s->bufs[i]);
	memset(s, 0, sizeof(*s));
}

void
sel_write(const struct sel_selector *s, struct cmdbus_jsonw *w)
{
	cmdbus_jsonw_obj_begin(w, "labels");
	for (size_t i = 0; i < s->nterms; i++) {
		const struct sel_term *t = &s->terms[i];

		if (t->op == SEL_EQ) {
			cmdbus_jsonw_str(w, t->key, t->values[0]);
			continue;
		}
		cmdbus_jsonw_obj_begin(w, t->key);
		cmdbus_jsonw_arr_begin(w, t->op == SEL_IN ? "in" : "notin");
		for (size_t j = 0; j < t->nvalues; j++)
			cmdbus_jsonw_str(w, NULL, t->values[j]);
		cmdbus_jsonw_arr_end(w);
		cmdbus_jsonw_obj_end(w);
	}
	cmdbus_jsonw_obj_end(w);
}
