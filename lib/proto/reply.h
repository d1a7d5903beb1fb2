/* reply.h — anonymous replies through reply SURBs (doc/spec/nym-message.md §7).
 *
 * A ReplySurb (what a RepliableMessage carries, lib/proto/message.h) is
 *   reply_key (16) || Sphinx SURB (lib/proto/surb.h)
 * v2 (current, Sphinx 259): 16 + 348 + 32 + hops × 16 = 460 bytes for 4 hops;
 * v1 (legacy, 258):         16 + 348 + 32 + 4 × 192   = 1164 bytes.
 * The SURB's first hop must decode as a node routing address.
 *
 * A reply fragment travels as (lib/proto/payload.h)
 *   ack block (405, built by the REPLIER for itself) ||
 *   BLAKE3(reply_key) (32) || AES-128-CTR(reply_key, 0, fragment)
 * wrapped with nym_surb_use and sent to the SURB's first hop, with the key
 * rotation byte stored with the SURB batch.
 *
 * The creator keeps every reply key it hands out, keyed by its digest, and
 * uses each at most once (struct nym_reply_keys). */
#ifndef NYM_REPLY_H
#define NYM_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "proto/framing.h"
#include "proto/sphinx.h"
#include "proto/surb.h"

#define NYM_REPLY_KEY_MAX_AGE_MS (24ull * 3600 * 1000)
#define NYM_REPLY_KEYS_DEFAULT_MAX 100000

struct nym_reply_surb {
	uint8_t reply_key[16];
	struct nym_surb surb;
	uint8_t key_rotation;  /* from the batch header (v1: Unknown) */
};

/* Parse reply_key || SURB of exactly len bytes; NYM_EADDR when the first
 * hop is no routing address, else as nym_surb_parse. */
NYM_MUST_CHECK int nym_reply_surb_parse(struct nym_reply_surb *rs, const uint8_t *in, size_t len);
size_t nym_reply_surb_len(const struct nym_reply_surb *rs);
int nym_reply_surb_serialize(uint8_t *out, size_t cap, const struct nym_reply_surb *rs);
/* Make one: reply_key = 16 rng bytes, then nym_surb_create over route (the
 * creator's return route, destination = its identity; version 259 gives v2
 * seed SURBs, 258 v1 full-key SURBs). Wipe rs after use. */
int nym_reply_surb_create(struct nym_sphinx_ctx *ctx, struct nym_reply_surb *rs,
                          const struct nym_sphinx_route *route, uint8_t key_rotation,
                          const struct nym_rng *rng);

/* Build a reply packet of packet_len bytes in packet from the fragment the
 * caller has already written at packet + NYM_PACKET_FRAGMENT_OFF (frag_len
 * = NYM_PACKET_FRAGMENT_CAP(packet_len)): the ack block over ack_route for
 * frag_id with the replier's ack key, the reply-key encryption, then
 * nym_surb_use. mp receives the MixPacket fields (next hop = the SURB's
 * first hop, rotation = the SURB's, packet = packet). */
int nym_reply_packet(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                     struct nym_mix_packet *mp, const struct nym_reply_surb *rs,
                     const struct nym_sphinx_route *ack_route, const uint8_t ack_key[16],
                     const uint8_t frag_id[5], const struct nym_rng *rng);

/* --- the creator's store of reply keys ------------------------------------
 * Bounded: at most max keys (NYM_EFULL beyond); keys older than max_age_ms
 * are dropped by nym_reply_keys_expire and by lookups. */
struct nym_reply_keys;
struct nym_reply_keys *nym_reply_keys_new(size_t max, uint64_t max_age_ms);
void nym_reply_keys_free(struct nym_reply_keys *k); /* wipes */
int nym_reply_keys_add(struct nym_reply_keys *k, const uint8_t key[16], uint64_t now_ms);
/* Find the key whose BLAKE3 digest is digest, copy it out and forget it
 * (single use). NYM_ENOTFOUND. */
NYM_MUST_CHECK int nym_reply_keys_take(struct nym_reply_keys *k, const uint8_t digest[32], uint8_t key[16],
                                       uint64_t now_ms);
size_t nym_reply_keys_count(const struct nym_reply_keys *k);
/* Call fn for every key held, in no particular order (a tool saving the keys
 * it handed out); stops at and returns fn's first non-zero result. */
int nym_reply_keys_each(const struct nym_reply_keys *k,
                        int (*fn)(void *ctx, const uint8_t key[16], uint64_t added_ms), void *ctx);
size_t nym_reply_keys_expire(struct nym_reply_keys *k, uint64_t now_ms);

#endif
