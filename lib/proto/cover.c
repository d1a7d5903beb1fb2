/* cover.c — loop cover packets, and recognising them (doc/spec/nym-message.md §6.1). */
#include <string.h>

#include "base/err.h"
#include "proto/ack.h"
#include "proto/cover.h"
#include "proto/payload.h"

void
nym_cover_content(uint8_t *out, size_t len)
{
	static const uint8_t m[NYM_COVER_MARKER_LEN + 1] = NYM_COVER_MARKER "\x01";
	size_t n = len < sizeof m ? len : sizeof m;

	memcpy(out, m, n);
	memset(out + n, 0, len - n);
}

int
nym_cover_is(const uint8_t *data, size_t len)
{
	return len >= NYM_COVER_MARKER_LEN && memcmp(data, NYM_COVER_MARKER, NYM_COVER_MARKER_LEN) == 0;
}

int
nym_cover_plaintext(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                    const struct nym_sphinx_route *ack_route, const uint8_t ack_key[16],
                    const uint8_t own_encryption_pk[32], const struct nym_rng *rng)
{
	static const uint8_t cover_id[NYM_FRAG_ID_LEN];
	size_t cap;
	int e;

	if (packet_len < NYM_PACKET_FRAGMENT_OFF + 1 + 1)
		return NYM_ESIZE;
	cap = NYM_PACKET_FRAGMENT_CAP(packet_len);
	nym_cover_content(packet + NYM_PACKET_FRAGMENT_OFF, cap);
	if ((e = nym_ack_block(ctx, packet + NYM_PACKET_PLAINTEXT_OFF, ack_route, ack_key, cover_id, rng)) < 0)
		return e;
	return nym_payload_encrypt(ctx ? &ctx->aes : NULL, packet + NYM_PACKET_PREFIX_OFF,
	                           packet + NYM_PACKET_FRAGMENT_OFF, cap, own_encryption_pk, rng);
}

int
nym_cover_packet(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                 const struct nym_sphinx_route *fwd, const struct nym_sphinx_route *ack_route,
                 const uint8_t ack_key[16], const uint8_t own_encryption_pk[32],
                 const struct nym_rng *rng)
{
	int e;

	if ((e = nym_cover_plaintext(ctx, packet, packet_len, ack_route, ack_key, own_encryption_pk, rng)) < 0)
		return e;
	return nym_sphinx_create(ctx, packet, packet_len, fwd, packet + NYM_PACKET_PLAINTEXT_OFF,
	                         packet_len - NYM_PACKET_PLAINTEXT_OFF - 1, rng);
}
