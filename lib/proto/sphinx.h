/* sphinx.h — Sphinx packets byte-compatible with the sphinx-packet 0.6.0
 * crate (doc/spec/sphinx.md): creation and per-hop processing, versions 1 and
 * 257 (legacy, unclamped blinding), 258 and 259 (X25519 blinding; 259
 * derives payload keys from 16-byte seeds).
 *
 * Packet = header (348) || payload (P bytes, P >= 33):
 *   header = alpha (32, X25519 u-coordinate) || gamma (16, truncated
 *            HMAC-SHA256 over beta) || beta (300, encrypted routing info).
 * There is no length field: the size comes from the transport.
 *
 * Per hop, s = X25519(node_sk, alpha) is expanded with HKDF-SHA256 (empty
 * salt, the 97-byte info label) to 288 bytes, the "expanded secret" (OKM):
 *   [0,16) AES-128-CTR key for beta   [16,32) HMAC key for gamma
 *   [32,224) Lioness payload key (1/257/258); [32,48) payload-key seed (259+)
 *   [224,256) blinding factor         [256,288) replay tag
 * beta decrypts (with 60 zero bytes appended) to the routing block:
 *   forward: 01 || 00 vh vl || next address (32) || delay u64 BE ns ||
 *            next gamma (16) || next beta (300)
 *   final:   02 || 00 vh vl || destination (32) || identifier (16) || padding
 * The payload is Lioness-encrypted once per hop; after the last hop it is
 *   0^16 || message || 01 || 0...   (see nym_sphinx_unpad)
 *
 * Processing runs in place on the caller's buffer and allocates nothing.
 * Functions that run AES take a struct nym_sphinx_ctx *, which may be NULL
 * (then each call sets up OpenSSL anew: fine for tools, slow for a node). */
#ifndef NYM_SPHINX_H
#define NYM_SPHINX_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"

#define NYM_SPHINX_ALPHA_LEN 32
#define NYM_SPHINX_MAC_LEN 16
#define NYM_SPHINX_ROUTING_LEN 300
#define NYM_SPHINX_HEADER_LEN 348
#define NYM_SPHINX_ADDR_LEN 32       /* node address and destination */
#define NYM_SPHINX_ID_LEN 16         /* SURB identifier (Nym: all zero) */
#define NYM_SPHINX_MAX_HOPS 5
#define NYM_SPHINX_OKM_LEN 288       /* expanded shared secret */
#define NYM_SPHINX_REPLAY_TAG_LEN 32
#define NYM_SPHINX_PAYLOAD_KEY_LEN 192
#define NYM_SPHINX_SEED_LEN 16
#define NYM_SPHINX_PAYLOAD_OVERHEAD 17 /* 16 zero bytes + the 01 marker */
#define NYM_SPHINX_MIN_PAYLOAD 33      /* Lioness needs more than 32 bytes */
#define NYM_SPHINX_MIN_PACKET (NYM_SPHINX_HEADER_LEN + NYM_SPHINX_MIN_PAYLOAD)

/* Offsets inside the header and the expanded secret. */
#define NYM_SPHINX_OFF_MAC 32
#define NYM_SPHINX_OFF_BETA 48
#define NYM_SPHINX_OKM_STREAM 0
#define NYM_SPHINX_OKM_MAC 16
#define NYM_SPHINX_OKM_PAYLOAD 32
#define NYM_SPHINX_OKM_BLINDING 224
#define NYM_SPHINX_OKM_REPLAY 256

/* Version numbers (wire: 00 || u16 BE; the first byte is ignored on read). */
#define NYM_SPHINX_V1 1      /* legacy blinding, full payload keys */
#define NYM_SPHINX_V257 257  /* legacy blinding, full payload keys */
#define NYM_SPHINX_V258 258  /* X25519 blinding, full payload keys (Nym loop cover) */
#define NYM_SPHINX_V259 259  /* X25519 blinding, seed-derived keys (Nym traffic) */
/* Any other value is processed like 259, as 0.6.0 does. */
int nym_sphinx_version_is_legacy(uint16_t v);    /* 1 and 257 only */
int nym_sphinx_version_full_keys(uint16_t v);    /* 1, 257, 258 */

