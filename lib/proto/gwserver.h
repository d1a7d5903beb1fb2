/* gwserver.h — the gateway side of the client protocol (doc/spec/gateway.md,
 * version 6) as a sans-I/O state machine over proto/gwproto.h's codecs.
 *
 * One struct nym_gws per gateway (its identity, the table of authenticated
 * clients, counters) and one struct nym_gws_conn per client connection.
 * Whole websocket messages and the time go in; what the gateway does comes
 * out through two tables of callbacks: the transport (struct
 * nym_gws_transport: frames to send, connections to close, MixPackets to
 * forward, log lines) and the storage it needs (struct nym_gws_storage: the
 * registered clients and the messages kept for clients that are away; in
 * nymkit io/inbox.h, SQLite). Nothing here touches a socket, a file or a
 * clock; randomness comes from the nym_rng of the configuration.
 *
 * A connection:
 *
 *   FRESH ──supportedProtocol──▶ FRESH (answered; anything but the two
 *     │                                  below closes with an `error`)
 *     ├─handshakePayload M1──▶ HS ──M3──▶ AUTH  (registration: key stored)
 *     └─authenticateV2──────────────────▶ AUTH  (stored key checked)
 *                     └─ client already connected: DUP_WAIT (below)
 *   AUTH: claimFreeTestnetBandwidth, encryptedRequest (ForgetMe /
 *         RememberMe), ForwardSphinx(V2) binary frames (bandwidth charged,
 *         forwarded, `send` answered); errors are answered, the connection
 *         stays.
 *   Failures before AUTH answer with the reference's words and close once
 *   the answer is written. Binary frames before AUTH close the connection.
 *
 * Duplicate connections. authenticateV2 for a client that has a connection
 * already: the old one is pinged (8 random bytes) and the new one waits
 * (DUP_WAIT) dup_wait_ms. The matching pong: the old one is alive, the new
 * one is refused ("There is already an open connection to this client").
 * No pong, or the old one closes meanwhile: it is dropped and the new one
 * authenticates. A registration for a connected client is refused.
 *
 * Messages for clients (nym_gws_push, stored messages at authentication)
 * go out as PushedMixMessage binary frames, each with a tag; the caller
 * reports the tag once the frame is handed to the socket (nym_gws_sent).
 * Handed over is not read (a client killed then loses what its kernel
 * holds), so the server then pings ("nymkit-a" + a counter, 16 bytes) and
 * counts the pushes written before the ping as read when its pong comes
 * (nym_gws_pong): only then is a stored message removed from storage.
 * A push not known to be read is stored when its connection closes (the
 * client may get it twice: its reassembly and seen-file drop the copy);
 * one that cannot be sent (no connection, its queue is full, or
 * NYM_GWS_MAX_FLIGHTS unread) is stored at once. A client that leaves an
 * ack ping unanswered for NYM_GWS_PONG_WAIT_MS has its pushes count as read
 * once written, as before. Stored messages go in batches of inbox_batch,
 * the next one once the last is read.
 *
 * Time: struct nym_gws_now, the caller's monotonic clock in ms (deadlines)
 * and the Unix time in s (authenticateV2 skew, bandwidth days), passed in
 * with every input. nym_gws_tick closes connections whose deadline passed
 * (fresh_timeout_ms per message before authentication, hs_timeout_ms for
 * M3, auth_timeout_ms in all) and ends duplicate checks; call it at least
 * as often as it asks.
 *
 * Callbacks run inside the input call that caused them; they must not call
 * back into the server (a transport reports a close it was asked for later,
 * from its own loop). The server never calls the transport for a connection
 * after nym_gws_closed. */
#ifndef NYM_GWSERVER_H
#define NYM_GWSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "proto/framing.h"

/* Limits the transport should apply to client messages (a larger message is
 * a hostile client; close it): the largest text request a client sends is
 * far below NYM_GWS_MAX_TEXT; a binary one is an extended32 MixPacket plus
 * the frame overhead (a larger one that reaches nym_gws_binary is refused
 * as malformed). */
#define NYM_GWS_MAX_TEXT (256 * 1024)
#define NYM_GWS_MAX_BINARY (40 * 1024)

/* Defaults of struct nym_gws_config. */
#define NYM_GWS_FRESH_TIMEOUT_MS 10000
#define NYM_GWS_HS_TIMEOUT_MS 5000
#define NYM_GWS_AUTH_TIMEOUT_MS 30000
#define NYM_GWS_DUP_WAIT_MS 1000
#define NYM_GWS_INBOX_BATCH 100
/* Pushes written and not yet known to be read, per connection; how long an
 * ack ping may wait for its pong. */
