/* gwsess.c — the sans-I/O client gateway session of gwsess.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "proto/gwsess.h"

struct nym_gwsess {
	struct nym_client_keys keys;
	uint8_t gateway[32];
	uint8_t key[NYM_GW_KEY_LEN];
	int have_key, registered_now, reregistered;
	enum nym_gwsess_state state;
	int version;
	int64_t bandwidth;
	uint64_t last_auth_ts, wall_s;
	struct nym_gw_hs_client hs;
	const struct nym_rng *rng;
	struct nym_gwsess_ops ops;
	uint8_t *frame, *tmp;
	size_t frame_cap;
};

struct nym_gwsess *
nym_gwsess_new(const struct nym_client_keys *keys, const uint8_t gateway[32], const uint8_t *key,
               const struct nym_rng *rng, const struct nym_gwsess_ops *ops)
{
	struct nym_gwsess *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->keys = *keys;
	memcpy(s->gateway, gateway, 32);
	if (key) {
		memcpy(s->key, key, NYM_GW_KEY_LEN);
		s->have_key = 1;
	}
	s->rng = rng;
	s->ops = *ops;
	return s;
}

void
nym_gwsess_free(struct nym_gwsess *s)
{
	if (!s)
		return;
	free(s->frame);
	free(s->tmp);
	nym_wipe(s, sizeof *s);
	free(s);
}

enum nym_gwsess_state
nym_gwsess_state(const struct nym_gwsess *s)
{
	return s->state;
}

int
nym_gwsess_version(const struct nym_gwsess *s)
{
	return s->version;
}

static void
warn(struct nym_gwsess *s, const char *why)
{
	if (s->ops.warning)
		s->ops.warning(s->ops.ctx, why);
}

static void
fatal(struct nym_gwsess *s, int err, const char *why)
{
	s->state = NYM_GWSESS_DEAD;
	nym_gw_hs_wipe(&s->hs, sizeof s->hs);
	if (s->ops.fatal)
		s->ops.fatal(s->ops.ctx, err, why);
}

static void
send_json(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	char *out = NULL;
	size_t len = 0;
	if (nym_gw_msg_encode(m, &out, &len) == 0)
		s->ops.send(s->ops.ctx, 0, (const uint8_t *)out, len);
	free(out);
}

static void
send_handshake(struct nym_gwsess *s, const uint8_t *data, size_t len)
{
	char *out = NULL;
	size_t olen;
	if (nym_gw_json_handshake(&out, &olen, 1, (uint8_t)s->version, data, len) == 0)
		s->ops.send(s->ops.ctx, 0, (const uint8_t *)out, olen);
	free(out);
}

static void
claim_or_ready(struct nym_gwsess *s)
{
	if (s->bandwidth < NYM_GW_LOW_BANDWIDTH) {
		struct nym_gw_msg m = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
		s->state = NYM_GWSESS_CLAIM;
		send_json(s, &m);
		return;
	}
	s->state = NYM_GWSESS_READY;
	if (s->ops.ready)
		s->ops.ready(s->ops.ctx, s->registered_now);
}

static void
auth_start(struct nym_gwsess *s)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_AUTHENTICATE_V2};
	uint64_t now = s->wall_s;
	/* the gateway wants strictly increasing seconds */
	if (now <= s->last_auth_ts)
		now = s->last_auth_ts + 1;
	s->last_auth_ts = now;
	if (nym_gw_auth_build(&m.auth, (uint8_t)s->version, s->keys.identity_seed, s->key, now, s->rng) < 0) {
		fatal(s, NYM_ECRYPTO, "cannot build authenticateV2");
		return;
	}
	m.has_version = 1;
	m.version = (uint8_t)s->version;
	s->state = NYM_GWSESS_AUTH;
	send_json(s, &m);
}

static void
register_start(struct nym_gwsess *s)
{
	uint8_t m1[NYM_GW_M1_LEN];
	int e = nym_gw_hs_client_start(&s->hs, s->keys.identity_seed, s->gateway, s->rng, m1);
	if (e < 0) {
		fatal(s, e, "cannot start the registration handshake");
		return;
	}
	s->state = NYM_GWSESS_HS_M2;
	send_handshake(s, m1, sizeof m1);
}

