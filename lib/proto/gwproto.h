/* gwproto.h — the client<->gateway protocol, version 6 (doc/spec/gateway.md),
 * sans-I/O: bytes and JSON text in, bytes and JSON text out. No sockets, no
 * clocks (the current Unix time is an argument), randomness from a nym_rng.
 *
 * Wire summary
 *  - Control messages: websocket text frames, one JSON object each,
 *    {"type":"<camelCase>", <snake_case fields>}, byte strings as JSON arrays
 *    of integers 0..255 (authenticateV2 is the exception: camelCase fields,
 *    two base64 strings).
 *  - Registration (no stored key), four handshakePayload messages:
 *      M1 c->g  80 B: C (client ed25519 pk) || X (client eph x25519) || salt(16)
 *      M2 g->c 124 B: Y (gw eph) || GCM-SIV(K, n_g, Sign(g, Y||X)) (80) || n_g(12)
 *      M3 c->g  92 B: GCM-SIV(K, n_c, Sign(c, X||Y)) (80) || n_c(12)
 *      M4 g->c   1 B: 1 = success
 *    K = HKDF-HMAC-BLAKE3(salt, X25519(x, Y), info = "", 32): the AES-256-
 *    GCM-SIV key of every later message, stored by both sides.
 *  - authenticateV2 (stored key): signature over
 *      version(1) || C(32) || GCM-SIV(K, nonce, C)(48) || nonce(12) || ts(8, BE).
 *  - Binary frames: kind(1) || enc_flag(1)=1 || nonce(12) || GCM-SIV(K, nonce, pt)
 *    kind 1 = ForwardSphinx (pt = MixPacket v1) / PushedMixMessage (g->c),
 *    kind 2 = ForwardSphinxV2 (pt = MixPacket v2, with key-rotation byte).
 *
 * Randomness is drawn in this order (so a test can replay a vector):
 *   client handshake start: x (32), salt (16); client M3: n_c (12);
 *   gateway M2: y (32), n_g (12); authenticateV2: nonce (12);
 *   binary frames and encrypted requests/responses: nonce (12). */
#ifndef NYM_GWPROTO_H
#define NYM_GWPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"

#define NYM_GW_PROTOCOL_VERSION 6   /* CURRENT_PROTOCOL_VERSION */
#define NYM_GW_MIN_AUTH_VERSION 4   /* authenticateV2 needs >= 4 */
#define NYM_GW_KEY_ROTATION_VERSION 5 /* ForwardSphinxV2 from here on */

#define NYM_GW_KEY_LEN 32
#define NYM_GW_NONCE_LEN 12
#define NYM_GW_TAG_LEN 16
#define NYM_GW_SALT_LEN 16
#define NYM_GW_M1_LEN 80
#define NYM_GW_M2_LEN 124
#define NYM_GW_M3_LEN 92
#define NYM_GW_M4_LEN 1
#define NYM_GW_HS_MAX NYM_GW_M2_LEN

/* PEM label under which a shared key is stored (as the official client). */
#define NYM_PEM_GATEWAY_SHARED_KEY "AES-256-GCM-SIV GATEWAY SHARED KEY"

/* Default gateway policy numbers (reference nym-node). */
#define NYM_GW_MAX_SKEW 120                      /* seconds, authenticateV2 */
#define NYM_GW_FREE_BANDWIDTH INT64_C(68719476736) /* 64 GiB per claim */
#define NYM_GW_LOW_BANDWIDTH INT64_C(40000000)   /* clients claim below this */

/* Version negotiation (§2). Gateway, at registration: the version its
 * handshake replies and `register` carry for a client proposal (absent = 0;
 * a "future" proposal is clamped to 6; no lower bound). Client: the version
 * to propose to a gateway that announced `announced` in supportedProtocol,
 * or NYM_EVERSION when it is older than 4 (no GCM-SIV / authenticateV2). */
uint8_t nym_gw_version_accept(int has_version, uint8_t proposed);
int nym_gw_version_propose(uint8_t announced);

/* Shared key derivation (both roles): K = HKDF-HMAC-BLAKE3(salt, X25519(sk, peer)). */
int nym_gw_derive_key(uint8_t key[32], const uint8_t eph_sk[32], const uint8_t peer_eph_pk[32],
                      const uint8_t salt[16]);

/* --- registration handshake, client role -------------------------------- */
struct nym_gw_hs_client {
	uint8_t identity_seed[32], identity_pk[32];
	uint8_t gateway_pk[32];      /* the gateway identity the client expects */
	uint8_t eph_sk[32], eph_pk[32];
	uint8_t gw_eph_pk[32];
	uint8_t salt[16];
	uint8_t key[32];
	int state;
};
/* Draws x and salt, writes M1. */
int nym_gw_hs_client_start(struct nym_gw_hs_client *hs, const uint8_t identity_seed[32],
                           const uint8_t gateway_pk[32], const struct nym_rng *rng,
                           uint8_t m1[NYM_GW_M1_LEN]);
