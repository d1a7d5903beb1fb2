/* crypto.c — libsodium/OpenSSL wrappers plus a small GF(2^255-19) field
 * (51-bit limbs) for the two things the libraries lack: the unclamped
 * Montgomery ladder of legacy Sphinx, and a point-decompression check that
 * accepts exactly what ed25519-dalek's VerifyingKey::from_bytes accepts. */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/crypto.h"

int
nym_crypto_init(void)
{
	return sodium_init() < 0 ? NYM_ECRYPTO : 0;
}

/* ---------------------------------------------------------------------------
 * Field arithmetic mod p = 2^255 - 19. An element is five limbs of 51 bits,
 * value = sum f[i] * 2^(51 i); limbs may exceed 51 bits slightly between
 * operations (every op below ends with a carry pass). Constant time: no
 * branches or indices depend on values. */
__extension__ typedef unsigned __int128 u128;
typedef uint64_t fe[5];

#define MASK51 ((UINT64_C(1) << 51) - 1)

static uint64_t
load64_le(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static void
store64_le(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		b[i] = (uint8_t)v;
}

/* Bit 255 is ignored (RFC 7748 u-coordinates, dalek field decoding);
 * values in [p, 2^255) are accepted and act as their residue. */
static void
fe_frombytes(fe h, const uint8_t s[32])
{
	h[0] = load64_le(s) & MASK51;
	h[1] = (load64_le(s + 6) >> 3) & MASK51;
	h[2] = (load64_le(s + 12) >> 6) & MASK51;
	h[3] = (load64_le(s + 19) >> 1) & MASK51;
	h[4] = (load64_le(s + 24) >> 12) & MASK51;
}

static void
fe_carry(fe h)
{
	uint64_t c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
	c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
	c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
	c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
	c = h[4] >> 51; h[4] &= MASK51; h[0] += 19 * c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
}

/* Canonical little-endian encoding (fully reduced mod p). */
static void
fe_tobytes(uint8_t s[32], const fe f)
{
	fe h;
	memcpy(h, f, sizeof h);
	fe_carry(h);
	fe_carry(h);
	/* Now h < 2^255 + small; q = 1 iff h >= p. */
	uint64_t q = (h[0] + 19) >> 51;
	q = (h[1] + q) >> 51;
	q = (h[2] + q) >> 51;
	q = (h[3] + q) >> 51;
	q = (h[4] + q) >> 51;
	h[0] += 19 * q;
	uint64_t c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
	c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
	c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
	c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
	h[4] &= MASK51; /* drop 2^255, i.e. subtract p together with the +19 */
	store64_le(s, h[0] | h[1] << 51);
	store64_le(s + 8, h[1] >> 13 | h[2] << 38);
	store64_le(s + 16, h[2] >> 26 | h[3] << 25);
	store64_le(s + 24, h[3] >> 39 | h[4] << 12);
}

static void
fe_set(fe h, uint64_t v)
{
	h[0] = v; h[1] = h[2] = h[3] = h[4] = 0;
}

static void
fe_add(fe h, const fe f, const fe g)
{
	for (int i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
	fe_carry(h);
}

/* h = f - g, computed as f + 4p - g so limbs never go negative. */
static void
fe_sub(fe h, const fe f, const fe g)
{
	h[0] = f[0] + UINT64_C(0x1FFFFFFFFFFFB4) - g[0];
	for (int i = 1; i < 5; i++)
		h[i] = f[i] + UINT64_C(0x1FFFFFFFFFFFFC) - g[i];
	fe_carry(h);
}

/* Carry 128-bit limb products back into 51-bit limbs (2^255 = 19 mod p). */
static inline void
fe_reduce_wide(fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	uint64_t c;
	c = (uint64_t)(r0 >> 51); h[0] = (uint64_t)r0 & MASK51; r1 += c;
	c = (uint64_t)(r1 >> 51); h[1] = (uint64_t)r1 & MASK51; r2 += c;
	c = (uint64_t)(r2 >> 51); h[2] = (uint64_t)r2 & MASK51; r3 += c;
	c = (uint64_t)(r3 >> 51); h[3] = (uint64_t)r3 & MASK51; r4 += c;
	c = (uint64_t)(r4 >> 51); h[4] = (uint64_t)r4 & MASK51;
	h[0] += 19 * c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
}

static void
fe_mul(fe h, const fe f, const fe g)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
	u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
	u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
	u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
	u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
	u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void
fe_sq(fe h, const fe f)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
	uint64_t f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3, f3_19 = 19 * f3, f4_19 = 19 * f4;
	u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
	u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
	u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
	u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
	u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void
fe_sqn(fe h, const fe f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

static void
fe_mul_small(fe h, const fe f, uint32_t k)
{
	u128 r[5];
	for (int i = 0; i < 5; i++)
		r[i] = (u128)f[i] * k;
	uint64_t c = 0;
	for (int i = 0; i < 5; i++) {
		r[i] += c;
		c = (uint64_t)(r[i] >> 51);
		h[i] = (uint64_t)r[i] & MASK51;
	}
	h[0] += 19 * c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
}

/* z^(2^250 - 1) and z^11, shared by inversion and the square-root power. */
static void
fe_pow_250(fe z250, fe z11, const fe z)
{
	fe z2, z9, t, z5, z10, z20, z40, z50, z100, z200;
	fe_sq(z2, z);
	fe_sqn(t, z2, 2);
	fe_mul(z9, t, z);
	fe_mul(z11, z9, z2);
	fe_sq(t, z11);
	fe_mul(z5, t, z9);        /* 2^5 - 1 */
	fe_sqn(t, z5, 5);
	fe_mul(z10, t, z5);       /* 2^10 - 1 */
	fe_sqn(t, z10, 10);
	fe_mul(z20, t, z10);      /* 2^20 - 1 */
	fe_sqn(t, z20, 20);
	fe_mul(z40, t, z20);      /* 2^40 - 1 */
	fe_sqn(t, z40, 10);
	fe_mul(z50, t, z10);      /* 2^50 - 1 */
	fe_sqn(t, z50, 50);
	fe_mul(z100, t, z50);     /* 2^100 - 1 */
	fe_sqn(t, z100, 100);
	fe_mul(z200, t, z100);    /* 2^200 - 1 */
	fe_sqn(t, z200, 50);
	fe_mul(z250, t, z50);     /* 2^250 - 1 */
}

/* z^(p-2) = z^(2^255 - 21); 0 maps to 0. */
static void
fe_invert(fe out, const fe z)
{
	fe z250, z11, t;
	fe_pow_250(z250, z11, z);
	fe_sqn(t, z250, 5);
	fe_mul(out, t, z11);
}

/* z^((p-5)/8) = z^(2^252 - 3). */
static void
fe_pow22523(fe out, const fe z)
{
	fe z250, z11, t;
	fe_pow_250(z250, z11, z);
	fe_sqn(t, z250, 2);
	fe_mul(out, t, z);
}

static void
fe_cswap(fe f, fe g, uint64_t b)
{
	uint64_t m = 0 - b;
	for (int i = 0; i < 5; i++) {
		uint64_t x = m & (f[i] ^ g[i]);
		f[i] ^= x;
		g[i] ^= x;
	}
}

static int
fe_equal(const fe f, const fe g)
{
	uint8_t a[32], b[32];
	fe_tobytes(a, f);
	fe_tobytes(b, g);
	return sodium_memcmp(a, b, 32) == 0;
}

/* ---------------------------------------------------------------------------
 * X25519 and the unclamped ladder */

/* RFC 7748 §5 ladder, run over all 256 bits of n so that any 32-byte n is
 * used as the integer it encodes (for n < 2^255 this is exactly the RFC's
 * 255-bit loop with the leading zero bit adding nothing). */
void
nym_x25519_unclamped(uint8_t out[32], const uint8_t n[32], const uint8_t u[32])
{
	fe x1, x2, z2, x3, z3, a, aa, b, bb, e, c, d, da, cb, t;
	uint64_t swap = 0;

	fe_frombytes(x1, u);
	fe_set(x2, 1);
	fe_set(z2, 0);
	memcpy(x3, x1, sizeof x3);
	fe_set(z3, 1);
	for (int i = 255; i >= 0; i--) {
		uint64_t bit = (n[i >> 3] >> (i & 7)) & 1;
		swap ^= bit;
		fe_cswap(x2, x3, swap);
		fe_cswap(z2, z3, swap);
		swap = bit;
		fe_add(a, x2, z2);
		fe_sq(aa, a);
		fe_sub(b, x2, z2);
		fe_sq(bb, b);
		fe_sub(e, aa, bb);
		fe_add(c, x3, z3);
		fe_sub(d, x3, z3);
		fe_mul(da, d, a);
		fe_mul(cb, c, b);
		fe_add(t, da, cb);
		fe_sq(x3, t);
		fe_sub(t, da, cb);
		fe_sq(t, t);
		fe_mul(z3, x1, t);
		fe_mul(x2, aa, bb);
		fe_mul_small(t, e, 121665);
		fe_add(t, aa, t);
		fe_mul(z2, e, t);
	}
	fe_cswap(x2, x3, swap);
	fe_cswap(z2, z3, swap);
	fe_invert(z2, z2);
	fe_mul(x2, x2, z2);
	fe_tobytes(out, x2);
	sodium_memzero(x2, sizeof x2); sodium_memzero(z2, sizeof z2);
	sodium_memzero(x3, sizeof x3); sodium_memzero(z3, sizeof z3);
	sodium_memzero(a, sizeof a); sodium_memzero(b, sizeof b);
	sodium_memzero(aa, sizeof aa); sodium_memzero(bb, sizeof bb);
	sodium_memzero(e, sizeof e); sodium_memzero(t, sizeof t);
	sodium_memzero(c, sizeof c); sodium_memzero(d, sizeof d);
	sodium_memzero(da, sizeof da); sodium_memzero(cb, sizeof cb);
}

void
nym_x25519_clamp(uint8_t out[32], const uint8_t k[32])
{
	memmove(out, k, 32);
	out[0] &= 248;
	out[31] &= 127;
	out[31] |= 64;
}

int
nym_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pub[32])
{
	if (crypto_scalarmult(out, sk, pub) == 0)
		return 0;
	/* libsodium refuses small-order inputs (and an all-zero result);
	 * x25519-dalek computes them. Do the same with our own ladder, which
	 * gives the identical (all-zero) answer. */
	uint8_t k[32];
	nym_x25519_clamp(k, sk);
	nym_x25519_unclamped(out, k, pub);
	sodium_memzero(k, sizeof k);
	return 0;
}

int
nym_x25519_base(uint8_t pub[32], const uint8_t sk[32])
{
	/* A clamped scalar times the base point is never the identity. */
	return crypto_scalarmult_base(pub, sk) == 0 ? 0 : NYM_ECRYPTO;
}

void
nym_scalar_reduce32(uint8_t out[32], const uint8_t b[32])
{
	uint8_t wide[64] = { 0 };
	memcpy(wide, b, 32);
	crypto_core_ed25519_scalar_reduce(out, wide);
	sodium_memzero(wide, sizeof wide);
}

void
nym_scalar_mul(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	crypto_core_ed25519_scalar_mul(out, a, b);
}

void
nym_scalar_negate(uint8_t out[32], const uint8_t a[32])
{
	crypto_core_ed25519_scalar_negate(out, a);
}

/* ---------------------------------------------------------------------------
 * Ed25519 */

int
nym_ed25519_public(uint8_t pk[32], const uint8_t seed[32])
{
	uint8_t sk[64];
	int r = crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof sk);
	return r == 0 ? 0 : NYM_ECRYPTO;
}

int
nym_ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t seed[32])
{
	uint8_t pk[32], sk[64];
	int r = crypto_sign_seed_keypair(pk, sk, seed);
	if (r == 0)
		r = crypto_sign_detached(sig, NULL, msg, len, sk);
	sodium_memzero(sk, sizeof sk);
	return r == 0 ? 0 : NYM_ECRYPTO;
}

