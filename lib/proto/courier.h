/* courier.h — the message layer in one call each way, so that tools stay
 * thin (doc/spec/nym-message.md §4.1, §4.8).
 *
 * Sending: message bytes → NymMessage → padded fragments → per fragment a
 * packet assembled in place (SURB-ack block ‖ ephemeral key ‖ encrypted
 * fragment, or a reply through a SURB) → Sphinx → MixPacket for the gateway.
 * Each finished packet is handed to an emit callback together with what the
 * caller needs for retransmission (fragment id, fragment bytes, timeout).
 *
 * Receiving: each payload the gateway pushes → ack (21 bytes), or reply
 * (prefix = digest of a reply key we hold), or regular (prefix = ephemeral
 * key) → fragment → reassembly → a complete NymMessage when its last
 * fragment arrives; loop cover is recognised and dropped.
 *
 * Routes are not chosen here: a route source returns hops as plain
 * {32-byte padded routing address, X25519 key} arrays ending at a given
 * gateway (lib/proto/topology.h can back it). Nothing here reads a clock or draws
 * randomness of its own; the per-packet path allocates nothing. */
#ifndef NYM_COURIER_H
#define NYM_COURIER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "proto/ack.h"
#include "proto/chunking.h"
#include "proto/framing.h"
#include "proto/keys.h"
#include "proto/message.h"
#include "proto/reply.h"
#include "proto/sphinx.h"

/* A fresh route (packet order, last hop = the gateway whose Ed25519
 * identity is `gateway`) per call: returns the number of hops (1..5), or a
 * negative NYM_E* code. */
struct nym_route_source {
	int (*pick)(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS]);
	void *ctx;
};

struct nym_courier_config {
	uint16_t sphinx_version;      /* real traffic, acks, SURBs: 259 */
	uint16_t cover_version;       /* loop cover and its acks: 258 */
	uint64_t packet_delay_ns;     /* mean per-hop delay, 15 ms */
	uint64_t ack_delay_ns;        /* mean per-hop delay of acks, 15 ms */
	uint8_t size_tag;             /* NYM_SIZE_REGULAR (or an extended size) */
	uint8_t key_rotation;         /* MixPacket byte: nym_rotation_of_id(topology) */
	int mix_packet_version;       /* NYM_MIX_PACKET_V2 (gateway protocol >= 5) or V1 */
	double ack_wait_multiplier;   /* 1.5 */
	uint64_t ack_wait_addition_ms; /* 1500 */
};
/* The official client's defaults (doc/spec/nym-message.md §0.3, §2.5). */
void nym_courier_config_default(struct nym_courier_config *c);

/* One finished packet. Pointers are valid only during the emit call. */
struct nym_courier_packet {
	const uint8_t *mix_packet;    /* serialized MixPacket, ready for the gateway */
	size_t mix_packet_len;
	uint8_t frag_id[NYM_FRAG_ID_LEN]; /* what its ack will name (cover: 0) */
	size_t index, count;          /* fragment index within the message */
	uint64_t delay_ns;            /* mix delays, forward + ack (replies: 3 × mean + ack) */
	uint64_t timeout_ms;          /* retransmission timeout (§5.4) */
	const uint8_t *fragment;      /* the fragment (for nym_courier_resend) */
	size_t fragment_len;
	int reply;                    /* built from a SURB */
	uint8_t cover_epk[32];        /* loop cover: its ephemeral key, the prefix its
	                               * payload comes back with (tells our loops);
	                               * else zero */
};
/* Return 0 to go on, a negative code to stop (it is passed back). */
typedef int (*nym_courier_emit_fn)(void *ctx, const struct nym_courier_packet *p);

struct nym_courier_sender;
/* keys: own key set; own_gateway: own gateway's Ed25519 identity (acks,
 * SURBs and cover come back through it). cfg NULL: defaults. */
struct nym_courier_sender *nym_courier_sender_new(const struct nym_client_keys *keys,
                                          const uint8_t own_gateway[32],
                                          const struct nym_courier_config *cfg);
void nym_courier_sender_free(struct nym_courier_sender *s);
/* Change the MixPacket rotation byte (topology refresh). */
void nym_courier_sender_set_rotation(struct nym_courier_sender *s, uint8_t key_rotation);

