/* SPDX-License-Identifier: MIT */
/* The journal's records on a fake file: read back, a torn tail cut at
 * every offset of the last record, corruption in the middle (a bad id
 * behind a good CRC too), and compaction keeping exactly the live
 * records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_core.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "common/clock.h"
#include "common/err.h"
#include "agent_fake_file.h"
#include "journal.h"

#define NOW 1800000000000ull
#define SKEW 60000ull
#define BOOT "01JBOOT0000000000000000000"

static const char *
msg_of(struct journal *j, const char *id, char **buf)
{
	struct journal_entry *e = journal_find(j, id);
	size_t len;

	assert_non_null(e);
	assert_int_equal(journal_read_msg(j, e, buf, &len), 0);
	return *buf;
}

/* ---- records ---- */

static void
records_round_trip(void **state)
{
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	struct journal_entry *e;
	char *buf = NULL;
	size_t len;

	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(journal_received(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA",
					  "ab", 5000, 9000, true, "{cmd}", 5),
			 0);
	assert_int_equal(
	    journal_started(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA", 4242, 777), 0);
	assert_int_equal(journal_finished(&j, "01JBBBBBBBBBBBBBBBBBBBBBBB",
					  9000, "{result-b}", 10),
			 0);
	assert_int_equal(
	    journal_tombstone(&j, "01JCCCCCCCCCCCCCCCCCCCCCCC", 7000), 0);
	journal_close(&j);

	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.n, 3);
	assert_int_equal(j.stats.loaded, 4);
	e = journal_find(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA");
	assert_non_null(e);
	assert_true(e->old);
	assert_int_equal(e->state, JREC_STARTED);
	assert_int_equal(e->pid, 4242);
	assert_int_equal(e->pid_start, 777);
	assert_int_equal(e->exp, 5000);
	assert_int_equal(e->keep_until, 9000);
	assert_true(e->idempotent);
	assert_int_equal(journal_read_cmd(&j, e, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "{cmd}", 5);
	free(buf);
	assert_string_equal(msg_of(&j, "01JBBBBBBBBBBBBBBBBBBBBBBB", &buf),
			    "{result-b}");
	free(buf);
	e = journal_find(&j, "01JCCCCCCCCCCCCCCCCCCCCCCC");
	assert_int_equal(e->state, JREC_TOMBSTONE);
	assert_null(journal_find(&j, "01JDDDDDDDDDDDDDDDDDDDDDDD"));
	journal_close(&j);

	/* Not a journal: refused, never overwritten. */
	memcpy(f.data, "NOTAJOUR", 8);
	assert_int_equal(journal_open(&j, &io, 0), -ERR_MALFORMED);
	journal_close(&j);
	ff_free(&f);
}

/* Three finished ids; *last is where the third record starts. */
static void
three_records(struct ff *f, size_t *last)
{
	struct journal_io io = ff_io(f);
	struct journal j;

	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(journal_finished(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA",
					  9000, "first", 5),
			 0);
	assert_int_equal(journal_finished(&j, "01JBBBBBBBBBBBBBBBBBBBBBBB",
					  9000, "second", 6),
			 0);
	*last = f->len;
	assert_int_equal(journal_finished(&j, "01JCCCCCCCCCCCCCCCCCCCCCCC",
					  9000, "third!", 6),
			 0);
	journal_close(&j);
}

static void
torn_tail_at_every_offset(void **state)
{
	struct ff f = {0};
	struct journal j;
	size_t last, full;
	char *buf = NULL;

	three_records(&f, &last);
	full = f.len;
	for (size_t cut = last; cut < full; cut++) {
		struct ff g = {0};
		struct journal_io io = ff_io(&g);

		ff_put(&g, f.data, cut);
		assert_int_equal(journal_open(&j, &io, 0), 0);
		assert_int_equal(j.n, 2);
		assert_null(journal_find(&j, "01JCCCCCCCCCCCCCCCCCCCCCCC"));
		assert_int_equal(j.size, last);
		assert_int_equal(g.len, last); /* cut off on disk too */
		assert_int_equal(j.stats.dropped_tail, cut - last);
		assert_int_equal(j.stats.corrupt, 0);
		/* And it can be appended to again. */
		assert_int_equal(journal_finished(&j,
						  "01JDDDDDDDDDDDDDDDDDDDDDDD",
						  9000, "fourth", 6),
				 0);
		journal_close(&j);
		assert_int_equal(journal_open(&j, &io, 0), 0);
		assert_int_equal(j.n, 3);
		assert_string_equal(
		    msg_of(&j, "01JDDDDDDDDDDDDDDDDDDDDDDD", &buf), "fourth");
		free(buf);
		journal_close(&j);
		ff_free(&g);
	}
	/* The last byte flipped: the frame ends at the end of the file, so
	 * it is a torn write, not corruption. */
	{
		struct ff g = {0};
		struct journal_io io = ff_io(&g);

		ff_put(&g, f.data, full);
		g.data[full - 1] ^= 0x55;
		assert_int_equal(journal_open(&j, &io, 0), 0);
		assert_int_equal(j.n, 2);
		assert_int_equal(j.stats.dropped_tail, full - last);
		journal_close(&j);
		ff_free(&g);
	}
	/* Zeros past the end (the size grew, the pages did not land). */
	{
		struct ff g = {0};
		struct journal_io io = ff_io(&g);
		char zeros[4096] = {0};

		ff_put(&g, f.data, full);
		ff_put(&g, zeros, sizeof(zeros));
		assert_int_equal(journal_open(&j, &io, 0), 0);
		assert_int_equal(j.n, 3);
		assert_int_equal(j.stats.dropped_tail, sizeof(zeros));
		assert_int_equal(g.len, full);
		journal_close(&j);
		ff_free(&g);
	}
	ff_free(&f);
}

static void
corrupt_middle_keeps_what_came_before(void **state)
{
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	size_t last;

	three_records(&f, &last);
	f.data[last - 2] ^= 0x01; /* inside the second record's body */
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.n, 1);
	assert_non_null(journal_find(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_true(j.stats.corrupt > 0);
	assert_int_equal(j.stats.dropped_tail, 0);
	assert_int_equal(f.len, j.size);
	journal_close(&j);
	ff_free(&f);
}

/* A record whose CRC holds but whose id is not one the contract allows
 * (a NUL or a stray byte inside it) is corruption too: indexed, it would
 * name another id than the one on disk, and compaction could never write
 * it again. */
static void
bad_id_with_good_crc_is_corruption(void **state)
{
	static const char bad[] = {'\0', '\n', '/'};

	for (size_t k = 0; k < sizeof(bad); k++) {
		struct ff f = {0};
		struct journal_io io = ff_io(&f);
		struct journal j;
		unsigned char *rec, crc[4];
		size_t last, second;
		uint32_t body;

		three_records(&f, &last);
		rec = (unsigned char *)f.data + JOURNAL_MAGIC_LEN;
		second = JOURNAL_MAGIC_LEN + JOURNAL_HDR +
			 (rec[0] | (size_t)rec[1] << 8 | (size_t)rec[2] << 16 |
			  (size_t)rec[3] << 24);
		rec = (unsigned char *)f.data + second;
		body = (uint32_t)(last - second - JOURNAL_HDR);
		rec[JOURNAL_HDR + 3 + 4] = (unsigned char)bad[k]; /* id[4] */
		for (int i = 0; i < 4; i++)
			crc[i] = (unsigned char)(journal_crc32c(
						     rec + JOURNAL_HDR, body) >>
						 (8 * i));
		memcpy(rec + 4, crc, 4);
		assert_int_equal(journal_open(&j, &io, 0), 0);
		assert_int_equal(j.n, 1);
		assert_non_null(journal_find(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA"));
		assert_true(j.stats.corrupt > 0);
		journal_close(&j);
		ff_free(&f);
	}
}

static void
compaction_keeps_exactly_the_live_records(void **state)
{
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	char id[CMDBUS_ID_BUF], msg[64], *buf = NULL;
	size_t before, len;
	struct journal_entry *e;

	assert_int_equal(journal_open(&j, &io, 2048), 0);
	for (int i = 0; i < 60; i++) {
		/* Every sixth is still to be remembered; the rest are past
		 * their keep_until at 5000. */
		snprintf(id, sizeof(id), "01JID%021d", i);
		snprintf(msg, sizeof(msg), "result number %d", i);
		assert_int_equal(journal_finished(&j, id,
						  i % 6 == 0 ? 90000 : 1000,
						  msg, strlen(msg)),
				 0);
	}
	assert_int_equal(journal_received(&j, "01JRUNNINGRUNNINGRUNNING00",
					  "cd", 3000, 1000, true, "{c}", 3),
			 0);
	assert_int_equal(
	    journal_started(&j, "01JRUNNINGRUNNINGRUNNING00", 99, 5), 0);
	assert_int_equal(
	    journal_tombstone(&j, "01JTOMBTOMBTOMBTOMBTOMB000", 90000), 0);
	assert_int_equal(
	    journal_tombstone(&j, "01JTOMBTOMBTOMBTOMBTOMB001", 1000), 0);
	before = f.len;
	assert_int_equal(journal_maintain(&j, 5000), 0);
	assert_int_equal(j.stats.compactions, 1);
	assert_true(f.len < before / 2);
	assert_int_equal(j.n, 10 + 1 + 1);
	/* Offsets moved: the stored results still read back. */
	assert_string_equal(msg_of(&j, "01JID000000000000000000012", &buf),
			    "result number 12");
	free(buf);
	journal_close(&j);

	assert_int_equal(journal_open(&j, &io, 2048), 0);
	assert_int_equal(j.n, 12);
	for (int i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "01JID%021d", i);
		e = journal_find(&j, id);
		if (i % 6) {
			assert_null(e);
			continue;
		}
		assert_non_null(e);
		snprintf(msg, sizeof(msg), "result number %d", i);
		assert_string_equal(msg_of(&j, id, &buf), msg);
		free(buf);
	}
	e = journal_find(&j, "01JRUNNINGRUNNINGRUNNING00");
	assert_non_null(e);
	assert_int_equal(e->state, JREC_STARTED);
	assert_int_equal(e->pid, 99);
	assert_int_equal(journal_read_cmd(&j, e, &buf, &len), 0);
	assert_memory_equal(buf, "{c}", 3);
	free(buf);
	assert_non_null(journal_find(&j, "01JTOMBTOMBTOMBTOMBTOMB000"));
	assert_null(journal_find(&j, "01JTOMBTOMBTOMBTOMBTOMB001"));
	journal_close(&j);
	ff_free(&f);
}

/* Damage anywhere, a few bytes at a time: whatever survives reads back
 * exactly as written, never as something else. */
static void
random_damage_is_never_misread(void **state)
{
	static const char *const ids[] = {"01JAAAAAAAAAAAAAAAAAAAAAAA",
					  "01JBBBBBBBBBBBBBBBBBBBBBBB",
					  "01JCCCCCCCCCCCCCCCCCCCCCCC"};
	static const char *const msgs[] = {"first", "second", "third!"};
	struct ff f = {0};
	size_t last;
	unsigned seed = 12345;

	three_records(&f, &last);
	for (int round = 0; round < 2000; round++) {
		struct ff g = {0};
		struct journal_io io = ff_io(&g);
		struct journal j;
		int hits = 1 + round % 3;

		ff_put(&g, f.data, f.len);
		for (int k = 0; k < hits; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = JOURNAL_MAGIC_LEN +
				    (seed >> 8) % (g.len - JOURNAL_MAGIC_LEN);
			g.data[at] ^= (char)(1 + (seed >> 4) % 255);
		}
		assert_int_equal(journal_open(&j, &io, 0), 0);
		for (int i = 0; i < 3; i++) {
			struct journal_entry *e = journal_find(&j, ids[i]);
			char *buf = NULL;
			size_t len;

			if (!e)
				continue;
			assert_int_equal(e->state, JREC_FINISHED);
			assert_int_equal(journal_read_msg(&j, e, &buf, &len),
					 0);
			assert_int_equal(len, strlen(msgs[i]));
			assert_memory_equal(buf, msgs[i], len);
			free(buf);
		}
		assert_true(j.n <= 3);
		assert_int_equal(g.len, j.size);
		journal_close(&j);
		ff_free(&g);
	}
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(records_round_trip),
	    cmocka_unit_test(torn_tail_at_every_offset),
	    cmocka_unit_test(corrupt_middle_keeps_what_came_before),
	    cmocka_unit_test(bad_id_with_good_crc_is_corruption),
	    cmocka_unit_test(compaction_keeps_exactly_the_live_records),
	    cmocka_unit_test(random_damage_is_never_misread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
