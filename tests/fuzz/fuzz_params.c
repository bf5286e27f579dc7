/* SPDX-License-Identifier: MIT */
/* Fuzzes what a REST request carries besides its JSON job body: query
 * parameter values (the numbers, states and names of the list filters),
 * the device and action path segments with the body of an action call,
 * and a device's status labels against the selector of a job request.
 * An accepted value must be what the contract allows; a refusal must
 * say what and where. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "common/log.h"
#include "common/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The list filters' value checks (dispatcher/http/http_handlers.c). */
static void
query_value(const char *v)
{
	uint64_t u;
	int64_t i;
	bool b;
	enum cmdbus_job_state js;
	enum cmdbus_state es;
	enum log_level lv;
	char back[32];

	if (parse_u64(v, 1, 500, &u) == 0) {
		if (u < 1 || u > 500)
			abort();
		snprintf(back, sizeof back, "%" PRIu64, u);
		if (strcmp(back, v) != 0 && v[0] != '0')
			abort();
	}
	if (parse_i64(v, -1000, 1000, &i) == 0 && (i < -1000 || i > 1000))
		abort();
	if (parse_duration_ms(v, 1000, 3600000, &u) == 0 &&
	    (u < 1000 || u > 3600000))
		abort();
	if (parse_size(v, 1, 1u << 30, &u) == 0 && (u < 1 || u > (1u << 30)))
		abort();
	(void)parse_bool(v, &b);
	if (cmdbus_job_state_parse(v, &js) == 0 &&
	    strcmp(cmdbus_job_state_name(js), v) != 0)
		abort();
	if (cmdbus_state_parse(v, &es) == 0 &&
	    strcmp(cmdbus_state_name(es), v) != 0)
		abort();
	(void)log_level_parse(v, &lv);
	(void)cmdbus_valid_id(v);
	(void)cmdbus_valid_device_id(v);
	(void)cmdbus_valid_action(v);
	(void)cmdbus_valid_label(v);
}

static void
action_call(const char *device, const char *action, const char *body,
	    size_t len)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	memset(&d, 0, sizeof d);
	if (cmdbus_action_call_decode(body, len, device, action, &r, &d) == 0) {
		if (r.target != CMDBUS_TARGET_DEVICES || r.ndevices != 1 ||
		    strcmp(r.devices[0], device) != 0 ||
		    strcmp(r.action, action) != 0 ||
		    !cmdbus_valid_device_id(device) ||
		    !cmdbus_valid_action(action) || !r.args_json ||
		    r.args_json[0] != '{')
			abort();
	} else if (!d.code || !d.code[0] || !d.message[0]) {
		abort();
	}
	cmdbus_job_request_fini(&r);
}

/* A job body's selector against a labels object; and the labels the
 * selector's own EQ terms make must satisfy those terms. */
static void
selector(const char *body, size_t len, const char *labels)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	bool match = false;
	char own[4096];
	size_t used = 0;
	bool all_eq = true;

	if (cmdbus_job_request_decode(body, len, &r, &d) != 0 ||
	    r.target != CMDBUS_TARGET_LABELS) {
		cmdbus_job_request_fini(&r);
		return;
	}
	(void)cmdbus_selector_match(r.terms, r.nterms, labels, &match);
	used += (size_t)snprintf(own + used, sizeof own - used, "{");
	for (size_t i = 0; i < r.nterms; i++) {
		const struct cmdbus_label_term *t = &r.terms[i];
		if (t->op == CMDBUS_LABEL_NOTIN || t->nvalues < 1) {
			all_eq = false;
			continue;
		}
		used += (size_t)snprintf(own + used, sizeof own - used,
					 "%s\"%s\":\"%s\"", used > 1 ? "," : "",
					 t->key, t->values[0]);
		if (used >= sizeof own)
			abort();
	}
	snprintf(own + used, sizeof own - used, "}");
	if (all_eq) {
		if (cmdbus_selector_match(r.terms, r.nterms, own, &match) !=
			0 ||
		    !match)
			abort();
	}
	cmdbus_job_request_fini(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Input: up to four NUL-separated parts A, B, C, D (missing ones
	 * empty). A: a query value; A and B: an action call's device and
	 * action, with body C; C and D: a job body and a labels object. */
	char *s = malloc(size + 1);
	const char *part[4] = {"", "", "", ""};
	size_t plen[4] = {0, 0, 0, 0};
	size_t k = 0, start = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i <= size && k < 4; i++) {
		if (i == size || s[i] == '\0') {
			part[k] = s + start;
			plen[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	query_value(part[0]);
	action_call(part[0], part[1], part[2], plen[2]);
	selector(part[2], plen[2], part[3]);
	free(s);
	return 0;
}
