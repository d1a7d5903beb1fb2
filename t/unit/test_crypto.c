/* test_crypto.c — known-answer tests for lib/crypto.
 * Every expected value below is either published (the source is named next to
 * it) or produced by an independent oracle that is named (Python's hashlib /
 * hmac, or a Python big-integer evaluation of the curve equation). */
#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "test.h"

/* Compare a buffer against a hex literal. */
static void
check_hex(const uint8_t *got, const char *want_hex, const char *what)
{
	size_t n;
	uint8_t *want = t_hex(want_hex, &n);
	CHECK_MEM(got, want, n, "%s", what);
	free(want);
}

static uint8_t *
hexdup(const char *s, size_t *n)
{
	return t_hex(s, n);
}

/* --- X25519 ------------------------------------------------------------- */

static void
test_x25519(void)
{
	uint8_t out[32], out2[32];
	size_t n;

	/* RFC 7748 §5.2, the two single-shot vectors (the second u has its top
	 * bit set: it must be masked). */
	struct { const char *k, *u, *r; } v52[] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	for (size_t i = 0; i < 2; i++) {
		uint8_t *k = hexdup(v52[i].k, &n), *u = hexdup(v52[i].u, &n);
		CHECK(nym_x25519(out, k, u) == 0, "RFC 7748 5.2 #%zu returns 0", i + 1);
		check_hex(out, v52[i].r, "RFC 7748 5.2 X25519 vector");
		/* The same through our own ladder: Ladder(clamp(k), u). */
		uint8_t c[32];
		nym_x25519_clamp(c, k);
		k[0] &= 248; k[31] &= 127; k[31] |= 64;
		CHECK_MEM(c, k, 32, "nym_x25519_clamp #%zu clears bits 0-2 and 255, sets 254", i + 1);
		nym_x25519_clamp(c, c);
		CHECK_MEM(c, k, 32, "nym_x25519_clamp #%zu in place, idempotent", i + 1);
		nym_x25519_unclamped(out2, k, u);
		check_hex(out2, v52[i].r, "RFC 7748 5.2 via unclamped ladder on clamp(k)");
		free(k); free(u);
	}

	/* RFC 7748 §5.2 iterated: k = u = 9; after 1 and 1000 iterations. */
	uint8_t k[32] = { 9 }, u[32] = { 9 }, t[32];
	for (int i = 1; i <= 1000; i++) {
		nym_x25519(t, k, u);
		memcpy(u, k, 32);
		memcpy(k, t, 32);
		if (i == 1)
			check_hex(k, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
			          "RFC 7748 5.2 iterated x1");
	}
	check_hex(k, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	          "RFC 7748 5.2 iterated x1000");

	/* RFC 7748 §6.1 Diffie-Hellman. */
	uint8_t *ask = hexdup("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &n);
	uint8_t *bsk = hexdup("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", &n);
	uint8_t apk[32], bpk[32], s1[32], s2[32];
	CHECK(nym_x25519_base(apk, ask) == 0 && nym_x25519_base(bpk, bsk) == 0, "6.1 base mults succeed");
	check_hex(apk, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "RFC 7748 6.1 Alice pk");
	check_hex(bpk, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "RFC 7748 6.1 Bob pk");
	nym_x25519(s1, ask, bpk);
	nym_x25519(s2, bsk, apk);
	check_hex(s1, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "RFC 7748 6.1 shared (Alice)");
	check_hex(s2, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "RFC 7748 6.1 shared (Bob)");
	free(ask); free(bsk);

	/* doc/spec/sphinx.md §10.1 T4: the crate's fixed node key pairs. */
	struct { const char *sk, *pk; } t4[] = {
		{ "ca25be395a24942825cbcfe50550084de35f43142f53dc22a4cf05d461978ea8",
		  "695bd292f59b1ba9c07b4b7913cc3bbbbe968376974db490fd5806d43f053307" },
		{ "821f00538b10e1ef84827a12d9bb5b57fa8998dcfe99f6f9fc2b99bf98309aaa",
		  "b22f62b367c710f52355093f8ad453e9a91fcd1449ee8dcc1323e28a2c43e12e" },
		{ "74cc6cba4be9e8164f4241b0c4f6fd1e85996de585b1282aaf485046a107bb9b",
		  "155d0450b2b107dac0d53a9deff28b2d4b1ae136ae159f193e57bb2e5cf68851" },
	};
	for (size_t i = 0; i < 3; i++) {
		uint8_t *sk = hexdup(t4[i].sk, &n);
		nym_x25519_base(out, sk);
		check_hex(out, t4[i].pk, "sphinx T4 node key pair");
		free(sk);
	}

	/* Low-order input: libsodium refuses, Rust computes all zeros; so do we. */
	uint8_t zero[32] = { 0 }, one[32] = { 1 };
	memset(out, 0xaa, 32);
	CHECK(nym_x25519(out, k, zero) == 0 && memcmp(out, zero, 32) == 0,
	      "X25519 with u = 0 gives all zeros and returns 0");
	memset(out, 0xaa, 32);
	CHECK(nym_x25519(out, k, one) == 0 && memcmp(out, zero, 32) == 0,
	      "X25519 with u = 1 (order 4 point) gives all zeros and returns 0");

	/* Ladder(clamp(k), u) == X25519(k, u) for random k, u. */
	int bad = 0;
	for (int i = 0; i < 200; i++) {
		uint8_t rk[32], ru[32], ck[32];
		randombytes_buf(rk, 32);
		randombytes_buf(ru, 32);
		nym_x25519(out, rk, ru);
		memcpy(ck, rk, 32);
		ck[0] &= 248; ck[31] &= 127; ck[31] |= 64;
		nym_x25519_unclamped(out2, ck, ru);
		bad += memcmp(out, out2, 32) != 0;
	}
	CHECK(bad == 0, "Ladder(clamp(k), u) == X25519(k, u) for 200 random pairs (%d differ)", bad);

	/* Unclamped ladder edge scalars: 0 -> u = 0 (identity), 1 -> u itself. */
	uint8_t nine[32] = { 9 }, n0[32] = { 0 }, n1[32] = { 1 };
	nym_x25519_unclamped(out, n0, nine);
	CHECK(memcmp(out, zero, 32) == 0, "Ladder(0, 9) is the identity (u = 0)");
	nym_x25519_unclamped(out, n1, nine);
	CHECK(memcmp(out, nine, 32) == 0, "Ladder(1, 9) = 9");
}

/* --- scalar reduction ----------------------------------------------------- */

static void
test_scalar(void)
{
	uint8_t out[32];
	/* l = 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1). */
	const char *l = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
	size_t n;
	uint8_t *lb = hexdup(l, &n);
	nym_scalar_reduce32(out, lb);
	check_hex(out, "0000000000000000000000000000000000000000000000000000000000000000", "l mod l = 0");
	lb[0]++; /* l + 1 */
	nym_scalar_reduce32(out, lb);
	check_hex(out, "0100000000000000000000000000000000000000000000000000000000000000", "(l + 1) mod l = 1");
	free(lb);
	/* 2^256 - 1 mod l; oracle: Python int arithmetic ((1 << 256) - 1) % l. */
	uint8_t ff[32];
	memset(ff, 0xff, 32);
	nym_scalar_reduce32(out, ff);
	check_hex(out, "1c95988d7431ecd670cf7d73f45befc6feffffffffffffffffffffffffffff0f",
	          "(2^256 - 1) mod l (Python oracle)");

	/* mul and negate mod l: 8 * 8^-1 = 1, -1 = l - 1, -0 = 0, aliasing. */
	uint8_t eight[32] = { 8 }, one[32] = { 1 }, zero[32] = { 0 }, inv8[32];
	size_t m;
	uint8_t *iv = hexdup("792fdce229e50661d0da1c7db39dd30700000000000000000000000000000006", &m);
	memcpy(inv8, iv, 32);
	free(iv);
	nym_scalar_mul(out, eight, inv8);
	check_hex(out, "0100000000000000000000000000000000000000000000000000000000000000", "8 * 8^-1 mod l = 1");
	nym_scalar_negate(out, one);
	check_hex(out, "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", "-1 mod l = l - 1");
	nym_scalar_negate(out, zero);
	check_hex(out, "0000000000000000000000000000000000000000000000000000000000000000", "-0 mod l = 0");
	memcpy(out, eight, 32);
	nym_scalar_mul(out, out, out);
	nym_scalar_mul(out, out, inv8);
	check_hex(out, "0800000000000000000000000000000000000000000000000000000000000000",
	          "8 * 8 * 8^-1 = 8, in place");
}

/* --- legacy Sphinx blinding against the v257 model vector ---------------- */

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	if (!s) { printf("Bail out! vector field %s missing\n", k); exit(1); }
	return s;
}

