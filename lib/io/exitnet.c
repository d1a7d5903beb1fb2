/* exitnet.c — the network requester's TCP side on its own thread (doc/spec/socks5.md §7, §9). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/exitnet.h"
#include "proto/exitpolicy.h"
#include "proto/ordered.h"
#include "proto/socks5.h"

enum { EARLY, RESOLVING, CONNECTING, OPEN };

#define BUCKETS 4096
#define RECENT 8192 /* ids closed lately: their late Sends are dropped */
#define EARLY_MS 60000
#define EARLY_HELD ((size_t)256 << 10)

struct conn {
	struct conn *next; /* hash chain */
	struct conn *dead_next;
	uint64_t id;
	void *user;
	int state, dead;
	int fd;
	char host[256], port[8];
	struct gaicb gai, *gaip;
	struct addrinfo *ai, *ai_try;
	struct nym_ordered in;
	uint8_t *w;
	size_t wlen, woff, wcap;
	uint64_t out_seq;
	uint64_t last_rx, last_tx, deadline, connect_deadline;
	int client_closed, eof_sent;
	uint32_t events; /* epoll interest */
	int watched;     /* the fd is in the epoll set */
};

struct cmd {
	struct cmd *next;
	int connect;
	uint64_t id, seq;
	int closed;
	void *user;
	size_t len;
	uint8_t data[];
};

struct ev {
	struct ev *next;
	struct nym_exitnet_event e;
};

struct nym_exitnet {
	struct nym_exitnet_config c;
	pthread_t th;
	int started;
	int ep, evfd;
	pthread_mutex_t mu;
	struct cmd *cmds, **cmds_tail;
	struct ev *evs, **evs_tail;
	size_t ev_bytes;
	int throttled, stop, pushed;
	struct conn *tab[BUCKETS];
	size_t nconns, nearly;
	struct conn *dead;
	uint64_t recent[RECENT];
	size_t recent_next;
	struct nym_exitnet_stats st;
	uint64_t last_scan;
	size_t buffered; /* bytes held and waiting to be written, all connections */
};

void
nym_exitnet_defaults(struct nym_exitnet_config *c)
{
	memset(c, 0, sizeof *c);
	c->read_chunk = 16384;
	c->max_conns = 1024;
	c->max_held = (size_t)4 << 20;
	c->max_write = (size_t)16 << 20;
	c->max_early = 256;
	c->max_events_bytes = (size_t)2 << 20;
	c->max_buffered = (size_t)256 << 20;
	c->keepalive_ms = 60000;
	c->idle_ms = 300000;
	c->grace_ms = 3000;
	c->connect_ms = 30000;
}

/* ---- the two queues (the only state both threads touch, under mu) ---- */

static void
kick(struct nym_exitnet *x)
{
	uint64_t one = 1;
	ssize_t r = write(x->evfd, &one, sizeof one);
	(void)r;
}

static int
cmd_push(struct nym_exitnet *x, struct cmd *m)
{
	pthread_mutex_lock(&x->mu);
	m->next = NULL;
	*x->cmds_tail = m;
	x->cmds_tail = &m->next;
	pthread_mutex_unlock(&x->mu);
	kick(x);
	return 0;
}

int
nym_exitnet_connect(struct nym_exitnet *x, uint64_t conn_id, const uint8_t *addr, size_t addr_len,
                    void *user)
{
	struct cmd *m = malloc(sizeof *m + addr_len);
	if (!m)
		return NYM_ENOMEM;
	memset(m, 0, sizeof *m);
	m->connect = 1, m->id = conn_id, m->user = user, m->len = addr_len;
	memcpy(m->data, addr, addr_len);
	return cmd_push(x, m);
}

int
nym_exitnet_send(struct nym_exitnet *x, uint64_t conn_id, uint64_t seq, int closed, const uint8_t *data,
                 size_t len)
{
	struct cmd *m = malloc(sizeof *m + len);
	if (!m)
		return NYM_ENOMEM;
	memset(m, 0, sizeof *m);
	m->id = conn_id, m->seq = seq, m->closed = closed, m->len = len;
	if (len)
		memcpy(m->data, data, len);
	return cmd_push(x, m);
}

