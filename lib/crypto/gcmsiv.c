/* gcmsiv.c — AES-256-GCM-SIV (RFC 8452) on the AES block function of
 * crypto/aes.h (OpenSSL natively, so AES-NI; BearSSL in wasm) with POLYVAL written
 * here: a carry-less 128x128 multiply built from integer multiplications
 * on bit-sliced operands ("multiplication with holes"), which is constant
 * time on CPUs whose integer multiplier is, followed by a Montgomery-style
 * reduction by x^-128 modulo x^128 + x^127 + x^126 + x^121 + 1. */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/gcmsiv.h"

/* --- POLYVAL ---------------------------------------------------------------
 * Field elements are 16 little-endian bytes: bit i of the 128-bit integer is
 * the coefficient of x^i. Held here as two uint64_t, [0] low and [1] high. */

/* Low 64 bits of the carry-less product of x and y. Each operand is split
 * into four masks holding every fourth bit; an integer product of two such
 * masks adds at most 15 one-bit terms into any bit position below 60 (16 at
 * positions 60..63, whose carry falls off the word), so carries never reach
 * the next bit of the same residue class that the final mask keeps. */
static uint64_t
bmul64(uint64_t x, uint64_t y)
{
	const uint64_t m0 = UINT64_C(0x1111111111111111), m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
	uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
	uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
	uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
	uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
	uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
	uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
	return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t
rev64(uint64_t x)
{
	x = ((x & UINT64_C(0x5555555555555555)) << 1) | ((x >> 1) & UINT64_C(0x5555555555555555));
	x = ((x & UINT64_C(0x3333333333333333)) << 2) | ((x >> 2) & UINT64_C(0x3333333333333333));
	x = ((x & UINT64_C(0x0F0F0F0F0F0F0F0F)) << 4) | ((x >> 4) & UINT64_C(0x0F0F0F0F0F0F0F0F));
	x = ((x & UINT64_C(0x00FF00FF00FF00FF)) << 8) | ((x >> 8) & UINT64_C(0x00FF00FF00FF00FF));
	x = ((x & UINT64_C(0x0000FFFF0000FFFF)) << 16) | ((x >> 16) & UINT64_C(0x0000FFFF0000FFFF));
	return (x << 32) | (x >> 32);
}

/* The hash key with what every multiplication needs precomputed: the two
 * halves, their XOR (Karatsuba middle term) and the bit-reversals of all
 * three (for the high halves of the products). */
struct hkey {
	uint64_t h[3], r[3];
};

static void
hkey_set(struct hkey *k, uint64_t lo, uint64_t hi)
{
	k->h[0] = lo; k->h[1] = hi; k->h[2] = lo ^ hi;
	for (int i = 0; i < 3; i++)
		k->r[i] = rev64(k->h[i]);
}

/* Full 127-bit carry-less product of x and key half y (ry = rev64(y)): the
 * high half is the low half of the product of the bit-reversed operands,
 * reversed back and shifted by one. */
static inline void
clmul64(uint64_t r[2], uint64_t x, uint64_t rx, uint64_t y, uint64_t ry)
{
	r[0] = bmul64(x, y);
	r[1] = rev64(bmul64(rx, ry)) >> 1;
}

/* a = a * h * x^-128 mod P (the POLYVAL "dot" operation). */
static void
dot(uint64_t a[2], const struct hkey *k)
{
	uint64_t lo[2], hi[2], mid[2], t0, t1, t2, t3;
	uint64_t r0 = rev64(a[0]), r1 = rev64(a[1]);
	/* Karatsuba over 64-bit halves (rev64 is linear: rev(a0^a1) = r0^r1). */
	clmul64(lo, a[0], r0, k->h[0], k->r[0]);
	clmul64(hi, a[1], r1, k->h[1], k->r[1]);
	clmul64(mid, a[0] ^ a[1], r0 ^ r1, k->h[2], k->r[2]);
	mid[0] ^= lo[0] ^ hi[0];
	mid[1] ^= lo[1] ^ hi[1];
	t0 = lo[0];
	t1 = lo[1] ^ mid[0];
	t2 = hi[0] ^ mid[1];
	t3 = hi[1];
	/* Add t0 * P to clear word 0 (P = 1 + x^121 + x^126 + x^127 + x^128),
	 * then the new word 1 likewise; the quotient by x^128 is [t3:t2]. */
	t1 ^= (t0 << 57) ^ (t0 << 62) ^ (t0 << 63);
	t2 ^= t0 ^ (t0 >> 7) ^ (t0 >> 2) ^ (t0 >> 1);
	t2 ^= (t1 << 57) ^ (t1 << 62) ^ (t1 << 63);
	t3 ^= t1 ^ (t1 >> 7) ^ (t1 >> 2) ^ (t1 >> 1);
	a[0] = t2;
	a[1] = t3;
}

static uint64_t
ld64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* s = POLYVAL update over data, zero-padding the last partial block. */
static void
polyval_update(uint64_t s[2], const struct hkey *h, const uint8_t *data, size_t len)
{
	while (len >= 16) {
		s[0] ^= ld64(data);
		s[1] ^= ld64(data + 8);
		dot(s, h);
		data += 16;
		len -= 16;
	}
	if (len > 0) {
		uint8_t b[16] = { 0 };
		memcpy(b, data, len);
		s[0] ^= ld64(b);
		s[1] ^= ld64(b + 8);
		dot(s, h);
		sodium_memzero(b, sizeof b);
	}
}

void
nym_gcmsiv_polyval(uint8_t out[16], const uint8_t h[16], const uint8_t *data, size_t len)
{
	struct hkey k;
	uint64_t s[2] = { 0, 0 };
	hkey_set(&k, ld64(h), ld64(h + 8));
	polyval_update(s, &k, data, len);
	st64(out, s[0]);
	st64(out + 8, s[1]);
}

/* --- AES through crypto/aes.h ------------------------------------------- */

/* in and out hold n whole blocks; they may be the same buffer. */
static int
ecb(struct nym_aes *ctx, uint8_t *out, const uint8_t *in, size_t n)
{
	return nym_aes_block(ctx, out, in, n);
}

int
nym_gcmsiv_init(struct nym_gcmsiv *c, const uint8_t key[32])
{
	memset(c, 0, sizeof *c);
	int r = nym_aes_block_init(&c->master, key, 32);
	if (r == 0) r = nym_aes_block_init(&c->derived, key, 32); /* re-keyed per message */
	if (r != 0)
		nym_gcmsiv_free(c);
	return r;
}

void
nym_gcmsiv_free(struct nym_gcmsiv *c)
{
	nym_aes_free(&c->master); /* frees also wipe the key schedules */
	nym_aes_free(&c->derived);
}

/* RFC 8452 §4: per-nonce authentication key (16 bytes) and encryption key
 * (32 bytes) from the first 8 bytes of AES(K, LE32(i) || nonce), i = 0..5;
 * the derived context is keyed with the encryption key. */
static int
derive(struct nym_gcmsiv *c, struct hkey *h, const uint8_t nonce[12])
{
	uint8_t blk[6 * 16], keys[48];
	for (int i = 0; i < 6; i++) {
		uint8_t *b = blk + 16 * i;
		b[0] = (uint8_t)i; b[1] = b[2] = b[3] = 0;
		memcpy(b + 4, nonce, 12);
	}
	int r = ecb(&c->master, blk, blk, 6);
	for (int i = 0; i < 6; i++)
		memcpy(keys + 8 * i, blk + 16 * i, 8);
	hkey_set(h, ld64(keys), ld64(keys + 8));
	if (r == 0)
		r = nym_aes_block_rekey(&c->derived, keys + 16, 32);
	sodium_memzero(blk, sizeof blk);
	sodium_memzero(keys, sizeof keys);
	return r;
}

/* tag = AES(enc, (POLYVAL(H, AD, M, lengths) ^ nonce) with bit 127 clear) */
static int
make_tag(struct nym_gcmsiv *c, uint8_t tag[16], const struct hkey *h, const uint8_t *ad, size_t adlen,
         const uint8_t *msg, size_t len, const uint8_t nonce[12])
{
	uint64_t s[2] = { 0, 0 };
	uint8_t lens[16];
	polyval_update(s, h, ad, adlen);
	polyval_update(s, h, msg, len);
	st64(lens, (uint64_t)adlen * 8);
	st64(lens + 8, (uint64_t)len * 8);
	polyval_update(s, h, lens, 16);
	st64(tag, s[0]);
	st64(tag + 8, s[1]);
	for (int i = 0; i < 12; i++)
		tag[i] ^= nonce[i];
	tag[15] &= 0x7f;
	sodium_memzero(s, sizeof s);
	return ecb(&c->derived, tag, tag, 1);
}

/* AES-CTR keyed by the derived key, initial counter = tag with bit 127 set,
 * 32-bit little-endian counter in the first four bytes (wrapping). */
static int
ctr(struct nym_gcmsiv *c, uint8_t *out, const uint8_t *in, size_t len, const uint8_t tag[16])
{
	uint8_t ks[64 * 16];
	uint8_t cb[16];
	memcpy(cb, tag, 16);
	cb[15] |= 0x80;
	uint32_t n = (uint32_t)cb[0] | (uint32_t)cb[1] << 8 | (uint32_t)cb[2] << 16 | (uint32_t)cb[3] << 24;
	int r = 0;
	while (len > 0 && r == 0) {
		size_t chunk = len < sizeof ks ? len : sizeof ks, blocks = (chunk + 15) / 16;
		for (size_t i = 0; i < blocks; i++, n++) {
			uint8_t *b = ks + 16 * i;
			b[0] = (uint8_t)n; b[1] = (uint8_t)(n >> 8); b[2] = (uint8_t)(n >> 16); b[3] = (uint8_t)(n >> 24);
			memcpy(b + 4, cb + 4, 12);
		}
		r = ecb(&c->derived, ks, ks, blocks);
		for (size_t i = 0; i < chunk; i++)
			out[i] = in[i] ^ ks[i];
		out += chunk, in += chunk, len -= chunk;
	}
	sodium_memzero(ks, sizeof ks);
	return r;
}

/* RFC 8452 limits: 2^36 bytes of plaintext and of associated data. */
#define MAX_LEN (UINT64_C(1) << 36)

int
nym_gcmsiv_seal(struct nym_gcmsiv *c, uint8_t *out, const uint8_t *in, size_t len,
                const uint8_t *ad, size_t adlen, const uint8_t nonce[12])
{
	struct hkey h;
	uint8_t tag[16];
	if ((uint64_t)len > MAX_LEN || (uint64_t)adlen > MAX_LEN)
		return NYM_ETOOBIG;
	int r = derive(c, &h, nonce);
	if (r == 0) r = make_tag(c, tag, &h, ad, adlen, in, len, nonce);
	if (r == 0) r = ctr(c, out, in, len, tag);
	if (r == 0) memcpy(out + len, tag, 16);
	sodium_memzero(&h, sizeof h);
	return r;
}

int
nym_gcmsiv_open(struct nym_gcmsiv *c, uint8_t *out, const uint8_t *in, size_t len,
                const uint8_t *ad, size_t adlen, const uint8_t nonce[12])
{
	struct hkey h;
	uint8_t tag[16], want[16];
	if (len < 16)
		return NYM_ESHORT;
	len -= 16;
	if ((uint64_t)len > MAX_LEN || (uint64_t)adlen > MAX_LEN)
		return NYM_ETOOBIG;
	memcpy(tag, in + len, 16); /* before out (which may alias in) is written */
	int r = derive(c, &h, nonce);
	if (r == 0) r = ctr(c, out, in, len, tag);
	if (r == 0) r = make_tag(c, want, &h, ad, adlen, out, len, nonce);
	if (r == 0 && sodium_memcmp(tag, want, 16) != 0)
		r = NYM_EMAC;
	if (r != 0)
		sodium_memzero(out, len);
	sodium_memzero(&h, sizeof h);
	sodium_memzero(want, sizeof want);
	return r;
}

int
nym_gcmsiv_encrypt(uint8_t *out, const uint8_t *in, size_t len,
                   const uint8_t *ad, size_t adlen,
                   const uint8_t key[32], const uint8_t nonce[12])
{
	struct nym_gcmsiv c;
	int r = nym_gcmsiv_init(&c, key);
	if (r == 0) {
		r = nym_gcmsiv_seal(&c, out, in, len, ad, adlen, nonce);
		nym_gcmsiv_free(&c);
	}
	return r;
}

int
nym_gcmsiv_decrypt(uint8_t *out, const uint8_t *in, size_t len,
                   const uint8_t *ad, size_t adlen,
                   const uint8_t key[32], const uint8_t nonce[12])
{
	struct nym_gcmsiv c;
	int r = nym_gcmsiv_init(&c, key);
	if (r == 0) {
		r = nym_gcmsiv_open(&c, out, in, len, ad, adlen, nonce);
		nym_gcmsiv_free(&c);
	} else if (len >= 16) {
		memset(out, 0, len - 16);
	}
	return r;
}
