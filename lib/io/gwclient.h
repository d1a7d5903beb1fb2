/* gwclient.h — the I/O layer under a gateway session: websockets over
 * libwebsockets, and the event loop a tool drives.
 *
 * Transport (struct nym_loop, nym_ws, nym_timer): ws:// and wss:// client
 * connections (OpenSSL, certificate and host name verified), websocket
 * servers on a unix socket (the control socket of nym-recv) and on TCP, ws://
 * or wss:// (nym-gateway's client port, nym-client's websocket API), plain
 * TCP servers (nym-client's 2019 TCP-socket API), one-shot timers.
 * Single-threaded: everything happens inside nym_loop_run(), which calls back
 * into the tool (nym_loop_wake alone may be called from another thread). Frames are whole messages: fragments are reassembled before a
 * callback sees them, and a queued frame is sent whole or the connection is
 * reported closed. The gateway session on top is io/gwsession.h.
 *
 * lib/ never prints: failures come back as NYM_E* codes plus, where words
 * help ("TLS: certificate verify failed"), a reason string in the callback. */
#ifndef NYM_GWCLIENT_H
#define NYM_GWCLIENT_H

#include <stddef.h>
#include <stdint.h>

struct nym_loop;
struct nym_ws;
struct nym_timer;

/* ---- event loop ---------------------------------------------------------- */

/* libwebsockets' own log levels (its LLL_* bits), for nym_loop_opts. */
#define NYM_LOOP_LOG_ERR 1
#define NYM_LOOP_LOG_WARN 2
#define NYM_LOOP_LOG_NOTICE 4
#define NYM_LOOP_LOG_INFO 8

struct nym_loop_opts {
	/* PEM bundle used to verify wss:// servers; NULL = the system bundle
	 * (the first of the usual Debian/Red Hat paths that exists). */
	const char *ca_file;
	/* libwebsockets' log: a mask of NYM_LOOP_LOG_* and the tool's function
	 * that gets each line (newline included). lib/ never prints, so lws is
	 * silent unless both are set. lws's log is process-wide: the last loop
	 * created sets it. */
	int lws_log;
	void (*lws_emit)(int level, const char *line);
};

/* o NULL = the system bundle, lws silent. */
int nym_loop_new(struct nym_loop **out, const struct nym_loop_opts *o);
/* Closes every connection (without callbacks) and frees the loop. */
void nym_loop_free(struct nym_loop *l);
/* Wait up to timeout_ms for network events or timers and dispatch them.
 * Returns 0, or a negative code if the loop is broken. */
int nym_loop_run(struct nym_loop *l, int timeout_ms);
/* Make a nym_loop_run() in progress return soon (safe from a callback, and
 * from another thread). */
void nym_loop_wake(struct nym_loop *l);
/* (Monotonic time: base/clock.h.) */

/* One-shot timer. nym_timer_set re-arms (cancelling a pending expiry). */
typedef void (*nym_timer_fn)(struct nym_timer *t, void *arg);
struct nym_timer *nym_timer_new(struct nym_loop *l, nym_timer_fn fn, void *arg);
void nym_timer_set(struct nym_timer *t, uint64_t delay_us);
void nym_timer_cancel(struct nym_timer *t);
int nym_timer_pending(const struct nym_timer *t);
void nym_timer_free(struct nym_timer *t);

/* ---- other file descriptors ---------------------------------------------- */
/* Any descriptor (a TCP socket a tool accepted or connected itself, a
 * listening socket, a pipe) on the same loop: the callback says it is
 * readable or writable; the tool reads and writes it. Read interest is level
 * (the callback comes while data waits), write interest too, until
 * nym_fd_want drops it. */
struct nym_fd;
#define NYM_FD_READ 1
#define NYM_FD_WRITE 2
/* The loop gave up the descriptor (hang-up or error seen by poll): the fd
 * is closed and f freed when the callback returns. */
#define NYM_FD_GONE 4
typedef void (*nym_fd_fn)(struct nym_fd *f, int events, void *arg);
/* Watch fd (made non-blocking) for `want` (NYM_FD_READ | NYM_FD_WRITE). The
 * watch owns fd from here on, also when it fails (the fd is then closed). */
int nym_fd_watch(struct nym_loop *l, int fd, int want, nym_fd_fn fn, void *arg,
    struct nym_fd **out);
void nym_fd_want(struct nym_fd *f, int want);
int nym_fd_get(const struct nym_fd *f);
/* Stop watching: no more callbacks; the fd is closed and f freed by the
 * loop (safe inside f's own callback). */
void nym_fd_close(struct nym_fd *f);

/* ---- websockets ---------------------------------------------------------- */

