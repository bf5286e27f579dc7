/* SPDX-License-Identifier: MIT */
/* The agent's journal: an append-only log of what happened to each
 * execution id (RECEIVED, STARTED, FINISHED with the result bytes, cancel
 * tombstones), written and synced before the agent acts on it, with a
 * small in-memory index over it. The logic lives here; the file itself is
 * reached through `struct journal_io` (adapters/journal_file.c), and a
 * NULL io keeps the journal in memory only. */
#ifndef CMDBUS_AGENT_JOURNAL_H
#define CMDBUS_AGENT_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"

/* The file starts with this magic; records follow it. */
#define JOURNAL_MAGIC "CMDBUSJ1"
#define JOURNAL_MAGIC_LEN 8
/* A record's header: u32 body length, u32 CRC-32C of the body. */
#define JOURNAL_HDR 8
/* No record is larger: a command or a result is at most one message. */
#define JOURNAL_BODY_MAX (CMDBUS_MAX_MESSAGE + 1024u)

enum journal_rec {
	JREC_RECEIVED = 1,  /* all checks passed; about to run */
	JREC_STARTED = 2,   /* a process runs: pid and its start time */
	JREC_FINISHED = 3,  /* the result, byte for byte as published */
	JREC_TOMBSTONE = 4, /* canceled before it arrived */
};

/* The file, as the journal needs it. Every function returns 0 or a
 * negative errno. */
struct journal_io {
	/* The whole file: *buf malloc'd (the caller's), *len its size. */
	int (*load)(void *ud, char **buf, size_t *len);
	/* Appends n bytes at the end (a short write is an error). */
	int (*append)(void *ud, const void *p, size_t n);
	/* Makes what was appended durable (fdatasync). */
	int (*sync)(void *ud);
	/* Cuts the file to `size` bytes and makes that durable. */
	int (*truncate)(void *ud, uint64_t size);
	/* Reads n bytes at offset off. */
	int (*read_at)(void *ud, uint64_t off, void *p, size_t n);
	/* Replaces the whole file atomically with p (temp file, fsync,
	 * rename, fsync of the directory); appends go to it afterwards. */
	int (*replace)(void *ud, const void *p, size_t n);
	void *ud;
	/* The file is grown ahead of its records with zeros: zeros after
	 * the last record are room, not a torn write. */
	bool zero_tail;
};

struct journal_entry {
	char id[CMDBUS_ID_BUF];
	enum journal_rec state; /* its latest record */
	bool old;		/* written by an earlier process */
	bool idempotent;
	uint64_t exp;	     /* the command's exp (RECEIVED) */
	uint64_t keep_until; /* forgotten after this (ms) */
	char sha[CMDBUS_SHA256_HEX + 1];
	long pid;	    /* STARTED: leader and group id */
	uint64_t pid_start; /* STARTED: /proc/PID/stat starttime */
	uint64_t cmd_off;   /* RECEIVED: the command payload in the file */
	uint32_t cmd_len;   /* 0: not stored (not idempotent) */
	uint64_t msg_off;   /* FINISHED: the result envelope in the file */
	uint32_t msg_len;
	char *pending; /* a result waiting for a durable write, owned */
	size_t pending_len;
};

struct journal_stats {
	uint64_t loaded;       /* records read at open */
	uint64_t dropped_tail; /* bytes cut from a torn tail at open */
	uint64_t corrupt;      /* bytes cut after a corrupt record at open */
	uint64_t compactions;
	uint64_t write_failed;
};

/* The index keeps entries in v[0..n) and finds them through an open
 * addressing hash table of `hcap` slots (a power of two, twice the
 * entries v has room for, so at most half full), each holding an entry's
 * position in v plus one (0: empty), so that a lookup costs the same
 * however many ids are remembered. */
struct journal {
	struct journal_io io;
	bool in_memory;
	char *mem; /* the in-memory file when io was NULL */
	size_t mem_len, mem_cap;
	struct journal_entry *v;
	size_t n, cap;
	uint32_t *slot;
	size_t hcap;
	size_t npending;       /* entries with a pending result */
	uint64_t forget_at;    /* no entry is forgettable before this (ms) */
	uint64_t next_sweep;   /* the earliest time of the next sweep (ms) */
	uint64_t size;	       /* bytes known good and durable */
	bool broken;	       /* a write failed: cut back to size first */
	uint64_t compact_at;   /* file size past which compaction is tried */
	uint64_t next_compact; /* the size at which it is tried next */
	struct journal_stats stats;
};

/* Opens the journal over io (NULL: in memory), reading what is there:
 * a torn or corrupt tail is cut off (and logged), never misread; records
 * read are marked `old`. 0, or a negative code (a file that is not a
 * journal: -ERR_MALFORMED; io failures as they come). */
int journal_open(struct journal *j, const struct journal_io *io,
		 uint64_t compact_at);
void journal_close(struct journal *j);

/* The entry of id, or NULL. Borrowed until the journal changes. */
struct journal_entry *journal_find(struct journal *j, const char *id);

/* Each appends one record and syncs it; 0 only once it is durable, else
 * a negative code and the index is unchanged. journal_ran() appends
 * RECEIVED and FINISHED of one id together, with one sync, for a run
 * that changed nothing outside the agent (ping, info). */
int journal_received(struct journal *j, const char *id, const char *sha,
		     uint64_t exp, uint64_t keep_until, bool idempotent,
		     const char *cmd, size_t cmd_len);
int journal_started(struct journal *j, const char *id, long pid,
		    uint64_t pid_start);
int journal_ran(struct journal *j, const char *id, const char *sha,
		uint64_t exp, uint64_t keep_until, bool idempotent,
		const char *cmd, size_t cmd_len, const char *msg,
		size_t msg_len);
int journal_tombstone(struct journal *j, const char *id, uint64_t keep_until);
/* The result of id (creating the entry for a journaled rejection). On
 * failure the message is kept as the entry's `pending` result, for
 * journal_retry(), unless memory is short too. */
int journal_finished(struct journal *j, const char *id, uint64_t keep_until,
		     const char *msg, size_t len);

/* Drops the pending result of e (one that must never be published). */
void journal_drop_pending(struct journal *j, struct journal_entry *e);

/* Writes pending results again; for each one now durable, calls
 * done(ud, id, msg, len) (msg borrowed for the call). */
void journal_retry(struct journal *j,
		   void (*done)(void *ud, const char *id, const char *msg,
				size_t len),
		   void *ud);

/* The stored result or command of e: *out malloc'd (the caller's). */
int journal_read_msg(struct journal *j, const struct journal_entry *e,
		     char **out, size_t *len);
int journal_read_cmd(struct journal *j, const struct journal_entry *e,
		     char **out, size_t *len);

/* Forgets finished entries and tombstones past their keep_until (in
 * one sweep at most every JOURNAL_SWEEP_MS, and only once one is due,
 * so that the sweep's cost per command stays small however many ids are
 * remembered), and rewrites the file with the live records only when it
 * has grown past compact_at and at least half of it is dead. 0 or a
 * negative code (the old file stays). */
#define JOURNAL_SWEEP_MS (60u * 1000)
int journal_maintain(struct journal *j, uint64_t now);

/* CRC-32C (Castagnoli) of p, for records. */
uint32_t journal_crc32c(const void *p, size_t n);

#endif
