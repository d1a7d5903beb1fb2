/* mixclient.c — the run-time client of mixclient.h. Packets come from the
 * one-call message layer (courier.h): a message is turned into MixPackets
 * when it is queued, each kept with its fragment so that a retransmission
 * can rebuild it; the ack timer of a packet starts when it leaves the
 * queue. Loop cover is built here from the cover/ack/payload pieces so that
 * its ephemeral key is known: that is what identifies a returning loop
 * (round-trip times for nym-cover). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/gwsession.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/nymapi.h"
#include "io/topofile.h"
#include "proto/ack.h"
#include "proto/chunking.h"
#include "proto/courier.h"
#include "proto/cover.h"
#include "proto/delay.h"
#include "proto/framing.h"
#include "proto/message.h"
#include "proto/packet.h"
#include "proto/payload.h"
#include "proto/reply.h"
#include "proto/route.h"
#include "proto/sphinx.h"
#include "proto/topology.h"

#define MC_HASH_BITS 16
#define MC_LOOP_RING 4096
#define MC_BACKLOG_MAX (512u * 1024)  /* bytes queued at the gateway socket */
#define MC_SWEEP_US 50000              /* retransmission check */
#define MC_SEEN_SECS (24 * 3600)       /* as long as a gateway stores messages */
#define MC_SEEN_MAX 200000
#define MC_SEEN_REC 24

enum { F_QUEUED = 1, F_INFLIGHT, F_ACKED, F_LOST };

struct mc_msg;
struct mc_frag {
	struct mc_msg *m;
	uint64_t key;                 /* set_id << 8 | position: the ack id */
	int state;
	uint64_t deadline_ms, timeout_ms;
	uint8_t *mp;                  /* MixPacket to send; NULL once sent */
	size_t mp_len;
	uint8_t *frag;                /* the fragment, for nym_courier_resend */
	size_t frag_len;
	struct mc_frag *hnext;        /* ack hash chain */
	struct mc_frag *qnext;        /* send queue */
	struct mc_frag *fnext, *fprev;/* in-flight list */
};

struct mc_msg {
	struct mc_msg *next, *prev;
	uint64_t id, lane;
	struct mc_frag *frags;
	size_t nfrags, unacked;
	struct nym_address to;
	int reply;                    /* sent through SURBs of tag */
	uint8_t tag[16];
};

/* SURBs received from an anonymous sender, as serialized ReplySurbs. */
struct mc_surbs {
	struct mc_surbs *next;
	uint8_t tag[16];
	uint8_t rotation;
	size_t rec_len, n, cap;
	uint8_t *recs;
};

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
	struct nym_sphinx_ctx sx;
	struct nym_aes128_ctr aes;
	uint8_t rotation;
	uint8_t size_tag;
	size_t P;                     /* fragment capacity */
	size_t plen, pktlen;          /* Sphinx plaintext and packet sizes */
	struct mc_msg *msgs;
	uint64_t next_id;
	struct mc_frag *qhead, *qtail;
	size_t queued;
	struct mc_frag *inflight;
	struct mc_frag *hash[1u << MC_HASH_BITS];
	struct mc_surbs *surbs;
	struct mc_anon *anon;
	struct mc_pending *pending;
	struct mc_loop loops[MC_LOOP_RING];
	size_t loop_pos;
	struct nym_timer *tick, *loopt, *sweep, *pump;
	int ready;
	struct nym_mixclient_stats st;
	uint64_t last_packet_ms; /* nym_mono_ms of the last message packet in; 0: none */
	uint8_t *scratch;
	/* delivered-message fingerprints (open addressing, 16-byte keys) */
	uint8_t *seen;
	size_t seen_cap, seen_n;
	int seen_fd;
	char seen_path[4200];
};

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

/* Exponential sample with mean mean_ms, in microseconds. */
static uint64_t
exp_us(struct nym_mixclient *mc, double mean_ms)
{
	uint64_t ns = 0;
	if (nym_delay_sample(&ns, (uint64_t)(mean_ms * 1e6), mc->c.rng) < 0)
		ns = (uint64_t)(mean_ms * 1e6);
	return ns / 1000;
}

static unsigned
hslot(uint64_t key)
{
	key *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(key >> (64 - MC_HASH_BITS));
}

static uint64_t
frag_key(const uint8_t id[5])
{
	return (uint64_t)id[0] << 32 | (uint64_t)id[1] << 24 | (uint64_t)id[2] << 16 |
	    (uint64_t)id[3] << 8 | id[4];
}

static void
warn(struct nym_mixclient *mc, const char *fmt, int e)
{
	char w[200];
	snprintf(w, sizeof w, fmt, nym_strerror(e));
	if (mc->ev.warning)
		mc->ev.warning(mc, w, mc->ev.arg);
}

