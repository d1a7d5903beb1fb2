/* netio.c — epoll loop for node-link TCP: listeners, framed inbound
 * connections, persistent outgoing peers with bounded queues. See netio.h. */
#include "io/netio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "proto/framing.h"

/* ------------------------------------------------------------------ addresses */

int
nym_netio_addr_parse(struct nym_netio_addr *a, const char *s)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;

	memset(a, 0, sizeof *a);
	if (!s)
		return NYM_EADDR;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':')
			return NYM_EADDR;
		h = s + 1;
		hl = (size_t)(e - h);
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return NYM_EADDR;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof host)
		return NYM_EADDR;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == 0 || *end || errno || port > 65535)
		return NYM_EADDR;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		a->len = sizeof *v4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		a->len = sizeof *v6;
		return 0;
	}
	return NYM_EADDR;
}

void
nym_netio_addr_format(char out[64], const struct nym_netio_addr *a)
{
	char ip[INET6_ADDRSTRLEN];
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
		snprintf(out, 64, "%s:%u", ip, ntohs(v4->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
		snprintf(out, 64, "[%s]:%u", ip, ntohs(v6->sin6_port));
	} else {
		snprintf(out, 64, "?");
	}
}

int
nym_netio_addr_from_ip(struct nym_netio_addr *a, const uint8_t *ip, size_t iplen, uint16_t port)
{
	memset(a, 0, sizeof *a);
	if (iplen == 4) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		memcpy(&v4->sin_addr, ip, 4);
		a->len = sizeof *v4;
		return 0;
	}
	if (iplen == 16) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		memcpy(&v6->sin6_addr, ip, 16);
		a->len = sizeof *v6;
		return 0;
	}
	return NYM_EADDR;
}

/* Family, port and IP only: the bytes that name a peer. */
static size_t
addr_key(const struct nym_netio_addr *a, uint8_t k[19])
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
		k[0] = 4;
		memcpy(k + 1, &v4->sin_port, 2);
		memcpy(k + 3, &v4->sin_addr, 4);
		return 7;
	}
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
	k[0] = 6;
	memcpy(k + 1, &v6->sin6_port, 2);
	memcpy(k + 3, &v6->sin6_addr, 16);
	return 19;
}

/* ------------------------------------------------------------------ state */

enum { K_LISTEN, K_CONN, K_PEER, K_WATCH };
struct ent {
	int kind;
	int fd;
};

struct listener {
	struct ent e;
	struct listener *next;
};

struct conn {
	struct ent e;
	struct conn *prev, *next;
	struct nym_netio_addr addr;
	uint8_t *buf;
	size_t cap, have;
	uint64_t frame_start; /* ms when the unfinished frame began; 0: none */
	uint64_t last_frame;  /* ms of accept or the last whole frame (idle timeout) */
	int known;            /* in the known reserve: never idles out */
};

enum { P_DOWN, P_CONNECTING, P_UP };
struct peer {
	struct ent e;
	struct peer *hnext, *next;
	struct nym_netio_addr addr;
	uint8_t key[19];
	size_t keylen;
	int state;
	int want_out;         /* EPOLLOUT registered */
	uint8_t *buf;         /* queued frames, bytes [head, tail) */
	size_t cap, head, tail;
	uint32_t *lens;       /* ring of queued frame lengths */
	size_t lhead, lcount;
	size_t head_sent;     /* bytes of the head frame written on this connection */
	unsigned backoff_ms;
	uint64_t retry_at, deadline; /* ms */
	uint64_t dropped;
	int overflowing;      /* in a queue-full episode (one event per episode) */
};

struct watch {
	struct ent e;
	void (*cb)(void *);
	void *ctx;
	struct watch *next;
};

struct nym_netio {
	struct nym_netio_config cfg;
	int ep;
	int spare_fd;         /* released to accept-and-close when out of fds */
	struct listener *listeners;
	struct conn *conns;
	size_t nconns, nknown;
	struct nym_netio_addr *known; /* cfg.known, copied */
	struct peer **ptab;
	size_t pmask;
	struct peer *peers;
	size_t npeers;
	struct watch *watches;
	uint64_t next_sweep;
	struct nym_netio_stats st;
};

