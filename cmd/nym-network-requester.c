/* nym-network-requester — the exit side of nym-socks5-client and mix-fetch:
 * a Nym client that takes SOCKS requests from the mixnet (doc/spec/socks5.md),
 * opens the TCP connections its exit policy allows and carries the bytes
 * both ways as ordered messages. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/codec.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/exitnet.h"
#include "io/fileio.h"
#include "io/gwclient.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/nymapi.h"
#include "io/surbfile.h"
#include "proto/exitpolicy.h"
#include "proto/keys.h"
#include "proto/socks5.h"
#include "tool.h"

/* The official default (network-defaults mainnet.rs EXIT_POLICY_URL). */
#define EXIT_POLICY_URL "https://nymtech.net/.wellknown/network-requester/exit-policy.txt"

static const char usage_text[] =
	"Usage: nym-network-requester init --id NAME [--nym-apis URL | --api URL | --topology FILE]\n"
	"                                  [--gateway ID] [--quiet]\n"
	"       nym-network-requester run --id NAME [--open-proxy] [--exit-policy FILE|URL]\n"
	"                                 [--allow-local-ips] [--topology FILE] [--api URL] [--no-cover]\n"
	"                                 [--quiet]\n"
	"\n"
	"init creates the network requester's keys, registers it at a gateway, writes\n"
	"~/.nym/service-providers/network-requester/NAME/config/config.toml and prints\n"
	"its address. run takes SOCKS requests from the mixnet (nym-socks5-client,\n"
	"mix-fetch), opens the TCP connections the exit policy allows and carries the\n"
	"bytes both ways.\n"
	"\n"
	"  --id NAME               the network requester (default $NYM_ID, else 'default')\n"
	"  --gateway ID            init: the gateway's identity key (default: one at random)\n"
	"  --api URL               nym-api to fetch the network from (default $NYM_API)\n"
	"  --nym-apis URL          the same (the official name)\n"
	"  --topology FILE         network file (default $NYM_TOPOLOGY)\n"
	"  --open-proxy            run: any destination (the policy 'accept *:*')\n"
	"  --exit-policy FILE|URL  run: the exit policy, torrc-like (default: the official\n"
	"                          " EXIT_POLICY_URL ")\n"
	"  --allow-local-ips       run: loopback and private destinations too\n"
	"  --no-cover              run: no loop cover traffic (local networks, tests)\n"
	"  --quiet                 no status lines on stderr\n"
	"  --help, --version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stdout);
	exit(EXIT_OK);
}

/* Where a connection's answers go (§1.2) and in which form (§2.3). */
struct route {
	struct route *next, *prev;
	uint64_t conn_id;
	uint8_t iface, socks5;
	int anonymous; /* through the sender's reply SURBs, else to `to` */
	struct nym_address to;
	uint8_t tag[16];
	size_t addr_len;
	char addr[];
};

static struct {
	struct nym_loop *loop;
	struct nym_mixclient *mc;
	struct nym_exitnet *x;
	struct nym_exitpolicy policy;
	const char *upstream; /* the policy's URL, "" when not fetched */
	int open_proxy, quiet, fail, ready, no_cover;
	volatile sig_atomic_t stop;
	char why[512];
	struct route *routes;
	uint64_t dropped; /* requests that did not parse */
	uint64_t unsent;  /* answers the mixnet side refused */
} N;

static void
on_signal(int sig)
{
	(void)sig;
	N.stop = 1;
}

/* ---- configuration: ~/.nym/service-providers/network-requester/NAME/config ---- */

static void
config_path(char *out, size_t cap, const char *datadir)
{
	snprintf(out, cap, "%.*s/config/config.toml", (int)(strrchr(datadir, '/') - datadir), datadir);
}

