/* SPDX-License-Identifier: MIT */
/* Fuzzes the agent's journal reader, which trusts nothing of a file a
 * crash or a full disk may have torn: the input is the file, either as it
 * is or (first byte even) cut into records that get a valid length and
 * CRC, so that the fuzzer reaches the record decoder behind the CRC. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "journal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines are still formatted (that code sees the file's bytes too) but
 * not written: a torn file logs on every run. */
static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_DEBUG);
	log_set_sink(quiet, NULL);
	return 0;
}

/* The journal's file, in memory. */
struct file {
	unsigned char *p;
	size_t len;
};

static int
f_load(void *ud, char **buf, size_t *len)
{
	struct file *f = ud;

	*buf = malloc(f->len + 1);
	if (!*buf)
		return -ENOMEM;
	if (f->len)
		memcpy(*buf, f->p, f->len);
	*len = f->len;
	return 0;
}

static int
f_append(void *ud, const void *p, size_t n)
{
	struct file *f = ud;
	unsigned char *grown = realloc(f->p, f->len + n + 1);

	if (!grown)
		return -ENOMEM;
	f->p = grown;
	memcpy(f->p + f->len, p, n);
	f->len += n;
	return 0;
}

static int
f_sync(void *ud)
{
	(void)ud;
	return 0;
}

static int
f_truncate(void *ud, uint64_t size)
{
	struct file *f = ud;

	if (size > f->len)
		return -EINVAL;
	f->len = (size_t)size;
	return 0;
}

static int
f_read_at(void *ud, uint64_t off, void *p, size_t n)
{
	struct file *f = ud;

	/* The reader must never ask for bytes outside what it indexed. */
	if (off > f->len || n > f->len - off)
		abort();
	memcpy(p, f->p + off, n);
	return 0;
}

static int
f_replace(void *ud, const void *p, size_t n)
{
	struct file *f = ud;

	f->len = 0;
	return f_append(f, p, n);
}

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The magic, then records whose bodies are the input's chunks: each
 * chunk is a length byte and that many bytes. */
static int
frame(const uint8_t *data, size_t size, struct file *f)
{
	unsigned char hdr[JOURNAL_HDR];

	if (f_append(f, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN))
		return -1;
	while (size > 0) {
		size_t n = data[0] * 4u;
		data++;
		size--;
		if (n > size)
			n = size;
		put32(hdr, (uint32_t)n);
		put32(hdr + 4, journal_crc32c(data, n));
		if (f_append(f, hdr, sizeof(hdr)) || f_append(f, data, n))
			return -1;
		data += n;
		size -= n;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_io io = {f_load,	   f_append,  f_sync, f_truncate,
				f_read_at, f_replace, NULL,   false};
	struct file f = {NULL, 0};
	struct journal j;

	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if (frame(data + 1, size - 1, &f)) {
			free(f.p);
			return 0;
		}
	} else if (f_append(&f, data + 1, size - 1)) {
		return 0;
	}
	io.ud = &f;
	if (journal_open(&j, &io, 1) == 0) {
		/* What was indexed must read back, and survive the
		 * compaction that rewrites the file from the index. */
		for (size_t i = 0; i < j.n; i++) {
			char *out = NULL;
			size_t len = 0;
			if (journal_read_msg(&j, &j.v[i], &out, &len) == 0)
				free(out);
			out = NULL;
			if (journal_read_cmd(&j, &j.v[i], &out, &len) == 0)
				free(out);
		}
		/* Appends go after what was cut off, and read back. */
		if (journal_tombstone(&j, "01JFUZZ0000000000000000000",
				      UINT64_MAX) != 0 ||
		    (j.n > 0 && journal_finished(&j, j.v[0].id, UINT64_MAX,
						 "done", 4) != 0))
			abort();
		if (j.n > 0) {
			char *out = NULL;
			size_t len = 0;
			if (journal_read_msg(&j, &j.v[0], &out, &len) != 0 ||
			    len != 4 || memcmp(out, "done", 4) != 0)
				abort();
			free(out);
		}
		journal_maintain(&j, (uint64_t)data[0] << 40);
		journal_close(&j);
	}
	free(f.p);
	return 0;
}