/* Timers (stalled frames, connect timeouts, reconnects) are served by one
 * sweep; each deadline pulls the next sweep forward, so an idle loop sleeps. */
static void
timer_at(struct nym_netio *io, uint64_t t)
{
	if (t < io->next_sweep)
		io->next_sweep = t;
}

static void
emit(struct nym_netio *io, enum nym_netio_ev kind, const struct nym_netio_addr *a, int err,
     uint64_t count, unsigned backoff)
{
	if (!io->cfg.on_event)
		return;
	struct nym_netio_event ev = { kind, a, err, count, backoff };
	io->cfg.on_event(io->cfg.ctx, &ev);
}

static int
ep_add(struct nym_netio *io, struct ent *e, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };
	return epoll_ctl(io->ep, EPOLL_CTL_ADD, e->fd, &ev);
}

static void
ep_mod(struct nym_netio *io, struct ent *e, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = e };
	epoll_ctl(io->ep, EPOLL_CTL_MOD, e->fd, &ev);
}

struct nym_netio *
nym_netio_create(const struct nym_netio_config *cfg)
{
	if (!cfg || !cfg->frame_len || !cfg->on_frame) {
		errno = EINVAL;
		return NULL;
	}
	struct nym_netio *io = calloc(1, sizeof *io);
	if (!io)
		return NULL;
	io->cfg = *cfg;
	struct nym_netio_config *c = &io->cfg;
	if (!c->max_frame)
		c->max_frame = NYM_FRAME_HEADER_MAX + NYM_PACKET_MAX_LEN;
	if (!c->max_conns)
		c->max_conns = 4096;
	if (!c->frame_timeout_ms)
		c->frame_timeout_ms = 10000;
	if (!c->idle_timeout_ms)
		c->idle_timeout_ms = 30000;
	if (!c->known_reserve)
		c->known_reserve = 1024;
	if (c->n_known) {
		io->known = malloc(c->n_known * sizeof *io->known);
		if (!io->known) {
			free(io);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(io->known, c->known, c->n_known * sizeof *io->known);
	}
	c->known = io->known;
	if (!c->max_peers)
		c->max_peers = 4096;
	if (!c->peer_queue_max)
		c->peer_queue_max = 2048;
	if (!c->total_queue_max)
		c->total_queue_max = 65536;
	if (!c->backoff_min_ms)
		c->backoff_min_ms = 50;
	if (!c->backoff_max_ms)
		c->backoff_max_ms = 5000;
	if (c->backoff_max_ms < c->backoff_min_ms)
		c->backoff_max_ms = c->backoff_min_ms;
	if (!c->connect_timeout_ms)
		c->connect_timeout_ms = 3000;
	size_t b = 16;
	while (b < 2 * c->max_peers)
		b <<= 1;
	io->ptab = calloc(b, sizeof *io->ptab);
	io->pmask = b - 1;
	io->ep = epoll_create1(EPOLL_CLOEXEC);
	io->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!io->ptab || io->ep < 0) {
		int e = io->ptab ? errno : ENOMEM;
		nym_netio_destroy(io);
		errno = e;
		return NULL;
	}
	return io;
}

