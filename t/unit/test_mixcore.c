/* test_mixcore.c — the client engine's sending, retransmission and pacing
 * (lib/proto/mixcore.h) with an injected clock, fake packets and a fixed rng. */
#include "base/err.h"
#include "proto/delay.h"
#include "proto/mixcore.h"
#include "test.h"

/* What the fake gateway saw: packets "<fragment byte>:<build number>". */
struct io {
	int sent[64][2];       /* fragment byte, build number */
	int nsent, covers, builds, refuse, full, lost_build;
	uint64_t acked_id;
	size_t acked_left;
	int nacked, warnings;
};

static int
f_emit(void *ctx, const uint8_t *mp, size_t len)
{
	struct io *io = ctx;
	if (io->refuse || len != 2)
		return NYM_ENET;
	io->sent[io->nsent][0] = mp[0];
	io->sent[io->nsent][1] = mp[1];
	io->nsent++;
	return 0;
}
static int f_can_send(void *ctx) { return !((struct io *)ctx)->full; }
static int
f_cover(void *ctx)
{
	((struct io *)ctx)->covers++;
	return 0;
}
static void
f_acked(void *ctx, uint64_t id, size_t left)
{
	struct io *io = ctx;
	io->acked_id = id;
	io->acked_left = left;
	io->nacked++;
}
static void
f_warning(void *ctx, const char *fmt, int e)
{
	(void)fmt, (void)e;
	((struct io *)ctx)->warnings++;
}

/* A courier-like packet for fragment byte b: timeout 1000 ms. */
static int
fake(nym_courier_emit_fn emit, void *ectx, const uint8_t *frag, size_t idx, size_t count, int build)
{
	uint8_t mp[2] = {frag[0], (uint8_t)build}, id[NYM_FRAG_ID_LEN] = {0, 0, 0, 7, frag[0]};
	struct nym_courier_packet p = {.mix_packet = mp, .mix_packet_len = 2, .index = idx, .count = count,
	                               .timeout_ms = 1000, .fragment = frag, .fragment_len = 1};
	memcpy(p.frag_id, id, sizeof id);
	return emit(ectx, &p);
}

static int
f_build(void *ctx, const struct nym_mixcore_dest *d, const uint8_t *frag, size_t len,
        nym_courier_emit_fn emit, void *ectx)
{
	struct io *io = ctx;
	(void)d, (void)len;
	if (io->lost_build)
		return NYM_ENOTFOUND;
	return fake(emit, ectx, frag, 0, 1, ++io->builds);
}

static struct nym_mixcore *
core(struct io *io, double send_mean, int main_cover, double loop_mean, const struct nym_rng *rng)
{
	struct nym_mixcore_config c = {send_mean, main_cover, loop_mean, rng};
	struct nym_mixcore_ops o = {f_emit, f_can_send, f_build, f_cover, f_acked, f_warning, NULL, io};
	memset(io, 0, sizeof *io);
	return nym_mixcore_new(&c, &o, 1000);
}

/* A committed message of n fragments with bytes first, first+1, …;
 * packets given now (prebuilt) or built when sent. */
static uint64_t
message(struct nym_mixcore *k, uint64_t lane, int first, size_t n, int prebuilt)
{
	struct nym_address to;
	memset(&to, 0, sizeof to);
	struct nym_mixcore_dest d = {&to, NULL};
	struct nym_mixcore_msg *m = nym_mixcore_msg_new(k, lane, &d);
	uint64_t id = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)(first + (int)i), fid[NYM_FRAG_ID_LEN] = {0, 0, 0, 7, b};
		if (prebuilt)
			fake(nym_mixcore_collect, m, &b, i, n, 0);
		else
			nym_mixcore_fragment(m, i, n, &b, 1, fid);
	}
	if (nym_mixcore_commit(k, m, &id) < 0)
		nym_mixcore_discard(m);
	return id;
}

static void
ack(struct nym_mixcore *k, int b)
{
	uint8_t id[NYM_FRAG_ID_LEN] = {0, 0, 0, 7, (uint8_t)b};
	nym_mixcore_ack(k, id);
}

