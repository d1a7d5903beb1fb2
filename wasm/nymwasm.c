/* nymwasm.c — the C side of nymkit's WebAssembly client: one client per
 * struct nw, sans-I/O. JavaScript (wasm/js/client.mjs) owns the websocket,
 * the timers, fetch and storage; it feeds frames, time and nym-api answers
 * in, and gets frames and events out through one import (js_out). The
 * gateway session is proto/gwsess (sans-I/O, over proto/gwproto); pacing,
 * cover, acks and retransmission are proto/mixcore over proto/courier, as
 * io/mixclient does natively.
 *
 * Events out (js_out kind, a, alen, b, blen):
 *   1 text frame a          2 binary frame a
 *   3 ready (alen = 1 when this connection registered)
 *   4 message a, sender tag b (16 bytes) or none
 *   5 shared key a (32) for gateway b (32): store it
 *   6 warning text a        7 fatal text a (the session gave up)
 *   8 acked: msg id in alen, fragments left in blen */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <emscripten.h>
#include <sodium.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "crypto/blake3.h"
#include "proto/chunking.h"
#include "proto/courier.h"
#include "proto/framing.h"
#include "proto/gwproto.h"
#include "proto/gwsess.h"
#include "proto/keys.h"
#include "proto/message.h"
#include "proto/mixcore.h"
#include "proto/nymapi_doc.h"
#include "proto/packet.h"
#include "proto/reply.h"
#include "proto/route.h"
#include "proto/surbstore.h"
#include "proto/topology.h"

EM_JS(void, js_out, (void *c, int kind, const void *a, size_t alen, const void *b, size_t blen), {
	Module.nwOut(c, kind, a, alen, b, blen);
});
/* Randomness: a pooled crypto.getRandomValues on the JS side. */
EM_JS(void, js_random, (void *buf, size_t len), {
	Module.nwRandom(buf, len);
});

#define NW_BACKLOG_MAX (512u * 1024)

struct nw {
	struct nym_client_keys keys;
	struct nym_address self;
	uint8_t gateway[32];
	uint64_t now_ms;
	size_t backlog;               /* the websocket's bufferedAmount (JS) */
	struct nym_gwsess *gs;        /* the gateway session */
	struct nym_topology *topo;
	struct nym_rng rng;
	struct nym_route_source routes;
	struct nym_courier_sender *sender;
	struct nym_courier_receiver *receiver;
	struct nym_reply_keys *rkeys;
	struct nym_surbstore *surbs;
	struct nym_mixcore *core;
	size_t P;
	/* recipients we wrote to anonymously: whose SurbRequests we answer */
	struct nw_anon { struct nw_anon *next; struct nym_address to; } *anon;
	/* nym-api answers being gathered (nw_api_add) */
	struct nym_text api_rs, api_kr, *api_mix, *api_gw;
	size_t n_mix, n_gw;
	char err[256];
};

static int
rng_fill(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	js_random(buf, len);
	return 0;
}

/* libsodium's own randombytes, from the same source. */
static const char *rb_name(void) { return "nymkit-js"; }
static uint32_t rb_random(void) { uint32_t v; js_random(&v, 4); return v; }
static void rb_buf(void *const buf, const size_t size) { js_random(buf, size); }
static struct randombytes_implementation rb_impl = {rb_name, rb_random, NULL, NULL, rb_buf, NULL};

EMSCRIPTEN_KEEPALIVE int
nw_init(void)
{
	randombytes_set_implementation(&rb_impl);
	return sodium_init() < 0 ? NYM_ECRYPTO : 0;
}

static void
say(struct nw *c, int kind, const char *fmt, int err)
{
	char w[300];
	snprintf(w, sizeof w, fmt, nym_strerror(err));
	js_out(c, kind, w, strlen(w), NULL, 0);
}

/* ---- helpers JS calls for keys and addresses --------------------------------- */

EMSCRIPTEN_KEEPALIVE void *nw_malloc(size_t n) { return malloc(n ? n : 1); }
EMSCRIPTEN_KEEPALIVE void nw_free(void *p) { free(p); }

/* PEM text (NUL-terminated) with label -> len bytes in out. */
EMSCRIPTEN_KEEPALIVE int
nw_pem_decode(uint8_t *out, size_t len, const char *label, const char *text)
{
	return nym_pem_decode(out, len, label, text, strlen(text));
}

