/* gcmsiv.h — AES-256-GCM-SIV (RFC 8452), the AEAD of the client<->gateway
 * channel: 32-byte key, 12-byte nonce, 16-byte tag appended after the
 * ciphertext. Built on OpenSSL's AES block cipher with POLYVAL written here
 * (OpenSSL 3.0 has no GCM-SIV). */
#ifndef NYM_GCMSIV_H
#define NYM_GCMSIV_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/aes.h"

#define NYM_GCMSIV_KEY_LEN 32
#define NYM_GCMSIV_NONCE_LEN 12
#define NYM_GCMSIV_TAG_LEN 16

/* out receives len + 16 bytes (ciphertext || tag). ad may be NULL. */
int nym_gcmsiv_encrypt(uint8_t *out, const uint8_t *in, size_t len,
                       const uint8_t *ad, size_t adlen,
                       const uint8_t key[32], const uint8_t nonce[12]);
/* in is ciphertext || tag (len >= 16); out receives len - 16 bytes.
 * NYM_EMAC when the tag does not verify (out is then zeroed); NYM_ESHORT when
 * len < 16. out may equal in (both directions). */
NYM_MUST_CHECK int nym_gcmsiv_decrypt(uint8_t *out, const uint8_t *in, size_t len,
                                      const uint8_t *ad, size_t adlen,
                                      const uint8_t key[32], const uint8_t nonce[12]);

/* Reusable form for a session key (the gateway channel): init fetches the
 * cipher and keys AES once; seal/open derive the per-nonce keys without
 * allocating; free wipes and releases (safe twice). Same byte layout and
 * errors as the one-shot functions above. One context per thread. */
struct nym_gcmsiv {
	struct nym_aes master;  /* AES-256 under the session key (crypto/aes.h) */
	struct nym_aes derived; /* re-keyed per message */
};
int nym_gcmsiv_init(struct nym_gcmsiv *c, const uint8_t key[32]);
int nym_gcmsiv_seal(struct nym_gcmsiv *c, uint8_t *out, const uint8_t *in, size_t len,
                    const uint8_t *ad, size_t adlen, const uint8_t nonce[12]);
NYM_MUST_CHECK int nym_gcmsiv_open(struct nym_gcmsiv *c, uint8_t *out, const uint8_t *in, size_t len,
                                   const uint8_t *ad, size_t adlen, const uint8_t nonce[12]);
void nym_gcmsiv_free(struct nym_gcmsiv *c);

/* POLYVAL(H, data) of RFC 8452 §3, data zero-padded to whole blocks
 * (exposed for known-answer tests). */
void nym_gcmsiv_polyval(uint8_t out[16], const uint8_t h[16], const uint8_t *data, size_t len);

#endif
