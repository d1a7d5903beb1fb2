/* mixer.h — the mix node's packet engine (I/O layer): worker threads that
 * process Sphinx packets, a replay filter, and a delay queue that releases
 * each processed packet when its delay has passed.
 *
 * Flow (doc/spec/sphinx.md §5, §7, §9; doc/spec/nym-message.md §2.4, §3.1):
 *
 *   I/O thread: nym_mixer_submit(rotation, packet, now)
 *       │    copies one bare Sphinx packet (its node-link frame already
 *       ▼    decoded by lib/proto/framing.h) into a pooled buffer and queues it
 *   worker threads (one per core by default)
 *       - pick the sphinx key(s) by the frame's rotation byte (Odd/Even:
 *         the key of that parity, else "expired key"; Unknown: primary,
 *         then secondary if the MAC failed — as nym-node does; the choice
 *         is proto/keys.h's nym_sphinx_keys_pick)
 *       - process the Sphinx header and payload (MAC checked first)
 *       - check and set the replay tag (32 bytes, OKM[256..288))
 *       - forward hop: hold until now + min(delay, max_delay_ns)
 *         final hop: hand to on_final (a gateway), or drop and count
 *       ▼
 *   I/O thread: nym_mixer_take_due(now, out)
 *            hands each due packet with its next hop and rotation byte to
 *            out (which frames it and calls nym_netio_send), then recycles
 *
 * The mixer never touches a socket or a frame header: drops the caller
 * detects (bad frames, undecodable next hops, full peer queues) are counted
 * here with nym_mixer_count_drop, so one set of statistics covers the node.
 * It reads no clock for routing decisions: the caller passes "now"
 * (nym_mono_ns(), CLOCK_MONOTONIC ns). Only the per-packet processing time
 * in the statistics is measured on the workers.
 * Packet buffers come from a recycled pool: after warm-up the packet path
 * allocates nothing. Nothing is printed; every drop is counted by reason.
 *
 * Also exported, because they are useful and unit-tested alone: the delay
 * queue (a binary min-heap: O(log n) per packet, 24 bytes per held packet)
 * and the replay filter (two generations of 64-bit fingerprints). */
#ifndef NYM_MIXER_H
#define NYM_MIXER_H

#include <stddef.h>
#include <stdint.h>


#include "proto/framing.h" /* NYM_ROTATION_* */

/* nym-node's default maximum_forward_packet_delay (doc/spec/sphinx.md §7.2,
 * nym-node handler.rs create_delay_target): a larger delay carried in a
 * header is clamped to this. */
#define NYM_MIXER_MAX_DELAY_NS (10ull * 1000000000ull)

/* ------------------------------------------------------------------------
 * Delay queue: a binary min-heap on (due time, arrival order); equal due
 * times come out in the order they went in. Fixed capacity chosen at init;
 * a push beyond it fails with NYM_EFULL (the caller drops and counts).
 * Not thread-safe by itself (the mixer guards it with a mutex). */
struct nym_mixer_dq_ent {
	uint64_t due;
	uint64_t seq;
	void *item;
};
struct nym_mixer_dq {
	struct nym_mixer_dq_ent *h;
	size_t n, cap;
	uint64_t seq;
};
int nym_mixer_dq_init(struct nym_mixer_dq *q, size_t cap);
void nym_mixer_dq_free(struct nym_mixer_dq *q);
/* 0, or NYM_EFULL when cap items are held. */
int nym_mixer_dq_push(struct nym_mixer_dq *q, uint64_t due, void *item);
/* The earliest due time: 0 with *due set, or NYM_ENOTFOUND when empty. */
int nym_mixer_dq_peek(const struct nym_mixer_dq *q, uint64_t *due);
/* Remove and return the earliest item if it is due (due <= now), else NULL. */
void *nym_mixer_dq_pop_due(struct nym_mixer_dq *q, uint64_t now);

/* ------------------------------------------------------------------------
 * Replay filter with bounded memory. A tag is remembered as a 64-bit
 * fingerprint (tag bytes 0..8) in one of two open-addressing tables
 * ("generations"), at a slot chosen by SipHash-2-4 of the tag under a secret
 * key (senders know their own tags; they must not be able to aim at one
 * bucket). Lookups search both tables; inserts go to the current one. When
 * the current one holds `window` tags, the older table is wiped and becomes
 * the current one.
 *
 * Bound: 2 tables of P slots of 8 bytes, P = the power of two >= 2*window
 * (window 2^18 -> 8 MiB); load factor <= 1/2 keeps probes short.
 * Guarantee: a replay of any of the last `window` accepted tags is caught.
 * At the limit the oldest generation is forgotten, so a replay of a tag
 * accepted more than `window` (at most 2*window) tags ago may pass; nothing
 * else degrades. A fresh tag is wrongly taken for a replay only if its
 * 64-bit fingerprint collides (about 2*window / 2^64 per packet).
 * Not thread-safe by itself. */
