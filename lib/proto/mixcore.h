/* mixcore.h — the sans-I/O engine of a run-time client (io/mixclient.h):
 * which packet goes out when. Time comes in (now_ms on every call), packets
 * go out through callbacks, acks come in. It builds nothing itself: packets
 * come from courier (its emit callback is nym_mixcore_collect), and a
 * retransmission asks ops.build for a fresh one.
 *
 * State: messages, each a set of fragments with a state (queued, in
 * flight with an ack deadline, acked, lost); one FIFO send queue; the
 * pacing deadlines, kept in microseconds:
 *  - main stream (send_mean_ms > 0): one packet per tick, ticks
 *    exponential with that mean (proto/delay.h); a tick with nothing queued
 *    sends loop cover (ops.cover) if main_cover. send_mean_ms = 0: queued
 *    packets go as fast as ops.can_send allows (at most 256 a poll; a
 *    1 ms pause when it refuses).
 *  - loop stream (loop_mean_ms > 0): ops.cover at exponential intervals.
 *  - every 50 ms: fragments in flight past their deadline (courier's
 *    timeout, doc/spec/nym-message.md §5.4, from when they left the queue) are
 *    rebuilt (ops.build) and queued again; ops.sweep for the caller's own
 *    housekeeping.
 * Nothing is sent while not ready (set_ready). The clock (now_ms, any
 * monotonic milliseconds) must not be 0. */
#ifndef NYM_MIXCORE_H
#define NYM_MIXCORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "proto/courier.h"
#include "proto/keys.h"

struct nym_mixcore;
struct nym_mixcore_msg;

struct nym_mixcore_config {
	double send_mean_ms;          /* 20; 0 = no pacing */
	int main_cover;               /* 1: cover on empty ticks */
	double loop_mean_ms;          /* 200; 0 = no loop stream */
	const struct nym_rng *rng;    /* pacing draws; must outlive the core */
};

/* Where a message goes: to an address, or back through SURBs of reply_tag. */
struct nym_mixcore_dest {
	const struct nym_address *to; /* NULL for a reply */
	const uint8_t *reply_tag;     /* 16 bytes, NULL unless a reply */
};

struct nym_mixcore_ops {
	/* Hand a MixPacket to the gateway; < 0: not taken (it stays queued). */
	int (*emit)(void *ctx, const uint8_t *mix_packet, size_t len);
	/* Room at the gateway for more? (back-pressure) */
	int (*can_send)(void *ctx);
	/* A fresh packet for fragment (len bytes) of a message to d: call
	 * emit(ectx, p) once (nym_courier_resend does). NYM_ENOTFOUND: it can
	 * never be sent (a reply without SURBs left): the fragment is lost. */
	int (*build)(void *ctx, const struct nym_mixcore_dest *d, const uint8_t *fragment, size_t len,
	             nym_courier_emit_fn emit, void *ectx);
	/* Send one loop cover packet now. */
	int (*cover)(void *ctx);
	/* One more fragment of msg_id acknowledged (or lost); left = still not. */
	void (*acked)(void *ctx, uint64_t msg_id, size_t left);
	/* Something went wrong and was coped with: fmt has one %s for
	 * nym_strerror(err). */
	void (*warning)(void *ctx, const char *fmt, int err);
	/* Called on every retransmission check (every 50 ms); may be NULL. */
	void (*sweep)(void *ctx, uint64_t now_ms);
	void *ctx;
};

struct nym_mixcore_stats {
	uint64_t real_sent, retransmitted, acks;
};

/* c and ops are copied. NULL on NYM_ENOMEM. */
struct nym_mixcore *nym_mixcore_new(const struct nym_mixcore_config *c, const struct nym_mixcore_ops *ops,
                                    uint64_t now_ms);
void nym_mixcore_free(struct nym_mixcore *k);

/* A message being put together: fill it with nym_mixcore_collect (as
 * courier's emit, ctx = the message) and/or nym_mixcore_fragment, then
 * commit (queued, returns its id) or discard. d->to / d->reply_tag copied. */
struct nym_mixcore_msg *nym_mixcore_msg_new(struct nym_mixcore *k, uint64_t lane,
                                            const struct nym_mixcore_dest *d);
int nym_mixcore_collect(void *msg, const struct nym_courier_packet *p);
/* Fragment index of count, without a packet yet: built (ops.build) when it
 * first leaves the queue, so that building overlaps sending. */
int nym_mixcore_fragment(struct nym_mixcore_msg *m, size_t index, size_t count, const uint8_t *fragment,
                         size_t len, const uint8_t frag_id[NYM_FRAG_ID_LEN]);
/* NYM_EINVAL if a fragment is missing (discard it then). */
int nym_mixcore_commit(struct nym_mixcore *k, struct nym_mixcore_msg *m, uint64_t *msg_id);
void nym_mixcore_discard(struct nym_mixcore_msg *m);

/* An ack came in for frag_id: no more retransmission of it. 1 if it was
 * ours and still unacknowledged, else 0. */
int nym_mixcore_ack(struct nym_mixcore *k, const uint8_t frag_id[NYM_FRAG_ID_LEN]);
/* The gateway connection took us (1) or is gone (0). */
void nym_mixcore_set_ready(struct nym_mixcore *k, int ready, uint64_t now_ms);
/* Do what is due at now_ms. Returns the microseconds until the next thing
 * is due: call again then (or sooner: after a commit, an ack, set_ready). */
uint64_t nym_mixcore_poll(struct nym_mixcore *k, uint64_t now_ms);
/* Microseconds until the next thing is due, without doing anything. */
uint64_t nym_mixcore_wait_us(const struct nym_mixcore *k, uint64_t now_ms);

/* Fragments of lane (all lanes: 0) not acknowledged yet. */
size_t nym_mixcore_unacked(const struct nym_mixcore *k, uint64_t lane);
size_t nym_mixcore_msg_unacked(const struct nym_mixcore *k, uint64_t msg_id);
/* Drop the messages of lane (0: nothing): no more sending them. */
void nym_mixcore_forget_lane(struct nym_mixcore *k, uint64_t lane);
/* Fragments waiting in the send queue. */
size_t nym_mixcore_queued(const struct nym_mixcore *k);
void nym_mixcore_stats(const struct nym_mixcore *k, struct nym_mixcore_stats *s);

#endif
