/* SPDX-License-Identifier: MIT */
/* The fake journal file of agent_fake_file.h, with the failures it can
 * inject; a failed append leaves half its bytes behind, as a torn write
 * does. */
#include "agent_fake_file.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bool
ff_fails(struct ff *f)
{
	f->calls++;
	return f->fail_all || f->calls == f->fail_at;
}

void
ff_put(struct ff *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		f->cap = (f->len + n) * 2 + 64;
		f->data = realloc(f->data, f->cap);
		assert_non_null(f->data);
	}
	memcpy(f->data + f->len, p, n);
	f->len += n;
}

static int
ff_load(void *ud, char **buf, size_t *len)
{
	struct ff *f = ud;

	*buf = malloc(f->len + 1);
	assert_non_null(*buf);
	if (f->len)
		memcpy(*buf, f->data, f->len);
	*len = f->len;
	return 0;
}

static int
ff_append(void *ud, const void *p, size_t n)
{
	struct ff *f = ud;

	if (ff_fails(f)) {
		ff_put(f, p, n / 2); /* a torn write */
		return -ENOSPC;
	}
	ff_put(f, p, n);
	return 0;
}

static int
ff_sync(void *ud)
{
	struct ff *f = ud;

	if (ff_fails(f))
		return -EIO;
	f->durable = f->len;
	return 0;
}

static int
ff_truncate(void *ud, uint64_t size)
{
	struct ff *f = ud;

	if (ff_fails(f))
		return -EIO;
	if (size < f->len)
		f->len = (size_t)size;
	f->durable = f->len;
	return 0;
}

static int
ff_read_at(void *ud, uint64_t off, void *p, size_t n)
{
	struct ff *f = ud;

	if (off + n > f->len)
		return -EIO;
	memcpy(p, f->data + off, n);
	return 0;
}

static int
ff_replace(void *ud, const void *p, size_t n)
{
	struct ff *f = ud;

	if (ff_fails(f))
		return -EIO;
	f->len = 0;
	ff_put(f, p, n);
	f->durable = n;
	return 0;
}

struct journal_io
ff_io(struct ff *f)
{
	struct journal_io io = {ff_load,    ff_append,	ff_sync, ff_truncate,
				ff_read_at, ff_replace, f,	 false};
	return io;
}

void
ff_crash(struct ff *f)
{
	f->len = f->durable;
}

void
ff_durable_copy(const struct ff *f, struct ff *out)
{
	memset(out, 0, sizeof(*out));
	if (f->durable)
		ff_put(out, f->data, f->durable);
	out->durable = out->len;
}

void
ff_free(struct ff *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}