void
nym_gwsess_open(struct nym_gwsess *s, uint64_t wall_s)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_SUPPORTED_PROTOCOL};
	if (s->state == NYM_GWSESS_DEAD)
		return;
	s->wall_s = wall_s;
	s->registered_now = 0;
	s->state = NYM_GWSESS_PROTO;
	send_json(s, &m);
}

void
nym_gwsess_closed(struct nym_gwsess *s)
{
	if (s->state != NYM_GWSESS_DEAD)
		s->state = NYM_GWSESS_IDLE;
	nym_gw_hs_wipe(&s->hs, sizeof s->hs);
}

static void
handshake_in(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	uint8_t m3[NYM_GW_M3_LEN];
	int e;
	if (s->state == NYM_GWSESS_HS_M2) {
		if (m->has_version && m->version > NYM_GW_PROTOCOL_VERSION) {
			fatal(s, NYM_EVERSION, "the gateway chose a protocol newer than ours");
			return;
		}
		if (m->has_version && m->version >= NYM_GW_MIN_AUTH_VERSION)
			s->version = m->version;
		if ((e = nym_gw_hs_client_m2(&s->hs, m->hs, m->hs_len, s->rng, m3)) < 0) {
			fatal(s, e, e == NYM_EMAC ? "registration: the gateway's signature does not verify "
			                            "(not the gateway the topology names)" :
			                            "registration: malformed handshake message from the gateway");
			return;
		}
		s->state = NYM_GWSESS_HS_M4;
		send_handshake(s, m3, sizeof m3);
	} else if (s->state == NYM_GWSESS_HS_M4) {
		e = nym_gw_hs_client_m4(&s->hs, m->hs, m->hs_len, s->key);
		nym_gw_hs_wipe(&s->hs, sizeof s->hs);
		if (e < 0) {
			fatal(s, e, "registration refused by the gateway");
			return;
		}
		s->have_key = 1;
		s->registered_now = 1;
		s->bandwidth = 0;
		s->state = NYM_GWSESS_REGISTER;
		if (s->ops.registered)
			s->ops.registered(s->ops.ctx, s->key);
	}
}

static void
text_in(struct nym_gwsess *s, const char *data, size_t len)
{
	struct nym_gw_msg m;
	char why[512];
	memset(&m, 0, sizeof m);
	if (nym_gw_msg_parse(&m, 0, data, len) < 0) {
		warn(s, "the gateway sent malformed JSON");
		return;
	}
	switch (m.type) {
	case NYM_GW_RESP_SUPPORTED_PROTOCOL:
		if (s->state != NYM_GWSESS_PROTO)
			break;
		if (!m.has_version || m.version < NYM_GW_MIN_AUTH_VERSION) {
			snprintf(why, sizeof why, "the gateway speaks protocol %d, at least %d is needed",
			         m.has_version ? m.version : 0, NYM_GW_MIN_AUTH_VERSION);
			fatal(s, NYM_EVERSION, why);
			break;
		}
		s->version = m.version > NYM_GW_PROTOCOL_VERSION ? NYM_GW_PROTOCOL_VERSION : m.version;
		if (s->have_key)
			auth_start(s);
		else
			register_start(s);
		break;
	case NYM_GW_RESP_HANDSHAKE:
		handshake_in(s, &m);
		break;
	case NYM_GW_RESP_HANDSHAKE_ERROR:
		snprintf(why, sizeof why, "registration failed: %s", m.text ? m.text : "handshake error");
		fatal(s, NYM_EPROTO, why);
		break;
	case NYM_GW_RESP_REGISTER:
		if (s->state != NYM_GWSESS_REGISTER)
			break;
		if (!m.status) {
			fatal(s, NYM_EPROTO, "the gateway refused the registration");
			break;
		}
		if (m.has_version && m.version >= NYM_GW_MIN_AUTH_VERSION && m.version <= NYM_GW_PROTOCOL_VERSION)
			s->version = m.version;
		claim_or_ready(s);
		break;
	case NYM_GW_RESP_AUTHENTICATE:
		if (s->state != NYM_GWSESS_AUTH)
			break;
		if (!m.status) {
			fatal(s, NYM_EPERM, "the gateway refused authentication");
			break;
		}
		s->bandwidth = m.bandwidth;
		claim_or_ready(s);
		break;
	case NYM_GW_RESP_BANDWIDTH:
		s->bandwidth = m.bandwidth;
		if (s->state != NYM_GWSESS_CLAIM)
			break;
		if (m.bandwidth <= 0) {
			fatal(s, NYM_EPROTO, "the gateway granted no bandwidth to a free claim");
			break;
		}
		s->state = NYM_GWSESS_READY;
		if (s->ops.ready)
			s->ops.ready(s->ops.ctx, s->registered_now);
		break;
	case NYM_GW_RESP_SEND:
		s->bandwidth = m.bandwidth;
		break;
	case NYM_GW_RESP_TYPED_ERROR:
		if (m.typed_error == NYM_GW_TE_OUT_OF_BANDWIDTH) {
			/* the packet is lost to the gateway: its ack never comes and
			 * the caller's retransmission sends it again after the claim */
			struct nym_gw_msg q = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
			send_json(s, &q);
			warn(s, "gateway: out of bandwidth (claiming more)");
		} else
			warn(s, "gateway: ticket replay");
		break;
	case NYM_GW_RESP_ERROR:
		snprintf(why, sizeof why, "gateway: %s", m.text ? m.text : "error");
		if (s->state == NYM_GWSESS_AUTH && m.text && strstr(m.text, "not registered") && !s->reregistered) {
			/* the gateway lost our registration: register afresh on the
			 * next connection (the gateway closes this one) */
			s->have_key = 0;
			s->reregistered = 1;
			warn(s, why);
		} else if (s->state == NYM_GWSESS_AUTH && m.text && strstr(m.text, "previously used")) {
			s->last_auth_ts++; /* another process authenticated this second */
			warn(s, why);
		} else if (s->state == NYM_GWSESS_READY)
			warn(s, why); /* the answer to one packet */
		else
			fatal(s, NYM_EPROTO, why);
		break;
	default:
		break;
	}
	nym_gw_msg_free(&m);
}

