/* bench_socks.c — one SOCKS5 stream through the local mixnet with zero mix
 * delays (nym-localnet --delay-mean 0 --max-delay 0, its network requester):
 * nym-socks5-client and a web server in child processes, the application
 * (a SOCKS5 handshake and an HTTP GET) here.
 *
 *   throughput   a BODY-byte download, request sent to last byte
 *   first byte   connect to the proxy to the first byte of a 1-byte answer
 *                (handshake, Connect and request out, answer back)
 *
 * beside the crypto ceiling of the same traffic, in the same run, on one
 * core (bench/ceiling.h): the body as the requester sends it, messages of
 * 16 KiB (doc/spec/socks5.md §7.4), built, through the gateway, three mix
 * hops and the final hop, decrypted and reassembled. Throughput is printed
 * as the fraction of the ceiling reached (issue 14's target: 0.5), the
 * first byte as a multiple of the ceiling's time for that exchange.
 * Run from the top of the tree, the tools on PATH (make bench does). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "base/err.h"
#include "bench.h"
#include "ceiling.h"
#include "crypto/crypto.h"
#include "io/topofile.h"

#define BODY (8u << 20)
#define CHUNK 16384
#define NTTFB 5

static char work[256], netdir[300];
static int net_up;
static pid_t web_pid, socks_pid;

static void
net_down(void)
{
	char cmd[700];
	if (socks_pid > 0)
		kill(socks_pid, SIGTERM), waitpid(socks_pid, NULL, 0), socks_pid = 0;
	if (web_pid > 0)
		kill(web_pid, SIGTERM), waitpid(web_pid, NULL, 0), web_pid = 0;
	if (net_up) {
		snprintf(cmd, sizeof cmd, "nym-localnet down --dir %s >/dev/null 2>&1", netdir);
		if (system(cmd)) {
		}
		net_up = 0;
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", work);
	if (work[0] && system(cmd)) {
	}
}

static void __attribute__((noreturn))
bail(const char *why)
{
	fprintf(stderr, "bench_socks: %s\n", why);
	net_down();
	exit(1);
}

/* A listening socket on 127.0.0.1, any port. */
static int
listen_any(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &sl) < 0)
		bail("cannot listen on 127.0.0.1");
	*port = ntohs(a.sin_port);
	return fd;
}

/* The web server: "GET /small" gets one byte, anything else BODY bytes. */
static void __attribute__((noreturn))
web_serve(int lfd, const uint8_t *body)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char req[4096];
		size_t n = 0;
		if (fd < 0)
			continue;
		while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
			ssize_t k = read(fd, req + n, sizeof req - 1 - n);
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		req[n] = 0;
		size_t len = strstr(req, "GET /small") ? 1 : BODY;
		char hdr[128];
		int h = snprintf(hdr, sizeof hdr, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", len);
		if (write(fd, hdr, (size_t)h) == h)
			for (size_t off = 0; off < len;) {
				ssize_t k = write(fd, body + off, len - off > 65536 ? 65536 : len - off);
				if (k <= 0)
					break;
				off += (size_t)k;
			}
		close(fd);
	}
}

static void
read_exact(int fd, uint8_t *b, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = read(fd, b + off, n - off);
		if (k <= 0)
			bail("the proxy closed during the handshake");
		off += (size_t)k;
	}
}

/* Through the proxy: SOCKS5 to 127.0.0.1:web, GET path. Returns the socket,
 * *t_first = when the first answer byte came; *got = answer bytes (headers
 * and body) until the end. */
static void
fetch(int socks_port, int web_port, const char *path, uint64_t *t0, uint64_t *t_first,
    uint64_t *t_end, size_t *got)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                        .sin_port = htons((uint16_t)socks_port)};
	uint8_t b[65536];
	*t0 = bench_now_ns();
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		bail("cannot connect to the proxy");
	uint8_t hello[3] = {5, 1, 0}, req[10] = {5, 1, 0, 1, 127, 0, 0, 1};
	req[8] = (uint8_t)(web_port >> 8), req[9] = (uint8_t)web_port;
	if (write(fd, hello, 3) != 3)
		bail("write");
	read_exact(fd, b, 2);
	if (write(fd, req, 10) != 10)
		bail("write");
	read_exact(fd, b, 10);
	if (b[1] != 0)
		bail("the proxy refused the request");
	char get[128];
	int n = snprintf(get, sizeof get, "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(fd, get, (size_t)n) != n)
		bail("write");
	*got = 0;
	*t_first = 0;
	for (;;) {
		ssize_t k = read(fd, b, sizeof b);
		if (k <= 0)
			break;
		if (!*t_first)
			*t_first = bench_now_ns();
		*got += (size_t)k;
	}
	*t_end = bench_now_ns();
	close(fd);
}

