/* courier.c — sender and receiver of the message layer (doc/spec/nym-message.md §4–§7). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/courier.h"
#include "proto/cover.h"
#include "proto/delay.h"
#include "proto/payload.h"

/* The packet is built at buf + PKT_OFF so that the MixPacket header (at most
 * 2 + 19 bytes) can be written right in front of it: no copy. */
#define PKT_OFF (2 + NYM_NEXT_HOP_MAX)

struct nym_courier_sender {
	struct nym_client_keys keys;
	uint8_t gateway[32];
	struct nym_courier_config cfg;
	struct nym_sphinx_ctx ctx;
	size_t packet_len, cap;
	uint8_t *buf;   /* PKT_OFF + packet_len */
	uint8_t *frag;  /* cap: the plaintext fragment of the packet being built */
};

void
nym_courier_config_default(struct nym_courier_config *c)
{
	memset(c, 0, sizeof *c);
	c->sphinx_version = NYM_SPHINX_V259;
	c->cover_version = NYM_SPHINX_V258;
	c->packet_delay_ns = NYM_AVERAGE_PACKET_DELAY_NS;
	c->ack_delay_ns = NYM_AVERAGE_ACK_DELAY_NS;
	c->size_tag = NYM_SIZE_REGULAR;
	c->key_rotation = NYM_ROTATION_UNKNOWN;
	c->mix_packet_version = NYM_MIX_PACKET_V2;
	c->ack_wait_multiplier = NYM_ACK_WAIT_MULTIPLIER;
	c->ack_wait_addition_ms = NYM_ACK_WAIT_ADDITION_MS;
}

struct nym_courier_sender *
nym_courier_sender_new(const struct nym_client_keys *keys, const uint8_t own_gateway[32],
                   const struct nym_courier_config *cfg)
{
	struct nym_courier_sender *s = calloc(1, sizeof *s);
	long plen;

	if (!s)
		return NULL;
	if (cfg)
		s->cfg = *cfg;
	else
		nym_courier_config_default(&s->cfg);
	plen = nym_size_tag_plaintext(s->cfg.size_tag);
	if (plen < 0 || s->cfg.size_tag == NYM_SIZE_ACK ||
	    (s->cfg.mix_packet_version != NYM_MIX_PACKET_V1 && s->cfg.mix_packet_version != NYM_MIX_PACKET_V2)) {
		free(s);
		return NULL;
	}
	s->packet_len = (size_t)nym_size_tag_len(s->cfg.size_tag);
	s->cap = NYM_PACKET_FRAGMENT_CAP(s->packet_len);
	s->keys = *keys;
	memcpy(s->gateway, own_gateway, 32);
	s->buf = malloc(PKT_OFF + s->packet_len);
	s->frag = malloc(s->cap);
	if (!s->buf || !s->frag || nym_sphinx_ctx_init(&s->ctx) < 0) {
		free(s->buf);
		free(s->frag);
		nym_wipe(s, sizeof *s);
		free(s);
		return NULL;
	}
	return s;
}

void
nym_courier_sender_free(struct nym_courier_sender *s)
{
	if (!s)
		return;
	nym_sphinx_ctx_free(&s->ctx);
	nym_wipe(s->frag, s->cap);
	free(s->buf);
	free(s->frag);
	nym_wipe(s, sizeof *s);
	free(s);
}

void
nym_courier_sender_set_rotation(struct nym_courier_sender *s, uint8_t key_rotation)
{
	s->cfg.key_rotation = key_rotation;
}

static int
route(struct nym_courier_sender *s, struct nym_sphinx_route *r, uint16_t version, const uint8_t gateway[32],
      const uint8_t dest[32], uint64_t mean, const struct nym_route_source *routes,
      const struct nym_rng *rng)
{
	struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS];
	int n = routes->pick(routes->ctx, gateway, hops);

	(void)s;
	if (n < 0)
		return n;
	if (n < 1 || n > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	return nym_sphinx_route_prepare(r, version, hops, (size_t)n, dest, mean, rng);
}

