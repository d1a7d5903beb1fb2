/* fuzz_gw_json.c — the gateway protocol's JSON control messages, both
 * directions: parse must never crash; whatever parses must encode, and the
 * encoding must parse back to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/gwproto.h"

static void
check(const uint8_t *data, size_t size, int to_gateway)
{
	struct nym_gw_msg m, m2;
	char *out;
	size_t len;

	if (nym_gw_msg_parse(&m, to_gateway, (const char *)data, size) != 0)
		return;
	if (m.type != NYM_GW_UNKNOWN) {
		if (nym_gw_msg_encode(&m, &out, &len) != 0)
			abort();
		if (nym_gw_msg_parse(&m2, to_gateway, out, len) != 0 || m2.type != m.type ||
		    m2.hs_len != m.hs_len || memcmp(m2.hs, m.hs, m.hs_len) != 0 ||
		    m2.bytes_len != m.bytes_len || m2.bandwidth != m.bandwidth ||
		    memcmp(&m2.auth, &m.auth, sizeof m.auth) != 0)
			abort();
		nym_gw_msg_free(&m2);
		free(out);
	}
	nym_gw_msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, 1);
	check(data, size, 0);
	return 0;
}
