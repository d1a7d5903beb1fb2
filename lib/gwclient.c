/* gwclient.c — websockets and the event loop over libwebsockets.
 * See gwclient.h. One lws context per loop, explicit vhosts: one for client
 * connections (TLS client context with the CA bundle), one per unix-socket
 * server. Each connection is a struct nym_ws hung on the wsi user pointer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "err.h"
#include "gwclient.h"

#define NYM_WS_DEFAULT_MAX (64u << 20)

struct nym_frame {
	struct nym_frame *next;
	size_t len;
	int binary;
	uint8_t buf[]; /* LWS_PRE bytes of headroom, then the message */
};

struct nym_listener {
	struct nym_listener *next;
	struct nym_ws_handler h;
	struct lws_vhost *vh;
	char path[108];
};

struct nym_loop {
	struct lws_context *ctx;
	struct lws_vhost *client_vh;
	struct nym_listener *listeners;
	lws_sorted_usec_list_t wake; /* bounds one nym_loop_run() */
	struct nym_ws *conns;        /* every live nym_ws, for nym_loop_free */
	int broken;
};

struct nym_ws {
	struct nym_loop *loop;
	struct nym_ws *next, *prev;
	struct lws *wsi;
	struct nym_ws_handler h;
	void *user;
	struct nym_frame *head, *tail;
	size_t queued, nframes;
	uint8_t *rx;
	size_t rx_len, rx_cap, max_msg;
	int rx_binary, rx_overflow;
	int closing, opened, connecting, done;
	/* a failure seen while lws_client_connect_via_info() was still running
	 * is reported from a zero-delay timer, never from inside connect(). */
	int deferred_err;
	char deferred_why[160];
	lws_sorted_usec_list_t defer;
};

struct nym_timer {
	lws_sorted_usec_list_t sul; /* first: container of the callback arg */
	struct nym_loop *loop;
	nym_timer_fn fn;
	void *arg;
	int pending;
};

uint64_t
nym_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- connections --------------------------------------------------------- */

static void
ws_unlink(struct nym_ws *ws)
{
	struct nym_loop *l = ws->loop;
	if (ws->prev)
		ws->prev->next = ws->next;
	else if (l->conns == ws)
		l->conns = ws->next;
	if (ws->next)
		ws->next->prev = ws->prev;
	ws->next = ws->prev = NULL;
}

static void
ws_free(struct nym_ws *ws)
{
	struct nym_frame *f = ws->head, *n;
	for (; f; f = n) {
		n = f->next;
		free(f);
	}
	lws_sul_cancel(&ws->defer);
	ws_unlink(ws);
	free(ws->rx);
	free(ws);
}

/* Report the end of a connection once, then free it. */
static void
ws_report(struct nym_ws *ws, int err, const char *why)
{
	size_t unsent = ws->nframes;
	if (ws->done)
		return;
	ws->done = 1;
	if (ws->wsi)
		lws_set_wsi_user(ws->wsi, NULL);
	ws->wsi = NULL;
	if (ws->h.closed)
		ws->h.closed(ws, err, why, unsent, ws->h.arg);
	ws_free(ws);
}

static void
ws_deferred(lws_sorted_usec_list_t *sul)
{
	struct nym_ws *ws = lws_container_of(sul, struct nym_ws, defer);
	ws_report(ws, ws->deferred_err, ws->deferred_why);
}

static struct nym_ws *
ws_new(struct nym_loop *l, const struct nym_ws_handler *h)
{
	struct nym_ws *ws = calloc(1, sizeof *ws);
	if (!ws)
		return NULL;
	ws->loop = l;
	ws->h = *h;
	ws->max_msg = NYM_WS_DEFAULT_MAX;
	ws->next = l->conns;
	if (l->conns)
		l->conns->prev = ws;
	l->conns = ws;
	return ws;
}

/* The words lws gives for a failed connection, made plainer. */
static void
ws_fail(struct nym_ws *ws, const char *in, size_t len)
{
	char why[160];
	const char *s = in ? in : "";
	size_t n = in ? strnlen(s, len ? len : 150) : 0;
	int tls = 0;

	if (n > 120)
		n = 120;
	for (size_t i = 0; i + 3 <= n; i++)
		if (!strncasecmp(s + i, "ssl", 3) || !strncasecmp(s + i, "tls", 3) ||
		    !strncasecmp(s + i, "cert", 4))
			tls = 1;
	if (tls)
		snprintf(why, sizeof why, "TLS failure: %.*s", (int)n, s);
	else if (n)
		snprintf(why, sizeof why, "cannot connect: %.*s", (int)n, s);
	else
		snprintf(why, sizeof why, "cannot connect");
	if (ws->connecting) {
		ws->deferred_err = NYM_ENET;
		snprintf(ws->deferred_why, sizeof ws->deferred_why, "%s", why);
		return;
	}
	ws_report(ws, NYM_ENET, why);
}

