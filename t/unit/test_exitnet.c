/* test_exitnet.c — the network requester's TCP side on loopback, without a
 * mixnet: Sends out of order reach the destination in order, its bytes come
 * back as NetworkData from seq 0 with one close; the exit policy and the
 * local-address rule refuse; a closed port is a failed connect (seq 0,
 * closed); a second Connect for a live id is turned away; Sends before their
 * Connect wait for it; far-future seqs are dropped; a name is resolved;
 * keepalives and the idle timeout (shortened). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/exitnet.h"
#include "proto/exitpolicy.h"
#include "test.h"

static int
listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int
wait_fd(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) > 0;
}

/* The next event within ms. */
static int
next_event(struct nym_exitnet *x, struct nym_exitnet_event *ev, int ms)
{
	uint64_t t0 = nym_mono_ms();
	while (nym_mono_ms() - t0 < (uint64_t)ms) {
		if (nym_exitnet_poll(x, ev) == 1)
			return 1;
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
target(char *out, size_t cap, uint16_t port)
{
	snprintf(out, cap, "127.0.0.1:%u", port);
}

int
main(void)
{
	struct nym_exitpolicy open, strict;
	struct nym_exitnet_config c;
	struct nym_exitnet *x;
	struct nym_exitnet_event ev;
	char t[64], buf[256], why[64];
	uint16_t port, closed_port;
	int lfd, s, u1 = 1, u2 = 2, u3 = 3, u4 = 4, u5 = 5;

	CHECK(nym_exitpolicy_open(&open) == 0, "open policy");
	nym_exitnet_defaults(&c);
	c.policy = &open;
	c.allow_local = 1;
	c.grace_ms = 200;
	CHECK(nym_exitnet_start(&x, &c) == 0, "engine started");
	lfd = listener(&port);
	CHECK(lfd >= 0, "a listener on port %u", port);

	/* Sends before the Connect, out of order: seq 1 then 0 */
	CHECK(nym_exitnet_send(x, 77, 1, 0, (const uint8_t *)"world", 5) == 0, "seq 1 before anything");
	CHECK(nym_exitnet_send(x, 77, 0, 0, (const uint8_t *)"hello ", 6) == 0, "seq 0");
	CHECK(nym_exitnet_send(x, 77, 5000, 0, (const uint8_t *)"junk", 4) == 0, "seq 5000: dropped");
	target(t, sizeof t, port);
	CHECK(nym_exitnet_connect(x, 77, (const uint8_t *)t, strlen(t), &u1) == 0, "Connect %s", t);
	CHECK(wait_fd(lfd, 3000), "the destination is connected to");
	s = accept(lfd, NULL, NULL);
	size_t got = 0;
	while (got < 11 && wait_fd(s, 3000)) {
		ssize_t n = read(s, buf + got, sizeof buf - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK(got == 11 && !memcmp(buf, "hello world", 11), "the destination read 'hello world' in order (%zu)", got);
	CHECK(nym_exitnet_connect(x, 77, (const uint8_t *)t, strlen(t), &u2) == 0 && next_event(x, &ev, 3000) &&
	      ev.type == NYM_EXITNET_GONE && ev.user == &u2, "a second Connect for a live id: GONE for it alone");
	CHECK(write(s, "answer", 6) == 6, "the destination answers");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.user == &u1 && ev.seq == 0 &&
	      !ev.closed && ev.len == 6 && !memcmp(ev.data, "answer", 6), "NetworkData seq 0 'answer'");
	free(ev.data);
	close(s); /* the destination ends first */
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.seq == 1 && ev.closed && ev.len == 0,
	      "then the close, seq 1, empty");
	CHECK(nym_exitnet_send(x, 77, 2, 1, NULL, 0) == 0, "the client's close");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_GONE && ev.user == &u1, "GONE");
	CHECK(!next_event(x, &ev, 300), "nothing more");
	CHECK(nym_exitnet_send(x, 77, 3, 0, (const uint8_t *)"late", 4) == 0 && !next_event(x, &ev, 200),
	      "a Send for a closed id is dropped");

	/* the client closes first: written, then the connection ends after the grace */
	CHECK(nym_exitnet_connect(x, 78, (const uint8_t *)t, strlen(t), &u3) == 0, "Connect 78");
	CHECK(nym_exitnet_send(x, 78, 0, 1, (const uint8_t *)"bye", 3) == 0, "data and close at seq 0");
	CHECK(wait_fd(lfd, 3000) && (s = accept(lfd, NULL, NULL)) >= 0, "accepted");
	got = 0;
	while (got < 3 && wait_fd(s, 3000)) {
		ssize_t n = read(s, buf + got, sizeof buf - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	CHECK(got == 3 && !memcmp(buf, "bye", 3), "'bye' written");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.seq == 0 && ev.closed,
	      "after the grace: our close at seq 0");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_GONE && ev.user == &u3, "GONE");
	close(s);

	/* a closed port: one NetworkData seq 0 closed, then GONE */
	int tmp = listener(&closed_port);
	close(tmp);
	target(t, sizeof t, closed_port);
	CHECK(nym_exitnet_connect(x, 79, (const uint8_t *)t, strlen(t), &u4) == 0, "Connect to closed port %u", closed_port);
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.seq == 0 && ev.closed && !ev.len,
	      "failed connect: seq 0 closed empty");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_GONE, "GONE");
	CHECK(nym_exitnet_connect(x, 80, (const uint8_t *)"nonsense", 8, &u5) == 0 && next_event(x, &ev, 3000) &&
	      ev.type == NYM_EXITNET_REFUSED && next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_GONE,
	      "no host:port: REFUSED, GONE");
	/* a name: resolved off the loop (getaddrinfo_a), then connected */
	snprintf(t, sizeof t, "localhost:%u", port);
	CHECK(nym_exitnet_connect(x, 83, (const uint8_t *)t, strlen(t), &u1) == 0, "Connect %s", t);
	CHECK(wait_fd(lfd, 5000) && (s = accept(lfd, NULL, NULL)) >= 0, "a name resolves and connects");
	CHECK(write(s, "n", 1) == 1 && next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.len == 1,
	      "and carries bytes");
	free(ev.data);
	close(s);
	while (next_event(x, &ev, 500))
		free(ev.data);
	nym_exitnet_free(x);

	/* keepalive and idle timeout, shortened */
	c.keepalive_ms = 150;
	c.idle_ms = 600;
	CHECK(nym_exitnet_start(&x, &c) == 0, "engine with short timers");
	target(t, sizeof t, port);
	uint64_t t0 = nym_mono_ms();
	CHECK(nym_exitnet_connect(x, 84, (const uint8_t *)t, strlen(t), &u1) == 0 && wait_fd(lfd, 3000) &&
	      (s = accept(lfd, NULL, NULL)) >= 0, "connected");
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && ev.seq == 0 && !ev.closed && !ev.len,
	      "an empty keepalive at seq 0 after keepalive_ms of silence");
	int kept = 1;
	while (next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_DATA && !ev.closed)
		kept++;
	CHECK(ev.type == NYM_EXITNET_DATA && ev.closed && kept >= 2, "more keepalives (%d), then a close", kept);
	CHECK(next_event(x, &ev, 3000) && ev.type == NYM_EXITNET_GONE && nym_mono_ms() - t0 >= 600,
	      "idle: nothing from the client for idle_ms ends it (%llu ms)", (unsigned long long)(nym_mono_ms() - t0));
	close(s);
	nym_exitnet_free(x);
	c.keepalive_ms = 60000;
	c.idle_ms = 300000;

	/* a policy refusing the port; and loopback without allow_local */
	snprintf(buf, sizeof buf, "ExitPolicy reject *:%u\nExitPolicy accept *:*\n", port);
	CHECK(nym_exitpolicy_parse(&strict, buf, strlen(buf), why, sizeof why) == 0, "a strict policy");
	c.policy = &strict;
	CHECK(nym_exitnet_start(&x, &c) == 0, "engine 2");
	target(t, sizeof t, port);
	CHECK(nym_exitnet_connect(x, 81, (const uint8_t *)t, strlen(t), &u1) == 0 && next_event(x, &ev, 3000) &&
	      ev.type == NYM_EXITNET_REFUSED && ev.user == &u1 && next_event(x, &ev, 3000) &&
	      ev.type == NYM_EXITNET_GONE, "refused by the policy: REFUSED, GONE, no close");
	CHECK(!wait_fd(lfd, 200), "and nothing connected");
	nym_exitnet_free(x);
	c.policy = &open;
	c.allow_local = 0;
	CHECK(nym_exitnet_start(&x, &c) == 0, "engine 3");
	CHECK(nym_exitnet_connect(x, 82, (const uint8_t *)t, strlen(t), &u1) == 0 && next_event(x, &ev, 3000) &&
	      ev.type == NYM_EXITNET_REFUSED, "open proxy, no local addresses: loopback refused");
	nym_exitnet_free(x);
	close(lfd);
	nym_exitpolicy_free(&open);
	nym_exitpolicy_free(&strict);
	return t_done();
}
