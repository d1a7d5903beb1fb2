/* test_tcpstream.c — a socket as ordered messages (lib/io/tcpstream.h;
 * doc/spec/socks5.md §7) over a socketpair on the loop: a handshake taken
 * by raw(), messages out per read, messages in out of order, duplicates,
 * back-pressure, the local half-close, the peer's close, the idle timeout,
 * the bound on bytes a slow application leaves unread, end(). */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/gwclient.h"
#include "io/tcpstream.h"
#include "test.h"

struct rec {
	int n;             /* messages sent */
	uint64_t seq[64];
	int closed[64];
	char data[64][64];
	int allow;         /* can_read */
	int done, err;
	char why[200];
};

static int
t_send(struct nym_tcpstream *s, uint64_t seq, int closed, const uint8_t *d, size_t n, void *arg)
{
	struct rec *r = arg;
	(void)s;
	if (r->n < 64) {
		r->seq[r->n] = seq;
		r->closed[r->n] = closed;
		snprintf(r->data[r->n], sizeof r->data[0], "%.*s", (int)n, (const char *)d);
		r->n++;
	}
	return 0;
}

static int
t_can(struct nym_tcpstream *s, void *arg)
{
	(void)s;
	return ((struct rec *)arg)->allow;
}

static size_t
t_raw(struct nym_tcpstream *s, const uint8_t *d, size_t n, void *arg)
{
	(void)arg;
	/* a "handshake": the first line */
	const uint8_t *nl = memchr(d, '\n', n);
	if (!nl)
		return n;
	nym_tcpstream_write(s, (const uint8_t *)"OK\n", 3);
	nym_tcpstream_start(s);
	return (size_t)(nl - d) + 1;
}

static void
on_done_(struct nym_tcpstream *s, int err, const char *why, void *arg)
{
	struct rec *r = arg;
	(void)s;
	r->done++;
	r->err = err;
	snprintf(r->why, sizeof r->why, "%s", why ? why : "");
}

static void
spin(struct nym_loop *l, int ms)
{
	uint64_t t0 = nym_mono_ms();
	while (nym_mono_ms() - t0 < (uint64_t)ms)
		nym_loop_run(l, 5);
}

/* Run the loop until cond or 2 s. */
#define UNTIL(l, cond) do { uint64_t t0_ = nym_mono_ms(); \
	while (!(cond) && nym_mono_ms() - t0_ < 2000) nym_loop_run(l, 5); } while (0)

static ssize_t
rd(int fd, char *b, size_t cap)
{
	ssize_t n = recv(fd, b, cap - 1, MSG_DONTWAIT);
	b[n > 0 ? n : 0] = 0;
	return n;
}

