/* nym-cover — send loop cover traffic as the official client does (to
 * itself, the cover marker, Poisson intervals) and report how many loops
 * came back and how long they took: a live check of the path. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>

#include "base/clock.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "proto/delay.h"
#include "proto/wsapi.h"
#include "tool.h"

#define GRACE_MS 5000

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	printf("Usage: nym-cover [--id NAME] [--mean MS | --rate R] [--duration S] [--json] [options]\n"
	       "Send loop cover packets to ourselves through the mixnet and measure them.\n\n"
	       "  --id NAME          identity (default $NYM_ID or 'default')\n"
	       "  --mean MS          mean interval between loops (default 200)\n"
	       "  --rate R           loops per second (the same as --mean 1000/R)\n"
	       "  --duration S       seconds of sending (default 10); then up to 5 s for stragglers\n"
	       "  --json             one JSON object: sent, returned, lost, rtt_ms {min,p50,p99,max}\n"
	       "  --topology FILE    network file (default $NYM_TOPOLOGY)\n"
	       "  --api URL          nym-api to fetch the network from (default $NYM_API)\n"
	       "  --gateway URL      connect to this websocket URL instead\n"
	       "  --quiet            no status lines\n"
	       "  --help, --version\n");
	exit(EXIT_OK);
}

static struct {
	struct nym_mixclient *mc;
	int ready, fail, done, quiet;
	char why[600];
	uint64_t sent, back;
	double *rtt;
	size_t nrtt, cap;
	double mean_ms;
	volatile sig_atomic_t stop;
	const struct nym_rng *rng;
	struct nym_ws *ws;          /* through nym-recv */
} C;

static void
on_signal(int sig)
{
	(void)sig;
	C.stop = 1;
}

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	(void)mc, (void)arg, (void)registered;
	C.ready = 1;
}

static void
loop_back(uint64_t rtt_us)
{
	C.back++;
	if (C.nrtt == C.cap) {
		size_t cap = C.cap ? C.cap * 2 : 256;
		double *n = realloc(C.rtt, cap * sizeof *n);
		if (!n)
			return;
		C.rtt = n;
		C.cap = cap;
	}
	C.rtt[C.nrtt++] = (double)rtt_us / 1000.0;
}

static void
on_loop(struct nym_mixclient *mc, uint64_t id, uint64_t rtt_us, void *arg)
{
	(void)mc, (void)id, (void)arg;
	loop_back(rtt_us);
}

/* ---- through a running nym-recv (nymkit extension of its control socket) ---- */

static void
ctl_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct nym_wsapi_resp p;
	(void)ws, (void)arg;
	if (!binary || nym_wsapi_resp_decode(&p, d, n, NULL) < 0)
		return;
	if (p.tag == NYM_WSAPI_RESP_NYMKIT_LOOP_SENT)
		C.sent++;
	else if (p.tag == NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED)
		loop_back(p.rtt_us);
	else if (p.tag == NYM_WSAPI_RESP_ERROR && !C.quiet)
		warnx("nym-recv: %.*s", (int)(p.data_len > 300 ? 300 : p.data_len), (const char *)p.data);
}

static void
ctl_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)ws, (void)err, (void)unsent, (void)arg;
	C.ws = NULL;
	C.ready = 0;
	C.fail = 1;
	C.done = 1;
	snprintf(C.why, sizeof C.why, "the control socket of nym-recv closed (%s)", why);
}

static void
ctl_open(struct nym_ws *ws, void *arg)
{
	(void)ws, (void)arg;
	C.ready = 1;
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	C.ready = 0;
	if (fatal) {
		C.fail = 1;
		C.done = 1;
		snprintf(C.why, sizeof C.why, "%s", why);
	} else if (!C.quiet)
		warnx("gateway connection lost (%s); reconnecting", why);
}

