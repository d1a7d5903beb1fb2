/* nym-gateway — a Nym gateway: the client websocket endpoint (gateway
 * protocol v6, doc/spec/gateway.md) and the mixnet final hop, on one event loop.
 *
 * Clients register or authenticate over ws:// (or wss:// with --cert/--key),
 * claim free bandwidth and send ForwardSphinx frames; their MixPackets go to
 * the first hop over TCP (node-link framing). Packets from the mixnet arrive
 * on the mix port: the gateway unwraps the last Sphinx layer, sends the
 * SURB-ack back into the mixnet at once, and pushes the payload to its client
 * or, while the client is away, keeps it in the SQLite inbox until the
 * client authenticates again. */
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>

#include "base/codec.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "io/inbox.h"
#include "io/keyfile.h"
#include "io/mixer.h"
#include "io/netio.h"
#include "proto/ack.h"
#include "proto/framing.h"
#include "proto/gwproto.h"
#include "proto/packet.h"
#include "proto/sphinx.h"
#include "tool.h"

static const char usage_text[] =
	"Usage: nym-gateway [--id NAME | --keys DIR] [--listen [HOST:]PORT] [--mix-listen [HOST:]PORT]\n"
	"                   [--inbox FILE] [--cert FILE --key FILE] [--topology FILE]\n"
	"                   [--stats SECONDS] [--log LEVEL] [--capture DIR]\n"
	"\n"
	"Run a Nym gateway: the client websocket endpoint (gateway protocol v6) and\n"
	"the mixnet's final hop, with an inbox for clients that are offline.\n"
	"\n"
	"  -i, --id NAME          node keys of NAME (made by nym-keygen --node --id NAME;\n"
	"                         default $NYMNODE_ID, else 'default-nym-node')\n"
	"  -k, --keys DIR         node key directory (alias --identity, --dir)\n"
	"  -l, --listen ADDR      client websocket address (default 0.0.0.0:9000)\n"
	"  -m, --mix-listen ADDR  mix port for packets from mix nodes (default 0.0.0.0:1789)\n"
	"  -b, --inbox FILE       SQLite database of client keys and stored messages\n"
	"                         (default DIR/gateway_inbox.sqlite)\n"
	"  -c, --cert FILE        TLS certificate (PEM): serve wss:// instead of ws://\n"
	"  -K, --key FILE         TLS private key (PEM) for --cert\n"
	"  -t, --topology FILE    forward only to mix_host addresses listed in this\n"
	"                         topology (nym-topology --json); default: any address\n"
	"  -s, --stats SECONDS    print one JSON line of counters every SECONDS on stdout\n"
	"  -L, --log LEVEL        error, info (default) or debug, on stderr\n"
	"  -C, --capture DIR      save each Sphinx packet clients send as DIR/pkt-NNNNNN.bin,\n"
	"                         indexed in DIR/packets.jsonl (for tests)\n"
	"  -h, --help             this text\n"
	"  -V, --version          the version\n";

/* Policy numbers. */
#define FRESH_TIMEOUT 10          /* s per message before authentication */
#define HS_TIMEOUT 5              /* s per handshake message */
#define DUP_PING_MS 1000          /* duplicate-connection liveness wait */
#define MAX_TEXT (256 * 1024)     /* largest text message accepted */
#define MAX_BINARY (40 * 1024)    /* largest binary message (extended32 + overhead) */
#define CONN_QUEUE_MAX (1u << 20) /* bytes queued to one client before we stop */
#define PEER_QUEUE_MAX 2000       /* packets queued to one next hop */
#define INBOX_BATCH 100
#define INBOX_MAX_AGE 86400       /* s, stored messages are purged after this */
#define MIX_BUF (NYM_PACKET_MAX_LEN + NYM_FRAME_HEADER_MAX)

enum { LOG_ERR = 0, LOG_INFO = 1, LOG_DEBUG = 2 };
static int log_level = LOG_INFO;
#define logf(lvl, ...) do { if ((lvl) <= log_level) warnx(__VA_ARGS__); } while (0)

/* ---- state ---------------------------------------------------------------- */

struct frame {
	struct frame *next;
	int kind;             /* 0 text, 1 binary push (sealed at write time), 2 ping */
	int64_t inbox_id;     /* > 0: delete from the inbox once written */
	size_t len;
	uint8_t data[];       /* text, or push plaintext */
};

enum { C_FRESH, C_HS, C_DUP_WAIT, C_AUTH, C_CLOSING };

struct conn {
	struct lws *wsi;
	struct gw *g;
	int state;
	char peer[64];
	/* receive assembly */
	uint8_t *rx;
	size_t rx_len, rx_cap;
	int rx_binary, rx_skip;
	/* handshake */
	struct nym_gw_hs_gateway hs;
	uint8_t version;
	/* authenticated */
	uint8_t client[32];
	char client_b58[NYM_B58_KEY_MAX];
	uint8_t key[32];
	struct nym_gw_bandwidth bw;
	int bw_dirty;
	uint64_t pending_ts;              /* authenticateV2 waiting on a duplicate */
	struct conn *dup_old, *dup_new;   /* the two sides of a duplicate check */
	uint8_t ping_payload[8];
	int ping_wanted;
	lws_sorted_usec_list_t dup_sul;
	/* inbox delivery */
	int64_t inbox_after;
	int inbox_more;
	/* output */
	struct frame *q_head, *q_tail;
	size_t q_bytes;
	struct conn *hnext;               /* session table chain */
	int in_table;
};

/* A packet on its way from the websocket thread to the mix thread. */
struct fwd {
	struct fwd *next;
	struct nym_netio_addr to;
	size_t hl, len;
	uint8_t data[];           /* frame header (hl) || packet */
};

/* A final-hop payload on its way from the mix thread to a client. */
struct push {
	struct push *next;
	uint8_t client[32];
	size_t len;
	uint8_t data[];
};

#define NBUCKETS 4096
#define REPLAY_WINDOW (1u << 16)  /* a replay of any of the last this many final-hop packets is caught */
#define FWD_QUEUE_MAX 20000

/* Counters of the mix thread (written there, read for --stats). */
struct mix_stats {
	uint64_t final_received, acks_forwarded, dropped_mac, dropped_replay, dropped_not_final,
		dropped_malformed, dropped_queue;
	struct nym_netio_stats io;
};

/* The mix side runs in a thread of its own on lib/netio: the mix port
 * (final-hop packets in), and connections to next hops (client packets and
 * SURB-acks out). Sphinx work happens there, off the websocket loop. */
struct mixside {
	struct nym_netio *io;
	pthread_t th;
	int efd;                  /* eventfd: fwd queue not empty */
	pthread_mutex_t mu;       /* guards fq, pq, snap */
	struct fwd *fq_head, *fq_tail;
	size_t fq_n;
	struct push *pq_head, *pq_tail;
	struct mix_stats st, snap;
	struct nym_sphinx_ctx sphinx;
	struct nym_mixer_replay replay; /* final-hop replay tags */
	uint8_t pkt[MIX_BUF];
	struct gw *g;
};

struct gw {
	struct lws_context *ctx;
	struct lws_vhost *ws_vh;
	struct nym_node_keys keys;
	uint8_t secondary[32];    /* previous rotation's sphinx key, if kept */
	int has_secondary;
	struct nym_inbox *inbox;
	struct nym_rng rng;
	struct conn *table[NBUCKETS];
	struct mixside mx;
	char **allowed;           /* --topology: allowed "host:port" next hops */
	size_t n_allowed;
	int stats_secs;
	lws_sorted_usec_list_t stats_sul, purge_sul;
	uint8_t *seal_buf;        /* scratch for sealing pushes */
	const char *capture;      /* --capture DIR, or NULL */
	uint64_t captured;
	struct {
		uint64_t connections, connected, registered, authenticated, auth_failed,
			forwarded, send_errors, pushed, stored, inbox_delivered, dropped_no_route,
			dropped_queue, hostile_closed;
	} st;
};