static void
conn_close(struct nym_netio *io, struct conn *c)
{
	epoll_ctl(io->ep, EPOLL_CTL_DEL, c->e.fd, NULL);
	close(c->e.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		io->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	io->nconns--;
	io->nknown -= c->known ? 1 : 0;
	free(c->buf);
	free(c);
}

static void
conn_drop(struct nym_netio *io, struct conn *c, enum nym_netio_ev why, int err)
{
	io->st.dropped_conns++;
	emit(io, why, &c->addr, err, 0, 0);
	conn_close(io, c);
}

void
nym_netio_destroy(struct nym_netio *io)
{
	if (!io)
		return;
	while (io->conns)
		conn_close(io, io->conns);
	for (struct listener *l = io->listeners, *n; l; l = n) {
		n = l->next;
		close(l->e.fd);
		free(l);
	}
	for (struct peer *p = io->peers, *n; p; p = n) {
		n = p->next;
		if (p->e.fd >= 0)
			close(p->e.fd);
		free(p->buf);
		free(p->lens);
		free(p);
	}
	for (struct watch *w = io->watches, *n; w; w = n) {
		n = w->next;
		free(w);
	}
	if (io->ep >= 0)
		close(io->ep);
	if (io->spare_fd >= 0)
		close(io->spare_fd);
	free(io->ptab);
	free(io->known);
	free(io);
}

int
nym_netio_listen(struct nym_netio *io, const struct nym_netio_addr *addr)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NYM_EIO;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (addr->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	struct nym_netio_addr bound = *addr;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound.ss, &bound.len) < 0)
		goto fail;
	struct listener *l = calloc(1, sizeof *l);
	if (!l) {
		errno = ENOMEM;
		goto fail;
	}
	l->e.kind = K_LISTEN;
	l->e.fd = fd;
	if (ep_add(io, &l->e, EPOLLIN) < 0) {
		free(l);
		goto fail;
	}
	l->next = io->listeners;
	io->listeners = l;
	return bound.ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&bound.ss)->sin_port)
	                                     : ntohs(((struct sockaddr_in6 *)&bound.ss)->sin6_port);
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return NYM_EIO;
}

int
nym_netio_watch(struct nym_netio *io, int fd, void (*cb)(void *ctx), void *ctx)
{
	struct watch *w = calloc(1, sizeof *w);
	if (!w)
		return NYM_ENOMEM;
	w->e.kind = K_WATCH;
	w->e.fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	if (ep_add(io, &w->e, EPOLLIN) < 0) {
		free(w);
		return NYM_EIO;
	}
	w->next = io->watches;
	io->watches = w;
	return 0;
}

/* ------------------------------------------------------------------ inbound */

/* Is a's IP one of cfg.known's (any port: a neighbour dials from any)? */
static int
is_known(const struct nym_netio *io, const struct nym_netio_addr *a)
{
	for (size_t i = 0; i < io->cfg.n_known; i++) {
		const struct nym_netio_addr *k = &io->known[i];
		if (k->ss.ss_family != a->ss.ss_family)
			continue;
		if (a->ss.ss_family == AF_INET &&
		    !memcmp(&((const struct sockaddr_in *)&k->ss)->sin_addr,
		            &((const struct sockaddr_in *)&a->ss)->sin_addr, 4))
			return 1;
		if (a->ss.ss_family == AF_INET6 &&
		    !memcmp(&((const struct sockaddr_in6 *)&k->ss)->sin6_addr,
		            &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16))
			return 1;
	}
	return 0;
}

static void
on_accept(struct nym_netio *io, struct listener *l)
{
	for (int i = 0; i < 256; i++) {
		struct nym_netio_addr a;
		memset(&a, 0, sizeof a);
		a.len = sizeof a.ss;
		int fd = accept4(l->e.fd, (struct sockaddr *)&a.ss, &a.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && io->spare_fd >= 0) {
				/* Out of descriptors: free the spare one to accept and close,
				 * so the listener does not stay readable forever. */
				close(io->spare_fd);
				fd = accept(l->e.fd, (struct sockaddr *)&a.ss, &a.len);
				if (fd >= 0) {
					close(fd);
					io->st.rejected++;
					emit(io, NYM_NETIO_EV_REJECTED, &a, EMFILE, 0, 0);
				}
				io->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				continue;
			}
			return; /* EAGAIN, or a transient error */
		}
		int known = io->nknown < io->cfg.known_reserve && is_known(io, &a);
		if (!known && io->nconns - io->nknown >= io->cfg.max_conns) {
			close(fd);
			io->st.rejected++;
			emit(io, NYM_NETIO_EV_REJECTED, &a, 0, 0, 0);
			continue;
		}
		struct conn *c = calloc(1, sizeof *c);
		if (c)
			c->buf = malloc(c->cap = 4096 < io->cfg.max_frame ? 4096 : io->cfg.max_frame);
		if (!c || !c->buf) {
			if (c)
				free(c);
			close(fd);
			io->st.rejected++;
			emit(io, NYM_NETIO_EV_REJECTED, &a, ENOMEM, 0, 0);
			continue;
		}
		c->e.kind = K_CONN;
		c->e.fd = fd;
		c->addr = a;
		c->known = known;
		c->last_frame = nym_mono_ms();
		if (ep_add(io, &c->e, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			free(c->buf);
			free(c);
			continue;
		}
		c->next = io->conns;
		if (io->conns)
			io->conns->prev = c;
		io->conns = c;
		io->nconns++;
		io->nknown += (size_t)known;
		io->st.accepted++;
		if (!known)
			timer_at(io, c->last_frame + io->cfg.idle_timeout_ms);
	}
}

