/* SPDX-License-Identifier: MIT */
/* The /metrics text, read back by a strict parser of the Prometheus text
 * exposition format 0.0.4: every sample belongs to a family declared
 * once with HELP and TYPE, names and label names are valid, label values
 * are escaped, histogram buckets are cumulative and end at +Inf = count,
 * and no series appears twice. */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "core.h"
#include "metrics.h"
#include "test_dispatcher_fakes.h"

#define MAXF 128
#define MAXS 1024

struct family {
	char name[128];
	char type[16];
	bool help;
};

struct parsed {
	struct family fam[MAXF];
	size_t nfam;
	char series[MAXS][256];
	double values[MAXS];
	size_t nseries;
};

static bool
name_ok(const char *s, size_t n, bool metric)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool ok = isalpha((unsigned char)ch) || ch == '_' ||
			  (metric && ch == ':') ||
			  (i > 0 && isdigit((unsigned char)ch));
		if (!ok)
			return false;
	}
	return true;
}

static struct family *
fam_find(struct parsed *p, const char *name)
{
	for (size_t i = 0; i < p->nfam; i++)
		if (strcmp(p->fam[i].name, name) == 0)
			return &p->fam[i];
	return NULL;
}

/* The family a sample belongs to: its own name, or for a histogram the
 * name without _bucket, _sum or _count. */
static struct family *
fam_of_sample(struct parsed *p, const char *name)
{
	struct family *f = fam_find(p, name);
	if (f && strcmp(f->type, "histogram") != 0)
		return f;
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(name), k = strlen(sfx[i]);
		if (n > k && strcmp(name + n - k, sfx[i]) == 0) {
			char base[128];
			snprintf(base, sizeof base, "%.*s", (int)(n - k), name);
			f = fam_find(p, base);
			if (f && strcmp(f->type, "histogram") == 0)
				return f;
		}
	}
	return NULL;
}

/* Parses the whole text; fails the test at the first violation. */
static void
parse(const char *text, struct parsed *p)
{
	memset(p, 0, sizeof *p);
	size_t len = strlen(text);
	assert_true(len > 0);
	assert_int_equal(text[len - 1], '\n');
	const char *line = text;
	while (*line) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		char buf[1024];
		size_t n = (size_t)(nl - line);
		assert_true(n > 0 && n < sizeof buf);
		memcpy(buf, line, n);
		buf[n] = '\0';
		line = nl + 1;

		if (buf[0] == '#') {
			char kw[8], name[128];
			int off = 0;
			assert_int_equal(
			    sscanf(buf, "# %7s %127s %n", kw, name, &off), 2);
			assert_true(name_ok(name, strlen(name), true));
			struct family *f = fam_find(p, name);
			if (!f) {
				assert_true(p->nfam < MAXF);
				f = &p->fam[p->nfam++];
				snprintf(f->name, sizeof f->name, "%s", name);
			}
			if (strcmp(kw, "HELP") == 0) {
				assert_false(f->help);
				f->help = true;
				assert_true(off > 0 && buf[off] != '\0');
			} else if (strcmp(kw, "TYPE") == 0) {
				assert_string_equal(f->type, "");
				const char *t = buf + off;
				assert_true(strcmp(t, "counter") == 0 ||
					    strcmp(t, "gauge") == 0 ||
					    strcmp(t, "histogram") == 0 ||
					    strcmp(t, "summary") == 0 ||
					    strcmp(t, "untyped") == 0);
				snprintf(f->type, sizeof f->type, "%s", t);
			} else {
				fail_msg("unknown comment keyword %s", kw);
			}
			continue;
		}
		/* name{label="value",...} value */
		const char *s = buf;
		size_t nlen = strcspn(s, "{ ");
		assert_true(name_ok(s, nlen, true));
		char name[128];
		snprintf(name, sizeof name, "%.*s", (int)nlen, s);
		struct family *f = fam_of_sample(p, name);
		if (!f)
			fail_msg("sample %s before its TYPE", name);
		assert_true(f->help);
		s += nlen;
		if (*s == '{') {
			s++;
			while (*s != '}') {
				size_t ln = strcspn(s, "=");
				assert_true(name_ok(s, ln, false));
				s += ln;
				assert_int_equal(*s++, '=');
				assert_int_equal(*s++, '"');
				while (*s != '"') {
					assert_true(*s != '\0');
					if (*s == '\\') {
						s++;
						assert_true(*s == '\\' ||
							    *s == '"' ||
							    *s == 'n');
					}
					s++;
				}
				s++;
				if (*s == ',')
					s++;
				else
					assert_int_equal(*s, '}');
			}
			s++;
		}
		assert_int_equal(*s++, ' ');
		char *end = NULL;
		double v;
		if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 ||
		    strcmp(s, "NaN") == 0) {
			v = 0;
		} else {
			errno = 0;
			v = strtod(s, &end);
			assert_int_equal(errno, 0);
			assert_true(end != s && *end == '\0');
		}
		/* No series twice. */
		size_t slen = (size_t)(s - 1 - buf);
		assert_true(p->nseries < MAXS);
		snprintf(p->series[p->nseries], sizeof p->series[0], "%.*s",
			 (int)slen, buf);
		for (size_t i = 0; i < p->nseries; i++)
			if (strcmp(p->series[i], p->series[p->nseries]) == 0)
				fail_msg("series twice: %s", p->series[i]);
		p->values[p->nseries++] = v;
	}
}

