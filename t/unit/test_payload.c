/* test_payload.c — end-to-end payload encryption: doc/spec/nym-message.md §10.5 known answers,
 * and every official packet of every case decrypted to its recorded fragment
 * (regular packets with the recipient's or the client's own key, replies
 * with the SURB's reply key). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "msgvec.h"
#include "proto/chunking.h"
#include "proto/payload.h"
#include "test.h"

static int n_regular, n_reply, n_bad, n_keyonly;

static void
known_answers(void)
{
	uint8_t rsk[32], esk[32], rpk[32], shared[32], k[16];
	size_t n;
	uint8_t *want;

	memset(rsk, 0x11, 32);
	memset(esk, 0x22, 32);
	nym_x25519_base(rpk, rsk);
	want = t_hex("7b4e909bbe7ffe44c465a220037d608ee35897d31ef972f07f74892cb0f73f13", &n);
	CHECK_MEM(rpk, want, 32, "§10.5 recipient public key");
	free(want);
	nym_x25519(shared, esk, rpk);
	nym_payload_key(k, shared);
	want = t_hex("e2bcb3474659d393b0ad31945bc46dbb", &n);
	CHECK_MEM(k, want, 16, "§10.5 payload key from HKDF-HMAC-BLAKE3");
	free(want);

	/* fragment of "hello", set id 0x12345678 */
	uint8_t frag[1611] = { 0x92, 0x34, 0x56, 0x78, 1, 1, 0, 0, 'h', 'e', 'l', 'l', 'o', 1 };
	uint8_t out[32 + 1611], h[32];
	struct nym_aes128_ctr aes;
	nym_aes128_ctr_init(&aes);
	CHECK(nym_payload_encrypt_with(&aes, out, frag, sizeof frag, rpk, esk) == 0, "encrypt");
	want = t_hex("0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20", &n);
	CHECK_MEM(out, want, 32, "§10.5 ephemeral public key prefix");
	free(want);
	want = t_hex("16de40a8313112780fbf5534b62b093971b590e674cb3f2e724b79a83db30f5a", &n);
	CHECK_MEM(out + 32, want, 32, "§10.5 ciphertext[0:32]");
	free(want);
	nym_sha256(h, out + 32, 1611);
	want = t_hex("a271400354c5b7c905b88d7a12b69fb679a996b132f6b95949e81f2dd8390cdb", &n);
	CHECK_MEM(h, want, 32, "§10.5 SHA-256 of the 1611-byte ciphertext");
	free(want);

	uint8_t back[1611];
	CHECK(nym_payload_decrypt(&aes, back, out, sizeof out, rsk) == 0 && memcmp(back, frag, 1611) == 0,
	      "decrypt with the recipient key gives the fragment back");
	struct nym_fragment f;
	uint8_t other[32];
	memset(other, 0x33, 32);
	CHECK(nym_payload_decrypt(&aes, back, out, sizeof out, other) == 0 && memcmp(back, frag, 1611) != 0,
	      "a wrong recipient key yields garbage, not the fragment");
	/* in place */
	memcpy(out + 32, frag, sizeof frag);
	nym_payload_encrypt_with(NULL, out, out + 32, sizeof frag, rpk, esk);
	nym_sha256(h, out + 32, 1611);
	want = t_hex("a271400354c5b7c905b88d7a12b69fb679a996b132f6b95949e81f2dd8390cdb", &n);
	CHECK_MEM(h, want, 32, "in-place encryption, one-shot AES context");
	free(want);
	(void)f;

	uint8_t rk[16], d[32];
	memset(rk, 0x33, 16);
	nym_reply_key_digest(d, rk);
	want = t_hex("e4ff7576e184ba7cd6a7cd756d1432feea970a4f127c67af092fa763587a015a", &n);
	CHECK_MEM(d, want, 32, "§10.5 reply key digest BLAKE3(33 x 16)");
	free(want);
	CHECK(nym_payload_reply_encrypt(&aes, out, frag, sizeof frag, rk) == 0 && memcmp(out, d, 32) == 0 &&
	      nym_payload_reply_decrypt(&aes, back, out, sizeof out, rk) == 0 && memcmp(back, frag, 1611) == 0,
	      "reply encryption round trip");
	rk[0] ^= 1;
	CHECK(nym_payload_reply_decrypt(&aes, back, out, sizeof out, rk) == NYM_EKEY, "reply with another key: NYM_EKEY");
	CHECK(nym_payload_decrypt(&aes, back, out, 31, rsk) == NYM_ESHORT, "payload shorter than its key: NYM_ESHORT");
	nym_aes128_ctr_free(&aes);
}

/* The encryption secret of whoever "decrypted_with_encryption_key_of" names. */
static int
owner_key(json_t *root, json_t *client, const char *who, uint8_t sk[32])
{
	json_t *c = NULL;
	if (!strcmp(who, "recipient R"))
		c = v_get(root, "clients/recipient") ? v_get(root, "clients/recipient") : v_get(root, "recipient");
	else if (!strcmp(who, "official client"))
		c = client ? client : v_get(root, "clients/sender");
	if (!c)
		return -1;
	v_fix(c, "encryption_secret", sk, 32);
	return 0;
}

