/* test_mixer.c — the mixer's delay queue, replay filter, and engine (with a
 * stand-in processor, so key choice, replays, delays and drops are tested
 * without Sphinx; the Sphinx path is tested end to end in t/nym-mixnode.bats). */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "io/mixer.h"
#include "proto/sphinx.h"
#include "test.h"

static double
secs(void)
{
	return (double)nym_mono_ns() / 1e9;
}

/* ------------------------------------------------------------ delay queue */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void
test_dq(void)
{
	struct nym_mixer_dq q;
	uint64_t due;
	static int items[8];

	CHECK(nym_mixer_dq_init(&q, 0) == NYM_EINVAL, "dq: capacity 0 refused");
	CHECK(nym_mixer_dq_init(&q, 4) == 0, "dq: init");
	CHECK(nym_mixer_dq_peek(&q, &due) == NYM_ENOTFOUND, "dq: empty peek");
	CHECK(nym_mixer_dq_pop_due(&q, ~0ull) == NULL, "dq: empty pop");
	nym_mixer_dq_push(&q, 30, &items[0]);
	nym_mixer_dq_push(&q, 10, &items[1]);
	nym_mixer_dq_push(&q, 20, &items[2]);
	nym_mixer_dq_push(&q, 10, &items[3]);
	CHECK(nym_mixer_dq_push(&q, 5, &items[4]) == NYM_EFULL, "dq: full at capacity");
	CHECK(nym_mixer_dq_peek(&q, &due) == 0 && due == 10, "dq: peek earliest");
	CHECK(nym_mixer_dq_pop_due(&q, 9) == NULL, "dq: nothing due before 10");
	void *a = nym_mixer_dq_pop_due(&q, 10), *b = nym_mixer_dq_pop_due(&q, 10);
	CHECK(a == &items[1] && b == &items[3], "dq: equal due times leave in arrival order");
	CHECK(nym_mixer_dq_pop_due(&q, 19) == NULL, "dq: 20 not due at 19");
	CHECK(nym_mixer_dq_pop_due(&q, 100) == &items[2], "dq: 20");
	CHECK(nym_mixer_dq_pop_due(&q, 100) == &items[0], "dq: 30");
	CHECK(q.n == 0, "dq: empty again");
	nym_mixer_dq_free(&q);

	/* 10^5 held packets, random due times: strict order, and cheap. */
	enum { N = 100000 };
	CHECK(nym_mixer_dq_init(&q, N) == 0, "dq: init 10^5");
	double t0 = secs();
	for (size_t i = 0; i < N; i++)
		nym_mixer_dq_push(&q, rnd() % 10000000000ull, (void *)(i + 1));
	double t1 = secs();
	uint64_t last = 0;
	size_t n = 0, bad = 0;
	for (;;) {
		uint64_t d;
		if (nym_mixer_dq_peek(&q, &d) != 0)
			break;
		if (d < last)
			bad++;
		last = d;
		if (!nym_mixer_dq_pop_due(&q, d))
			bad++;
		n++;
	}
	double t2 = secs();
	CHECK(n == N && bad == 0, "dq: 10^5 items come out in due order (%zu, %zu bad)", n, bad);
	double per = (t2 - t0) / N * 1e9;
	printf("# dq: 10^5 push %.1f ms, pop %.1f ms (%.0f ns per packet)\n",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3, per);
	CHECK(per < 20000, "dq: push+pop under 20 us per packet with 10^5 held (%.0f ns; O(n) would be far more)", per);

	/* Interleaved steady state: 10^5 held, one in one out. */
	for (size_t i = 0; i < N; i++)
		nym_mixer_dq_push(&q, 1000000 + rnd() % 1000000, (void *)1);
	t0 = secs();
	uint64_t now = 1000000;
	for (size_t i = 0; i < N; i++) {
		while (!nym_mixer_dq_pop_due(&q, now))
			now += 1000;
		nym_mixer_dq_push(&q, now + rnd() % 1000000, (void *)1);
	}
	t1 = secs();
	CHECK(q.n == N, "dq: steady state keeps 10^5 held");
	printf("# dq: steady state at 10^5 held: %.0f ns per pop+push\n", (t1 - t0) / N * 1e9);
	nym_mixer_dq_free(&q);
}

