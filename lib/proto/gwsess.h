/* gwsess.h — the client's gateway session as a sans-I/O state machine, on
 * top of proto/gwproto.h (doc/spec/gateway.md): the caller owns the
 * websocket, the clock and storage; frames go in and out as bytes.
 *
 * On a new connection (nym_gwsess_open):
 *   c->g {"type":"supportedProtocol"}          g->c {"type":"supportedProtocol","version":V}
 *   no stored key: registration, four handshakePayload messages (M1..M4,
 *     gwproto.h), then g->c {"type":"register","status":true}; the new
 *     shared key goes to ops.registered (store it: authenticateV2 next time)
 *   stored key: c->g authenticateV2, g->c {"type":"authenticate","status":true,
 *     "bandwidth_remaining":N}
 *   bandwidth below NYM_GW_LOW_BANDWIDTH: c->g claimFreeTestnetBandwidth,
 *     g->c {"type":"bandwidth","available_total":N}
 *   then ready: MixPackets out as ForwardSphinxV2 binary frames (ForwardSphinx,
 *   without the rotation byte, to a gateway below protocol 5), pushed
 *   messages in (binary kind 1: 21 bytes = an ack, else a payload). Pushes
 *   that come before ready (a gateway sends what it stored before its
 *   authenticate answer) are held and handed up after ops.ready.
 *
 * Bandwidth (§13): free allowances expire at the UTC day change, so a packet
 * forwarded on a new day waits for a fresh claim. Each ForwardSphinx frame
 * gets exactly one text answer, in order (§10.1): the session keeps a copy of
 * every packet until its answer; one refused as out of bandwidth is sent
 * again, first, after a single claim per out-of-bandwidth episode (packets
 * forwarded meanwhile wait), never sent twice once accepted. A gateway that
 * refuses free claims (zk-nym enforcing) ends the session.
 *
 * A gateway answering authenticateV2 with "not registered" gets a fresh
 * registration on the next connection. When and whether to reconnect is the
 * caller's (nym_gwsess_closed gives a hint). Used by the WebAssembly client
 * (wasm/nymwasm.c) and by io/gwsession.h, the native shell over
 * libwebsockets. */
#ifndef NYM_GWSESS_H
#define NYM_GWSESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "proto/gwproto.h"
#include "proto/keys.h"

enum nym_gwsess_state {
	NYM_GWSESS_IDLE,      /* no connection */
	NYM_GWSESS_PROTO,     /* supportedProtocol sent */
	NYM_GWSESS_HS_M2,     /* registration: M1 sent */
	NYM_GWSESS_HS_M4,     /* registration: M3 sent */
	NYM_GWSESS_REGISTER,  /* registration: waiting for `register` */
	NYM_GWSESS_AUTH,      /* authenticateV2 sent */
	NYM_GWSESS_CLAIM,     /* free bandwidth claimed */
	NYM_GWSESS_READY,     /* packets flow */
	NYM_GWSESS_DEAD,      /* gave up (ops.fatal said why) */
};

/* What nym_gwsess_closed advises about the next connection. */
enum nym_gwsess_retry {
	NYM_GWSESS_RETRY_BACKOFF, /* a failure: reconnect after the caller's back-off */
	NYM_GWSESS_RETRY_QUIET,   /* an expected close (authenticateV2 timestamp
	                           * collision): retry soon, not a failure */
	NYM_GWSESS_RETRY_NOW,     /* "not registered": register again at once */
};

struct nym_gwsess_ops {
	/* One frame for the websocket (binary = 0: text, JSON); 0 or NYM_E*. */
	int (*send)(void *ctx, int binary, const uint8_t *data, size_t len);
	/* Authenticated and bandwidth held; registered = 1 on the connection
	 * that registered. */
	void (*ready)(void *ctx, int registered);
	/* One decrypted PushedMixMessage. */
	void (*pushed)(void *ctx, const uint8_t *pt, size_t len);
	/* Registration gave a new shared key: store it (32 bytes); a caller
	 * that cannot may end the session with nym_gwsess_fail. */
	void (*registered)(void *ctx, const uint8_t key[NYM_GW_KEY_LEN]);
	/* A complaint that was coped with (may be NULL). */
	void (*warning)(void *ctx, const char *why);
	/* The session gave up: nothing more will happen on it. */
	void (*fatal)(void *ctx, int err, const char *why);
	void *ctx;
};

struct nym_gwsess;

/* keys and gateway are copied; key: the stored shared key, or NULL (the
 * first connection registers). rng must outlive the session. */
struct nym_gwsess *nym_gwsess_new(const struct nym_client_keys *keys, const uint8_t gateway[32],
                                  const uint8_t *key, const struct nym_rng *rng,
                                  const struct nym_gwsess_ops *ops);
void nym_gwsess_free(struct nym_gwsess *s); /* wipes */
/* on = 1: MixPackets forwarded while they cannot go out (not ready, a claim
 * outstanding) are queued (copied) and sent when they can; on = 0 (the
 * default): refused with NYM_ENET. */
void nym_gwsess_set_queue(struct nym_gwsess *s, int on);

/* The websocket opened / closed. wall_s: Unix seconds (authenticateV2, the
 * bandwidth day). closed returns an enum nym_gwsess_retry. */
void nym_gwsess_open(struct nym_gwsess *s, uint64_t wall_s);
int nym_gwsess_closed(struct nym_gwsess *s);
/* One frame from the gateway. */
void nym_gwsess_frame(struct nym_gwsess *s, int binary, const uint8_t *data, size_t len, uint64_t wall_s);
/* The wall clock moved (a new UTC day needs a new claim before packets). */
void nym_gwsess_tick(struct nym_gwsess *s, uint64_t wall_s);
/* One MixPacket (v2 bytes: type || rotation || next hop || packet) out
 * through ops.send, or queued (nym_gwsess_set_queue); NYM_ENET when it can
 * do neither. */
int nym_gwsess_forward(struct nym_gwsess *s, const uint8_t *mix_packet, size_t len);
/* End the session for a reason of the caller's (ops.fatal follows). */
void nym_gwsess_fail(struct nym_gwsess *s, int err, const char *why);

enum nym_gwsess_state nym_gwsess_state(const struct nym_gwsess *s);
int nym_gwsess_version(const struct nym_gwsess *s);
/* Bytes of MixPackets waiting in the session (queued, to send again). */
size_t nym_gwsess_backlog(const struct nym_gwsess *s);

#endif