/* Send a serialized NymMessage to `to`: split, encrypt, ack, wrap, emit.
 * Returns the number of packets emitted. */
int nym_courier_send(struct nym_courier_sender *s, const struct nym_address *to, const uint8_t *nym_message,
                 size_t len, const struct nym_route_source *routes, const struct nym_rng *rng,
                 nym_courier_emit_fn emit, void *ctx);
/* For parallel preparation: the caller plans the split once
 * (nym_split_init over the serialized NymMessage at capacity
 * nym_courier_sender_capacity()) and lets several senders — one per thread,
 * each with its own route source and a thread-safe rng — build fragments
 * [first, first + count) of the same plan. The plan is only read. Returns
 * the number of packets emitted. */
size_t nym_courier_sender_capacity(const struct nym_courier_sender *s);
int nym_courier_send_part(struct nym_courier_sender *s, const struct nym_address *to, const struct nym_split *plan,
                      size_t first, size_t count, const struct nym_route_source *routes,
                      const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx);
/* Plain message (type 0). */
int nym_courier_send_plain(struct nym_courier_sender *s, const struct nym_address *to, const uint8_t *data,
                       size_t len, const struct nym_route_source *routes, const struct nym_rng *rng,
                       nym_courier_emit_fn emit, void *ctx);
/* Repliable message (type 1, DataV2 with 259 / DataV1 with 258) carrying
 * nsurbs fresh reply SURBs over routes to the own gateway; their reply keys
 * go into keys (stamped now_ms). nsurbs may be 0. */
int nym_courier_send_anonymous(struct nym_courier_sender *s, const struct nym_address *to,
                           const uint8_t sender_tag[NYM_SENDER_TAG_LEN], const uint8_t *data,
                           size_t len, size_t nsurbs, struct nym_reply_keys *keys, uint64_t now_ms,
                           const struct nym_route_source *routes, const struct nym_rng *rng,
                           nym_courier_emit_fn emit, void *ctx);
/* AdditionalSurbs (type 1, content tag 4 with 259 / 1 with 258): nsurbs
 * (1..NYM_SURBS_PER_MESSAGE) fresh SURBs for `to`, the answer to its
 * SurbRequest; split larger requests (clamped to NYM_MAX_SURB_REQUEST)
 * into several calls as the official client does. */
#define NYM_SURBS_PER_MESSAGE 100
int nym_courier_send_additional_surbs(struct nym_courier_sender *s, const struct nym_address *to,
                                  const uint8_t sender_tag[NYM_SENDER_TAG_LEN], size_t nsurbs,
                                  struct nym_reply_keys *keys, uint64_t now_ms,
                                  const struct nym_route_source *routes, const struct nym_rng *rng,
                                  nym_courier_emit_fn emit, void *ctx);
/* SurbRequest (type 2, content tag 1: our own address `self` and amount),
 * sent through one of the peer's SURBs. */
int nym_courier_send_surb_request(struct nym_courier_sender *s, const struct nym_reply_surb *surbs, size_t nsurbs,
                              const struct nym_address *self, uint32_t amount,
                              const struct nym_route_source *routes, const struct nym_rng *rng,
                              nym_courier_emit_fn emit, void *ctx);
/* Reply through SURBs (one per fragment, used in order): the serialized
 * NymMessage (type 2: data or SurbRequest). NYM_EFULL when fewer than
 * nym_message_packets() SURBs are given; returns the SURBs used. */
int nym_courier_send_reply(struct nym_courier_sender *s, const struct nym_reply_surb *surbs, size_t nsurbs,
                       const uint8_t *nym_message, size_t len, const struct nym_route_source *routes,
                       const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx);
/* Rebuild one fragment into a brand-new packet (new route, key, ack iv),
 * as on retransmission. surb NULL: regular packet to `to`. */
int nym_courier_resend(struct nym_courier_sender *s, const struct nym_address *to,
                   const struct nym_reply_surb *surb, const uint8_t *fragment, size_t len,
                   const struct nym_route_source *routes, const struct nym_rng *rng,
                   nym_courier_emit_fn emit, void *ctx);
