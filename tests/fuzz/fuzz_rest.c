/* SPDX-License-Identifier: MIT */
/* Fuzzes the REST job request decoder: no crash, no leak, and an accepted
 * request holds only what the contract allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	int rc;

	rc = cmdbus_job_request_decode((const char *)data, size, &r, &d);
	if (rc == 0) {
		if (!cmdbus_valid_action(r.action) || !r.args_json ||
		    r.args_json[0] != '{' || r.timeout_ms < 1 ||
		    r.timeout_ms > CMDBUS_MAX_TIMEOUT_MS || r.ttl_ms < 1000 ||
		    r.ttl_ms > CMDBUS_MAX_TTL_MS)
			abort();
		for (size_t i = 0; i < r.ndevices; i++) {
			if (!cmdbus_valid_device_id(r.devices[i]))
				abort();
			for (size_t j = 0; j < i && r.ndevices < 64; j++)
				if (strcmp(r.devices[i], r.devices[j]) == 0)
					abort();
		}
		if (r.target == CMDBUS_TARGET_DEVICES && r.ndevices == 0)
			abort();
		if (r.target == CMDBUS_TARGET_LABELS && r.nterms == 0)
			abort();
	} else if (!d.code[0] || !d.message[0]) {
		abort();
	}
	cmdbus_job_request_fini(&r);
	return 0;
}