static void
check_record(const char *file, json_t *root, json_t *client, json_t *rec, json_t *parent)
{
	json_t *nym = v_get(rec, "nym");
	const char *kind = v_str(nym, "kind");
	size_t dl, gl = 0;
	uint8_t *dec = v_hex(nym, "decrypted", &dl), *push = NULL, *out;
	json_t *hops = v_get(rec, "sphinx/hops");
	json_t *last = json_array_get(hops, json_array_size(hops) - 1);

	if (last && v_get(last, "final_payload")) {
		size_t fl;
		uint8_t *fp = v_hex(last, "final_payload", &fl);
		size_t pl = (size_t)v_int(rec, "sphinx/plaintext_len");
		gl = pl - 405;
		push = malloc(gl);
		memcpy(push, fp + 16 + 405, gl);
		free(fp);
	} else if (parent && v_get(parent, "gateway_push"))
		push = v_hex(parent, "gateway_push", &gl);

	if (!strcmp(kind, "regular")) {
		uint8_t sk[32], epk[32], sh[32], wsh[32], k[16], wk[16];
		v_fix(nym, "ephemeral_public_key", epk, 32);
		v_fix(nym, "x25519_shared", wsh, 32);
		owner_key(root, client, v_str(nym, "decrypted_with_encryption_key_of"), sk);
		nym_x25519(sh, sk, epk);
		nym_payload_key(k, sh);
		int keys_ok = !memcmp(sh, wsh, 32);
		if (v_get(nym, "payload_key")) {
			v_fix(nym, "payload_key", wk, 16);
			keys_ok &= !memcmp(k, wk, 16);
		}
		if (!push) {
			n_keyonly += keys_ok;
			n_bad += !keys_ok;
			if (!keys_ok)
				printf("# %s: payload key differs\n", file);
		} else {
			out = malloc(gl);
			int ok = keys_ok && gl == dl + 32 && !memcmp(push, epk, 32) &&
			         nym_payload_decrypt(NULL, out, push, gl, sk) == 0 && !memcmp(out, dec, dl);
			n_regular += ok;
			n_bad += !ok;
			if (!ok)
				printf("# %s: regular packet does not decrypt\n", file);
			free(out);
		}
	} else {
		uint8_t rk[16], d[32], wd[32];
		v_fix(nym, "reply_key", rk, 16);
		v_fix(nym, "reply_key_digest", wd, 32);
		nym_reply_key_digest(d, rk);
		out = malloc(gl ? gl : 1);
		int ok = push && !memcmp(d, wd, 32) && !memcmp(push, d, 32) &&
		         nym_payload_reply_decrypt(NULL, out, push, gl, rk) == 0 && !memcmp(out, dec, dl);
		n_reply += ok;
		n_bad += !ok;
		if (!ok)
			printf("# %s: reply packet does not decrypt\n", file);
		free(out);
	}
	free(push);
	free(dec);
}

static void
walk(const char *file, json_t *root, json_t *client, json_t *j, json_t *parent)
{
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		json_t *nym = json_object_get(j, "nym");
		if (json_object_get(j, "client") && json_is_object(json_object_get(j, "client")))
			client = json_object_get(j, "client");
		if (nym && json_object_get(nym, "decrypted") && json_object_get(nym, "kind")) {
			check_record(file, root, client, j, parent);
			return;
		}
		json_object_foreach(j, key, v)
			if (strcmp(key, "network") && strcmp(key, "clients"))
				walk(file, root, client, v, j);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			walk(file, root, client, v, parent);
	}
}

static void
vectors(void)
{
	static const char *files[] = {
		"case-a1-plain-1byte.json", "case-a2-plain-100byte.json",
		"case-b-plain-5000byte-multifragment.json", "case-c-anonymous-3surbs.json",
		"case-d1-loop-cover-default.json", "case-d2-loop-cover-legacy-off.json",
		"case-e-send-to-self.json", "case-f-official-reply-through-model-surbs.json",
		"case-g-extended32-3000byte.json", "case-h-linked-sets-409100byte.json",
		"case-i-key-rotation-odd-even.json",
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		json_t *j = v_load(files[i]);
		walk(files[i], j, NULL, j, NULL);
		json_decref(j);
	}
	CHECK(n_bad == 0 && n_regular >= 17 && n_regular + n_keyonly >= 20 && n_reply == 4,
	      "official vectors: %d regular payloads and %d reply payloads decrypt to the recorded fragments, "
	      "%d more (no final payload recorded) match in key derivation, %d failures", n_regular, n_reply, n_keyonly, n_bad);

	/* closed loop of case e: the push the client accepted */
	json_t *j = v_load("case-e-send-to-self.json");
	size_t gl, dl;
	uint8_t *push = v_hex(j, "closed_loop/gateway_push", &gl), sk[32], *out = malloc(gl);
	uint8_t *dec = v_hex(j, "packets/0/nym/decrypted", &dl);
	v_fix(j, "clients/sender/encryption_secret", sk, 32);
	CHECK(nym_payload_decrypt(NULL, out, push, gl, sk) == 0 && gl - 32 == dl && !memcmp(out, dec, dl),
	      "case e: the closed-loop push decrypts with the client's own key");
	/* wrong recipient key: garbage that fails fragment parsing */
	uint8_t rsk[32];
	struct nym_fragment f;
	v_fix(j, "clients/recipient/encryption_secret", rsk, 32);
	CHECK(nym_payload_decrypt(NULL, out, push, gl, rsk) == 0 && memcmp(out, dec, dl) != 0,
	      "case e with the wrong key: not the fragment");
	int pe = nym_fragment_parse(&f, out, gl - 32);
	CHECK(pe < 0 || f.set_id != (uint32_t)v_int(j, "packets/0/nym/fragment/set_id"),
	      "case e with the wrong key: no valid fragment of that set (parse %d)", pe);
	free(push);
	free(out);
	free(dec);
	json_decref(j);
}

int
main(void)
{
	nym_crypto_init();
	known_answers();
	vectors();
	return t_done();
}