static volatile sig_atomic_t stopping;
static struct lws_context *sig_ctx;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	if (sig_ctx)
		lws_cancel_service(sig_ctx);
}

static uint64_t
now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- session table: authenticated connections by client address ---------- */

static unsigned
bucket(const uint8_t a[32])
{
	return ((unsigned)a[0] | (unsigned)a[1] << 8) % NBUCKETS;
}

static struct conn *
session_find(struct gw *g, const uint8_t a[32])
{
	for (struct conn *c = g->table[bucket(a)]; c; c = c->hnext)
		if (memcmp(c->client, a, 32) == 0)
			return c;
	return NULL;
}

static void
session_add(struct gw *g, struct conn *c)
{
	unsigned b = bucket(c->client);
	c->hnext = g->table[b];
	g->table[b] = c;
	c->in_table = 1;
}

static void
session_remove(struct gw *g, struct conn *c)
{
	if (!c->in_table)
		return;
	for (struct conn **p = &g->table[bucket(c->client)]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	c->in_table = 0;
}

/* ---- client output queue ------------------------------------------------------ */

static struct frame *
frame_new(int kind, const void *data, size_t len, int64_t inbox_id)
{
	struct frame *f = malloc(sizeof *f + LWS_PRE + len + NYM_GW_BIN_OVERHEAD);
	if (!f)
		return NULL;
	f->next = NULL;
	f->kind = kind;
	f->inbox_id = inbox_id;
	f->len = len;
	if (len)
		memcpy(f->data, data, len);
	return f;
}

static int
conn_enqueue(struct conn *c, struct frame *f)
{
	if (!f)
		return NYM_ENOMEM;
	if (c->q_tail)
		c->q_tail->next = f;
	else
		c->q_head = f;
	c->q_tail = f;
	c->q_bytes += f->len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

/* A text reply. A client that lets its replies pile up is cut off. */
static void
send_text(struct conn *c, const char *s, size_t len)
{
	if (c->q_bytes + len > CONN_QUEUE_MAX) {
		logf(LOG_INFO, "%s: client does not read its replies; closing", c->peer);
		c->state = C_CLOSING;
		lws_callback_on_writable(c->wsi);
		return;
	}
	conn_enqueue(c, frame_new(0, s, len, 0));
}

static void
send_msg(struct conn *c, const struct nym_gw_msg *m)
{
	char *s;
	size_t n;
	if (nym_gw_msg_encode(m, &s, &n) == 0) {
		send_text(c, s, n);
		free(s);
	}
}

static void
send_error(struct conn *c, const char *message)
{
	struct nym_gw_msg m = {.type = NYM_GW_RESP_ERROR, .text = (char *)message};
	send_msg(c, &m);
}

/* Error, then close once it is written (FRESH-state failures). */
static void
fail_conn(struct conn *c, const char *message)
{
	logf(LOG_INFO, "%s: %s", c->peer, message);
	send_error(c, message);
	c->state = C_CLOSING;
	lws_callback_on_writable(c->wsi);
}

/* ---- inbox delivery ----------------------------------------------------------- */

static void
store_for_later(struct gw *g, const uint8_t client[32], const uint8_t *msg, size_t len)
{
	int rc = nym_inbox_store(g->inbox, client, msg, len, now_s(), NULL);
	if (rc)
		logf(LOG_ERR, "inbox: cannot store a message: %s", nym_inbox_errmsg(g->inbox));
	else
		g->st.stored++;
}

/* Queue the next batch of stored messages; each is deleted once written. */
static void
inbox_queue_batch(struct conn *c)
{
	struct nym_inbox_msg m[INBOX_BATCH];
	int n = nym_inbox_fetch(c->g->inbox, c->client, c->inbox_after, m, INBOX_BATCH);

	c->inbox_more = 0;
	if (n < 0) {
		logf(LOG_ERR, "inbox: cannot read messages: %s", nym_inbox_errmsg(c->g->inbox));
		return;
	}
	for (int i = 0; i < n; i++) {
		conn_enqueue(c, frame_new(1, m[i].data, m[i].len, m[i].id));
		c->inbox_after = m[i].id;
	}
	c->inbox_more = n == INBOX_BATCH;
	nym_inbox_msgs_free(m, n);
}

/* A final-hop payload for a client: push it, or keep it for later. */
static void
deliver(struct gw *g, const uint8_t client[32], const uint8_t *msg, size_t len)
{
	struct conn *c = session_find(g, client);
	if (c && c->state == C_AUTH && c->q_bytes + len <= CONN_QUEUE_MAX &&
	    conn_enqueue(c, frame_new(1, msg, len, 0)) == 0) {
		g->st.pushed++;
		return;
	}
	store_for_later(g, client, msg, len);
}

/* ---- forwarding to mix nodes ---------------------------------------------------- */

static int
hop_addr(struct nym_netio_addr *a, const uint8_t *hop, size_t hop_len)
{
	struct nym_node_addr na;
	int e = nym_node_addr_decode(&na, hop, hop_len);

	return e < 0 ? e : nym_netio_addr_from_ip(a, na.ip, na.family == 4 ? 4 : 16, na.port);
}

static int
hop_allowed(struct gw *g, const struct nym_netio_addr *a)
{
	char name[64];
	static char last_refused[64];

	if (!g->allowed)
		return 1;
	nym_netio_addr_format(name, a);
	for (size_t i = 0; i < g->n_allowed; i++)
		if (strcmp(g->allowed[i], name) == 0)
			return 1;
	if (strcmp(last_refused, name)) { /* one line per new offender */
		logf(LOG_INFO, "next hop %s is not in the topology: packet dropped", name);
		snprintf(last_refused, sizeof last_refused, "%s", name);
	}
	return 0;
}

/* --capture: the Sphinx packet as the client sent it, for offline peeling
 * (nym-sphinx-wrap --unwrap); a test aid, so a failure only logs. */
static void
capture_packet(struct gw *g, const char *client, uint8_t kind, const struct nym_mix_packet *mp)
{
	char path[4200], hop[64] = "?";
	struct nym_netio_addr a;
	FILE *f;
	uint64_t n = ++g->captured;
	int short_write;

	if (hop_addr(&a, mp->next_hop, mp->next_hop_len) == 0)
		nym_netio_addr_format(hop, &a);
	snprintf(path, sizeof path, "%s/pkt-%06" PRIu64 ".bin", g->capture, n);
	if (!(f = fopen(path, "wb")))
		goto fail;
	/* Close in any case; either failing loses the packet. */
	short_write = fwrite(mp->packet, 1, mp->packet_len, f) != mp->packet_len;
	if (fclose(f) != 0 || short_write)
		goto fail;
	snprintf(path, sizeof path, "%s/packets.jsonl", g->capture);
	if (!(f = fopen(path, "a")))
		goto fail;
	short_write = fprintf(f, "{\"n\":%" PRIu64 ",\"file\":\"pkt-%06" PRIu64 ".bin\",\"client\":\"%s\","
	                      "\"request_kind\":%u,\"packet_type\":%u,\"key_rotation\":%u,\"next_hop\":\"%s\","
	                      "\"sphinx_len\":%zu}\n",
	                      n, n, client, kind, mp->packet_type, mp->key_rotation, hop, mp->packet_len) < 0;
	if (fclose(f) != 0 || short_write)
		goto fail;
	return;
fail:
	logf(LOG_ERR, "%s: cannot write the captured packet: %s", path, strerror(errno));
}

/* Websocket thread: hand one client packet to the mix thread. */
static int
forward_packet(struct gw *g, const uint8_t *hop, size_t hop_len, uint8_t frame_version,
               uint8_t packet_type, uint8_t rotation, const uint8_t *pkt, size_t len)
{
	struct mixside *mx = &g->mx;
	uint8_t hdr[NYM_FRAME_HEADER_MAX];
	int hl = nym_frame_header_write(hdr, frame_version, len, packet_type, rotation);
	struct nym_netio_addr to;
	struct fwd *f;
	uint64_t one = 1;

	if (hl < 0)
		return hl;
	if (hop_addr(&to, hop, hop_len) != 0)
		return NYM_EADDR;
	if (!hop_allowed(g, &to)) {
		g->st.dropped_no_route++;
		return NYM_EROUTE;
	}
	if (!(f = malloc(sizeof *f + (size_t)hl + len)))
		return NYM_ENOMEM;
	f->next = NULL;
	f->to = to;
	f->hl = (size_t)hl;
	f->len = (size_t)hl + len;
	memcpy(f->data, hdr, (size_t)hl);
	memcpy(f->data + hl, pkt, len);
	pthread_mutex_lock(&mx->mu);
	if (mx->fq_n >= FWD_QUEUE_MAX) {
		pthread_mutex_unlock(&mx->mu);
		free(f);
		g->st.dropped_queue++;
		return NYM_EFULL;
	}
	if (mx->fq_tail)
		mx->fq_tail->next = f;
	else
		mx->fq_head = f;
	mx->fq_tail = f;
	mx->fq_n++;
	pthread_mutex_unlock(&mx->mu);
	if (write(mx->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		return NYM_EIO;
	return 0;
}

/* Mix thread: the fwd queue has packets. */
static void
mix_drain_fwd(void *ctx)
{
	struct mixside *mx = ctx;
	struct fwd *f, *n;
	uint64_t v;

	if (read(mx->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&mx->mu);
	f = mx->fq_head;
	mx->fq_head = mx->fq_tail = NULL;
	mx->fq_n = 0;
	pthread_mutex_unlock(&mx->mu);
	for (; f; f = n) {
		n = f->next;
		if (nym_netio_send(mx->io, &f->to, f->data, f->hl, f->data + f->hl, f->len - f->hl) != 0)
			mx->st.dropped_queue++;
		free(f);
	}
}

/* ---- final hop: packets from mix nodes (mix thread) -------------------------------- */

/* Mix thread: a payload for a client goes to the websocket thread. */
static void
mix_push(struct mixside *mx, const uint8_t client[32], const uint8_t *msg, size_t len)
{
	struct push *p = malloc(sizeof *p + len);
	if (!p) {
		mx->st.dropped_queue++;
		return;
	}
	p->next = NULL;
	memcpy(p->client, client, 32);
	p->len = len;
	memcpy(p->data, msg, len);
	pthread_mutex_lock(&mx->mu);
	if (mx->pq_tail)
		mx->pq_tail->next = p;
	else
		mx->pq_head = p;
	mx->pq_tail = p;
	pthread_mutex_unlock(&mx->mu);
	lws_cancel_service(mx->g->ctx);
}

static void
mix_on_frame(void *ctx, const struct nym_netio_addr *from, const uint8_t *frame, size_t len)
{
	struct mixside *mx = ctx;
	struct nym_frame_header h;
	struct nym_sphinx_processed pr;
	struct nym_mix_packet ack;
	const uint8_t *push;
	size_t mlen, plen, push_len;
	uint8_t *pkt = mx->pkt;
	int rc;

	(void)from;
	mx->st.final_received++;
	if (nym_frame_need(&h, frame, len) != (long)len || h.packet_type != NYM_PACKET_TYPE_MIX ||
	    h.packet_len > sizeof mx->pkt) {
		mx->st.dropped_malformed++;
		return;
	}
	plen = h.packet_len;
	memcpy(pkt, frame + h.header_len, plen);
	/* Key rotation as nym-node: Odd/Even pick the key of that parity, Unknown
	 * (and v7) tries the primary, then the secondary. A wrong key fails the
	 * MAC and leaves the packet untouched. */
	const struct nym_node_keys *k = &mx->g->keys;
	const uint8_t *first = k->sphinx_sk, *second = mx->g->has_secondary ? mx->g->secondary : NULL;
	if (h.key_rotation != NYM_ROTATION_UNKNOWN) {
		int want_odd = h.key_rotation == NYM_ROTATION_ODD;
		if ((int)(k->sphinx_rotation & 1) != want_odd)
			first = second;
		second = NULL;
	}
	rc = first ? nym_sphinx_process(&mx->sphinx, pkt, plen, first, &pr) : NYM_EMAC;
	if (rc == NYM_EMAC && second)
		rc = nym_sphinx_process(&mx->sphinx, pkt, plen, second, &pr);
	if (rc) {
		if (rc == NYM_EMAC)
			mx->st.dropped_mac++;
		else
			mx->st.dropped_malformed++;
		return;
	}
	if (nym_mixer_replay_check_set(&mx->replay, pr.replay_tag) == NYM_EREPLAY) {
		mx->st.dropped_replay++;
		return;
	}
	if (!pr.final) {
		mx->st.dropped_not_final++;
		return;
	}
	uint8_t *msg = pkt + pr.payload_off;
	if (nym_sphinx_unpad(msg, pr.payload_len, &mlen) != 0) {
		mx->st.dropped_malformed++;
		return;
	}
	msg += 16;
	if (h.size_tag == NYM_SIZE_ACK) { /* an ack carries no SURB-ack: all of it goes */
		mix_push(mx, pr.destination, msg, mlen);
		return;
	}
	/* SURB-ack: back into the mixnet at once, with the carrier's type and rotation. */
	if (nym_ack_block_split(&ack, &push, &push_len, msg, mlen) != 0) {
		mx->st.dropped_malformed++;
		return;
	}
	struct nym_netio_addr to;
	uint8_t hdr[NYM_FRAME_HEADER_MAX];
	int hl = nym_frame_header_write(hdr, h.version, ack.packet_len, h.packet_type, h.key_rotation);
	if (hl > 0 && hop_addr(&to, ack.next_hop, ack.next_hop_len) == 0 &&
	    nym_netio_send(mx->io, &to, hdr, (size_t)hl, ack.packet, ack.packet_len) == 0)
		mx->st.acks_forwarded++;
	else
		mx->st.dropped_queue++;
	mix_push(mx, pr.destination, push, push_len);
}

static void
mix_on_event(void *ctx, const struct nym_netio_event *ev)
{
	char a[64];
	(void)ctx;
	nym_netio_addr_format(a, ev->addr);
	switch (ev->kind) {
	case NYM_NETIO_EV_REJECTED: logf(LOG_INFO, "mix port: %s refused: too many connections", a); break;
	case NYM_NETIO_EV_BAD_FRAME: logf(LOG_INFO, "mix port: %s sent a bad frame (%s); dropped", a, nym_strerror(ev->err)); break;
	case NYM_NETIO_EV_OVERSIZED: logf(LOG_INFO, "mix port: %s sent an oversized frame; dropped", a); break;
	case NYM_NETIO_EV_STALLED: logf(LOG_INFO, "mix port: %s left a frame unfinished; dropped", a); break;
	case NYM_NETIO_EV_READ_ERROR: logf(LOG_DEBUG, "mix port: %s: %s", a, strerror(ev->err)); break;
	case NYM_NETIO_EV_PEER_UP: logf(LOG_DEBUG, "next hop %s: connected", a); break;
	case NYM_NETIO_EV_PEER_DOWN: logf(ev->backoff_ms <= 100 ? LOG_INFO : LOG_DEBUG, "next hop %s: %s; retrying in %u ms", a, strerror(ev->err), ev->backoff_ms); break;
	case NYM_NETIO_EV_QUEUE_FULL: logf(LOG_INFO, "next hop %s: queue full, %" PRIu64 " packets dropped", a, ev->count); break;
	case NYM_NETIO_EV_TOO_MANY_PEERS: logf(LOG_INFO, "next hop %s: too many next hops; dropped", a); break;
	}
}

static void *
mix_thread(void *arg)
{
	struct mixside *mx = arg;
	while (!stopping) {
		if (nym_netio_run(mx->io, 200) < 0 && errno != EINTR) {
			logf(LOG_ERR, "mix side: event loop failed: %s", strerror(errno));
			break;
		}
		pthread_mutex_lock(&mx->mu);
		mx->snap = mx->st;
		nym_netio_stats(mx->io, &mx->snap.io);
		pthread_mutex_unlock(&mx->mu);
	}
	return NULL;
}

/* Websocket thread: payloads from the mix thread reach their clients. */
static void deliver(struct gw *g, const uint8_t client[32], const uint8_t *msg, size_t len);
static void
drain_pushes(struct gw *g)
{
	struct push *p, *n;
	pthread_mutex_lock(&g->mx.mu);
	p = g->mx.pq_head;
	g->mx.pq_head = g->mx.pq_tail = NULL;
	pthread_mutex_unlock(&g->mx.mu);
	for (; p; p = n) {
		n = p->next;
		deliver(g, p->client, p->data, p->len);
		free(p);
	}
}

/* ---- client requests ---------------------------------------------------------------- */

static void
persist_bandwidth(struct conn *c)
{
	if (c->bw_dirty && nym_inbox_client_set_bandwidth(c->g->inbox, c->client, c->bw.remaining,
	                                                  c->bw.day) == 0)
		c->bw_dirty = 0;
}

/* Authenticated from now on: table, stored messages, then the reply. */
static void
become_authenticated(struct conn *c, struct nym_gw_msg *reply)
{
	struct nym_inbox_client ic;

	c->state = C_AUTH;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	nym_base58_encode(c->client_b58, sizeof c->client_b58, c->client, 32);
	if (nym_inbox_client_get(c->g->inbox, c->client, &ic) == 0) {
		c->bw.remaining = ic.bandwidth;
		c->bw.day = ic.bandwidth_day;
		nym_wipe(&ic, sizeof ic);
	}
	if (reply->type == NYM_GW_RESP_AUTHENTICATE)
		reply->bandwidth = nym_gw_bandwidth_available(&c->bw, now_s());
	session_add(c->g, c);
	c->inbox_after = 0;
	inbox_queue_batch(c);
	send_msg(c, reply);
}

static void
finish_authenticate(struct conn *c)
{
	struct nym_gw_msg r = {.type = NYM_GW_RESP_AUTHENTICATE, .version = c->version, .status = 1};

	if (nym_inbox_client_set_auth_ts(c->g->inbox, c->client, c->pending_ts) != 0) {
		fail_conn(c, "internal storage failure");
		return;
	}
	c->g->st.authenticated++;
	become_authenticated(c, &r);
	logf(LOG_INFO, "%s: client %s authenticated (v%u)", c->peer, c->client_b58, c->version);
}

static void
dup_resolved(struct conn *old, struct conn *nw, int old_alive)
{
	lws_sul_cancel(&nw->dup_sul);
	if (old) {
		old->dup_new = NULL;
		old->ping_wanted = 0;
	}
	nw->dup_old = NULL;
	if (old_alive) {
		fail_conn(nw, NYM_GW_ERRTXT_DUPLICATE);
		return;
	}
	if (old) {
		logf(LOG_INFO, "%s: previous connection of this client is dead; replacing it", old->peer);
		session_remove(old->g, old);
		old->state = C_CLOSING;
		lws_set_timeout(old->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	finish_authenticate(nw);
}

static void
dup_timeout(lws_sorted_usec_list_t *sul)
{
	struct conn *nw = lws_container_of(sul, struct conn, dup_sul);
	dup_resolved(nw->dup_old, nw, 0);
}

static void
handle_authenticate(struct conn *c, struct nym_gw_msg *m)
{
	struct gw *g = c->g;
	struct nym_inbox_client ic;
	char why[256];
	uint64_t now = now_s();
	int rc;

	if ((rc = nym_gw_auth_check_request(&m->auth, now, NYM_GW_MAX_SKEW)) != 0 ||
	    (rc = nym_inbox_client_get(g->inbox, m->auth.identity, &ic)) != 0 ||
	    (rc = nym_gw_auth_check_key(&m->auth, ic.key, ic.last_auth_ts)) != 0) {
		g->st.auth_failed++;
		if (rc == NYM_EIO || rc == NYM_EFORMAT)
			logf(LOG_ERR, "inbox: %s", nym_inbox_errmsg(g->inbox));
		fail_conn(c, nym_gw_auth_errtxt(rc, &m->auth, now, why, sizeof why));
		nym_wipe(&ic, sizeof ic);
		return;
	}
	memcpy(c->client, m->auth.identity, 32);
	memcpy(c->key, ic.key, 32);
	nym_wipe(&ic, sizeof ic);
	c->version = m->auth.version;
	c->pending_ts = m->auth.timestamp;

	struct conn *old = session_find(g, c->client);
	if (old && old != c) {
		if (old->dup_new) { /* a check is already running for this client */
			fail_conn(c, NYM_GW_ERRTXT_DUPLICATE);
			return;
		}
		/* Is the old connection alive? Ping it and wait a second for the pong. */
		c->state = C_DUP_WAIT;
		c->dup_old = old;
		old->dup_new = c;
		nym_rng_fill(&g->rng, old->ping_payload, 8);
		old->ping_wanted = 1;
		conn_enqueue(old, frame_new(2, old->ping_payload, 8, 0));
		lws_sul_schedule(g->ctx, 0, &c->dup_sul, dup_timeout, DUP_PING_MS * LWS_US_PER_MS);
		return;
	}
	finish_authenticate(c);
}

static void
handle_handshake(struct conn *c, struct nym_gw_msg *m)
{
	struct gw *g = c->g;
	uint8_t m2[NYM_GW_M2_LEN], m4[1];
	char *s, msg[200];
	size_t n;
	int rc;

	if (c->state == C_FRESH) {
		/* A "future" proposal is clamped to ours; anything else is accepted. */
		c->version = nym_gw_version_accept(m->has_version, m->version);
		rc = nym_gw_hs_gateway_m1(&c->hs, g->keys.identity_seed, m->hs, m->hs_len, &g->rng, m2);
		if (rc == 0 && session_find(g, c->hs.client_pk)) {
			nym_gw_hs_wipe(&c->hs, sizeof c->hs);
			fail_conn(c, NYM_GW_ERRTXT_DUPLICATE);
			return;
		}
		if (rc == 0 && nym_gw_json_handshake(&s, &n, 0, c->version, m2, sizeof m2) == 0) {
			send_text(c, s, n);
			free(s);
			c->state = C_HS;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, HS_TIMEOUT);
			return;
		}
	} else {
		rc = nym_gw_hs_gateway_m3(&c->hs, m->hs, m->hs_len, m4, c->key);
		if (rc == 0 && session_find(g, c->hs.client_pk))
			rc = NYM_EEXIST; /* it connected meanwhile */
		if (rc == 0) {
			memcpy(c->client, c->hs.client_pk, 32);
			nym_gw_hs_wipe(&c->hs, sizeof c->hs);
			if (nym_inbox_client_register(g->inbox, c->client, c->key) != 0) {
				logf(LOG_ERR, "inbox: cannot store a client key: %s", nym_inbox_errmsg(g->inbox));
				fail_conn(c, "Failed to perform registration handshake: internal storage failure");
				return;
			}
			if (nym_gw_json_handshake(&s, &n, 0, c->version, m4, 1) == 0) {
				send_text(c, s, n);
				free(s);
			}
			struct nym_gw_msg r = {.type = NYM_GW_RESP_REGISTER, .version = c->version, .status = 1};
			g->st.registered++;
			nym_base58_encode(c->client_b58, sizeof c->client_b58, c->client, 32);
			logf(LOG_INFO, "%s: client %s registered (v%u)", c->peer, c->client_b58, c->version);
			become_authenticated(c, &r);
			return;
		}
	}
	nym_gw_hs_wipe(&c->hs, sizeof c->hs);
	g->st.auth_failed++;
	snprintf(msg, sizeof msg, "%s",
	         rc == NYM_EEXIST ? NYM_GW_ERRTXT_DUPLICATE
	         : rc == NYM_EMAC ? "failed to verify the client's signature"
	         : rc == NYM_ESIZE ? "received handshake message of invalid size"
	         : rc == NYM_EKEY ? "the client identity is not a valid ed25519 key"
	                          : nym_strerror(rc));
	struct nym_gw_msg he = {.type = NYM_GW_RESP_HANDSHAKE_ERROR, .text = msg};
	send_msg(c, &he);
	char full[260];
	snprintf(full, sizeof full, "Failed to perform registration handshake: %s", msg);
	fail_conn(c, full);
}

static void
handle_encrypted(struct conn *c, struct nym_gw_msg *m)
{
	struct nym_gw_creq_msg cr, ack = {0};
	struct nym_gw_msg r;

	if (nym_gw_creq_open(&cr, m, c->key) != 0) {
		send_error(c, NYM_GW_ERRTXT_INVALID_CONTEXT "could not decrypt or parse the encrypted request");
		return;
	}
	if (cr.kind == NYM_GW_CREQ_FORGET_ME) {
		if (cr.client) {
			nym_inbox_client_forget(c->g->inbox, c->client);
			logf(LOG_INFO, "%s: client %s asked to be forgotten", c->peer, c->client_b58);
		}
		ack.kind = NYM_GW_CRESP_FORGET_ME_ACK;
	} else if (cr.kind == NYM_GW_CREQ_REMEMBER_ME) {
		ack.kind = NYM_GW_CRESP_REMEMBER_ME_ACK;
	} else {
		send_error(c, NYM_GW_ERRTXT_INVALID_CONTEXT "unexpected encrypted request");
		return;
	}
	if (nym_gw_creq_seal(&r, &ack, c->key, &c->g->rng) == 0) {
		send_msg(c, &r);
		nym_gw_msg_free(&r);
	}
}

static void
on_text(struct conn *c, const char *text, size_t len)
{
	struct nym_gw_msg m;
	char msg[256];
	int rc = nym_gw_msg_parse(&m, 1, text, len);

	if (c->state == C_HS) {
		/* Waiting for M3: anything but handshake JSON is dropped silently. */
		if (rc == 0 && m.type == NYM_GW_REQ_HANDSHAKE)
			handle_handshake(c, &m);
		nym_gw_msg_free(&m);
		return;
	}
	if (c->state == C_DUP_WAIT || c->state == C_CLOSING) {
		if (rc == 0)
			nym_gw_msg_free(&m);
		return;
	}
	if (rc != 0) {
		snprintf(msg, sizeof msg, "the received request is malformed: %s", nym_strerror(rc));
		if (c->state == C_FRESH)
			fail_conn(c, msg);
		else
			send_error(c, msg);
		return;
	}
	if (m.type == NYM_GW_REQ_SUPPORTED_PROTOCOL) {
		struct nym_gw_msg r = {.type = NYM_GW_RESP_SUPPORTED_PROTOCOL,
		                       .version = NYM_GW_PROTOCOL_VERSION};
		send_msg(c, &r);
		if (c->state == C_FRESH)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, FRESH_TIMEOUT);
	} else if (c->state == C_FRESH) {
		switch (m.type) {
		case NYM_GW_REQ_HANDSHAKE:
			handle_handshake(c, &m);
			break;
		case NYM_GW_REQ_AUTHENTICATE_V2:
			handle_authenticate(c, &m);
			break;
		case NYM_GW_REQ_AUTHENTICATE_V1:
			fail_conn(c, NYM_GW_ERRTXT_LEGACY_AUTH);
			break;
		default:
			fail_conn(c, NYM_GW_ERRTXT_ONLY_REGISTER);
			break;
		}
	} else { /* C_AUTH */
		uint64_t now = now_s();
		switch (m.type) {
		case NYM_GW_REQ_CLAIM_FREE_BANDWIDTH: {
			struct nym_gw_msg r = {.type = NYM_GW_RESP_BANDWIDTH};
			r.bandwidth = nym_gw_bandwidth_claim_free(&c->bw, now);
			c->bw_dirty = 1;
			persist_bandwidth(c);
			send_msg(c, &r);
			break;
		}
		case NYM_GW_REQ_ENCRYPTED:
			handle_encrypted(c, &m);
			break;
		case NYM_GW_REQ_ECASH_CREDENTIAL:
			send_error(c, "this gateway runs in free mode: ecash credentials are not accepted; "
			              "use claimFreeTestnetBandwidth");
			break;
		case NYM_GW_REQ_UPGRADE_MODE_JWT:
			send_error(c, "this gateway does not support upgrade mode");
			break;
		case NYM_GW_UNKNOWN:
			send_error(c, NYM_GW_ERRTXT_INVALID_CONTEXT "unknown request type");
			break;
		default:
			snprintf(msg, sizeof msg, NYM_GW_ERRTXT_INVALID_CONTEXT
			         "received illegal message of type %.*s in an authenticated client",
			         40, m.type == NYM_GW_REQ_HANDSHAKE ? "RegisterHandshakeInitRequest"
			             : m.type == NYM_GW_REQ_AUTHENTICATE_V2 ? "AuthenticateV2"
			             : m.type == NYM_GW_REQ_AUTHENTICATE_V1 ? "Authenticate"
			                                                    : "BandwidthCredential");
			send_error(c, msg);
			break;
		}
	}
	nym_gw_msg_free(&m);
}

static void
on_binary(struct conn *c, const uint8_t *b, size_t len)
{
	static uint8_t pt[MAX_BINARY];
	struct gw *g = c->g;
	struct nym_mix_packet mp;
	uint8_t kind;
	char msg[200];
	int n, rc;

	if (c->state == C_HS || c->state == C_DUP_WAIT || c->state == C_CLOSING)
		return; /* dropped while a handshake or duplicate check runs */
	if (c->state == C_FRESH) {
		g->st.hostile_closed++;
		fail_conn(c, NYM_GW_ERRTXT_NO_AUTH_BINARY);
		return;
	}
	n = nym_gw_bin_open(&kind, pt, sizeof pt, b, len, c->key);
	if (n < 0) {
		g->st.send_errors++;
		snprintf(msg, sizeof msg, NYM_GW_ERRTXT_MALFORMED_BINARY "%s", nym_strerror(n));
		send_error(c, msg);
		return;
	}
	if (kind != NYM_GW_BIN_FORWARD_SPHINX && kind != NYM_GW_BIN_FORWARD_SPHINX_V2) {
		g->st.send_errors++;
		snprintf(msg, sizeof msg, NYM_GW_ERRTXT_MALFORMED_BINARY "unknown binary request kind %u", kind);
		send_error(c, msg);
		return;
	}
	rc = nym_mix_packet_decode(&mp, kind == NYM_GW_BIN_FORWARD_SPHINX_V2 ? NYM_MIX_PACKET_V2
	                                                                  : NYM_MIX_PACKET_V1,
	                           pt, (size_t)n);
	if (rc < 0) {
		g->st.send_errors++;
		snprintf(msg, sizeof msg, NYM_GW_ERRTXT_MALFORMED_BINARY "%s",
		         rc == NYM_ESIZE ? "received request had invalid size" : nym_strerror(rc));
		send_error(c, msg);
		return;
	}
	uint64_t now = now_s();
	if (nym_gw_bandwidth_charge(&c->bw, now, (int64_t)mp.packet_len) != 0) {
		struct nym_gw_msg te = {.type = NYM_GW_RESP_TYPED_ERROR, .typed_error = NYM_GW_TE_OUT_OF_BANDWIDTH,
		                        .te_required = (int64_t)mp.packet_len,
		                        .te_available = nym_gw_bandwidth_available(&c->bw, now)};
		g->st.send_errors++;
		send_msg(c, &te);
		return;
	}
	c->bw_dirty = 1;
	if (g->capture)
		capture_packet(g, c->client_b58, kind, &mp);
	rc = forward_packet(g, mp.next_hop, mp.next_hop_len,
	                    kind == NYM_GW_BIN_FORWARD_SPHINX_V2 ? NYM_FRAME_V8 : NYM_FRAME_V7,
	                    mp.packet_type, mp.key_rotation, mp.packet, mp.packet_len);
	if (rc == 0)
		g->st.forwarded++;
	/* Like the reference, the reply says the gateway took the packet; a
	 * full queue or an unknown hop loses it later, counted in the stats. */
	struct nym_gw_msg r = {.type = NYM_GW_RESP_SEND, .bandwidth = nym_gw_bandwidth_available(&c->bw, now)};
	send_msg(c, &r);
}

static void
conn_cleanup(struct conn *c)
{
	struct gw *g = c->g;
	struct frame *f, *nx;

	if (c->dup_old) { /* the new side of a check went away: just detach */
		c->dup_old->dup_new = NULL;
		c->dup_old->ping_wanted = 0;
		c->dup_old = NULL;
	}
	if (c->dup_new) {
		struct conn *nw = c->dup_new;
		c->dup_new = NULL;
		/* the old one died while being checked: the new one proceeds */
		lws_sul_cancel(&nw->dup_sul);
		nw->dup_old = NULL;
		session_remove(g, c);
		finish_authenticate(nw);
	}
	lws_sul_cancel(&c->dup_sul);
	if (c->state == C_AUTH || c->in_table)
		persist_bandwidth(c);
	/* Pushes that never reached the socket wait in the inbox. */
	for (f = c->q_head; f; f = nx) {
		nx = f->next;
		if (f->kind == 1 && f->inbox_id == 0)
			store_for_later(g, c->client, f->data, f->len);
		free(f);
	}
	c->q_head = c->q_tail = NULL;
	session_remove(g, c);
	free(c->rx);
	c->rx = NULL;
	nym_wipe(c->key, sizeof c->key);
	nym_gw_hs_wipe(&c->hs, sizeof c->hs);
	g->st.connected--;
}

static int
conn_writeable(struct conn *c)
{
	struct frame *f = c->q_head;
	struct gw *g = c->g;

	if (!f)
		return c->state == C_CLOSING ? -1 : 0;
	if (f->kind == 1 && c->state != C_AUTH)
		return c->state == C_CLOSING ? -1 : 0; /* cleanup keeps it in the inbox */
	c->q_head = f->next;
	if (!c->q_head)
		c->q_tail = NULL;
	c->q_bytes -= f->len;
	if (f->kind == 0) {
		memmove(f->data + LWS_PRE, f->data, f->len);
		int w = lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
		free(f);
		if (w < 0)
			return -1;
	} else if (f->kind == 2) {
		memmove(f->data + LWS_PRE, f->data, f->len);
		int w = lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_PING);
		free(f);
		if (w < 0)
			return -1;
	} else {
		int n = nym_gw_bin_seal(g->seal_buf + LWS_PRE, MAX_BINARY + 64, NYM_GW_BIN_PUSHED, f->data,
		                        f->len, c->key, &g->rng);
		if (n < 0) {
			/* cannot happen for our own sizes; keep the message */
			store_for_later(g, c->client, f->data, f->len);
			free(f);
		} else {
			if (lws_write(c->wsi, g->seal_buf + LWS_PRE, (size_t)n, LWS_WRITE_BINARY) < n) {
				/* not handed over: it stays (or goes) in the inbox */
				if (f->inbox_id == 0)
					store_for_later(g, c->client, f->data, f->len);
				free(f);
				return -1;
			}
			/* Handed to the socket: now it may leave the inbox. */
			if (f->inbox_id > 0) {
				nym_inbox_delete(g->inbox, f->inbox_id);
				g->st.inbox_delivered++;
			}
			free(f);
		}
	}
	if (!c->q_head && c->inbox_more && c->state == C_AUTH)
		inbox_queue_batch(c);
	if (c->q_head || c->state == C_CLOSING)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int
cb_client(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;
	struct gw *g = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		c->g = g;
		c->state = C_FRESH;
		lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
		g->st.connections++;
		g->st.connected++;
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, FRESH_TIMEOUT);
		logf(LOG_DEBUG, "%s: connected", c->peer);
		break;
	case LWS_CALLBACK_RECEIVE: {
		size_t cap = lws_frame_is_binary(wsi) ? MAX_BINARY : MAX_TEXT;
		if (lws_is_first_fragment(wsi)) {
			c->rx_len = 0;
			c->rx_skip = 0;
			c->rx_binary = lws_frame_is_binary(wsi);
		}
		if (c->rx_len + len > cap) {
			logf(LOG_INFO, "%s: oversized %s message (> %zu bytes); closing", c->peer,
			     c->rx_binary ? "binary" : "text", cap);
			g->st.hostile_closed++;
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
			return -1;
		}
		if (c->rx_len + len > c->rx_cap) {
			size_t nc = c->rx_cap ? c->rx_cap : 4096;
			while (nc < c->rx_len + len)
				nc *= 2;
			uint8_t *nb = realloc(c->rx, nc);
			if (!nb)
				return -1;
			c->rx = nb;
			c->rx_cap = nc;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
			break;
		if (c->state == C_FRESH)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, FRESH_TIMEOUT);
		if (c->rx_binary)
			on_binary(c, c->rx, c->rx_len);
		else
			on_text(c, (const char *)c->rx, c->rx_len);
		c->rx_len = 0;
		if (c->rx_cap > 65536) { /* do not keep a big buffer per idle client */
			free(c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
		}
		break;
	}
	case LWS_CALLBACK_RECEIVE_PONG:
		if (c->ping_wanted && len == 8 && memcmp(in, c->ping_payload, 8) == 0 && c->dup_new)
			dup_resolved(c, c->dup_new, 1);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return conn_writeable(c);
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (g)
			drain_pushes(g);
		break;
	case LWS_CALLBACK_CLOSED:
		logf(LOG_DEBUG, "%s: closed", c->peer);
		conn_cleanup(c);
		break;
	default:
		break;
	}
	return 0;
}

/* ---- stats and housekeeping ------------------------------------------------------------ */

static void
print_stats(lws_sorted_usec_list_t *sul)
{
	struct gw *g = lws_container_of(sul, struct gw, stats_sul);
	struct mix_stats m;

	pthread_mutex_lock(&g->mx.mu);
	m = g->mx.snap;
	pthread_mutex_unlock(&g->mx.mu);
	json_t *o = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		"s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:I,s:I}",
		"time", (json_int_t)now_s(),
		"connections", (json_int_t)g->st.connections,
		"connected", (json_int_t)g->st.connected,
		"registered", (json_int_t)g->st.registered,
		"authenticated", (json_int_t)g->st.authenticated,
		"auth_failed", (json_int_t)g->st.auth_failed,
		"forwarded", (json_int_t)g->st.forwarded,
		"send_errors", (json_int_t)g->st.send_errors,
		"final_hop_received", (json_int_t)m.final_received,
		"pushed", (json_int_t)g->st.pushed,
		"stored", (json_int_t)g->st.stored,
		"inbox_delivered", (json_int_t)g->st.inbox_delivered,
		"acks_forwarded", (json_int_t)m.acks_forwarded,
		"dropped",
		"mac", (json_int_t)m.dropped_mac,
		"replay", (json_int_t)m.dropped_replay,
		"not_final", (json_int_t)m.dropped_not_final,
		"malformed", (json_int_t)m.dropped_malformed,
		"queue_full", (json_int_t)(m.dropped_queue + g->st.dropped_queue + m.io.frames_dropped),
		"no_route", (json_int_t)g->st.dropped_no_route,
		"hostile_clients", (json_int_t)g->st.hostile_closed,
		"inbox_waiting", (json_int_t)nym_inbox_count(g->inbox, NULL),
		"mix_links_in", (json_int_t)m.io.conns,
		"next_hops", (json_int_t)m.io.peers,
		"next_hops_up", (json_int_t)m.io.peers_up,
		"next_hop_queue", (json_int_t)m.io.queued);
	if (o) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s) {
			printf("%s\n", s);
			fflush(stdout);
			free(s);
		}
		json_decref(o);
	}
	lws_sul_schedule(g->ctx, 0, &g->stats_sul, print_stats, (lws_usec_t)g->stats_secs * LWS_US_PER_SEC);
}

static void
purge(lws_sorted_usec_list_t *sul)
{
	struct gw *g = lws_container_of(sul, struct gw, purge_sul);
	int64_t n = nym_inbox_purge(g->inbox, now_s() - INBOX_MAX_AGE);
	if (n > 0)
		logf(LOG_INFO, "inbox: purged %" PRId64 " messages older than a day", n);
	lws_sul_schedule(g->ctx, 0, &g->purge_sul, purge, 3600 * LWS_US_PER_SEC);
}

/* ---- set-up ------------------------------------------------------------------------------ */

static const struct lws_protocols ws_protocols[] = {
	{"nym-gateway", cb_client, sizeof(struct conn), 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

/* Keepalive: a ping after a minute of silence, hang up after two. */
static const lws_retry_bo_t keepalive = {
	.secs_since_valid_ping = 60,
	.secs_since_valid_hangup = 120,
};

/* "[HOST:]PORT" (HOST may be [v6]). */
static void
parse_listen(const char *s, char *host, size_t cap, int *port, const char *opt)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	host[0] = 0;
	if (colon) {
		size_t hl = (size_t)(colon - s);
		if (hl && s[0] == '[' && s[hl - 1] == ']') {
			s++;
			hl -= 2;
		}
		if (hl >= cap)
			usage_error("%s: host too long", opt);
		memcpy(host, s, hl);
		host[hl] = 0;
		colon++;
	} else {
		colon = s;
	}
	p = strtol(colon, &end, 10);
	if (*colon == 0 || *end || p < 1 || p > 65535)
		usage_error("%s: '%s' is not [HOST:]PORT", opt, s);
	*port = (int)p;
}

static void
load_topology(struct gw *g, const char *path)
{
	json_error_t je;
	json_t *t = json_load_file(path, 0, &je), *layers, *gws, *v, *n;
	const char *k;
	size_t i, cap = 64;

	if (!t)
		die("%s: %s (line %d)", path, je.text, je.line);
	g->allowed = malloc(cap * sizeof *g->allowed);
	layers = json_object_get(t, "layers");
	gws = json_object_get(t, "gateways");
	if (!json_is_object(layers) && !json_is_array(gws))
		die("%s: not a topology (no \"layers\" or \"gateways\")", path);
#define ADD_NODE(node) do { \
		json_t *mh = json_object_get((node), "mix_host"); \
		if (json_is_string(mh)) { \
			if (g->n_allowed == cap) \
				g->allowed = realloc(g->allowed, (cap *= 2) * sizeof *g->allowed); \
			g->allowed[g->n_allowed++] = strdup(json_string_value(mh)); \
		} } while (0)
	json_object_foreach(layers, k, v)
		json_array_foreach(v, i, n)
			ADD_NODE(n);
	json_array_foreach(gws, i, n)
		ADD_NODE(n);
	json_decref(t);
	logf(LOG_INFO, "topology %s: %zu node addresses", path, g->n_allowed);
}

static void
lws_log_to_stderr(int level, const char *line)
{
	(void)level;
	if (log_level >= LOG_DEBUG)
		fprintf(stderr, "nym-gateway: lws: %s", line);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, 0, 'i'},
		{"keys", required_argument, 0, 'k'},
		{"identity", required_argument, 0, 'k'},
		{"dir", required_argument, 0, 'k'},
		{"listen", required_argument, 0, 'l'},
		{"mix-listen", required_argument, 0, 'm'},
		{"inbox", required_argument, 0, 'b'},
		{"cert", required_argument, 0, 'c'},
		{"key", required_argument, 0, 'K'},
		{"topology", required_argument, 0, 't'},
		{"stats", required_argument, 0, 's'},
		{"log", required_argument, 0, 'L'},
		{"capture", required_argument, 0, 'C'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	static struct gw g;
	const char *id = NULL, *keydir = NULL, *inbox = NULL, *cert = NULL, *key = NULL, *topo = NULL;
	char ws_host[256] = "", mix_host[256] = "", dirbuf[4096], inboxbuf[4200];
	int ws_port = 9000, mix_port = 1789, o;
	const char *bad = NULL;
	char *end;

	tool_init("nym-gateway", argv);
	while ((o = getopt_long(argc, argv, "i:k:l:m:b:c:K:t:s:L:C:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'i': id = optarg; break;
		case 'k': keydir = optarg; break;
		case 'l': parse_listen(optarg, ws_host, sizeof ws_host, &ws_port, "--listen"); break;
		case 'm': parse_listen(optarg, mix_host, sizeof mix_host, &mix_port, "--mix-listen"); break;
		case 'b': inbox = optarg; break;
		case 'c': cert = optarg; break;
		case 'K': key = optarg; break;
		case 't': topo = optarg; break;
		case 's':
			g.stats_secs = (int)strtol(optarg, &end, 10);
			if (*end || g.stats_secs < 1 || g.stats_secs > 86400)
				usage_error("--stats: '%s' is not a number of seconds (1..86400)", optarg);
			break;
		case 'L':
			if (!strcmp(optarg, "error")) log_level = LOG_ERR;
			else if (!strcmp(optarg, "info")) log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug")) log_level = LOG_DEBUG;
			else usage_error("--log: '%s' is not error, info or debug", optarg);
			break;
		case 'C': g.capture = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		case 'V': print_version(); break;
		default: tool_try_help();
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (id && keydir)
		usage_error("--id and --keys exclude each other");
	if (!!cert != !!key)
		usage_error("--cert and --key go together");
	if (nym_crypto_init() != 0)
		die("cannot initialise the crypto library");

	if (!keydir) {
		const char *home = getenv("NYM_HOME_DIR");
		if (!home || !*home)
			home = getenv("HOME");
		if (!home)
			die("neither NYM_HOME_DIR nor HOME is set (use --keys)");
		if (!id)
			id = getenv("NYMNODE_ID");
		if (!id || !*id)
			id = "default-nym-node";
		if (nym_node_dir(dirbuf, sizeof dirbuf, home, id) < 0)
			usage_error("--id: '%s' is not a usable name", id);
		keydir = dirbuf;
	}
	if ((o = nym_node_keys_load(keydir, &g.keys, &bad)) != 0)
		die("%s/%s: %s%s", keydir, bad ? bad : "", o == NYM_EIO ? strerror(errno) : nym_strerror(o),
		    o == NYM_EIO && errno == ENOENT ? " (create node keys with nym-keygen --node)" : "");
	{
		uint8_t sec[NYM_SPHINX_KEYFILE_LEN];
		char path[4200];
		snprintf(path, sizeof path, "%s/%s", keydir, NYM_NODE_SPHINX_SECONDARY);
		o = nym_keyfile_read_private(path, NYM_PEM_X25519_SPHINX_PRIVATE, sec, sizeof sec);
		if (o == 0) {
			memcpy(g.secondary, sec + 4, 32);
			g.has_secondary = 1;
		} else if (!(o == NYM_EIO && errno == ENOENT)) {
			die("%s: %s", path, o == NYM_EIO ? strerror(errno) : nym_strerror(o));
		}
		nym_wipe(sec, sizeof sec);
	}
	if (!inbox) {
		snprintf(inboxbuf, sizeof inboxbuf, "%s/gateway_inbox.sqlite", keydir);
		inbox = inboxbuf;
	}
	if (nym_inbox_open(&g.inbox, inbox) != 0)
		die("%s: cannot open the inbox database: %s", inbox,
		    g.inbox ? nym_inbox_errmsg(g.inbox) : strerror(errno));
	if (topo)
		load_topology(&g, topo);
	g.rng = nym_rng_system();
	g.seal_buf = malloc(LWS_PRE + MAX_BINARY + 64);
	if (!g.seal_buf)
		die("out of memory");

	/* The mix side: netio in a thread of its own. */
	struct mixside *mx = &g.mx;
	struct nym_netio_config nc = {
		.frame_len = nym_frame_len, .on_frame = mix_on_frame, .on_event = mix_on_event, .ctx = mx,
		.peer_queue_max = 2000,
	};
	struct nym_netio_addr mix_addr;
	char mix_hostport[300];
	mx->g = &g;
	pthread_mutex_init(&mx->mu, NULL);
	uint8_t replay_key[16];
	if (nym_rng_fill(&g.rng, replay_key, sizeof replay_key) != 0 ||
	    nym_mixer_replay_init(&mx->replay, REPLAY_WINDOW, replay_key) != 0)
		die("cannot set up the replay filter");
	nym_wipe(replay_key, sizeof replay_key);
	if (nym_sphinx_ctx_init(&mx->sphinx) != 0)
		die("cannot set up the Sphinx context");
	snprintf(mix_hostport, sizeof mix_hostport, strchr(mix_host, ':') ? "[%s]:%d" : "%s:%d",
	         mix_host[0] ? mix_host : "0.0.0.0", mix_port);
	if (nym_netio_addr_parse(&mix_addr, mix_hostport) != 0)
		usage_error("--mix-listen: '%s' is not a numeric address", mix_hostport);
	if (!(mx->io = nym_netio_create(&nc)) || (mx->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    nym_netio_watch(mx->io, mx->efd, mix_drain_fwd, mx) != 0)
		die("cannot set up the mix side: %s", strerror(errno));
	if (nym_netio_listen(mx->io, &mix_addr) < 0)
		die("cannot listen for mix packets on %s: %s", mix_hostport, strerror(errno));

	/* Thousands of clients need thousands of descriptors. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(log_level >= LOG_DEBUG ? LLL_ERR | LLL_WARN : 0, lws_log_to_stderr);

	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof ci);
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
	             (cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.user = &g;
	ci.ka_time = 60;
	ci.ka_probes = 3;
	ci.ka_interval = 10;
	ci.timeout_secs = 5;
	ci.connect_timeout_secs = 2;
	if (!(g.ctx = lws_create_context(&ci)))
		die("cannot create the event loop");

	struct lws_context_creation_info vi;
	memset(&vi, 0, sizeof vi);
	vi.vhost_name = "clients";
	vi.port = ws_port;
	vi.iface = ws_host[0] ? ws_host : NULL;
	vi.protocols = ws_protocols;
	vi.ssl_cert_filepath = cert;
	vi.ssl_private_key_filepath = key;
	vi.options = cert ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	vi.retry_and_idle_policy = &keepalive;
	vi.timeout_secs = 5;
	vi.ka_time = 60;
	vi.ka_probes = 3;
	vi.ka_interval = 10;
	if (!(g.ws_vh = lws_create_vhost(g.ctx, &vi)))
		die("cannot listen for clients on %s:%d%s", ws_host[0] ? ws_host : "*", ws_port,
		    cert ? " (or the certificate/key is unusable)" : "");

	char b58[NYM_B58_KEY_MAX], sb58[NYM_B58_KEY_MAX];
	nym_base58_encode(b58, sizeof b58, g.keys.identity_pk, 32);
	nym_base58_encode(sb58, sizeof sb58, g.keys.sphinx_pk, 32);
	logf(LOG_INFO, "gateway %s (sphinx key %s): clients on %s://%s%s%s:%d, mix port %s, inbox %s",
	     b58, sb58, cert ? "wss" : "ws", strchr(ws_host, ':') ? "[" : "", ws_host[0] ? ws_host : "*",
	     strchr(ws_host, ':') ? "]" : "", ws_port, mix_hostport, inbox);

	sig_ctx = g.ctx;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (g.stats_secs)
		lws_sul_schedule(g.ctx, 0, &g.stats_sul, print_stats,
		                 (lws_usec_t)g.stats_secs * LWS_US_PER_SEC);
	lws_sul_schedule(g.ctx, 0, &g.purge_sul, purge, LWS_US_PER_SEC);
	if ((errno = pthread_create(&mx->th, NULL, mix_thread, mx)) != 0)
		die("cannot start the mix thread: %s", strerror(errno));

	while (!stopping)
		if (lws_service(g.ctx, 0) < 0)
			break;

	logf(LOG_INFO, "stopping");
	stopping = 1;
	pthread_join(mx->th, NULL);
	drain_pushes(&g);           /* payloads already unwrapped: deliver or keep */
	lws_context_destroy(g.ctx); /* closes every connection: bandwidth saved, pushes kept */
	nym_inbox_close(g.inbox);
	nym_netio_destroy(mx->io);
	for (struct fwd *f = mx->fq_head, *n; f; f = n) {
		n = f->next;
		free(f);
	}
	nym_sphinx_ctx_free(&mx->sphinx);
	nym_wipe(&g.keys, sizeof g.keys);
	nym_wipe(g.secondary, sizeof g.secondary);
	for (size_t i = 0; i < g.n_allowed; i++)
		free(g.allowed[i]);
	free(g.allowed);
	nym_mixer_replay_free(&mx->replay);
	free(g.seal_buf);
	return EXIT_OK;
}