#define NYM_SPHINX_FLAG_FORWARD 1
#define NYM_SPHINX_FLAG_FINAL 2

/* Per-thread scratch for a node or a sender: a reusable AES context. */
struct nym_sphinx_ctx {
	struct nym_aes128_ctr aes;
};
int nym_sphinx_ctx_init(struct nym_sphinx_ctx *ctx);
void nym_sphinx_ctx_free(struct nym_sphinx_ctx *ctx);

/* ---- processing (what a mix node or gateway does) -------------------- */

/* The secret one hop derives from (node key, alpha). Wipe it after use. */
struct nym_sphinx_secret {
	uint8_t shared[32];                   /* X25519(node_sk, alpha) */
	uint8_t okm[NYM_SPHINX_OKM_LEN];      /* HKDF expansion, layout above */
};

/* okm = HKDF-SHA256(salt "", shared, info label, 288). */
int nym_sphinx_expand(uint8_t okm[NYM_SPHINX_OKM_LEN], const uint8_t shared[32]);
/* The expensive half of processing: one X25519 and the expansion. The
 * replay tag is then s->okm + NYM_SPHINX_OKM_REPLAY: a node may check it
 * before calling nym_sphinx_process_secret. NYM_ESHORT if len < 348. */
int nym_sphinx_derive(struct nym_sphinx_secret *s, const uint8_t *packet, size_t len,
                      const uint8_t node_sk[32]);

/* What one hop learns. */
struct nym_sphinx_processed {
	int final;               /* 0: forward hop, 1: final hop */
	uint16_t version;        /* from the routing block */
	uint8_t flag;            /* NYM_SPHINX_FLAG_FORWARD or _FINAL */
	/* forward hop: */
	uint8_t next_hop[NYM_SPHINX_ADDR_LEN]; /* next node address, as encoded */
	uint64_t delay_ns;
	/* final hop: */
	uint8_t destination[NYM_SPHINX_ADDR_LEN];
	uint8_t identifier[NYM_SPHINX_ID_LEN];
	uint8_t replay_tag[NYM_SPHINX_REPLAY_TAG_LEN];
	/* Forward: the next packet is packet[0..len) (same buffer, same size).
	 * Final: the decrypted, still padded payload is packet[payload_off..
	 * payload_off + payload_len); see nym_sphinx_unpad. */
	size_t payload_off, payload_len;
};

/* Process one hop in place with a secret from nym_sphinx_derive (a node
 * with two rotation keys tries both: a wrong key gives NYM_EMAC).
 * Errors leave the packet untouched: NYM_ESHORT (len < 381), NYM_EMAC
 * (gamma does not verify), NYM_EFLAG (routing flag not 1 or 2). */
NYM_MUST_CHECK int nym_sphinx_process_secret(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                                             const struct nym_sphinx_secret *s,
                                             struct nym_sphinx_processed *out);
/* derive + process_secret; the secret is wiped before returning. */
NYM_MUST_CHECK int nym_sphinx_process(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                                      const uint8_t node_sk[32], struct nym_sphinx_processed *out);

/* ---- creation (what a client does) ------------------------------------ */

struct nym_sphinx_node {
	uint8_t address[NYM_SPHINX_ADDR_LEN]; /* node routing address, padded to 32 */
	uint8_t pubkey[32];                    /* its X25519 sphinx key */
};

struct nym_sphinx_route {
	uint16_t version;
	size_t nhops;                                  /* 1..5 */
	struct nym_sphinx_node hop[NYM_SPHINX_MAX_HOPS];
	uint64_t delay_ns[NYM_SPHINX_MAX_HOPS];       /* delay at hop i; the last is never encoded */
	uint8_t destination[NYM_SPHINX_ADDR_LEN];     /* Nym: recipient's Ed25519 identity */
	uint8_t identifier[NYM_SPHINX_ID_LEN];        /* Nym: all zero */
};

