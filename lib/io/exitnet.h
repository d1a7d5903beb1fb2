/* exitnet.h — the network requester's outside: TCP connections to the
 * destinations its clients ask for (doc/spec/socks5.md §7, §9), on a thread
 * of its own, so that no slow or dead destination, and no DNS lookup, holds
 * up the mixnet side or another connection.
 *
 * The caller (the tool, on its nym_loop) hands in what the mixnet brought:
 *   connect(conn_id, "host:port")  resolve (getaddrinfo_a), check every address
 *                                  against the exit policy, connect
 *   send(conn_id, seq, closed, data)  ordered per connection (proto/ordered.h);
 *                                  Sends before their Connect wait (bounded)
 * and takes back, with nym_exitnet_poll, what goes to the client:
 *   DATA     one NetworkData: seq counts from 0, one message per read of
 *            <= 16 KiB, an empty keepalive after 60 s without one, one
 *            empty closed message at the end (a failed connect: seq 0 closed)
 *   REFUSED  the destination failed the exit policy or did not resolve
 *            (answer ConnectionError)
 *   GONE     the connection is over: its user pointer is the caller's again
 * Closing as the reference (§7.5): the client's close is written out, then 3
 * s later the connection ends; the destination's EOF is sent at once, and
 * what the client still sends is written for 3 s more. 5 minutes without a
 * message from the client end a connection too.
 *
 * Limits keep a hostile client cheap: held out-of-order data per connection
 * (max_held), bytes waiting for a slow destination (max_write: past it the
 * connection is closed), Sends for ids not yet connected (max_early ids, 60 s),
 * connections (max_conns), and all of it together (max_buffered: past it the
 * connection adding to it is closed). Events not yet polled stop reading sockets past
 * max_events_bytes: the mixnet side's back-pressure. */
#ifndef NYM_EXITNET_H
#define NYM_EXITNET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/exitpolicy.h"

struct nym_exitnet;

struct nym_exitnet_config {
	const struct nym_exitpolicy *policy; /* must outlive the engine */
	int allow_local;                     /* 1: loopback and private targets too */
	size_t read_chunk;                   /* 16384 */
	size_t max_conns;                    /* 1024 */
	size_t max_held, max_write;          /* 4 MiB, 16 MiB per connection */
	size_t max_early;                    /* 256 ids waiting for their Connect */
	size_t max_events_bytes;             /* 2 MiB not yet polled */
	size_t max_buffered;                 /* 256 MiB held or unwritten, all connections */
	uint64_t keepalive_ms, idle_ms, grace_ms, connect_ms; /* 60 s, 5 min, 3 s, 30 s */
	/* Called from the engine's thread when events are ready (nym_loop_wake). */
	void (*wake)(void *arg);
	void *wake_arg;
};
void nym_exitnet_defaults(struct nym_exitnet_config *c);

int nym_exitnet_start(struct nym_exitnet **out, const struct nym_exitnet_config *c);
/* Stops the thread, closes every connection (no events), frees. */
void nym_exitnet_free(struct nym_exitnet *x);

/* A Connect. addr is the request's "host:port" (proto/socks5.h
 * nym_socks5_target_split). user comes back with every event of the
 * connection, last with its GONE. A second Connect for a live id gets GONE
 * at once (the first stays); one that is no host:port, REFUSED; one past
 * max_conns, a failed connect. Returns 0 or NYM_ENOMEM. */
int nym_exitnet_connect(struct nym_exitnet *x, uint64_t conn_id, const uint8_t *addr,
                        size_t addr_len, void *user);
/* A Send (copied). Dropped silently for an id closed recently. */
int nym_exitnet_send(struct nym_exitnet *x, uint64_t conn_id, uint64_t seq, int closed,
                     const uint8_t *data, size_t len);

#define NYM_EXITNET_DATA 1
#define NYM_EXITNET_REFUSED 2
#define NYM_EXITNET_GONE 3

struct nym_exitnet_event {
	int type;
	uint64_t conn_id;
	void *user;
	uint64_t seq;
	int closed;
	uint8_t *data; /* DATA: malloc'd, the caller frees it (NULL when empty) */
	size_t len;
};
/* The next event: 1, or 0 when there is none. */
int nym_exitnet_poll(struct nym_exitnet *x, struct nym_exitnet_event *ev);

struct nym_exitnet_stats {
	uint64_t connects, refused, failed, active, bytes_in, bytes_out, dropped_sends;
};
void nym_exitnet_stats(struct nym_exitnet *x, struct nym_exitnet_stats *s);

#endif
