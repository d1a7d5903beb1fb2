/* fuzz_gw_binary.c — the gateway protocol's binary side: websocket binary
 * frames (open, then the MixPacket inside), handshake messages M1..M4 in
 * both roles, encrypted inner requests. Nothing may crash or read out of
 * bounds; a frame we seal must open to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/gwproto.h"

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t seed[32] = {7};

static int
zero_fill(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x42, len);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[70000], frame[70000];
	static int init;
	struct nym_rng rng = {zero_fill, NULL};
	struct nym_mix_packet mp;
	struct nym_gw_hs_gateway g;
	struct nym_gw_hs_client c;
	uint8_t kind, m1[80], m2[124], m3[92], m4[1], k[32], gpk[32];
	int n;

	if (!init) {
		nym_crypto_init();
		init = 1;
	}
	if (size > 65536)
		return 0;

	/* A client's binary request as the gateway sees it. */
	n = nym_gw_bin_open(&kind, out, sizeof out, data, size, key);
	if (n >= 0) {
		nym_mix_packet_decode(&mp, NYM_MIX_PACKET_V1, out, (size_t)n);
		nym_mix_packet_decode(&mp, NYM_MIX_PACKET_V2, out, (size_t)n);
	}
	/* Sealing any plaintext opens back to it. */
	n = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_PUSHED, data, size, key, &rng);
	if (n < 0 || nym_gw_bin_open(&kind, out, sizeof out, frame, (size_t)n, key) != (int)size ||
	    memcmp(out, data, size) != 0)
		abort();

	/* Handshake messages from a hostile peer. */
	if (nym_gw_hs_gateway_m1(&g, seed, data, size, &rng, m2) == 0)
		nym_gw_hs_gateway_m3(&g, data, size, m4, k);
	nym_ed25519_public(gpk, seed);
	if (nym_gw_hs_client_start(&c, seed, gpk, &rng, m1) == 0 &&
	    nym_gw_hs_client_m2(&c, data, size, &rng, m3) == 0)
		nym_gw_hs_client_m4(&c, data, size, k);

	/* An encryptedRequest carrying these bytes. */
	struct nym_gw_msg m = {.type = NYM_GW_REQ_ENCRYPTED, .bytes = (uint8_t *)data, .bytes_len = size};
	struct nym_gw_creq_msg cr;
	nym_gw_creq_open(&cr, &m, key);
	return 0;
}