/* ------------------------------------------------------------ replay filter */
static void
mktag(uint8_t tag[32], uint64_t i)
{
	/* Pseudo-random like real tags (HKDF output). */
	for (int k = 0; k < 4; k++) {
		uint64_t x = i * 0x9e3779b97f4a7c15ull + (uint64_t)k * 0xbf58476d1ce4e5b9ull;
		x ^= x >> 31;
		x *= 0x94d049bb133111ebull;
		x ^= x >> 29;
		memcpy(tag + 8 * k, &x, 8);
	}
}

static void
test_replay(void)
{
	struct nym_mixer_replay r;
	uint8_t key[16] = { 1, 2, 3 }, tag[32];

	CHECK(nym_mixer_replay_init(&r, 0, key) == NYM_EINVAL, "replay: window 0 refused");
	CHECK(nym_mixer_replay_init(&r, 1000, key) == 0, "replay: init");
	CHECK(r.mask + 1 == 2048, "replay: 2048 slots per table for a window of 1000");
	mktag(tag, 1);
	CHECK(nym_mixer_replay_check_set(&r, tag) == 0, "replay: new tag accepted");
	CHECK(nym_mixer_replay_check_set(&r, tag) == NYM_EREPLAY, "replay: same tag refused");
	uint8_t zero[32] = { 0 };
	CHECK(nym_mixer_replay_check_set(&r, zero) == 0, "replay: all-zero tag accepted once");
	CHECK(nym_mixer_replay_check_set(&r, zero) == NYM_EREPLAY, "replay: all-zero tag refused after");

	/* Within the window everything is caught. */
	size_t fresh_refused = 0, replays_missed = 0;
	for (uint64_t i = 2; i < 1000; i++) {
		mktag(tag, i);
		if (nym_mixer_replay_check_set(&r, tag) != 0)
			fresh_refused++;
	}
	for (uint64_t i = 1; i < 1000; i++) {
		mktag(tag, i);
		if (nym_mixer_replay_check_set(&r, tag) != NYM_EREPLAY)
			replays_missed++;
	}
	CHECK(fresh_refused == 0 && replays_missed == 0,
	      "replay: 1000 fresh tags accepted, all replays caught (%zu, %zu)",
	      fresh_refused, replays_missed);

	/* Push 1500 more: the first 1000 are now in the old generation, still caught. */
	for (uint64_t i = 1000; i < 2500; i++) {
		mktag(tag, i);
		nym_mixer_replay_check_set(&r, tag);
	}
	replays_missed = 0;
	for (uint64_t i = 1500; i < 2500; i++) {
		mktag(tag, i);
		if (nym_mixer_replay_check_set(&r, tag) != NYM_EREPLAY)
			replays_missed++;
	}
	CHECK(replays_missed == 0, "replay: the last window's tags are all caught (%zu missed)",
	      replays_missed);
	/* After 2 more windows, the oldest are forgotten: bounded memory. */
	for (uint64_t i = 2500; i < 4600; i++) {
		mktag(tag, i);
		nym_mixer_replay_check_set(&r, tag);
	}
	mktag(tag, 5);
	CHECK(nym_mixer_replay_check_set(&r, tag) == 0, "replay: a tag older than 2 windows is forgotten");
	CHECK(r.count <= r.window, "replay: generation holds at most window tags");
	nym_mixer_replay_free(&r);

	/* Size and speed at the default window. */
	CHECK(nym_mixer_replay_init(&r, 262144, key) == 0, "replay: default window");
	CHECK((r.mask + 1) * 8 * 2 == 8u << 20, "replay: default window uses 8 MiB");
	double t0 = secs();
	size_t bad = 0;
	for (uint64_t i = 0; i < 1000000; i++) {
		mktag(tag, 1000000 + i);
		if (nym_mixer_replay_check_set(&r, tag) != 0)
			bad++;
	}
	double per = (secs() - t0) / 1e6 * 1e9;
	printf("# replay: %.0f ns per check-and-set over 10^6 tags (4 generations turned)\n", per);
	CHECK(bad == 0, "replay: 10^6 fresh tags, no false replay (%zu)", bad);
	CHECK(per < 10000, "replay: check-and-set under 10 us (%.0f ns)", per);
	nym_mixer_replay_free(&r);
}

/* ------------------------------------------------------------ engine */
/* Stand-in packet (80+ bytes): [0] key id (must equal sk[0], else EMAC),
 * [1] 0 forward / 1 final / 2 malformed, [2..10) delay ns BE, [10..42)
 * replay tag, [42..74) next hop. Processing flips byte 79. */
