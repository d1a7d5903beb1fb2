/* nym-client — the native websocket client: hold an identity's gateway
 * connection and serve the official nym-client websocket API
 * (doc/spec/client-websocket.md) to one local application at a time, and
 * nymkit's control socket to nym-send, nym-recv and nym-cover of the same
 * identity. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/codec.h"
#include "client.h"
#include "crypto/crypto.h"
#include "io/fileio.h"
#include "io/gwclient.h"
#include "io/held.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "io/nymapi.h"
#include "proto/keys.h"
#include "proto/wsapi.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-client init --id NAME [--gateway ID] [--api URL | --nym-apis URL]\n"
	"                       [--topology FILE] [--host H] [--port P] [--quiet]\n"
	"       nym-client run --id NAME [--host H] [--port P] [--disable-socket]\n"
	"                      [--topology FILE] [--api URL] [--no-cover] [--quiet]\n"
	"\n"
	"init creates the client's keys (as nym-keygen does), registers it at a\n"
	"gateway, writes ~/.nym/clients/NAME/config/config.toml and prints the address.\n"
	"run holds the gateway connection and serves the nym-client websocket API on\n"
	"ws://HOST:PORT (default 127.0.0.1:1977) and the control socket of nym-send,\n"
	"nym-recv and nym-cover.\n"
	"\n"
	"  --id NAME           the client (default $NYM_ID, else 'default')\n"
	"  --gateway ID        init: the gateway's identity key (default: one at random)\n"
	"  --api URL           nym-api to fetch the network from (default $NYM_API)\n"
	"  --nym-apis URL      the same (the official client's name)\n"
	"  --topology FILE     network file (default $NYM_TOPOLOGY)\n"
	"  --host H            address of the websocket API (numeric; default 127.0.0.1)\n"
	"  --port P            its port (default 1977)\n"
	"  --disable-socket    run: no websocket API (the control socket stays)\n"
	"  --no-cover          run: send no cover traffic\n"
	"  --quiet             no status lines on stderr\n"
	"  --help, --version\n";

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stdout);
	exit(EXIT_OK);
}

/* What one application may have queued towards it before further messages
 * go to the held file instead (they follow, in order, once it reads). */
#define APP_QUEUE_MAX ((size_t)32 << 20)

struct conn {
	struct conn *next, *prev;
	struct nym_ws *ws;
	int is_app;     /* the websocket application (else a control-socket client) */
	int subscribed; /* gets Received pushes: the application, or a control client that asked SelfAddress */
	int text;       /* the last request was a text frame: pushes go as text */
	/* messages pushed to it and not yet handed to the kernel, oldest first:
	 * kept again if it goes away before they leave */
	struct pushed *out, **out_tail;
};

struct pushed {
	struct pushed *next;
	uint64_t seq;
	int has_tag;
	uint8_t tag[16];
	size_t len;
	uint8_t data[];
};

#define LOOPS_MAX 4096
static struct {
	struct nym_loop *loop;
	struct nym_mixclient *mc;
	struct conn *conns;
	struct conn *app;
	struct {
		uint64_t id;
		struct conn *c;
	} loops[LOOPS_MAX];
	size_t loop_next;
	int quiet, fail;
	volatile sig_atomic_t stop;
	char why[512];
	char held[4300];
	int held_pending; /* messages may be in the held file: new ones go there too */
	int refused;
	uint64_t push_seq;
} C;

static void
on_signal(int sig)
{
	(void)sig;
	C.stop = 1;
}

static void
finish(int fail, const char *why)
{
	if (C.stop)
		return;
	C.stop = 1;
	C.fail = fail;
	if (why)
		snprintf(C.why, sizeof C.why, "%s", why);
}

/* ---- configuration: ~/.nym/clients/NAME/config/config.toml ---------------- */

/* "<home>/.nym/clients/<id>/config" from the data directory beside it. */
static void
config_dir(char *out, size_t cap, const char *datadir)
{
	snprintf(out, cap, "%.*s/config", (int)(strrchr(datadir, '/') - datadir), datadir);
}

