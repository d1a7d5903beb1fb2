/* bench_client.c — the client tools' path end to end, through a local mixnet
 * with zero mix delays (nym-localnet --delay-mean 0 --max-delay 0): two
 * clients in this process (the run-time client of nym-send and nym-recv,
 * lib/io/mixclient.h), three nym-mixnode processes and a nym-gateway.
 *
 *   throughput  one 16 MiB message, sent without Poisson pacing, from the
 *               send call until the recipient has it whole
 *   latency     1 KiB messages one after another: p50 / p99 from the send
 *               call to the recipient's message callback
 *
 * beside the crypto ceiling for the same traffic, measured in the same run
 * on one core: building the packets (courier), the gateway's GCM-SIV in and
 * out, three mix hops and the final hop (Sphinx), and the recipient's
 * decryption and reassembly. The network path spreads that work over five
 * processes, so it can beat one core; the ratio shows what the I/O costs.
 * Run from the top of the tree, the tools on PATH (make bench puts build/cmd first):
 * it starts nym-localnet. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "bench.h"
#include "ceiling.h"
#include "crypto/crypto.h"
#include "crypto/gcmsiv.h"
#include "io/gwclient.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/topofile.h"
#include "proto/courier.h"
#include "proto/gwproto.h"
#include "proto/packet.h"
#include "proto/sphinx.h"
#include "proto/topology.h"

#define BIG (16u << 20)
#define SMALL 1024
#define NLAT 200

static char work[256], netdir[300];
static int net_up;

static void
net_down(void)
{
	char cmd[600];
	if (!net_up)
		return;
	snprintf(cmd, sizeof cmd, "nym-localnet down --dir %s >/dev/null 2>&1", netdir);
	if (system(cmd)) {
	}
	net_up = 0;
	snprintf(cmd, sizeof cmd, "rm -rf %s", work);
	if (system(cmd)) {
	}
}

static void __attribute__((noreturn))
bail(const char *why)
{
	fprintf(stderr, "bench_client: %s\n", why);
	net_down();
	exit(1);
}

/* ---- the two clients --------------------------------------------------------- */

struct cl {
	struct nym_mixclient *mc;
	int ready;
	uint64_t got, got_len;
	uint64_t t_got_ns;
};

static void
on_ready(struct nym_mixclient *mc, int reg, void *arg)
{
	(void)mc, (void)reg;
	((struct cl *)arg)->ready = 1;
}

static void
on_message(struct nym_mixclient *mc, const uint8_t *d, size_t n, const uint8_t *tag, void *arg)
{
	struct cl *c = arg;
	(void)mc, (void)d, (void)tag;
	c->got++;
	c->got_len = n;
	c->t_got_ns = bench_now_ns();
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal)
		bail(why);
}

static void
start_client(struct nym_loop *l, struct nym_topology *t, const struct nym_node *gw,
    const char *name, struct nym_client_keys *k, struct nym_rng *rng, struct cl *c)
{
	struct nym_mixclient_config cfg;
	char dir[600];
	const char *bad;
	snprintf(dir, sizeof dir, "%s/%s", work, name);
	nym_client_keys_generate(k, rng);
	if (nym_client_keys_save(dir, k, 0, &bad) < 0)
		bail("cannot save client keys");
	nym_mixclient_defaults(&cfg);
	cfg.keys = k;
	cfg.dir = dir;
	cfg.topo = t;
	memcpy(cfg.gateway, gw->identity, 32);
	cfg.rng = rng;
	cfg.send_mean_ms = 0;
	cfg.main_cover = 0;
	cfg.loop_mean_ms = 0;
	cfg.packet_delay_ms = cfg.ack_delay_ms = 0;
	cfg.max_retries = 3;
	struct nym_mixclient_events ev = {on_ready, on_message, NULL, NULL, on_down, NULL, c};
	if (nym_mixclient_start(&c->mc, l, &cfg, &ev) < 0)
		bail("cannot start a client");
}

static void
run_until(struct nym_loop *l, int *flag, uint64_t *counter, uint64_t want, double max_s)
{
	uint64_t t0 = bench_now_ns();
	while ((flag ? !*flag : *counter < want)) {
		nym_loop_run(l, 50);
		if ((double)(bench_now_ns() - t0) / 1e9 > max_s)
			bail("timed out waiting for the mixnet");
	}
}

