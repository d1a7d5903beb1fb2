/* nym-topology — the Nym network as JSON: from nym-api or a file, a route
 * through it, or served as the nym-api of a local mixnet.
 *
 *   nym-topology [--api URL | --file FILE] [--json] [--layer N | --gateways | --mixnodes]
 *                [--min-performance P] [--format json|custom-mixnet]
 *   nym-topology route [--to ADDRESS] [--topology FILE | --api URL]
 *   nym-topology serve --file FILE [--listen 127.0.0.1:PORT] [--per-page N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include "base/codec.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "io/nymapi.h"
#include "io/topofile.h"
#include "proto/keys.h"
#include "proto/nymapi_doc.h"
#include "proto/route.h"
#include "proto/topology.h"
#include "tool.h"

static void
usage(void)
{
	printf("Usage: nym-topology [--api URL | --file FILE] [--json] [--layer N | --gateways | --mixnodes]\n"
	       "                    [--min-performance P] [--format json|custom-mixnet] [--timeout SECS]\n"
	       "       nym-topology route [--to ADDRESS] [--topology FILE | --api URL]\n"
	       "       nym-topology serve --file FILE [--listen 127.0.0.1:PORT] [--per-page N] [--verbose]\n"
	       "\n"
	       "Print the Nym network topology (mix layers 1-3 and gateways) as JSON, pick a\n"
	       "route through it, or serve it as a nym-api for a local mixnet.\n"
	       "\n"
	       "  --api URL             nym-api base URL (default $NYM_API, else %s)\n"
	       "  --file, --topology FILE  read a saved topology (ours, or a custom-mixnet file); - is stdin\n"
	       "  --json                JSON even on a terminal (one object per line)\n"
	       "  --layer N             only the mix nodes of layer N (1-3), one JSON object per line\n"
	       "  --gateways            only the gateways, one per line\n"
	       "  --mixnodes            only the mix nodes of layers 1-3, one per line\n"
	       "  --min-performance P   drop nodes scoring below P percent (default %d)\n"
	       "  --format FMT          json (our document, default) or custom-mixnet (the file\n"
	       "                        official clients load with --custom-mixnet)\n"
	       "  --timeout SECS        per-request time limit for the API (default 60)\n"
	       "  --retries N           extra attempts after a network failure (default 3)\n"
	       "  --to ADDRESS          route: recipient address; its gateway ends the route\n"
	       "  --listen IP:PORT      serve: where to listen (default 127.0.0.1:8080; port 0: any)\n"
	       "  --per-page N          serve: page size of the node lists (default: all in one page)\n"
	       "  --verbose             serve: log each request on stderr\n"
	       "  -h, --help            this help\n"
	       "  -V, --version         version\n",
	       NYM_API_DEFAULT_URL, NYM_TOPOLOGY_MIN_PERFORMANCE);
	exit(EXIT_OK);
}

enum { OPT_API = 256, OPT_FILE, OPT_JSON, OPT_LAYER, OPT_GATEWAYS, OPT_MIXNODES, OPT_MINPERF,
       OPT_FORMAT, OPT_TIMEOUT, OPT_RETRIES, OPT_TO, OPT_LISTEN, OPT_PERPAGE, OPT_VERBOSE };

static const struct option longopts[] = {
	{ "api", required_argument, NULL, OPT_API },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "topology", required_argument, NULL, OPT_FILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "layer", required_argument, NULL, OPT_LAYER },
	{ "gateways", no_argument, NULL, OPT_GATEWAYS },
	{ "mixnodes", no_argument, NULL, OPT_MIXNODES },
	{ "min-performance", required_argument, NULL, OPT_MINPERF },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "to", required_argument, NULL, OPT_TO },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "per-page", required_argument, NULL, OPT_PERPAGE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static long
number(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		usage_error("%s: '%s' is not a number from %ld to %ld", opt, s, lo, hi);
	return v;
}

static void
now_rfc3339(char *out, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- getting the topology ------------------------------------------------- */

