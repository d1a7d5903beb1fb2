/* nym-gateway — a Nym gateway: the client websocket endpoint (gateway
 * protocol v6, doc/spec/gateway.md) and the mixnet final hop.
 *
 * Clients register or authenticate over ws:// (or wss:// with --cert/--key),
 * claim free bandwidth and send ForwardSphinx frames; their MixPackets go to
 * the first hop over TCP (node-link framing). Packets from the mixnet arrive
 * on the mix port: the gateway unwraps the last Sphinx layer, sends the
 * SURB-ack back into the mixnet at once, and pushes the payload to its client
 * or, while the client is away, keeps it in the SQLite inbox until the
 * client authenticates again.
 *
 * The protocol is lib/proto/gwserver.h, the mix side lib/io/finalhop.h;
 * this file is their policy and wiring: the websocket server (io/gwclient.h)
 * and the inbox (io/inbox.h) on the main thread, logs and counters. */
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sys/resource.h>
#include <time.h>

#include "base/clock.h"
#include "base/codec.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "io/finalhop.h"
#include "io/gwclient.h"
#include "io/inbox.h"
#include "io/quota.h"
#include "io/keyfile.h"
#include "io/topofile.h"
#include "proto/framing.h"
#include "proto/gwserver.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-gateway [--id NAME | --keys DIR] [--listen [HOST:]PORT] [--mix-listen [HOST:]PORT]\n"
	"                   [--inbox FILE] [--cert FILE --key FILE] [--topology FILE]\n"
	"                   [--stats SECONDS] [--log LEVEL] [--capture DIR]\n"
	"                   [--enforce-zk-nyms] [--free-bandwidth BYTES]\n"
	"\n"
	"Run a Nym gateway: the client websocket endpoint (gateway protocol v6) and\n"
	"the mixnet's final hop, with an inbox for clients that are offline.\n"
	"\n"
	"  -i, --id NAME          node keys of NAME (made by nym-keygen --node --id NAME;\n"
	"                         default $NYMNODE_ID, else 'default-nym-node')\n"
	"  -k, --keys DIR         node key directory (alias --identity, --dir)\n"
	"  -l, --listen ADDR      client websocket address (default 0.0.0.0:9000)\n"
	"      --max-conns N      client connections at once (default 4096); at most 3/4 of\n"
	"                         them unauthenticated, each for 30 s at most\n"
	"  -m, --mix-listen ADDR  mix port for packets from mix nodes (default 0.0.0.0:1789)\n"
	"      --idle-timeout MS  drop a mix-port connection that sends no whole packet this\n"
	"                         long (default 30000; not one from a --topology node)\n"
	"  -b, --inbox FILE       SQLite database of client keys and stored messages\n"
	"                         (default DIR/gateway_inbox.sqlite)\n"
	"  -c, --cert FILE        TLS certificate (PEM): serve wss:// instead of ws://\n"
	"  -K, --key FILE         TLS private key (PEM) for --cert\n"
	"  -t, --topology FILE    forward only to mix_host addresses listed in this\n"
	"                         topology (nym-topology --json); default: any address\n"
	"  -s, --stats SECONDS    print one JSON line of counters every SECONDS on stdout\n"
	"  -L, --log LEVEL        error, info (default) or debug, on stderr\n"
	"  -C, --capture DIR      save each Sphinx packet clients send as DIR/pkt-NNNNNN.bin,\n"
	"                         indexed in DIR/packets.jsonl (for tests)\n"
	"      --enforce-zk-nyms  refuse free bandwidth claims, as a gateway that accepts\n"
	"                         only zk-nym credentials does (which nymkit cannot verify:\n"
	"                         no client gets bandwidth; for testing clients against one)\n"
	"      --inbox-quota BYTES  bytes the inbox keeps for one client that is away\n"
	"                         (default 67108864, 64 MiB); a packet past it is dropped\n"
	"                         without its SURB-ack, so its sender resends, then gives up\n"
	"      --inbox-total BYTES  bytes the inbox keeps in all (default 1073741824, 1 GiB)\n"
	"      --max-clients N    registered clients at most (default 100000); a new one\n"
	"                         past it is refused\n"
	"      --free-bandwidth BYTES  bytes per free claim (default 68719476736, 64 GiB;\n"
	"                         small values let tests run out of bandwidth)\n"
	"  -h, --help             this text\n"
	"  -V, --version          the version\n";

