/* fuzz_sphinx_payload — payload unwrapping: Lioness layers and unpadding.
 * Input: byte 0 = number of layers (mod 6), then one 16-byte seed per layer
 * (v259 keys) or raw 192-byte keys (when byte 0 has bit 7), then the payload.
 * Properties: no crash; unwrap then wrap restores the payload; unpadding
 * accepts exactly "16 zero bytes, message, 01, anything" and what it
 * returns pads back to the same prefix. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/sphinx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return nym_crypto_init() < 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[40000], copy[40000], re[40000];
	struct nym_sphinx_layers l;
	size_t n, unit, plen, mlen;
	int full, rc;

	if (size < 1)
		return 0;
	n = data[0] % 6;
	full = data[0] >> 7;
	unit = full ? 192 : 16;
	if (size < 1 + n * unit)
		return 0;
	plen = size - 1 - n * unit;
	if (plen > sizeof buf)
		return 0;
	memset(&l, 0, sizeof l);
	l.nhops = n;
	l.version = full ? 258 : 259;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = data + 1 + i * unit;
		if (full)
			memcpy(l.hop[i].payload_key, k, 192);
		else if (nym_sphinx_seed_key(l.hop[i].payload_key, k) < 0)
			abort();
	}
	memcpy(buf, data + 1 + n * unit, plen);
	memcpy(copy, buf, plen);
	rc = nym_sphinx_payload_unwrap(buf, plen, &l, 0);
	if (n > 0 && plen < 33) {
		if (rc != NYM_ESIZE)
			abort();
	} else if (rc != 0) {
		abort();
	} else if (n > 0) {
		memcpy(re, buf, plen);
		if (nym_sphinx_payload_wrap(re, plen, &l) != 0 || memcmp(re, copy, plen) != 0)
			abort();
	}
	rc = nym_sphinx_unpad(buf, plen, &mlen);
	if (rc == 0) {
		if (mlen + 17 > plen || buf[16 + mlen] != 1)
			abort();
		for (size_t i = 16 + mlen + 1; i < plen; i++)
			if (buf[i] == 1)
				abort(); /* not the last marker */
		if (plen >= 33) {
			if (nym_sphinx_pad(re, plen, buf + 16, mlen) != 0 || memcmp(re, buf, 17 + mlen) != 0)
				abort();
		}
	} else if (rc != NYM_EFORMAT) {
		abort();
	}
	nym_wipe(&l, sizeof l);
	return 0;
}