int
nym_exitnet_poll(struct nym_exitnet *x, struct nym_exitnet_event *out)
{
	struct ev *e;
	int wake = 0;
	pthread_mutex_lock(&x->mu);
	if ((e = x->evs)) {
		if (!(x->evs = e->next))
			x->evs_tail = &x->evs;
		x->ev_bytes -= e->e.len;
		if (x->throttled && x->ev_bytes < x->c.max_events_bytes / 2)
			x->throttled = 0, wake = 1;
	}
	pthread_mutex_unlock(&x->mu);
	if (wake)
		kick(x);
	if (!e)
		return 0;
	*out = e->e;
	free(e);
	return 1;
}

void
nym_exitnet_stats(struct nym_exitnet *x, struct nym_exitnet_stats *s)
{
	pthread_mutex_lock(&x->mu);
	*s = x->st;
	pthread_mutex_unlock(&x->mu);
}

/* An event from the engine's thread; data is taken over. */
static void
emit(struct nym_exitnet *x, struct conn *c, int type, int closed, uint8_t *data, size_t len)
{
	struct ev *e = calloc(1, sizeof *e);
	if (!e) {
		free(data);
		return;
	}
	e->e.type = type, e->e.conn_id = c->id, e->e.user = c->user;
	e->e.closed = closed, e->e.data = data, e->e.len = len;
	if (type == NYM_EXITNET_DATA) {
		e->e.seq = c->out_seq++;
		c->last_tx = nym_mono_ms();
	}
	pthread_mutex_lock(&x->mu);
	*x->evs_tail = e;
	x->evs_tail = &e->next;
	x->ev_bytes += len;
	if (type == NYM_EXITNET_DATA)
		x->st.bytes_out += len;
	pthread_mutex_unlock(&x->mu);
	x->pushed = 1;
}

/* ---- connections ---- */

static struct conn **
slot(struct nym_exitnet *x, uint64_t id)
{
	struct conn **p = &x->tab[(id ^ id >> 29) % BUCKETS];
	while (*p && (*p)->id != id)
		p = &(*p)->next;
	return p;
}

static int
recently_closed(struct nym_exitnet *x, uint64_t id)
{
	for (size_t i = 0; i < RECENT; i++)
		if (x->recent[i] == id && id != 0)
			return 1;
	return 0;
}

static void
set_events(struct nym_exitnet *x, struct conn *c)
{
	uint32_t want = 0;
	struct epoll_event ee;
	if (c->fd < 0 || !c->watched)
		return;
	if (c->state == CONNECTING)
		want = EPOLLOUT;
	else if (c->state == OPEN)
		want = (c->eof_sent ? 0 : EPOLLIN) | (c->wlen > c->woff ? EPOLLOUT : 0);
	if (want == c->events)
		return;
	memset(&ee, 0, sizeof ee);
	ee.events = want;
	ee.data.ptr = c;
	epoll_ctl(x->ep, EPOLL_CTL_MOD, c->fd, &ee);
	c->events = want;
}

/* The end of a connection: its close if not sent yet, then GONE. */
static void
finish(struct nym_exitnet *x, struct conn *c, int send_close)
{
	struct conn **p;
	if (c->dead)
		return;
	if (c->state != EARLY) {
		if (send_close && !c->eof_sent)
			emit(x, c, NYM_EXITNET_DATA, 1, NULL, 0);
		emit(x, c, NYM_EXITNET_GONE, 0, NULL, 0);
		x->recent[x->recent_next++ % RECENT] = c->id;
		pthread_mutex_lock(&x->mu);
		x->st.active--;
		pthread_mutex_unlock(&x->mu);
	} else {
		x->nearly--;
	}
	if (c->fd >= 0) {
		epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	x->buffered -= c->in.held_bytes + (c->wlen - c->woff);
	if ((p = slot(x, c->id)) && *p == c)
		*p = c->next;
	x->nconns--;
	c->dead = 1;
	c->dead_next = x->dead;
	x->dead = c;
}

static void
conn_free(struct conn *c)
{
	if (c->gaip && gai_cancel(c->gaip) == EAI_NOTCANCELED)
		return; /* the resolver still writes into it: leave it (only at exit) */
	if (c->gaip && c->gai.ar_result)
		freeaddrinfo(c->gai.ar_result);
	if (c->ai && !c->gaip)
		freeaddrinfo(c->ai);
	nym_ordered_free(&c->in);
	free(c->w);
	free(c);
}

static void
refuse(struct nym_exitnet *x, struct conn *c)
{
	pthread_mutex_lock(&x->mu);
	x->st.refused++;
	pthread_mutex_unlock(&x->mu);
	emit(x, c, NYM_EXITNET_REFUSED, 0, NULL, 0);
	c->eof_sent = 1; /* a refused connection sends no close */
	finish(x, c, 0);
}

/* Write what is buffered; 0, or -1 when the socket is broken. */
static int
flush(struct nym_exitnet *x, struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->w + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		c->woff += (size_t)n;
		x->buffered -= (size_t)n;
	}
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
	return 0;
}

