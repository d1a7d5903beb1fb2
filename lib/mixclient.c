/* mixclient.c — the run-time client of mixclient.h: packets built at send
 * time from the message layers (chunking, payload, ack, delay, sphinx, surb,
 * message, framing), paced by timers of the caller's loop, acknowledged or
 * retransmitted, and pushed payloads reassembled into messages. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "blake3.h"
#include "chunking.h"
#include "codec.h"
#include "cover.h"
#include "crypto.h"
#include "delay.h"
#include "err.h"
#include "framing.h"
#include "gwclient.h"
#include "keys.h"
#include "message.h"
#include "mixclient.h"
#include "nymapi.h"
#include "packet.h"
#include "payload.h"
#include "sphinx.h"
#include "surb.h"
#include "topology.h"

#define MC_HASH_BITS 16
#define MC_LOOP_RING 4096
#define MC_BACKLOG_MAX (512u * 1024)  /* bytes queued at the gateway socket */
#define MC_SWEEP_US 50000              /* retransmission check */
#define MC_SURB_LEN NYM_REPLY_SURB_V2_LEN(4)

enum { F_QUEUED = 1, F_INFLIGHT, F_ACKED };

struct mc_msg;
struct mc_frag {
	struct mc_msg *m;
	uint32_t idx;                 /* fragment index in the split plan */
	uint64_t key;                 /* set_id << 8 | position: the ack id */
	int state;
	uint64_t deadline_ms;
	struct mc_frag *hnext;        /* ack hash chain */
	struct mc_frag *qnext;        /* send queue */
	struct mc_frag *fnext, *fprev;/* in-flight list */
};

struct mc_msg {
	struct mc_msg *next, *prev;
	uint64_t id, lane;
	uint8_t *buf;                 /* the serialized NymMessage */
	struct nym_split split;
	struct mc_frag *frags;
	size_t unacked;
	struct nym_address to;
	int reply;                    /* sent through SURBs of tag */
	uint8_t tag[16];
};

/* SURBs received from an anonymous sender. */
struct mc_surbs {
	struct mc_surbs *next;
	uint8_t tag[16];
	uint8_t rotation;
	size_t n, cap;
	uint8_t *recs;                /* n × MC_SURB_LEN (reply key || SURB) */
};

/* Reply keys we handed out in our SURBs, by BLAKE3 digest. */
struct mc_rkey {
	struct mc_rkey *next;
	uint8_t digest[32], key[16];
};

struct mc_loop {
	uint8_t epk[32];
	uint64_t sent_us;
};

