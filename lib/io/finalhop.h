/* finalhop.h — a gateway's mix side (I/O layer): where its packets meet the
 * mixnet (doc/spec/sphinx.md §5, doc/spec/nym-message.md §2.4, §5).
 *
 *   mix port ──frames──▶ io/mixer.h workers ──on_final──┬─▶ SURB-ack ──▶ next hop
 *   (io/netio.h, a        (key by rotation byte, MAC,    └─▶ payload ──▶ queue ──▶ caller
 *    thread of its own)    replay filter)
 *   caller ──nym_finalhop_send──▶ queue ──▶ next hop   (clients' packets)
 *
 * One netio loop runs on a thread of its own: the mix port (final-hop
 * packets from mix nodes, node-link frames) and one persistent connection
 * per next hop. Sphinx processing is the mixer's, on its workers, with the
 * key the frame's rotation byte names (proto/keys.h nym_sphinx_keys_pick).
 * Each final-hop payload is unpadded and, unless the packet is an ack,
 * split: the SURB-ack in its first 405 bytes goes back into the mixnet at
 * once, in a frame of the carrier's version and rotation; the rest is queued
 * for the caller, who takes it (nym_finalhop_take) when told (ready). A
 * packet that is not for its last hop here is dropped.
 *
 * Thread-safe: nym_finalhop_send, nym_finalhop_take, nym_finalhop_stats.
 * Nothing is printed: every drop is counted, netio's events are handed to
 * the caller's event callback (on the mix thread). */
#ifndef NYM_FINALHOP_H
#define NYM_FINALHOP_H

#include <stddef.h>
#include <stdint.h>

#include "io/mixer.h"
#include "io/netio.h"

struct nym_finalhop;

struct nym_finalhop_config {
	struct nym_netio_addr listen;   /* the mix port */
	struct nym_mixer_keys keys;     /* the sphinx keys */
	uint8_t replay_key[16];         /* secret SipHash key of the replay filter */
	size_t replay_window;           /* 0: the mixer's default */
	unsigned workers;               /* Sphinx threads; 0: one per core */
	size_t peer_queue_max;          /* packets per next hop (0: netio's default) */
	unsigned idle_timeout_ms;       /* netio's idle_timeout_ms (0: its default) */
	const struct nym_netio_addr *known; /* netio's known peers (copied), n_known of them */
	size_t n_known;
	size_t send_queue_max;          /* packets on their way to the mix thread (0: 20000) */
	/* A payload was queued (on a worker thread): wake the thread that
	 * takes them. Once until the next nym_finalhop_take. */
	void (*ready)(void *ctx);
	/* Optional, on a worker thread, before a payload's SURB-ack goes out:
	 * non-zero refuses the payload (dropped, no SURB-ack: the sender
	 * retransmits), e.g. its recipient's inbox is full (io/quota.h). settle
	 * undoes an admit when the payload is dropped after all (no memory);
	 * else the caller settles once it has taken the payload. */
	int (*admit)(void *ctx, const uint8_t client[32], size_t len);
	void (*settle)(void *ctx, const uint8_t client[32], size_t len);
	/* netio's events (on the mix thread), for a log. Optional. */
	void (*event)(void *ctx, const struct nym_netio_event *ev);
	void *ctx;
};

struct nym_finalhop_stats {
	uint64_t received;              /* frames on the mix port */
	uint64_t final;                 /* payloads queued for the caller */
	uint64_t acks;                  /* SURB-acks sent back */
	uint64_t bad_mac;               /* no key opened it (MAC, or a rotation without a key) */
	uint64_t replay;
	uint64_t not_final;             /* for another hop: dropped */
	uint64_t malformed;             /* frame, size, Sphinx or payload not as it must be */
	uint64_t queue_full;            /* dropped for a full queue (ours, the mixer's, netio's) */
	uint64_t refused;               /* refused by admit (no SURB-ack sent) */
	struct nym_netio_stats io;      /* as of the mix thread's last turn */
};

/* Listen on the mix port, start the mixer and the mix thread. NYM_EIO
 * (errno set: the port, threads, memory). */
int nym_finalhop_start(struct nym_finalhop **out, const struct nym_finalhop_config *cfg);
/* Send one packet to a next hop in a node-link frame of frame_version
 * (any thread; copied). NYM_EFULL when the queue is full; the header's
 * errors (NYM_EVERSION, NYM_ESIZE, NYM_EFLAG). */
int nym_finalhop_send(struct nym_finalhop *fh, const struct nym_netio_addr *to,
                      uint8_t frame_version, uint8_t packet_type, uint8_t rotation,
                      const uint8_t *pkt, size_t len);
/* Hand every queued payload to fn (client = the Sphinx destination), in
 * the order they were queued; returns how many. */
size_t nym_finalhop_take(struct nym_finalhop *fh,
                         void (*fn)(void *arg, const uint8_t client[32], const uint8_t *msg,
                                    size_t len),
                         void *arg);
void nym_finalhop_stats(struct nym_finalhop *fh, struct nym_finalhop_stats *s);
/* Stop the mix thread and the workers (payloads already queued stay for a
 * last nym_finalhop_take). */
void nym_finalhop_stop(struct nym_finalhop *fh);
/* Stop if running, and free (queued payloads and packets dropped). */
void nym_finalhop_free(struct nym_finalhop *fh);

/* The next hop a MixPacket or a SURB-ack names (routing address bytes,
 * padded or not) as a netio address. NYM_EADDR. */
int nym_finalhop_addr(struct nym_netio_addr *to, const uint8_t *hop, size_t hop_len);

#endif