int
nym_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t len, const uint8_t pk[32])
{
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : NYM_EMAC;
}

/* d = -121665/121666 mod p, in 51-bit limbs. */
static const fe ED25519_D = {
	UINT64_C(0x34dca135978a3), UINT64_C(0x1a8283b156ebd), UINT64_C(0x5e7a26001c029),
	UINT64_C(0x739c663a03cbb), UINT64_C(0x52036cee2b6ff),
};

/* curve25519-dalek CompressedEdwardsY::decompress: y is the low 255 bits
 * (non-canonical y >= p accepted as y mod p); the point exists iff
 * x^2 = (y^2 - 1) / (d y^2 + 1) has a root. The sign bit is not checked
 * against x = 0, and small-order points are accepted (dalek does not reject
 * them in from_bytes; libsodium's is_valid_point would). Public data: no
 * constant-time requirement, but nothing here branches on secrets anyway. */
int
nym_ed25519_pk_valid(const uint8_t pk[32])
{
	fe y, y2, one, u, v, v3, v7, t, r, check, negu;
	fe_frombytes(y, pk);
	fe_set(one, 1);
	fe_sq(y2, y);
	fe_sub(u, y2, one);
	fe_mul(v, y2, ED25519_D);
	fe_add(v, v, one);
	/* r = u v^3 (u v^7)^((p-5)/8); then v r^2 = +-u iff u/v is a square. */
	fe_sq(v3, v);
	fe_mul(v3, v3, v);
	fe_sq(v7, v3);
	fe_mul(v7, v7, v);
	fe_mul(t, u, v7);
	fe_pow22523(t, t);
	fe_mul(r, u, v3);
	fe_mul(r, r, t);
	fe_sq(check, r);
	fe_mul(check, check, v);
	fe_set(t, 0);
	fe_sub(negu, t, u);
	return fe_equal(check, u) || fe_equal(check, negu) ? 0 : NYM_EKEY;
}