static void
config_write(const char *datadir, const char *id, const char *api)
{
	char path[4300], dir[4300], tmp[4400], buf[4096];
	config_path(path, sizeof path, datadir);
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("cannot create %s: %s", dir, strerror(errno));
	int n = snprintf(buf, sizeof buf,
	    "# written by nym-network-requester init (nymkit %s); the official layout\n"
	    "[client]\n"
	    "version = \"%s\"\n"
	    "id = \"%s\"\n"
	    "disabled_credentials_mode = true\n"
	    "nym_api_urls = [%s%s%s]\n"
	    "\n"
	    "[network_requester]\n"
	    "open_proxy = false\n"
	    "upstream_exit_policy_url = \"%s\"\n",
	    NYM_VERSION, NYM_VERSION, id, api ? "\"" : "", api ? api : "", api ? "\"" : "",
	    EXIT_POLICY_URL);
	if (n < 0 || (size_t)n >= sizeof buf)
		die("configuration too long");
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || nym_write_full(fd, buf, (size_t)n) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		die("cannot write %s: %s", path, strerror(saved));
	}
	nym_fsync_dir(dir);
}

/* nym_api_urls' first entry and [network_requester] open_proxy, as init
 * (or the official program: the same keys) wrote them. */
static void
config_read(const char *datadir, char *api, size_t acap, int *open_proxy)
{
	char path[4300], line[1024], sect[64] = "";
	FILE *f;
	config_path(path, sizeof path, datadir);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof line, f)) {
		char *k = line + strspn(line, " \t"), *v, val[512];
		if (*k == '[') {
			snprintf(sect, sizeof sect, "%.*s", (int)strcspn(k + 1, "]"), k + 1);
			continue;
		}
		if (!(v = strchr(k, '=')))
			continue;
		*v++ = 0;
		k[strcspn(k, " \t")] = 0;
		v += strspn(v, " \t[\"'");
		snprintf(val, sizeof val, "%s", v);
		val[strcspn(val, "\"',]\r\n")] = 0;
		if (!strcmp(sect, "client") && !strcmp(k, "nym_api_urls") && val[0])
			snprintf(api, acap, "%s", val);
		else if (!strcmp(sect, "network_requester") && !strcmp(k, "open_proxy"))
			*open_proxy |= !strcmp(val, "true");
	}
	fclose(f);
}

/* ---- answers -------------------------------------------------------------- */

/* Send one response where a connection's (or a request's) answers go. */
static void
answer(int anonymous, const struct nym_address *to, const uint8_t tag[16], const struct nym_socks5_msg *m,
    uint64_t lane)
{
	size_t n = nym_socks5_resp_len(m);
	uint8_t *b = n ? malloc(n) : NULL;
	int e;
	if (!b)
		return;
	if ((e = nym_socks5_resp_encode(b, n, m)) > 0)
		e = anonymous ? nym_mixclient_reply(N.mc, tag, b, n, lane, NULL) :
		                nym_mixclient_send(N.mc, to, b, n, -1, lane, NULL);
	if (e < 0 && !N.quiet && (N.unsent++ < 10 || N.unsent % 1000 == 0))
		warnx("an answer could not be sent (%llu so far): %s", (unsigned long long)N.unsent,
		    e == NYM_ENOTFOUND ?
		    "no reply SURBs from its sender" : e == NYM_EROUTE ?
		    "the client's gateway is not in the topology" : nym_strerror(e));
	free(b);
}

static void
route_answer(const struct route *r, struct nym_socks5_msg *m)
{
	m->iface = r->iface, m->socks5 = r->socks5;
	answer(r->anonymous, &r->to, r->tag, m, r->conn_id);
}

/* Control requests (§3) and queries (§6): answered only through SURBs. */
static void
control_or_query(const struct nym_socks5_msg *req, const uint8_t tag[16])
{
	struct nym_socks5_nr_state st = { .open_proxy = N.open_proxy, .upstream = N.upstream };
	struct nym_socks5_msg m;
	char info[1024], buf[512];
	uint8_t *pol = NULL;
	size_t n = nym_exitpolicy_bincode_len(&N.policy);

	snprintf(info, sizeof info,
	    "{\"binary_name\":\"nym-network-requester\",\"build_information\":{"
	    "\"binary_name\":\"nym-network-requester\",\"build_timestamp\":\"%s %s\","
	    "\"build_version\":\"%s\",\"commit_sha\":\"nymkit\",\"commit_timestamp\":\"\","
	    "\"commit_branch\":\"\",\"rustc_version\":\"none (C)\",\"rustc_channel\":\"\","
	    "\"cargo_profile\":\"release\",\"cargo_triple\":\"\"}}",
	    __DATE__, __TIME__, NYM_VERSION);
	st.info = info;
	if (req->kind == NYM_SOCKS5_QUERY && req->tag == NYM_SOCKS5_QUERY_EXIT_POLICY) {
		if (!n || !(pol = malloc(n)) || nym_exitpolicy_bincode_encode(pol, n, &N.policy) < 0) {
			free(pol);
			return;
		}
		st.policy = pol, st.policy_len = n;
	}
	if (nym_socks5_nr_answer(&m, req, &st, buf, sizeof buf) == 0)
		answer(1, NULL, tag, &m, 0);
	free(pol);
}