/* Put the MixPacket header in front of the packet at buf + PKT_OFF. */
static int
finish(struct nym_courier_sender *s, struct nym_courier_packet *p, const uint8_t *next_hop, size_t nh_len,
       uint8_t rotation)
{
	struct nym_mix_packet mp = { 0 };
	size_t hl;
	uint8_t *start;
	int e;

	if ((e = nym_mix_packet_set_next_hop(&mp, next_hop, nh_len)) < 0)
		return e;
	hl = (size_t)s->cfg.mix_packet_version + mp.next_hop_len;
	start = s->buf + PKT_OFF - hl;
	mp.packet_type = NYM_PACKET_TYPE_MIX;
	mp.key_rotation = rotation;
	mp.packet = s->buf + PKT_OFF;
	mp.packet_len = s->packet_len;
	if ((e = nym_mix_packet_encode(start, hl + s->packet_len, s->cfg.mix_packet_version, &mp)) < 0)
		return e;
	p->mix_packet = start;
	p->mix_packet_len = (size_t)e;
	return 0;
}

/* A regular packet carrying s->frag to `to`. */
static int
build_regular(struct nym_courier_sender *s, const struct nym_address *to, struct nym_courier_packet *p,
              const struct nym_route_source *routes, const struct nym_rng *rng)
{
	struct nym_sphinx_route fwd, ackr;
	uint8_t *pkt = s->buf + PKT_OFF;
	uint16_t v = s->cfg.sphinx_version;
	int e;

	if ((e = route(s, &fwd, v, to->gateway, to->identity, s->cfg.packet_delay_ns, routes, rng)) < 0 ||
	    (e = route(s, &ackr, v, s->gateway, s->keys.identity_pk, s->cfg.ack_delay_ns, routes, rng)) < 0)
		return e;
	if ((e = nym_ack_block(&s->ctx, pkt + NYM_PACKET_PLAINTEXT_OFF, &ackr, s->keys.ack_key, p->frag_id, rng)) < 0 ||
	    (e = nym_payload_encrypt(&s->ctx.aes, pkt + NYM_PACKET_PREFIX_OFF, s->frag, s->cap, to->encryption, rng)) < 0 ||
	    (e = nym_sphinx_create(&s->ctx, pkt, s->packet_len, &fwd, pkt + NYM_PACKET_PLAINTEXT_OFF,
	                           s->packet_len - NYM_PACKET_PLAINTEXT_OFF - 1, rng)) < 0)
		return e;
	p->delay_ns = nym_sphinx_route_delay_ns(&fwd) + nym_sphinx_route_delay_ns(&ackr);
	p->timeout_ms = nym_ack_timeout_ms(p->delay_ns, s->cfg.ack_wait_multiplier, s->cfg.ack_wait_addition_ms);
	p->fragment = s->frag;
	p->fragment_len = s->cap;
	return finish(s, p, fwd.hop[0].address, NYM_SPHINX_ADDR_LEN, s->cfg.key_rotation);
}

/* A reply packet carrying s->frag through surb. */
static int
build_reply(struct nym_courier_sender *s, const struct nym_reply_surb *surb, struct nym_courier_packet *p,
            const struct nym_route_source *routes, const struct nym_rng *rng)
{
	struct nym_sphinx_route ackr;
	struct nym_mix_packet mp;
	uint8_t *pkt = s->buf + PKT_OFF;
	int e;

	if ((e = route(s, &ackr, s->cfg.sphinx_version, s->gateway, s->keys.identity_pk, s->cfg.ack_delay_ns,
	               routes, rng)) < 0)
		return e;
	memcpy(pkt + NYM_PACKET_FRAGMENT_OFF, s->frag, s->cap);
	if ((e = nym_reply_packet(&s->ctx, pkt, s->packet_len, &mp, surb, &ackr, s->keys.ack_key, p->frag_id, rng)) < 0)
		return e;
	/* the SURB's delays are unknown to the replier: 3 × the mean */
	p->delay_ns = 3 * s->cfg.packet_delay_ns + nym_sphinx_route_delay_ns(&ackr);
	p->timeout_ms = nym_ack_timeout_ms(p->delay_ns, s->cfg.ack_wait_multiplier, s->cfg.ack_wait_addition_ms);
	p->fragment = s->frag;
	p->fragment_len = s->cap;
	p->reply = 1;
	return finish(s, p, mp.next_hop, mp.next_hop_len, mp.key_rotation);
}

