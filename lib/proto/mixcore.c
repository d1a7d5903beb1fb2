/* mixcore.c — the send/retransmit/pacing engine of mixcore.h. Fragments
 * are found by their ack id through a hash; the in-flight list is what the
 * retransmission check walks. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/delay.h"
#include "proto/mixcore.h"

#define HASH_BITS 16
#define SWEEP_US 50000ull   /* retransmission check */
#define PUMP_MAX 256        /* packets a poll when not paced */
#define PUMP_WAIT_US 1000ull   /* back-pressure: look again in 1 ms when not paced */
#define RETRY_MS 1000       /* a rebuild that failed is tried again after */

enum { F_QUEUED = 1, F_INFLIGHT, F_ACKED, F_LOST };

struct frag {
	struct nym_mixcore_msg *m;
	uint64_t key;                 /* set_id << 8 | position: the ack id */
	int state;
	uint64_t deadline_ms, timeout_ms;
	uint8_t *mp;                  /* MixPacket to send; NULL once sent */
	size_t mp_len;
	uint8_t *frag;                /* the fragment, for a rebuild */
	size_t frag_len;
	struct frag *hnext;           /* ack hash chain */
	struct frag *qnext;           /* send queue */
	struct frag *fnext, *fprev;   /* in-flight list */
};

struct nym_mixcore_msg {
	struct nym_mixcore *k;
	struct nym_mixcore_msg *next, *prev;
	uint64_t id, lane;
	struct frag *frags;
	size_t nfrags, unacked;
	struct nym_address to;
	int reply;                    /* sent through SURBs of tag */
	uint8_t tag[16];
	struct frag *building;        /* the fragment a rebuild is for */
};

struct nym_mixcore {
	struct nym_mixcore_config c;
	struct nym_mixcore_ops ops;
	struct nym_mixcore_msg *msgs;
	uint64_t next_id;
	struct frag *qhead, *qtail;
	size_t queued;
	struct frag *inflight;
	int ready;
	/* due times in µs of the injected clock; 0 = not scheduled */
	uint64_t tick_at, loop_at, pump_at, sweep_at;
	struct nym_mixcore_stats st;
	struct frag *hash[1u << HASH_BITS];
};

static unsigned
hslot(uint64_t key)
{
	key *= 0x9e3779b97f4a7c15ull;
	return (unsigned)(key >> (64 - HASH_BITS));
}

static uint64_t
frag_key(const uint8_t id[NYM_FRAG_ID_LEN])
{
	return (uint64_t)id[0] << 32 | (uint64_t)id[1] << 24 | (uint64_t)id[2] << 16 |
	    (uint64_t)id[3] << 8 | id[4];
}

/* Exponential sample with mean mean_ms, in microseconds (the mean itself
 * if the rng fails). */
static uint64_t
exp_us(const struct nym_mixcore *k, double mean_ms)
{
	uint64_t ns = 0;
	if (nym_delay_sample(&ns, (uint64_t)(mean_ms * 1e6), k->c.rng) < 0)
		ns = (uint64_t)(mean_ms * 1e6);
	return ns / 1000;
}

static void
warn(struct nym_mixcore *k, const char *fmt, int e)
{
	if (k->ops.warning)
		k->ops.warning(k->ops.ctx, fmt, e);
}

struct nym_mixcore *
nym_mixcore_new(const struct nym_mixcore_config *c, const struct nym_mixcore_ops *ops, uint64_t now_ms)
{
	struct nym_mixcore *k = calloc(1, sizeof *k);
	if (!k)
		return NULL;
	k->c = *c;
	k->ops = *ops;
	k->sweep_at = now_ms * 1000 + SWEEP_US;
	return k;
}

/* ---- queue and in-flight list ---------------------------------------------- */

static void
enqueue(struct nym_mixcore *k, struct frag *f)
{
	f->state = F_QUEUED;
	f->qnext = NULL;
	if (k->qtail)
		k->qtail->qnext = f;
	else
		k->qhead = f;
	k->qtail = f;
	k->queued++;
}

static struct frag *
dequeue(struct nym_mixcore *k)
{
	struct frag *f;
	while ((f = k->qhead)) {
		k->qhead = f->qnext;
		if (!k->qhead)
			k->qtail = NULL;
		k->queued--;
		if (f->state == F_QUEUED)
			return f;
	}
	return NULL;
}

