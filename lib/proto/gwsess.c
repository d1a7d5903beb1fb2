/* gwsess.c — the sans-I/O client gateway session of gwsess.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "proto/gwsess.h"

/* a gateway that leaves more than this unanswered does not answer per
 * frame: tracking stops for the connection */
#define GS_INFLIGHT_MAX 4096
/* out-of-bandwidth episodes in a row right after a grant before giving up */
#define GS_MAX_STALLS 3

/* The one line for a gateway that takes zk-nym tickets only (§13). */
#define GS_WHY_CREDENTIALS \
	"the gateway requires zk-nym credentials for bandwidth (it answers \"" \
	NYM_GW_ERRTXT_ONLY_ECASH "\"), which nymkit does not have; use another gateway: " \
	"nym-keygen --id NAME --gateway ID --force"

struct gs_pkt {
	struct gs_pkt *next;
	size_t len;
	uint8_t b[];
};

struct gs_list {
	struct gs_pkt *head, *tail;
	size_t n, bytes;
};

struct nym_gwsess {
	struct nym_client_keys keys;
	uint8_t gateway[32];
	uint8_t key[NYM_GW_KEY_LEN];
	int have_key, registered_now, reregistered, quiet_retry, queue;
	enum nym_gwsess_state state;
	int version;
	int64_t bandwidth;
	uint64_t last_auth_ts, wall_s;
	struct nym_gw_hs_client hs;
	const struct nym_rng *rng;
	struct nym_gwsess_ops ops;
	/* q: forwarded, waiting to go out; f: sent, waiting for their one answer
	 * each, oldest first (untracked: given up for this connection); r:
	 * refused as out of bandwidth, sent again first after the claim; h:
	 * pushes that came before ready */
	struct gs_list q, f, r, h;
	int untracked;
	/* an out-of-bandwidth episode: one claim outstanding while ready;
	 * claim_day: the UTC day of the bandwidth held (-1 unknown);
	 * fresh_claim: granted, no packet accepted since; stalls: episodes in
	 * a row that began right after a grant */
	int claim_pending, fresh_claim, stalls;
	int64_t claim_day;
	uint8_t *frame, *tmp;
	size_t frame_cap;
};

static void
list_free(struct gs_list *l)
{
	struct gs_pkt *p, *n;
	for (p = l->head; p; p = n) {
		n = p->next;
		free(p);
	}
	memset(l, 0, sizeof *l);
}

static struct gs_pkt *
list_pop(struct gs_list *l)
{
	struct gs_pkt *p = l->head;
	if (p) {
		l->head = p->next;
		if (!l->head)
			l->tail = NULL;
		p->next = NULL;
		l->n--;
		l->bytes -= p->len;
	}
	return p;
}

static void
list_link(struct gs_list *l, struct gs_pkt *p)
{
	p->next = NULL;
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	l->n++;
	l->bytes += p->len;
}

static struct gs_pkt *
pkt_new(const uint8_t *b, size_t len)
{
	struct gs_pkt *p = malloc(sizeof *p + len);
	if (!p)
		return NULL;
	p->next = NULL;
	p->len = len;
	memcpy(p->b, b, len);
	return p;
}

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
	s->claim_day = -1;
	return s;
}

void
nym_gwsess_free(struct nym_gwsess *s)
{
	if (!s)
		return;
	list_free(&s->q);
	list_free(&s->f);
	list_free(&s->r);
	list_free(&s->h);
	free(s->frame);
	free(s->tmp);
	nym_wipe(s, sizeof *s);
	free(s);
}

