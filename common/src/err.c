/* SPDX-License-Identifier: MIT */
/* Text for return codes: the C library's message for -errno values and a
 * fixed sentence for the project's own -ERR_* codes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

static const char *const err_text[] = {
    [ERR_SYNTAX - ERR_BASE] = "syntax error",
    [ERR_CONFIG - ERR_BASE] = "invalid configuration",
    [ERR_MALFORMED - ERR_BASE] = "malformed message",
    [ERR_TOO_LARGE - ERR_BASE] = "input too large",
    [ERR_TOO_DEEP - ERR_BASE] = "input nested too deeply",
    [ERR_BAD_SIGNATURE - ERR_BASE] = "bad signature",
    [ERR_CRYPTO - ERR_BASE] = "cryptographic library failure",
    [ERR_NOT_FOUND - ERR_BASE] = "not found",
    [ERR_CONFLICT - ERR_BASE] = "conflicting state change",
    [ERR_UNAVAILABLE - ERR_BASE] = "dependency unavailable",
};

const char *
err_str(int rc)
{
	/* A per-thread buffer keeps strerror_r's answer alive after return
	 * without sharing it between threads (the agent library may run in
	 * a firmware's own threads). */
	static _Thread_local char text[128];
	int code;

	if (rc == 0)
		return "success";
	/* -INT_MIN does not exist; treat it as unknown rather than overflow. */
	if (rc == -2147483647 - 1)
		return "unknown error";
	code = rc < 0 ? -rc : rc;
	if (code > ERR_BASE && code < ERR_LAST)
		return err_text[code - ERR_BASE];
	if (code >= ERR_BASE)
		return "unknown error";
	/* The XSI strerror_r (selected by _POSIX_C_SOURCE) fills our buffer. */
	if (strerror_r(code, text, sizeof(text)) != 0)
		snprintf(text, sizeof(text), "error %d", code);
	return text;
}