static void
inflight_add(struct nym_mixcore *k, struct frag *f, uint64_t deadline_ms)
{
	f->deadline_ms = deadline_ms;
	f->state = F_INFLIGHT;
	f->fprev = NULL;
	f->fnext = k->inflight;
	if (k->inflight)
		k->inflight->fprev = f;
	k->inflight = f;
}

static void
inflight_remove(struct nym_mixcore *k, struct frag *f)
{
	if (f->fprev)
		f->fprev->fnext = f->fnext;
	else if (k->inflight == f)
		k->inflight = f->fnext;
	if (f->fnext)
		f->fnext->fprev = f->fprev;
	f->fnext = f->fprev = NULL;
}

/* Unpaced: pump the queue at the next poll. */
static void
kick(struct nym_mixcore *k)
{
	if (k->c.send_mean_ms <= 0 && k->ready && !k->pump_at)
		k->pump_at = 1; /* due whatever now is */
}

/* ---- messages ---------------------------------------------------------------- */

struct nym_mixcore_msg *
nym_mixcore_msg_new(struct nym_mixcore *k, uint64_t lane, const struct nym_mixcore_dest *d)
{
	struct nym_mixcore_msg *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->k = k;
	m->id = ++k->next_id;
	m->lane = lane;
	if (d && d->to)
		m->to = *d->to;
	if (d && d->reply_tag) {
		m->reply = 1;
		memcpy(m->tag, d->reply_tag, 16);
	}
	return m;
}

/* The slot of fragment index of count, with its bytes and ack id. */
static int
frag_slot(struct nym_mixcore_msg *m, size_t index, size_t count, const uint8_t *fragment, size_t len,
    const uint8_t frag_id[NYM_FRAG_ID_LEN], struct frag **out)
{
	struct frag *f;
	if (!m->frags) {
		if (!count || !(m->frags = calloc(count, sizeof *m->frags)))
			return NYM_ENOMEM;
		m->nfrags = count;
	}
	if (index >= m->nfrags)
		return NYM_EINVAL;
	f = &m->frags[index];
	if (!f->frag && !(f->frag = malloc(len ? len : 1)))
		return NYM_ENOMEM;
	memcpy(f->frag, fragment, len);
	f->frag_len = len;
	f->m = m;
	f->key = frag_key(frag_id);
	*out = f;
	return 0;
}

int
nym_mixcore_fragment(struct nym_mixcore_msg *m, size_t index, size_t count, const uint8_t *fragment,
    size_t len, const uint8_t frag_id[NYM_FRAG_ID_LEN])
{
	struct frag *f;
	return frag_slot(m, index, count, fragment, len, frag_id, &f);
}

/* Keep one packet courier built: its MixPacket, fragment, ack id, timeout. */
int
nym_mixcore_collect(void *msg, const struct nym_courier_packet *p)
{
	struct nym_mixcore_msg *m = msg;
	struct frag *f = m->building;
	uint8_t *mp = malloc(p->mix_packet_len);
	int e;

	if (!mp)
		return NYM_ENOMEM;
	memcpy(mp, p->mix_packet, p->mix_packet_len);
	if (!f && (e = frag_slot(m, p->index, p->count, p->fragment, p->fragment_len, p->frag_id, &f)) < 0) {
		free(mp);
		return e;
	}
	free(f->mp);
	f->mp = mp;
	f->mp_len = p->mix_packet_len;
	f->timeout_ms = p->timeout_ms;
	return 0;
}

static void
frag_unhash(struct nym_mixcore *k, struct frag *f)
{
	struct frag **pp = &k->hash[hslot(f->key)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
}

void
nym_mixcore_discard(struct nym_mixcore_msg *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfrags; i++) {
		free(m->frags[i].mp);
		free(m->frags[i].frag);
	}
	free(m->frags);
	free(m);
}

/* Unlink a committed message from everything and free it. */
static void
msg_free(struct nym_mixcore *k, struct nym_mixcore_msg *m)
{
	for (size_t i = 0; i < m->nfrags; i++) {
		struct frag *f = &m->frags[i];
		frag_unhash(k, f);
		if (f->state == F_INFLIGHT)
			inflight_remove(k, f);
	}
	/* the send queue may still point at its fragments */
	struct frag **qp = &k->qhead, *last = NULL;
	while (*qp) {
		if ((*qp)->m == m) {
			*qp = (*qp)->qnext;
			k->queued--;
		} else {
			last = *qp;
			qp = &(*qp)->qnext;
		}
	}
	k->qtail = last;
	if (m->prev)
		m->prev->next = m->next;
	else if (k->msgs == m)
		k->msgs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	nym_mixcore_discard(m);
}