/* Policy numbers (the protocol's own are in proto/gwserver.h). */
#define CONN_QUEUE_MAX (1u << 20) /* bytes queued to one client before we stop */
#define PEER_QUEUE_MAX 2000       /* packets queued to one next hop */
#define REPLAY_WINDOW (1u << 16)  /* a replay of any of the last this many final-hop packets is caught */
#define INBOX_MAX_AGE 86400       /* s, stored messages are purged after this */
#define PURGE_EVERY_MS (3600 * 1000)

enum { LOG_ERR = NYM_GWS_ERR, LOG_INFO = NYM_GWS_INFO, LOG_DEBUG = NYM_GWS_DEBUG };
static int log_level = LOG_INFO;
#define logf(lvl, ...) do { if ((int)(lvl) <= log_level) warnx(__VA_ARGS__); } while (0)

static struct {
	struct nym_loop *loop;
	struct nym_gws *srv;
	struct nym_finalhop *fh;
	struct nym_inbox *inbox;
	struct nym_rng rng;
	struct nym_node_keys keys;
	char **allowed;           /* --topology: allowed "host:port" next hops */
	size_t n_allowed;
	const char *capture;      /* --capture DIR, or NULL */
	struct nym_quota *quota;  /* --inbox-quota, --inbox-total */
	uint64_t refused_503;     /* upgrades refused before the handshake (unauthenticated cap) */
	uint64_t captured, no_route, oversized;
} G;

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (G.loop)
		nym_loop_wake(G.loop);
}

static struct nym_gws_now
now(void)
{
	return (struct nym_gws_now){nym_mono_ms(), (uint64_t)time(NULL)};
}

/* ---- forwarding to mix nodes ---------------------------------------------------- */

/* --topology: only known nodes. */
static int
hop_allowed(const struct nym_netio_addr *a)
{
	char name[64];
	static char last_refused[64];

	if (!G.allowed)
		return 1;
	nym_netio_addr_format(name, a);
	for (size_t i = 0; i < G.n_allowed; i++)
		if (strcmp(G.allowed[i], name) == 0)
			return 1;
	if (strcmp(last_refused, name)) { /* one line per new offender */
		logf(LOG_INFO, "next hop %s is not in the topology: packet dropped", name);
		snprintf(last_refused, sizeof last_refused, "%s", name);
	}
	G.no_route++;
	return 0;
}

/* --capture: the Sphinx packet as the client sent it, for offline peeling
 * (nym-sphinx-wrap --unwrap); a test aid, so a failure only logs. */
static void
capture_packet(const struct nym_gws_forward *fw)
{
	const struct nym_mix_packet *mp = fw->mp;
	char path[4200], hop[64] = "?", client[NYM_B58_KEY_MAX];
	struct nym_netio_addr a;
	FILE *f;
	uint64_t n = ++G.captured;
	int short_write;

	nym_base58_encode(client, sizeof client, fw->client, 32);
	if (nym_finalhop_addr(&a, mp->next_hop, mp->next_hop_len) == 0)
		nym_netio_addr_format(hop, &a);
	snprintf(path, sizeof path, "%s/pkt-%06" PRIu64 ".bin", G.capture, n);
	if (!(f = fopen(path, "wb")))
		goto fail;
	/* Close in any case; either failing loses the packet. */
	short_write = fwrite(mp->packet, 1, mp->packet_len, f) != mp->packet_len;
	if (fclose(f) != 0 || short_write)
		goto fail;
	snprintf(path, sizeof path, "%s/packets.jsonl", G.capture);
	if (!(f = fopen(path, "a")))
		goto fail;
	short_write = fprintf(f, "{\"n\":%" PRIu64 ",\"file\":\"pkt-%06" PRIu64 ".bin\",\"client\":\"%s\","
	                      "\"request_kind\":%u,\"packet_type\":%u,\"key_rotation\":%u,\"next_hop\":\"%s\","
	                      "\"sphinx_len\":%zu}\n", n, n, client, fw->request_kind, mp->packet_type,
	                      mp->key_rotation, hop, mp->packet_len) < 0;
	if (fclose(f) != 0 || short_write)
		goto fail;
	return;
fail:
	logf(LOG_ERR, "%s: cannot write the captured packet: %s", path, strerror(errno));
}