enum { FAKE_LEN = 80 };

static atomic_int tls_inits;

static int
fake_init(void *tls)
{
	*(int *)tls = 42;
	atomic_fetch_add(&tls_inits, 1);
	return 0;
}

static int
failing_init(void *tls)
{
	(void)tls;
	return -1;
}

static int
fake_process(void *tls, const uint8_t sk[32], uint8_t *p, size_t len, struct nym_mixer_result *r)
{
	if (*(int *)tls != 42 || len < FAKE_LEN)
		return NYM_EINVAL;
	if (p[0] != sk[0])
		return NYM_EMAC;
	if (p[1] == 2)
		return NYM_EFORMAT;
	r->final = p[1] == 1;
	r->delay_ns = 0;
	for (int i = 0; i < 8; i++)
		r->delay_ns = r->delay_ns << 8 | p[2 + i];
	memcpy(r->replay_tag, p + 10, 32);
	memcpy(r->next_hop, p + 42, 32);
	p[79] ^= 0xff;
	return 0;
}

static void
fake_pkt(uint8_t p[FAKE_LEN], uint8_t key, uint8_t kind, uint64_t delay, uint64_t id)
{
	memset(p, 0, FAKE_LEN);
	p[0] = key;
	p[1] = kind;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(delay >> (56 - 8 * i));
	mktag(p + 10, id);
	p[42] = 4;
	memcpy(p + 43, &id, 8);
	p[79] = 0x0f;
}

struct sink {
	int n;
	uint64_t ids[64];
	uint8_t rot[64];
	int flipped;
};

static void
collect(void *ctx, const struct nym_mixer_out *o)
{
	struct sink *s = ctx;
	uint64_t id;
	memcpy(&id, o->next_hop + 1, 8);
	if (s->n < 64) {
		s->ids[s->n] = id;
		s->rot[s->n] = o->rotation;
	}
	s->n++;
	if (o->len == FAKE_LEN && o->pkt[79] == 0xf0)
		s->flipped++;
}

static atomic_int finals;
static void
on_final(void *ctx, const struct nym_mixer_final *f)
{
	(void)ctx;
	if (f->len == FAKE_LEN && f->res->final)
		atomic_fetch_add(&finals, 1);
}

static struct nym_mixer *
mk(int with_final, int secondary, uint32_t rot, size_t held_max)
{
	struct nym_mixer_config c = { 0 };
	c.workers = 2;
	c.process = fake_process;
	c.tls_size = sizeof(int);
	c.thread_init = fake_init;
	c.held_max = held_max;
	c.queue_max = 65536;
	c.max_delay_ns = 50000000; /* 50 ms cap for the test */
	c.keys.primary[0] = 0xA1;
	c.keys.primary_rotation = rot;
	c.keys.has_secondary = secondary;
	c.keys.secondary[0] = 0xB2;
	c.replay_key[0] = 7;
	if (with_final)
		c.on_final = on_final;
	return nym_mixer_create(&c);
}

