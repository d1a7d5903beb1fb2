/* ordered.h — one direction of one connection's ordered delivery
 * (doc/spec/socks5.md §7.2–7.3; the reference's OrderedMessageBuffer), sans-I/O.
 *
 * Every Send / NetworkData carries  conn_id u64 || closed u8 || seq u64 || data
 * (§4.3, §5.2); seq counts from 0 per direction, +1 per message, keepalives
 * and the close included. The receiver takes seq in [next, next + 1000]:
 *
 *     next                      next + NYM_ORDERED_WINDOW
 *      |---- held until the gap before them fills ----|  beyond: refused
 *
 * a seq below next (delivered) or already held is a duplicate and dropped.
 * Held messages are copies; their total is capped by max_bytes, so a peer
 * that sends from the far future, or never fills a gap, costs at most
 * max_bytes (plus a 24 KiB index, made at the first out-of-order message). */
#ifndef NYM_ORDERED_H
#define NYM_ORDERED_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_ORDERED_WINDOW 1000 /* MAX_REASONABLE_OFFSET */

struct nym_ordered_slot;

struct nym_ordered {
	uint64_t next;      /* the seq to deliver next */
	int has_closed;     /* a message with closed set was seen ... */
	uint64_t closed_at; /* ... with this seq (the last such) */
	int remote_closed;  /* delivery reached closed_at: the peer's side is done */
	size_t held, held_bytes, max_bytes;
	struct nym_ordered_slot *slots; /* NYM_ORDERED_WINDOW + 1, by seq modulo */
};

/* A buffer expecting seq 0, holding at most max_bytes of data out of order. */
void nym_ordered_init(struct nym_ordered *o, size_t max_bytes);
void nym_ordered_free(struct nym_ordered *o);

/* Take one message (data copied). A closed flag is remembered even when the
 * message itself is refused, as the reference does. Returns 0, NYM_ERANGE
 * (seq beyond the window), NYM_EREPLAY (delivered already, or held),
 * NYM_EFULL (max_bytes reached), NYM_ENOMEM. */
NYM_MUST_CHECK int nym_ordered_write(struct nym_ordered *o, uint64_t seq, int closed,
                                     const uint8_t *data, size_t len);

/* The next message in order, if it is here: returns 1 and hands over its
 * bytes (*data malloc'd, the caller frees it; NULL when empty), 0 when the
 * next seq has not arrived. After a message at or past closed_at,
 * o->remote_closed is set. */
int nym_ordered_read(struct nym_ordered *o, uint8_t **data, size_t *len, uint64_t *seq);

#endif