/* Split msg and emit one packet per fragment (through surbs if given). */
static int
send_split(struct nym_courier_sender *s, const struct nym_address *to, const struct nym_reply_surb *surbs,
           size_t nsurbs, const uint8_t *msg, size_t len, const struct nym_route_source *routes,
           const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx)
{
	struct nym_split sp;
	struct nym_courier_packet p;
	int e;

	if (len == 0)
		return NYM_EINVAL; /* an empty NymMessage is invalid */
	if (surbs && nym_message_packets(len, s->cap) > nsurbs)
		return NYM_EFULL;
	if ((e = nym_split_init(&sp, msg, len, s->cap, rng)) < 0)
		return e;
	if (sp.nfrags > INT32_MAX) {
		nym_split_free(&sp);
		return NYM_ETOOBIG;
	}
	for (size_t i = 0; i < sp.nfrags; i++) {
		memset(&p, 0, sizeof p);
		p.index = i;
		p.count = sp.nfrags;
		if ((e = nym_split_fragment(&sp, i, s->frag, p.frag_id)) < 0)
			break;
		e = surbs ? build_reply(s, &surbs[i], &p, routes, rng) : build_regular(s, to, &p, routes, rng);
		if (e < 0 || (e = emit(ctx, &p)) < 0)
			break;
	}
	e = e < 0 ? e : (int)sp.nfrags;
	nym_split_free(&sp);
	return e;
}

size_t
nym_courier_sender_capacity(const struct nym_courier_sender *s)
{
	return s->cap;
}

int
nym_courier_send_part(struct nym_courier_sender *s, const struct nym_address *to, const struct nym_split *plan,
                  size_t first, size_t count, const struct nym_route_source *routes,
                  const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx)
{
	struct nym_courier_packet p;
	int e;

	if (plan->P != s->cap || first > plan->nfrags || count > plan->nfrags - first || count > INT32_MAX)
		return NYM_EINVAL;
	for (size_t i = first; i < first + count; i++) {
		memset(&p, 0, sizeof p);
		p.index = i;
		p.count = plan->nfrags;
		if ((e = nym_split_fragment(plan, i, s->frag, p.frag_id)) < 0 ||
		    (e = build_regular(s, to, &p, routes, rng)) < 0 || (e = emit(ctx, &p)) < 0)
			return e;
	}
	return (int)count;
}

int
nym_courier_send(struct nym_courier_sender *s, const struct nym_address *to, const uint8_t *nym_message,
             size_t len, const struct nym_route_source *routes, const struct nym_rng *rng,
             nym_courier_emit_fn emit, void *ctx)
{
	return send_split(s, to, NULL, 0, nym_message, len, routes, rng, emit, ctx);
}

static int
send_encoded(struct nym_courier_sender *s, const struct nym_address *to, const struct nym_message *m,
             const struct nym_route_source *routes, const struct nym_rng *rng, nym_courier_emit_fn emit,
             void *ctx)
{
	size_t n = nym_message_encoded_len(m);
	uint8_t *buf = malloc(n ? n : 1);
	int e;

	if (!buf)
		return NYM_ENOMEM;
	if ((e = nym_message_encode(buf, n, m)) >= 0)
		e = nym_courier_send(s, to, buf, n, routes, rng, emit, ctx);
	nym_wipe(buf, n); /* may hold SURBs */
	free(buf);
	return e;
}