static void
config_write(const char *datadir, const char *id, const char *host, int port, const char *api)
{
	char dir[4200], path[4300], buf[8192];
	config_dir(dir, sizeof dir, datadir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		die("cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof path, "%s/config.toml", dir);
	int n = snprintf(buf, sizeof buf,
	    "# written by nym-client init (nymkit %s); the official client's layout\n"
	    "[client]\n"
	    "version = \"%s\"\n"
	    "id = \"%s\"\n"
	    "disabled_credentials_mode = true\n"
	    "nym_api_urls = [%s%s%s]\n"
	    "\n"
	    "[socket]\n"
	    "socket_type = \"WebSocket\"\n"
	    "host = \"%s\"\n"
	    "listening_port = %d\n",
	    NYM_VERSION, NYM_VERSION, id, api ? "\"" : "", api ? api : "", api ? "\"" : "", host, port);
	if (n < 0 || (size_t)n >= sizeof buf)
		die("configuration too long");
	/* atomically: a temporary file beside it, renamed over */
	char tmp[4400];
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

/* The [socket] section and the first nym_api_urls entry, as init wrote them
 * (or the official client: the same keys). Missing file: defaults stay. */
static void
config_read(const char *datadir, char *host, size_t hcap, int *port, int *enabled, char *api,
    size_t acap)
{
	char dir[4200], path[4300], line[1024], sect[64] = "";
	FILE *f;
	config_dir(dir, sizeof dir, datadir);
	snprintf(path, sizeof path, "%s/config.toml", dir);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof line, f)) {
		char *k = line, *v, *e;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '[') {
			snprintf(sect, sizeof sect, "%.*s", (int)strcspn(k + 1, "]"), k + 1);
			continue;
		}
		if (!(v = strchr(k, '=')))
			continue;
		*v++ = 0;
		for (e = v + strlen(v); e > k && strchr(" \t\r\n=", e[-1]); e--)
			;
		while (*v == ' ' || *v == '\t')
			v++;
		v[strcspn(v, "\r\n")] = 0;
		k[strcspn(k, " \t")] = 0;
		/* strip quotes and a list's brackets */
		char val[200];
		snprintf(val, sizeof val, "%.199s", v + strspn(v, "[\"' "));
		val[strcspn(val, "\"',]")] = 0;
		if (!strcmp(sect, "socket")) {
			if (!strcmp(k, "host") && val[0])
				snprintf(host, hcap, "%s", val);
			else if (!strcmp(k, "listening_port") && atoi(val) > 0)
				*port = atoi(val);
			else if (!strcmp(k, "socket_type"))
				*enabled = strcasecmp(val, "None") != 0;
		} else if (!strcmp(sect, "client") && !strcmp(k, "nym_api_urls") && val[0] && api)
			snprintf(api, acap, "%s", val);
	}
	fclose(f);
}

/* ---- responses ------------------------------------------------------------ */

/* Send a response; a tag (non-zero) comes back through on_sent(). 0, or
 * negative when it could not be queued. */
static int
reply_tagged(struct conn *c, int text, const struct nym_wsapi_resp *p, uint64_t tag)
{
	int e = NYM_ENOMEM;
	if (text) {
		char *s;
		size_t n;
		if ((e = nym_wsapi_text_resp_encode(&s, &n, p)) == 0) {
			e = nym_ws_send_tagged(c->ws, 0, (const uint8_t *)s, n, tag);
			free(s);
		}
		return e;
	}
	size_t n = nym_wsapi_resp_len(p);
	uint8_t *b = malloc(n);
	if (!b)
		return e;
	if ((e = nym_wsapi_resp_encode(b, n, p)) > 0)
		e = nym_ws_send_tagged(c->ws, 1, b, n, tag);
	free(b);
	return e < 0 ? e : 0;
}

static void
reply_to(struct conn *c, int text, const struct nym_wsapi_resp *p)
{
	reply_tagged(c, text, p, 0);
}

static void
reply_error(struct conn *c, int text, uint8_t kind, const char *detail)
{
	struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_ERROR, .error_kind = kind};
	char msg[700];
	snprintf(msg, sizeof msg, "%s:%s", nym_wsapi_err_text(kind), detail);
	p.data = (const uint8_t *)msg;
	p.data_len = strlen(msg);
	reply_to(c, text, &p);
}