struct opts {
	const char *api, *file, *to, *listen, *format;
	int json, layer, gateways, mixnodes, verbose;
	long min_perf, timeout, retries, per_page;
};

static struct nym_topology *
get_topology(const struct opts *o)
{
	struct nym_topology_filter f = { (unsigned)o->min_perf, (unsigned)o->min_perf };
	char err[NYM_TOPOLOGY_ERR_MAX] = "";
	struct nym_topology *t;

	if (o->file) {
		if (nym_topofile_load(&t, o->file, err, sizeof err) < 0)
			die("%s", err);
		if (o->min_perf && nym_topology_apply_filter(t, &f, err, sizeof err) < 0)
			die("%s: %s", o->file, err);
		return t;
	}
	struct nym_api_opts ao = NYM_API_OPTS_DEFAULT;
	ao.base_url = o->api;
	ao.timeout_ms = o->timeout * 1000;
	ao.connect_timeout_ms = o->timeout < 10 ? o->timeout * 1000 : 10000;
	ao.retries = (int)o->retries;
	if (nym_api_fetch_topology(&ao, &f, &t, err, sizeof err) < 0)
		die("%s", err);
	if (t->n_bad_hostnames)
		warnx("warning: %zu gateway(s) announce a host name unfit for a URL; they are reached by IP",
		      t->n_bad_hostnames);
	return t;
}

/* ---- printing ------------------------------------------------------------------ */

static void
put(char *s)
{
	if (!s)
		die("out of memory");
	if (nym_write_full(STDOUT_FILENO, s, strlen(s)) < 0 || nym_write_full(STDOUT_FILENO, "\n", 1) < 0)
		die("stdout: %s", strerror(errno));
	free(s);
}

static int
wanted(const struct opts *o, const struct nym_node *n, int as_gateway)
{
	if (o->layer)
		return !as_gateway && n->layer == o->layer;
	if (o->gateways)
		return as_gateway;
	if (o->mixnodes)
		return !as_gateway && n->layer;
	return 1;
}

static void
print_nodes_json(const struct opts *o, const struct nym_topology *t)
{
	for (int pass = 0; pass < 2; pass++)
		for (int l = pass ? 0 : 1; l <= (pass ? 0 : 3); l++)
			for (size_t i = 0; i < t->n_nodes; i++) {
				const struct nym_node *n = &t->nodes[i];
				char *s;
				if (pass == 0 ? n->layer != l : !n->is_gateway)
					continue;
				if (!wanted(o, n, pass))
					continue;
				if (nym_node_dump(n, pass, &s) < 0)
					die("out of memory");
				put(s);
			}
}

static void
print_table(const struct opts *o, const struct nym_topology *t)
{
	size_t mix = 0, gw = 0;

	printf("%-8s %7s  %-24s %4s  %-44s  %s\n", "LAYER", "ID", "MIX HOST", "PERF", "IDENTITY", "CLIENTS");
	for (int pass = 0; pass < 2; pass++)
		for (int l = pass ? 0 : 1; l <= (pass ? 0 : 3); l++)
			for (size_t i = 0; i < t->n_nodes; i++) {
				const struct nym_node *n = &t->nodes[i];
				char id[NYM_B58_KEY_MAX], lay[8];
				if (pass == 0 ? n->layer != l : !n->is_gateway)
					continue;
				if (!wanted(o, n, pass))
					continue;
				pass ? gw++ : mix++;
				nym_base58_encode(id, sizeof id, n->identity, 32);
				snprintf(lay, sizeof lay, "%d", n->layer);
				printf("%-8s %7u  %-24s %3u%%  %-44s  %s\n", pass ? "gateway" : lay, n->node_id,
				       n->mix_host, n->performance, id,
				       n->wss_url[0] ? n->wss_url : n->ws_url[0] ? n->ws_url : "-");
			}
	printf("%zu mix nodes, %zu gateways; epoch %u, key rotation %u; from %s\n", mix, gw,
	       t->absolute_epoch_id, t->rotation_id, t->source[0] ? t->source : "?");
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));
}

