/* finalhop.c — a gateway's mix side. See finalhop.h. */
#include "io/finalhop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/ack.h"
#include "proto/framing.h"
#include "proto/packet.h"
#include "proto/sphinx.h"

#define SEND_QUEUE_MAX 20000

/* A packet for a next hop, on its way to the mix thread. */
struct fwd {
	struct fwd *next;
	struct nym_netio_addr to;
	size_t hl, len;
	uint8_t data[];           /* frame header (hl) || packet */
};

/* A final-hop payload on its way to the caller. */
struct push {
	struct push *next;
	uint8_t client[32];
	size_t len;
	uint8_t data[];
};

struct nym_finalhop {
	struct nym_finalhop_config cfg;
	struct nym_netio *io;
	struct nym_mixer *mixer;
	pthread_t th;
	int running;
	atomic_int stop;
	int efd;                  /* eventfd: the send queue is not empty */
	pthread_mutex_t mu;       /* guards the queues and io_snap */
	struct fwd *fq_head, *fq_tail;
	size_t fq_n;
	struct push *pq_head, *pq_tail;
	atomic_int woken;         /* ready() was called and nothing was taken since */
	struct nym_netio_stats io_snap;
	atomic_uint_fast64_t received, final, acks, not_final, malformed, queue_full, refused;
};

int
nym_finalhop_addr(struct nym_netio_addr *to, const uint8_t *hop, size_t hop_len)
{
	struct nym_node_addr na;
	int e = nym_node_addr_decode(&na, hop, hop_len);

	return e < 0 ? e : nym_netio_addr_from_ip(to, na.ip, na.family == 4 ? 4 : 16, na.port);
}