/* Move what the client sent, in order, to the socket. */
static void
pump(struct nym_exitnet *x, struct conn *c, uint64_t now)
{
	uint8_t *d;
	size_t n;
	while (nym_ordered_read(&c->in, &d, &n, NULL) == 1) {
		if (n) {
			if (c->woff) { /* what was written goes: the buffer holds only what waits */
				memmove(c->w, c->w + c->woff, c->wlen - c->woff);
				c->wlen -= c->woff, c->woff = 0;
			}
			if (c->wlen + n > x->c.max_write) {
				free(d);
				x->buffered -= n;
				finish(x, c, 1); /* the destination does not read: give up */
				return;
			}
			if (c->wlen + n > c->wcap) {
				size_t cap = (c->wlen + n) * 2;
				uint8_t *w = realloc(c->w, cap);
				if (!w) {
					free(d);
					x->buffered -= n;
					finish(x, c, 1);
					return;
				}
				c->w = w, c->wcap = cap;
			}
			memcpy(c->w + c->wlen, d, n);
			c->wlen += n;
			free(d);
		}
	}
	if (c->in.remote_closed)
		c->client_closed = 1;
	if (flush(x, c) < 0) {
		finish(x, c, 1);
		return;
	}
	if (c->client_closed && c->wlen == 0 && !c->deadline)
		c->deadline = now + x->c.grace_ms;
	set_events(x, c);
}

static void
try_connect(struct nym_exitnet *x, struct conn *c, uint64_t now)
{
	struct epoll_event ee;
	for (; c->ai_try; c->ai_try = c->ai_try->ai_next) {
		int fd = socket(c->ai_try->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(fd, c->ai_try->ai_addr, c->ai_try->ai_addrlen) < 0 && errno != EINPROGRESS) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONNECTING;
		c->connect_deadline = now + x->c.connect_ms;
		memset(&ee, 0, sizeof ee);
		ee.events = EPOLLOUT;
		ee.data.ptr = c;
		c->events = EPOLLOUT;
		if (epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ee) < 0) {
			close(fd);
			c->fd = -1;
			continue;
		}
		c->watched = 1;
		c->ai_try = c->ai_try->ai_next;
		return;
	}
	/* no address took it: NetworkData seq 0, closed, empty (§7.2) */
	pthread_mutex_lock(&x->mu);
	x->st.failed++;
	pthread_mutex_unlock(&x->mu);
	c->state = OPEN;
	finish(x, c, 1);
}

/* Resolved: every address must pass (§9.2), then connect to the first. */
static void
resolved(struct nym_exitnet *x, struct conn *c, struct addrinfo *ai, uint64_t now)
{
	uint16_t port = (uint16_t)atoi(c->port);
	c->ai = ai;
	if (!ai) {
		refuse(x, c);
		return;
	}
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		const uint8_t *b;
		int fam;
		if (a->ai_family == AF_INET)
			fam = 4, b = (const uint8_t *)&((struct sockaddr_in *)a->ai_addr)->sin_addr;
		else if (a->ai_family == AF_INET6)
			fam = 6, b = (const uint8_t *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		else
			continue;
		if (!nym_exitpolicy_check(x->c.policy, x->c.allow_local, fam, b, port)) {
			refuse(x, c);
			return;
		}
	}
	c->ai_try = ai;
	try_connect(x, c, now);
}

