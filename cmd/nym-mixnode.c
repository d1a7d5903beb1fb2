/* nym-mixnode — a Nym mix node: receives Sphinx packets on the node link,
 * processes each with its sphinx key, holds it for its delay and forwards it
 * to the next hop (doc/spec/sphinx.md §5, §7, §9; doc/spec/nym-message.md §2.4, §3.1). */
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>

#include "base/clock.h"
#include "crypto/crypto.h"
#include "io/keyfile.h"
#include "io/mixer.h"
#include "io/netio.h"
#include "io/topofile.h"
#include "proto/framing.h"
#include "proto/packet.h"
#include "proto/topology.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-mixnode (--keys DIR | --id NAME) [--listen HOST:PORT] [--workers N]\n"
	"                   [--stats SECONDS] [--max-delay MS] [--topology FILE] [options]\n"
	"\n"
	"Run a Nym mix node: accept Sphinx packets on the node link (v7 and v8 frames),\n"
	"process each with the node's sphinx key, hold it for the delay its header asks\n"
	"(at most --max-delay) and forward it over a persistent connection to the next\n"
	"hop. Replays, bad MACs, bad frames and unreachable next hops are dropped and\n"
	"counted. Runs until SIGINT or SIGTERM; SIGHUP reloads the keys (key rotation).\n"
	"\n"
	"  -k, --keys DIR          the node's data directory (nym-keygen --node --dir DIR)\n"
	"  -i, --id NAME           the node's keys in $NYM_HOME_DIR (or $HOME)/.nym/nym-nodes/NAME/data\n"
	"  -l, --listen HOST:PORT  where to listen (default 0.0.0.0:1789; port 0: any)\n"
	"  -w, --workers N         Sphinx worker threads (default: one per core)\n"
	"  -s, --stats SECONDS     print one JSON line of counters every SECONDS (may be\n"
	"                          fractional) and one at exit\n"
	"  -m, --max-delay MS      cap on a packet's delay (default 10000, as nym-node;\n"
	"                          0: forward at once)\n"
	"      --legacy-framing    forward with 3-byte v7 headers (default v8, which keeps\n"
	"                          the key rotation byte)\n"
	"      --replay-window N   replay tags remembered at least (default 262144)\n"
	"      --max-conns N       inbound connections at once (default 4096), besides up\n"
	"                          to 1024 from the --topology's nodes\n"
	"      --frame-timeout MS  drop a connection that leaves a frame unfinished this\n"
	"                          long (default 10000)\n"
	"      --idle-timeout MS   drop a connection that sends no whole frame this long\n"
	"                          (default 30000; not one from a --topology node)\n"
	"      --peer-queue N      packets queued per next hop while it is unreachable\n"
	"                          (default 2048)\n"
	"  -t, --topology FILE     forward only to the mix_host addresses of the nodes in\n"
	"                          this topology (nym-topology --json, or a custom-mixnet\n"
	"                          file); others count as bad_next_hop. Default: any.\n"
	"                          Connections from these nodes' IPs have slots of their own\n"
	"  -q, --quiet             no log lines for dropped connections and peers\n"
	"  -h, --help              this text\n"
	"  -V, --version           the version\n";

static volatile sig_atomic_t stop, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

struct node {
	struct nym_mixer *mx;
	struct nym_netio *io;
	int legacy;
	int quiet;
	struct nym_node_addr *allowed; /* --topology: the only next hops; NULL: any */
	size_t n_allowed;
};

static int
allowed(const struct node *n, const struct nym_node_addr *a)
{
	if (!n->allowed)
		return 1;
	size_t iplen = a->family == 4 ? 4 : 16;
	for (size_t i = 0; i < n->n_allowed; i++)
		if (n->allowed[i].family == a->family && n->allowed[i].port == a->port &&
		    !memcmp(n->allowed[i].ip, a->ip, iplen))
			return 1;
	return 0;
}

static void
load_topology(struct node *n, const char *path)
{
	struct nym_topology *t;
	char err[NYM_TOPOLOGY_ERR_MAX];
	if (nym_topofile_load(&t, path, err, sizeof err) < 0)
		die("%s", err);
	n->allowed = calloc(t->n_nodes ? t->n_nodes : 1, sizeof *n->allowed);
	if (!n->allowed)
		die("out of memory");
	for (size_t i = 0; i < t->n_nodes; i++)
		if (nym_node_addr_parse(&n->allowed[n->n_allowed], t->nodes[i].mix_host) == 0)
			n->n_allowed++;
	nym_topology_free(t);
}

