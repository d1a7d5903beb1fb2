/* fuzz_pem — PEM key-file parsing, as nym_keyfile_read does it, and base64.
 * Properties: no crash; a key that parses re-encodes (CRLF, as the pem crate
 * writes) and parses again to the same bytes; errors are only the documented
 * codes. */
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "io/keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *label;
	size_t len;
} kinds[] = {
	{NYM_PEM_ED25519_PRIVATE, 32},
	{NYM_PEM_X25519_PUBLIC, 32},
	{NYM_PEM_ACK_KEY, 16},
	{NYM_PEM_X25519_SPHINX_PRIVATE, NYM_SPHINX_KEYFILE_LEN},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	uint8_t key[64], again[64];
	char pem[512], label[128];
	int r;

	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		r = nym_pem_decode(key, kinds[i].len, kinds[i].label, in, size);
		if (r == (int)kinds[i].len) {
			int n = nym_pem_encode(pem, sizeof pem, kinds[i].label, key, kinds[i].len);
			if (n < 0 || nym_pem_decode(again, kinds[i].len, kinds[i].label, pem, (size_t)n) !=
			                     (int)kinds[i].len || memcmp(key, again, kinds[i].len))
				abort();
			if (nym_pem_label(label, sizeof label, in, size) < 0 || strcmp(label, kinds[i].label))
				abort();
		} else if (r != NYM_EPEM && r != NYM_EKEY && r != NYM_EENCODING) {
			abort();
		}
	}
	r = nym_pem_label(label, sizeof label, in, size);
	if (r >= 0 && (strlen(label) != (size_t)r || strstr(label, "-----")))
		abort();

	/* base64: what decodes re-encodes to the input without its whitespace */
	uint8_t *bin = malloc(size + 1);
	char *txt = malloc(size + 8), *stripped = malloc(size + 1);
	size_t m = 0;
	if (bin && txt && stripped) {
		r = nym_base64_decode(bin, size + 1, in, size);
		if (r >= 0) {
			for (size_t i = 0; i < size; i++)
				if (!strchr(" \t\r\n\v\f", in[i]) || !in[i])
					stripped[m++] = in[i];
			int n = nym_base64_encode(txt, size + 8, bin, (size_t)r);
			if (n != (int)m || memcmp(txt, stripped, m))
				abort();
		} else if (r != NYM_EENCODING) {
			abort();
		}
	}
	free(bin);
	free(txt);
	free(stripped);
	return 0;
}
