/* gwclient.c — websockets and the event loop over libwebsockets.
 * See gwclient.h. One lws context per loop, explicit vhosts: one for client
 * connections (TLS client context with the CA bundle), one per server (unix
 * socket or TCP). Each connection is a struct nym_ws hung on the wsi user
 * pointer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "base/clock.h"
#include "base/err.h"
#include "io/gwclient.h"

#define NYM_WS_DEFAULT_MAX (64u << 20)

struct nym_frame {
	struct nym_frame *next;
	size_t len;
	enum lws_write_protocol mode; /* LWS_WRITE_TEXT, _BINARY or _PING */
	uint64_t tag;
	uint8_t buf[]; /* LWS_PRE bytes of headroom, then the message */
};

struct nym_listener {
	struct nym_listener *next;
	struct nym_ws_handler h;
	struct lws_vhost *vh;
	char path[108];            /* unix socket ("" for TCP) */
	char name[32], host[256];  /* TCP: vhost name and interface (lws keeps the pointers) */
	size_t max_text, max_binary;
	lws_retry_bo_t keepalive;
	int max_conns;             /* 0 = no limit */
	int live;                  /* connections established and not yet gone */
};

struct nym_loop {
	struct lws_context *ctx;
	struct lws_vhost *client_vh;
	struct nym_listener *listeners;
	lws_sorted_usec_list_t wake; /* bounds one nym_loop_run() */
	struct nym_ws *conns;        /* every live nym_ws, for nym_loop_free */
	struct lws_vhost *fd_vh;     /* other descriptors (nym_fd_watch) */
	struct nym_fd *fds;          /* every live nym_fd, for nym_loop_free */
	int broken, dying;
};

struct nym_fd {
	struct nym_loop *loop;
	struct nym_fd *next, *prev;
	struct lws *wsi;
	int fd, want, closing;
	nym_fd_fn fn;
	void *arg;
};

struct nym_ws {
	struct nym_loop *loop;
	struct nym_ws *next, *prev;
	struct lws *wsi;
	struct nym_ws_handler h;
	struct nym_listener *li; /* server side: the listener that accepted it */
	void *user;
	struct nym_frame *head, *tail;
	size_t queued, nframes;
	uint8_t *rx;
	size_t rx_len, rx_cap, max_text, max_binary;
	int rx_binary;
	int raw;                     /* plain TCP (nym_tcp_listen): bytes, no frames */
	int closing, aborted, opened, connecting, done;
	char peer[64];               /* the peer's address, once connected */
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
	if (ws->li)
		ws->li->live--;
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
	ws->max_text = ws->max_binary = NYM_WS_DEFAULT_MAX;
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
		ws->rx_binary = lws_frame_is_binary(wsi);
	}
	size_t max = ws->rx_binary ? ws->max_binary : ws->max_text;
	if (ws->rx_len + len > max) {
		char why[80];
		snprintf(why, sizeof why, "oversized %s message (> %zu bytes)",
		    ws->rx_binary ? "binary" : "text", max);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
		ws_report(ws, NYM_EFULL, why);
		return -1;
	}
	if (len) {
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
		int n = lws_write(wsi, f->buf + LWS_PRE, f->len, f->mode);
		if (n < 0 || (size_t)n < f->len) {
			ws_report(ws, NYM_ENET, "connection closed while sending");
			return -1;
		}
		ws->head = f->next;
		if (!ws->head)
			ws->tail = NULL;
		ws->queued -= f->len;
		ws->nframes--;
		if (f->tag && ws->h.sent)
			ws->h.sent(ws, f->tag, ws->h.arg);
		free(f);
	}
	if (ws->head) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (ws->closing) {
		if (!ws->raw)
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		ws_report(ws, 0, "closed");
		return -1;
	}
	return 0;
}

/* A server connection accepted (a websocket's handshake done, or a plain
 * TCP connection adopted). */
