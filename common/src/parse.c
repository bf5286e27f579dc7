/* SPDX-License-Identifier: MIT */
/* Strict parsing of numbers, durations, sizes and booleans: the whole
 * string must match, nothing is skipped, and every overflow is caught. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/parse.h"

/* Reads one or more decimal digits from s and sets *end past the last one.
 * -EINVAL when s does not start with a digit (so no spaces, signs or empty
 * strings), -ERANGE when the digits exceed UINT64_MAX. Callers look at
 * *end first so that junk after a huge number is reported as junk. */
static int
scan_digits(const char *s, uint64_t *out, const char **end)
{
	bool overflow = false;
	uint64_t v = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*end = s;
	if (overflow)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The common tail of the scanners: junk first, then overflow. */
static int
scan_whole(const char *s, uint64_t *out, const char **end)
{
	int rc = scan_digits(s, out, end);

	if (rc == -ERANGE && **end != '\0')
		return -EINVAL;
	return rc;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int rc;

	if ((rc = scan_whole(s, &v, &end)) < 0)
		return rc;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	const char *end;
	bool neg = false;
	uint64_t mag;
	int64_t v;
	int rc;

	if (s != NULL && *s == '-') {
		neg = true;
		s++;
	}
	if ((rc = scan_whole(s, &mag, &end)) < 0)
		return rc;
	if (*end != '\0')
		return -EINVAL;
	if (neg) {
		/* |INT64_MIN| is one more than INT64_MAX. */
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

/* Multiplies v by the multiplier of the unit that matches `suffix`
 * exactly. -EINVAL for an unknown unit, -ERANGE on overflow. */
static int
apply_unit(const struct unit *units, const char *suffix, uint64_t v,
	   uint64_t *out)
{
	for (const struct unit *u = units; u->name != NULL; u++) {
		if (strcmp(u->name, suffix) != 0)
			continue;
		if (v != 0 && u->mult > UINT64_MAX / v)
			return -ERANGE;
		*out = v * u->mult;
		return 0;
	}
	return -EINVAL;
}

int
parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms,
		  uint64_t *out_ms)
{
	static const struct unit units[] = {
	    {"ms", 1},
	    {"s", 1000},
	    {"m", 60 * 1000},
	    {"h", 60 * 60 * 1000},
	    {"d", 24 * 60 * 60 * 1000},
	    {NULL, 0},
	};
	const char *end;
	uint64_t v, ms;
	int rc;

	if ((rc = scan_digits(s, &v, &end)) < 0) {
		uint64_t unused;

		/* Too many digits with a valid unit is out of range; with
		 * junk after them it is junk. */
		if (rc == -ERANGE && *end != '\0' &&
		    apply_unit(units, end, 0, &unused) < 0)
			return -EINVAL;
		return rc;
	}
	/* A bare number has no meaning as a duration, except zero. */
	if (*end == '\0') {
		if (v != 0)
			return -EINVAL;
		ms = 0;
	} else if ((rc = apply_unit(units, end, v, &ms)) < 0) {
		return rc;
	}
	if (ms < min_ms || ms > max_ms)
		return -ERANGE;
	*out_ms = ms;
	return 0;
}

int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
#define KIB 1024ULL
	static const struct unit units[] = {
	    {"", 1},
	    {"k", KIB},
	    {"K", KIB},
	    {"KiB", KIB},
	    {"m", KIB * KIB},
	    {"M", KIB * KIB},
	    {"MiB", KIB * KIB},
	    {"g", KIB * KIB * KIB},
	    {"G", KIB * KIB * KIB},
	    {"GiB", KIB * KIB * KIB},
	    {"t", KIB * KIB * KIB * KIB},
	    {"T", KIB * KIB * KIB * KIB},
	    {"TiB", KIB * KIB * KIB * KIB},
	    {NULL, 0},
	};
#undef KIB
	const char *end;
	uint64_t v, bytes;
	int rc;

	if ((rc = scan_digits(s, &v, &end)) < 0) {
		uint64_t unused;

		if (rc == -ERANGE && apply_unit(units, end, 0, &unused) < 0)
			return -EINVAL;
		return rc;
	}
	if ((rc = apply_unit(units, end, v, &bytes)) < 0)
		return rc;
	if (bytes < min || bytes > max)
		return -ERANGE;
	*out = bytes;
	return 0;
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}
