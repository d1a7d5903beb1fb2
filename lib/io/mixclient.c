/* mixclient.c — the run-time client of mixclient.h: the I/O around the
 * engine of proto/mixcore.h (queue, retransmission, pacing), driven from one
 * timer of the caller's loop and the gateway session. Packets come from the
 * one-call message layer (courier.h) into the core as messages are queued;
 * a retransmission is rebuilt through courier (a reply through a SURB of
 * proto/surbstore.h). Loop cover comes from courier too; its ephemeral key
 * identifies a returning loop (round-trip times for nym-cover). Delivered
 * messages are checked against io/seen.h; fragments of messages not yet
 * whole are kept in io/fragstore.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "io/fragstore.h"
#include "io/gwclient.h"
#include "io/gwsession.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/nymapi.h"
#include "io/seen.h"
#include "io/topofile.h"
#include "proto/ack.h"
#include "proto/chunking.h"
#include "proto/courier.h"
#include "proto/cover.h"
#include "proto/delay.h"
#include "proto/framing.h"
#include "proto/message.h"
#include "proto/mixcore.h"
#include "proto/packet.h"
#include "proto/payload.h"
#include "proto/reply.h"
#include "proto/route.h"
#include "proto/sphinx.h"
#include "proto/surbstore.h"
#include "io/surbfile.h"
#include "proto/topology.h"

#define MC_LOOP_RING 4096
#define MC_BACKLOG_MAX (512u * 1024)  /* bytes queued at the gateway socket */

struct mc_loop {
	uint8_t epk[32];
	uint64_t sent_us, id;
};

/* Recipients we sent anonymous messages to: whose SurbRequests we answer. */
struct mc_anon {
	struct mc_anon *next;
	struct nym_address to;
};

/* A reply waiting for more SURBs (asked for with a SurbRequest). */
struct mc_pending {
	struct mc_pending *next;
	uint8_t tag[16];
	uint8_t *data;
	size_t len, need;
	uint64_t lane, since_ms;
};
#define MC_PENDING_MS (5 * 60 * 1000) /* the official drop wait */
static void pending_free(struct mc_pending *p);

struct nym_mixclient {
	struct nym_loop *loop;
	struct nym_gw *gw;
	struct nym_mixclient_config c;
	struct nym_mixclient_events ev;
	struct nym_client_keys keys;
	struct nym_address self;
	char dir[4096], url[NYM_TOPOLOGY_URL];
	struct nym_courier_sender *sender;
	struct nym_courier_receiver *receiver;
	struct nym_reply_keys *rkeys;
	struct nym_route_source routes;
	uint8_t rotation;
	uint8_t size_tag;
	size_t P;                     /* fragment capacity */
	struct nym_mixcore *core;      /* queue, retransmission, pacing */
	struct nym_surbstore *surbs;  /* reply SURBs anonymous senders gave us */
	/* kept in surbs_path (io/surbfile.h) when configured: a change marks
	 * it dirty, written once per loop turn by surbs_timer */
	char surbs_path[4200];
	struct nym_timer *surbs_timer;
	int surbs_dirty;
	struct mc_anon *anon;
	struct mc_pending *pending;
	struct mc_loop loops[MC_LOOP_RING];
	size_t loop_pos;
	struct nym_timer *wake;        /* when the core has something due */
	int ready;
	struct nym_mixclient_stats st;
	uint64_t last_packet_ms; /* nym_mono_ms of the last message packet in; 0: none */
	struct nym_seen *seen;        /* delivered messages (seen_path); NULL: none */
	/* reassembly state on disk (fragments_path): appended per fragment,
	 * fdatasync'ed by frag_timer within a second, rewritten when mostly dead */
	struct nym_fragstore *frags;
	struct nym_timer *frag_timer;
	uint64_t frag_swept_ms;       /* last expiry sweep (reasm clock) */
	int frag_sync_armed;          /* frag_timer is set for the next fdatasync */
	size_t lost_sets, lost_frags; /* expired incomplete sets reported so far */
};

#define MC_FRAG_SYNC_US 1000000ull      /* fdatasync the fragments within 1 s */
#define MC_FRAG_SWEEP_MS 60000ull       /* look for expired messages every minute, */
/* or four times per lifetime when that is shorter */
#define MC_FRAG_SWEEP(mc) ((mc)->c.fragment_lifetime_ms / 4 < MC_FRAG_SWEEP_MS ? \
	((mc)->c.fragment_lifetime_ms / 4 > 100 ? (mc)->c.fragment_lifetime_ms / 4 : 100) : MC_FRAG_SWEEP_MS)
#define MC_FRAG_COMPACT_MIN (4ull << 20) /* rewrite above 4 MiB when mostly dead */
/* The reassembler's clock (and the reply keys', which the same receive
 * call ages): the monotonic one. */
static uint64_t
reasm_now(void)
{
	return nym_mono_ms();
}

void
nym_mixclient_defaults(struct nym_mixclient_config *c)
{
	memset(c, 0, sizeof *c);
	c->send_mean_ms = 20;
	c->main_cover = 1;
	c->loop_mean_ms = 200;
	c->packet_delay_ms = 15;
	c->ack_delay_ms = 15;
	c->packet_size = NYM_SIZE_REGULAR;
	c->ack_wait_multiplier = NYM_ACK_WAIT_MULTIPLIER;
	c->ack_wait_addition_ms = NYM_ACK_WAIT_ADDITION_MS;
}

static void
warn(struct nym_mixclient *mc, const char *fmt, int e)
{
	char w[200];
	snprintf(w, sizeof w, fmt, nym_strerror(e));
	if (mc->ev.warning)
		mc->ev.warning(mc, w, mc->ev.arg);
}