int
main(void)
{
	static const uint8_t none[1];
	struct nym_rng_fixed fs;
	struct nym_rng empty = nym_rng_fixed(&fs, none, 0);
	struct io io;
	struct nym_mixcore *k;
	uint64_t t, id;

	/* unpaced: the queue drains in order, as soon as ready */
	k = core(&io, 0, 0, 0, &empty);
	id = message(k, 0, 10, 3, 0);
	message(k, 0, 20, 2, 1);
	nym_mixcore_poll(k, 1001);
	CHECK(id && io.nsent == 0 && nym_mixcore_queued(k) == 5, "nothing goes out before ready");
	nym_mixcore_set_ready(k, 1, 1001);
	CHECK(nym_mixcore_wait_us(k, 1001) == 0, "ready with packets queued: due now");
	nym_mixcore_poll(k, 1001);
	CHECK(io.nsent == 5 && io.sent[0][0] == 10 && io.sent[1][0] == 11 && io.sent[2][0] == 12 &&
	      io.sent[3][0] == 20 && io.sent[4][0] == 21, "the queue drains in order");
	CHECK(io.builds == 3 && io.sent[0][1] == 1 && io.sent[3][1] == 0,
	      "plain fragments built as they leave, prebuilt packets sent as given");
	CHECK(nym_mixcore_unacked(k, 0) == 5 && nym_mixcore_msg_unacked(k, id) == 3, "five unacknowledged");

	/* an ack stops retransmission; the unacknowledged one is sent again */
	ack(k, 10);
	ack(k, 11);
	ack(k, 20);
	ack(k, 21);
	CHECK(io.nacked == 4 && io.acked_left == 0 && nym_mixcore_msg_unacked(k, id) == 1,
	      "acks counted per message (the second message done)");
	ack(k, 11);
	CHECK(io.nacked == 4, "a second ack of the same fragment is ignored");
	nym_mixcore_poll(k, 1001 + 999);
	CHECK(io.nsent == 5, "not sent again before its timeout");
	for (t = 2001; t <= 2100 && io.nsent == 5; t += 10)
		nym_mixcore_poll(k, t);
	CHECK(io.nsent == 6 && io.sent[5][0] == 12 && io.sent[5][1] == 4, "past its timeout: rebuilt and sent again (at %llu ms)",
	      (unsigned long long)t - 10);
	ack(k, 12);
	CHECK(io.acked_id == id && io.acked_left == 0 && nym_mixcore_unacked(k, 0) == 0, "acked: message done");
	for (t = 2100; t < 6000; t += 50)
		nym_mixcore_poll(k, t);
	CHECK(io.nsent == 6, "nothing more after the ack");

	/* a fragment that can no longer be rebuilt is given up */
	message(k, 0, 30, 1, 1);
	nym_mixcore_poll(k, 6000);
	io.lost_build = 1;
	for (t = 6000; t < 8000; t += 50)
		nym_mixcore_poll(k, t);
	CHECK(io.nsent == 7 && nym_mixcore_unacked(k, 0) == 0 && io.acked_left == 0 && io.warnings == 1,
	      "no packet for a retransmission: lost, the message given up, one warning");

	/* refused by the gateway: stays queued; back-pressure pauses */
	io.lost_build = 0;
	io.refuse = 1;
	message(k, 5, 40, 1, 1);
	nym_mixcore_poll(k, 8000);
	CHECK(io.nsent == 7 && nym_mixcore_queued(k) == 1 && io.warnings == 2, "refused: kept in the queue");
	io.refuse = 0;
	io.full = 1;
	nym_mixcore_poll(k, 8000);
	CHECK(io.nsent == 7 && nym_mixcore_wait_us(k, 8000) == 1000, "backlogged: looks again in 1 ms");
	io.full = 0;
	nym_mixcore_forget_lane(k, 5);
	for (t = 8000; t < 10000; t += 50)
		nym_mixcore_poll(k, t);
	CHECK(io.nsent == 7 && nym_mixcore_queued(k) == 0, "a forgotten lane is not sent");
	nym_mixcore_free(k);

	/* paced: one packet per tick, ticks from the rng; cover on empty ticks */
	uint8_t rb[8 * 8];
	for (size_t i = 0; i < sizeof rb; i++)
		rb[i] = (uint8_t)(37 * i + 11);
	struct nym_rng_fixed f1, f2;
	struct nym_rng r1 = nym_rng_fixed(&f1, rb, sizeof rb), r2 = nym_rng_fixed(&f2, rb, sizeof rb);
	uint64_t gap[8];
	for (int i = 0; i < 8; i++) {
		nym_delay_sample(&gap[i], 20000000, &r2);
		gap[i] /= 1000; /* µs */
	}
	k = core(&io, 20, 1, 0, &r1);
	message(k, 0, 50, 3, 1);
	nym_mixcore_set_ready(k, 1, 5000);
	uint64_t at = 5000 * 1000 + gap[0];
	nym_mixcore_poll(k, 5000);
	CHECK(nym_mixcore_wait_us(k, 5000) == (gap[0] < 50000 ? gap[0] : 50000), "first tick after the first rng delay (%llu µs)",
	      (unsigned long long)gap[0]);
	int ok = 1;
	for (int i = 0; i < 5; i++) {
		uint64_t due_ms = (at + 999) / 1000;
		int before = io.nsent + io.covers;
		if (due_ms > 5000)
			nym_mixcore_poll(k, due_ms - 1);
		if (due_ms - 1 >= 5000 && at > (due_ms - 1) * 1000 && io.nsent + io.covers != before)
			ok = 0; /* sent early */
		nym_mixcore_poll(k, due_ms);
		if (io.nsent + io.covers != before + 1)
			ok = 0;
		at = due_ms * 1000 + gap[i + 1];
	}
	CHECK(ok, "one packet per tick, each tick one rng delay after the previous");
	CHECK(io.nsent == 3 && io.covers == 2 && io.sent[0][0] == 50 && io.sent[2][0] == 52,
	      "three real packets in order, then cover on the empty ticks");
	nym_mixcore_free(k);

	/* loop stream alone, not while down */
	k = core(&io, 0, 0, 200, &empty);
	nym_mixcore_set_ready(k, 1, 1000);
	nym_mixcore_poll(k, 1000);
	CHECK(nym_mixcore_wait_us(k, 1000) == 50000, "loop: the retransmission check is due first");
	for (t = 1000; t < 1200; t += 10)
		nym_mixcore_poll(k, t);
	CHECK(io.covers == 0, "no loop cover before 200 ms (the mean: the rng gives nothing)");
	nym_mixcore_poll(k, 1200);
	CHECK(io.covers == 1, "one loop cover at 200 ms");
	nym_mixcore_set_ready(k, 0, 1200);
	for (t = 1200; t <= 2000; t += 10)
		nym_mixcore_poll(k, t);
	CHECK(io.covers == 1, "none while not ready");
	nym_mixcore_free(k);
	return t_done();
}