/* bytes -> PEM text (malloc'd, NUL-terminated; NULL on failure). */
EMSCRIPTEN_KEEPALIVE char *
nw_pem_encode(const char *label, const uint8_t *in, size_t len)
{
	size_t cap = 200 + strlen(label) * 2 + len * 2;
	char *out = malloc(cap);
	if (out && nym_pem_encode(out, cap, label, in, len) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* A fresh key set: identity seed (32) || encryption sk (32) || ack key (16). */
EMSCRIPTEN_KEEPALIVE int
nw_keygen(uint8_t out[80])
{
	struct nym_client_keys k;
	struct nym_rng r = {rng_fill, NULL};
	int e = nym_client_keys_generate(&k, &r);
	memcpy(out, k.identity_seed, 32);
	memcpy(out + 32, k.encryption_sk, 32);
	memcpy(out + 64, k.ack_key, 16);
	nym_wipe(&k, sizeof k);
	return e;
}

/* Public keys of a secret set: identity pk (32) || encryption pk (32). */
EMSCRIPTEN_KEEPALIVE int
nw_pubkeys(const uint8_t secrets[80], uint8_t out[64])
{
	if (nym_ed25519_public(out, secrets) < 0 || nym_x25519_base(out + 32, secrets + 32) < 0)
		return NYM_ECRYPTO;
	return 0;
}

/* base58 of len bytes into out (cap). */
EMSCRIPTEN_KEEPALIVE int
nw_b58_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
	return nym_base58_encode(out, cap, in, len);
}

EMSCRIPTEN_KEEPALIVE int
nw_b58_decode(uint8_t *out, size_t cap, const char *in)
{
	return nym_base58_decode(out, cap, in, strlen(in));
}

/* ---- the client ------------------------------------------------------------- */

static int
pick_route(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	struct nw *c = ctx;
	struct nym_route r;
	char err[NYM_TOPOLOGY_ERR_MAX];
	if (!c->topo || nym_route_choose(c->topo, &c->rng, gateway, &r, err, sizeof err) < 0)
		return NYM_EROUTE;
	for (size_t i = 0; i < r.n_hops; i++) {
		struct nym_node_addr a;
		if (nym_node_addr_parse(&a, r.hops[i].mix_host) < 0 ||
		    nym_node_addr_encode(hops[i].address, 32, &a) < 0)
			return NYM_EROUTE;
		memcpy(hops[i].pubkey, r.hops[i].sphinx_key, 32);
	}
	return (int)r.n_hops;
}

/* One MixPacket out through the session (a ForwardSphinx frame). */
static int
forward(struct nw *c, const uint8_t *mp, size_t len)
{
	int e = nym_gwsess_forward(c->gs, mp, len);
	if (e == 0)
		c->backlog += len + NYM_GW_BIN_OVERHEAD;
	return e;
}

static int core_emit(void *ctx, const uint8_t *mp, size_t len) { return forward(ctx, mp, len); }

static int
core_can_send(void *ctx)
{
	struct nw *c = ctx;
	return nym_gwsess_state(c->gs) == NYM_GWSESS_READY && c->backlog < NW_BACKLOG_MAX;
}

static int
core_build(void *ctx, const struct nym_mixcore_dest *d, const uint8_t *frag, size_t len,
    nym_courier_emit_fn emit, void *ectx)
{
	struct nw *c = ctx;
	struct nym_reply_surb rs;
	int e;
	if (!d->reply_tag)
		return nym_courier_resend(c->sender, d->to, NULL, frag, len, &c->routes, &c->rng, emit, ectx);
	if (nym_surbstore_take(c->surbs, d->reply_tag, &rs) < 0)
		return NYM_ENOTFOUND;
	e = nym_courier_resend(c->sender, NULL, &rs, frag, len, &c->routes, &c->rng, emit, ectx);
	nym_wipe(&rs, sizeof rs);
	return e;
}

static int
cover_emit(void *ctx, const struct nym_courier_packet *p)
{
	return forward(ctx, p->mix_packet, p->mix_packet_len);
}

static int
core_cover(void *ctx)
{
	struct nw *c = ctx;
	int e = nym_courier_cover(c->sender, &c->routes, &c->rng, cover_emit, c);
	return e < 0 ? e : 0;
}

static void
core_acked(void *ctx, uint64_t msg_id, size_t left)
{
	js_out(ctx, 8, NULL, (size_t)msg_id, NULL, left);
}

static void core_warning(void *ctx, const char *fmt, int e) { say(ctx, 6, fmt, e); }

static void
core_sweep(void *ctx, uint64_t now)
{
	struct nw *c = ctx;
	nym_reply_keys_expire(c->rkeys, now);
}

/* ---- the session's I/O ---------------------------------------------------- */

static int
gs_send(void *ctx, int binary, const uint8_t *data, size_t len)
{
	js_out(ctx, binary ? 2 : 1, data, len, NULL, 0);
	return 0;
}

static void
gs_ready(void *ctx, int registered)
{
	struct nw *c = ctx;
	nym_mixcore_set_ready(c->core, 1, c->now_ms);
	js_out(c, 3, NULL, (size_t)registered, NULL, 0);
}

static void pushed(struct nw *c, const uint8_t *pt, size_t len);
static void gs_pushed(void *ctx, const uint8_t *pt, size_t len) { pushed(ctx, pt, len); }

static void
gs_registered(void *ctx, const uint8_t key[NYM_GW_KEY_LEN])
{
	struct nw *c = ctx;
	js_out(c, 5, key, NYM_GW_KEY_LEN, c->gateway, 32);
}

static void
gs_warning(void *ctx, const char *why)
{
	js_out(ctx, 6, why, strlen(why), NULL, 0);
}

static void
gs_fatal(void *ctx, int err, const char *why)
{
	struct nw *c = ctx;
	char w[600];
	nym_mixcore_set_ready(c->core, 0, c->now_ms);
	snprintf(w, sizeof w, "%s (%s)", why, nym_strerror(err));
	js_out(c, 7, w, strlen(w), NULL, 0);
}

/* secrets: identity seed || encryption sk || ack key (80); gateway: its
 * identity (32); key: the stored shared key (32) or NULL; send_mean_ms 0 =
 * no Poisson pacing; loop_mean_ms 0 = no loop cover. */
EMSCRIPTEN_KEEPALIVE struct nw *
nw_new(const uint8_t secrets[80], const uint8_t gateway[32], const uint8_t *key,
    double send_mean_ms, int main_cover, double loop_mean_ms, double now_ms)
{
	struct nw *c = calloc(1, sizeof *c);
	struct nym_courier_config cfg;
	if (!c)
		return NULL;
	c->rng.fill = rng_fill;
	memcpy(c->keys.identity_seed, secrets, 32);
	memcpy(c->keys.encryption_sk, secrets + 32, 32);
	memcpy(c->keys.ack_key, secrets + 64, 16);
	if (nym_ed25519_public(c->keys.identity_pk, c->keys.identity_seed) < 0 ||
	    nym_x25519_base(c->keys.encryption_pk, c->keys.encryption_sk) < 0) {
		free(c);
		return NULL;
	}
	memcpy(c->gateway, gateway, 32);
	struct nym_gwsess_ops go = {gs_send, gs_ready, gs_pushed, gs_registered, gs_warning, gs_fatal, c};
	nym_client_address(&c->self, &c->keys, gateway);
	c->routes.pick = pick_route;
	c->routes.ctx = c;
	c->now_ms = (uint64_t)now_ms;
	nym_courier_config_default(&cfg);
	c->P = NYM_FRAGMENT_CAPACITY((size_t)nym_size_tag_plaintext(cfg.size_tag));
	struct nym_mixcore_config kc = {send_mean_ms, main_cover, loop_mean_ms, &c->rng};
	struct nym_mixcore_ops ko = {core_emit, core_can_send, core_build, core_cover, core_acked,
	                             core_warning, core_sweep, c};
	if (!(c->surbs = nym_surbstore_new()) ||
	    !(c->rkeys = nym_reply_keys_new(NYM_REPLY_KEYS_DEFAULT_MAX, NYM_REPLY_KEY_MAX_AGE_MS)) ||
	    !(c->sender = nym_courier_sender_new(&c->keys, gateway, &cfg)) ||
	    !(c->receiver = nym_courier_receiver_new(&c->keys, c->rkeys, NULL)) ||
	    !(c->core = nym_mixcore_new(&kc, &ko, c->now_ms)) ||
	    !(c->gs = nym_gwsess_new(&c->keys, gateway, key, &c->rng, &go))) {
		nym_mixcore_free(c->core);
		nym_surbstore_free(c->surbs);
		nym_reply_keys_free(c->rkeys);
		nym_courier_sender_free(c->sender);
		nym_courier_receiver_free(c->receiver);
		free(c);
		return NULL;
	}
	return c;
}

EMSCRIPTEN_KEEPALIVE void
nw_destroy(struct nw *c)
{
	if (!c)
		return;
	while (c->anon) {
		struct nw_anon *a = c->anon;
		c->anon = a->next;
		free(a);
	}
	nym_gwsess_free(c->gs);
	nym_mixcore_free(c->core);
	nym_courier_sender_free(c->sender);
	nym_courier_receiver_free(c->receiver);
	nym_reply_keys_free(c->rkeys);
	nym_surbstore_free(c->surbs);
	nym_topology_free(c->topo);
	free(c->api_mix);
	free(c->api_gw);
	nym_wipe(c, sizeof *c);
	free(c);
}

/* Our address as text into out (cap >= NYM_ADDRESS_MAX). */
EMSCRIPTEN_KEEPALIVE int
nw_address(struct nw *c, char *out, size_t cap)
{
	return nym_address_format(out, cap, &c->self);
}

EMSCRIPTEN_KEEPALIVE const char *
nw_error(struct nw *c)
{
	return c->err;
}

/* ---- topology from nym-api answers (JS fetches them) ----------------------- */

/* kind 0 rewarded set, 1 mixnodes page, 2 gateways page, 3 key rotation. The
 * text is kept (not copied) until nw_api_done: JS keeps it allocated. */
EMSCRIPTEN_KEEPALIVE int
nw_api_add(struct nw *c, int kind, const char *text, size_t len)
{
	struct nym_text t = {text, len}, **arr = NULL;
	size_t *n = NULL;
	if (kind == 0) { c->api_rs = t; return 0; }
	if (kind == 3) { c->api_kr = t; return 0; }
	if (kind == 1) { arr = &c->api_mix; n = &c->n_mix; }
	else if (kind == 2) { arr = &c->api_gw; n = &c->n_gw; }
	else return NYM_EINVAL;
	struct nym_text *na = realloc(*arr, (*n + 1) * sizeof **arr);
	if (!na)
		return NYM_ENOMEM;
	na[(*n)++] = t;
	*arr = na;
	return 0;
}

/* Pagination of one page: total items into *total, items on it returned. */
EMSCRIPTEN_KEEPALIVE int
nw_api_page(const char *text, size_t len, uint32_t *total)
{
	struct nym_text t = {text, len};
	size_t count = 0;
	char err[128];
	int e = nym_topology_page_info(&t, total, &count, err, sizeof err);
	return e < 0 ? e : (int)count;
}

/* Build the topology from what was added; c->err says why not. */
EMSCRIPTEN_KEEPALIVE int
nw_api_done(struct nw *c)
{
	struct nym_api_answers a = {c->api_rs, c->api_kr, c->api_mix, c->n_mix, c->api_gw, c->n_gw};
	struct nym_topology *t = NULL;
	int e = nym_topology_from_api(&t, &a, NULL, c->err, sizeof c->err);
	free(c->api_mix);
	free(c->api_gw);
	c->api_mix = c->api_gw = NULL;
	c->n_mix = c->n_gw = 0;
	memset(&c->api_rs, 0, sizeof c->api_rs);
	memset(&c->api_kr, 0, sizeof c->api_kr);
	if (e < 0)
		return e;
	nym_topology_free(c->topo);
	c->topo = t;
	nym_courier_sender_set_rotation(c->sender, nym_rotation_of_id(t->rotation_id));
	nym_surbstore_rotation(c->surbs, t->rotation_id);
	return 0;
}

/* The websocket URL of a gateway (NULL: not in the topology), or, with
 * gateway NULL, the identity of one chosen at random into pick (32). */
EMSCRIPTEN_KEEPALIVE const char *
nw_gateway_url(struct nw *c, const uint8_t *gateway, uint8_t *pick)
{
	const struct nym_node *n;
	if (!c->topo)
		return NULL;
	if (!gateway) {
		uint32_t r;
		size_t k = 0, i;
		for (i = 0; i < c->topo->n_nodes; i++)
			k += c->topo->nodes[i].is_gateway && c->topo->nodes[i].ws_url[0];
		if (!k)
			return NULL;
		js_random(&r, 4);
		r %= (uint32_t)k;
		for (i = 0; i < c->topo->n_nodes; i++) {
			n = &c->topo->nodes[i];
			if (n->is_gateway && n->ws_url[0] && r-- == 0)
				break;
		}
		memcpy(pick, n->identity, 32);
		return n->ws_url;
	}
	n = nym_topology_find_identity(c->topo, gateway);
	return n ? n->ws_url : NULL;
}

/* A topology without a client yet (to choose a gateway before keys exist):
 * JS makes a client with dummy keys for that; nothing more is needed. */

/* ---- the gateway session (proto/gwsess) ------------------------------------ */

/* The websocket opened (wall clock in Unix seconds). */
EMSCRIPTEN_KEEPALIVE void
nw_open(struct nw *c, double wall_s, double now_ms)
{
	c->now_ms = (uint64_t)now_ms;
	c->backlog = 0;
	nym_gwsess_open(c->gs, (uint64_t)wall_s);
}

/* The websocket closed: nothing is sent until nw_open again. */
EMSCRIPTEN_KEEPALIVE void
nw_closed(struct nw *c, double now_ms)
{
	c->now_ms = (uint64_t)now_ms;
	nym_gwsess_closed(c->gs);
	nym_mixcore_set_ready(c->core, 0, c->now_ms);
}

/* enum nym_gwsess_state (NYM_GWSESS_DEAD = 8: the session gave up). */
EMSCRIPTEN_KEEPALIVE int
nw_state(struct nw *c)
{
	return (int)nym_gwsess_state(c->gs);
}

static void tag_derive(const struct nym_client_keys *k, const struct nym_address *to, uint8_t tag[16]);

/* A peer we wrote to anonymously asks for more SURBs: send them (at most
 * 500, 100 per message), as the official client does. */
static void
answer_surb_request(struct nw *c, const struct nym_message *msg)
{
	struct nw_anon *a;
	uint8_t tag[16];
	uint32_t left = msg->amount > NYM_MAX_SURB_REQUEST ? NYM_MAX_SURB_REQUEST : msg->amount;
	for (a = c->anon; a && memcmp(&a->to, msg->recipient, sizeof a->to); a = a->next)
		;
	if (!a) {
		say(c, 6, "ignored a SurbRequest from someone we never wrote to (%s)", NYM_ENOTFOUND);
		return;
	}
	tag_derive(&c->keys, &a->to, tag);
	while (left) {
		uint32_t n = left > NYM_SURBS_PER_MESSAGE ? NYM_SURBS_PER_MESSAGE : left;
		struct nym_mixcore_dest d = {&a->to, NULL};
		struct nym_mixcore_msg *m = nym_mixcore_msg_new(c->core, 0, &d);
		int e;
		if (!m)
			return;
		e = nym_courier_send_additional_surbs(c->sender, &a->to, tag, n, c->rkeys, c->now_ms, &c->routes,
		    &c->rng, nym_mixcore_collect, m);
		if (e < 0 || (e = nym_mixcore_commit(c->core, m, NULL)) < 0) {
			nym_mixcore_discard(m);
			say(c, 6, "cannot answer a SurbRequest: %s", e);
			return;
		}
		left -= n;
	}
}

/* The SURBs an anonymous message carried are kept; its data goes up. */
static void
deliver(struct nw *c, const struct nym_message *msg)
{
	switch (msg->type) {
	case NYM_MESSAGE_PLAIN:
		js_out(c, 4, msg->data, msg->data_len, NULL, 0);
		break;
	case NYM_MESSAGE_REPLIABLE:
		if (msg->nsurbs && msg->surb_len &&
		    nym_surbstore_add(c->surbs, msg->sender_tag, msg->surbs, msg->nsurbs, msg->surb_len,
		        msg->content_tag >= NYM_REPLIABLE_DATA_V2 ? msg->surb_rotation : NYM_ROTATION_UNKNOWN) < 0)
			say(c, 6, "cannot keep the reply SURBs of a message: %s", NYM_ENOMEM);
		if (msg->content_tag == NYM_REPLIABLE_DATA_V1 || msg->content_tag == NYM_REPLIABLE_DATA_V2)
			js_out(c, 4, msg->data, msg->data_len, msg->sender_tag, 16);
		break;
	case NYM_MESSAGE_REPLY:
		if (msg->content_tag == NYM_REPLY_DATA)
			js_out(c, 4, msg->data, msg->data_len, NULL, 0);
		else if (msg->content_tag == NYM_REPLY_SURB_REQUEST)
			answer_surb_request(c, msg);
		break;
	}
}

static void
pushed(struct nw *c, const uint8_t *pt, size_t len)
{
	struct nym_courier_received r;
	memset(&r, 0, sizeof r);
	int k = nym_courier_receive(c->receiver, pt, len, c->now_ms, &r);
	if (k == NYM_RECV_ACK)
		nym_mixcore_ack(c->core, r.frag_id);
	else if (k == NYM_RECV_MESSAGE)
		deliver(c, &r.msg);
	nym_courier_received_free(&r);
}

/* One websocket frame in (binary = 1 for a binary frame). */
EMSCRIPTEN_KEEPALIVE void
nw_frame(struct nw *c, int binary, const uint8_t *data, size_t len, double wall_s, double now_ms)
{
	c->now_ms = (uint64_t)now_ms;
	nym_gwsess_frame(c->gs, binary, data, len, (uint64_t)wall_s);
}

/* Do what is due; returns microseconds until the next call (JS setTimeout),
 * UINT32_MAX-ish when nothing is due. backlog: the socket's bufferedAmount. */
EMSCRIPTEN_KEEPALIVE double
nw_poll(struct nw *c, double now_ms, double backlog)
{
	c->now_ms = (uint64_t)now_ms;
	c->backlog = (size_t)backlog;
	uint64_t us = nym_mixcore_poll(c->core, c->now_ms);
	return us == UINT64_MAX ? -1 : (double)us;
}

/* ---- sending ---------------------------------------------------------------- */

static int
split_plain(struct nw *c, struct nym_mixcore_msg *m, const uint8_t *data, size_t len)
{
	struct nym_message msg;
	struct nym_split sp;
	uint8_t *buf, *frag = NULL, id[NYM_FRAG_ID_LEN];
	size_t n;
	int e;
	memset(&msg, 0, sizeof msg);
	msg.type = NYM_MESSAGE_PLAIN;
	msg.data = data;
	msg.data_len = len;
	n = nym_message_encoded_len(&msg);
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &msg)) < 0 || (e = nym_split_init(&sp, buf, n, c->P, &c->rng)) < 0) {
		free(buf);
		return e;
	}
	if (!(frag = malloc(c->P))) {
		e = NYM_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < sp.nfrags; i++)
		if ((e = nym_split_fragment(&sp, i, frag, id)) < 0 ||
		    (e = nym_mixcore_fragment(m, i, sp.nfrags, frag, (size_t)e, id)) < 0)
			goto out;
	e = 0;