static void
connect_request(const struct nym_socks5_msg *req, const uint8_t *tag)
{
	struct route *r;
	if (!req->has_return && !tag)
		return; /* no way to answer (§1.2): dropped, as the reference does */
	if (!(r = calloc(1, sizeof *r + req->addr_len + 1)))
		return;
	r->conn_id = req->conn_id;
	r->iface = req->iface, r->socks5 = req->socks5;
	if (req->has_return) { /* the explicit address wins */
		memcpy(r->to.identity, req->return_address, 32);
		memcpy(r->to.encryption, req->return_address + 32, 32);
		memcpy(r->to.gateway, req->return_address + 64, 32);
	} else {
		r->anonymous = 1;
		memcpy(r->tag, tag, 16);
	}
	r->addr_len = req->addr_len;
	memcpy(r->addr, req->addr, req->addr_len);
	if (nym_exitnet_connect(N.x, req->conn_id, req->addr, req->addr_len, r) < 0) {
		free(r);
		return;
	}
	r->next = N.routes;
	if (N.routes)
		N.routes->prev = r;
	N.routes = r;
}

static void
on_message(struct nym_mixclient *mc, const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	struct nym_socks5_msg m;
	int e;
	(void)mc, (void)arg;
	if ((e = nym_socks5_req_decode(&m, data, len)) < 0) {
		/* garbage is dropped, never answered (§9.1) */
		if (!N.quiet && (N.dropped++ < 10 || N.dropped % 1000 == 0))
			warnx("dropped a request that does not parse (%s; %llu so far)", nym_strerror(e),
			    (unsigned long long)N.dropped);
		return;
	}
	switch (m.kind) {
	case NYM_SOCKS5_CONTROL:
	case NYM_SOCKS5_QUERY:
		if (tag) /* a plain one gets no answer, as in the reference (§1.2) */
			control_or_query(&m, tag);
		break;
	case NYM_SOCKS5_CONNECT:
		connect_request(&m, tag);
		break;
	case NYM_SOCKS5_SEND:
		nym_exitnet_send(N.x, m.conn_id, m.seq, m.closed, m.data, m.data_len);
		break;
	}
}

/* Packets not yet acknowledged (replies waiting for SURBs included) past
 * which no more is taken from the destinations: their sockets wait, TCP
 * slows them down, memory stays bounded (~8 MiB of packets). */
#define UNACKED_MAX 4096

/* What the destinations sent, as the mixnet takes it. */
static void
exit_events(void)
{
	struct nym_exitnet_event ev;
	for (unsigned i = 0;; i++) {
		if (i % 64 == 0 && (nym_mixclient_backlog(N.mc) >= ((size_t)4 << 20) ||
		                    nym_mixclient_unacked(N.mc, 0) >= UNACKED_MAX))
			break;
		if (nym_exitnet_poll(N.x, &ev) != 1)
			break;
		struct route *r = ev.user;
		struct nym_socks5_msg m = { .conn_id = ev.conn_id };
		char text[1024];
		int n;
		switch (ev.type) {
		case NYM_EXITNET_DATA:
			m.kind = NYM_SOCKS5_NETWORK_DATA;
			m.seq = ev.seq, m.closed = (uint8_t)ev.closed;
			m.data = ev.data, m.data_len = ev.len;
			route_answer(r, &m);
			break;
		case NYM_EXITNET_REFUSED:
			if (!N.quiet)
				warnx("refused %.*s: not allowed by the exit policy (or it did not resolve)",
				    (int)(r->addr_len > 200 ? 200 : r->addr_len), r->addr);
			if ((n = nym_socks5_filter_error(text, sizeof text, (const uint8_t *)r->addr, r->addr_len)) < 0)
				break;
			m.kind = NYM_SOCKS5_CONNECTION_ERROR;
			m.data = (const uint8_t *)text, m.data_len = (size_t)n;
			route_answer(r, &m);
			break;
		case NYM_EXITNET_GONE:
			if (r->prev)
				r->prev->next = r->next;
			else if (N.routes == r)
				N.routes = r->next;
			if (r->next)
				r->next->prev = r->prev;
			free(r);
			break;
		}
		free(ev.data);
	}
}