int
nym_courier_send_plain(struct nym_courier_sender *s, const struct nym_address *to, const uint8_t *data,
                   size_t len, const struct nym_route_source *routes, const struct nym_rng *rng,
                   nym_courier_emit_fn emit, void *ctx)
{
	struct nym_message m = { 0 };

	m.type = NYM_MESSAGE_PLAIN;
	m.data = data;
	m.data_len = len;
	return send_encoded(s, to, &m, routes, rng, emit, ctx);
}

/* A Repliable message with nsurbs fresh SURBs; data only for the Data
 * variants (with_data). */
static int
send_repliable(struct nym_courier_sender *s, const struct nym_address *to,
               const uint8_t sender_tag[NYM_SENDER_TAG_LEN], int with_data, const uint8_t *data,
               size_t len, size_t nsurbs, struct nym_reply_keys *keys, uint64_t now_ms,
               const struct nym_route_source *routes, const struct nym_rng *rng,
               nym_courier_emit_fn emit, void *ctx)
{
	struct nym_message m = { 0 };
	struct nym_reply_surb rs;
	struct nym_sphinx_route r;
	uint16_t v = s->cfg.sphinx_version;
	int v1 = nym_sphinx_version_full_keys(v), e = 0;
	uint8_t *surbs = NULL;
	size_t one = 0;

	memset(&rs, 0, sizeof rs);
	if (nsurbs > (v1 ? 100000u : 0xffffu) || (nsurbs && !keys))
		return NYM_EINVAL;
	for (size_t i = 0; i < nsurbs; i++) {
		if ((e = route(s, &r, v, s->gateway, s->keys.identity_pk, s->cfg.packet_delay_ns, routes, rng)) < 0 ||
		    (e = nym_reply_surb_create(&s->ctx, &rs, &r, s->cfg.key_rotation, rng)) < 0)
			break;
		if (i == 0) {
			one = nym_reply_surb_len(&rs);
			m.surb_hops = (uint8_t)rs.surb.nhops;
			if ((v1 && one != NYM_REPLY_SURB_V1_LEN) || !(surbs = malloc(nsurbs * one))) {
				e = v1 ? NYM_EROUTE : NYM_ENOMEM; /* v1 knows only 4 hops */
				break;
			}
		}
		if (nym_reply_surb_len(&rs) != one) {
			e = NYM_EROUTE; /* a v2 batch has one hop count */
			break;
		}
		nym_reply_surb_serialize(surbs + i * one, one, &rs);
		if ((e = nym_reply_keys_add(keys, rs.reply_key, now_ms)) < 0)
			break;
	}
	nym_wipe(&rs, sizeof rs);
	if (e >= 0) {
		m.type = NYM_MESSAGE_REPLIABLE;
		memcpy(m.sender_tag, sender_tag, NYM_SENDER_TAG_LEN);
		if (with_data)
			m.content_tag = v1 ? NYM_REPLIABLE_DATA_V1 : NYM_REPLIABLE_DATA_V2;
		else
			m.content_tag = v1 ? NYM_REPLIABLE_SURBS_V1 : NYM_REPLIABLE_SURBS_V2;
		m.nsurbs = nsurbs;
		m.surb_len = one;
		m.surb_rotation = s->cfg.key_rotation;
		m.surbs = surbs;
		m.data = data;
		m.data_len = with_data ? len : 0;
		e = send_encoded(s, to, &m, routes, rng, emit, ctx);
	}
	if (surbs) {
		nym_wipe(surbs, nsurbs * one);
		free(surbs);
	}
	return e;
}

int
nym_courier_send_anonymous(struct nym_courier_sender *s, const struct nym_address *to,
                       const uint8_t sender_tag[NYM_SENDER_TAG_LEN], const uint8_t *data, size_t len,
                       size_t nsurbs, struct nym_reply_keys *keys, uint64_t now_ms,
                       const struct nym_route_source *routes, const struct nym_rng *rng,
                       nym_courier_emit_fn emit, void *ctx)
{
	return send_repliable(s, to, sender_tag, 1, data, len, nsurbs, keys, now_ms, routes, rng, emit, ctx);
}

