/* fuzz_surb_parse — SURB parsing (and use of what parses).
 * Properties: no crash; only the documented errors; what parses has 1..5
 * hops and serializes back to exactly the input; using it builds a packet
 * whose header is the SURB's. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/surb.h"

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
	static uint8_t out[NYM_SURB_MAX_LEN], pkt[386];
	struct nym_surb s;
	int rc = nym_surb_parse(&s, data, size);

	if (rc != 0) {
		if (rc != NYM_ESHORT && rc != NYM_EFORMAT && rc != NYM_EROUTE)
			abort();
		return 0;
	}
	if (s.nhops < 1 || s.nhops > 5 || nym_surb_len(&s) != size)
		abort();
	if (nym_surb_serialize(out, sizeof out, &s) != (int)size || memcmp(out, data, size) != 0)
		abort();
	if (nym_surb_use(pkt, sizeof pkt, &s, (const uint8_t *)"fuzz", 4) != 0 ||
	    memcmp(pkt, data, 348) != 0)
		abort();
	if (nym_surb_use(pkt, sizeof pkt, &s, out, 22) != NYM_ETOOBIG)
		abort();
	return 0;
}