static double
value_of(const struct parsed *p, const char *series)
{
	for (size_t i = 0; i < p->nseries; i++)
		if (strcmp(p->series[i], series) == 0)
			return p->values[i];
	fail_msg("no series %s", series);
	return -1;
}

static int
counts(void *ud, uint64_t stale_before, struct store_counts *out)
{
	(void)ud;
	(void)stale_before;
	memset(out, 0, sizeof *out);
	out->execs[CMDBUS_STATE_RUNNING] = 4;
	out->execs[CMDBUS_STATE_SUCCEEDED] = 7;
	out->jobs[CMDBUS_JOB_RUNNING] = 2;
	out->devices = 5;
	out->devices_online = 3;
	out->devices_stale = 1;
	out->inflight = 4;
	out->waiting = 9;
	return 0;
}

static void
test_render_parses(void **state)
{
	(void)state;
	struct fake_store fs;
	struct fake_bus bus;
	struct store_port sp;
	struct bus_port bp;
	struct core c;
	struct clock_fake clk;
	struct parsed *p = calloc(1, sizeof *p);
	char *text = NULL;
	size_t len = 0;

	clock_fake_init(&clk, 1763700000000ull);
	fake_store_init(&fs);
	fake_bus_init(&bus);
	fake_store_port(&fs, &sp);
	fake_bus_port(&bus, &bp);
	sp.counts = counts;
	bus.connected = true;
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 86400000};
	assert_int_equal(core_init(&c, &cc, &clk.clock, &sp, &bp), 0);
	c.stats.published = 12;
	c.stats.drop_device = 2;
	metrics_http_request(&c, "/v1/jobs", 201);
	metrics_http_request(&c, "/v1/jobs", 201);
	metrics_http_request(&c, "/v1/jobs/{id}", 404);
	metrics_http_request(&c, "/odd\"route\\with\nnewline", 200);
	metrics_commit_latency(&c, 50);
	metrics_commit_latency(&c, 3000);
	metrics_commit_latency(&c, 5000000);

	assert_int_equal(metrics_render(&c, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	parse(text, p);
	assert_true(value_of(p, "cmdbus_publishes_total") == 12);
	assert_true(value_of(p, "cmdbus_messages_dropped_total{reason="
				"\"device\"}") == 2);
	assert_true(value_of(p, "cmdbus_executions{state=\"RUNNING\"}") == 4);
	assert_true(value_of(p, "cmdbus_jobs{state=\"RUNNING\"}") == 2);
	assert_true(value_of(p, "cmdbus_devices_online") == 3);
	assert_true(value_of(p, "cmdbus_devices_stale") == 1);
	assert_true(value_of(p, "cmdbus_outbox_waiting") == 9);
	assert_true(value_of(p, "cmdbus_broker_connected") == 1);
	assert_true(value_of(p, "cmdbus_http_requests_total{route="
				"\"/v1/jobs\",status=\"201\"}") == 2);
	assert_true(value_of(p, "cmdbus_http_requests_total{route="
				"\"/odd\\\"route\\\\with\\nnewline\","
				"status=\"200\"}") == 1);
	/* Histogram: cumulative, +Inf equals count. */
	assert_true(value_of(p, "cmdbus_db_commit_seconds_bucket{le="
				"\"0.000100\"}") == 1);
	assert_true(value_of(p, "cmdbus_db_commit_seconds_bucket{le="
				"\"0.005000\"}") == 2);
	assert_true(value_of(p, "cmdbus_db_commit_seconds_bucket{le="
				"\"1.000000\"}") == 2);
	assert_true(value_of(p, "cmdbus_db_commit_seconds_bucket{le="
				"\"+Inf\"}") == 3);
	assert_true(value_of(p, "cmdbus_db_commit_seconds_count") == 3);
	double sum = value_of(p, "cmdbus_db_commit_seconds_sum");
	assert_true(sum > 5.00304 && sum < 5.00306);
	double prev = -1;
	for (size_t i = 0; i < p->nseries; i++) {
		if (strncmp(p->series[i], "cmdbus_db_commit_seconds_bucket",
			    31) != 0)
			continue;
		assert_true(p->values[i] >= prev);
		prev = p->values[i];
	}
	free(text);
	core_fini(&c);
	fake_store_fini(&fs);
	fake_bus_fini(&bus);
	free(p);
}

/* A store that cannot be read still yields valid text, saying so. */
static void
test_render_without_store(void **state)
{
	(void)state;
	struct fake_store fs;
	struct fake_bus bus;
	struct store_port sp;
	struct bus_port bp;
	struct core c;
	struct clock_fake clk;
	struct parsed *p = calloc(1, sizeof *p);
	char *text = NULL;
	size_t len = 0;

	clock_fake_init(&clk, 1763700000000ull);
	fake_store_init(&fs);
	fake_bus_init(&bus);
	fake_store_port(&fs, &sp);
	fake_bus_port(&bus, &bp);
	bus.connected = false;
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 86400000};
	assert_int_equal(core_init(&c, &cc, &clk.clock, &sp, &bp), 0);
	assert_int_equal(metrics_render(&c, &text, &len), 0);
	parse(text, p);
	assert_true(value_of(p, "cmdbus_store_up") == 0);
	assert_true(value_of(p, "cmdbus_broker_connected") == 0);
	assert_true(value_of(p, "cmdbus_db_commit_seconds_count") == 0);
	free(text);
	core_fini(&c);
	fake_store_fini(&fs);
	fake_bus_fini(&bus);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render_parses),
	    cmocka_unit_test(test_render_without_store),
	};
	log_init("test", LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
