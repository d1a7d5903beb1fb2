/* ceiling.h — the crypto ceiling of client traffic, shared by bench_client and
 * bench_socks: what the sender, the gateway (GCM-SIV both ways), three mix
 * hops, the final hop and the recipient compute for one message, in this
 * process on one core, with the keys of a running local mixnet. */
#ifndef NYM_BENCH_CEILING_H
#define NYM_BENCH_CEILING_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "crypto/gcmsiv.h"
#include "io/keyfile.h"
#include "io/mixclient.h"
#include "proto/courier.h"
#include "proto/gwproto.h"
#include "proto/packet.h"
#include "proto/sphinx.h"
#include "proto/topology.h"

struct ceil_ctx {
	struct nym_sphinx_ctx sx;
	uint8_t node_sk[4][32];
	uint8_t gw_key[32];
	struct nym_courier_receiver *rcv;
	struct nym_rng *rng;
	uint8_t *frame, *pt, *pkt;
	uint64_t packets, delivered;
};

static const struct nym_topology *ceil_topo;

static int
ceil_route(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	return nym_mixclient_route(ceil_topo, ctx, gateway, hops);
}

/* What gateway, mix nodes and recipient do with one packet. */
static int
ceil_emit(void *arg, const struct nym_courier_packet *p)
{
	struct ceil_ctx *c = arg;
	struct nym_sphinx_processed out;
	struct nym_mix_packet mp;
	struct nym_courier_received rec;
	uint8_t kind;
	int n;

	/* client -> gateway: sealed and opened */
	n = nym_gw_bin_seal(c->frame, 40000, 2, p->mix_packet, p->mix_packet_len, c->gw_key, c->rng);
	n = nym_gw_bin_open(&kind, c->pt, 40000, c->frame, (size_t)n, c->gw_key);
	if (n < 0 || nym_mix_packet_decode(&mp, NYM_MIX_PACKET_V2, c->pt, (size_t)n) < 0)
		return NYM_EFORMAT;
	memcpy(c->pkt, mp.packet, mp.packet_len);
	/* three mix hops and the final hop */
	for (int h = 0; h < 4; h++)
		if (nym_sphinx_process(&c->sx, c->pkt, mp.packet_len, c->node_sk[h], &out) < 0)
			return NYM_EMAC;
	/* gateway -> recipient: the payload after the ack block, sealed, opened */
	const uint8_t *pl = c->pkt + out.payload_off + 16 + 405;
	size_t plen = (size_t)nym_size_tag_plaintext(NYM_SIZE_REGULAR) - 405;
	n = nym_gw_bin_seal(c->frame, 40000, 1, pl, plen, c->gw_key, c->rng);
	n = nym_gw_bin_open(&kind, c->pt, 40000, c->frame, (size_t)n, c->gw_key);
	memset(&rec, 0, sizeof rec);
	if (nym_courier_receive(c->rcv, c->pt, (size_t)n, 0, &rec) == NYM_RECV_MESSAGE)
		c->delivered++;
	nym_courier_received_free(&rec);
	c->packets++;
	return 0;
}

/* Seconds the crypto of one message of len bytes takes on this core; the
 * node keys are those of the local mixnet in netdir (nym-localnet). */
static double
ceiling(const char *netdir, const struct nym_topology *t, const struct nym_node *gw,
    const uint8_t *msg, size_t len, struct nym_rng *rng, void (*bail)(const char *))
{
	struct nym_client_keys s, r;
	struct ceil_ctx c;
	struct nym_address to;
	const char *names[4] = {"mix1", "mix2", "mix3", "gateway"};
	char dir[700];
	const char *bad;

	memset(&c, 0, sizeof c);
	ceil_topo = t;
	nym_sphinx_ctx_init(&c.sx);
	/* one route through the three mix nodes: the topology has one per layer */
	for (int i = 0; i < 4; i++) {
		struct nym_node_keys nk;
		snprintf(dir, sizeof dir, "%s/keys/%s", netdir, names[i]);
		if (nym_node_keys_load(dir, &nk, &bad) < 0)
			bail("cannot read the node keys of the local mixnet");
		memcpy(c.node_sk[i], nk.sphinx_sk, 32);
	}
	nym_client_keys_generate(&s, rng);
	nym_client_keys_generate(&r, rng);
	nym_client_address(&to, &r, gw->identity);
	nym_rng_fill(rng, c.gw_key, 32);
	c.rng = rng;
	c.rcv = nym_courier_receiver_new(&r, NULL, NULL);
	c.frame = malloc(40000);
	c.pt = malloc(40000);
	c.pkt = malloc(40000);
	struct nym_courier_sender *snd = nym_courier_sender_new(&s, gw->identity, NULL);
	struct nym_route_source routes = {ceil_route, rng};
	uint64_t t0 = bench_now_ns();
	if (nym_courier_send_plain(snd, &to, msg, len, &routes, rng, ceil_emit, &c) < 0 || c.delivered != 1)
		bail("the in-process pipeline did not deliver the message");
	double secs = (double)(bench_now_ns() - t0) / 1e9;
	nym_courier_sender_free(snd);
	nym_courier_receiver_free(c.rcv);
	nym_sphinx_ctx_free(&c.sx);
	free(c.frame);
	free(c.pt);
	free(c.pkt);
	return secs;
}

#endif