/* ---------------------------------------------------------------------------
 * Hashes, MACs, KDFs */

void
nym_sha256(uint8_t out[32], const uint8_t *in, size_t len)
{
	crypto_hash_sha256(out, in, len);
}

void
nym_hmac_sha256(uint8_t out[32], const uint8_t *key, size_t keylen,
                const uint8_t *msg, size_t len)
{
	/* libsodium's init takes any key length (hashes keys over 64 bytes). */
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

int
nym_hkdf_sha256(uint8_t *okm, size_t okmlen, const uint8_t *salt, size_t saltlen,
                const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen)
{
	static const uint8_t zero[32];
	uint8_t prk[32], t[32];
	crypto_auth_hmacsha256_state st0, st;

	if (okmlen > 255 * 32)
		return NYM_EINVAL;
	if (!salt)
		salt = zero, saltlen = sizeof zero;
	/* An empty salt and 32 zero bytes are the same HMAC key. */
	nym_hmac_sha256(prk, salt, saltlen, ikm, ikmlen);
	/* Key the HMAC once; each output block starts from a copy. */
	crypto_auth_hmacsha256_init(&st0, prk, sizeof prk);
	size_t done = 0;
	for (uint8_t i = 1; done < okmlen; i++) {
		st = st0;
		if (i > 1)
			crypto_auth_hmacsha256_update(&st, t, sizeof t);
		crypto_auth_hmacsha256_update(&st, info, infolen);
		crypto_auth_hmacsha256_update(&st, &i, 1);
		crypto_auth_hmacsha256_final(&st, t);
		size_t n = okmlen - done < 32 ? okmlen - done : 32;
		memcpy(okm + done, t, n);
		done += n;
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(&st0, sizeof st0);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(t, sizeof t);
	return 0;
}

int
nym_blake2b_keyed32(uint8_t out[32], const uint8_t *key, size_t keylen,
                    const uint8_t *in, size_t len)
{
	if (keylen > crypto_generichash_KEYBYTES_MAX)
		return NYM_EINVAL;
	return crypto_generichash(out, 32, in, len, key, keylen) == 0 ? 0 : NYM_ECRYPTO;
}

void
nym_siphash24(uint8_t out[8], const uint8_t *in, size_t len, const uint8_t key[16])
{
	crypto_shorthash(out, in, len, key);
}

/* ---------------------------------------------------------------------------
 * Stream ciphers */

int
nym_aes128_ctr_init(struct nym_aes128_ctr *c)
{
	return nym_aes_ctr_init(&c->aes);
}

int
nym_aes128_ctr_xor(struct nym_aes128_ctr *c, uint8_t *out, const uint8_t *in, size_t len,
                   const uint8_t key[16], const uint8_t iv[16])
{
	/* Nym's ctr::Ctr64BE counts in the low 64 bits of the IV only and wraps
	 * without carrying into the high half; the backend carries (128-bit
	 * counter). The two differ only past a wrap of the low half, so the
	 * keystream is cut there and restarted with the wrapped IV. */
	uint8_t ivb[16];
	uint64_t lo = 0;
	memcpy(ivb, iv, 16);
	for (int i = 8; i < 16; i++)
		lo = (lo << 8) | ivb[i];
	int r = 0;
	for (;;) {
		/* Blocks before the low half wraps: 2^64 - lo (0 means 2^64). */
		uint64_t blocks = 0 - lo;
		size_t seg = len;
		if (blocks != 0 && blocks < ((uint64_t)len + 15) / 16)
			seg = (size_t)blocks * 16;
		if ((r = nym_aes_ctr_xor(&c->aes, out, in, seg, key, ivb)) < 0 || seg == len)
			break;
		out += seg, in += seg, len -= seg;
		memset(ivb + 8, 0, 8); /* the low half wrapped to 0 */
		lo = 0;
	}
	sodium_memzero(ivb, sizeof ivb);
	return r;
}

void
nym_aes128_ctr_free(struct nym_aes128_ctr *c)
{
	nym_aes_free(&c->aes);
}

int
nym_aes128_ctr(uint8_t *out, const uint8_t *in, size_t len,
               const uint8_t key[16], const uint8_t iv[16])
{
	struct nym_aes128_ctr c;
	int r = nym_aes128_ctr_init(&c);
	if (r == 0)
		r = nym_aes128_ctr_xor(&c, out, in, len, key, iv);
	nym_aes128_ctr_free(&c);
	return r;
}

int
nym_chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
                 const uint8_t key[32], const uint8_t nonce[8])
{
	return crypto_stream_chacha20_xor(out, in, len, nonce, key) == 0 ? 0 : NYM_ECRYPTO;
}

int
nym_ct_eq(const uint8_t *a, const uint8_t *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}

void
nym_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

/* ---- the system randomness source ---------------------------------------- */

static int
system_fill(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
	return 0;
}

struct nym_rng
nym_rng_system(void)
{
	struct nym_rng r = { system_fill, NULL };
	return r;
}
