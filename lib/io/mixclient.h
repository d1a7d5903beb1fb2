/* mixclient.h — a Nym client at run time: the I/O layer that nym-send,
 * nym-recv and nym-cover share. It holds the gateway session (gwclient.h),
 * turns messages into packets with the message layers, paces them like the
 * official client, retransmits what is not acknowledged, and turns pushed
 * payloads back into messages.
 *
 * Timing, as the official client (doc/spec/nym-message.md §0.3, §5.4, §6):
 *  - main stream: one packet per tick, ticks exponentially distributed with
 *    mean send_mean_ms (20 ms); a tick with no real packet queued sends a
 *    loop cover packet instead (main_cover). send_mean_ms = 0: real packets
 *    go out as soon as the gateway connection takes them, no filler.
 *  - secondary loop cover stream: mean loop_mean_ms (200 ms; 0 = off).
 *  - per-hop mixing delays: exponential, mean packet_delay_ms (15 ms) for
 *    packets, ack_delay_ms (15 ms) for their SURB-acks.
 *  - a packet not acknowledged within 1.5 × (its forward delays + its ack's
 *    delays) + 1500 ms (timer started when it leaves the queue) is rebuilt —
 *    same fragment, new route, new ephemeral key, new ack — and queued again.
 *
 * Everything runs inside nym_loop_run() of the caller's loop. */
#ifndef NYM_MIXCLIENT_H
#define NYM_MIXCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "io/gwclient.h"
#include "proto/keys.h"
#include "proto/sphinx.h"
#include "proto/topology.h"

struct nym_mixclient;

struct nym_mixclient_config {
	const struct nym_client_keys *keys;  /* copied */
	const char *dir;                     /* client data directory */
	const struct nym_topology *topo;     /* must outlive the client */
	uint8_t gateway[32];                 /* own gateway identity (in topo) */
	const char *gateway_url;             /* NULL: the topology's ws_url */
	const struct nym_rng *rng;           /* must outlive the client */
	double send_mean_ms;                 /* 20; 0 = no Poisson pacing */
	int main_cover;                      /* 1: cover on empty ticks */
	double loop_mean_ms;                 /* 200; 0 = no loop stream */
	double packet_delay_ms, ack_delay_ms;/* 15, 15 */
	uint8_t packet_size;                 /* NYM_SIZE_*; 0 = regular */
	int max_retries;                     /* gateway reconnections (gwclient) */
	double ack_wait_multiplier;          /* 1.5 */
	double ack_wait_addition_ms;         /* 1500 */
	/* Messages delivered are remembered here for 24 h (io/seen.h), so
	 * that a retransmitted copy arriving after a restart is not delivered
	 * again. NULL: only in memory (the reassembler's own memory). */
	const char *seen_path;
	/* Reply SURBs anonymous senders gave us are kept here (io/surbfile.h),
	 * so that replies work after a restart; only the identity's one reader
	 * (nym-recv) should set it. NULL: only in memory. */
	const char *surbs_path;
	/* Fragments of messages not yet whole are kept here as they arrive
	 * (io/fragstore.h), so that a restarted client completes a message
	 * from what it had plus what the gateway kept meanwhile; only the
	 * identity's one reader (nym-recv, nym-client) should set it. NULL:
	 * only in memory (lost if the process dies). */
	const char *fragments_path;
	/* An incomplete message that gets no fragment for this long can never
	 * complete (the gateway keeps a message 24 h): it is dropped and
	 * reported through warning(). 0: NYM_MIXCLIENT_FRAGMENT_LIFETIME_MS. */
	uint64_t fragment_lifetime_ms;
};
#define NYM_MIXCLIENT_FRAGMENT_LIFETIME_MS (24ull * 3600 * 1000)
/* The official defaults for everything but keys/dir/topo/gateway/rng. */
void nym_mixclient_defaults(struct nym_mixclient_config *c);

