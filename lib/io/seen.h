/* seen.h — the messages a client delivered in the last 24 hours, kept in a
 * file so that a retransmitted copy arriving after a restart is not
 * delivered again (doc/spec/nym-message.md §5.4: the sender retransmits until
 * acked, and a gateway stores messages for a day).
 *
 * File: 24-byte records, appended one per delivered message:
 *   fingerprint (16) = BLAKE3(u32 BE set id || message bytes)[0..16]
 *                      (first byte forced to 01 if all sixteen are zero)
 *   time (8)         = u64 BE Unix seconds of delivery
 * Opening loads the records younger than a day (at most NYM_SEEN_MAX),
 * writes them back compacted (through <path>.tmp and rename), then keeps
 * the file open for appending. In memory: an open-addressing set of
 * fingerprints. */
#ifndef NYM_SEEN_H
#define NYM_SEEN_H

#include <stddef.h>
#include <stdint.h>

#define NYM_SEEN_SECS (24 * 3600)
#define NYM_SEEN_MAX 200000
#define NYM_SEEN_REC 24

struct nym_seen;

/* now_s: Unix seconds (what ages records out). NYM_EIO, NYM_ENOMEM. */
int nym_seen_open(struct nym_seen **out, const char *path, uint64_t now_s);
void nym_seen_free(struct nym_seen *s);
/* 1: message (data of set set_id) was delivered before: drop it. 0: it is
 * new and now remembered. NYM_EIO: new, remembered in memory only (the
 * append failed; a copy may be delivered again after a restart). */
int nym_seen_check(struct nym_seen *s, uint32_t set_id, const uint8_t *data, size_t len,
    uint64_t now_s);

#endif
