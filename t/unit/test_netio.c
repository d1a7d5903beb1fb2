/* test_netio.c — the node-link TCP layer on loopback: frames cut from any
 * split of the byte stream, hostile connections dropped alone, outgoing peers
 * that queue, reconnect and never send part of a frame. A toy framing is
 * used: the first byte of a frame is its whole length (0 is invalid). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "io/netio.h"
#include "test.h"

static long
toy_len(const uint8_t *b, size_t n)
{
	(void)n;
	return b[0] ? (long)b[0] : NYM_EFORMAT;
}

struct rec {
	int frames;
	uint8_t last[256];
	size_t last_len;
	size_t total;
	int ev[16];
	uint64_t qfull_count;
};

static void
on_frame(void *ctx, const struct nym_netio_addr *from, const uint8_t *f, size_t len)
{
	struct rec *r = ctx;
	(void)from;
	r->frames++;
	r->total += len;
	memcpy(r->last, f, len);
	r->last_len = len;
}

static void
on_event(void *ctx, const struct nym_netio_event *ev)
{
	struct rec *r = ctx;
	r->ev[ev->kind]++;
	if (ev->kind == NYM_NETIO_EV_QUEUE_FULL)
		r->qfull_count = ev->count;
}

static int
dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(0x7f000001)};
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Run the loop for about ms milliseconds. */
static void
spin(struct nym_netio *io, int ms)
{
	for (int i = 0; i < ms / 5; i++)
		nym_netio_run(io, 5);
}

/* Run until cond or 2 s. */
#define SPIN_UNTIL(io, cond) do { for (int k_ = 0; k_ < 400 && !(cond); k_++) nym_netio_run(io, 5); } while (0)

static struct nym_netio *
mk(struct rec *r, size_t max_frame, size_t max_conns, unsigned timeout_ms, size_t qmax)
{
	struct nym_netio_config c = {0};
	c.frame_len = toy_len;
	c.on_frame = on_frame;
	c.on_event = on_event;
	c.ctx = r;
	c.max_frame = max_frame;
	c.max_conns = max_conns;
	c.frame_timeout_ms = timeout_ms;
	c.peer_queue_max = qmax;
	c.backoff_min_ms = 20;
	c.backoff_max_ms = 80;
	return nym_netio_create(&c);
}

static void
test_addr(void)
{
	struct nym_netio_addr a;
	char s[64];
	CHECK(nym_netio_addr_parse(&a, "127.0.0.1:1789") == 0, "addr: IPv4");
	nym_netio_addr_format(s, &a);
	CHECK(!strcmp(s, "127.0.0.1:1789"), "addr: IPv4 formats back (%s)", s);
	CHECK(nym_netio_addr_parse(&a, "[::1]:9") == 0, "addr: IPv6");
	nym_netio_addr_format(s, &a);
	CHECK(!strcmp(s, "[::1]:9"), "addr: IPv6 formats back (%s)", s);
	CHECK(nym_netio_addr_parse(&a, "localhost:1") == NYM_EADDR, "addr: names refused");
	CHECK(nym_netio_addr_parse(&a, "1.2.3.4") == NYM_EADDR, "addr: port required");
	CHECK(nym_netio_addr_parse(&a, "1.2.3.4:65536") == NYM_EADDR, "addr: port range");
	CHECK(nym_netio_addr_parse(&a, "[::1:5") == NYM_EADDR, "addr: unclosed bracket");
	uint8_t ip[4] = {10, 0, 0, 1};
	CHECK(nym_netio_addr_from_ip(&a, ip, 4, 80) == 0, "addr: from IPv4 bytes");
	nym_netio_addr_format(s, &a);
	CHECK(!strcmp(s, "10.0.0.1:80"), "addr: %s", s);
	CHECK(nym_netio_addr_from_ip(&a, ip, 5, 80) == NYM_EADDR, "addr: bad IP length");
}

