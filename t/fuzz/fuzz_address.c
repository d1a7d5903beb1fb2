/* fuzz_address — base58 and client-address parsing.
 * Properties: no crash; what parses formats back to the same text (base58 is
 * a bijection once leading zero bytes are '1's); every refusal comes with a
 * one-line reason; bytes survive encode/decode. */
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/keys.h"

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
	char *s = malloc(size + 1), why[NYM_ADDRESS_WHY_MAX], out[NYM_ADDRESS_MAX];
	uint8_t bin[256];
	char enc[400];
	struct nym_address a;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	/* base58 text -> bytes -> text */
	r = nym_base58_decode(bin, sizeof bin, s, size);
	if (r >= 0) {
		int e = nym_base58_encode(enc, sizeof enc, bin, (size_t)r);
		if (e != (int)size || memcmp(enc, s, size))
			abort();
	} else if (r != NYM_EENCODING && r != NYM_ESIZE) {
		abort();
	}
	if ((nym_base58_invalid_at(s, size) < 0) != (r != NYM_EENCODING))
		abort();
	uint8_t k[32];
	r = nym_base58_decode32(k, s);
	if (r != 32 && r != NYM_EENCODING && r != NYM_EKEY)
		abort();

	/* bytes -> base58 text -> bytes */
	size_t n = size < sizeof bin ? size : sizeof bin;
	r = nym_base58_encode(enc, sizeof enc, data, n);
	if (r < 0 || nym_base58_decode(bin, sizeof bin, enc, (size_t)r) != (int)n ||
	    memcmp(bin, data, n))
		abort();

	/* addresses */
	r = nym_address_parse(&a, s, why, sizeof why);
	if (r == 0) {
		if (nym_address_format(out, sizeof out, &a) != (int)strlen(s) || strcmp(out, s))
			abort();
	} else {
		if (r != NYM_EADDR && r != NYM_EKEY)
			abort();
		if (!why[0] || strchr(why, '\n'))
			abort();
	}
	free(s);
	return 0;
}
