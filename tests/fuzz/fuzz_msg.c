/* SPDX-License-Identifier: MIT */
/* Fuzzes the payload decoder. Whatever it accepts must encode, and the
 * encoding must be a fixed point: decoding and encoding it again gives the
 * same bytes. A refusal must say what and where. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/msg.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdbus_msg m, m2;
	struct cmdbus_diag d;
	char *out = NULL, *out2 = NULL;
	size_t len, len2;
	int rc;

	rc = cmdbus_msg_decode((const char *)data, size, &m, &d);
	if (rc < 0) {
		if (rc != -ENOMEM && (!d.code[0] || !d.message[0]))
			abort();
		if (strlen(d.id) && !cmdbus_valid_id(d.id))
			abort();
		return 0;
	}
	if (cmdbus_msg_encode(&m, &out, &len) != 0)
		abort();
	rc = cmdbus_msg_decode(out, len, &m2, &d);
	/* Base64 can make the canonical form larger than the input. */
	if (rc == -ERR_TOO_LARGE) {
		free(out);
		cmdbus_msg_fini(&m);
		return 0;
	}
	if (rc != 0 || m2.type != m.type)
		abort();
	if (cmdbus_msg_encode(&m2, &out2, &len2) != 0 || len2 != len ||
	    memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	cmdbus_msg_fini(&m);
	cmdbus_msg_fini(&m2);
	return 0;
}