static void
wait_file(const char *path, const char *text, double max_s)
{
	uint64_t t0 = bench_now_ns();
	char buf[8192];
	for (;;) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		if (strstr(buf, text))
			return;
		if ((double)(bench_now_ns() - t0) / 1e9 > max_s) {
			fprintf(stderr, "%s", buf);
			bail("timed out waiting for the SOCKS client");
		}
		usleep(20000);
	}
}

int
main(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_topology *t;
	char cmd[1200], err[NYM_TOPOLOGY_ERR_MAX], nr[200] = "", path[400];
	int ok = 0, web_port, socks_port;

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
	snprintf(path, sizeof path, "%s/requester.address", netdir);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(nr, sizeof nr, f))
		bail("the local mixnet has no network requester");
	fclose(f);
	nr[strcspn(nr, "\r\n")] = 0;
	snprintf(path, sizeof path, "%s/topology.json", netdir);
	if (nym_topofile_load(&t, path, err, sizeof err) < 0)
		bail(err);
	const struct nym_node *gw = NULL;
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].is_gateway)
			gw = &t->nodes[i];
	if (!gw)
		bail("no gateway in the local mixnet");

	uint8_t *body = malloc(BODY);
	nym_rng_fill(&rng, body, BODY);
	int lfd = listen_any(&web_port);
	if ((web_pid = fork()) == 0)
		web_serve(lfd, body);
	close(lfd);
	lfd = listen_any(&socks_port);
	close(lfd); /* free again, for the proxy (below the ephemeral range's reuse) */

	snprintf(cmd, sizeof cmd, "NYM_HOME_DIR=%s/home NYM_DELAY_MEAN_MS=0 nym-socks5-client init "
	    "--id bench --provider %s --topology %s/topology.json --port %d --quiet >/dev/null 2>%s/init.err",
	    work, nr, netdir, socks_port, work);
	if (system(cmd) != 0)
		bail("nym-socks5-client init failed");
	if ((socks_pid = fork()) == 0) {
		char home[300], errf[300], topo[400];
		snprintf(home, sizeof home, "%s/home", work);
		snprintf(errf, sizeof errf, "%s/socks.err", work);
		snprintf(topo, sizeof topo, "%s/topology.json", netdir);
		setenv("NYM_HOME_DIR", home, 1);
		setenv("NYM_DELAY_MEAN_MS", "0", 1);
		if (!freopen(errf, "w", stderr))
			_exit(1);
		execlp("nym-socks5-client", "nym-socks5-client", "run", "--id", "bench", "--no-cover",
		    "--topology", topo, (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof path, "%s/socks.err", work);
	wait_file(path, "SOCKS proxy on", 20);

	/* time to first byte: a 1-byte answer, a few times (the first warms up routes) */
	double ttfb[NTTFB];
	for (int i = 0; i < NTTFB; i++) {
		uint64_t t0, t1, t2;
		size_t got;
		fetch(socks_port, web_port, "/small", &t0, &t1, &t2, &got);
		if (!t1 || got < 1)
			bail("no answer through the proxy");
		ttfb[i] = (double)(t1 - t0) / 1e6;
	}
	double ttfb_med = bench_median(ttfb, NTTFB);

	/* one big download */
	uint64_t t0, t1, t2;
	size_t got;
	fetch(socks_port, web_port, "/big", &t0, &t1, &t2, &got);
	if (got < BODY)
		bail("the download came short");
	double secs = (double)(t2 - t0) / 1e9;

	/* the ceiling: the body as 16 KiB messages, measured on 32 of them */
	int nm = 32;
	double c = 0;
	for (int i = 0; i < nm; i++)
		c += ceiling(netdir, t, gw, body + (size_t)i * CHUNK, CHUNK, &rng, bail);
	double c_secs = c / nm * ((double)BODY / CHUNK);
	/* and of the 1-byte exchange: a request and an answer, one message each way */
	double c_small[9];
	for (int i = 0; i < 9; i++)
		c_small[i] = 2 * ceiling(netdir, t, gw, body, 64, &rng, bail) * 1e3;
	double c_ttfb = bench_median(c_small, 9);

	nym_topology_free(t);
	free(body);
	net_down();

	double mbs = BODY / 1e6 / secs, cmbs = BODY / 1e6 / c_secs;
	printf("bench_socks: one SOCKS5 stream, nym-socks5-client -> local mixnet (zero delays) -> "
	       "nym-network-requester -> web server\n");
	printf("%-44s %12s %12s %8s\n", "", "network", "ceiling", "ratio");
	printf("%-44s %9.1f MB/s %7.1f MB/s %7.2f of the ceiling\n",
	    "8 MiB download, request to last byte", mbs, cmbs, mbs / cmbs);
	printf("%-44s %10.2f ms %10.2f ms %7.2fx\n", "time to first byte (median of 5)", ttfb_med,
	    c_ttfb, ttfb_med / c_ttfb);
	printf("(ceiling: the same bytes as 16 KiB messages built, through the gateway's\n"
	       " GCM-SIV, 4 Sphinx hops, decrypted and reassembled, one core; first byte:\n"
	       " one small message each way)\n");
	return 0;
}
