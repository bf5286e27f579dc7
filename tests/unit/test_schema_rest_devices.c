/* SPDX-License-Identifier: MIT */
/* REST device views: a device's stored status parts (labels, actions,
 * health) and the device and device-list views built from them, compared
 * byte for byte with the golden vectors under tests/vectors/rest/valid. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/rest.h"
#include "common/err.h"
#include "test_schema_files.h"

#define IAT 1763700000000ull
#define EXP 1763786400000ull
#define BOOT "01JD3PA7C9E1G3J5K7M9N1Q3S5"

/* A device as the dispatcher keeps it: the parts of its last online
 * status as JSON text. */
struct stored_device {
	struct cmdbus_msg m;
	char *labels, *actions, *health;
};

static void
store_status(struct stored_device *sd, const char *vector)
{
	char *p = test_vector_read(vector, NULL);
	struct cmdbus_status *st = &sd->m.u.status;

	assert_int_equal(cmdbus_msg_decode(p, strlen(p), &sd->m, NULL), 0);
	assert_int_equal(sd->m.type, CMDBUS_MSG_STATUS);
	free(p);
	assert_int_equal(cmdbus_status_labels_encode(st->labels, st->nlabels,
						     &sd->labels, NULL),
			 0);
	assert_int_equal(cmdbus_status_actions_encode(st->actions, st->nactions,
						      &sd->actions, NULL),
			 0);
	assert_int_equal(
	    cmdbus_status_health_encode(&st->health, &sd->health, NULL), 0);
}

static void
stored_device_fini(struct stored_device *sd)
{
	cmdbus_msg_fini(&sd->m);
	free(sd->labels);
	free(sd->actions);
	free(sd->health);
}

static void
test_device_view(void **state)
{
	struct stored_device sd;
	struct cmdbus_device_view v[2];
	char *want, *out = NULL;
	size_t len;

	(void)state;
	store_status(&sd, "payload/valid/status-online.json");
	assert_string_equal(sd.labels, "{\"site\":\"sz\",\"role\":\"web\"}");
	memset(v, 0, sizeof(v));
	v[0].id = "dev-1";
	v[0].online = true;
	v[0].last_seen = IAT + 40;
	v[0].boot_id = sd.m.u.status.boot_id;
	v[0].agent = sd.m.u.status.agent;
	v[0].labels_json = sd.labels;
	v[0].actions_json = sd.actions;
	v[0].health_json = sd.health;
	want = test_vector_read("rest/valid/device-view.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&v[0], &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);

	/* Seen only through its will: no agent, no labels, no actions. */
	v[1].id = "dev-2";
	v[1].last_seen = EXP;
	v[1].boot_id = BOOT;
	v[1].agent = "";
	want =
	    test_vector_read("rest/valid/device-view-never-online.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);

	/* Online but silent for three heartbeats: "stale":true. */
	struct cmdbus_device_view st = {.id = "dev-1",
					.online = true,
					.stale = true,
					.last_seen = IAT + 40,
					.boot_id = BOOT};
	want = test_vector_read("rest/valid/device-view-stale.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&st, &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);

	want = test_vector_read("rest/valid/devices-view.json", NULL);
	assert_int_equal(cmdbus_device_list_encode(v, 2, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
	assert_int_equal(cmdbus_device_list_encode(NULL, 0, &out, &len), 0);
	assert_string_equal(out, "{\"devices\":[]}");
	free(out);

	/* Stored text is embedded canonically, and only of the right
	 * kind. */
	v[1].labels_json = "{ \"site\" : \"lab\" }";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), 0);
	assert_non_null(strstr(out, ",\"labels\":{\"site\":\"lab\"},"));
	free(out);
	v[1].labels_json = "[]";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].labels_json = "{\"a\":\"b\",\"a\":\"c\"}";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].labels_json = NULL;
	v[1].actions_json = "{}";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].actions_json = NULL;
	v[1].health_json = "[1]";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	/* One bad entry fails the whole list. */
	out = NULL;
	assert_int_equal(cmdbus_device_list_encode(v, 2, &out, &len), -EINVAL);
	assert_null(out);
	v[1].health_json = NULL;
	v[1].boot_id = NULL;
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	stored_device_fini(&sd);
}

static void
test_status_parts(void **state)
{
	char site[] = "site", lab[] = "lab", rack[] = "rack.no", b4[] = "4-b";
	char spaced[] = "a b", service[] = "service", empty[] = "";
	char pattern[] = "^(nginx|sshd)$";
	struct cmdbus_label l[2] = {{site, lab}, {rack, b4}};
	struct cmdbus_param p[1] = {{service, pattern}};
	struct cmdbus_action_desc a[2] = {
	    {.name = "ping"}, {.name = "restart", .params = p, .nparams = 1}};
	struct cmdbus_health h = {1, 1.5, 2, 3};
	char *out = NULL;

	(void)state;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL), 0);
	assert_string_equal(out, "{\"site\":\"lab\",\"rack.no\":\"4-b\"}");
	free(out);
	assert_int_equal(cmdbus_status_labels_encode(NULL, 0, &out, NULL), 0);
	assert_string_equal(out, "{}");
	free(out);
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL), 0);
	assert_string_equal(out,
			    "[{\"name\":\"ping\"},{\"name\":\"restart\","
			    "\"params\":{\"service\":\"^(nginx|sshd)$\"}}]");
	free(out);
	assert_int_equal(cmdbus_status_actions_encode(NULL, 0, &out, NULL), 0);
	assert_string_equal(out, "[]");
	free(out);
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), 0);
	assert_string_equal(out, "{\"uptime_s\":1,\"load1\":1.5,"
				 "\"mem_avail_kb\":2,\"disk_avail_kb\":3}");
	free(out);

	/* What breaks the contract is refused, never written. */
	out = NULL;
	assert_int_equal(cmdbus_status_labels_encode(NULL, 1, &out, NULL),
			 -EINVAL);
	l[1].value = spaced;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL),
			 -EINVAL);
	l[1].value = NULL;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL),
			 -EINVAL);
	snprintf(a[0].name, sizeof(a[0].name), "Ping");
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	snprintf(a[0].name, sizeof(a[0].name), "ping");
	p[0].pattern = empty;
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	a[1].params = NULL;
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	h.load1 = -0.5;
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), -EINVAL);
	h.load1 = NAN;
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), -EINVAL);
	assert_int_equal(cmdbus_status_health_encode(NULL, &out, NULL),
			 -EINVAL);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_device_view),
	    cmocka_unit_test(test_status_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
