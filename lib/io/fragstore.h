/* fragstore.h — the reassembly state of a client on disk: fragments of
 * messages not yet whole, and the sets completed lately.
 *
 * A gateway forgets a packet once it has pushed it, and the sender's
 * SURB-ack only says the packet reached the gateway; so a reader killed in
 * the middle of a large message would lose the fragments it had. Each
 * fragment is appended here as it arrives (one write, no fsync: a killed
 * process loses nothing; the file is fdatasync'ed by the caller about once a
 * second, so a power cut may cost the last second), and a restarted client
 * feeds them back into its reassembler (proto/chunking.h) and completes the
 * message with what the gateway kept meanwhile.
 *
 * The file (mode 0600) is "NYMFRAG1" followed by records:
 *
 *   u8   kind: 1 = a fragment, 2 = completed set ids
 *   u64  BE Unix milliseconds (arrival; for a rewritten set its last activity)
 *   u32  BE body length (at most NYM_FRAGSTORE_BODY_MAX)
 *   body kind 1: the decrypted fragment, header || payload (chunking.h)
 *        kind 2: u32 BE set ids (a message's sets: duplicates are refused
 *                after a restart too)
 *
 * A record cut short by a crash, or anything after an unknown kind, is
 * dropped on load. The file only grows between rewrites: the caller
 * rewrites it from its reassembler (a temporary file renamed over it) when
 * most of it is dead. One process holds a store: flock() of "<path>.lock".
 * An I/O layer module: it touches files. */
#ifndef NYM_FRAGSTORE_H
#define NYM_FRAGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/chunking.h"

#define NYM_FRAGSTORE_FRAGMENT 1
#define NYM_FRAGSTORE_DONE 2
#define NYM_FRAGSTORE_HDR 13 /* 1 + 8 + 4 */
#define NYM_FRAGSTORE_BODY_MAX (1u << 20)

struct nym_fragstore;

/* Open (create) the store at path and lock it. NYM_EEXIST when another
 * process holds it; NYM_EIO (errno). */
int nym_fragstore_open(struct nym_fragstore **out, const char *path);
/* Unlock and close (fdatasync first if anything was written). */
void nym_fragstore_close(struct nym_fragstore *fs);

/* Hand every whole record to fn in file order; stops at fn's first
 * negative return (passed back). *dropped (may be NULL): bytes of a damaged
 * tail ignored. Returns the number of records, or NYM_EIO. */
int nym_fragstore_load(struct nym_fragstore *fs,
    int (*fn)(void *arg, int kind, const uint8_t *body, size_t len, uint64_t unix_ms), void *arg,
    size_t *dropped);

/* Append one fragment / the completed set ids of one message (one write
 * each, not synced). NYM_EIO (errno), NYM_ETOOBIG. */
int nym_fragstore_add(struct nym_fragstore *fs, const uint8_t *frag, size_t len, uint64_t unix_ms);
int nym_fragstore_done(struct nym_fragstore *fs, const uint32_t *ids, size_t n, uint64_t unix_ms);
/* fdatasync when something was appended since the last sync. */
int nym_fragstore_sync(struct nym_fragstore *fs);
/* Bytes in the file now. */
uint64_t nym_fragstore_size(const struct nym_fragstore *fs);

/* Replace the file by the state of r (nym_reasm_each), durably; times are
 * turned from r's clock (reasm_now_ms) to Unix time (unix_now_ms). The old
 * file stays as it was on failure (NYM_EIO, NYM_ENOMEM). */
int nym_fragstore_rewrite(struct nym_fragstore *fs, const struct nym_reasm *r,
    uint64_t reasm_now_ms, uint64_t unix_now_ms);

#endif