/* ---- the mix side ----------------------------------------------------------------- */

static void
mix_on_event(void *ctx, const struct nym_netio_event *ev)
{
	char a[64];
	(void)ctx;
	nym_netio_addr_format(a, ev->addr);
	switch (ev->kind) {
	case NYM_NETIO_EV_REJECTED: logf(LOG_INFO, "mix port: %s refused: too many connections", a); break;
	case NYM_NETIO_EV_BAD_FRAME: logf(LOG_INFO, "mix port: %s sent a bad frame (%s); dropped", a, nym_strerror(ev->err)); break;
	case NYM_NETIO_EV_OVERSIZED: logf(LOG_INFO, "mix port: %s sent an oversized frame; dropped", a); break;
	case NYM_NETIO_EV_STALLED: logf(LOG_INFO, "mix port: %s left a frame unfinished; dropped", a); break;
	case NYM_NETIO_EV_IDLE: logf(LOG_DEBUG, "mix port: %s idle; dropped", a); break;
	case NYM_NETIO_EV_READ_ERROR: logf(LOG_DEBUG, "mix port: %s: %s", a, strerror(ev->err)); break;
	case NYM_NETIO_EV_PEER_UP: logf(LOG_DEBUG, "next hop %s: connected", a); break;
	case NYM_NETIO_EV_PEER_DOWN: logf(ev->backoff_ms <= 100 ? LOG_INFO : LOG_DEBUG, "next hop %s: %s; retrying in %u ms", a, strerror(ev->err), ev->backoff_ms); break;
	case NYM_NETIO_EV_QUEUE_FULL: logf(LOG_INFO, "next hop %s: queue full, %" PRIu64 " packets dropped", a, ev->count); break;
	case NYM_NETIO_EV_TOO_MANY_PEERS: logf(LOG_INFO, "next hop %s: too many next hops; dropped", a); break;
	}
}

/* A worker queued a payload: the main loop takes it. */
static void
mix_ready(void *ctx)
{
	(void)ctx;
	nym_loop_wake(G.loop);
}

static void
push_one(void *arg, const uint8_t client[32], const uint8_t *msg, size_t len)
{
	(void)arg;
	nym_gws_push(G.srv, client, msg, len, now());
	nym_quota_settle(G.quota, client, len); /* pushed or stored: the inbox counts it now */
}

/* The inbox bounds, asked on a mixer worker before the SURB-ack goes out. */
static int
mix_admit(void *ctx, const uint8_t client[32], size_t len)
{
	(void)ctx;
	return nym_quota_admit(G.quota, client, len);
}

static void
mix_settle(void *ctx, const uint8_t client[32], size_t len)
{
	(void)ctx;
	nym_quota_settle(G.quota, client, len);
}

static void
inbox_changed(void *arg, const uint8_t client[32], int64_t delta)
{
	(void)arg;
	nym_quota_stored(G.quota, client, delta);
}

/* ---- the protocol's transport: websockets ---------------------------------------- */

static int
tr_send(void *ctx, void *conn, enum nym_gws_frame type, const uint8_t *data, size_t len, uint64_t tag)
{
	(void)ctx;
	if (type == NYM_GWS_PING)
		return nym_ws_ping(conn, data, len);
	if (nym_ws_queued(conn) + len > CONN_QUEUE_MAX)
		return NYM_EFULL;
	return nym_ws_send_tagged(conn, type == NYM_GWS_BINARY, data, len, tag);
}

static void
tr_close(void *ctx, void *conn, int abort)
{
	(void)ctx;
	if (abort)
		nym_ws_abort(conn);
	else
		nym_ws_close(conn);
}

static int
tr_forward(void *ctx, void *conn, const struct nym_gws_forward *f)
{
	struct nym_netio_addr to;

	(void)ctx;
	(void)conn;
	if (G.capture)
		capture_packet(f);
	if (nym_finalhop_addr(&to, f->mp->next_hop, f->mp->next_hop_len) != 0)
		return NYM_EADDR;
	if (!hop_allowed(&to))
		return NYM_EROUTE;
	return nym_finalhop_send(G.fh, &to, f->frame_version, f->mp->packet_type, f->mp->key_rotation,
	                         f->mp->packet, f->mp->packet_len);
}