/* The next loop after an exponential pause, as the official loop stream. */
static void
loop_tick(struct nym_timer *t, void *arg)
{
	uint64_t ns = 0;
	(void)arg;
	if (C.ws) {
		uint8_t req = NYM_WSAPI_REQ_NYMKIT_LOOP;
		if (C.ready)
			nym_ws_send(C.ws, 1, &req, 1);
	} else if (C.ready && nym_mixclient_send_loop(C.mc, NULL) == 0)
		C.sent++;
	nym_delay_sample(&ns, (uint64_t)(C.mean_ms * 1e6), C.rng);
	nym_timer_set(t, ns / 1000);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;
	if (!C.nrtt)
		return 0;
	i = (size_t)ceil(p / 100.0 * (double)C.nrtt);
	return C.rtt[i ? i - 1 : 0];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"mean", required_argument, 0, 'm'},
		{"rate", required_argument, 0, 'r'},
		{"duration", required_argument, 0, 'd'},
		{"json", no_argument, 0, 'j'},
		{"topology", required_argument, 0, 'T'},
		{"api", required_argument, 0, 'A'},
		{"gateway", required_argument, 0, 'g'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = getenv("NYM_ID"), *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API");
	const char *gwurl = NULL, *home;
	double duration = 10;
	int json = 0, c, have_mean = 0, have_rate = 0;

	tool_init("nym-cover", argv);
	C.mean_ms = 200;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'm':
			C.mean_ms = tool_positive("--mean", optarg, "milliseconds");
			have_mean = 1;
			break;
		case 'r':
			C.mean_ms = 1000.0 / tool_positive("--rate", optarg, "loops per second");
			have_rate = 1;
			break;
		case 'd': duration = tool_positive("--duration", optarg, "seconds"); break;
		case 'j': json = 1; break;
		case 'T': topo = optarg; api = NULL; break;
		case 'A': api = optarg; topo = NULL; break;
		case 'g': gwurl = optarg; break;
		case 'q': C.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (have_mean && have_rate)
		usage_error("give --mean or --rate, not both");
	if (!id || !*id)
		id = "default";
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	struct nym_loop *loop;
	char dir[4096], sock[4200];
	int e, have_setup = 0;
	C.rng = &rng;
	if (nym_client_dir(dir, sizeof dir, home, id) < 0)
		usage_error("bad identity name '%s'", id);
	snprintf(sock, sizeof sock, "%s/control.sock", dir);

	tool_signals(on_signal);
	if (tool_loop_new(&loop) < 0)
		die("cannot set up the event loop");
	if (strlen(sock) < 108 && nym_unix_alive(sock)) {
		/* nym-recv holds the gateway connection: it sends the loops */
		struct nym_ws_handler h = {.open = ctl_open, .message = ctl_message, .closed = ctl_closed};
		char url[4300];
		snprintf(url, sizeof url, "unix:%s", sock);
		if (nym_ws_connect(loop, url, &h, &C.ws) < 0)
			die("cannot connect to %s", sock);
	} else {
		tool_need_network(topo, api);
		/* the network within the 30 s the gateway gets below */
		tool_client_setup_until(&su, home, id, topo, api, 30, nym_mono_ms(), &rng);
		have_setup = 1;
		nym_mixclient_setup_config(&su, &rng, &cfg);
		if (gwurl)
			cfg.gateway_url = gwurl;
		cfg.send_mean_ms = 0;   /* only the loop stream below */
		cfg.main_cover = 0;
		cfg.loop_mean_ms = 0;
		cfg.max_retries = -1; /* a gateway away is retried until --duration ends */
		tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
		static struct tool_client tc = {.quiet = &C.quiet};
		tc.dir = su.dir;
		struct nym_mixclient_events ev = {on_ready, tool_client_keep, NULL, on_loop, on_down,
		                                  tool_client_warning, &tc};
		if ((e = nym_mixclient_start(&C.mc, loop, &cfg, &ev)) < 0)
			die("cannot start the client: %s", nym_strerror(e));
	}
	struct nym_timer *t = nym_timer_new(loop, loop_tick, NULL);

	/* wait for the gateway, then send for `duration`, then wait for stragglers */
	uint64_t t0 = nym_mono_ms(), tstart = 0, tend = 0;
	while (!C.done && !C.stop) {
		nym_loop_run(loop, 100);
		uint64_t now = nym_mono_ms();
		if (!tstart && C.ready) {
			tstart = now;
			nym_timer_set(t, 0);
		}
		if (!tstart && now - t0 > 30000) {
			C.fail = 1;
			snprintf(C.why, sizeof C.why, "the gateway did not answer within 30 s");
			break;
		}
		if (tstart && !tend && (double)(now - tstart) >= duration * 1000) {
			tend = now;
			nym_timer_cancel(t);
		}
		if (tend && (C.back >= C.sent || now - tend >= GRACE_MS))
			break;
	}
	nym_timer_free(t);
	if (C.ws) {
		nym_ws_detach(C.ws);
		nym_ws_close(C.ws);
		nym_loop_run(loop, 20);
	}
	if (C.mc)
		tool_client_stop(loop, C.mc);
	nym_loop_free(loop);
	if (have_setup)
		nym_mixclient_setup_free(&su);

	if (C.nrtt) /* qsort(NULL, 0) is undefined */
		qsort(C.rtt, C.nrtt, sizeof *C.rtt, cmp_double);
	if (json) {
		json_t *o = json_object(), *r = json_object();
		json_object_set_new(o, "sent", json_integer((json_int_t)C.sent));
		json_object_set_new(o, "returned", json_integer((json_int_t)C.back));
		json_object_set_new(o, "lost", json_integer((json_int_t)(C.sent - C.back)));
		json_object_set_new(o, "mean_ms", json_real(C.mean_ms));
		if (C.nrtt) {
			json_object_set_new(r, "min", json_real(C.rtt[0]));
			json_object_set_new(r, "p50", json_real(pct(50)));
			json_object_set_new(r, "p99", json_real(pct(99)));
			json_object_set_new(r, "max", json_real(C.rtt[C.nrtt - 1]));
			json_object_set_new(o, "rtt_ms", r);
		} else {
			json_decref(r);
			json_object_set_new(o, "rtt_ms", json_null());
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(o);
	} else if (!C.fail)
		printf("loops sent %llu, returned %llu; rtt ms min %.1f p50 %.1f p99 %.1f max %.1f\n",
		    (unsigned long long)C.sent, (unsigned long long)C.back, C.nrtt ? C.rtt[0] : 0,
		    pct(50), pct(99), C.nrtt ? C.rtt[C.nrtt - 1] : 0);
	free(C.rtt);
	if (C.fail) {
		warnx("%s", C.why);
		return EXIT_FAIL;
	}
	if (!C.back) {
		warnx("no loop came back (%llu sent)", (unsigned long long)C.sent);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