/* The node link's frame boundaries, for netio: lib/proto/framing.h's decoder. */
static void
on_frame(void *ctx, const struct nym_netio_addr *from, const uint8_t *frame, size_t len)
{
	struct node *n = ctx;
	struct nym_frame_header h;
	(void)from;
	if (nym_frame_need(&h, frame, len) != (long)len) {
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_FRAME);
		return;
	}
	if (h.packet_type != NYM_PACKET_TYPE_MIX || nym_size_tag_plaintext(h.size_tag) < 0) {
		/* Outfox: a valid frame, but not a packet this node processes. */
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_SIZE);
		return;
	}
	nym_mixer_submit(n->mx, h.key_rotation, frame + h.header_len, h.packet_len, nym_mono_ns());
}

static void
forward(void *ctx, const struct nym_mixer_out *o)
{
	struct node *n = ctx;
	struct nym_node_addr na;
	struct nym_netio_addr to;
	uint8_t hdr[NYM_FRAME_HEADER_MAX];

	if (nym_node_addr_decode(&na, o->next_hop, 32) < 0 || na.port == 0 || !allowed(n, &na) ||
	    nym_netio_addr_from_ip(&to, na.ip, na.family == 4 ? 4 : 16, na.port) < 0) {
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_NEXT_HOP);
		return;
	}
	int hl = nym_frame_header_write(hdr, n->legacy ? NYM_FRAME_V7 : NYM_FRAME_V8, o->len,
	                                NYM_PACKET_TYPE_MIX, o->rotation);
	if (hl < 0) {
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_SIZE);
		return;
	}
	if (nym_netio_send(n->io, &to, hdr, (size_t)hl, o->pkt, o->len) < 0)
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_QUEUE);
}

static void
on_wake(void *ctx)
{
	struct node *n = ctx;
	nym_mixer_take_due(n->mx, nym_mono_ns(), 0, forward, n);
}

static void
on_event(void *ctx, const struct nym_netio_event *ev)
{
	struct node *n = ctx;
	char a[64];
	if (ev->kind == NYM_NETIO_EV_BAD_FRAME || ev->kind == NYM_NETIO_EV_OVERSIZED)
		nym_mixer_count_drop(n->mx, NYM_MIXER_DROP_FRAME);
	if (n->quiet)
		return;
	nym_netio_addr_format(a, ev->addr);
	switch (ev->kind) {
	case NYM_NETIO_EV_REJECTED:
		warnx("%s: connection refused: %s", a,
		      ev->err ? strerror(ev->err) : "too many connections");
		break;
	case NYM_NETIO_EV_BAD_FRAME:
		warnx("%s: connection dropped: bad frame (%s)", a, nym_strerror(ev->err));
		break;
	case NYM_NETIO_EV_OVERSIZED:
		warnx("%s: connection dropped: frame too large", a);
		break;
	case NYM_NETIO_EV_STALLED:
		warnx("%s: connection dropped: frame left unfinished", a);
		break;
	case NYM_NETIO_EV_IDLE:
		warnx("%s: connection dropped: idle", a);
		break;
	case NYM_NETIO_EV_READ_ERROR:
		warnx("%s: connection dropped: %s", a, strerror(ev->err));
		break;
	case NYM_NETIO_EV_PEER_UP:
		break;
	case NYM_NETIO_EV_PEER_DOWN:
		if (ev->err)
			warnx("%s: next hop unreachable: %s; retrying in %u ms", a, strerror(ev->err),
			      ev->backoff_ms);
		break;
	case NYM_NETIO_EV_QUEUE_FULL:
		warnx("%s: next hop queue full: dropping packets (%llu so far)", a,
		      (unsigned long long)ev->count);
		break;
	case NYM_NETIO_EV_TOO_MANY_PEERS:
		warnx("%s: too many next hops: packet dropped", a);
		break;
	}
}

struct snap {
	struct nym_mixer_stats m;
	double t;
};

