/* gwserver.c — the gateway side of the client protocol, sans-I/O.
 * See gwserver.h. The words of every error sent are the reference's
 * (nym-node gateway/src/node/client_handling/websocket), as gwproto.h has
 * them, or as nym-gateway has always sent them. */
#include "proto/gwserver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/gwproto.h"

enum { C_FRESH, C_HS, C_DUP_WAIT, C_AUTH, C_CLOSING };

#define NBUCKETS 4096

/* A push handed to the transport and not yet known to be read by the
 * client (a pong to an ack ping queued after it). */
struct flight {
	struct flight *next;
	uint64_t tag;
	int64_t inbox_id;            /* > 0: stored, removed once read */
	size_t len;                  /* inbox_id 0: the plaintext, stored if never read */
	uint8_t data[];
};

/* Ack pings: "nymkit-a" and a big-endian counter (the duplicate check's
 * pings are 8 bytes: never confused). */
#define ACK_PING_LEN 16

struct nym_gws_conn {
	struct nym_gws *s;
	void *h;                     /* the caller's handle */
	struct nym_gws_conn *next, *prev; /* every connection */
	struct nym_gws_conn *hnext;  /* session table chain */
	int in_table;
	int state;
	uint64_t kill_at;            /* ms: dropped then unless authenticated (0: never) */
	uint64_t auth_by;            /* ms: kill_at never later (however chatty it is) */
	int unauth;                  /* counted in s->n_unauth */
	uint64_t dup_at;             /* ms, DUP_WAIT: the old one counts as dead then */
	/* handshake */
	struct nym_gw_hs_gateway hs;
	uint8_t version;
	/* authenticated */
	uint8_t client[32];
	char client_b58[NYM_B58_KEY_MAX];
	uint8_t key[32];
	struct nym_gw_bandwidth bw;
	int bw_dirty;
	uint64_t pending_ts;         /* authenticateV2 waiting on a duplicate check */
	struct nym_gws_conn *dup_old, *dup_new; /* the two sides of a check */
	uint8_t ping[8];
	int ping_wanted;
	/* pushes */
	int64_t inbox_after;
	int inbox_more;
	struct flight *fl_head, *fl_tail;
	size_t n_flights;
	uint64_t tag_seq;
	uint64_t written;            /* highest tag the transport reported sent */
	/* the outstanding ack ping: it covers the flights up to ack_cover */
	int ack_out;
	uint8_t ack_ping[ACK_PING_LEN];
	uint64_t ack_seq, ack_cover, ack_by;
	int no_pong;                 /* never answered: flights end when written */
};

struct nym_gws {
	struct nym_gws_storage store;
	struct nym_gws_transport io;
	const struct nym_rng *rng;
	uint8_t identity_seed[32];
	uint64_t fresh_ms, hs_ms, dup_ms, max_skew, auth_ms;
	size_t max_unauth, n_unauth;
	int freeing;                 /* in nym_gws_free: no more sends */
	int batch;
	int64_t free_bw;             /* bytes per free claim */
	int enforce_zk_nyms;         /* free claims refused */
	struct nym_gws_now now;      /* of the latest input (for nym_gws_free) */
	struct nym_gws_conn *table[NBUCKETS];
	struct nym_gws_conn *conns;
	struct nym_gws_stats st;
	uint8_t *pt, *seal;          /* scratch: opened binary frames, sealed pushes */
	size_t pt_cap, seal_cap;
};

/* ---- small things ------------------------------------------------------------ */

/* A log line about c (NULL: about the gateway). */
static void notef(struct nym_gws *s, struct nym_gws_conn *c, enum nym_gws_level level,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void
notef(struct nym_gws *s, struct nym_gws_conn *c, enum nym_gws_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!s->io.note)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->io.note(s->io.ctx, c ? c->h : NULL, level, line);
}

/* A storage failure worth a line ("not registered" is none). */
static int
stored_said(struct nym_gws *s, int rc, const char *what)
{
	if (rc < 0 && rc != NYM_ENOTFOUND)
		notef(s, NULL, NYM_GWS_ERR, "inbox: %s%s", what,
		      s->store.error ? s->store.error(s->store.ctx) : nym_strerror(rc));
	return rc;
}

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	uint8_t *nb = realloc(*buf, need);
	if (!nb)
		return NYM_ENOMEM;
	*buf = nb;
	*cap = need;
	return 0;
}