static void
test_legacy_vectors(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/model-legacy-v257-v258.json", t_vectors());
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	if (!root) { printf("Bail out! %s: %s\n", path, jerr.text); exit(1); }
	json_t *nodes = json_object_get(json_object_get(root, "network"), "nodes");
	json_t *vecs = json_object_get(root, "vectors");
	static const uint8_t info97[] =
		"Dwste mou enan moxlo arketa makru kai ena upomoxlio gia na ton topothetisw "
		"kai tha kinisw thn gh.";
	size_t vi;
	json_t *v;
	json_array_foreach(vecs, vi, v) {
		int version = (int)json_integer_value(json_object_get(v, "version"));
		json_t *hops = json_object_get(json_object_get(json_object_get(v, "packet"), "sphinx"), "hops");
		size_t n;
		uint8_t *x = hexdup(jstr(v, "initial_secret_x"), &n);
		uint8_t acc[32], alpha0[32], nine[32] = { 9 };
		size_t hi;
		json_t *h;
		if (version == 257) {
			/* alpha_0 = Ladder(red(x), 9) (doc/spec/sphinx.md §3.5 legacy). */
			nym_scalar_reduce32(acc, x);
			nym_x25519_unclamped(alpha0, acc, nine);
		} else {
			nym_x25519_base(alpha0, x);
		}
		check_hex(alpha0, jstr(json_array_get(hops, 0), "alpha"),
		          version == 257 ? "v257 alpha_0 = Ladder(red(x), 9)" : "v258 alpha_0 = X25519(x, 9)");
		free(x);
		json_array_foreach(hops, hi, h) {
			int node_id = (int)json_integer_value(json_object_get(h, "node_id"));
			json_t *node = NULL, *nd;
			size_t ni;
			json_array_foreach(nodes, ni, nd)
				if (json_integer_value(json_object_get(nd, "node_id")) == node_id)
					node = nd;
			if (!node) { printf("Bail out! node %d missing\n", node_id); exit(1); }
			size_t nsk, nalpha;
			uint8_t *sk = hexdup(jstr(node, "sphinx_secret"), &nsk);
			uint8_t *alpha = hexdup(jstr(h, "alpha"), &nalpha);
			uint8_t s[32] = {0}, okm[288], b[32], next[32];
			/* the DH runs only on a 32-byte key and alpha (no read past a short one) */
			CHECK(nsk == 32 && nalpha == 32 && nym_x25519(s, sk, alpha) == 0,
			      "v%d hop %zu: node key and alpha are 32 bytes; DH computed", version, hi);
			check_hex(s, jstr(h, "shared_secret"), "hop shared secret = X25519(sk_node, alpha)");
			nym_hkdf_sha256(okm, sizeof okm, NULL, 0, s, 32, info97, sizeof info97 - 1);
			check_hex(okm, jstr(h, "expanded_shared_secret"), "hop OKM = HKDF-SHA256(s, INFO_97, 288)");
			json_t *na = json_object_get(h, "next_alpha");
			if (json_is_string(na)) {
				if (version == 257) {
					nym_scalar_reduce32(b, okm + 224);
					nym_x25519_unclamped(next, b, alpha);
					check_hex(next, json_string_value(na), "v257 next_alpha = Ladder(red(b), alpha)");
				} else {
					nym_x25519(next, okm + 224, alpha);
					check_hex(next, json_string_value(na), "v258 next_alpha = X25519(b, alpha)");
				}
			}
			free(sk); free(alpha);
		}
		if (version == 257) {
			/* The negative test recorded in the vector: clamped blinding
			 * gives the wrong next alpha. */
			json_t *h0 = json_array_get(hops, 0);
			uint8_t *alpha = hexdup(jstr(h0, "alpha"), &n);
			uint8_t *okm = hexdup(jstr(h0, "expanded_shared_secret"), &n);
			uint8_t *want = hexdup(jstr(h0, "next_alpha"), &n);
			uint8_t wrong[32];
			nym_x25519(wrong, okm + 224, alpha);
			CHECK(memcmp(wrong, want, 32) != 0, "v257: clamped X25519 blinding does NOT give next_alpha");
			free(alpha); free(okm); free(want);
		}
	}
	json_decref(root);
}