static int
cmd_show(const struct opts *o)
{
	struct nym_topology *t = get_topology(o);
	int narrowed = o->layer || o->gateways || o->mixnodes;
	char *s;

	if (!strcmp(o->format, "custom-mixnet")) {
		if (!t->fetched_at[0])
			now_rfc3339(t->fetched_at, sizeof t->fetched_at);
		if (nym_topology_dump(t, NYM_TOPOLOGY_CUSTOM_MIXNET, 0, &s) < 0)
			die("out of memory");
		put(s);
	} else if (!o->json && isatty(STDOUT_FILENO)) {
		print_table(o, t);
	} else if (narrowed) {
		print_nodes_json(o, t);
	} else {
		if (nym_topology_dump(t, NYM_TOPOLOGY_NORMALIZED, 0, &s) < 0)
			die("out of memory");
		put(s);
	}
	nym_topology_free(t);
	return EXIT_OK;
}

static int
cmd_route(const struct opts *o)
{
	struct nym_address addr;
	struct nym_route r;
	struct nym_rng rng = nym_rng_system();
	char err[NYM_TOPOLOGY_ERR_MAX] = "", why[NYM_ADDRESS_WHY_MAX] = "";
	struct nym_topology *t;
	char *s;

	if (o->to && nym_address_parse(&addr, o->to, why, sizeof why) < 0)
		die("--to: '%s' is not a Nym address: %s", o->to, why);
	t = get_topology(o);
	if (nym_topology_route(t, &rng, o->to ? addr.gateway : NULL, &r, err, sizeof err) < 0)
		die("%s", err);
	if (nym_route_dump(&r, o->to, &s) < 0)
		die("out of memory");
	put(s);
	nym_topology_free(t);
	return EXIT_OK;
}

/* ---- serve: a small HTTP/1.1 server for the nym-api routes ----------------------- */

#define MAX_CONN 512
#define REQ_MAX 8192          /* request head limit (431 above) */
#define IDLE_MS 10000         /* a client silent this long is dropped */

struct conn {
	int fd;
	char in[REQ_MAX];
	size_t inlen;
	char *out;
	size_t outlen, outpos;
	int close_after;
	struct timespec last;
};

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static long
ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static const struct {
	const char *path;
	enum nym_api_route route;
} api_routes[] = {
	{ "/v1/nym-nodes/rewarded-set", NYM_API_ROUTE_REWARDED_SET },
	{ "/v2/unstable/nym-nodes/skimmed/mixnodes/active", NYM_API_ROUTE_MIXNODES_ACTIVE },
	{ "/v2/unstable/nym-nodes/skimmed/mixnodes/all", NYM_API_ROUTE_MIXNODES_ALL },
	{ "/v2/unstable/nym-nodes/skimmed/entry-gateways", NYM_API_ROUTE_ENTRY_GATEWAYS },
	{ "/v2/unstable/nym-nodes/skimmed/exit-gateways", NYM_API_ROUTE_EXIT_GATEWAYS },
	{ "/v2/unstable/nym-nodes/skimmed", NYM_API_ROUTE_ALL_NODES },
	{ "/v1/epoch/key-rotation-info", NYM_API_ROUTE_KEY_ROTATION },
	{ "/v1/epoch/current", NYM_API_ROUTE_EPOCH },
};

static void
respond(struct conn *c, int status, const char *reason, const char *body, int head_only)
{
	size_t bl = strlen(body), cap = bl + 512;
	char *out = malloc(cap);
	int n;

	if (!out) {
		c->close_after = 1;
		return;
	}
	n = snprintf(out, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: %s\r\n\r\n",
		     status, reason, bl, c->close_after ? "close" : "keep-alive");
	if (!head_only) {
		memcpy(out + n, body, bl);
		n += (int)bl;
	}
	free(c->out);
	c->out = out;
	c->outlen = (size_t)n;
	c->outpos = 0;
}

