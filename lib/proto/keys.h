/* keys.h — key sets and client addresses (doc/spec/nym-message.md §1); their files
 * are io/keyfile.h.
 *
 * Client: Ed25519 identity (32-byte seed), X25519 encryption key (32 raw
 * bytes, clamped when used), 16-byte ack key. Node: Ed25519 identity and X25519
 * sphinx key (with the u32 rotation id it was published under). */
#ifndef NYM_KEYS_H
#define NYM_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"

struct nym_client_keys {
	uint8_t identity_seed[32], identity_pk[32];
	uint8_t encryption_sk[32], encryption_pk[32];
	uint8_t ack_key[16];
};

struct nym_node_keys {
	uint8_t identity_seed[32], identity_pk[32];
	uint8_t sphinx_sk[32], sphinx_pk[32];
	uint32_t sphinx_rotation; /* key rotation id the sphinx key belongs to */
};

/* Which sphinx keys may open a packet that came in a frame with rotation byte
 * `rotation` (framing.h: Unknown, Odd, Even), as nym-node chooses them. A node
 * holds its primary key (rotation id primary_rotation) and maybe a secondary
 * (NULL: none): the previous rotation's key, kept through the transition, or
 * the announced next one. Odd/Even: the key held of that parity (the primary
 * if primary_rotation has it, else the secondary). Unknown (and v7 frames,
 * which carry no rotation): the primary, then the secondary if the primary's
 * MAC fails. Writes the candidates to out in the order to try them; returns
 * how many (1 or 2), 0 when the rotation names a key not held, NYM_EFLAG for
 * a byte that is no rotation. Pure: the mix node and the gateway's final hop
 * both choose with it (io/mixer.h). */
int nym_sphinx_keys_pick(uint8_t rotation, const uint8_t primary[32], uint32_t primary_rotation,
                         const uint8_t *secondary, const uint8_t *out[2]);

/* A client address (Recipient), 96 bytes in binary form:
 * identity pk (32) || encryption pk (32) || gateway identity pk (32). */
struct nym_address {
	uint8_t identity[32];
	uint8_t encryption[32];
	uint8_t gateway[32];
};
#define NYM_ADDRESS_MAX 140 /* 3 * 45 + 2 separators + NUL, rounded */
#define NYM_ADDRESS_WHY_MAX 128 /* room for any reason nym_address_parse gives */

/* Parse "b58(identity).b58(encryption)@b58(gateway)" by the reference
 * parser's rules (Recipient::try_from_base58_string): exactly one '@',
 * exactly one '.' before it, each part base58 of exactly 32 bytes, both
 * Ed25519 keys valid points; checked in that order. No trimming: a stray
 * space or newline is a bad character. On failure returns NYM_EADDR (layout,
 * base58), NYM_EKEY (length, point) and, if why is not NULL, writes a
 * one-line reason such as "gateway key: 'l' at character 97 is not base58". */
NYM_MUST_CHECK int nym_address_parse(struct nym_address *a, const char *s, char *why, size_t whycap);
int nym_address_format(char *out, size_t cap, const struct nym_address *a);
/* The address of a client registered with gateway gw. */
void nym_client_address(struct nym_address *a, const struct nym_client_keys *k,
                        const uint8_t gw[32]);

/* Draw all secrets from rng (identity seed, encryption key, ack key, in the
 * order the official ClientKeys::generate_new draws them) and derive the
 * public keys. A node's sphinx key gets rotation id 0. */
int nym_client_keys_generate(struct nym_client_keys *k, const struct nym_rng *rng);
int nym_node_keys_generate(struct nym_node_keys *k, const struct nym_rng *rng);

#endif
