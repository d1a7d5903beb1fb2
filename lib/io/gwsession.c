/* gwsession.c — the gateway session of gwclient.h (part 2): the client side
 * of doc/spec/gateway.md driven over a nym_ws. Its own file so that a program
 * using only the transport does not pull in the protocol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/gwsession.h"
#include "io/keyfile.h"
#include "proto/gwproto.h"

/* ---- gateway session ----------------------------------------------------- */


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
	int have_key, registered_now, reregistered, quiet_retry;
	char url[300], keypath[4200], dir[4096];
	enum gw_state state;
	int version, stopping;
	int max_retries, failures;
	uint64_t last_auth_ts;
	int64_t bandwidth;
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	struct gw_pkt *qhead, *qtail;
	size_t qbytes;
	/* sent, waiting for their one answer each (§10.1), oldest first; a
	 * gateway that leaves more than GW_INFLIGHT_MAX unanswered does not
	 * answer per frame: tracking stops for the connection (untracked) */
	struct gw_pkt *fhead, *ftail;
	size_t fcount;
	int untracked;
	/* refused as out of bandwidth: sent again, first, after the claim */
	struct gw_pkt *rhead, *rtail;
	size_t rbytes;
	/* an out-of-bandwidth episode: one claim outstanding while ready (the
	 * queue waits); claim_day is the UTC day of the bandwidth we hold (-1
	 * unknown); fresh_claim: granted, and no packet accepted since; stalls:
	 * episodes in a row that began right after a grant */
	int claim_pending, fresh_claim, stalls;
	int64_t claim_day;
	/* pushes that came before ready: a gateway sends the messages it stored
	 * for the client before its authenticate answer (as Nym's does), and the
	 * free-bandwidth claim comes after it. Handed up after the ready event,
	 * so that a client says it is connected before it prints them. */
	struct gw_pkt *hhead, *htail;
	uint8_t *frame; /* sealing buffer */
	size_t frame_cap;
};

static void gw_connect(struct nym_gw *gw);

#define GW_INFLIGHT_MAX 4096
#define GW_MAX_STALLS 3

/* The one line for a gateway that takes zk-nym tickets only (§13). */
#define GW_WHY_CREDENTIALS \
	"the gateway requires zk-nym credentials for bandwidth (it answers \"" \
	NYM_GW_ERRTXT_ONLY_ECASH "\"), which nymkit does not have; use another gateway: " \
	"nym-keygen --id NAME --gateway ID --force"

static uint64_t
gw_now(const struct nym_gw *gw)
{
	return gw->clock ? gw->clock(gw->clock_arg) : (uint64_t)time(NULL);
}

/* The UTC day free bandwidth is granted for (it expires when it changes). */
static int64_t
gw_day(const struct nym_gw *gw)
{
	return (int64_t)(gw_now(gw) / 86400);
}

static void
pkt_free_list(struct gw_pkt **head, struct gw_pkt **tail)
{
	struct gw_pkt *p, *n;
	for (p = *head; p; p = n) {
		n = p->next;
		free(p);
	}
	*head = NULL;
	if (tail)
		*tail = NULL;
}

static struct gw_pkt *
pkt_pop(struct gw_pkt **head, struct gw_pkt **tail)
{
	struct gw_pkt *p = *head;
	if (p) {
		*head = p->next;
		if (!*head)
			*tail = NULL;
		p->next = NULL;
	}
	return p;
}

static void
pkt_link(struct gw_pkt **head, struct gw_pkt **tail, struct gw_pkt *p)
{
	p->next = NULL;
	if (*tail)
		(*tail)->next = p;
	else
		*head = p;
	*tail = p;
}

/* A copy of b at the tail of a list; NULL when out of memory. */
static struct gw_pkt *
pkt_append(struct gw_pkt **head, struct gw_pkt **tail, const uint8_t *b, size_t len)
{
	struct gw_pkt *p = malloc(sizeof *p + len);
	if (!p)
		return NULL;
	p->next = NULL;
	p->len = len;
	memcpy(p->b, b, len);
	if (*tail)
		(*tail)->next = p;
	else
		*head = p;
	*tail = p;
	return p;
}
static void gw_release_held(struct nym_gw *gw);
static void gw_push(struct nym_gw *gw, const uint8_t *data, size_t len);

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
		nym_ws_close(ws);
		nym_ws_detach(ws); /* gw may be freed before it has closed */
	}
	nym_timer_cancel(gw->retry);
	pkt_free_list(&gw->fhead, &gw->ftail);
	gw->fcount = 0;
	gw_release_held(gw);
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