static struct conn *
conn_new(struct nym_exitnet *x, uint64_t id, size_t held)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->id = id;
	c->fd = -1;
	nym_ordered_init(&c->in, held);
	c->next = NULL;
	*slot(x, id) = c;
	x->nconns++;
	return c;
}

static void
do_connect(struct nym_exitnet *x, struct cmd *m, uint64_t now)
{
	struct conn **p = slot(x, m->id), *c = *p;
	struct conn tmp;
	struct addrinfo hints;

	if (c && c->state != EARLY) {
		/* a second Connect for a live id: refused, the first one stays */
		memset(&tmp, 0, sizeof tmp);
		tmp.id = m->id, tmp.user = m->user;
		emit(x, &tmp, NYM_EXITNET_GONE, 0, NULL, 0);
		return;
	}
	if (!c && (x->nconns - x->nearly >= x->c.max_conns || !(c = conn_new(x, m->id, x->c.max_held)))) {
		memset(&tmp, 0, sizeof tmp);
		tmp.id = m->id, tmp.user = m->user;
		emit(x, &tmp, NYM_EXITNET_DATA, 1, NULL, 0); /* as a failed connect */
		emit(x, &tmp, NYM_EXITNET_GONE, 0, NULL, 0);
		return;
	}
	if (c->state == EARLY && c->last_rx) {
		x->nearly--;
		c->in.max_bytes = x->c.max_held;
	}
	c->user = m->user;
	c->state = RESOLVING;
	c->last_rx = now;
	c->last_tx = now;
	c->deadline = 0;
	pthread_mutex_lock(&x->mu);
	x->st.connects++;
	x->st.active++;
	pthread_mutex_unlock(&x->mu);
	uint16_t port;
	if (nym_socks5_target_split(m->data, m->len, c->host, sizeof c->host, &port) < 0) {
		refuse(x, c);
		return;
	}
	snprintf(c->port, sizeof c->port, "%u", port);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	struct addrinfo *ai = NULL;
	if (getaddrinfo(c->host, c->port, &hints, &ai) == 0) { /* a literal: no lookup */
		resolved(x, c, ai, now);
		return;
	}
	/* a name: resolve it without holding anyone up */
	memset(&c->gai, 0, sizeof c->gai);
	c->gai.ar_name = c->host;
	c->gai.ar_service = c->port;
	static const struct addrinfo gh = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	c->gai.ar_request = &gh;
	c->gaip = &c->gai;
	struct gaicb *list[1] = { c->gaip };
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
		c->gaip = NULL;
		refuse(x, c);
	}
}

static void
do_send(struct nym_exitnet *x, struct cmd *m, uint64_t now)
{
	struct conn *c = *slot(x, m->id);
	int rc;
	if (!c) {
		if (recently_closed(x, m->id) || x->nearly >= x->c.max_early ||
		    !(c = conn_new(x, m->id, EARLY_HELD))) {
			pthread_mutex_lock(&x->mu);
			x->st.dropped_sends++;
			pthread_mutex_unlock(&x->mu);
			return;
		}
		x->nearly++;
		c->state = EARLY;
		c->last_rx = now;
		c->deadline = now + EARLY_MS;
	}
	if (x->buffered + m->len > x->c.max_buffered) {
		/* all connections together hold too much: the one that adds to it goes */
		pthread_mutex_lock(&x->mu);
		x->st.dropped_sends++;
		pthread_mutex_unlock(&x->mu);
		if (c->state != EARLY)
			finish(x, c, 1);
		return;
	}
	rc = nym_ordered_write(&c->in, m->seq, m->closed, m->data, m->len);
	if (rc == 0)
		x->buffered += m->len;
	if (rc < 0) {
		pthread_mutex_lock(&x->mu);
		x->st.dropped_sends++;
		pthread_mutex_unlock(&x->mu);
		if (rc != NYM_EFULL || c->state == EARLY)
			return;
		finish(x, c, 1); /* a gap held open past max_held: give up on it */
		return;
	}
	pthread_mutex_lock(&x->mu);
	x->st.bytes_in += m->len;
	pthread_mutex_unlock(&x->mu);
	if (c->state == EARLY)
		return;
	c->last_rx = now;
	if (c->state == OPEN)
		pump(x, c, now);
}

