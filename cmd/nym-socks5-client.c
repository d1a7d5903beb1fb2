/* nym-socks5-client — a local SOCKS4/4a/5 proxy whose connections travel
 * through the mixnet to a network requester (doc/spec/socks5.md §8): the
 * official nym-socks5-client's commands, files and defaults. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/codec.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/fileio.h"
#include "io/gwclient.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/socksclient.h"
#include "proto/keys.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-socks5-client init --id NAME --provider ADDRESS [--gateway ID]\n"
	"                              [--api URL | --topology FILE] [--host H] [--port P]\n"
	"                              [--use-reply-surbs BOOL] [--quiet]\n"
	"       nym-socks5-client run --id NAME [--provider ADDRESS] [--host H] [--port P]\n"
	"                             [--use-anonymous-replies [BOOL]] [--api URL | --topology FILE]\n"
	"                             [--no-cover] [--idle-timeout SECS] [--health-timeout SECS]\n"
	"                             [--verbose] [--quiet]\n"
	"\n"
	"init creates the client's keys, registers it at a gateway, writes\n"
	"~/.nym/socks5-clients/NAME/config/config.toml (the provider, the listen\n"
	"address) and prints the client's address. run serves SOCKS4, SOCKS4a and\n"
	"SOCKS5 (no authentication, CONNECT) on HOST:PORT (default 127.0.0.1:1080) and\n"
	"carries each connection through the mixnet to the network requester.\n"
	"\n"
	"  --id NAME              the client (default $NYM_ID, else 'default')\n"
	"  --provider ADDRESS     the network requester's Nym address\n"
	"  --gateway ID           init: the gateway's identity key (default: one at random)\n"
	"  --api URL              nym-api to fetch the network from (default $NYM_API)\n"
	"  --nym-apis URL         the same (the official client's name)\n"
	"  --topology FILE        network file (default $NYM_TOPOLOGY)\n"
	"  --host H               SOCKS listen address (numeric; default 127.0.0.1)\n"
	"  --port P               SOCKS port (default 1080)\n"
	"  --use-reply-surbs BOOL init: anonymous mode by default (true/false)\n"
	"  --use-anonymous-replies [BOOL]  run: anonymous mode: the requester answers\n"
	"                         through reply SURBs and never learns our address\n"
	"  --no-cover             run: no cover traffic and no Poisson pacing (debug,\n"
	"                         local networks)\n"
	"  --idle-timeout SECS    run: close a connection after this long without a\n"
	"                         message from the requester (default 300)\n"
	"  --health-timeout SECS  run: after this long without a word from the requester\n"
	"                         while connections wait, ask it (a health check); no\n"
	"                         answer in as long again closes them (default 10; 0: never)\n"
	"  --verbose              a line per connection opened and closed\n"
	"  --quiet                no status lines on stderr (failures are still said)\n"
	"  --help, --version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stdout);
	exit(EXIT_OK);
}

static struct {
	struct nym_loop *loop;
	struct nym_mixclient *mc;
	struct nym_socksclient *sc;
	int quiet, verbose, fail, ready;
	volatile sig_atomic_t stop;
	char why[512];
	const char *listen_host;
	int listen_port;
} C;

static void
on_signal(int sig)
{
	(void)sig;
	C.stop = 1;
}

/* ---- configuration: ~/.nym/socks5-clients/NAME/config/config.toml --------- */

struct config {
	char provider[NYM_ADDRESS_MAX];
	char host[256];
	int port;
	int anonymous;
	char api[1024];
};

/* "<home>/.nym/socks5-clients/<id>" (the official client's place). */
static void
client_base(char *out, size_t cap, const char *home, const char *id)
{
	char check[4096];
	if (nym_client_dir(check, sizeof check, home, id) < 0)
		die("--id: '%s' is not a usable name (no '/', not '.' or '..')", id);
	if ((size_t)snprintf(out, cap, "%s/.nym/socks5-clients/%s", home, id) >= cap)
		die("--id: the directory name is too long");
}

static void
config_write(const char *base, const char *id, const struct config *c)
{
	char dir[4300], path[4400], tmp[4500], buf[8192];
	snprintf(dir, sizeof dir, "%s/config", base);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof path, "%s/config.toml", dir);
	int n = snprintf(buf, sizeof buf,
	    "# written by nym-socks5-client init (nymkit %s); the official client's layout\n"
	    "[client]\n"
	    "version = \"%s\"\n"
	    "id = \"%s\"\n"
	    "disabled_credentials_mode = true\n"
	    "nym_api_urls = [%s%s%s]\n"
	    "\n"
	    "[core.socks5]\n"
	    "provider_mix_address = '%s'\n"
	    "bind_address = '%s%s%s:%d'\n"
	    "send_anonymously = %s\n",
	    NYM_VERSION, NYM_VERSION, id, c->api[0] ? "\"" : "", c->api, c->api[0] ? "\"" : "",
	    c->provider, strchr(c->host, ':') ? "[" : "", c->host, strchr(c->host, ':') ? "]" : "",
	    c->port, c->anonymous ? "true" : "false");
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