int
main(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_topology *t;
	struct nym_loop *l;
	struct cl snd = {0}, rcv = {0};
	struct nym_client_keys ks, kr;
	char cmd[900], err[NYM_TOPOLOGY_ERR_MAX];
	int ok = 0;

	nym_crypto_init();
	signal(SIGPIPE, SIG_IGN);
	snprintf(work, sizeof work, "%s/nymkit-bench.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(work))
		bail("cannot make a temporary directory");
	snprintf(netdir, sizeof netdir, "%s/net", work);
	for (int i = 0; i < 20 && !ok; i++) {
		uint8_t b[2];
		nym_rng_fill(&rng, b, 2);
		int base = 20000 + (b[0] << 8 | b[1]) % 40000;
		snprintf(cmd, sizeof cmd, "nym-localnet up --dir %s --base-port %d --delay-mean 0 "
		    "--max-delay 0 >/dev/null 2>&1", netdir, base);
		ok = system(cmd) == 0;
	}
	if (!ok)
		bail("cannot start the local mixnet (run from the top of the tree after make)");
	net_up = 1;
	snprintf(cmd, sizeof cmd, "%s/topology.json", netdir);
	if (nym_topofile_load(&t, cmd, err, sizeof err) < 0)
		bail(err);
	const struct nym_node *gw = NULL;
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].is_gateway)
			gw = &t->nodes[i];
	if (!gw || nym_loop_new(&l, NULL) < 0)
		bail("no gateway in the local mixnet");

	start_client(l, t, gw, "sender", &ks, &rng, &snd);
	start_client(l, t, gw, "recipient", &kr, &rng, &rcv);
	run_until(l, &snd.ready, NULL, 0, 10);
	run_until(l, &rcv.ready, NULL, 0, 10);
	struct nym_address to;
	nym_client_address(&to, &kr, gw->identity);

	uint8_t *msg = malloc(BIG);
	nym_rng_fill(&rng, msg, BIG);

	/* latency of 1 KiB messages */
	double lat[NLAT];
	for (int i = 0; i < NLAT; i++) {
		uint64_t t0 = bench_now_ns();
		uint64_t want = rcv.got + 1;
		if (nym_mixclient_send(snd.mc, &to, msg, SMALL, -1, 0, NULL) < 0)
			bail("send failed");
		run_until(l, NULL, &rcv.got, want, 10);
		lat[i] = (double)(rcv.t_got_ns - t0) / 1e6;
	}
	qsort(lat, NLAT, sizeof *lat, bench_cmp_double);
	double p50 = lat[NLAT / 2 - 1], p99 = lat[(NLAT * 99) / 100 - 1];

	/* throughput of 16 MiB */
	uint64_t want = rcv.got + 1;
	uint64_t t0 = bench_now_ns();
	if (nym_mixclient_send(snd.mc, &to, msg, BIG, -1, 0, NULL) < 0)
		bail("send failed");
	run_until(l, NULL, &rcv.got, want, 300);
	double secs = (double)(rcv.t_got_ns - t0) / 1e9;
	if (rcv.got_len != BIG)
		bail("the 16 MiB message arrived with the wrong size");

	/* the ceilings, same run */
	double c_big = ceiling(netdir, t, gw, msg, BIG, &rng, bail);
	double c_small[15];
	for (int i = 0; i < 15; i++)
		c_small[i] = ceiling(netdir, t, gw, msg, SMALL, &rng, bail) * 1e3;
	double c_lat = bench_median(c_small, 15);

	nym_mixclient_close(snd.mc);
	nym_mixclient_close(rcv.mc);
	nym_loop_run(l, 20);
	nym_mixclient_free(snd.mc);
	nym_mixclient_free(rcv.mc);
	nym_loop_free(l);
	nym_topology_free(t);
	free(msg);
	net_down();

	double mbs = BIG / 1e6 / secs, cmbs = BIG / 1e6 / c_big;
	printf("bench_client: local mixnet (3 mix nodes + gateway, zero delays), clients in-process\n");
	printf("%-44s %12s %12s %8s\n", "", "network", "ceiling", "ratio");
	printf("%-44s %9.1f MB/s %7.1f MB/s %7.2fx\n", "16 MiB message, send to delivered", mbs, cmbs,
	    cmbs / mbs);
	printf("%-44s %10.2f ms %10.2f ms %7.2fx\n", "1 KiB message latency p50", p50, c_lat, p50 / c_lat);
	printf("%-44s %10.2f ms %10.2f ms %7.2fx\n", "1 KiB message latency p99", p99, c_lat, p99 / c_lat);
	printf("(ceiling: packet building, gateway GCM-SIV both ways, 4 Sphinx hops and the\n"
	       " recipient's decryption and reassembly for the same message, one core)\n");
	return 0;
}