static void
surbs_write(struct nym_mixclient *mc)
{
	char w[4400];
	int e;
	mc->surbs_dirty = 0;
	if (mc->surbs_path[0] && (e = nym_surbfile_save(mc->surbs_path, mc->surbs)) < 0 &&
	    mc->ev.warning) {
		snprintf(w, sizeof w, "cannot keep the reply SURBs in %s: %s", mc->surbs_path,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		mc->ev.warning(mc, w, mc->ev.arg);
	}
}

static void
surbs_fire(struct nym_timer *t, void *arg)
{
	(void)t;
	surbs_write(arg);
}

/* The SURBs held changed: write them soon (at most once per loop turn). */
static void
surbs_changed(struct nym_mixclient *mc)
{
	if (!mc->surbs_path[0] || mc->surbs_dirty)
		return;
	mc->surbs_dirty = 1;
	if (mc->surbs_timer)
		nym_timer_set(mc->surbs_timer, 0);
}

/* ---- routes ---------------------------------------------------------------- */

int
nym_mixclient_route(const struct nym_topology *t, const struct nym_rng *rng,
    const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	struct nym_route r;
	char err[NYM_TOPOLOGY_ERR_MAX];

	if (nym_route_choose(t, rng, gateway, &r, err, sizeof err) < 0)
		return NYM_EROUTE;
	for (size_t i = 0; i < r.n_hops; i++) {
		struct nym_node_addr a;
		if (nym_node_addr_parse(&a, r.hops[i].mix_host) < 0 ||
		    nym_node_addr_encode(hops[i].address, 32, &a) < 0)
			return NYM_EROUTE;
		memcpy(hops[i].pubkey, r.hops[i].sphinx_key, 32);
	}
	return (int)r.n_hops;
}

/* The client's route source: over its current topology. */
static int
pick_route(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	struct nym_mixclient *mc = ctx;
	return nym_mixclient_route(mc->c.topo, mc->c.rng, gateway, hops);
}

/* ---- loop cover ------------------------------------------------------------------ */

/* courier builds it (v258 by default, as the official client); we keep its
 * ephemeral key: that is what identifies it when it returns. */
struct loop_ctx {
	struct nym_mixclient *mc;
	uint64_t *loop_id;
};

static int
loop_emit(void *ctx, const struct nym_courier_packet *p)
{
	struct loop_ctx *x = ctx;
	struct nym_mixclient *mc = x->mc;
	int e;
	if ((e = nym_gw_forward(mc->gw, p->mix_packet, p->mix_packet_len)) < 0)
		return e;
	struct mc_loop *lp = &mc->loops[mc->loop_pos % MC_LOOP_RING];
	memcpy(lp->epk, p->cover_epk, 32);
	lp->sent_us = nym_mono_ns() / 1000u;
	lp->id = ++mc->loop_pos;
	if (x->loop_id)
		*x->loop_id = lp->id;
	mc->st.cover_sent++;
	return 0;
}

static int
send_loop(struct nym_mixclient *mc, uint64_t *loop_id)
{
	struct loop_ctx x = {mc, loop_id};
	int e = nym_courier_cover(mc->sender, &mc->routes, mc->c.rng, loop_emit, &x);
	return e < 0 ? e : 0;
}

/* ---- the core's I/O --------------------------------------------------------- */

static int
core_emit(void *ctx, const uint8_t *mp, size_t len)
{
	struct nym_mixclient *mc = ctx;
	return nym_gw_forward(mc->gw, mp, len);
}

static int
core_can_send(void *ctx)
{
	struct nym_mixclient *mc = ctx;
	return nym_gw_backlog(mc->gw) < MC_BACKLOG_MAX;
}

/* A fresh packet for a fragment: new route, key, ack; a reply takes a SURB. */
static int
core_build(void *ctx, const struct nym_mixcore_dest *d, const uint8_t *frag, size_t len,
    nym_courier_emit_fn emit, void *ectx)
{
	struct nym_mixclient *mc = ctx;
	struct nym_reply_surb rs;
	int e;
	if (!d->reply_tag)
		return nym_courier_resend(mc->sender, d->to, NULL, frag, len, &mc->routes, mc->c.rng, emit, ectx);
	if (nym_surbstore_take(mc->surbs, d->reply_tag, &rs) < 0)
		return NYM_ENOTFOUND;
	surbs_changed(mc);
	e = nym_courier_resend(mc->sender, NULL, &rs, frag, len, &mc->routes, mc->c.rng, emit, ectx);
	nym_wipe(&rs, sizeof rs);
	return e;
}

static int
core_cover(void *ctx)
{
	return send_loop(ctx, NULL);
}

static void
core_acked(void *ctx, uint64_t msg_id, size_t left)
{
	struct nym_mixclient *mc = ctx;
	if (mc->ev.acked)
		mc->ev.acked(mc, msg_id, left, mc->ev.arg);
}

static void
core_warning(void *ctx, const char *fmt, int e)
{
	warn(ctx, fmt, e);
}

static void
core_sweep(void *ctx, uint64_t now)
{
	struct nym_mixclient *mc = ctx;
	nym_reply_keys_expire(mc->rkeys, now);
	for (struct mc_pending **pp = &mc->pending; *pp;) {
		struct mc_pending *p = *pp;
		if (now - p->since_ms > MC_PENDING_MS) {
			*pp = p->next;
			pending_free(p);
			warn(mc, "a reply waited 5 minutes for more reply SURBs and was dropped (%s)", NYM_ETIMEOUT);
		} else
			pp = &p->next;
	}
}

/* Wake when the core next has something due. */
static void
rearm(struct nym_mixclient *mc, uint64_t wait_us)
{
	if (wait_us != UINT64_MAX)
		nym_timer_set(mc->wake, wait_us);
}

static void
wake_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)t;
	rearm(mc, nym_mixcore_poll(mc->core, nym_mono_ms()));
}

/* ---- messages out ----------------------------------------------------------- */

static struct nym_mixcore_msg *
msg_new(struct nym_mixclient *mc, uint64_t lane, const struct nym_address *to, const uint8_t *reply_tag)
{
	struct nym_mixcore_dest d = {to, reply_tag};
	return nym_mixcore_msg_new(mc->core, lane, &d);
}

/* Queue the packets courier emitted into m (nym_mixcore_collect). */
static int
msg_commit(struct nym_mixclient *mc, struct nym_mixcore_msg *m, uint64_t *msg_id)
{
	int e = nym_mixcore_commit(mc->core, m, msg_id);
	if (e == 0)
		rearm(mc, nym_mixcore_wait_us(mc->core, nym_mono_ms()));
	return e;
}

void
nym_mixclient_tag_derive(const struct nym_client_keys *k, const struct nym_address *to,
    uint8_t tag[16])
{
	struct nym_blake3 h;
	uint8_t out[32];
	nym_blake3_init(&h);
	nym_blake3_update(&h, "nymkit sender tag v1", 20);
	nym_blake3_update(&h, k->identity_seed, 32);
	nym_blake3_update(&h, to, sizeof *to);
	nym_blake3_final(&h, out, 32);
	memcpy(tag, out, 16);
	nym_wipe(out, sizeof out);
	nym_wipe(&h, sizeof h);
}

