/* SPDX-License-Identifier: MIT */
/* ULID generation: 48 bits of milliseconds and 80 random bits in
 * Crockford base32, kept in order within a process even when many ids
 * share a millisecond or the wall clock steps back. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/id.h"

#define ULID_TIME_MAX ((1ULL << 48) - 1)

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Kernels before 3.17 lack getrandom(2); /dev/urandom is the same pool. */
static int
urandom_bytes(unsigned char *p, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			break;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return rc;
}

int
id_random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		/* Reads above 256 bytes may come back short; loop on. */
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSYS)
				return urandom_bytes(p, n);
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

void
id_gen_init(struct id_gen *g)
{
	g->last_ms = 0;
	memset(g->last_rand, 0, sizeof(g->last_rand));
}

/* Adds one to the 80-bit big-endian number; false when it wraps. */
static bool
rand_increment(unsigned char r[10])
{
	for (int i = 9; i >= 0; i--) {
		if (++r[i] != 0)
			return true;
	}
	return false;
}

static bool
rand_is_zero(const unsigned char r[10])
{
	for (int i = 0; i < 10; i++) {
		if (r[i] != 0)
			return false;
	}
	return true;
}

/* Writes the 128-bit value (time, random) as 26 base32 digits, most
 * significant first; the first digit holds only the top 3 bits. */
static void
ulid_encode(uint64_t ms, const unsigned char r[10], char out[ID_ULID_LEN + 1])
{
	unsigned char b[16];
	int bit;

	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	memcpy(b + 6, r, 10);
	/* Digit k covers bits [128 - 5 * (26 - k), ...): the value is padded
	 * with two zero bits on the left to make 130 bits. */
	for (int k = 0; k < ID_ULID_LEN; k++) {
		unsigned v = 0;

		for (int j = 0; j < 5; j++) {
			bit = k * 5 + j - 2; /* bit index from the left */
			v <<= 1;
			if (bit >= 0)
				v |= (b[bit / 8] >> (7 - bit % 8)) & 1u;
		}
		out[k] = crockford[v];
	}
	out[ID_ULID_LEN] = '\0';
}

int
id_gen_next(struct id_gen *g, uint64_t now_ms, char out[ID_ULID_LEN + 1])
{
	int rc;

	if (now_ms > ULID_TIME_MAX)
		return -ERANGE;
	/* A fresh random part starts every new millisecond (and the first
	 * id); within a millisecond, or when the clock went back, the last
	 * time is kept and the random part counts up so order holds. */
	if (now_ms > g->last_ms || rand_is_zero(g->last_rand)) {
		if ((rc = id_random_bytes(g->last_rand, sizeof(g->last_rand))) <
		    0)
			return rc;
		if (now_ms > g->last_ms)
			g->last_ms = now_ms;
	} else if (!rand_increment(g->last_rand)) {
		/* 2^80 ids in one millisecond cannot happen by chance; move
		 * to the next millisecond rather than repeat an id. */
		if (g->last_ms >= ULID_TIME_MAX)
			return -ERANGE;
		g->last_ms++;
		if ((rc = id_random_bytes(g->last_rand, sizeof(g->last_rand))) <
		    0)
			return rc;
	}
	ulid_encode(g->last_ms, g->last_rand, out);
	return 0;
}