/* ---- routes ---------------------------------------------------------------- */

int
nym_mixclient_route(const struct nym_topology *t, const struct nym_rng *rng,
    const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	struct nym_route r;
	char err[NYM_TOPOLOGY_ERR_MAX];

	if (nym_topology_route(t, rng, gateway, &r, err, sizeof err) < 0)
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

static int
route_to(struct nym_mixclient *mc, struct nym_sphinx_route *sr, uint16_t version,
    const uint8_t egress[32], const uint8_t dest[32], double mean_ms)
{
	struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS];
	int n = pick_route(mc, egress, hops);
	if (n < 0)
		return n;
	return nym_sphinx_route_prepare(sr, version, hops, (size_t)n, dest, (uint64_t)(mean_ms * 1e6),
	    mc->c.rng);
}

/* ---- loop cover ------------------------------------------------------------------ */

static int
send_loop(struct nym_mixclient *mc, uint64_t *loop_id)
{
	uint8_t *plain = mc->scratch, *pkt = mc->scratch + NYM_PACKET_MAX_LEN;
	uint8_t *out = mc->scratch + 2 * NYM_PACKET_MAX_LEN;
	static const uint8_t cover_id[NYM_FRAG_ID_LEN] = {0};
	struct nym_sphinx_route sr, ar;
	struct nym_mix_packet mp = {.packet_type = NYM_PACKET_TYPE_MIX, .key_rotation = mc->rotation};
	size_t cl = mc->plen - NYM_ACK_BLOCK_LEN - 32;
	uint8_t *content = plain + NYM_ACK_BLOCK_LEN + 32;
	int e, n;

	/* loop cover is 258 ("legacy") in the official client by default */
	if ((e = route_to(mc, &ar, NYM_COVER_DEFAULT_VERSION, mc->self.gateway, mc->self.identity,
	         mc->c.ack_delay_ms)) < 0 ||
	    (e = nym_ack_block(&mc->sx, plain, &ar, mc->keys.ack_key, cover_id, mc->c.rng)) < 0 ||
	    (e = route_to(mc, &sr, NYM_COVER_DEFAULT_VERSION, mc->self.gateway, mc->self.identity,
	         mc->c.packet_delay_ms)) < 0)
		return e;
	nym_cover_content(content, cl);
	if ((e = nym_payload_encrypt(&mc->aes, plain + NYM_ACK_BLOCK_LEN, content, cl,
	         mc->self.encryption, mc->c.rng)) < 0 ||
	    (e = nym_sphinx_create(&mc->sx, pkt, mc->pktlen, &sr, plain, mc->plen, mc->c.rng)) < 0 ||
	    (e = nym_mix_packet_set_next_hop(&mp, sr.hop[0].address, 32)) < 0)
		return e;
	mp.packet = pkt;
	mp.packet_len = mc->pktlen;
	if ((n = nym_mix_packet_encode(out, NYM_PACKET_MAX_LEN + 64, NYM_MIX_PACKET_V2, &mp)) < 0)
		return n;
	if ((e = nym_gw_forward(mc->gw, out, (size_t)n)) < 0)
		return e;
	struct mc_loop *lp = &mc->loops[mc->loop_pos % MC_LOOP_RING];
	memcpy(lp->epk, plain + NYM_ACK_BLOCK_LEN, 32);
	lp->sent_us = nym_mono_ns() / 1000u;
	lp->id = ++mc->loop_pos;
	if (loop_id)
		*loop_id = lp->id;
	mc->st.cover_sent++;
	return 0;
}

/* ---- SURB store -------------------------------------------------------------- */

static struct mc_surbs *
surbs_of(struct nym_mixclient *mc, const uint8_t tag[16])
{
	for (struct mc_surbs *s = mc->surbs; s; s = s->next)
		if (!memcmp(s->tag, tag, 16))
			return s;
	return NULL;
}

static size_t
surb_count(struct nym_mixclient *mc, const uint8_t tag[16])
{
	struct mc_surbs *s = surbs_of(mc, tag);
	return s ? s->n : 0;
}

/* Take the most recent SURB of tag into rs. */
static int
surb_take(struct nym_mixclient *mc, const uint8_t tag[16], struct nym_reply_surb *rs)
{
	struct mc_surbs *s = surbs_of(mc, tag);
	int e;
	while (s && s->n) {
		s->n--;
		e = nym_reply_surb_parse(rs, s->recs + s->n * s->rec_len, s->rec_len);
		nym_wipe(s->recs + s->n * s->rec_len, s->rec_len);
		if (e == 0) {
			rs->key_rotation = s->rotation;
			return 0;
		}
	}
	return NYM_ENOTFOUND;
}