static void
reply_lane(struct conn *c, int text, uint64_t lane)
{
	struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_LANE_QUEUE_LENGTH, .lane = lane};
	p.queue_length = nym_mixclient_unacked(C.mc, lane);
	reply_to(c, text, &p);
}

/* ---- delivery ------------------------------------------------------------- */

static int
have_reader(void)
{
	for (struct conn *c = C.conns; c; c = c->next)
		if (c->subscribed)
			return 1;
	return 0;
}

/* Some reader has more queued than it may: messages wait in the file. */
static int
readers_full(size_t limit)
{
	for (struct conn *c = C.conns; c; c = c->next)
		if (c->subscribed && nym_ws_queued(c->ws) > limit)
			return 1;
	return 0;
}

static void
push(const uint8_t *data, size_t len, const uint8_t *tag)
{
	struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_RECEIVED};
	p.has_sender_tag = tag != NULL;
	if (tag)
		memcpy(p.sender_tag, tag, 16);
	p.data = data;
	p.data_len = len;
	for (struct conn *c = C.conns; c; c = c->next) {
		if (!c->subscribed)
			continue;
		struct pushed *m = malloc(sizeof *m + len);
		if (!m) {
			reply_to(c, c->is_app && c->text, &p);
			continue;
		}
		m->next = NULL;
		m->seq = ++C.push_seq;
		m->has_tag = tag != NULL;
		if (tag)
			memcpy(m->tag, tag, 16);
		m->len = len;
		memcpy(m->data, data, len);
		if (reply_tagged(c, c->is_app && c->text, &p, m->seq) < 0) {
			free(m);
			continue;
		}
		*c->out_tail = m;
		c->out_tail = &m->next;
	}
}

/* Pushes up to this one left for the reader. */
static void
on_sent(struct nym_ws *ws, uint64_t seq, void *arg)
{
	struct conn *c = nym_ws_user(ws);
	(void)arg;
	while (c && c->out && c->out->seq <= seq) {
		struct pushed *m = c->out;
		if (!(c->out = m->next))
			c->out_tail = &c->out;
		free(m);
	}
}

static int have_reader(void);

/* A reader went away with pushes unsent: unless another reader had them
 * too, they go back before the held messages (which came after them), for
 * the next reader. */
static void
keep_unsent(struct conn *c)
{
	size_t n = 0, i = 0;
	struct pushed *m;
	for (m = c->out; m; m = m->next)
		n++;
	if (n && !have_reader()) {
		struct nym_held_msg *v = calloc(n, sizeof *v);
		for (m = c->out; v && m; m = m->next, i++)
			v[i] = (struct nym_held_msg){m->data, m->len, m->has_tag ? m->tag : NULL};
		if (!v || nym_held_prepend(C.held, v, n) < 0)
			warnx("%zu messages a reader did not get could not be kept in %s: %s; they are lost",
			    n, C.held, v ? strerror(errno) : "out of memory");
		else
			C.held_pending = 1;
		free(v);
	}
	while ((m = c->out)) {
		c->out = m->next;
		free(m);
	}
	c->out_tail = &c->out;
}

static void
hold(const uint8_t *data, size_t len, const uint8_t *tag)
{
	C.held_pending = 1;
	if (nym_held_append(C.held, data, len, tag) < 0)
		warnx("a message (%zu bytes) could not be kept in %s: %s; it is lost", len, C.held,
		    strerror(errno));
}

static int
take_held(const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	(void)arg;
	if (!have_reader() || readers_full(APP_QUEUE_MAX)) {
		C.refused = 1;
		return 1;
	}
	push(data, len, tag);
	return 0;
}

/* Kept messages go to the readers, in order, as fast as they read. */
static void
drain(void)
{
	size_t dropped = 0;
	if (!have_reader() || readers_full(APP_QUEUE_MAX / 2))
		return;
	C.refused = 0;
	if (nym_held_take(C.held, take_held, NULL, &dropped) < 0)
		warnx("cannot read the kept messages in %s: %s", C.held, strerror(errno));
	else if (!C.refused)
		C.held_pending = 0;
	if (dropped)
		warnx("%s: dropped %zu bytes of a message cut short", C.held, dropped);
}