/* A u32 query parameter; -1 when absent or malformed. */
static long
query_u32(const char *q, const char *name)
{
	size_t nl = strlen(name);

	while (q && *q) {
		if (!strncmp(q, name, nl) && q[nl] == '=') {
			char *end;
			unsigned long v;
			errno = 0;
			v = strtoul(q + nl + 1, &end, 10);
			if (end == q + nl + 1 || (*end && *end != '&') || errno || v > 4294967295ul)
				return -1;
			return (long)v;
		}
		q = strchr(q, '&');
		if (q)
			q++;
	}
	return -1;
}

/* Handle one complete request head in c->in[0..headlen). */
static void
handle(struct conn *c, size_t headlen, const struct nym_topology *t, long per_page, int verbose)
{
	char method[16], target[2048], version[16], path[2048];
	const char *query, *p;
	int head_only, status = 200;
	char *body = NULL;

	c->in[headlen - 1] = 0;
	if (sscanf(c->in, "%15s %2047s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		c->close_after = 1;
		respond(c, 400, "Bad Request", "{\"message\":\"bad request\"}", 0);
		return;
	}
	/* connection persistence (HTTP/1.0: close unless asked; 1.1: keep unless asked) */
	for (p = strchr(c->in, '\n'); p; p = strchr(p + 1, '\n')) {
		if (!strncasecmp(p + 1, "connection:", 11)) {
			const char *v = p + 12;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncasecmp(v, "close", 5))
				c->close_after = 1;
		}
		if (!strncasecmp(p + 1, "content-length:", 15) && strtol(p + 16, NULL, 10) != 0) {
			c->close_after = 1; /* we take no request bodies */
			respond(c, 413, "Payload Too Large", "{\"message\":\"no request body accepted\"}", 0);
			return;
		}
	}
	if (!strcmp(version, "HTTP/1.0"))
		c->close_after = 1;
	head_only = !strcmp(method, "HEAD");
	if (!head_only && strcmp(method, "GET")) {
		respond(c, 405, "Method Not Allowed", "{\"message\":\"only GET\"}", 0);
		goto log;
	}
	query = strchr(target, '?');
	snprintf(path, sizeof path, "%.*s", (int)(query ? (size_t)(query - target) : strlen(target)), target);
	if (query)
		query++;
	/* public deployments sit under /api/; a bare nym-api does not */
	{
		char *q = path;
		size_t l;
		if (!strncmp(q, "/api/", 5))
			memmove(q, q + 4, strlen(q + 4) + 1);
		while ((l = strlen(q)) > 1 && q[l - 1] == '/')
			q[l - 1] = 0;
	}
	for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
		if (strcmp(path, api_routes[i].path))
			continue;
		long page = query_u32(query, "page"), pp = query_u32(query, "per_page");
		if (pp <= 0)
			pp = per_page;
		if (page < 0)
			page = 0;
		if (nym_topology_api_answer(t, api_routes[i].route, (uint32_t)page, (uint32_t)pp, &body) < 0) {
			status = 500;
			respond(c, 500, "Internal Server Error", "{\"message\":\"out of memory\"}", head_only);
		} else {
			respond(c, 200, "OK", body, head_only);
		}
		free(body);
		goto log;
	}
	status = 404;
	respond(c, 404, "Not Found", "{\"message\":\"not found\"}", head_only);
log:
	if (verbose)
		fprintf(stderr, "nym-topology: %s %s -> %d\n", method, target, status == 200 && !c->out ? 500 : status);
}