void
nym_mixclient_sender_tag(const struct nym_mixclient *mc, const struct nym_address *to,
    uint8_t tag[16])
{
	nym_mixclient_tag_derive(&mc->keys, to, tag);
}

/* A plain message cut into its fragments; packets are built when sent. */
static int
split_plain(struct nym_mixclient *mc, struct nym_mixcore_msg *m, const uint8_t *data, size_t len)
{
	struct nym_message msg;
	struct nym_split sp;
	uint8_t *buf, *frag = NULL, id[NYM_FRAG_ID_LEN];
	size_t n;
	int e;

	memset(&msg, 0, sizeof msg);
	msg.type = NYM_MESSAGE_PLAIN;
	msg.data = data;
	msg.data_len = len;
	n = nym_message_encoded_len(&msg);
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &msg)) < 0 ||
	    (e = nym_split_init(&sp, buf, n, mc->P, mc->c.rng)) < 0) {
		free(buf);
		return e;
	}
	if (!(frag = malloc(mc->P))) {
		e = NYM_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < sp.nfrags; i++) {
		if ((e = nym_split_fragment(&sp, i, frag, id)) < 0 ||
		    (e = nym_mixcore_fragment(m, i, sp.nfrags, frag, (size_t)e, id)) < 0)
			goto out;
	}
	e = 0;
out:
	free(frag);
	nym_split_free(&sp);
	free(buf);
	return e;
}

int
nym_mixclient_send(struct nym_mixclient *mc, const struct nym_address *to, const uint8_t *data,
    size_t len, int surbs, uint64_t lane, uint64_t *msg_id)
{
	struct nym_mixcore_msg *m;
	int e;

	if (!nym_topology_find_identity(mc->c.topo, to->gateway))
		return NYM_EROUTE;
	if (surbs > 65535)
		return NYM_ERANGE;
	if (!(m = msg_new(mc, lane, to, NULL)))
		return NYM_ENOMEM;
	if (surbs < 0)
		e = split_plain(mc, m, data, len);
	else {
		uint8_t tag[16];
		struct mc_anon *a;
		for (a = mc->anon; a && memcmp(&a->to, to, sizeof *to); a = a->next)
			;
		if (!a && (a = calloc(1, sizeof *a))) {
			a->to = *to;
			a->next = mc->anon;
			mc->anon = a;
		}
		nym_mixclient_tag_derive(&mc->keys, to, tag);
		e = nym_courier_send_anonymous(mc->sender, to, tag, data, len, (size_t)surbs, mc->rkeys,
		    nym_mono_ms(), &mc->routes, mc->c.rng, nym_mixcore_collect, m);
	}
	if (e < 0 || (e = msg_commit(mc, m, msg_id)) < 0) {
		nym_mixcore_discard(m);
		return e;
	}
	return 0;
}

/* Send a reply now with SURBs of tag: NYM_EFULL when fewer than it needs. */
static int
reply_now(struct nym_mixclient *mc, const uint8_t tag[16], const uint8_t *data, size_t len,
    uint64_t lane, uint64_t *msg_id)
{
	struct nym_message msg;
	struct nym_reply_surb *rs;
	struct nym_mixcore_msg *m;
	uint8_t *buf;
	size_t n, need, got = 0;
	int e;

	memset(&msg, 0, sizeof msg);
	msg.type = NYM_MESSAGE_REPLY;
	msg.content_tag = NYM_REPLY_DATA;
	msg.data = data;
	msg.data_len = len;
	n = nym_message_encoded_len(&msg);
	need = nym_message_packets(n, NYM_FRAGMENT_CAPACITY(nym_size_tag_plaintext(NYM_SIZE_REGULAR)));
	if (need > nym_surbstore_count(mc->surbs, tag))
		return NYM_EFULL;
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &msg)) < 0) {
		free(buf);
		return e;
	}
	if (!(rs = calloc(need, sizeof *rs)) || !(m = msg_new(mc, lane, NULL, tag))) {
		free(rs);
		free(buf);
		return NYM_ENOMEM;
	}
	while (got < need && nym_surbstore_take(mc->surbs, tag, &rs[got]) == 0)
		got++;
	surbs_changed(mc);
	e = got < need ? NYM_EFULL :
	    nym_courier_send_reply(mc->sender, rs, got, buf, n, &mc->routes, mc->c.rng, nym_mixcore_collect, m);
	nym_wipe(rs, need * sizeof *rs);
	free(rs);
	free(buf);
	if (e < 0 || (e = msg_commit(mc, m, msg_id)) < 0) {
		nym_mixcore_discard(m);
		return e;
	}
	return 0;
}

/* Ask the anonymous sender of tag for `amount` more SURBs, through one of
 * its SURBs (as the official client does, even below its threshold). */
static int
surb_request(struct nym_mixclient *mc, const uint8_t tag[16], uint32_t amount)
{
	struct nym_reply_surb rs;
	struct nym_mixcore_msg *m;
	int e;

	if (nym_surbstore_take(mc->surbs, tag, &rs) < 0)
		return NYM_ENOTFOUND;
	surbs_changed(mc);
	if (!(m = msg_new(mc, 0, NULL, tag))) {
		nym_wipe(&rs, sizeof rs);
		return NYM_ENOMEM;
	}
	e = nym_courier_send_surb_request(mc->sender, &rs, 1, &mc->self,
	    amount > NYM_MAX_SURB_REQUEST ? NYM_MAX_SURB_REQUEST : amount, &mc->routes, mc->c.rng,
	    nym_mixcore_collect, m);
	nym_wipe(&rs, sizeof rs);
	if (e < 0 || (e = msg_commit(mc, m, NULL)) < 0) {
		nym_mixcore_discard(m);
		return e;
	}
	return 0;
}

/* Replies to tag that wait for SURBs: their packets. */
static size_t
pending_need(const struct nym_mixclient *mc, const uint8_t tag[16], int *any)
{
	size_t n = 0;
	*any = 0;
	for (const struct mc_pending *p = mc->pending; p; p = p->next)
		if (!memcmp(p->tag, tag, 16))
			n += p->need, *any = 1;
	return n;
}