/* A packet just sent: kept until its answer (or freed when untracked). */
static void
gw_track(struct nym_gw *gw, struct gw_pkt *p)
{
	if (gw->untracked) {
		free(p);
		return;
	}
	pkt_link(&gw->fhead, &gw->ftail, p);
	if (++gw->fcount > GW_INFLIGHT_MAX) {
		pkt_free_list(&gw->fhead, &gw->ftail);
		gw->fcount = 0;
		gw->untracked = 1;
	}
}

/* The answer to the oldest packet sent: it leaves the in-flight list. */
static struct gw_pkt *
gw_answered(struct nym_gw *gw)
{
	struct gw_pkt *p = pkt_pop(&gw->fhead, &gw->ftail);
	if (p)
		gw->fcount--;
	return p;
}

/* Start an out-of-bandwidth episode: one claim; sending waits for it. */
static void
gw_reclaim(struct nym_gw *gw)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
	if (gw->claim_pending)
		return;
	gw->claim_pending = 1;
	gw_send_json(gw, &m);
}

/* Ready to put packets on the wire now? A new UTC day has expired the
 * allowance we hold: claim first (the gateway would refuse them). */
static int
gw_can_send(struct nym_gw *gw)
{
	if (gw->state != GW_READY || !gw->ws || gw->claim_pending)
		return 0;
	if (gw->claim_day >= 0 && gw_day(gw) != gw->claim_day) {
		gw_reclaim(gw);
		return 0;
	}
	return 1;
}

static void
gw_flush(struct nym_gw *gw)
{
	while ((gw->rhead || gw->qhead) && gw_can_send(gw)) {
		int retry = gw->rhead != NULL;
		struct gw_pkt *p = retry ? gw->rhead : gw->qhead;
		if (gw_seal_send(gw, p->b, p->len) < 0)
			break;
		if (retry) {
			pkt_pop(&gw->rhead, &gw->rtail);
			gw->rbytes -= p->len;
		} else {
			pkt_pop(&gw->qhead, &gw->qtail);
			gw->qbytes -= p->len;
		}
		gw_track(gw, p);
	}
}