/* Checks M2 (length 124, gateway signature over Y||X with the expected
 * gateway key: NYM_EMAC when it fails), writes M3. */
NYM_MUST_CHECK int nym_gw_hs_client_m2(struct nym_gw_hs_client *hs, const uint8_t *m2, size_t len,
                                       const struct nym_rng *rng, uint8_t m3[NYM_GW_M3_LEN]);
/* Checks M4 ([1]); on success copies K into key. NYM_EPROTO for [0]. */
NYM_MUST_CHECK int nym_gw_hs_client_m4(struct nym_gw_hs_client *hs, const uint8_t *m4, size_t len,
                                       uint8_t key[32]);

/* --- registration handshake, gateway role ------------------------------- */
struct nym_gw_hs_gateway {
	uint8_t client_pk[32];       /* C from M1: the client's address */
	uint8_t client_eph_pk[32];
	uint8_t eph_sk[32], eph_pk[32];
	uint8_t key[32];
	int state;
};
/* Checks M1 (length 80, C a valid point), draws y and n_g, writes M2.
 * hs->client_pk is then known (duplicate-connection check). */
int nym_gw_hs_gateway_m1(struct nym_gw_hs_gateway *hs, const uint8_t identity_seed[32],
                         const uint8_t *m1, size_t len, const struct nym_rng *rng,
                         uint8_t m2[NYM_GW_M2_LEN]);
/* Checks M3 (client signature over X||Y with C: NYM_EMAC when it fails),
 * writes M4 = [1] and copies K into key. */
NYM_MUST_CHECK int nym_gw_hs_gateway_m3(struct nym_gw_hs_gateway *hs, const uint8_t *m3, size_t len,
                                        uint8_t m4[NYM_GW_M4_LEN], uint8_t key[32]);

/* Wipe either state (secrets included). */
void nym_gw_hs_wipe(void *hs, size_t len);

/* --- authenticateV2 ------------------------------------------------------ */
struct nym_gw_auth {
	uint8_t version;
	uint8_t identity[32];
	uint8_t address_ct[48];      /* GCM-SIV(K, nonce, identity) */
	uint8_t nonce[12];
	uint64_t timestamp;          /* Unix seconds */
	uint8_t signature[64];
};
#define NYM_GW_AUTH_SIGNED_LEN 101
/* Client: fill a request for `now` (draws the nonce). */
int nym_gw_auth_build(struct nym_gw_auth *a, uint8_t version, const uint8_t identity_seed[32],
                      const uint8_t key[32], uint64_t now, const struct nym_rng *rng);
/* The 101 signed bytes. */
void nym_gw_auth_signed_bytes(uint8_t out[NYM_GW_AUTH_SIGNED_LEN], const struct nym_gw_auth *a);

/* Gateway, first half (no stored state needed), in the reference order:
 * version in [4, 6] (NYM_EVERSION), |timestamp - now| <= max_skew
 * (NYM_ERANGE), signature (NYM_EMAC). */
NYM_MUST_CHECK int nym_gw_auth_check_request(const struct nym_gw_auth *a, uint64_t now, uint64_t max_skew);
/* Gateway, second half, with the stored key and the last timestamp accepted
 * for this client (0 if none): address ciphertext (NYM_EKEY when it does not
 * match), then timestamp strictly newer (NYM_EREPLAY). */
NYM_MUST_CHECK int nym_gw_auth_check_key(const struct nym_gw_auth *a, const uint8_t key[32], uint64_t last_ts);

