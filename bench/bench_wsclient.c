/* bench_wsclient.c — nym-client's websocket API against nymkit's own tools,
 * through a local mixnet with zero mix delays (nym-localnet --delay-mean 0
 * --max-delay 0), in the same run:
 *
 *   MB/s       one 8 MiB message: an application (this program, a websocket
 *              client) -> nym-client carol -> mixnet -> nym-client dave ->
 *              an application; against nym-send --direct -> nym-recv, from
 *              the start of nym-send until nym-recv has the message whole.
 *              Both without Poisson pacing (--no-poisson).
 *   msgs/s     100 messages of 1 KiB the same two ways, all sent at once:
 *              100 nym-send at once through alice's nym-recv (its control
 *              socket) -> nym-recv bob; both senders pace as the official
 *              client does (Poisson, 50 packets/s)
 *   RSS        nym-client dave with 1000 messages of 1 KiB kept for an absent
 *              application, beside its RSS before they came
 *
 * Ratios are the websocket API's figure over the tools' (>= 0.9 is the
 * target: the API costs nothing the tools do not). Run from the top of the
 * tree, the tools on PATH (make bench puts build/cmd first). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/codec.h"
#include "base/err.h"
#include "bench.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/held.h"
#include "proto/keys.h"
#include "proto/wsapi.h"

#define BIG (8u << 20)
#define SMALL 1024
#define NMSG 100
#define NHELD 1000

static char work[256], netdir[300];
static int net_up;

static void
net_down(void)
{
	char cmd[1400];
	if (!net_up)
		return;
	snprintf(cmd, sizeof cmd, "cd %s && for p in *.pid; do [ -f \"$p\" ] && kill $(cat \"$p\") "
	    "2>/dev/null; done; sleep 0.5; nym-localnet down --dir %s >/dev/null 2>&1; rm -rf %s",
	    work, netdir, work);
	if (system(cmd)) {
	}
	net_up = 0;
}

static void __attribute__((noreturn))
bail(const char *why)
{
	fprintf(stderr, "bench_wsclient: %s\n", why);
	net_down();
	exit(1);
}

/* A shell command in the work directory; its status. */
static int __attribute__((format(printf, 1, 2)))
sh(const char *fmt, ...)
{
	char cmd[4096], full[4400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "cd %s && { %s; }", work, cmd);
	return system(full);
}

/* The first line of a file in the work directory. */
static void
slurp_line(const char *name, char *out, size_t cap)
{
	char path[600];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", work, name);
	if (!(f = fopen(path, "r")) || !fgets(out, (int)cap, f))
		bail("a helper's output is missing");
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static long
rss_kb(const char *pidfile)
{
	char pid[32], path[64], line[256];
	long kb = -1;
	FILE *f;
	slurp_line(pidfile, pid, sizeof pid);
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	if (!(f = fopen(path, "r")))
		bail("nym-client is gone");
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* ---- the application side: websocket clients of nym-client ------------------- */

struct app {
	struct nym_ws *ws;
	int open, closed;
	uint64_t got, got_bytes, t_got_ns;
};

static void
app_open(struct nym_ws *ws, void *arg)
{
	(void)ws;
	((struct app *)arg)->open = 1;
}

static void
app_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct app *a = arg;
	struct nym_wsapi_resp p;
	(void)ws;
	if (binary && nym_wsapi_resp_decode(&p, d, n, NULL) == 0 && p.tag == NYM_WSAPI_RESP_RECEIVED) {
		a->got++;
		a->got_bytes += p.data_len;
		a->t_got_ns = bench_now_ns();
	}
}

static void
app_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)ws, (void)err, (void)why, (void)unsent;
	((struct app *)arg)->closed = 1;
}

static void
app_connect(struct nym_loop *l, struct app *a, int port)
{
	struct nym_ws_handler h = {app_open, app_message, app_closed, a, NULL, NULL};
	char url[64];
	uint64_t t0 = bench_now_ns();
	snprintf(url, sizeof url, "ws://127.0.0.1:%d", port);
	memset(a, 0, sizeof *a);
	if (nym_ws_connect(l, url, &h, &a->ws) < 0)
		bail("cannot connect to nym-client");
	nym_ws_set_max_message(a->ws, (size_t)64 << 20);
	while (!a->open) {
		nym_loop_run(l, 20);
		if (a->closed || bench_now_ns() - t0 > 10000000000ull)
			bail("nym-client's websocket API does not answer");
	}
}

static void
app_send(struct app *a, const uint8_t to[96], const uint8_t *msg, size_t len)
{
	struct nym_wsapi_req r;
	memset(&r, 0, sizeof r);
	r.tag = NYM_WSAPI_REQ_SEND;
	memcpy(r.recipient, to, 96);
	r.data = msg;
	r.data_len = len;
	size_t n = nym_wsapi_req_len(&r);
	uint8_t *b = malloc(n);
	if (!b || nym_wsapi_req_encode(b, n, &r) < 0 || nym_ws_send(a->ws, 1, b, n) < 0)
		bail("cannot send a request");
	free(b);
}

