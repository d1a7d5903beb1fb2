/* fuzz_payload_decrypt — the receiver path for gateway pushes: ack, reply
 * digest lookup, ephemeral-key decryption, cover check, fragment parsing,
 * reassembly, unpadding and NymMessage parsing.
 * Input: records "mode (u8) || u16 BE length || bytes". Mode bit 0 set: the
 * bytes are a fragment, sealed here with a reply key the receiver holds
 * (so the fuzzer reaches reassembly); clear: the bytes are pushed as they
 * are. Properties: no crash, no leak; what comes out is freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/courier.h"
#include "proto/payload.h"
#include "proto/reply.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the keys of case e's client (t/vectors/case-e-send-to-self.json) */
static struct nym_client_keys keys;

static void
hex(uint8_t *out, const char *s)
{
	for (size_t i = 0; s[2 * i]; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	hex(keys.identity_pk, "a8c7137ae8e598a799eb126bb0630572d4f8bb1fa2489464952a65ccfe88558a");
	hex(keys.encryption_sk, "feb3073626e91d86a30c5080156d39bf97e5f6b6ff8c7c52ce5fd823615f2cac");
	hex(keys.encryption_pk, "01ac1363f451cb366d06c1ec5a5e20abac6d1ebad2114ea1ea23cc11b5fa1a45");
	hex(keys.ack_key, "7d408b0d0544e84630277daca742be65");
	return nym_crypto_init() < 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_reasm_limits lim = { 256 * 1024, 32, 5000 };
	struct nym_reply_keys *store = nym_reply_keys_new(64, 0);
	struct nym_courier_receiver *rx = nym_courier_receiver_new(&keys, store, &lim);
	static const uint8_t rk[16] = "fuzz reply key!";
	struct nym_courier_received out;
	uint8_t *sealed = NULL;
	size_t o = 0, n;
	uint64_t now = 0;

	if (!store || !rx)
		goto done;
	while (o + 3 <= size) {
		int mode = data[o];
		n = (size_t)data[o + 1] << 8 | data[o + 2];
		o += 3;
		if (n > size - o)
			n = size - o;
		if (mode & 1) {
			sealed = realloc(sealed, 32 + n);
			if (!sealed || nym_reply_keys_add(store, rk, now) < 0 ||
			    nym_payload_reply_encrypt(NULL, sealed, data + o, n, rk) < 0)
				break;
			(void)nym_courier_receive(rx, sealed, 32 + n, now, &out);
		} else
			(void)nym_courier_receive(rx, data + o, n, now, &out);
		nym_courier_received_free(&out);
		o += n;
		now += 1000;
	}
done:
	free(sealed);
	nym_courier_receiver_free(rx);
	nym_reply_keys_free(store);
	return 0;
}