static void
print_stats(struct node *n, struct snap *last, double t)
{
	struct nym_mixer_stats s;
	struct nym_netio_stats ns;
	uint64_t total = 0;

	nym_mixer_stats(n->mx, &s);
	nym_netio_stats(n->io, &ns);
	printf("{\"t\":%.3f,\"received\":%llu,\"processed\":%llu,\"forwarded\":%llu,\"sent\":%llu,"
	       "\"dropped\":{",
	       t, (unsigned long long)s.received, (unsigned long long)s.processed,
	       (unsigned long long)s.forwarded, (unsigned long long)ns.frames_out);
	for (int i = 0; i < NYM_MIXER_DROP_N; i++) {
		uint64_t d = s.dropped[i];
		if (i == NYM_MIXER_DROP_QUEUE) /* also count frames netio lost mid-frame */
			d = ns.frames_dropped > d ? ns.frames_dropped : d;
		total += d;
		printf("%s\"%s\":%llu", i ? "," : "", nym_mixer_drop_name(i), (unsigned long long)d);
	}
	uint64_t dn = s.proc_count - last->m.proc_count, dt = s.proc_ns - last->m.proc_ns;
	double interval = t - last->t;
	printf("},\"dropped_total\":%llu,\"queue_depth\":%zu,\"waiting\":%zu,\"held\":%zu,"
	       "\"proc_us\":%.1f,\"rate\":%.1f,\"conns\":%zu,\"conns_dropped\":%llu,"
	       "\"peers_up\":%zu,\"peer_queued\":%zu}\n",
	       (unsigned long long)total, s.queued + s.held, s.queued, s.held,
	       dn ? (double)dt / (double)dn / 1e3 : 0.0,
	       interval > 0 ? (double)(s.received - last->m.received) / interval : 0.0, ns.conns,
	       (unsigned long long)(ns.dropped_conns + ns.rejected), ns.peers_up, ns.queued);
	fflush(stdout);
	last->m = s;
	last->t = t;
}

static unsigned long
parse_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > max || s[0] == '-')
		usage_error("%s: not a number up to %lu: '%s'", opt, max, s);
	return v;
}

/* The node's sphinx keys: the primary from the key set, and the secondary
 * (the previous rotation's, kept through the transition) if the data
 * directory has one. 0, or -1 with a message in why. */
