/* test_gwclient.c — the websocket transport: a unix-socket echo server and a
 * client in one loop (text, binary, a 1 MiB message, close), a refused
 * connection, bad URLs, a second server on a live socket, a TCP server
 * (tagged frames reported sent, ping and pong, a message above the limit,
 * an abort), timers. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/gwclient.h"
#include "test.h"

struct srv {
	int opened, closed;
};
struct cli {
	int opened, closed, err, got_text, got_bin, got_empty_text, got_empty_bin;
	size_t big_len;
	int big_ok;
	size_t unsent;
	char why[200];
};

static void
srv_msg(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	(void)arg;
	nym_ws_send(ws, binary, d, n); /* echo */
}
static void
srv_open(struct nym_ws *ws, void *arg)
{
	(void)ws;
	((struct srv *)arg)->opened++;
}
static void
srv_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)ws, (void)err, (void)why, (void)unsent;
	((struct srv *)arg)->closed++;
}

static uint8_t *big;
#define BIG (1u << 20)

static void
cli_open(struct nym_ws *ws, void *arg)
{
	(void)ws;
	((struct cli *)arg)->opened++;
}
static void
cli_msg(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct cli *c = arg;
	if (n == 0 && d != NULL)
		++*(binary ? &c->got_empty_bin : &c->got_empty_text);
	else if (!binary && n == 5 && !memcmp(d, "hello", 5))
		c->got_text++;
	else if (binary && n == 3 && !memcmp(d, "\0\1\2", 3))
		c->got_bin++;
	else if (binary && n == BIG) {
		c->big_len = n;
		c->big_ok = !memcmp(d, big, n);
		nym_ws_close(ws);
	}
}
static void
cli_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct cli *c = arg;
	(void)ws;
	c->closed++;
	c->err = err;
	c->unsent = unsent;
	snprintf(c->why, sizeof c->why, "%s", why ? why : "");
}

/* The TCP server: echoes text tagged, pings, aborts a connection that
 * sends "abort". */
struct tcp {
	int opened, closed, err, sent, pongs;
	uint64_t tag;
	char why[200], peer[64];
};
static void
tcp_msg(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	(void)arg;
	if (n == 5 && !memcmp(d, "abort", 5)) {
		nym_ws_abort(ws);
		return;
	}
	nym_ws_send_tagged(ws, binary, d, n, 7);
	nym_ws_ping(ws, (const uint8_t *)"abc", 3);
}
static void
tcp_open(struct nym_ws *ws, void *arg)
{
	struct tcp *t = arg;
	t->opened++;
	snprintf(t->peer, sizeof t->peer, "%s", nym_ws_peer(ws));
}
static void
tcp_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct tcp *t = arg;
	(void)ws, (void)unsent;
	t->closed++;
	t->err = err;
	snprintf(t->why, sizeof t->why, "%s", why ? why : "");
}
static void
tcp_sent(struct nym_ws *ws, uint64_t tag, void *arg)
{
	(void)ws;
	((struct tcp *)arg)->sent++;
	((struct tcp *)arg)->tag = tag;
}
static void
tcp_pong(struct nym_ws *ws, const uint8_t *d, size_t n, void *arg)
{
	(void)ws;
	if (n == 3 && !memcmp(d, "abc", 3))
		((struct tcp *)arg)->pongs++;
}

static int
free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	return ntohs(sa.sin_port);
}

