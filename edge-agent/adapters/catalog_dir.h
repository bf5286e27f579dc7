/* SPDX-License-Identifier: MIT */
/* Reads the catalog directory: one NAME.conf file per action, parsed by
 * core/catalog.c, with the environment variables it passes through and
 * the user and group it runs as looked up on this system. */
#ifndef CMDBUS_AGENT_CATALOG_DIR_H
#define CMDBUS_AGENT_CATALOG_DIR_H

#include <stddef.h>

#include "catalog.h"

#define CATALOG_DIR_MAX_FILES 1024
#define CATALOG_FILE_MAX 65536

/* Loads every `*.conf` file of `dir` (other names are ignored), sorted by
 * name; the action is the file name without `.conf`. 0 and *out, an
 * array of *n malloc'd actions (release with catalog_dir_free()); or
 * -ERR_CONFIG with "path:line: reason" in err, -errno when the directory
 * or a file cannot be read (also explained in err), -ENOMEM. */
int catalog_dir_load(const char *dir, struct catalog_action ***out, size_t *n,
		     char *err, size_t errlen);
void catalog_dir_free(struct catalog_action **v, size_t n);

#endif
