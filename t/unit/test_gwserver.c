/* test_gwserver.c — the gateway side of the client protocol
 * (lib/proto/gwserver.c) with nothing under it: an in-memory storage, a
 * transport that records what it is asked to do, and clients played here
 * with lib/proto/gwproto.h's client role. Registration, authenticateV2 (good,
 * replayed, skewed, unknown, wrong version), free bandwidth and its
 * charging, a forwarded MixPacket, binary frames before authentication, the
 * error words, duplicate connections (alive, dead, gone), pushes and the
 * stored messages (delivered once, in batches, kept when never handed over),
 * deadlines, and a client that does not read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/gwproto.h"
#include "proto/gwserver.h"
#include "proto/keys.h"
#include "test.h"

#define T0 1700000000ull /* Unix time at ms 0 */

static struct nym_gws_now
at(uint64_t ms)
{
	return (struct nym_gws_now){ms, T0 + ms / 1000};
}

/* ---- storage ------------------------------------------------------------- */

static struct {
	struct { uint8_t id[32]; struct nym_gws_client c; int used; } cl[16];
	struct { int64_t id; uint8_t client[32]; uint8_t data[128]; size_t len; int live; } msg[512];
	int nmsg, removed;
	int64_t next_id;
	int fail; /* every storage call fails with NYM_EIO */
} S;

static struct nym_gws_client *
find_client(const uint8_t id[32])
{
	for (int i = 0; i < 16; i++)
		if (S.cl[i].used && !memcmp(S.cl[i].id, id, 32))
			return &S.cl[i].c;
	return NULL;
}

static int
s_get(void *ctx, const uint8_t id[32], struct nym_gws_client *c)
{
	struct nym_gws_client *f = find_client(id);
	(void)ctx;
	if (S.fail)
		return NYM_EIO;
	if (!f)
		return NYM_ENOTFOUND;
	*c = *f;
	return 0;
}

static int
s_register(void *ctx, const uint8_t id[32], const uint8_t key[32])
{
	struct nym_gws_client *f = find_client(id);
	(void)ctx;
	if (S.fail)
		return NYM_EIO;
	for (int i = 0; !f && i < 16; i++)
		if (!S.cl[i].used) {
			S.cl[i].used = 1;
			memcpy(S.cl[i].id, id, 32);
			memset(&S.cl[i].c, 0, sizeof S.cl[i].c);
			f = &S.cl[i].c;
		}
	memcpy(f->key, key, 32);
	return 0;
}

static int
s_auth_ts(void *ctx, const uint8_t id[32], uint64_t ts)
{
	(void)ctx;
	if (S.fail || !find_client(id))
		return NYM_EIO;
	find_client(id)->last_auth_ts = ts;
	return 0;
}

static int
s_bandwidth(void *ctx, const uint8_t id[32], int64_t bytes, int64_t day)
{
	(void)ctx;
	if (S.fail || !find_client(id))
		return NYM_EIO;
	find_client(id)->bandwidth = bytes;
	find_client(id)->bandwidth_day = day;
	return 0;
}

static int
s_forget(void *ctx, const uint8_t id[32])
{
	(void)ctx;
	for (int i = 0; i < 16; i++)
		if (S.cl[i].used && !memcmp(S.cl[i].id, id, 32))
			S.cl[i].used = 0;
	for (int i = 0; i < S.nmsg; i++)
		if (!memcmp(S.msg[i].client, id, 32))
			S.msg[i].live = 0;
	return 0;
}

static int
s_store(void *ctx, const uint8_t id[32], const uint8_t *m, size_t len, uint64_t now)
{
	(void)ctx;
	(void)now;
	if (S.fail || S.nmsg == 512 || len > 128)
		return NYM_EIO;
	S.msg[S.nmsg].id = ++S.next_id;
	memcpy(S.msg[S.nmsg].client, id, 32);
	memcpy(S.msg[S.nmsg].data, m, len);
	S.msg[S.nmsg].len = len;
	S.msg[S.nmsg].live = 1;
	S.nmsg++;
	return 0;
}

static int
s_fetch(void *ctx, const uint8_t id[32], int64_t after, int max, nym_gws_stored_fn fn, void *arg)
{
	int n = 0;
	(void)ctx;
	if (S.fail)
		return NYM_EIO;
	for (int i = 0; i < S.nmsg && n < max; i++) {
		if (!S.msg[i].live || S.msg[i].id <= after || memcmp(S.msg[i].client, id, 32))
			continue;
		n++;
		if (fn(arg, S.msg[i].id, S.msg[i].data, S.msg[i].len) != 0)
			break;
	}
	return n;
}

static int
s_remove(void *ctx, int64_t id)
{
	(void)ctx;
	for (int i = 0; i < S.nmsg; i++)
		if (S.msg[i].id == id && S.msg[i].live) {
			S.msg[i].live = 0;
			S.removed++;
		}
	return 0;
}

static int
stored_for(const uint8_t id[32])
{
	int n = 0;
	for (int i = 0; i < S.nmsg; i++)
		n += S.msg[i].live && !memcmp(S.msg[i].client, id, 32);
	return n;
}

/* ---- transport: one peer per connection -------------------------------- */

#define MAXF 300
struct peer {
	struct nym_gws_conn *c;
	int gone;                 /* nym_gws_closed was called */
	char *text[MAXF];
	int ntext;
	uint8_t *bin[MAXF];
	size_t bin_len[MAXF];
	uint64_t bin_tag[MAXF];
	int nbin;
	uint8_t ping[8];
	int npings;
	uint8_t ackping[16];      /* the last ack ping (16 bytes), unanswered */
	int ackpings, ackping_out;
	int no_pong;              /* the client does not answer ack pings */
	int closed, aborted;
	size_t queue_limit;       /* > 0: EFULL for a push beyond this many in flight */
	int acked;                /* binary frames reported sent */
	int text_full;            /* EFULL for text frames */
	/* the client's side */
	uint8_t seed[32], pk[32], key[32];
};

