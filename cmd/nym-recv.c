/* nym-recv — hold an identity's gateway connection, print each message the
 * moment it is complete, and serve the control socket through which
 * nym-send, nym-cover and scripts act as this identity. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <jansson.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/codec.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/held.h"
#include "io/mixclient.h"
#include "io/nymapi.h"
#include "io/surbfile.h"
#include "proto/keys.h"
#include "proto/wsapi.h"
#include "tool.h"

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	printf("Usage: nym-recv [--id NAME] [-0 | --json] [--count N] [--timeout S] [options]\n"
	       "Receive messages for an identity and write each to stdout when complete.\n\n"
	       "  --id NAME          identity (default $NYM_ID or 'default')\n"
	       "  -0, --delimiter    write a NUL byte after each message\n"
	       "  --json             one JSON object per message: size, data (base64),\n"
	       "                     text (when UTF-8), sender_tag (or null)\n"
	       "  --count N          exit 0 after N messages\n"
	       "  --timeout S        exit after S seconds (1 if --count was not reached)\n"
	       "  --no-cover         send no cover traffic\n"
	       "  --topology FILE    network file (default $NYM_TOPOLOGY)\n"
	       "  --api URL          nym-api to fetch the network from (default $NYM_API)\n"
	       "  --gateway URL      connect to this websocket URL instead\n"
	       "  --quiet            no status lines on stderr\n"
	       "  --help, --version\n\n"
	       "Control socket: <client dir>/control.sock (nym-client websocket API, binary).\n"
	       "While nym-client runs for the identity, nym-recv reads through it.\n"
	       "Messages received but not printed (after --count, stdout refused) are kept in\n"
	       "<client dir>/held and printed first by the next nym-recv.\n");
	exit(EXIT_OK);
}

enum { OUT_RAW, OUT_NUL, OUT_JSON };

struct ctl {
	struct ctl *next, *prev;
	struct nym_ws *ws;
	int subscribed; /* asked SelfAddress: gets Received pushes */
};

static struct {
	struct nym_loop *loop;
	struct tool_loops loops; /* loops sent for control-socket clients (nym-cover) */
	struct nym_mixclient *mc;
	struct ctl *ctls;
	int out, quiet;
	long count, got;
	volatile sig_atomic_t stop;
	int fail;
	uint64_t down_ms; /* when the gateway connection was lost (0: up) */
	char why[512];
	char held[4300];  /* <client dir>/held: messages for the next nym-recv */
} R;

/* --api: the network is fetched again every 5 minutes, as the official
 * client refreshes its topology; on a thread of its own (nym_api_job), so
 * that a slow or hung nym-api never stops the loop: the timer polls it. */
static uint64_t refresh_us = 300ull * 1000000; /* NYM_TOPOLOGY_REFRESH seconds */
static const char *refresh_api;
static struct nym_topology *topo_now;
static struct nym_api_job *refresh_job;
#define REFRESH_POLL_US 100000
#define REFRESH_LIMIT_MS 30000 /* one refresh, all requests and retries */

static void
refresh(struct nym_timer *t, void *arg)
{
	struct nym_topology *nt = NULL;
	char err[NYM_TOPOLOGY_ERR_MAX];
	int r;
	(void)arg;
	if (!refresh_job) {
		struct nym_api_opts o = NYM_API_OPTS_DEFAULT;
		o.base_url = refresh_api;
		o.retries = 1;
		o.timeout_ms = 10000;
		o.read_timeout_ms = 5000;
		o.deadline_ms = nym_mono_ms() + REFRESH_LIMIT_MS;
		if (nym_api_job_start(&refresh_job, &o) < 0) {
			if (!R.quiet)
				warnx("topology refresh failed (keeping the old one): cannot start a thread");
			nym_timer_set(t, refresh_us);
		} else
			nym_timer_set(t, REFRESH_POLL_US);
		return;
	}
	if (!(r = nym_api_job_poll(refresh_job, &nt, err, sizeof err))) {
		nym_timer_set(t, REFRESH_POLL_US); /* still fetching */
		return;
	}
	nym_api_job_free(refresh_job);
	refresh_job = NULL;
	if (r < 0) {
		if (!R.quiet)
			warnx("topology refresh failed (keeping the old one): %s", err);
	} else if (nym_mixclient_set_topology(R.mc, nt) < 0) {
		if (!R.quiet)
			warnx("topology refresh: our gateway is gone from the network; keeping the old one");
		nym_topology_free(nt);
	} else {
		nym_topology_free(topo_now);
		topo_now = nt;
	}
	nym_timer_set(t, refresh_us);
}

