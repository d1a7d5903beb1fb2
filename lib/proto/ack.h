/* ack.h — SURB-acknowledgements (doc/spec/nym-message.md §5).
 *
 * Every fragment-carrying packet starts its Sphinx plaintext with a 405-byte
 * block the exit gateway peels off and sends back to the sender:
 *
 *   block = first hop (routing address zero-padded to 19) || ack packet (386)
 *   ack packet = Sphinx packet of size "ack" (payload 38, plaintext 21) over
 *                the sender's own return route [L1', L2', L3', own gateway],
 *                destination = sender's identity, carrying the ack body
 *   ack body   = iv (16 random) || AES-128-CTR(ack_key, iv, fragment id (5))
 *
 * The gateway pushes the 21-byte body to the sender, who decrypts it and
 * learns which fragment arrived; (0, 0) is the loop-cover id and is ignored.
 *
 * Retransmission timeout (§5.4): (forward delay of L1..L3 + ack delay of
 * L1'..L3') × 1.5 + 1500 ms by default. */
#ifndef NYM_ACK_H
#define NYM_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/chunking.h"
#include "proto/framing.h"
#include "proto/sphinx.h"

#define NYM_ACK_KEY_LEN 16
#define NYM_ACK_IV_LEN 16
#define NYM_ACK_BODY_LEN 21        /* iv || encrypted fragment id */
#define NYM_ACK_FIRST_HOP_LEN 19
#define NYM_ACK_PACKET_LEN 386     /* Sphinx "ack" size */
#define NYM_ACK_BLOCK_LEN 405      /* first hop (19) || ack packet (386) */
#define NYM_ACK_WAIT_MULTIPLIER 1.5
#define NYM_ACK_WAIT_ADDITION_MS 1500

/* body = iv (16 rng bytes) || AES-128-CTR(key, iv, frag_id). aes may be NULL. */
int nym_ack_body(struct nym_aes128_ctr *aes, uint8_t body[NYM_ACK_BODY_LEN],
                 const uint8_t key[NYM_ACK_KEY_LEN], const uint8_t frag_id[NYM_FRAG_ID_LEN],
                 const struct nym_rng *rng);
/* Decrypt a pushed 21-byte ack into the 5-byte fragment id (any other
 * length: NYM_ESIZE). Use nym_fragment_id_decode / nym_ack_is_cover on it. */
NYM_MUST_CHECK int nym_ack_open(struct nym_aes128_ctr *aes, uint8_t frag_id[NYM_FRAG_ID_LEN], const uint8_t *blob,
                                size_t len, const uint8_t key[NYM_ACK_KEY_LEN]);
/* 1 for the loop-cover identifier 00 00 00 00 00. */
int nym_ack_is_cover(const uint8_t frag_id[NYM_FRAG_ID_LEN]);

/* Build the 405-byte block for frag_id over route (the sender's own return
 * route, from nym_sphinx_route_prepare with destination = own identity). Draws the
 * iv (16 bytes), then the Sphinx randomness. */
int nym_ack_block(struct nym_sphinx_ctx *ctx, uint8_t block[NYM_ACK_BLOCK_LEN],
                  const struct nym_sphinx_route *route, const uint8_t key[NYM_ACK_KEY_LEN],
                  const uint8_t frag_id[NYM_FRAG_ID_LEN], const struct nym_rng *rng);
/* The gateway side: split a final-hop plaintext into the ack MixPacket to
 * forward (next hop = the block's first hop, packet = the 386 bytes, type
 * Mix, rotation copied by the caller) and the rest to push to the client.
 * NYM_ESHORT (fewer than 405 bytes), NYM_EADDR (bad first hop). */
NYM_MUST_CHECK int nym_ack_block_split(struct nym_mix_packet *ack, const uint8_t **push, size_t *push_len,
                                       const uint8_t *plaintext, size_t len);

/* Where the parts of a fragment-carrying packet are assembled in place in
 * the packet buffer before Sphinx wraps it (so nothing is copied): the
 * Sphinx plaintext starts after the header and the payload's 16 zero bytes;
 * the block comes first, then the 32-byte prefix, then the fragment. */
#define NYM_PACKET_PLAINTEXT_OFF (NYM_SPHINX_HEADER_LEN + 16)          /* 364 */
#define NYM_PACKET_PREFIX_OFF (NYM_PACKET_PLAINTEXT_OFF + NYM_ACK_BLOCK_LEN) /* 769 */
#define NYM_PACKET_FRAGMENT_OFF (NYM_PACKET_PREFIX_OFF + 32)          /* 801 */
/* Fragment capacity of a packet of packet_len bytes (1611 for 2413). */
#define NYM_PACKET_FRAGMENT_CAP(packet_len) ((size_t)(packet_len) - NYM_PACKET_FRAGMENT_OFF - 1)

/* Retransmission timeout in ms for a packet whose mix delays (forward and
 * ack routes, gateways excluded) add up to total_delay_ns. */
uint64_t nym_ack_timeout_ms(uint64_t total_delay_ns, double multiplier, uint64_t addition_ms);

#endif
