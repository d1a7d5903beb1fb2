/* fuzz_reply_surb.c — reply SURBs as a repliable message brings them
 * (lib/proto/message.h, reply.h, surb.h; doc/spec/nym-message.md §4.3, §7): the
 * input is read as a NymMessage whose SURB records are then parsed one by
 * one, as the recipient does before it replies, and as one ReplySurb on its
 * own. Properties: no crash; only the documented errors; a parsed message
 * encodes and parses back to the same SURB batch (an empty batch keeps no
 * header); a parsed ReplySurb has 1..5 hops, serializes back to exactly its
 * bytes, and wraps a reply whose header is the SURB's. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/ack.h"
#include "proto/message.h"
#include "proto/reply.h"
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

/* One ReplySurb record of exactly len bytes. */
static void
reply_surb(const uint8_t *in, size_t len)
{
	static uint8_t out[16 + NYM_SURB_MAX_LEN], pkt[NYM_ACK_PACKET_LEN];
	struct nym_reply_surb rs;
	int rc = nym_reply_surb_parse(&rs, in, len);

	if (rc != 0) {
		if (rc != NYM_ESHORT && rc != NYM_EFORMAT && rc != NYM_EROUTE && rc != NYM_EADDR)
			abort();
		return;
	}
	if (rs.surb.nhops < 1 || rs.surb.nhops > 5 || nym_reply_surb_len(&rs) != len)
		abort();
	if (nym_reply_surb_serialize(out, sizeof out, &rs) != (int)len || memcmp(out, in, len) != 0)
		abort();
	if (nym_surb_use(pkt, sizeof pkt, &rs.surb, (const uint8_t *)"reply", 5) != 0 ||
	    memcmp(pkt, in + 16, NYM_SPHINX_HEADER_LEN) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_message m, m2;
	uint8_t *enc;
	size_t n;
	int rc = nym_message_parse(&m, data, size);

	reply_surb(data, size);
	if (rc != 0) {
		if (rc != NYM_ESHORT && rc != NYM_EFORMAT && rc != NYM_EFLAG)
			abort();
		return 0;
	}
	if (m.type != NYM_MESSAGE_REPLIABLE)
		return 0;
	if (m.nsurbs && (m.surbs < data || m.nsurbs > (size - (size_t)(m.surbs - data)) / m.surb_len))
		abort();
	for (size_t i = 0; i < m.nsurbs; i++)
		reply_surb(m.surbs + i * m.surb_len, m.surb_len);
	/* what the recipient would pass on (e.g. to a store) survives encoding */
	n = nym_message_encoded_len(&m);
	if (!(enc = malloc(n ? n : 1)))
		return 0;
	if (nym_message_encode(enc, n, &m) != (int)n || nym_message_parse(&m2, enc, n) != 0 ||
	    m2.type != m.type || m2.content_tag != m.content_tag || m2.nsurbs != m.nsurbs ||
	    (m.nsurbs && (m2.surb_len != m.surb_len || m2.surb_hops != m.surb_hops ||
	                  m2.surb_rotation != m.surb_rotation ||
	                  memcmp(m2.surbs, m.surbs, m.nsurbs * m.surb_len) != 0)) ||
	    m2.data_len != m.data_len || (m.data_len && memcmp(m2.data, m.data, m.data_len) != 0))
		abort();
	free(enc);
	return 0;
}