static void
on_readable(struct nym_exitnet *x, struct conn *c, uint64_t now)
{
	size_t cap = x->c.read_chunk;
	uint8_t *b = malloc(cap);
	ssize_t n;
	if (!b)
		return;
	n = recv(c->fd, b, cap, 0);
	if (n > 0) {
		uint8_t *s = realloc(b, (size_t)n);
		emit(x, c, NYM_EXITNET_DATA, 0, s ? s : b, (size_t)n);
		return;
	}
	free(b);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF or reset: our one close, then what the client still sends for a while */
	emit(x, c, NYM_EXITNET_DATA, 1, NULL, 0);
	c->eof_sent = 1;
	if (c->client_closed)
		finish(x, c, 0);
	else if (!c->deadline)
		c->deadline = now + x->c.grace_ms;
	set_events(x, c);
}

static void
on_writable(struct nym_exitnet *x, struct conn *c, uint64_t now)
{
	if (c->state == CONNECTING) {
		int err = 0;
		socklen_t l = sizeof err;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			c->fd = -1;
			c->events = 0;
			try_connect(x, c, now);
			return;
		}
		c->state = OPEN;
		c->last_tx = now;
		pump(x, c, now); /* what came before the connection was open */
		return;
	}
	if (flush(x, c) < 0) {
		finish(x, c, 1);
		return;
	}
	if (c->client_closed && c->wlen == 0 && !c->deadline)
		c->deadline = now + x->c.grace_ms;
	set_events(x, c);
}

/* Timers of every connection; at most every 100 ms. */
static void
scan(struct nym_exitnet *x, uint64_t now)
{
	if (now - x->last_scan < 100)
		return;
	x->last_scan = now;
	for (size_t b = 0; b < BUCKETS; b++) {
		struct conn *c = x->tab[b], *next;
		for (; c; c = next) {
			next = c->next;
			if (c->state == EARLY) {
				if (now >= c->deadline)
					finish(x, c, 0);
				continue;
			}
			if (c->state == RESOLVING && c->gaip) {
				int e = gai_error(c->gaip);
				if (e == EAI_INPROGRESS)
					continue;
				struct addrinfo *ai = e == 0 ? c->gai.ar_result : NULL;
				c->gai.ar_result = NULL;
				c->gaip = NULL;
				resolved(x, c, ai, now);
				continue;
			}
			if (c->state == CONNECTING && now >= c->connect_deadline) {
				epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				c->events = 0;
				try_connect(x, c, now);
				continue;
			}
			if (c->state != OPEN)
				continue;
			if (c->deadline && now >= c->deadline) {
				finish(x, c, 1);
				continue;
			}
			if (now - c->last_rx >= x->c.idle_ms) {
				finish(x, c, 1);
				continue;
			}
			if (!c->eof_sent && now - c->last_tx >= x->c.keepalive_ms)
				emit(x, c, NYM_EXITNET_DATA, 0, NULL, 0);
		}
	}
}

static int
resolving(struct nym_exitnet *x)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct conn *c = x->tab[b]; c; c = c->next)
			if (c->gaip)
				return 1;
	return 0;
}