static int
load_keys(const char *dir, struct nym_mixer_keys *mk, char *why, size_t whylen)
{
	struct nym_node_keys k;
	const char *bad = NULL;

	memset(mk, 0, sizeof *mk);
	int r = nym_node_keys_load(dir, &k, &bad);
	if (r < 0) {
		snprintf(why, whylen, "%s/%s: %s", dir, bad ? bad : "",
		         r == NYM_EIO ? strerror(errno) : nym_strerror(r));
		return -1;
	}
	memcpy(mk->primary, k.sphinx_sk, 32);
	mk->primary_rotation = k.sphinx_rotation;
	nym_wipe(&k, sizeof k);
	r = nym_node_sphinx_secondary_load(dir, mk->secondary);
	if (r == 0) {
		mk->has_secondary = 1;
	} else if (r != NYM_ENOTFOUND) {
		snprintf(why, whylen, "%s/%s: %s", dir, NYM_NODE_SPHINX_SECONDARY,
		         r == NYM_EIO ? strerror(errno) : nym_strerror(r));
		nym_wipe(mk, sizeof *mk);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"keys", required_argument, 0, 'k'},
		{"id", required_argument, 0, 'i'},
		{"listen", required_argument, 0, 'l'},
		{"workers", required_argument, 0, 'w'},
		{"stats", required_argument, 0, 's'},
		{"max-delay", required_argument, 0, 'm'},
		{"legacy-framing", no_argument, 0, 1},
		{"replay-window", required_argument, 0, 2},
		{"max-conns", required_argument, 0, 3},
		{"frame-timeout", required_argument, 0, 4},
		{"peer-queue", required_argument, 0, 5},
		{"idle-timeout", required_argument, 0, 6},
		{"topology", required_argument, 0, 't'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *keys = NULL, *id = NULL, *listen = "0.0.0.0:1789", *topology = NULL;
	double stats = 0;
	struct nym_mixer_config mc = {0};
	struct nym_netio_config nc = {0};
	struct node n = {0};
	int c;

	tool_init("nym-mixnode", argv);
	while ((c = getopt_long(argc, argv, "k:i:l:w:s:m:t:qhV", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keys = optarg; break;
		case 'i': id = optarg; break;
		case 'l': listen = optarg; break;
		case 'w': mc.workers = (unsigned)parse_num("--workers", optarg, 256); break;
		case 's': stats = tool_number("--stats", optarg, 0, 1, 86400, "seconds"); break;
		case 'm':
			/* 0 ms: forward at once (the mixer reads 0 as "default", 1 ns is none) */
			mc.max_delay_ns = parse_num("--max-delay", optarg, 86400000) * 1000000ull;
			if (!mc.max_delay_ns)
				mc.max_delay_ns = 1;
			break;
		case 1: n.legacy = 1; break;
		case 2: mc.replay_window = parse_num("--replay-window", optarg, 1ul << 30); break;
		case 3: nc.max_conns = parse_num("--max-conns", optarg, 1000000); break;
		case 4: nc.frame_timeout_ms = (unsigned)parse_num("--frame-timeout", optarg, 3600000); break;
		case 5: nc.peer_queue_max = parse_num("--peer-queue", optarg, 1000000); break;
		case 6:
			nc.idle_timeout_ms = (unsigned)parse_num("--idle-timeout", optarg, 86400000);
			if (!nc.idle_timeout_ms)
				usage_error("--idle-timeout: 0 is not a timeout");
			break;
		case 't': topology = optarg; break;
		case 'q': n.quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); return EXIT_OK;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!keys == !id)
		usage_error("give the node's keys with --keys DIR or --id NAME");
	struct nym_netio_addr la;
	if (nym_netio_addr_parse(&la, listen) < 0)
		die("cannot listen on %s: not a numeric HOST:PORT", listen); /* never another address */
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");

	char dirbuf[4096];
	if (id) {
		tool_node_dir(dirbuf, sizeof dirbuf, id);
		keys = dirbuf;
	}
	char why[4400];
	if (load_keys(keys, &mc.keys, why, sizeof why) < 0)
		die("%s", why);
	if (topology)
		load_topology(&n, topology);

	struct nym_rng rng = nym_rng_system();
	if (nym_rng_fill(&rng, mc.replay_key, sizeof mc.replay_key) < 0)
		die("no randomness for the replay filter");
	n.mx = nym_mixer_create(&mc);
	nym_wipe(&mc, sizeof mc);
	if (!n.mx)
		die("cannot start the workers: %s", strerror(errno));

	nc.frame_len = nym_frame_len;
	nc.on_frame = on_frame;
	nc.on_event = on_event;
	nc.ctx = &n;
	nc.max_frame = NYM_FRAME_HEADER_MAX + NYM_PACKET_MAX_LEN;
	/* The topology's nodes are neighbours: slots of their own (any port). */
	struct nym_netio_addr *known = calloc(n.n_allowed + 1, sizeof *known);
	if (!known)
		die("out of memory");
	for (size_t i = 0; i < n.n_allowed; i++)
		if (nym_netio_addr_from_ip(&known[nc.n_known], n.allowed[i].ip,
		                           n.allowed[i].family == 4 ? 4 : 16, n.allowed[i].port) == 0)
			nc.n_known++;
	nc.known = known;
	n.io = nym_netio_create(&nc);
	free(known);
	if (!n.io)
		die("cannot create the event loop: %s", strerror(errno));
	int port = nym_netio_listen(n.io, &la);
	if (port < 0)
		die("cannot listen on %s: %s", listen, strerror(errno));
	if (nym_netio_watch(n.io, nym_mixer_wakefd(n.mx), on_wake, &n) < 0)
		die("cannot watch the delay queue");

	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!n.quiet) {
		char shown[64];
		if (la.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&la.ss)->sin_port = htons((uint16_t)port);
		else
			((struct sockaddr_in6 *)&la.ss)->sin6_port = htons((uint16_t)port);
		nym_netio_addr_format(shown, &la);
		warnx("listening on %s", shown);
	}

	double t0 = (double)nym_mono_ns() / 1e9, next_stats = t0 + stats;
	struct snap last = {.t = 0};
	while (!stop) {
		if (reload) {
			struct nym_mixer_keys nk;
			reload = 0;
			if (load_keys(keys, &nk, why, sizeof why) < 0) {
				warnx("keys not reloaded: %s", why);
			} else {
				nym_mixer_set_keys(n.mx, &nk);
				warnx("keys reloaded: primary of rotation %u%s", nk.primary_rotation,
				      nk.has_secondary ? ", and a secondary key" : "");
			}
			nym_wipe(&nk, sizeof nk);
		}
		uint64_t now = nym_mono_ns();
		int64_t due = nym_mixer_next_due(n.mx, now);
		int timeout = due < 0 ? 1000 : (int)((due + 999999) / 1000000);
		if (timeout > 1000)
			timeout = 1000;
		if (stats > 0) {
			double left = next_stats - (double)now / 1e9;
			int ms = left > 0 ? (int)ceil(left * 1e3) : 0;
			if (ms < timeout)
				timeout = ms;
		}
		if (nym_netio_run(n.io, timeout) < 0)
			die("event loop: %s", strerror(errno));
		nym_mixer_take_due(n.mx, nym_mono_ns(), 0, forward, &n);
		double t = (double)nym_mono_ns() / 1e9;
		if (stats > 0 && t >= next_stats) {
			print_stats(&n, &last, t - t0);
			while (next_stats <= t)
				next_stats += stats;
		}
	}
	if (stats > 0)
		print_stats(&n, &last, (double)nym_mono_ns() / 1e9 - t0);
	nym_netio_destroy(n.io);
	nym_mixer_destroy(n.mx);
	free(n.allowed);
	return EXIT_OK;
}
