/* test_gwclient.c — the websocket transport: a unix-socket echo server and a
 * client in one loop (text, binary, a 1 MiB message, close), a refused
 * connection, bad URLs, a second server on a live socket, timers. */
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
	int opened, closed, err, got_text, got_bin;
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
	if (!binary && n == 5 && !memcmp(d, "hello", 5))
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

static void
tick(struct nym_timer *t, void *arg)
{
	(void)t;
	++*(int *)arg;
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
	struct nym_ws_handler sh = {srv_open, srv_msg, srv_closed, &s};
	CHECK(nym_ws_listen_unix(l, path, &sh) == 0, "listen on a unix socket");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode 0600 (%o)",
	    st.st_mode & 0777);
	CHECK(nym_unix_alive(path), "socket answers");
	CHECK(nym_ws_listen_unix(l, path, &sh) == NYM_EEXIST, "a second server on a live socket: EEXIST");

	struct nym_ws_handler ch = {cli_open, cli_msg, cli_closed, &c};
	CHECK(nym_ws_connect(l, url, &ch, &ws) == 0, "connect over the unix socket");
	/* queued before the handshake completes: sent after it */
	nym_ws_send(ws, 0, (const uint8_t *)"hello", 5);
	nym_ws_send(ws, 1, (const uint8_t *)"\0\1\2", 3);
	nym_ws_send(ws, 1, big, BIG);
	t0 = nym_mono_ms();
	while (!c.closed && nym_mono_ms() - t0 < 5000)
		nym_loop_run(l, 100);
	CHECK(c.opened == 1 && s.opened == 1, "both ends saw the connection open");
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
	struct nym_ws_handler rh = {cli_open, cli_msg, cli_closed, &r};
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