int
nym_courier_send_additional_surbs(struct nym_courier_sender *s, const struct nym_address *to,
                              const uint8_t sender_tag[NYM_SENDER_TAG_LEN], size_t nsurbs,
                              struct nym_reply_keys *keys, uint64_t now_ms,
                              const struct nym_route_source *routes, const struct nym_rng *rng,
                              nym_courier_emit_fn emit, void *ctx)
{
	if (nsurbs == 0 || nsurbs > NYM_SURBS_PER_MESSAGE)
		return NYM_EINVAL;
	return send_repliable(s, to, sender_tag, 0, NULL, 0, nsurbs, keys, now_ms, routes, rng, emit, ctx);
}

int
nym_courier_send_surb_request(struct nym_courier_sender *s, const struct nym_reply_surb *surbs, size_t nsurbs,
                          const struct nym_address *self, uint32_t amount,
                          const struct nym_route_source *routes, const struct nym_rng *rng,
                          nym_courier_emit_fn emit, void *ctx)
{
	struct nym_message m = { 0 };
	uint8_t buf[2 + NYM_RECIPIENT_LEN + 4];
	int e;

	m.type = NYM_MESSAGE_REPLY;
	m.content_tag = NYM_REPLY_SURB_REQUEST;
	memcpy(m.recipient, self->identity, 32);
	memcpy(m.recipient + 32, self->encryption, 32);
	memcpy(m.recipient + 64, self->gateway, 32);
	m.amount = amount;
	if ((e = nym_message_encode(buf, sizeof buf, &m)) < 0)
		return e;
	return nym_courier_send_reply(s, surbs, nsurbs, buf, (size_t)e, routes, rng, emit, ctx);
}

int
nym_courier_send_reply(struct nym_courier_sender *s, const struct nym_reply_surb *surbs, size_t nsurbs,
                   const uint8_t *nym_message, size_t len, const struct nym_route_source *routes,
                   const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx)
{
	if (!surbs || !nsurbs)
		return NYM_EFULL;
	return send_split(s, NULL, surbs, nsurbs, nym_message, len, routes, rng, emit, ctx);
}

int
nym_courier_resend(struct nym_courier_sender *s, const struct nym_address *to, const struct nym_reply_surb *surb,
               const uint8_t *fragment, size_t len, const struct nym_route_source *routes,
               const struct nym_rng *rng, nym_courier_emit_fn emit, void *ctx)
{
	struct nym_fragment f;
	struct nym_courier_packet p = { 0 };
	int e;

	if (len != s->cap)
		return NYM_ESIZE;
	if ((e = nym_fragment_parse(&f, fragment, len)) < 0)
		return e;
	if (!surb && !to)
		return NYM_EINVAL;
	memmove(s->frag, fragment, len);
	nym_fragment_id_encode(p.frag_id, f.set_id, f.position);
	p.count = 1;
	e = surb ? build_reply(s, surb, &p, routes, rng) : build_regular(s, to, &p, routes, rng);
	if (e < 0)
		return e;
	return (e = emit(ctx, &p)) < 0 ? e : 1;
}