static void
store_surbs(struct nym_mixclient *mc, const struct nym_message *msg)
{
	struct mc_surbs *s;
	if (!msg->nsurbs || !msg->surb_len)
		return;
	if ((s = surbs_of(mc, msg->sender_tag)) && s->rec_len != msg->surb_len) {
		/* another SURB format from the same tag: the new one wins */
		nym_wipe(s->recs, s->cap * s->rec_len);
		s->n = 0;
		s->rec_len = msg->surb_len;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return;
		memcpy(s->tag, msg->sender_tag, 16);
		s->rec_len = msg->surb_len;
		s->next = mc->surbs;
		mc->surbs = s;
	}
	if (s->n + msg->nsurbs > s->cap) {
		size_t cap = s->n + msg->nsurbs + 16;
		uint8_t *nr = calloc(cap, s->rec_len);
		if (!nr)
			return;
		if (s->recs) {
			memcpy(nr, s->recs, s->n * s->rec_len);
			nym_wipe(s->recs, s->cap * s->rec_len);
			free(s->recs);
		}
		s->recs = nr;
		s->cap = cap;
	}
	memcpy(s->recs + s->n * s->rec_len, msg->surbs, msg->nsurbs * s->rec_len);
	s->n += msg->nsurbs;
	s->rotation = msg->content_tag >= NYM_REPLIABLE_DATA_V2 ? msg->surb_rotation : NYM_ROTATION_UNKNOWN;
}

/* ---- queue ------------------------------------------------------------------ */

static void
enqueue(struct nym_mixclient *mc, struct mc_frag *f)
{
	f->state = F_QUEUED;
	f->qnext = NULL;
	if (mc->qtail)
		mc->qtail->qnext = f;
	else
		mc->qhead = f;
	mc->qtail = f;
	mc->queued++;
}

static struct mc_frag *
dequeue(struct nym_mixclient *mc)
{
	struct mc_frag *f;
	while ((f = mc->qhead)) {
		mc->qhead = f->qnext;
		if (!mc->qhead)
			mc->qtail = NULL;
		mc->queued--;
		if (f->state == F_QUEUED)
			return f;
	}
	return NULL;
}

static void
inflight_remove(struct nym_mixclient *mc, struct mc_frag *f)
{
	if (f->fprev)
		f->fprev->fnext = f->fnext;
	else if (mc->inflight == f)
		mc->inflight = f->fnext;
	if (f->fnext)
		f->fnext->fprev = f->fprev;
	f->fnext = f->fprev = NULL;
}

struct emit_ctx {
	struct nym_mixclient *mc;
	struct mc_msg *m;
	struct mc_frag *f;            /* resend: the fragment being rebuilt */
};
static int emit(void *ctx, const struct nym_courier_packet *p);

/* Hand fragment f's packet to the gateway; its ack timer starts now. */
static int
send_frag(struct nym_mixclient *mc, struct mc_frag *f)
{
	int e;
	if (!f->mp) {
		/* first transmission of a plain message's fragment: built now,
		 * so that building overlaps sending and the loop stays responsive */
		struct emit_ctx x = {mc, f->m, f};
		if ((e = nym_courier_resend(mc->sender, &f->m->to, NULL, f->frag, f->frag_len, &mc->routes,
		         mc->c.rng, emit, &x)) < 0)
			return e;
	}
	if ((e = nym_gw_forward(mc->gw, f->mp, f->mp_len)) < 0)
		return e;
	free(f->mp);
	f->mp = NULL;
	f->deadline_ms = nym_mono_ms() + f->timeout_ms;
	f->state = F_INFLIGHT;
	f->fprev = NULL;
	f->fnext = mc->inflight;
	if (mc->inflight)
		mc->inflight->fprev = f;
	mc->inflight = f;
	mc->st.real_sent++;
	return 0;
}

/* Send one queued real packet; 0 if none was queued, 1 if sent. */
static int
send_next(struct nym_mixclient *mc)
{
	struct mc_frag *f = dequeue(mc);
	int e;
	if (!f)
		return 0;
	if ((e = send_frag(mc, f)) < 0) {
		warn(mc, "cannot send a packet: %s", e);
		enqueue(mc, f);
		return 0;
	}
	return 1;
}

static void
tick_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	if (mc->ready && nym_gw_backlog(mc->gw) < MC_BACKLOG_MAX) {
		if (!send_next(mc) && mc->c.main_cover) {
			int e = send_loop(mc, NULL);
			if (e < 0)
				warn(mc, "cannot build a cover packet: %s", e);
		}
	}
	nym_timer_set(t, exp_us(mc, mc->c.send_mean_ms));
}