/* ---- session table: authenticated connections by client address ---------- */

static unsigned
bucket(const uint8_t a[32])
{
	return ((unsigned)a[0] | (unsigned)a[1] << 8) % NBUCKETS;
}

static struct nym_gws_conn *
session_find(struct nym_gws *s, const uint8_t a[32])
{
	for (struct nym_gws_conn *c = s->table[bucket(a)]; c; c = c->hnext)
		if (memcmp(c->client, a, 32) == 0)
			return c;
	return NULL;
}

static void
session_add(struct nym_gws_conn *c)
{
	unsigned b = bucket(c->client);
	c->hnext = c->s->table[b];
	c->s->table[b] = c;
	c->in_table = 1;
}

static void
session_remove(struct nym_gws_conn *c)
{
	if (!c->in_table)
		return;
	for (struct nym_gws_conn **p = &c->s->table[bucket(c->client)]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	c->in_table = 0;
}

/* ---- output ----------------------------------------------------------------- */

static void
close_conn(struct nym_gws_conn *c, int abort)
{
	if (c->state == C_CLOSING && !abort)
		return;
	c->state = C_CLOSING;
	c->dup_at = 0;
	c->s->io.close(c->s->io.ctx, c->h, abort);
}

/* A text reply. A client that lets its replies pile up is cut off. */
static void
send_text(struct nym_gws_conn *c, const char *text, size_t len)
{
	if (c->s->io.send(c->s->io.ctx, c->h, NYM_GWS_TEXT, (const uint8_t *)text, len, 0) == NYM_EFULL) {
		notef(c->s, c, NYM_GWS_INFO, "client does not read its replies; closing");
		close_conn(c, 0);
	}
}

static void
send_msg(struct nym_gws_conn *c, const struct nym_gw_msg *m)
{
	char *text;
	size_t n;

	if (nym_gw_msg_encode(m, &text, &n) == 0) {
		send_text(c, text, n);
		free(text);
	}
}

static void
send_error(struct nym_gws_conn *c, const char *message)
{
	struct nym_gw_msg m = {.type = NYM_GW_RESP_ERROR, .text = (char *)message};
	send_msg(c, &m);
}

/* Error, then close once it is written (failures before authentication). */
static void
fail_conn(struct nym_gws_conn *c, const char *message)
{
	notef(c->s, c, NYM_GWS_INFO, "%s", message);
	send_error(c, message);
	close_conn(c, 0);
}

/* ---- pushes ------------------------------------------------------------------ */

static void
store_later(struct nym_gws *s, const uint8_t client[32], const uint8_t *msg, size_t len)
{
	if (stored_said(s, s->store.store(s->store.ctx, client, msg, len, s->now.unix_s),
	                "cannot store a message: ") == 0)
		s->st.stored++;
}

/* Seal msg as a PushedMixMessage and hand it to the transport. */
static int
push_send(struct nym_gws_conn *c, const uint8_t *msg, size_t len, int64_t inbox_id)
{
	struct nym_gws *s = c->s;
	size_t keep = inbox_id > 0 ? 0 : len;
	struct flight *f;
	int n, rc;

	if ((rc = grow(&s->seal, &s->seal_cap, len + NYM_GW_BIN_OVERHEAD)) != 0)
		return rc;
	if (c->n_flights >= NYM_GWS_MAX_FLIGHTS)
		return NYM_EFULL; /* stored: it goes in a batch once the client reads */
	if (!(f = malloc(sizeof *f + keep)))
		return NYM_ENOMEM;
	n = nym_gw_bin_seal(s->seal, s->seal_cap, NYM_GW_BIN_PUSHED, msg, len, c->key, s->rng);
	if (n < 0) {
		free(f);
		return n;
	}
	f->next = NULL;
	f->tag = ++c->tag_seq;
	f->inbox_id = inbox_id;
	f->len = keep;
	if (keep)
		memcpy(f->data, msg, keep);
	if ((rc = s->io.send(s->io.ctx, c->h, NYM_GWS_BINARY, s->seal, (size_t)n, f->tag)) != 0) {
		free(f);
		return rc;
	}
	if (c->fl_tail)
		c->fl_tail->next = f;
	else
		c->fl_head = f;
	c->fl_tail = f;
	c->n_flights++;
	return 0;
}

struct batch {
	struct nym_gws_conn *c;
	int stopped;
};

static int
batch_one(void *arg, int64_t id, const uint8_t *msg, size_t len)
{
	struct batch *b = arg;

	if (push_send(b->c, msg, len, id) != 0) {
		b->stopped = 1; /* the queue is full: the rest waits for the next batch */
		return 1;
	}
	b->c->inbox_after = id;
	return 0;
}

/* The next batch of stored messages; each is removed once handed over. */
static void
inbox_batch(struct nym_gws_conn *c)
{
	struct nym_gws *s = c->s;
	struct batch b = {c, 0};
	int n = stored_said(s, s->store.fetch(s->store.ctx, c->client, c->inbox_after, s->batch,
	                                      batch_one, &b), "cannot read messages: ");

	c->inbox_more = n > 0 && (b.stopped || n >= s->batch);
}

/* Messages were stored for client while it has an authenticated
 * connection (other than except): they go in its next batch, now if its
 * queue is empty, else once it drains — not at the next authentication. */
static void
stored_meanwhile(struct nym_gws *s, const uint8_t client[32], struct nym_gws_conn *except)
{
	if (s->freeing)
		return;
	for (struct nym_gws_conn *c = s->table[bucket(client)]; c; c = c->hnext)
		if (c != except && c->state == C_AUTH && !memcmp(c->client, client, 32)) {
			c->inbox_more = 1;
			if (!c->fl_head)
				inbox_batch(c);
			return;
		}
}

void
nym_gws_push(struct nym_gws *s, const uint8_t client[32], const uint8_t *msg, size_t len,
             struct nym_gws_now now)
{
	struct nym_gws_conn *c = session_find(s, client);

	s->now = now;
	if (c && c->state == C_AUTH && push_send(c, msg, len, 0) == 0) {
		s->st.pushed++;
		return;
	}
	store_later(s, client, msg, len);
	/* stored while connected (its queue was full): it goes in the next
	 * batch once the queue drains, not at the next authentication */
	stored_meanwhile(s, client, NULL);
}

/* The client has read every push up to tag: a stored one leaves storage,
 * and the next batch may go. */
static void
flights_read(struct nym_gws_conn *c, uint64_t tag)
{
	struct nym_gws *s = c->s;
	struct flight *f;

	while ((f = c->fl_head) && f->tag <= tag) {
		c->fl_head = f->next;
		if (!c->fl_head)
			c->fl_tail = NULL;
		c->n_flights--;
		if (f->inbox_id > 0 && s->store.remove(s->store.ctx, f->inbox_id) == 0)
			s->st.inbox_delivered++;
		free(f);
	}
	if (!c->fl_head && c->inbox_more && c->state == C_AUTH)
		inbox_batch(c);
}

/* Written to the socket is not read: a client killed now loses what its
 * kernel holds, and the gateway would have forgotten it. So a push is
 * forgotten only when the pong to a ping written after it comes back (the
 * client has read everything before the ping; websocket frames keep their
 * order). One ack ping at a time, covering what was written when it went. */
static void
ack_ping(struct nym_gws_conn *c)
{
	struct nym_gws *s = c->s;
	uint8_t p[ACK_PING_LEN] = "nymkit-a";

	if (c->ack_out || c->no_pong || c->state != C_AUTH || !c->fl_head || c->fl_head->tag > c->written)
		return;
	c->ack_seq++;
	for (int i = 0; i < 8; i++)
		p[8 + i] = (uint8_t)(c->ack_seq >> (56 - 8 * i));
	if (s->io.send(s->io.ctx, c->h, NYM_GWS_PING, p, sizeof p, 0) != 0)
		return;
	memcpy(c->ack_ping, p, sizeof p);
	c->ack_out = 1;
	c->ack_cover = c->written;
	c->ack_by = s->now.ms + NYM_GWS_PONG_WAIT_MS;
}

void
nym_gws_sent(struct nym_gws_conn *c, uint64_t tag, struct nym_gws_now now)
{
	c->s->now = now;
	if (tag > c->written)
		c->written = tag;
	if (c->no_pong)
		flights_read(c, c->written);
	else
		ack_ping(c);
}

/* ---- authentication ---------------------------------------------------------- */

static void
persist_bandwidth(struct nym_gws_conn *c)
{
	struct nym_gws *s = c->s;

	if (c->bw_dirty &&
	    s->store.client_set_bandwidth(s->store.ctx, c->client, c->bw.remaining, c->bw.day) == 0)
		c->bw_dirty = 0;
}

/* A deadline before authentication, never past the total one. */
static void
set_kill(struct nym_gws_conn *c, uint64_t t)
{
	c->kill_at = t < c->auth_by ? t : c->auth_by;
}

/* Authenticated from now on: table, stored messages, then the reply. */
static void
become_authenticated(struct nym_gws_conn *c, struct nym_gw_msg *reply)
{
	struct nym_gws *s = c->s;
	struct nym_gws_client ic;

	c->state = C_AUTH;
	c->kill_at = 0;
	c->unauth = 0;
	s->n_unauth--;
	nym_base58_encode(c->client_b58, sizeof c->client_b58, c->client, 32);
	if (s->store.client_get(s->store.ctx, c->client, &ic) == 0) {
		c->bw.remaining = ic.bandwidth;
		c->bw.day = ic.bandwidth_day;
	}
	nym_wipe(&ic, sizeof ic);
	if (reply->type == NYM_GW_RESP_AUTHENTICATE)
		reply->bandwidth = nym_gw_bandwidth_available(&c->bw, s->now.unix_s);
	session_add(c);
	c->inbox_after = 0;
	inbox_batch(c);
	send_msg(c, reply);
}

static void
finish_authenticate(struct nym_gws_conn *c)
{
	struct nym_gws *s = c->s;
	struct nym_gw_msg r = {.type = NYM_GW_RESP_AUTHENTICATE, .version = c->version, .status = 1};

	c->dup_at = 0;
	if (s->store.client_set_auth_ts(s->store.ctx, c->client, c->pending_ts) != 0) {
		fail_conn(c, "internal storage failure");
		return;
	}
	s->st.authenticated++;
	become_authenticated(c, &r);
	notef(c->s, c, NYM_GWS_INFO, "client %s authenticated (v%u)", c->client_b58, c->version);
}

static void
dup_resolved(struct nym_gws_conn *old, struct nym_gws_conn *nw, int old_alive)
{
	nw->dup_at = 0;
	nw->dup_old = NULL;
	if (old) {
		old->dup_new = NULL;
		old->ping_wanted = 0;
	}
	if (old_alive) {
		fail_conn(nw, NYM_GW_ERRTXT_DUPLICATE);
		return;
	}
	if (old) {
		notef(old->s, old, NYM_GWS_INFO, "previous connection of this client is dead; replacing it");
		session_remove(old);
		close_conn(old, 1);
	}
	finish_authenticate(nw);
}

static void
handle_authenticate(struct nym_gws_conn *c, struct nym_gw_msg *m)
{
	struct nym_gws *s = c->s;
	struct nym_gws_client ic;
	char why[256];
	uint64_t now = s->now.unix_s;
	int rc;

	memset(&ic, 0, sizeof ic);
	if ((rc = nym_gw_auth_check_request(&m->auth, now, s->max_skew)) != 0 ||
	    (rc = stored_said(s, s->store.client_get(s->store.ctx, m->auth.identity, &ic), "")) != 0 ||
	    (rc = nym_gw_auth_check_key(&m->auth, ic.key, ic.last_auth_ts)) != 0) {
		s->st.auth_failed++;
		fail_conn(c, nym_gw_auth_errtxt(rc, &m->auth, now, why, sizeof why));
		nym_wipe(&ic, sizeof ic);
		return;
	}
	memcpy(c->client, m->auth.identity, 32);
	memcpy(c->key, ic.key, 32);
	nym_wipe(&ic, sizeof ic);
	c->version = m->auth.version;
	c->pending_ts = m->auth.timestamp;

	struct nym_gws_conn *old = session_find(s, c->client);
	if (old && old != c) {
		if (old->dup_new) { /* a check is already running for this client */
			fail_conn(c, NYM_GW_ERRTXT_DUPLICATE);
			return;
		}
		/* Is the old connection alive? Ping it and wait for the pong. */
		c->state = C_DUP_WAIT;
		c->dup_old = old;
		c->dup_at = s->now.ms + s->dup_ms;
		old->dup_new = c;
		old->ping_wanted = 1;
		if (nym_rng_fill(s->rng, old->ping, sizeof old->ping) != 0 ||
		    s->io.send(s->io.ctx, old->h, NYM_GWS_PING, old->ping, sizeof old->ping, 0) != 0)
			old->ping_wanted = 0; /* no pong can match: decided at the deadline */
		return;
	}
	finish_authenticate(c);
}

static void
handle_handshake(struct nym_gws_conn *c, struct nym_gw_msg *m)
{
	struct nym_gws *s = c->s;
	uint8_t m2[NYM_GW_M2_LEN], m4[1];
	char *text, msg[200], full[260];
	size_t n;
	int rc;

	if (c->state == C_FRESH) {
		/* A "future" proposal is clamped to ours; anything else is accepted. */
		c->version = nym_gw_version_accept(m->has_version, m->version);
		rc = nym_gw_hs_gateway_m1(&c->hs, s->identity_seed, m->hs, m->hs_len, s->rng, m2);
		if (rc == 0 && session_find(s, c->hs.client_pk)) {
			nym_gw_hs_wipe(&c->hs, sizeof c->hs);
			fail_conn(c, NYM_GW_ERRTXT_DUPLICATE);
			return;
		}
		if (rc == 0 && nym_gw_json_handshake(&text, &n, 0, c->version, m2, sizeof m2) == 0) {
			c->state = C_HS;
			set_kill(c, s->now.ms + s->hs_ms);
			send_text(c, text, n);
			free(text);
			return;
		}
	} else {
		rc = nym_gw_hs_gateway_m3(&c->hs, m->hs, m->hs_len, m4, c->key);
		if (rc == 0 && session_find(s, c->hs.client_pk))
			rc = NYM_EEXIST; /* it connected meanwhile */
		if (rc == 0) {
			memcpy(c->client, c->hs.client_pk, 32);
			nym_gw_hs_wipe(&c->hs, sizeof c->hs);
			int rr = s->store.client_register(s->store.ctx, c->client, c->key);
			if (rr == NYM_EFULL) {
				notef(c->s, c, NYM_GWS_INFO, "registration refused: no room for more clients");
				fail_conn(c, "Failed to perform registration handshake: the gateway has no room "
				             "for more clients");
				return;
			}
			if (stored_said(s, rr, "cannot store a client key: ") != 0) {
				fail_conn(c, "Failed to perform registration handshake: internal storage failure");
				return;
			}
			if (nym_gw_json_handshake(&text, &n, 0, c->version, m4, 1) == 0) {
				send_text(c, text, n);
				free(text);
			}
			struct nym_gw_msg r = {.type = NYM_GW_RESP_REGISTER, .version = c->version, .status = 1};
			s->st.registered++;
			nym_base58_encode(c->client_b58, sizeof c->client_b58, c->client, 32);
			notef(c->s, c, NYM_GWS_INFO, "client %s registered (v%u)", c->client_b58, c->version);
			become_authenticated(c, &r);
			return;
		}
	}
	nym_gw_hs_wipe(&c->hs, sizeof c->hs);
	s->st.auth_failed++;
	snprintf(msg, sizeof msg, "%s",
	         rc == NYM_EEXIST ? NYM_GW_ERRTXT_DUPLICATE
	         : rc == NYM_EMAC ? "failed to verify the client's signature"
	         : rc == NYM_ESIZE ? "received handshake message of invalid size"
	         : rc == NYM_EKEY ? "the client identity is not a valid ed25519 key"
	                          : nym_strerror(rc));
	struct nym_gw_msg he = {.type = NYM_GW_RESP_HANDSHAKE_ERROR, .text = msg};
	send_msg(c, &he);
	snprintf(full, sizeof full, "Failed to perform registration handshake: %s", msg);
	fail_conn(c, full);
}

static void
handle_encrypted(struct nym_gws_conn *c, struct nym_gw_msg *m)
{
	struct nym_gws *s = c->s;
	struct nym_gw_creq_msg cr, ack = {0};
	struct nym_gw_msg r;

	if (nym_gw_creq_open(&cr, m, c->key) != 0) {
		send_error(c, NYM_GW_ERRTXT_INVALID_CONTEXT "could not decrypt or parse the encrypted request");
		return;
	}
	if (cr.kind == NYM_GW_CREQ_FORGET_ME) {
		if (cr.client) {
			s->store.client_forget(s->store.ctx, c->client);
			notef(c->s, c, NYM_GWS_INFO, "client %s asked to be forgotten", c->client_b58);
		}
		ack.kind = NYM_GW_CRESP_FORGET_ME_ACK;
	} else if (cr.kind == NYM_GW_CREQ_REMEMBER_ME) {
		ack.kind = NYM_GW_CRESP_REMEMBER_ME_ACK;
	} else {
		send_error(c, NYM_GW_ERRTXT_INVALID_CONTEXT "unexpected encrypted request");
		return;
	}
	if (nym_gw_creq_seal(&r, &ack, c->key, s->rng) == 0) {
		send_msg(c, &r);
		nym_gw_msg_free(&r);
	}
}

/* ---- input ------------------------------------------------------------------- */

/* An authenticated client's request. */
static void
on_request(struct nym_gws_conn *c, struct nym_gw_msg *m)
{
	char msg[256];

	switch (m->type) {
	case NYM_GW_REQ_CLAIM_FREE_BANDWIDTH: {
		if (c->s->enforce_zk_nyms) {
			/* the reference's words, which clients match */
			send_error(c, NYM_GW_ERRTXT_ONLY_ECASH);
			break;
		}
		struct nym_gw_msg r = {.type = NYM_GW_RESP_BANDWIDTH};
		r.bandwidth = nym_gw_bandwidth_claim_free(&c->bw, c->s->now.unix_s, c->s->free_bw);
		c->bw_dirty = 1;
		persist_bandwidth(c);
		send_msg(c, &r);
		break;
	}
	case NYM_GW_REQ_ENCRYPTED:
		handle_encrypted(c, m);
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
		         40, m->type == NYM_GW_REQ_HANDSHAKE ? "RegisterHandshakeInitRequest"
		             : m->type == NYM_GW_REQ_AUTHENTICATE_V2 ? "AuthenticateV2"
		             : m->type == NYM_GW_REQ_AUTHENTICATE_V1 ? "Authenticate"
		                                                     : "BandwidthCredential");
		send_error(c, msg);
		break;
	}
}