/* Cut whole frames off the front of c's buffer. 0, or -1 when c was dropped. */
static int
conn_frames(struct nym_netio *io, struct conn *c)
{
	size_t off = 0;
	int done = 0;
	while (off < c->have) {
		long L = io->cfg.frame_len(c->buf + off, c->have - off);
		if (L < 0) {
			conn_drop(io, c, NYM_NETIO_EV_BAD_FRAME, (int)L);
			return -1;
		}
		if (L == 0) {
			if (c->have - off >= 64) { /* no sane header is this long */
				conn_drop(io, c, NYM_NETIO_EV_BAD_FRAME, NYM_EFORMAT);
				return -1;
			}
			break;
		}
		if ((size_t)L > io->cfg.max_frame) {
			conn_drop(io, c, NYM_NETIO_EV_OVERSIZED, 0);
			return -1;
		}
		if (c->have - off < (size_t)L) {
			if ((size_t)L > c->cap) {
				/* Grow once, to the frame's size (bounded by max_frame). */
				memmove(c->buf, c->buf + off, c->have - off);
				c->have -= off;
				off = 0;
				uint8_t *nb = realloc(c->buf, (size_t)L);
				if (!nb) {
					conn_drop(io, c, NYM_NETIO_EV_READ_ERROR, ENOMEM);
					return -1;
				}
				c->buf = nb;
				c->cap = (size_t)L;
			}
			break;
		}
		io->st.frames_in++;
		io->cfg.on_frame(io->cfg.ctx, &c->addr, c->buf + off, (size_t)L);
		c->last_frame = nym_mono_ms();
		off += (size_t)L;
		done = 1;
	}
	if (off) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
	if (c->have == 0)
		c->frame_start = 0;
	else if (done || !c->frame_start)
		c->frame_start = nym_mono_ms();
	if (c->frame_start)
		timer_at(io, c->frame_start + io->cfg.frame_timeout_ms + 1);
	return 0;
}

static void
on_conn(struct nym_netio *io, struct conn *c, uint32_t events)
{
	size_t budget = 256 * 1024; /* per wake-up, so one sender cannot starve the rest */
	(void)events;
	while (budget) {
		size_t room = c->cap - c->have;
		if (room == 0) { /* cannot happen: conn_frames grows or drops first */
			conn_drop(io, c, NYM_NETIO_EV_OVERSIZED, 0);
			return;
		}
		ssize_t n = read(c->e.fd, c->buf + c->have, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_drop(io, c, NYM_NETIO_EV_READ_ERROR, errno);
			return;
		}
		if (n == 0) { /* orderly close; an unfinished frame is simply lost */
			conn_close(io, c);
			return;
		}
		c->have += (size_t)n;
		io->st.bytes_in += (uint64_t)n;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		if (conn_frames(io, c) < 0)
			return;
	}
}

/* ------------------------------------------------------------------ peers */

static struct peer *
peer_find(struct nym_netio *io, const uint8_t *k, size_t kl, uint32_t *hv)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < kl; i++)
		h = (h ^ k[i]) * 16777619u;
	*hv = h;
	for (struct peer *p = io->ptab[h & io->pmask]; p; p = p->hnext)
		if (p->keylen == kl && !memcmp(p->key, k, kl))
			return p;
	return NULL;
}

