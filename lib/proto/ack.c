/* ack.c — SURB-ack bodies and blocks, ack recognition, timeouts (doc/spec/nym-message.md §5). */
#include <string.h>

#include "base/err.h"
#include "proto/ack.h"

int
nym_ack_body(struct nym_aes128_ctr *aes, uint8_t body[NYM_ACK_BODY_LEN], const uint8_t key[NYM_ACK_KEY_LEN],
             const uint8_t frag_id[NYM_FRAG_ID_LEN], const struct nym_rng *rng)
{
	int e;

	if ((e = nym_rng_fill(rng, body, NYM_ACK_IV_LEN)) < 0)
		return e;
	if (aes)
		return nym_aes128_ctr_xor(aes, body + NYM_ACK_IV_LEN, frag_id, NYM_FRAG_ID_LEN, key, body);
	return nym_aes128_ctr(body + NYM_ACK_IV_LEN, frag_id, NYM_FRAG_ID_LEN, key, body);
}

int
nym_ack_open(struct nym_aes128_ctr *aes, uint8_t frag_id[NYM_FRAG_ID_LEN], const uint8_t *blob, size_t len,
             const uint8_t key[NYM_ACK_KEY_LEN])
{
	if (len != NYM_ACK_BODY_LEN)
		return NYM_ESIZE;
	if (aes)
		return nym_aes128_ctr_xor(aes, frag_id, blob + NYM_ACK_IV_LEN, NYM_FRAG_ID_LEN, key, blob);
	return nym_aes128_ctr(frag_id, blob + NYM_ACK_IV_LEN, NYM_FRAG_ID_LEN, key, blob);
}

int
nym_ack_is_cover(const uint8_t frag_id[NYM_FRAG_ID_LEN])
{
	static const uint8_t z[NYM_FRAG_ID_LEN];
	return memcmp(frag_id, z, NYM_FRAG_ID_LEN) == 0;
}

int
nym_ack_block(struct nym_sphinx_ctx *ctx, uint8_t block[NYM_ACK_BLOCK_LEN], const struct nym_sphinx_route *route,
              const uint8_t key[NYM_ACK_KEY_LEN], const uint8_t frag_id[NYM_FRAG_ID_LEN],
              const struct nym_rng *rng)
{
	uint8_t body[NYM_ACK_BODY_LEN];
	int e, n;

	if (route->nhops == 0)
		return NYM_EROUTE;
	/* first hop: its routing address, re-padded from 32 to 19 bytes */
	n = nym_next_hop_len(route->hop[0].address, NYM_SPHINX_ADDR_LEN);
	if (n < 0)
		return NYM_EROUTE;
	memset(block, 0, NYM_ACK_FIRST_HOP_LEN);
	memcpy(block, route->hop[0].address, (size_t)n);
	if ((e = nym_ack_body(ctx ? &ctx->aes : NULL, body, key, frag_id, rng)) < 0)
		return e;
	return nym_sphinx_create(ctx, block + NYM_ACK_FIRST_HOP_LEN, NYM_ACK_PACKET_LEN, route, body,
	                         sizeof body, rng);
}

int
nym_ack_block_split(struct nym_mix_packet *ack, const uint8_t **push, size_t *push_len,
                    const uint8_t *plaintext, size_t len)
{
	int e;

	if (len < NYM_ACK_BLOCK_LEN)
		return NYM_ESHORT;
	memset(ack, 0, sizeof *ack);
	if ((e = nym_mix_packet_set_next_hop(ack, plaintext, NYM_ACK_FIRST_HOP_LEN)) < 0)
		return e;
	ack->packet_type = NYM_PACKET_TYPE_MIX;
	ack->packet = plaintext + NYM_ACK_FIRST_HOP_LEN;
	ack->packet_len = NYM_ACK_PACKET_LEN;
	*push = plaintext + NYM_ACK_BLOCK_LEN;
	*push_len = len - NYM_ACK_BLOCK_LEN;
	return 0;
}

uint64_t
nym_ack_timeout_ms(uint64_t total_delay_ns, double multiplier, uint64_t addition_ms)
{
	return (uint64_t)((double)total_delay_ns * multiplier / 1e6) + addition_ms;
}
