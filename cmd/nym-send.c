/* nym-send — send stdin (or a file) as one message through the mixnet and
 * exit 0 only once every packet of it has been acknowledged. Goes through
 * the control socket of a running nym-recv of the same identity, or else
 * through its own gateway connection. */
#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/codec.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "proto/packet.h"
#include "proto/wsapi.h"
#include "tool.h"

#define MAX_MESSAGE ((size_t)1 << 30)

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	printf("Usage: nym-send --to ADDRESS [--id NAME] [--file F] [--surbs N] [options]\n"
	       "       nym-send --reply TAG [--id NAME] [--file F] [options]\n"
	       "Send stdin (or F) as one message; exit 0 once every packet is acknowledged.\n\n"
	       "  --to ADDRESS       recipient (identity.encryption@gateway)\n"
	       "  --id NAME          sending identity (default $NYM_ID or 'default')\n"
	       "  --file F           send F instead of stdin\n"
	       "  --surbs N          anonymous and repliable, with N reply SURBs (needs nym-recv)\n"
	       "  --reply TAG        answer an anonymous sender (through nym-recv)\n"
	       "  --timeout S        give up after S seconds (default 300): exit 1\n"
	       "  --rate R           Poisson sending at R packets/s (default 50)\n"
	       "  --no-poisson       send as fast as the gateway takes packets\n"
	       "  --packet-size SIZE regular (default), extended8, extended16, extended32\n"
	       "  --topology FILE    network file (default $NYM_TOPOLOGY)\n"
	       "  --api URL          nym-api to fetch the network from (default $NYM_API)\n"
	       "  --gateway URL      connect to this websocket URL instead\n"
	       "  --direct           do not go through a running nym-recv\n"
	       "  --json             a JSON summary on stdout\n"
	       "  --quiet            no progress and no warnings\n"
	       "  --help, --version\n");
	exit(EXIT_OK);
}

static struct {
	struct nym_loop *loop;
	volatile sig_atomic_t interrupted;
	int done, fail, quiet, progress, json;
	char why[600];
	size_t packets, left;
	uint64_t retrans;
	int have_retrans;
	/* direct */
	struct nym_mixclient *mc;
	uint64_t msg_id;
	int queued;
	/* via nym-recv */
	struct nym_ws *ws;
	uint64_t lane;
	int got_len;
	/* the gateway connection is down (reconnecting): why, for the timeout */
	int down;
	char down_why[300];
} S;

static void
on_signal(int sig)
{
	(void)sig;
	S.interrupted = 1;
}

static void
finish(int fail, const char *fmt, ...)
{
	va_list ap;
	if (S.done)
		return;
	S.done = 1;
	S.fail = fail;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(S.why, sizeof S.why, fmt, ap);
		va_end(ap);
	}
}

static void
show_progress(void)
{
	if (S.progress && S.packets)
		fprintf(stderr, "\r%s: %zu/%zu packets acknowledged", tool_name, S.packets - S.left,
		    S.packets);
}

/* ---- through a running nym-recv ------------------------------------------------ */

static void
ctl_send_req(const struct nym_wsapi_req *r)
{
	size_t n = nym_wsapi_req_len(r);
	uint8_t *b = malloc(n);
	if (!b)
		die("out of memory");
	nym_wsapi_req_encode(b, n, r);
	nym_ws_send(S.ws, 1, b, n);
	free(b);
}

static void
ctl_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct nym_wsapi_resp p;
	(void)ws, (void)arg;
	if (!binary || nym_wsapi_resp_decode(&p, d, n, NULL) < 0)
		return;
	if (p.tag == NYM_WSAPI_RESP_ERROR) {
		finish(1, "nym-recv refused the message: %.*s", (int)(p.data_len > 400 ? 400 : p.data_len),
		    (const char *)p.data);
		return;
	}
	if (p.tag != NYM_WSAPI_RESP_LANE_QUEUE_LENGTH || p.lane != S.lane)
		return;
	if (!S.got_len) {
		S.got_len = 1;
		S.packets = (size_t)p.queue_length;
	}
	S.left = (size_t)p.queue_length;
	show_progress();
	if (!S.left)
		finish(0, NULL);
}