static void
test_engine(void)
{
	uint8_t p[FAKE_LEN];
	struct nym_mixer_stats st;
	struct sink s = { 0 };

	CHECK(nym_mixer_create(NULL) == NULL, "engine: no config refused");
	struct nym_mixer_config bad = { .workers = 2, .process = fake_process, .tls_size = sizeof(int),
	                                .thread_init = failing_init };
	errno = 0;
	CHECK(nym_mixer_create(&bad) == NULL && errno == EIO, "engine: a failing thread_init fails create (EIO)");

	struct nym_mixer *m = mk(0, 1, 7 /* odd primary */, 0);
	CHECK(m != NULL, "engine: created with 2 workers");
	CHECK(atomic_load(&tls_inits) == 2, "engine: thread_init ran on each worker");
	uint64_t t = nym_mono_ns();

	/* Delays: 30 ms, 10 ms, 0, and 5 s (capped at 50 ms). */
	fake_pkt(p, 0xA1, 0, 30000000, 1);
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 0, 10000000, 2);
	nym_mixer_submit(m, NYM_ROTATION_ODD, p, FAKE_LEN, t);
	fake_pkt(p, 0xB2, 0, 0, 3); /* secondary key, even parity */
	nym_mixer_submit(m, NYM_ROTATION_EVEN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 0, 5000000000ull, 4);
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xB2, 0, 0, 5); /* unknown rotation: primary fails, secondary works */
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	/* Drops. The replay only once the original is processed: two workers
	 * could otherwise take the replay first (then it is the one held, with
	 * no delay, and the original is the "replay"). */
	CHECK(nym_mixer_drain(m, 2000000000ull) == 0, "engine: the first five processed");
	fake_pkt(p, 0xA1, 0, 0, 1); /* replay of 1 */
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 0, 0, 6); /* even frame but primary (odd) key: secondary tried, MAC fails */
	nym_mixer_submit(m, NYM_ROTATION_EVEN, p, FAKE_LEN, t);
	fake_pkt(p, 0xC3, 0, 0, 7); /* no such key */
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 2, 0, 8); /* malformed */
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 1, 0, 9); /* final hop, no handler */
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 0, 0, 10);
	CHECK(nym_mixer_submit(m, 9, p, FAKE_LEN, t) == 0, "engine: bad rotation byte queued");
	CHECK(nym_mixer_submit(m, 0, p, 0, t) == NYM_ESIZE, "engine: empty packet refused");
	CHECK(nym_mixer_submit(m, 0, p, 40000, t) == NYM_ESIZE, "engine: oversized packet refused");
	nym_mixer_count_drop(m, NYM_MIXER_DROP_QUEUE);

	CHECK(nym_mixer_drain(m, 2000000000ull) == 0, "engine: drained");
	nym_mixer_stats(m, &st);
	CHECK(st.received == 13, "engine: 13 received (%llu)", (unsigned long long)st.received);
	CHECK(st.processed == 6, "engine: 6 processed (%llu)", (unsigned long long)st.processed);
	CHECK(st.held == 5, "engine: 5 held (%zu)", st.held);
	CHECK(st.dropped[NYM_MIXER_DROP_REPLAY] == 1, "engine: replay dropped");
	CHECK(st.dropped[NYM_MIXER_DROP_MAC] == 2, "engine: 2 bad MACs (%llu)",
	      (unsigned long long)st.dropped[NYM_MIXER_DROP_MAC]);
	CHECK(st.dropped[NYM_MIXER_DROP_MALFORMED] == 1, "engine: malformed dropped");
	CHECK(st.dropped[NYM_MIXER_DROP_FINAL] == 1, "engine: final hop without handler dropped");
	CHECK(st.dropped[NYM_MIXER_DROP_FRAME] == 1, "engine: bad rotation byte dropped");
	CHECK(st.dropped[NYM_MIXER_DROP_SIZE] == 2, "engine: bad sizes counted");
	CHECK(st.dropped[NYM_MIXER_DROP_QUEUE] == 1, "engine: caller's drop counted");
	CHECK(st.proc_count == 11 && st.proc_ns > 0, "engine: processing time measured");
	CHECK(!strcmp(nym_mixer_drop_name(NYM_MIXER_DROP_MAC), "bad_mac") &&
	      !strcmp(nym_mixer_drop_name(NYM_MIXER_DROP_REPLAY), "replay"), "engine: drop names");

	/* Release in due order, each not before its time. */
	CHECK(nym_mixer_next_due(m, t) == 0, "engine: zero-delay packets due at once");
	CHECK(nym_mixer_take_due(m, t, 0, collect, &s) == 2, "engine: 2 due at t");
	CHECK(nym_mixer_next_due(m, t) == 10000000, "engine: next due in 10 ms");
	CHECK(nym_mixer_take_due(m, t + 10000000, 0, collect, &s) == 1, "engine: 1 due at 10 ms");
	CHECK(nym_mixer_take_due(m, t + 49999999, 0, collect, &s) == 1, "engine: 1 due at 30 ms");
	CHECK(nym_mixer_next_due(m, t + 49999999) == 1, "engine: 5 s delay capped to 50 ms");
	CHECK(nym_mixer_take_due(m, t + 50000000, 0, collect, &s) == 1, "engine: capped one out");
	CHECK(nym_mixer_next_due(m, t) == -1, "engine: nothing held");
	CHECK(s.n == 5 && s.ids[2] == 2 && s.ids[3] == 1 && s.ids[4] == 4 &&
	      ((s.ids[0] == 3 && s.ids[1] == 5) || (s.ids[0] == 5 && s.ids[1] == 3)),
	      "engine: released in due order");
	CHECK(s.flipped == 5, "engine: forwarded the processed bytes");
	CHECK(s.rot[2] == NYM_ROTATION_ODD, "engine: rotation byte carried along");
	nym_mixer_stats(m, &st);
	CHECK(st.forwarded == 5 && st.held == 0, "engine: 5 forwarded");
	nym_mixer_destroy(m);

	/* Even primary, no secondary: odd frames name an expired key. Final hops
	 * go to the handler. The delay queue bound drops and counts. */
	m = mk(1, 0, 8, 3);
	t = nym_mono_ns();
	fake_pkt(p, 0xA1, 0, 0, 20);
	nym_mixer_submit(m, NYM_ROTATION_ODD, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 1, 0, 21);
	nym_mixer_submit(m, NYM_ROTATION_EVEN, p, FAKE_LEN, t);
	for (uint64_t i = 0; i < 5; i++) {
		fake_pkt(p, 0xA1, 0, 1000000, 30 + i);
		nym_mixer_submit(m, NYM_ROTATION_EVEN, p, FAKE_LEN, t);
	}
	nym_mixer_drain(m, 2000000000ull);
	nym_mixer_stats(m, &st);
	CHECK(st.dropped[NYM_MIXER_DROP_KEY] == 1, "engine: odd frame, only an even key: expired key");
	CHECK(atomic_load(&finals) == 1 && st.final_hop == 1, "engine: final hop handed over");
	CHECK(st.held == 3 && st.dropped[NYM_MIXER_DROP_OVERLOAD] == 2,
	      "engine: delay queue bound of 3: 2 dropped as overload");
	/* A key rotation while running: odd primary 0xB2, even secondary 0xA1. */
	struct nym_mixer_keys nk = {0};
	nk.primary[0] = 0xB2;
	nk.primary_rotation = 9;
	nk.has_secondary = 1;
	nk.secondary[0] = 0xA1;
	nym_mixer_set_keys(m, &nk);
	fake_pkt(p, 0xB2, 1, 0, 40); /* odd frame, new primary: a final hop, handed over */
	nym_mixer_submit(m, NYM_ROTATION_ODD, p, FAKE_LEN, t);
	fake_pkt(p, 0xA1, 1, 0, 41); /* even frame: the old key, now secondary */
	nym_mixer_submit(m, NYM_ROTATION_EVEN, p, FAKE_LEN, t);
	nym_mixer_drain(m, 2000000000ull);
	CHECK(atomic_load(&finals) == 3, "engine: after set_keys both rotations' packets processed");
	nym_mixer_destroy(m); /* frees held packets (ASan checks) */

	/* The pool's byte bound: room for 2 small buffers only. */
	struct nym_mixer_config pc = {0};
	pc.workers = 1;
	pc.process = fake_process;
	pc.tls_size = sizeof(int);
	pc.thread_init = fake_init;
	pc.pool_bytes_max = 1200;
	pc.keys.primary[0] = 0xA1;
	m = nym_mixer_create(&pc);
	t = nym_mono_ns();
	int accepted = 0;
	for (uint64_t i = 0; i < 4; i++) {
		fake_pkt(p, 0xA1, 0, 1000000000, 50 + i);
		accepted += nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t) == 0;
	}
	nym_mixer_drain(m, 2000000000ull);
	nym_mixer_stats(m, &st);
	CHECK(accepted == 2 && st.held == 2 && st.dropped[NYM_MIXER_DROP_OVERLOAD] == 2 && st.pooled == 2,
	      "engine: pool_bytes_max bounds the buffers (%d accepted)", accepted);
	nym_mixer_destroy(m);

	/* Throughput of the plumbing alone, and the wake-up fd. */
	m = mk(0, 0, 0, 0);
	struct sink s2 = { 0 };
	t = nym_mono_ns();
	enum { M = 20000 };
	for (uint64_t i = 0; i < M; i++) {
		fake_pkt(p, 0xA1, 0, 0, 1000 + i);
		nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	}
	nym_mixer_drain(m, 5000000000ull);
	size_t got = nym_mixer_take_due(m, nym_mono_ns(), 0, collect, &s2);
	double per = (double)(nym_mono_ns() - t) / M;
	nym_mixer_stats(m, &st);
	printf("# engine: %.0f ns per packet through queue, workers, replay, delay queue\n", per);
	CHECK(got == M && st.dropped[NYM_MIXER_DROP_OVERLOAD] == 0, "engine: 20000 through (%zu)", got);
	size_t pooled = st.pooled;
	CHECK(nym_mixer_next_due(m, nym_mono_ns()) == -1, "engine: all taken");
	/* A second round reuses the buffers of the first: no allocation. */
	for (uint64_t i = 0; i < M; i++) {
		fake_pkt(p, 0xA1, 0, 0, 100000 + i);
		nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, p, FAKE_LEN, t);
	}
	nym_mixer_drain(m, 5000000000ull);
	struct pollfd pfd = { nym_mixer_wakefd(m), POLLIN, 0 };
	CHECK(poll(&pfd, 1, 0) == 1, "engine: wake fd readable when packets are due");
	got = nym_mixer_take_due(m, nym_mono_ns(), 0, collect, &s2);
	CHECK(poll(&pfd, 1, 0) == 0, "engine: wake fd reset by take_due");
	nym_mixer_stats(m, &st);
	CHECK(got == M && st.pooled == pooled, "engine: second round from the pool (%zu buffers)",
	      st.pooled);
	nym_mixer_destroy(m);
}

