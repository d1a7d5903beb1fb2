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
#include "proto/tcpsocket.h"
#include "proto/wsapi.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-client init --id NAME [--gateway ID] [--api URL | --nym-apis URL]\n"
	"                       [--topology FILE] [--host H] [--port P] [--quiet]\n"
	"       nym-client run --id NAME [--host H] [--port P] [--disable-socket]\n"
	"                      [--topology FILE] [--api URL] [--no-cover] [--quiet]\n"
	"                      [--rate R | --no-poisson]\n"
	"       nym-client tcpsocket --id NAME [--host H] [--port P]\n"
	"                      [--topology FILE] [--api URL] [--no-cover] [--quiet]\n"
	"\n"
	"init creates the client's keys (as nym-keygen does), registers it at a\n"
	"gateway, writes ~/.nym/clients/NAME/config/config.toml and prints the address.\n"
	"run holds the gateway connection and serves the nym-client websocket API on\n"
	"ws://HOST:PORT (default 127.0.0.1:1977) and the control socket of nym-send,\n"
	"nym-recv and nym-cover.\n"
	"tcpsocket is run with the 2019 client's TCP-socket API instead (protobuf\n"
	"requests, each after its length in 8 bytes; default port 9001).\n"
	"\n"
	"  --id NAME           the client (default $NYM_ID, else 'default')\n"
	"  --gateway ID        init: the gateway's identity key (default: one at random)\n"
	"  --api URL           nym-api to fetch the network from (default $NYM_API)\n"
	"  --nym-apis URL      the same (the official client's name)\n"
	"  --topology FILE     network file (default $NYM_TOPOLOGY)\n"
	"  --host H            address of the websocket API (numeric; default 127.0.0.1)\n"
	"  --port P            its port (default 1977; tcpsocket: 9001)\n"
	"  --disable-socket    run: no websocket API (the control socket stays)\n"
	"  --no-cover          run: send no cover traffic\n"
	"  --rate R            run, tcpsocket: Poisson sending at R packets/s (default 50)\n"
	"  --no-poisson        run, tcpsocket: as fast as the gateway takes packets\n"
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
/* Packets sent or queued and not yet acknowledged beyond which no request
 * is read from any application (nor nym-send) until they fall below the
 * half: a flood of sends waits in its sender's socket, not in our memory. */
#define SEND_UNACKED_MAX 2048
/* The largest request read whole: a message as large as the held file
 * keeps (64 MiB), with room for a request's header or its JSON. */
#define REQUEST_MAX ((size_t)NYM_HELD_MAX + 65536)

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

