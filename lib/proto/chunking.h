/* chunking.h — fragments and fragment sets (doc/spec/nym-message.md §4.5).
 *
 * A padded NymMessage is cut into fragments, each filling one packet exactly.
 * Up to 255 fragments form a set; longer messages use several sets chained by
 * "linked" headers. On the wire a fragment is header || payload:
 *
 *   unlinked (7 bytes):  u32 BE (set_id | 0x80000000) · total · position · 00
 *   linked  (10 bytes):  u32 BE (set_id | 0x80000000) · total · position ·
 *                        u32 BE (link_id | 0x80000000)
 *
 * set_id and link_id are 31-bit, non-zero. A link on position 1 names the
 * previous set; a link on position 255 of a 255-fragment set names the next
 * set; a link anywhere else is malformed. The payload is every byte after the
 * header (no length field).
 *
 * The fragment identifier that acks carry is u32 BE set_id (no flag bit) ||
 * position — 5 bytes; (0, 0) is the loop-cover identifier.
 *
 * "Capacity" below is P = bytes available for one serialized fragment in a
 * packet (plaintext size − 405-byte ack block − 32-byte key prefix; 1611 for
 * a regular packet). U = P − 7 and L = P − 10 are the payload sizes of
 * unlinked and linked fragments. */
#ifndef NYM_CHUNKING_H
#define NYM_CHUNKING_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"

#define NYM_FRAG_HEADER_LEN 7
#define NYM_FRAG_LINKED_HEADER_LEN 10
#define NYM_FRAG_MAX_PER_SET 255
#define NYM_FRAG_ID_LEN 5
#define NYM_FRAG_FLAG 0x80000000u
/* Smallest capacity the arithmetic below accepts (the official tests go down
 * to 17). */
#define NYM_FRAG_MIN_CAPACITY 17

struct nym_fragment {
	uint32_t set_id;     /* 1 .. 2^31-1, flag bit cleared */
	uint8_t total;       /* fragments in this set, 1..255 */
	uint8_t position;    /* 1..total */
	uint32_t prev_id;    /* previous linked set, 0 = none (only position 1) */
	uint32_t next_id;    /* next linked set, 0 = none (only 255 of 255) */
	const uint8_t *payload; /* points into the parsed buffer */
	size_t payload_len;
};

/* Parse by the reference parser's rules (flag bits, 1 <= position <= total,
 * link placement, ids non-zero, link != id). NYM_ESHORT / NYM_EFORMAT. */
NYM_MUST_CHECK int nym_fragment_parse(struct nym_fragment *f, const uint8_t *buf, size_t len);
/* Write f's header (7 or 10 bytes); returns its length. f must be valid. */
int nym_fragment_header_write(uint8_t out[NYM_FRAG_LINKED_HEADER_LEN], const struct nym_fragment *f);

/* The 5-byte fragment identifier. decode rejects a negative set id (top
 * bit set) with NYM_EFORMAT. */
void nym_fragment_id_encode(uint8_t out[NYM_FRAG_ID_LEN], uint32_t set_id, uint8_t position);
NYM_MUST_CHECK int nym_fragment_id_decode(uint32_t *set_id, uint8_t *position, const uint8_t in[NYM_FRAG_ID_LEN]);

/* Number of sets for n padded bytes at capacity P (§4.5.3). */
size_t nym_chunking_sets(size_t n, size_t P);
/* Fragments needed for n bytes (message + the 0x01 marker) at capacity P and
 * the bytes left over in the last fragment (§4.5.4). 0 when P is too small. */
size_t nym_chunking_required_fragments(size_t n, size_t P, size_t *space_left);

/* Draw a set id as the official client does: a random i32 (here: 4 rng
 * bytes read big-endian), redrawn while 0 or INT32_MIN, absolute value. */
int nym_chunking_draw_set_id(uint32_t *id, const struct nym_rng *rng);

/* A message split plan: which bytes of the padded message go into fragment
 * i, with which header. The padded message itself is never materialised:
 * padded = msg || 01 || 00 * space_left is produced on the fly. */
struct nym_split {
	const uint8_t *msg;  /* serialized NymMessage (caller keeps it alive) */
	size_t msg_len;
	size_t P;            /* fragment capacity */
	size_t padded_len;
	size_t nsets, nfrags;
	uint32_t *set_ids;   /* nsets ids, drawn up front (malloc'd) */
};