struct nym_mixer_replay {
	uint64_t *gen[2];
	size_t mask;     /* slots per table - 1 */
	size_t window;   /* tags per generation */
	size_t count;    /* tags in the current generation */
	int cur;
	uint8_t key[16]; /* SipHash key */
};
/* window >= 1; key: 16 secret random bytes. 0 or NYM_EINVAL / NYM_ENOMEM. */
int nym_mixer_replay_init(struct nym_mixer_replay *r, size_t window, const uint8_t key[16]);
void nym_mixer_replay_free(struct nym_mixer_replay *r);
/* 0 when the tag is new (it is now remembered), NYM_EREPLAY when seen. */
int nym_mixer_replay_check_set(struct nym_mixer_replay *r, const uint8_t tag[32]);

/* ------------------------------------------------------------------------
 * The packet engine. */

/* Why a packet was dropped: index into nym_mixer_stats.dropped. */
enum nym_mixer_drop {
	NYM_MIXER_DROP_FRAME,     /* bad node-link frame (caller: framing decoder) */
	NYM_MIXER_DROP_SIZE,      /* not a valid Sphinx packet size */
	NYM_MIXER_DROP_MAC,       /* header MAC failed with every candidate key */
	NYM_MIXER_DROP_KEY,       /* rotation names a key this node does not hold */
	NYM_MIXER_DROP_MALFORMED, /* other Sphinx error (routing flag, payload) */
	NYM_MIXER_DROP_REPLAY,    /* replay tag seen before */
	NYM_MIXER_DROP_NEXT_HOP,  /* next hop does not decode / cannot be reached */
	NYM_MIXER_DROP_FINAL,     /* final-hop packet and no on_final handler */
	NYM_MIXER_DROP_OVERLOAD,  /* worker queue or delay queue full */
	NYM_MIXER_DROP_QUEUE,     /* next hop's send queue full (caller: netio) */
	NYM_MIXER_DROP_N
};
/* Names used in the JSON statistics: "bad_frame", "bad_size", "bad_mac",
 * "expired_key", "malformed", "replay", "bad_next_hop", "final_hop",
 * "overload", "queue_full". */
const char *nym_mixer_drop_name(enum nym_mixer_drop d);

/* A node's sphinx secret keys. primary: the key of the current rotation
 * (primary_rotation = its rotation id); secondary (optional): the previous
 * key, kept through the transition, or the pre-announced next one. Chosen
 * per packet by nym_sphinx_keys_pick (proto/keys.h), as in nym-node: Even ->
 * the primary if its rotation id is even, else the secondary; Odd likewise;
 * neither held -> NYM_MIXER_DROP_KEY. Unknown (and v7 frames, which carry no
 * rotation) -> the primary, then the secondary if the MAC failed. */
struct nym_mixer_keys {
	uint8_t primary[32];
	uint32_t primary_rotation;
	int has_secondary;
	uint8_t secondary[32];
};

/* What Sphinx processing of one packet produced. */
struct nym_mixer_result {
	int final;             /* 0: forward hop, 1: final hop */
	uint8_t replay_tag[32];
	uint16_t version;      /* Sphinx header version (258, 259, ...) */
	uint8_t next_hop[32];  /* forward: NymNodeRoutingAddress, zero-padded */
	uint64_t delay_ns;     /* forward: as carried in the header (uncapped) */
	uint8_t destination[32]; /* final */
	uint8_t surb_id[16];     /* final */
};

/* Process one Sphinx packet of len bytes with secret key sk, in place: the
 * packet keeps its length and becomes the next hop's packet (forward) or
 * holds the decrypted payload at offset 348 (final). Returns 0, NYM_EMAC when
 * the header MAC does not verify (the packet must then be untouched: the next
 * candidate key is tried), or another negative code. tls is the calling
 * worker's scratch. The default (process = NULL) is lib/proto/sphinx.h's
 * nym_sphinx_process with a per-worker struct nym_sphinx_ctx; tests and
 * benchmarks may pass a stand-in. */
typedef int (*nym_mixer_process_fn)(void *tls, const uint8_t sk[32], uint8_t *pkt, size_t len,
                                    struct nym_mixer_result *res);

/* A final-hop packet, for a gateway. Called on a worker thread; pkt is
 * valid only during the call (payload = pkt + 348). */
struct nym_mixer_final {
	const struct nym_mixer_result *res;
	const uint8_t *pkt;
	size_t len;
	uint8_t rotation;      /* rotation byte of the frame it arrived in */
	uint8_t user;          /* the caller's byte from nym_mixer_submit_user */
};

/* A processed packet due for its next hop; valid only during the callback. */
struct nym_mixer_out {
	const uint8_t *next_hop; /* 32 bytes, as in the Sphinx header */
	const uint8_t *pkt;
	size_t len;
	uint8_t rotation;        /* rotation byte to put in the outgoing frame */
	uint64_t due_ns;         /* when it was due (lateness = now - due_ns) */
	uint8_t user;            /* the caller's byte from nym_mixer_submit_user */
};