/* --- Ed25519 -------------------------------------------------------------- */

static void
test_ed25519(void)
{
	/* RFC 8032 §7.1 TEST 1..3 (secret key = 32-byte seed). */
	struct { const char *seed, *pk, *msg, *sig; } v[] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
		  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	};
	for (size_t i = 0; i < 3; i++) {
		size_t n, ml;
		uint8_t *seed = hexdup(v[i].seed, &n), *msg = hexdup(v[i].msg, &ml);
		uint8_t pk[32], sig[64];
		CHECK(nym_ed25519_public(pk, seed) == 0, "RFC 8032 TEST %zu public key derives", i + 1);
		check_hex(pk, v[i].pk, "RFC 8032 public key");
		CHECK(nym_ed25519_sign(sig, msg, ml, seed) == 0, "RFC 8032 TEST %zu signs", i + 1);
		check_hex(sig, v[i].sig, "RFC 8032 signature");
		CHECK(nym_ed25519_verify(sig, msg, ml, pk) == 0, "RFC 8032 TEST %zu verifies", i + 1);
		sig[0] ^= 1;
		CHECK(nym_ed25519_verify(sig, msg, ml, pk) == NYM_EMAC, "flipped signature bit is NYM_EMAC");
		sig[0] ^= 1;
		uint8_t other[3] = { 1, 2, 3 };
		CHECK(nym_ed25519_verify(sig, other, 3, pk) == NYM_EMAC, "other message is NYM_EMAC");
		CHECK(nym_ed25519_pk_valid(pk) == 0, "RFC 8032 public key decompresses");
		free(seed); free(msg);
	}

	/* Point decoding as ed25519-dalek's VerifyingKey::from_bytes: accept iff
	 * (y^2 - 1)/(d y^2 + 1) is a square mod p, with y the low 255 bits taken
	 * mod p. Oracle: a Python big-integer evaluation of that rule (Euler's
	 * criterion), which says y = 2, 7, 8 are not on the curve and 3, 4, 9 are. */
	uint8_t p[32] = { 0 };
	p[0] = 1;
	CHECK(nym_ed25519_pk_valid(p) == 0, "identity (y = 1) accepted, as dalek does");
	CHECK(crypto_core_ed25519_is_valid_point(p) == 0,
	      "libsodium is_valid_point rejects the identity (why we do our own check)");
	p[31] = 0x80;
	CHECK(nym_ed25519_pk_valid(p) == 0, "y = 1 with sign bit set (x = 0, 'negative zero') accepted");
	memset(p, 0, 32);
	CHECK(nym_ed25519_pk_valid(p) == 0, "y = 0 (a point of order 4) accepted");
	size_t n;
	uint8_t *pm1 = hexdup("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", &n);
	CHECK(nym_ed25519_pk_valid(pm1) == 0, "y = p - 1 (order 2 point) accepted");
	free(pm1);
	uint8_t *pp1 = hexdup("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", &n);
	CHECK(nym_ed25519_pk_valid(pp1) == 0, "non-canonical y = p + 1 accepted (as y = 1)");
	free(pp1);
	static const int on[] = { 3, 4, 5, 6, 9 }, off[] = { 2, 7, 8 };
	for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
		memset(p, 0, 32);
		p[0] = (uint8_t)on[i];
		CHECK(nym_ed25519_pk_valid(p) == 0, "y = %d decompresses (Python oracle)", on[i]);
	}
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		memset(p, 0, 32);
		p[0] = (uint8_t)off[i];
		CHECK(nym_ed25519_pk_valid(p) == NYM_EKEY, "y = %d is not on the curve (Python oracle)", off[i]);
	}
	/* Agreement with libsodium on random bytes wherever libsodium accepts
	 * (it takes only canonical prime-order points, ~1/16 of random strings). */
	int disagree = 0, accepted = 0;
	for (int i = 0; i < 4000; i++) {
		uint8_t r[32];
		randombytes_buf(r, 32);
		if (crypto_core_ed25519_is_valid_point(r)) {
			accepted++;
			disagree += nym_ed25519_pk_valid(r) != 0;
		}
	}
	CHECK(disagree == 0 && accepted > 100,
	      "every point libsodium accepts decompresses here too (%d of %d)", accepted - disagree, accepted);
}

