/* minireq.c — a minimal network requester for tests of nym-socks5-client
 * (doc/spec/socks5.md §9): versioned plain-mode requests only, connections
 * opened at once (blocking connect, loopback), each carried by
 * io/tcpstream. Destinations containing the --refuse text get a
 * ConnectionError. Prints its address on stdout when connected.
 *   minireq --id NAME --topology FILE [--refuse TEXT] */
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "crypto/crypto.h"
#include "io/mixclient.h"
#include "io/tcpstream.h"
#include "proto/socks5.h"

struct rconn {
	struct rconn *next;
	uint64_t id;
	struct nym_address to;
	struct nym_tcpstream *s;
};

/* Sends that overtook their Connect in the mixnet (§7.3): replayed after it. */
struct pending {
	struct pending *next;
	uint64_t id, seq;
	int closed;
	size_t len;
	uint8_t data[];
};
static struct pending *pend;

static struct nym_mixclient *mc;
static struct rconn *conns;
static const char *refuse;

static struct rconn *
find(uint64_t id)
{
	for (struct rconn *k = conns; k; k = k->next)
		if (k->id == id)
			return k;
	return NULL;
}

static void
respond(const struct nym_address *to, struct nym_socks5_msg *m, uint64_t lane)
{
	size_t n = nym_socks5_resp_len(m);
	uint8_t *b = malloc(n ? n : 1);
	if (b && n && nym_socks5_resp_encode(b, n, m) > 0)
		nym_mixclient_send(mc, to, b, n, -1, lane, NULL);
	free(b);
}

static int
on_send(struct nym_tcpstream *s, uint64_t seq, int closed, const uint8_t *d, size_t n, void *arg)
{
	struct rconn *k = arg;
	struct nym_socks5_msg m = {.iface = 3, .socks5 = 3, .kind = NYM_SOCKS5_NETWORK_DATA,
	    .conn_id = k->id, .closed = (uint8_t)closed, .seq = seq, .data = d, .data_len = n};
	(void)s;
	if (getenv("MINIREQ_DEBUG"))
		fprintf(stderr, "minireq: tx %016llx seq %llu closed %d len %zu unacked %zu\n", (unsigned long long)k->id, (unsigned long long)seq, closed, n, nym_mixclient_unacked(mc, k->id));
	respond(&k->to, &m, k->id);
	return 0;
}

static int
can_read(struct nym_tcpstream *s, void *arg)
{
	struct rconn *k = arg;
	(void)s;
	return nym_mixclient_unacked(mc, k->id) < 64;
}

static void
on_done(struct nym_tcpstream *s, int err, const char *why, void *arg)
{
	struct rconn *k = arg, **pp;
	(void)err;
	if (why)
		fprintf(stderr, "minireq: %016llx: %s\n", (unsigned long long)k->id, why);
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	nym_tcpstream_free(s);
	free(k);
}

