/* keys.h — key sets, key files and client addresses (spec/nym-message.md §1).
 *
 * Client: Ed25519 identity (32-byte seed), X25519 encryption key (32 raw
 * bytes, clamped when used), 16-byte ack key. Node: Ed25519 identity and X25519
 * sphinx key. Files are PEM as the official clients write them, mode 0600,
 * written atomically (temp file + rename). */
#ifndef NYM_KEYS_H
#define NYM_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define NYM_PEM_ED25519_PRIVATE "ED25519 PRIVATE KEY"
#define NYM_PEM_ED25519_PUBLIC "ED25519 PUBLIC KEY"
#define NYM_PEM_X25519_PRIVATE "X25519 PRIVATE KEY"
#define NYM_PEM_X25519_PUBLIC "X25519 PUBLIC KEY"
#define NYM_PEM_ACK_KEY "AES-128-CTR ACKNOWLEDGEMENTS KEY"

struct nym_client_keys {
	uint8_t identity_seed[32], identity_pk[32];
	uint8_t encryption_sk[32], encryption_pk[32];
	uint8_t ack_key[16];
};

struct nym_node_keys {
	uint8_t identity_seed[32], identity_pk[32];
	uint8_t sphinx_sk[32], sphinx_pk[32];
};

/* A client address (Recipient), 96 bytes in binary form:
 * identity pk (32) || encryption pk (32) || gateway identity pk (32). */
struct nym_address {
	uint8_t identity[32];
	uint8_t encryption[32];
	uint8_t gateway[32];
};
#define NYM_ADDRESS_MAX 140 /* 3 * 45 + 2 separators + NUL, rounded */

/* Parse "b58(identity).b58(encryption)@b58(gateway)" by the reference
 * parser's rules. On failure returns NYM_EADDR (or NYM_EKEY) and, if why is
 * not NULL, points it at a static one-line reason. */
int nym_address_parse(struct nym_address *a, const char *s, const char **why);
int nym_address_format(char *out, size_t cap, const struct nym_address *a);

int nym_client_keys_generate(struct nym_client_keys *k, const struct nym_rng *rng);
int nym_node_keys_generate(struct nym_node_keys *k, const struct nym_rng *rng);

/* Read one PEM key file of exactly len bytes under label. NYM_EIO (errno
 * set), NYM_EPEM, NYM_EKEY. */
int nym_keyfile_read(const char *path, const char *label, uint8_t *out, size_t len);
/* Write atomically with mode 0600; parent directories are created. */
int nym_keyfile_write(const char *path, const char *label, const uint8_t *key, size_t len);

#endif
