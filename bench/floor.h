/* floor.h — the crypto floor of this machine: what each primitive nymkit is
 * built from costs, measured with bench.h. bench_crypto prints it; other
 * benchmarks measure it in the same run and print their figures as ratios
 * to it (e.g. "Sphinx hop = 1.3 x X25519"). */
#ifndef NYM_BENCH_FLOOR_H
#define NYM_BENCH_FLOOR_H

#include "bench.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "crypto/gcmsiv.h"

enum {
	BENCH_FLOOR_X25519,       /* X25519, clamped (libsodium) */
	BENCH_FLOOR_LADDER,       /* unclamped Montgomery ladder (ours) */
	BENCH_FLOOR_ED_SIGN,      /* Ed25519 sign, 64-byte message */
	BENCH_FLOOR_ED_VERIFY,    /* Ed25519 verify, 64-byte message */
	BENCH_FLOOR_AES_CTR,      /* AES-128-CTR over 2 KiB, reused context */
	BENCH_FLOOR_CHACHA20,     /* ChaCha20 (DJB) over 2 KiB */
	BENCH_FLOOR_BLAKE2B,      /* keyed BLAKE2b-256 over 2 KiB, 64-byte key */
	BENCH_FLOOR_HMAC_SHA256,  /* HMAC-SHA256 over 2 KiB, 16-byte key */
	BENCH_FLOOR_BLAKE3,       /* BLAKE3-256 over 2 KiB */
	BENCH_FLOOR_GCMSIV,       /* AES-256-GCM-SIV seal of 2 KiB, reused context */
	BENCH_FLOOR_HKDF_SHA256,  /* HKDF-SHA256, 32-byte IKM -> 288 bytes (Sphinx expand) */
	BENCH_FLOOR_N
};

#define BENCH_FLOOR_BULK 2048

struct bench_floor {
	double ns[BENCH_FLOOR_N];
};

static const char *const bench_floor_name[BENCH_FLOOR_N] = {
	"X25519 (clamped, libsodium)",
	"X25519 ladder, unclamped (ours)",
	"Ed25519 sign (64 B)",
	"Ed25519 verify (64 B)",
	"AES-128-CTR 2 KiB",
	"ChaCha20 2 KiB",
	"keyed BLAKE2b-256 2 KiB",
	"HMAC-SHA256 2 KiB",
	"BLAKE3-256 2 KiB",
	"AES-256-GCM-SIV seal 2 KiB",
	"HKDF-SHA256 -> 288 B",
};

static const size_t bench_floor_bytes[BENCH_FLOOR_N] = {
	0, 0, 0, 0, BENCH_FLOOR_BULK, BENCH_FLOOR_BULK, BENCH_FLOOR_BULK,
	BENCH_FLOOR_BULK, BENCH_FLOOR_BULK, BENCH_FLOOR_BULK, 0,
};

struct bench_floor_ctx {
	uint8_t k32[32], u[32], out[64], seed[32], pk[32], sig[64], msg64[64];
	uint8_t key64[64], iv[16], nonce8[8], nonce12[12];
	uint8_t buf[BENCH_FLOOR_BULK], out_bulk[BENCH_FLOOR_BULK + 16], okm[288];
	struct nym_aes128_ctr aes;
	struct nym_gcmsiv siv;
};

static void bf_x25519(void *a) { struct bench_floor_ctx *c = a; nym_x25519(c->out, c->k32, c->u); c->u[0] ^= c->out[0]; }
static void bf_ladder(void *a) { struct bench_floor_ctx *c = a; nym_x25519_unclamped(c->out, c->k32, c->u); c->u[0] ^= c->out[0]; }
static void bf_sign(void *a) { struct bench_floor_ctx *c = a; nym_ed25519_sign(c->out, c->msg64, 64, c->seed); bench_sink ^= c->out[0]; }
static void bf_verify(void *a) { struct bench_floor_ctx *c = a; bench_sink ^= (uint8_t)nym_ed25519_verify(c->sig, c->msg64, 64, c->pk); }
static void bf_aes(void *a) { struct bench_floor_ctx *c = a; nym_aes128_ctr_xor(&c->aes, c->out_bulk, c->buf, BENCH_FLOOR_BULK, c->k32, c->iv); bench_sink ^= c->out_bulk[7]; }
static void bf_chacha(void *a) { struct bench_floor_ctx *c = a; nym_chacha20_xor(c->out_bulk, c->buf, BENCH_FLOOR_BULK, c->k32, c->nonce8); bench_sink ^= c->out_bulk[7]; }
static void bf_blake2b(void *a) { struct bench_floor_ctx *c = a; nym_blake2b_keyed32(c->out, c->key64, 64, c->buf, BENCH_FLOOR_BULK); bench_sink ^= c->out[0]; }
static void bf_hmac(void *a) { struct bench_floor_ctx *c = a; nym_hmac_sha256(c->out, c->k32, 16, c->buf, BENCH_FLOOR_BULK); bench_sink ^= c->out[0]; }
static void bf_blake3(void *a) { struct bench_floor_ctx *c = a; nym_blake3(c->out, c->buf, BENCH_FLOOR_BULK); bench_sink ^= c->out[0]; }
static void bf_gcmsiv(void *a) { struct bench_floor_ctx *c = a; nym_gcmsiv_seal(&c->siv, c->out_bulk, c->buf, BENCH_FLOOR_BULK, NULL, 0, c->nonce12); bench_sink ^= c->out_bulk[7]; }
static void bf_hkdf(void *a) { struct bench_floor_ctx *c = a; nym_hkdf_sha256(c->okm, 288, NULL, 0, c->k32, 32, c->msg64, 64); bench_sink ^= c->okm[0]; }

/* Measure every row; 0 or -1 when a context cannot be set up. */
static inline int
bench_floor_measure(struct bench_floor *f)
{
	static const bench_fn fns[BENCH_FLOOR_N] = {
		bf_x25519, bf_ladder, bf_sign, bf_verify, bf_aes, bf_chacha,
		bf_blake2b, bf_hmac, bf_blake3, bf_gcmsiv, bf_hkdf,
	};
	struct bench_floor_ctx *c = calloc(1, sizeof *c);
	if (!c || nym_crypto_init() != 0)
		return -1;
	for (size_t i = 0; i < sizeof c->buf; i++)
		c->buf[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 32; i++) {
		c->k32[i] = (uint8_t)(3 * i + 1);
		c->u[i] = (uint8_t)(5 * i + 2);
		c->seed[i] = (uint8_t)(7 * i + 3);
	}
	memset(c->msg64, 0x42, sizeof c->msg64);
	memset(c->key64, 0x17, sizeof c->key64);
	if (nym_ed25519_public(c->pk, c->seed) || nym_ed25519_sign(c->sig, c->msg64, 64, c->seed) ||
	    nym_aes128_ctr_init(&c->aes) || nym_gcmsiv_init(&c->siv, c->k32)) {
		free(c);
		return -1;
	}
	for (int i = 0; i < BENCH_FLOOR_N; i++)
		f->ns[i] = bench_ns_per_op(fns[i], c);
	nym_aes128_ctr_free(&c->aes);
	nym_gcmsiv_free(&c->siv);
	free(c);
	return 0;
}

static inline void
bench_floor_print(const struct bench_floor *f)
{
	for (int i = 0; i < BENCH_FLOOR_N; i++)
		bench_row(bench_floor_name[i], f->ns[i], bench_floor_bytes[i]);
}

#endif
