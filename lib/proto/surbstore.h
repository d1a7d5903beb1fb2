/* surbstore.h — the reply SURBs anonymous senders gave us, held per sender
 * tag (doc/spec/nym-message.md §7): what a client replies through.
 *
 * Per 16-byte sender tag: serialized ReplySurbs of one record length (the
 * latest format wins: records of another length from the same tag replace
 * those held), the key-rotation byte of the latest message that brought
 * some (NYM_ROTATION_UNKNOWN for DataV1 senders) and the network's key
 * rotation id when they came (nym_surbstore_rotation). A SURB is used once:
 * take hands out the most recently added and wipes its record.
 *
 * Bounded: at most per_tag SURBs per tag (the oldest go first) and total in
 * all (the tag least recently given SURBs loses its oldest first).
 *
 * Encoded (nym_surbstore_encode; io/surbfile.h keeps it in a file), all
 * integers big-endian:
 *   "NYMSURB1"                      8  magic and version
 *   ntags                           4  u32, tags that follow
 *   per tag, least recently fed first:
 *     tag                          16
 *     rotation                      1  key-rotation byte of the messages
 *     rotation_id                   4  u32 network rotation id (u32 max: unknown)
 *     rec_len                       4  u32, 1..NYM_SURBSTORE_REC_MAX
 *     n                             4  u32, 1..per_tag
 *     records                 n * rec_len  oldest first
 * Nothing may follow. Decoding checks every length and the bounds before
 * it keeps anything. */
#ifndef NYM_SURBSTORE_H
#define NYM_SURBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/reply.h"

#define NYM_SURBSTORE_PER_TAG 500
#define NYM_SURBSTORE_TOTAL 5000
#define NYM_SURBSTORE_REC_MAX 4096
#define NYM_SURBSTORE_MAGIC "NYMSURB1"
#define NYM_SURBSTORE_ROTATION_ID_UNKNOWN UINT32_MAX

struct nym_surbstore;

struct nym_surbstore *nym_surbstore_new(void);
/* Wipes every record held. */
void nym_surbstore_free(struct nym_surbstore *st);
/* Other bounds than NYM_SURBSTORE_PER_TAG / _TOTAL (0 keeps one); applied
 * from the next add on. */
void nym_surbstore_set_limits(struct nym_surbstore *st, size_t per_tag, size_t total);
/* Keep n records of rec_len bytes (recs, back to back) from tag. n = 0 or
 * rec_len = 0: nothing. NYM_ENOMEM leaves what was held. Over the bounds,
 * the oldest records go. */
int nym_surbstore_add(struct nym_surbstore *st, const uint8_t tag[16], const uint8_t *recs,
                      size_t n, size_t rec_len, uint8_t rotation);
/* SURBs held for tag (0 for an unknown tag); in all. */
size_t nym_surbstore_count(const struct nym_surbstore *st, const uint8_t tag[16]);
size_t nym_surbstore_total(const struct nym_surbstore *st);
/* The most recent SURB of tag, parsed, its key_rotation set; records that
 * do not parse are dropped on the way. NYM_ENOTFOUND when none is left. */
int nym_surbstore_take(struct nym_surbstore *st, const uint8_t tag[16], struct nym_reply_surb *rs);
/* The network's current key rotation id (topology rotation_id; u32 max:
 * unknown): stamped on SURBs added from now on. SURBs made for node keys
 * that have rotated out — a key-rotation byte of the other parity, or
 * received under another rotation id — are dropped (the nodes no longer
 * hold their keys). Returns how many SURBs were dropped. */
size_t nym_surbstore_rotation(struct nym_surbstore *st, uint32_t rotation_id);

/* The store as bytes (format above) into *out (malloc'd, caller frees;
 * holds SURBs: wipe before freeing). */
int nym_surbstore_encode(const struct nym_surbstore *st, uint8_t **out, size_t *len);
/* Replace what st holds by the encoded store b. NYM_EFORMAT (bad magic,
 * a length or count out of bounds, trailing bytes) or NYM_ESHORT
 * (truncated) leave st as it was. */
NYM_MUST_CHECK int nym_surbstore_decode(struct nym_surbstore *st, const uint8_t *b, size_t len);

#endif