struct nym_mixclient {
	struct nym_loop *loop;
	struct nym_gw *gw;
	struct nym_mixclient_config c;
	struct nym_mixclient_events ev;
	struct nym_client_keys keys;
	struct nym_address self;
	char dir[4096], url[NYM_TOPOLOGY_URL];
	struct nym_sphinx_ctx sx;
	struct nym_aes128_ctr aes;
	struct nym_reasm *reasm;
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
	struct mc_rkey *rkeys[256];
	struct mc_loop loops[MC_LOOP_RING];
	size_t loop_pos;
	struct nym_timer *tick, *loopt, *sweep, *pump;
	int ready;
	struct nym_mixclient_stats st;
	uint8_t *scratch;             /* plaintext + packet + mixpacket */
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

static uint64_t
now_us(void)
{
	return nym_now_ms() * 1000;
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

/* ---- routes ---------------------------------------------------------------- */

static int
sphinx_nodes(struct nym_sphinx_node *out, const struct nym_route *r)
{
	for (size_t i = 0; i < r->n_hops; i++) {
		struct nym_node_addr a;
		if (nym_node_addr_parse(&a, r->hops[i].mix_host) < 0)
			return NYM_EROUTE;
		if (nym_node_addr_encode(out[i].address, 32, &a) < 0)
			return NYM_EROUTE;
		memcpy(out[i].pubkey, r->hops[i].sphinx_key, 32);
	}
	return 0;
}

/* A fresh 4-hop route to the client `dest` (identity) at gateway egress. */
static int
route_to(struct nym_mixclient *mc, struct nym_sphinx_route *sr, uint16_t version,
    const uint8_t egress[32], const uint8_t dest[32], double mean_ms)
{
	struct nym_route r;
	struct nym_sphinx_node hops[NYM_ROUTE_MAX_HOPS];
	char err[NYM_TOPOLOGY_ERR_MAX];
	int e;

	if ((e = nym_topology_route(mc->c.topo, mc->c.rng, egress, &r, err, sizeof err)) < 0)
		return NYM_EROUTE;
	if ((e = sphinx_nodes(hops, &r)) < 0)
		return e;
	return nym_route_prepare(sr, version, hops, r.n_hops, dest, (uint64_t)(mean_ms * 1e6),
	    mc->c.rng);
}

/* Wrap a Sphinx packet in a MixPacket v2 and hand it to the gateway. */
static int
forward(struct nym_mixclient *mc, const uint8_t *first_hop32, const uint8_t *packet, size_t plen,
    uint8_t rotation)
{
	struct nym_mix_packet mp = {.packet_type = NYM_PACKET_TYPE_MIX, .key_rotation = rotation};
	uint8_t *out = mc->scratch + 2 * NYM_PACKET_MAX_LEN;
	int n;
	if (nym_mix_packet_set_next_hop(&mp, first_hop32, 32) < 0)
		return NYM_EADDR;
	mp.packet = packet;
	mp.packet_len = plen;
	if ((n = nym_mix_packet_encode(out, NYM_PACKET_MAX_LEN + 64, NYM_MIX_PACKET_V2, &mp)) < 0)
		return n;
	return nym_gw_forward(mc->gw, out, (size_t)n);
}

/* ---- building packets ---------------------------------------------------------- */

/* The ack block for frag_id over a fresh route back to us; adds the ack
 * route's mix delays to *delay_ns. */
static int
ack_block(struct nym_mixclient *mc, uint8_t *block, const uint8_t frag_id[5], uint16_t version,
    uint64_t *delay_ns)
{
	struct nym_sphinx_route ar;
	int e = route_to(mc, &ar, version, mc->self.gateway, mc->self.identity, mc->c.ack_delay_ms);
	if (e < 0)
		return e;
	*delay_ns += nym_route_delay_ns(&ar);
	return nym_ack_block(&mc->sx, block, &ar, mc->keys.ack_key, frag_id, mc->c.rng);
}

/* Take a SURB of tag (NULL if none left). */
static int
surb_take(struct nym_mixclient *mc, const uint8_t tag[16], uint8_t rec[MC_SURB_LEN], uint8_t *rot)
{
	for (struct mc_surbs *s = mc->surbs; s; s = s->next)
		if (!memcmp(s->tag, tag, 16) && s->n) {
			s->n--;
			memcpy(rec, s->recs + s->n * MC_SURB_LEN, MC_SURB_LEN);
			*rot = s->rotation;
			return 0;
		}
	return NYM_ENOTFOUND;
}

static size_t
surb_count(struct nym_mixclient *mc, const uint8_t tag[16])
{
	for (struct mc_surbs *s = mc->surbs; s; s = s->next)
		if (!memcmp(s->tag, tag, 16))
			return s->n;
	return 0;
}

/* Build and send the packet of fragment f now; arms its ack deadline. */
static int
send_frag(struct nym_mixclient *mc, struct mc_frag *f)
{
	struct mc_msg *m = f->m;
	uint8_t *plain = mc->scratch, *pkt = mc->scratch + NYM_PACKET_MAX_LEN;
	uint8_t id[NYM_FRAG_ID_LEN];
	uint64_t delay = 0, timeout;
	int e;

	/* fragment bytes go after the ack block and the 32-byte prefix */
	uint8_t *frag = plain + NYM_ACK_BLOCK_LEN + 32;
	if ((e = nym_split_fragment(&m->split, f->idx, frag, id)) < 0)
		return e;
	if ((e = ack_block(mc, plain, id, NYM_SPHINX_V259, &delay)) < 0)
		return e;
	if (!m->reply) {
		struct nym_sphinx_route sr;
		if ((e = route_to(mc, &sr, NYM_SPHINX_V259, m->to.gateway, m->to.identity,
		         mc->c.packet_delay_ms)) < 0)
			return e;
		delay += nym_route_delay_ns(&sr);
		if ((e = nym_payload_encrypt(&mc->aes, plain + NYM_ACK_BLOCK_LEN, frag, mc->P,
		         m->to.encryption, mc->c.rng)) < 0)
			return e;
		if ((e = nym_sphinx_create(&mc->sx, pkt, mc->pktlen, &sr, plain, mc->plen, mc->c.rng)) < 0)
			return e;
		e = forward(mc, sr.hop[0].address, pkt, mc->pktlen, mc->rotation);
	} else {
		uint8_t rec[MC_SURB_LEN], rot = 0;
		struct nym_surb s;
		if (surb_take(mc, m->tag, rec, &rot) < 0)
			return NYM_ENOTFOUND;
		if ((e = nym_surb_parse(&s, rec + 16, MC_SURB_LEN - 16)) < 0)
			return e;
		/* the replier cannot know the SURB's delays: 3 × the mean */
		delay += (uint64_t)(3 * mc->c.packet_delay_ms * 1e6);
		if ((e = nym_payload_reply_encrypt(&mc->aes, plain + NYM_ACK_BLOCK_LEN, frag,
		         NYM_FRAGMENT_CAPACITY(2048), rec)) < 0)
			return e;
		if ((e = nym_surb_use(pkt, 2413, &s, plain, 2048)) < 0)
			return e;
		e = forward(mc, s.first_hop, pkt, 2413, rot);
		nym_wipe(&s, sizeof s);
		nym_wipe(rec, sizeof rec);
	}
	if (e < 0)
		return e;
	timeout = nym_ack_timeout_ms(delay, mc->c.ack_wait_multiplier,
	    (uint64_t)mc->c.ack_wait_addition_ms);
	f->deadline_ms = nym_now_ms() + timeout;
	f->state = F_INFLIGHT;
	f->fprev = NULL;
	f->fnext = mc->inflight;
	if (mc->inflight)
		mc->inflight->fprev = f;
	mc->inflight = f;
	mc->st.real_sent++;
	return 0;
}

static int
send_loop(struct nym_mixclient *mc)
{
	uint8_t *plain = mc->scratch, *pkt = mc->scratch + NYM_PACKET_MAX_LEN;
	static const uint8_t cover_id[NYM_FRAG_ID_LEN] = {0};
	struct nym_sphinx_route sr;
	uint64_t delay = 0;
	size_t cl = mc->plen - NYM_ACK_BLOCK_LEN - 32;
	uint8_t *content = plain + NYM_ACK_BLOCK_LEN + 32;
	int e;

	/* loop cover is 258 ("legacy") by default in the official client */
	if ((e = ack_block(mc, plain, cover_id, NYM_SPHINX_V258, &delay)) < 0)
		return e;
	if ((e = route_to(mc, &sr, NYM_SPHINX_V258, mc->self.gateway, mc->self.identity,
	         mc->c.packet_delay_ms)) < 0)
		return e;
	/* built here rather than by nym_cover_packet: the ephemeral key is
	 * what identifies the loop when it comes back (round-trip times) */
	nym_cover_content(content, cl);
	if ((e = nym_payload_encrypt(&mc->aes, plain + NYM_ACK_BLOCK_LEN, content, cl,
	         mc->self.encryption, mc->c.rng)) < 0)
		return e;
	if ((e = nym_sphinx_create(&mc->sx, pkt, mc->pktlen, &sr, plain, mc->plen, mc->c.rng)) < 0)
		return e;
	if ((e = forward(mc, sr.hop[0].address, pkt, mc->pktlen, mc->rotation)) < 0)
		return e;
	struct mc_loop *lp = &mc->loops[mc->loop_pos++ % MC_LOOP_RING];
	memcpy(lp->epk, plain + NYM_ACK_BLOCK_LEN, 32);
	lp->sent_us = now_us();
	mc->st.cover_sent++;
	return 0;
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
warn(struct nym_mixclient *mc, const char *fmt, int e)
{
	char w[200];
	snprintf(w, sizeof w, fmt, nym_strerror(e));
	if (mc->ev.warning)
		mc->ev.warning(mc, w, mc->ev.arg);
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
		if (e == NYM_ENOTFOUND) {
			/* a reply fragment with no SURB left: it cannot be sent */
			f->state = F_ACKED;
			if (f->m->unacked)
				f->m->unacked--;
			warn(mc, "no reply SURB left for a reply fragment (%s)", e);
			return 1;
		}
		warn(mc, "cannot build a packet: %s", e);
		enqueue(mc, f); /* try again later */
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
			int e = send_loop(mc);
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
	while (n < 64 && nym_gw_backlog(mc->gw) < MC_BACKLOG_MAX && send_next(mc))
		n++;
	if (mc->qhead)
		nym_timer_set(t, nym_gw_backlog(mc->gw) >= MC_BACKLOG_MAX ? 2000 : 0);
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
		int e = send_loop(mc);
		if (e < 0)
			warn(mc, "cannot build a cover packet: %s", e);
	}
	nym_timer_set(t, exp_us(mc, mc->c.loop_mean_ms));
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

/* Retransmit what timed out. */
static void
sweep_fire(struct nym_timer *t, void *arg)
{
	struct nym_mixclient *mc = arg;
	uint64_t now = nym_now_ms();
	struct mc_frag *f = mc->inflight, *n;
	int any = 0;
	for (; f; f = n) {
		n = f->fnext;
		if (f->state == F_INFLIGHT && now >= f->deadline_ms) {
			inflight_remove(mc, f);
			enqueue(mc, f);
			mc->st.retransmitted++;
			any = 1;
		}
	}
	if (any)
		kick(mc);
	nym_timer_set(t, MC_SWEEP_US);
}

/* ---- messages out ----------------------------------------------------------- */

static void
msg_free(struct nym_mixclient *mc, struct mc_msg *m)
{
	for (size_t i = 0; i < m->split.nfrags; i++) {
		struct mc_frag *f = &m->frags[i], **pp = &mc->hash[hslot(f->key)];
		while (*pp && *pp != f)
			pp = &(*pp)->hnext;
		if (*pp)
			*pp = f->hnext;
		if (f->state == F_INFLIGHT)
			inflight_remove(mc, f);
		f->state = 0; /* a queued one is skipped by dequeue... */
	}
	/* ...but the queue still points at them: unlink those */
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
	nym_split_free(&m->split);
	free(m->frags);
	free(m->buf);
	free(m);
}

static int
msg_queue(struct nym_mixclient *mc, uint8_t *buf, size_t len, const struct nym_address *to,
    const uint8_t *tag, uint64_t lane, uint64_t *msg_id)
{
	struct mc_msg *m = calloc(1, sizeof *m);
	int e;
	if (!m) {
		free(buf);
		return NYM_ENOMEM;
	}
	m->buf = buf;
	if ((e = nym_split_init(&m->split, buf, len, tag ? NYM_FRAGMENT_CAPACITY(2048) : mc->P,
	         mc->c.rng)) < 0) {
		free(buf);
		free(m);
		return e;
	}
	if (tag && surb_count(mc, tag) < m->split.nfrags) {
		nym_split_free(&m->split);
		free(buf);
		free(m);
		return NYM_EFULL;
	}
	if (!(m->frags = calloc(m->split.nfrags, sizeof *m->frags))) {
		nym_split_free(&m->split);
		free(buf);
		free(m);
		return NYM_ENOMEM;
	}
	m->id = ++mc->next_id;
	m->lane = lane;
	if (to)
		m->to = *to;
	if (tag) {
		m->reply = 1;
		memcpy(m->tag, tag, 16);
	}
	m->unacked = m->split.nfrags;
	for (size_t i = 0; i < m->split.nfrags; i++) {
		struct mc_frag *f = &m->frags[i];
		uint8_t id[NYM_FRAG_ID_LEN];
		/* the identifier only: header arithmetic, no payload copy needed,
		 * but nym_split_fragment is the one place that knows it */
		uint8_t *tmp = mc->scratch;
		if ((e = nym_split_fragment(&m->split, i, tmp, id)) < 0) {
			m->split.nfrags = i;
			msg_free(mc, m);
			return e;
		}
		f->m = m;
		f->idx = (uint32_t)i;
		f->key = frag_key(id);
		unsigned h = hslot(f->key);
		f->hnext = mc->hash[h];
		mc->hash[h] = f;
		enqueue(mc, f);
	}
	m->next = mc->msgs;
	if (mc->msgs)
		mc->msgs->prev = m;
	mc->msgs = m;
	if (msg_id)
		*msg_id = m->id;
	kick(mc);
	return 0;
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

static void
rkey_add(struct nym_mixclient *mc, const uint8_t key[16])
{
	struct mc_rkey *k = malloc(sizeof *k);
	if (!k)
		return;
	memcpy(k->key, key, 16);
	nym_reply_key_digest(k->digest, key);
	k->next = mc->rkeys[k->digest[0]];
	mc->rkeys[k->digest[0]] = k;
}

/* Pop the reply key whose digest starts blob. */
static int
rkey_take(struct nym_mixclient *mc, const uint8_t *digest, uint8_t key[16])
{
	struct mc_rkey **pp = &mc->rkeys[digest[0]];
	for (; *pp; pp = &(*pp)->next)
		if (nym_ct_eq((*pp)->digest, digest, 32)) {
			struct mc_rkey *k = *pp;
			memcpy(key, k->key, 16);
			*pp = k->next;
			nym_wipe(k, sizeof *k);
			free(k);
			return 0;
		}
	return NYM_ENOTFOUND;
}

int
nym_mixclient_send(struct nym_mixclient *mc, const struct nym_address *to, const uint8_t *data,
    size_t len, int surbs, uint64_t lane, uint64_t *msg_id)
{
	struct nym_message m;
	uint8_t *buf, *recs = NULL;
	size_t n;
	int e;

	if (!nym_topology_find_identity(mc->c.topo, to->gateway))
		return NYM_EROUTE;
	memset(&m, 0, sizeof m);
	m.data = data;
	m.data_len = len;
	if (surbs < 0)
		m.type = NYM_MSG_PLAIN;
	else {
		if (surbs > 65535)
			return NYM_ERANGE;
		m.type = NYM_MSG_REPLIABLE;
		m.content_tag = NYM_REPLIABLE_DATA_V2;
		nym_mixclient_sender_tag(mc, to, m.sender_tag);
		m.nsurbs = (size_t)surbs;
		m.surb_len = MC_SURB_LEN;
		m.surb_hops = surbs ? 4 : 0;
		m.surb_rotation = surbs ? mc->rotation : 0;
		if (surbs && !(recs = malloc((size_t)surbs * MC_SURB_LEN)))
			return NYM_ENOMEM;
		for (int i = 0; i < surbs; i++) {
			struct nym_sphinx_route sr;
			struct nym_surb s;
			uint8_t *r = recs + (size_t)i * MC_SURB_LEN;
			if ((e = route_to(mc, &sr, NYM_SPHINX_V259, mc->self.gateway, mc->self.identity,
			         mc->c.packet_delay_ms)) < 0 ||
			    (e = nym_rng_fill(mc->c.rng, r, 16)) < 0 ||
			    (e = nym_surb_create(&mc->sx, &s, NULL, &sr, mc->c.rng)) < 0 ||
			    (e = nym_surb_serialize(r + 16, MC_SURB_LEN - 16, &s)) < 0) {
				free(recs);
				return e < 0 ? e : NYM_EINVAL;
			}
			rkey_add(mc, r);
			nym_wipe(&s, sizeof s);
		}
		m.surbs = recs;
	}
	n = nym_message_encoded_len(&m);
	if (!(buf = malloc(n ? n : 1))) {
		free(recs);
		return NYM_ENOMEM;
	}
	e = nym_message_encode(buf, n, &m);
	free(recs);
	if (e < 0) {
		free(buf);
		return e;
	}
	return msg_queue(mc, buf, n, to, NULL, lane, msg_id);
}

int
nym_mixclient_reply(struct nym_mixclient *mc, const uint8_t tag[16], const uint8_t *data,
    size_t len, uint64_t lane, uint64_t *msg_id)
{
	struct nym_message m;
	uint8_t *buf;
	size_t n;
	int e;

	if (!surb_count(mc, tag))
		return NYM_ENOTFOUND;
	if (!len)
		return NYM_EINVAL; /* the official parser rejects an empty reply */
	memset(&m, 0, sizeof m);
	m.type = NYM_MSG_REPLY;
	m.content_tag = NYM_REPLY_DATA;
	m.data = data;
	m.data_len = len;
	n = nym_message_encoded_len(&m);
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &m)) < 0) {
		free(buf);
		return e;
	}
	return msg_queue(mc, buf, n, NULL, tag, lane, msg_id);
}

size_t
nym_mixclient_unacked(const struct nym_mixclient *mc, uint64_t lane)
{
	size_t n = 0;
	for (struct mc_msg *m = mc->msgs; m; m = m->next)
		if (!lane || m->lane == lane)
			n += m->unacked;
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
}

int
nym_mixclient_send_loop(struct nym_mixclient *mc)
{
	if (!mc->ready)
		return NYM_ENET;
	return send_loop(mc);
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

void
nym_mixclient_stats(const struct nym_mixclient *mc, struct nym_mixclient_stats *s)
{
	*s = mc->st;
}

/* ---- messages in ---------------------------------------------------------- */

static void
on_ack(struct nym_mixclient *mc, const uint8_t *blob, size_t len)
{
	uint8_t id[NYM_FRAG_ID_LEN];
	if (nym_ack_open(&mc->aes, id, blob, len, mc->keys.ack_key) < 0 || nym_ack_is_cover(id))
		return;
	uint64_t key = frag_key(id);
	for (struct mc_frag *f = mc->hash[hslot(key)]; f; f = f->hnext)
		if (f->key == key && f->state && f->state != F_ACKED) {
			struct mc_msg *m = f->m;
			if (f->state == F_INFLIGHT)
				inflight_remove(mc, f);
			f->state = F_ACKED; /* a queued copy is skipped by dequeue */
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

static void
store_surbs(struct nym_mixclient *mc, const struct nym_message *msg)
{
	struct mc_surbs *s;
	if (!msg->nsurbs || msg->surb_len != MC_SURB_LEN)
		return; /* v1 (1164-byte) SURBs are not used for replies here */
	for (s = mc->surbs; s; s = s->next)
		if (!memcmp(s->tag, msg->sender_tag, 16))
			break;
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return;
		memcpy(s->tag, msg->sender_tag, 16);
		s->next = mc->surbs;
		mc->surbs = s;
	}
	if (s->n + msg->nsurbs > s->cap) {
		size_t cap = s->n + msg->nsurbs + 16;
		uint8_t *nr = realloc(s->recs, cap * MC_SURB_LEN);
		if (!nr)
			return;
		s->recs = nr;
		s->cap = cap;
	}
	memcpy(s->recs + s->n * MC_SURB_LEN, msg->surbs, msg->nsurbs * MC_SURB_LEN);
	s->n += msg->nsurbs;
	s->rotation = msg->surb_rotation;
}

static void
deliver(struct nym_mixclient *mc, uint8_t *padded, size_t plen)
{
	struct nym_message msg;
	long n = nym_message_unpad(padded, plen);
	if (n < 0 || nym_message_parse(&msg, padded, (size_t)n) < 0) {
		if (mc->ev.warning)
			mc->ev.warning(mc, "dropped a malformed message", mc->ev.arg);
		return;
	}
	mc->st.messages++;
	switch (msg.type) {
	case NYM_MSG_PLAIN:
		if (mc->ev.message)
			mc->ev.message(mc, msg.data, msg.data_len, NULL, mc->ev.arg);
		break;
	case NYM_MSG_REPLIABLE:
		store_surbs(mc, &msg);
		if ((msg.content_tag == NYM_REPLIABLE_DATA_V1 || msg.content_tag == NYM_REPLIABLE_DATA_V2) &&
		    mc->ev.message)
			mc->ev.message(mc, msg.data, msg.data_len, msg.sender_tag, mc->ev.arg);
		break;
	case NYM_MSG_REPLY:
		if (msg.content_tag == NYM_REPLY_DATA && mc->ev.message)
			mc->ev.message(mc, msg.data, msg.data_len, NULL, mc->ev.arg);
		break;
	}
}

static void
on_payload(struct nym_mixclient *mc, const uint8_t *blob, size_t len)
{
	uint8_t *frag, key[16];
	struct nym_fragment f;
	uint8_t *out = NULL;
	size_t olen = 0;
	int e;

	if (len <= 32)
		return;
	mc->st.received_packets++;
	if (!(frag = malloc(len - 32)))
		return;
	if (rkey_take(mc, blob, key) == 0) {
		e = nym_payload_reply_decrypt(&mc->aes, frag, blob, len, key);
		nym_wipe(key, sizeof key);
	} else
		e = nym_payload_decrypt(&mc->aes, frag, blob, len, mc->keys.encryption_sk);
	if (e < 0)
		goto done;
	if (nym_cover_is(frag, len - 32)) {
		/* a loop of ours came back: find it by its ephemeral key */
		for (size_t i = 0; i < MC_LOOP_RING; i++)
			if (mc->loops[i].sent_us && !memcmp(mc->loops[i].epk, blob, 32)) {
				uint64_t rtt = now_us() - mc->loops[i].sent_us;
				mc->loops[i].sent_us = 0;
				mc->st.loops_returned++;
				if (mc->ev.loop)
					mc->ev.loop(mc, rtt, mc->ev.arg);
				break;
			}
		goto done;
	}
	if (nym_fragment_parse(&f, frag, len - 32) < 0)
		goto done;
	e = nym_reasm_add(mc->reasm, &f, nym_now_ms(), &out, &olen);
	if (e == 1) {
		deliver(mc, out, olen);
		free(out);
	}
done:
	free(frag);
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
gw_pushed(struct nym_gw *gw, const uint8_t *pt, size_t len, void *arg)
{
	struct nym_mixclient *mc = arg;
	(void)gw;
	if (len == NYM_ACK_BODY_LEN)
		on_ack(mc, pt, len);
	else
		on_payload(mc, pt, len);
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
	if (!(mc->scratch = malloc(3 * NYM_PACKET_MAX_LEN + 128)) ||
	    !(mc->reasm = nym_reasm_new(NULL)) || nym_sphinx_ctx_init(&mc->sx) < 0 ||
	    nym_aes128_ctr_init(&mc->aes) < 0) {
		free(mc->scratch);
		nym_reasm_free(mc->reasm);
		free(mc);
		return NYM_ENOMEM;
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
			nym_wipe(s->recs, s->cap * MC_SURB_LEN);
		free(s->recs);
		free(s);
	}
	for (int i = 0; i < 256; i++)
		for (struct mc_rkey *k = mc->rkeys[i], *n; k; k = n) {
			n = k->next;
			nym_wipe(k, sizeof *k);
			free(k);
		}
	nym_reasm_free(mc->reasm);
	nym_sphinx_ctx_free(&mc->sx);
	nym_aes128_ctr_free(&mc->aes);
	nym_wipe(&mc->keys, sizeof mc->keys);
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
		e = nym_topology_load_file(&s->topo, topology_file, terr, sizeof terr);
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
nym_mixclient_setup_free(struct nym_mixclient_setup *s)
{
	nym_topology_free(s->topo);
	s->topo = NULL;
	nym_wipe(&s->keys, sizeof s->keys);
}
