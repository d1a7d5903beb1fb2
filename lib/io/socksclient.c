/* socksclient.c — local SOCKS connections as Nym messages to a network
 * requester (socksclient.h; doc/spec/socks5.md §1, §7, §8). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/socksclient.h"
#include "io/tcpstream.h"
#include "proto/socks.h"
#include "proto/socks5.h"

struct sconn {
	struct sconn *next, *prev;
	struct nym_socksclient *sc;
	struct nym_tcpstream *s;
	struct nym_socks hs;
	uint64_t id;
	int connected;   /* Connect sent */
	int got_data;    /* some NetworkData came */
	char dest[NYM_SOCKS_DEST_MAX + 1];
};

struct nym_socksclient {
	struct nym_loop *loop;
	struct nym_mixclient *mc;
	struct nym_socksclient_config c;
	struct nym_socksclient_events ev;
	struct nym_fd *listener;
	struct nym_timer *tick;
	struct sconn *conns;
	size_t active;
	uint8_t self[96];
	uint64_t last_rx;  /* the last message from the requester (ms) */
	uint64_t probe;    /* when the health check still unanswered went out; 0: none */
};

static void
logf_(struct nym_socksclient *sc, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
logf_(struct nym_socksclient *sc, int level, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	if (!sc->ev.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sc->ev.log(level, line, sc->ev.arg);
}

static struct sconn *
find(struct nym_socksclient *sc, uint64_t id)
{
	for (struct sconn *k = sc->conns; k; k = k->next)
		if (k->id == id)
			return k;
	return NULL;
}

/* Encode and send one request to the provider on the connection's lane. */
static int
request(struct sconn *k, struct nym_socks5_msg *m, int surbs)
{
	struct nym_socksclient *sc = k->sc;
	size_t n = nym_socks5_req_len(m);
	uint8_t stackbuf[256], *b = n <= sizeof stackbuf ? stackbuf : malloc(n);
	int e;
	if (!n)
		return NYM_EINVAL;
	if (!b)
		return NYM_ENOMEM;
	if ((e = nym_socks5_req_encode(b, n, m)) > 0)
		e = nym_mixclient_send(sc->mc, &sc->c.provider, b, n, sc->c.anonymous ? surbs : -1,
		    k->id, NULL);
	if (b != stackbuf)
		free(b);
	return e < 0 ? e : 0;
}

static int
on_send(struct nym_tcpstream *s, uint64_t seq, int closed, const uint8_t *d, size_t n, void *arg)
{
	struct sconn *k = arg;
	struct nym_socks5_msg m = {.iface = NYM_SOCKS5_IFACE_VERSION,
	    .socks5 = NYM_SOCKS5_PROTOCOL_VERSION, .kind = NYM_SOCKS5_SEND, .conn_id = k->id,
	    .closed = (uint8_t)(closed != 0), .seq = seq, .data = d, .data_len = n};
	(void)s;
	return request(k, &m, k->sc->c.send_surbs) < 0;
}

static int
can_read(struct nym_tcpstream *s, void *arg)
{
	struct sconn *k = arg;
	(void)s;
	return nym_mixclient_unacked(k->sc->mc, k->id) < k->sc->c.lane_max &&
	       nym_mixclient_backlog(k->sc->mc) < k->sc->c.backlog_max;
}

/* The handshake: replies as they are due; at its end the Connect. */
static size_t
on_raw(struct nym_tcpstream *s, const uint8_t *d, size_t n, void *arg)
{
	struct sconn *k = arg;
	uint8_t out[NYM_SOCKS_REPLY_MAX];
	size_t off = 0, used, ol;
	int r;

	while (off < n) {
		r = nym_socks_input(&k->hs, d + off, n - off, &used, out, &ol);
		off += used;
		if (ol && nym_tcpstream_write(s, out, ol) < 0)
			return n;
		if (r == NYM_SOCKS_MORE && used)
			continue;
		if (r == NYM_SOCKS_MORE)
			break;
		if (r < 0) {
			logf_(k->sc, NYM_SOCKSCLIENT_INFO, "a local application was refused: %s", k->hs.why);
			nym_tcpstream_end(s, r, k->hs.why, 1);
			return n;
		}
		/* DONE: granted at once (as the reference), then Connect */
		snprintf(k->dest, sizeof k->dest, "%s", k->hs.dest);
		struct nym_socks5_msg m = {.iface = NYM_SOCKS5_IFACE_VERSION,
		    .socks5 = NYM_SOCKS5_PROTOCOL_VERSION, .kind = NYM_SOCKS5_CONNECT, .conn_id = k->id,
		    .addr = (const uint8_t *)k->hs.dest, .addr_len = k->hs.dest_len,
		    .has_return = !k->sc->c.anonymous};
		memcpy(m.return_address, k->sc->self, 96);
		int e = request(k, &m, k->sc->c.connect_surbs);
		if (e < 0) {
			char why[400];
			snprintf(why, sizeof why, "%s: the Connect could not be sent: %s", k->dest,
			    e == NYM_EROUTE ? "the network requester's gateway is not in the topology" :
			    nym_strerror(e));
			ol = nym_socks_reply(&k->hs, 0, NYM_SOCKS_REP_NET_UNREACHABLE, out);
			nym_tcpstream_write(s, out, ol);
			nym_tcpstream_end(s, e, why, 1);
			return n;
		}
		k->connected = 1;
		ol = nym_socks_reply(&k->hs, 1, 0, out);
		nym_tcpstream_write(s, out, ol);
		nym_tcpstream_start(s);
		logf_(k->sc, NYM_SOCKSCLIENT_INFO, "%s: connecting (SOCKS%s, connection %016llx)", k->dest,
		    k->hs.version == 5 ? "5" : k->hs.atyp == 3 ? "4a" : "4", (unsigned long long)k->id);
		return off;
	}
	return off;
}

static void
conn_free(struct sconn *k)
{
	struct nym_socksclient *sc = k->sc;
	if (k->prev)
		k->prev->next = k->next;
	else
		sc->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	sc->active--;
	nym_tcpstream_free(k->s);
	free(k);
}

static void
on_done(struct nym_tcpstream *s, int err, const char *why, void *arg)
{
	struct sconn *k = arg;
	uint64_t tx, rx;
	nym_tcpstream_counts(s, &tx, &rx);
	if (err && k->connected) {
		logf_(k->sc, NYM_SOCKSCLIENT_ERROR, "%s: closed: %s", k->dest, why ? why : nym_strerror(err));
		/* nobody is waiting for what is still queued */
		nym_mixclient_forget_lane(k->sc->mc, k->id);
	} else if (k->connected)
		logf_(k->sc, NYM_SOCKSCLIENT_INFO, "%s: closed (%llu bytes sent, %llu received)", k->dest,
		    (unsigned long long)tx, (unsigned long long)rx);
	conn_free(k);
}

static void
on_accept(struct nym_fd *f, int ev, void *arg)
{
	struct nym_socksclient *sc = arg;
	if (ev & NYM_FD_GONE) {
		sc->listener = NULL;
		logf_(sc, NYM_SOCKSCLIENT_ERROR, "the listening socket failed");
		return;
	}
	for (int i = 0; i < 64; i++) {
		int fd = accept4(nym_fd_get(f), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (sc->active >= (size_t)sc->c.max_conns) {
			close(fd);
			logf_(sc, NYM_SOCKSCLIENT_ERROR, "refused a local connection: %d open already",
			    sc->c.max_conns);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct sconn *k = calloc(1, sizeof *k);
		if (!k) {
			close(fd);
			continue;
		}
		k->sc = sc;
		nym_socks_init(&k->hs);
		do {
			if (nym_rng_fill(sc->c.rng, (uint8_t *)&k->id, sizeof k->id) < 0)
				k->id = nym_mono_ns();
		} while (!k->id || find(sc, k->id));
		snprintf(k->dest, sizeof k->dest, "?");
		struct nym_tcpstream_ops ops = {on_send, can_read, on_raw, on_done, k};
		struct nym_tcpstream_limits lim = {.idle_ms = sc->c.idle_ms};
		if (nym_tcpstream_new(&k->s, sc->loop, fd, &ops, &lim) < 0) {
			free(k);
			continue;
		}
		k->next = sc->conns;
		if (sc->conns)
			sc->conns->prev = k;
		sc->conns = k;
		sc->active++;
	}
}

/* Is the requester still there? Asked only while connections wait for it. */
static void
health(struct nym_socksclient *sc, uint64_t now)
{
	int waiting = 0;
	if (sc->c.health_ms == UINT64_MAX)
		return;
	for (struct sconn *k = sc->conns; k; k = k->next)
		waiting |= k->connected;
	if (!waiting) {
		sc->probe = 0;
		sc->last_rx = now;
		return;
	}
	if (sc->probe && now - sc->probe >= sc->c.health_ms) {
		char why[200];
		snprintf(why, sizeof why, "the network requester does not answer (nothing from it for "
		    "%llu s, a health check unanswered for %llu s)",
		    (unsigned long long)((now - sc->last_rx) / 1000),
		    (unsigned long long)((now - sc->probe) / 1000));
		for (struct sconn *k = sc->conns; k; k = k->next)
			if (k->connected)
				nym_tcpstream_end(k->s, NYM_ETIMEOUT, why, 0);
		sc->probe = 0;
		sc->last_rx = now;
		return;
	}
	if (!sc->probe && now - sc->last_rx >= sc->c.health_ms) {
		struct nym_socks5_msg m = {.iface = NYM_SOCKS5_IFACE_VERSION, .kind = NYM_SOCKS5_CONTROL,
		    .tag = NYM_SOCKS5_CONTROL_HEALTH};
		uint8_t b[8];
		int n = nym_socks5_req_encode(b, sizeof b, &m);
		/* answered only through SURBs (§1.2) */
		if (n > 0 && nym_mixclient_send(sc->mc, &sc->c.provider, b, (size_t)n, 2, 0, NULL) == 0)
			sc->probe = now;
	}
}

static void
on_tick(struct nym_timer *t, void *arg)
{
	struct nym_socksclient *sc = arg;
	uint64_t now = nym_mono_ms();
	int paused = 0;
	health(sc, now);
	for (struct sconn *k = sc->conns; k; k = k->next) {
		nym_tcpstream_tick(k->s, now);
		nym_tcpstream_resume(k->s);
		paused |= nym_tcpstream_paused(k->s);
	}
	nym_timer_set(t, paused ? 5000 : 200000);
}

int
nym_socksclient_message(struct nym_socksclient *sc, const uint8_t *data, size_t len,
    const uint8_t *sender_tag)
{
	struct nym_socks5_msg m;
	struct sconn *k;
	(void)sender_tag;
	if (nym_socks5_resp_decode(&m, data, len) < 0)
		return 0;
	sc->last_rx = nym_mono_ms(); /* it is alive */
	sc->probe = 0;
	switch (m.kind) {
	case NYM_SOCKS5_NETWORK_DATA:
		if (!(k = find(sc, m.conn_id)))
			return 1; /* closed already: late data is dropped (§7.3) */
		if (!k->got_data && m.seq == 0 && m.closed && m.data_len == 0) {
			/* the requester's "could not connect" (§7.2) */
			char why[NYM_SOCKS_DEST_MAX + 80];
			snprintf(why, sizeof why, "the network requester could not connect to %s", k->dest);
			nym_tcpstream_end(k->s, NYM_ENET, why, 0);
			return 1;
		}
		k->got_data = 1;
		nym_tcpstream_deliver(k->s, m.seq, m.closed, m.data, m.data_len);
		return 1;
	case NYM_SOCKS5_CONNECTION_ERROR: {
		char why[700];
		if (!(k = find(sc, m.conn_id)))
			return 1;
		snprintf(why, sizeof why, "refused by the network requester: %.*s", (int)m.data_len,
		    (const char *)m.data);
		nym_tcpstream_end(k->s, NYM_EPERM, why, 0);
		return 1;
	}
	default:
		return 1; /* query and control answers: nothing asked */
	}
}

void
nym_socksclient_acked(struct nym_socksclient *sc)
{
	for (struct sconn *k = sc->conns; k; k = k->next)
		nym_tcpstream_resume(k->s);
}

size_t
nym_socksclient_active(const struct nym_socksclient *sc)
{
	return sc->active;
}

static int
listen_on(const char *host, int port, int *out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof *a4;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof *a6;
	} else
		return NYM_EADDR;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NYM_EIO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return NYM_EIO;
	}
	*out = fd;
	return 0;
}

int
nym_socksclient_start(struct nym_socksclient **out, struct nym_loop *l,
    struct nym_mixclient *mc, const struct nym_socksclient_config *c,
    const struct nym_socksclient_events *ev)
{
	struct nym_socksclient *sc = calloc(1, sizeof *sc);
	struct nym_address self;
	int fd, e;

	if (!sc)
		return NYM_ENOMEM;
	sc->loop = l;
	sc->mc = mc;
	sc->c = *c;
	if (ev)
		sc->ev = *ev;
	if (!sc->c.host)
		sc->c.host = "127.0.0.1";
	if (!sc->c.port)
		sc->c.port = 1080;
	if (!sc->c.connect_surbs)
		sc->c.connect_surbs = 20;
	if (!sc->c.send_surbs)
		sc->c.send_surbs = 3;
	if (!sc->c.lane_max)
		sc->c.lane_max = 64;
	if (!sc->c.backlog_max)
		sc->c.backlog_max = (size_t)4 << 20;
	if (sc->c.max_conns <= 0)
		sc->c.max_conns = 1024;
	if (!sc->c.health_ms)
		sc->c.health_ms = 10000;
	sc->last_rx = nym_mono_ms();
	nym_mixclient_address(mc, &self);
	memcpy(sc->self, self.identity, 32);
	memcpy(sc->self + 32, self.encryption, 32);
	memcpy(sc->self + 64, self.gateway, 32);
	if ((e = listen_on(sc->c.host, sc->c.port, &fd)) < 0) {
		int saved = errno;
		free(sc);
		errno = saved;
		return e;
	}
	if ((e = nym_fd_watch(l, fd, NYM_FD_READ, on_accept, sc, &sc->listener)) < 0 ||
	    !(sc->tick = nym_timer_new(l, on_tick, sc))) {
		if (sc->listener)
			nym_fd_close(sc->listener);
		free(sc);
		return e < 0 ? e : NYM_ENOMEM;
	}
	nym_timer_set(sc->tick, 200000);
	*out = sc;
	return 0;
}

void
nym_socksclient_free(struct nym_socksclient *sc)
{
	if (!sc)
		return;
	while (sc->conns)
		conn_free(sc->conns);
	if (sc->listener)
		nym_fd_close(sc->listener);
	nym_timer_free(sc->tick);
	free(sc);
}
