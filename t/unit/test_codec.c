/* test_codec.c — hex, base58, base64, PEM against published vectors:
 * RFC 4648 §10 (base64, base16), Bitcoin Core's base58_encode_decode.json,
 * and the ack-key PEM example of doc/spec/nym-message.md §1.6. */
#include "base/codec.h"
#include "base/err.h"
#include "test.h"

/* Bitcoin Core src/test/data/base58_encode_decode.json (the 256-byte
 * 00..ff case is built below). */
static const char *b58v[][2] = {
	{"", ""},
	{"61", "2g"},
	{"626262", "a3gV"},
	{"636363", "aPEr"},
	{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
	{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
	{"516b6fcd0f", "ABnLTmg"},
	{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
	{"572e4794", "3EFU7m"},
	{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
	{"10c8511e", "Rt5zm"},
	{"00000000000000000000", "1111111111"},
	{"000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
	 "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"},
};
static const char b58_all[] =
	"1cWB5HCBdLjAuqGGReWE3R3CguuwSjw6RHn39s2yuDRTS5NsBgNiFpWgAnEx6VQi8csexkgYw3"
	"mdYrMHr8x9i7aEwP8kZ7vccXWqKDvGv3u1GxFKPuAkn8JCPPGDMf3vMMnbzm6Nh9zh1gcNsMvH"
	"3ZNLmP5fSG6DGbbi2tuwMWPthr4boWwCxf7ewSgNQeacyozhKDDQQ1qL5fQFUW52QKUZDZ5fw3"
	"KXNQJMcNTcaB723LchjeKun7MuGW5qyCBZYzA1KjofN1gYBV3NqyhQJ3Ns746GNuf9N2pQPmHz"
	"4xpnSrrfCvy6TVVz5d4PdrjeshsWQwpZsZGzvbdAdN8MKV5QsBDY";

/* RFC 4648 §10 */
static const char *rfc4648[][3] = {
	{"", "", ""},
	{"f", "Zg==", "66"},
	{"fo", "Zm8=", "666F"},
	{"foo", "Zm9v", "666F6F"},
	{"foob", "Zm9vYg==", "666F6F62"},
	{"fooba", "Zm9vYmE=", "666F6F6261"},
	{"foobar", "Zm9vYmFy", "666F6F626172"},
};

static void
test_hex(void)
{
	char s[64];
	uint8_t b[32];
	for (size_t i = 0; i < sizeof rfc4648 / sizeof *rfc4648; i++) {
		const char *in = rfc4648[i][0], *want = rfc4648[i][2];
		size_t n = strlen(in);
		int r = nym_hex_encode(s, sizeof s, (const uint8_t *)in, n);
		char lower[64];
		for (size_t j = 0; j <= strlen(want); j++)
			lower[j] = (char)(want[j] >= 'A' && want[j] <= 'F' ? want[j] + 32 : want[j]);
		CHECK(r == (int)(2 * n) && !strcmp(s, lower), "hex encode RFC 4648 \"%s\"", in);
		r = nym_hex_decode(b, sizeof b, want, strlen(want));
		CHECK(r == (int)n && !memcmp(b, in, n), "hex decode RFC 4648 %s (upper case)", want);
		r = nym_hex_decode(b, sizeof b, lower, strlen(lower));
		CHECK(r == (int)n && !memcmp(b, in, n), "hex decode %s (lower case)", lower);
	}
	CHECK(nym_hex_decode(b, sizeof b, "abc", 3) == NYM_EENCODING, "hex: odd length rejected");
	CHECK(nym_hex_decode(b, sizeof b, "zz", 2) == NYM_EENCODING, "hex: bad digit rejected");
	CHECK(nym_hex_decode(b, 1, "0000", 4) == NYM_ESIZE, "hex: output too small");
	CHECK(nym_hex_encode(s, 6, (const uint8_t *)"foo", 3) == NYM_ESIZE, "hex: encode needs room for NUL");
}

static void
test_base58(void)
{
	char s[400];
	uint8_t b[300];
	for (size_t i = 0; i < sizeof b58v / sizeof *b58v; i++) {
		size_t n;
		uint8_t *bin = t_hex(b58v[i][0], &n);
		int r = nym_base58_encode(s, sizeof s, bin, n);
		CHECK(r == (int)strlen(b58v[i][1]) && !strcmp(s, b58v[i][1]),
		      "base58 encode %s -> %s", b58v[i][0], b58v[i][1]);
		r = nym_base58_decode(b, sizeof b, b58v[i][1], strlen(b58v[i][1]));
		CHECK(r == (int)n && !memcmp(b, bin, n), "base58 decode %s", b58v[i][1]);
		free(bin);
	}
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	int r = nym_base58_encode(s, sizeof s, all, 256);
	CHECK(r > 0 && !strcmp(s, b58_all), "base58 encode 00..ff");
	r = nym_base58_decode(b, sizeof b, b58_all, strlen(b58_all));
	CHECK(r == 256 && !memcmp(b, all, 256), "base58 decode 00..ff");

	/* Bitcoin Core's base58_tests.cpp also requires these to fail. */
	CHECK(nym_base58_decode(b, sizeof b, "invalid", 7) == NYM_EENCODING, "base58: 'l' rejected");
	CHECK(nym_base58_decode(b, sizeof b, "0OIl", 4) == NYM_EENCODING, "base58: 0 O I l rejected");
	CHECK(nym_base58_decode(b, sizeof b, " 2g", 3) == NYM_EENCODING, "base58: no whitespace");
	CHECK(nym_base58_decode(b, sizeof b, "2g\0", 3) == NYM_EENCODING, "base58: NUL rejected");
	CHECK(nym_base58_invalid_at("abcl0", 5) == 3, "base58_invalid_at finds 'l' at 3");
	CHECK(nym_base58_invalid_at("abc", 3) == -1, "base58_invalid_at: none");

	/* sizes */
	CHECK(nym_base58_encode(s, 2, (const uint8_t *)"a", 1) == NYM_ESIZE, "base58 encode: no room for NUL");
	CHECK(nym_base58_encode(s, 3, (const uint8_t *)"a", 1) == 2, "base58 encode: exact room");
	CHECK(nym_base58_decode(b, 2, "a3gV", 4) == NYM_ESIZE, "base58 decode: output too small");
	CHECK(nym_base58_decode(b, 3, "a3gV", 4) == 3, "base58 decode: exact room");
	CHECK(nym_base58_decode(b, 9, "1111111111", 10) == NYM_ESIZE, "base58 decode: too many leading 1s");

	/* 32-byte keys: lengths vary with leading zero bytes */
	uint8_t k[32], z[32] = {0};
	CHECK(nym_base58_encode(s, sizeof s, z, 32) == 32 && !strcmp(s, "11111111111111111111111111111111"),
	      "base58: 32 zero bytes are 32 '1's");
	CHECK(nym_base58_decode32(k, s) == 32 && !memcmp(k, z, 32), "decode32: all zero key");
	memset(k, 0xff, 32);
	r = nym_base58_encode(s, sizeof s, k, 32);
	CHECK(r == 44 && r < NYM_B58_KEY_MAX, "base58: 32 x ff is 44 chars (%d)", r);
	CHECK(nym_base58_decode32(k, "2g") == NYM_EKEY, "decode32: short -> EKEY");
	CHECK(nym_base58_decode32(k, "1111111111111111111111111111111111") == NYM_EKEY, "decode32: 34 zero bytes -> EKEY");
	CHECK(nym_base58_decode32(k, "5WdCMZXZBkGsXwPqzxwJqf9sSzyRLt3xmhuGDBaXiQh5x") == NYM_EKEY, "decode32: long -> EKEY");
	CHECK(nym_base58_decode32(k, "5WdCMZXZBkGsXwPqzxwJqf9sSzyRLt3xmhuGDBaXiQh0") == NYM_EENCODING, "decode32: bad char -> EENCODING");
	CHECK(nym_base58_decode32(k, "5WdCMZXZBkGsXwPqzxwJqf9sSzyRLt3xmhuGDBaXiQh5") == 32, "decode32: nym-message.md §10.1 identity");
	size_t n;
	uint8_t *want = t_hex("4305849203ec7459fe39839f45b537d00c6c88533a4cabc31f625c4044359cb8", &n);
	CHECK_MEM(k, want, 32, "decode32: nym-message.md §10.1 identity bytes");
	free(want);
}

static void
test_base64(void)
{
	char s[64];
	uint8_t b[64];
	for (size_t i = 0; i < sizeof rfc4648 / sizeof *rfc4648; i++) {
		const char *in = rfc4648[i][0], *want = rfc4648[i][1];
		size_t n = strlen(in);
		int r = nym_base64_encode(s, sizeof s, (const uint8_t *)in, n);
		CHECK(r == (int)strlen(want) && !strcmp(s, want), "base64 encode RFC 4648 \"%s\"", in);
		r = nym_base64_decode(b, sizeof b, want, strlen(want));
		CHECK(r == (int)n && !memcmp(b, in, n), "base64 decode RFC 4648 \"%s\"", want);
	}
	CHECK(NYM_B64_ENCLEN(6) == 9, "B64_ENCLEN counts the NUL");
	int r = nym_base64_decode(b, sizeof b, " Zm9v\r\nYmFy\n ", 13);
	CHECK(r == 6 && !memcmp(b, "foobar", 6), "base64: whitespace skipped");
	CHECK(nym_base64_decode(b, sizeof b, "Zm9vYg", 6) == NYM_EENCODING, "base64: missing padding");
	CHECK(nym_base64_decode(b, sizeof b, "Zg=a", 4) == NYM_EENCODING, "base64: data after '='");
	CHECK(nym_base64_decode(b, sizeof b, "Z===", 4) == NYM_EENCODING, "base64: three '='");
	CHECK(nym_base64_decode(b, sizeof b, "Zh==", 4) == NYM_EENCODING, "base64: non-zero trailing bits");
	CHECK(nym_base64_decode(b, sizeof b, "Zm9=", 4) == NYM_EENCODING, "base64: non-zero trailing bits (1 pad)");
	CHECK(nym_base64_decode(b, sizeof b, "Zm9v*mFy", 8) == NYM_EENCODING, "base64: bad character");
	CHECK(nym_base64_decode(b, sizeof b, "Zm9v-_Fy", 8) == NYM_EENCODING, "base64: url alphabet rejected");
	CHECK(nym_base64_decode(b, 5, "Zm9vYmFy", 8) == NYM_ESIZE, "base64: output too small");
	CHECK(nym_base64_encode(s, 8, (const uint8_t *)"foobar", 6) == NYM_ESIZE, "base64: encode needs NUL room");
}

static const char ack_pem[] =
	"-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n"
	"AAECAwQFBgcICQoLDA0ODw==\r\n"
	"-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n";
#define ACK "AES-128-CTR ACKNOWLEDGEMENTS KEY"

static void
test_pem(void)
{
	uint8_t key[16], got[16];
	char s[512];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;

	int r = nym_pem_encode(s, sizeof s, ACK, key, 16);
	CHECK(r == (int)strlen(ack_pem) && !strcmp(s, ack_pem), "PEM encode: nym-message.md §1.6 ack key, CRLF");
	r = nym_pem_decode(got, 16, ACK, ack_pem, strlen(ack_pem));
	CHECK(r == 16 && !memcmp(got, key, 16), "PEM decode: nym-message.md §1.6 ack key");
	CHECK(nym_pem_encode(s, strlen(ack_pem), ACK, key, 16) == NYM_ESIZE, "PEM encode: no room for NUL");

	const char *lf = "-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\n"
		"AAECAwQFBgcICQoLDA0ODw==\n-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----\n";
	r = nym_pem_decode(got, 16, ACK, lf, strlen(lf));
	CHECK(r == 16 && !memcmp(got, key, 16), "PEM decode: LF line ends");
	const char *noeol = "\n  -----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\n"
		"AAECAwQFBgcI\nCQoLDA0ODw==\n-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----";
	r = nym_pem_decode(got, 16, ACK, noeol, strlen(noeol));
	CHECK(r == 16 && !memcmp(got, key, 16), "PEM decode: split body, leading blank, no final newline");

	/* Wrapping at 64 columns, and a multi-line round trip. */
	uint8_t big[100], big2[100];
	for (int i = 0; i < 100; i++)
		big[i] = (uint8_t)(i * 7);
	r = nym_pem_encode(s, sizeof s, "TEST", big, 100);
	/* 100 bytes = 136 base64 chars = lines of 64, 64, 8 */
	CHECK(r > 0 && strstr(s, "-----BEGIN TEST-----\r\n") == s &&
	      s[22 + 64] == '\r' && s[22 + 66 + 64] == '\r' && s[22 + 132 + 8] == '\r',
	      "PEM encode: 64-column lines with CRLF");
	r = nym_pem_decode(big2, 100, "TEST", s, strlen(s));
	CHECK(r == 100 && !memcmp(big, big2, 100), "PEM: multi-line round trip");

	/* Failures */
	const char *trunc = "-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\nAAECAwQFBgcICQoLDA0ODw==\r\n";
	CHECK(nym_pem_decode(got, 16, ACK, trunc, strlen(trunc)) == NYM_EPEM, "PEM: no END line -> EPEM");
	CHECK(nym_pem_decode(got, 16, ACK, ack_pem, 30) == NYM_EPEM, "PEM: truncated BEGIN -> EPEM");
	CHECK(nym_pem_decode(got, 16, ACK, "", 0) == NYM_EPEM, "PEM: empty -> EPEM");
	CHECK(nym_pem_decode(got, 16, "X25519 PRIVATE KEY", ack_pem, strlen(ack_pem)) == NYM_EPEM,
	      "PEM: wrong label -> EPEM");
	CHECK(nym_pem_decode(got, 16, "AES-128-CTR ACKNOWLEDGEMENTS", ack_pem, strlen(ack_pem)) == NYM_EPEM,
	      "PEM: label prefix is not the label -> EPEM");
	const char *mism = "-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n"
		"AAECAwQFBgcICQoLDA0ODw==\r\n-----END X25519 PRIVATE KEY-----\r\n";
	CHECK(nym_pem_decode(got, 16, ACK, mism, strlen(mism)) == NYM_EPEM, "PEM: END label differs -> EPEM");
	CHECK(nym_pem_decode(got, 15, ACK, ack_pem, strlen(ack_pem)) == NYM_EKEY, "PEM: longer body -> EKEY");
	CHECK(nym_pem_decode(got, 16, ACK, s, strlen(s)) == NYM_EPEM, "PEM: other block -> EPEM");
	r = nym_pem_encode(s, sizeof s, ACK, key, 15);
	CHECK(nym_pem_decode(got, 16, ACK, s, strlen(s)) == NYM_EKEY, "PEM: shorter body -> EKEY");
	const char *garbled = "-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n"
		"AAECAwQ*BgcICQoLDA0ODw==\r\n-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n";
	CHECK(nym_pem_decode(got, 16, ACK, garbled, strlen(garbled)) == NYM_EENCODING, "PEM: garbled body -> EENCODING");
	char twice[600];
	snprintf(twice, sizeof twice, "%s%s", ack_pem, ack_pem);
	CHECK(nym_pem_decode(got, 16, ACK, twice, strlen(twice)) == NYM_EPEM, "PEM: two blocks -> EPEM");
	snprintf(twice, sizeof twice, "junk\n%s", ack_pem);
	CHECK(nym_pem_decode(got, 16, ACK, twice, strlen(twice)) == NYM_EPEM, "PEM: text before -> EPEM");
	const char *hdr = "-----BEGIN AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\nProc-Type: 4,ENCRYPTED\r\n\r\n"
		"AAECAwQFBgcICQoLDA0ODw==\r\n-----END AES-128-CTR ACKNOWLEDGEMENTS KEY-----\r\n";
	CHECK(nym_pem_decode(got, 16, ACK, hdr, strlen(hdr)) == NYM_EPEM, "PEM: headers -> EPEM");
	CHECK(nym_pem_encode(s, sizeof s, "BAD-----LABEL", key, 16) == NYM_EINVAL, "PEM: label with ----- refused");
	CHECK(nym_pem_encode(s, sizeof s, "", key, 16) == NYM_EINVAL, "PEM: empty label refused");
	char lab[64];
	CHECK(nym_pem_label(lab, sizeof lab, ack_pem, strlen(ack_pem)) == (int)strlen(ACK) && !strcmp(lab, ACK),
	      "pem_label finds the label");
	CHECK(nym_pem_label(lab, sizeof lab, "-----BEGIN -----\n", 17) == NYM_EPEM, "pem_label: empty label");
	CHECK(nym_pem_label(lab, sizeof lab, "-----BEGIN X\n-----\n", 19) == NYM_EPEM, "pem_label: unterminated line");
	CHECK(nym_pem_label(lab, sizeof lab, "hello", 5) == NYM_EPEM, "pem_label: not PEM");
	CHECK(nym_pem_label(lab, sizeof lab, "-----BEGIN A\0B-----\n", 20) == NYM_EPEM, "pem_label: NUL in label");
	CHECK(nym_pem_label(lab, 5, ack_pem, strlen(ack_pem)) == NYM_ESIZE, "pem_label: small buffer");
	r = nym_pem_encode(s, sizeof s, "EMPTY", key, 0);
	CHECK(r > 0 && !strcmp(s, "-----BEGIN EMPTY-----\r\n-----END EMPTY-----\r\n"), "PEM: empty body as pem 0.8");
}

int
main(void)
{
	test_hex();
	test_base58();
	test_base64();
	test_pem();
	return t_done();
}
