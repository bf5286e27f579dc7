/* SPDX-License-Identifier: MIT */
/* The journal's file: `journal` in the agent's state directory, grown
 * ahead with zeros and written record after record over them, synced
 * with fdatasync, and replaced whole (temp file, fsync, rename, fsync of
 * the directory) when it is compacted. */
#ifndef CMDBUS_AGENT_JOURNAL_FILE_H
#define CMDBUS_AGENT_JOURNAL_FILE_H

#include "journal.h"

struct journal_file;

/* Opens (creating it and the directory, mode 0700, when missing)
 * DIR/journal and fills io. 0 and *out, or -errno with a sentence in
 * err. */
int journal_file_open(const char *dir, struct journal_file **out,
		      struct journal_io *io, char *err, size_t errlen);
/* NULL is a no-op. */
void journal_file_close(struct journal_file *f);

#endif
