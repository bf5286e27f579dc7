/* SPDX-License-Identifier: MIT */
/* Identifiers: ULIDs (26 Crockford base32 characters, 48-bit millisecond
 * time then 80 random bits), time-sortable and unique. */
#ifndef CMDBUS_COMMON_ID_H
#define CMDBUS_COMMON_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_ULID_LEN 26

/* Remembers the last id so that ids made in the same millisecond still
 * sort in the order they were made (the random part is incremented). */
struct id_gen {
	uint64_t last_ms;
	unsigned char last_rand[10];
};

void id_gen_init(struct id_gen *g);
/* Writes a new ULID for time `now_ms` and its NUL into out[ID_ULID_LEN+1].
 * 0, or -errno when the system has no randomness to give. */
int id_gen_next(struct id_gen *g, uint64_t now_ms, char out[ID_ULID_LEN + 1]);

/* Fills buf with n bytes from the kernel's CSPRNG (getrandom). 0 or -errno. */
int id_random_bytes(void *buf, size_t n);

#endif