void
nym_gws_text(struct nym_gws_conn *c, const char *text, size_t len, struct nym_gws_now now)
{
	struct nym_gws *s = c->s;
	struct nym_gw_msg m;
	char msg[256];
	int rc;

	s->now = now;
	if (c->state == C_DUP_WAIT || c->state == C_CLOSING)
		return;
	if (c->state == C_FRESH)
		set_kill(c, now.ms + s->fresh_ms);
	rc = nym_gw_msg_parse(&m, 1, text, len);
	if (c->state == C_HS) {
		/* Waiting for M3: anything but handshake JSON is dropped silently. */
		if (rc == 0 && m.type == NYM_GW_REQ_HANDSHAKE)
			handle_handshake(c, &m);
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
	} else {
		on_request(c, &m);
	}
	nym_gw_msg_free(&m);
}

/* The answer to a refused binary frame: the reference's prefix, our reason. */
static void
binary_error(struct nym_gws_conn *c, const char *why)
{
	char msg[200];

	c->s->st.send_errors++;
	snprintf(msg, sizeof msg, NYM_GW_ERRTXT_MALFORMED_BINARY "%s", why);
	send_error(c, msg);
}

void
nym_gws_binary(struct nym_gws_conn *c, const uint8_t *data, size_t len, struct nym_gws_now now)
{
	struct nym_gws *s = c->s;
	struct nym_mix_packet mp;
	uint8_t kind;
	char why[64];
	int n, rc;

	s->now = now;
	if (c->state == C_HS || c->state == C_DUP_WAIT || c->state == C_CLOSING)
		return; /* dropped while a handshake or duplicate check runs */
	if (c->state == C_FRESH) {
		s->st.hostile_closed++;
		fail_conn(c, NYM_GW_ERRTXT_NO_AUTH_BINARY);
		return;
	}
	n = len > NYM_GWS_MAX_BINARY ? NYM_ESIZE : grow(&s->pt, &s->pt_cap, len ? len : 1);
	if (n == 0)
		n = nym_gw_bin_open(&kind, s->pt, s->pt_cap, data, len, c->key);
	if (n < 0) {
		binary_error(c, nym_strerror(n));
		return;
	}
	if (kind != NYM_GW_BIN_FORWARD_SPHINX && kind != NYM_GW_BIN_FORWARD_SPHINX_V2) {
		snprintf(why, sizeof why, "unknown binary request kind %u", kind);
		binary_error(c, why);
		return;
	}
	rc = nym_mix_packet_decode(&mp, kind == NYM_GW_BIN_FORWARD_SPHINX_V2 ? NYM_MIX_PACKET_V2
	                                                                  : NYM_MIX_PACKET_V1,
	                           s->pt, (size_t)n);
	if (rc < 0) {
		binary_error(c, rc == NYM_ESIZE ? "received request had invalid size" : nym_strerror(rc));
		return;
	}
	if (nym_gw_bandwidth_charge(&c->bw, now.unix_s, (int64_t)mp.packet_len) != 0) {
		struct nym_gw_msg te = {.type = NYM_GW_RESP_TYPED_ERROR, .typed_error = NYM_GW_TE_OUT_OF_BANDWIDTH,
		                        .te_required = (int64_t)mp.packet_len,
		                        .te_available = nym_gw_bandwidth_available(&c->bw, now.unix_s)};
		s->st.send_errors++;
		send_msg(c, &te);
		return;
	}
	c->bw_dirty = 1;
	struct nym_gws_forward f = {
		.client = c->client, .request_kind = kind, .mp = &mp,
		.frame_version = kind == NYM_GW_BIN_FORWARD_SPHINX_V2 ? NYM_FRAME_V8 : NYM_FRAME_V7,
	};
	if (s->io.forward(s->io.ctx, c->h, &f) == 0)
		s->st.forwarded++;
	/* Like the reference, the reply says the gateway took the packet; a
	 * full queue or an unknown hop loses it later (the caller counts). */
	struct nym_gw_msg r = {.type = NYM_GW_RESP_SEND, .bandwidth = nym_gw_bandwidth_available(&c->bw, now.unix_s)};
	send_msg(c, &r);
}