int
nym_finalhop_send(struct nym_finalhop *fh, const struct nym_netio_addr *to, uint8_t frame_version,
                  uint8_t packet_type, uint8_t rotation, const uint8_t *pkt, size_t len)
{
	uint8_t hdr[NYM_FRAME_HEADER_MAX];
	int hl = nym_frame_header_write(hdr, frame_version, len, packet_type, rotation);
	struct fwd *f;
	uint64_t one = 1;

	if (hl < 0)
		return hl;
	if (!(f = malloc(sizeof *f + (size_t)hl + len)))
		return NYM_ENOMEM;
	f->next = NULL;
	f->to = *to;
	f->hl = (size_t)hl;
	f->len = (size_t)hl + len;
	memcpy(f->data, hdr, (size_t)hl);
	memcpy(f->data + hl, pkt, len);
	pthread_mutex_lock(&fh->mu);
	if (fh->fq_n >= fh->cfg.send_queue_max) {
		pthread_mutex_unlock(&fh->mu);
		free(f);
		fh->queue_full++;
		return NYM_EFULL;
	}
	if (fh->fq_tail)
		fh->fq_tail->next = f;
	else
		fh->fq_head = f;
	fh->fq_tail = f;
	fh->fq_n++;
	pthread_mutex_unlock(&fh->mu);
	if (write(fh->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		return NYM_EIO;
	return 0;
}

/* Mix thread: the send queue has packets. */
static void
drain_sends(void *ctx)
{
	struct nym_finalhop *fh = ctx;
	struct fwd *f, *n;
	uint64_t v;

	if (read(fh->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&fh->mu);
	f = fh->fq_head;
	fh->fq_head = fh->fq_tail = NULL;
	fh->fq_n = 0;
	pthread_mutex_unlock(&fh->mu);
	for (; f; f = n) {
		n = f->next;
		if (nym_netio_send(fh->io, &f->to, f->data, f->hl, f->data + f->hl, f->len - f->hl) != 0)
			fh->queue_full++;
		free(f);
	}
}

/* Mix thread: one frame from a mix node goes to the mixer's workers, its
 * version riding along (the SURB-ack goes out in the same). */
static void
on_frame(void *ctx, const struct nym_netio_addr *from, const uint8_t *frame, size_t len)
{
	struct nym_finalhop *fh = ctx;
	struct nym_frame_header h;

	(void)from;
	fh->received++;
	if (nym_frame_need(&h, frame, len) != (long)len || h.packet_type != NYM_PACKET_TYPE_MIX) {
		fh->malformed++;
		return;
	}
	nym_mixer_submit_user(fh->mixer, h.key_rotation, h.version, frame + h.header_len,
	                      h.packet_len, nym_mono_ns());
}

/* Mixer worker: a final-hop packet, opened and new. */
static void
on_final(void *ctx, const struct nym_mixer_final *f)
{
	struct nym_finalhop *fh = ctx;
	const uint8_t *msg = f->pkt + NYM_SPHINX_HEADER_LEN, *rest = NULL;
	struct nym_mix_packet ack;
	struct nym_netio_addr to;
	size_t mlen, rest_len = 0;
	struct push *p;

	if (f->len < NYM_SPHINX_HEADER_LEN ||
	    nym_sphinx_unpad(msg, f->len - NYM_SPHINX_HEADER_LEN, &mlen) != 0) {
		fh->malformed++;
		return;
	}
	msg += 16;
	if (f->len == (size_t)nym_size_tag_len(NYM_SIZE_ACK)) { /* an ack carries no SURB-ack */
		rest = msg;
		rest_len = mlen;
		ack.packet = NULL;
	} else if (nym_ack_block_split(&ack, &rest, &rest_len, msg, mlen) != 0) {
		fh->malformed++;
		return;
	}
	/* the payload must have a place before its SURB-ack says it arrived:
	 * refused (no room for its recipient) or no memory, the sender resends */
	if (fh->cfg.admit && fh->cfg.admit(fh->cfg.ctx, f->res->destination, rest_len) != 0) {
		fh->refused++;
		return;
	}
	if (!(p = malloc(sizeof *p + rest_len))) {
		if (fh->cfg.settle)
			fh->cfg.settle(fh->cfg.ctx, f->res->destination, rest_len);
		fh->queue_full++;
		return;
	}
	if (ack.packet) {
		if (nym_finalhop_addr(&to, ack.next_hop, ack.next_hop_len) == 0 &&
		    nym_finalhop_send(fh, &to, f->user, NYM_PACKET_TYPE_MIX, f->rotation, ack.packet,
		                      ack.packet_len) == 0)
			fh->acks++;
		else
			fh->queue_full++;
	}
	p->next = NULL;
	memcpy(p->client, f->res->destination, 32);
	p->len = rest_len;
	memcpy(p->data, rest, rest_len);
	pthread_mutex_lock(&fh->mu);
	if (fh->pq_tail)
		fh->pq_tail->next = p;
	else
		fh->pq_head = p;
	fh->pq_tail = p;
	pthread_mutex_unlock(&fh->mu);
	fh->final++;
	if (fh->cfg.ready && !atomic_exchange(&fh->woken, 1))
		fh->cfg.ready(fh->cfg.ctx);
}

/* Mix thread: a packet that was not for its last hop here. */
static void
not_final(void *ctx, const struct nym_mixer_out *o)
{
	struct nym_finalhop *fh = ctx;
	(void)o;
	fh->not_final++;
}

static void
on_wake(void *ctx)
{
	struct nym_finalhop *fh = ctx;
	nym_mixer_take_due(fh->mixer, nym_mono_ns(), 0, not_final, fh);
}

static void
on_event(void *ctx, const struct nym_netio_event *ev)
{
	struct nym_finalhop *fh = ctx;
	if (fh->cfg.event)
		fh->cfg.event(fh->cfg.ctx, ev);
}

static void *
mix_thread(void *arg)
{
	struct nym_finalhop *fh = arg;

	while (!fh->stop) {
		if (nym_netio_run(fh->io, 200) < 0 && errno != EINTR)
			break;
		on_wake(fh);
		pthread_mutex_lock(&fh->mu);
		nym_netio_stats(fh->io, &fh->io_snap);
		pthread_mutex_unlock(&fh->mu);
	}
	return NULL;
}

int
nym_finalhop_start(struct nym_finalhop **out, const struct nym_finalhop_config *cfg)
{
	struct nym_finalhop *fh = calloc(1, sizeof *fh);
	int err;

	*out = NULL;
	if (!fh)
		return NYM_ENOMEM;
	fh->cfg = *cfg;
	fh->efd = -1;
	if (!fh->cfg.send_queue_max)
		fh->cfg.send_queue_max = SEND_QUEUE_MAX;
	pthread_mutex_init(&fh->mu, NULL);
	struct nym_mixer_config mc = {
		.workers = cfg->workers, .replay_window = cfg->replay_window, .keys = cfg->keys,
		.max_delay_ns = 1, /* packets for another hop are due at once: dropped (not_final) */
		.on_final = on_final, .ctx = fh,
	};
	memcpy(mc.replay_key, cfg->replay_key, sizeof mc.replay_key);
	struct nym_netio_config nc = {
		.frame_len = nym_frame_len, .on_frame = on_frame, .on_event = on_event, .ctx = fh,
		.peer_queue_max = cfg->peer_queue_max, .idle_timeout_ms = cfg->idle_timeout_ms,
		.known = cfg->known, .n_known = cfg->n_known,
	};
	fh->mixer = nym_mixer_create(&mc);
	nym_wipe(&mc, sizeof mc);
	nym_wipe(&fh->cfg.keys, sizeof fh->cfg.keys); /* the mixer has its copy */
	nym_wipe(fh->cfg.replay_key, sizeof fh->cfg.replay_key);
	if (!fh->mixer || !(fh->io = nym_netio_create(&nc)) ||
	    (fh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    nym_netio_watch(fh->io, fh->efd, drain_sends, fh) != 0 ||
	    nym_netio_watch(fh->io, nym_mixer_wakefd(fh->mixer), on_wake, fh) != 0 ||
	    nym_netio_listen(fh->io, &cfg->listen) < 0)
		goto fail;
	if ((err = pthread_create(&fh->th, NULL, mix_thread, fh)) != 0) {
		errno = err;
		goto fail;
	}
	fh->running = 1;
	*out = fh;
	return 0;
fail:
	err = errno;
	nym_finalhop_free(fh);
	errno = err;
	return NYM_EIO;
}

size_t
nym_finalhop_take(struct nym_finalhop *fh,
                  void (*fn)(void *arg, const uint8_t client[32], const uint8_t *msg, size_t len),
                  void *arg)
{
	struct push *p, *n;
	size_t count = 0;

	atomic_store(&fh->woken, 0); /* before looking: a payload queued after this wakes again */
	pthread_mutex_lock(&fh->mu);
	p = fh->pq_head;
	fh->pq_head = fh->pq_tail = NULL;
	pthread_mutex_unlock(&fh->mu);
	for (; p; p = n, count++) {
		n = p->next;
		fn(arg, p->client, p->data, p->len);
		free(p);
	}
	return count;
}

void
nym_finalhop_stats(struct nym_finalhop *fh, struct nym_finalhop_stats *s)
{
	struct nym_mixer_stats m;

	memset(s, 0, sizeof *s);
	if (fh->mixer)
		nym_mixer_stats(fh->mixer, &m);
	else
		memset(&m, 0, sizeof m);
	pthread_mutex_lock(&fh->mu);
	s->io = fh->io_snap;
	pthread_mutex_unlock(&fh->mu);
#define D(x) m.dropped[NYM_MIXER_DROP_##x]
	s->received = fh->received;
	s->final = fh->final;
	s->acks = fh->acks;
	s->refused = fh->refused;
	s->bad_mac = D(MAC) + D(KEY);
	s->replay = D(REPLAY);
	s->not_final = fh->not_final;
	s->malformed = fh->malformed + D(FRAME) + D(SIZE) + D(MALFORMED);
	s->queue_full = fh->queue_full + D(OVERLOAD) + s->io.frames_dropped;
#undef D
}

void
nym_finalhop_stop(struct nym_finalhop *fh)
{
	if (fh->running) {
		fh->stop = 1;
		pthread_join(fh->th, NULL);
		fh->running = 0;
	}
	/* the workers are done after this: no more payloads */
	nym_mixer_destroy(fh->mixer);
	fh->mixer = NULL;
}

void
nym_finalhop_free(struct nym_finalhop *fh)
{
	if (!fh)
		return;
	nym_finalhop_stop(fh);
	nym_netio_destroy(fh->io);
	if (fh->efd >= 0)
		close(fh->efd);
	for (struct fwd *f = fh->fq_head, *n; f; f = n) {
		n = f->next;
		free(f);
	}
	for (struct push *p = fh->pq_head, *n; p; p = n) {
		n = p->next;
		free(p);
	}
	pthread_mutex_destroy(&fh->mu);
	nym_wipe(&fh->cfg, sizeof fh->cfg);
	free(fh);
}