/* What init wrote (or the official client: the same keys). 0, or -1 when
 * there is no configuration file. */
static int
config_read(const char *base, struct config *c)
{
	char path[4300], line[1024], sect[64] = "";
	FILE *f;
	snprintf(path, sizeof path, "%s/config/config.toml", base);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *k = line, *v, val[1024];
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '[') {
			snprintf(sect, sizeof sect, "%.*s", (int)strcspn(k + 1, "]"), k + 1);
			continue;
		}
		if (*k == '#' || !(v = strchr(k, '=')))
			continue;
		*v++ = 0;
		k[strcspn(k, " \t")] = 0;
		v += strspn(v, " \t[\"'");
		snprintf(val, sizeof val, "%s", v);
		val[strcspn(val, "\"',]\r\n")] = 0;
		if (!strcmp(sect, "core.socks5")) {
			if (!strcmp(k, "provider_mix_address"))
				snprintf(c->provider, sizeof c->provider, "%.139s", val);
			else if (!strcmp(k, "send_anonymously"))
				c->anonymous = !strncmp(val, "true", 4);
			else if (!strcmp(k, "bind_address")) {
				char *colon = strrchr(val, ':');
				if (colon) {
					*colon = 0;
					c->port = atoi(colon + 1);
					char *h = val;
					if (*h == '[')
						h++, h[strcspn(h, "]")] = 0;
					snprintf(c->host, sizeof c->host, "%.255s", h);
				}
			}
		} else if (!strcmp(sect, "client") && !strcmp(k, "nym_api_urls") && val[0])
			snprintf(c->api, sizeof c->api, "%s", val);
	}
	fclose(f);
	return 0;
}

static void
parse_provider(struct nym_address *a, const char *s)
{
	char why[NYM_ADDRESS_WHY_MAX];
	if (nym_address_parse(a, s, why, sizeof why) < 0)
		die("--provider: '%s' is not a Nym address: %s", s, why);
}

static int
parse_bool(const char *opt, const char *v)
{
	if (!strcmp(v, "true"))
		return 1;
	if (!strcmp(v, "false"))
		return 0;
	usage_error("%s wants true or false, not '%s'", opt, v);
}

/* ---- events --------------------------------------------------------------- */

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	(void)arg;
	C.ready = 1;
	if (C.quiet || !C.listen_host)
		return;
	nym_mixclient_address(mc, &a);
	nym_address_format(s, sizeof s, &a);
	fprintf(stderr, "%s: %s as %s; SOCKS proxy on %s%s%s:%d\n", tool_name,
	    registered ? "registered at the gateway" : "connected", s,
	    strchr(C.listen_host, ':') ? "[" : "", C.listen_host,
	    strchr(C.listen_host, ':') ? "]" : "", C.listen_port);
}

static void
on_message(struct nym_mixclient *mc, const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	(void)mc, (void)arg;
	if (C.sc && nym_socksclient_message(C.sc, data, len, tag))
		return;
	if (C.verbose)
		warnx("a message that is no network requester answer (%zu bytes): dropped", len);
}

static void
on_acked(struct nym_mixclient *mc, uint64_t msg_id, size_t left, void *arg)
{
	(void)mc, (void)msg_id, (void)left, (void)arg;
	if (C.sc)
		nym_socksclient_acked(C.sc);
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal) {
		C.fail = 1;
		C.stop = 1;
		snprintf(C.why, sizeof C.why, "%s", why);
	} else if (!C.quiet)
		warnx("gateway connection lost (%s); reconnecting", why);
}

static void
on_warning(struct nym_mixclient *mc, const char *why, void *arg)
{
	(void)mc, (void)arg;
	if (!C.quiet)
		warnx("%s", why);
}

static void
on_log(int level, const char *line, void *arg)
{
	(void)arg;
	if (level == NYM_SOCKSCLIENT_ERROR || C.verbose)
		warnx("%s", line);
}