static void
wake(void *arg)
{
	(void)arg;
	nym_loop_wake(N.loop);
}

/* ---- client events -------------------------------------------------------- */

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	(void)arg;
	N.ready = 1;
	if (N.quiet)
		return;
	nym_mixclient_address(mc, &a);
	nym_address_format(s, sizeof s, &a);
	warnx("%s as %s", registered ? "registered at the gateway" : "connected", s);
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal) {
		N.fail = 1;
		snprintf(N.why, sizeof N.why, "%s", why);
		N.stop = 1;
	} else if (!N.quiet) {
		warnx("gateway connection lost (%s); reconnecting", why);
	}
}

/* ---- the identity --------------------------------------------------------- */

static void
data_dir(char *dir, size_t cap, const char *home, const char *id)
{
	if (nym_network_requester_dir(dir, cap, home, id) < 0)
		die("--id: '%s' is not a usable name (no '/', not '.' or '..')", id);
}

static void
setup(struct nym_mixclient_setup *su, const char *dir, const char *id, const char *topo,
    const char *api, const struct nym_rng *rng)
{
	char err[600];
	int e = nym_mixclient_setup_dir(su, dir, id, topo, api, rng, err, sizeof err);
	if (e == NYM_ENOTFOUND)
		die("no network requester '%s'; create it with: nym-network-requester init --id %s", id, id);
	if (e < 0)
		die("%s", err);
}

static void
parse_gateway(uint8_t gw[32], const char *s)
{
	struct nym_address a;
	char addr[NYM_ADDRESS_MAX * 2], why[NYM_ADDRESS_WHY_MAX];
	if (nym_base58_decode32(gw, s) < 0)
		die("--gateway: '%s' is not a base58 key of 32 bytes", s);
	memset(&a, 0, sizeof a);
	memcpy(a.identity, gw, 32);
	memcpy(a.gateway, gw, 32);
	nym_address_format(addr, sizeof addr, &a);
	if (nym_address_parse(&a, addr, why, sizeof why) < 0)
		die("--gateway: not a valid Ed25519 public key");
}