/* The default processor is lib/proto/sphinx.h: a real packet, the node's key as
 * the secondary (the primary fails the MAC first and must leave the packet
 * untouched), compared with processing a copy directly. */
static void
out_copy(void *ctx, const struct nym_mixer_out *o)
{
	uint8_t *dst = ctx;
	memcpy(dst, o->next_hop, 32);
	memcpy(dst + 32, o->pkt, o->len);
}

static void
test_sphinx_default(void)
{
	enum { LEN = 2413 };
	static uint8_t pkt[LEN], direct[LEN], got[32 + LEN];
	uint8_t sk[32], wrong[32];
	struct nym_sphinx_route r;

	memset(&r, 0, sizeof r);
	for (int i = 0; i < 32; i++) {
		sk[i] = (uint8_t)(i + 1);
		wrong[i] = (uint8_t)(i + 101);
	}
	r.version = NYM_SPHINX_V259;
	r.nhops = 2;
	nym_x25519_base(r.hop[0].pubkey, sk);
	nym_x25519_base(r.hop[1].pubkey, wrong);
	uint8_t a0[] = { 4, 0x06, 0xfd, 127, 0, 0, 1 }, a1[] = { 4, 0x06, 0xfe, 127, 0, 0, 1 };
	memcpy(r.hop[0].address, a0, sizeof a0);
	memcpy(r.hop[1].address, a1, sizeof a1);
	r.delay_ns[0] = 1000000;
	struct nym_rng rng = nym_rng_system();
	int rc = nym_sphinx_create(NULL, pkt, LEN, &r, (const uint8_t *)"hello", 5, &rng);
	CHECK(rc == 0, "sphinx: packet created (%d)", rc);
	memcpy(direct, pkt, LEN);
	struct nym_sphinx_processed pr;
	CHECK(nym_sphinx_process(NULL, direct, LEN, sk, &pr) == 0 && !pr.final, "sphinx: direct processing");

	struct nym_mixer_config c = { 0 };
	c.workers = 1;
	memcpy(c.keys.primary, wrong, 32);
	c.keys.has_secondary = 1;
	memcpy(c.keys.secondary, sk, 32);
	struct nym_mixer *m = nym_mixer_create(&c);
	CHECK(m != NULL, "sphinx: mixer with the default processor");
	uint64_t t = nym_mono_ns();
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, pkt, LEN, t);
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, pkt, LEN, t); /* replay */
	pkt[100] ^= 1;
	nym_mixer_submit(m, NYM_ROTATION_UNKNOWN, pkt, LEN, t); /* broken MAC */
	nym_mixer_drain(m, 5000000000ull);
	CHECK(nym_mixer_next_due(m, t) == 1000000, "sphinx: held for the header's 1 ms");
	CHECK(nym_mixer_take_due(m, t + 1000000, 0, out_copy, got) == 1, "sphinx: released");
	CHECK_MEM(got, a1, sizeof a1, "sphinx: next hop from the header");
	CHECK_MEM(got + 32, direct, LEN, "sphinx: same bytes as direct processing");
	struct nym_mixer_stats st;
	nym_mixer_stats(m, &st);
	CHECK(st.dropped[NYM_MIXER_DROP_REPLAY] == 1 && st.dropped[NYM_MIXER_DROP_MAC] == 1,
	      "sphinx: replay and bad MAC dropped");
	nym_mixer_destroy(m);
}

int
main(void)
{
	test_sphinx_default();
	test_dq();
	test_replay();
	test_engine();
	return t_done();
}