struct nym_mixclient_events {
	/* Connected and authenticated: queued packets flow (after each
	 * reconnection too). registered = 1 when this connection registered. */
	void (*ready)(struct nym_mixclient *mc, int registered, void *arg);
	/* A whole message. sender_tag: the 16-byte tag of an anonymous sender
	 * (reply with nym_mixclient_reply), NULL otherwise. */
	void (*message)(struct nym_mixclient *mc, const uint8_t *data, size_t len,
	    const uint8_t *sender_tag, void *arg);
	/* One more packet of message msg_id acknowledged; left = still not. */
	void (*acked)(struct nym_mixclient *mc, uint64_t msg_id, size_t left, void *arg);
	/* Loop cover packet loop_id (from nym_mixclient_send_loop, or one of
	 * the client's own cover streams) came back after rtt_us. */
	void (*loop)(struct nym_mixclient *mc, uint64_t loop_id, uint64_t rtt_us, void *arg);
	/* Gateway connection lost (fatal = 0: reconnecting) or given up. */
	void (*down)(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg);
	void (*warning)(struct nym_mixclient *mc, const char *why, void *arg);
	void *arg;
};

int nym_mixclient_start(struct nym_mixclient **out, struct nym_loop *l,
    const struct nym_mixclient_config *c, const struct nym_mixclient_events *ev);
/* Close the gateway connection politely (run the loop a little after),
 * then free. */
void nym_mixclient_close(struct nym_mixclient *mc);
void nym_mixclient_free(struct nym_mixclient *mc);

/* Send data as one message to `to`. surbs < 0: a plain message; surbs >= 0:
 * anonymous and repliable with that many reply SURBs (the recipient sees
 * nym_mixclient_sender_tag(to), not our address). lane: a caller's grouping
 * (0 = none) for nym_mixclient_unacked / nym_mixclient_forget_lane.
 * *msg_id (may be NULL) identifies the message in acked(). NYM_EROUTE when
 * the recipient's gateway is not in the topology. */
int nym_mixclient_send(struct nym_mixclient *mc, const struct nym_address *to,
    const uint8_t *data, size_t len, int surbs, uint64_t lane, uint64_t *msg_id);
/* Answer an anonymous sender through the reply SURBs it sent us.
 * NYM_ENOTFOUND for a tag we hold no SURBs for (and no reply waits for).
 * A reply needing more SURBs than held, one kept spare, waits: the sender
 * is asked for more (SurbRequest) and the replies to one tag leave in the
 * order they were made, as SURBs come (5 minutes at most). */
int nym_mixclient_reply(struct nym_mixclient *mc, const uint8_t tag[16],
    const uint8_t *data, size_t len, uint64_t lane, uint64_t *msg_id);
/* Packets (of lane, or of all lanes when lane = 0) queued or sent and not
 * yet acknowledged. */
size_t nym_mixclient_unacked(const struct nym_mixclient *mc, uint64_t lane);
/* Packets of message msg_id not yet acknowledged (0 once done or unknown). */
size_t nym_mixclient_msg_unacked(const struct nym_mixclient *mc, uint64_t msg_id);
/* Stop retransmitting the packets of lane and drop them from the queue. */
void nym_mixclient_forget_lane(struct nym_mixclient *mc, uint64_t lane);
/* Send one loop cover packet now (ahead of the queue); *loop_id (may be
 * NULL) names it in the loop() event. */
int nym_mixclient_send_loop(struct nym_mixclient *mc, uint64_t *loop_id);
/* Use a newer topology from now on (a refresh, as the official client does
 * every 5 minutes); the caller keeps t alive and may free the old one after
 * this returns. NYM_EROUTE (nothing changed) if our gateway is not in it. */
int nym_mixclient_set_topology(struct nym_mixclient *mc, const struct nym_topology *t);
/* A fresh route over t to the gateway with identity `gateway`: three mix
 * nodes of layers 1, 2, 3 at random, then the gateway, as sphinx hops
 * (node address, sphinx key). Returns the number of hops or NYM_EROUTE. */