static int
ws_accept(struct lws *wsi, int raw)
{
	struct nym_listener *li = lws_vhost_user(lws_get_vhost(wsi));
	struct nym_loop *l = lws_context_user(lws_get_context(wsi));
	struct nym_ws *ws;
	if (!li || (li->max_conns && li->live >= li->max_conns))
		return -1; /* two got past the filter at once: the later one goes */
	if (!(ws = ws_new(l, &li->h)))
		return -1;
	if (li->max_text)
		ws->max_text = li->max_text;
	if (li->max_binary)
		ws->max_binary = li->max_binary;
	ws->raw = raw;
	ws->li = li;
	li->live++;
	ws->wsi = wsi;
	lws_get_peer_simple(wsi, ws->peer, sizeof ws->peer);
	ws->opened = 1;
	lws_set_wsi_user(wsi, ws);
	if (ws->h.open)
		ws->h.open(ws, ws->h.arg);
	if (!ws->done && ws->head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct nym_ws *ws = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return ws_accept(wsi, 0);
	case LWS_CALLBACK_RAW_ADOPT:
		return ws_accept(wsi, 1);
	case LWS_CALLBACK_RAW_RX:
		if (!ws)
			return -1;
		if (ws->h.message && len)
			ws->h.message(ws, 1, in, len, ws->h.arg);
		return 0;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (!ws)
			return -1;
		return ws_tx(ws, wsi);
	case LWS_CALLBACK_RAW_CLOSE:
		if (ws && ws->aborted)
			ws_report(ws, 0, "aborted");
		else if (ws)
			ws_report(ws, ws->closing && !ws->head ? 0 : NYM_ENET,
			    ws->head ? "connection closed with bytes unsent" : "connection closed by peer");
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		/* the upgrade request is in, the 101 not yet sent: the user may
		 * refuse it with a 503 instead of opening and closing at once */
		struct nym_listener *li = lws_vhost_user(lws_get_vhost(wsi));
		if (li && li->h.admit && li->h.admit(li->h.arg) != 0) {
			lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "busy, try again later");
			return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
		/* a connection over the limit is shut before its handshake */
		struct nym_listener *li = wsi ? lws_vhost_user(lws_get_vhost(wsi)) : NULL;
		return li && li->max_conns && li->live >= li->max_conns ? -1 : 0;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!ws)
			return -1;
		ws->opened = 1;
		lws_get_peer_simple(wsi, ws->peer, sizeof ws->peer);
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
	case LWS_CALLBACK_RECEIVE_PONG:
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		if (ws && ws->h.pong)
			ws->h.pong(ws, in, len, ws->h.arg);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!ws)
			return -1;
		return ws_tx(ws, wsi);
	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (ws && ws->aborted)
			ws_report(ws, 0, "aborted");
		else if (ws)
			ws_report(ws, ws->closing && !ws->head ? 0 : NYM_ENET,
			    ws->head ? "connection closed with frames unsent" : "connection closed by peer");
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (ws && ws->aborted)
			ws_report(ws, 0, "aborted");
		else if (ws && !ws->connecting)
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

