/* lioness.c — Lioness as in the lioness 0.1.2 crate (see lioness.h). */
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"

static const uint8_t zero_nonce[8];

/* R ^= ChaCha20(L ^ k): the stream key is the left half xored with a subkey. */
static int
stream_step(uint8_t *r, size_t rlen, const uint8_t l[32], const uint8_t k[32])
{
	uint8_t sk[32];
	int rc;

	for (int i = 0; i < 32; i++)
		sk[i] = l[i] ^ k[i];
	rc = nym_chacha20_xor(r, r, rlen, sk, zero_nonce);
	nym_wipe(sk, sizeof sk);
	return rc;
}

/* L ^= BLAKE2b-256(key = k (64 bytes), R). */
static int
hash_step(uint8_t l[32], const uint8_t *r, size_t rlen, const uint8_t k[64])
{
	uint8_t h[32];
	int rc = nym_blake2b_keyed32(h, k, 64, r, rlen);

	for (int i = 0; i < 32; i++)
		l[i] ^= h[i];
	nym_wipe(h, sizeof h);
	return rc;
}

int
nym_lioness_encrypt(uint8_t *b, size_t len, const uint8_t key[NYM_LIONESS_KEY_LEN])
{
	int rc;

	if (len < NYM_LIONESS_MIN_LEN)
		return NYM_ESIZE;
	if ((rc = stream_step(b + 32, len - 32, b, key)) < 0 ||
	    (rc = hash_step(b, b + 32, len - 32, key + 32)) < 0 ||
	    (rc = stream_step(b + 32, len - 32, b, key + 96)) < 0 ||
	    (rc = hash_step(b, b + 32, len - 32, key + 128)) < 0)
		return rc;
	return 0;
}

int
nym_lioness_decrypt(uint8_t *b, size_t len, const uint8_t key[NYM_LIONESS_KEY_LEN])
{
	int rc;

	if (len < NYM_LIONESS_MIN_LEN)
		return NYM_ESIZE;
	if ((rc = hash_step(b, b + 32, len - 32, key + 128)) < 0 ||
	    (rc = stream_step(b + 32, len - 32, b, key + 96)) < 0 ||
	    (rc = hash_step(b, b + 32, len - 32, key + 32)) < 0 ||
	    (rc = stream_step(b + 32, len - 32, b, key)) < 0)
		return rc;
	return 0;
}
