/* tcpstream.c — a TCP socket as ordered messages (tcpstream.h;
 * doc/spec/socks5.md §7). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/tcpstream.h"
#include "proto/ordered.h"

struct nym_tcpstream {
	struct nym_loop *loop;
	struct nym_fd *f;
	struct nym_timer *later;   /* done() from the loop */
	struct nym_tcpstream_ops ops;
	struct nym_tcpstream_limits lim;
	void *user;
	struct nym_ordered in;
	uint8_t *out;              /* bytes for the application: out[off..len) */
	size_t off, len, cap;
	uint64_t seq;              /* next seq we send */
	uint64_t last_tx, last_rx, remote_closed_ms, born;
	uint64_t tx_bytes, rx_bytes;
	int started, paused, local_eof, sent_close, remote_closed, wr_shut;
	int ending, end_after_write, dead;
	int err;
	char why[400];
};

static void
later(struct nym_timer *t, void *arg)
{
	struct nym_tcpstream *s = arg;
	(void)t;
	s->ops.done(s, s->err, s->err ? s->why : NULL, s->ops.arg);
}

/* The stream is over: no more I/O; done() from the loop. */
static void
finish(struct nym_tcpstream *s, int err, const char *why)
{
	if (s->dead)
		return;
	s->dead = 1;
	s->err = err;
	if (why != s->why)
		snprintf(s->why, sizeof s->why, "%s", why ? why : "");
	if (s->f)
		nym_fd_want(s->f, 0);
	nym_timer_set(s->later, 0);
}

static int
msg(struct nym_tcpstream *s, int closed, const uint8_t *d, size_t n)
{
	if (s->ops.send(s, s->seq++, closed, d, n, s->ops.arg) != 0) {
		finish(s, NYM_ENET, "the message could not be sent");
		return -1;
	}
	s->last_tx = nym_mono_ms();
	s->tx_bytes += n;
	return 0;
}

static void
interest(struct nym_tcpstream *s)
{
	int want = 0;
	if (s->dead || !s->f)
		return;
	if (!s->local_eof && !s->paused && !s->ending)
		want |= NYM_FD_READ;
	if (s->len > s->off && !s->wr_shut)
		want |= NYM_FD_WRITE;
	nym_fd_want(s->f, want);
}

/* Both sides closed: over. */
static void
check_done(struct nym_tcpstream *s)
{
	if (s->sent_close && s->remote_closed && s->wr_shut)
		finish(s, 0, NULL);
}

static void
flush(struct nym_tcpstream *s)
{
	while (s->len > s->off && !s->wr_shut) {
		ssize_t n = send(nym_fd_get(s->f), s->out + s->off, s->len - s->off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			char why[160];
			snprintf(why, sizeof why, "the application's connection broke: %s", strerror(errno));
			finish(s, NYM_EIO, why);
			return;
		}
		s->off += (size_t)n;
	}
	if (s->off == s->len)
		s->off = s->len = 0;
	if (s->ending && s->end_after_write && s->len == 0) {
		finish(s, s->err, s->why);
		return;
	}
	if (s->remote_closed && s->len == 0 && !s->wr_shut) {
		shutdown(nym_fd_get(s->f), SHUT_WR);
		s->wr_shut = 1;
		check_done(s);
	}
	interest(s);
}