int
main(void)
{
	struct nym_loop *l;
	struct nym_tcpstream *s;
	struct rec r = {.allow = 1};
	int sp[2];
	char b[256];

	CHECK(nym_loop_new(&l, NULL) == 0, "loop");
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
	struct nym_tcpstream_ops ops = {t_send, t_can, t_raw, on_done_, &r};
	CHECK(nym_tcpstream_new(&s, l, sp[0], &ops, NULL) == 0, "stream over one end");

	/* the handshake line goes to raw(), the rest of the read is the first message */
	CHECK(write(sp[1], "HI\nhello", 8) == 8, "app writes a handshake and data");
	UNTIL(l, r.n >= 1);
	CHECK(r.n == 1 && r.seq[0] == 0 && !r.closed[0] && !strcmp(r.data[0], "hello"),
	    "raw() took the line; 'hello' went out as seq 0 (%d: %s)", r.n, r.data[0]);
	UNTIL(l, rd(sp[1], b, sizeof b) > 0 || 0);
	CHECK(!strcmp(b, "OK\n"), "the handshake reply reached the app");
	CHECK(write(sp[1], "more", 4) == 4, "more data");
	UNTIL(l, r.n >= 2);
	CHECK(r.n == 2 && r.seq[1] == 1 && !strcmp(r.data[1], "more"), "one message per read: seq 1");

	/* from the peer, out of order, a duplicate, one from the far future */
	CHECK(nym_tcpstream_deliver(s, 1, 0, (const uint8_t *)"B", 1) == 0, "seq 1 held");
	spin(l, 20);
	CHECK(rd(sp[1], b, sizeof b) < 0 && errno == EAGAIN, "nothing written before seq 0");
	CHECK(nym_tcpstream_deliver(s, 0, 0, (const uint8_t *)"A", 1) == 0, "seq 0 arrives");
	UNTIL(l, nym_tcpstream_unwritten(s) == 0);
	spin(l, 10);
	CHECK(rd(sp[1], b, sizeof b) == 2 && !strcmp(b, "AB"), "written in order: AB (%s)", b);
	CHECK(nym_tcpstream_deliver(s, 0, 0, (const uint8_t *)"A", 1) == NYM_EREPLAY, "a duplicate refused");
	CHECK(nym_tcpstream_deliver(s, 5000, 0, (const uint8_t *)"Z", 1) == NYM_ERANGE,
	    "a seq beyond the window refused");
	CHECK(!r.done, "refusals do not end the stream");

	/* back-pressure: nothing read while can_read says no */
	r.allow = 0;
	CHECK(write(sp[1], "x", 1) == 1, "data while paused");
	spin(l, 50);
	CHECK(r.n == 2 && nym_tcpstream_paused(s), "paused: not read (%d)", r.n);
	r.allow = 1;
	nym_tcpstream_resume(s);
	UNTIL(l, r.n >= 3);
	CHECK(r.n == 3 && r.seq[2] == 2 && !strcmp(r.data[2], "x"), "resumed: read as seq 2");

	/* the app half-closes: one empty close; the peer's data still reaches it */
	shutdown(sp[1], SHUT_WR);
	UNTIL(l, r.n >= 4);
	CHECK(r.n == 4 && r.seq[3] == 3 && r.closed[3] && !r.data[3][0], "local EOF: empty close, seq 3");
	CHECK(nym_tcpstream_deliver(s, 2, 0, (const uint8_t *)"C", 1) == 0, "more from the peer");
	UNTIL(l, nym_tcpstream_unwritten(s) == 0);
	spin(l, 10);
	CHECK(rd(sp[1], b, sizeof b) == 1 && !strcmp(b, "C"), "written after our half-close");
	CHECK(!r.done, "still open for the peer");
	/* the peer closes: the app sees EOF, the stream is over */
	CHECK(nym_tcpstream_deliver(s, 3, 1, NULL, 0) == 0, "the peer's close");
	UNTIL(l, r.done);
	CHECK(r.done == 1 && r.err == 0, "both sides closed: done(0) (%d %s)", r.err, r.why);
	CHECK(rd(sp[1], b, sizeof b) == 0, "the app read EOF");
	nym_tcpstream_free(s);
	close(sp[1]);

	/* idle: nothing from the peer for idle_ms */
	struct rec r2 = {.allow = 1};
	struct nym_tcpstream_ops ops2 = {t_send, t_can, NULL, on_done_, &r2};
	struct nym_tcpstream_limits lim = {.idle_ms = 1000, .max_unwritten = 10};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
	      nym_tcpstream_new(&s, l, sp[0], &ops2, &lim) == 0, "a second stream");
	nym_tcpstream_start(s);
	nym_tcpstream_tick(s, nym_mono_ms() + 500);
	spin(l, 10);
	CHECK(!r2.done, "not idle after 0.5 s");
	nym_tcpstream_tick(s, nym_mono_ms() + 1500);
	UNTIL(l, r2.done);
	CHECK(r2.done == 1 && r2.err == NYM_ETIMEOUT && strstr(r2.why, "nothing from the network requester"),
	    "idle 1.5 s: done(NYM_ETIMEOUT): %s", r2.why);
	nym_tcpstream_free(s);
	close(sp[1]);

	/* an application that does not read: bounded */
	struct rec r3 = {.allow = 1};
	struct nym_tcpstream_ops ops3 = {t_send, t_can, NULL, on_done_, &r3};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
	      nym_tcpstream_new(&s, l, sp[0], &ops3, &lim) == 0, "a third stream");
	nym_tcpstream_start(s);
	static uint8_t big[1 << 20];
	uint64_t seq = 0;
	for (int i = 0; i < 64 && !r3.done; i++) {
		nym_tcpstream_deliver(s, seq++, 0, big, sizeof big);
		nym_loop_run(l, 1);
	}
	UNTIL(l, r3.done);
	CHECK(r3.done == 1 && r3.err == NYM_EFULL, "more than max_unwritten unread: done(NYM_EFULL): %s", r3.why);
	nym_tcpstream_free(s);
	close(sp[1]);

	/* a handshake that never ends */
	struct rec r5 = {.allow = 1};
	struct nym_tcpstream_ops ops5 = {t_send, t_can, t_raw, on_done_, &r5};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
	      nym_tcpstream_new(&s, l, sp[0], &ops5, NULL) == 0, "a stream in its handshake");
	CHECK(write(sp[1], "no newline", 10) == 10, "half a handshake");
	spin(l, 20);
	nym_tcpstream_tick(s, nym_mono_ms() + 5000);
	spin(l, 10);
	CHECK(!r5.done, "still waiting after 5 s");
	nym_tcpstream_tick(s, nym_mono_ms() + NYM_TCPSTREAM_HANDSHAKE_MS);
	UNTIL(l, r5.done);
	CHECK(r5.done == 1 && r5.err == NYM_ETIMEOUT, "no handshake in 10 s: done(NYM_ETIMEOUT): %s", r5.why);
	nym_tcpstream_free(s);
	close(sp[1]);

	/* end(): done with the reason given, from the loop */
	struct rec r4 = {.allow = 1};
	struct nym_tcpstream_ops ops4 = {t_send, t_can, NULL, on_done_, &r4};
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
	      nym_tcpstream_new(&s, l, sp[0], &ops4, NULL) == 0, "a fourth stream");
	nym_tcpstream_start(s);
	nym_tcpstream_end(s, NYM_EPERM, "refused", 0);
	CHECK(!r4.done, "done() is not called from inside end()");
	UNTIL(l, r4.done);
	CHECK(r4.done == 1 && r4.err == NYM_EPERM && !strcmp(r4.why, "refused"), "end: done(err, why)");
	nym_tcpstream_free(s);
	spin(l, 10);
	CHECK(rd(sp[1], b, sizeof b) == 0, "freed: the app sees its connection closed");
	close(sp[1]);

	nym_loop_free(l);
	return t_done();
}