/* --- text control messages (§9) ------------------------------------------ */
enum nym_gw_type {
	NYM_GW_UNKNOWN = 0,
	/* client -> gateway */
	NYM_GW_REQ_SUPPORTED_PROTOCOL,  /* supportedProtocol */
	NYM_GW_REQ_HANDSHAKE,           /* handshakePayload / registerHandshakeInitRequest */
	NYM_GW_REQ_AUTHENTICATE_V2,     /* authenticateV2 */
	NYM_GW_REQ_AUTHENTICATE_V1,     /* authenticate (legacy, always rejected) */
	NYM_GW_REQ_CLAIM_FREE_BANDWIDTH,/* claimFreeTestnetBandwidth */
	NYM_GW_REQ_ECASH_CREDENTIAL,    /* ecashCredential {enc_credential, iv} */
	NYM_GW_REQ_UPGRADE_MODE_JWT,    /* upgradeModeJWT {token} */
	NYM_GW_REQ_ENCRYPTED,           /* encryptedRequest {ciphertext, nonce} */
	NYM_GW_REQ_BANDWIDTH_CREDENTIAL,/* bandwidthCredential(V2) (legacy, rejected) */
	/* gateway -> client */
	NYM_GW_RESP_SUPPORTED_PROTOCOL, /* supportedProtocol {version} */
	NYM_GW_RESP_HANDSHAKE,          /* handshakePayload {protocol_version, data} */
	NYM_GW_RESP_HANDSHAKE_ERROR,    /* handshakeError {message} */
	NYM_GW_RESP_REGISTER,           /* register {protocol_version, status, upgrade_mode} */
	NYM_GW_RESP_AUTHENTICATE,       /* authenticate {protocol_version, status, bandwidth_remaining, upgrade_mode} */
	NYM_GW_RESP_BANDWIDTH,          /* bandwidth {available_total, upgrade_mode} */
	NYM_GW_RESP_SEND,               /* send {remaining_bandwidth, upgrade_mode} */
	NYM_GW_RESP_ENCRYPTED,          /* encryptedResponse {ciphertext, nonce} */
	NYM_GW_RESP_ERROR,              /* error {message} */
	NYM_GW_RESP_TYPED_ERROR,        /* typedError {error} */
};

enum nym_gw_typed_error {
	NYM_GW_TE_OUT_OF_BANDWIDTH = 1, /* {"out_of_bandwidth":{"required":N,"available":N}} */
	NYM_GW_TE_TICKET_REPLAY = 2,    /* "ticket_replay" */
};

/* One control message, either direction. Fixed fields inline; variable ones
 * (data of encrypted/ecash messages, message/token text) in owned buffers
 * released by nym_gw_msg_free. Zero-initialise before use. */
struct nym_gw_msg {
	enum nym_gw_type type;
	int has_version;             /* protocol_version / version / protocolVersion present */
	uint8_t version;
	int status;                  /* register / authenticate */
	int upgrade_mode;            /* missing = 0 */
	int64_t bandwidth;           /* bandwidth_remaining / available_total / remaining_bandwidth */
	uint8_t hs[NYM_GW_HS_MAX];   /* handshakePayload data */
	size_t hs_len;
	struct nym_gw_auth auth;     /* authenticateV2 */
	uint8_t nonce[12];           /* encrypted*: nonce; ecashCredential: iv */
	uint8_t *bytes;              /* encrypted*: ciphertext; ecashCredential: enc_credential */
	size_t bytes_len;
	char *text;                  /* error/handshakeError message; upgradeModeJWT token */
	int typed_error;             /* enum nym_gw_typed_error */
	int64_t te_required, te_available;
};
void nym_gw_msg_free(struct nym_gw_msg *m);

/* Parse one text frame. Which set of types is recognised depends on the
 * direction (the same "type" names differ): to_gateway = 1 for client
 * requests, 0 for gateway responses. Unknown fields are ignored; an unknown
 * type gives NYM_GW_UNKNOWN with return 0 (the caller decides);
 * malformed JSON or wrong field types give NYM_EJSON. The message is
 * released on failure. Text longer than max_len is refused (NYM_ETOOBIG). */
#define NYM_GW_JSON_MAX (1 << 20)
NYM_MUST_CHECK int nym_gw_msg_parse(struct nym_gw_msg *m, int to_gateway, const char *json, size_t len);

/* Serialise as the reference does: compact, "type" first, fields in
 * declaration order. *out is malloc'd and NUL-terminated (free()). */
int nym_gw_msg_encode(const struct nym_gw_msg *m, char **out, size_t *len);

/* Convenience: encode the common gateway replies in one call. */
int nym_gw_json_error(char **out, size_t *len, const char *message);
int nym_gw_json_handshake(char **out, size_t *len, int to_gateway, uint8_t version,
                          const uint8_t *data, size_t dlen);

/* Reference error texts (§14), for the `message` of `error` frames. */
#define NYM_GW_ERRTXT_ONLY_REGISTER "Only 'Register' or 'Authenticate' requests are allowed"
#define NYM_GW_ERRTXT_LEGACY_AUTH "the legacy authentication method is no longer supported. please update your client"
#define NYM_GW_ERRTXT_NOT_REGISTERED "the client is not registered"
#define NYM_GW_ERRTXT_BAD_SIGNATURE "failed to verify request signature"
#define NYM_GW_ERRTXT_BAD_ADDRESS "failed to verify provided address ciphertext"
#define NYM_GW_ERRTXT_REPLAY "the provided request timestamp is smaller or equal to one previously used"
#define NYM_GW_ERRTXT_DUPLICATE "There is already an open connection to this client"
#define NYM_GW_ERRTXT_NO_AUTH_BINARY "received a sphinx packet without prior authentication"
#define NYM_GW_ERRTXT_MALFORMED_BINARY "Provided binary request was malformed - "
#define NYM_GW_ERRTXT_INVALID_CONTEXT "The received request is not valid in the current context: "
#define NYM_GW_ERRTXT_ONLY_ECASH "This gateway is only accepting coconut credentials for bandwidth"
/* The words a gateway sends for a nym_gw_auth_check_* failure (the skew
 * text carries the two times; buf receives it). */