static int
cmd_serve(const struct opts *o)
{
	char err[NYM_TOPOLOGY_ERR_MAX], ip[NYM_TOPOLOGY_IPSTR];
	struct sockaddr_storage ss;
	socklen_t sl;
	uint16_t port;
	struct nym_topology *t;
	struct conn *conns;
	struct pollfd *pfd;
	size_t nconn = 0;
	int lfd, one = 1;

	if (!o->file)
		usage_error("serve needs --file FILE");
	if (nym_topology_parse_host(o->listen, ip, &port) < 0)
		usage_error("--listen: '%s' is not IP:PORT", o->listen);
	if (nym_topofile_load(&t, o->file, err, sizeof err) < 0)
		die("%s", err);
	if (o->min_perf) {
		struct nym_topology_filter f = { (unsigned)o->min_perf, (unsigned)o->min_perf };
		if (nym_topology_apply_filter(t, &f, err, sizeof err) < 0)
			die("%s: %s", o->file, err);
	}
	if (!t->fetched_at[0])
		now_rfc3339(t->fetched_at, sizeof t->fetched_at);

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		sl = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, ip, &a->sin_addr);
		sl = sizeof *a;
	}
	if ((lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&ss, sl) < 0)
		die("listen on %s: %s", o->listen, strerror(errno));
	if (listen(lfd, 128) < 0)
		die("listen on %s: %s", o->listen, strerror(errno));
	sl = sizeof ss;
	getsockname(lfd, (struct sockaddr *)&ss, &sl);
	port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port);

	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	conns = calloc(MAX_CONN, sizeof *conns);
	pfd = calloc(MAX_CONN + 1, sizeof *pfd);
	if (!conns || !pfd)
		die("out of memory");
	/* the one line on stdout: where we are */
	printf(strchr(ip, ':') ? "http://[%s]:%u/\n" : "http://%s:%u/\n", ip, port);
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));

	while (!stop) {
		size_t n = 0;

		pfd[n].fd = lfd;
		pfd[n].events = nconn < MAX_CONN ? POLLIN : 0;
		n++;
		for (size_t i = 0; i < nconn; i++, n++) {
			pfd[n].fd = conns[i].fd;
			pfd[n].events = conns[i].out ? POLLOUT : POLLIN;
			pfd[n].revents = 0;
		}
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (size_t i = 0; i < nconn; i++) {
			struct conn *c = &conns[i];
			short ev = pfd[i + 1].revents;
			int drop = 0;

			if (ev & (POLLERR | POLLNVAL)) {
				drop = 1;
			} else if (c->out && (ev & (POLLOUT | POLLHUP))) {
				ssize_t w = write(c->fd, c->out + c->outpos, c->outlen - c->outpos);
				if (w < 0 && errno != EAGAIN && errno != EINTR) {
					drop = 1;
				} else if (w > 0) {
					c->outpos += (size_t)w;
					clock_gettime(CLOCK_MONOTONIC, &c->last);
					if (c->outpos == c->outlen) {
						free(c->out);
						c->out = NULL;
						if (c->close_after)
							drop = 1;
					}
				}
			} else if (!c->out && (ev & (POLLIN | POLLHUP))) {
				ssize_t r = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					drop = 1;
				} else if (r > 0) {
					c->inlen += (size_t)r;
					clock_gettime(CLOCK_MONOTONIC, &c->last);
				}
			}
			/* a complete head waiting (also pipelined ones after a response) */
			if (!drop && !c->out && c->inlen) {
				char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
				size_t hl = end ? (size_t)(end - c->in) + 4 : 0;
				if (!end && !memmem(c->in, c->inlen, "\n\n", 2)) {
					if (c->inlen == sizeof c->in) {
						c->close_after = 1;
						respond(c, 431, "Request Header Fields Too Large",
							"{\"message\":\"request head too large\"}", 0);
						c->inlen = 0;
					}
				} else {
					if (!end)
						hl = (size_t)((char *)memmem(c->in, c->inlen, "\n\n", 2) - c->in) + 2;
					handle(c, hl, t, o->per_page, o->verbose);
					memmove(c->in, c->in + hl, c->inlen - hl);
					c->inlen -= hl;
				}
			}
			if (!drop && ms_since(&c->last) > IDLE_MS)
				drop = 1;
			if (drop) {
				close(c->fd);
				free(c->out);
				conns[i] = conns[nconn - 1];
				pfd[i + 1] = pfd[nconn];
				nconn--;
				i--;
			}
		}
		if (pfd[0].revents & POLLIN) {
			while (nconn < MAX_CONN) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				memset(&conns[nconn], 0, sizeof conns[nconn]);
				conns[nconn].fd = fd;
				clock_gettime(CLOCK_MONOTONIC, &conns[nconn].last);
				nconn++;
			}
		}
	}
	for (size_t i = 0; i < nconn; i++) {
		close(conns[i].fd);
		free(conns[i].out);
	}
	close(lfd);
	free(conns);
	free(pfd);
	nym_topology_free(t);
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	const char *cmd = "show";
	int ch;

	tool_init("nym-topology", argv);
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	o.format = "json";
	o.listen = "127.0.0.1:8080";
	o.min_perf = NYM_TOPOLOGY_MIN_PERFORMANCE;
	o.timeout = 60;
	o.retries = 3;
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_API: o.api = optarg; break;
		case OPT_FILE: o.file = optarg; break;
		case OPT_JSON: o.json = 1; break;
		case OPT_LAYER: o.layer = (int)number("--layer", optarg, 1, 3); break;
		case OPT_GATEWAYS: o.gateways = 1; break;
		case OPT_MIXNODES: o.mixnodes = 1; break;
		case OPT_MINPERF: o.min_perf = number("--min-performance", optarg, 0, 100); break;
		case OPT_FORMAT: o.format = optarg; break;
		case OPT_TIMEOUT: o.timeout = number("--timeout", optarg, 1, 3600); break;
		case OPT_RETRIES: o.retries = number("--retries", optarg, 0, 10); break;
		case OPT_TO: o.to = optarg; break;
		case OPT_LISTEN: o.listen = optarg; break;
		case OPT_PERPAGE: o.per_page = number("--per-page", optarg, 1, 1000000); break;
		case OPT_VERBOSE: o.verbose = 1; break;
		case 'h': usage(); break;
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o.api && o.file)
		usage_error("--api and --file exclude each other");
	if (!o.api && !o.file)
		o.api = getenv("NYM_API") && *getenv("NYM_API") ? getenv("NYM_API") : NYM_API_DEFAULT_URL;
	if (!!o.layer + o.gateways + o.mixnodes > 1)
		usage_error("--layer, --gateways and --mixnodes exclude each other");
	if (strcmp(o.format, "json") && strcmp(o.format, "custom-mixnet"))
		usage_error("--format: '%s' is neither json nor custom-mixnet", o.format);

	if (!strcmp(cmd, "show") || !strcmp(cmd, "list")) {
		if (o.to || o.per_page || o.verbose)
			usage_error("--to, --per-page and --verbose belong to route/serve");
		if (!strcmp(o.format, "custom-mixnet") && (o.layer || o.gateways || o.mixnodes))
			usage_error("--format custom-mixnet is a whole topology: no --layer/--gateways/--mixnodes");
		return cmd_show(&o);
	}
	if (!strcmp(cmd, "route")) {
		if (o.layer || o.gateways || o.mixnodes || o.per_page || o.verbose || strcmp(o.format, "json"))
			usage_error("route takes --to, --topology/--file, --api, --min-performance, --timeout");
		return cmd_route(&o);
	}
	if (!strcmp(cmd, "serve")) {
		if (o.layer || o.gateways || o.mixnodes || o.to || strcmp(o.format, "json"))
			usage_error("serve takes --file, --listen, --per-page, --min-performance, --verbose");
		return cmd_serve(&o);
	}
	usage_error("unknown command '%s' (route, serve, or none)", cmd);
}
