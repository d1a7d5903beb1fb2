/* tcpstream.h — one TCP connection carried as ordered Nym messages: the
 * pump both ends of a SOCKS proxy need (doc/spec/socks5.md §7), on the
 * caller's loop (io/gwclient.h nym_fd_watch).
 *
 * Each message either way is one Send / NetworkData of the connection,
 *   conn_id u64 ‖ closed u8 ‖ seq u64 ‖ data        (field order: §4.3, §5.2)
 * the stream counts seq (from 0, +1 per message, keepalives and the close
 * included, §7.2) and the caller encodes the bytes (proto/socks5.h):
 *
 *   socket ──read ≤ 16 KiB──► send(seq, closed=0, data) ──► the mixnet
 *   socket ◄──write────────── deliver(seq, closed, data) ◄── (reordered, §7.3)
 *
 * Local EOF: one empty message with closed = 1, then reading stops; data
 * from the peer is still written until the peer closes too (or the idle
 * timeout). The peer's close (delivery reaching closed_at): the bytes before
 * it are written, the socket's write side is shut (the application sees
 * EOF), and the stream keeps forwarding the application's bytes for 3 s,
 * then sends its own close (§7.5). Back-pressure (§7.6): before each read
 * the stream asks can_read(); when it says no, the socket is not read until
 * nym_tcpstream_resume(). An empty keepalive goes out after 60 s without a
 * message sent; nothing from the peer for idle_ms ends the stream, and so
 * does a handshake (raw()) not done within handshake_ms.
 *
 * Bounds: at most max_held bytes wait out of order, at most max_unwritten
 * bytes wait for a slow application; beyond, the stream ends (NYM_EFULL). */
#ifndef NYM_TCPSTREAM_H
#define NYM_TCPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "io/gwclient.h"

#define NYM_TCPSTREAM_READ_MAX 16384         /* one message per read (§7.4) */
#define NYM_TCPSTREAM_KEEPALIVE_MS 60000
#define NYM_TCPSTREAM_IDLE_MS (5 * 60 * 1000) /* MIX_TTL */
#define NYM_TCPSTREAM_GRACE_MS 3000           /* SHUTDOWN_TIMEOUT */
#define NYM_TCPSTREAM_HANDSHAKE_MS 10000      /* raw() must have started it by then */

struct nym_tcpstream;

struct nym_tcpstream_ops {
	/* One message for the peer. Nonzero return: it could not be sent, the
	 * stream ends. */
	int (*send)(struct nym_tcpstream *s, uint64_t seq, int closed, const uint8_t *data,
	    size_t len, void *arg);
	/* May the stream read more now? NULL: always. */
	int (*can_read)(struct nym_tcpstream *s, void *arg);
	/* Before nym_tcpstream_start: bytes read from the socket (a handshake).
	 * Returns how many it took; after it called start, the rest is the
	 * stream's first data. */
	size_t (*raw)(struct nym_tcpstream *s, const uint8_t *data, size_t len, void *arg);
	/* The stream is over: err 0 when both sides closed, else why. Called
	 * from the loop (never from inside a nym_tcpstream_* call); the owner
	 * frees the stream here or later. */
	void (*done)(struct nym_tcpstream *s, int err, const char *why, void *arg);
	void *arg;
};

struct nym_tcpstream_limits {
	uint64_t idle_ms;      /* 0: NYM_TCPSTREAM_IDLE_MS */
	uint64_t handshake_ms; /* 0: NYM_TCPSTREAM_HANDSHAKE_MS */
	size_t max_held;       /* 0: 16 MiB */
	size_t max_unwritten;  /* 0: 64 MiB */
};

/* Take over fd (a connected TCP socket); it is closed when the stream is
 * freed, also when this fails. limits may be NULL. Reading starts at once:
 * into raw() until nym_tcpstream_start, then as messages. */
int nym_tcpstream_new(struct nym_tcpstream **out, struct nym_loop *l, int fd,
    const struct nym_tcpstream_ops *ops, const struct nym_tcpstream_limits *limits);
/* From here on the socket's bytes go out as messages. */
void nym_tcpstream_start(struct nym_tcpstream *s);
/* Bytes for the application as they are (a handshake reply), ahead of
 * everything delivered later. */
int nym_tcpstream_write(struct nym_tcpstream *s, const uint8_t *data, size_t len);
/* A message from the peer (any order; duplicates and stale ones dropped).
 * Returns 0, or the ordering buffer's refusal (NYM_ERANGE, NYM_EREPLAY),
 * which does not end the stream. */
int nym_tcpstream_deliver(struct nym_tcpstream *s, uint64_t seq, int closed,
    const uint8_t *data, size_t len);
/* can_read() may say yes again. */
void nym_tcpstream_resume(struct nym_tcpstream *s);
/* End now, without a close message (the peer is gone or refused): done()
 * follows with err and why (copied). After the handshake's error reply,
 * end_after_write = 1 waits (briefly) until what was written is out. */
void nym_tcpstream_end(struct nym_tcpstream *s, int err, const char *why, int end_after_write);
/* Timers: keepalive, idle, grace; call every second or so. */
void nym_tcpstream_tick(struct nym_tcpstream *s, uint64_t now_ms);
/* Paused by back-pressure, and bytes waiting to be written. */
int nym_tcpstream_paused(const struct nym_tcpstream *s);
size_t nym_tcpstream_unwritten(const struct nym_tcpstream *s);
/* Messages sent and bytes sent / received, for the owner's reports. */
void nym_tcpstream_counts(const struct nym_tcpstream *s, uint64_t *tx_bytes, uint64_t *rx_bytes);
void nym_tcpstream_set_user(struct nym_tcpstream *s, void *user);
void *nym_tcpstream_user(const struct nym_tcpstream *s);
/* Closes the socket (an application still connected sees it close). */
void nym_tcpstream_free(struct nym_tcpstream *s);

#endif