static void
on_signal(int sig)
{
	(void)sig;
	R.stop = 1;
}

static void
finish(int fail, const char *why)
{
	if (R.stop)
		return;
	R.stop = 1;
	R.fail = fail;
	if (why)
		snprintf(R.why, sizeof R.why, "%s", why);
}

/* Serve until a signal, --count or --timeout ends it (a timeout with
 * --count unmet is a failure). */
static uint64_t t_start; /* --timeout counts from here: fetching the network too */

static void
run_until_done(double timeout)
{
	uint64_t t0 = t_start ? t_start : nym_mono_ms();
	while (!R.stop) {
		nym_loop_run(R.loop, 200);
		if (timeout > 0 && (double)(nym_mono_ms() - t0) >= timeout * 1000) {
			if (R.count > 0) {
				char w[200];
				snprintf(w, sizeof w, "timed out after %g s with %ld of %ld messages",
				    timeout, R.got, R.count);
				finish(1, w);
			} else
				finish(0, NULL);
		}
	}
}

/* ---- output ---------------------------------------------------------------- */

/* Write one record to stdout in one write: the whole record or none of it.
 * A short write (a full disk) is cut off again when stdout is a file, so
 * that no half record stays for a reader; -1 (errno set) on failure. */
static int
write_record(const void *rec, size_t len)
{
	struct stat st;
	off_t at = -1;
	ssize_t w;

	/* to a pipe or terminal a short write is only a signal: go on */
	if (fstat(1, &st) < 0 || !S_ISREG(st.st_mode))
		return nym_write_full(1, rec, len);
	at = lseek(1, 0, SEEK_CUR);
	do
		w = write(1, rec, len);
	while (w < 0 && errno == EINTR);
	if (w >= 0 && (size_t)w == len)
		return 0;
	if (w >= 0)
		errno = w > 0 || len == 0 ? ENOSPC : EIO;
	int saved = errno;
	if (w > 0 && at >= 0 && ftruncate(1, at) == 0)
		(void)lseek(1, at, SEEK_SET);
	errno = saved;
	return -1;
}

/* One message as stdout shows it, built whole before a byte is written;
 * -1 (errno set) when stdout refuses it. */
static int
print_message(const uint8_t *data, size_t len, const uint8_t *tag)
{
	int e;
	if (R.out == OUT_JSON) {
		json_t *o = json_object();
		char *b64 = malloc(NYM_B64_ENCLEN(len));
		char tb[64];
		json_t *txt = json_stringn((const char *)data, len); /* NULL if not UTF-8 */
		if (!b64)
			die("out of memory");
		nym_base64_encode(b64, NYM_B64_ENCLEN(len), data, len);
		json_object_set_new(o, "size", json_integer((json_int_t)len));
		json_object_set_new(o, "data", json_string(b64));
		if (txt)
			json_object_set_new(o, "text", txt);
		if (tag) {
			nym_base58_encode(tb, sizeof tb, tag, 16);
			json_object_set_new(o, "sender_tag", json_string(tb));
		} else
			json_object_set_new(o, "sender_tag", json_null());
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
		if (!s)
			die("out of memory");
		size_t n = strlen(s);
		char *rec = realloc(s, n + 1);
		if (!rec)
			die("out of memory");
		rec[n] = '\n';
		e = write_record(rec, n + 1);
		free(rec);
		free(b64);
		json_decref(o);
	} else if (R.out == OUT_NUL) {
		uint8_t *rec = malloc(len + 1);
		if (!rec)
			die("out of memory");
		if (len)
			memcpy(rec, data, len);
		rec[len] = 0;
		e = write_record(rec, len + 1);
		free(rec);
	} else {
		e = len ? write_record(data, len) : 0;
	}
	return e;
}

/* A message no one will print now (--count met, shutting down, stdout
 * gone): the gateway has forgotten it, so keep it for the next nym-recv.
 * Said on stderr unless stdout failed (that one line says it). */
