/* SPDX-License-Identifier: MIT */
/* The system-facts parsers on fixed text, and one real read whose values
 * must be plausible on any Linux machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sysinfo.h"

static void
meminfo(void **state)
{
	uint64_t total = 0, avail = 0;
	const char *text = "MemTotal:       16318600 kB\n"
			   "MemFree:         1234567 kB\n"
			   "MemAvailable:    9876543 kB\n"
			   "Buffers:          100000 kB\n";
	const char *old = "MemTotal:  2048 kB\nMemFree:  512 kB\n";

	assert_int_equal(sysinfo_parse_meminfo(text, &total, &avail), 0);
	assert_int_equal(total, 16318600);
	assert_int_equal(avail, 9876543);
	/* Kernels without MemAvailable: MemFree stands in. */
	assert_int_equal(sysinfo_parse_meminfo(old, &total, &avail), 0);
	assert_int_equal(total, 2048);
	assert_int_equal(avail, 512);
	assert_int_equal(
	    sysinfo_parse_meminfo("MemFree: 1 kB\n", &total, &avail), -EINVAL);
	/* A prefix of another key does not count. */
	assert_int_equal(
	    sysinfo_parse_meminfo("MemTotalX: 5 kB\n", &total, &avail),
	    -EINVAL);
}

static void
os_release(void **state)
{
	char out[128];

	assert_int_equal(sysinfo_parse_os_release(
			     "NAME=\"Debian GNU/Linux\"\n"
			     "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
			     "ID=debian\n",
			     out, sizeof(out)),
			 0);
	assert_string_equal(out, "Debian GNU/Linux 12 (bookworm)");
	assert_int_equal(
	    sysinfo_parse_os_release("PRETTY_NAME=Alpine\n", out, sizeof(out)),
	    0);
	assert_string_equal(out, "Alpine");
	assert_int_equal(sysinfo_parse_os_release(
			     "PRETTY_NAME='Single quoted'\n", out, sizeof(out)),
			 0);
	assert_string_equal(out, "Single quoted");
	assert_int_equal(
	    sysinfo_parse_os_release("PRETTY_NAME=\"Say \\\"hi\\\"\"\n", out,
				     sizeof(out)),
	    0);
	assert_string_equal(out, "Say \"hi\"");
	assert_int_equal(sysinfo_parse_os_release("NAME=x\n", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(
	    sysinfo_parse_os_release("PRETTY_NAME=\"\"\n", out, sizeof(out)),
	    -ENOENT);
}

static void
uptime_and_load(void **state)
{
	uint64_t up = 0;
	double load[3] = {0, 0, 0};

	assert_int_equal(sysinfo_parse_uptime("12345.67 2345.60\n", &up), 0);
	assert_int_equal(up, 12345);
	assert_int_equal(sysinfo_parse_uptime("x12\n", &up), -EINVAL);
	assert_int_equal(sysinfo_parse_uptime("12x\n", &up), -EINVAL);
	assert_int_equal(
	    sysinfo_parse_loadavg("0.52 1.58 12.00 1/389 77\n", load), 0);
	assert_true(load[0] > 0.51 && load[0] < 0.53);
	assert_true(load[1] > 1.57 && load[1] < 1.59);
	assert_true(load[2] > 11.99 && load[2] < 12.01);
	assert_int_equal(sysinfo_parse_loadavg("0.5 nan 1\n", load), -EINVAL);
	assert_int_equal(sysinfo_parse_loadavg("0.5 -1 1\n", load), -EINVAL);
}

static void
real_read(void **state)
{
	struct sysinfo_snap s;

	assert_int_equal(sysinfo_read(&s), 0);
	assert_true(s.info.kernel[0] != '\0');
	assert_true(s.info.arch[0] != '\0');
	assert_true(s.info.hostname[0] != '\0');
	assert_true(s.info.os[0] != '\0');
	assert_true(s.info.mem_total_kb > 0);
	assert_true(s.info.mem_avail_kb <= s.info.mem_total_kb);
	assert_true(s.info.disk_total_kb > 0);
	assert_true(s.info.disk_avail_kb <= s.info.disk_total_kb);
	assert_ptr_equal(s.info.kernel, s.kernel);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(meminfo),
	    cmocka_unit_test(os_release),
	    cmocka_unit_test(uptime_and_load),
	    cmocka_unit_test(real_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
