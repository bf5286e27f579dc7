/* SPDX-License-Identifier: MIT */
/* Fuzzes the argument decoders of exec, shell and catalog actions, which
 * see the `args` of commands from the network. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdbus_exec_args a;
	struct cmdbus_label *l = NULL;
	struct cmdbus_diag d;
	char *s = malloc(size + 1), *script = NULL;
	size_t n = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cmdbus_exec_args_decode(s, &a, &d) == 0) {
		if (a.argc < 1 || a.argc > CMDBUS_EXEC_MAX_ARGV ||
		    !a.argv[0][0] || a.argv[a.argc] ||
		    a.nenv > CMDBUS_EXEC_MAX_ENV)
			abort();
	} else if (strcmp(d.code, "bad_args") != 0) {
		abort();
	}
	cmdbus_exec_args_fini(&a);
	if (cmdbus_shell_args_decode(s, &script, &d) == 0 && !script[0])
		abort();
	free(script);
	if (cmdbus_flat_args_decode(s, &l, &n, &d) == 0)
		cmdbus_labels_free(l, n);
	free(s);
	return 0;
}