static int
ws_rx(struct nym_ws *ws, struct lws *wsi, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		ws->rx_len = 0;
		ws->rx_overflow = 0;
		ws->rx_binary = lws_frame_is_binary(wsi);
	}
	if (ws->rx_len + len > ws->max_msg)
		ws->rx_overflow = 1;
	if (!ws->rx_overflow && len) {
		if (ws->rx_len + len > ws->rx_cap) {
			size_t cap = ws->rx_cap ? ws->rx_cap : 4096;
			while (cap < ws->rx_len + len)
				cap *= 2;
			uint8_t *nb = realloc(ws->rx, cap);
			if (!nb)
				return -1;
			ws->rx = nb;
			ws->rx_cap = cap;
		}
		memcpy(ws->rx + ws->rx_len, in, len);
		ws->rx_len += len;
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	if (ws->rx_overflow) {
		ws_report(ws, NYM_EFULL, "message from peer above the size limit");
		return -1;
	}
	if (ws->h.message)
		ws->h.message(ws, ws->rx_binary, ws->rx ? ws->rx : (const uint8_t *)"", ws->rx_len,
		    ws->h.arg);
	/* big buffers are not kept around between messages */
	if (!ws->done && ws->rx_cap > (1u << 20)) {
		free(ws->rx);
		ws->rx = NULL;
		ws->rx_cap = 0;
	}
	ws->rx_len = 0;
	return 0;
}