static void
test_tcp_server(struct nym_loop *l)
{
	struct tcp t = {0};
	struct cli c = {0}, d = {0};
	struct nym_ws *ws;
	char url[64];
	int port = free_port();
	uint64_t t0;

	struct nym_ws_server srv = {.host = "127.0.0.1", .port = port, .max_text = 1000, .max_binary = 100};
	struct nym_ws_handler th = {.open = tcp_open, .message = tcp_msg, .closed = tcp_closed,
	                            .arg = &t, .sent = tcp_sent, .pong = tcp_pong};
	CHECK(nym_ws_listen(l, &srv, &th) == 0, "listen on TCP 127.0.0.1:%d", port);
	snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
	struct nym_ws_handler ch = {.open = cli_open, .message = cli_msg, .closed = cli_closed, .arg = &c};
	CHECK(nym_ws_connect(l, url, &ch, &ws) == 0, "connect over TCP");
	nym_ws_send(ws, 0, (const uint8_t *)"hello", 5);
	t0 = nym_mono_ms();
	while ((!c.got_text || !t.pongs) && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(c.got_text == 1 && t.sent == 1 && t.tag == 7, "a tagged frame is reported sent (tag %llu)",
	      (unsigned long long)t.tag);
	CHECK(t.pongs == 1, "the ping is answered: pong with its payload");
	CHECK(strstr(t.peer, "127.0.0.1") != NULL, "peer address (%s)", t.peer);
	uint8_t over[101] = {0};
	nym_ws_send(ws, 1, over, sizeof over);
	t0 = nym_mono_ms();
	while ((!c.closed || !t.closed) && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(t.closed == 1 && t.err == NYM_EFULL && !strcmp(t.why, "oversized binary message (> 100 bytes)"),
	      "a binary message above its limit closes the connection (%s)", t.why);
	CHECK(c.closed == 1, "the client sees the close");

	struct nym_ws_handler dh = {.open = cli_open, .message = cli_msg, .closed = cli_closed, .arg = &d};
	CHECK(nym_ws_connect(l, url, &dh, &ws) == 0, "connect again");
	nym_ws_send(ws, 0, (const uint8_t *)"abort", 5);
	t0 = nym_mono_ms();
	while ((!d.closed || t.closed < 2) && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(t.closed == 2 && t.err == 0 && !strcmp(t.why, "aborted"), "abort: closed(0, aborted) (%s)", t.why);
	CHECK(d.closed == 1 && d.err == NYM_ENET, "the client sees the connection drop");
	/* a port another socket listens on */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	listen(fd, 1);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	srv.port = ntohs(sa.sin_port);
	CHECK(nym_ws_listen(l, &srv, &th) == NYM_EIO, "a port in use: NYM_EIO");
	close(fd);
}

static void
tick(struct nym_timer *t, void *arg)
{
	(void)t;
	++*(int *)arg;
}

/* nym_fd_watch: a socketpair end on the loop */
struct fdt {
	int reads, writes, gone;
	size_t got;
	int eof;
};

static void
fd_ev(struct nym_fd *f, int ev, void *arg)
{
	struct fdt *x = arg;
	char b[4096];
	if (ev & NYM_FD_GONE) {
		x->gone++;
		return;
	}
	if (ev & NYM_FD_READ) {
		ssize_t n = read(nym_fd_get(f), b, sizeof b);
		x->reads++;
		if (n > 0)
			x->got += (size_t)n;
		else if (n == 0) {
			x->eof = 1;
			nym_fd_want(f, 0);
		}
	}
	if (ev & NYM_FD_WRITE) {
		x->writes++;
		if (write(nym_fd_get(f), "pong", 4) == 4)
			nym_fd_want(f, NYM_FD_READ);
	}
}

static void
test_fd(struct nym_loop *l)
{
	int sp[2];
	struct nym_fd *f;
	struct fdt x = {0};
	char b[16];
	uint64_t t0;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0, "socketpair");
	CHECK(nym_fd_watch(l, sp[0], 0, fd_ev, &x, &f) == 0, "fd watched (no interest yet)");
	CHECK(write(sp[1], "ping", 4) == 4, "data waiting");
	for (int i = 0; i < 5; i++)
		nym_loop_run(l, 10);
	CHECK(x.reads == 0, "no interest: no read callback (%d)", x.reads);
	nym_fd_want(f, NYM_FD_READ);
	t0 = nym_mono_ms();
	while (x.got < 4 && nym_mono_ms() - t0 < 2000)
		nym_loop_run(l, 20);
	CHECK(x.got == 4, "read interest: the bytes read (%zu)", x.got);
	nym_fd_want(f, NYM_FD_READ | NYM_FD_WRITE);
	t0 = nym_mono_ms();
	while (!x.writes && nym_mono_ms() - t0 < 2000)
		nym_loop_run(l, 20);
	CHECK(x.writes == 1 && read(sp[1], b, sizeof b) == 4 && !memcmp(b, "pong", 4),
	    "write interest: written once, then dropped");
	shutdown(sp[1], SHUT_WR);
	t0 = nym_mono_ms();
	while (!x.eof && nym_mono_ms() - t0 < 2000)
		nym_loop_run(l, 20);
	CHECK(x.eof && !x.gone, "the peer's half-close reads as EOF, the watch stays");
	nym_fd_close(f);
	for (int i = 0; i < 5; i++)
		nym_loop_run(l, 10);
	CHECK(x.gone == 0 && read(sp[1], b, sizeof b) == 0, "nym_fd_close: the fd closed, no GONE callback");
	close(sp[1]);
}

int
main(void)
{
	struct nym_loop *l;
	struct srv s = {0};
	struct cli c = {0}, r = {0};
	struct nym_ws *ws;
	char dir[] = "/tmp/nym-gwclient-XXXXXX", path[200], url[220];
	struct stat st;
	uint64_t t0;

	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/control", dir);
	snprintf(url, sizeof url, "unix:%s", path);
	big = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 9));

	CHECK(nym_loop_new(&l, NULL) == 0, "loop");
	struct nym_ws_handler sh = {.open = srv_open, .message = srv_msg, .closed = srv_closed, .arg = &s};
	CHECK(nym_ws_listen_unix(l, path, &sh) == 0, "listen on a unix socket");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode 0600 (%o)",
	    st.st_mode & 0777);
	CHECK(nym_unix_alive(path), "socket answers");
	CHECK(nym_ws_listen_unix(l, path, &sh) == NYM_EEXIST, "a second server on a live socket: EEXIST");

	struct nym_ws_handler ch = {.open = cli_open, .message = cli_msg, .closed = cli_closed, .arg = &c};
	CHECK(nym_ws_connect(l, url, &ch, &ws) == 0, "connect over the unix socket");
	/* queued before the handshake completes: sent after it; empty ones
	 * first (a receiver with no buffer yet must not copy from NULL) */
	nym_ws_send(ws, 0, NULL, 0);
	nym_ws_send(ws, 1, NULL, 0);
	nym_ws_send(ws, 0, (const uint8_t *)"hello", 5);
	nym_ws_send(ws, 1, (const uint8_t *)"\0\1\2", 3);
	nym_ws_send(ws, 1, big, BIG);
	t0 = nym_mono_ms();
	while (!c.closed && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(c.opened == 1 && s.opened == 1, "both ends saw the connection open");
	CHECK(c.got_empty_text == 1 && c.got_empty_bin == 1,
	    "empty first text and binary messages echoed, as empty messages (%d, %d)", c.got_empty_text,
	    c.got_empty_bin);
	CHECK(c.got_text == 1, "text frame echoed");
	CHECK(c.got_bin == 1, "binary frame echoed");
	CHECK(c.big_len == BIG && c.big_ok, "1 MiB binary message echoed whole");
	CHECK(c.closed == 1 && c.err == 0, "clean close (err %d, %s)", c.err, c.why);
	t0 = nym_mono_ms();
	while (!s.closed && nym_mono_ms() - t0 < 2000)
		nym_loop_run(l, 50);
	CHECK(s.closed == 1, "server saw the close");

	/* a TCP port nobody listens on */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof sa;
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd); /* bound then closed: refused */
	snprintf(url, sizeof url, "ws://127.0.0.1:%d", ntohs(sa.sin_port));
	struct nym_ws_handler rh = {.open = cli_open, .message = cli_msg, .closed = cli_closed, .arg = &r};
	CHECK(nym_ws_connect(l, url, &rh, &ws) == 0, "connect to a closed port starts");
	nym_ws_send(ws, 0, (const uint8_t *)"x", 1);
	t0 = nym_mono_ms();
	while (!r.closed && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(r.closed == 1 && r.err == NYM_ENET && !r.opened, "refused: closed(NYM_ENET) (%s)", r.why);
	CHECK(r.unsent == 1, "the unsent frame is counted (%zu)", r.unsent);

	CHECK(nym_ws_connect(l, "http://x", &rh, &ws) == NYM_EINVAL, "http:// refused");
	CHECK(nym_ws_connect(l, "ws://[::1:9000", &rh, &ws) == NYM_EINVAL, "unclosed bracket refused");
	CHECK(nym_ws_connect(l, "ws://h:99999", &rh, &ws) == NYM_EINVAL, "bad port refused");
	CHECK(nym_ws_connect(l, "ws://:80", &rh, &ws) == NYM_EINVAL, "empty host refused");

	test_tcp_server(l);
	test_fd(l);

	int fired = 0;
	struct nym_timer *t = nym_timer_new(l, tick, &fired);
	nym_timer_set(t, 20000);
	CHECK(nym_timer_pending(t), "timer pending");
	t0 = nym_mono_ms();
	while (!fired && nym_mono_ms() - t0 < 2000)
		nym_loop_run(l, 500);
	CHECK(fired == 1 && nym_mono_ms() - t0 >= 15, "timer fired once after ~20 ms");
	nym_timer_set(t, 10000);
	nym_timer_cancel(t);
	t0 = nym_mono_ms();
	while (nym_mono_ms() - t0 < 50)
		nym_loop_run(l, 20);
	CHECK(fired == 1 && !nym_timer_pending(t), "cancelled timer does not fire");
	nym_timer_free(t);

	nym_loop_free(l);
	CHECK(access(path, F_OK) != 0, "socket file removed with the loop");
	rmdir(dir);
	free(big);
	return t_done();
}