static void
test_inbound(void)
{
	struct rec r = {0};
	struct nym_netio_addr la;
	struct nym_netio_stats st;
	struct nym_netio *io = mk(&r, 100, 3, 300, 0);
	CHECK(io != NULL, "inbound: created");
	nym_netio_addr_parse(&la, "127.0.0.1:0");
	int port = nym_netio_listen(io, &la);
	CHECK(port > 0, "inbound: listening on %d", port);

	/* Frames of 1..60 bytes, sent one byte per write with the loop running
	 * between: each arrives whole. */
	int a = dial(port);
	spin(io, 20);
	uint8_t f[60];
	size_t sent = 0;
	for (int len = 1; len <= 60; len += 7) {
		f[0] = (uint8_t)len;
		for (int i = 1; i < len; i++)
			f[i] = (uint8_t)(len + i);
		for (int i = 0; i < len; i++) {
			if (write(a, f + i, 1) != 1)
				break;
			nym_netio_run(io, 0);
		}
		sent += (size_t)len;
	}
	SPIN_UNTIL(io, r.total == sent);
	CHECK(r.frames == 9 && r.total == sent, "inbound: 9 frames cut from byte-sized reads (%d)", r.frames);
	CHECK(r.last_len == 57 && r.last[56] == 57 + 56, "inbound: last frame intact");

	/* Many frames in one write. */
	uint8_t burst[1000];
	for (int i = 0; i < 100; i++) {
		burst[10 * i] = 10;
		memset(burst + 10 * i + 1, i, 9);
	}
	int before = r.frames;
	CHECK(write(a, burst, sizeof burst) == (ssize_t)sizeof burst, "inbound: burst written");
	SPIN_UNTIL(io, r.frames == before + 100);
	CHECK(r.frames == before + 100, "inbound: 100 back-to-back frames from one write");

	/* Garbage on a second connection: dropped alone. */
	int b = dial(port);
	uint8_t zero = 0;
	CHECK(write(b, &zero, 1) == 1, "inbound: garbage written");
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_BAD_FRAME] == 1);
	CHECK(r.ev[NYM_NETIO_EV_BAD_FRAME] == 1, "inbound: bad frame event");
	char c;
	CHECK(read(b, &c, 1) == 0, "inbound: garbage connection closed");
	close(b);
	f[0] = 5;
	CHECK(write(a, f, 5) == 5, "inbound: first connection still writable");
	before = r.frames;
	SPIN_UNTIL(io, r.frames == before + 1);
	CHECK(r.frames == before + 1, "inbound: first connection still served");

	/* Oversized: a frame of 200 when max_frame is 100. */
	b = dial(port);
	uint8_t big = 200;
	CHECK(write(b, &big, 1) == 1, "inbound: oversized header written");
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_OVERSIZED] == 1);
	CHECK(r.ev[NYM_NETIO_EV_OVERSIZED] == 1, "inbound: oversized frame dropped");
	close(b);

	/* Stalled: half a frame, then silence beyond the limit. */
	b = dial(port);
	f[0] = 50;
	struct timespec ts0, ts1;
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	CHECK(write(b, f, 10) == 10, "inbound: half a frame written");
	spin(io, 40);
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	long el = (ts1.tv_sec - ts0.tv_sec) * 1000 + (ts1.tv_nsec - ts0.tv_nsec) / 1000000;
	/* (on a machine so loaded that 40 ms of loop took 300, the check says nothing) */
	CHECK(r.ev[NYM_NETIO_EV_STALLED] == 0 || el >= 300, "inbound: not dropped before the timeout");
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_STALLED] == 1);
	CHECK(r.ev[NYM_NETIO_EV_STALLED] == 1, "inbound: stalled frame dropped after the timeout");
	close(b);

	/* The connection cap (3): a, plus two more; the fourth is refused. */
	spin(io, 20);
	int c1 = dial(port), c2 = dial(port), c3 = dial(port);
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_REJECTED] == 1);
	CHECK(r.ev[NYM_NETIO_EV_REJECTED] == 1, "inbound: connection beyond the cap refused");
	nym_netio_stats(io, &st);
	CHECK(st.conns == 3 && st.rejected == 1, "inbound: 3 held, 1 rejected (%zu, %llu)", st.conns,
	      (unsigned long long)st.rejected);
	CHECK(st.dropped_conns == 3, "inbound: 3 dropped (bad, oversized, stalled)");
	close(a);
	close(c1);
	close(c2);
	close(c3);
	spin(io, 20);
	nym_netio_stats(io, &st);
	CHECK(st.conns == 0, "inbound: closes noticed");
	nym_netio_destroy(io);
}

