/* mixer.c — worker pool, replay filter and delay queue of a mix node.
 * See mixer.h for the flow and the bounds. */
#include "io/mixer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/keys.h"
#include "proto/sphinx.h"

/* ---------------------------------------------------------------- delay queue */

int
nym_mixer_dq_init(struct nym_mixer_dq *q, size_t cap)
{
	memset(q, 0, sizeof *q);
	if (cap == 0)
		return NYM_EINVAL;
	q->h = calloc(cap, sizeof *q->h);
	if (!q->h)
		return NYM_ENOMEM;
	q->cap = cap;
	return 0;
}

void
nym_mixer_dq_free(struct nym_mixer_dq *q)
{
	free(q->h);
	memset(q, 0, sizeof *q);
}

static int
dq_less(const struct nym_mixer_dq_ent *a, const struct nym_mixer_dq_ent *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

int
nym_mixer_dq_push(struct nym_mixer_dq *q, uint64_t due, void *item)
{
	if (q->n == q->cap)
		return NYM_EFULL;
	struct nym_mixer_dq_ent e = { due, q->seq++, item };
	size_t i = q->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!dq_less(&e, &q->h[p]))
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = e;
	return 0;
}

int
nym_mixer_dq_peek(const struct nym_mixer_dq *q, uint64_t *due)
{
	if (q->n == 0)
		return NYM_ENOTFOUND;
	*due = q->h[0].due;
	return 0;
}

void *
nym_mixer_dq_pop_due(struct nym_mixer_dq *q, uint64_t now)
{
	if (q->n == 0 || q->h[0].due > now)
		return NULL;
	void *item = q->h[0].item;
	struct nym_mixer_dq_ent last = q->h[--q->n];
	size_t i = 0, n = q->n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && dq_less(&q->h[c + 1], &q->h[c]))
			c++;
		if (!dq_less(&q->h[c], &last))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	if (n)
		q->h[i] = last;
	return item;
}

/* ---------------------------------------------------------------- replay filter */

int
nym_mixer_replay_init(struct nym_mixer_replay *r, size_t window, const uint8_t key[16])
{
	memset(r, 0, sizeof *r);
	if (window == 0 || window > ((size_t)1 << 40))
		return NYM_EINVAL;
	size_t slots = 2;
	while (slots < 2 * window)
		slots <<= 1;
	for (int g = 0; g < 2; g++) {
		r->gen[g] = calloc(slots, sizeof(uint64_t));
		if (!r->gen[g]) {
			nym_mixer_replay_free(r);
			return NYM_ENOMEM;
		}
	}
	r->mask = slots - 1;
	r->window = window;
	memcpy(r->key, key, 16);
	return 0;
}

void
nym_mixer_replay_free(struct nym_mixer_replay *r)
{
	free(r->gen[0]);
	free(r->gen[1]);
	nym_wipe(r->key, sizeof r->key);
	memset(r, 0, sizeof *r);
}

/* Slot of fp in table t, or the empty slot where it would go. Loads stay at
 * or below 1/2, so an empty slot always exists and probes are short. */
static size_t
replay_find(const uint64_t *t, size_t mask, size_t start, uint64_t fp)
{
	size_t i = start;
	while (t[i] != 0 && t[i] != fp)
		i = (i + 1) & mask;
	return i;
}

int
nym_mixer_replay_check_set(struct nym_mixer_replay *r, const uint8_t tag[32])
{
	uint8_t h[8];
	uint64_t fp, hv;

	nym_siphash24(h, tag, 32, r->key);
	memcpy(&hv, h, 8);
	memcpy(&fp, tag, 8);
	if (fp == 0)
		fp = 1; /* 0 marks an empty slot */
	size_t start = (size_t)hv & r->mask;
	uint64_t *cur = r->gen[r->cur], *old = r->gen[r->cur ^ 1];
	size_t ic = replay_find(cur, r->mask, start, fp);
	if (cur[ic] == fp || old[replay_find(old, r->mask, start, fp)] == fp)
		return NYM_EREPLAY;
	if (r->count == r->window) {
		/* Forget the oldest generation; the newest stays searchable. */
		memset(old, 0, (r->mask + 1) * sizeof(uint64_t));
		r->cur ^= 1;
		r->count = 0;
		cur = old;
		ic = replay_find(cur, r->mask, start, fp);
	}
	cur[ic] = fp;
	r->count++;
	return 0;
}

