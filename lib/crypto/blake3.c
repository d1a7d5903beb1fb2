/* blake3.c — BLAKE3 hash mode (any output length), written from the BLAKE3
 * specification (O'Connor, Aumasson, Neves, Wilcox-O'Hearn, 2020): a
 * 7-round compression function over 64-byte blocks, 1024-byte chunks chained
 * through it, chunk chaining values merged pairwise into a binary tree, and
 * the root node re-run with an output counter for extendable output.
 * Portable C, no SIMD: the Nym uses are short (key derivation, digests). */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/blake3.h"

#define CHUNK_LEN 1024
#define CHUNK_START 1u
#define CHUNK_END 2u
#define PARENT 4u
#define ROOT 8u

static const uint32_t IV[8] = {
	0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
	0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
};

/* Message word order of round r+1 is that of round r permuted by this. */
static const uint8_t PERM[16] = { 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8 };

static inline uint32_t
rotr(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t
ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void
st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static inline void
g(uint32_t *s, int a, int b, int c, int d, uint32_t mx, uint32_t my)
{
	s[a] = s[a] + s[b] + mx; s[d] = rotr(s[d] ^ s[a], 16);
	s[c] = s[c] + s[d];      s[b] = rotr(s[b] ^ s[c], 12);
	s[a] = s[a] + s[b] + my; s[d] = rotr(s[d] ^ s[a], 8);
	s[c] = s[c] + s[d];      s[b] = rotr(s[b] ^ s[c], 7);
}

/* The full 16-word output of one compression (the first 8 words are the
 * new chaining value; all 16 are used for extended root output). */
static void
compress(uint32_t out[16], const uint32_t cv[8], const uint8_t block[64],
         uint64_t counter, uint32_t block_len, uint32_t flags)
{
	uint32_t m[16], t[16], s[16];
	for (int i = 0; i < 16; i++)
		m[i] = ld32(block + 4 * i);
	memcpy(s, cv, 8 * sizeof *s);
	memcpy(s + 8, IV, 4 * sizeof *s);
	s[12] = (uint32_t)counter;
	s[13] = (uint32_t)(counter >> 32);
	s[14] = block_len;
	s[15] = flags;
	for (int r = 0; r < 7; r++) {
		g(s, 0, 4, 8, 12, m[0], m[1]);
		g(s, 1, 5, 9, 13, m[2], m[3]);
		g(s, 2, 6, 10, 14, m[4], m[5]);
		g(s, 3, 7, 11, 15, m[6], m[7]);
		g(s, 0, 5, 10, 15, m[8], m[9]);
		g(s, 1, 6, 11, 12, m[10], m[11]);
		g(s, 2, 7, 8, 13, m[12], m[13]);
		g(s, 3, 4, 9, 14, m[14], m[15]);
		if (r < 6) {
			for (int i = 0; i < 16; i++)
				t[i] = m[PERM[i]];
			memcpy(m, t, sizeof m);
		}
	}
	for (int i = 0; i < 8; i++) {
		out[i] = s[i] ^ s[i + 8];
		out[i + 8] = s[i + 8] ^ cv[i];
	}
}

/* A node whose compression is deferred until we know whether it is the root. */
struct node {
	uint32_t cv[8];
	uint8_t block[64];
	uint64_t counter;
	uint32_t block_len, flags;
};

static void
node_cv(uint32_t cv[8], const struct node *n)
{
	uint32_t out[16];
	compress(out, n->cv, n->block, n->counter, n->block_len, n->flags);
	memcpy(cv, out, 8 * sizeof *cv);
}

static void
parent_node(struct node *n, const uint32_t left[8], const uint32_t right[8],
            const uint32_t key[8], uint32_t flags)
{
	memcpy(n->cv, key, sizeof n->cv);
	for (int i = 0; i < 8; i++) {
		st32(n->block + 4 * i, left[i]);
		st32(n->block + 32 + 4 * i, right[i]);
	}
	n->counter = 0;
	n->block_len = 64;
	n->flags = flags | PARENT;
}

/* The current chunk's last (possibly partial, possibly empty) block. */
static void
chunk_node(struct node *n, const struct nym_blake3 *s)
{
	memcpy(n->cv, s->cv, sizeof n->cv);
	memset(n->block, 0, sizeof n->block);
	memcpy(n->block, s->buf, s->buf_len);
	n->counter = s->chunk_counter;
	n->block_len = s->buf_len;
	n->flags = s->flags | CHUNK_END | (s->blocks_compressed == 0 ? CHUNK_START : 0);
}

void
nym_blake3_init(struct nym_blake3 *s)
{
	memset(s, 0, sizeof *s);
	memcpy(s->key, IV, sizeof s->key);
	memcpy(s->cv, IV, sizeof s->cv);
	s->flags = 0; /* hash mode; keyed / derive-key modes are not needed */
}

/* A finished chunk's CV joins the stack; completed subtrees are merged first.
 * After chunk number total-1 finishes, the number of trailing zero bits of
 * total is the number of merges due (the stack mirrors total's binary form). */
static void
push_chunk_cv(struct nym_blake3 *s, uint32_t cv[8], uint64_t total)
{
	struct node n;
	while ((total & 1) == 0) {
		s->cv_stack_len--;
		parent_node(&n, s->cv_stack + 8 * s->cv_stack_len, cv, s->key, s->flags);
		node_cv(cv, &n);
		total >>= 1;
	}
	memcpy(s->cv_stack + 8 * s->cv_stack_len, cv, 8 * sizeof *cv);
	s->cv_stack_len++;
}

void
nym_blake3_update(struct nym_blake3 *s, const void *in, size_t len)
{
	const uint8_t *p = in;
	while (len > 0) {
		/* The chunk is full and more input follows: close it. */
		if (s->blocks_compressed * 64 + s->buf_len == CHUNK_LEN) {
			struct node n;
			uint32_t cv[8];
			chunk_node(&n, s);
			node_cv(cv, &n);
			s->chunk_counter++;
			push_chunk_cv(s, cv, s->chunk_counter);
			memcpy(s->cv, s->key, sizeof s->cv);
			s->blocks_compressed = 0;
			s->buf_len = 0;
		}
		/* A full buffer with more input to come is not the chunk's last
		 * block: compress it now. */
		if (s->buf_len == 64) {
			uint32_t out[16];
			compress(out, s->cv, s->buf, s->chunk_counter, 64,
			         s->flags | (s->blocks_compressed == 0 ? CHUNK_START : 0));
			memcpy(s->cv, out, sizeof s->cv);
			s->blocks_compressed++;
			s->buf_len = 0;
		}
		size_t take = 64 - s->buf_len;
		if (take > len)
			take = len;
		memcpy(s->buf + s->buf_len, p, take);
		s->buf_len += (uint8_t)take;
		p += take;
		len -= take;
	}
}

void
nym_blake3_final(const struct nym_blake3 *s, uint8_t *out, size_t outlen)
{
	struct node n;
	uint32_t cv[8], words[16];
	uint8_t block[64];

	chunk_node(&n, s);
	for (size_t i = s->cv_stack_len; i > 0; i--) {
		node_cv(cv, &n);
		parent_node(&n, s->cv_stack + 8 * (i - 1), cv, s->key, s->flags);
	}
	/* Root: same inputs, ROOT flag, counter = output block index. */
	for (uint64_t t = 0; outlen > 0; t++) {
		compress(words, n.cv, n.block, t, n.block_len, n.flags | ROOT);
		for (int i = 0; i < 16; i++)
			st32(block + 4 * i, words[i]);
		size_t k = outlen < 64 ? outlen : 64;
		memcpy(out, block, k);
		out += k;
		outlen -= k;
	}
	sodium_memzero(block, sizeof block);
	sodium_memzero(words, sizeof words);
	sodium_memzero(&n, sizeof n);
	sodium_memzero(cv, sizeof cv);
}

void
nym_blake3(uint8_t out[32], const void *in, size_t len)
{
	struct nym_blake3 s;
	nym_blake3_init(&s);
	nym_blake3_update(&s, in, len);
	nym_blake3_final(&s, out, 32);
	sodium_memzero(&s, sizeof s);
}

/* ---------------------------------------------------------------------------
 * HMAC (RFC 2104) over BLAKE3-256 with a 64-byte block, and HKDF over it. */

struct hmac_b3 {
	struct nym_blake3 inner, outer;
};

static void
hmac_b3_init(struct hmac_b3 *h, const uint8_t *key, size_t keylen)
{
	uint8_t k[64] = { 0 }, pad[64];
	if (keylen > 64)
		nym_blake3(k, key, keylen);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	nym_blake3_init(&h->inner);
	nym_blake3_update(&h->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	nym_blake3_init(&h->outer);
	nym_blake3_update(&h->outer, pad, 64);
	sodium_memzero(k, sizeof k);
	sodium_memzero(pad, sizeof pad);
}

static void
hmac_b3_final(struct hmac_b3 *h, uint8_t out[32])
{
	uint8_t ih[32];
	nym_blake3_final(&h->inner, ih, 32);
	nym_blake3_update(&h->outer, ih, 32);
	nym_blake3_final(&h->outer, out, 32);
	sodium_memzero(ih, sizeof ih);
	sodium_memzero(h, sizeof *h);
}

void
nym_hmac_blake3(uint8_t out[32], const uint8_t *key, size_t keylen,
                const uint8_t *msg, size_t len)
{
	struct hmac_b3 h;
	hmac_b3_init(&h, key, keylen);
	nym_blake3_update(&h.inner, msg, len);
	hmac_b3_final(&h, out);
}

int
nym_hkdf_blake3(uint8_t *okm, size_t okmlen, const uint8_t *salt, size_t saltlen,
                const uint8_t *ikm, size_t ikmlen, const uint8_t *info, size_t infolen)
{
	static const uint8_t zero[32];
	uint8_t prk[32], t[32];
	struct hmac_b3 h0, h;

	if (okmlen > 255 * 32)
		return NYM_EINVAL;
	if (!salt)
		salt = zero, saltlen = sizeof zero; /* same HMAC key as an empty salt */
	nym_hmac_blake3(prk, salt, saltlen, ikm, ikmlen);
	hmac_b3_init(&h0, prk, sizeof prk); /* keyed once, copied per block */
	size_t done = 0;
	for (uint8_t i = 1; done < okmlen; i++) {
		h = h0;
		if (i > 1)
			nym_blake3_update(&h.inner, t, sizeof t);
		if (infolen)
			nym_blake3_update(&h.inner, info, infolen);
		nym_blake3_update(&h.inner, &i, 1);
		hmac_b3_final(&h, t);
		size_t n = okmlen - done < 32 ? okmlen - done : 32;
		memcpy(okm + done, t, n);
		done += n;
	}
	sodium_memzero(&h0, sizeof h0);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(t, sizeof t);
	return 0;
}