static void
app_wait(struct nym_loop *l, struct app *a, uint64_t want, double max_s)
{
	uint64_t t0 = bench_now_ns();
	while (a->got < want) {
		nym_loop_run(l, 20);
		if (a->closed || (double)(bench_now_ns() - t0) / 1e9 > max_s)
			bail("the messages did not arrive through nym-client");
	}
}

/* ---- the tools' side ------------------------------------------------------------ */

/* nym-recv --count n for bob in the background, connected; then `send`
 * (a shell command); the nanoseconds until nym-recv has them all. */
static double
tools_run(int n, const char *send)
{
	char ns[64];
	if (sh("rm -f recv.err; nym-recv --id bob --count %d >/dev/null 2>recv.err & echo $! >recv.pid; "
	       "for i in $(seq 400); do grep -q 'connected as\\|registered' recv.err && break; sleep 0.05; done; "
	       "t0=$(date +%%s%%N); %s || exit 1; "
	       "while kill -0 $(cat recv.pid) 2>/dev/null; do sleep 0.01; done; "
	       "t1=$(date +%%s%%N); echo $((t1 - t0)) >tools.ns; rm -f recv.pid", n, send))
		bail("nym-send / nym-recv failed");
	slurp_line("tools.ns", ns, sizeof ns);
	return atof(ns);
}

/* flags: "--no-poisson" or "" (the official pacing) */
static void
client_start(const char *id, int port, const char *flags)
{
	if (sh("rm -f %s.err; nym-client run --id %s --port %d %s --no-cover >/dev/null 2>%s.err & "
	       "echo $! >%s.pid; for i in $(seq 400); do grep -q 'connected as\\|registered' %s.err "
	       "&& exit 0; sleep 0.05; done; exit 1", id, id, port, flags, id, id, id))
		bail("nym-client did not start");
}

static void
client_stop(const char *id)
{
	sh("kill $(cat %s.pid); while kill -0 $(cat %s.pid) 2>/dev/null; do sleep 0.05; done; "
	   "rm -f %s.pid", id, id, id);
}

static void
address_bytes(const char *file, uint8_t out[96])
{
	char s[400], why[NYM_ADDRESS_WHY_MAX];
	struct nym_address a;
	slurp_line(file, s, sizeof s);
	if (nym_address_parse(&a, s, why, sizeof why) < 0)
		bail("an address does not parse");
	memcpy(out, a.identity, 32);
	memcpy(out + 32, a.encryption, 32);
	memcpy(out + 64, a.gateway, 32);
}