/* ---------------------------------------------------------------- the engine */

static const char *const drop_names[NYM_MIXER_DROP_N] = {
	[NYM_MIXER_DROP_FRAME] = "bad_frame",
	[NYM_MIXER_DROP_SIZE] = "bad_size",
	[NYM_MIXER_DROP_MAC] = "bad_mac",
	[NYM_MIXER_DROP_KEY] = "expired_key",
	[NYM_MIXER_DROP_MALFORMED] = "malformed",
	[NYM_MIXER_DROP_REPLAY] = "replay",
	[NYM_MIXER_DROP_NEXT_HOP] = "bad_next_hop",
	[NYM_MIXER_DROP_FINAL] = "final_hop",
	[NYM_MIXER_DROP_OVERLOAD] = "overload",
	[NYM_MIXER_DROP_QUEUE] = "queue_full",
};

const char *
nym_mixer_drop_name(enum nym_mixer_drop d)
{
	return (unsigned)d < NYM_MIXER_DROP_N ? drop_names[d] : "unknown";
}

/* A pooled packet buffer. Size classes keep small packets (acks) from
 * pinning 33 KB buffers. */
struct pkt {
	struct pkt *next;       /* pool free list or worker queue */
	uint64_t t_in;          /* arrival (caller's clock) */
	uint64_t due;
	uint32_t len;
	uint8_t cls;
	uint8_t rotation;
	uint8_t user;
	uint8_t next_hop[32];
	_Alignas(16) uint8_t data[];
};

#define NCLS 5
static const size_t cls_size[NCLS] = { 512, 2560, 8704, 16896, 0 /* max_packet */ };

struct nym_mixer {
	struct nym_mixer_config cfg;
	size_t csize[NCLS];

	/* pool */
	pthread_mutex_t pool_mx;
	struct pkt *free_list[NCLS];
	size_t pooled, pooled_bytes;

	/* worker queue */
	pthread_mutex_t q_mx;
	pthread_cond_t q_cv, idle_cv;
	struct pkt *q_head, *q_tail;
	size_t q_len;
	unsigned busy;
	int stop;

	/* keys (replaced by nym_mixer_set_keys; workers copy them per packet) */
	pthread_mutex_t k_mx;

	/* replay */
	pthread_mutex_t r_mx;
	struct nym_mixer_replay replay;

	/* delay queue */
	pthread_mutex_t dq_mx;
	struct nym_mixer_dq dq;
	int wakefd;
	atomic_int wake_pending;

	pthread_t *threads;
	unsigned nthreads;
	unsigned started;       /* workers past thread_init (or failed) */
	int start_err;

	atomic_uint_fast64_t received, processed, forwarded, final_hop, proc_ns, proc_count;
	atomic_uint_fast64_t dropped[NYM_MIXER_DROP_N];
};

void
nym_mixer_count_drop(struct nym_mixer *m, enum nym_mixer_drop why)
{
	if ((unsigned)why < NYM_MIXER_DROP_N)
		atomic_fetch_add_explicit(&m->dropped[why], 1, memory_order_relaxed);
}

static struct pkt *
pool_get(struct nym_mixer *m, size_t len)
{
	int c = 0;
	while (c < NCLS - 1 && m->csize[c] < len)
		c++;
	pthread_mutex_lock(&m->pool_mx);
	struct pkt *p = m->free_list[c];
	if (p) {
		m->free_list[c] = p->next;
	} else {
		/* Warm-up only: buffers are recycled, never freed before destroy. */
		size_t sz = (sizeof *p + m->csize[c] + 15) & ~(size_t)15;
		p = m->pooled_bytes + sz <= m->cfg.pool_bytes_max ? aligned_alloc(16, sz) : NULL;
		if (p) {
			p->cls = (uint8_t)c;
			m->pooled++;
			m->pooled_bytes += sz;
		}
	}
	pthread_mutex_unlock(&m->pool_mx);
	return p;
}

static void
pool_put(struct nym_mixer *m, struct pkt *p)
{
	pthread_mutex_lock(&m->pool_mx);
	p->next = m->free_list[p->cls];
	m->free_list[p->cls] = p;
	pthread_mutex_unlock(&m->pool_mx);
}

