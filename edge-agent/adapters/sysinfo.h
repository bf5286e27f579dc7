/* SPDX-License-Identifier: MIT */
/* System facts for the `info` action and the status health: uname, the
 * os-release name, /proc/uptime, /proc/loadavg, /proc/meminfo and
 * statvfs("/"). The parsers are exposed so tests can feed them text. */
#ifndef CMDBUS_AGENT_SYSINFO_H
#define CMDBUS_AGENT_SYSINFO_H

#include <stddef.h>
#include <stdint.h>

#include "cmdbus/action.h"

struct sysinfo_snap {
	char os[128];
	char kernel[128];
	char arch[80];
	char hostname[256];
	struct cmdbus_info info; /* its strings point into this struct */
};

/* Reads everything now. Facts that cannot be read are left 0 or "" and
 * logged at debug; only a failing uname is an error. 0 or -errno. */
int sysinfo_read(struct sysinfo_snap *s);

/* "MemTotal:  16318600 kB" ... -> KiB; MemAvailable, else MemFree.
 * 0 or -EINVAL when MemTotal is missing. */
int sysinfo_parse_meminfo(const char *text, uint64_t *total_kb,
			  uint64_t *avail_kb);
/* PRETTY_NAME of an os-release file, unquoted. 0 or -ENOENT. */
int sysinfo_parse_os_release(const char *text, char *out, size_t outlen);
/* "12345.67 2345.6" -> 12345. 0 or -EINVAL. */
int sysinfo_parse_uptime(const char *text, uint64_t *uptime_s);
/* "0.52 0.58 0.59 1/389 12345" -> three loads. 0 or -EINVAL. */
int sysinfo_parse_loadavg(const char *text, double load[3]);

#endif