void
nym_gws_pong(struct nym_gws_conn *c, const uint8_t *data, size_t len, struct nym_gws_now now)
{
	c->s->now = now;
	if (c->ping_wanted && c->dup_new && len == sizeof c->ping && memcmp(data, c->ping, len) == 0)
		dup_resolved(c, c->dup_new, 1);
	else if (c->ack_out && len == ACK_PING_LEN && memcmp(data, c->ack_ping, len) == 0) {
		c->ack_out = 0;
		flights_read(c, c->ack_cover);
		ack_ping(c);
	}
}

/* ---- connections ------------------------------------------------------------- */

int
nym_gws_full(const struct nym_gws *s)
{
	return s->max_unauth && s->n_unauth >= s->max_unauth;
}

struct nym_gws_conn *
nym_gws_accept(struct nym_gws *s, void *conn, struct nym_gws_now now)
{
	struct nym_gws_conn *c = calloc(1, sizeof *c);

	s->now = now;
	if (c && s->max_unauth && s->n_unauth >= s->max_unauth) {
		/* The rest of the cap is for clients that authenticate. */
		s->st.unauth_refused++;
		free(c);
		return NULL;
	}
	if (!c)
		return NULL;
	c->s = s;
	c->h = conn;
	c->state = C_FRESH;
	c->unauth = 1;
	s->n_unauth++;
	c->auth_by = now.ms + s->auth_ms;
	set_kill(c, now.ms + s->fresh_ms);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->st.connections++;
	s->st.connected++;
	return c;
}