static void
pump_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	int n = 0;
	if (!mc->ready)
		return;
	while (n < 256 && nym_gw_backlog(mc->gw) < MC_BACKLOG_MAX && send_next(mc))
		n++;
	if (mc->qhead)
		nym_timer_set(t, nym_gw_backlog(mc->gw) >= MC_BACKLOG_MAX ? 1000 : 0);
}

static void
kick(struct nym_mixclient *mc)
{
	if (mc->c.send_mean_ms <= 0 && mc->ready && !nym_timer_pending(mc->pump))
		nym_timer_set(mc->pump, 0);
}

static void
loop_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	if (mc->ready && nym_gw_backlog(mc->gw) < MC_BACKLOG_MAX) {
		int e = send_loop(mc, NULL);
		if (e < 0)
			warn(mc, "cannot build a cover packet: %s", e);
	}
	nym_timer_set(t, exp_us(mc, mc->c.loop_mean_ms));
}

/* ---- messages out ----------------------------------------------------------- */

/* Keep one packet courier built: its MixPacket, fragment, ack id, timeout. */
static int
emit(void *ctx, const struct nym_courier_packet *p)
{
	struct emit_ctx *x = ctx;
	struct mc_frag *f = x->f;
	uint8_t *mp = malloc(p->mix_packet_len);

	if (!mp)
		return NYM_ENOMEM;
	memcpy(mp, p->mix_packet, p->mix_packet_len);
	if (!f) {
		struct mc_msg *m = x->m;
		if (!m->frags) {
			if (!(m->frags = calloc(p->count, sizeof *m->frags))) {
				free(mp);
				return NYM_ENOMEM;
			}
			m->nfrags = p->count;
		}
		if (p->index >= m->nfrags) {
			free(mp);
			return NYM_EINVAL;
		}
		f = &m->frags[p->index];
		if (!(f->frag = malloc(p->fragment_len))) {
			free(mp);
			return NYM_ENOMEM;
		}
		memcpy(f->frag, p->fragment, p->fragment_len);
		f->frag_len = p->fragment_len;
		f->m = m;
		f->key = frag_key(p->frag_id);
	}
	free(f->mp);
	f->mp = mp;
	f->mp_len = p->mix_packet_len;
	f->timeout_ms = p->timeout_ms;
	return 0;
}

static void
frag_unhash(struct nym_mixclient *mc, struct mc_frag *f)
{
	struct mc_frag **pp = &mc->hash[hslot(f->key)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
}

static void
msg_free(struct nym_mixclient *mc, struct mc_msg *m)
{
	for (size_t i = 0; i < m->nfrags; i++) {
		struct mc_frag *f = &m->frags[i];
		if (f->m) {
			frag_unhash(mc, f);
			if (f->state == F_INFLIGHT)
				inflight_remove(mc, f);
		}
		free(f->mp);
		free(f->frag);
	}
	/* the send queue may still point at its fragments */
	struct mc_frag **qp = &mc->qhead, *last = NULL;
	while (*qp) {
		if ((*qp)->m == m) {
			*qp = (*qp)->qnext;
			mc->queued--;
		} else {
			last = *qp;
			qp = &(*qp)->qnext;
		}
	}
	mc->qtail = last;
	if (m->prev)
		m->prev->next = m->next;
	else if (mc->msgs == m)
		mc->msgs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	free(m->frags);
	free(m);
}

/* A fragment that can never be acknowledged (a reply without SURBs left). */
static void
frag_lost(struct nym_mixclient *mc, struct mc_frag *f)
{
	struct mc_msg *m = f->m;
	f->state = F_LOST;
	if (m->unacked)
		m->unacked--;
	if (!m->unacked) {
		uint64_t id = m->id;
		msg_free(mc, m);
		if (mc->ev.acked)
			mc->ev.acked(mc, id, 0, mc->ev.arg);
	}
}

/* Retransmit what timed out: rebuild (new route, key, ack) and requeue. */
static void
sweep_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	uint64_t now = nym_mono_ms();
	struct mc_frag *f = mc->inflight, *n;
	int any = 0, e;

	for (; f; f = n) {
		n = f->fnext;
		if (f->state != F_INFLIGHT || now < f->deadline_ms)
			continue;
		inflight_remove(mc, f);
		struct emit_ctx x = {mc, f->m, f};
		if (f->m->reply) {
			struct nym_reply_surb rs;
			if (surb_take(mc, f->m->tag, &rs) < 0) {
				warn(mc, "no reply SURB left to retransmit a reply packet (%s)", NYM_ENOTFOUND);
				frag_lost(mc, f);
				continue;
			}
			e = nym_courier_resend(mc->sender, NULL, &rs, f->frag, f->frag_len, &mc->routes,
			    mc->c.rng, emit, &x);
			nym_wipe(&rs, sizeof rs);
		} else
			e = nym_courier_resend(mc->sender, &f->m->to, NULL, f->frag, f->frag_len, &mc->routes,
			    mc->c.rng, emit, &x);
		if (e < 0) {
			warn(mc, "cannot rebuild a packet: %s", e);
			f->deadline_ms = now + 1000; /* try again in a second */
			f->state = F_INFLIGHT;
			f->fprev = NULL;
			f->fnext = mc->inflight;
			if (mc->inflight)
				mc->inflight->fprev = f;
			mc->inflight = f;
			continue;
		}
		enqueue(mc, f);
		mc->st.retransmitted++;
		any = 1;
	}
	if (any)
		kick(mc);
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
	nym_timer_set(t, MC_SWEEP_US);
}