static int
hold(const uint8_t *data, size_t len, const uint8_t *tag, int say)
{
	if (nym_held_append(R.held, data, len, tag) < 0) {
		warnx("a message (%zu bytes) could not be kept in %s: %s; it is lost", len, R.held,
		    strerror(errno));
		return -1;
	}
	if (say && !R.quiet)
		warnx("a message (%zu bytes) arrived after the last one printed; kept for the next nym-recv",
		    len);
	return 0;
}

static void
stdout_failed(int kept)
{
	char w[200];
	snprintf(w, sizeof w, "cannot write to stdout: %s%s", strerror(errno),
	    kept ? "; the message is kept for the next nym-recv" : "");
	finish(1, w);
}

/* Print one message, or keep it (stopping, or stdout refused it: then stop
 * with one line). 1 when printed. */
static int
deliver(const uint8_t *data, size_t len, const uint8_t *tag)
{
	if (R.stop) {
		hold(data, len, tag, !R.fail);
		return 0;
	}
	if (print_message(data, len, tag) < 0) {
		int saved = errno;
		int kept = hold(data, len, tag, 0) == 0;
		errno = saved;
		stdout_failed(kept);
		return 0;
	}
	return 1;
}

/* Messages an earlier nym-recv, nym-send or nym-cover kept: printed first. */
static int
take_held(const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	(void)arg;
	if (R.stop)
		return 1;
	if (print_message(data, len, tag) < 0) {
		stdout_failed(1); /* it stays in the file */
		return 1;
	}
	R.got++;
	if (R.count > 0 && R.got >= R.count)
		finish(0, NULL);
	return 0;
}

/* ---- control socket -------------------------------------------------------- */

static void
ctl_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct ctl *c = nym_ws_user(ws);
	struct nym_wsapi_req r;
	struct nym_wsapi_resp p;
	uint8_t kind = 0;
	char why[NYM_ADDRESS_WHY_MAX + 64];
	(void)arg;

	if (!c)
		return;
	if (!binary) {
		tool_api_error(ws, 0, NYM_WSAPI_ERR_MALFORMED_REQUEST, "only binary requests are served here");
		return;
	}
	if (nym_wsapi_req_decode(&r, d, n, &kind) < 0) {
		tool_api_error(ws, 0, kind, "cannot decode the request");
		return;
	}
	if (r.tag == NYM_WSAPI_REQ_SELF_ADDRESS)
		c->subscribed = 1;
	switch (tool_api_serve(R.mc, &r, r.connection_id != 0, 1, &p, &kind, why, sizeof why)) {
	case -1:
		tool_api_error(ws, 0, kind, why);
		break;
	case 1:
		if (p.tag == NYM_WSAPI_RESP_NYMKIT_LOOP_SENT)
			tool_loops_add(&R.loops, p.loop_id, c);
		tool_api_respond(ws, 0, &p, 0);
		break;
	}
}

static void
ctl_open(struct nym_ws *ws, void *arg)
{
	struct ctl *c = calloc(1, sizeof *c);
	(void)arg;
	if (!c) {
		nym_ws_close(ws);
		return;
	}
	c->ws = ws;
	c->next = R.ctls;
	if (R.ctls)
		R.ctls->prev = c;
	R.ctls = c;
	nym_ws_set_user(ws, c);
	/* a whole message for nym-send arrives as one request */
	nym_ws_set_max_message(ws, (size_t)1 << 30);
}