int
nym_mixclient_reply(struct nym_mixclient *mc, const uint8_t tag[16], const uint8_t *data,
    size_t len, uint64_t lane, uint64_t *msg_id)
{
	size_t have = nym_surbstore_count(mc->surbs, tag), need;
	struct mc_pending *p, **tail;
	int e, queued;

	pending_need(mc, tag, &queued);
	if (!have && !queued)
		return NYM_ENOTFOUND;
	if (!len)
		return NYM_EINVAL; /* the official parser rejects an empty reply */
	need = nym_message_packets(len + 2, NYM_FRAGMENT_CAPACITY(nym_size_tag_plaintext(NYM_SIZE_REGULAR)));
	/* replies to one sender leave in the order they were made, behind any
	 * that wait; one SURB stays spare, to ask for more with (at none, no
	 * reply could ever go again) */
	if (!queued && need < have && (e = reply_now(mc, tag, data, len, lane, msg_id)) != NYM_EFULL)
		return e;
	/* too few SURBs: keep the reply, ask for more (one SURB carries the
	 * request), send it when they come */
	if (!(p = calloc(1, sizeof *p)) || !(p->data = malloc(len))) {
		free(p);
		return NYM_ENOMEM;
	}
	memcpy(p->tag, tag, 16);
	memcpy(p->data, data, len);
	p->len = len;
	p->need = need;
	p->lane = lane;
	p->since_ms = nym_mono_ms();
	/* one request covers what waits (a request already out covered the rest) */
	if (!queued && (e = surb_request(mc, tag, (uint32_t)(need + 10 - (have - 1)))) < 0) {
		free(p->data);
		free(p);
		return e;
	}
	for (tail = &mc->pending; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	if (msg_id)
		*msg_id = 0;
	return 0;
}

static void
pending_free(struct mc_pending *p)
{
	nym_wipe(p->data, p->len);
	free(p->data);
	free(p);
}

/* SURBs of tag arrived: send the replies that waited for them, oldest
 * first, up to the first that does not fit; for what still waits, ask again
 * (keeping a SURB for the asking). */
static void
pending_retry(struct nym_mixclient *mc, const uint8_t tag[16])
{
	struct mc_pending **pp = &mc->pending;
	size_t left = 0, have;
	int blocked = 0;
	while (*pp) {
		struct mc_pending *p = *pp;
		if (memcmp(p->tag, tag, 16)) {
			pp = &p->next;
			continue;
		}
		if (!blocked && p->need < nym_surbstore_count(mc->surbs, tag) &&
		    reply_now(mc, tag, p->data, p->len, p->lane, NULL) == 0) {
			*pp = p->next;
			pending_free(p);
			continue;
		}
		blocked = 1;
		left += p->need;
		pp = &p->next;
	}
	if (left && (have = nym_surbstore_count(mc->surbs, tag)) > 0)
		surb_request(mc, tag, (uint32_t)(left + 10 > have - 1 ? left + 10 - (have - 1) : 1));
}

size_t
nym_mixclient_unacked(const struct nym_mixclient *mc, uint64_t lane)
{
	size_t n = nym_mixcore_unacked(mc->core, lane);
	for (struct mc_pending *p = mc->pending; p; p = p->next)
		if (!lane || p->lane == lane)
			n += p->need;
	return n;
}

size_t
nym_mixclient_msg_unacked(const struct nym_mixclient *mc, uint64_t msg_id)
{
	return nym_mixcore_msg_unacked(mc->core, msg_id);
}

void
nym_mixclient_forget_lane(struct nym_mixclient *mc, uint64_t lane)
{
	if (!lane)
		return;
	nym_mixcore_forget_lane(mc->core, lane);
	for (struct mc_pending **pp = &mc->pending; *pp;) {
		struct mc_pending *p = *pp;
		if (p->lane == lane) {
			*pp = p->next;
			pending_free(p);
		} else
			pp = &p->next;
	}
}

int
nym_mixclient_send_loop(struct nym_mixclient *mc, uint64_t *loop_id)
{
	if (!mc->ready)
		return NYM_ENET;
	return send_loop(mc, loop_id);
}

int
nym_mixclient_set_topology(struct nym_mixclient *mc, const struct nym_topology *t)
{
	if (!nym_topology_find_identity(t, mc->self.gateway))
		return NYM_EROUTE;
	mc->c.topo = t;
	mc->rotation = nym_rotation_of_id(t->rotation_id);
	nym_courier_sender_set_rotation(mc->sender, mc->rotation);
	if (nym_surbstore_rotation(mc->surbs, t->rotation_id))
		surbs_changed(mc); /* those for rotated-out keys are gone */
	return 0;
}

void
nym_mixclient_address(const struct nym_mixclient *mc, struct nym_address *a)
{
	*a = mc->self;
}

size_t
nym_mixclient_packets_for(const struct nym_mixclient *mc, size_t len)
{
	return nym_message_packets(len + 1, mc->P);
}

size_t
nym_mixclient_backlog(const struct nym_mixclient *mc)
{
	return mc->gw ? nym_gw_backlog(mc->gw) : 0;
}

uint64_t
nym_mixclient_quiet_ms(const struct nym_mixclient *mc)
{
	return mc->last_packet_ms ? nym_mono_ms() - mc->last_packet_ms : UINT64_MAX;
}

void
nym_mixclient_stats(const struct nym_mixclient *mc, struct nym_mixclient_stats *s)
{
	struct nym_mixcore_stats ks;
	*s = mc->st;
	nym_mixcore_stats(mc->core, &ks);
	s->real_sent = ks.real_sent;
	s->retransmitted = ks.retransmitted;
	s->acks = ks.acks;
}

/* ---- messages in ---------------------------------------------------------- */

/* A peer we wrote to anonymously asks for more SURBs: send them (at most
 * 500, 100 per message), as the official client does. */
static void
answer_surb_request(struct nym_mixclient *mc, const struct nym_message *msg)
{
	struct mc_anon *a;
	uint8_t tag[16];
	uint32_t left = msg->amount > NYM_MAX_SURB_REQUEST ? NYM_MAX_SURB_REQUEST : msg->amount;
	int e;

	for (a = mc->anon; a && memcmp(&a->to, msg->recipient, sizeof a->to); a = a->next)
		;
	if (!a) {
		if (mc->ev.warning)
			mc->ev.warning(mc, "ignored a SurbRequest from someone we never wrote to", mc->ev.arg);
		return;
	}
	nym_mixclient_tag_derive(&mc->keys, &a->to, tag);
	while (left) {
		uint32_t n = left > NYM_SURBS_PER_MESSAGE ? NYM_SURBS_PER_MESSAGE : left;
		struct nym_mixcore_msg *m = msg_new(mc, 0, &a->to, NULL);
		if (!m)
			return;
		e = nym_courier_send_additional_surbs(mc->sender, &a->to, tag, n, mc->rkeys, nym_mono_ms(),
		    &mc->routes, mc->c.rng, nym_mixcore_collect, m);
		if (e < 0 || (e = msg_commit(mc, m, NULL)) < 0) {
			nym_mixcore_discard(m);
			warn(mc, "cannot answer a SurbRequest: %s", e);
			return;
		}
		left -= n;
	}
}

static void
deliver(struct nym_mixclient *mc, const struct nym_message *msg)
{
	mc->st.messages++;
	switch (msg->type) {
	case NYM_MESSAGE_PLAIN:
		if (mc->ev.message)
			mc->ev.message(mc, msg->data, msg->data_len, NULL, mc->ev.arg);
		break;
	case NYM_MESSAGE_REPLIABLE:
		if (msg->nsurbs && msg->surb_len &&
		    nym_surbstore_add(mc->surbs, msg->sender_tag, msg->surbs, msg->nsurbs, msg->surb_len,
		        msg->content_tag >= NYM_REPLIABLE_DATA_V2 ? msg->surb_rotation : NYM_ROTATION_UNKNOWN) < 0)
			warn(mc, "cannot keep the reply SURBs of a message: %s", NYM_ENOMEM);
		else if (msg->nsurbs && msg->surb_len)
			surbs_changed(mc);
		pending_retry(mc, msg->sender_tag);
		if ((msg->content_tag == NYM_REPLIABLE_DATA_V1 ||
		        msg->content_tag == NYM_REPLIABLE_DATA_V2) && mc->ev.message)
			mc->ev.message(mc, msg->data, msg->data_len, msg->sender_tag, mc->ev.arg);
		break;
	case NYM_MESSAGE_REPLY:
		if (msg->content_tag == NYM_REPLY_DATA && mc->ev.message)
			mc->ev.message(mc, msg->data, msg->data_len, NULL, mc->ev.arg);
		else if (msg->content_tag == NYM_REPLY_SURB_REQUEST)
			answer_surb_request(mc, msg);
		break;
	}
}

/* One of our loops back? Matched by the ephemeral key it carries. */
static int
loop_returned(struct nym_mixclient *mc, const uint8_t *blob, size_t len)
{
	if (len < 32)
		return 0;
	for (size_t i = 0; i < MC_LOOP_RING; i++)
		if (mc->loops[i].sent_us && !memcmp(mc->loops[i].epk, blob, 32)) {
			uint64_t rtt = nym_mono_ns() / 1000u - mc->loops[i].sent_us;
			mc->loops[i].sent_us = 0;
			mc->st.loops_returned++;
			if (mc->ev.loop)
				mc->ev.loop(mc, mc->loops[i].id, rtt, mc->ev.arg);
			return 1;
		}
	return 0;
}

/* ---- reassembly state on disk ------------------------------------------------ */

static void
frag_warn(struct nym_mixclient *mc, const char *what, int e)
{
	char w[400];
	snprintf(w, sizeof w, "%s: %s", what, e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	if (mc->ev.warning)
		mc->ev.warning(mc, w, mc->ev.arg);
}

/* Stop using the file (after a write failed): memory only from now on. */
static void
frag_give_up(struct nym_mixclient *mc, int e)
{
	frag_warn(mc, "cannot keep the fragments of incomplete messages on disk any more (a restart "
	              "now loses them)", e);
	nym_fragstore_close(mc->frags);
	mc->frags = NULL;
}

static void
lost_say(struct nym_mixclient *mc, size_t sets, size_t frags)
{
	char w[300];
	snprintf(w, sizeof w, "lost an incomplete message: %zu fragment set(s) expired with %zu "
	    "fragment(s) received, nothing more of them for %.3g s (it can never complete)",
	    sets, frags, (double)mc->c.fragment_lifetime_ms / 1000);
	if (mc->ev.warning)
		mc->ev.warning(mc, w, mc->ev.arg);
}

/* Messages that expired incomplete since the last report: said once each. */
static void
frag_report(struct nym_mixclient *mc)
{
	size_t frags, sets = nym_reasm_expired(nym_courier_receiver_reasm(mc->receiver), &frags);
	if (sets == mc->lost_sets)
		return;
	lost_say(mc, sets - mc->lost_sets, frags - mc->lost_frags);
	mc->lost_sets = sets;
	mc->lost_frags = frags;
}

/* Rewrite the file from the reassembler when most of it is dead. */
static void
frag_compact(struct nym_mixclient *mc, int force)
{
	struct nym_reasm *ra = nym_courier_receiver_reasm(mc->receiver);
	uint64_t size;
	int e;
	if (!mc->frags)
		return;
	size = nym_fragstore_size(mc->frags);
	if (!force && (size < MC_FRAG_COMPACT_MIN || size < 2 * (uint64_t)nym_reasm_bytes(ra)))
		return;
	if ((e = nym_fragstore_rewrite(mc->frags, ra, reasm_now(), (uint64_t)time(NULL) * 1000)) < 0)
		frag_warn(mc, "cannot rewrite the fragments kept on disk (it grows until the next try)", e);
}

static void
frag_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	uint64_t now = reasm_now();
	int e;
	mc->frag_sync_armed = 0;
	if (mc->frags && (e = nym_fragstore_sync(mc->frags)) < 0)
		frag_give_up(mc, e);
	if (now - mc->frag_swept_ms >= MC_FRAG_SWEEP(mc)) {
		mc->frag_swept_ms = now;
		if (nym_reasm_expire(nym_courier_receiver_reasm(mc->receiver), now)) {
			frag_report(mc);
			frag_compact(mc, 0);
		}
	}
	nym_timer_set(t, MC_FRAG_SWEEP(mc) * 1000);
}

/* A fragment went into reassembly: on disk too, before anything else. */
static void
frag_keep(struct nym_mixclient *mc, const struct nym_courier_received *r)
{
	int e;
	if (!mc->frags)
		return;
	if ((e = nym_fragstore_add(mc->frags, r->fragment, r->fragment_len,
	         (uint64_t)time(NULL) * 1000)) < 0) {
		frag_give_up(mc, e);
		return;
	}
	/* the first write after a sync arms the next sync */
	if (!mc->frag_sync_armed && mc->frag_timer) {
		mc->frag_sync_armed = 1;
		nym_timer_set(mc->frag_timer, MC_FRAG_SYNC_US);
	}
}

/* A whole message: delivered unless seen before, then its sets are marked
 * completed on disk (a crash in between: the restart completes it again and
 * io/seen drops the copy). */
static void
received_message(struct nym_mixclient *mc, struct nym_courier_received *r)
{
	int d = mc->seen ? nym_seen_check(mc->seen, r->set_id, r->data, r->len, (uint64_t)time(NULL)) : 0;
	if (d == NYM_EIO)
		warn(mc, "cannot remember a delivered message (%s): a retransmitted copy may be "
		         "delivered again after a restart", NYM_EIO);
	if (d == 1)
		mc->st.duplicates++;
	else
		deliver(mc, &r->msg);
	if (mc->frags) {
		uint32_t ids[4096];
		size_t n = nym_reasm_chain(nym_courier_receiver_reasm(mc->receiver), r->set_id, ids, 4096);
		int e;
		if (n && (e = nym_fragstore_done(mc->frags, ids, n, (uint64_t)time(NULL) * 1000)) < 0)
			frag_give_up(mc, e);
		frag_compact(mc, 0);
	}
}

/* Start: what an earlier run kept goes back into reassembly. */
struct frag_load {
	struct nym_mixclient *mc;
	uint64_t rnow, unow;
	size_t messages;
	/* fragments past their lifetime already: not restored, reported */
	uint32_t stale_ids[256];
	size_t stale_sets, stale_frags;
};

static int
frag_load_one(void *arg, int kind, const uint8_t *body, size_t len, uint64_t unix_ms)
{
	struct frag_load *fl = arg;
	struct nym_mixclient *mc = fl->mc;
	struct nym_courier_received r;
	/* its age carried into the reassembler's clock (a future time counts as
	 * now; one from before the clock's start, as after a reboot, as its start) */
	uint64_t age = fl->unow > unix_ms ? fl->unow - unix_ms : 0;
	uint64_t t = age < fl->rnow ? fl->rnow - age : 0;
	if (age >= mc->c.fragment_lifetime_ms) {
		struct nym_fragment f;
		size_t i;
		if (kind != NYM_FRAGSTORE_FRAGMENT || nym_fragment_parse(&f, body, len) < 0)
			return 0;
		fl->stale_frags++;
		for (i = 0; i < fl->stale_sets && i < 256 && fl->stale_ids[i] != f.set_id; i++)
			;
		if (i == fl->stale_sets) {
			if (i < 256)
				fl->stale_ids[i] = f.set_id;
			fl->stale_sets++;
		}
		return 0;
	}
	if (kind == NYM_FRAGSTORE_DONE) {
		for (size_t i = 0; i + 4 <= len; i += 4) {
			uint32_t id = (uint32_t)body[i] << 24 | (uint32_t)body[i + 1] << 16 |
			    (uint32_t)body[i + 2] << 8 | body[i + 3];
			(void)nym_reasm_mark_done(nym_courier_receiver_reasm(mc->receiver), id, t);
		}
		return 0;
	}
	if (nym_courier_receive_fragment(mc->receiver, body, len, t, &r) == NYM_RECV_MESSAGE) {
		/* all of it was here: the last run died before delivering it */
		fl->messages++;
		received_message(mc, &r);
	}
	nym_courier_received_free(&r);
	return 0;
}

static int
frag_open(struct nym_mixclient *mc, const char *path)
{
	struct frag_load fl = {.mc = mc, .rnow = reasm_now(), .unow = (uint64_t)time(NULL) * 1000};
	struct nym_fragstore *fs;
	size_t dropped = 0;
	int e;
	char w[300];

	if ((e = nym_fragstore_open(&fs, path)) == NYM_EEXIST) {
		if (mc->ev.warning)
			mc->ev.warning(mc, "another process keeps this identity's incomplete messages on "
			                   "disk; this one keeps them in memory only", mc->ev.arg);
		return 0;
	}
	if (e < 0)
		return e;
	/* deliveries during the load must not append to the file being read */
	e = nym_fragstore_load(fs, frag_load_one, &fl, &dropped);
	if (e < 0) {
		nym_fragstore_close(fs);
		return e;
	}
	mc->frags = fs;
	if (dropped) {
		snprintf(w, sizeof w, "dropped %zu bytes of a damaged tail of %s", dropped, path);
		if (mc->ev.warning)
			mc->ev.warning(mc, w, mc->ev.arg);
	}
	nym_reasm_expire(nym_courier_receiver_reasm(mc->receiver), fl.rnow);
	mc->frag_swept_ms = fl.rnow;
	if (fl.stale_sets)
		lost_say(mc, fl.stale_sets, fl.stale_frags);
	frag_report(mc);
	frag_compact(mc, 1);
	return 0;
}

static void
gw_pushed(struct nym_gw *gw, const uint8_t *pt, size_t len, void *arg)
{
	struct nym_mixclient *mc = arg;
	struct nym_courier_received r;
	(void)gw;
	if (len != NYM_ACK_BODY_LEN && loop_returned(mc, pt, len))
		return;
	if (len != NYM_ACK_BODY_LEN) {
		mc->st.received_packets++;
		mc->last_packet_ms = nym_mono_ms();
	}
	memset(&r, 0, sizeof r);
	int k = nym_courier_receive(mc->receiver, pt, len, reasm_now(), &r);
	if (k == NYM_RECV_ACK)
		nym_mixcore_ack(mc->core, r.frag_id);
	else if (k == NYM_RECV_STORED || k == NYM_RECV_MESSAGE) {
		frag_keep(mc, &r);
		if (k == NYM_RECV_MESSAGE)
			received_message(mc, &r);
	}
	nym_courier_received_free(&r);
	frag_report(mc);
}

static void
gw_ready(struct nym_gw *gw, int registered, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	mc->ready = 1;
	nym_mixcore_set_ready(mc->core, 1, nym_mono_ms());
	rearm(mc, nym_mixcore_wait_us(mc->core, nym_mono_ms()));
	if (mc->ev.ready)
		mc->ev.ready(mc, registered, mc->ev.arg);
}

static void
gw_down(struct nym_gw *gw, int err, const char *why, int fatal, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	mc->ready = 0;
	nym_mixcore_set_ready(mc->core, 0, nym_mono_ms());
	if (mc->ev.down)
		mc->ev.down(mc, err, why, fatal, mc->ev.arg);
}

static void
gw_warning(struct nym_gw *gw, const char *why, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	if (mc->ev.warning)
		mc->ev.warning(mc, why, mc->ev.arg);
}

int
nym_mixclient_start(struct nym_mixclient **out, struct nym_loop *l,
    const struct nym_mixclient_config *c, const struct nym_mixclient_events *ev)
{
	struct nym_mixclient *mc;
	const struct nym_node *gwn;
	struct nym_courier_config mcfg;
	int e;

	if (!c->keys || !c->topo || !c->rng)
		return NYM_EINVAL;
	if (!(gwn = nym_topology_find_identity(c->topo, c->gateway)))
		return NYM_EROUTE;
	if (!(mc = calloc(1, sizeof *mc)))
		return NYM_ENOMEM;
	mc->loop = l;
	mc->c = *c;
	mc->ev = *ev;
	mc->keys = *c->keys;
	nym_client_address(&mc->self, &mc->keys, c->gateway);
	snprintf(mc->url, sizeof mc->url, "%s", c->gateway_url && *c->gateway_url ? c->gateway_url :
	    gwn->ws_url);
	if (c->dir)
		snprintf(mc->dir, sizeof mc->dir, "%s", c->dir);
	mc->c.dir = mc->dir;
	mc->rotation = nym_rotation_of_id(c->topo->rotation_id);
	mc->size_tag = c->packet_size ? c->packet_size : NYM_SIZE_REGULAR;
	if (nym_size_tag_plaintext(mc->size_tag) < 0 || mc->size_tag == NYM_SIZE_ACK) {
		free(mc);
		return NYM_EINVAL;
	}
	mc->P = NYM_FRAGMENT_CAPACITY((size_t)nym_size_tag_plaintext(mc->size_tag));
	mc->routes.pick = pick_route;
	mc->routes.ctx = mc;
	if (!mc->c.fragment_lifetime_ms)
		mc->c.fragment_lifetime_ms = NYM_MIXCLIENT_FRAGMENT_LIFETIME_MS;
	struct nym_reasm_limits lim = {NYM_REASM_DEFAULT_MAX_BYTES, NYM_REASM_DEFAULT_MAX_SETS,
	                               mc->c.fragment_lifetime_ms};
	nym_courier_config_default(&mcfg);
	mcfg.packet_delay_ns = (uint64_t)(c->packet_delay_ms * 1e6);
	mcfg.ack_delay_ns = (uint64_t)(c->ack_delay_ms * 1e6);
	mcfg.size_tag = mc->size_tag;
	mcfg.key_rotation = mc->rotation;
	mcfg.ack_wait_multiplier = c->ack_wait_multiplier;
	mcfg.ack_wait_addition_ms = (uint64_t)c->ack_wait_addition_ms;
	if (!(mc->surbs = nym_surbstore_new()) ||
	    !(mc->rkeys = nym_reply_keys_new(NYM_REPLY_KEYS_DEFAULT_MAX, NYM_REPLY_KEY_MAX_AGE_MS)) ||
	    !(mc->sender = nym_courier_sender_new(&mc->keys, c->gateway, &mcfg)) ||
	    !(mc->receiver = nym_courier_receiver_new(&mc->keys, mc->rkeys, &lim)) ||
	    !(mc->frag_timer = nym_timer_new(l, frag_fire, mc))) {
		nym_mixclient_free(mc);
		return NYM_ENOMEM;
	}
	if (c->seen_path && (e = nym_seen_open(&mc->seen, c->seen_path, (uint64_t)time(NULL))) < 0) {
		nym_mixclient_free(mc);
		return e;
	}
	if (c->surbs_path) {
		if (strlen(c->surbs_path) >= sizeof mc->surbs_path ||
		    !(mc->surbs_timer = nym_timer_new(l, surbs_fire, mc))) {
			nym_mixclient_free(mc);
			return NYM_EINVAL;
		}
		snprintf(mc->surbs_path, sizeof mc->surbs_path, "%s", c->surbs_path);
		/* a damaged file costs its SURBs, not the start */
		if ((e = nym_surbfile_load(mc->surbs_path, mc->surbs)) < 0) {
			warn(mc, "the kept reply SURBs are unreadable, starting without them: %s", e);
			surbs_changed(mc);
		}
		if (nym_surbstore_rotation(mc->surbs, c->topo->rotation_id))
			surbs_changed(mc);
	} else
		nym_surbstore_rotation(mc->surbs, c->topo->rotation_id);
	struct nym_mixcore_config kc = {c->send_mean_ms, c->main_cover, c->loop_mean_ms, c->rng};
	struct nym_mixcore_ops ko = {core_emit, core_can_send, core_build, core_cover, core_acked,
	                             core_warning, core_sweep, mc};
	if (!(mc->core = nym_mixcore_new(&kc, &ko, nym_mono_ms()))) {
		nym_mixclient_free(mc);
		return NYM_ENOMEM;
	}
	mc->wake = nym_timer_new(l, wake_fire, mc);
	rearm(mc, nym_mixcore_wait_us(mc->core, nym_mono_ms()));
	if (c->fragments_path && (e = frag_open(mc, c->fragments_path)) < 0) {
		nym_mixclient_free(mc);
		return e;
	}
	nym_timer_set(mc->frag_timer, MC_FRAG_SWEEP(mc) * 1000);

	struct nym_gw_params gp = {.url = mc->url, .keys = &mc->keys, .dir = mc->dir[0] ? mc->dir : NULL,
	                           .rng = c->rng, .max_retries = c->max_retries};
	memcpy(gp.gateway, c->gateway, 32);
	struct nym_gw_events gev = {gw_ready, gw_pushed, gw_down, gw_warning, mc};
	if ((e = nym_gw_start(&mc->gw, l, &gp, &gev)) < 0) {
		mc->gw = NULL;
		nym_mixclient_free(mc);
		return e;
	}
	*out = mc;
	return 0;
}

void
nym_mixclient_close(struct nym_mixclient *mc)
{
	mc->ready = 0;
	nym_mixcore_set_ready(mc->core, 0, nym_mono_ms());
	nym_timer_cancel(mc->wake);
	if (mc->gw)
		nym_gw_close(mc->gw);
}

void
nym_mixclient_free(struct nym_mixclient *mc)
{
	if (!mc)
		return;
	nym_gw_free(mc->gw);
	nym_timer_free(mc->wake);
	nym_mixcore_free(mc->core);
	if (mc->surbs_dirty)
		surbs_write(mc);
	nym_timer_free(mc->surbs_timer);
	nym_surbstore_free(mc->surbs);
	for (struct mc_anon *a = mc->anon, *n; a; a = n) {
		n = a->next;
		free(a);
	}
	for (struct mc_pending *p = mc->pending, *n; p; p = n) {
		n = p->next;
		pending_free(p);
	}
	nym_courier_sender_free(mc->sender);
	nym_courier_receiver_free(mc->receiver);
	nym_reply_keys_free(mc->rkeys);
	nym_wipe(&mc->keys, sizeof mc->keys);
	nym_seen_free(mc->seen);
	nym_fragstore_close(mc->frags); /* synced */
	nym_timer_free(mc->frag_timer);
	free(mc);
}

/* ---- set-up helpers ------------------------------------------------------------ */

int
nym_mixclient_setup(struct nym_mixclient_setup *s, const char *home, const char *id,
    const char *topology_file, const char *api_url, const struct nym_rng *rng,
    char *err, size_t errlen)
{
	return nym_mixclient_setup_until(s, home, id, topology_file, api_url, 0, rng, err, errlen);
}

static int setup_in(struct nym_mixclient_setup *s, const char *dir, const char *id,
    const char *topology_file, const char *api_url, uint64_t deadline_ms,
    const struct nym_rng *rng, char *err, size_t errlen);

int
nym_mixclient_setup_until(struct nym_mixclient_setup *s, const char *home, const char *id,
    const char *topology_file, const char *api_url, uint64_t deadline_ms, const struct nym_rng *rng,
    char *err, size_t errlen)
{
	char dir[sizeof s->dir];
	int e;

	memset(s, 0, sizeof *s);
	if ((e = nym_client_dir(dir, sizeof dir, home, id)) < 0) {
		snprintf(err, errlen, "bad identity name '%s'", id);
		return e;
	}
	return setup_in(s, dir, id, topology_file, api_url, deadline_ms, rng, err, errlen);
}

int
nym_mixclient_setup_dir(struct nym_mixclient_setup *s, const char *dir, const char *id,
    const char *topology_file, const char *api_url, const struct nym_rng *rng,
    char *err, size_t errlen)
{
	return setup_in(s, dir, id, topology_file, api_url, 0, rng, err, errlen);
}

static int
setup_in(struct nym_mixclient_setup *s, const char *dir, const char *id,
    const char *topology_file, const char *api_url, uint64_t deadline_ms,
    const struct nym_rng *rng,
    char *err, size_t errlen)
{
	const char *bad = NULL;
	char terr[NYM_TOPOLOGY_ERR_MAX];
	const struct nym_node *g;
	int e;

	memset(s, 0, sizeof *s);
	if (strlen(dir) >= sizeof s->dir) {
		snprintf(err, errlen, "directory name too long");
		return NYM_ESIZE;
	}
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	if ((e = nym_client_keys_load(s->dir, &s->keys, &bad)) < 0) {
		if (e == NYM_EIO && errno == ENOENT) {
			snprintf(err, errlen, "no client '%s' (no keys in %s)", id, s->dir);
			return NYM_ENOTFOUND;
		}
		snprintf(err, errlen, "cannot load the keys of '%s' (%s): %s", id,
			    bad ? bad : s->dir, e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		return e;
	}
	if (topology_file)
		e = nym_topofile_load(&s->topo, topology_file, terr, sizeof terr);
	else if (api_url) {
		struct nym_api_opts o = NYM_API_OPTS_DEFAULT;
		o.base_url = api_url;
		o.retries = 2;
		o.deadline_ms = deadline_ms;
		e = nym_api_fetch_topology(&o, NULL, &s->topo, terr, sizeof terr);
	} else {
		snprintf(terr, sizeof terr, "no network given (no topology file, no API URL)");
		e = NYM_EINVAL;
	}
	if (e < 0) {
		snprintf(err, errlen, "cannot get the network: %s", terr);
		nym_mixclient_setup_free(s);
		return e;
	}
	e = nym_client_gateway_load(s->dir, s->gateway);
	if (e == NYM_ENOTFOUND || (e == NYM_EIO && errno == ENOENT)) {
		/* first use: a gateway of the network, at random */
		size_t n = 0, pick;
		uint8_t rb[4];
		for (size_t i = 0; i < s->topo->n_nodes; i++)
			n += s->topo->nodes[i].is_gateway && s->topo->nodes[i].ws_url[0];
		if (!n) {
			snprintf(err, errlen, "the network has no gateway to register with");
			nym_mixclient_setup_free(s);
			return NYM_EROUTE;
		}
		nym_rng_fill(rng, rb, 4);
		pick = ((size_t)rb[0] << 24 | (size_t)rb[1] << 16 | (size_t)rb[2] << 8 | rb[3]) % n;
		for (size_t i = 0; i < s->topo->n_nodes; i++)
			if (s->topo->nodes[i].is_gateway && s->topo->nodes[i].ws_url[0] && !pick--) {
				memcpy(s->gateway, s->topo->nodes[i].identity, 32);
				break;
			}
		s->gateway_new = 1;
	} else if (e < 0) {
		snprintf(err, errlen, "cannot read the gateway of '%s': %s", id,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		nym_mixclient_setup_free(s);
		return e;
	}
	if (!(g = nym_topology_find_identity(s->topo, s->gateway))) {
		char b58[64];
		nym_base58_encode(b58, sizeof b58, s->gateway, 32);
		snprintf(err, errlen, "the gateway of '%s' (%s) is not in the network", id, b58);
		nym_mixclient_setup_free(s);
		return NYM_EROUTE;
	}
	snprintf(s->gateway_url, sizeof s->gateway_url, "%s", g->wss_url[0] ? g->wss_url : g->ws_url);
	return 0;
}

void
nym_mixclient_setup_config(const struct nym_mixclient_setup *s, const struct nym_rng *rng,
    struct nym_mixclient_config *c)
{
	nym_mixclient_defaults(c);
	c->keys = &s->keys;
	c->dir = s->dir;
	c->topo = s->topo;
	memcpy(c->gateway, s->gateway, 32);
	c->gateway_url = s->gateway_url;
	c->rng = rng;
}

void
nym_mixclient_setup_free(struct nym_mixclient_setup *s)
{
	nym_topology_free(s->topo);
	s->topo = NULL;
	nym_wipe(&s->keys, sizeof s->keys);
}
