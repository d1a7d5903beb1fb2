/* test_lioness.c — Lioness against the lioness 0.1.2 crate's own vector
 * (doc/spec/sphinx.md §10.1 T2), round trips and size limits. */
#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "test.h"

static const char *T2_KEY =
	"0f2c69732932c99e56fa50fbb2763ad77ee221fc5d9e6c08f89fc577a7467f1e"
	"e34003440ee2bfbfaac60912b0e547fbe9a6a9292db70bc718c6f2773ab198ac"
	"8f255378f7ea799e1d4b8596079173b6e443c416f13195f1976acc03d53a4b85"
	"81b609df3b7029d5b487051d5ae4189129c045edc8822e1f52e30251e4b322b3"
	"f6d6e8bb0ddb0578dcba41603abf5e51848c84d2082d293f30a645faf4df028e"
	"e2c40853ea33e40b55fca902371dc00dc1e0e77161bd097a59e8368bf99174d9";
static const char *T2_IN =
	"5ac4cb9674a8908915a2b1aaf2043271612531911a26186bd5c811951330753a"
	"0e3259f3fcf52fb86e666ab4d96243e57d73b976611f928d44ad137799016861"
	"576ca0a6b8a8a9e2ea02db71e71c9654e476ca845c44456eba62f11f004b2227"
	"56e485185c446c30b7a05cf9acd53b3131227b428da5c9601664d45ae5c23879"
	"56307961a0680894844190605dce0c86e597105884e151eb8a005eda08ff5891"
	"a6b40bae299cddad979063a9a356f3477feabb9cc7bd80a1e2d6a419fcd8af9e"
	"98f7b193c71bd6056d7634b8c2b8f85920f314554104659e52d9266ddbc2ac40"
	"c1b875f6b00225f832cf310e139ad8cc2568608f0323534fa15a84280e776e7e"
	"1167a001f6e18c49f3cd02c19837da47ac091219ee2fdb4458836db20cbd362b"
	"b65add9b40f2817f666caf19787abc2013737eea8c7552d755a29beba5da3195"
	"6f75fe7628221fe8d0a75da5bee39af956a2246c5a339560dcf029eb76d19196"
	"3354b70142df29ec69930977ce2f0e491513664ce83a8fa75f3e698530cf9daf"
	"bdb90b19745e9257d03d7320c6d306f529eda242cb3f6f452a943f6e1c04eb02"
	"cbb0368d79e49a2b42ac3ff7cd9a5686bfdb90a29322016bbcef5c733f451a9f"
	"4ea7c534116158eb611796d47b83ffe7cd6e6c11d56e2d26c7a386853212a2f9"
	"2efeabc74e8fe69e3d374d7b033d0ec9862221435b14ad534217ad7da50bc236";
static const char *T2_OUT =
	"9eb45ca2ca4d0b6ff05a749511aad1357aa64caf9ce547c7388fe24fd1300fe8"
	"56bb5c396869acd21c45805e6a7c8a1b7f71cc5f0ea9dd0c4ecd4bba9a7a4853"
	"bc352bc9f6562e9907973f91fbcf7c710f5a89abc8eb4489b90e8111cbf85ffd"
	"595d603268ddceb40e39e747a4e7bd5c965585b6964e180bd6ccb9d0fad210c7"
	"f7dd6f90cf6db9bda70d41d3922cedec5ea147ef318de5f34e6fe5bd646859a9"
	"d4171b973b6b58c8d7f94bc9eb293c197f3408a51e3626196e3f6bca625cef90"
	"fa7a3e3713bdaebdda82f48db1a97c9ed5c48bc419dbc3d1f9ef43d1b17dd83c"
	"966bde9d9360b7cdac0871844c27921dcf3bb7edce9fb24661a41a8f92c85029"
	"25f062e9cd2f77c561e5825eae211657652330bc64cd63b18d1014975f167f8b"
	"68d6e702dd3d3547971662238216cc5b07517cc90aaa49a61ee423861cdc49c0"
	"e1f64e086007095a00f8adb0314fd85c88158001202edf2ed43c201176d6141e"
	"469dd89430352a927ee22a41c62c8cfdfd5d592e76793e58a9c63b7fe6dad335"
	"d7acec90727675854d7708358115794e013bb4fdb504c44e21ce500f764fac21"
	"1e8de20b81ca55fc778ace024d2a40045241e71b023ceb519c8c28285c333b9f"
	"90f5e2cde21ca6744e43f89d00545dd34df072c7214f6cbd2123c4b061361460"
	"9961dd855d6d611c3018e4df3550b4e93f33f7c3e8b2c890ca0405c957aa277d";

