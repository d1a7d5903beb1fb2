/* bench_message — message preparation: plaintext in, ready MixPackets out
 * (NymMessage, padding, fragments, SURB-ack block, end-to-end encryption,
 * 4-hop Sphinx, MixPacket), for 1 KiB and 1 MiB messages, regular packets,
 * version 259, one thread.
 *
 * Floor per packet = the X25519 operations it cannot avoid, times the X25519
 * cost measured in this run, plus the symmetric work at the sizes used:
 *   SURB-ack: a 4-hop Sphinx header (1 fixed-base + 4 variable-base X25519,
 *     per hop HKDF-SHA256 -> 288 B, 360 B AES-CTR, HMAC over 300 B, HKDF
 *     -> 192 B for the 259 payload key) + Lioness over 38 B per hop;
 *   payload: 1 fixed-base X25519 (e_pk) + 1 variable-base (shared secret) +
 *     HKDF-HMAC-BLAKE3 + AES-128-CTR over 1611 B;
 *   forward packet: the same header work + Lioness over 2065 B per hop.
 *   => 3 fixed-base + 9 variable-base X25519 per packet.
 * Reference: the official client (wasm 1.4.1, shared/peer harness) sends a
 * 1 MB message as 624 packets in 3.6 s on a 2-core machine: 0.28 MB/s.
 * Target: >= 10 x that (2.8 MB/s). The 1 MiB message is also prepared by
 * one sender per core (nym_courier_send_part over a shared split plan), as a
 * tool may do; the official figure used 2 cores. */
#include <pthread.h>
#include <sodium.h>
#include <unistd.h>

#include "bench.h"
#include "crypto/blake3.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "proto/courier.h"
#include "proto/payload.h"
#include "proto/sphinx.h"

/* The official client's MB/s: measured by bench/bench_wasm.sh in this make
 * bench run (NYM_BENCH_OFFICIAL_MBPS), else the recorded 0.28 MB/s. */
static double official_mbps = 1e6 / 3.6 / 1e6;
static int official_measured;
#define OFFICIAL_MBPS official_mbps

static struct {
	struct nym_sphinx_ctx ctx;
	struct nym_sphinx_node hops[4];
	uint8_t gw[32];
	struct nym_client_keys me, peer;
	struct nym_address to;
	struct nym_courier_sender *tx;
	struct nym_rng rng;
	uint8_t *msg;
	size_t len, packets;
	uint8_t k32[32], u[32], out[32], okm[288], buf[2100], key[192];
} B;

static int
pick(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	(void)ctx;
	(void)gateway;
	memcpy(hops, B.hops, sizeof B.hops);
	return 4;
}

static int
sink(void *ctx, const struct nym_courier_packet *p)
{
	(void)ctx;
	bench_sink ^= p->mix_packet[p->mix_packet_len - 1];
	B.packets++;
	return 0;
}

static void
op_send(void *a)
{
	struct nym_route_source rs = { pick, NULL };
	(void)a;
	if (nym_courier_send_plain(B.tx, &B.to, B.msg, B.len, &rs, &B.rng, sink, NULL) < 0)
		abort();
}

#define MAX_THREADS 16
static struct nym_courier_sender *par_tx[MAX_THREADS];
static int nthreads;
static struct nym_split plan;
static uint8_t *nm;

struct part { int t; size_t first, count; };

static void *
part_main(void *a)
{
	struct part *p = a;
	struct nym_route_source rs = { pick, NULL };
	struct nym_rng rng = nym_rng_system();
	if (nym_courier_send_part(par_tx[p->t], &B.to, &plan, p->first, p->count, &rs, &rng, sink, NULL) < 0)
		abort();
	return NULL;
}

