/* gcmsiv.h — AES-256-GCM-SIV (RFC 8452), the AEAD of the client<->gateway
 * channel: 32-byte key, 12-byte nonce, 16-byte tag appended after the
 * ciphertext. Built on OpenSSL's AES block cipher with POLYVAL written here
 * (OpenSSL 3.0 has no GCM-SIV). */
#ifndef NYM_GCMSIV_H
#define NYM_GCMSIV_H

#include <stddef.h>
#include <stdint.h>

#define NYM_GCMSIV_KEY_LEN 32
#define NYM_GCMSIV_NONCE_LEN 12
#define NYM_GCMSIV_TAG_LEN 16

/* out receives len + 16 bytes (ciphertext || tag). ad may be NULL. */
int nym_gcmsiv_encrypt(uint8_t *out, const uint8_t *in, size_t len,
                       const uint8_t *ad, size_t adlen,
                       const uint8_t key[32], const uint8_t nonce[12]);
/* in is ciphertext || tag (len >= 16); out receives len - 16 bytes.
 * NYM_EMAC when the tag does not verify (out is then zeroed). */
int nym_gcmsiv_decrypt(uint8_t *out, const uint8_t *in, size_t len,
                       const uint8_t *ad, size_t adlen,
                       const uint8_t key[32], const uint8_t nonce[12]);

#endif