static void *
run(void *arg)
{
	struct nym_exitnet *x = arg;
	struct epoll_event evs[64];
	for (;;) {
		uint64_t now = nym_mono_ms();
		struct cmd *m, *mn;
		int stop, throttled, n, timeout;

		pthread_mutex_lock(&x->mu);
		m = x->cmds;
		x->cmds = NULL;
		x->cmds_tail = &x->cmds;
		stop = x->stop;
		pthread_mutex_unlock(&x->mu);
		for (; m; m = mn) {
			mn = m->next;
			if (!stop) {
				if (m->connect)
					do_connect(x, m, now);
				else
					do_send(x, m, now);
			}
			free(m);
		}
		if (stop)
			break;
		scan(x, now);
		while (x->dead) {
			struct conn *c = x->dead;
			x->dead = c->dead_next;
			conn_free(c);
		}
		pthread_mutex_lock(&x->mu);
		if (x->ev_bytes >= x->c.max_events_bytes)
			x->throttled = 1;
		throttled = x->throttled;
		pthread_mutex_unlock(&x->mu);
		if (x->pushed && x->c.wake)
			x->c.wake(x->c.wake_arg);
		x->pushed = 0;
		timeout = resolving(x) ? 20 : 100;
		if (throttled) {
			/* the mixnet side is behind: no socket is read until it catches up */
			struct pollfd p = { .fd = x->evfd, .events = POLLIN };
			uint64_t v;
			if (poll(&p, 1, timeout) > 0 && read(x->evfd, &v, sizeof v) < 0)
				continue;
			continue;
		}
		n = epoll_wait(x->ep, evs, 64, timeout);
		now = nym_mono_ms();
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				uint64_t v;
				if (read(x->evfd, &v, sizeof v) < 0)
					continue;
				continue;
			}
			if (c->dead)
				continue;
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP) &&
			    (c->state == CONNECTING || c->wlen > c->woff))
				on_writable(x, c, now);
			if (!c->dead && c->state == OPEN && !c->eof_sent &&
			    evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				pthread_mutex_lock(&x->mu);
				throttled = x->ev_bytes >= x->c.max_events_bytes;
				pthread_mutex_unlock(&x->mu);
				if (!throttled)
					on_readable(x, c, now);
			}
			/* hung up with nothing left to read or write: epoll would report it
			 * again at once (interest or not), so stop watching; the deadline ends it */
			if (!c->dead && c->fd >= 0 && evs[i].events & (EPOLLERR | EPOLLHUP) && c->eof_sent &&
			    c->wlen == c->woff) {
				epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->watched = 0;
			}
		}
	}
	return NULL;
}

int
nym_exitnet_start(struct nym_exitnet **out, const struct nym_exitnet_config *c)
{
	struct nym_exitnet *x = calloc(1, sizeof *x);
	struct epoll_event ee;
	if (!x)
		return NYM_ENOMEM;
	x->c = *c;
	x->cmds_tail = &x->cmds;
	x->evs_tail = &x->evs;
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	x->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&x->mu, NULL);
	memset(&ee, 0, sizeof ee);
	ee.events = EPOLLIN;
	ee.data.ptr = NULL;
	if (x->ep < 0 || x->evfd < 0 || epoll_ctl(x->ep, EPOLL_CTL_ADD, x->evfd, &ee) < 0 ||
	    pthread_create(&x->th, NULL, run, x) != 0) {
		nym_exitnet_free(x);
		return NYM_EIO;
	}
	x->started = 1;
	*out = x;
	return 0;
}

void
nym_exitnet_free(struct nym_exitnet *x)
{
	struct ev *e;
	if (!x)
		return;
	if (x->started) {
		pthread_mutex_lock(&x->mu);
		x->stop = 1;
		pthread_mutex_unlock(&x->mu);
		kick(x);
		pthread_join(x->th, NULL);
	}
	for (size_t b = 0; b < BUCKETS; b++) {
		struct conn *c = x->tab[b], *n;
		for (; c; c = n) {
			n = c->next;
			if (c->fd >= 0)
				close(c->fd);
			conn_free(c);
		}
	}
	while (x->dead) {
		struct conn *c = x->dead;
		x->dead = c->dead_next;
		conn_free(c);
	}
	while (x->cmds) {
		struct cmd *m = x->cmds;
		x->cmds = m->next;
		free(m);
	}
	while ((e = x->evs)) {
		x->evs = e->next;
		free(e->e.data);
		free(e);
	}
	if (x->ep >= 0)
		close(x->ep);
	if (x->evfd >= 0)
		close(x->evfd);
	pthread_mutex_destroy(&x->mu);
	free(x);
}