/* 1 MiB over nthreads senders: serialize and plan, then build in parallel. */
static void
op_send_par(void *a)
{
	pthread_t th[MAX_THREADS];
	struct part pt[MAX_THREADS];
	size_t per;
	(void)a;
	nm[0] = 0;
	memcpy(nm + 1, B.msg, B.len);
	if (nym_split_init(&plan, nm, B.len + 1, 1611, &B.rng) < 0)
		abort();
	per = (plan.nfrags + (size_t)nthreads - 1) / (size_t)nthreads;
	for (int t = 0; t < nthreads; t++) {
		pt[t].t = t;
		pt[t].first = (size_t)t * per < plan.nfrags ? (size_t)t * per : plan.nfrags;
		pt[t].count = plan.nfrags - pt[t].first < per ? plan.nfrags - pt[t].first : per;
		pthread_create(&th[t], NULL, part_main, &pt[t]);
	}
	for (int t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	nym_split_free(&plan);
}

static void op_x25519(void *a) { (void)a; nym_x25519(B.out, B.k32, B.u); B.u[0] ^= B.out[0]; }
static void op_x25519_base(void *a) { (void)a; nym_x25519_base(B.out, B.k32); B.k32[1] ^= B.out[0]; }
static void op_hkdf288(void *a) { (void)a; nym_sphinx_expand(B.okm, B.k32); bench_sink ^= B.okm[0]; }
static void op_hkdf192(void *a) { (void)a; nym_sphinx_seed_key(B.key, B.k32); bench_sink ^= B.key[0]; }
static void op_hmac300(void *a) { (void)a; nym_hmac_sha256(B.out, B.k32, 16, B.buf, 300); bench_sink ^= B.out[0]; }
static void op_aes360(void *a) { static const uint8_t iv[16]; (void)a; nym_aes128_ctr_xor(&B.ctx.aes, B.buf, B.buf, 360, B.k32, iv); }
static void op_aes1611(void *a) { static const uint8_t iv[16]; (void)a; nym_aes128_ctr_xor(&B.ctx.aes, B.buf, B.buf, 1611, B.k32, iv); }
static void op_lioness2065(void *a) { (void)a; nym_lioness_encrypt(B.buf, 2065, B.key); }
static void op_lioness38(void *a) { (void)a; nym_lioness_encrypt(B.buf, 38, B.key); }
static void op_payload_kdf(void *a) { uint8_t k[16]; (void)a; nym_payload_key(k, B.k32); bench_sink ^= k[0]; }

int
main(void)
{
	const char *om = getenv("NYM_BENCH_OFFICIAL_MBPS");
	if (om && atof(om) > 0) {
		official_mbps = atof(om);
		official_measured = 1;
	}
	if (nym_crypto_init() != 0 || nym_sphinx_ctx_init(&B.ctx) != 0)
		return 1;
	B.rng = nym_rng_system();
	for (int i = 0; i < 4; i++) {
		uint8_t sk[32];
		randombytes_buf(sk, 32);
		nym_x25519_base(B.hops[i].pubkey, sk);
		B.hops[i].address[0] = 4;
		B.hops[i].address[2] = (uint8_t)(0x10 + i);
		B.hops[i].address[3] = 127;
		B.hops[i].address[6] = 1;
	}
	randombytes_buf(B.gw, 32);
	randombytes_buf(&B.me, sizeof B.me);
	randombytes_buf(&B.peer, sizeof B.peer);
	nym_x25519_base(B.me.encryption_pk, B.me.encryption_sk);
	nym_x25519_base(B.peer.encryption_pk, B.peer.encryption_sk);
	memcpy(B.to.identity, B.peer.identity_pk, 32);
	memcpy(B.to.encryption, B.peer.encryption_pk, 32);
	memcpy(B.to.gateway, B.gw, 32);
	B.tx = nym_courier_sender_new(&B.me, B.gw, NULL);
	B.msg = malloc(1 << 20);
	randombytes_buf(B.msg, 1 << 20);
	randombytes_buf(B.k32, 32);
	nym_x25519_base(B.u, B.k32);
	randombytes_buf(B.key, sizeof B.key);
	if (!B.tx || !B.msg)
		return 1;
	nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = nthreads < 1 ? 1 : nthreads > MAX_THREADS ? MAX_THREADS : nthreads;
	for (int t = 0; t < nthreads; t++)
		if (!(par_tx[t] = nym_courier_sender_new(&B.me, B.gw, NULL)))
			return 1;
	nm = malloc((1 << 20) + 1);

	enum { X, XB, HK288, HK192, HM, AES360, AES1611, LIO2065, LIO38, PKDF, NPRIM };
	static const bench_fn fns[NPRIM] = { op_x25519, op_x25519_base, op_hkdf288, op_hkdf192, op_hmac300,
		op_aes360, op_aes1611, op_lioness2065, op_lioness38, op_payload_kdf };
	static const char *const names[NPRIM] = { "X25519 variable base", "X25519 fixed base",
		"HKDF-SHA256 -> 288 B", "HKDF-SHA256 -> 192 B (v259 key)", "HMAC-SHA256 300 B",
		"AES-128-CTR 360 B", "AES-128-CTR 1611 B (payload)", "Lioness 2065 B", "Lioness 38 B (ack)",
		"HKDF-HMAC-BLAKE3 -> 16 B" };
	static const size_t bytes[NPRIM] = { 0, 0, 0, 0, 300, 360, 1611, 2065, 38, 0 };
	static const size_t sizes[2] = { 1024, 1 << 20 };
	int rounds = bench_runs();
	double run_ms = bench_run_ms();
	static double ns[NPRIM][BENCH_MAX_RUNS], msg_ns[3][BENCH_MAX_RUNS], ratio[3][BENCH_MAX_RUNS];
	size_t npk[2];

	for (int s = 0; s < 2; s++)
		npk[s] = nym_message_packets(sizes[s] + 1, 1611);
	for (int k = 0; k < rounds; k++) {
		for (int i = 0; i < NPRIM; i++)
			ns[i][k] = bench_ns_per_op_with(fns[i], NULL, 1, run_ms);
		double header = ns[XB][k] + 4 * ns[X][k] + 4 * (ns[HK288][k] + ns[AES360][k] + ns[HM][k] + ns[HK192][k]);
		double floor_pkt = 2 * header + 4 * ns[LIO38][k] + 4 * ns[LIO2065][k] + ns[XB][k] + ns[X][k] +
		                   ns[PKDF][k] + ns[AES1611][k];
		for (int s = 0; s < 2; s++) {
			B.len = sizes[s];
			msg_ns[s][k] = bench_ns_per_op_with(op_send, NULL, 1, s ? run_ms * 10 : run_ms);
			ratio[s][k] = msg_ns[s][k] / (floor_pkt * (double)npk[s]);
		}
		B.len = sizes[1];
		msg_ns[2][k] = bench_ns_per_op_with(op_send_par, NULL, 1, run_ms * 10);
		ratio[2][k] = msg_ns[2][k] * nthreads / (floor_pkt * (double)npk[1]);
	}
	double med[NPRIM];
	for (int i = 0; i < NPRIM; i++)
		med[i] = bench_median(ns[i], rounds);
	bench_header("bench_message: primitives at message-layer sizes (medians of interleaved rounds)");
	for (int i = 0; i < NPRIM; i++)
		bench_row(names[i], med[i], bytes[i]);
	double header = med[XB] + 4 * med[X] + 4 * (med[HK288] + med[AES360] + med[HM] + med[HK192]);
	double floor_pkt = 2 * header + 4 * med[LIO38] + 4 * med[LIO2065] + med[XB] + med[X] + med[PKDF] + med[AES1611];
	printf("floor per packet (3 fixed-base + 9 variable-base X25519 + symmetric) %12.1f ns\n", floor_pkt);
	printf("  of which X25519: %.1f ns (%.0f %%)\n", 3 * med[XB] + 9 * med[X],
	       100 * (3 * med[XB] + 9 * med[X]) / floor_pkt);

	printf("\n%-26s %8s %12s %10s %8s %10s %8s\n", "prepare message", "packets", "ms", "MB/s", "x floor",
	       "x official", "target");
	int fail = 0;
	for (int s = 0; s < 3; s++) {
		double t = bench_median(msg_ns[s], rounds), r = bench_median(ratio[s], rounds);
		size_t sz = sizes[s ? 1 : 0];
		double mbps = (double)sz / t * 1e3;
		char name[64];
		if (s < 2)
			snprintf(name, sizeof name, "%s, 1 thread", s ? "1 MiB" : "1 KiB");
		else
			snprintf(name, sizeof name, "1 MiB, %d threads", nthreads);
		printf("%-26s %8zu %12.3f %10.2f %8.3f %10.1f %8s\n", name, npk[s ? 1 : 0], t / 1e6, mbps, r,
		       mbps / OFFICIAL_MBPS, s == 2 ? ">= 10" : "-");
		if (s == 2)
			fail |= mbps / OFFICIAL_MBPS < 10;
	}
	printf("(plain messages, SURB-acks, 4-hop routes, v259, MixPacket v2; x floor for N threads\n"
	       " is N x wall time over the single-thread floor)\n");
	if (official_measured)
		printf("(official client: %.2f MB/s, 1 MiB to nym-recv measured by bench_wasm in this run; floor from this run's primitives)\n",
		       OFFICIAL_MBPS);
	else
		printf("(official client: 1 MB as 624 packets in 3.6 s = %.2f MB/s, recorded; floor from this run's primitives)\n",
		       OFFICIAL_MBPS);
	if (fail)
		printf("bench_message: below 10 x the official client\n");
	nym_courier_sender_free(B.tx);
	for (int t = 0; t < nthreads; t++)
		nym_courier_sender_free(par_tx[t]);
	free(nm);
	nym_sphinx_ctx_free(&B.ctx);
	free(B.msg);
	return 0;
}