static int
dial_from(int port, uint32_t src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(src)};
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(0x7f000001)};
	if (bind(fd, (struct sockaddr *)&s, sizeof s) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connections that send nothing are dropped after idle_timeout_ms; a
 * connection from a known address gets a slot when strangers hold them all,
 * and is not dropped for idling. */
static void
test_idle(void)
{
	struct rec r = {0};
	struct nym_netio_stats st;
	struct nym_netio_addr la, known;
	nym_netio_addr_parse(&la, "127.0.0.1:0");
	nym_netio_addr_parse(&known, "127.0.0.2:1789");
	struct nym_netio_config c = {0};
	c.frame_len = toy_len;
	c.on_frame = on_frame;
	c.on_event = on_event;
	c.ctx = &r;
	c.max_frame = 100;
	c.max_conns = 2;
	c.idle_timeout_ms = 300;
	c.known = &known;
	c.n_known = 1;
	c.known_reserve = 1;
	struct nym_netio *io = nym_netio_create(&c);
	CHECK(io != NULL, "idle: created");
	int port = nym_netio_listen(io, &la);

	int busy = dial(port), idle = dial(port);
	spin(io, 20);
	int extra = dial(port);
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_REJECTED] == 1);
	CHECK(r.ev[NYM_NETIO_EV_REJECTED] == 1, "idle: a third stranger is refused");
	int k = dial_from(port, 0x7f000002);
	CHECK(k >= 0, "idle: dialled from the known address");
	uint8_t f[3] = {3, 1, 2};
	CHECK(write(k, f, 3) == 3, "idle: known peer writes a frame");
	SPIN_UNTIL(io, r.frames == 1);
	CHECK(r.frames == 1, "idle: the known peer is served while strangers fill the slots");
	nym_netio_stats(io, &st);
	CHECK(st.conns == 3 && st.known_conns == 1, "idle: 2 strangers + 1 known (%zu, %zu)",
	      st.conns, st.known_conns);

	/* busy sends a frame every 100 ms; idle and the known peer send nothing. */
	struct timespec ts0, ts1;
	clock_gettime(CLOCK_MONOTONIC, &ts0);
	for (int i = 0; i < 8 && !r.ev[NYM_NETIO_EV_IDLE]; i++) {
		CHECK(write(busy, f, 3) == 3, "idle: busy writes");
		spin(io, 100);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	long el = (ts1.tv_sec - ts0.tv_sec) * 1000 + (ts1.tv_nsec - ts0.tv_nsec) / 1000000;
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_IDLE] == 1);
	CHECK(r.ev[NYM_NETIO_EV_IDLE] == 1, "idle: the silent stranger is dropped");
	CHECK(el >= 250, "idle: not before the timeout (%ld ms)", el);
	char ch;
	CHECK(read(idle, &ch, 1) == 0, "idle: its socket is closed");
	for (int i = 0; i < 5; i++) { /* the known peer stays silent past the timeout */
		CHECK(write(busy, f, 3) == 3, "idle: busy writes on");
		spin(io, 100);
	}
	nym_netio_stats(io, &st);
	CHECK(r.ev[NYM_NETIO_EV_IDLE] == 1 && st.conns == 2 && st.idle_dropped == 1,
	      "idle: the busy stranger and the silent known peer stay (%zu)", st.conns);
	int again = dial(port);
	CHECK(write(again, f, 3) == 3, "idle: a new stranger takes the freed slot");
	int before = r.frames;
	SPIN_UNTIL(io, r.frames >= before + 1);
	CHECK(r.frames >= before + 1, "idle: and is served");
	close(busy);
	close(idle);
	close(extra);
	close(k);
	close(again);
	nym_netio_destroy(io);
}

