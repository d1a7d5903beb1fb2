/* netio.h — TCP carrying the node-link framing (I/O layer), for mix nodes
 * and gateways.
 *
 * One struct nym_netio is one single-threaded event loop (epoll) that owns:
 *  - listeners: accept inbound connections (mix port 1789 by default);
 *  - inbound connections: non-blocking reads into a bounded per-connection
 *    buffer, cut into frames incrementally by the caller's frame_len
 *    function (for the node link: lib/proto/framing.h's header decoder), each whole
 *    frame handed to on_frame. A connection that sends bytes that cannot
 *    start a frame, announces a frame larger than max_frame, or leaves a
 *    frame unfinished for frame_timeout_ms, or completes no frame for
 *    idle_timeout_ms (an idle connection only holds a slot) is dropped, with
 *    one event, and nobody else is disturbed. Beyond max_conns, new
 *    connections are accepted and closed at once (one event each), except
 *    from a known address (cfg.known, matched by IP: the topology's nodes),
 *    which has known_reserve slots of its own, so a flood of strangers cannot
 *    lock a neighbour out; known connections are not dropped for idling.
 *  - peers: one persistent outgoing connection per next-hop address, opened
 *    on first send, reconnected with exponential backoff (backoff_min_ms
 *    doubling to backoff_max_ms) after a failure. While a peer is not
 *    connected (or the kernel's buffer is full), up to peer_queue_max frames
 *    wait for it; beyond that, frames are dropped and counted. A frame is
 *    never sent in part: if a connection breaks mid-frame, the rest of that
 *    frame is dropped (counted) and the next connection starts on a frame
 *    boundary.
 *  - watched fds: any extra fd (e.g. nym_mixer_wakefd) with a callback.
 *
 * Nothing here is thread-safe: call everything from the loop's thread.
 * Nothing is printed: things worth a log line arrive at on_event.
 * Buffers are per connection and per peer (grown to need, within bounds),
 * never per frame; a steady flow of frames allocates nothing. Memory bound:
 * (max_conns + known_reserve) * max_frame for inbound buffers, and per peer up to
 * peer_queue_max frames, total_queue_max frames over all peers. */
#ifndef NYM_NETIO_H
#define NYM_NETIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 socket address. */
struct nym_netio_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};
/* "127.0.0.1:1789", "[::1]:1789" (numeric hosts only; port required).
 * 0 or NYM_EADDR. */
int nym_netio_addr_parse(struct nym_netio_addr *a, const char *hostport);
/* The same text form; out must hold 64 bytes. */
void nym_netio_addr_format(char out[64], const struct nym_netio_addr *a);
/* From IPv4 (4 bytes) or IPv6 (16 bytes) and a port. 0 or NYM_EADDR. */
int nym_netio_addr_from_ip(struct nym_netio_addr *a, const uint8_t *ip, size_t iplen,
                           uint16_t port);

/* Why something happened, in on_event. */
enum nym_netio_ev {
	NYM_NETIO_EV_REJECTED,    /* inbound connection refused: max_conns reached */
	NYM_NETIO_EV_BAD_FRAME,   /* inbound connection dropped: frame_len said no (err set) */
	NYM_NETIO_EV_OVERSIZED,   /* inbound connection dropped: frame longer than max_frame */
	NYM_NETIO_EV_STALLED,     /* inbound connection dropped: frame unfinished too long */
	NYM_NETIO_EV_IDLE,        /* inbound connection dropped: no whole frame for idle_timeout_ms */
	NYM_NETIO_EV_READ_ERROR,  /* inbound connection dropped: read error (errno in err) */
	NYM_NETIO_EV_PEER_UP,     /* outgoing connection established */
	NYM_NETIO_EV_PEER_DOWN,   /* outgoing connection failed or lost (errno in err); retrying */
	NYM_NETIO_EV_QUEUE_FULL,  /* a peer's queue (or all queues together) overflowed; once
	                           * per episode per peer, count = its drops so far */
	NYM_NETIO_EV_TOO_MANY_PEERS, /* send to a new address refused: max_peers reached */
};
struct nym_netio_event {
	enum nym_netio_ev kind;
	const struct nym_netio_addr *addr; /* the remote end */
	int err;                  /* errno, or a NYM_E* code for BAD_FRAME */
	uint64_t count;           /* QUEUE_FULL: frames dropped so far on this peer */
	unsigned backoff_ms;      /* PEER_DOWN: wait before the next attempt */
};