static struct {
	struct nym_loop *loop;
	struct nym_mixclient *mc;
	struct conn *conns;
	struct conn *app;
	struct tool_loops loops; /* loops sent for control-socket clients (nym-cover) */
	int quiet, fail;
	volatile sig_atomic_t stop;
	char why[512];
	char held[4300];
	int held_pending; /* messages may be in the held file: new ones go there too */
	int refused;
	uint64_t push_seq;
	int paused; /* requests are not read: too many packets unacknowledged */
	uint64_t paused_said_ms;
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

static void
reply_to(struct conn *c, int text, const struct nym_wsapi_resp *p)
{
	tool_api_respond(c->ws, text, p, 0);
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
		if (tool_api_respond(c->ws, c->is_app && c->text, &p, m->seq) < 0) {
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
static void flow_check(void);

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
	flow_check(); /* acks stop when the gateway connection is down: look anyway */
	nym_timer_set(t, 100000);
}

/* ---- back-pressure on senders ---------------------------------------------- */

static void tcp_flow_all(void);

/* Read requests again, or stop, as the unacknowledged packets say. */
static void
flow_check(void)
{
	size_t u = nym_mixclient_unacked(C.mc, 0);
	int want = C.paused ? u > SEND_UNACKED_MAX / 2 : u > SEND_UNACKED_MAX;
	if (want == C.paused)
		return;
	C.paused = want;
	if (want && !C.quiet && nym_mono_ms() - C.paused_said_ms > 10000) {
		/* once in a while, not at every turn of a steady flood */
		C.paused_said_ms = nym_mono_ms();
		warnx("%zu packets not yet acknowledged: requests wait unread until fewer than %d are",
		    u, SEND_UNACKED_MAX / 2);
	}
	for (struct conn *c = C.conns; c; c = c->next)
		nym_ws_pause(c->ws, want);
	tcp_flow_all();
}

static void
on_acked(struct nym_mixclient *mc, uint64_t msg_id, size_t left, void *arg)
{
	(void)mc, (void)msg_id, (void)left, (void)arg;
	if (C.paused)
		flow_check();
}

/* ---- requests ------------------------------------------------------------- */

static void
on_request(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct conn *c = nym_ws_user(ws);
	struct nym_wsapi_req r;
	struct nym_wsapi_resp p;
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
		tool_api_error(c->ws, text, kind, why);
		return;
	}
	lane_reply = text ? r.has_connection_id : r.connection_id != 0;
	e = tool_api_serve(C.mc, &r, lane_reply, !c->is_app, &p, &kind, why, sizeof why);
	if (r.tag == NYM_WSAPI_REQ_SEND || r.tag == NYM_WSAPI_REQ_SEND_ANONYMOUS ||
	    r.tag == NYM_WSAPI_REQ_REPLY)
		flow_check();
	if (e < 0)
		tool_api_error(c->ws, text, kind, why);
	else if (e > 0) {
		if (p.tag == NYM_WSAPI_RESP_NYMKIT_LOOP_SENT)
			tool_loops_add(&C.loops, p.loop_id, c);
		reply_to(c, text, &p);
	}
	if (r.tag == NYM_WSAPI_REQ_SELF_ADDRESS && !c->subscribed) {
		c->subscribed = 1; /* a control client (nym-recv) reads from now on */
		drain();
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
	nym_ws_set_max_message(ws, REQUEST_MAX);
	if (C.paused)
		nym_ws_pause(ws, 1);
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
	tool_loops_forget(&C.loops, c);
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

/* ---- the 2019 TCP-socket API (doc/spec/tcpsocket.md) ------------------------ */

/* Responses wait for a flush (§1) in a buffer of at most this much; beyond
 * it, what is there goes out without waiting (the order stays). */
#define TCP_PENDING_MAX ((size_t)1 << 20)
/* Stop reading a connection's requests while this much is queued towards it
 * (a client that sends and never reads), read again below the half. */
#define TCP_QUEUED_MAX ((size_t)8 << 20)
/* A fetch answers with at most this much; the rest stays for the next one. */
#define TCP_FETCH_MAX ((size_t)32 << 20)

struct tcpconn {
	struct tcpconn *next, *prev;
	struct nym_ws *ws;
	uint8_t *in;          /* request bytes not yet a whole frame */
	size_t in_len;
	uint8_t *out;         /* responses waiting for a flush */
	size_t out_len, out_cap;
	uint64_t out_seq;     /* writes handed to the socket (their tag) */
	int closing, paused;
	/* messages fetched whose response has not yet left: kept again if the
	 * connection goes before it does */
	struct fetched {
		struct fetched *next;
		uint64_t seq;   /* the write that carries it */
		int has_tag;
		uint8_t tag[16];
		size_t len;
		uint8_t data[];
	} *fetched, **fetched_tail;
};

static struct {
	char gw_id[64], gw_host[256], gw_port[8];
	uint8_t gw_key[32];
	struct tcpconn *conns;
} T;

/* Read a connection's requests only while neither it has too much waiting
 * to be read by it nor the client too many packets unacknowledged. */
static void
tcp_flow(struct tcpconn *t)
{
	nym_ws_pause(t->ws, t->paused || C.paused);
}

static void
tcp_flow_all(void)
{
	for (struct tcpconn *t = T.conns; t; t = t->next)
		tcp_flow(t);
}

/* Hand the responses buffered so far to the socket. */
static void
tcp_write(struct tcpconn *t)
{
	if (!t->out_len)
		return;
	if (nym_ws_send_tagged(t->ws, 1, t->out, t->out_len, ++t->out_seq) < 0)
		nym_ws_abort(t->ws);
	t->out_len = 0;
	if (nym_ws_queued(t->ws) > TCP_QUEUED_MAX && !t->paused) {
		t->paused = 1;
		tcp_flow(t);
	}
}

static void
tcp_respond(struct tcpconn *t, const struct nym_tcpsocket_resp *r)
{
	uint8_t *f;
	size_t n;
	if (nym_tcpsocket_resp_encode(&f, &n, r) < 0) {
		nym_ws_abort(t->ws);
		return;
	}
	if (t->out_len + n > t->out_cap) {
		size_t cap = t->out_cap ? t->out_cap : 4096;
		while (cap < t->out_len + n)
			cap *= 2;
		uint8_t *nb = realloc(t->out, cap);
		if (!nb) {
			free(f);
			nym_ws_abort(t->ws);
			return;
		}
		t->out = nb;
		t->out_cap = cap;
	}
	memcpy(t->out + t->out_len, f, n);
	t->out_len += n;
	free(f);
	if (r->kind == NYM_TCPSOCKET_RESP_FLUSH || t->out_len > TCP_PENDING_MAX)
		tcp_write(t);
}

static void
tcp_exception(struct tcpconn *t, const char *why)
{
	struct nym_tcpsocket_resp r = {.kind = NYM_TCPSOCKET_RESP_EXCEPTION, .error = why};
	tcp_respond(t, &r);
}

/* Bytes that are not the API: say so, then close (§3). */
static void
tcp_refuse(struct tcpconn *t, const char *why)
{
	tcp_exception(t, why);
	tcp_write(t);
	t->closing = 1;
	nym_ws_close(t->ws);
}

struct fetch_acc {
	struct tcpconn *t;
	size_t n, bytes;
	int nomem;
};

static int
fetch_one(const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	struct fetch_acc *a = arg;
	struct fetched *m;
	if (a->n && a->bytes + len > TCP_FETCH_MAX)
		return 1;
	if (!(m = malloc(sizeof *m + len))) {
		a->nomem = 1;
		return 1;
	}
	m->next = NULL;
	m->seq = 0;
	m->has_tag = tag != NULL;
	if (tag)
		memcpy(m->tag, tag, 16);
	m->len = len;
	memcpy(m->data, data, len);
	*a->t->fetched_tail = m;
	a->t->fetched_tail = &m->next;
	a->n++;
	a->bytes += len;
	return 0;
}

static void
tcp_fetch(struct tcpconn *t)
{
	struct fetch_acc a = {t, 0, 0, 0};
	struct fetched **start = t->fetched_tail, *m;
	size_t dropped = 0, i = 0;
	if (nym_held_take(C.held, fetch_one, &a, &dropped) < 0) {
		tcp_exception(t, "cannot read the messages kept on disk");
		return;
	}
	if (dropped)
		warnx("%s: dropped %zu bytes of a message cut short", C.held, dropped);
	const uint8_t **v = calloc(a.n ? a.n : 1, sizeof *v);
	size_t *l = calloc(a.n ? a.n : 1, sizeof *l);
	if (!v || !l) {
		free(v);
		free(l);
		tcp_exception(t, "out of memory");
		return; /* what was taken stays in t->fetched: kept again at close */
	}
	for (m = *start; m; m = m->next, i++) {
		v[i] = m->data;
		l[i] = m->len;
		/* carried by the next write: the flush, or an earlier one if the buffer fills */
		m->seq = t->out_seq + 1;
	}
	struct nym_tcpsocket_resp r = {.kind = NYM_TCPSOCKET_RESP_FETCH, .messages = v,
	                               .message_lens = l, .n_messages = a.n};
	tcp_respond(t, &r);
	free(v);
	free(l);
}

static void
tcp_send(struct tcpconn *t, const struct nym_tcpsocket_req *q)
{
	struct nym_tcpsocket_resp r = {.kind = NYM_TCPSOCKET_RESP_SEND};
	struct nym_address to;
	char why[NYM_ADDRESS_WHY_MAX + 100], w[NYM_ADDRESS_WHY_MAX];
	int e;
	/* the old server answered success with nothing to send (§3) */
	if (!q->has_recipient || !q->message_len) {
		tcp_respond(t, &r);
		return;
	}
	if (nym_address_parse(&to, q->recipient_id, w, sizeof w) < 0) {
		snprintf(why, sizeof why, "the recipient's Id is not a Nym address "
		    "(identity.encryption@gateway): %s", w);
		tcp_exception(t, why);
		return;
	}
	if ((e = nym_mixclient_send(C.mc, &to, q->message, q->message_len, -1, 0, NULL)) < 0) {
		tcp_exception(t, e == NYM_EROUTE ? "the recipient's gateway is not in the topology" :
		    nym_strerror(e));
		return;
	}
	flow_check();
	tcp_respond(t, &r);
}

static void
tcp_details(struct tcpconn *t)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	nym_mixclient_address(C.mc, &a);
	nym_address_format(s, sizeof s, &a);
	struct nym_tcpsocket_client c = {s, a.identity, T.gw_id, T.gw_host, T.gw_port, T.gw_key};
	struct nym_tcpsocket_resp r = {.kind = NYM_TCPSOCKET_RESP_DETAILS, .details = &c};
	tcp_respond(t, &r);
}

static void
tcp_request(struct tcpconn *t, const uint8_t *body, size_t len)
{
	struct nym_tcpsocket_req q;
	struct nym_tcpsocket_resp r = {0};
	if (nym_tcpsocket_req_decode(&q, body, len) < 0) {
		tcp_refuse(t, "not a Request (protobuf): closing the connection");
		return;
	}
	switch (q.kind) {
	case NYM_TCPSOCKET_REQ_SEND: tcp_send(t, &q); break;
	case NYM_TCPSOCKET_REQ_FETCH: tcp_fetch(t); break;
	case NYM_TCPSOCKET_REQ_CLIENTS:
		r.kind = NYM_TCPSOCKET_RESP_CLIENTS;
		tcp_respond(t, &r);
		break;
	case NYM_TCPSOCKET_REQ_DETAILS: tcp_details(t); break;
	case NYM_TCPSOCKET_REQ_FLUSH:
		r.kind = NYM_TCPSOCKET_RESP_FLUSH;
		tcp_respond(t, &r);
		break;
	default: tcp_exception(t, NYM_TCPSOCKET_INVALID_REQUEST); break;
	}
	nym_tcpsocket_req_free(&q);
}

static void
tcp_open(struct nym_ws *ws, void *arg)
{
	struct tcpconn *t = calloc(1, sizeof *t);
	(void)arg;
	if (!t || !(t->in = malloc(NYM_TCPSOCKET_HEADER + NYM_TCPSOCKET_MAX_REQUEST))) {
		free(t);
		nym_ws_abort(ws);
		return;
	}
	t->ws = ws;
	t->fetched_tail = &t->fetched;
	nym_ws_set_user(ws, t);
	if ((t->next = T.conns))
		T.conns->prev = t;
	T.conns = t;
	tcp_flow(t);
	if (!C.quiet)
		warnx("a TCP-socket application connected (%s)", nym_ws_peer(ws));
}

/* Bytes as they come: whole frames are answered, a partial one waits in a
 * buffer that never holds more than one largest request. */
static void
tcp_data(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct tcpconn *t = nym_ws_user(ws);
	(void)binary, (void)arg;
	while (t && n && !t->closing) {
		size_t room = NYM_TCPSOCKET_HEADER + NYM_TCPSOCKET_MAX_REQUEST - t->in_len;
		size_t k = n < room ? n : room;
		memcpy(t->in + t->in_len, d, k);
		t->in_len += k;
		d += k;
		n -= k;
		size_t at = 0;
		while (!t->closing) {
			int64_t f = nym_tcpsocket_frame(t->in + at, t->in_len - at, NYM_TCPSOCKET_MAX_REQUEST);
			if (f == NYM_ETOOBIG) {
				tcp_refuse(t, "request longer than 1048576 bytes: closing the connection");
				break;
			}
			if (f <= 0)
				break;
			tcp_request(t, t->in + at + NYM_TCPSOCKET_HEADER, (size_t)f - NYM_TCPSOCKET_HEADER);
			at += (size_t)f;
		}
		memmove(t->in, t->in + at, t->in_len - at);
		t->in_len -= at;
	}
}

static void
tcp_sent(struct nym_ws *ws, uint64_t seq, void *arg)
{
	struct tcpconn *t = nym_ws_user(ws);
	(void)arg;
	while (t && t->fetched && t->fetched->seq && t->fetched->seq <= seq) {
		struct fetched *m = t->fetched;
		if (!(t->fetched = m->next))
			t->fetched_tail = &t->fetched;
		free(m);
	}
	if (t && t->paused && nym_ws_queued(ws) < TCP_QUEUED_MAX / 2) {
		t->paused = 0;
		tcp_flow(t);
	}
}

static void
tcp_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct tcpconn *t = nym_ws_user(ws);
	struct fetched *m;
	size_t n = 0, i = 0;
	(void)err, (void)why, (void)unsent, (void)arg;
	if (!t)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		T.conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	/* fetched but never sent: first again for the next fetch */
	for (m = t->fetched; m; m = m->next)
		n++;
	if (n) {
		struct nym_held_msg *v = calloc(n, sizeof *v);
		for (m = t->fetched; v && m; m = m->next, i++)
			v[i] = (struct nym_held_msg){m->data, m->len, m->has_tag ? m->tag : NULL};
		if (!v || nym_held_prepend(C.held, v, n) < 0)
			warnx("%zu fetched messages that never left could not be kept in %s; they are lost",
			    n, C.held);
		free(v);
	}
	while ((m = t->fetched)) {
		t->fetched = m->next;
		free(m);
	}
	if (!C.quiet)
		warnx("a TCP-socket application disconnected");
	free(t->in);
	free(t->out);
	free(t);
}

/* The gateway as a MixConfig: its identity, and where clients reach it. */
static void
tcp_gateway(const struct nym_mixclient_setup *su)
{
	const char *u = su->gateway_url, *h, *e;
	memcpy(T.gw_key, su->gateway, 32);
	nym_base58_encode(T.gw_id, sizeof T.gw_id, su->gateway, 32);
	if ((h = strstr(u, "://")))
		u = h + 3;
	if (*u == '[' && (e = strchr(u, ']'))) {
		snprintf(T.gw_host, sizeof T.gw_host, "%.*s", (int)(e - u - 1), u + 1);
		e++;
	} else {
		e = u + strcspn(u, ":/");
		snprintf(T.gw_host, sizeof T.gw_host, "%.*s", (int)(e - u), u);
	}
	if (*e == ':')
		snprintf(T.gw_port, sizeof T.gw_port, "%.*s", (int)strcspn(e + 1, "/"), e + 1);
	else
		snprintf(T.gw_port, sizeof T.gw_port, "%s", strncmp(su->gateway_url, "wss:", 4) ? "80" : "443");
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
	struct conn *c = tool_loops_take(&C.loops, id);
	if (c) {
		struct nym_wsapi_resp p = {.tag = NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED};
		p.loop_id = id;
		p.rtt_us = rtt_us;
		reply_to(c, 0, &p);
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

/* run (tcp = 0) and tcpsocket (tcp = 1): the same client, another API. */
static int
cmd_run(const char *home, const char *id, const char *topo, const char *api, const char *host,
    int port, int nocover, int disable, int tcp, double rate, int nopoisson)
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

	if (tcp) {
		struct nym_ws_handler th = {.open = tcp_open, .message = tcp_data,
		                            .closed = tcp_closed, .sent = tcp_sent};
		struct nym_ws_server ls = {.host = host, .port = port};
		e = nym_tcp_listen(C.loop, &ls, &th);
		if (e == NYM_EADDR)
			die("--host: '%s' is not a numeric IPv4 or IPv6 address", host);
		if (e < 0)
			die("cannot listen on %s port %d: %s", host, port,
			    e == NYM_EIO ? strerror(errno) : nym_strerror(e));
		if (!is_loopback(host))
			warnx("warning: the TCP-socket API listens on %s, not loopback: anyone who can "
			      "reach it can send and read this client's messages (it has no authentication)",
			      host);
		tcp_gateway(&su);
	} else if (!disable) {
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
	if (rate > 0)
		cfg.send_mean_ms = 1000.0 / rate;
	if (nopoisson) {
		cfg.send_mean_ms = 0;
		cfg.main_cover = 0;
	}
	char frags[4300];
	tool_client_fragments(&cfg, su.dir, frags, sizeof frags);
	if (nocover) {
		cfg.main_cover = 0;
		cfg.loop_mean_ms = 0;
	}
	struct tool_client tc = {su.dir, &C.quiet};
	struct nym_mixclient_events ev = {on_ready, on_message, on_acked, on_loop, on_down,
	                                  tool_client_warning, &tc};
	if ((e = nym_mixclient_start(&C.mc, C.loop, &cfg, &ev)) < 0)
		die("cannot start the client: %s", e == NYM_EIO ? strerror(errno) : nym_strerror(e));
	if (!C.quiet && tcp)
		warnx("TCP-socket API on %s%s%s:%d", strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", port);
	else if (!C.quiet && !disable)
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
		{"rate", required_argument, 0, 'R'},
		{"no-poisson", no_argument, 0, 'N'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *id = getenv("NYM_ID"), *topo = getenv("NYM_TOPOLOGY"), *api = getenv("NYM_API");
	const char *gateway = NULL, *host = NULL, *home, *cmd;
	int port = 0, disable = 0, nocover = 0, c, net_given = 0, nopoisson = 0;
	double rate = 0;
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
		usage_error("a command is needed: init, run or tcpsocket");
	cmd = argv[optind];
	if (strcmp(cmd, "init") && strcmp(cmd, "run") && strcmp(cmd, "tcpsocket"))
		usage_error("unknown command '%s' (init, run or tcpsocket)", cmd);
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
		case 'R': rate = tool_positive("--rate", optarg, "packets per second"); break;
		case 'N': nopoisson = 1; break;
		case 'q': C.quiet = 1; break;
		case 'h': usage();
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!strcmp(cmd, "init") && (disable || nocover || rate > 0 || nopoisson))
		usage_error("--disable-socket, --no-cover, --rate and --no-poisson are for run");
	if (strcmp(cmd, "init") && gateway)
		usage_error("--gateway is for init");
	if (!strcmp(cmd, "tcpsocket") && disable)
		usage_error("--disable-socket is for run");
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
		port = strcmp(cmd, "tcpsocket") ? cport : 9001; /* the 2019 client's port */
	if (!net_given && !topo && !api && capi[0])
		api = capi;
	tool_need_network(topo, api);
	if (!strcmp(cmd, "init"))
		return cmd_init(home, id, gateway, topo, api, host, port);
	return cmd_run(home, id, topo, api, host, port, nocover, disable || !enabled,
	    !strcmp(cmd, "tcpsocket"), rate, nopoisson);
}