void
nym_mixcore_free(struct nym_mixcore *k)
{
	if (!k)
		return;
	while (k->msgs)
		msg_free(k, k->msgs);
	free(k);
}

int
nym_mixcore_commit(struct nym_mixcore *k, struct nym_mixcore_msg *m, uint64_t *msg_id)
{
	if (!m->nfrags)
		return NYM_EINVAL;
	for (size_t i = 0; i < m->nfrags; i++)
		if (!m->frags[i].m || !m->frags[i].frag)
			return NYM_EINVAL;
	for (size_t i = 0; i < m->nfrags; i++) {
		struct frag *f = &m->frags[i];
		unsigned h = hslot(f->key);
		f->hnext = k->hash[h];
		k->hash[h] = f;
		enqueue(k, f);
	}
	m->unacked = m->nfrags;
	m->next = k->msgs;
	if (k->msgs)
		k->msgs->prev = m;
	k->msgs = m;
	if (msg_id)
		*msg_id = m->id;
	kick(k);
	return 0;
}

/* One fragment done (acked, or lost); the message goes when all are. */
static void
frag_done(struct nym_mixcore *k, struct frag *f, int state)
{
	struct nym_mixcore_msg *m = f->m;
	uint64_t id = m->id;
	size_t left;

	if (f->state == F_INFLIGHT)
		inflight_remove(k, f);
	f->state = state; /* a queued retransmission is skipped */
	if (m->unacked)
		m->unacked--;
	left = m->unacked;
	if (!left)
		msg_free(k, m);
	if (k->ops.acked && (state == F_ACKED || !left))
		k->ops.acked(k->ops.ctx, id, left);
}

int
nym_mixcore_ack(struct nym_mixcore *k, const uint8_t frag_id[NYM_FRAG_ID_LEN])
{
	uint64_t key = frag_key(frag_id);
	for (struct frag *f = k->hash[hslot(key)]; f; f = f->hnext)
		if (f->key == key && (f->state == F_QUEUED || f->state == F_INFLIGHT)) {
			k->st.acks++;
			frag_done(k, f, F_ACKED);
			return 1;
		}
	return 0;
}

/* A fresh packet for f (new route, key, ack) from ops.build. */
static int
rebuild(struct nym_mixcore *k, struct frag *f)
{
	struct nym_mixcore_msg *m = f->m;
	struct nym_mixcore_dest d = {m->reply ? NULL : &m->to, m->reply ? m->tag : NULL};
	int e;
	m->building = f;
	e = k->ops.build(k->ops.ctx, &d, f->frag, f->frag_len, nym_mixcore_collect, m);
	m->building = NULL;
	return e < 0 ? e : 0;
}

/* ---- sending ------------------------------------------------------------------ */

/* Hand f's packet to the gateway; its ack timer starts now. */
static int
send_frag(struct nym_mixcore *k, struct frag *f, uint64_t now_ms)
{
	int e;
	if (!f->mp && (e = rebuild(k, f)) < 0)
		return e;
	if ((e = k->ops.emit(k->ops.ctx, f->mp, f->mp_len)) < 0)
		return e;
	free(f->mp);
	f->mp = NULL;
	inflight_add(k, f, now_ms + f->timeout_ms);
	k->st.real_sent++;
	return 0;
}

/* Send one queued real packet; 0 if none was queued (or it failed), 1 if sent. */
static int
send_next(struct nym_mixcore *k, uint64_t now_ms)
{
	struct frag *f = dequeue(k);
	int e;
	if (!f)
		return 0;
	if ((e = send_frag(k, f, now_ms)) < 0) {
		warn(k, "cannot send a packet: %s", e);
		enqueue(k, f);
		return 0;
	}
	return 1;
}

static void
cover(struct nym_mixcore *k)
{
	int e = k->ops.cover(k->ops.ctx);
	if (e < 0)
		warn(k, "cannot build a cover packet: %s", e);
}