static int
cmd_init(const char *home, const char *id, const char *gateway, const char *topo, const char *api)
{
	char dir[4096], s[NYM_ADDRESS_MAX];
	const char *bad = NULL;
	struct nym_client_keys k;
	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	struct nym_address a;
	int e;

	data_dir(dir, sizeof dir, home, id);
	e = nym_client_keys_load(dir, &k, &bad);
	if (e == NYM_EIO && errno == ENOENT) {
		if ((e = nym_client_keys_generate(&k, &rng)) < 0)
			die("cannot generate keys: %s", nym_strerror(e));
		if ((e = nym_client_keys_save(dir, &k, 0, &bad)) < 0)
			die("cannot save the keys in %s (%s): %s", dir, bad ? bad : "?",
			    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	} else if (e < 0) {
		die("cannot load the keys of '%s' (%s): %s", id, bad ? bad : dir,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	} else if (!N.quiet) {
		warnx("'%s' has keys already: keeping them", id);
	}
	nym_wipe(&k, sizeof k);
	if (gateway) {
		uint8_t gw[32], old[32];
		parse_gateway(gw, gateway);
		if (nym_client_gateway_load(dir, old) == 0 && memcmp(old, gw, 32))
			die("'%s' is registered at another gateway already", id);
		if (nym_client_gateway_save(dir, gw) < 0)
			die("cannot write the gateway of '%s': %s", id, strerror(errno));
	}

	/* register (or check the registration) by connecting once */
	setup(&su, dir, id, topo, api, &rng);
	if (tool_loop_new(&N.loop) < 0)
		die("cannot set up the event loop");
	nym_mixclient_setup_config(&su, &rng, &cfg);
	cfg.main_cover = 0;
	cfg.loop_mean_ms = 0;
	struct tool_client tc = {su.dir, &N.quiet};
	struct nym_mixclient_events ev = {on_ready, tool_client_keep, NULL, NULL, on_down,
	                                  tool_client_warning, &tc};
	int q = N.quiet;
	N.quiet = 1;
	if ((e = nym_mixclient_start(&N.mc, N.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	uint64_t t0 = nym_mono_ms();
	while (!N.ready && !N.stop && nym_mono_ms() - t0 < 60000)
		nym_loop_run(N.loop, 200);
	N.quiet = q;
	nym_mixclient_address(N.mc, &a);
	tool_client_stop(N.loop, N.mc);
	nym_loop_free(N.loop);
	nym_mixclient_setup_free(&su);
	if (!N.ready)
		die("%s", N.why[0] ? N.why : "the gateway did not answer in 60 s");
	config_write(dir, id, api);
	nym_address_format(s, sizeof s, &a);
	if (!N.quiet)
		warnx("registered; configuration in ~/.nym/service-providers/network-requester/%s/config/config.toml", id);
	printf("%s\n", s);
	return EXIT_OK;
}

/* ---- run ------------------------------------------------------------------ */

/* The exit policy: a file, or an http(s) URL fetched once, as the reference. */
static void
load_policy(const char *src)
{
	char why[256], err[512];
	char *text = NULL;
	size_t len = 0;
	int e;
	if (!strncmp(src, "http://", 7) || !strncmp(src, "https://", 8)) {
		char base[2048];
		const char *slash = strrchr(src, '/');
		struct nym_api_opts o = NYM_API_OPTS_DEFAULT;
		snprintf(base, sizeof base, "%.*s", (int)(slash - src + 1), src);
		o.base_url = base;
		o.retries = 1;
		o.max_body = (size_t)4 << 20;
		if (nym_api_get(&o, slash + 1, &text, &len, err, sizeof err) < 0)
			die("cannot fetch the exit policy from %s: %s (give --exit-policy FILE, or --open-proxy)",
			    src, err);
		N.upstream = src;
	} else {
		FILE *f = fopen(src, "r");
		if (!f)
			die("--exit-policy: cannot open %s: %s", src, strerror(errno));
		text = (char *)read_all(f, &len, (size_t)4 << 20);
		if (!text)
			die("--exit-policy: cannot read %s: %s", src, strerror(errno));
		fclose(f);
		N.upstream = "";
	}
	if ((e = nym_exitpolicy_parse(&N.policy, text, len, why, sizeof why)) < 0)
		die("exit policy %s: %s", src, why);
	free(text);
}

static int
cmd_run(const char *home, const char *id, const char *topo, const char *api, const char *policy,
    int allow_local)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	struct nym_exitnet_config xc;
	char dir[4096], lock[4200], seen[4300], surbs[4300];
	int e, lockfd;

	data_dir(dir, sizeof dir, home, id);
	if (N.open_proxy) {
		if (nym_exitpolicy_open(&N.policy) < 0)
			die("out of memory");
		N.upstream = "";
	} else {
		load_policy(policy ? policy : EXIT_POLICY_URL);
	}
	setup(&su, dir, id, topo, api, &rng);
	tool_signals(on_signal);
	if (tool_loop_new(&N.loop) < 0)
		die("cannot set up the event loop");
	snprintf(lock, sizeof lock, "%s/nym-network-requester.lock", su.dir);
	if ((lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		die("cannot open %s: %s", lock, strerror(errno));
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0)
		die("network requester '%s' is running already (%s is locked)", id, lock);

	nym_exitnet_defaults(&xc);
	xc.policy = &N.policy;
	xc.allow_local = allow_local;
	xc.wake = wake;
	if ((e = nym_exitnet_start(&N.x, &xc)) < 0)
		die("cannot start the connection thread: %s", nym_strerror(e));

	nym_mixclient_setup_config(&su, &rng, &cfg);
	tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
	cfg.max_retries = -1;
	cfg.send_mean_ms = 0; /* disable_poisson_rate, the reference NR's default */
	if (N.no_cover)
		cfg.main_cover = 0, cfg.loop_mean_ms = 0;
	snprintf(seen, sizeof seen, "%s/received.seen", su.dir);
	cfg.seen_path = seen;
	snprintf(surbs, sizeof surbs, "%s/%s", su.dir, NYM_CLIENT_REPLY_SURBS);
	cfg.surbs_path = surbs;
	struct tool_client tc = {su.dir, &N.quiet};
	struct nym_mixclient_events ev = {on_ready, on_message, NULL, NULL, on_down,
	                                  tool_client_warning, &tc};
	if ((e = nym_mixclient_start(&N.mc, N.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	if (!N.quiet)
		warnx("%s; %s destinations %s", N.open_proxy ? "open proxy" : "exit policy loaded",
		    allow_local ? "local" : "no local", allow_local ? "allowed" : "(loopback, private)");
	while (!N.stop) {
		nym_loop_run(N.loop, 100);
		exit_events();
	}
	nym_exitnet_free(N.x);
	tool_client_stop(N.loop, N.mc);
	nym_loop_free(N.loop);
	nym_mixclient_setup_free(&su);
	nym_exitpolicy_free(&N.policy);
	while (N.routes) {
		struct route *r = N.routes;
		N.routes = r->next;
		free(r);
	}
	close(lockfd);
	if (N.fail) {
		warnx("%s", N.why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"gateway", required_argument, 0, 'g'},
		{"api", required_argument, 0, 'A'},
		{"nym-apis", required_argument, 0, 'A'},
		{"topology", required_argument, 0, 'T'},
		{"open-proxy", no_argument, 0, 'o'},
		{"exit-policy", required_argument, 0, 'e'},
		{"allow-local-ips", no_argument, 0, 'l'},
		{"quiet", no_argument, 0, 'q'},
		{"no-cover", no_argument, 0, 'C'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = getenv("NYM_ID"), *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API");
	const char *gateway = NULL, *policy = NULL, *home, *cmd;
	int c, net_given = 0, allow_local = 0, open_given = 0;

	tool_init("nym-network-requester", argv);
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'h')
			usage();
		if (c == 'V')
			print_version();
		tool_try_help();
	}
	if (optind >= argc)
		usage_error("a command is needed: init or run");
	cmd = argv[optind];
	if (strcmp(cmd, "init") && strcmp(cmd, "run"))
		usage_error("unknown command '%s' (init or run)", cmd);
	optind++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'g': gateway = optarg; break;
		case 'A': api = optarg; topo = NULL; net_given = 1; break;
		case 'T': topo = optarg; api = NULL; net_given = 1; break;
		case 'o':
			open_given = 1;
			/* the official form also takes a value: --open-proxy true|false */
			if (optind < argc && (!strcmp(argv[optind], "true") || !strcmp(argv[optind], "false")))
				open_given = !strcmp(argv[optind++], "true") ? 1 : -1;
			break;
		case 'e': policy = optarg; break;
		case 'l': allow_local = 1; break;
		case 'q': N.quiet = 1; break;
		case 'C': N.no_cover = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!strcmp(cmd, "init") && (open_given || policy || allow_local))
		usage_error("--open-proxy, --exit-policy and --allow-local-ips are for run");
	if (!strcmp(cmd, "run") && gateway)
		usage_error("--gateway is for init");
	if (open_given > 0 && policy)
		usage_error("--open-proxy and --exit-policy exclude each other");
	if (!id || !*id)
		id = "default";
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	char dir[4096], capi[1024] = "";
	int copen = 0;
	data_dir(dir, sizeof dir, home, id);
	config_read(dir, capi, sizeof capi, &copen);
	if (!net_given && !topo && !api && capi[0])
		api = capi;
	tool_need_network(topo, api);
	if (!strcmp(cmd, "init"))
		return cmd_init(home, id, gateway, topo, api);
	N.open_proxy = open_given ? open_given > 0 : copen && !policy;
	return cmd_run(home, id, topo, api, policy, allow_local);
}