const char *nym_gw_auth_errtxt(int err, const struct nym_gw_auth *a, uint64_t now,
                               char *buf, size_t cap);

/* --- encrypted requests/responses (§9.3) ---------------------------------- */
enum nym_gw_creq {
	NYM_GW_CREQ_FORGET_ME = 1,   /* {"ForgetMe":{"client":b,"stats":b}} */
	NYM_GW_CREQ_REMEMBER_ME = 2, /* {"RememberMe":{"session_type":"..."}} */
	NYM_GW_CRESP_FORGET_ME_ACK = 3,   /* {"ForgetMeAck":{}} */
	NYM_GW_CRESP_REMEMBER_ME_ACK = 4, /* {"RememberMeAck":{}} */
};
struct nym_gw_creq_msg {
	int kind;                    /* enum nym_gw_creq */
	int client, stats;           /* ForgetMe */
	char session_type[16];       /* RememberMe: Vpn Mixnet Wasm Native Socks5 Unknown */
};
/* Encrypt an inner request/response into m (type encryptedRequest when
 * kind is a request, encryptedResponse for an ack). */
int nym_gw_creq_seal(struct nym_gw_msg *m, const struct nym_gw_creq_msg *c,
                     const uint8_t key[32], const struct nym_rng *rng);
/* Decrypt and parse the inner JSON of an encryptedRequest/Response.
 * NYM_EMAC on a bad tag, NYM_EJSON on unknown/malformed content. */
NYM_MUST_CHECK int nym_gw_creq_open(struct nym_gw_creq_msg *c, const struct nym_gw_msg *m, const uint8_t key[32]);

/* --- binary frames (§10) --------------------------------------------------- */
#define NYM_GW_BIN_FORWARD_SPHINX 1
#define NYM_GW_BIN_FORWARD_SPHINX_V2 2
#define NYM_GW_BIN_PUSHED 1
#define NYM_GW_BIN_HDR_LEN 14                    /* kind, flag, nonce */
#define NYM_GW_BIN_OVERHEAD (NYM_GW_BIN_HDR_LEN + NYM_GW_TAG_LEN)
/* Seal plaintext pt into out (cap >= len + 30): kind || 1 || nonce || ct||tag.
 * Returns the frame length. */
int nym_gw_bin_seal(uint8_t *out, size_t cap, uint8_t kind, const uint8_t *pt, size_t len,
                    const uint8_t key[32], const struct nym_rng *rng);
/* Open a frame: *kind gets its kind byte (not judged here), out (cap >=
 * len - 14) the plaintext; returns the plaintext length. NYM_ESHORT for a
 * frame shorter than 30 (14 when unencrypted), NYM_EFLAG for an enc_flag
 * other than 0/1, NYM_EMAC on a bad tag. enc_flag 0 is the reference quirk:
 * the 12 "nonce" bytes are skipped and the rest is taken as plaintext. */
NYM_MUST_CHECK int nym_gw_bin_open(uint8_t *kind, uint8_t *out, size_t cap, const uint8_t *frame, size_t len,
                                   const uint8_t key[32]);

/* Pushed plaintext classification as the reference client does (§10.3):
 * 21 bytes is an ack, anything else a message. */
#define NYM_GW_ACK_PLAINTEXT_LEN 21
static inline int nym_gw_pushed_is_ack(size_t len) { return len == NYM_GW_ACK_PLAINTEXT_LEN; }

/* --- bandwidth, free mode (§13) -------------------------------------------- */
/* A client's allowance: bytes left, valid through UTC day `day` (Unix
 * seconds / 86400). Expired once the day changes. */
struct nym_gw_bandwidth {
	int64_t remaining;
	int64_t day;
};
/* What is available at `now` (0 when expired). */
int64_t nym_gw_bandwidth_available(const struct nym_gw_bandwidth *b, uint64_t now);
/* claimFreeTestnetBandwidth: add `amount` bytes (a real gateway:
 * NYM_GW_FREE_BANDWIDTH, 64 GiB) valid through today. Returns the new total
 * (for the `bandwidth` reply). */
int64_t nym_gw_bandwidth_claim_free(struct nym_gw_bandwidth *b, uint64_t now, int64_t amount);
/* Charge `bytes`: 0, or NYM_EFULL (nothing charged) when not enough. */
int nym_gw_bandwidth_charge(struct nym_gw_bandwidth *b, uint64_t now, int64_t bytes);

#endif
