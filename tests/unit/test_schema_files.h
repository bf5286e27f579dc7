/* SPDX-License-Identifier: MIT */
/* Reading the golden vectors and test keys of tests/vectors in unit
 * tests. */
#ifndef TEST_SCHEMA_FILES_H
#define TEST_SCHEMA_FILES_H

#include <stddef.h>

/* The bytes of tests/vectors/REL, NUL-terminated, malloc'd (the caller
 * frees them); *len gets their count when len is not NULL. The test fails
 * when the file cannot be read. */
char *test_vector_read(const char *rel, size_t *len);

#endif