static void
ctl_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct ctl *c = nym_ws_user(ws);
	(void)err, (void)why, (void)unsent, (void)arg;
	if (!c)
		return;
	tool_loops_forget(&R.loops, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		R.ctls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

/* ---- through a running nym-client ------------------------------------------ */

/* nym-client holds <client dir>/nym-client.lock while it runs; its control
 * socket then serves a nym-recv of the identity as a reader. */
static int
client_running(const char *dir)
{
	char lock[4200];
	int fd, busy;
	snprintf(lock, sizeof lock, "%s/nym-client.lock", dir);
	if ((fd = open(lock, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

static void
att_open(struct nym_ws *ws, void *arg)
{
	static const uint8_t self = NYM_WSAPI_REQ_SELF_ADDRESS;
	(void)arg;
	nym_ws_send(ws, 1, &self, 1); /* from now on, Received pushes come */
}

static void
att_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct nym_wsapi_resp p;
	(void)ws, (void)arg;
	if (!binary || nym_wsapi_resp_decode(&p, d, n, NULL) < 0)
		return;
	if (p.tag == NYM_WSAPI_RESP_SELF_ADDRESS) {
		struct nym_address a;
		char s[NYM_ADDRESS_MAX];
		memcpy(a.identity, p.recipient, 32);
		memcpy(a.encryption, p.recipient + 32, 32);
		memcpy(a.gateway, p.recipient + 64, 32);
		nym_address_format(s, sizeof s, &a);
		if (!R.quiet)
			fprintf(stderr, "%s: connected through the running nym-client as %s\n", tool_name, s);
		return;
	}
	if (p.tag != NYM_WSAPI_RESP_RECEIVED)
		return;
	if (!deliver(p.data, p.data_len, p.has_sender_tag ? p.sender_tag : NULL))
		return;
	R.got++;
	if (R.count > 0 && R.got >= R.count)
		finish(0, NULL);
}

static void
att_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	(void)ws, (void)err, (void)unsent, (void)arg;
	finish(1, why && *why ? "the running nym-client closed the connection" : "closed");
}

/* Read the identity's messages through the nym-client that holds its
 * gateway connection, until --count, --timeout or a signal. */
static int
attach(const char *sock, double timeout)
{
	struct nym_ws_handler h = {.open = att_open, .message = att_message, .closed = att_closed};
	struct nym_ws *ws;
	char url[4300];
	snprintf(url, sizeof url, "unix:%s", sock);
	if (nym_ws_connect(R.loop, url, &h, &ws) < 0)
		die("cannot connect to %s", sock);
	nym_ws_set_max_message(ws, (size_t)1 << 30);
	run_until_done(timeout);
	/* pushes already on their way stay ours: keep them for the next reader */
	nym_ws_close(ws);
	for (int i = 0; i < 10; i++)
		nym_loop_run(R.loop, 20);
	nym_loop_free(R.loop);
	if (R.fail) {
		warnx("%s", R.why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* ---- client events ---------------------------------------------------------- */

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	(void)arg;
	uint64_t down = R.down_ms;
	R.down_ms = 0;
	if (R.quiet)
		return;
	nym_mixclient_address(mc, &a);
	nym_address_format(s, sizeof s, &a);
	if (down)
		fprintf(stderr, "%s: the gateway is back after %.1f s: %s as %s\n", tool_name,
		    (double)(nym_mono_ms() - down) / 1000, registered ? "registered" : "connected", s);
	else
		fprintf(stderr, "%s: %s as %s\n", tool_name, registered ? "registered at the gateway" :
		    "connected", s);
}

static void
on_message(struct nym_mixclient *mc, const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	(void)mc, (void)arg;
	if (!deliver(data, len, tag))
		return;
	/* clients that asked SelfAddress get it too, as the official client does */
	for (struct ctl *c = R.ctls; c; c = c->next)
		if (c->subscribed) {
			struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_RECEIVED};
			p.has_sender_tag = tag != NULL;
			if (tag)
				memcpy(p.sender_tag, tag, 16);
			p.data = data;
			p.data_len = len;
			tool_api_respond(c->ws, 0, &p, 0);
		}
	R.got++;
	if (R.count > 0 && R.got >= R.count)
		finish(0, NULL);
}

static void
on_loop(struct nym_mixclient *mc, uint64_t id, uint64_t rtt_us, void *arg)
{
	(void)mc, (void)arg;
	struct ctl *c = tool_loops_take(&R.loops, id);
	if (c) {
		struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED};
		p.loop_id = id;
		p.rtt_us = rtt_us;
		tool_api_respond(c->ws, 0, &p, 0);
	}
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal) {
		finish(1, why);
		return;
	}
	if (!R.down_ms)
		R.down_ms = nym_mono_ms() ? nym_mono_ms() : 1;
	if (!R.quiet)
		warnx("gateway connection lost (%s); reconnecting", why);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"delimiter", no_argument, 0, '0'},
		{"json", no_argument, 0, 'j'},
		{"count", required_argument, 0, 'c'},
		{"timeout", required_argument, 0, 't'},
		{"no-cover", no_argument, 0, 'n'},
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
	double timeout = 0;
	int nocover = 0, c;
	char *end;

	tool_init("nym-recv", argv);
	t_start = nym_mono_ms();
	while ((c = getopt_long(argc, argv, "0", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case '0': R.out = OUT_NUL; break;
		case 'j': R.out = OUT_JSON; break;
		case 'c':
			R.count = strtol(optarg, &end, 10);
			if (*end || end == optarg || R.count < 1)
				usage_error("--count wants a positive number, not '%s'", optarg);
			break;
		case 't': timeout = tool_positive("--timeout", optarg, "seconds"); break;
		case 'n': nocover = 1; break;
		case 'T': topo = optarg; api = NULL; break;
		case 'A': api = optarg; topo = NULL; break;
		case 'g': gwurl = optarg; break;
		case 'q': R.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!id || !*id)
		id = "default";
	tool_need_network(topo, api);
	const char *rs = getenv("NYM_TOPOLOGY_REFRESH");
	if (rs && *rs)
		refresh_us = (uint64_t)(tool_number("NYM_TOPOLOGY_REFRESH", rs, 0, 1, 86400 * 365,
		                                    "seconds") * 1e6);
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	char sock[4200];
	tool_client_setup_until(&su, home, id, topo, api, timeout, t_start, &rng);

	tool_signals(on_signal);

	if (tool_loop_new(&R.loop) < 0)
		die("cannot set up the event loop");
	/* one nym-recv per identity: the control socket says whether one runs */
	snprintf(sock, sizeof sock, "%s/control.sock", su.dir);
	if (strlen(sock) >= 108)
		die("control socket path too long for a unix socket: %s", sock);
	struct nym_ws_handler ch = {.open = ctl_open, .message = ctl_message, .closed = ctl_closed};
	int e = nym_ws_listen_unix(R.loop, sock, &ch);
	snprintf(R.held, sizeof R.held, "%s/held", su.dir);
	if (e == NYM_EEXIST && client_running(su.dir)) {
		nym_mixclient_setup_free(&su);
		return attach(sock, timeout);
	}
	if (e == NYM_EEXIST)
		die("another nym-recv already serves identity '%s' (%s answers)", id, sock);
	if (e < 0)
		die("cannot serve the control socket %s: %s", sock, strerror(errno));

	/* only now, holding the control socket, is this the identity's one reader */
	size_t damaged;
	if ((e = nym_held_take(R.held, take_held, NULL, &damaged)) < 0)
		die("cannot read the kept messages in %s: %s", R.held, strerror(errno));
	if (damaged)
		warnx("%s: dropped %zu bytes of a message cut short", R.held, damaged);
	if (R.stop)
		goto done; /* --count met, or stdout gone, by kept messages alone */

	nym_mixclient_setup_config(&su, &rng, &cfg);
	if (gwurl)
		cfg.gateway_url = gwurl;
	tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
	cfg.max_retries = -1; /* a receiver keeps trying */
	char seen[4300];
	snprintf(seen, sizeof seen, "%s/received.seen", su.dir);
	cfg.seen_path = seen;
	char frags[4300];
	tool_client_fragments(&cfg, su.dir, frags, sizeof frags);
	char surbs[4300];
	snprintf(surbs, sizeof surbs, "%s/%s", su.dir, NYM_CLIENT_REPLY_SURBS);
	cfg.surbs_path = surbs; /* replies still work after a restart */
	if (nocover) {
		cfg.main_cover = 0;
		cfg.loop_mean_ms = 0;
	}
	struct tool_client tc = {su.dir, &R.quiet};
	struct nym_mixclient_events ev = {on_ready, on_message, NULL, on_loop, on_down,
	                                  tool_client_warning, &tc};
	if ((e = nym_mixclient_start(&R.mc, R.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));

	struct nym_timer *rt = NULL;
	if (api) {
		refresh_api = api;
		rt = nym_timer_new(R.loop, refresh, NULL);
		nym_timer_set(rt, refresh_us);
	}
	run_until_done(timeout);
	tool_client_stop(R.loop, R.mc);
	nym_timer_free(rt);
	nym_api_job_free(refresh_job); /* a fetch still running ends on its own */
done:
	nym_loop_free(R.loop); /* removes the control socket */
	nym_mixclient_setup_free(&su);
	nym_topology_free(topo_now);
	if (R.fail) {
		warnx("%s", R.why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
