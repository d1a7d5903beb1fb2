/* aes.h — the AES block function and an AES-128 CTR keystream behind one
 * small interface, for crypto.c (Nym's AES-128-CTR) and gcmsiv.c
 * (AES-256-GCM-SIV). Bytes: a 16- or 32-byte key, 16-byte blocks in and out;
 * the CTR counter is the whole 16-byte IV, big-endian, carrying across all
 * 128 bits (crypto.c cuts the stream where Nym's 64-bit counter wraps).
 *
 * Two backends, one chosen at build time:
 *  - OpenSSL EVP (native builds: AES-NI where the CPU has it);
 *  - BearSSL's constant-time aes_ct64 (-DNYM_AES_BEARSSL: the WebAssembly
 *    build, where OpenSSL would add 1.4 MB and table lookups).
 * A context is not thread-safe: one per thread. */
#ifndef NYM_AES_H
#define NYM_AES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct nym_aes {
	void *ctx;    /* backend context (OpenSSL EVP_CIPHER_CTX *, BearSSL keys) */
	void *cipher; /* OpenSSL: the EVP_CIPHER fetched once; BearSSL: unused */
	int mode;     /* 1 = block (ECB), 2 = CTR */
};

/* Block mode: encrypt whole 16-byte blocks under key (16 or 32 bytes).
 * init allocates; rekey changes the key without allocating. */
int nym_aes_block_init(struct nym_aes *c, const uint8_t *key, size_t keylen);
int nym_aes_block_rekey(struct nym_aes *c, const uint8_t *key, size_t keylen);
/* n blocks of in to out (they may be the same buffer). */
int nym_aes_block(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t n);

/* AES-128-CTR: init allocates once; xor keys it and runs one keystream
 * from iv (128-bit big-endian counter) over len bytes without allocating. */
int nym_aes_ctr_init(struct nym_aes *c);
int nym_aes_ctr_xor(struct nym_aes *c, uint8_t *out, const uint8_t *in, size_t len,
                    const uint8_t key[16], const uint8_t iv[16]);

/* Wipe and release either kind (safe on a zeroed or already freed struct). */
void nym_aes_free(struct nym_aes *c);

/* "openssl" or "bearssl". */
const char *nym_aes_backend(void);

#endif