/* Retransmit what timed out: rebuild and requeue. */
static void
sweep(struct nym_mixcore *k, uint64_t now_ms)
{
	struct frag *f = k->inflight, *n;
	int any = 0, e;

	for (; f; f = n) {
		n = f->fnext;
		if (f->state != F_INFLIGHT || now_ms < f->deadline_ms)
			continue;
		inflight_remove(k, f);
		f->state = F_QUEUED; /* not in flight while rebuilt */
		if ((e = rebuild(k, f)) == NYM_ENOTFOUND) {
			warn(k, "no reply SURB left to retransmit a reply packet (%s)", e);
			frag_done(k, f, F_LOST);
			continue;
		}
		if (e < 0) {
			warn(k, "cannot rebuild a packet: %s", e);
			inflight_add(k, f, now_ms + RETRY_MS); /* try again in a second */
			continue;
		}
		enqueue(k, f);
		k->st.retransmitted++;
		any = 1;
	}
	if (any)
		kick(k);
	if (k->ops.sweep)
		k->ops.sweep(k->ops.ctx, now_ms);
}

void
nym_mixcore_set_ready(struct nym_mixcore *k, int ready, uint64_t now_ms)
{
	uint64_t now = now_ms * 1000;
	k->ready = ready;
	if (!ready)
		return;
	if (k->c.send_mean_ms > 0 && !k->tick_at)
		k->tick_at = now + exp_us(k, k->c.send_mean_ms);
	if (k->c.loop_mean_ms > 0 && !k->loop_at)
		k->loop_at = now + exp_us(k, k->c.loop_mean_ms);
	kick(k);
}

uint64_t
nym_mixcore_poll(struct nym_mixcore *k, uint64_t now_ms)
{
	uint64_t now = now_ms * 1000;

	if (k->tick_at && now >= k->tick_at) {
		if (k->ready && k->ops.can_send(k->ops.ctx) && !send_next(k, now_ms) && k->c.main_cover)
			cover(k);
		k->tick_at = now + exp_us(k, k->c.send_mean_ms);
	}
	if (k->loop_at && now >= k->loop_at) {
		if (k->ready && k->ops.can_send(k->ops.ctx))
			cover(k);
		k->loop_at = now + exp_us(k, k->c.loop_mean_ms);
	}
	if (k->sweep_at && now >= k->sweep_at) {
		sweep(k, now_ms);
		k->sweep_at = now + SWEEP_US;
	}
	if (k->pump_at && now >= k->pump_at) {
		int n = 0;
		k->pump_at = 0;
		if (k->ready) {
			while (n < PUMP_MAX && k->ops.can_send(k->ops.ctx) && send_next(k, now_ms))
				n++;
			if (k->qhead)
				k->pump_at = now + (k->ops.can_send(k->ops.ctx) ? 0 : PUMP_WAIT_US);
		}
	}
	return nym_mixcore_wait_us(k, now_ms);
}

uint64_t
nym_mixcore_wait_us(const struct nym_mixcore *k, uint64_t now_ms)
{
	uint64_t now = now_ms * 1000, at = UINT64_MAX;
	const uint64_t due[] = {k->tick_at, k->loop_at, k->sweep_at, k->pump_at};

	for (size_t i = 0; i < sizeof due / sizeof due[0]; i++)
		if (due[i] && due[i] < at)
			at = due[i];
	return at == UINT64_MAX ? UINT64_MAX : at > now ? at - now : 0;
}

/* ---- queries ------------------------------------------------------------------- */

size_t
nym_mixcore_unacked(const struct nym_mixcore *k, uint64_t lane)
{
	size_t n = 0;
	for (const struct nym_mixcore_msg *m = k->msgs; m; m = m->next)
		if (!lane || m->lane == lane)
			n += m->unacked;
	return n;
}

size_t
nym_mixcore_msg_unacked(const struct nym_mixcore *k, uint64_t msg_id)
{
	for (const struct nym_mixcore_msg *m = k->msgs; m; m = m->next)
		if (m->id == msg_id)
			return m->unacked;
	return 0;
}

void
nym_mixcore_forget_lane(struct nym_mixcore *k, uint64_t lane)
{
	struct nym_mixcore_msg *m = k->msgs, *n;
	if (!lane)
		return;
	for (; m; m = n) {
		n = m->next;
		if (m->lane == lane)
			msg_free(k, m);
	}
}

size_t
nym_mixcore_queued(const struct nym_mixcore *k)
{
	return k->queued;
}

void
nym_mixcore_stats(const struct nym_mixcore *k, struct nym_mixcore_stats *s)
{
	*s = k->st;
}
