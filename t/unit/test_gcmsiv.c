/* test_gcmsiv.c — AES-256-GCM-SIV against RFC 8452.
 * Vectors: RFC 8452 Appendix A (POLYVAL), C.2 (AEAD_AES_256_GCM_SIV, all
 * 22) and C.3 (counter wrap), as transcribed in GNU Nettle's
 * testsuite/siv-gcm-test.c; each row was re-checked here against Python
 * `cryptography` 48's AESGCMSIV (an independent implementation). */
#include <sodium.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/gcmsiv.h"
#include "test.h"

static const struct { const char *key, *nonce, *ad, *pt, *res; } V[] = {
	/* C.2 */
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "", "07f5f4169bbf55a8400cd47ea6fd400f" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "0100000000000000", "c2ef328e5c71c83b843122130f7364b761e0b97427e3df28" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "010000000000000000000000", "9aab2aeb3faa0a34aea8e2b18ca50da9ae6559e48fd10f6e5c9ca17e" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "01000000000000000000000000000000",
	  "85a01b63025ba19b7fd3ddfc033b3e76c9eac6fa700942702e90862383c6c366" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "0100000000000000000000000000000002000000000000000000000000000000",
	  "4a6a9db4c8c6549201b9edb53006cba821ec9cf850948a7c86c68ac7539d027fe819e63abcd020b006a976397632eb5d" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "010000000000000000000000000000000200000000000000000000000000000003000000000000000000000000000000",
	  "c00d121893a9fa603f48ccc1ca3c57ce7499245ea0046db16c53c7c66fe717e39cf6c748837b61f6ee3adcee17534ed5"
	  "790bc96880a99ba804bd12c0e6a22cc4" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "", "0100000000000000000000000000000002000000000000000000000000000000"
	      "0300000000000000000000000000000004000000000000000000000000000000",
	  "c2d5160a1f8683834910acdafc41fbb1632d4a353e8b905ec9a5499ac34f96c7e1049eb080883891a4db8caaa1f99dd0"
	  "04d80487540735234e3744512c6f90ce112864c269fc0d9d88c61fa47e39aa08" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "0200000000000000", "1de22967237a813291213f267e3b452f02d01ae33e4ec854" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "020000000000000000000000", "163d6f9cc1b346cd453a2e4cc1a4a19ae800941ccdc57cc8413c277f" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "02000000000000000000000000000000",
	  "c91545823cc24f17dbb0e9e807d5ec17b292d28ff61189e8e49f3875ef91aff7" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "0200000000000000000000000000000003000000000000000000000000000000",
	  "07dad364bfc2b9da89116d7bef6daaaf6f255510aa654f920ac81b94e8bad365aea1bad12702e1965604374aab96dbbc" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "020000000000000000000000000000000300000000000000000000000000000004000000000000000000000000000000",
	  "c67a1f0f567a5198aa1fcc8e3f21314336f7f51ca8b1af61feac35a86416fa47fbca3b5f749cdf564527f2314f42fe25"
	  "03332742b228c647173616cfd44c54eb" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "01", "0200000000000000000000000000000003000000000000000000000000000000"
	        "0400000000000000000000000000000005000000000000000000000000000000",
	  "67fd45e126bfb9a79930c43aad2d36967d3f0e4d217c1e551f59727870beefc98cb933a8fce9de887b1e40799988db1f"
	  "c3f91880ed405b2dd298318858467c895bde0285037c5de81e5b570a049b62a0" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "010000000000000000000000", "02000000", "22b3f4cd1835e517741dfddccfa07fa4661b74cf" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "010000000000000000000000000000000200", "0300000000000000000000000000000004000000",
	  "43dd0163cdb48f9fe3212bf61b201976067f342bb879ad976d8242acc188ab59cabfe307" },
	{ "0100000000000000000000000000000000000000000000000000000000000000", "030000000000000000000000",
	  "0100000000000000000000000000000002000000", "030000000000000000000000000000000400",
	  "462401724b5ce6588d5a54aae5375513a075cfcdf5042112aa29685c912fc2056543" },
	{ "e66021d5eb8e4f4066d4adb9c33560e4f46e44bb3da0015c94f7088736864200", "e0eaf5284d884a0e77d31646",
	  "", "", "169fbb2fbf389a995f6390af22228a62" },
	{ "bae8e37fc83441b16034566b7a806c46bb91c3c5aedb64a6c590bc84d1a5e269", "e4b47801afc0577e34699b9e",
	  "4fbdc66f14", "671fdd", "0eaccb93da9bb81333aee0c785b240d319719d" },
	{ "6545fc880c94a95198874296d5cc1fd161320b6920ce07787f86743b275d1ab3", "2f6d1f0434d8848c1177441f",
	  "6787f3ea22c127aaf195", "195495860f04", "a254dad4f3f96b62b84dc40c84636a5ec12020ec8c2c" },
	{ "d1894728b3fed1473c528b8426a582995929a1499e9ad8780c8d63d0ab4149c0", "9f572c614b4745914474e7c7",
	  "489c8fde2be2cf97e74e932d4ed87d", "c9882e5386fd9f92ec",
	  "0df9e308678244c44bc0fd3dc6628dfe55ebb0b9fb2295c8c2" },
	{ "a44102952ef94b02b805249bac80e6f61455bfac8308a2d40d8c845117808235", "5c9e940fea2f582950a70d5a",
	  "0da55210cc1c1b0abde3b2f204d1e9f8b06bc47f", "1db2316fd568378da107b52b",
	  "8dbeb9f7255bf5769dd56692404099c2587f64979f21826706d497d5" },
	{ "9745b3d1ae06556fb6aa7890bebc18fe6b3db4da3d57aa94842b9803a96e07fb", "6de71860f762ebfbd08284e4",
	  "f37de21c7ff901cfe8a69615a93fdf7a98cad481796245709f", "21702de0de18baa9c9596291b08466",
	  "793576dfa5c0f88729a7ed3c2f1bffb3080d28f6ebb5d3648ce97bd5ba67fd" },
	{ "b18853f68d833640e42a3c02c25b64869e146d7b233987bddfc240871d7576f7", "028ec6eb5ea7e298342a94d4",
	  "9c2159058b1f0fe91433a5bdc20e214eab7fecef4454a10ef0657df21ac7", "b202b370ef9768ec6561c4fe6b7e7296fa85",
	  "857e16a64915a787637687db4a9519635cdd454fc2a154fea91f8363a39fec7d0a49" },
	{ "3c535de192eaed3822a2fbbe2ca9dfc88255e14a661b8aa82cc54236093bbc23", "688089e55540db1872504e1c",
	  "734320ccc9d9bbbb19cb81b2af4ecbc3e72834321f7aa0f70b7282b4f33df23f167541",
	  "ced532ce4159b035277d4dfbb7db62968b13cd4eec",
	  "626660c26ea6612fb17ad91e8e767639edd6c9faee9d6c7029675b89eaf4ba1ded1a286594" },
	/* C.3, counter wrap */
	{ "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
	  "", "000000000000000000000000000000004db923dc793ee6497c76dcc03a98e108",
	  "f3f80f2cf0cb2dd9c5984fcda908456cc537703b5ba70324a6793a7bf218d3eaffffffff000000000000000000000000" },
	{ "0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
	  "", "eb3640277c7ffd1303c7a542d02d3e4c0000000000000000",
	  "18ce4f0b8cb4d0cac65fea8f79257b20888e53e72299e56dffffffff000000000000000000000000" },
};