static struct {
	int n;
	uint8_t next_hop[NYM_NEXT_HOP_MAX];
	size_t next_hop_len, packet_len;
	uint8_t frame_version, packet_type, rotation, kind, client[32];
	int rc;                   /* what forward returns */
} F;
static struct { char text[256]; void *conn; } notes[64];
static int nnotes;

static int
t_send(void *ctx, void *conn, enum nym_gws_frame type, const uint8_t *data, size_t len, uint64_t tag)
{
	struct peer *p = conn;
	(void)ctx;
	if (type == NYM_GWS_PING && len == 16) {
		memcpy(p->ackping, data, 16);
		p->ackpings++;
		p->ackping_out = 1;
		return 0;
	}
	if (type == NYM_GWS_PING) {
		memcpy(p->ping, data, len < 8 ? len : 8);
		p->npings++;
		return 0;
	}
	if (type == NYM_GWS_BINARY && p->queue_limit && (size_t)(p->nbin - p->acked) >= p->queue_limit)
		return NYM_EFULL;
	if (type == NYM_GWS_TEXT && p->text_full)
		return NYM_EFULL;
	if (type == NYM_GWS_TEXT && p->ntext < MAXF) {
		p->text[p->ntext] = malloc(len + 1);
		memcpy(p->text[p->ntext], data, len);
		p->text[p->ntext++][len] = 0;
	} else if (type == NYM_GWS_BINARY && p->nbin < MAXF) {
		p->bin[p->nbin] = malloc(len);
		memcpy(p->bin[p->nbin], data, len);
		p->bin_len[p->nbin] = len;
		p->bin_tag[p->nbin++] = tag;
	}
	return 0;
}

static void
t_close(void *ctx, void *conn, int abort)
{
	struct peer *p = conn;
	(void)ctx;
	p->closed = 1;
	p->aborted |= abort;
}

static int
t_forward(void *ctx, void *conn, const struct nym_gws_forward *f)
{
	(void)ctx;
	(void)conn;
	F.n++;
	memcpy(F.next_hop, f->mp->next_hop, f->mp->next_hop_len);
	F.next_hop_len = f->mp->next_hop_len;
	F.packet_len = f->mp->packet_len;
	F.frame_version = f->frame_version;
	F.packet_type = f->mp->packet_type;
	F.rotation = f->mp->key_rotation;
	F.kind = f->request_kind;
	memcpy(F.client, f->client, 32);
	return F.rc;
}

static void
t_note(void *ctx, void *conn, enum nym_gws_level level, const char *text)
{
	(void)ctx;
	(void)level;
	snprintf(notes[nnotes % 64].text, sizeof notes[0].text, "%s", text);
	notes[nnotes++ % 64].conn = conn;
}

/* A log line with this text (part), about conn (any when ANY). */
#define ANY ((void *)1)
static int
has_note(const char *part, void *conn)
{
	for (int i = 0; i < 64 && i < nnotes; i++)
		if (strstr(notes[i].text, part) && (conn == ANY || notes[i].conn == conn))
			return 1;
	return 0;
}

/* ---- the server and the clients ------------------------------------------ */

static struct nym_gws *G;
static struct nym_rng rng;
static struct nym_node_keys gw;

static void
server_new_with(int64_t free_bandwidth, int enforce_zk_nyms)
{
	struct nym_gws_config cfg = {
		.identity_seed = gw.identity_seed, .rng = &rng,
		.free_bandwidth = free_bandwidth, .enforce_zk_nyms = enforce_zk_nyms,
		.store = {s_get, s_register, s_auth_ts, s_bandwidth, s_forget, s_store, s_fetch, s_remove,
		          NULL, NULL},
		.io = {t_send, t_close, t_forward, t_note, NULL},
		.inbox_batch = 4,
	};
	if (nym_gws_new(&G, &cfg) != 0) {
		printf("Bail out! nym_gws_new\n");
		exit(1);
	}
}

static void
server_new(void)
{
	server_new_with(0, 0);
}

static void
peer_reset(struct peer *p)
{
	for (int i = 0; i < p->ntext; i++)
		free(p->text[i]);
	for (int i = 0; i < p->nbin; i++)
		free(p->bin[i]);
	uint8_t seed[32], pk[32], key[32];
	memcpy(seed, p->seed, 32);
	memcpy(pk, p->pk, 32);
	memcpy(key, p->key, 32);
	memset(p, 0, sizeof *p);
	memcpy(p->seed, seed, 32);
	memcpy(p->pk, pk, 32);
	memcpy(p->key, key, 32);
}

/* A fresh connection for the client of seed byte `who`, which knows its
 * shared key once registered. */
static void
peer_connect(struct peer *p, uint8_t who, uint64_t ms)
{
	peer_reset(p);
	memset(p->seed, who, 32);
	nym_ed25519_public(p->pk, p->seed);
	if (find_client(p->pk))
		memcpy(p->key, find_client(p->pk)->key, 32);
	p->c = nym_gws_accept(G, p, at(ms));
}

static void
peer_gone(struct peer *p, uint64_t ms)
{
	if (p->c && !p->gone)
		nym_gws_closed(p->c, at(ms));
	p->gone = 1;
}

/* The transport wrote binary frames up to i, and the client read them:
 * it answers the ack ping that follows. */
static void
ack_upto(struct peer *p, int i, uint64_t ms)
{
	p->acked = i + 1;
	nym_gws_sent(p->c, p->bin_tag[i], at(ms));
	while (p->ackping_out && !p->no_pong && !p->gone) {
		p->ackping_out = 0;
		nym_gws_pong(p->c, p->ackping, 16, at(ms));
	}
}

/* Written only: the client has not read them (no pong yet). */
static void
written_upto(struct peer *p, int i, uint64_t ms)
{
	p->acked = i + 1;
	nym_gws_sent(p->c, p->bin_tag[i], at(ms));
}

static void
text(struct peer *p, const char *s, uint64_t ms)
{
	nym_gws_text(p->c, s, strlen(s), at(ms));
}

static const char *
last_text(const struct peer *p)
{
	return p->ntext ? p->text[p->ntext - 1] : "";
}