out:
	free(frag);
	nym_split_free(&sp);
	free(buf);
	return e;
}

/* The sender tag towards `to`: stable per (identity, recipient), as
 * io/mixclient's nym_mixclient_tag_derive. */
static void
tag_derive(const struct nym_client_keys *k, const struct nym_address *to, uint8_t tag[16])
{
	struct nym_blake3 h;
	uint8_t out[32];
	nym_blake3_init(&h);
	nym_blake3_update(&h, "nymkit sender tag v1", 20);
	nym_blake3_update(&h, k->identity_seed, 32);
	nym_blake3_update(&h, to, sizeof *to);
	nym_blake3_final(&h, out, 32);
	memcpy(tag, out, 16);
	nym_wipe(out, sizeof out);
	nym_wipe(&h, sizeof h);
}

/* Send data to the address text `to`; surbs < 0: plain, else anonymous
 * with that many reply SURBs. Returns the message id (> 0) or NYM_E*. */
EMSCRIPTEN_KEEPALIVE double
nw_send(struct nw *c, const char *to_text, const uint8_t *data, size_t len, int surbs, double now_ms)
{
	struct nym_address to;
	struct nym_mixcore_msg *m;
	uint64_t id = 0;
	int e;
	c->now_ms = (uint64_t)now_ms;
	if ((e = nym_address_parse(&to, to_text, c->err, sizeof c->err)) < 0)
		return e;
	if (!c->topo || !nym_topology_find_identity(c->topo, to.gateway))
		return NYM_EROUTE;
	struct nym_mixcore_dest d = {&to, NULL};
	if (!(m = nym_mixcore_msg_new(c->core, 0, &d)))
		return NYM_ENOMEM;
	if (surbs < 0)
		e = split_plain(c, m, data, len);
	else {
		uint8_t tag[16];
		struct nw_anon *a;
		for (a = c->anon; a && memcmp(&a->to, &to, sizeof to); a = a->next)
			;
		if (!a && (a = calloc(1, sizeof *a))) {
			a->to = to;
			a->next = c->anon;
			c->anon = a;
		}
		tag_derive(&c->keys, &to, tag);
		e = nym_courier_send_anonymous(c->sender, &to, tag, data, len, (size_t)surbs, c->rkeys, c->now_ms,
		    &c->routes, &c->rng, nym_mixcore_collect, m);
	}
	if (e < 0 || (e = nym_mixcore_commit(c->core, m, &id)) < 0) {
		nym_mixcore_discard(m);
		return e;
	}
	return (double)id;
}