int
main(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_loop *l;
	struct app carol, dave;
	uint8_t to_dave[96];
	char cmd[900], path[600];
	int ok = 0, base = 0;

	nym_crypto_init();
	signal(SIGPIPE, SIG_IGN);
	snprintf(work, sizeof work, "%s/nymkit-bench.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(work))
		bail("cannot make a temporary directory");
	snprintf(netdir, sizeof netdir, "%s/net", work);
	for (int i = 0; i < 20 && !ok; i++) {
		uint8_t b[2];
		nym_rng_fill(&rng, b, 2);
		base = 20000 + (b[0] << 8 | b[1]) % 40000;
		snprintf(cmd, sizeof cmd, "nym-localnet up --dir %s --base-port %d --delay-mean 0 "
		    "--max-delay 0 >/dev/null 2>&1", netdir, base);
		ok = system(cmd) == 0;
	}
	if (!ok)
		bail("cannot start the local mixnet (run from the top of the tree after make)");
	net_up = 1;
	/* the clients live in the work directory, on this network, zero delays */
	snprintf(path, sizeof path, "%s/home", work);
	mkdir(path, 0700);
	setenv("HOME", path, 1);
	setenv("NYM_HOME_DIR", path, 1);
	snprintf(path, sizeof path, "%s/topology.json", netdir);
	setenv("NYM_TOPOLOGY", path, 1);
	unsetenv("NYM_API");
	unsetenv("NYM_ID");
	setenv("NYM_DELAY_MEAN_MS", "0", 1);
	int pc = base + 40, pd = base + 41;
	if (sh(". %s/env; for n in alice bob; do nym-keygen --id $n --gateway $NYM_GATEWAY "
	       ">/dev/null || exit 1; done; nym-keygen --id bob --show --json | jq -r .address >bob.addr; "
	       "nym-client init --id carol --gateway $NYM_GATEWAY --port %d --quiet >carol.addr && "
	       "nym-client init --id dave --gateway $NYM_GATEWAY --port %d --quiet >dave.addr && "
	       "head -c %u /dev/urandom >big && head -c %u big >small", netdir, pc, pd, BIG, SMALL))
		bail("cannot set up the clients");
	address_bytes("dave.addr", to_dave);
	uint8_t *msg = malloc(BIG);
	FILE *bf;
	snprintf(path, sizeof path, "%s/big", work);
	if (!msg || !(bf = fopen(path, "rb")) || fread(msg, 1, BIG, bf) != BIG)
		bail("cannot read the message");
	fclose(bf);

	/* the tools */
	double t_big = tools_run(1, "nym-send --id alice --direct --no-poisson --quiet --timeout 300 "
	    "--to $(cat bob.addr) --file big");
	if (sh("nym-recv --id alice >/dev/null 2>alice.err & echo $! >alice.pid; for i in $(seq 400); "
	       "do grep -q 'connected as\\|registered' alice.err && exit 0; sleep 0.05; done; exit 1"))
		bail("nym-recv alice did not start");
	double t_small = tools_run(NMSG, "for i in $(seq 100); do nym-send --id alice --quiet "
	    "--timeout 60 --to $(cat bob.addr) --file small & done; wait");
	sh("kill $(cat alice.pid); rm -f alice.pid");

	/* the websocket API */
	client_start("carol", pc, "--no-poisson");
	client_start("dave", pd, "--no-poisson");
	if (nym_loop_new(&l, NULL) < 0)
		bail("cannot make an event loop");
	app_connect(l, &carol, pc);
	app_connect(l, &dave, pd);
	uint64_t t0 = bench_now_ns();
	app_send(&carol, to_dave, msg, BIG);
	app_wait(l, &dave, 1, 300);
	double w_big = (double)(dave.t_got_ns - t0);
	if (dave.got_bytes != BIG)
		bail("the 8 MiB message arrived with the wrong size");
	/* carol again, with the official pacing */
	nym_ws_close(carol.ws);
	while (!carol.closed)
		nym_loop_run(l, 20);
	client_stop("carol");
	client_start("carol", pc, "");
	app_connect(l, &carol, pc);
	t0 = bench_now_ns();
	for (int i = 0; i < NMSG; i++)
		app_send(&carol, to_dave, msg, SMALL);
	app_wait(l, &dave, 1 + NMSG, 120);
	double w_small = (double)(dave.t_got_ns - t0);

	/* 1000 messages for an absent application */
	nym_ws_close(dave.ws);
	while (!dave.closed)
		nym_loop_run(l, 20);
	nym_loop_run(l, 200);
	long rss0 = rss_kb("dave.pid");
	for (int i = 0; i < NHELD; i++)
		app_send(&carol, to_dave, msg, SMALL);
	snprintf(path, sizeof path, "%s/home/.nym/clients/dave/data/held", work);
	struct stat st;
	t0 = bench_now_ns();
	while (stat(path, &st) < 0 || (size_t)st.st_size < (size_t)NHELD * (NYM_HELD_HDR + SMALL)) {
		nym_loop_run(l, 50);
		if ((double)(bench_now_ns() - t0) / 1e9 > 120)
			bail("the messages for the absent application were not all kept");
	}
	long rss1 = rss_kb("dave.pid");
	nym_ws_close(carol.ws);
	nym_loop_run(l, 50);
	nym_loop_free(l);
	free(msg);
	net_down();

	double mbs_t = BIG / 1e6 / (t_big / 1e9), mbs_w = BIG / 1e6 / (w_big / 1e9);
	double mps_t = NMSG / (t_small / 1e9), mps_w = NMSG / (w_small / 1e9);
	printf("bench_wsclient: local mixnet (3 mix nodes + gateway, zero delays), nym-client vs nym-send/nym-recv\n");
	printf("%-40s %14s %14s %8s\n", "", "websocket API", "nym-send/recv", "ratio");
	printf("%-40s %9.1f MB/s %9.1f MB/s %7.2fx\n", "8 MiB message, send to delivered", mbs_w,
	    mbs_t, mbs_w / mbs_t);
	printf("%-40s %7.1f msgs/s %7.1f msgs/s %7.2fx\n", "100 messages of 1 KiB, paced", mps_w, mps_t,
	    mps_w / mps_t);
	printf("%-40s %11ld kB %11ld kB %7.2fx\n", "nym-client RSS: 1000 kept / none", rss1, rss0,
	    (double)rss1 / (double)rss0);
	printf("(nym-send/recv timed from nym-send's start; 100 messages: 100 nym-send at once\n"
	       " through alice's nym-recv. The ratio is websocket API over tools, >= 0.9 the\n"
	       " target. RSS: the 1000 messages wait in the held file, not in memory)\n");
	return 0;
}
