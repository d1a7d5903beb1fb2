/* socksclient.h — the engine of nym-socks5-client: a local SOCKS4/4a/5
 * proxy whose connections travel as Nym messages to a network requester
 * (doc/spec/socks5.md §1, §7, §8), over a running io/mixclient.
 *
 *   app ──TCP──► handshake (proto/socks) ──► Connect  03 01 03 00 ‖ conn_id ‖ len ‖ "host:port" ‖ [return 96]
 *                stream (io/tcpstream)   ──► Send     03 01 03 01 ‖ conn_id ‖ closed ‖ seq ‖ data
 *   app ◄──TCP── reordered                ◄── NetworkData 03 01 03 01 ‖ closed ‖ conn_id ‖ seq ‖ data
 *                closed at once           ◄── ConnectionError 03 01 03 02 ‖ conn_id ‖ message
 *
 * Plain mode (the default): every request is a plain message and Connect
 * carries our address. Anonymous mode: Repliable messages with 20 reply
 * SURBs on Connect and 3 on each Send, no return address (§1.1).
 * As the reference, the SOCKS success reply goes out at once, before the
 * requester connected (§8.2). Unlike the reference (which only logs it,
 * §7.5), a ConnectionError or a failed connection closes the application's
 * connection at once and log() says why; and a requester that has gone
 * silent is noticed: after health_ms without any message from it while
 * connections are open, a Control Health request (03 00 00, §3) goes out
 * with 2 reply SURBs; no answer (and nothing else) within health_ms more
 * closes every connection, saying so.
 * Back-pressure (§7.6): a connection's socket is not read while its lane has
 * lane_max packets unacknowledged or the gateway has backlog_max bytes
 * waiting. */
#ifndef NYM_SOCKSCLIENT_H
#define NYM_SOCKSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "io/gwclient.h"
#include "io/mixclient.h"
#include "proto/keys.h"

struct nym_socksclient;

struct nym_socksclient_config {
	const char *host;            /* numeric listen address; NULL: 127.0.0.1 */
	int port;                    /* 0: 1080 */
	struct nym_address provider; /* the network requester */
	int anonymous;
	int connect_surbs, send_surbs;  /* anonymous mode: 20, 3 */
	uint64_t idle_ms;            /* 0: 5 min without a message on a connection */
	size_t lane_max;             /* 0: 64 packets */
	size_t backlog_max;          /* 0: 4 MiB */
	int max_conns;               /* 0: 1024 at a time */
	uint64_t health_ms;          /* 0: 10 s; UINT64_MAX: no health checks */
	const struct nym_rng *rng;   /* connection ids; must outlive the engine */
};

/* Log levels. */
#define NYM_SOCKSCLIENT_ERROR 0 /* a connection failed: why */
#define NYM_SOCKSCLIENT_INFO 1  /* opened, closed */

struct nym_socksclient_events {
	void (*log)(int level, const char *line, void *arg);
	void *arg;
};

/* Listen and serve. NYM_EADDR: host is not a numeric address; NYM_EIO
 * (errno) when it cannot be bound. */
int nym_socksclient_start(struct nym_socksclient **out, struct nym_loop *l,
    struct nym_mixclient *mc, const struct nym_socksclient_config *c,
    const struct nym_socksclient_events *ev);
/* A whole message from the mixnet (the mixclient's message() event).
 * Returns 1 when it was a response for us, 0 otherwise. */
int nym_socksclient_message(struct nym_socksclient *sc, const uint8_t *data, size_t len,
    const uint8_t *sender_tag);
/* Packets were acknowledged (the mixclient's acked() event): paused
 * connections may read again. */
void nym_socksclient_acked(struct nym_socksclient *sc);
/* Connections open now. */
size_t nym_socksclient_active(const struct nym_socksclient *sc);
/* Close every connection and the listener. */
void nym_socksclient_free(struct nym_socksclient *sc);

#endif