/* Reply through the SURBs sender tag `tag` (16 bytes) gave us. */
EMSCRIPTEN_KEEPALIVE double
nw_reply(struct nw *c, const uint8_t tag[16], const uint8_t *data, size_t len, double now_ms)
{
	struct nym_message msg;
	struct nym_reply_surb *rs;
	struct nym_mixcore_msg *m;
	uint8_t *buf;
	size_t n, need, got = 0;
	uint64_t id = 0;
	int e;
	c->now_ms = (uint64_t)now_ms;
	if (!nym_surbstore_count(c->surbs, tag))
		return NYM_ENOTFOUND;
	if (!len)
		return NYM_EINVAL;
	memset(&msg, 0, sizeof msg);
	msg.type = NYM_MESSAGE_REPLY;
	msg.content_tag = NYM_REPLY_DATA;
	msg.data = data;
	msg.data_len = len;
	n = nym_message_encoded_len(&msg);
	need = nym_message_packets(n, c->P);
	if (need > nym_surbstore_count(c->surbs, tag))
		return NYM_EFULL;
	if (!(buf = malloc(n)))
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, &msg)) < 0) {
		free(buf);
		return e;
	}
	struct nym_mixcore_dest d = {NULL, tag};
	if (!(rs = calloc(need, sizeof *rs)) || !(m = nym_mixcore_msg_new(c->core, 0, &d))) {
		free(rs);
		free(buf);
		return NYM_ENOMEM;
	}
	while (got < need && nym_surbstore_take(c->surbs, tag, &rs[got]) == 0)
		got++;
	e = got < need ? NYM_EFULL :
	    nym_courier_send_reply(c->sender, rs, got, buf, n, &c->routes, &c->rng, nym_mixcore_collect, m);
	nym_wipe(rs, need * sizeof *rs);
	free(rs);
	free(buf);
	if (e < 0 || (e = nym_mixcore_commit(c->core, m, &id)) < 0) {
		nym_mixcore_discard(m);
		return e;
	}
	return (double)id;
}

