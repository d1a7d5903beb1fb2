/* payload.c — per-fragment end-to-end encryption (doc/spec/nym-message.md §4.6, §7.5). */
#include <string.h>

#include "base/err.h"
#include "crypto/blake3.h"
#include "proto/payload.h"

static const uint8_t zero_iv[16];

static int
ctr(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *in, size_t len, const uint8_t key[16])
{
	if (aes)
		return nym_aes128_ctr_xor(aes, out, in, len, key, zero_iv);
	return nym_aes128_ctr(out, in, len, key, zero_iv);
}

int
nym_payload_key(uint8_t key[NYM_PAYLOAD_KEY_LEN], const uint8_t shared[32])
{
	return nym_hkdf_blake3(key, NYM_PAYLOAD_KEY_LEN, NULL, 0, shared, 32, NULL, 0);
}

int
nym_payload_encrypt_with(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag, size_t len,
                         const uint8_t recipient_pk[32], const uint8_t e_sk[32])
{
	uint8_t shared[32], k[NYM_PAYLOAD_KEY_LEN], epk[32];
	int e;

	if ((e = nym_x25519_base(epk, e_sk)) < 0)
		return e;
	if ((e = nym_x25519(shared, e_sk, recipient_pk)) < 0)
		goto out;
	if ((e = nym_payload_key(k, shared)) < 0)
		goto out;
	/* frag may sit at out + 32: encrypt before writing the prefix */
	if ((e = ctr(aes, out + NYM_PAYLOAD_PREFIX_LEN, frag, len, k)) < 0)
		goto out;
	memcpy(out, epk, 32);
out:
	nym_wipe(shared, sizeof shared);
	nym_wipe(k, sizeof k);
	return e;
}

int
nym_payload_encrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag, size_t len,
                    const uint8_t recipient_pk[32], const struct nym_rng *rng)
{
	uint8_t esk[32];
	int e;

	if ((e = nym_rng_fill(rng, esk, sizeof esk)) == 0)
		e = nym_payload_encrypt_with(aes, out, frag, len, recipient_pk, esk);
	nym_wipe(esk, sizeof esk);
	return e;
}

int
nym_payload_decrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *in, size_t len,
                    const uint8_t own_sk[32])
{
	uint8_t shared[32], k[NYM_PAYLOAD_KEY_LEN];
	int e;

	if (len < NYM_PAYLOAD_PREFIX_LEN)
		return NYM_ESHORT;
	if ((e = nym_x25519(shared, own_sk, in)) == 0 && (e = nym_payload_key(k, shared)) == 0)
		e = ctr(aes, out, in + NYM_PAYLOAD_PREFIX_LEN, len - NYM_PAYLOAD_PREFIX_LEN, k);
	nym_wipe(shared, sizeof shared);
	nym_wipe(k, sizeof k);
	return e;
}

void
nym_reply_key_digest(uint8_t digest[32], const uint8_t key[NYM_REPLY_KEY_LEN])
{
	nym_blake3(digest, key, NYM_REPLY_KEY_LEN);
}

int
nym_payload_reply_encrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *frag, size_t len,
                          const uint8_t key[NYM_REPLY_KEY_LEN])
{
	uint8_t d[32];
	int e;

	nym_reply_key_digest(d, key);
	if ((e = ctr(aes, out + NYM_PAYLOAD_PREFIX_LEN, frag, len, key)) < 0)
		return e;
	memcpy(out, d, 32);
	return 0;
}

int
nym_payload_reply_decrypt(struct nym_aes128_ctr *aes, uint8_t *out, const uint8_t *in, size_t len,
                          const uint8_t key[NYM_REPLY_KEY_LEN])
{
	uint8_t d[32];

	if (len < NYM_PAYLOAD_PREFIX_LEN)
		return NYM_ESHORT;
	nym_reply_key_digest(d, key);
	if (nym_ct_eq(d, in, 32) != 0)
		return NYM_EKEY;
	return ctr(aes, out, in + NYM_PAYLOAD_PREFIX_LEN, len - NYM_PAYLOAD_PREFIX_LEN, key);
}