int
nym_courier_cover(struct nym_courier_sender *s, const struct nym_route_source *routes, const struct nym_rng *rng,
              nym_courier_emit_fn emit, void *ctx)
{
	struct nym_sphinx_route fwd, ackr;
	struct nym_courier_packet p = { 0 };
	uint16_t v = s->cfg.cover_version;
	int e;

	if ((e = route(s, &fwd, v, s->gateway, s->keys.identity_pk, s->cfg.packet_delay_ns, routes, rng)) < 0 ||
	    (e = route(s, &ackr, v, s->gateway, s->keys.identity_pk, s->cfg.ack_delay_ns, routes, rng)) < 0 ||
	    (e = nym_cover_plaintext(&s->ctx, s->buf + PKT_OFF, s->packet_len, &ackr, s->keys.ack_key,
	                             s->keys.encryption_pk, rng)) < 0)
		return e;
	memcpy(p.cover_epk, s->buf + PKT_OFF + NYM_PACKET_PREFIX_OFF, 32);
	if ((e = nym_sphinx_create(&s->ctx, s->buf + PKT_OFF, s->packet_len, &fwd,
	                           s->buf + PKT_OFF + NYM_PACKET_PLAINTEXT_OFF,
	                           s->packet_len - NYM_PACKET_PLAINTEXT_OFF - 1, rng)) < 0 ||
	    (e = finish(s, &p, fwd.hop[0].address, NYM_SPHINX_ADDR_LEN, s->cfg.key_rotation)) < 0)
		return e;
	p.count = 1;
	p.delay_ns = nym_sphinx_route_delay_ns(&fwd) + nym_sphinx_route_delay_ns(&ackr);
	return (e = emit(ctx, &p)) < 0 ? e : 1;
}

/* --- receiving ------------------------------------------------------------ */

struct nym_courier_receiver {
	struct nym_client_keys keys;
	struct nym_reply_keys *rk;
	struct nym_reasm *ra;
	struct nym_aes128_ctr aes;
	size_t cap;
	uint8_t *buf;
};

struct nym_courier_receiver *
nym_courier_receiver_new(const struct nym_client_keys *keys, struct nym_reply_keys *reply_keys,
                     const struct nym_reasm_limits *limits)
{
	struct nym_courier_receiver *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->keys = *keys;
	r->rk = reply_keys;
	r->cap = 32768 - NYM_ACK_BLOCK_LEN - NYM_PAYLOAD_PREFIX_LEN; /* extended32 */
	r->buf = malloc(r->cap);
	r->ra = nym_reasm_new(limits);
	if (!r->buf || !r->ra || nym_aes128_ctr_init(&r->aes) < 0) {
		nym_courier_receiver_free(r);
		return NULL;
	}
	return r;
}

void
nym_courier_receiver_free(struct nym_courier_receiver *r)
{
	if (!r)
		return;
	nym_aes128_ctr_free(&r->aes);
	nym_reasm_free(r->ra);
	if (r->buf)
		nym_wipe(r->buf, r->cap);
	free(r->buf);
	nym_wipe(r, sizeof *r);
	free(r);
}

struct nym_reasm *
nym_courier_receiver_reasm(struct nym_courier_receiver *r)
{
	return r->ra;
}

void
nym_courier_received_free(struct nym_courier_received *out)
{
	if (out->data) {
		nym_wipe(out->data, out->len);
		free(out->data);
	}
	memset(out, 0, sizeof *out);
}

static int receive_fragment(struct nym_courier_receiver *r, const uint8_t *frag, size_t len,
    uint64_t now_ms, struct nym_courier_received *out);

int
nym_courier_receive(struct nym_courier_receiver *r, const uint8_t *push, size_t len, uint64_t now_ms,
                struct nym_courier_received *out)
{
	uint8_t key[16];
	size_t n;
	int e;

	memset(out, 0, sizeof *out);
	if (len == NYM_ACK_BODY_LEN) {
		if ((e = nym_ack_open(&r->aes, out->frag_id, push, len, r->keys.ack_key)) < 0)
			return e;
		if (nym_ack_is_cover(out->frag_id))
			return out->kind = NYM_RECV_COVER;
		if ((e = nym_fragment_id_decode(&out->set_id, &out->position, out->frag_id)) < 0)
			return e;
		return out->kind = NYM_RECV_ACK;
	}
	if (len < NYM_PAYLOAD_PREFIX_LEN + NYM_FRAG_HEADER_LEN)
		return NYM_ESHORT;
	n = len - NYM_PAYLOAD_PREFIX_LEN;
	if (n > r->cap)
		return NYM_ESIZE;
	/* a reply to us? (the digest of a reply key we handed out) */
	if (r->rk && nym_reply_keys_take(r->rk, push, key, now_ms) == 0) {
		e = nym_payload_reply_decrypt(&r->aes, r->buf, push, len, key);
		nym_wipe(key, sizeof key);
		out->via_reply = 1;
	} else
		e = nym_payload_decrypt(&r->aes, r->buf, push, len, r->keys.encryption_sk);
	if (e < 0)
		return e;
	if (nym_cover_is(r->buf, n))
		return out->kind = NYM_RECV_COVER;
	return receive_fragment(r, r->buf, n, now_ms, out);
}

