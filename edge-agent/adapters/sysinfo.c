/* SPDX-License-Identifier: MIT */
/* Reads the system facts the `info` action and the status health report.
 * Every file is read whole into a small buffer and parsed strictly;
 * a missing fact is reported as zero rather than failing the action. */
#include "sysinfo.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"

/* Reads a small file whole, NUL-terminated. 0 or -errno. */
static int
read_small(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

/* The value of "Key:   1234 kB" at the start of a line. */
static int
meminfo_field(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			char digits[32];
			size_t n = 0;
			const char *q = p + klen + 1;
			while (*q == ' ' || *q == '\t')
				q++;
			while (isdigit((unsigned char)*q) &&
			       n + 1 < sizeof(digits))
				digits[n++] = *q++;
			digits[n] = '\0';
			return parse_u64(digits, 0, UINT64_MAX, out);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int
sysinfo_parse_meminfo(const char *text, uint64_t *total_kb, uint64_t *avail_kb)
{
	if (meminfo_field(text, "MemTotal", total_kb) != 0)
		return -EINVAL;
	if (meminfo_field(text, "MemAvailable", avail_kb) != 0 &&
	    meminfo_field(text, "MemFree", avail_kb) != 0)
		*avail_kb = 0;
	return 0;
}

int
sysinfo_parse_os_release(const char *text, char *out, size_t outlen)
{
	static const char key[] = "PRETTY_NAME=";
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1;
			char quote = 0;
			size_t n = 0;

			if (*v == '"' || *v == '\'')
				quote = *v++;
			/* Shell-style value: backslash escapes inside
			 * double quotes, the closing quote ends it. */
			while (*v && *v != '\n' && n + 1 < outlen) {
				if (quote && *v == quote)
					break;
				if (quote == '"' && *v == '\\' && v[1] &&
				    v[1] != '\n')
					v++;
				out[n++] = *v++;
			}
			out[n] = '\0';
			return n > 0 ? 0 : -ENOENT;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int
sysinfo_parse_uptime(const char *text, uint64_t *uptime_s)
{
	char digits[32];
	size_t n = 0;

	while (isdigit((unsigned char)text[n]) && n + 1 < sizeof(digits)) {
		digits[n] = text[n];
		n++;
	}
	digits[n] = '\0';
	if (text[n] != '.' && text[n] != ' ' && text[n] != '\n' && text[n])
		return -EINVAL;
	return parse_u64(digits, 0, UINT64_MAX, uptime_s);
}

int
sysinfo_parse_loadavg(const char *text, double load[3])
{
	const char *p = text;

	for (int i = 0; i < 3; i++) {
		char *end;
		double v;

		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p || v < 0)
			return -EINVAL;
		load[i] = v;
		p = end;
	}
	return 0;
}

int
sysinfo_read(struct sysinfo_snap *s)
{
	struct utsname u;
	struct statvfs vfs;
	char buf[8192];
	int rc;

	memset(s, 0, sizeof(*s));
	if (uname(&u) != 0)
		return -errno;
	snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	snprintf(s->arch, sizeof(s->arch), "%s", u.machine);
	snprintf(s->hostname, sizeof(s->hostname), "%s", u.nodename);
	if ((read_small("/etc/os-release", buf, sizeof(buf)) != 0 &&
	     read_small("/usr/lib/os-release", buf, sizeof(buf)) != 0) ||
	    sysinfo_parse_os_release(buf, s->os, sizeof(s->os)) != 0)
		snprintf(s->os, sizeof(s->os), "%s", u.sysname);

	rc = read_small("/proc/uptime", buf, sizeof(buf));
	if (rc || sysinfo_parse_uptime(buf, &s->info.uptime_s) != 0)
		log_debug("sysinfo.missing", "what=uptime");
	rc = read_small("/proc/loadavg", buf, sizeof(buf));
	if (rc || sysinfo_parse_loadavg(buf, s->info.load) != 0)
		log_debug("sysinfo.missing", "what=loadavg");
	rc = read_small("/proc/meminfo", buf, sizeof(buf));
	if (rc || sysinfo_parse_meminfo(buf, &s->info.mem_total_kb,
					&s->info.mem_avail_kb) != 0)
		log_debug("sysinfo.missing", "what=meminfo");
	if (statvfs("/", &vfs) == 0) {
		s->info.disk_total_kb =
		    (uint64_t)vfs.f_blocks * vfs.f_frsize / 1024;
		s->info.disk_avail_kb =
		    (uint64_t)vfs.f_bavail * vfs.f_frsize / 1024;
	} else {
		log_debug("sysinfo.missing", "what=statvfs");
	}
	s->info.os = s->os;
	s->info.kernel = s->kernel;
	s->info.arch = s->arch;
	s->info.hostname = s->hostname;
	return 0;
}