static void
drain_tick(struct nym_timer *t, void *arg)
{
	(void)arg;
	drain();
	nym_timer_set(t, 100000);
}

/* ---- requests ------------------------------------------------------------- */

/* Recipient bytes are usable only when both Ed25519 keys are points: the
 * text parser checks that, so go through it. */
static int
recipient_ok(struct nym_address *a, const uint8_t b[96], char *why, size_t cap)
{
	char s[NYM_ADDRESS_MAX];
	memcpy(a->identity, b, 32);
	memcpy(a->encryption, b + 32, 32);
	memcpy(a->gateway, b + 64, 32);
	if (nym_address_format(s, sizeof s, a) < 0)
		return NYM_EADDR;
	return nym_address_parse(a, s, why, cap);
}

static void
on_request(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct conn *c = nym_ws_user(ws);
	struct nym_wsapi_req r;
	struct nym_address to;
	uint8_t kind = 0, *owned = NULL;
	char why[NYM_WSAPI_WHY_MAX + NYM_ADDRESS_WHY_MAX];
	int e, text = !binary, lane_reply;
	(void)arg;

	if (!c)
		return;
	if (c->is_app)
		c->text = text; /* pushes follow the last request's frame type */
	if (text)
		e = nym_wsapi_text_req_decode(&r, &owned, (const char *)d, n, &kind, why, sizeof why);
	else if ((e = nym_wsapi_req_decode(&r, d, n, &kind)) < 0)
		snprintf(why, sizeof why, "%s", kind == NYM_WSAPI_ERR_UNKNOWN_REQUEST ?
		    "unknown request tag" : kind == NYM_WSAPI_ERR_TOO_SHORT_REQUEST ?
		    "the request is shorter than its type needs" : kind == NYM_WSAPI_ERR_EMPTY_REQUEST ?
		    "empty request" : "data length does not match the data");
	if (e < 0) {
		reply_error(c, text, kind, why);
		return;
	}
	lane_reply = text ? r.has_connection_id : r.connection_id != 0;
	switch (r.tag) {
	case NYM_WSAPI_REQ_SELF_ADDRESS: {
		struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_SELF_ADDRESS};
		struct nym_address a;
		nym_mixclient_address(C.mc, &a);
		memcpy(p.recipient, a.identity, 32);
		memcpy(p.recipient + 32, a.encryption, 32);
		memcpy(p.recipient + 64, a.gateway, 32);
		reply_to(c, text, &p);
		if (!c->subscribed) {
			c->subscribed = 1; /* a control client (nym-recv) reads from now on */
			drain();
		}
		break;
	}
	case NYM_WSAPI_REQ_SEND:
	case NYM_WSAPI_REQ_SEND_ANONYMOUS:
		if (recipient_ok(&to, r.recipient, why, sizeof why) < 0) {
			reply_error(c, text, NYM_WSAPI_ERR_MALFORMED_REQUEST, why);
			break;
		}
		e = nym_mixclient_send(C.mc, &to, r.data, r.data_len,
		    r.tag == NYM_WSAPI_REQ_SEND ? -1 : (int)(r.reply_surbs > 1000 ? 1000 : r.reply_surbs),
		    r.connection_id, NULL);
		if (e < 0) {
			reply_error(c, text, NYM_WSAPI_ERR_OTHER, e == NYM_EROUTE ?
			    "the recipient's gateway is not in the topology" : nym_strerror(e));
			break;
		}
		if (lane_reply)
			reply_lane(c, text, r.connection_id);
		break;
	case NYM_WSAPI_REQ_REPLY:
		e = nym_mixclient_reply(C.mc, r.sender_tag, r.data, r.data_len, r.connection_id, NULL);
		if (e < 0) {
			reply_error(c, text, NYM_WSAPI_ERR_OTHER, e == NYM_ENOTFOUND ?
			    "no reply SURBs for this sender tag" : e == NYM_EFULL ?
			    "not enough reply SURBs for this message" : nym_strerror(e));
			break;
		}
		if (lane_reply)
			reply_lane(c, text, r.connection_id);
		break;
	case NYM_WSAPI_REQ_CLOSED_CONNECTION:
		nym_mixclient_forget_lane(C.mc, r.connection_id);
		break;
	case NYM_WSAPI_REQ_LANE_QUEUE_LENGTH:
		reply_lane(c, text, r.connection_id);
		break;
	case NYM_WSAPI_REQ_NYMKIT_LOOP: {
		struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_SENT};
		if (c->is_app) {
			/* the official server knows no such request */
			reply_error(c, text, NYM_WSAPI_ERR_UNKNOWN_REQUEST, "unknown request tag");
			break;
		}
		if ((e = nym_mixclient_send_loop(C.mc, &p.loop_id)) < 0) {
			reply_error(c, text, NYM_WSAPI_ERR_OTHER, e == NYM_ENET ?
			    "not connected to the gateway" : nym_strerror(e));
			break;
		}
		C.loops[C.loop_next % LOOPS_MAX].id = p.loop_id;
		C.loops[C.loop_next++ % LOOPS_MAX].c = c;
		reply_to(c, text, &p);
		break;
	}
	}
	free(owned);
}