static void
gw_ready(struct nym_gw *gw)
{
	gw->state = GW_READY;
	gw->failures = 0;
	gw->claim_day = gw_day(gw);
	gw_flush(gw);
	if (gw->ev.ready)
		gw->ev.ready(gw, gw->registered_now, gw->ev.arg);
	gw_release_held(gw);
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
	uint64_t now = gw_now(gw);
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
		if (gw->state != GW_CLAIM && !(gw->state == GW_READY && gw->claim_pending))
			break;
		if (m.bandwidth <= 0) {
			gw_fatal(gw, NYM_EPROTO, "the gateway granted no bandwidth to a free claim");
			break;
		}
		gw->fresh_claim = 1;
		if (gw->state == GW_CLAIM)
			gw_ready(gw);
		else {
			gw->claim_pending = 0;
			gw->claim_day = gw_day(gw);
			gw_flush(gw);
		}
		break;
	case NYM_GW_RESP_SEND:
		gw->bandwidth = m.bandwidth;
		if (gw->state == GW_READY) {
			free(gw_answered(gw));
			gw->fresh_claim = gw->stalls = 0;
		}
		break;
	case NYM_GW_RESP_TYPED_ERROR:
		if (gw->state != GW_READY)
			break;
		if (m.typed_error == NYM_GW_TE_OUT_OF_BANDWIDTH) {
			struct gw_pkt *p = gw_answered(gw);
			gw->bandwidth = m.te_available;
			if (p) { /* dropped by the gateway: ours to send again */
				pkt_link(&gw->rhead, &gw->rtail, p);
				gw->rbytes += p->len;
			}
			if (gw->claim_pending)
				break; /* this episode's claim is on its way */
			if (gw->fresh_claim && ++gw->stalls >= GW_MAX_STALLS) {
				gw_fatal(gw, NYM_EPROTO,
				    "the gateway refuses packets as out of bandwidth right after granting it");
				break;
			}
			gw->fresh_claim = 0;
			gw_reclaim(gw);
			if (gw->ev.warning)
				gw->ev.warning(gw, "gateway: out of bandwidth (claiming more)", gw->ev.arg);
		} else {
			free(gw_answered(gw));
			if (gw->ev.warning)
				gw->ev.warning(gw, "gateway: ticket replay", gw->ev.arg);
		}
		break;
	case NYM_GW_RESP_ERROR:
		snprintf(why, sizeof why, "gateway: %s", m.text ? m.text : "error");
		if (m.text && strstr(m.text, NYM_GW_ERRTXT_ONLY_ECASH)) {
			/* free claims refused: no bandwidth will ever come (§13) */
			gw_fatal(gw, NYM_EPERM, GW_WHY_CREDENTIALS);
			break;
		}
		if (gw->state == GW_AUTH && m.text && strstr(m.text, "timestamp") &&
		    strstr(m.text, "previously used")) {
			/* another process of this identity authenticated in the same
			 * second: the gateway closes; the next attempt uses a later one */
			gw->last_auth_ts++;
			gw->quiet_retry = 1;
			break;
		}
		if (gw->state == GW_AUTH && m.text && strstr(m.text, "not registered") &&
		    !gw->reregistered) {
			/* the gateway lost our registration: register afresh on a
			 * new connection (this one is closed by the gateway) */
			gw->have_key = 0;
			gw->reregistered = 1;
			break;
		}
		if (gw->state == GW_READY && (gw->fhead || !gw->claim_pending)) {
			/* the answer to a packet (answers come in order): dropped */
			free(gw_answered(gw));
			if (gw->ev.warning)
				gw->ev.warning(gw, why, gw->ev.arg);
		} else if (gw->state == GW_CLAIM || gw->state == GW_READY) {
			/* the claim refused: without bandwidth nothing would pass,
			 * and claiming again per packet would not change that */
			snprintf(why, sizeof why, "the gateway refused free bandwidth: %s",
			    m.text ? m.text : "error");
			gw_fatal(gw, NYM_EPROTO, why);
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
	gw->untracked = gw->claim_pending = gw->fresh_claim = 0;
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
	/* before ready: held (gw_ready releases them); out of memory: delivered
	 * now, after those held, to keep the order */
	if (gw->state != GW_READY) {
		if (pkt_append(&gw->hhead, &gw->htail, data, len))
			return;
		gw_release_held(gw);
	}
	gw_push(gw, data, len);
}

static void
gw_release_held(struct nym_gw *gw)
{
	while (gw->hhead) {
		struct gw_pkt *h = gw->hhead;
		gw->hhead = h->next;
		if (!gw->hhead)
			gw->htail = NULL;
		gw_push(gw, h->b, h->len);
		free(h);
	}
}

/* Open a binary frame from the gateway and hand a pushed packet up. */
static void
gw_push(struct nym_gw *gw, const uint8_t *data, size_t len)
{
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
	gw_release_held(gw); /* the gateway counts them delivered */
	/* sent, fate unknown: the acks tell (mixclient retransmits); those
	 * refused stay in the retry list for the next connection */
	pkt_free_list(&gw->fhead, &gw->ftail);
	gw->fcount = 0;
	gw->claim_pending = 0;
	if (gw->stopping || gw->state == GW_DEAD)
		return;
	if (gw->state == GW_HS_M2 || gw->state == GW_HS_M4)
		nym_gw_hs_wipe(&gw->hs, sizeof gw->hs);
	gw->state = GW_IDLE;
	if (gw->quiet_retry) {
		/* an expected close (auth timestamp collision): retry silently */
		gw->quiet_retry = 0;
		nym_timer_set(gw->retry, 300000);
		return;
	}
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
	struct nym_ws_handler h = {.open = gw_ws_open, .message = gw_ws_message, .closed = gw_ws_closed, .arg = gw};
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
	gw->clock = p->clock;
	gw->clock_arg = p->clock_arg;
	gw->claim_day = -1;
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
	int e;
	if (gw->state == GW_DEAD)
		return NYM_ENET;
	if (!gw->qhead && !gw->rhead && gw_can_send(gw)) {
		if (!(p = malloc(sizeof *p + len)))
			return NYM_ENOMEM;
		p->len = len;
		memcpy(p->b, mp, len);
		if ((e = gw_seal_send(gw, mp, len)) < 0) {
			free(p);
			return e;
		}
		gw_track(gw, p);
		return 0;
	}
	if (!pkt_append(&gw->qhead, &gw->qtail, mp, len))
		return NYM_ENOMEM;
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
	return gw->qbytes + gw->rbytes + (gw->ws ? nym_ws_queued(gw->ws) : 0);
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
		nym_ws_detach(gw->ws);
	}
	nym_timer_free(gw->retry);
	pkt_free_list(&gw->fhead, &gw->ftail);
	pkt_free_list(&gw->rhead, &gw->rtail);
	for (p = gw->qhead; p; p = n) {
		n = p->next;
		free(p);
	}
	for (p = gw->hhead; p; p = n) {
		n = p->next;
		free(p);
	}
	free(gw->frame);
	nym_wipe(&gw->keys, sizeof gw->keys);
	nym_wipe(gw->key, sizeof gw->key);
	nym_gw_hs_wipe(&gw->hs, sizeof gw->hs);
	free(gw);
}