/* The default processor: lib/proto/sphinx.h, one AES context per worker. */
static int
sphinx_init(void *tls)
{
	return nym_sphinx_ctx_init(tls);
}

static void
sphinx_free(void *tls)
{
	nym_sphinx_ctx_free(tls);
}

static int
sphinx_process(void *tls, const uint8_t sk[32], uint8_t *pkt, size_t len,
               struct nym_mixer_result *res)
{
	struct nym_sphinx_processed out;
	int rc = nym_sphinx_process(tls, pkt, len, sk, &out);
	if (rc == 0) {
		res->final = out.final;
		res->version = out.version;
		memcpy(res->replay_tag, out.replay_tag, 32);
		if (out.final) {
			memcpy(res->destination, out.destination, 32);
			memcpy(res->surb_id, out.identifier, 16);
		} else {
			memcpy(res->next_hop, out.next_hop, 32);
			res->delay_ns = out.delay_ns;
		}
	}
	nym_wipe(&out, sizeof out);
	return rc;
}

static void
wake_io(struct nym_mixer *m)
{
	if (atomic_exchange(&m->wake_pending, 1) == 0) {
		uint64_t one = 1;
		ssize_t w = write(m->wakefd, &one, sizeof one);
		(void)w; /* an eventfd write only fails when the counter saturates */
	}
}

static void
handle(struct nym_mixer *m, void *tls, struct pkt *p)
{
	struct nym_mixer_result res;
	struct nym_mixer_keys k;
	const uint8_t *keys[2];

	pthread_mutex_lock(&m->k_mx);
	k = m->cfg.keys;
	pthread_mutex_unlock(&m->k_mx);
	int nk = nym_sphinx_keys_pick(p->rotation, k.primary, k.primary_rotation,
	                              k.has_secondary ? k.secondary : NULL, keys);
	int rc = NYM_EMAC;

	if (nk <= 0) {
		nym_mixer_count_drop(m, nk == 0 ? NYM_MIXER_DROP_KEY : NYM_MIXER_DROP_FRAME);
		goto recycle;
	}
	for (int i = 0; i < nk && rc == NYM_EMAC; i++) {
		memset(&res, 0, sizeof res);
		rc = m->cfg.process(tls, keys[i], p->data, p->len, &res);
	}
	if (rc != 0) {
		nym_mixer_count_drop(m, rc == NYM_EMAC ? NYM_MIXER_DROP_MAC : NYM_MIXER_DROP_MALFORMED);
		goto recycle;
	}
	if (!m->cfg.replay_off) {
		pthread_mutex_lock(&m->r_mx);
		rc = nym_mixer_replay_check_set(&m->replay, res.replay_tag);
		pthread_mutex_unlock(&m->r_mx);
		if (rc != 0) {
			nym_mixer_count_drop(m, NYM_MIXER_DROP_REPLAY);
			goto recycle;
		}
	}
	atomic_fetch_add_explicit(&m->processed, 1, memory_order_relaxed);
	if (res.final) {
		if (!m->cfg.on_final) {
			nym_mixer_count_drop(m, NYM_MIXER_DROP_FINAL);
			goto recycle;
		}
		struct nym_mixer_final f = { &res, p->data, p->len, p->rotation, p->user };
		m->cfg.on_final(m->cfg.ctx, &f);
		atomic_fetch_add_explicit(&m->final_hop, 1, memory_order_relaxed);
		goto recycle;
	}

	uint64_t delay = res.delay_ns < m->cfg.max_delay_ns ? res.delay_ns : m->cfg.max_delay_ns;
	p->due = p->t_in + delay;
	memcpy(p->next_hop, res.next_hop, 32);
	pthread_mutex_lock(&m->dq_mx);
	uint64_t top;
	int was_top = nym_mixer_dq_peek(&m->dq, &top) != 0 || p->due < top;
	rc = nym_mixer_dq_push(&m->dq, p->due, p);
	pthread_mutex_unlock(&m->dq_mx);
	nym_wipe(&res, sizeof res);
	if (rc != 0) {
		nym_mixer_count_drop(m, NYM_MIXER_DROP_OVERLOAD);
		nym_wipe(&k, sizeof k);
		pool_put(m, p);
		return;
	}
	if (was_top)
		wake_io(m);
	nym_wipe(&k, sizeof k);
	return;
recycle:
	nym_wipe(&res, sizeof res);
	nym_wipe(&k, sizeof k);
	pool_put(m, p);
}