struct nym_netio_config {
	/* Where a frame ends: given the first avail (>= 1) bytes of a stream,
	 * return the whole frame's length (it may exceed avail), 0 when more
	 * bytes are needed to tell (at most 63: with 64 bytes and no verdict the
	 * connection counts as a bad frame), or a negative NYM_E* code when these
	 * bytes cannot start a frame (the connection is dropped). Required. */
	long (*frame_len)(const uint8_t *buf, size_t avail);
	/* One whole frame from an inbound connection; frame is valid during the
	 * call only. from: the remote address. Required. */
	void (*on_frame)(void *ctx, const struct nym_netio_addr *from, const uint8_t *frame,
	                 size_t len);
	/* Log-worthy things (optional). */
	void (*on_event)(void *ctx, const struct nym_netio_event *ev);
	void *ctx;
	size_t max_frame;          /* largest frame accepted (0 = 33137: v8 + extended32) */
	size_t max_conns;          /* inbound connections at once (0 = 4096) */
	unsigned frame_timeout_ms; /* unfinished-frame limit (0 = 10000) */
	unsigned idle_timeout_ms;  /* no-whole-frame limit, from accept or the last frame
	                            * (0 = 30000) */
	/* Addresses (ports ignored) whose connections use known_reserve slots
	 * beyond max_conns and never idle out; copied. May be NULL. */
	const struct nym_netio_addr *known;
	size_t n_known;
	size_t known_reserve;      /* (0 = 1024) */
	size_t max_peers;          /* distinct next hops (0 = 4096) */
	size_t peer_queue_max;     /* frames waiting per peer (0 = 2048) */
	size_t total_queue_max;    /* frames waiting over all peers (0 = 65536) */
	unsigned backoff_min_ms;   /* first retry delay (0 = 50) */
	unsigned backoff_max_ms;   /* longest retry delay (0 = 5000) */
	unsigned connect_timeout_ms; /* (0 = 3000) */
};

struct nym_netio_stats {
	uint64_t accepted, rejected;          /* inbound connections */
	uint64_t dropped_conns;               /* bad frame, oversized, stalled, idle, read error */
	uint64_t idle_dropped;                /* of which idle */
	uint64_t frames_in, bytes_in;
	uint64_t frames_out;                  /* frames written whole to a peer */
	uint64_t frames_dropped;              /* queue full, too many peers, lost mid-frame */
	uint64_t connects, connect_failures;  /* outgoing attempts */
	size_t conns, known_conns, peers, peers_up; /* now (conns includes known_conns) */
	size_t queued;                        /* frames waiting in peer queues now */
};

struct nym_netio;

/* NULL on failure (errno: EINVAL, ENOMEM, or from epoll_create). */
struct nym_netio *nym_netio_create(const struct nym_netio_config *cfg);
/* Closes every socket and frees every buffer (queued frames are lost). */
void nym_netio_destroy(struct nym_netio *io);

/* Listen on addr (port 0: any free port). Returns the bound port (> 0) or
 * NYM_EIO (errno set). Several listeners may be added. */
int nym_netio_listen(struct nym_netio *io, const struct nym_netio_addr *addr);

/* Send one whole frame to addr, as hdr then body (either may be empty; two
 * parts so a caller can prepend a frame header without copying). Copied, or
 * written at once when the peer is connected and idle. 0 (sent or queued),
 * or NYM_EFULL (dropped: the peer's queue is full, or max_peers reached),
 * NYM_ESIZE (frame longer than max_frame). */
int nym_netio_send(struct nym_netio *io, const struct nym_netio_addr *addr,
                   const uint8_t *hdr, size_t hdrlen, const uint8_t *body, size_t bodylen);

/* Call cb(ctx) from the loop when fd is readable (cb must consume or the
 * loop spins). 0 or NYM_EIO. */
int nym_netio_watch(struct nym_netio *io, int fd, void (*cb)(void *ctx), void *ctx);

/* One round: wait at most timeout_ms (-1: until something happens, 0: do
 * not wait) for sockets, then serve them and the timers (reconnects,
 * stalled frames). Returns the number of events served, or NYM_EIO. */
int nym_netio_run(struct nym_netio *io, int timeout_ms);

void nym_netio_stats(const struct nym_netio *io, struct nym_netio_stats *s);

#endif
