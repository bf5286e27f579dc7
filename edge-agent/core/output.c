/* SPDX-License-Identifier: MIT */
/* The output keeper: a fixed head and a ring for the tail, so a stream of
 * any length costs at most `max` bytes and the kept bytes are exactly the
 * first and last halves of what the command wrote. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
output_init(struct output *o, size_t max)
{
	memset(o, 0, sizeof(*o));
	if (max < 1)
		max = 1;
	o->max = max;
	o->head_cap = max / 2;
	o->tail_cap = max - o->head_cap;
}

void
output_fini(struct output *o)
{
	free(o->head);
	free(o->tail);
	o->head = NULL;
	o->tail = NULL;
}

static void
ring_put(struct output *o, const char *p, size_t n)
{
	/* Only the last tail_cap bytes of a long write can survive. */
	if (n > o->tail_cap) {
		p += n - o->tail_cap;
		n = o->tail_cap;
	}
	while (n > 0) {
		size_t room = o->tail_cap - o->tail_pos;
		size_t k = n < room ? n : room;
		memcpy(o->tail + o->tail_pos, p, k);
		o->tail_pos = (o->tail_pos + k) % o->tail_cap;
		o->tail_len += k;
		if (o->tail_len > o->tail_cap)
			o->tail_len = o->tail_cap;
		p += k;
		n -= k;
	}
}

int
output_append(struct output *o, const void *data, size_t n)
{
	const char *p = data;

	o->total += n;
	if (o->head_len < o->head_cap && n > 0) {
		size_t k = o->head_cap - o->head_len;
		if (k > n)
			k = n;
		if (!o->head) {
			o->head = malloc(o->head_cap);
			if (!o->head)
				return -ENOMEM;
		}
		memcpy(o->head + o->head_len, p, k);
		o->head_len += k;
		p += k;
		n -= k;
	}
	if (n == 0)
		return 0;
	if (!o->tail) {
		o->tail = malloc(o->tail_cap);
		if (!o->tail)
			return -ENOMEM;
	}
	ring_put(o, p, n);
	return 0;
}

bool
output_truncated(const struct output *o)
{
	return o->total > (uint64_t)(o->head_len + o->tail_len);
}

int
output_take(const struct output *o, struct cmdbus_stream *s)
{
	size_t len = o->head_len + o->tail_len;
	char *p = malloc(len + 1);

	if (!p)
		return -ENOMEM;
	if (o->head_len)
		memcpy(p, o->head, o->head_len);
	if (o->tail_len) {
		/* The oldest byte of a full ring sits where the next goes. */
		size_t start = o->tail_len < o->tail_cap ? 0 : o->tail_pos;
		size_t first = o->tail_cap - start;
		if (first > o->tail_len)
			first = o->tail_len;
		memcpy(p + o->head_len, o->tail + start, first);
		memcpy(p + o->head_len + first, o->tail, o->tail_len - first);
	}
	p[len] = '\0';
	s->kept.data = p;
	s->kept.len = len;
	s->truncated = output_truncated(o);
	s->bytes = o->total;
	return 0;
}

void
output_stream_shrink(struct cmdbus_stream *s, size_t keep)
{
	size_t first, last;

	if (s->kept.len <= keep)
		return;
	first = keep / 2;
	last = keep - first;
	memmove(s->kept.data + first, s->kept.data + s->kept.len - last, last);
	s->kept.len = keep;
	s->kept.data[keep] = '\0';
	s->truncated = true;
}