static void
test_vectors(void)
{
	for (size_t i = 0; i < sizeof V / sizeof V[0]; i++) {
		size_t kl, nl, al, pl, rl;
		uint8_t *key = t_hex(V[i].key, &kl), *nonce = t_hex(V[i].nonce, &nl);
		uint8_t *ad = t_hex(V[i].ad, &al), *pt = t_hex(V[i].pt, &pl), *res = t_hex(V[i].res, &rl);
		uint8_t *out = malloc(rl), *back = malloc(pl + 1);
		const char *sec = i < 22 ? "C.2" : "C.3";
		CHECK(rl == pl + 16 && nym_gcmsiv_encrypt(out, pt, pl, al ? ad : NULL, al, key, nonce) == 0,
		      "RFC 8452 %s #%zu encrypts", sec, i + 1);
		CHECK_MEM(out, res, rl, "RFC 8452 %s #%zu ciphertext||tag (%zu-byte AD, %zu-byte PT)", sec, i + 1, al, pl);
		CHECK(nym_gcmsiv_decrypt(back, res, rl, ad, al, key, nonce) == 0, "RFC 8452 %s #%zu decrypts", sec, i + 1);
		CHECK_MEM(back, pt, pl, "RFC 8452 %s #%zu plaintext back", sec, i + 1);
		/* Tampering anywhere (tag, ciphertext, AD) fails and zeroes out. */
		res[rl - 1] ^= 0x01;
		memset(back, 0xee, pl + 1);
		int r = nym_gcmsiv_decrypt(back, res, rl, ad, al, key, nonce);
		int zeroed = 1;
		for (size_t j = 0; j < pl; j++) zeroed &= back[j] == 0;
		CHECK(r == NYM_EMAC && zeroed, "#%zu flipped tag bit: NYM_EMAC, output zeroed", i + 1);
		res[rl - 1] ^= 0x01;
		if (pl) {
			res[0] ^= 0x80;
			CHECK(nym_gcmsiv_decrypt(back, res, rl, ad, al, key, nonce) == NYM_EMAC,
			      "#%zu flipped ciphertext bit: NYM_EMAC", i + 1);
			res[0] ^= 0x80;
		}
		if (al) {
			ad[al - 1] ^= 0x04;
			CHECK(nym_gcmsiv_decrypt(back, res, rl, ad, al, key, nonce) == NYM_EMAC,
			      "#%zu changed AD: NYM_EMAC", i + 1);
			ad[al - 1] ^= 0x04;
		}
		nonce[11] ^= 1;
		CHECK(nym_gcmsiv_decrypt(back, res, rl, ad, al, key, nonce) == NYM_EMAC,
		      "#%zu other nonce: NYM_EMAC", i + 1);
		free(key); free(nonce); free(ad); free(pt); free(res); free(out); free(back);
	}
}

