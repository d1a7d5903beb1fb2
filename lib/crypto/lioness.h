/* lioness.h — the Lioness wide-block cipher exactly as the `lioness` 0.1.2
 * crate builds it (ChaCha20 DJB + keyed BLAKE2b-256), the Sphinx payload
 * cipher (doc/spec/sphinx.md §6.2).
 *
 * Key: 192 bytes = K1 (32) || K2 (64) || K3 (32) || K4 (64).
 * Block: L = first 32 bytes, R = the rest (at least 1 byte).
 *   encrypt: R ^= ChaCha20(L^K1); L ^= H(K2,R); R ^= ChaCha20(L^K3); L ^= H(K4,R)
 *   decrypt: the same four steps in reverse order.
 * ChaCha20 is the original variant, nonce 0^8, block counter from 0, a fresh
 * stream per step; H is BLAKE2b keyed with the 64-byte key and a 32-byte
 * digest length (not BLAKE2b-512 truncated).
 * Both functions work in place and allocate nothing; the cipher is a
 * length-preserving permutation and authenticates nothing. */
#ifndef NYM_LIONESS_H
#define NYM_LIONESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_LIONESS_KEY_LEN 192
/* The crate refuses blocks of 32 bytes or less. */
#define NYM_LIONESS_MIN_LEN 33

/* 0, or NYM_ESIZE when len < NYM_LIONESS_MIN_LEN (block untouched). */
int nym_lioness_encrypt(uint8_t *block, size_t len, const uint8_t key[NYM_LIONESS_KEY_LEN]);
NYM_MUST_CHECK int nym_lioness_decrypt(uint8_t *block, size_t len, const uint8_t key[NYM_LIONESS_KEY_LEN]);

#endif
