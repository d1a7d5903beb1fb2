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
 *   messages in (binary kind 1: 21 bytes = an ack, else a payload).
 * A gateway answering authenticateV2 with "not registered" gets a fresh
 * registration on the next connection. Reconnection, back-off and packet
 * queues are the caller's. Used by the WebAssembly client (wasm/nymwasm.c);
 * io/gwsession.h is the native session over libwebsockets. */
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

struct nym_gwsess_ops {
	/* One frame for the websocket (binary = 0: text, JSON). */
	void (*send)(void *ctx, int binary, const uint8_t *data, size_t len);
	/* Authenticated and bandwidth held; registered = 1 on the connection
	 * that registered. */
	void (*ready)(void *ctx, int registered);
	/* One decrypted PushedMixMessage. */
	void (*pushed)(void *ctx, const uint8_t *pt, size_t len);
	/* Registration gave a new shared key: store it (32 bytes). */
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

/* The websocket opened / closed. wall_s: Unix seconds (authenticateV2). */
void nym_gwsess_open(struct nym_gwsess *s, uint64_t wall_s);
void nym_gwsess_closed(struct nym_gwsess *s);
/* One frame from the gateway. */
void nym_gwsess_frame(struct nym_gwsess *s, int binary, const uint8_t *data, size_t len, uint64_t wall_s);
/* One MixPacket (v2 bytes) out through ops.send; NYM_ENET when not ready. */
int nym_gwsess_forward(struct nym_gwsess *s, const uint8_t *mix_packet, size_t len);

enum nym_gwsess_state nym_gwsess_state(const struct nym_gwsess *s);
int nym_gwsess_version(const struct nym_gwsess *s);

#endif