#define NYM_GWS_MAX_FLIGHTS 2048
#define NYM_GWS_PONG_WAIT_MS 10000

struct nym_gws;
struct nym_gws_conn;

struct nym_gws_now {
	uint64_t ms;     /* monotonic, milliseconds */
	uint64_t unix_s; /* Unix time, seconds */
};

enum nym_gws_frame { NYM_GWS_TEXT, NYM_GWS_BINARY, NYM_GWS_PING };
enum nym_gws_level { NYM_GWS_ERR, NYM_GWS_INFO, NYM_GWS_DEBUG };

/* What storage keeps of a registered client (io/inbox.h: the same fields). */
struct nym_gws_client {
	uint8_t key[32];             /* the shared key of the registration */
	uint64_t last_auth_ts;       /* last authenticateV2 timestamp accepted (0: none) */
	int64_t bandwidth;           /* bytes left */
	int64_t bandwidth_day;       /* valid through this UTC day (Unix s / 86400) */
};

/* A client's MixPacket, decoded and charged, for its first hop. */
struct nym_gws_forward {
	const uint8_t *client;       /* 32 bytes: the client that sent it */
	uint8_t request_kind;        /* NYM_GW_BIN_FORWARD_SPHINX or _V2 */
	uint8_t frame_version;       /* node-link frame to send it in: v7 for
	                              * ForwardSphinx, v8 for ForwardSphinxV2 */
	const struct nym_mix_packet *mp; /* next hop, type, rotation, packet */
};

/* Stored messages, one at a time (nym_gws_storage.fetch): return 0 for
 * the next, anything else to stop. */
typedef int (*nym_gws_stored_fn)(void *arg, int64_t id, const uint8_t *msg, size_t len);

/* Storage: the registered clients and the messages kept for clients that
 * are away (io/inbox.h's nym_inbox_gws_storage fills this in). Each returns
 * 0 or a negative NYM_E* code. */
struct nym_gws_storage {
	/* NYM_ENOTFOUND when the client is not registered. */
	int (*client_get)(void *ctx, const uint8_t client[32], struct nym_gws_client *c);
	/* Registration: keep the key; an existing client keeps its timestamp
	 * and bandwidth, a new one starts with none. NYM_EFULL: no room for a
	 * new client (refused in words). */
	int (*client_register)(void *ctx, const uint8_t client[32], const uint8_t key[32]);
	int (*client_set_auth_ts)(void *ctx, const uint8_t client[32], uint64_t ts);
	int (*client_set_bandwidth)(void *ctx, const uint8_t client[32], int64_t bytes, int64_t day);
	/* ForgetMe: the client's key, state and stored messages go. */
	int (*client_forget)(void *ctx, const uint8_t client[32]);
	/* Keep a message for client, arrived at Unix time now. */
	int (*store)(void *ctx, const uint8_t client[32], const uint8_t *msg, size_t len, uint64_t now);
	/* Hand the oldest (at most max) stored messages for client with id >
	 * after to fn, in order, until fn stops; return how many were read, or
	 * a negative code. */
	int (*fetch)(void *ctx, const uint8_t client[32], int64_t after, int max, nym_gws_stored_fn fn,
	             void *arg);
	/* A stored message was handed over: delete it. */
	int (*remove)(void *ctx, int64_t id);
	/* Optional: words for the last failure, for the log line the server
	 * writes ("inbox: cannot store a message: <words>"). */
	const char *(*error)(void *ctx);
	void *ctx;
};

/* Transport: `conn` is the caller's handle given to nym_gws_accept. */
struct nym_gws_transport {
	/* Queue one frame (copied). tag != 0: report it with nym_gws_sent once
	 * the frame is handed to the socket. NYM_EFULL when the connection's
	 * queue is over its limit (nothing queued): a text reply then closes
	 * the connection ("does not read its replies"), a push is stored. */
	int (*send)(void *ctx, void *conn, enum nym_gws_frame type, const uint8_t *data, size_t len,
	            uint64_t tag);
	/* Close: abort = 0 once the queue is written, 1 at once (frames dropped).
	 * nym_gws_closed follows from the caller, later. */
	void (*close)(void *ctx, void *conn, int abort);
	/* Forward a client's MixPacket; 0 when it was taken (counted as
	 * forwarded). The client is answered `send` either way, as the
	 * reference does. */
	int (*forward)(void *ctx, void *conn, const struct nym_gws_forward *f);
	/* Optional: a line for the log, about connection conn (NULL: about
	 * the gateway, e.g. a storage failure). */
	void (*note)(void *ctx, void *conn, enum nym_gws_level level, const char *text);
	void *ctx;
};