int
main(void)
{
	size_t kl, il, ol;
	uint8_t *key = t_hex(T2_KEY, &kl), *in = t_hex(T2_IN, &il), *out = t_hex(T2_OUT, &ol);
	uint8_t buf[40000], orig[40000];

	nym_crypto_init();
	CHECK(kl == 192 && il == 512 && ol == 512, "T2 vector sizes");
	memcpy(buf, in, il);
	CHECK(nym_lioness_encrypt(buf, il, key) == 0, "T2 encrypt returns 0");
	CHECK_MEM(buf, out, ol, "T2: lioness 0.1.2 crate vector, encrypt");
	CHECK(nym_lioness_decrypt(buf, il, key) == 0, "T2 decrypt returns 0");
	CHECK_MEM(buf, in, il, "T2: decrypt restores the input");

	/* Round trips at the sizes Sphinx uses (ack 38, regular 2065, 32 KiB)
	 * and the edges (33 = smallest block, 64 = exactly two halves). */
	static const size_t sizes[] = { 33, 34, 64, 65, 38, 2065, 8209, 16401, 32785 };
	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		size_t n = sizes[s];
		for (size_t i = 0; i < n; i++)
			orig[i] = (uint8_t)(i * 7 + s);
		memcpy(buf, orig, n);
		int e = nym_lioness_encrypt(buf, n, key);
		int changed = memcmp(buf, orig, n) != 0;
		int d = nym_lioness_decrypt(buf, n, key);
		CHECK(e == 0 && d == 0 && changed && memcmp(buf, orig, n) == 0,
		      "round trip of %zu bytes", n);
	}
	/* A wide block: a change anywhere changes every part of the output. */
	memcpy(buf, in, il);
	buf[300] ^= 1;
	nym_lioness_encrypt(buf, il, key);
	CHECK(memcmp(buf, out, 32) != 0 && memcmp(buf + 480, out + 480, 32) != 0,
	      "one flipped input bit changes both halves of the output");

	/* T3: the chacha 0.3 crate's doc example, the stream Lioness runs on. */
	{
		uint8_t *ck = t_hex("29fa35608845c6f9d8fe65e3220e5b05034aa09f9e27ad0f6c90a573a810e494", NULL);
		uint8_t *cw = t_hex("de87a5be1d77", NULL), n8[8] = { 0 }, c6[6];
		nym_chacha20_xor(c6, (const uint8_t *)"abcdef", 6, ck, n8);
		CHECK_MEM(c6, cw, 6, "T3: ChaCha20 (DJB, nonce 0) of \"abcdef\"");
		free(ck); free(cw);
	}

	/* Too short: the crate errors for blocks of 32 bytes or less. */
	memset(buf, 0xab, 32);
	CHECK(nym_lioness_encrypt(buf, 32, key) == NYM_ESIZE, "32-byte block refused (encrypt)");
	CHECK(nym_lioness_decrypt(buf, 0, key) == NYM_ESIZE, "empty block refused (decrypt)");
	CHECK(buf[0] == 0xab && buf[31] == 0xab, "refused block left untouched");

	free(key); free(in); free(out);
	return t_done();
}