/* Plan the split of msg (the serialized NymMessage) at capacity P, drawing
 * all set ids first. Free with nym_split_free. */
int nym_split_init(struct nym_split *s, const uint8_t *msg, size_t msg_len, size_t P,
                   const struct nym_rng *rng);
void nym_split_free(struct nym_split *s);
/* Write fragment i (0-based, send order) into out (at least P bytes); sets
 * *id_out (5-byte identifier) if not NULL. Returns the fragment length,
 * which is P for every fragment. Allocates nothing. */
int nym_split_fragment(const struct nym_split *s, size_t i, uint8_t *out,
                       uint8_t id_out[NYM_FRAG_ID_LEN]);

/* --- reassembly (§4.5.6) ----------------------------------------------------
 * Fragments are fed in any order, with duplicates; a message comes out the
 * moment its last missing fragment arrives (completion order).
 *
 * Memory bound: the payload bytes held in incomplete sets (plus a small
 * per-set overhead) never exceed limits.max_bytes, and the number of tracked
 * set ids (incomplete sets plus recently completed ones) never exceeds
 * limits.max_sets; a fragment that would cross either limit is refused with
 * NYM_EFULL after stale state has been expired. Incomplete sets that receive
 * nothing for limits.expiry_ms are dropped (the official client: 30 min);
 * completed set ids are remembered for the same time so that retransmitted
 * duplicates do not yield a message twice. Time is the caller's (any
 * monotonic millisecond clock); lib/ reads no clock. */
#define NYM_REASM_DEFAULT_MAX_BYTES (64u * 1024 * 1024)
#define NYM_REASM_DEFAULT_MAX_SETS 65536
#define NYM_REASM_DEFAULT_EXPIRY_MS (30u * 60 * 1000)
#define NYM_REASM_CHECK_INTERVAL_MS 10000

struct nym_reasm_limits {
	size_t max_bytes;
	size_t max_sets;
	uint64_t expiry_ms;
};

struct nym_reasm; /* opaque */

/* limits NULL = the defaults above. Returns NULL when out of memory. */
struct nym_reasm *nym_reasm_new(const struct nym_reasm_limits *limits);
void nym_reasm_free(struct nym_reasm *r);

/* Add one fragment (as parsed by nym_fragment_parse; its payload is copied).
 * Returns 1 and sets *out / *out_len (malloc'd padded message bytes, the
 * sets' payloads in order; free() them) when this fragment completed a
 * message; 0 when stored; NYM_EREPLAY when its set was already completed
 * (duplicate); NYM_EFORMAT when it contradicts its set (other total);
 * NYM_EFULL when a limit is reached; NYM_ENOMEM. */
int nym_reasm_add(struct nym_reasm *r, const struct nym_fragment *f, uint64_t now_ms,
                  uint8_t **out, size_t *out_len);
/* Drop stale state now; returns the number of incomplete sets dropped. */
size_t nym_reasm_expire(struct nym_reasm *r, uint64_t now_ms);
/* Bytes currently held and sets tracked (for tests and monitoring). */
size_t nym_reasm_bytes(const struct nym_reasm *r);
size_t nym_reasm_sets(const struct nym_reasm *r);
/* Incomplete sets expired so far (and in *fragments, may be NULL, the
 * fragments they had): what a caller reports as messages lost. */
size_t nym_reasm_expired(const struct nym_reasm *r, size_t *fragments);

/* The state, for keeping it on disk (io/fragstore.h): fn is called once per
 * fragment held in an incomplete set (prev_id/next_id set on the positions
 * that carry links) and once per completed set id (position 0, no payload),
 * with the set's last activity time; it stops at the first negative return,
 * which is passed back. Restoring: nym_reasm_add the fragments and
 * nym_reasm_mark_done the completed ids, with their times. */
int nym_reasm_each(const struct nym_reasm *r,
    int (*fn)(void *arg, const struct nym_fragment *f, uint64_t last_ms), void *arg);
/* Remember set_id as completed (duplicates are refused), dropping what was
 * held of it. NYM_EFORMAT for an invalid id, NYM_EFULL, NYM_ENOMEM. */
int nym_reasm_mark_done(struct nym_reasm *r, uint32_t set_id, uint64_t now_ms);
/* The ids of the sets that form the completed message containing set_id, in
 * order (at most max); 0 when set_id is not a completed set. */
size_t nym_reasm_chain(const struct nym_reasm *r, uint32_t set_id, uint32_t *ids, size_t max);

#endif