void
nym_gwsess_frame(struct nym_gwsess *s, int binary, const uint8_t *data, size_t len, uint64_t wall_s)
{
	uint8_t kind;
	int n;
	s->wall_s = wall_s;
	if (s->state == NYM_GWSESS_DEAD)
		return;
	if (!binary) {
		text_in(s, (const char *)data, len);
		return;
	}
	if (!s->have_key || s->state == NYM_GWSESS_HS_M2 || s->state == NYM_GWSESS_HS_M4 ||
	    len < NYM_GW_BIN_HDR_LEN)
		return;
	uint8_t *pt = malloc(len);
	if (!pt)
		return;
	n = nym_gw_bin_open(&kind, pt, len, data, len, s->key);
	if (n >= 0 && kind == NYM_GW_BIN_PUSHED && s->ops.pushed)
		s->ops.pushed(s->ops.ctx, pt, (size_t)n);
	else if (n < 0)
		warn(s, "undecryptable frame from the gateway");
	free(pt);
}

int
nym_gwsess_forward(struct nym_gwsess *s, const uint8_t *mp, size_t len)
{
	const uint8_t *pt = mp;
	uint8_t kind = NYM_GW_BIN_FORWARD_SPHINX_V2;
	int n;
	if (s->state != NYM_GWSESS_READY)
		return NYM_ENET;
	if (len < 3)
		return NYM_EINVAL;
	if (len + NYM_GW_BIN_OVERHEAD > s->frame_cap) {
		uint8_t *nb = realloc(s->frame, len + NYM_GW_BIN_OVERHEAD), *nt;
		if (!nb)
			return NYM_ENOMEM;
		s->frame = nb;
		if (!(nt = realloc(s->tmp, len)))
			return NYM_ENOMEM;
		s->tmp = nt;
		s->frame_cap = len + NYM_GW_BIN_OVERHEAD;
	}
	if (s->version < NYM_GW_KEY_ROTATION_VERSION) {
		/* a v1 MixPacket: the same without the key-rotation byte */
		kind = NYM_GW_BIN_FORWARD_SPHINX;
		s->tmp[0] = mp[0];
		memcpy(s->tmp + 1, mp + 2, len - 2);
		pt = s->tmp;
		len--;
	}
	n = nym_gw_bin_seal(s->frame, s->frame_cap, kind, pt, len, s->key, s->rng);
	if (n < 0)
		return n;
	s->ops.send(s->ops.ctx, 1, s->frame, (size_t)n);
	return 0;
}