static int
ws_queue(struct nym_ws *ws, enum lws_write_protocol mode, const uint8_t *data, size_t len,
    uint64_t tag)
{
	struct nym_frame *f;

	if (ws->closing || ws->done)
		return NYM_EINVAL;
	if (!(f = malloc(sizeof *f + LWS_PRE + len)))
		return NYM_ENOMEM;
	f->next = NULL;
	f->len = len;
	f->mode = mode;
	f->tag = tag;
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

static enum lws_write_protocol
ws_mode(const struct nym_ws *ws, int binary)
{
	return ws->raw ? LWS_WRITE_RAW : binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
}

int
nym_ws_send(struct nym_ws *ws, int binary, const uint8_t *data, size_t len)
{
	return ws_queue(ws, ws_mode(ws, binary), data, len, 0);
}

int
nym_ws_send_tagged(struct nym_ws *ws, int binary, const uint8_t *data, size_t len, uint64_t tag)
{
	return ws_queue(ws, ws_mode(ws, binary), data, len, tag);
}

void
nym_ws_pause(struct nym_ws *ws, int paused)
{
	if (ws->wsi && !ws->done)
		lws_rx_flow_control(ws->wsi, !paused);
}

int
nym_ws_ping(struct nym_ws *ws, const uint8_t *data, size_t len)
{
	if (len > 125 || ws->raw)
		return NYM_EINVAL;
	return ws_queue(ws, LWS_WRITE_PING, data, len, 0);
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
nym_ws_abort(struct nym_ws *ws)
{
	if (ws->done || ws->aborted)
		return;
	if (!ws->opened || !ws->wsi) {
		nym_ws_close(ws);
		return;
	}
	ws->closing = ws->aborted = 1;
	lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void
nym_ws_detach(struct nym_ws *ws)
{
	ws->h.open = NULL;
	ws->h.message = NULL;
	ws->h.closed = NULL;
}

void
nym_ws_set_max_message(struct nym_ws *ws, size_t max)
{
	ws->max_text = ws->max_binary = max;
}

void
nym_ws_set_limits(struct nym_ws *ws, size_t max_text, size_t max_binary)
{
	ws->max_text = max_text;
	ws->max_binary = max_binary;
}

const char *
nym_ws_peer(const struct nym_ws *ws)
{
	return ws->peer[0] ? ws->peer : "?";
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

/* Bind host:port once and let go: whether nym_ws_listen can have exactly that
 * address. NYM_EADDR: not a numeric IPv4/IPv6 address; NYM_EIO with errno
 * (EADDRINUSE, EADDRNOTAVAIL, EACCES ...). *v6: an IPv6 address. */
static int
bind_check(const char *host, int port, int *v6)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		sl = sizeof *in4;
		*v6 = 0;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof *in6;
		*v6 = 1;
	} else
		return NYM_EADDR;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NYM_EIO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (*v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return NYM_EIO;
	}
	close(fd);
	return 0;
}

/* ---- TCP server ---------------------------------------------------------- */

static int
listen_tcp(struct nym_loop *l, const struct nym_ws_server *srv, const struct nym_ws_handler *h,
    int raw)
{
	struct lws_context_creation_info vi;
	struct nym_listener *li;
	int v6 = 0, e;

	if (srv->port < 1 || srv->port > 65535 || (srv->host && strlen(srv->host) >= sizeof li->host))
		return NYM_EINVAL;
	/* a given address is bound exactly or not at all: lws would fall back
	 * to all interfaces, or only log, so try the bind here first */
	if (srv->host && *srv->host && (e = bind_check(srv->host, srv->port, &v6)) < 0)
		return e;
	if (!(li = calloc(1, sizeof *li)))
		return NYM_ENOMEM;
	li->h = *h;
	li->max_text = srv->max_text;
	li->max_binary = srv->max_binary;
	li->max_conns = srv->max_conns > 0 ? srv->max_conns : 0;
	li->keepalive.secs_since_valid_ping = (uint16_t)srv->ping_secs;
	li->keepalive.secs_since_valid_hangup = (uint16_t)srv->hangup_secs;
	snprintf(li->name, sizeof li->name, "%s-%d", raw ? "raw" : "tcp", srv->port);
	snprintf(li->host, sizeof li->host, "%s", srv->host ? srv->host : "");
	memset(&vi, 0, sizeof vi);
	vi.vhost_name = li->name;
	vi.port = srv->port;
	vi.iface = li->host[0] ? li->host : NULL;
	vi.protocols = ws_protocols;
	vi.ssl_cert_filepath = srv->cert;
	vi.ssl_private_key_filepath = srv->key;
	vi.options = srv->cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	if (li->host[0])
		vi.options |= LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		    (v6 ? LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE
		        : LWS_SERVER_OPTION_DISABLE_IPV6);
	if (raw) {
		/* accepted sockets go straight to the raw role: no HTTP, no frames */
		vi.options |= LWS_SERVER_OPTION_ADOPT_APPLY_LISTEN_ACCEPT_CONFIG;
		vi.listen_accept_role = "raw-skt";
		vi.listen_accept_protocol = ws_protocols[0].name;
	}
	vi.retry_and_idle_policy = srv->ping_secs ? &li->keepalive : NULL;
	vi.timeout_secs = 5;
	vi.ka_time = 60;
	vi.ka_probes = 3;
	vi.ka_interval = 10;
	vi.user = li;
	if (!(li->vh = lws_create_vhost(l->ctx, &vi))) {
		free(li);
		errno = EADDRNOTAVAIL;
		return NYM_EIO;
	}
	li->next = l->listeners;
	l->listeners = li;
	return 0;
}

int
nym_ws_listen(struct nym_loop *l, const struct nym_ws_server *srv, const struct nym_ws_handler *h)
{
	return listen_tcp(l, srv, h, 0);
}

int
nym_tcp_listen(struct nym_loop *l, const struct nym_ws_server *srv, const struct nym_ws_handler *h)
{
	if (srv->cert)
		return NYM_EINVAL;
	return listen_tcp(l, srv, h, 1);
}

/* ---- other file descriptors: lws raw-file wsis ---------------------------- */

static void
fd_unlink_free(struct nym_fd *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		f->loop->fds = f->next;
	if (f->next)
		f->next->prev = f->prev;
	free(f);
}

static int
fd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct nym_fd *f = lws_get_opaque_user_data(wsi);
	(void)user, (void)in, (void)len;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (!f || f->closing)
			return f ? -1 : 0;
		if (f->want & NYM_FD_READ)
			f->fn(f, NYM_FD_READ, f->arg);
		return f->closing ? -1 : 0;
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (!f || f->closing)
			return f ? -1 : 0;
		if (f->want & NYM_FD_WRITE)
			f->fn(f, NYM_FD_WRITE, f->arg);
		if (f->closing)
			return -1;
		if (f->want & NYM_FD_WRITE)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (!f)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		if (!f->closing && !f->loop->dying)
			f->fn(f, NYM_FD_GONE, f->arg);
		fd_unlink_free(f);
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols fd_protocols[] = {
	{"nym-fd", fd_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

int
nym_fd_watch(struct nym_loop *l, int fd, int want, nym_fd_fn fn, void *arg,
    struct nym_fd **out)
{
	lws_sock_file_fd_type d;
	struct nym_fd *f;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || !(f = calloc(1, sizeof *f))) {
		close(fd);
		return fl < 0 ? NYM_EIO : NYM_ENOMEM;
	}
	f->loop = l;
	f->fd = fd;
	f->fn = fn;
	f->arg = arg;
	f->want = want;
	f->next = l->fds;
	if (l->fds)
		l->fds->prev = f;
	l->fds = f;
	d.filefd = fd;
	if (!(f->wsi = lws_adopt_descriptor_vhost(l->fd_vh, LWS_ADOPT_RAW_FILE_DESC, d, "nym-fd",
	    NULL))) {
		/* lws closed the descriptor already */
		fd_unlink_free(f);
		return NYM_EIO;
	}
	lws_set_opaque_user_data(f->wsi, f);
	nym_fd_want(f, want);
	*out = f;
	return 0;
}

void
nym_fd_want(struct nym_fd *f, int want)
{
	if (f->closing)
		return;
	if ((want ^ f->want) & NYM_FD_READ || !(want & NYM_FD_READ))
		lws_rx_flow_control(f->wsi, want & NYM_FD_READ ? 1 : 0);
	f->want = want;
	if (want & NYM_FD_WRITE)
		lws_callback_on_writable(f->wsi);
}

int
nym_fd_get(const struct nym_fd *f)
{
	return f->fd;
}

void
nym_fd_close(struct nym_fd *f)
{
	if (!f || f->closing)
		return;
	f->closing = 1;
	f->want = 0;
	lws_set_timeout(f->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
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
nym_loop_new(struct nym_loop **out, const struct nym_loop_opts *o)
{
	static const struct nym_loop_opts none = { 0 };
	struct lws_context_creation_info ci;
	struct nym_loop *l;

	_Static_assert(NYM_LOOP_LOG_ERR == LLL_ERR && NYM_LOOP_LOG_WARN == LLL_WARN &&
	               NYM_LOOP_LOG_NOTICE == LLL_NOTICE && NYM_LOOP_LOG_INFO == LLL_INFO,
	               "NYM_LOOP_LOG_* are lws's LLL_* bits");
	if (!o)
		o = &none;
	if (!(l = calloc(1, sizeof *l)))
		return NYM_ENOMEM;
	/* lws logs to stderr by default; lib/ does not print: only the tool's emit */
	lws_set_log_level(o->lws_emit ? o->lws_log : 0, o->lws_emit);
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
	ci.client_ssl_ca_filepath = o->ca_file ? o->ca_file : default_ca();
	if (!(l->client_vh = lws_create_vhost(l->ctx, &ci))) {
		lws_context_destroy(l->ctx);
		free(l);
		return NYM_EIO;
	}
	memset(&ci, 0, sizeof ci);
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = fd_protocols;
	ci.vhost_name = "nym-fd";
	if (!(l->fd_vh = lws_create_vhost(l->ctx, &ci))) {
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
	l->dying = 1;
	lws_context_destroy(l->ctx);
	while (l->conns)
		ws_free(l->conns);
	while (l->fds)
		fd_unlink_free(l->fds);
	for (li = l->listeners; li; li = n) {
		n = li->next;
		if (li->path[0])
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