static void *
worker(void *arg)
{
	struct nym_mixer *m = arg;
	void *tls = NULL;
	int err = 0;

	if (m->cfg.tls_size && !(tls = calloc(1, m->cfg.tls_size)))
		err = ENOMEM;
	else if (m->cfg.thread_init && m->cfg.thread_init(tls) != 0)
		err = EIO;
	/* Report in, started or not: nym_mixer_create waits for every worker. */
	pthread_mutex_lock(&m->q_mx);
	if (err)
		m->start_err = err;
	m->started++;
	pthread_cond_broadcast(&m->idle_cv);
	if (err) {
		pthread_mutex_unlock(&m->q_mx);
		free(tls);
		return NULL;
	}
	for (;;) {
		while (!m->stop && !m->q_head)
			pthread_cond_wait(&m->q_cv, &m->q_mx);
		if (!m->q_head)
			break; /* stopping, and nothing left */
		struct pkt *p = m->q_head;
		m->q_head = p->next;
		if (!m->q_head)
			m->q_tail = NULL;
		m->q_len--;
		m->busy++;
		pthread_mutex_unlock(&m->q_mx);

		uint64_t t0 = nym_mono_ns();
		handle(m, tls, p);
		atomic_fetch_add_explicit(&m->proc_ns, nym_mono_ns() - t0, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->proc_count, 1, memory_order_relaxed);

		pthread_mutex_lock(&m->q_mx);
		m->busy--;
		if (m->busy == 0 && !m->q_head)
			pthread_cond_broadcast(&m->idle_cv);
	}
	pthread_mutex_unlock(&m->q_mx);
	if (m->cfg.thread_free)
		m->cfg.thread_free(tls);
	if (tls) {
		nym_wipe(tls, m->cfg.tls_size);
		free(tls);
	}
	return NULL;
}

static void
stop_workers(struct nym_mixer *m)
{
	pthread_mutex_lock(&m->q_mx);
	m->stop = 1;
	pthread_cond_broadcast(&m->q_cv);
	pthread_mutex_unlock(&m->q_mx);
	for (unsigned i = 0; i < m->nthreads; i++)
		pthread_join(m->threads[i], NULL);
	m->nthreads = 0;
}

static void
free_list(struct nym_mixer *m, struct pkt *p)
{
	while (p) {
		struct pkt *n = p->next;
		nym_wipe(p->data, m->csize[p->cls]);
		free(p);
		p = n;
	}
}

void
nym_mixer_destroy(struct nym_mixer *m)
{
	if (!m)
		return;
	stop_workers(m);
	free(m->threads);
	free_list(m, m->q_head);
	for (int c = 0; c < NCLS; c++)
		free_list(m, m->free_list[c]);
	if (m->dq.h) {
		for (size_t i = 0; i < m->dq.n; i++) {
			struct pkt *p = m->dq.h[i].item;
			p->next = NULL;
			free_list(m, p);
		}
		nym_mixer_dq_free(&m->dq);
	}
	if (m->replay.gen[0])
		nym_mixer_replay_free(&m->replay);
	if (m->wakefd >= 0)
		close(m->wakefd);
	pthread_mutex_destroy(&m->pool_mx);
	pthread_mutex_destroy(&m->q_mx);
	pthread_mutex_destroy(&m->r_mx);
	pthread_mutex_destroy(&m->k_mx);
	pthread_mutex_destroy(&m->dq_mx);
	pthread_cond_destroy(&m->q_cv);
	pthread_cond_destroy(&m->idle_cv);
	nym_wipe(&m->cfg.keys, sizeof m->cfg.keys);
	nym_wipe(m->cfg.replay_key, sizeof m->cfg.replay_key);
	free(m);
}