/* --- hashes, MACs, KDFs --------------------------------------------------- */

static void
test_sha256(void)
{
	uint8_t out[32];
	/* FIPS 180-2 Appendix B examples. */
	nym_sha256(out, (const uint8_t *)"abc", 3);
	check_hex(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256(\"abc\")");
	const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	nym_sha256(out, (const uint8_t *)m2, strlen(m2));
	check_hex(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "SHA-256(448-bit message)");
	uint8_t *a = malloc(1000000);
	memset(a, 'a', 1000000);
	nym_sha256(out, a, 1000000);
	check_hex(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "SHA-256(a x 10^6)");
	free(a);
	nym_sha256(out, (const uint8_t *)"", 0);
	check_hex(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256(\"\")");
}

static void
test_hmac(void)
{
	/* RFC 4231 §4.2-4.8, HMAC-SHA-256 (TC5 is truncated to 128 bits). */
	struct { const char *key, *data, *mac; } v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
		  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		  "dddddddddddddddddddddddddddddddddddd",
		  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		  "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
		{ "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
		  "a3b6167473100ee06e0c796c2955552b" },
		{ NULL, "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
		        "65204b6579202d2048617368204b6579204669727374",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
		{ NULL, "5468697320697320612074657374207573696e672061206c6172676572207468"
		        "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
		        "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
		        "647320746f20626520686173686564206265666f7265206265696e6720757365"
		        "642062792074686520484d414320616c676f726974686d2e",
		  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	};
	uint8_t big[131];
	memset(big, 0xaa, sizeof big);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t kl = sizeof big, dl, ml;
		uint8_t *key = v[i].key ? hexdup(v[i].key, &kl) : big;
		uint8_t *data = hexdup(v[i].data, &dl), *mac = hexdup(v[i].mac, &ml);
		uint8_t out[32];
		nym_hmac_sha256(out, key, kl, data, dl);
		CHECK_MEM(out, mac, ml, "RFC 4231 test case %zu (key %zu bytes)", i + 1, kl);
		if (v[i].key) free(key);
		free(data); free(mac);
	}
	/* A 16-byte key, as Sphinx uses; oracle: Python hmac.new(bytes(range(16)),
	 * b"Sphinx header integrity", hashlib.sha256). */
	uint8_t k16[16], out[32];
	for (int i = 0; i < 16; i++) k16[i] = (uint8_t)i;
	nym_hmac_sha256(out, k16, 16, (const uint8_t *)"Sphinx header integrity", 23);
	check_hex(out, "3a3d8179706372c9fd4b7a8b0bcfb98819441032d8c84f1047679e193adffdef",
	          "HMAC-SHA256 with a 16-byte key (Python hmac oracle)");
}

static void
test_hkdf(void)
{
	/* RFC 5869 Appendix A.1-A.3. */
	struct { const char *ikm, *salt, *info, *okm; } v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
		  "f0f1f2f3f4f5f6f7f8f9",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		  "404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
		  "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
		  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
		  "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
		  "cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" },
	};
	for (size_t i = 0; i < 3; i++) {
		size_t il, sl, fl, ol;
		uint8_t *ikm = hexdup(v[i].ikm, &il), *salt = hexdup(v[i].salt, &sl);
		uint8_t *info = hexdup(v[i].info, &fl), *okm = hexdup(v[i].okm, &ol);
		uint8_t out[82];
		CHECK(nym_hkdf_sha256(out, ol, salt, sl, ikm, il, info, fl) == 0, "RFC 5869 A.%zu runs", i + 1);
		CHECK_MEM(out, okm, ol, "RFC 5869 A.%zu OKM", i + 1);
		if (i == 2) {
			/* NULL salt means zero salt: same result. */
			nym_hkdf_sha256(out, ol, NULL, 0, ikm, il, NULL, 0);
			CHECK_MEM(out, okm, ol, "RFC 5869 A.3 with NULL salt and info");
		}
		free(ikm); free(salt); free(info); free(okm);
	}
	uint8_t big[255 * 32 + 1], ikm[1] = { 0 };
	CHECK(nym_hkdf_sha256(big, sizeof big, NULL, 0, ikm, 1, NULL, 0) == NYM_EINVAL,
	      "HKDF longer than 255 blocks is NYM_EINVAL");
	CHECK(nym_hkdf_sha256(big, sizeof big - 1, NULL, 0, ikm, 1, NULL, 0) == 0,
	      "HKDF of exactly 255 blocks works");
}