static void
conn_open(struct nym_ws *ws, int is_app)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		nym_ws_close(ws);
		return;
	}
	c->ws = ws;
	c->out_tail = &c->out;
	c->is_app = is_app;
	c->subscribed = is_app;
	c->next = C.conns;
	if (C.conns)
		C.conns->prev = c;
	C.conns = c;
	nym_ws_set_user(ws, c);
	/* a whole message arrives as one request */
	nym_ws_set_max_message(ws, (size_t)1 << 30);
	if (is_app) {
		C.app = c;
		if (!C.quiet)
			warnx("an application connected");
		drain(); /* messages kept while none was connected, right away */
	}
}

static void
app_open(struct nym_ws *ws, void *arg)
{
	(void)arg;
	conn_open(ws, 1);
}

static void
ctl_open(struct nym_ws *ws, void *arg)
{
	(void)arg;
	conn_open(ws, 0);
}

static void
conn_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct conn *c = nym_ws_user(ws);
	(void)err, (void)why, (void)arg;
	if (!c)
		return;
	(void)unsent;
	for (size_t i = 0; i < LOOPS_MAX; i++)
		if (C.loops[i].c == c)
			C.loops[i].c = NULL;
	if (C.app == c) {
		C.app = NULL;
		if (!C.quiet)
			warnx("the application disconnected");
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		C.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* unlinked first: have_reader() asks about the others */
	keep_unsent(c);
	free(c);
}

/* ---- client events -------------------------------------------------------- */

static int init_done, init_registered;

static void
on_ready(struct nym_mixclient *mc, int registered, void *arg)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	(void)arg;
	init_done = 1;
	init_registered |= registered;
	if (C.quiet)
		return;
	nym_mixclient_address(mc, &a);
	nym_address_format(s, sizeof s, &a);
	fprintf(stderr, "%s: %s as %s\n", tool_name, registered ? "registered at the gateway" :
	    "connected", s);
}

static void
on_message(struct nym_mixclient *mc, const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	(void)mc, (void)arg;
	if (C.stop || C.held_pending || !have_reader() || readers_full(APP_QUEUE_MAX)) {
		hold(data, len, tag);
		return;
	}
	push(data, len, tag);
}

static void
on_loop(struct nym_mixclient *mc, uint64_t id, uint64_t rtt_us, void *arg)
{
	(void)mc, (void)arg;
	for (size_t i = 0; i < LOOPS_MAX; i++)
		if (C.loops[i].id == id && C.loops[i].c) {
			struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED};
			p.loop_id = id;
			p.rtt_us = rtt_us;
			reply_to(C.loops[i].c, 0, &p);
			C.loops[i].c = NULL;
			return;
		}
}

static void
on_down(struct nym_mixclient *mc, int err, const char *why, int fatal, void *arg)
{
	(void)mc, (void)err, (void)arg;
	if (fatal)
		finish(1, why);
	else if (!C.quiet)
		warnx("gateway connection lost (%s); reconnecting", why);
}

