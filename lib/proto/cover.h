/* cover.h — loop cover packets (doc/spec/nym-message.md §6.1).
 *
 * A loop cover packet is a regular packet a client sends to itself:
 *   Sphinx plaintext = SURB-ack block for fragment id 00 00 00 00 00
 *                   || e_pk (32) || AES-128-CTR(k, 0, content)
 *   content = "The cake is a lie!" || 01 || 00 …  (fragment capacity bytes)
 *   k from X25519(e_sk, OWN encryption key) as in lib/proto/payload.h
 * over [L1, L2, L3, own gateway] to its own identity, Sphinx version 258 by
 * default (the official client's use_legacy_sphinx_format = true; 259 when
 * that flag is off), the ack block built with the same version.
 * The receiver drops any decrypted payload that starts with the marker; the
 * returning ack decodes to the cover id and is ignored too. */
#ifndef NYM_COVER_H
#define NYM_COVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "proto/sphinx.h"

#define NYM_COVER_MARKER "The cake is a lie!"
#define NYM_COVER_MARKER_LEN 18
#define NYM_COVER_DEFAULT_VERSION NYM_SPHINX_V258

/* marker || 01 || 00 …, truncated or padded to len bytes. */
void nym_cover_content(uint8_t *out, size_t len);
/* 1 when decrypted data starts with the marker. */
int nym_cover_is(const uint8_t *data, size_t len);

/* Build a loop cover packet of packet_len bytes (a regular or extended size)
 * in packet. fwd: route to the own gateway with destination = own identity;
 * ack_route: likewise (fresh hops, ack delays); both carry the version.
 * Randomness: the ack block, then e_sk, then the Sphinx packet. */
int nym_cover_packet(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                     const struct nym_sphinx_route *fwd, const struct nym_sphinx_route *ack_route,
                     const uint8_t ack_key[16], const uint8_t own_encryption_pk[32],
                     const struct nym_rng *rng);
/* The same packet's Sphinx plaintext only, in place at
 * packet + NYM_PACKET_PLAINTEXT_OFF: ack block, then e_pk at
 * packet + NYM_PACKET_PREFIX_OFF (the prefix the payload comes back with,
 * which is how a client tells its own loops), then the encrypted content.
 * nym_cover_packet is this followed by nym_sphinx_create over fwd. */
int nym_cover_plaintext(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                        const struct nym_sphinx_route *ack_route, const uint8_t ack_key[16],
                        const uint8_t own_encryption_pk[32], const struct nym_rng *rng);

#endif