static void
test_peers(void)
{
	struct rec r = {0}, rs = {0};
	struct nym_netio_stats st;
	struct nym_netio *io = mk(&r, 100, 0, 0, 5);

	/* A port with nobody listening: reserve one, then close it. */
	int tmp = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	bind(tmp, (struct sockaddr *)&sa, sizeof sa);
	getsockname(tmp, (struct sockaddr *)&sa, &sl);
	int port = ntohs(sa.sin_port);
	close(tmp);
	char hp[32];
	snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
	struct nym_netio_addr to;
	nym_netio_addr_parse(&to, hp);

	uint8_t f[40];
	for (int i = 0; i < 7; i++) {
		f[0] = (uint8_t)(10 + i);
		memset(f + 1, i, sizeof f - 1);
		int rc = nym_netio_send(io, &to, f, 1, f + 1, (size_t)(9 + i));
		if (i < 5)
			CHECK(rc == 0, "peers: frame %d queued", i);
		else
			CHECK(rc == NYM_EFULL, "peers: frame %d beyond the queue refused", i);
	}
	CHECK(r.ev[NYM_NETIO_EV_QUEUE_FULL] == 1 && r.qfull_count == 1,
	      "peers: one queue-full event per episode");
	CHECK(nym_netio_send(io, &to, f, 1, f, 200) == NYM_ESIZE, "peers: frame over max_frame refused");
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_PEER_DOWN] >= 2);
	CHECK(r.ev[NYM_NETIO_EV_PEER_DOWN] >= 2, "peers: connection refused, retried with backoff");

	/* Now a netio listens there: the queued frames arrive, whole and in order. */
	struct nym_netio *sink = mk(&rs, 100, 0, 0, 0);
	struct nym_netio_addr la;
	nym_netio_addr_parse(&la, hp);
	CHECK(nym_netio_listen(sink, &la) == port, "peers: sink listening on the same port");
	for (int k = 0; k < 400 && rs.frames < 5; k++) {
		nym_netio_run(io, 2);
		nym_netio_run(sink, 2);
	}
	CHECK(rs.frames == 5, "peers: the 5 queued frames delivered after reconnecting (%d)", rs.frames);
	CHECK(rs.total == 10 + 11 + 12 + 13 + 14, "peers: whole frames");
	CHECK(rs.last_len == 14 && rs.last[0] == 14 && rs.last[13] == 4, "peers: in order");
	CHECK(r.ev[NYM_NETIO_EV_PEER_UP] == 1, "peers: one connection");

	/* The bound over all peers: 3 frames in all, whatever the peer (the loop
	 * does not run, so nothing leaves the queues). */
	{
		struct rec rt = {0};
		struct nym_netio_config c = {0};
		c.frame_len = toy_len;
		c.on_frame = on_frame;
		c.on_event = on_event;
		c.ctx = &rt;
		c.total_queue_max = 3;
		c.backoff_min_ms = 1000;
		struct nym_netio *t3 = nym_netio_create(&c);
		int ok = 0;
		for (int i = 0; i < 5; i++) {
			struct nym_netio_addr d;
			char h[32];
			snprintf(h, sizeof h, "127.0.0.1:%d", port); /* then 127.0.(i).1: five peers */
			nym_netio_addr_parse(&d, h);
			((struct sockaddr_in *)&d.ss)->sin_addr.s_addr = htonl(0x7f000001 + (uint32_t)(i << 8));
			f[0] = 2;
			if (nym_netio_send(t3, &d, f, 2, NULL, 0) == 0)
				ok++;
		}
		struct nym_netio_stats s3;
		nym_netio_stats(t3, &s3);
		CHECK(ok == 3 && s3.queued == 3 && s3.frames_dropped == 2 && rt.ev[NYM_NETIO_EV_QUEUE_FULL] == 2,
		      "peers: total_queue_max bounds all peers together (%d queued)", ok);
		nym_netio_destroy(t3);
	}

	/* Connected and idle: sends go straight out. */
	for (int i = 0; i < 50; i++) {
		f[0] = 20;
		memset(f + 1, 0xAA, 19);
		nym_netio_send(io, &to, f, 20, NULL, 0);
	}
	for (int k = 0; k < 400 && rs.frames < 55; k++) {
		nym_netio_run(io, 2);
		nym_netio_run(sink, 2);
	}
	CHECK(rs.frames == 55, "peers: 50 more on the open connection (%d)", rs.frames);
	nym_netio_stats(io, &st);
	CHECK(st.frames_out == 55 && st.queued == 0 && st.peers == 1 && st.peers_up == 1,
	      "peers: stats (out %llu, queued %zu)", (unsigned long long)st.frames_out, st.queued);
	CHECK(st.frames_dropped == 2, "peers: 2 dropped (queue full)");

	/* The sink goes away: noticed, and the next frame reconnects once it is back. */
	nym_netio_destroy(sink);
	SPIN_UNTIL(io, r.ev[NYM_NETIO_EV_PEER_DOWN] >= 3);
	nym_netio_stats(io, &st);
	CHECK(st.peers_up == 0, "peers: close noticed");
	memset(&rs, 0, sizeof rs);
	sink = mk(&rs, 100, 0, 0, 0);
	CHECK(nym_netio_listen(sink, &la) == port, "peers: sink back");
	f[0] = 3;
	nym_netio_send(io, &to, f, 3, NULL, 0);
	for (int k = 0; k < 400 && rs.frames < 1; k++) {
		nym_netio_run(io, 2);
		nym_netio_run(sink, 2);
	}
	CHECK(rs.frames == 1, "peers: reconnected for the next frame");
	nym_netio_destroy(sink);
	nym_netio_destroy(io);
}

static int watched;
static void
on_watch(void *ctx)
{
	int fd = *(int *)ctx;
	char c;
	if (read(fd, &c, 1) == 1)
		watched++;
}

static void
test_watch(void)
{
	struct rec r = {0};
	struct nym_netio *io = mk(&r, 0, 0, 0, 0);
	int p[2];
	CHECK(pipe(p) == 0, "watch: pipe");
	CHECK(nym_netio_watch(io, p[0], on_watch, &p[0]) == 0, "watch: registered");
	CHECK(write(p[1], "x", 1) == 1, "watch: written");
	SPIN_UNTIL(io, watched == 1);
	CHECK(watched == 1, "watch: callback ran");
	nym_netio_destroy(io);
	close(p[0]);
	close(p[1]);
	struct nym_netio_config bad = {0};
	CHECK(nym_netio_create(&bad) == NULL && errno == EINVAL, "create: frame_len required");
}

int
main(void)
{
	test_addr();
	test_inbound();
	test_idle();
	test_peers();
	test_watch();
	return t_done();
}
