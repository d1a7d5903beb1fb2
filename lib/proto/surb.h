/* surb.h — single-use reply blocks as sphinx-packet 0.6.0 serializes and
 * uses them (doc/spec/sphinx.md §8).
 *
 * SURB = header (348) || first hop address (32, padded) || key material
 *   key material = n x 192-byte Lioness keys   (versions 1, 257, 258)
 *                = n x 16-byte payload-key seeds (259 and later)
 * No hop count or version is stored: a parser reads material shorter than
 * 192 bytes as seeds (multiple of 16), else as keys (multiple of 192).
 * Nym, n = 4: 1148 bytes (258) or 444 bytes (259); Nym prepends a 16-byte
 * reply key of its own (ReplySurb, 1164 / 460 bytes) — not handled here.
 *
 * Using a SURB: packet = header || E_k0(...E_k(n-1)(pad(message))), sent to
 * the first hop. The hops peel it like any packet; the last one (the
 * creator's gateway) gets the padded message. The creator, who kept the
 * per-hop keys (struct nym_sphinx_layers), can also peel a reply itself. */
#ifndef NYM_SURB_H
#define NYM_SURB_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/sphinx.h"

#define NYM_SURB_MIN_LEN (NYM_SPHINX_HEADER_LEN + NYM_SPHINX_ADDR_LEN + NYM_SPHINX_SEED_LEN)
#define NYM_SURB_LEN(nhops, seeds) \
	(NYM_SPHINX_HEADER_LEN + NYM_SPHINX_ADDR_LEN + \
	 (nhops) * ((seeds) ? NYM_SPHINX_SEED_LEN : NYM_SPHINX_PAYLOAD_KEY_LEN))
#define NYM_SURB_MAX_LEN NYM_SURB_LEN(NYM_SPHINX_MAX_HOPS, 0)

struct nym_surb {
	uint8_t header[NYM_SPHINX_HEADER_LEN];
	uint8_t first_hop[NYM_SPHINX_ADDR_LEN];  /* node routing address, padded */
	size_t nhops;                            /* 1..5 */
	int seeds;                               /* 1: seeds, 0: full keys */
	uint8_t seed[NYM_SPHINX_MAX_HOPS][NYM_SPHINX_SEED_LEN];
	uint8_t key[NYM_SPHINX_MAX_HOPS][NYM_SPHINX_PAYLOAD_KEY_LEN];
};

/* Create a SURB for the return route r (its destination is the creator).
 * Randomness as nym_sphinx_header_create. keys (may be NULL) receives what
 * the creator keeps to unwrap replies itself. Secrets: wipe both. */
int nym_surb_create(struct nym_sphinx_ctx *ctx, struct nym_surb *s, struct nym_sphinx_layers *keys,
                    const struct nym_sphinx_route *r, const struct nym_rng *rng);
/* Serialized length of s. */
size_t nym_surb_len(const struct nym_surb *s);
/* Write s; returns its length or NYM_ESIZE if cap is too small. */
int nym_surb_serialize(uint8_t *out, size_t cap, const struct nym_surb *s);
/* Parse a SURB of exactly len bytes: NYM_ESHORT (< 396), NYM_EFORMAT
 * (material not a whole number of seeds or keys), NYM_EROUTE (> 5 hops). */
NYM_MUST_CHECK int nym_surb_parse(struct nym_surb *s, const uint8_t *in, size_t len);
/* Build the reply packet (len bytes, payload = len - 348) carrying msg;
 * send it to s->first_hop. NYM_ETOOBIG, NYM_ESIZE as nym_sphinx_create. */
int nym_surb_use(uint8_t *packet, size_t len, const struct nym_surb *s,
                 const uint8_t *msg, size_t msg_len);
/* As the creator: peel a reply packet found anywhere on its return path
 * (the hop is recognised by its MAC key) in place, and unpad it. Returns
 * the hop index the packet was at (0 = as the replier sent it); the
 * message is packet + 348 + 16, *msg_len bytes. NYM_ENOTFOUND if no
 * hop's MAC verifies, NYM_EFORMAT if the padding is wrong. */
NYM_MUST_CHECK int nym_surb_unwrap(uint8_t *packet, size_t len, const struct nym_sphinx_layers *keys,
                                   size_t *msg_len);

#endif