static void
tr_note(void *ctx, void *conn, enum nym_gws_level level, const char *text)
{
	(void)ctx;
	if (conn)
		logf(level, "%s: %s", nym_ws_peer(conn), text);
	else
		logf(level, "%s", text);
}

static void
ws_open(struct nym_ws *ws, void *arg)
{
	struct nym_gws_conn *c = nym_gws_accept(G.srv, ws, now());

	(void)arg;
	if (!c)
		nym_ws_abort(ws);
	nym_ws_set_user(ws, c);
	logf(LOG_DEBUG, "%s: connected", nym_ws_peer(ws));
}

/* Before the handshake: over the cap of unauthenticated connections, a 503
 * rather than a websocket that closes at once. */
static int
ws_admit(void *arg)
{
	(void)arg;
	if (!nym_gws_full(G.srv))
		return 0;
	G.refused_503++;
	return 1;
}

static void
ws_message(struct nym_ws *ws, int binary, const uint8_t *data, size_t len, void *arg)
{
	struct nym_gws_conn *c = nym_ws_user(ws);

	(void)arg;
	if (c && binary)
		nym_gws_binary(c, data, len, now());
	else if (c)
		nym_gws_text(c, (const char *)data, len, now());
}

static void
ws_pong(struct nym_ws *ws, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (nym_ws_user(ws))
		nym_gws_pong(nym_ws_user(ws), data, len, now());
}

static void
ws_sent(struct nym_ws *ws, uint64_t tag, void *arg)
{
	(void)arg;
	if (nym_ws_user(ws))
		nym_gws_sent(nym_ws_user(ws), tag, now());
}

static void
ws_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)arg;
	(void)unsent;
	if (err == NYM_EFULL) {
		logf(LOG_INFO, "%s: %s; closing", nym_ws_peer(ws), why);
		G.oversized++;
	}
	logf(LOG_DEBUG, "%s: closed", nym_ws_peer(ws));
	if (nym_ws_user(ws))
		nym_gws_closed(nym_ws_user(ws), now());
}

/* ---- stats, options, set-up ------------------------------------------------------- */

static void
print_stats(void)
{
	const struct nym_gws_stats *s = nym_gws_stats(G.srv);
	struct nym_finalhop_stats m;

	nym_finalhop_stats(G.fh, &m);
	json_t *o = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:I,s:I}",
		"time", (json_int_t)time(NULL), "connections", (json_int_t)s->connections,
		"connected", (json_int_t)s->connected, "registered", (json_int_t)s->registered,
		"authenticated", (json_int_t)s->authenticated, "auth_failed", (json_int_t)s->auth_failed,
		"forwarded", (json_int_t)s->forwarded, "send_errors", (json_int_t)s->send_errors,
		"final_hop_received", (json_int_t)m.received, "pushed", (json_int_t)s->pushed,
		"stored", (json_int_t)s->stored, "inbox_delivered", (json_int_t)s->inbox_delivered,
		"acks_forwarded", (json_int_t)m.acks,
		"dropped", "mac", (json_int_t)m.bad_mac, "replay", (json_int_t)m.replay,
		"not_final", (json_int_t)m.not_final, "malformed", (json_int_t)m.malformed,
		"queue_full", (json_int_t)m.queue_full, "inbox_full", (json_int_t)m.refused,
		"no_route", (json_int_t)G.no_route,
		"hostile_clients", (json_int_t)(s->hostile_closed + G.oversized),
		"inbox_waiting", (json_int_t)nym_inbox_count(G.inbox, NULL),
		"mix_links_in", (json_int_t)m.io.conns, "next_hops", (json_int_t)m.io.peers,
		"next_hops_up", (json_int_t)m.io.peers_up, "next_hop_queue", (json_int_t)m.io.queued,
		"refused_busy", (json_int_t)G.refused_503);
	char *txt = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (txt) {
		printf("%s\n", txt);
		fflush(stdout);
		free(txt);
	}
	json_decref(o);
}