/* Fragments not acknowledged yet (all messages). */
EMSCRIPTEN_KEEPALIVE double
nw_unacked(struct nw *c)
{
	return (double)nym_mixcore_unacked(c->core, 0);
}

EMSCRIPTEN_KEEPALIVE double
nw_msg_unacked(struct nw *c, double id)
{
	return (double)nym_mixcore_msg_unacked(c->core, (uint64_t)id);
}

EMSCRIPTEN_KEEPALIVE const char *
nw_strerror(int e)
{
	return nym_strerror(e);
}

/* ---- for make bench ------------------------------------------------------------- */

/* Build n 4-hop Sphinx packets (v259, regular size) as bench/bench_sphinx.c
 * does natively; JS times the call. Returns 0 or NYM_E*. */
EMSCRIPTEN_KEEPALIVE int
nw_bench_sphinx(int n)
{
	enum { LEN = 2413 };
	static uint8_t pkt[LEN], msg[2048], sk[32];
	struct nym_sphinx_ctx ctx;
	struct nym_sphinx_route r;
	struct nym_rng rng = {rng_fill, NULL};
	int e = 0;
	if (nym_sphinx_ctx_init(&ctx) < 0)
		return NYM_ECRYPTO;
	memset(&r, 0, sizeof r);
	r.version = 259;
	r.nhops = 4;
	js_random(msg, sizeof msg);
	for (int i = 0; i < 4; i++) {
		js_random(sk, 32);
		nym_x25519_base(r.hop[i].pubkey, sk);
		memset(r.hop[i].address, i + 1, 32);
		r.delay_ns[i] = 15000000;
	}
	for (int i = 0; i < n && e == 0; i++)
		e = nym_sphinx_create(&ctx, pkt, LEN, &r, msg, sizeof msg, &rng);
	nym_sphinx_ctx_free(&ctx);
	return e;
}
