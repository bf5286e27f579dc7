/* SPDX-License-Identifier: MIT */
/* The rules of catalog parameters: a `param` line parsed into a regular
 * expression, an enum or an integer range with the whole-value pattern the
 * status shows, and a value checked against its rule. */
#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/parse.h"

bool
catalog_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

/* Splits "NAME REST" at the first blank; *rest points past the blanks. */
int
catalog_split_name(const char *v, char *name, size_t namelen, const char **rest)
{
	size_t n = strcspn(v, " \t");

	if (n == 0 || n >= namelen)
		return -EINVAL;
	memcpy(name, v, n);
	name[n] = '\0';
	v += n;
	while (*v == ' ' || *v == '\t')
		v++;
	*rest = v;
	return 0;
}

static bool
valid_enum_value(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!catalog_name_char(s[i]) && !strchr(",:/@=+", s[i]))
			return false;
	return true;
}

/* Whether a pattern stacks quantifiers (`a**`, `a+*`, `a{2}*`): glibc's
 * regcomp takes time exponential in such runs (100 stars: seconds), and
 * they mean nothing a single quantifier does not. Escapes and bracket
 * expressions are skipped. */
static bool
stacked_quantifier(const char *p)
{
	bool after_quant = false;

	for (size_t i = 0; p[i]; i++) {
		char ch = p[i];
		if (ch == '\\' && p[i + 1]) {
			i++;
			after_quant = false;
			continue;
		}
		if (ch == '[') {
			/* To the closing ], which may come first as itself. */
			size_t j = i + 1;
			if (p[j] == '^')
				j++;
			if (p[j] == ']')
				j++;
			while (p[j] && p[j] != ']')
				j++;
			if (!p[j])
				return false; /* regcomp refuses it anyway */
			i = j;
			after_quant = false;
			continue;
		}
		bool quant = ch == '*' || ch == '+' || ch == '?' || ch == '{';
		if (quant && after_quant)
			return true;
		if (ch == '{') {
			while (p[i] && p[i] != '}')
				i++;
			if (!p[i])
				return false;
		}
		after_quant = quant;
	}
	return false;
}

/* Builds the whole-value pattern of a regex rule: a leading ^ and a
 * trailing $ are implied, so they are dropped and the rest grouped. */
static char *
regex_pattern(const char *p)
{
	size_t n = strlen(p);
	char *out;

	if (n > 0 && p[0] == '^') {
		p++;
		n--;
	}
	if (n > 0 && p[n - 1] == '$' && (n < 2 || p[n - 2] != '\\'))
		n--;
	out = malloc(n + 5);
	if (out)
		snprintf(out, n + 5, "^(%.*s)$", (int)n, p);
	return out;
}