/* ---- init ----------------------------------------------------------------- */

static void
parse_gateway(uint8_t gw[32], const char *s)
{
	struct nym_address a;
	char addr[NYM_ADDRESS_MAX * 2], why[NYM_ADDRESS_WHY_MAX];
	/* check the key as the gateway part of a throwaway address */
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
cmd_init(const char *home, const char *id, const char *gateway, const char *topo,
    const char *api, const char *host, int port)
{
	char dir[4096];
	const char *bad = NULL;
	struct nym_client_keys k;
	struct nym_rng rng = nym_rng_system();
	int e;

	if (nym_client_dir(dir, sizeof dir, home, id) < 0)
		die("--id: '%s' is not a usable name (no '/', not '.' or '..')", id);
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
	tool_client_setup(&su, home, id, topo, api, &rng);
	if (tool_loop_new(&C.loop) < 0)
		die("cannot set up the event loop");
	nym_mixclient_setup_config(&su, &rng, &cfg);
	cfg.main_cover = 0;
	cfg.loop_mean_ms = 0;
	struct tool_client tc = {su.dir, &C.quiet};
	struct nym_mixclient_events ev = {on_ready, tool_client_keep, NULL, NULL, on_down,
	                                  tool_client_warning, &tc};
	int q = C.quiet;
	C.quiet = 1; /* init prints the address, not the connection line */
	if ((e = nym_mixclient_start(&C.mc, C.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	uint64_t t0 = nym_mono_ms();
	while (!init_done && !C.stop && nym_mono_ms() - t0 < 60000)
		nym_loop_run(C.loop, 200);
	C.quiet = q;
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	nym_mixclient_address(C.mc, &a);
	tool_client_stop(C.loop, C.mc);
	nym_loop_free(C.loop);
	nym_mixclient_setup_free(&su);
	if (!init_done)
		die("%s", C.why[0] ? C.why : "the gateway did not answer in 60 s");
	config_write(dir, id, host, port, api);
	nym_address_format(s, sizeof s, &a);
	if (!C.quiet)
		warnx("%s at the gateway; configuration in ~/.nym/clients/%s/config/config.toml",
		    init_registered ? "registered" : "already registered", id);
	printf("%s\n", s);
	return EXIT_OK;
}

/* ---- run ------------------------------------------------------------------ */

static int
is_loopback(const char *h)
{
	return !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

static int
cmd_run(const char *home, const char *id, const char *topo, const char *api, const char *host,
    int port, int nocover, int disable)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	char sock[4200], lock[4200];
	int e, lockfd;

	tool_client_setup(&su, home, id, topo, api, &rng);
	tool_signals(on_signal);
	if (tool_loop_new(&C.loop) < 0)
		die("cannot set up the event loop");

	/* the identity's one gateway connection: its control socket says who holds it */
	snprintf(sock, sizeof sock, "%s/control.sock", su.dir);
	if (strlen(sock) >= 108)
		die("control socket path too long for a unix socket: %s", sock);
	struct nym_ws_handler ch = {.open = ctl_open, .message = on_request, .closed = conn_closed,
	                            .sent = on_sent};
	e = nym_ws_listen_unix(C.loop, sock, &ch);
	if (e == NYM_EEXIST)
		die("identity '%s' is served already by a running nym-recv or nym-client (%s answers)",
		    id, sock);
	if (e < 0)
		die("cannot serve the control socket %s: %s", sock, strerror(errno));
	/* nym-recv of this identity attaches to us when this lock is held */
	snprintf(lock, sizeof lock, "%s/nym-client.lock", su.dir);
	if ((lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lockfd, LOCK_EX | LOCK_NB) < 0)
		die("cannot lock %s: %s", lock, strerror(errno));

	if (!disable) {
		struct nym_ws_handler ah = {.open = app_open, .message = on_request,
		                            .closed = conn_closed, .sent = on_sent};
		struct nym_ws_server ls = {.host = host, .port = port, .max_conns = 1};
		e = nym_ws_listen(C.loop, &ls, &ah);
		if (e == NYM_EADDR)
			die("--host: '%s' is not a numeric IPv4 or IPv6 address", host);
		if (e < 0)
			die("cannot listen on %s port %d: %s", host, port,
			    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		if (!is_loopback(host))
			warnx("warning: the websocket API listens on %s, not loopback: anyone who can "
			      "reach it can send and read this client's messages (it has no authentication)",
			      host);
	}

	snprintf(C.held, sizeof C.held, "%s/held", su.dir);
	C.held_pending = 1; /* whatever an earlier run kept goes first */

	nym_mixclient_setup_config(&su, &rng, &cfg);
	tool_delay_mean(&cfg.packet_delay_ms, &cfg.ack_delay_ms);
	cfg.max_retries = -1;
	char seen[4300];
	snprintf(seen, sizeof seen, "%s/received.seen", su.dir);
	cfg.seen_path = seen;
	char frags[4300];
	tool_client_fragments(&cfg, su.dir, frags, sizeof frags);
	if (nocover) {
		cfg.main_cover = 0;
		cfg.loop_mean_ms = 0;
	}
	struct tool_client tc = {su.dir, &C.quiet};
	struct nym_mixclient_events ev = {on_ready, on_message, NULL, on_loop, on_down,
	                                  tool_client_warning, &tc};
	if ((e = nym_mixclient_start(&C.mc, C.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	if (!C.quiet && !disable)
		warnx("websocket API on ws://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
	struct nym_timer *dt = nym_timer_new(C.loop, drain_tick, NULL);
	nym_timer_set(dt, 100000);
	while (!C.stop)
		nym_loop_run(C.loop, 200);
	tool_client_stop(C.loop, C.mc);
	nym_timer_free(dt);
	nym_loop_free(C.loop);
	nym_mixclient_setup_free(&su);
	close(lockfd);
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
		{"gateway", required_argument, 0, 'g'},
		{"api", required_argument, 0, 'A'},
		{"nym-apis", required_argument, 0, 'A'},
		{"topology", required_argument, 0, 'T'},
		{"host", required_argument, 0, 'H'},
		{"port", required_argument, 0, 'p'},
		{"disable-socket", no_argument, 0, 'D'},
		{"no-cover", no_argument, 0, 'n'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = getenv("NYM_ID"), *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API");
	const char *gateway = NULL, *host = NULL, *home, *cmd;
	int port = 0, disable = 0, nocover = 0, c, net_given = 0;
	char *end;

	tool_init("nym-client", argv);
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
		case 'H': host = optarg; break;
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 65535)
				usage_error("--port wants a number from 1 to 65535, not '%s'", optarg);
			port = (int)v;
			break;
		}
		case 'D':
			disable = 1;
			/* the official client's form: --disable-socket true|false */
			if (optind < argc && (!strcmp(argv[optind], "true") || !strcmp(argv[optind], "false")))
				disable = !strcmp(argv[optind++], "true");
			break;
		case 'n': nocover = 1; break;
		case 'q': C.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!strcmp(cmd, "init") && (disable || nocover))
		usage_error("--disable-socket and --no-cover are for run");
	if (!strcmp(cmd, "run") && gateway)
		usage_error("--gateway is for init");
	if (!id || !*id)
		id = "default";
	if (nym_crypto_init() < 0)
		die("cannot initialise the crypto library");
	if (!(home = tool_home()))
		die("neither NYM_HOME_DIR nor HOME is set");

	char dir[4096], chost[256] = "127.0.0.1", capi[1024] = "";
	int cport = 1977, enabled = 1;
	if (nym_client_dir(dir, sizeof dir, home, id) < 0)
		die("--id: '%s' is not a usable name (no '/', not '.' or '..')", id);
	config_read(dir, chost, sizeof chost, &cport, &enabled, capi, sizeof capi);
	if (!host)
		host = chost;
	if (!port)
		port = cport;
	if (!net_given && !topo && !api && capi[0])
		api = capi;
	tool_need_network(topo, api);
	if (!strcmp(cmd, "init"))
		return cmd_init(home, id, gateway, topo, api, host, port);
	return cmd_run(home, id, topo, api, host, port, nocover, disable || !enabled);
}
