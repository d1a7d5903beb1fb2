/* blake3.h — BLAKE3 (hash mode, any output length), written here because no
 * Debian 12 library has it; HMAC-BLAKE3 and HKDF over it, the KDF of the Nym
 * payload layer and of the gateway handshake (doc/spec/gateway.md §5).
 * HMAC-BLAKE3 is the generic HMAC construction (64-byte block) over plain
 * BLAKE3-256, not BLAKE3's keyed mode. */
#ifndef NYM_BLAKE3_H
#define NYM_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define NYM_BLAKE3_OUT_LEN 32
#define NYM_BLAKE3_BLOCK_LEN 64

/* Incremental state (about 1.8 KiB: the chaining-value stack of a tree of
 * up to 2^54 chunks). Hash mode only; key and flags are internal. */
struct nym_blake3 {
	uint32_t key[8];
	uint32_t cv_stack[54 * 8];
	uint8_t cv_stack_len;
	uint32_t cv[8];
	uint64_t chunk_counter;
	uint8_t buf[64];
	uint8_t buf_len;
	uint8_t blocks_compressed;
	uint8_t flags;
};

void nym_blake3_init(struct nym_blake3 *s);
void nym_blake3_update(struct nym_blake3 *s, const void *in, size_t len);
/* Any output length (extendable output); a shorter output is a prefix of a
 * longer one. s is not changed: final may be called again, or update resumed. */
void nym_blake3_final(const struct nym_blake3 *s, uint8_t *out, size_t outlen);
/* One-shot BLAKE3-256. */
void nym_blake3(uint8_t out[32], const void *in, size_t len);

void nym_hmac_blake3(uint8_t out[32], const uint8_t *key, size_t keylen,
                     const uint8_t *msg, size_t len);
/* RFC 5869 HKDF over HMAC-BLAKE3; salt NULL means 32 zero bytes. */
int nym_hkdf_blake3(uint8_t *okm, size_t okmlen, const uint8_t *salt, size_t saltlen,
                    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen);

#endif