static void
ctl_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)ws, (void)err, (void)unsent, (void)arg;
	S.ws = NULL;
	finish(1, "the control socket of nym-recv closed (%s)", why ? why : "closed");
}

static void
poll_lane(struct nym_timer *t, void *arg)
{
	struct nym_wsapi_req r = {.tag = NYM_WSAPI_REQ_LANE_QUEUE_LENGTH, .connection_id = S.lane};
	(void)arg;
	if (S.ws && S.got_len)
		ctl_send_req(&r);
	nym_timer_set(t, 100000);
}

/* ---- own connection ------------------------------------------------------------ */

static void
on_acked(struct nym_mixclient *mc, uint64_t msg_id, size_t left, void *arg)
{
	(void)mc, (void)arg;
	if (msg_id != S.msg_id)
		return;
	S.left = left;
	show_progress();
	if (!left)
		finish(0, NULL);
}

/* A gateway away for a while is ridden out, as nym-recv does: gwsession
 * reconnects with backoff until --timeout ends the wait. */
static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal) {
		finish(1, "%s", why);
		return;
	}
	if (!S.down && !S.quiet)
		warnx("gateway connection lost (%s); reconnecting until the timeout", why);
	S.down = 1;
	snprintf(S.down_why, sizeof S.down_why, "%s", why);
}

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	(void)mc, (void)registered, (void)arg;
	if (S.down && !S.quiet)
		warnx("the gateway is back");
	S.down = 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"to", required_argument, 0, 't'},
		{"id", required_argument, 0, 'i'},
		{"file", required_argument, 0, 'f'},
		{"surbs", required_argument, 0, 's'},
		{"reply", required_argument, 0, 'r'},
		{"timeout", required_argument, 0, 'w'},
		{"rate", required_argument, 0, 'R'},
		{"no-poisson", no_argument, 0, 'N'},
		{"packet-size", required_argument, 0, 'P'},
		{"topology", required_argument, 0, 'T'},
		{"api", required_argument, 0, 'A'},
		{"gateway", required_argument, 0, 'g'},
		{"direct", no_argument, 0, 'd'},
		{"json", no_argument, 0, 'j'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *to_s = NULL, *id = getenv("NYM_ID"), *file = NULL, *reply_s = NULL;
	const char *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API"), *gwurl = NULL, *home;
	double timeout = 300, rate = 50;
	long surbs = -1;
	int nopoisson = 0, direct = 0, size_tag = NYM_SIZE_REGULAR, pacing = 0, c;
	char *end, why[NYM_ADDRESS_WHY_MAX + 64];
	struct nym_address to;
	uint8_t tag[16];

	tool_init("nym-send", argv);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': to_s = optarg; break;
		case 'i': id = optarg; break;
		case 'f': file = optarg; break;
		case 's':
			surbs = strtol(optarg, &end, 10);
			if (*end || end == optarg || surbs < 0 || surbs > 1000)
				usage_error("--surbs wants a number from 0 to 1000, not '%s'", optarg);
			break;
		case 'r': reply_s = optarg; break;
		case 'w': timeout = tool_positive("--timeout", optarg, "seconds"); break;
		case 'R':
			rate = tool_positive("--rate", optarg, "packets per second");
			pacing = 1;
			break;
		case 'N': nopoisson = 1; pacing = 1; break;
		case 'P':
			if ((size_tag = nym_packet_size_by_name(optarg)) < 0 || size_tag == NYM_SIZE_ACK ||
			    size_tag > NYM_SIZE_EXTENDED16)
				usage_error("--packet-size: regular, extended8, extended16 or extended32, not '%s'",
				    optarg);
			pacing = 1;
			break;
		case 'T': topo = optarg; api = NULL; break;
		case 'A': api = optarg; topo = NULL; break;
		case 'g': gwurl = optarg; break;
		case 'd': direct = 1; break;
		case 'j': S.json = 1; break;
		case 'q': S.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!to_s == !reply_s)
		usage_error("give either --to ADDRESS or --reply TAG");
	if (reply_s && surbs >= 0)
		usage_error("--surbs goes with --to, not --reply");
	if (!id || !*id)
		id = "default";
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (to_s && nym_address_parse(&to, to_s, why, sizeof why) < 0)
		usage_error("bad address '%s': %s", to_s, why);
	if (reply_s && (nym_base58_decode(tag, sizeof tag, reply_s, strlen(reply_s)) != 16))
		usage_error("bad sender tag '%s': not 16 bytes of base58", reply_s);
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	/* the message, read whole before anything goes out */
	size_t len;
	uint8_t *data;
	FILE *in = stdin;
	if (file && !(in = fopen(file, "rb")))
		die("cannot open %s: %s", file, strerror(errno));
	if (!(data = read_all(in, &len, MAX_MESSAGE)))
		die("cannot read %s: %s", file ? file : "stdin", strerror(errno));
	if (file)
		fclose(in);

	tool_signals(on_signal);
	S.progress = !S.quiet && isatty(2);

	char dir[4096], sock[4200];
	if (nym_client_dir(dir, sizeof dir, home, id) < 0)
		usage_error("bad identity name '%s'", id);
	snprintf(sock, sizeof sock, "%s/control.sock", dir);
	if (tool_loop_new(&S.loop) < 0)
		die("cannot set up the event loop");
	int via_recv = !direct && strlen(sock) < 108 && nym_unix_alive(sock);
	if ((surbs >= 0 || reply_s) && !via_recv)
		die("%s needs a running nym-recv of identity '%s' (it holds the reply keys and SURBs)",
		    reply_s ? "--reply" : "--surbs", id);

	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	int have_setup = 0, e;
	uint64_t t0 = nym_mono_ms();
	struct nym_timer *poll = NULL;

	if (surbs >= 0) {
		/* the tag is ours to report: the same derivation nym-recv uses */
		struct nym_client_keys k;
		const char *bad;
		if (nym_client_keys_load(dir, &k, &bad) < 0)
			die("cannot load the keys of '%s'", id);
		nym_mixclient_tag_derive(&k, &to, tag);
		nym_wipe(&k, sizeof k);
	}

	if (via_recv && pacing && !S.quiet)
		warnx("the running nym-recv of '%s' paces and sizes these packets: --rate, "
		      "--no-poisson and --packet-size apply to an own connection (--direct)", id);
	if (via_recv) {
		struct nym_ws_handler h = {.message = ctl_message, .closed = ctl_closed};
		struct nym_wsapi_req r = {0};
		char url[4300];
		snprintf(url, sizeof url, "unix:%s", sock);
		if (nym_ws_connect(S.loop, url, &h, &S.ws) < 0)
			die("cannot connect to %s", sock);
		nym_rng_fill(&rng, (uint8_t *)&S.lane, sizeof S.lane);
		S.lane |= 1;
		r.connection_id = S.lane;
		r.data = data;
		r.data_len = len;
		if (reply_s) {
			r.tag = NYM_WSAPI_REQ_REPLY;
			memcpy(r.sender_tag, tag, 16);
		} else {
			r.tag = surbs >= 0 ? NYM_WSAPI_REQ_SEND_ANONYMOUS : NYM_WSAPI_REQ_SEND;
			r.reply_surbs = surbs >= 0 ? (uint32_t)surbs : 0;
			memcpy(r.recipient, to.identity, 32);
			memcpy(r.recipient + 32, to.encryption, 32);
			memcpy(r.recipient + 64, to.gateway, 32);
		}
		ctl_send_req(&r);
		poll = nym_timer_new(S.loop, poll_lane, NULL);
		nym_timer_set(poll, 100000);
	} else {
		struct nym_mixclient_config cfg;
		tool_need_network(topo, api);
		tool_client_setup_until(&su, home, id, topo, api, timeout, t0, &rng);
		have_setup = 1;
		if (!nym_topology_find_identity(su.topo, to.gateway)) {
			char b58[64];
			nym_base58_encode(b58, sizeof b58, to.gateway, 32);
			die("the recipient's gateway %s is not in the network", b58);
		}
		nym_mixclient_setup_config(&su, &rng, &cfg);
		if (gwurl)
			cfg.gateway_url = gwurl;
		tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
		cfg.send_mean_ms = nopoisson ? 0 : 1000.0 / rate;
		cfg.main_cover = !nopoisson;
		cfg.loop_mean_ms = 0; /* a short-lived sender: the main stream's cover only */
		cfg.packet_size = (uint8_t)size_tag;
		cfg.max_retries = -1; /* until --timeout */
		S.have_retrans = 1;
		static struct tool_client tc = {.quiet = &S.quiet};
		tc.dir = su.dir;
		struct nym_mixclient_events ev = {on_ready, tool_client_keep, on_acked, NULL, on_down,
		                                  tool_client_warning, &tc};
		if ((e = nym_mixclient_start(&S.mc, S.loop, &cfg, &ev)) < 0)
			die("cannot start the client: %s", nym_strerror(e));
		if ((e = nym_mixclient_send(S.mc, &to, data, len, -1, 0, &S.msg_id)) < 0)
			die("cannot send: %s", nym_strerror(e));
		S.packets = S.left = nym_mixclient_msg_unacked(S.mc, S.msg_id);
		S.got_len = 1;
	}
	S.progress = S.progress && (S.packets > 64 || len > 100000); /* "large" */

	while (!S.done) {
		nym_loop_run(S.loop, 100);
		if (S.interrupted)
			finish(1, "interrupted: %zu of %zu packets not acknowledged", S.got_len ? S.left : 0,
			    S.packets);
		else if ((double)(nym_mono_ms() - t0) >= timeout * 1000)
			finish(1, "timed out after %g s: %zu of %zu packets never acknowledged%s%s",
			    timeout, S.got_len ? S.left : 0, S.packets,
			    S.down ? "; the gateway is unreachable: " : "", S.down ? S.down_why : "");
	}
	if (S.mc) {
		struct nym_mixclient_stats st;
		nym_mixclient_stats(S.mc, &st);
		S.retrans = st.retransmitted;
	}
	if (S.progress)
		fputc('\n', stderr);

	/* stop cleanly: nym-recv drops the lane (no more retransmissions) */
	uint64_t t1 = nym_mono_ms();
	if (S.ws) {
		if (S.fail) {
			struct nym_wsapi_req r = {.tag = NYM_WSAPI_REQ_CLOSED_CONNECTION, .connection_id = S.lane};
			ctl_send_req(&r);
		}
		nym_ws_close(S.ws);
		while (S.ws && nym_mono_ms() - t1 < 1000)
			nym_loop_run(S.loop, 50);
	}
	if (S.mc)
		tool_client_stop(S.loop, S.mc);
	nym_timer_free(poll);
	nym_loop_free(S.loop);
	if (have_setup)
		nym_mixclient_setup_free(&su);

	if (S.json) {
		char tb[64];
		json_t *o = json_object();
		json_object_set_new(o, "size", json_integer((json_int_t)len));
		json_object_set_new(o, "packets", json_integer((json_int_t)S.packets));
		json_object_set_new(o, "acknowledged", json_integer((json_int_t)(S.packets - S.left)));
		json_object_set_new(o, "retransmissions", S.have_retrans ?
		    json_integer((json_int_t)S.retrans) : json_null());
		json_object_set_new(o, "seconds", json_real((double)(nym_mono_ms() - t0) / 1000.0));
		if (surbs >= 0) {
			nym_base58_encode(tb, sizeof tb, tag, 16);
			json_object_set_new(o, "sender_tag", json_string(tb));
		} else
			json_object_set_new(o, "sender_tag", json_null());
		json_object_set_new(o, "ok", json_boolean(!S.fail));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(o);
	}
	free(data);
	if (S.fail) {
		warnx("%s", S.why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
