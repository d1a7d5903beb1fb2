/* fuzz_ack — ack bodies, the gateway's ack-block split, MixPackets and
 * node-link frame headers. Input: 16-byte ack key || blob.
 * Properties: no crash; a 21-byte body opens, and re-sealing its fragment
 * id with the same iv gives the body back; a split block names a valid
 * next hop and 386 bytes; what decodes as a MixPacket encodes back to the
 * same bytes; the frame decoder's answer only grows as bytes arrive and a
 * complete frame re-encodes to its header. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ack.h"
#include "proto/framing.h"

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
	const uint8_t *key, *blob;
	size_t len;
	uint8_t fid[5], body[21];

	if (size < 16)
		return 0;
	key = data;
	blob = data + 16;
	len = size - 16;

	if (nym_ack_open(NULL, fid, blob, len, key) == 0) {
		struct nym_rng_fixed st;
		struct nym_rng rng = nym_rng_fixed(&st, blob, 16);
		uint32_t id;
		uint8_t pos;
		if (len != 21 || nym_ack_body(NULL, body, key, fid, &rng) != 0 || memcmp(body, blob, 21))
			abort();
		(void)nym_fragment_id_decode(&id, &pos, fid);
		(void)nym_ack_is_cover(fid);
	} else if (len == 21)
		abort();

	struct nym_mix_packet mp;
	const uint8_t *push;
	size_t pl;
	if (nym_ack_block_split(&mp, &push, &pl, blob, len) == 0 &&
	    (mp.packet_len != 386 || (mp.next_hop_len != 7 && mp.next_hop_len != 19) || pl != len - 405))
		abort();

	for (int v = 1; v <= 2; v++) {
		if (nym_mix_packet_decode(&mp, v, blob, len) == 0) {
			uint8_t *out = malloc(len);
			if (!out || nym_mix_packet_encode(out, len, v, &mp) != (int)len || memcmp(out, blob, len))
				abort();
			free(out);
		}
	}

	struct nym_frame_header h;
	long prev = 0, need;
	for (size_t k = 0; k <= len && k <= 8; k++) {
		need = nym_frame_need(&h, blob, k);
		if (need < 0)
			break;
		if (need < prev)
			abort();
		prev = need;
		if ((size_t)need <= len && need > 4) {
			uint8_t hb[4];
			int hl = nym_frame_header_write(hb, h.version, h.packet_len, h.packet_type, h.key_rotation);
			if (hl != (int)h.header_len || memcmp(hb, blob, (size_t)hl))
				abort();
		}
	}
	return 0;
}