/* doc/spec/sphinx.md §10.1 T1: the crate's own expanded-shared-secret test, which
 * chains ChaCha20 (the test RNG), X25519 and HKDF-SHA256; the OKM ranges
 * marked crate-asserted there are the crate's expected bytes. */
static void
test_sphinx_t1(void)
{
	uint8_t key[32], nonce[8] = { 0 }, stream[64] = { 0 };
	memset(key, 1, 32);
	nym_chacha20_xor(stream, stream, 64, key, nonce);
	uint8_t pk1[32], s[32], okm[288];
	nym_x25519_base(pk1, stream);
	check_hex(pk1, "d53b9fea1dd4d570dbe38180767c236456ca6633f103f1aa0637e7b613d25274", "T1 pk1");
	nym_x25519(s, stream + 32, pk1);
	check_hex(s, "499a6ab6e6c50f92a5f15d4a93bf90c0b7d8b0e9577f31907c8e01152b752747", "T1 shared secret");
	static const uint8_t info97[] =
		"Dwste mou enan moxlo arketa makru kai ena upomoxlio gia na ton topothetisw "
		"kai tha kinisw thn gh.";
	nym_hkdf_sha256(okm, sizeof okm, NULL, 0, s, 32, info97, 97);
	check_hex(okm, "baea9871ca7cbfe4ad595b087ffbd6c8", "T1 OKM[0..16) (crate-asserted)");
	check_hex(okm + 16, "1cde11e32eb4aa072234b18e96898ede", "T1 OKM[16..32) (crate-asserted)");
	check_hex(okm + 32,
	          "d2d151f1fe7b24519b55732865d26108c4683d17a5bebfeccb450fe64664a188"
	          "3558747651393ab5e866955defff9ccd00926e75893b66aa57faafcfc16b709a"
	          "f7dc6e87206a14980e84599af918b0281eb6c3d17c3b3ac9d1ff50976de29de8"
	          "3080389f5aa8e53c6a0e32d7c6c8a8189fe0f07717f23d8136248cf57f9fe605"
	          "348efe34a8ab8b64ce105edb44718d9f04e9bd90a4cab44ad64260b946bf9b12"
	          "d2347b47e7e14f00c419d9e785bf607767b6c824d73ecb95d68b2046421e3f66",
	          "T1 OKM[32..224) (crate-asserted)");
	check_hex(okm + 224, "e340b8eb8c3ee8aceb2a3aa9f1fdf50288954a3006a59185be69dedaf8ac31bc",
	          "T1 OKM[224..256) (crate-asserted)");
	uint8_t ks[32] = { 0 }, iv[16] = { 0 }, zero300[300] = { 0 }, mac[32];
	nym_aes128_ctr(ks, ks, 32, okm, iv);
	check_hex(ks, "310d488ba16cf174c056ccf4cf85c8f15ef71b52f1a728d98b65f6f790d63d94",
	          "T1 AES-128-CTR(OKM[0..16)) keystream");
	nym_hmac_sha256(mac, okm + 16, 16, zero300, sizeof zero300);
	check_hex(mac, "fc79457b1ed00b770377f80cd4df0320", "T1 HMAC-SHA256(16-byte key, 0^300)[0..16)");
}