static int
has_text(const struct peer *p, const char *want)
{
	for (int i = 0; i < p->ntext; i++)
		if (!strcmp(p->text[i], want))
			return 1;
	return 0;
}

/* Registration with the M1..M4 exchange; the key is kept in p->key. */
static int
do_register(struct peer *p, uint8_t version, uint64_t ms)
{
	struct nym_gw_hs_client hs;
	struct nym_gw_msg m;
	uint8_t m1[NYM_GW_M1_LEN], m3[NYM_GW_M3_LEN];
	char *js;
	size_t jl;
	int ok = 0;

	if (nym_gw_hs_client_start(&hs, p->seed, gw.identity_pk, &rng, m1) != 0 ||
	    nym_gw_json_handshake(&js, &jl, 1, version, m1, sizeof m1) != 0)
		return 0;
	nym_gws_text(p->c, js, jl, at(ms));
	free(js);
	if (nym_gw_msg_parse(&m, 0, last_text(p), strlen(last_text(p))) != 0)
		return 0;
	if (m.type == NYM_GW_RESP_HANDSHAKE && nym_gw_hs_client_m2(&hs, m.hs, m.hs_len, &rng, m3) == 0 &&
	    nym_gw_json_handshake(&js, &jl, 1, version, m3, sizeof m3) == 0) {
		int before = p->ntext;
		nym_gws_text(p->c, js, jl, at(ms));
		free(js);
		/* M4 then register */
		if (p->ntext >= before + 2) {
			struct nym_gw_msg m4;
			const char *t = p->text[p->ntext - 2];
			if (nym_gw_msg_parse(&m4, 0, t, strlen(t)) == 0) {
				ok = m4.type == NYM_GW_RESP_HANDSHAKE &&
				     nym_gw_hs_client_m4(&hs, m4.hs, m4.hs_len, p->key) == 0;
				nym_gw_msg_free(&m4);
			}
		}
	}
	nym_gw_msg_free(&m);
	return ok;
}

static void
do_auth(struct peer *p, uint8_t version, uint64_t ts, uint64_t ms)
{
	struct nym_gw_msg m = {.type = NYM_GW_REQ_AUTHENTICATE_V2};
	char *js;
	size_t jl;

	nym_gw_auth_build(&m.auth, version, p->seed, p->key, ts, &rng);
	if (nym_gw_msg_encode(&m, &js, &jl) == 0) {
		nym_gws_text(p->c, js, jl, at(ms));
		free(js);
	}
}

/* One ForwardSphinx(V2) frame: 2413 bytes to 127.0.0.1:port. */
static void
do_forward(struct peer *p, uint8_t kind, uint16_t port, uint64_t ms)
{
	static uint8_t pkt[2413], pt[2 + 19 + 2413], frame[sizeof pt + 64];
	uint8_t hop[7] = {4, (uint8_t)(port >> 8), (uint8_t)port, 127, 0, 0, 1};
	struct nym_mix_packet mp = {.packet_type = 0, .key_rotation = NYM_ROTATION_EVEN};

	nym_rng_fill(&rng, pkt, sizeof pkt);
	nym_mix_packet_set_next_hop(&mp, hop, sizeof hop);
	mp.packet = pkt;
	mp.packet_len = sizeof pkt;
	int n = nym_mix_packet_encode(pt, sizeof pt, kind == 2 ? NYM_MIX_PACKET_V2 : NYM_MIX_PACKET_V1, &mp);
	n = nym_gw_bin_seal(frame, sizeof frame, kind, pt, (size_t)n, p->key, &rng);
	nym_gws_binary(p->c, frame, (size_t)n, at(ms));
}

/* The plaintext of binary frame i (a push), or -1. */
static int
push_text(const struct peer *p, int i, char *out, size_t cap)
{
	uint8_t kind, buf[256];
	int n = i < p->nbin ? nym_gw_bin_open(&kind, buf, sizeof buf, p->bin[i], p->bin_len[i], p->key) : -1;
	if (n < 0 || kind != NYM_GW_BIN_PUSHED || (size_t)n >= cap)
		return -1;
	memcpy(out, buf, (size_t)n);
	out[n] = 0;
	return n;
}

#define ERR(msg) "{\"type\":\"error\",\"message\":\"" msg "\"}"