struct nym_ws_handler {
	/* The handshake completed (client) or a peer connected (server). */
	void (*open)(struct nym_ws *ws, void *arg);
	/* One whole message; binary = 1 for binary frames, 0 for text. */
	void (*message)(struct nym_ws *ws, int binary, const uint8_t *data, size_t len, void *arg);
	/* The connection is gone: err = 0 after a close we asked for, else
	 * NYM_ENET (refused, unreachable, dropped, TLS failure — why says which)
	 * or NYM_EFULL (a message above the size limit). unsent = frames still
	 * queued. ws is freed when this returns. */
	void (*closed)(struct nym_ws *ws, int err, const char *why, size_t unsent, void *arg);
	void *arg;
	/* Optional. A frame queued with a tag (nym_ws_send_tagged) was handed to
	 * the kernel. */
	void (*sent)(struct nym_ws *ws, uint64_t tag, void *arg);
	/* A pong arrived (the payload of the ping it answers). */
	void (*pong)(struct nym_ws *ws, const uint8_t *data, size_t len, void *arg);
	/* Optional, servers: asked when a peer's upgrade request has arrived,
	 * before the handshake is answered; non-zero refuses it with HTTP 503
	 * (no websocket is opened, open() is not called). */
	int (*admit)(void *arg);
};

/* Connect to url: "ws://host[:port][/path]", "wss://…" (IPv6 hosts in
 * brackets), or "unix:/path/to/socket" (a websocket over a unix socket).
 * The handler is copied. NYM_EINVAL for an unusable URL; network failures
 * arrive through closed(). */
int nym_ws_connect(struct nym_loop *l, const char *url, const struct nym_ws_handler *h,
    struct nym_ws **out);
/* Queue one message (copied). NYM_EINVAL once closing. */
int nym_ws_send(struct nym_ws *ws, int binary, const uint8_t *data, size_t len);
/* The same; tag != 0 is reported to the handler's sent() once the frame is
 * handed to the kernel (frames go in order). */
int nym_ws_send_tagged(struct nym_ws *ws, int binary, const uint8_t *data, size_t len,
    uint64_t tag);
/* Queue a ping with this payload (at most 125 bytes; NYM_EINVAL). */
int nym_ws_ping(struct nym_ws *ws, const uint8_t *data, size_t len);
/* Bytes queued and not yet handed to the kernel. */
size_t nym_ws_queued(const struct nym_ws *ws);
/* Close after the queue drains; closed(err = 0) follows. */
void nym_ws_close(struct nym_ws *ws);
/* Close at once, dropping what is queued; closed(err = 0) follows from
 * the loop. */
void nym_ws_abort(struct nym_ws *ws);
/* No more callbacks for this connection (its owner is going away); it
 * still closes and frees itself. */
void nym_ws_detach(struct nym_ws *ws);
/* Largest message accepted from the peer (default 64 MiB), for text and
 * binary messages alike or each. A peer that goes beyond is cut off at once:
 * closed(NYM_EFULL, "oversized text message (> N bytes)"). */
void nym_ws_set_max_message(struct nym_ws *ws, size_t max);
void nym_ws_set_limits(struct nym_ws *ws, size_t max_text, size_t max_binary);
/* The peer's address, as text ("?" before the connection is open); still
 * there in closed(). */
const char *nym_ws_peer(const struct nym_ws *ws);
/* Stop reading from the peer (paused = 1: the kernel's buffers fill and
 * TCP pushes back on it) or read again (0). */
void nym_ws_pause(struct nym_ws *ws, int paused);
/* A per-connection pointer for the handler's use (server side). */
void nym_ws_set_user(struct nym_ws *ws, void *user);
void *nym_ws_user(const struct nym_ws *ws);

/* Serve websockets on a unix socket at path, created mode 0600. A stale
 * socket file (nobody answering) is replaced; NYM_EEXIST if a live server
 * answers there. Each accepted connection gets the handler (open() first). */
int nym_ws_listen_unix(struct nym_loop *l, const char *path, const struct nym_ws_handler *h);
/* 1 if something accepts connections on the unix socket at path. */
int nym_unix_alive(const char *path);

/* Serve websockets on TCP (each accepted connection gets the handler, open()
 * first). A host is a numeric IPv4 or IPv6 address, bound exactly (no
 * fallback to another address); NULL or "" is every interface. TCP
 * keepalive after 60 s idle (3 probes, 10 s apart); 5 s for a connection to
 * finish its HTTP upgrade. max_conns > 0: at most that many connections at a
 * time; one more is shut as soon as it is accepted, before the handshake (as
 * the official nym-client does). NYM_EADDR for a host that is not a numeric
 * address, NYM_EINVAL for a bad port or a host longer than 255, NYM_EIO
 * (errno: EADDRINUSE, EADDRNOTAVAIL, EACCES ...) when the address cannot be
 * bound or the certificate/key is unusable. */
struct nym_ws_server {
	const char *host;          /* numeric address; NULL/"": all */
	int port;
	const char *cert, *key;    /* PEM files: wss://; NULL: ws:// */
	size_t max_text, max_binary; /* per message (0: the default) */
	unsigned ping_secs;        /* a ping after this long without traffic (0: none) */
	unsigned hangup_secs;      /* hang up after this long without traffic */
	int max_conns;             /* connections at a time (0: no limit) */
};
int nym_ws_listen(struct nym_loop *l, const struct nym_ws_server *srv, const struct nym_ws_handler *h);
/* Serve plain TCP the same way (nym-client tcpsocket): no HTTP, no frames.
 * Each connection is a struct nym_ws whose message() gets the bytes as they
 * arrive, in chunks of any size (binary = 1), and whose sends go out as
 * bytes; ping, the size limits and cert/key (NYM_EINVAL) do not apply. */
int nym_tcp_listen(struct nym_loop *l, const struct nym_ws_server *srv, const struct nym_ws_handler *h);

#endif