static void
test_blake2b(void)
{
	/* doc/spec/sphinx.md §10.3 (first line of the reference blake2b-kat with a
	 * 32-byte output), re-checked with Python hashlib.blake2b(key=...,
	 * digest_size=32). */
	uint8_t key[64], msg[256], out[32];
	for (int i = 0; i < 64; i++) key[i] = (uint8_t)i;
	for (int i = 0; i < 256; i++) msg[i] = (uint8_t)i;
	CHECK(nym_blake2b_keyed32(out, key, 64, msg, 0) == 0, "keyed BLAKE2b runs");
	check_hex(out, "2fa9fbd9be36437de204e139e97d402bce68c828f43391608c891b5faed8a98a",
	          "keyed BLAKE2b-256, 64-byte key, empty message");
	nym_blake2b_keyed32(out, key, 64, msg, 256);
	check_hex(out, "1ee3b6312b4e0f0b9663b812b8c129e6d45c410b1c9c5a1667bfc6dd951db79f",
	          "keyed BLAKE2b-256, 64-byte key, 256-byte message");
	nym_blake2b_keyed32(out, key, 16, (const uint8_t *)"abc", 3);
	check_hex(out, "3fd8fd31501cdbe942607b204368e3dc4ebce5744de1a955a6025f5c9848bb20",
	          "keyed BLAKE2b-256, 16-byte key, \"abc\" (Python hashlib oracle)");
	uint8_t k65[65] = { 0 };
	CHECK(nym_blake2b_keyed32(out, k65, 65, msg, 1) == NYM_EINVAL, "65-byte BLAKE2b key is NYM_EINVAL");

	/* SipHash-2-4 reference vectors (key 00..0f, message 00..len-1). */
	uint8_t sh[8];
	nym_siphash24(sh, msg, 0, key);
	check_hex(sh, "310e0edd47db6f72", "SipHash-2-4, empty message (reference vector 0)");
	nym_siphash24(sh, msg, 15, key);
	check_hex(sh, "e545be4961ca29a1", "SipHash-2-4, 15 bytes (reference vector 15)");
}

/* --- stream ciphers ------------------------------------------------------- */