static void peer_flush(struct nym_netio *io, struct peer *p);

static void
peer_set_out(struct nym_netio *io, struct peer *p, int want)
{
	if (p->e.fd < 0 || p->want_out == want)
		return;
	p->want_out = want;
	ep_mod(io, &p->e, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
}

static void
peer_down(struct nym_netio *io, struct peer *p, int err, uint64_t now)
{
	size_t qmax = io->cfg.peer_queue_max;
	if (p->e.fd >= 0) {
		epoll_ctl(io->ep, EPOLL_CTL_DEL, p->e.fd, NULL);
		close(p->e.fd);
		p->e.fd = -1;
	}
	if (p->state == P_UP)
		io->st.peers_up--;
	if (p->head_sent && p->lcount) {
		/* Never resume mid-frame on a new connection: drop the rest. */
		p->head += p->lens[p->lhead];
		p->lhead = (p->lhead + 1) % qmax;
		p->lcount--;
		p->head_sent = 0;
		p->dropped++;
		io->st.frames_dropped++;
		io->st.queued--;
		if (!p->lcount)
			p->head = p->tail = 0;
	}
	p->state = P_DOWN;
	p->want_out = 0;
	if (err == 0 && p->lcount == 0) {
		/* Idle close by the other side: reconnect on the next frame. */
		p->retry_at = now;
		emit(io, NYM_NETIO_EV_PEER_DOWN, &p->addr, 0, 0, 0);
		return;
	}
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : io->cfg.backoff_min_ms;
	if (p->backoff_ms > io->cfg.backoff_max_ms)
		p->backoff_ms = io->cfg.backoff_max_ms;
	p->retry_at = now + p->backoff_ms;
	timer_at(io, p->retry_at);
	emit(io, NYM_NETIO_EV_PEER_DOWN, &p->addr, err, 0, p->backoff_ms);
}

static void
peer_up(struct nym_netio *io, struct peer *p)
{
	p->state = P_UP;
	p->backoff_ms = 0;
	io->st.peers_up++;
	emit(io, NYM_NETIO_EV_PEER_UP, &p->addr, 0, 0, 0);
}

static void
peer_connect(struct nym_netio *io, struct peer *p, uint64_t now)
{
	io->st.connects++;
	int fd = socket(p->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		io->st.connect_failures++;
		peer_down(io, p, errno ? errno : EIO, now);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	p->e.fd = fd;
	p->want_out = 1;
	if (ep_add(io, &p->e, EPOLLIN | EPOLLRDHUP | EPOLLOUT) < 0) {
		io->st.connect_failures++;
		peer_down(io, p, errno, now);
		return;
	}
	if (connect(fd, (const struct sockaddr *)&p->addr.ss, p->addr.len) == 0) {
		peer_up(io, p);
		peer_flush(io, p);
		return;
	}
	if (errno != EINPROGRESS) {
		io->st.connect_failures++;
		peer_down(io, p, errno, now);
		return;
	}
	p->state = P_CONNECTING;
	p->deadline = now + io->cfg.connect_timeout_ms;
	timer_at(io, p->deadline);
}

/* Write queued frames until the queue is empty or the socket is full. */
static void
peer_flush(struct nym_netio *io, struct peer *p)
{
	size_t qmax = io->cfg.peer_queue_max;
	while (p->state == P_UP && p->lcount) {
		size_t start = p->head + p->head_sent;
		ssize_t n = write(p->e.fd, p->buf + start, p->tail - start);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				peer_set_out(io, p, 1);
				return;
			}
			peer_down(io, p, errno, nym_mono_ms());
			return;
		}
		size_t rem = (size_t)n;
		while (rem && p->lcount) {
			size_t left = p->lens[p->lhead] - p->head_sent;
			if (rem < left) {
				p->head_sent += rem;
				break;
			}
			rem -= left;
			p->head += p->lens[p->lhead];
			p->lhead = (p->lhead + 1) % qmax;
			p->lcount--;
			p->head_sent = 0;
			io->st.frames_out++;
			io->st.queued--;
		}
	}
	if (p->lcount == 0) {
		p->head = p->tail = 0;
		p->overflowing = 0;
		peer_set_out(io, p, 0);
	}
}