struct nym_mixer *
nym_mixer_create(const struct nym_mixer_config *cfg)
{
	if (!cfg) {
		errno = EINVAL;
		return NULL;
	}
	struct nym_mixer *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->wakefd = -1;
	pthread_mutex_init(&m->pool_mx, NULL);
	pthread_mutex_init(&m->q_mx, NULL);
	pthread_mutex_init(&m->r_mx, NULL);
	pthread_mutex_init(&m->k_mx, NULL);
	pthread_mutex_init(&m->dq_mx, NULL);
	pthread_cond_init(&m->q_cv, NULL);
	pthread_cond_init(&m->idle_cv, NULL);

	struct nym_mixer_config *c = &m->cfg;
	if (!c->process) {
		c->process = sphinx_process;
		c->tls_size = sizeof(struct nym_sphinx_ctx);
		c->thread_init = sphinx_init;
		c->thread_free = sphinx_free;
	}
	if (!c->workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = n > 0 ? (unsigned)n : 1;
	}
	if (!c->queue_max)
		c->queue_max = 16384;
	if (!c->held_max)
		c->held_max = 131072;
	if (!c->max_delay_ns)
		c->max_delay_ns = NYM_MIXER_MAX_DELAY_NS;
	if (!c->max_packet)
		c->max_packet = NYM_PACKET_MAX_LEN;
	if (!c->pool_bytes_max)
		c->pool_bytes_max = (size_t)512 << 20;
	if (!c->replay_window)
		c->replay_window = 262144;
	for (int i = 0; i < NCLS; i++)
		m->csize[i] = cls_size[i] && cls_size[i] < c->max_packet ? cls_size[i] : c->max_packet;

	int err = ENOMEM;
	if (nym_mixer_dq_init(&m->dq, c->held_max) != 0)
		goto fail;
	if (!c->replay_off && nym_mixer_replay_init(&m->replay, c->replay_window, c->replay_key) != 0)
		goto fail;
	m->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->wakefd < 0) {
		err = errno;
		goto fail;
	}
	m->threads = calloc(c->workers, sizeof *m->threads);
	if (!m->threads)
		goto fail;
	for (unsigned i = 0; i < c->workers; i++) {
		int e = pthread_create(&m->threads[i], NULL, worker, m);
		if (e) {
			err = e;
			goto fail;
		}
		m->nthreads++;
	}
	/* Wait until every worker is past thread_init, so a failure there fails
	 * create rather than a later packet. */
	pthread_mutex_lock(&m->q_mx);
	while (m->started < m->nthreads)
		pthread_cond_wait(&m->idle_cv, &m->q_mx);
	err = m->start_err;
	pthread_mutex_unlock(&m->q_mx);
	if (err)
		goto fail;
	return m;
fail:
	nym_mixer_destroy(m);
	errno = err;
	return NULL;
}

int
nym_mixer_submit(struct nym_mixer *m, uint8_t rotation, const uint8_t *pkt, size_t len,
                 uint64_t now_ns)
{
	return nym_mixer_submit_user(m, rotation, 0, pkt, len, now_ns);
}

int
nym_mixer_submit_user(struct nym_mixer *m, uint8_t rotation, uint8_t user, const uint8_t *pkt,
                      size_t len, uint64_t now_ns)
{
	atomic_fetch_add_explicit(&m->received, 1, memory_order_relaxed);
	if (len == 0 || len > m->cfg.max_packet) {
		nym_mixer_count_drop(m, NYM_MIXER_DROP_SIZE);
		return NYM_ESIZE;
	}
	struct pkt *p = pool_get(m, len);
	if (!p) {
		nym_mixer_count_drop(m, NYM_MIXER_DROP_OVERLOAD);
		return NYM_EFULL;
	}
	memcpy(p->data, pkt, len);
	p->len = (uint32_t)len;
	p->rotation = rotation;
	p->user = user;
	p->t_in = now_ns;
	p->next = NULL;

	pthread_mutex_lock(&m->q_mx);
	if (m->q_len >= m->cfg.queue_max) {
		pthread_mutex_unlock(&m->q_mx);
		pool_put(m, p);
		nym_mixer_count_drop(m, NYM_MIXER_DROP_OVERLOAD);
		return NYM_EFULL;
	}
	if (m->q_tail)
		m->q_tail->next = p;
	else
		m->q_head = p;
	m->q_tail = p;
	m->q_len++;
	/* Wake a worker only if some may be asleep: busy workers re-check the
	 * queue before they sleep. */
	if (m->busy < m->nthreads)
		pthread_cond_signal(&m->q_cv);
	pthread_mutex_unlock(&m->q_mx);
	return 0;
}