static void
test_polyval(void)
{
	/* RFC 8452 Appendix A. */
	size_t n;
	uint8_t *h = t_hex("25629347589242761d31f826ba4b757b", &n);
	uint8_t *x = t_hex("4f4f95668c83dfb6401762bb2d01a262d1a24ddd2721d006bbe45f20d3c9f362", &n);
	uint8_t *want = t_hex("f7a3b47b846119fae5b7866cf5e5b77e", &n), out[16];
	nym_gcmsiv_polyval(out, h, x, 32);
	CHECK_MEM(out, want, 16, "RFC 8452 Appendix A POLYVAL(H, X1, X2)");
	free(h); free(x); free(want);
}

static void
test_context(void)
{
	/* The reusable context gives the one-shot bytes, in place too, and
	 * keeps working across many messages (per-message re-keying). */
	uint8_t key[32], nonce[12], msg[2048 + 16], ref[2048 + 16], ad[13];
	randombytes_buf(key, sizeof key);
	randombytes_buf(ad, sizeof ad);
	struct nym_gcmsiv c;
	CHECK(nym_gcmsiv_init(&c, key) == 0, "context init");
	int bad = 0;
	for (int i = 0; i < 50; i++) {
		size_t len = (size_t)(i * 41) % 2049;
		randombytes_buf(nonce, sizeof nonce);
		randombytes_buf(msg, len);
		memcpy(ref, msg, len);
		uint8_t one[2048 + 16];
		nym_gcmsiv_encrypt(one, msg, len, ad, sizeof ad, key, nonce);
		bad += nym_gcmsiv_seal(&c, msg, msg, len, ad, sizeof ad, nonce) != 0; /* in place */
		bad += memcmp(one, msg, len + 16) != 0;
		bad += nym_gcmsiv_open(&c, msg, msg, len + 16, ad, sizeof ad, nonce) != 0;
		bad += memcmp(msg, ref, len) != 0;
	}
	CHECK(bad == 0, "context seal/open in place = one-shot, 50 messages of 0..2048 bytes");
	uint8_t shortbuf[15] = { 0 };
	CHECK(nym_gcmsiv_open(&c, shortbuf, shortbuf, 15, NULL, 0, nonce) == NYM_ESHORT,
	      "ciphertext shorter than a tag is NYM_ESHORT");
	nym_gcmsiv_free(&c);
	nym_gcmsiv_free(&c);
	CHECK(c.master.ctx == NULL && c.derived.ctx == NULL, "free clears the context");
}

int
main(void)
{
	CHECK(nym_crypto_init() == 0, "crypto init");
	test_polyval();
	test_vectors();
	test_context();
	return t_done();
}
