/* gwsession.h — the gateway session: the client side of doc/spec/gateway.md
 * over io/gwclient.h's websockets. Every protocol step — registration on
 * first use, authenticateV2 after, free bandwidth claims (the UTC day's, one
 * per out-of-bandwidth episode), ForwardSphinx frames out with a copy kept
 * until their answer, pushed payloads in, zk-nym-only gateways fatal — is
 * proto/gwsess.h's; this shell adds the websocket, the wall clock, the shared
 * key file and reconnection with backoff. Packets forwarded while down are
 * queued (copied) in the session.
 *
 * lib/ never prints: failures come back as NYM_E* codes plus, where words
 * help, a reason string in the callback. */
#ifndef NYM_GWSESSION_H
#define NYM_GWSESSION_H

#include <stddef.h>
#include <stdint.h>

#include "io/gwclient.h"

/* File in the client's data directory holding the client-gateway shared key
 * (32 bytes, PEM NYM_PEM_GATEWAY_SHARED_KEY, mode 0600, written atomically).
 * Written at registration before gateway_identity.pem (keys.h), so a client
 * whose address names a gateway always has the key for it. nymkit's own:
 * the official client keeps it in SQLite. */
#define NYM_CLIENT_GATEWAY_SHARED_KEY "gateway_shared_key.pem"

struct nym_client_keys;
struct nym_rng;
struct nym_gw;

struct nym_gw_params {
	const char *url;                     /* ws:// or wss:// of the gateway */
	uint8_t gateway[32];                 /* its identity, as the topology says */
	const struct nym_client_keys *keys;  /* copied; wiped on nym_gw_free */
	const char *dir;                     /* client data directory (shared key) */
	const struct nym_rng *rng;           /* must outlive the session */
	int max_retries;                     /* reconnections in a row before giving
	                                      * up (down(fatal)); 0 = 10, <0 = forever */
	/* Wall clock, UTC seconds since 1970 (authenticateV2 timestamps, the
	 * bandwidth day); NULL = time(). Injectable for tests. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
};

struct nym_gw_events {
	/* Authenticated (registered = 1 on the connection that registered) and
	 * bandwidth claimed: packets flow. Called after every (re)connection. */
	void (*ready)(struct nym_gw *gw, int registered, void *arg);
	/* One decrypted PushedMixMessage: 21 bytes = an ack, else a payload.
	 * May arrive before ready (stored messages precede the auth reply). */
	void (*pushed)(struct nym_gw *gw, const uint8_t *pt, size_t len, void *arg);
	/* The connection is down. fatal = 0: a reconnection is scheduled;
	 * fatal = 1: the session gave up (gateway refused us, retries spent,
	 * keys could not be stored), nothing more will happen. */
	void (*down)(struct nym_gw *gw, int err, const char *why, int fatal, void *arg);
	/* A non-fatal complaint of the gateway (`error` text for a frame). */
	void (*warning)(struct nym_gw *gw, const char *why, void *arg);
	void *arg;
};

/* Start the session: connect, then register (no shared key file in dir) or
 * authenticateV2 (key present; a gateway answering "not registered" gets a
 * fresh registration), claim free bandwidth when below 40 MB. */
int nym_gw_start(struct nym_gw **out, struct nym_loop *l, const struct nym_gw_params *p,
    const struct nym_gw_events *ev);
/* Forward one MixPacket (v2 bytes: type || rotation || next hop || packet);
 * sent as ForwardSphinxV2, or as ForwardSphinx without the rotation byte to a
 * gateway below protocol 5. Queued (copied) while not ready. */
int nym_gw_forward(struct nym_gw *gw, const uint8_t *mixpacket, size_t len);
int nym_gw_ready(const struct nym_gw *gw);
/* Bytes waiting to go out (session queue, packets to send again after a
 * claim, websocket queue): back-pressure. */
size_t nym_gw_backlog(const struct nym_gw *gw);
/* Negotiated protocol version (0 before the first answer). */
int nym_gw_version(const struct nym_gw *gw);
/* Close politely (queued frames are flushed first) and free. Safe from a
 * callback of this session only via nym_gw_close (freed later by nym_gw_free). */
void nym_gw_close(struct nym_gw *gw);
void nym_gw_free(struct nym_gw *gw);

#endif