/* The per-hop keys the creator of a header knows (a SURB creator keeps
 * them). payload_key is the Lioness key hop i uses for this version. */
struct nym_sphinx_layer {
	uint8_t mac_key[16];
	uint8_t seed[NYM_SPHINX_SEED_LEN];                   /* OKM[32,48) */
	uint8_t payload_key[NYM_SPHINX_PAYLOAD_KEY_LEN];
};
struct nym_sphinx_layers {
	uint16_t version;
	size_t nhops;
	struct nym_sphinx_layer hop[NYM_SPHINX_MAX_HOPS];
};

/* Build a header for route r. Randomness, in this order: 32 bytes of
 * initial secret x, then the final block's padding (248 - 60(n-1) bytes)
 * — so a recorded packet can be rebuilt byte for byte. layers may be NULL;
 * if not, it receives the per-hop keys (secret: wipe it).
 * NYM_EROUTE for 0 or more than 5 hops. */
int nym_sphinx_header_create(struct nym_sphinx_ctx *ctx, uint8_t header[NYM_SPHINX_HEADER_LEN],
                             struct nym_sphinx_layers *layers,
                             const struct nym_sphinx_route *r, const struct nym_rng *rng);

/* Build a whole packet of len bytes (payload = len - 348) carrying msg.
 * NYM_ESIZE if the payload would be under 33 bytes, NYM_ETOOBIG if
 * msg_len > len - 365, NYM_EROUTE for a bad route. */
int nym_sphinx_create(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t len,
                      const struct nym_sphinx_route *r, const uint8_t *msg, size_t msg_len,
                      const struct nym_rng *rng);

/* ---- payload ----------------------------------------------------------- */

/* payload = 0^16 || msg || 01 || 0... (exactly plen bytes); msg may lie
 * inside payload (memmove). NYM_ESIZE if plen < 33, NYM_ETOOBIG if
 * mlen > plen - 17. */
int nym_sphinx_pad(uint8_t *payload, size_t plen, const uint8_t *msg, size_t mlen);
/* The crate's recover_plaintext: require 16 leading zero bytes, then the
 * message runs up to the LAST 01 byte (bytes after it are not checked).
 * On success *mlen is set and the message is at payload + 16.
 * NYM_EFORMAT if the padding is wrong. */
NYM_MUST_CHECK int nym_sphinx_unpad(const uint8_t *payload, size_t plen, size_t *mlen);

/* The Lioness key for a version: OKM[32,224) for 1/257/258, else
 * HKDF-SHA256(PK_SALT, OKM[32,48), PK_INFO, 192). */
int nym_sphinx_payload_key(uint8_t key[NYM_SPHINX_PAYLOAD_KEY_LEN], uint16_t version,
                           const uint8_t okm[NYM_SPHINX_OKM_LEN]);
int nym_sphinx_seed_key(uint8_t key[NYM_SPHINX_PAYLOAD_KEY_LEN],
                        const uint8_t seed[NYM_SPHINX_SEED_LEN]);
/* Encrypt a padded payload for all hops (keys n-1 down to 0). */
int nym_sphinx_payload_wrap(uint8_t *payload, size_t plen, const struct nym_sphinx_layers *l);
/* Remove the layers of hops from..n-1, as those hops would. */
NYM_MUST_CHECK int nym_sphinx_payload_unwrap(uint8_t *payload, size_t plen, const struct nym_sphinx_layers *l,
                                             size_t from);
/* Which hop of l a header is addressed to (its gamma verifies under that
 * hop's MAC key): 0..n-1, or NYM_ENOTFOUND. */
NYM_MUST_CHECK int nym_sphinx_layers_find(const struct nym_sphinx_layers *l, const uint8_t header[NYM_SPHINX_HEADER_LEN]);

#endif