struct nym_mixer_config {
	unsigned workers;        /* worker threads; 0 = online CPUs */
	size_t queue_max;        /* packets waiting for a worker (0 = 16384) */
	size_t held_max;         /* packets held for their delay (0 = 131072) */
	uint64_t max_delay_ns;   /* delay cap (0 = NYM_MIXER_MAX_DELAY_NS) */
	size_t max_packet;       /* largest packet accepted (0 = 33133, extended32) */
	size_t pool_bytes_max;   /* packet buffers in all, bytes (0 = 512 MiB); beyond:
	                          * dropped as overload */
	size_t replay_window;    /* see nym_mixer_replay (0 = 262144) */
	int replay_off;          /* 1: no replay detection (benchmarks only) */
	uint8_t replay_key[16];  /* secret SipHash key for the replay filter */
	struct nym_mixer_keys keys;
	nym_mixer_process_fn process;  /* NULL: Sphinx (lib/proto/sphinx.h) */
	/* Per-worker scratch for a custom process: tls_size bytes, zeroed;
	 * thread_init (may fail with a negative code) and thread_free run on the
	 * worker. Ignored when process is NULL. */
	size_t tls_size;
	int (*thread_init)(void *tls);
	void (*thread_free)(void *tls);
	/* Final-hop handler (gateways). NULL: final-hop packets are dropped and
	 * counted as NYM_MIXER_DROP_FINAL. Runs on worker threads. */
	void (*on_final)(void *ctx, const struct nym_mixer_final *f);
	void *ctx;
};

struct nym_mixer_stats {
	uint64_t received;     /* packets submitted (dropped at submit included) */
	uint64_t processed;    /* packets a worker processed successfully */
	uint64_t forwarded;    /* packets handed to take_due's callback */
	uint64_t final_hop;    /* packets handed to on_final */
	uint64_t dropped[NYM_MIXER_DROP_N];
	uint64_t proc_ns;      /* worker time over all packets (sum) */
	uint64_t proc_count;   /* packets proc_ns is summed over */
	size_t queued;         /* waiting for a worker now */
	size_t held;           /* in the delay queue now */
	size_t pooled;         /* packet buffers allocated (the pool's size) */
};

struct nym_mixer;

/* Create the engine and start its workers. NULL on failure (errno set:
 * EINVAL bad config, ENOMEM, or what pthread_create or thread_init said). */
struct nym_mixer *nym_mixer_create(const struct nym_mixer_config *cfg);
/* Stop the workers and free everything, including packets still held. */
void nym_mixer_destroy(struct nym_mixer *m);

/* Queue one bare Sphinx packet received at now_ns (its delay counts from
 * there) with its frame's rotation byte (NYM_ROTATION_*; v7 frames:
 * UNKNOWN). The packet is copied. 0, or when dropped (and counted):
 * NYM_ESIZE (len 0 or > max_packet) or NYM_EFULL (overload). Thread-safe. */
int nym_mixer_submit(struct nym_mixer *m, uint8_t rotation, const uint8_t *pkt, size_t len,
                     uint64_t now_ns);
/* The same with one byte of the caller's own that comes back with the
 * packet (nym_mixer_final.user, nym_mixer_out.user; 0 for nym_mixer_submit):
 * a gateway keeps the frame version there, to answer in the same one. */
int nym_mixer_submit_user(struct nym_mixer *m, uint8_t rotation, uint8_t user, const uint8_t *pkt,
                          size_t len, uint64_t now_ns);

/* Replace the sphinx keys (a key rotation): packets a worker picks up
 * after this use the new keys. Thread-safe. */
void nym_mixer_set_keys(struct nym_mixer *m, const struct nym_mixer_keys *keys);

/* Count a drop the caller detected. Thread-safe. */
void nym_mixer_count_drop(struct nym_mixer *m, enum nym_mixer_drop why);

/* A file descriptor (eventfd) that becomes readable when the earliest due
 * time may have moved earlier: poll it with the sockets, and on readiness
 * call nym_mixer_take_due (which also resets it). */
int nym_mixer_wakefd(const struct nym_mixer *m);
/* Nanoseconds from now_ns until the next packet is due: 0 when one is due
 * already, -1 when none is held. */
int64_t nym_mixer_next_due(struct nym_mixer *m, uint64_t now_ns);
/* Hand every packet due at now_ns (at most max of them; 0 = no limit) to
 * out, earliest first, then recycle it. Returns how many. Call it from one
 * thread at a time (the I/O thread). */
size_t nym_mixer_take_due(struct nym_mixer *m, uint64_t now_ns, size_t max,
                          void (*out)(void *ctx, const struct nym_mixer_out *o), void *ctx);

/* A snapshot of the counters (monotonic since create). Thread-safe. */
void nym_mixer_stats(struct nym_mixer *m, struct nym_mixer_stats *s);

/* Wait at most timeout_ns until no packet waits for or is in a worker;
 * 0 or NYM_ETIMEOUT. For tests and benchmarks. */
int nym_mixer_drain(struct nym_mixer *m, uint64_t timeout_ns);

#endif