/* Parses one `param` value into *p (when p is given). */
int
catalog_param_parse(const char *v, struct catalog_param *p, char *err,
		    size_t errlen)
{
	char name[CMDBUS_NAME_BUF], kind[16];
	const char *rest, *spec;

	if (catalog_split_name(v, name, sizeof(name), &rest) != 0 ||
	    !cmdbus_valid_label(name)) {
		snprintf(err, errlen,
			 "'param NAME TYPE ...': the name must be 1..64 "
			 "bytes of [A-Za-z0-9_.-]");
		return -EINVAL;
	}
	if (catalog_split_name(rest, kind, sizeof(kind), &spec) != 0) {
		snprintf(err, errlen,
			 "param '%s' needs a type: regex, enum or int", name);
		return -EINVAL;
	}
	if (*spec == '\0') {
		snprintf(err, errlen, "param '%s' %s needs its rule", name,
			 kind);
		return -EINVAL;
	}
	if (p) {
		memset(p, 0, sizeof(*p));
		p->name = strdup(name);
		if (!p->name)
			return -ENOMEM;
	}
	if (strcmp(kind, "regex") == 0) {
		char *pat = regex_pattern(spec);
		regex_t re;

		if (!pat)
			return -ENOMEM;
		if (strlen(pat) > CATALOG_PATTERN_MAX) {
			snprintf(err, errlen,
				 "param '%s': pattern longer than %d bytes",
				 name, CATALOG_PATTERN_MAX);
			free(pat);
			return -EINVAL;
		}
		if (stacked_quantifier(spec)) {
			snprintf(err, errlen,
				 "param '%s': regular expression '%s' stacks "
				 "quantifiers (like a** or a+*): use one",
				 name, spec);
			free(pat);
			return -EINVAL;
		}
		if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0) {
			snprintf(err, errlen,
				 "param '%s': regular expression '%s' does "
				 "not compile (POSIX ERE)",
				 name, spec);
			free(pat);
			return -EINVAL;
		}
		if (!p) {
			regfree(&re);
			free(pat);
			return 0;
		}
		p->rule = CAT_REGEX;
		p->re = re;
		p->has_re = true;
		p->pattern = pat;
		return 0;
	}
	if (strcmp(kind, "enum") == 0) {
		size_t cap = 8, plen = 0;
		char *pat = malloc(cap);

		if (!pat)
			return -ENOMEM;
		plen = (size_t)snprintf(pat, cap, "^(");
		while (*spec) {
			size_t n = strcspn(spec, " \t");
			char **grown;

			if (!valid_enum_value(spec, n)) {
				snprintf(err, errlen,
					 "param '%s': enum value '%.*s' may "
					 "hold only [A-Za-z0-9_.,:/@=+-]",
					 name, (int)n, spec);
				free(pat);
				return -EINVAL;
			}
			/* Room for the value escaped, '|', ")$" and NUL. */
			if (plen + 2 * n + 4 > cap) {
				char *g;
				cap = (plen + 2 * n + 4) * 2;
				g = realloc(pat, cap);
				if (!g) {
					free(pat);
					return -ENOMEM;
				}
				pat = g;
			}
			if (plen > 2)
				pat[plen++] = '|';
			for (size_t i = 0; i < n; i++) {
				/* '.' and '+' are the only ERE specials
				 * an enum value may hold. */
				if (spec[i] == '.' || spec[i] == '+')
					pat[plen++] = '\\';
				pat[plen++] = spec[i];
			}
			pat[plen] = '\0';
			if (p) {
				grown = realloc(p->choices, (p->nchoices + 1) *
								sizeof(char *));
				if (!grown) {
					free(pat);
					return -ENOMEM;
				}
				p->choices = grown;
				p->choices[p->nchoices] = strndup(spec, n);
				if (!p->choices[p->nchoices]) {
					free(pat);
					return -ENOMEM;
				}
				p->nchoices++;
			}
			spec += n;
			while (*spec == ' ' || *spec == '\t')
				spec++;
		}
		memcpy(pat + plen, ")$", 3);
		if (strlen(pat) > CATALOG_PATTERN_MAX) {
			snprintf(err, errlen,
				 "param '%s': enum longer than %d bytes as a "
				 "pattern",
				 name, CATALOG_PATTERN_MAX);
			free(pat);
			return -EINVAL;
		}
		if (p) {
			p->rule = CAT_ENUM;
			p->pattern = pat;
		} else {
			free(pat);
		}
		return 0;
	}
	if (strcmp(kind, "int") == 0) {
		char lo[32], *hi_s;
		const char *hi;
		int64_t min, max;

		if (catalog_split_name(spec, lo, sizeof(lo), &hi) != 0 ||
		    parse_i64(lo, INT64_MIN, INT64_MAX, &min) != 0 ||
		    parse_i64(hi, INT64_MIN, INT64_MAX, &max) != 0 ||
		    min > max) {
			snprintf(err, errlen,
				 "param '%s': 'int MIN MAX' needs two "
				 "integers with MIN <= MAX",
				 name);
			return -EINVAL;
		}
		if (!p)
			return 0;
		p->rule = CAT_INT;
		p->min = min;
		p->max = max;
		hi_s = strdup(min < 0 ? "^-?[0-9]{1,19}$" : "^[0-9]{1,19}$");
		if (!hi_s)
			return -ENOMEM;
		p->pattern = hi_s;
		return 0;
	}
	snprintf(err, errlen,
		 "param '%s': unknown type '%s' (regex, enum or int)", name,
		 kind);
	return -EINVAL;
}

/* Checks one value against its parameter's rule. */
bool
catalog_value_ok(const struct catalog_param *p, const char *v)
{
	int64_t n;

	switch (p->rule) {
	case CAT_REGEX:
		return regexec(&p->re, v, 0, NULL, 0) == 0;
	case CAT_ENUM:
		for (size_t i = 0; i < p->nchoices; i++)
			if (strcmp(p->choices[i], v) == 0)
				return true;
		return false;
	case CAT_INT:
		return parse_i64(v, p->min, p->max, &n) == 0;
	}
	return false;
}

void
catalog_rule_text(const struct catalog_param *p, char *out, size_t outlen)
{
	if (p->rule == CAT_INT)
		snprintf(out, outlen, "an integer in %lld..%lld",
			 (long long)p->min, (long long)p->max);
	else
		snprintf(out, outlen, "a value matching %s", p->pattern);
}