static struct mc_msg *
msg_new(struct nym_mixclient *mc, uint64_t lane)
{
	struct mc_msg *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->id = ++mc->next_id;
	m->lane = lane;
	return m;
}

/* Index, queue and list the fragments courier emitted for m. */
static int
msg_commit(struct nym_mixclient *mc, struct mc_msg *m, uint64_t *msg_id)
{
	for (size_t i = 0; i < m->nfrags; i++)
		if (!m->frags[i].m || !m->frags[i].frag)
			return NYM_EINVAL;
	for (size_t i = 0; i < m->nfrags; i++) {
		struct mc_frag *f = &m->frags[i];
		unsigned h = hslot(f->key);
		f->hnext = mc->hash[h];
		mc->hash[h] = f;
		enqueue(mc, f);
	}
	m->unacked = m->nfrags;
	m->next = mc->msgs;
	if (mc->msgs)
		mc->msgs->prev = m;
	mc->msgs = m;
	if (msg_id)
		*msg_id = m->id;
	kick(mc);
	return 0;
}

static void
msg_discard(struct mc_msg *m)
{
	for (size_t i = 0; i < m->nfrags; i++) {
		free(m->frags[i].mp);
		free(m->frags[i].frag);
	}
	free(m->frags);
	free(m);
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
split_plain(struct nym_mixclient *mc, struct mc_msg *m, const uint8_t *data, size_t len)
{
	struct nym_message msg;
	struct nym_split sp;
	uint8_t *buf, id[NYM_FRAG_ID_LEN];
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
	if (!(m->frags = calloc(sp.nfrags, sizeof *m->frags))) {
		e = NYM_ENOMEM;
		goto out;
	}
	m->nfrags = sp.nfrags;
	for (size_t i = 0; i < sp.nfrags; i++) {
		struct mc_frag *f = &m->frags[i];
		if (!(f->frag = malloc(mc->P))) {
			e = NYM_ENOMEM;
			goto out;
		}
		if ((e = nym_split_fragment(&sp, i, f->frag, id)) < 0)
			goto out;
		f->frag_len = (size_t)e;
		f->m = m;
		f->key = frag_key(id);
	}
	e = 0;
out:
	nym_split_free(&sp);
	free(buf);
	return e;
}

int
nym_mixclient_send(struct nym_mixclient *mc, const struct nym_address *to, const uint8_t *data,
    size_t len, int surbs, uint64_t lane, uint64_t *msg_id)
{
	struct mc_msg *m;
	int e;

	if (!nym_topology_find_identity(mc->c.topo, to->gateway))
		return NYM_EROUTE;
	if (surbs > 65535)
		return NYM_ERANGE;
	if (!(m = msg_new(mc, lane)))
		return NYM_ENOMEM;
	m->to = *to;
	struct emit_ctx x = {mc, m, NULL};
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
		    nym_mono_ms(), &mc->routes, mc->c.rng, emit, &x);
	}
	if (e < 0 || (e = msg_commit(mc, m, msg_id)) < 0) {
		msg_discard(m);
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
	struct mc_msg *m;
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
	if (need > surb_count(mc, tag))
		return NYM_EFULL;
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &msg)) < 0) {
		free(buf);
		return e;
	}
	if (!(rs = calloc(need, sizeof *rs)) || !(m = msg_new(mc, lane))) {
		free(rs);
		free(buf);
		return NYM_ENOMEM;
	}
	while (got < need && surb_take(mc, tag, &rs[got]) == 0)
		got++;
	m->reply = 1;
	memcpy(m->tag, tag, 16);
	struct emit_ctx x = {mc, m, NULL};
	e = got < need ? NYM_EFULL :
	    nym_courier_send_reply(mc->sender, rs, got, buf, n, &mc->routes, mc->c.rng, emit, &x);
	nym_wipe(rs, need * sizeof *rs);
	free(rs);
	free(buf);
	if (e < 0 || (e = msg_commit(mc, m, msg_id)) < 0) {
		msg_discard(m);
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
	struct mc_msg *m;
	int e;

	if (surb_take(mc, tag, &rs) < 0)
		return NYM_ENOTFOUND;
	if (!(m = msg_new(mc, 0))) {
		nym_wipe(&rs, sizeof rs);
		return NYM_ENOMEM;
	}
	m->reply = 1;
	memcpy(m->tag, tag, 16);
	struct emit_ctx x = {mc, m, NULL};
	e = nym_courier_send_surb_request(mc->sender, &rs, 1, &mc->self,
	    amount > NYM_MAX_SURB_REQUEST ? NYM_MAX_SURB_REQUEST : amount, &mc->routes, mc->c.rng,
	    emit, &x);
	nym_wipe(&rs, sizeof rs);
	if (e < 0 || (e = msg_commit(mc, m, NULL)) < 0) {
		msg_discard(m);
		return e;
	}
	return 0;
}