/* ---- init ----------------------------------------------------------------- */

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
cmd_init(const char *base, const char *id, const char *gateway, const char *topo,
    const struct config *cfgfile)
{
	char dir[4300];
	const char *bad = NULL;
	struct nym_client_keys k;
	struct nym_rng rng = nym_rng_system();
	int e;

	snprintf(dir, sizeof dir, "%s/data", base);
	e = nym_client_keys_load(dir, &k, &bad);
	if (e == NYM_EIO && errno == ENOENT) {
		if ((e = nym_client_keys_generate(&k, &rng)) < 0)
			die("cannot generate keys: %s", nym_strerror(e));
		if ((e = nym_client_keys_save(dir, &k, 0, &bad)) < 0)
			die("cannot save the keys in %s (%s): %s", dir, bad ? bad : "?",
			    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	} else if (e < 0)
		die("cannot load the keys of '%s' (%s): %s", id, bad ? bad : dir,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	else if (!C.quiet)
		warnx("'%s' has keys already: keeping them", id);
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
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	struct nym_mixclient_events ev = {on_ready, NULL, NULL, NULL, on_down, on_warning, NULL};
	char err[600];
	if ((e = nym_mixclient_setup_dir(&su, dir, id, topo, cfgfile->api[0] ? cfgfile->api : NULL,
	    &rng, err, sizeof err)) < 0)
		die("%s", err);
	if (tool_loop_new(&C.loop) < 0)
		die("cannot set up the event loop");
	nym_mixclient_setup_config(&su, &rng, &cfg);
	cfg.main_cover = 0;
	cfg.loop_mean_ms = 0;
	if ((e = nym_mixclient_start(&C.mc, C.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	uint64_t t0 = nym_mono_ms();
	while (!C.ready && !C.stop && nym_mono_ms() - t0 < 60000)
		nym_loop_run(C.loop, 200);
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	nym_mixclient_address(C.mc, &a);
	tool_client_stop(C.loop, C.mc);
	nym_loop_free(C.loop);
	nym_mixclient_setup_free(&su);
	if (!C.ready)
		die("%s", C.why[0] ? C.why : "the gateway did not answer in 60 s");
	config_write(base, id, cfgfile);
	nym_address_format(s, sizeof s, &a);
	if (!C.quiet)
		warnx("registered; configuration in ~/.nym/socks5-clients/%s/config/config.toml", id);
	printf("%s\n", s);
	return EXIT_OK;
}

/* ---- run ------------------------------------------------------------------ */

static int
cmd_run(const char *base, const char *id, const char *topo, const struct config *c,
    int nocover, double idle_s, double health_s)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	struct nym_socksclient_config sc = {0};
	char dir[4300], err[600];
	int e;

	if (!c->provider[0])
		die("no network requester: give --provider ADDRESS (or init with it)");
	parse_provider(&sc.provider, c->provider);
	snprintf(dir, sizeof dir, "%s/data", base);
	e = nym_mixclient_setup_dir(&su, dir, id, topo, c->api[0] ? c->api : NULL, &rng, err, sizeof err);
	if (e == NYM_ENOTFOUND)
		die("%s; create it with: nym-socks5-client init --id %s --provider ADDRESS", err, id);
	if (e < 0)
		die("%s", err);
	tool_signals(on_signal);
	if (tool_loop_new(&C.loop) < 0)
		die("cannot set up the event loop");

	nym_mixclient_setup_config(&su, &rng, &cfg);
	tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
	cfg.max_retries = -1;
	if (nocover) {
		cfg.main_cover = 0;
		cfg.loop_mean_ms = 0;
		cfg.send_mean_ms = 0;
	}
	struct nym_mixclient_events ev = {on_ready, on_message, on_acked, NULL, on_down, on_warning,
	                                  NULL};
	C.listen_host = c->host;
	C.listen_port = c->port;
	if ((e = nym_mixclient_start(&C.mc, C.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));

	sc.host = c->host;
	sc.port = c->port;
	sc.anonymous = c->anonymous;
	sc.idle_ms = (uint64_t)(idle_s * 1000);
	sc.health_ms = health_s > 0 ? (uint64_t)(health_s * 1000) : UINT64_MAX;
	sc.rng = &rng;
	struct nym_socksclient_events sev = {on_log, NULL};
	e = nym_socksclient_start(&C.sc, C.loop, C.mc, &sc, &sev);
	if (e == NYM_EADDR)
		die("--host: '%s' is not a numeric IPv4 or IPv6 address", c->host);
	if (e < 0)
		die("cannot listen on %s port %d: %s", c->host, c->port,
		    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	if (strncmp(c->host, "127.", 4) && strcmp(c->host, "::1"))
		warnx("warning: the SOCKS proxy listens on %s, not loopback: anyone who can reach it "
		      "can use it (SOCKS has no authentication here)", c->host);
	while (!C.stop)
		nym_loop_run(C.loop, 200);
	nym_socksclient_free(C.sc);
	C.sc = NULL;
	tool_client_stop(C.loop, C.mc);
	nym_loop_free(C.loop);
	nym_mixclient_setup_free(&su);
	if (C.fail) {
		warnx("%s", C.why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"provider", required_argument, 0, 'P'},
		{"gateway", required_argument, 0, 'g'},
		{"api", required_argument, 0, 'A'},
		{"nym-apis", required_argument, 0, 'A'},
		{"topology", required_argument, 0, 'T'},
		{"host", required_argument, 0, 'H'},
		{"port", required_argument, 0, 'p'},
		{"use-reply-surbs", required_argument, 0, 'R'},
		{"use-anonymous-replies", no_argument, 0, 'a'},
		{"no-cover", no_argument, 0, 'n'},
		{"idle-timeout", required_argument, 0, 't'},
		{"health-timeout", required_argument, 0, 'k'},
		{"verbose", no_argument, 0, 'v'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = getenv("NYM_ID"), *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API");
	const char *gateway = NULL, *host = NULL, *provider = NULL, *home, *cmd;
	int port = 0, nocover = 0, c, net_given = 0, anon = -1, idle_given = 0;
	double idle = 300, health = 10;
	char *end;

	tool_init("nym-socks5-client", argv);
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
	int init = !strcmp(cmd, "init");
	optind++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': id = optarg; break;
		case 'P': provider = optarg; break;
		case 'g': gateway = optarg; break;
		case 'A': api = optarg; topo = NULL; net_given = 1; break;
		case 'T': topo = optarg; api = NULL; net_given = 1; break;
		case 'H': host = optarg; break;
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 65535)
				usage_error("--port wants a number from 1 to 65535, not '%s'", optarg);
			port = (int)v;
			break;
		}
		case 'R':
			if (!init)
				usage_error("--use-reply-surbs is for init (run: --use-anonymous-replies)");
			anon = parse_bool("--use-reply-surbs", optarg);
			break;
		case 'a':
			if (init)
				usage_error("--use-anonymous-replies is for run (init: --use-reply-surbs)");
			anon = 1;
			/* the official form takes a value: --use-anonymous-replies true|false */
			if (optind < argc && (!strcmp(argv[optind], "true") || !strcmp(argv[optind], "false")))
				anon = !strcmp(argv[optind++], "true");
			break;
		case 'n': nocover = 1; break;
		case 't':
			idle = tool_number("--idle-timeout", optarg, 0, 1, 86400 * 365, "seconds");
			idle_given = 1;
			break;
		case 'k':
			health = tool_number("--health-timeout", optarg, 0, 0, 86400, "seconds");
			idle_given = 1;
			break;
		case 'v': C.verbose = 1; break;
		case 'q': C.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (init && (nocover || idle_given))
		usage_error("--no-cover, --idle-timeout and --health-timeout are for run");
	if (!init && gateway)
		usage_error("--gateway is for init");
	if (init && !provider)
		usage_error("init needs --provider ADDRESS (the network requester)");
	if (!id || !*id)
		id = "default";
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	char base[4200];
	struct config cf = {.host = "127.0.0.1", .port = 1080};
	client_base(base, sizeof base, home, id);
	int have_cfg = config_read(base, &cf) == 0;
	if (!init && !have_cfg && !provider)
		die("no client '%s' (no %s/config/config.toml); create it with: "
		    "nym-socks5-client init --id %s --provider ADDRESS", id, base, id);
	if (provider) {
		struct nym_address a;
		parse_provider(&a, provider);
		snprintf(cf.provider, sizeof cf.provider, "%s", provider);
	}
	if (host)
		snprintf(cf.host, sizeof cf.host, "%s", host);
	if (port)
		cf.port = port;
	if (anon >= 0)
		cf.anonymous = anon;
	if (cf.port < 1 || cf.port > 65535)
		die("%s/config/config.toml: bad bind_address port", base);
	/* the network: an option, else the environment, else the configuration */
	if (net_given || topo || api || !cf.api[0])
		snprintf(cf.api, sizeof cf.api, "%s", api && !topo ? api : "");
	tool_need_network(topo, cf.api[0] ? cf.api : NULL);
	if (init)
		return cmd_init(base, id, gateway, topo, &cf);
	return cmd_run(base, id, topo, &cf, nocover, idle, health);
}