/* One loop cover packet (cover_version, to self). */
int nym_courier_cover(struct nym_courier_sender *s, const struct nym_route_source *routes,
                  const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx);

/* --- receiving ------------------------------------------------------------ */

#define NYM_RECV_STORED 0   /* a fragment was kept; nothing complete yet */
#define NYM_RECV_MESSAGE 1  /* data/len/msg hold a complete NymMessage */
#define NYM_RECV_ACK 2      /* frag_id names the fragment acknowledged */
#define NYM_RECV_COVER 3    /* loop cover (or a cover ack): dropped */

struct nym_courier_received {
	int kind;
	uint8_t frag_id[NYM_FRAG_ID_LEN];  /* ACK */
	uint32_t set_id;                   /* ACK: decoded id; MESSAGE: the set of the
	                                    * fragment that completed it */
	uint8_t position;
	int via_reply;             /* the fragment came through one of our SURBs */
	uint8_t *data;             /* MESSAGE: unpadded NymMessage (malloc'd) */
	size_t len;
	struct nym_message msg;    /* MESSAGE: parsed view into data */
	const uint8_t *fragment;   /* STORED, MESSAGE: the decrypted fragment (to keep
	                            * it on disk); valid until the next receive */
	size_t fragment_len;
};

struct nym_courier_receiver;
/* reply_keys: the store nym_courier_send_anonymous fills (may be NULL); limits
 * NULL: reassembly defaults (lib/proto/chunking.h). */
struct nym_courier_receiver *nym_courier_receiver_new(const struct nym_client_keys *keys,
                                              struct nym_reply_keys *reply_keys,
                                              const struct nym_reasm_limits *limits);
void nym_courier_receiver_free(struct nym_courier_receiver *r);
/* Feed one payload as the gateway pushes it (21-byte ack, or prefix ‖
 * ciphertext). Returns a NYM_RECV_* kind (also in out->kind) or an error:
 * NYM_EFORMAT (not a fragment: wrong key, corrupt, or a malformed message),
 * NYM_EREPLAY (fragment of an already delivered set), NYM_EFULL (reassembly
 * limit), NYM_ESIZE. now_ms: caller's monotonic clock. */
NYM_MUST_CHECK int nym_courier_receive(struct nym_courier_receiver *r, const uint8_t *push, size_t len, uint64_t now_ms,
                                   struct nym_courier_received *out);
/* Feed one decrypted fragment (header || payload), as kept from
 * out->fragment of an earlier receive: STORED or MESSAGE as above, or
 * NYM_EFORMAT, NYM_EREPLAY, NYM_EFULL. */
NYM_MUST_CHECK int nym_courier_receive_fragment(struct nym_courier_receiver *r, const uint8_t *frag,
                                            size_t len, uint64_t now_ms, struct nym_courier_received *out);
void nym_courier_received_free(struct nym_courier_received *out);
/* The reassembler, e.g. for nym_reasm_expire on a timer. */
struct nym_reasm *nym_courier_receiver_reasm(struct nym_courier_receiver *r);

/* What a final-hop payload is, told by its length alone (for tools that
 * inspect bytes; doc/spec/nym-message.md §5): */
#define NYM_PAYLOAD_NONE 0   /* none of these lengths */
#define NYM_PAYLOAD_FINAL 1  /* Sphinx plaintext (2048, 8192, 16384, 32768), SURB-ack block first */
#define NYM_PAYLOAD_PUSH 2   /* what the gateway pushes: the same, 405 bytes fewer */
#define NYM_PAYLOAD_ACK 3    /* an ack body (21) */
int nym_courier_payload_kind(size_t len);
/* "final_payload", "gateway_push", "ack"; NULL for NONE or another value. */
const char *nym_courier_payload_kind_name(int kind);
/* The part of a payload the gateway pushes to its client (the input of
 * nym_courier_receive): after the SURB-ack block for FINAL, else all of it.
 * Returns the kind, NYM_ESIZE (NONE), or NYM_EADDR (the block's first hop is
 * no node address). */
NYM_MUST_CHECK int nym_courier_payload_push(const uint8_t *payload, size_t len, const uint8_t **push, size_t *push_len);

#endif