static void
on_peer(struct nym_netio *io, struct peer *p, uint32_t events)
{
	uint64_t now = nym_mono_ms();
	if (p->e.fd < 0)
		return; /* went down earlier in this round (a send failed) */
	if (p->state == P_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(p->e.fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err == 0 && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNREFUSED;
		if (err) {
			io->st.connect_failures++;
			peer_down(io, p, err, now);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (!(events & EPOLLOUT) || getpeername(p->e.fd, (struct sockaddr *)&ss, &sl) < 0)
			return; /* not connected yet */
		peer_up(io, p);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
		/* Peers do not talk back on this link: read and discard, and
		 * notice when they close. */
		uint8_t junk[4096];
		for (;;) {
			ssize_t n = read(p->e.fd, junk, sizeof junk);
			if (n > 0)
				continue;
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			peer_down(io, p, n < 0 ? errno : (p->lcount ? ECONNRESET : 0), now);
			return;
		}
	}
	if (events & EPOLLOUT)
		peer_flush(io, p);
}

static struct peer *
peer_get(struct nym_netio *io, const struct nym_netio_addr *addr)
{
	uint8_t k[19];
	uint32_t h;
	size_t kl = addr_key(addr, k);
	struct peer *p = peer_find(io, k, kl, &h);
	if (p)
		return p;
	if (io->npeers >= io->cfg.max_peers)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->lens = malloc(io->cfg.peer_queue_max * sizeof *p->lens);
	if (!p->lens) {
		free(p);
		return NULL;
	}
	p->e.kind = K_PEER;
	p->e.fd = -1;
	p->addr = *addr;
	memcpy(p->key, k, kl);
	p->keylen = kl;
	p->state = P_DOWN;
	p->hnext = io->ptab[h & io->pmask];
	io->ptab[h & io->pmask] = p;
	p->next = io->peers;
	io->peers = p;
	io->npeers++;
	return p;
}

int
nym_netio_send(struct nym_netio *io, const struct nym_netio_addr *addr, const uint8_t *hdr,
               size_t hdrlen, const uint8_t *body, size_t bodylen)
{
	size_t len = hdrlen + bodylen, qmax = io->cfg.peer_queue_max;
	if (len == 0 || len > io->cfg.max_frame)
		return NYM_ESIZE;
	struct peer *p = peer_get(io, addr);
	if (!p) {
		io->st.frames_dropped++;
		emit(io, NYM_NETIO_EV_TOO_MANY_PEERS, addr, 0, 0, 0);
		return NYM_EFULL;
	}
	size_t done = 0;
	if (p->state == P_UP && p->lcount == 0) {
		/* Idle and connected: write straight from the caller's buffers. */
		struct iovec iov[2] = { { (void *)hdr, hdrlen }, { (void *)body, bodylen } };
		ssize_t n;
		do
			n = writev(p->e.fd, iov, 2);
		while (n < 0 && errno == EINTR);
		if (n == (ssize_t)len) {
			io->st.frames_out++;
			return 0;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			peer_down(io, p, errno, nym_mono_ms());
			n = 0;
		}
		done = n > 0 ? (size_t)n : 0;
	}
	if (p->lcount >= qmax || io->st.queued >= io->cfg.total_queue_max) {
		p->dropped++;
		io->st.frames_dropped++;
		if (!p->overflowing) {
			p->overflowing = 1;
			emit(io, NYM_NETIO_EV_QUEUE_FULL, &p->addr, 0, p->dropped, 0);
		}
		return NYM_EFULL;
	}
	if (p->cap - p->tail < len) {
		if (p->head) {
			memmove(p->buf, p->buf + p->head, p->tail - p->head);
			p->tail -= p->head;
			p->head = 0;
		}
		if (p->cap - p->tail < len) {
			size_t nc = p->cap ? p->cap : 16384;
			while (nc - p->tail < len)
				nc *= 2;
			uint8_t *nb = realloc(p->buf, nc);
			if (!nb) {
				p->dropped++;
				io->st.frames_dropped++;
				return NYM_EFULL;
			}
			p->buf = nb;
			p->cap = nc;
		}
	}
	if (hdrlen)
		memcpy(p->buf + p->tail, hdr, hdrlen);
	if (bodylen)
		memcpy(p->buf + p->tail + hdrlen, body, bodylen);
	p->tail += len;
	p->lens[(p->lhead + p->lcount) % qmax] = (uint32_t)len;
	p->lcount++;
	io->st.queued++;
	if (done) { /* part of it went out directly: it is now the head frame */
		p->head_sent = done;
	}
	if (p->state == P_UP)
		peer_set_out(io, p, 1);
	else if (p->state == P_DOWN && nym_mono_ms() >= p->retry_at)
		peer_connect(io, p, nym_mono_ms());
	return 0;
}

/* ------------------------------------------------------------------ timers */

/* Serve every due timer and schedule the next sweep at the earliest
 * deadline left (at most a second away). */
static void
sweep(struct nym_netio *io, uint64_t now)
{
	uint64_t next = now + 1000;
	for (struct conn *c = io->conns, *n; c; c = n) {
		n = c->next;
		if (!c->known) {
			/* Rounded up to 100 ms, so a burst of accepts shares sweeps. */
			uint64_t idle = c->last_frame + io->cfg.idle_timeout_ms;
			if (now >= idle) {
				io->st.idle_dropped++;
				conn_drop(io, c, NYM_NETIO_EV_IDLE, 0);
				continue;
			}
			if (idle - idle % 100 + 100 < next)
				next = idle - idle % 100 + 100;
		}
		if (!c->frame_start)
			continue;
		uint64_t end = c->frame_start + io->cfg.frame_timeout_ms;
		if (now > end)
			conn_drop(io, c, NYM_NETIO_EV_STALLED, 0);
		else if (end + 1 < next)
			next = end + 1;
	}
	for (struct peer *p = io->peers; p; p = p->next) {
		if (p->state == P_CONNECTING && now >= p->deadline) {
			io->st.connect_failures++;
			peer_down(io, p, ETIMEDOUT, now);
		} else if (p->state == P_DOWN && p->lcount && now >= p->retry_at) {
			peer_connect(io, p, now);
		}
		if (p->state == P_CONNECTING && p->deadline < next)
			next = p->deadline;
		if (p->state == P_DOWN && p->lcount && p->retry_at < next)
			next = p->retry_at;
	}
	io->next_sweep = next;
}

int
nym_netio_run(struct nym_netio *io, int timeout_ms)
{
	struct epoll_event evs[128];
	uint64_t now = nym_mono_ms();

	if (now >= io->next_sweep)
		sweep(io, now);
	int t = io->next_sweep > now ? (int)(io->next_sweep - now) : 0;
	if (timeout_ms >= 0 && timeout_ms < t)
		t = timeout_ms;
	int n = epoll_wait(io->ep, evs, 128, t);
	if (n < 0)
		return errno == EINTR ? 0 : NYM_EIO;
	for (int i = 0; i < n; i++) {
		struct ent *e = evs[i].data.ptr;
		switch (e->kind) {
		case K_LISTEN:
			on_accept(io, (struct listener *)e);
			break;
		case K_CONN:
			on_conn(io, (struct conn *)e, evs[i].events);
			break;
		case K_PEER:
			on_peer(io, (struct peer *)e, evs[i].events);
			break;
		case K_WATCH:
			((struct watch *)e)->cb(((struct watch *)e)->ctx);
			break;
		}
	}
	if (n == 0 && nym_mono_ms() >= io->next_sweep)
		sweep(io, nym_mono_ms());
	return n;
}

void
nym_netio_stats(const struct nym_netio *io, struct nym_netio_stats *s)
{
	*s = io->st;
	s->conns = io->nconns;
	s->known_conns = io->nknown;
	s->peers = io->npeers;
}
