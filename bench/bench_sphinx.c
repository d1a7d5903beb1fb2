/* bench_sphinx — Sphinx packet creation (4 hops) and one hop of processing,
 * versions 258 and 259, regular packets, each beside its floor.
 *
 * Floor = the X25519 operations the work cannot avoid, times the X25519 cost
 * measured here, plus the symmetric work at the sizes Sphinx uses:
 *   processing one hop: 2 X25519 (the DH with the node key; blinding alpha
 *     for the next hop) + HKDF to 288 B + HMAC over the 300-byte routing
 *     info + 360 B of AES-128-CTR + Lioness over the 2065-byte payload
 *     (+ HKDF to 192 B for the v259 payload key);
 *   creating a 4-hop packet: 1 fixed-base X25519 (alpha_0) + 4 variable-base
 *     X25519 (one shared secret per hop: the blinding factors are multiplied
 *     into one scalar mod l, instead of the 10 chained ones of the plain
 *     construction) + per hop HKDF 288, 360 B AES-CTR, HMAC 300, Lioness 2065
 *     (+ HKDF 192 for v259), and one 64-byte random draw.
 * Targets: processing <= 1.15 x floor, creation <= 1.3 x floor. */
#include <sodium.h>

#include "bench.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "proto/sphinx.h"

#define LEN 2413
#define PLEN (LEN - 348)

static struct {
	struct nym_sphinx_ctx ctx;
	struct nym_sphinx_route r;
	uint8_t sk[4][32], pkt[LEN], work[LEN], msg[2048];
	uint8_t k32[32], u[32], out[32], okm[288], buf[360], payload[PLEN], key[192];
	struct nym_rng rng;
} B;

static void op_x25519(void *a) { (void)a; nym_x25519(B.out, B.k32, B.u); B.u[0] ^= B.out[0]; }
static void op_x25519_base(void *a) { (void)a; nym_x25519_base(B.out, B.k32); B.k32[1] ^= B.out[0]; }
static void op_hkdf288(void *a) { (void)a; nym_sphinx_expand(B.okm, B.k32); bench_sink ^= B.okm[0]; }
static void op_hkdf192(void *a) { (void)a; nym_sphinx_seed_key(B.key, B.k32); bench_sink ^= B.key[0]; }
static void op_hmac300(void *a) { (void)a; nym_hmac_sha256(B.out, B.k32, 16, B.buf, 300); bench_sink ^= B.out[0]; }
static void op_aes360(void *a) { static const uint8_t iv[16]; (void)a; nym_aes128_ctr_xor(&B.ctx.aes, B.buf, B.buf, 360, B.k32, iv); }
static void op_lioness(void *a) { (void)a; nym_lioness_decrypt(B.payload, PLEN, B.key); }
static void op_random(void *a) { (void)a; nym_rng_fill(&B.rng, B.buf, 64); }

static void
op_process(void *a)
{
	struct nym_sphinx_processed out;
	(void)a;
	memcpy(B.work, B.pkt, LEN);
	if (nym_sphinx_process(&B.ctx, B.work, LEN, B.sk[0], &out) != 0)
		abort();
}

static void
op_create(void *a)
{
	(void)a;
	if (nym_sphinx_create(&B.ctx, B.work, LEN, &B.r, B.msg, sizeof B.msg, &B.rng) != 0)
		abort();
}

static void
op_memcpy(void *a)
{
	(void)a;
	memcpy(B.work, B.pkt, LEN);
	bench_sink ^= B.work[100];
}

