/* payload.h — end-to-end encryption of one fragment (doc/spec/nym-message.md
 * §4.6, §4.8, §7.5–7.6). What the recipient's gateway pushes to the client
 * (a regular packet's Sphinx plaintext after the 405-byte ack block) is
 *
 *   regular:  e_pk (32) || AES-128-CTR(k, IV = 0^16, fragment)
 *             k = HKDF over HMAC-BLAKE3 (no salt, info "", 16 bytes) of
 *                 X25519(e_sk, recipient encryption key); e_sk fresh per packet
 *   reply:    BLAKE3-256(reply_key) (32) || AES-128-CTR(reply_key, 0^16, fragment)
 *
 * There is no MAC: a wrong key yields garbage that fails fragment parsing.
 * A receiver first looks the 32-byte prefix up among the digests of reply
 * keys it holds (lib/proto/reply.h) and only then treats it as an ephemeral key.
 *
 * Every function takes a struct nym_aes128_ctr * (reusable, no allocation
 * per call), or NULL for a one-shot context. */
#ifndef NYM_PAYLOAD_H
#define NYM_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"

#define NYM_PAYLOAD_PREFIX_LEN 32 /* ephemeral public key or reply-key digest */
#define NYM_PAYLOAD_KEY_LEN 16
#define NYM_REPLY_KEY_LEN 16

/* k = HKDF-BLAKE3(salt none, ikm shared, info "", 16). */
int nym_payload_key(uint8_t key[NYM_PAYLOAD_KEY_LEN], const uint8_t shared[32]);

/* out (32 + len bytes) = e_pk || ciphertext of frag, e_sk = 32 rng bytes.
 * frag may equal out + 32 (in place). */
int nym_payload_encrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag, size_t len,
                        const uint8_t recipient_pk[32], const struct nym_rng *rng);
/* Encrypt with a given ephemeral secret (tests, replay of vectors). */
int nym_payload_encrypt_with(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag,
                             size_t len, const uint8_t recipient_pk[32], const uint8_t e_sk[32]);
/* in = e_pk || ct (len >= 32); writes len - 32 bytes to out (out may equal
 * in + 32). NYM_ESHORT. */
NYM_MUST_CHECK int nym_payload_decrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *in, size_t len,
                                       const uint8_t own_sk[32]);

/* BLAKE3-256 of a reply key: the prefix of reply payloads. */
void nym_reply_key_digest(uint8_t digest[32], const uint8_t key[NYM_REPLY_KEY_LEN]);
/* out (32 + len) = digest || AES-128-CTR(key, 0, frag); frag may be out + 32. */
int nym_payload_reply_encrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag,
                              size_t len, const uint8_t key[NYM_REPLY_KEY_LEN]);
/* in = digest || ct; NYM_EKEY when the digest is not key's; writes len-32. */
NYM_MUST_CHECK int nym_payload_reply_decrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *in,
                                             size_t len, const uint8_t key[NYM_REPLY_KEY_LEN]);

#endif