static int
append(struct nym_tcpstream *s, const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	if (s->len - s->off + n > s->lim.max_unwritten) {
		finish(s, NYM_EFULL, "the application does not read what arrives for it");
		return NYM_EFULL;
	}
	if (s->len + n > s->cap) {
		if (s->off) {
			memmove(s->out, s->out + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		if (s->len + n > s->cap) {
			size_t cap = s->cap ? s->cap : 16384;
			while (cap < s->len + n)
				cap *= 2;
			uint8_t *p = realloc(s->out, cap);
			if (!p) {
				finish(s, NYM_ENOMEM, "out of memory");
				return NYM_ENOMEM;
			}
			s->out = p;
			s->cap = cap;
		}
	}
	memcpy(s->out + s->len, d, n);
	s->len += n;
	return 0;
}

static void
local_eof(struct nym_tcpstream *s)
{
	s->local_eof = 1;
	if (!s->sent_close) {
		s->sent_close = 1;
		if (msg(s, 1, NULL, 0) < 0)
			return;
	}
	check_done(s);
	interest(s);
}

static void
on_read(struct nym_tcpstream *s)
{
	uint8_t buf[NYM_TCPSTREAM_READ_MAX];
	ssize_t n;

	if (s->paused || s->local_eof || s->ending)
		return interest(s);
	if (s->started && s->ops.can_read && !s->ops.can_read(s, s->ops.arg)) {
		s->paused = 1;
		return interest(s);
	}
	n = recv(nym_fd_get(s->f), buf, sizeof buf, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0 && !s->started) {
		finish(s, NYM_EIO, "the application's connection broke");
		return;
	}
	if (n <= 0) {
		if (!s->started) {
			finish(s, NYM_EIO, "the application left during the handshake");
			return;
		}
		if (n < 0) {
			/* a reset: nothing more can be written to it either */
			s->remote_closed = 1;
			s->wr_shut = 1;
			s->len = s->off = 0;
		}
		local_eof(s);
		if (n < 0 && !s->dead)
			finish(s, 0, NULL);
		return;
	}
	size_t used = 0;
	if (!s->started) {
		used = s->ops.raw(s, buf, (size_t)n, s->ops.arg);
		if (s->dead || !s->started || used >= (size_t)n)
			return;
	}
	msg(s, 0, buf + used, (size_t)n - used);
}

static void
on_fd(struct nym_fd *f, int ev, void *arg)
{
	struct nym_tcpstream *s = arg;
	(void)f;
	if (ev & NYM_FD_GONE) {
		s->f = NULL;
		if (!s->dead) {
			s->dead = 1;
			s->err = NYM_EIO;
			snprintf(s->why, sizeof s->why, "the application's connection broke");
			nym_timer_set(s->later, 0);
		}
		return;
	}
	if (s->dead)
		return;
	if (ev & NYM_FD_WRITE)
		flush(s);
	if (!s->dead && (ev & NYM_FD_READ))
		on_read(s);
}

int
nym_tcpstream_new(struct nym_tcpstream **out, struct nym_loop *l, int fd,
    const struct nym_tcpstream_ops *ops, const struct nym_tcpstream_limits *limits)
{
	struct nym_tcpstream *s = calloc(1, sizeof *s);
	int e;
	if (!s || !(s->later = nym_timer_new(l, later, s))) {
		free(s);
		close(fd);
		return NYM_ENOMEM;
	}
	s->loop = l;
	s->ops = *ops;
	if (limits)
		s->lim = *limits;
	if (!s->lim.idle_ms)
		s->lim.idle_ms = NYM_TCPSTREAM_IDLE_MS;
	if (!s->lim.handshake_ms)
		s->lim.handshake_ms = NYM_TCPSTREAM_HANDSHAKE_MS;
	if (!s->lim.max_held)
		s->lim.max_held = (size_t)16 << 20;
	if (!s->lim.max_unwritten)
		s->lim.max_unwritten = (size_t)64 << 20;
	nym_ordered_init(&s->in, s->lim.max_held);
	s->born = s->last_tx = s->last_rx = nym_mono_ms();
	if ((e = nym_fd_watch(l, fd, NYM_FD_READ, on_fd, s, &s->f)) < 0) {
		nym_timer_free(s->later);
		nym_ordered_free(&s->in);
		free(s);
		return e;
	}
	*out = s;
	return 0;
}

void
nym_tcpstream_start(struct nym_tcpstream *s)
{
	s->started = 1;
	s->last_tx = s->last_rx = nym_mono_ms();
}

int
nym_tcpstream_write(struct nym_tcpstream *s, const uint8_t *data, size_t len)
{
	int e;
	if (s->dead)
		return NYM_EINVAL;
	if ((e = append(s, data, len)) < 0)
		return e;
	flush(s);
	return 0;
}

int
nym_tcpstream_deliver(struct nym_tcpstream *s, uint64_t seq, int closed, const uint8_t *data,
    size_t len)
{
	uint8_t *d;
	size_t n;
	uint64_t at;
	int e;

	if (s->dead)
		return 0;
	s->last_rx = nym_mono_ms();
	if ((e = nym_ordered_write(&s->in, seq, closed, data, len)) < 0) {
		if (e == NYM_EFULL || e == NYM_ENOMEM) {
			finish(s, e, "too much data out of order from the network requester");
			return 0;
		}
		if (!s->in.remote_closed)
			return e;
	}
	while (nym_ordered_read(&s->in, &d, &n, &at) == 1) {
		s->rx_bytes += n;
		e = append(s, d, n);
		free(d);
		if (e < 0)
			return 0;
	}
	if (s->in.remote_closed && !s->remote_closed) {
		s->remote_closed = 1;
		s->remote_closed_ms = nym_mono_ms();
	}
	flush(s);
	return 0;
}

void
nym_tcpstream_resume(struct nym_tcpstream *s)
{
	if (!s->paused || s->dead)
		return;
	if (s->ops.can_read && !s->ops.can_read(s, s->ops.arg))
		return;
	s->paused = 0;
	interest(s);
}

void
nym_tcpstream_end(struct nym_tcpstream *s, int err, const char *why, int end_after_write)
{
	if (s->dead)
		return;
	if (end_after_write && s->len > s->off) {
		s->ending = 1;
		s->end_after_write = 1;
		s->err = err;
		snprintf(s->why, sizeof s->why, "%s", why ? why : "");
		interest(s);
		return;
	}
	finish(s, err, why);
}

void
nym_tcpstream_tick(struct nym_tcpstream *s, uint64_t now)
{
	if (s->dead)
		return;
	if (!s->started) {
		if (now - s->born >= s->lim.handshake_ms && !s->ending)
			finish(s, NYM_ETIMEOUT, "the handshake did not finish in time");
		if (!s->ending)
			return;
	}
	if (s->ending) {
		if (now - s->last_tx > 2000)
			finish(s, s->err, s->why);
		return;
	}
	if (s->remote_closed && !s->sent_close && now - s->remote_closed_ms >= NYM_TCPSTREAM_GRACE_MS) {
		/* the peer is done: our side had its 3 s */
		s->sent_close = 1;
		s->local_eof = 1;
		if (msg(s, 1, NULL, 0) < 0)
			return;
		finish(s, 0, NULL);
		return;
	}
	if (now - s->last_rx >= s->lim.idle_ms) {
		char why[120];
		snprintf(why, sizeof why, "nothing from the network requester for %llu s",
		    (unsigned long long)(s->lim.idle_ms / 1000));
		finish(s, NYM_ETIMEOUT, why);
		return;
	}
	if (!s->sent_close && now - s->last_tx >= NYM_TCPSTREAM_KEEPALIVE_MS)
		msg(s, 0, NULL, 0);
}

int
nym_tcpstream_paused(const struct nym_tcpstream *s)
{
	return s->paused;
}

size_t
nym_tcpstream_unwritten(const struct nym_tcpstream *s)
{
	return s->len - s->off;
}

void
nym_tcpstream_counts(const struct nym_tcpstream *s, uint64_t *tx_bytes, uint64_t *rx_bytes)
{
	*tx_bytes = s->tx_bytes;
	*rx_bytes = s->rx_bytes;
}

void
nym_tcpstream_set_user(struct nym_tcpstream *s, void *user)
{
	s->user = user;
}

void *
nym_tcpstream_user(const struct nym_tcpstream *s)
{
	return s->user;
}

void
nym_tcpstream_free(struct nym_tcpstream *s)
{
	if (!s)
		return;
	if (s->f)
		nym_fd_close(s->f);
	nym_timer_free(s->later);
	nym_ordered_free(&s->in);
	free(s->out);
	free(s);
}