void
nym_mixer_set_keys(struct nym_mixer *m, const struct nym_mixer_keys *keys)
{
	pthread_mutex_lock(&m->k_mx);
	m->cfg.keys = *keys;
	pthread_mutex_unlock(&m->k_mx);
}

int
nym_mixer_wakefd(const struct nym_mixer *m)
{
	return m->wakefd;
}

int64_t
nym_mixer_next_due(struct nym_mixer *m, uint64_t now_ns)
{
	uint64_t due;
	pthread_mutex_lock(&m->dq_mx);
	int rc = nym_mixer_dq_peek(&m->dq, &due);
	pthread_mutex_unlock(&m->dq_mx);
	if (rc != 0)
		return -1;
	return due <= now_ns ? 0 : (int64_t)(due - now_ns);
}

size_t
nym_mixer_take_due(struct nym_mixer *m, uint64_t now_ns, size_t max,
                   void (*out)(void *ctx, const struct nym_mixer_out *o), void *ctx)
{
	enum { BATCH = 64 };
	struct pkt *batch[BATCH];
	size_t total = 0;
	uint64_t v;

	/* Reset the wake-up before looking: drain the eventfd first, then clear
	 * the flag. A worker that saw the flag still set did not signal, but its
	 * packet is already in the heap, where this call and the caller's next
	 * nym_mixer_next_due see it; one that comes after the clear signals. */
	if (atomic_load(&m->wake_pending)) {
		ssize_t r = read(m->wakefd, &v, sizeof v);
		(void)r;
		atomic_store(&m->wake_pending, 0);
	}
	for (;;) {
		size_t n = 0;
		pthread_mutex_lock(&m->dq_mx);
		while (n < BATCH && (!max || total + n < max)) {
			struct pkt *p = nym_mixer_dq_pop_due(&m->dq, now_ns);
			if (!p)
				break;
			batch[n++] = p;
		}
		pthread_mutex_unlock(&m->dq_mx);
		for (size_t i = 0; i < n; i++) {
			struct pkt *p = batch[i];
			struct nym_mixer_out o = { p->next_hop, p->data, p->len, p->rotation, p->due, p->user };
			out(ctx, &o);
			pool_put(m, p);
		}
		total += n;
		atomic_fetch_add_explicit(&m->forwarded, n, memory_order_relaxed);
		if (n < BATCH || (max && total >= max))
			break;
	}
	return total;
}

void
nym_mixer_stats(struct nym_mixer *m, struct nym_mixer_stats *s)
{
	memset(s, 0, sizeof *s);
	s->received = atomic_load_explicit(&m->received, memory_order_relaxed);
	s->processed = atomic_load_explicit(&m->processed, memory_order_relaxed);
	s->forwarded = atomic_load_explicit(&m->forwarded, memory_order_relaxed);
	s->final_hop = atomic_load_explicit(&m->final_hop, memory_order_relaxed);
	s->proc_ns = atomic_load_explicit(&m->proc_ns, memory_order_relaxed);
	s->proc_count = atomic_load_explicit(&m->proc_count, memory_order_relaxed);
	for (int i = 0; i < NYM_MIXER_DROP_N; i++)
		s->dropped[i] = atomic_load_explicit(&m->dropped[i], memory_order_relaxed);
	pthread_mutex_lock(&m->q_mx);
	s->queued = m->q_len + m->busy;
	pthread_mutex_unlock(&m->q_mx);
	pthread_mutex_lock(&m->dq_mx);
	s->held = m->dq.n;
	pthread_mutex_unlock(&m->dq_mx);
	pthread_mutex_lock(&m->pool_mx);
	s->pooled = m->pooled;
	pthread_mutex_unlock(&m->pool_mx);
}

int
nym_mixer_drain(struct nym_mixer *m, uint64_t timeout_ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t end = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + timeout_ns;
	ts.tv_sec = (time_t)(end / 1000000000ull);
	ts.tv_nsec = (long)(end % 1000000000ull);
	int rc = 0;
	pthread_mutex_lock(&m->q_mx);
	while (m->q_head || m->busy) {
		if (pthread_cond_timedwait(&m->idle_cv, &m->q_mx, &ts) == ETIMEDOUT) {
			rc = (m->q_head || m->busy) ? NYM_ETIMEOUT : 0;
			break;
		}
	}
	pthread_mutex_unlock(&m->q_mx);
	return rc;
}
