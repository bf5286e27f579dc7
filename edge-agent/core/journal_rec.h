/* SPDX-License-Identifier: MIT */
/* The journal's record format, shared by the journal's files: framing
 * (length and CRC-32C), little-endian fields, and one record's body
 * encoded and decoded. No I/O. */
#ifndef CMDBUS_AGENT_JOURNAL_REC_H
#define CMDBUS_AGENT_JOURNAL_REC_H

#include "journal.h"

#define FLAG_IDEMPOTENT 1u

/* What one record says, decoded or to be encoded. */
struct rec {
	enum journal_rec type;
	bool idempotent;
	char id[CMDBUS_ID_BUF];
	uint64_t keep_until;
	uint64_t exp;
	char sha[CMDBUS_SHA256_HEX + 1];
	uint64_t pid, pid_start;
	const char *blob; /* command (RECEIVED) or result (FINISHED) */
	uint32_t blob_len;
	size_t blob_at; /* offset of blob within the whole record */
};

/* The record's bytes, header included: *out malloc'd; *blob_at (when
 * given) is where the blob starts within them. 0, -EINVAL, -ERR_TOO_LARGE
 * or -ENOMEM. */
int rec_encode(const struct rec *r, unsigned char **out, size_t *outlen,
	       size_t *blob_at);
/* Decodes a body whose CRC already checked out. 0 or -ERR_MALFORMED. */
int rec_decode(const unsigned char *b, size_t n, struct rec *r);
/* A little-endian u32. */
uint32_t get32(const unsigned char *p);

#endif
