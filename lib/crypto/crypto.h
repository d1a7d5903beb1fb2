/* crypto.h — the primitives every protocol layer is built from.
 *
 * Thin wrappers over libsodium (X25519, Ed25519, SHA-256, HMAC, ChaCha20,
 * BLAKE2b) and OpenSSL libcrypto (AES, only where libsodium has none), plus
 * the unclamped Montgomery ladder that legacy Sphinx blinding needs.
 * All keys and outputs are fixed-size byte strings as they appear on the wire.
 * Functions return 0 or a negative NYM_E* code. */
#ifndef NYM_CRYPTO_H
#define NYM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "crypto/aes.h"

#define NYM_X25519_LEN 32
#define NYM_ED25519_SEED_LEN 32
#define NYM_ED25519_PK_LEN 32
#define NYM_ED25519_SIG_LEN 64
#define NYM_SHA256_LEN 32
#define NYM_AES128_KEY_LEN 16
#define NYM_AES_BLOCK_LEN 16

/* Initialise libsodium (idempotent; call once from main). */
int nym_crypto_init(void);

/* --- X25519 (RFC 7748) ---------------------------------------------------
 * sk is the 32 raw secret bytes, clamped at the moment of use (as
 * x25519-dalek does). An all-zero result is NOT an error (Rust accepts it). */
int nym_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pub[32]);
int nym_x25519_base(uint8_t pub[32], const uint8_t sk[32]);
/* out = clamp(k) (RFC 7748: clear bits 0-2 and 255, set bit 254); out may
 * equal k. */
void nym_x25519_clamp(uint8_t out[32], const uint8_t k[32]);

/* Montgomery ladder with the scalar used as is: no clamping (legacy Sphinx
 * blinding, doc/spec/sphinx.md §3.1: alpha' = Ladder(red(b), alpha)). All 256
 * bits of n count (RFC 7748's loop takes 255; equal for n < 2^255, which
 * every reduced or clamped scalar is); u's top bit is masked. Constant time,
 * our own field arithmetic; n = 0 gives u = 0. X25519(k, u) equals
 * Ladder(clamp(k), u). */
void nym_x25519_unclamped(uint8_t out[32], const uint8_t n[32], const uint8_t u[32]);
/* out = b read as a 256-bit little-endian integer, reduced mod l. */
void nym_scalar_reduce32(uint8_t out[32], const uint8_t b[32]);
/* Arithmetic mod l (the Ed25519 group order) on little-endian scalars,
 * which must already be reduced (< l); out may alias an input. Sphinx
 * creation folds its chain of blinding factors into one scalar with these. */
void nym_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]);
/* out = -a mod l (l - a, and 0 for 0). */
void nym_scalar_negate(uint8_t out[32], const uint8_t a[32]);

/* --- Ed25519, keys as 32-byte seeds as Nym stores them -------------------- */
int nym_ed25519_public(uint8_t pk[32], const uint8_t seed[32]);
int nym_ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t seed[32]);
/* 0 when valid, NYM_EMAC when not. libsodium's rules, which are stricter
 * than dalek's verify for degenerate keys and R (small order, non-canonical
 * encodings); identical for honestly generated keys and signatures. */
NYM_MUST_CHECK int nym_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t pk[32]);
/* 0 when pk decodes as a compressed Edwards point, NYM_EKEY when not: the
 * rule of ed25519-dalek VerifyingKey::from_bytes (curve25519-dalek
 * decompress): y = low 255 bits, non-canonical y >= p taken mod p, point
 * exists iff (y^2-1)/(dy^2+1) is a square; small-order points and x = 0 with
 * the sign bit set are accepted (libsodium's is_valid_point would refuse). */
NYM_MUST_CHECK int nym_ed25519_pk_valid(const uint8_t pk[32]);

/* --- hashes, MACs, KDFs ---------------------------------------------------- */
void nym_sha256(uint8_t out[32], const uint8_t *in, size_t len);
/* HMAC-SHA256 with a key of any length (Sphinx uses 16-byte keys). */
void nym_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                     const uint8_t *msg, size_t len);
/* RFC 5869 HKDF-SHA256, extract then expand; salt may be NULL (zero salt). */
int nym_hkdf_sha256(uint8_t *okm, size_t okmlen, const uint8_t *salt, size_t saltlen,
                    const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen);
/* Keyed BLAKE2b with a 32-byte output (Lioness' hash). */
int nym_blake2b_keyed32(uint8_t out[32], const uint8_t *key, size_t keylen,
                        const uint8_t *in, size_t len);
/* SipHash-2-4 (libsodium's crypto_shorthash): a keyed 64-bit hash for
 * tables whose slots senders must not be able to aim at. Not a MAC. */
void nym_siphash24(uint8_t out[8], const uint8_t *in, size_t len, const uint8_t key[16]);

/* --- stream ciphers -------------------------------------------------------- */
/* AES-128-CTR with a 16-byte IV; out may equal in. The counter is the
 * big-endian low 64 bits of the IV, wrapping without carry into the high 64
 * bits (ctr::Ctr64BE, as Nym and sphinx-packet 0.6 use); identical to a
 * 128-bit counter unless the low half wraps inside one call.
 * One-shot: allocates an OpenSSL context per call (use the context below on
 * hot paths). */
int nym_aes128_ctr(uint8_t *out, const uint8_t *in, size_t len,
                   const uint8_t key[16], const uint8_t iv[16]);
/* Reusable AES-128-CTR for per-packet paths: init allocates the OpenSSL
 * context once; xor re-keys it and runs one keystream from iv without
 * allocating; free releases it (safe on a zeroed or already freed struct).
 * A context is not thread-safe: one per thread. */
struct nym_aes128_ctr {
	struct nym_aes aes; /* crypto/aes.h: OpenSSL natively, BearSSL in wasm */
};
int nym_aes128_ctr_init(struct nym_aes128_ctr *c);
int nym_aes128_ctr_xor(struct nym_aes128_ctr *c, uint8_t *out, const uint8_t *in, size_t len,
                       const uint8_t key[16], const uint8_t iv[16]);
void nym_aes128_ctr_free(struct nym_aes128_ctr *c);
/* Original (DJB) ChaCha20: 32-byte key, 8-byte nonce, block counter from 0. */
int nym_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
                     const uint8_t key[32], const uint8_t nonce[8]);

/* Constant-time comparison: 0 when equal. */
NYM_MUST_CHECK int nym_ct_eq(const uint8_t *a, const uint8_t *b, size_t len);
/* Wipe a secret (sodium_memzero). */
void nym_wipe(void *p, size_t len);

/* The operating system's CSPRNG (libsodium randombytes). */
struct nym_rng nym_rng_system(void);

#endif