static void
test_aes_ctr(void)
{
	/* NIST SP 800-38A F.5.1 CTR-AES128.Encrypt (and F.5.2 decrypt). */
	size_t n;
	uint8_t *key = hexdup("2b7e151628aed2a6abf7158809cf4f3c", &n);
	uint8_t *iv = hexdup("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", &n);
	uint8_t *pt = hexdup("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	                     "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710", &n);
	const char *ct = "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
	                 "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee";
	uint8_t out[64];
	CHECK(nym_aes128_ctr(out, pt, 64, key, iv) == 0, "AES-128-CTR one-shot runs");
	check_hex(out, ct, "SP 800-38A F.5.1 (one-shot)");
	nym_aes128_ctr(out, out, 64, key, iv);
	CHECK_MEM(out, pt, 64, "SP 800-38A F.5.2 decrypt in place");

	struct nym_aes128_ctr c;
	CHECK(nym_aes128_ctr_init(&c) == 0, "AES-128-CTR context init");
	for (int round = 0; round < 3; round++) {
		memset(out, 0, sizeof out);
		nym_aes128_ctr_xor(&c, out, pt, 64, key, iv);
		check_hex(out, ct, "SP 800-38A F.5.1 through a reused context");
	}
	/* Re-keying between calls: doc/spec/sphinx.md §10.3, key 0, IV 0. */
	uint8_t z16[16] = { 0 }, ks[32] = { 0 };
	nym_aes128_ctr_xor(&c, ks, ks, 32, z16, z16);
	check_hex(ks, "66e94bd4ef8a2c3b884cfa59ca342b2e58e2fccefa7e3061367f1d57a4e7455a",
	          "AES-128-CTR key 0 IV 0 keystream after re-key");
	/* Ctr64BE: after IV = h|ff..ff the counter wraps to h|00..00 (no carry
	 * into h). Oracle: the block function itself (CTR at that IV). Checked
	 * for a wrap on a block boundary of a longer run and mid-buffer. */
	uint8_t ivw[16], ivn[16], ivc[16], three[48] = { 0 }, second[32] = { 0 }, carried[16] = { 0 };
	memset(ivw, 0xab, 8); memset(ivw + 8, 0xff, 8);
	memset(ivn, 0xab, 8); memset(ivn + 8, 0, 8);
	memset(ivc, 0, 16); memset(ivc, 0xab, 8); ivc[7] = 0xac; /* what a 128-bit carry would give */
	nym_aes128_ctr_xor(&c, three, three, 48, key, ivw);
	nym_aes128_ctr_xor(&c, second, second, 32, key, ivn);
	nym_aes128_ctr_xor(&c, carried, carried, 16, key, ivc);
	CHECK_MEM(three + 16, second, 32, "counter wraps in the low 64 bits (Ctr64BE), no carry");
	CHECK(memcmp(three + 16, carried, 16) != 0, "and differs from a 128-bit carry");
	uint8_t odd[37], oddref[37];
	memset(odd, 0x5c, sizeof odd);
	memcpy(oddref, odd, sizeof odd);
	uint8_t ivw2[16];
	memcpy(ivw2, ivw, 16);
	ivw2[15] = 0xfe; /* two blocks before the wrap, 37 bytes = 3 blocks */
	nym_aes128_ctr(odd, odd, sizeof odd, key, ivw2);
	uint8_t ks2[48] = { 0 };
	nym_aes128_ctr_xor(&c, ks2, ks2, 32, key, ivw2);
	nym_aes128_ctr_xor(&c, ks2 + 32, ks2 + 32, 16, key, ivn);
	for (size_t i = 0; i < sizeof odd; i++) oddref[i] ^= ks2[i];
	CHECK_MEM(odd, oddref, sizeof odd, "one-shot over a wrap with a partial last block");
	nym_aes128_ctr_free(&c);
	nym_aes128_ctr_free(&c); /* harmless twice */
	CHECK(c.aes.ctx == NULL, "free clears the context");
	free(key); free(iv); free(pt);
}

static void
test_chacha20(void)
{
	/* draft-strombergson-chacha-test-vectors-01, TC1-TC8, 256-bit keys,
	 * 20 rounds, 128 keystream bytes each. */
	struct { const char *key, *iv, *ks; } v[] = {
		{ "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000",
		  "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
		  "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
		  "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
		  "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f" },
		{ "0100000000000000000000000000000000000000000000000000000000000000", "0000000000000000",
		  "c5d30a7ce1ec119378c84f487d775a8542f13ece238a9455e8229e888de85bbd"
		  "29eb63d0a17a5b999b52da22be4023eb07620a54f6fa6ad8737b71eb0464dac0"
		  "10f656e6d1fd55053e50c4875c9930a33f6d0263bd14dfd6ab8c70521c19338b"
		  "2308b95cf8d0bb7d202d2102780ea3528f1cb48560f76b20f382b942500fceac" },
		{ "0000000000000000000000000000000000000000000000000000000000000000", "0100000000000000",
		  "ef3fdfd6c61578fbf5cf35bd3dd33b8009631634d21e42ac33960bd138e50d32"
		  "111e4caf237ee53ca8ad6426194a88545ddc497a0b466e7d6bbdb0041b2f586b"
		  "5305e5e44aff19b235936144675efbe4409eb7e8e5f1430f5f5836aeb49bb532"
		  "8b017c4b9dc11f8a03863fa803dc71d5726b2b6b31aa32708afe5af1d6b69058" },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "ffffffffffffffff",
		  "d9bf3f6bce6ed0b54254557767fb57443dd4778911b606055c39cc25e674b836"
		  "3feabc57fde54f790c52c8ae43240b79d49042b777bfd6cb80e931270b7f50eb"
		  "5bac2acd86a836c5dc98c116c1217ec31d3a63a9451319f097f3b4d6dab07787"
		  "19477d24d24b403a12241d7cca064f790f1d51ccaff6b1667d4bbca1958c4306" },
		{ "5555555555555555555555555555555555555555555555555555555555555555", "5555555555555555",
		  "bea9411aa453c5434a5ae8c92862f564396855a9ea6e22d6d3b50ae1b3663311"
		  "a4a3606c671d605ce16c3aece8e61ea145c59775017bee2fa6f88afc758069f7"
		  "e0b8f676e644216f4d2a3422d7fa36c6c4931aca950e9da42788e6d0b6d1cd83"
		  "8ef652e97b145b14871eae6c6804c7004db5ac2fce4c68c726d004b10fcaba86" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa",
		  "9aa2a9f656efde5aa7591c5fed4b35aea2895dec7cb4543b9e9f21f5e7bcbcf3"
		  "c43c748a970888f8248393a09d43e0b7e164bc4d0b0fb240a2d72115c4808906"
		  "72184489440545d021d97ef6b693dfe5b2c132d47e6f041c9063651f96b623e6"
		  "2a11999a23b6f7c461b2153026ad5e866a2e597ed07b8401dec63a0934c6b2a9" },
		{ "00112233445566778899aabbccddeeffffeeddccbbaa99887766554433221100", "0f1e2d3c4b5a6978",
		  "9fadf409c00811d00431d67efbd88fba59218d5d6708b1d685863fabbb0e961e"
		  "ea480fd6fb532bfd494b2151015057423ab60a63fe4f55f7a212e2167ccab931"
		  "fbfd29cf7bc1d279eddf25dd316bb8843d6edee0bd1ef121d12fa17cbc2c574c"
		  "ccab5e275167b08bd686f8a09df87ec3ffb35361b94ebfa13fec0e4889d18da5" },
		{ "c46ec1b18ce8a878725a37e780dfb7351f68ed2e194c79fbc6aebee1a667975d", "1ada31d5cf688221",
		  "f63a89b75c2271f9368816542ba52f06ed49241792302b00b5e8f80ae9a473af"
		  "c25b218f519af0fdd406362e8d69de7f54c604a6e00f353f110f771bdca8ab92"
		  "e5fbc34e60a1d9a9db17345b0a402736853bf910b060bdf1f897b6290f01d138"
		  "ae2c4c90225ba9ea14d518f55929dea098ca7a6ccfe61227053c84e49a4a3332" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n;
		uint8_t *key = hexdup(v[i].key, &n), *iv = hexdup(v[i].iv, &n);
		uint8_t buf[128] = { 0 };
		CHECK(nym_chacha20_xor(buf, buf, sizeof buf, key, iv) == 0, "ChaCha20 TC%zu runs", i + 1);
		char what[64];
		snprintf(what, sizeof what, "ChaCha20 (DJB) TC%zu keystream", i + 1);
		check_hex(buf, v[i].ks, what);
		free(key); free(iv);
	}
	/* doc/spec/sphinx.md §10.1 T3: the chacha 0.3 crate's doc example. */
	size_t n;
	uint8_t *key = hexdup("29fa35608845c6f9d8fe65e3220e5b05034aa09f9e27ad0f6c90a573a810e494", &n);
	uint8_t nonce[8] = { 0 }, buf[6];
	memcpy(buf, "abcdef", 6);
	nym_chacha20_xor(buf, buf, 6, key, nonce);
	check_hex(buf, "de87a5be1d77", "chacha 0.3 doc example (sphinx T3)");
	free(key);
}

static void
test_ct(void)
{
	uint8_t a[64], b[64];
	memset(a, 0x5a, sizeof a);
	memcpy(b, a, sizeof b);
	CHECK(nym_ct_eq(a, b, 64) == 0, "ct_eq: equal buffers");
	b[63] ^= 0x80;
	CHECK(nym_ct_eq(a, b, 64) != 0, "ct_eq: last byte differs");
	b[63] ^= 0x80; b[0] ^= 1;
	CHECK(nym_ct_eq(a, b, 64) != 0, "ct_eq: first byte differs");
	CHECK(nym_ct_eq(a, b, 0) == 0, "ct_eq: empty ranges are equal");
	nym_wipe(a, sizeof a);
	int z = 0;
	for (size_t i = 0; i < sizeof a; i++) z |= a[i];
	CHECK(z == 0, "wipe zeroes");
}

int
main(void)
{
	CHECK(nym_crypto_init() == 0, "crypto init");
	CHECK(nym_crypto_init() == 0, "crypto init is idempotent");
	test_x25519();
	test_scalar();
	test_legacy_vectors();
	test_ed25519();
	test_sha256();
	test_hmac();
	test_hkdf();
	test_sphinx_t1();
	test_blake2b();
	test_aes_ctr();
	test_chacha20();
	test_ct();
	return t_done();
}