int
main(int argc, char **argv)
{
	if (nym_crypto_init() < 0 || nym_sphinx_ctx_init(&B.ctx) < 0)
		return 1;
	B.rng = nym_rng_system();
	randombytes_buf(B.k32, 32);
	randombytes_buf(B.u, 32);
	randombytes_buf(B.payload, PLEN);
	randombytes_buf(B.key, 192);
	randombytes_buf(B.msg, sizeof B.msg);
	B.r.nhops = 4;
	for (int i = 0; i < 4; i++) {
		randombytes_buf(B.sk[i], 32);
		nym_x25519_base(B.r.hop[i].pubkey, B.sk[i]);
		memset(B.r.hop[i].address, i + 1, 32);
		B.r.delay_ns[i] = 15000000;
	}
	nym_x25519_base(B.u, B.sk[1]); /* a real curve point for the X25519 row */

	if (argc > 1 && !strcmp(argv[1], "--create-ns")) {
		/* one figure for bench/bench_wasm.mjs: ns per 4-hop v259 creation */
		double v[BENCH_MAX_RUNS];
		int rounds = bench_runs();
		B.r.version = 259;
		for (int k = 0; k < rounds; k++)
			v[k] = bench_ns_per_op_with(op_create, NULL, 1, bench_run_ms());
		printf("%.0f\n", bench_median(v, rounds));
		return 0;
	}
	/* The machine may be busy: measure every row once per round, all rows
	 * interleaved, and report medians of the figures and of the ratios. */
	enum { X, XB, HK288, HK192, HM, AES, LIO, RND, CP, P258, C258, P259, C259, NROW };
	static const bench_fn fns[NROW] = { op_x25519, op_x25519_base, op_hkdf288, op_hkdf192,
		op_hmac300, op_aes360, op_lioness, op_random, op_memcpy, op_process, op_create,
		op_process, op_create };
	static const char *const names[NROW] = { "X25519 variable base", "X25519 fixed base (alpha_0)",
		"HKDF-SHA256 -> 288 B (expand)", "HKDF-SHA256 -> 192 B (v259 key)",
		"HMAC-SHA256 300 B (16-B key)", "AES-128-CTR 360 B (ctx)", "Lioness 2065 B",
		"random 64 B", "memcpy 2413 B (bench input copy)" };
	static const size_t bytes[NROW] = { 0, 0, 0, 0, 300, 360, PLEN, 64, LEN };
	int rounds = bench_runs();
	double run_ms = bench_run_ms();
	static double ns[NROW][BENCH_MAX_RUNS], ratio[4][BENCH_MAX_RUNS];
	uint8_t pk258[LEN], pk259[LEN];

	for (int v = 258; v <= 259; v++) {
		struct nym_rng rng = B.rng;
		B.r.version = (uint16_t)v;
		if (nym_sphinx_create(&B.ctx, v == 258 ? pk258 : pk259, LEN, &B.r, B.msg,
		                      sizeof B.msg, &rng) != 0)
			return 1;
	}
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < NROW; i++) {
			int v = i == P258 || i == C258 ? 258 : 259;
			B.r.version = (uint16_t)v;
			memcpy(B.pkt, v == 258 ? pk258 : pk259, LEN);
			ns[i][k] = bench_ns_per_op_with(fns[i], NULL, 1, run_ms);
		}
		double *n = NULL;
		(void)n;
		for (int v = 0; v < 2; v++) {
			double pk = v ? ns[HK192][k] : 0;
			double pf = 2 * ns[X][k] + ns[HK288][k] + ns[HM][k] + ns[AES][k] + ns[LIO][k] + pk + ns[CP][k];
			double cf = ns[XB][k] + 4 * ns[X][k] +
			            4 * (ns[HK288][k] + ns[AES][k] + ns[HM][k] + ns[LIO][k] + pk) + ns[RND][k];
			ratio[2 * v][k] = ns[v ? P259 : P258][k] / pf;
			ratio[2 * v + 1][k] = ns[v ? C259 : C258][k] / cf;
		}
	}
	double med[NROW];
	for (int i = 0; i < NROW; i++)
		med[i] = bench_median(ns[i], rounds);
	bench_header("bench_sphinx: primitives at Sphinx sizes (medians of interleaved rounds)");
	for (int i = 0; i < P258; i++)
		bench_row(names[i], med[i], bytes[i]);

	printf("\n%-34s %12s %10s %8s %8s\n", "operation", "ns/op", "ops/s", "x floor", "target");
	int fail = 0;
	for (int v = 0; v < 2; v++) {
		char name[64];
		double rp = bench_median(ratio[2 * v], rounds), rc = bench_median(ratio[2 * v + 1], rounds);
		double p = med[v ? P259 : P258], c = med[v ? C259 : C258];
		snprintf(name, sizeof name, "process 1 hop v%d (2 X25519)", 258 + v);
		printf("%-34s %12.1f %10.0f %8.3f %8s\n", name, p, 1e9 / p, rp, "1.15");
		snprintf(name, sizeof name, "create 4 hops v%d (1+4 X25519)", 258 + v);
		printf("%-34s %12.1f %10.0f %8.3f %8s\n", name, c, 1e9 / c, rc, "1.30");
		fail |= rp > 1.15 || rc > 1.3;
	}
	double x = med[X], xb = med[XB];
	printf("(floor: the same run's primitives; the plain construction would need 1 + 10\n"
	       " variable-base X25519 to create 4 hops, %.2f times the X25519 work of 1 + 4)\n",
	       (xb + 10 * x) / (xb + 4 * x));
	nym_sphinx_ctx_free(&B.ctx);
	if (fail)
		printf("bench_sphinx: a ratio is above its target\n");
	return 0;
}
