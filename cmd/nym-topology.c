/* nym-topology — the Nym network as JSON: from nym-api or a file, a route
 * through it, or served as the nym-api of a local mixnet.
 *
 *   nym-topology [--api URL | --file FILE] [--json] [--layer N | --gateways | --mixnodes]
 *                [--min-performance P] [--format json|custom-mixnet]
 *   nym-topology route [--to ADDRESS] [--topology FILE | --api URL]
 *   nym-topology serve --file FILE [--listen 127.0.0.1:PORT] [--per-page N]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "io/httpserve.h"
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
	       "  --timeout SECS        time limit for fetching from the API (default 60)\n"
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
	/* --timeout bounds the whole fetch: every route, page, retry and pause */
	ao.deadline_ms = nym_mono_ms() + (uint64_t)o->timeout * 1000;
	ao.read_timeout_ms = o->timeout < 10 ? o->timeout * 1000 : 10000;
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
	if (nym_route_choose(t, &rng, o->to ? addr.gateway : NULL, &r, err, sizeof err) < 0)
		die("%s", err);
	if (nym_route_dump(&r, o->to, &s) < 0)
		die("out of memory");
	put(s);
	nym_topology_free(t);
	return EXIT_OK;
}

/* ---- serve: the nym-api routes over io/httpserve ------------------------------ */

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

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

struct serve {
	const struct nym_topology *t;
	long per_page;
	int verbose;
};

static void
answer(void *arg, const char *method, const char *target, const char *query, int *status,
       const char **type, char **body)
{
	const struct serve *sv = arg;
	char path[2048];

	*type = "application/json";
	if (strcmp(method, "HEAD") && strcmp(method, "GET")) {
		*status = 405;
		*body = strdup("{\"message\":\"only GET\"}");
		goto log;
	}
	/* public deployments sit under /api/; a bare nym-api does not */
	{
		char *q = path;
		size_t l;
		snprintf(path, sizeof path, "%s", target);
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
			pp = sv->per_page;
		if (page < 0)
			page = 0;
		*status = 200;
		if (nym_topology_api_answer(sv->t, api_routes[i].route, (uint32_t)page, (uint32_t)pp, body) < 0)
			*body = NULL; /* answered 500 */
		goto log;
	}
	*status = 404;
	*body = strdup("{\"message\":\"not found\"}");
log:
	if (sv->verbose)
		fprintf(stderr, "nym-topology: %s %s%s%s -> %d\n", method, target, query ? "?" : "",
			query ? query : "", *body ? *status : 500);
}

static int
cmd_serve(const struct opts *o)
{
	char err[NYM_TOPOLOGY_ERR_MAX], ip[NYM_TOPOLOGY_IPSTR];
	struct nym_httpserve *hs;
	struct nym_topology *t;
	struct sigaction sa;
	uint16_t port;

	if (!o->file)
		usage_error("serve needs --file FILE");
	if (nym_topology_parse_host(o->listen, ip, &port) < 0)
		die("cannot listen on %s: not a numeric IP:PORT", o->listen);
	if (nym_topofile_load(&t, o->file, err, sizeof err) < 0)
		die("%s", err);
	if (o->min_perf) {
		struct nym_topology_filter f = { (unsigned)o->min_perf, (unsigned)o->min_perf };
		if (nym_topology_apply_filter(t, &f, err, sizeof err) < 0)
			die("%s: %s", o->file, err);
	}
	if (!t->fetched_at[0])
		now_rfc3339(t->fetched_at, sizeof t->fetched_at);
	if (nym_httpserve_open(&hs, ip, port, err, sizeof err) < 0)
		die("listen on %s: %s", o->listen, err);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the one line on stdout: where we are */
	printf(strchr(ip, ':') ? "http://[%s]:%u/\n" : "http://%s:%u/\n", ip, nym_httpserve_port(hs));
	if (fflush(stdout) == EOF)
		die("stdout: %s", strerror(errno));

	struct serve sv = { t, o->per_page, o->verbose };
	if (nym_httpserve_run(hs, answer, &sv, &stop, err, sizeof err) < 0)
		die("%s", err);
	nym_httpserve_close(hs);
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