static int
ws_tx(struct nym_ws *ws, struct lws *wsi)
{
	struct nym_frame *f = ws->head;
	if (f) {
		int n = lws_write(wsi, f->buf + LWS_PRE, f->len,
		    f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		if (n < 0 || (size_t)n < f->len) {
			ws_report(ws, NYM_ENET, "connection closed while sending");
			return -1;
		}
		ws->head = f->next;
		if (!ws->head)
			ws->tail = NULL;
		ws->queued -= f->len;
		ws->nframes--;
		free(f);
	}
	if (ws->head) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (ws->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		ws_report(ws, 0, "closed");
		return -1;
	}
	return 0;
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct nym_ws *ws = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED: {
		struct nym_listener *li = lws_vhost_user(lws_get_vhost(wsi));
		struct nym_loop *l = lws_context_user(lws_get_context(wsi));
		if (!li || !(ws = ws_new(l, &li->h)))
			return -1;
		ws->wsi = wsi;
		ws->opened = 1;
		lws_set_wsi_user(wsi, ws);
		if (ws->h.open)
			ws->h.open(ws, ws->h.arg);
		if (!ws->done && ws->head)
			lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!ws)
			return -1;
		ws->opened = 1;
		if (ws->h.open)
			ws->h.open(ws, ws->h.arg);
		if (!ws->done && (ws->head || ws->closing))
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (ws)
			ws_fail(ws, in, len);
		return 0;
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!ws)
			return -1;
		return ws_rx(ws, wsi, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!ws)
			return -1;
		return ws_tx(ws, wsi);
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (ws)
			ws_report(ws, ws->closing && !ws->head ? 0 : NYM_ENET,
			    ws->head ? "connection closed with frames unsent" : "connection closed by peer");
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (ws && !ws->connecting)
			ws_report(ws, NYM_ENET, "connection lost");
		else if (ws)
			ws_fail(ws, "connection lost", 0);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols ws_protocols[] = {
	{"nym-ws", ws_callback, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Keepalive: a ws PING after 30 s without traffic, hang up after 75 s. */
static const lws_retry_bo_t ws_keepalive = {
	.secs_since_valid_ping = 30,
	.secs_since_valid_hangup = 75,
};

/* Split a URL into its parts; host gets brackets removed. */
static int
parse_url(const char *url, int *tls, char *host, size_t hcap, int *port, char *path, size_t pcap)
{
	const char *p, *h, *he, *slash;
	size_t hl;

	if (!strncmp(url, "ws://", 5)) {
		*tls = 0;
		*port = 80;
		p = url + 5;
	} else if (!strncmp(url, "wss://", 6)) {
		*tls = 1;
		*port = 443;
		p = url + 6;
	} else
		return NYM_EINVAL;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (*p == '[') {
		h = p + 1;
		he = memchr(h, ']', (size_t)(slash - h));
		if (!he)
			return NYM_EINVAL;
		p = he + 1;
	} else {
		h = p;
		he = memchr(h, ':', (size_t)(slash - h));
		if (!he)
			he = slash;
		p = he;
	}
	hl = (size_t)(he - h);
	if (!hl || hl >= hcap)
		return NYM_EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	if (*p == ':') {
		char *end;
		long v = strtol(p + 1, &end, 10);
		if (end == p + 1 || end != slash || v < 1 || v > 65535)
			return NYM_EINVAL;
		*port = (int)v;
	} else if (p != slash)
		return NYM_EINVAL;
	if (strlen(*slash ? slash : "/") >= pcap)
		return NYM_EINVAL;
	snprintf(path, pcap, "%s", *slash ? slash : "/");
	return 0;
}

int
nym_ws_connect(struct nym_loop *l, const char *url, const struct nym_ws_handler *h,
    struct nym_ws **out)
{
	struct lws_client_connect_info ci;
	char host[256], path[512], addr[256 + 2];
	int tls = 0, port = 0;
	struct nym_ws *ws;

	if (!strncmp(url, "unix:", 5)) {
		if (strlen(url + 5) >= 107 || !url[5])
			return NYM_EINVAL;
		snprintf(addr, sizeof addr, "+%s", url + 5);
		snprintf(host, sizeof host, "localhost");
		snprintf(path, sizeof path, "/");
	} else {
		if (parse_url(url, &tls, host, sizeof host, &port, path, sizeof path))
			return NYM_EINVAL;
		snprintf(addr, sizeof addr, "%s", host);
	}
	if (!(ws = ws_new(l, h)))
		return NYM_ENOMEM;
	memset(&ci, 0, sizeof ci);
	ci.context = l->ctx;
	ci.vhost = l->client_vh;
	ci.address = addr;
	ci.port = port;
	ci.path = path;
	ci.host = host;
	ci.origin = host;
	ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = "nym-ws";
	ci.userdata = ws;
	ci.pwsi = &ws->wsi;
	ci.retry_and_idle_policy = &ws_keepalive;
	ws->connecting = 1;
	if (!lws_client_connect_via_info(&ci) && !ws->deferred_err) {
		ws->deferred_err = NYM_ENET;
		snprintf(ws->deferred_why, sizeof ws->deferred_why, "cannot connect to %s", url);
	}
	ws->connecting = 0;
	if (ws->deferred_err) {
		if (ws->wsi)
			lws_set_wsi_user(ws->wsi, NULL);
		ws->wsi = NULL;
		lws_sul_schedule(l->ctx, 0, &ws->defer, ws_deferred, 1);
	}
	*out = ws;
	return 0;
}

int
nym_ws_send(struct nym_ws *ws, int binary, const uint8_t *data, size_t len)
{
	struct nym_frame *f;

	if (ws->closing || ws->done)
		return NYM_EINVAL;
	if (!(f = malloc(sizeof *f + LWS_PRE + len)))
		return NYM_ENOMEM;
	f->next = NULL;
	f->len = len;
	f->binary = binary;
	if (len)
		memcpy(f->buf + LWS_PRE, data, len);
	if (ws->tail)
		ws->tail->next = f;
	else
		ws->head = f;
	ws->tail = f;
	ws->queued += len;
	ws->nframes++;
	if (ws->opened && ws->wsi)
		lws_callback_on_writable(ws->wsi);
	return 0;
}

size_t
nym_ws_queued(const struct nym_ws *ws)
{
	return ws->queued;
}

void
nym_ws_close(struct nym_ws *ws)
{
	if (ws->closing || ws->done)
		return;
	ws->closing = 1;
	if (ws->opened && ws->wsi)
		lws_callback_on_writable(ws->wsi);
	else if (!ws->deferred_err) {
		/* not connected yet: drop it now, report from the loop */
		if (ws->wsi) {
			lws_set_wsi_user(ws->wsi, NULL);
			lws_set_timeout(ws->wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_ASYNC);
		}
		ws->wsi = NULL;
		ws->deferred_err = 0;
		snprintf(ws->deferred_why, sizeof ws->deferred_why, "closed");
		lws_sul_schedule(ws->loop->ctx, 0, &ws->defer, ws_deferred, 1);
	}
}

void
nym_ws_set_max_message(struct nym_ws *ws, size_t max)
{
	ws->max_msg = max;
}

void
nym_ws_set_user(struct nym_ws *ws, void *user)
{
	ws->user = user;
}

void *
nym_ws_user(const struct nym_ws *ws)
{
	return ws->user;
}

/* ---- unix socket server -------------------------------------------------- */

int
nym_unix_alive(const char *path)
{
	struct sockaddr_un sa;
	int fd, ok;

	if (strlen(path) >= sizeof sa.sun_path)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

int
nym_ws_listen_unix(struct nym_loop *l, const char *path, const struct nym_ws_handler *h)
{
	struct lws_context_creation_info vi;
	struct nym_listener *li;
	struct stat st;
	mode_t old;

	if (strlen(path) >= sizeof li->path)
		return NYM_EINVAL;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return NYM_EEXIST;
		if (nym_unix_alive(path))
			return NYM_EEXIST;
		unlink(path);
	}
	if (!(li = calloc(1, sizeof *li)))
		return NYM_ENOMEM;
	li->h = *h;
	snprintf(li->path, sizeof li->path, "%s", path);
	memset(&vi, 0, sizeof vi);
	vi.port = 0;
	vi.iface = li->path;
	vi.options = LWS_SERVER_OPTION_UNIX_SOCK;
	vi.protocols = ws_protocols;
	vi.vhost_name = li->path;
	vi.user = li;
	/* the socket is born 0600: nobody else may act as this identity */
	old = umask(0177);
	li->vh = lws_create_vhost(l->ctx, &vi);
	umask(old);
	if (!li->vh) {
		free(li);
		return NYM_EIO;
	}
	if (chmod(path, 0600) != 0) {
		lws_vhost_destroy(li->vh);
		free(li);
		return NYM_EIO;
	}
	li->next = l->listeners;
	l->listeners = li;
	return 0;
}

/* ---- loop and timers ----------------------------------------------------- */

static const char *
default_ca(void)
{
	static const char *paths[] = {
		"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/cert.pem", NULL};
	for (int i = 0; paths[i]; i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

int
nym_loop_new(struct nym_loop **out, const char *ca_file)
{
	struct lws_context_creation_info ci;
	struct nym_loop *l = calloc(1, sizeof *l);

	if (!l)
		return NYM_ENOMEM;
	/* lws logs to stderr by default; lib/ does not print */
	lws_set_log_level(getenv("NYM_LWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO : 0,
	    NULL);
	memset(&ci, 0, sizeof ci);
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.user = l;
	ci.port = CONTEXT_PORT_NO_LISTEN;
	if (!(l->ctx = lws_create_context(&ci))) {
		free(l);
		return NYM_EIO;
	}
	memset(&ci, 0, sizeof ci);
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = ws_protocols;
	ci.vhost_name = "nym-client";
	ci.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ci.client_ssl_ca_filepath = ca_file ? ca_file : default_ca();
	if (!(l->client_vh = lws_create_vhost(l->ctx, &ci))) {
		lws_context_destroy(l->ctx);
		free(l);
		return NYM_EIO;
	}
	*out = l;
	return 0;
}

void
nym_loop_free(struct nym_loop *l)
{
	struct nym_listener *li, *n;
	if (!l)
		return;
	/* no callbacks from here on */
	for (struct nym_ws *ws = l->conns; ws; ws = ws->next) {
		ws->h.closed = NULL;
		ws->h.message = NULL;
		ws->h.open = NULL;
	}
	lws_sul_cancel(&l->wake);
	lws_context_destroy(l->ctx);
	while (l->conns)
		ws_free(l->conns);
	for (li = l->listeners; li; li = n) {
		n = li->next;
		unlink(li->path);
		free(li);
	}
	free(l);
}

static void
loop_wake(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

int
nym_loop_run(struct nym_loop *l, int timeout_ms)
{
	if (l->broken)
		return NYM_EIO;
	lws_sul_schedule(l->ctx, 0, &l->wake, loop_wake,
	    (lws_usec_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000 + 1);
	if (lws_service(l->ctx, 0) < 0) {
		l->broken = 1;
		return NYM_EIO;
	}
	return 0;
}

void
nym_loop_wake(struct nym_loop *l)
{
	lws_cancel_service(l->ctx);
}

static void
timer_fire(lws_sorted_usec_list_t *sul)
{
	struct nym_timer *t = lws_container_of(sul, struct nym_timer, sul);
	t->pending = 0;
	t->fn(t, t->arg);
}

struct nym_timer *
nym_timer_new(struct nym_loop *l, nym_timer_fn fn, void *arg)
{
	struct nym_timer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->loop = l;
	t->fn = fn;
	t->arg = arg;
	return t;
}

void
nym_timer_set(struct nym_timer *t, uint64_t delay_us)
{
	t->pending = 1;
	lws_sul_schedule(t->loop->ctx, 0, &t->sul, timer_fire, (lws_usec_t)delay_us + 1);
}

void
nym_timer_cancel(struct nym_timer *t)
{
	if (t->pending)
		lws_sul_cancel(&t->sul);
	t->pending = 0;
}

int
nym_timer_pending(const struct nym_timer *t)
{
	return t->pending;
}

void
nym_timer_free(struct nym_timer *t)
{
	if (!t)
		return;
	nym_timer_cancel(t);
	free(t);
}

/* ---- gateway session ----------------------------------------------------- */

#include <time.h>

#include "crypto.h"
#include "gwproto.h"
#include "keys.h"

enum gw_state {
	GW_IDLE,       /* waiting to (re)connect */
	GW_CONNECTING, /* websocket handshake */
	GW_PROTO,      /* supportedProtocol asked */
	GW_HS_M2,      /* M1 sent */
	GW_HS_M4,      /* M3 sent */
	GW_REGISTER,   /* M4 received, waiting for `register` */
	GW_AUTH,       /* authenticateV2 sent */
	GW_CLAIM,      /* claimFreeTestnetBandwidth sent */
	GW_READY,
	GW_DEAD,
};

struct gw_pkt {
	struct gw_pkt *next;
	size_t len;
	uint8_t b[];
};

struct nym_gw {
	struct nym_loop *loop;
	struct nym_ws *ws;
	struct nym_timer *retry;
	struct nym_gw_events ev;
	const struct nym_rng *rng;
	struct nym_client_keys keys;
	struct nym_gw_hs_client hs;
	uint8_t gateway[32], key[32];
	int have_key, registered_now, reregistered;
	char url[300], keypath[4200], dir[4096];
	enum gw_state state;
	int version, stopping;
	int max_retries, failures;
	uint64_t last_auth_ts;
	int64_t bandwidth;
	struct gw_pkt *qhead, *qtail;
	size_t qbytes;
	uint8_t *frame; /* sealing buffer */
	size_t frame_cap;
};

static void gw_connect(struct nym_gw *gw);

static void
gw_send_json(struct nym_gw *gw, const struct nym_gw_msg *m)
{
	char *out = NULL;
	size_t len = 0;
	if (nym_gw_msg_encode(m, &out, &len) == 0 && gw->ws)
		nym_ws_send(gw->ws, 0, (const uint8_t *)out, len);
	free(out);
}

/* The connection failed in a way retrying will not fix. */
static void
gw_fatal(struct nym_gw *gw, int err, const char *why)
{
	struct nym_ws *ws = gw->ws;
	gw->state = GW_DEAD;
	gw->ws = NULL;
	if (ws) {
		nym_ws_set_user(ws, NULL);
		nym_ws_close(ws);
	}
	nym_timer_cancel(gw->retry);
	if (gw->ev.down)
		gw->ev.down(gw, err, why, 1, gw->ev.arg);
}

static int
gw_seal_send(struct nym_gw *gw, const uint8_t *mp, size_t len)
{
	uint8_t kind = NYM_GW_BIN_FORWARD_SPHINX_V2;
	const uint8_t *pt = mp;
	int n;

	if (len < 3)
		return NYM_EINVAL;
	if (len + NYM_GW_BIN_OVERHEAD > gw->frame_cap) {
		uint8_t *nb = realloc(gw->frame, len + NYM_GW_BIN_OVERHEAD);
		if (!nb)
			return NYM_ENOMEM;
		gw->frame = nb;
		gw->frame_cap = len + NYM_GW_BIN_OVERHEAD;
	}
	if (gw->version < NYM_GW_KEY_ROTATION_VERSION) {
		/* v1 MixPacket: the same without the key-rotation byte */
		kind = NYM_GW_BIN_FORWARD_SPHINX;
		uint8_t *tmp = malloc(len - 1);
		if (!tmp)
			return NYM_ENOMEM;
		tmp[0] = mp[0];
		memcpy(tmp + 1, mp + 2, len - 2);
		n = nym_gw_bin_seal(gw->frame, gw->frame_cap, kind, tmp, len - 1, gw->key, gw->rng);
		free(tmp);
	} else
		n = nym_gw_bin_seal(gw->frame, gw->frame_cap, kind, pt, len, gw->key, gw->rng);
	if (n < 0)
		return n;
	return nym_ws_send(gw->ws, 1, gw->frame, (size_t)n);
}

static void
gw_flush(struct nym_gw *gw)
{
	while (gw->qhead && gw->state == GW_READY && gw->ws) {
		struct gw_pkt *p = gw->qhead;
		if (gw_seal_send(gw, p->b, p->len) < 0)
			break;
		gw->qhead = p->next;
		if (!gw->qhead)
			gw->qtail = NULL;
		gw->qbytes -= p->len;
		free(p);
	}
}

static void
gw_ready(struct nym_gw *gw)
{
	gw->state = GW_READY;
	gw->failures = 0;
	gw_flush(gw);
	if (gw->ev.ready)
		gw->ev.ready(gw, gw->registered_now, gw->ev.arg);
}

static void
gw_claim_or_ready(struct nym_gw *gw)
{
	if (gw->bandwidth < NYM_GW_LOW_BANDWIDTH) {
		struct nym_gw_msg m = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
		gw->state = GW_CLAIM;
		gw_send_json(gw, &m);
		return;
	}
	gw_ready(gw);
}

static void
gw_register_start(struct nym_gw *gw)
{
	uint8_t m1[NYM_GW_M1_LEN];
	char *out = NULL;
	size_t len;
	int e = nym_gw_hs_client_start(&gw->hs, gw->keys.identity_seed, gw->gateway, gw->rng, m1);
	if (e < 0) {
		gw_fatal(gw, e, "cannot start the registration handshake");
		return;
	}
	if (nym_gw_json_handshake(&out, &len, 1, (uint8_t)gw->version, m1, sizeof m1) == 0)
		nym_ws_send(gw->ws, 0, (const uint8_t *)out, len);
	free(out);
	gw->state = GW_HS_M2;
}

static void
gw_auth_start(struct nym_gw *gw)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_AUTHENTICATE_V2};
	uint64_t now = (uint64_t)time(NULL);
	/* the gateway wants strictly increasing seconds */
	if (now <= gw->last_auth_ts)
		now = gw->last_auth_ts + 1;
	gw->last_auth_ts = now;
	if (nym_gw_auth_build(&m.auth, (uint8_t)gw->version, gw->keys.identity_seed, gw->key, now,
	        gw->rng) < 0) {
		gw_fatal(gw, NYM_ECRYPTO, "cannot build authenticateV2");
		return;
	}
	m.has_version = 1;
	m.version = (uint8_t)gw->version;
	gw->state = GW_AUTH;
	gw_send_json(gw, &m);
}

/* Store the new shared key, then the gateway identity (that order: an
 * address never names a gateway we hold no key for). */
static int
gw_store_key(struct nym_gw *gw)
{
	int e;
	if (!gw->dir[0])
		return 0;
	if ((e = nym_keyfile_write(gw->keypath, NYM_PEM_GATEWAY_SHARED_KEY, gw->key, 32)) < 0)
		return e;
	return nym_client_gateway_save(gw->dir, gw->gateway);
}

static void
gw_text(struct nym_gw *gw, const uint8_t *data, size_t len)
{
	struct nym_gw_msg m;
	char why[4400];
	int e;

	memset(&m, 0, sizeof m);
	if (nym_gw_msg_parse(&m, 0, (const char *)data, len) < 0) {
		if (gw->ev.warning)
			gw->ev.warning(gw, "gateway sent malformed JSON", gw->ev.arg);
		return;
	}
	switch (m.type) {
	case NYM_GW_RESP_SUPPORTED_PROTOCOL:
		if (gw->state != GW_PROTO)
			break;
		if (!m.has_version || m.version < NYM_GW_MIN_AUTH_VERSION) {
			snprintf(why, sizeof why, "gateway speaks protocol %d, at least %d is needed",
			    m.has_version ? m.version : 0, NYM_GW_MIN_AUTH_VERSION);
			gw_fatal(gw, NYM_EVERSION, why);
			break;
		}
		gw->version = m.version > NYM_GW_PROTOCOL_VERSION ? NYM_GW_PROTOCOL_VERSION : m.version;
		if (gw->have_key)
			gw_auth_start(gw);
		else
			gw_register_start(gw);
		break;
	case NYM_GW_RESP_HANDSHAKE: {
		uint8_t m3[NYM_GW_M3_LEN];
		char *out = NULL;
		size_t olen;
		if (gw->state == GW_HS_M2) {
			if (m.has_version && m.version > NYM_GW_PROTOCOL_VERSION) {
				gw_fatal(gw, NYM_EVERSION, "gateway chose a protocol newer than ours");
				break;
			}
			if (m.has_version && m.version >= NYM_GW_MIN_AUTH_VERSION)
				gw->version = m.version;
			e = nym_gw_hs_client_m2(&gw->hs, m.hs, m.hs_len, gw->rng, m3);
			if (e < 0) {
				gw_fatal(gw, e, e == NYM_EMAC ?
				    "registration: the gateway's signature does not verify "
				    "(not the gateway the topology names)" :
				    "registration: malformed handshake message from the gateway");
				break;
			}
			if (nym_gw_json_handshake(&out, &olen, 1, (uint8_t)gw->version, m3, sizeof m3) == 0)
				nym_ws_send(gw->ws, 0, (const uint8_t *)out, olen);
			free(out);
			gw->state = GW_HS_M4;
		} else if (gw->state == GW_HS_M4) {
			e = nym_gw_hs_client_m4(&gw->hs, m.hs, m.hs_len, gw->key);
			nym_gw_hs_wipe(&gw->hs, sizeof gw->hs);
			if (e < 0) {
				gw_fatal(gw, e, "registration refused by the gateway");
				break;
			}
			gw->have_key = 1;
			gw->registered_now = 1;
			gw->bandwidth = 0;
			if ((e = gw_store_key(gw)) < 0) {
				snprintf(why, sizeof why, "cannot store the gateway shared key in %s: %s",
				    gw->dir, e == NYM_EIO ? strerror(errno) : nym_strerror(e));
				gw_fatal(gw, e, why);
				break;
			}
			gw->state = GW_REGISTER;
		}
		break;
	}
	case NYM_GW_RESP_HANDSHAKE_ERROR:
		snprintf(why, sizeof why, "registration failed: %s", m.text ? m.text : "handshake error");
		gw_fatal(gw, NYM_EPROTO, why);
		break;
	case NYM_GW_RESP_REGISTER:
		if (gw->state != GW_REGISTER)
			break;
		if (!m.status) {
			gw_fatal(gw, NYM_EPROTO, "the gateway refused the registration");
			break;
		}
		if (m.has_version && m.version >= NYM_GW_MIN_AUTH_VERSION &&
		    m.version <= NYM_GW_PROTOCOL_VERSION)
			gw->version = m.version;
		gw_claim_or_ready(gw);
		break;
	case NYM_GW_RESP_AUTHENTICATE:
		if (gw->state != GW_AUTH)
			break;
		if (!m.status) {
			gw_fatal(gw, NYM_EPERM, "the gateway refused authentication");
			break;
		}
		gw->registered_now = 0;
		gw->bandwidth = m.bandwidth;
		gw_claim_or_ready(gw);
		break;
	case NYM_GW_RESP_BANDWIDTH:
		gw->bandwidth = m.bandwidth;
		if (gw->state == GW_CLAIM)
			gw_ready(gw);
		break;
	case NYM_GW_RESP_SEND:
		gw->bandwidth = m.bandwidth;
		break;
	case NYM_GW_RESP_TYPED_ERROR:
		if (m.typed_error == NYM_GW_TE_OUT_OF_BANDWIDTH && gw->state == GW_READY) {
			struct nym_gw_msg c = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
			gw->bandwidth = m.te_available;
			gw_send_json(gw, &c);
		}
		if (gw->ev.warning)
			gw->ev.warning(gw, m.typed_error == NYM_GW_TE_OUT_OF_BANDWIDTH ?
			    "gateway: out of bandwidth (claiming more)" : "gateway: ticket replay",
			    gw->ev.arg);
		break;
	case NYM_GW_RESP_ERROR:
		snprintf(why, sizeof why, "gateway: %s", m.text ? m.text : "error");
		if (gw->state == GW_AUTH && m.text && strstr(m.text, "not registered") &&
		    !gw->reregistered) {
			/* the gateway lost our registration: register afresh on a
			 * new connection (this one is closed by the gateway) */
			gw->have_key = 0;
			gw->reregistered = 1;
			break;
		}
		if (gw->state == GW_READY) {
			if (gw->ev.warning)
				gw->ev.warning(gw, why, gw->ev.arg);
		} else if (gw->state == GW_CLAIM) {
			/* no free bandwidth here: try to send anyway */
			if (gw->ev.warning)
				gw->ev.warning(gw, why, gw->ev.arg);
			gw_ready(gw);
		} else
			gw_fatal(gw, NYM_EPROTO, why);
		break;
	default:
		break;
	}
	nym_gw_msg_free(&m);
}

static void
gw_ws_open(struct nym_ws *ws, void *arg)
{
	struct nym_gw *gw = arg;
	struct nym_gw_msg m = {.type = NYM_GW_REQ_SUPPORTED_PROTOCOL};
	(void)ws;
	gw->state = GW_PROTO;
	gw_send_json(gw, &m);
}

static void
gw_ws_message(struct nym_ws *ws, int binary, const uint8_t *data, size_t len, void *arg)
{
	struct nym_gw *gw = arg;
	(void)ws;
	if (!binary) {
		gw_text(gw, data, len);
		return;
	}
	if (!gw->have_key || gw->state == GW_HS_M2 || gw->state == GW_HS_M4 || len < NYM_GW_BIN_HDR_LEN)
		return;
	/* decrypt in place into a scratch buffer */
	uint8_t *pt = malloc(len);
	uint8_t kind;
	if (!pt)
		return;
	int n = nym_gw_bin_open(&kind, pt, len, data, len, gw->key);
	if (n >= 0 && kind == NYM_GW_BIN_PUSHED && gw->ev.pushed)
		gw->ev.pushed(gw, pt, (size_t)n, gw->ev.arg);
	else if (n < 0 && gw->ev.warning)
		gw->ev.warning(gw, "undecryptable frame from the gateway", gw->ev.arg);
	free(pt);
}

static void
gw_ws_closed(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg)
{
	struct nym_gw *gw = arg;
	uint64_t delay;
	(void)ws, (void)unsent;
	if (!gw || gw->ws != ws)
		return;
	gw->ws = NULL;
	if (gw->stopping || gw->state == GW_DEAD)
		return;
	if (gw->state == GW_HS_M2 || gw->state == GW_HS_M4)
		nym_gw_hs_wipe(&gw->hs, sizeof gw->hs);
	gw->state = GW_IDLE;
	gw->failures++;
	if (gw->max_retries >= 0 && gw->failures > gw->max_retries) {
		char w[400];
		snprintf(w, sizeof w, "%s (%s), gave up after %d attempts", why ? why : "connection lost",
		    gw->url, gw->failures);
		gw->state = GW_DEAD;
		if (gw->ev.down)
			gw->ev.down(gw, err ? err : NYM_ENET, w, 1, gw->ev.arg);
		return;
	}
	/* backoff: 0.25 s, 0.5 s, 1 s ... capped at 30 s */
	delay = 250000ull << (gw->failures - 1 < 7 ? gw->failures - 1 : 7);
	if (delay > 30000000ull)
		delay = 30000000ull;
	if (gw->reregistered == 1 && !gw->have_key)
		delay = 0; /* the "not registered" answer: register right away */
	nym_timer_set(gw->retry, delay);
	if (gw->ev.down)
		gw->ev.down(gw, err ? err : NYM_ENET, why ? why : "connection lost", 0, gw->ev.arg);
}

static void
gw_retry(struct nym_timer *t, void *arg)
{
	(void)t;
	gw_connect(arg);
}

static void
gw_connect(struct nym_gw *gw)
{
	struct nym_ws_handler h = {gw_ws_open, gw_ws_message, gw_ws_closed, gw};
	gw->state = GW_CONNECTING;
	if (nym_ws_connect(gw->loop, gw->url, &h, &gw->ws) < 0) {
		gw->ws = NULL;
		gw_fatal(gw, NYM_EINVAL, "unusable gateway URL");
	}
}

int
nym_gw_start(struct nym_gw **out, struct nym_loop *l, const struct nym_gw_params *p,
    const struct nym_gw_events *ev)
{
	struct nym_gw *gw;
	int e;

	if (!p->url || !p->keys || !p->rng || strlen(p->url) >= sizeof gw->url ||
	    (p->dir && strlen(p->dir) >= sizeof gw->dir))
		return NYM_EINVAL;
	if (!(gw = calloc(1, sizeof *gw)))
		return NYM_ENOMEM;
	gw->loop = l;
	gw->ev = *ev;
	gw->rng = p->rng;
	gw->keys = *p->keys;
	memcpy(gw->gateway, p->gateway, 32);
	snprintf(gw->url, sizeof gw->url, "%s", p->url);
	gw->max_retries = p->max_retries ? p->max_retries : 10;
	if (p->dir) {
		snprintf(gw->dir, sizeof gw->dir, "%s", p->dir);
		snprintf(gw->keypath, sizeof gw->keypath, "%s/%s", p->dir, NYM_CLIENT_GATEWAY_SHARED_KEY);
		e = nym_keyfile_read_private(gw->keypath, NYM_PEM_GATEWAY_SHARED_KEY, gw->key, 32);
		if (e == 0) {
			/* a key registered with another gateway is no key for this one */
			uint8_t cur[32];
			gw->have_key = nym_client_gateway_load(gw->dir, cur) == 0 &&
			    !memcmp(cur, gw->gateway, 32);
		} else if (!(e == NYM_EIO && errno == ENOENT)) {
			free(gw);
			return e;
		}
	}
	if (!(gw->retry = nym_timer_new(l, gw_retry, gw))) {
		free(gw);
		return NYM_ENOMEM;
	}
	gw_connect(gw);
	*out = gw;
	return 0;
}

int
nym_gw_forward(struct nym_gw *gw, const uint8_t *mp, size_t len)
{
	struct gw_pkt *p;
	if (gw->state == GW_DEAD)
		return NYM_ENET;
	if (gw->state == GW_READY && gw->ws && !gw->qhead)
		return gw_seal_send(gw, mp, len);
	if (!(p = malloc(sizeof *p + len)))
		return NYM_ENOMEM;
	p->next = NULL;
	p->len = len;
	memcpy(p->b, mp, len);
	if (gw->qtail)
		gw->qtail->next = p;
	else
		gw->qhead = p;
	gw->qtail = p;
	gw->qbytes += len;
	return 0;
}

int
nym_gw_ready(const struct nym_gw *gw)
{
	return gw->state == GW_READY;
}

size_t
nym_gw_backlog(const struct nym_gw *gw)
{
	return gw->qbytes + (gw->ws ? nym_ws_queued(gw->ws) : 0);
}

int
nym_gw_version(const struct nym_gw *gw)
{
	return gw->version;
}

void
nym_gw_close(struct nym_gw *gw)
{
	gw->stopping = 1;
	nym_timer_cancel(gw->retry);
	if (gw->ws)
		nym_ws_close(gw->ws);
}

void
nym_gw_free(struct nym_gw *gw)
{
	struct gw_pkt *p, *n;
	if (!gw)
		return;
	gw->stopping = 1;
	if (gw->ws) {
		/* detach: the websocket may still report later */
		nym_ws_close(gw->ws);
		gw->ws->h.closed = NULL;
		gw->ws->h.message = NULL;
		gw->ws->h.open = NULL;
	}
	nym_timer_free(gw->retry);
	for (p = gw->qhead; p; p = n) {
		n = p->next;
		free(p);
	}
	free(gw->frame);
	nym_wipe(&gw->keys, sizeof gw->keys);
	nym_wipe(gw->key, sizeof gw->key);
	nym_gw_hs_wipe(&gw->hs, sizeof gw->hs);
	free(gw);
}
