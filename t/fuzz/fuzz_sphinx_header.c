/* fuzz_sphinx_header — Sphinx header processing at a hop.
 * The first input byte picks the mode:
 *   even: the rest is a packet, processed with a fixed node key (almost
 *         always a MAC failure: this exercises the length and MAC paths);
 *   odd:  the rest is a DECRYPTED routing block (300 bytes) and a payload;
 *         the target encrypts and MACs it for a fixed alpha, so processing
 *         gets past the MAC into flag, version, blinding and payload code.
 * Properties: no crash; only the documented errors; a failed packet is left
 * untouched; a forward hop yields the next MAC and routing info from the
 * block, keeps the length, and its payload re-encrypts to the input. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "proto/sphinx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t node_sk[32], alpha[32];
static struct nym_sphinx_secret sec;
static struct nym_sphinx_ctx ctx;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t esk[32];
	(void)argc;
	(void)argv;
	if (nym_crypto_init() < 0 || nym_sphinx_ctx_init(&ctx) < 0)
		return 1;
	for (int i = 0; i < 32; i++) {
		node_sk[i] = (uint8_t)(0x40 + i);
		esk[i] = (uint8_t)(0x90 + i);
	}
	nym_x25519_base(alpha, esk);
	return nym_sphinx_derive(&sec, alpha, 32, node_sk) < 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[40000], copy[40000];
	static const uint8_t zero[16];
	struct nym_sphinx_processed out;
	uint8_t d[360], key[192];
	size_t len;
	int rc;

	if (size < 1 || size > sizeof pkt + 1)
		return 0;
	if (!(data[0] & 1)) {
		len = size - 1;
		memcpy(pkt, data + 1, len);
		memcpy(copy, pkt, len);
		rc = nym_sphinx_process(&ctx, pkt, len, node_sk, &out);
		if (rc != 0 && rc != NYM_ESHORT && rc != NYM_EMAC && rc != NYM_EFLAG)
			abort();
		if (rc != 0 && memcmp(pkt, copy, len) != 0)
			abort();
		return 0;
	}
	/* header = alpha || HMAC(beta) || beta, beta = block ^ PRG */
	if (size < 1 + 300)
		return 0;
	len = 348 + (size - 301);
	memset(d, 0, sizeof d);
	memcpy(d, data + 1, 300);
	memcpy(pkt, alpha, 32);
	nym_aes128_ctr(d, d, 360, sec.okm, zero);
	memcpy(pkt + 48, d, 300);
	{
		uint8_t m[32];
		nym_hmac_sha256(m, sec.okm + 16, 16, pkt + 48, 300);
		memcpy(pkt + 32, m, 16);
	}
	memcpy(pkt + 348, data + 301, size - 301);
	memcpy(copy, pkt, len);
	rc = nym_sphinx_process_secret(&ctx, pkt, len, &sec, &out);
	if (len < NYM_SPHINX_MIN_PACKET) {
		if (rc != NYM_ESHORT)
			abort();
		return 0;
	}
	uint8_t flag = data[1];
	if (flag != 1 && flag != 2) {
		if (rc != NYM_EFLAG || memcmp(pkt, copy, len) != 0)
			abort();
		return 0;
	}
	if (rc != 0 || out.final != (flag == 2) || out.version != (uint16_t)(data[3] << 8 | data[4]))
		abort();
	if (!out.final) {
		/* next gamma and the first 240 bytes of next beta come from the block */
		if (memcmp(pkt + 32, data + 1 + 44, 16) != 0 || memcmp(pkt + 48, data + 1 + 60, 240) != 0 ||
		    memcmp(out.next_hop, data + 1 + 4, 32) != 0 || out.payload_len != len)
			abort();
	} else if (memcmp(out.destination, data + 1 + 4, 32) != 0 ||
	           memcmp(out.identifier, data + 1 + 36, 16) != 0 || out.payload_off != 348) {
		abort();
	}
	/* the payload layer is a permutation: encrypting again restores it */
	nym_sphinx_payload_key(key, out.version, sec.okm);
	nym_lioness_encrypt(pkt + 348, len - 348, key);
	if (memcmp(pkt + 348, copy + 348, len - 348) != 0)
		abort();
	return 0;
}