void
nym_gwsess_set_queue(struct nym_gwsess *s, int on)
{
	s->queue = on;
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

size_t
nym_gwsess_backlog(const struct nym_gwsess *s)
{
	return s->q.bytes + s->r.bytes;
}

static void
warn(struct nym_gwsess *s, const char *why)
{
	if (s->ops.warning)
		s->ops.warning(s->ops.ctx, why);
}

/* Open a binary frame from the gateway and hand a pushed packet up. */
static void
push(struct nym_gwsess *s, const uint8_t *data, size_t len)
{
	uint8_t kind;
	int n;
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

static void
release_held(struct nym_gwsess *s)
{
	struct gs_pkt *p;
	while ((p = list_pop(&s->h))) {
		push(s, p->b, p->len);
		free(p);
	}
}

static void
fatal(struct nym_gwsess *s, int err, const char *why)
{
	s->state = NYM_GWSESS_DEAD;
	nym_gw_hs_wipe(&s->hs, sizeof s->hs);
	list_free(&s->f);
	release_held(s);
	if (s->ops.fatal)
		s->ops.fatal(s->ops.ctx, err, why);
}

void
nym_gwsess_fail(struct nym_gwsess *s, int err, const char *why)
{
	if (s->state != NYM_GWSESS_DEAD)
		fatal(s, err, why);
}

static void
send_json(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	char *out = NULL;
	size_t len = 0;
	if (nym_gw_msg_encode(m, &out, &len) == 0)
		(void)s->ops.send(s->ops.ctx, 0, (const uint8_t *)out, len);
	free(out);
}

static void
send_handshake(struct nym_gwsess *s, const uint8_t *data, size_t len)
{
	char *out = NULL;
	size_t olen;
	if (nym_gw_json_handshake(&out, &olen, 1, (uint8_t)s->version, data, len) == 0)
		(void)s->ops.send(s->ops.ctx, 0, (const uint8_t *)out, olen);
	free(out);
}

/* The UTC day free bandwidth is granted for (it expires when it changes). */
static int64_t
day(const struct nym_gwsess *s)
{
	return (int64_t)(s->wall_s / 86400);
}

static int
seal_send(struct nym_gwsess *s, const uint8_t *mp, size_t len)
{
	const uint8_t *pt = mp;
	uint8_t kind = NYM_GW_BIN_FORWARD_SPHINX_V2;
	int n;
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
	return s->ops.send(s->ops.ctx, 1, s->frame, (size_t)n);
}

/* A packet just sent: kept until its answer (or freed when untracked). */
static void
track(struct nym_gwsess *s, struct gs_pkt *p)
{
	if (s->untracked) {
		free(p);
		return;
	}
	list_link(&s->f, p);
	if (s->f.n > GS_INFLIGHT_MAX) {
		list_free(&s->f);
		s->untracked = 1;
	}
}

/* Start an out-of-bandwidth episode: one claim; sending waits for it. */
static void
reclaim(struct nym_gwsess *s)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
	if (s->claim_pending)
		return;
	s->claim_pending = 1;
	send_json(s, &m);
}

/* Packets on the wire now? A new UTC day has expired the allowance held:
 * claim first (the gateway would refuse them). */
static int
can_send(struct nym_gwsess *s)
{
	if (s->state != NYM_GWSESS_READY || s->claim_pending)
		return 0;
	if (s->claim_day >= 0 && day(s) != s->claim_day) {
		reclaim(s);
		return 0;
	}
	return 1;
}

static void
flush(struct nym_gwsess *s)
{
	while ((s->r.head || s->q.head) && can_send(s)) {
		struct gs_list *l = s->r.head ? &s->r : &s->q;
		if (seal_send(s, l->head->b, l->head->len) < 0)
			break;
		track(s, list_pop(l));
	}
}

static void
ready(struct nym_gwsess *s)
{
	s->state = NYM_GWSESS_READY;
	s->claim_day = day(s);
	flush(s);
	if (s->ops.ready)
		s->ops.ready(s->ops.ctx, s->registered_now);
	release_held(s);
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
	ready(s);
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
	s->untracked = s->claim_pending = s->fresh_claim = 0;
	s->state = NYM_GWSESS_PROTO;
	send_json(s, &m);
}

int
nym_gwsess_closed(struct nym_gwsess *s)
{
	release_held(s); /* the gateway counts them delivered */
	/* sent, fate unknown: the acks tell (the caller retransmits); those
	 * refused stay in r for the next connection */
	list_free(&s->f);
	s->claim_pending = 0;
	nym_gw_hs_wipe(&s->hs, sizeof s->hs);
	if (s->state == NYM_GWSESS_DEAD)
		return NYM_GWSESS_RETRY_BACKOFF;
	s->state = NYM_GWSESS_IDLE;
	if (s->quiet_retry) {
		s->quiet_retry = 0;
		return NYM_GWSESS_RETRY_QUIET;
	}
	if (s->reregistered == 1 && !s->have_key)
		return NYM_GWSESS_RETRY_NOW;
	return NYM_GWSESS_RETRY_BACKOFF;
}

void
nym_gwsess_tick(struct nym_gwsess *s, uint64_t wall_s)
{
	s->wall_s = wall_s;
}

static void
handshake_in(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	uint8_t m3[NYM_GW_M3_LEN];
	int e;
	if (s->state == NYM_GWSESS_HS_M2) {
		if (m->has_version && m->version > NYM_GW_PROTOCOL_VERSION) {
			fatal(s, NYM_EVERSION, "gateway chose a protocol newer than ours");
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
			s->ops.registered(s->ops.ctx, s->key); /* may fail the session */
	}
}

/* The answer to the oldest packet sent: it leaves the in-flight list. */
static struct gs_pkt *
answered(struct nym_gwsess *s)
{
	return list_pop(&s->f);
}

static void
typed_error_in(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	struct gs_pkt *p;
	if (s->state != NYM_GWSESS_READY)
		return;
	if (m->typed_error != NYM_GW_TE_OUT_OF_BANDWIDTH) {
		free(answered(s));
		warn(s, "gateway: ticket replay");
		return;
	}
	s->bandwidth = m->te_available;
	if ((p = answered(s))) /* dropped by the gateway: ours to send again */
		list_link(&s->r, p);
	if (s->claim_pending)
		return; /* this episode's claim is on its way */
	if (s->fresh_claim && ++s->stalls >= GS_MAX_STALLS) {
		fatal(s, NYM_EPROTO, "the gateway refuses packets as out of bandwidth right after granting it");
		return;
	}
	s->fresh_claim = 0;
	reclaim(s);
	warn(s, "gateway: out of bandwidth (claiming more)");
}

static void
error_in(struct nym_gwsess *s, const struct nym_gw_msg *m)
{
	char why[1100];
	snprintf(why, sizeof why, "gateway: %s", m->text ? m->text : "error");
	if (m->text && strstr(m->text, NYM_GW_ERRTXT_ONLY_ECASH)) {
		/* free claims refused: no bandwidth will ever come (§13) */
		fatal(s, NYM_EPERM, GS_WHY_CREDENTIALS);
		return;
	}
	if (s->state == NYM_GWSESS_AUTH && m->text && strstr(m->text, "timestamp") &&
	    strstr(m->text, "previously used")) {
		/* another process of this identity authenticated in the same
		 * second: the gateway closes; the next attempt uses a later one */
		s->last_auth_ts++;
		s->quiet_retry = 1;
		return;
	}
	if (s->state == NYM_GWSESS_AUTH && m->text && strstr(m->text, "not registered") && !s->reregistered) {
		/* the gateway lost our registration: register afresh on a new
		 * connection (this one is closed by the gateway) */
		s->have_key = 0;
		s->reregistered = 1;
		return;
	}
	if (s->state == NYM_GWSESS_READY && (s->f.head || !s->claim_pending)) {
		/* the answer to a packet (answers come in order): dropped */
		free(answered(s));
		warn(s, why);
	} else if (s->state == NYM_GWSESS_CLAIM || s->state == NYM_GWSESS_READY) {
		/* the claim refused: without bandwidth nothing would pass, and
		 * claiming again per packet would not change that */
		snprintf(why, sizeof why, "the gateway refused free bandwidth: %s", m->text ? m->text : "error");
		fatal(s, NYM_EPROTO, why);
	} else
		fatal(s, NYM_EPROTO, why);
}

static void
text_in(struct nym_gwsess *s, const char *data, size_t len)
{
	struct nym_gw_msg m;
	char why[512];
	memset(&m, 0, sizeof m);
	if (nym_gw_msg_parse(&m, 0, data, len) < 0) {
		warn(s, "gateway sent malformed JSON");
		return;
	}
	switch (m.type) {
	case NYM_GW_RESP_SUPPORTED_PROTOCOL:
		if (s->state != NYM_GWSESS_PROTO)
			break;
		if (!m.has_version || m.version < NYM_GW_MIN_AUTH_VERSION) {
			snprintf(why, sizeof why, "gateway speaks protocol %d, at least %d is needed",
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
		s->registered_now = 0;
		s->bandwidth = m.bandwidth;
		claim_or_ready(s);
		break;
	case NYM_GW_RESP_BANDWIDTH:
		s->bandwidth = m.bandwidth;
		if (s->state != NYM_GWSESS_CLAIM && !(s->state == NYM_GWSESS_READY && s->claim_pending))
			break;
		if (m.bandwidth <= 0) {
			fatal(s, NYM_EPROTO, "the gateway granted no bandwidth to a free claim");
			break;
		}
		s->fresh_claim = 1;
		if (s->state == NYM_GWSESS_CLAIM)
			ready(s);
		else {
			s->claim_pending = 0;
			s->claim_day = day(s);
			flush(s);
		}
		break;
	case NYM_GW_RESP_SEND:
		s->bandwidth = m.bandwidth;
		if (s->state == NYM_GWSESS_READY) {
			free(answered(s));
			s->fresh_claim = s->stalls = 0;
		}
		break;
	case NYM_GW_RESP_TYPED_ERROR:
		typed_error_in(s, &m);
		break;
	case NYM_GW_RESP_ERROR:
		error_in(s, &m);
		break;
	default:
		break;
	}
	nym_gw_msg_free(&m);
}

void
nym_gwsess_frame(struct nym_gwsess *s, int binary, const uint8_t *data, size_t len, uint64_t wall_s)
{
	struct gs_pkt *p;
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
	/* before ready: held (ready releases them); out of memory: delivered
	 * now, after those held, to keep the order */
	if (s->state != NYM_GWSESS_READY) {
		if ((p = pkt_new(data, len))) {
			list_link(&s->h, p);
			return;
		}
		release_held(s);
	}
	push(s, data, len);
}

int
nym_gwsess_forward(struct nym_gwsess *s, const uint8_t *mp, size_t len)
{
	struct gs_pkt *p;
	int e;
	if (s->state == NYM_GWSESS_DEAD)
		return NYM_ENET;
	if (len < 3)
		return NYM_EINVAL;
	if (!s->q.head && !s->r.head && can_send(s)) {
		if (!(p = pkt_new(mp, len)))
			return NYM_ENOMEM;
		if ((e = seal_send(s, mp, len)) < 0) {
			free(p);
			return e;
		}
		track(s, p);
		return 0;
	}
	if (!s->queue)
		return NYM_ENET;
	if (!(p = pkt_new(mp, len)))
		return NYM_ENOMEM;
	list_link(&s->q, p);
	return 0;
}