int
main(void)
{
	struct peer a = {0}, b = {0}, c = {0};
	const struct nym_gws_stats *st;
	char buf[256];

	nym_crypto_init();
	rng = nym_rng_system();
	nym_node_keys_generate(&gw, &rng);
	server_new();
	st = nym_gws_stats(G);

	/* 1. supportedProtocol, then registration */
	peer_connect(&a, 1, 0);
	CHECK(a.c != NULL && st->connections == 1 && st->connected == 1, "accept");
	text(&a, "{\"type\":\"supportedProtocol\"}", 10);
	CHECK(!strcmp(last_text(&a), "{\"type\":\"supportedProtocol\",\"version\":6}"),
	      "supportedProtocol: version 6 (%s)", last_text(&a));
	CHECK(do_register(&a, 6, 20), "registration handshake completes, same key both sides");
	CHECK(!strcmp(last_text(&a), "{\"type\":\"register\",\"protocol_version\":6,\"status\":true,"
	                             "\"upgrade_mode\":false}"), "register reply (%s)", last_text(&a));
	CHECK(has_text(&a, "{\"type\":\"handshakePayload\",\"protocol_version\":6,\"data\":[1]}"), "M4 is [1]");
	CHECK(find_client(a.pk) && !memcmp(find_client(a.pk)->key, a.key, 32), "shared key stored");
	CHECK(st->registered == 1 && !a.closed, "registered, connection open");
	CHECK(has_note("registered (v6)", &a), "log: registered");

	/* 2. bandwidth: none yet, claim, charge */
	do_forward(&a, 2, 9, 30);
	CHECK(!strcmp(last_text(&a), "{\"type\":\"typedError\",\"error\":{\"out_of_bandwidth\":"
	                             "{\"required\":2413,\"available\":0}}}"),
	      "no bandwidth: typedError (%s)", last_text(&a));
	CHECK(F.n == 0 && st->send_errors == 1 && !a.closed, "not forwarded, connection stays");
	text(&a, "{\"type\":\"claimFreeTestnetBandwidth\"}", 40);
	CHECK(!strcmp(last_text(&a), "{\"type\":\"bandwidth\",\"available_total\":68719476736,"
	                             "\"upgrade_mode\":false}"), "claim: 64 GiB (%s)", last_text(&a));
	CHECK(find_client(a.pk)->bandwidth == NYM_GW_FREE_BANDWIDTH &&
	      find_client(a.pk)->bandwidth_day == (int64_t)(T0 / 86400), "claim stored at once");
	do_forward(&a, 2, 1789, 50);
	CHECK(!strcmp(last_text(&a), "{\"type\":\"send\",\"remaining_bandwidth\":68719474323,"
	                             "\"upgrade_mode\":false}"), "send reply: charged 2413 (%s)", last_text(&a));
	uint8_t hop[7] = {4, 1789 >> 8, 1789 & 255, 127, 0, 0, 1};
	CHECK(F.n == 1 && F.next_hop_len == 7 && !memcmp(F.next_hop, hop, 7) && F.packet_len == 2413 &&
	      F.frame_version == NYM_FRAME_V8 && F.kind == NYM_GW_BIN_FORWARD_SPHINX_V2 &&
	      F.rotation == NYM_ROTATION_EVEN && !memcmp(F.client, a.pk, 32),
	      "ForwardSphinxV2: next hop, rotation, v8 frame, client");
	CHECK(st->forwarded == 1, "forwarded counted");
	do_forward(&a, 1, 1789, 60);
	CHECK(F.n == 2 && F.frame_version == NYM_FRAME_V7 && F.rotation == NYM_ROTATION_UNKNOWN &&
	      F.kind == NYM_GW_BIN_FORWARD_SPHINX, "ForwardSphinx (v1): v7 frame, rotation unknown");
	F.rc = NYM_EFULL;
	do_forward(&a, 2, 1789, 70);
	CHECK(F.n == 3 && st->forwarded == 2 && strstr(last_text(&a), "\"type\":\"send\""),
	      "a packet the transport refuses is still answered send, not counted");
	F.rc = 0;
	CHECK(find_client(a.pk)->bandwidth == NYM_GW_FREE_BANDWIDTH, "charges not written yet");

	/* 3. errors after authentication: answered, connection kept */
	text(&a, "garbage", 80);
	CHECK(!strncmp(last_text(&a), ERR("the received request is malformed: "), 55), "malformed JSON (%s)",
	      last_text(&a));
	nym_gws_binary(a.c, (const uint8_t *)"\x01\x02", 2, at(80));
	CHECK(!strncmp(last_text(&a), ERR(NYM_GW_ERRTXT_MALFORMED_BINARY), 60), "malformed binary (%s)",
	      last_text(&a));
	text(&a, "{\"type\":\"handshakePayload\",\"data\":[1]}", 80);
	CHECK(!strcmp(last_text(&a), ERR(NYM_GW_ERRTXT_INVALID_CONTEXT "received illegal message of type "
	                                 "RegisterHandshakeInitRequest in an authenticated client")),
	      "handshake after auth (%s)", last_text(&a));
	text(&a, "{\"type\":\"whatever\"}", 80);
	CHECK(!strcmp(last_text(&a), ERR(NYM_GW_ERRTXT_INVALID_CONTEXT "unknown request type")),
	      "unknown type (%s)", last_text(&a));
	text(&a, "{\"type\":\"ecashCredential\",\"enc_credential\":[1],\"iv\":[0,0,0,0,0,0,0,0,0,0,0,0]}", 80);
	CHECK(!strcmp(last_text(&a), ERR("this gateway runs in free mode: ecash credentials are not "
	                                 "accepted; use claimFreeTestnetBandwidth")), "ecash (%s)", last_text(&a));
	CHECK(!a.closed, "still open after five errors");

	/* 4. close: the charges are saved */
	peer_gone(&a, 90);
	CHECK(find_client(a.pk)->bandwidth == NYM_GW_FREE_BANDWIDTH - 3 * 2413 && st->connected == 0,
	      "bandwidth saved at close (%lld)", (long long)find_client(a.pk)->bandwidth);

	/* 5. authenticateV2: good, then replayed, skewed, unknown, wrong version */
	peer_connect(&a, 1, 1000);
	do_auth(&a, 6, T0 + 1, 1000);
	CHECK(!strcmp(last_text(&a), "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":true,"
	                             "\"bandwidth_remaining\":68719469497,\"upgrade_mode\":false}"),
	      "authenticate: stored bandwidth (%s)", last_text(&a));
	CHECK(st->authenticated == 1 && find_client(a.pk)->last_auth_ts == T0 + 1, "timestamp stored");
	peer_gone(&a, 1100);
	peer_connect(&a, 1, 2000);
	do_auth(&a, 6, T0 + 1, 2000);
	CHECK(!strcmp(last_text(&a), ERR(NYM_GW_ERRTXT_REPLAY)) && a.closed && !a.aborted,
	      "replayed timestamp: error, closed once written");
	peer_gone(&a, 2000);
	peer_connect(&a, 1, 3000);
	do_auth(&a, 6, T0 - 500, 3000);
	snprintf(buf, sizeof buf, ERR("the provided request timestamp is excessively skewed. got %llu "
	                              "whilst the server time is %llu"),
	         (unsigned long long)(T0 - 500), (unsigned long long)(T0 + 3));
	CHECK(!strcmp(last_text(&a), buf) && a.closed, "skewed timestamp (%s)", last_text(&a));
	peer_gone(&a, 3000);
	peer_connect(&b, 2, 3000);
	do_auth(&b, 6, T0 + 3, 3000);
	CHECK(!strcmp(last_text(&b), ERR(NYM_GW_ERRTXT_NOT_REGISTERED)) && b.closed, "unknown client");
	peer_gone(&b, 3000);
	peer_connect(&a, 1, 3000);
	do_auth(&a, 3, T0 + 3, 3000);
	CHECK(!strcmp(last_text(&a), ERR("Attempted to negotiate connection with client using incompatible "
	                                 "protocol version. Ours is 6 and the client reports 3")) && a.closed,
	      "authenticateV2 v3: wrong version (%s)", last_text(&a));
	peer_gone(&a, 3000);
	peer_connect(&a, 1, 3000);
	memset(a.key, 0x55, 32);
	do_auth(&a, 6, T0 + 3, 3000);
	CHECK(!strcmp(last_text(&a), ERR(NYM_GW_ERRTXT_BAD_ADDRESS)) && a.closed, "wrong shared key");
	peer_gone(&a, 3000);
	CHECK(st->auth_failed == 5 && st->authenticated == 1, "failures counted (%llu)",
	      (unsigned long long)st->auth_failed);

	/* 6. before authentication: only register/authenticate */
	peer_connect(&b, 2, 4000);
	nym_gws_binary(b.c, (const uint8_t *)"\x01\x01\0\0\0\0\0\0\0\0\0\0\0\0", 14, at(4000));
	CHECK(!strcmp(last_text(&b), ERR(NYM_GW_ERRTXT_NO_AUTH_BINARY)) && b.closed && !b.aborted,
	      "binary before authentication: refused, closed");
	CHECK(st->hostile_closed == 1, "counted as hostile");
	text(&b, "{\"type\":\"supportedProtocol\"}", 4001);
	CHECK(b.ntext == 1, "nothing answered once closing");
	peer_gone(&b, 4001);
	peer_connect(&b, 2, 4000);
	text(&b, "{\"type\":\"authenticate\",\"address\":\"x\"}", 4000);
	CHECK(!strcmp(last_text(&b), ERR(NYM_GW_ERRTXT_LEGACY_AUTH)) && b.closed, "legacy authenticate");
	peer_gone(&b, 4000);
	peer_connect(&b, 2, 4000);
	text(&b, "{\"type\":\"claimFreeTestnetBandwidth\"}", 4000);
	CHECK(!strcmp(last_text(&b), ERR(NYM_GW_ERRTXT_ONLY_REGISTER)) && b.closed, "claim before auth");
	peer_gone(&b, 4000);
	peer_connect(&b, 2, 4000);
	text(&b, "{not json", 4000);
	CHECK(!strncmp(last_text(&b), ERR("the received request is malformed"), 50) && b.closed,
	      "malformed JSON before auth closes");
	peer_gone(&b, 4000);

	/* 7. a bad M3: handshakeError, then the error, closed */
	peer_connect(&b, 2, 5000);
	{
		struct nym_gw_hs_client hs;
		uint8_t m1[80], m3[92];
		char *js;
		size_t jl;
		nym_gw_hs_client_start(&hs, b.seed, gw.identity_pk, &rng, m1);
		nym_gw_json_handshake(&js, &jl, 1, 9, m1, 80);
		nym_gws_text(b.c, js, jl, at(5000));
		free(js);
		CHECK(strstr(last_text(&b), "\"protocol_version\":6") != NULL, "a future version 9 is clamped to 6");
		text(&b, "{\"type\":\"supportedProtocol\"}", 5001);
		CHECK(b.ntext == 1, "in the handshake anything else is dropped silently");
		memset(m3, 7, sizeof m3);
		nym_gw_json_handshake(&js, &jl, 1, 6, m3, 92);
		nym_gws_text(b.c, js, jl, at(5002));
		free(js);
	}
	CHECK(b.ntext == 3 && !strcmp(b.text[1], "{\"type\":\"handshakeError\",\"message\":\"failed to verify "
	                                         "the client's signature\"}") &&
	      !strcmp(b.text[2], ERR("Failed to perform registration handshake: failed to verify the "
	                             "client's signature")) && b.closed,
	      "bad M3: handshakeError + error (%s)", last_text(&b));
	peer_gone(&b, 5002);

	/* 8. duplicates: a live old connection wins */
	peer_connect(&a, 1, 10000);
	do_auth(&a, 6, T0 + 10, 10000);
	CHECK(strstr(last_text(&a), "\"type\":\"authenticate\"") != NULL, "A authenticated");
	peer_connect(&b, 1, 10100); /* the same client again */
	do_auth(&b, 6, T0 + 11, 10100);
	CHECK(a.npings == 1 && b.ntext == 0 && !b.closed, "B waits, A is pinged");
	nym_gws_pong(a.c, (const uint8_t *)"wrongpng", 8, at(10200));
	CHECK(b.ntext == 0, "a pong with other bytes does not count");
	nym_gws_pong(a.c, a.ping, 8, at(10300));
	CHECK(!strcmp(last_text(&b), ERR(NYM_GW_ERRTXT_DUPLICATE)) && b.closed && !a.closed,
	      "A answers: B refused, A stays");
	peer_gone(&b, 10300);
	/* registration for a connected client */
	peer_connect(&c, 1, 10400);
	{
		struct nym_gw_hs_client hs;
		uint8_t m1[80];
		char *js;
		size_t jl;
		nym_gw_hs_client_start(&hs, c.seed, gw.identity_pk, &rng, m1);
		nym_gw_json_handshake(&js, &jl, 1, 6, m1, 80);
		nym_gws_text(c.c, js, jl, at(10400));
		free(js);
	}
	CHECK(!strcmp(last_text(&c), ERR(NYM_GW_ERRTXT_DUPLICATE)) && c.closed,
	      "registration of a connected client refused");
	peer_gone(&c, 10400);

	/* a dead old connection is replaced */
	peer_connect(&b, 1, 11000);
	do_auth(&b, 6, T0 + 12, 11000);
	CHECK(a.npings == 2 && nym_gws_tick(G, at(11500)) > 0 && b.ntext == 0, "B waits for A's pong");
	nym_gws_tick(G, at(12001));
	CHECK(a.closed && a.aborted, "no pong in a second: A dropped at once");
	CHECK(strstr(last_text(&b), "\"type\":\"authenticate\"") && !b.closed, "B authenticated");
	CHECK(has_note("previous connection of this client is dead; replacing it", &a), "log says so");
	peer_gone(&a, 12002);
	CHECK(st->connected == 1, "one connection left");

	/* the old connection closes while being checked: the new one proceeds */
	peer_connect(&c, 1, 13000);
	do_auth(&c, 6, T0 + 14, 13000);
	CHECK(b.npings == 1 && c.ntext == 0, "C waits, B is pinged");
	peer_gone(&b, 13100);
	CHECK(strstr(last_text(&c), "\"type\":\"authenticate\"") && !c.closed, "B gone: C authenticated");
	/* the new one goes away while waiting */
	peer_connect(&a, 1, 14000);
	do_auth(&a, 6, T0 + 15, 14000);
	peer_gone(&a, 14100);
	nym_gws_tick(G, at(16000));
	CHECK(!c.closed && c.npings == 1, "A gone while waiting: C untouched");

	/* 9. pushes: to a connected client, then stored while away */
	uint8_t cid[32];
	memcpy(cid, c.pk, 32);
	nym_gws_push(G, cid, (const uint8_t *)"hello", 5, at(17000));
	CHECK(c.nbin == 1 && push_text(&c, 0, buf, sizeof buf) == 5 && !strcmp(buf, "hello") &&
	      c.bin_tag[0] != 0, "push: a PushedMixMessage with a tag");
	CHECK(st->pushed == 1 && stored_for(cid) == 0, "pushed, not stored");
	nym_gws_push(G, cid, (const uint8_t *)"never sent", 10, at(17001));
	ack_upto(&c, 0, 17002);
	peer_gone(&c, 17003);
	CHECK(stored_for(cid) == 1 && !strcmp((char *)S.msg[S.nmsg - 1].data, "never sent"),
	      "a push never handed over is stored at close");
	for (int i = 0; i < 9; i++) {
		snprintf(buf, sizeof buf, "stored %d", i);
		nym_gws_push(G, cid, (const uint8_t *)buf, strlen(buf) + 1, at(17100));
	}
	CHECK(stored_for(cid) == 10 && st->stored == 10, "offline: stored");
	nym_gws_push(G, (const uint8_t *)"nobody-nobody-nobody-nobody-nob", (const uint8_t *)"x", 1, at(17100));
	CHECK(st->stored == 11, "for an unknown client: stored too");

	/* stored messages come before the authenticate reply, in batches of 4 */
	peer_connect(&c, 1, 18000);
	do_auth(&c, 6, T0 + 18, 18000);
	CHECK(c.nbin == 4 && c.ntext == 1 && strstr(last_text(&c), "\"type\":\"authenticate\""),
	      "first batch (4), then the reply");
	CHECK(push_text(&c, 0, buf, sizeof buf) > 0 && !strcmp(buf, "never sent"), "oldest first (%s)", buf);
	CHECK(stored_for(cid) == 10, "nothing removed before it is handed over");
	ack_upto(&c, 1, 18001);
	CHECK(S.removed == 2 && c.nbin == 4, "two handed over: removed; no new batch yet");
	ack_upto(&c, 3, 18002);
	CHECK(c.nbin == 8, "the batch is out: the next one");
	ack_upto(&c, 7, 18003);
	CHECK(c.nbin == 10 && push_text(&c, 9, buf, sizeof buf) > 0 && !strcmp(buf, "stored 8"),
	      "all ten, in order (%s)", buf);
	ack_upto(&c, 9, 18004);
	CHECK(stored_for(cid) == 0 && st->inbox_delivered == 10, "each removed once");
	peer_gone(&c, 18005);
	CHECK(stored_for(cid) == 0, "nothing stored again at close");

	/* a full queue: the batch stops and goes on later */
	for (int i = 0; i < 6; i++) {
		snprintf(buf, sizeof buf, "again %d", i);
		nym_gws_push(G, cid, (const uint8_t *)buf, strlen(buf) + 1, at(19000));
	}
	peer_connect(&c, 1, 19000);
	c.queue_limit = 3;
	do_auth(&c, 6, T0 + 19, 19000);
	CHECK(c.nbin == 3 && strstr(last_text(&c), "\"type\":\"authenticate\""),
	      "three fit in the queue, then the reply");
	nym_gws_push(G, cid, (const uint8_t *)"live", 5, at(19001));
	CHECK(c.nbin == 3 && stored_for(cid) == 7, "a live push that does not fit is stored");
	ack_upto(&c, 2, 19002);
	CHECK(c.nbin == 6 && push_text(&c, 3, buf, sizeof buf) > 0 && !strcmp(buf, "again 3"),
	      "the rest once the queue drained (%s)", buf);
	ack_upto(&c, 5, 19003);
	CHECK(c.nbin == 7 && push_text(&c, 6, buf, sizeof buf) > 0 && !strcmp(buf, "live"),
	      "and the one stored meanwhile");
	ack_upto(&c, 6, 19004);
	CHECK(stored_for(cid) == 0, "all handed over");
	/* a client that does not read its replies */
	c.text_full = 1;
	text(&c, "{\"type\":\"supportedProtocol\"}", 19005);
	CHECK(c.closed && !c.aborted, "replies pile up: closed once the queue is written");
	CHECK(has_note("client does not read its replies; closing", &c), "log says so");
	nym_gws_push(G, cid, (const uint8_t *)"late", 5, at(19006));
	CHECK(c.nbin == 7 && stored_for(cid) == 1, "a push for a closing connection is stored");
	peer_gone(&c, 19007);

	/* 10. deadlines: 10 s per message before auth, 5 s for M3 */
	peer_connect(&b, 2, 30000);
	text(&b, "{\"type\":\"supportedProtocol\"}", 35000);
	int64_t left = nym_gws_tick(G, at(39000));
	CHECK(!b.closed && left == 6000, "a message restarts the 10 s (%lld left)", (long long)left);
	nym_gws_tick(G, at(45000));
	CHECK(b.closed && b.aborted, "silent for 10 s: closed");
	peer_gone(&b, 45001);
	peer_connect(&b, 2, 50000);
	{
		struct nym_gw_hs_client hs;
		uint8_t m1[80];
		char *js;
		size_t jl;
		nym_gw_hs_client_start(&hs, b.seed, gw.identity_pk, &rng, m1);
		nym_gw_json_handshake(&js, &jl, 1, 6, m1, 80);
		nym_gws_text(b.c, js, jl, at(50000));
		free(js);
	}
	nym_gws_tick(G, at(54999));
	CHECK(!b.closed, "M3 may come within 5 s");
	nym_gws_tick(G, at(55000));
	CHECK(b.closed && b.aborted, "no M3 in 5 s: closed");
	peer_gone(&b, 55001);
	CHECK(nym_gws_tick(G, at(60000)) == -1, "no deadline left");

	/* 10b. before authentication: auth_timeout_ms in all, however chatty the
	 * connection is; at most max_unauth at once, authenticated ones aside */
	{
		struct nym_gws *keep = G;
		struct nym_gws_config cfg = {
			.identity_seed = gw.identity_seed, .rng = &rng, .max_unauth = 2,
			.store = {s_get, s_register, s_auth_ts, s_bandwidth, s_forget, s_store, s_fetch,
			          s_remove, NULL, NULL},
			.io = {t_send, t_close, t_forward, t_note, NULL},
		};
		struct peer au = {0}, p1 = {0}, p2 = {0}, p3 = {0};
		CHECK(nym_gws_new(&G, &cfg) == 0, "a server with max_unauth 2");
		peer_connect(&au, 7, 100000);
		CHECK(do_register(&au, 6, 100000), "a client registers");
		peer_connect(&p1, 8, 100000);
		peer_connect(&p2, 9, 100000);
		peer_connect(&p3, 10, 100000);
		CHECK(p1.c && p2.c && !p3.c, "a third unauthenticated connection is refused");
		CHECK(nym_gws_stats(G)->unauth_refused == 1, "and counted");
		uint64_t ms;
		for (ms = 100000; ms < 130000; ms += 8000) {
			text(&p1, "{\"type\":\"supportedProtocol\"}", ms);
			nym_gws_tick(G, at(ms));
		}
		CHECK(p2.closed && !p1.closed, "a silent one goes after 10 s, a chatty one stays");
		nym_gws_tick(G, at(129999));
		CHECK(!p1.closed, "until 30 s after it connected");
		nym_gws_tick(G, at(130000));
		CHECK(p1.closed && p1.aborted, "then it is closed, though it talked every 8 s");
		CHECK(!au.closed, "the authenticated client stays");
		peer_gone(&p1, 130001);
		peer_gone(&p2, 130001);
		peer_connect(&p3, 10, 130002);
		CHECK(p3.c != NULL, "slots freed: a new connection is accepted");
		peer_gone(&p3, 130003);
		peer_gone(&au, 130003);
		nym_gws_free(G);
		G = keep;
		peer_reset(&au);
		peer_reset(&p1);
		peer_reset(&p2);
		peer_reset(&p3);
	}

	/* 11. storage failures */
	peer_connect(&a, 1, 61000);
	S.fail = 1;
	do_auth(&a, 6, T0 + 61, 61000);
	CHECK(strstr(last_text(&a), "\"type\":\"error\"") && a.closed, "storage down: authentication fails");
	CHECK(has_note("inbox: ", NULL), "storage failure logged, about the gateway");
	S.fail = 0;
	peer_gone(&a, 61001);

	/* 12. ForgetMe */
	peer_connect(&a, 1, 62000);
	do_auth(&a, 6, T0 + 62, 62000);
	{
		struct nym_gw_creq_msg fm = {.kind = NYM_GW_CREQ_FORGET_ME, .client = 1};
		struct nym_gw_msg m;
		char *js;
		size_t jl;
		nym_gw_creq_seal(&m, &fm, a.key, &rng);
		nym_gw_msg_encode(&m, &js, &jl);
		nym_gws_text(a.c, js, jl, at(62001));
		free(js);
		nym_gw_msg_free(&m);
		struct nym_gw_creq_msg ack;
		CHECK(nym_gw_msg_parse(&m, 0, last_text(&a), strlen(last_text(&a))) == 0 &&
		      nym_gw_creq_open(&ack, &m, a.key) == 0 && ack.kind == NYM_GW_CRESP_FORGET_ME_ACK,
		      "ForgetMe: acknowledged");
		nym_gw_msg_free(&m);
	}
	CHECK(find_client(a.pk) == NULL && stored_for(a.pk) == 0, "ForgetMe: the client is forgotten");

	/* 13. freeing with connections open: they end as if closed */
	nym_gws_push(G, a.pk, (const uint8_t *)"last", 5, at(63000));
	nym_gws_free(G);
	CHECK(stored_for(a.pk) == 1, "free: the push not handed over is stored");

	/* 14. a gateway that enforces zk-nyms refuses free claims, in the reference's words */
	server_new_with(0, 1);
	peer_connect(&c, 7, 70000);
	CHECK(do_register(&c, 6, 70000), "enforcing: registration still works");
	text(&c, "{\"type\":\"claimFreeTestnetBandwidth\"}", 70010);
	CHECK(!strcmp(last_text(&c), ERR("This gateway is only accepting coconut credentials for bandwidth")),
	      "enforcing: the free claim is refused (%s)", last_text(&c));
	do_forward(&c, 2, 1789, 70020);
	CHECK(strstr(last_text(&c), "out_of_bandwidth") && !c.closed, "enforcing: no bandwidth, still connected");
	peer_gone(&c, 70030);
	nym_gws_free(G);

	/* 15. a small allowance (--free-bandwidth): runs out, claimed again, adds up */
	server_new_with(5000, 0);
	peer_connect(&c, 7, 71000);
	do_auth(&c, 6, T0 + 71, 71000);
	text(&c, "{\"type\":\"claimFreeTestnetBandwidth\"}", 71010);
	CHECK(!strcmp(last_text(&c), "{\"type\":\"bandwidth\",\"available_total\":5000,\"upgrade_mode\":false}"),
	      "small allowance: 5000 bytes a claim (%s)", last_text(&c));
	do_forward(&c, 2, 1789, 71020);
	do_forward(&c, 2, 1789, 71030);
	CHECK(strstr(last_text(&c), "\"remaining_bandwidth\":174,"), "two packets charged (%s)", last_text(&c));
	do_forward(&c, 2, 1789, 71040);
	CHECK(!strcmp(last_text(&c), "{\"type\":\"typedError\",\"error\":{\"out_of_bandwidth\":"
	                             "{\"required\":2413,\"available\":174}}}"),
	      "the third is refused: out of bandwidth (%s)", last_text(&c));
	text(&c, "{\"type\":\"claimFreeTestnetBandwidth\"}", 71050);
	CHECK(strstr(last_text(&c), "\"available_total\":5174,"), "claimed again: what was left + 5000 (%s)",
	      last_text(&c));
	peer_gone(&c, 71060);
	nym_gws_free(G);

	/* 16. empty first messages (a hostile client, no authentication): an
	 * empty text and an empty binary message, with no buffer at all as a
	 * transport may pass for them, get the error reply and a close */
	server_new();
	int forwarded = F.n;
	peer_connect(&c, 8, 72000);
	nym_gws_text(c.c, NULL, 0, at(72000));
	CHECK(!strncmp(last_text(&c), ERR("the received request is malformed: "), 55) && c.closed &&
	      !c.aborted, "empty first text: malformed, closed once answered (%s)", last_text(&c));
	peer_gone(&c, 72010);
	peer_connect(&c, 8, 72020);
	nym_gws_text(c.c, "", 0, at(72020));
	CHECK(c.ntext == 1 && c.closed, "empty first text (\"\"): answered once, closed");
	peer_gone(&c, 72030);
	peer_connect(&c, 8, 72040);
	nym_gws_binary(c.c, NULL, 0, at(72040));
	CHECK(!strcmp(last_text(&c), ERR(NYM_GW_ERRTXT_NO_AUTH_BINARY)) && c.closed && F.n == forwarded,
	      "empty first binary: refused, closed (%s)", last_text(&c));
	peer_gone(&c, 72050);
	/* and once authenticated: answered, the connection stays */
	peer_connect(&c, 8, 72060);
	CHECK(do_register(&c, 6, 72060), "empty messages: a client registers");
	nym_gws_text(c.c, NULL, 0, at(72070));
	CHECK(!strncmp(last_text(&c), ERR("the received request is malformed: "), 55) && !c.closed,
	      "empty text after authentication: an error, still open (%s)", last_text(&c));
	nym_gws_binary(c.c, NULL, 0, at(72080));
	CHECK(!strncmp(last_text(&c), ERR(NYM_GW_ERRTXT_MALFORMED_BINARY), 60) && !c.closed && F.n == forwarded,
	      "empty binary after authentication: an error, still open (%s)", last_text(&c));
	peer_gone(&c, 72090);
	nym_gws_free(G);

	/* 17. written is not read (issue 17 item 1): a push counts as delivered
	 * only when the pong to the ack ping written after it comes back; a
	 * client killed before that finds it again on its next connection */
	server_new();
	peer_connect(&c, 9, 80000);
	CHECK(do_register(&c, 6, 80000), "ack pings: a client registers");
	uint8_t kid[32];
	memcpy(kid, c.pk, 32);
	peer_gone(&c, 80010);
	nym_gws_push(G, kid, (const uint8_t *)"stored", 7, at(80020));
	peer_connect(&c, 9, 81000);
	do_auth(&c, 6, T0 + 81, 81000);
	nym_gws_push(G, kid, (const uint8_t *)"live", 5, at(81010));
	CHECK(c.nbin == 2 && c.ackpings == 0, "the stored one and a live one pushed; no ping before written");
	written_upto(&c, 1, 81020);
	CHECK(c.ackpings == 1 && stored_for(kid) == 1, "written: an ack ping; nothing forgotten yet");
	nym_gws_push(G, kid, (const uint8_t *)"later", 6, at(81030));
	written_upto(&c, 2, 81040);
	CHECK(c.ackpings == 1, "one ack ping at a time");
	peer_gone(&c, 81050);
	CHECK(stored_for(kid) == 3, "closed before the pong: all three kept (%d)", stored_for(kid));
	peer_connect(&c, 9, 82000);
	do_auth(&c, 6, T0 + 82, 82000);
	CHECK(c.nbin == 3, "pushed again on the next connection");
	written_upto(&c, 2, 82010);
	nym_gws_pong(c.c, (const uint8_t *)"nymkit-a\0\0\0\0\0\0\0\x63", 16, at(82020));
	CHECK(stored_for(kid) == 3, "a pong with another counter ends nothing");
	nym_gws_pong(c.c, c.ackping, 16, at(82030));
	CHECK(stored_for(kid) == 0 && c.ackpings == 1, "the pong: read, removed (%d)", stored_for(kid));
	/* a client that never answers: after NYM_GWS_PONG_WAIT_MS written counts as read */
	nym_gws_push(G, kid, (const uint8_t *)"unanswered", 11, at(82040));
	written_upto(&c, 3, 82050);
	CHECK(c.ackpings == 2 && nym_gws_tick(G, at(82060)) <= NYM_GWS_PONG_WAIT_MS,
	      "an ack ping; the tick asks to be called by its deadline");
	nym_gws_tick(G, at(82050 + NYM_GWS_PONG_WAIT_MS));
	CHECK(has_note("client does not answer pings; pushes count as read once written", &c),
	      "unanswered ping: said in the log");
	nym_gws_push(G, kid, (const uint8_t *)"after", 6, at(92100));
	written_upto(&c, 4, 92110);
	CHECK(c.ackpings == 2, "no more ack pings for it");
	peer_gone(&c, 92120);
	CHECK(stored_for(kid) == 0, "written counted as read: nothing kept at close");
	nym_gws_free(G);

	peer_reset(&a);
	peer_reset(&b);
	peer_reset(&c);
	return t_done();
}