struct nym_gws_config {
	const uint8_t *identity_seed;   /* 32 bytes: the gateway's Ed25519 identity (copied) */
	const struct nym_rng *rng;      /* must outlive the server */
	struct nym_gws_storage store;   /* copied */
	struct nym_gws_transport io;    /* copied */
	/* Policy; 0 = the default above. */
	uint64_t fresh_timeout_ms;      /* per message before authentication */
	uint64_t hs_timeout_ms;         /* for M3 after M2 */
	uint64_t auth_timeout_ms;       /* in all, from accept to authenticated: no
	                                 * message (nor ping) extends it */
	size_t max_unauth;              /* unauthenticated connections at a time; more
	                                 * are refused by nym_gws_accept (0: no limit) */
	uint64_t dup_wait_ms;           /* for the pong of the duplicate check */
	int inbox_batch;                /* stored messages per batch */
	uint64_t max_skew;              /* authenticateV2 timestamp, s (NYM_GW_MAX_SKEW) */
	int64_t free_bandwidth;         /* bytes per free claim (NYM_GW_FREE_BANDWIDTH);
	                                 * smaller for tests of running out */
	int enforce_zk_nyms;            /* refuse free claims, as a gateway run with
	                                 * enforce_zk_nyms = true (NYM_GW_ERRTXT_ONLY_ECASH) */
};

/* Counters since nym_gws_new. */
struct nym_gws_stats {
	uint64_t connections;     /* accepted */
	uint64_t connected;       /* open now */
	uint64_t registered, authenticated, auth_failed;
	uint64_t forwarded;       /* MixPackets the transport took */
	uint64_t send_errors;     /* binary frames refused (malformed, no bandwidth) */
	uint64_t pushed;          /* messages sent to a connected client */
	uint64_t stored;          /* messages stored for later */
	uint64_t inbox_delivered; /* stored messages handed over (and removed) */
	uint64_t hostile_closed;  /* closed for a binary frame before authentication */
	uint64_t unauth_refused;  /* refused: max_unauth unauthenticated already */
};

/* NYM_EINVAL (no seed or rng, a callback missing), NYM_ENOMEM. */
int nym_gws_new(struct nym_gws **out, const struct nym_gws_config *cfg);
/* Every connection still open ends as with nym_gws_closed (bandwidth kept,
 * pushes not handed over stored) without calling close; then the server is
 * wiped and freed. The transport must not report anything afterwards. */
void nym_gws_free(struct nym_gws *s);
const struct nym_gws_stats *nym_gws_stats(const struct nym_gws *s);

/* A new connection, conn being the caller's handle for it (passed back to
 * the transport). NULL when out of memory, or max_unauth connections are
 * not authenticated yet (close it). */
struct nym_gws_conn *nym_gws_accept(struct nym_gws *s, void *conn, struct nym_gws_now now);
/* 1 when nym_gws_accept would refuse a connection now (max_unauth are not
 * authenticated yet): the transport can refuse it before its handshake. */
int nym_gws_full(const struct nym_gws *s);
/* One whole message from the client. */
void nym_gws_text(struct nym_gws_conn *c, const char *text, size_t len, struct nym_gws_now now);
void nym_gws_binary(struct nym_gws_conn *c, const uint8_t *data, size_t len, struct nym_gws_now now);
/* A pong (its payload) from the client. */
void nym_gws_pong(struct nym_gws_conn *c, const uint8_t *data, size_t len, struct nym_gws_now now);
/* The frame sent with tag (and every tagged one before it) is handed to
 * the socket. */
void nym_gws_sent(struct nym_gws_conn *c, uint64_t tag, struct nym_gws_now now);
/* The connection is gone (whoever closed it); c is freed. */
void nym_gws_closed(struct nym_gws_conn *c, struct nym_gws_now now);

/* A final-hop payload for client: pushed when it is connected, else
 * stored. */
void nym_gws_push(struct nym_gws *s, const uint8_t client[32], const uint8_t *msg, size_t len,
                  struct nym_gws_now now);

/* Deadlines: connections past theirs are closed (abort), duplicate checks
 * past theirs decided. Returns the ms until the next deadline, or -1 when
 * there is none. */
int64_t nym_gws_tick(struct nym_gws *s, struct nym_gws_now now);

#endif