static int
dial(const uint8_t *addr, size_t len)
{
	char host[300], *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *p;
	int fd = -1;
	if (len >= sizeof host)
		return -1;
	memcpy(host, addr, len);
	host[len] = 0;
	if (!(port = strrchr(host, ':')))
		return -1;
	*port++ = 0;
	char *h = host;
	if (*h == '[')
		h++, h[strcspn(h, "]")] = 0;
	if (getaddrinfo(h, port, &hints, &ai) != 0)
		return -1;
	for (p = ai; p; p = p->ai_next) {
		if ((fd = socket(p->ai_family, SOCK_STREAM, 0)) < 0)
			continue;
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static struct nym_loop *loop;

static void
on_message(struct nym_mixclient *m_, const uint8_t *data, size_t len, const uint8_t *tag, void *arg)
{
	struct nym_socks5_msg m;
	struct rconn *k;
	(void)m_, (void)tag, (void)arg;
	if (nym_socks5_req_decode(&m, data, len) < 0)
		return;
	if (getenv("MINIREQ_DEBUG"))
		fprintf(stderr, "minireq: kind %d conn %016llx seq %llu closed %d len %zu\n", m.kind,
		    (unsigned long long)m.conn_id, (unsigned long long)m.seq, m.closed, m.data_len);
	if (m.kind == NYM_SOCKS5_SEND) {
		if ((k = find(m.conn_id)))
			nym_tcpstream_deliver(k->s, m.seq, m.closed, m.data, m.data_len);
		else {
			struct pending *p = malloc(sizeof *p + m.data_len);
			p->id = m.conn_id, p->seq = m.seq, p->closed = m.closed, p->len = m.data_len;
			memcpy(p->data, m.data, m.data_len);
			p->next = pend;
			pend = p;
		}
		return;
	}
	if (m.kind != NYM_SOCKS5_CONNECT || !m.has_return)
		return;
	struct nym_address to;
	memcpy(to.identity, m.return_address, 32);
	memcpy(to.encryption, m.return_address + 32, 32);
	memcpy(to.gateway, m.return_address + 64, 32);
	if (refuse && memmem(m.addr, m.addr_len, refuse, strlen(refuse))) {
		char msg[400];
		int n = nym_socks5_filter_error(msg, sizeof msg, m.addr, m.addr_len);
		struct nym_socks5_msg r = {.iface = 3, .socks5 = 3, .kind = NYM_SOCKS5_CONNECTION_ERROR,
		    .conn_id = m.conn_id, .data = (const uint8_t *)msg, .data_len = n > 0 ? (size_t)n : 0};
		respond(&to, &r, m.conn_id);
		return;
	}
	int fd = dial(m.addr, m.addr_len);
	if (fd < 0) {
		struct nym_socks5_msg r = {.iface = 3, .socks5 = 3, .kind = NYM_SOCKS5_NETWORK_DATA,
		    .conn_id = m.conn_id, .closed = 1};
		respond(&to, &r, m.conn_id);
		return;
	}
	k = calloc(1, sizeof *k);
	k->id = m.conn_id;
	k->to = to;
	struct nym_tcpstream_ops ops = {on_send, can_read, NULL, on_done, k};
	if (nym_tcpstream_new(&k->s, loop, fd, &ops, NULL) < 0) {
		free(k);
		return;
	}
	nym_tcpstream_start(k->s);
	k->next = conns;
	conns = k;
	for (struct pending **pp = &pend, *p; (p = *pp);) {
		if (p->id != k->id) {
			pp = &p->next;
			continue;
		}
		nym_tcpstream_deliver(k->s, p->seq, p->closed, p->data, p->len);
		*pp = p->next;
		free(p);
	}
}

static void
on_acked(struct nym_mixclient *m_, uint64_t id, size_t left, void *arg)
{
	(void)m_, (void)id, (void)left, (void)arg;
	for (struct rconn *k = conns; k; k = k->next)
		nym_tcpstream_resume(k->s);
}

static void
on_ready(struct nym_mixclient *m_, int reg, void *arg)
{
	struct nym_address a;
	char s[NYM_ADDRESS_MAX];
	(void)reg, (void)arg;
	nym_mixclient_address(m_, &a);
	nym_address_format(s, sizeof s, &a);
	printf("%s\n", s);
	fflush(stdout);
}

static void
tick(struct nym_timer *t, void *arg)
{
	(void)arg;
	for (struct rconn *k = conns; k; k = k->next) {
		nym_tcpstream_tick(k->s, nym_mono_ms());
		nym_tcpstream_resume(k->s);
	}
	nym_timer_set(t, 20000);
}

int
main(int argc, char **argv)
{
	const char *id = NULL, *topo = NULL, *home = getenv("NYM_HOME_DIR");
	struct nym_rng rng = nym_rng_system();
	struct nym_mixclient_setup su;
	struct nym_mixclient_config cfg;
	char err[600];
	int c;
	while ((c = getopt(argc, argv, "i:t:r:")) != -1)
		switch (c) {
		case 'i': id = optarg; break;
		case 't': topo = optarg; break;
		case 'r': refuse = optarg; break;
		default: return 2;
		}
	if (!id || !topo || !home || nym_crypto_init() < 0)
		return 2;
	if (nym_mixclient_setup(&su, home, id, topo, NULL, &rng, err, sizeof err) < 0) {
		fprintf(stderr, "minireq: %s\n", err);
		return 1;
	}
	nym_loop_new(&loop, NULL);
	nym_mixclient_setup_config(&su, &rng, &cfg);
	cfg.main_cover = 0;
	cfg.loop_mean_ms = 0;
	cfg.send_mean_ms = 0;
	cfg.packet_delay_ms = cfg.ack_delay_ms = 0;
	cfg.max_retries = -1;
	struct nym_mixclient_events ev = {on_ready, on_message, on_acked, NULL, NULL, NULL, NULL};
	if (nym_mixclient_start(&mc, loop, &cfg, &ev) < 0)
		return 1;
	struct nym_timer *t = nym_timer_new(loop, tick, NULL);
	nym_timer_set(t, 20000);
	for (;;)
		nym_loop_run(loop, 200);
}
