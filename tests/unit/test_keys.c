/* SPDX-License-Identifier: MIT */
/* Keys for the signing tests (test_keys.h). */
#include "test_keys.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/pem.h>

struct cmdbus_key *
test_key_from_pkey(const char *kid, bool private_part, EVP_PKEY *pk)
{
	BIO *bio = BIO_new(BIO_s_mem());
	struct cmdbus_key *k = NULL;
	char *pem;
	long n;

	assert_non_null(bio);
	if (private_part)
		assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL,
							  0, NULL, NULL),
				 1);
	else
		assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(cmdbus_key_from_pem(pem, (size_t)n, kid, &k), 0);
	BIO_free(bio);
	return k;
}