/* "[HOST:]PORT" (HOST may be [v6]). */
static void
parse_listen(const char *s, char *host, size_t cap, int *port, const char *opt)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	host[0] = 0;
	if (colon) {
		size_t hl = (size_t)(colon - s);
		if (hl && s[0] == '[' && s[hl - 1] == ']') {
			s++;
			hl -= 2;
		}
		if (hl >= cap)
			usage_error("%s: host too long", opt);
		memcpy(host, s, hl);
		host[hl] = 0;
		colon++;
	} else {
		colon = s;
	}
	p = strtol(colon, &end, 10);
	if (*colon == 0 || *end || p < 1 || p > 65535)
		usage_error("%s: '%s' is not [HOST:]PORT", opt, s);
	*port = (int)p;
}

/* A number 1..max for option opt. */
static unsigned long
num_opt(const char *opt, const char *s, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > max || s[0] == '-')
		usage_error("%s: '%s' is not a number (1..%lu)", opt, s, max);
	return v;
}

static unsigned long long
bytes_opt(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v < 1 || s[0] == '-')
		usage_error("%s: '%s' is not a number of bytes (1 or more)", opt, s);
	return v;
}

static void
load_topology(const char *path, struct nym_finalhop_config *fc)
{
	char err[4400];
	if (nym_topofile_hosts(path, &G.allowed, &G.n_allowed, err, sizeof err) != 0)
		die("%s", err);
	struct nym_netio_addr *known = calloc(G.n_allowed + 1, sizeof *known);
	for (size_t i = 0; known && i < G.n_allowed; i++)
		fc->n_known += nym_netio_addr_parse(&known[fc->n_known], G.allowed[i]) == 0;
	fc->known = known;
	logf(LOG_INFO, "topology %s: %zu node addresses", path, G.n_allowed);
}

