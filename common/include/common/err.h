/* SPDX-License-Identifier: MIT */
/* Error codes shared by every layer: functions return 0 on success and a
 * negative code on failure, -errno where one fits, else -ERR_* below. */
#ifndef CMDBUS_COMMON_ERR_H
#define CMDBUS_COMMON_ERR_H

/* Project codes start far above any errno value so the two never meet. */
enum err_code {
	ERR_BASE = 10000,
	ERR_SYNTAX,        /* text does not follow its grammar */
	ERR_CONFIG,        /* a configuration value or file is invalid */
	ERR_MALFORMED,     /* a message breaks its schema */
	ERR_TOO_LARGE,     /* input over its size limit, refused unparsed */
	ERR_TOO_DEEP,      /* JSON nested deeper than allowed */
	ERR_BAD_SIGNATURE, /* signature missing, unknown key or invalid */
	ERR_CRYPTO,        /* the crypto library failed (not the input) */
	ERR_NOT_FOUND,     /* the named record does not exist */
	ERR_CONFLICT,      /* a state change lost against another one */
	ERR_UNAVAILABLE,   /* a dependency (broker, database) is down */
	ERR_LAST
};

/* Text for a return code: strerror() for -errno values, a fixed sentence
 * for -ERR_* values. The returned string is static; never free it. */
const char *err_str(int rc);

#endif