/* What stays of a connection that ends: bandwidth, pushes not handed over,
 * the other side of a duplicate check. */
static void
conn_end(struct nym_gws_conn *c)
{
	struct nym_gws *s = c->s;
	struct flight *f, *nx;

	if (c->dup_old) { /* the new side of a check went away: just detach */
		c->dup_old->dup_new = NULL;
		c->dup_old->ping_wanted = 0;
		c->dup_old = NULL;
	}
	/* pushes never handed over are stored first, so that a new connection
	 * of the same client gets them in its first batch */
	int kept = 0;
	for (f = c->fl_head; f; f = nx) {
		nx = f->next;
		if (f->inbox_id == 0) {
			store_later(s, c->client, f->data, f->len);
			kept = 1;
		}
		free(f);
	}
	c->fl_head = c->fl_tail = NULL;
	if (c->dup_new) { /* the old side died while being checked: the new one proceeds */
		struct nym_gws_conn *nw = c->dup_new;
		c->dup_new = NULL;
		nw->dup_old = NULL;
		session_remove(c);
		finish_authenticate(nw);
		kept = 0; /* its first batch has them */
	}
	if (c->unauth)
		s->n_unauth--;
	if (c->state == C_AUTH || c->in_table)
		persist_bandwidth(c);
	session_remove(c);
	if (kept) /* a new connection authenticated before this one ended */
		stored_meanwhile(s, c->client, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->st.connected--;
	nym_wipe(c, sizeof *c);
	free(c);
}

void
nym_gws_closed(struct nym_gws_conn *c, struct nym_gws_now now)
{
	c->s->now = now;
	conn_end(c);
}

int64_t
nym_gws_tick(struct nym_gws *s, struct nym_gws_now now)
{
	uint64_t next = 0;

	s->now = now;
	for (struct nym_gws_conn *c = s->conns; c; c = c->next) {
		if (c->dup_at && c->dup_at <= now.ms)
			dup_resolved(c->dup_old, c, 0);
		if (c->ack_out && c->ack_by <= now.ms) {
			/* a client that does not answer pings: written counts as read */
			notef(c->s, c, NYM_GWS_INFO, "client does not answer pings; pushes count as read once written");
			c->ack_out = 0;
			c->no_pong = 1;
			flights_read(c, c->written);
		}
		if (c->kill_at && c->kill_at <= now.ms && c->state != C_AUTH) {
			c->kill_at = 0;
			notef(c->s, c, NYM_GWS_DEBUG, "timed out");
			close_conn(c, 1);
		}
		if (c->dup_at && (!next || c->dup_at < next))
			next = c->dup_at;
		if (c->kill_at && (!next || c->kill_at < next))
			next = c->kill_at;
		if (c->ack_out && (!next || c->ack_by < next))
			next = c->ack_by;
	}
	return next ? (int64_t)(next - now.ms) : -1;
}

/* ---- the server -------------------------------------------------------------- */

int
nym_gws_new(struct nym_gws **out, const struct nym_gws_config *cfg)
{
	const struct nym_gws_storage *st = cfg ? &cfg->store : NULL;
	const struct nym_gws_transport *io = cfg ? &cfg->io : NULL;
	struct nym_gws *s;

	*out = NULL;
	if (!cfg || !cfg->identity_seed || !cfg->rng || !st->client_get || !st->client_register ||
	    !st->client_set_auth_ts || !st->client_set_bandwidth || !st->client_forget || !st->store ||
	    !st->fetch || !st->remove || !io->send || !io->close || !io->forward)
		return NYM_EINVAL;
	if (!(s = calloc(1, sizeof *s)))
		return NYM_ENOMEM;
	s->store = *st;
	s->io = *io;
	s->rng = cfg->rng;
	memcpy(s->identity_seed, cfg->identity_seed, 32);
	s->fresh_ms = cfg->fresh_timeout_ms ? cfg->fresh_timeout_ms : NYM_GWS_FRESH_TIMEOUT_MS;
	s->auth_ms = cfg->auth_timeout_ms ? cfg->auth_timeout_ms : NYM_GWS_AUTH_TIMEOUT_MS;
	s->max_unauth = cfg->max_unauth;
	s->hs_ms = cfg->hs_timeout_ms ? cfg->hs_timeout_ms : NYM_GWS_HS_TIMEOUT_MS;
	s->dup_ms = cfg->dup_wait_ms ? cfg->dup_wait_ms : NYM_GWS_DUP_WAIT_MS;
	s->batch = cfg->inbox_batch > 0 ? cfg->inbox_batch : NYM_GWS_INBOX_BATCH;
	s->max_skew = cfg->max_skew ? cfg->max_skew : NYM_GW_MAX_SKEW;
	s->free_bw = cfg->free_bandwidth > 0 ? cfg->free_bandwidth : NYM_GW_FREE_BANDWIDTH;
	s->enforce_zk_nyms = cfg->enforce_zk_nyms;
	*out = s;
	return 0;
}

void
nym_gws_free(struct nym_gws *s)
{
	if (!s)
		return;
	s->freeing = 1; /* nothing more goes out */
	while (s->conns)
		conn_end(s->conns);
	free(s->pt);
	free(s->seal);
	nym_wipe(s, sizeof *s);
	free(s);
}

const struct nym_gws_stats *
nym_gws_stats(const struct nym_gws *s)
{
	return &s->st;
}