int
nym_courier_receive_fragment(struct nym_courier_receiver *r, const uint8_t *frag, size_t len,
    uint64_t now_ms, struct nym_courier_received *out)
{
	memset(out, 0, sizeof *out);
	return receive_fragment(r, frag, len, now_ms, out);
}

/* A decrypted fragment into reassembly (out cleared by the caller). */
static int
receive_fragment(struct nym_courier_receiver *r, const uint8_t *frag, size_t len,
    uint64_t now_ms, struct nym_courier_received *out)
{
	struct nym_fragment f;
	uint8_t *padded;
	size_t plen;
	long ul;
	int e;

	if (nym_fragment_parse(&f, frag, len) < 0)
		return NYM_EFORMAT;
	out->fragment = frag;
	out->fragment_len = len;
	e = nym_reasm_add(r->ra, &f, now_ms, &padded, &plen);
	if (e <= 0)
		return e < 0 ? e : (out->kind = NYM_RECV_STORED);
	ul = nym_message_unpad(padded, plen);
	if (ul < 0 || nym_message_parse(&out->msg, padded, (size_t)ul) < 0) {
		nym_wipe(padded, plen);
		free(padded);
		memset(&out->msg, 0, sizeof out->msg);
		return NYM_EFORMAT;
	}
	out->data = padded;
	out->len = (size_t)ul;
	out->set_id = f.set_id; /* the set that completed it (persistent dedup) */
	out->position = f.position;
	return out->kind = NYM_RECV_MESSAGE;
}

int
nym_courier_payload_kind(size_t len)
{
	static const uint8_t tags[] = { NYM_SIZE_REGULAR, NYM_SIZE_EXTENDED8, NYM_SIZE_EXTENDED16,
	                                NYM_SIZE_EXTENDED32 };
	if (len == NYM_ACK_BODY_LEN)
		return NYM_PAYLOAD_ACK;
	for (size_t i = 0; i < sizeof tags; i++) {
		size_t plain = (size_t)nym_size_tag_plaintext(tags[i]);
		if (len == plain)
			return NYM_PAYLOAD_FINAL;
		if (len + NYM_ACK_BLOCK_LEN == plain)
			return NYM_PAYLOAD_PUSH;
	}
	return NYM_PAYLOAD_NONE;
}

const char *
nym_courier_payload_kind_name(int kind)
{
	switch (kind) {
	case NYM_PAYLOAD_FINAL: return "final_payload";
	case NYM_PAYLOAD_PUSH: return "gateway_push";
	case NYM_PAYLOAD_ACK: return "ack";
	default: return NULL;
	}
}

int
nym_courier_payload_push(const uint8_t *payload, size_t len, const uint8_t **push, size_t *push_len)
{
	struct nym_mix_packet ack;
	int k = nym_courier_payload_kind(len), rc;

	if (k == NYM_PAYLOAD_NONE)
		return NYM_ESIZE;
	if (k != NYM_PAYLOAD_FINAL) {
		*push = payload;
		*push_len = len;
		return k;
	}
	/* FINAL is at least 2048 bytes: only the first hop can be wrong */
	if ((rc = nym_ack_block_split(&ack, push, push_len, payload, len)) < 0)
		return rc;
	return k;
}