/* The sphinx keys of the final hop: the node's, and the secondary if kept. */
static void
load_keys(const char *dir, struct nym_mixer_keys *mk)
{
	const char *bad = NULL;
	int rc = nym_node_keys_load(dir, &G.keys, &bad);

	if (rc != 0)
		die("%s/%s: %s%s", dir, bad ? bad : "", rc == NYM_EIO ? strerror(errno) : nym_strerror(rc),
		    rc == NYM_EIO && errno == ENOENT ? " (create node keys with nym-keygen --node)" : "");
	memcpy(mk->primary, G.keys.sphinx_sk, 32);
	mk->primary_rotation = G.keys.sphinx_rotation;
	rc = nym_node_sphinx_secondary_load(dir, mk->secondary);
	if (rc != 0 && rc != NYM_ENOTFOUND)
		die("%s/%s: %s", dir, NYM_NODE_SPHINX_SECONDARY, rc == NYM_EIO ? strerror(errno) : nym_strerror(rc));
	mk->has_secondary = rc == 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"keys", required_argument, 0, 'k'},
		{"identity", required_argument, 0, 'k'},
		{"dir", required_argument, 0, 'k'},
		{"listen", required_argument, 0, 'l'},
		{"mix-listen", required_argument, 0, 'm'},
		{"inbox", required_argument, 0, 'b'},
		{"cert", required_argument, 0, 'c'},
		{"key", required_argument, 0, 'K'},
		{"topology", required_argument, 0, 't'},
		{"stats", required_argument, 0, 's'},
		{"log", required_argument, 0, 'L'},
		{"capture", required_argument, 0, 'C'},
		{"enforce-zk-nyms", no_argument, 0, 'Z'},
		{"free-bandwidth", required_argument, 0, 'F'},
		{"idle-timeout", required_argument, 0, 'I'},
		{"max-conns", required_argument, 0, 'N'},
		{"inbox-quota", required_argument, 0, 'Q'},
		{"inbox-total", required_argument, 0, 'T'},
		{"max-clients", required_argument, 0, 'M'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = NULL, *keydir = NULL, *inbox = NULL, *cert = NULL, *key = NULL, *topo = NULL;
	char ws_host[256] = "", mix_host[256] = "", dirbuf[4096], inboxbuf[4200], mix_hostport[300];
	int ws_port = 9000, mix_port = 1789, stats_secs = 0, enforce_zk_nyms = 0, max_conns = 4096, o;
	long long free_bw = 0; /* 0: the gateway default, 64 GiB */
	unsigned long long inbox_quota = 64ull << 20, inbox_total = 1ull << 30;
	long max_clients = 100000;
	char *end;
	struct nym_finalhop_config fc = {
		.replay_window = REPLAY_WINDOW, .peer_queue_max = PEER_QUEUE_MAX,
		.ready = mix_ready, .event = mix_on_event, .admit = mix_admit, .settle = mix_settle,
	};

	tool_init("nym-gateway", argv);
	while ((o = getopt_long(argc, argv, "i:k:l:m:b:c:K:t:s:L:C:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'i': id = optarg; break;
		case 'k': keydir = optarg; break;
		case 'l': parse_listen(optarg, ws_host, sizeof ws_host, &ws_port, "--listen"); break;
		case 'm': parse_listen(optarg, mix_host, sizeof mix_host, &mix_port, "--mix-listen"); break;
		case 'b': inbox = optarg; break;
		case 'c': cert = optarg; break;
		case 'K': key = optarg; break;
		case 't': topo = optarg; break;
		case 's': stats_secs = (int)num_opt("--stats", optarg, 86400); break;
		case 'L':
			if (!strcmp(optarg, "error")) log_level = LOG_ERR;
			else if (!strcmp(optarg, "info")) log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug")) log_level = LOG_DEBUG;
			else usage_error("--log: '%s' is not error, info or debug", optarg);
			break;
		case 'C': G.capture = optarg; break;
		case 'Z': enforce_zk_nyms = 1; break;
		case 'F':
			errno = 0;
			free_bw = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || free_bw < 1)
				usage_error("--free-bandwidth: '%s' is not a number of bytes (1 or more)", optarg);
			break;
		case 'N': max_conns = (int)num_opt("--max-conns", optarg, 1000000); break;
		case 'Q': inbox_quota = bytes_opt("--inbox-quota", optarg); break;
		case 'T': inbox_total = bytes_opt("--inbox-total", optarg); break;
		case 'M': max_clients = (long)num_opt("--max-clients", optarg, 100000000); break;
		case 'I': fc.idle_timeout_ms = (unsigned)num_opt("--idle-timeout", optarg, 86400000); break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (id && keydir)
		usage_error("--id and --keys exclude each other");
	if (!!cert != !!key)
		usage_error("--cert and --key go together");
	if (nym_crypto_init() != 0)
		die("cannot initialise the crypto library");
	if (!keydir) {
		tool_node_dir(dirbuf, sizeof dirbuf, id && *id ? id : NULL);
		keydir = dirbuf;
	}

	/* The mix side: lib/io/finalhop.h, on threads of its own. */
	load_keys(keydir, &fc.keys);
	if (!inbox) {
		snprintf(inboxbuf, sizeof inboxbuf, "%s/gateway_inbox.sqlite", keydir);
		inbox = inboxbuf;
	}
	if (nym_inbox_open(&G.inbox, inbox) != 0)
		die("%s: cannot open the inbox database: %s", inbox,
		    G.inbox ? nym_inbox_errmsg(G.inbox) : strerror(errno));
	if (!(G.quota = nym_quota_new(inbox_quota, inbox_total)))
		die("out of memory");
	if (nym_inbox_observe(G.inbox, inbox_changed, NULL) != 0)
		die("%s: cannot read the inbox database: %s", inbox, nym_inbox_errmsg(G.inbox));
	nym_inbox_set_max_clients(G.inbox, max_clients);
	if (topo) /* the topology's nodes: slots of their own on the mix port */
		load_topology(topo, &fc);
	G.rng = nym_rng_system();
	if (tool_loop_new(&G.loop) != 0)
		die("cannot create the event loop");
	snprintf(mix_hostport, sizeof mix_hostport, strchr(mix_host, ':') ? "[%s]:%d" : "%s:%d",
	         mix_host[0] ? mix_host : "0.0.0.0", mix_port);
	if (nym_netio_addr_parse(&fc.listen, mix_hostport) != 0)
		die("cannot listen for mix packets on %s: not a numeric address", mix_hostport);
	if (nym_rng_fill(&G.rng, fc.replay_key, sizeof fc.replay_key) != 0)
		die("no randomness for the replay filter");
	o = nym_finalhop_start(&G.fh, &fc);
	free((void *)fc.known); /* netio has its copy */
	nym_wipe(&fc, sizeof fc);
	if (o != 0)
		die("cannot listen for mix packets on %s: %s", mix_hostport, strerror(errno));

	/* The client side: the protocol over websockets, storage in the inbox. */
	struct nym_gws_config gc = {
		.identity_seed = G.keys.identity_seed, .rng = &G.rng,
		.free_bandwidth = free_bw, .enforce_zk_nyms = enforce_zk_nyms,
		.max_unauth = (size_t)(max_conns - max_conns / 4), /* the rest: for clients that authenticate */
		.io = {.send = tr_send, .close = tr_close, .forward = tr_forward, .note = tr_note},
	};
	nym_inbox_gws_storage(G.inbox, &gc.store);
	if (nym_gws_new(&G.srv, &gc) != 0)
		die("out of memory");
	/* Thousands of clients need thousands of descriptors. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Keepalive: a ping after a minute of silence, hang up after two. */
	struct nym_ws_server ls = {
		.host = ws_host, .port = ws_port, .cert = cert, .key = key, .max_text = NYM_GWS_MAX_TEXT,
		.max_binary = NYM_GWS_MAX_BINARY, .ping_secs = 60, .hangup_secs = 120, .max_conns = max_conns,
	};
	struct nym_ws_handler wh = {
		.open = ws_open, .message = ws_message, .closed = ws_closed, .sent = ws_sent, .pong = ws_pong,
		.admit = ws_admit,
	};
	if ((o = nym_ws_listen(G.loop, &ls, &wh)) != 0)
		die("cannot listen for clients on %s:%d: %s%s", ws_host[0] ? ws_host : "*", ws_port,
		    o == NYM_EADDR ? "not a numeric address" : o == NYM_EIO ? strerror(errno) : nym_strerror(o),
		    cert && o == NYM_EIO ? " (or the certificate/key is unusable)" : "");

	char b58[NYM_B58_KEY_MAX], sb58[NYM_B58_KEY_MAX];
	nym_base58_encode(b58, sizeof b58, G.keys.identity_pk, 32);
	nym_base58_encode(sb58, sizeof sb58, G.keys.sphinx_pk, 32);
	logf(LOG_INFO, "gateway %s (sphinx key %s): clients on %s://%s%s%s:%d, mix port %s, inbox %s",
	     b58, sb58, cert ? "wss" : "ws", strchr(ws_host, ':') ? "[" : "", ws_host[0] ? ws_host : "*",
	     strchr(ws_host, ':') ? "]" : "", ws_port, mix_hostport, inbox);

	tool_signals(on_signal);
	uint64_t t = nym_mono_ms(), next_stats = t + (uint64_t)stats_secs * 1000, next_purge = t + 1000;
	while (!stopping) {
		int64_t wait = nym_gws_tick(G.srv, now());
		t = nym_mono_ms();
		if (stats_secs && next_stats <= t) {
			print_stats();
			next_stats += (uint64_t)stats_secs * 1000;
		}
		if (next_purge <= t) {
			int64_t n = nym_inbox_purge(G.inbox, (uint64_t)time(NULL) - INBOX_MAX_AGE);
			if (n > 0)
				logf(LOG_INFO, "inbox: purged %" PRId64 " messages older than a day", n);
			next_purge = t + PURGE_EVERY_MS;
		}
		if (wait < 0 || wait > 1000)
			wait = 1000;
		if (stats_secs && (int64_t)(next_stats - t) < wait)
			wait = next_stats > t ? (int64_t)(next_stats - t) : 0;
		if (nym_loop_run(G.loop, (int)wait) < 0)
			break;
		nym_finalhop_take(G.fh, push_one, NULL);
	}

	logf(LOG_INFO, "stopping");
	nym_finalhop_stop(G.fh);                 /* no more payloads after this */
	nym_finalhop_take(G.fh, push_one, NULL); /* those already unwrapped: delivered or kept */
	nym_gws_free(G.srv);                     /* every connection ends: bandwidth saved, pushes kept */
	nym_loop_free(G.loop);
	nym_inbox_close(G.inbox);
	nym_finalhop_free(G.fh);
	nym_quota_free(G.quota);
	nym_wipe(&G.keys, sizeof G.keys);
	for (size_t i = 0; i < G.n_allowed; i++)
		free(G.allowed[i]);
	free(G.allowed);
	return EXIT_OK;
}