int
nym_mixclient_reply(struct nym_mixclient *mc, const uint8_t tag[16], const uint8_t *data,
    size_t len, uint64_t lane, uint64_t *msg_id)
{
	size_t have = surb_count(mc, tag), need;
	struct mc_pending *p;
	int e;

	if (!have)
		return NYM_ENOTFOUND;
	if (!len)
		return NYM_EINVAL; /* the official parser rejects an empty reply */
	if ((e = reply_now(mc, tag, data, len, lane, msg_id)) != NYM_EFULL)
		return e;
	/* too few SURBs: keep the reply, ask for more (one SURB carries the
	 * request), send it when they come */
	need = nym_message_packets(len + 2, NYM_FRAGMENT_CAPACITY(nym_size_tag_plaintext(NYM_SIZE_REGULAR)));
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
	if ((e = surb_request(mc, tag, (uint32_t)(need + 10 - (have - 1)))) < 0) {
		free(p->data);
		free(p);
		return e;
	}
	p->next = mc->pending;
	mc->pending = p;
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

/* SURBs of tag arrived: send the replies that waited for them. */
static void
pending_retry(struct nym_mixclient *mc, const uint8_t tag[16])
{
	struct mc_pending **pp = &mc->pending;
	while (*pp) {
		struct mc_pending *p = *pp;
		if (!memcmp(p->tag, tag, 16) && reply_now(mc, tag, p->data, p->len, p->lane, NULL) == 0) {
			*pp = p->next;
			pending_free(p);
			continue;
		}
		pp = &p->next;
	}
}

size_t
nym_mixclient_unacked(const struct nym_mixclient *mc, uint64_t lane)
{
	size_t n = 0;
	for (struct mc_msg *m = mc->msgs; m; m = m->next)
		if (!lane || m->lane == lane)
			n += m->unacked;
	for (struct mc_pending *p = mc->pending; p; p = p->next)
		if (!lane || p->lane == lane)
			n += p->need;
	return n;
}

size_t
nym_mixclient_msg_unacked(const struct nym_mixclient *mc, uint64_t msg_id)
{
	for (struct mc_msg *m = mc->msgs; m; m = m->next)
		if (m->id == msg_id)
			return m->unacked;
	return 0;
}

void
nym_mixclient_forget_lane(struct nym_mixclient *mc, uint64_t lane)
{
	struct mc_msg *m = mc->msgs, *n;
	if (!lane)
		return;
	for (; m; m = n) {
		n = m->next;
		if (m->lane == lane)
			msg_free(mc, m);
	}
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
	*s = mc->st;
}

/* ---- messages in ---------------------------------------------------------- */

static void
on_ack(struct nym_mixclient *mc, const uint8_t id[NYM_FRAG_ID_LEN])
{
	uint64_t key = frag_key(id);
	for (struct mc_frag *f = mc->hash[hslot(key)]; f; f = f->hnext)
		if (f->key == key && (f->state == F_QUEUED || f->state == F_INFLIGHT)) {
			struct mc_msg *m = f->m;
			if (f->state == F_INFLIGHT)
				inflight_remove(mc, f);
			f->state = F_ACKED; /* a queued retransmission is skipped */
			m->unacked--;
			mc->st.acks++;
			uint64_t mid = m->id;
			size_t left = m->unacked;
			if (!left)
				msg_free(mc, m);
			if (mc->ev.acked)
				mc->ev.acked(mc, mid, left, mc->ev.arg);
			return;
		}
}

/* ---- delivered messages, remembered across restarts ----------------------- */

static int
seen_slot(struct nym_mixclient *mc, const uint8_t fp[16], int insert)
{
	size_t mask = mc->seen_cap - 1, i;
	uint64_t h;
	memcpy(&h, fp, 8);
	for (i = (size_t)h & mask;; i = (i + 1) & mask) {
		uint8_t *e = mc->seen + i * 16;
		static const uint8_t zero[16];
		if (!memcmp(e, fp, 16))
			return 1;
		if (!memcmp(e, zero, 16)) {
			if (insert && mc->seen_n < mc->seen_cap / 2) {
				memcpy(e, fp, 16);
				mc->seen_n++;
			}
			return 0;
		}
	}
}

static void
seen_fp(uint8_t fp[16], uint32_t set_id, const uint8_t *data, size_t len)
{
	struct nym_blake3 h;
	uint8_t id[4] = {(uint8_t)(set_id >> 24), (uint8_t)(set_id >> 16), (uint8_t)(set_id >> 8),
	                 (uint8_t)set_id}, out[32];
	nym_blake3_init(&h);
	nym_blake3_update(&h, id, 4);
	nym_blake3_update(&h, data, len);
	nym_blake3_final(&h, out, 32);
	memcpy(fp, out, 16);
	if (!memcmp(fp, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16))
		fp[0] = 1; /* all-zero marks an empty slot */
}

/* Load the records younger than a day, write them back compacted
 * (atomically), keep the file open for appending. */
static int
seen_open(struct nym_mixclient *mc, const char *path)
{
	FILE *f;
	uint8_t rec[MC_SEEN_REC];
	uint64_t now = (uint64_t)time(NULL);
	char tmp[4300];
	int fd;

	mc->seen_cap = 1u << 19; /* room for MC_SEEN_MAX at half load */
	if (!(mc->seen = calloc(mc->seen_cap, 16)))
		return NYM_ENOMEM;
	snprintf(mc->seen_path, sizeof mc->seen_path, "%s", path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return NYM_EIO;
	if ((f = fopen(path, "rb"))) {
		while (fread(rec, 1, MC_SEEN_REC, f) == MC_SEEN_REC) {
			uint64_t t = 0;
			for (int i = 16; i < 24; i++)
				t = t << 8 | rec[i];
			if (t + MC_SEEN_SECS < now || mc->seen_n >= MC_SEEN_MAX || seen_slot(mc, rec, 1))
				continue;
			if (write(fd, rec, MC_SEEN_REC) != MC_SEEN_REC) {
				fclose(f);
				close(fd);
				unlink(tmp);
				return NYM_EIO;
			}
		}
		fclose(f);
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		close(fd);
		unlink(tmp);
		return NYM_EIO;
	}
	close(fd);
	if ((mc->seen_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
		return NYM_EIO;
	return 0;
}

/* 1 if the message was delivered before (drop it); else remember it. */
static int
seen_check(struct nym_mixclient *mc, uint32_t set_id, const uint8_t *data, size_t len)
{
	uint8_t rec[MC_SEEN_REC];
	uint64_t now = (uint64_t)time(NULL);
	if (!mc->seen)
		return 0;
	seen_fp(rec, set_id, data, len);
	if (seen_slot(mc, rec, 1))
		return 1;
	for (int i = 23; i >= 16; i--, now >>= 8)
		rec[i] = (uint8_t)now;
	if (mc->seen_fd >= 0 && write(mc->seen_fd, rec, MC_SEEN_REC) != MC_SEEN_REC)
		warn(mc, "cannot remember a delivered message (%s): a retransmitted copy may be "
		         "delivered again after a restart", NYM_EIO);
	return 0;
}

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
		struct mc_msg *m = msg_new(mc, 0);
		if (!m)
			return;
		m->to = a->to;
		struct emit_ctx x = {mc, m, NULL};
		e = nym_courier_send_additional_surbs(mc->sender, &a->to, tag, n, mc->rkeys, nym_mono_ms(),
		    &mc->routes, mc->c.rng, emit, &x);
		if (e < 0 || (e = msg_commit(mc, m, NULL)) < 0) {
			msg_discard(m);
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
		store_surbs(mc, msg);
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
	int k = nym_courier_receive(mc->receiver, pt, len, nym_mono_ms(), &r);
	if (k == NYM_RECV_ACK)
		on_ack(mc, r.frag_id);
	else if (k == NYM_RECV_MESSAGE) {
		if (seen_check(mc, r.set_id, r.data, r.len))
			mc->st.duplicates++;
		else
			deliver(mc, &r.msg);
	}
	nym_courier_received_free(&r);
}

static void
gw_ready(struct nym_gw *gw, int registered, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	mc->ready = 1;
	if (mc->c.send_mean_ms > 0 && !nym_timer_pending(mc->tick))
		nym_timer_set(mc->tick, exp_us(mc, mc->c.send_mean_ms));
	if (mc->c.loop_mean_ms > 0 && !nym_timer_pending(mc->loopt))
		nym_timer_set(mc->loopt, exp_us(mc, mc->c.loop_mean_ms));
	kick(mc);
	if (mc->ev.ready)
		mc->ev.ready(mc, registered, mc->ev.arg);
}

static void
gw_down(struct nym_gw *gw, int err, const char *why, int fatal, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	mc->ready = 0;
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
	mc->plen = (size_t)nym_size_tag_plaintext(mc->size_tag);
	mc->pktlen = (size_t)nym_size_tag_len(mc->size_tag);
	mc->P = NYM_FRAGMENT_CAPACITY(mc->plen);
	mc->routes.pick = pick_route;
	mc->routes.ctx = mc;
	nym_courier_config_default(&mcfg);
	mcfg.packet_delay_ns = (uint64_t)(c->packet_delay_ms * 1e6);
	mcfg.ack_delay_ns = (uint64_t)(c->ack_delay_ms * 1e6);
	mcfg.size_tag = mc->size_tag;
	mcfg.key_rotation = mc->rotation;
	mcfg.ack_wait_multiplier = c->ack_wait_multiplier;
	mcfg.ack_wait_addition_ms = (uint64_t)c->ack_wait_addition_ms;
	if (!(mc->scratch = malloc(3 * NYM_PACKET_MAX_LEN + 128)) ||
	    !(mc->rkeys = nym_reply_keys_new(NYM_REPLY_KEYS_DEFAULT_MAX, NYM_REPLY_KEY_MAX_AGE_MS)) ||
	    !(mc->sender = nym_courier_sender_new(&mc->keys, c->gateway, &mcfg)) ||
	    !(mc->receiver = nym_courier_receiver_new(&mc->keys, mc->rkeys, NULL)) ||
	    nym_sphinx_ctx_init(&mc->sx) < 0 || nym_aes128_ctr_init(&mc->aes) < 0) {
		nym_mixclient_free(mc);
		return NYM_ENOMEM;
	}
	mc->seen_fd = -1;
	if (c->seen_path && (e = seen_open(mc, c->seen_path)) < 0) {
		nym_mixclient_free(mc);
		return e;
	}
	mc->tick = nym_timer_new(l, tick_fire, mc);
	mc->loopt = nym_timer_new(l, loop_fire, mc);
	mc->sweep = nym_timer_new(l, sweep_fire, mc);
	mc->pump = nym_timer_new(l, pump_fire, mc);
	nym_timer_set(mc->sweep, MC_SWEEP_US);

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
	nym_timer_cancel(mc->tick);
	nym_timer_cancel(mc->loopt);
	nym_timer_cancel(mc->pump);
	nym_timer_cancel(mc->sweep);
	if (mc->gw)
		nym_gw_close(mc->gw);
}

void
nym_mixclient_free(struct nym_mixclient *mc)
{
	if (!mc)
		return;
	nym_gw_free(mc->gw);
	nym_timer_free(mc->tick);
	nym_timer_free(mc->loopt);
	nym_timer_free(mc->sweep);
	nym_timer_free(mc->pump);
	while (mc->msgs)
		msg_free(mc, mc->msgs);
	for (struct mc_surbs *s = mc->surbs, *n; s; s = n) {
		n = s->next;
		if (s->recs)
			nym_wipe(s->recs, s->cap * s->rec_len);
		free(s->recs);
		free(s);
	}
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
	nym_sphinx_ctx_free(&mc->sx);
	nym_aes128_ctr_free(&mc->aes);
	nym_wipe(&mc->keys, sizeof mc->keys);
	if (mc->seen_fd > 0)
		close(mc->seen_fd);
	free(mc->seen);
	free(mc->scratch);
	free(mc);
}

/* ---- set-up helpers ------------------------------------------------------------ */

int
nym_mixclient_setup(struct nym_mixclient_setup *s, const char *home, const char *id,
    const char *topology_file, const char *api_url, const struct nym_rng *rng,
    char *err, size_t errlen)
{
	const char *bad = NULL;
	char terr[NYM_TOPOLOGY_ERR_MAX];
	const struct nym_node *g;
	int e;

	memset(s, 0, sizeof *s);
	if ((e = nym_client_dir(s->dir, sizeof s->dir, home, id)) < 0) {
		snprintf(err, errlen, "bad identity name '%s'", id);
		return e;
	}
	if ((e = nym_client_keys_load(s->dir, &s->keys, &bad)) < 0) {
		if (e == NYM_EIO && errno == ENOENT)
			snprintf(err, errlen, "no client '%s' (no keys in %s); create it with: nym-keygen --id %s",
			    id, s->dir, id);
		else
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
		e = nym_api_fetch_topology(&o, NULL, &s->topo, terr, sizeof terr);
	} else {
		snprintf(terr, sizeof terr, "no network given (--topology FILE or --api URL)");
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