int nym_mixclient_route(const struct nym_topology *t, const struct nym_rng *rng,
    const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS]);
/* Our address, and the sender tag we use towards `to`. */
void nym_mixclient_address(const struct nym_mixclient *mc, struct nym_address *a);
void nym_mixclient_sender_tag(const struct nym_mixclient *mc, const struct nym_address *to,
    uint8_t tag[16]);
/* The sender tag of identity k towards `to`: BLAKE3("nymkit sender tag v1"
 * || identity seed || to (96))[0..16] — the same tag every time (as the
 * official client's persisted tag), unlinkable without the secret, so
 * nym-send can report the tag nym-recv will use without asking it. */
void nym_mixclient_tag_derive(const struct nym_client_keys *k, const struct nym_address *to,
    uint8_t tag[16]);
/* Packets a message of len bytes becomes (plain; for progress reports). */
size_t nym_mixclient_packets_for(const struct nym_mixclient *mc, size_t len);
/* Bytes waiting for the gateway (back-pressure for callers). */
size_t nym_mixclient_backlog(const struct nym_mixclient *mc);
/* Milliseconds since the last packet of a message (not an ack, not a loop)
 * came in; UINT64_MAX before the first. */
uint64_t nym_mixclient_quiet_ms(const struct nym_mixclient *mc);

struct nym_mixclient_stats {
	uint64_t real_sent, retransmitted, acks, cover_sent, loops_returned;
	uint64_t received_packets, messages, duplicates;
};
void nym_mixclient_stats(const struct nym_mixclient *mc, struct nym_mixclient_stats *s);

/* ---- set-up helpers for the tools ------------------------------------------
 * Resolve what a tool needs to start a client: the identity's directory
 * under home (keys.h layout), its keys, the topology (a file, or fetched from
 * a nym-api URL), and its gateway: the one in gateway_identity.pem, or, for
 * a client without one, a gateway of the topology chosen at random (it is
 * registered there on first connection). On failure err holds one line;
 * NYM_ENOTFOUND: the identity has no keys (the tool says how to make them). */
struct nym_mixclient_setup {
	char dir[4096];
	struct nym_client_keys keys;
	struct nym_topology *topo;           /* nym_topology_free */
	uint8_t gateway[32];
	int gateway_new;                     /* 1: chosen now, not yet registered */
	char gateway_url[NYM_TOPOLOGY_URL];
};
int nym_mixclient_setup(struct nym_mixclient_setup *s, const char *home, const char *id,
    const char *topology_file, const char *api_url, const struct nym_rng *rng,
    char *err, size_t errlen);
/* The same, fetching the network by deadline_ms (nym_mono_ms; 0: only the
 * per-request limits of nymapi.h): a tool's --timeout covers it. */
int nym_mixclient_setup_until(struct nym_mixclient_setup *s, const char *home, const char *id,
    const char *topology_file, const char *api_url, uint64_t deadline_ms, const struct nym_rng *rng,
    char *err, size_t errlen);
/* The same for the client whose data directory is dir (another kind of
 * client: a network requester's or a socks5 client's, keyfile.h); id names
 * it in messages. */
int nym_mixclient_setup_dir(struct nym_mixclient_setup *s, const char *dir, const char *id,
    const char *topology_file, const char *api_url, const struct nym_rng *rng,
    char *err, size_t errlen);
/* The official defaults (nym_mixclient_defaults) with the keys, directory,
 * topology and gateway of s and the given rng; s and rng must outlive the
 * client. */
void nym_mixclient_setup_config(const struct nym_mixclient_setup *s, const struct nym_rng *rng,
    struct nym_mixclient_config *c);
void nym_mixclient_setup_free(struct nym_mixclient_setup *s);

#endif
