/* test_gwsess — the sans-I/O client gateway session (proto/gwsess.h) against
 * the gateway role of proto/gwproto.h, in memory: registration, the free
 * bandwidth claim, authenticateV2 with a stored key, frames both ways, and
 * the ways it gives up. */
#include <string.h>

#include "crypto/crypto.h"
#include "proto/gwsess.h"
#include "test.h"

static struct {
	uint8_t frame[4096];
	size_t len;
	int binary, nsent, nbin, ready, registered_now, fatal_err, npushed, pushed_at_ready;
	uint8_t key[32], pushed[256];
	size_t pushed_len;
	int got_key;
} O;

static int o_send(void *c, int b, const uint8_t *d, size_t n)
{
	(void)c;
	O.binary = b;
	O.len = n < sizeof O.frame ? n : sizeof O.frame;
	memcpy(O.frame, d, O.len);
	O.nsent++;
	O.nbin += b;
	return 0;
}
static void o_ready(void *c, int r) { (void)c; O.ready++; O.registered_now = r; O.pushed_at_ready = O.npushed; }
static void o_pushed(void *c, const uint8_t *p, size_t n)
{
	(void)c;
	O.npushed++;
	O.pushed_len = n;
	memcpy(O.pushed, p, n < sizeof O.pushed ? n : sizeof O.pushed);
}
static void o_registered(void *c, const uint8_t k[32]) { (void)c; memcpy(O.key, k, 32); O.got_key = 1; }
static void o_fatal(void *c, int e, const char *why) { (void)c; (void)why; O.fatal_err = e; }

static const struct nym_gwsess_ops OPS = {o_send, o_ready, o_pushed, o_registered, NULL, o_fatal, NULL};

static void
feed(struct nym_gwsess *s, const char *json)
{
	nym_gwsess_frame(s, 0, (const uint8_t *)json, strlen(json), 1700000000);
}

/* The last text frame the client sent, parsed as a request. */
static int
last_req(struct nym_gw_msg *m)
{
	memset(m, 0, sizeof *m);
	return O.binary ? -1 : nym_gw_msg_parse(m, 1, (const char *)O.frame, O.len);
}

static void
test_register(struct nym_client_keys *ck, const uint8_t gseed[32], const uint8_t gpk[32], uint8_t key[32])
{
	struct nym_rng r = nym_rng_system();
	struct nym_gw_hs_gateway g;
	struct nym_gw_msg m;
	uint8_t m2[NYM_GW_M2_LEN], m4[1], gkey[32];
	char *js;
	size_t jl;

	memset(&O, 0, sizeof O);
	struct nym_gwsess *s = nym_gwsess_new(ck, gpk, NULL, &r, &OPS);
	CHECK(s && nym_gwsess_state(s) == NYM_GWSESS_IDLE, "new session is idle");
	nym_gwsess_open(s, 1700000000);
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_SUPPORTED_PROTOCOL, "open: supportedProtocol first");
	nym_gw_msg_free(&m);
	feed(s, "{\"type\":\"supportedProtocol\",\"version\":6}");
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_HANDSHAKE && m.hs_len == NYM_GW_M1_LEN,
	      "no stored key: registration starts with M1");
	CHECK(nym_gw_hs_gateway_m1(&g, gseed, m.hs, m.hs_len, &r, m2) == 0, "the gateway takes M1");
	CHECK(memcmp(g.client_pk, ck->identity_pk, 32) == 0, "M1 carries the client's identity");
	nym_gw_msg_free(&m);
	CHECK(nym_gw_json_handshake(&js, &jl, 0, 6, m2, sizeof m2) == 0, "M2 as JSON");
	feed(s, js);
	free(js);
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_HANDSHAKE && m.hs_len == NYM_GW_M3_LEN, "M2 -> M3");
	CHECK(nym_gw_hs_gateway_m3(&g, m.hs, m.hs_len, m4, gkey) == 0, "the gateway verifies M3");
	nym_gw_msg_free(&m);
	CHECK(nym_gw_json_handshake(&js, &jl, 0, 6, m4, 1) == 0, "M4 as JSON");
	feed(s, js);
	free(js);
	CHECK(O.got_key && memcmp(O.key, gkey, 32) == 0, "registered: both sides hold the same key");
	CHECK(nym_gwsess_state(s) == NYM_GWSESS_REGISTER, "waiting for register");
	feed(s, "{\"type\":\"register\",\"protocol_version\":6,\"status\":true,\"upgrade_mode\":false}");
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_CLAIM_FREE_BANDWIDTH, "no bandwidth yet: a free claim");
	nym_gw_msg_free(&m);
	CHECK(O.ready == 0, "not ready before the claim is granted");
	feed(s, "{\"type\":\"bandwidth\",\"available_total\":68719476736,\"upgrade_mode\":false}");
	CHECK(O.ready == 1 && O.registered_now == 1 && nym_gwsess_state(s) == NYM_GWSESS_READY,
	      "granted: ready, on the connection that registered");
	CHECK(nym_gwsess_version(s) == 6, "protocol 6");

	/* a MixPacket out: ForwardSphinxV2, sealed with the shared key */
	uint8_t mp[100], pt[200], kind;
	for (size_t i = 0; i < sizeof mp; i++) mp[i] = (uint8_t)i;
	CHECK(nym_gwsess_forward(s, mp, sizeof mp) == 0 && O.binary, "forward: one binary frame");
	int n = nym_gw_bin_open(&kind, pt, sizeof pt, O.frame, O.len, gkey);
	CHECK(n == (int)sizeof mp && kind == NYM_GW_BIN_FORWARD_SPHINX_V2 && memcmp(pt, mp, sizeof mp) == 0,
	      "the gateway opens it: kind 2, the packet");
	/* a pushed message in */
	uint8_t fr[300];
	int fl = nym_gw_bin_seal(fr, sizeof fr, NYM_GW_BIN_PUSHED, mp, 21, gkey, &r);
	nym_gwsess_frame(s, 1, fr, (size_t)fl, 1700000001);
	CHECK(O.npushed == 1 && O.pushed_len == 21 && memcmp(O.pushed, mp, 21) == 0, "pushed: handed up");
	fr[20] ^= 1;
	nym_gwsess_frame(s, 1, fr, (size_t)fl, 1700000001);
	CHECK(O.npushed == 1, "a frame that does not open is not handed up");
	nym_gwsess_closed(s);
	CHECK(nym_gwsess_state(s) == NYM_GWSESS_IDLE && nym_gwsess_forward(s, mp, sizeof mp) == NYM_ENET,
	      "closed: nothing goes out");
	memcpy(key, gkey, 32);
	nym_gwsess_free(s);
}

static void
test_auth(struct nym_client_keys *ck, const uint8_t gpk[32], const uint8_t key[32])
{
	struct nym_rng r = nym_rng_system();
	struct nym_gw_msg m;
	memset(&O, 0, sizeof O);
	struct nym_gwsess *s = nym_gwsess_new(ck, gpk, key, &r, &OPS);
	nym_gwsess_open(s, 1700000100);
	feed(s, "{\"type\":\"supportedProtocol\",\"version\":6}");
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_AUTHENTICATE_V2, "stored key: authenticateV2");
	CHECK(nym_gw_auth_check_request(&m.auth, 1700000100, NYM_GW_MAX_SKEW) == 0, "its signature verifies");
	CHECK(nym_gw_auth_check_key(&m.auth, key, 0) == 0, "its address ciphertext matches the key");
	uint64_t ts = m.auth.timestamp;
	nym_gw_msg_free(&m);
	feed(s, "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":true,\"bandwidth_remaining\":1000000000,\"upgrade_mode\":false}");
	CHECK(O.ready == 1 && O.registered_now == 0 && O.nsent == 2, "enough bandwidth: ready, no claim");
	/* the next connection in the same second uses a later timestamp */
	nym_gwsess_closed(s);
	nym_gwsess_open(s, 1700000100);
	feed(s, "{\"type\":\"supportedProtocol\",\"version\":6}");
	CHECK(last_req(&m) == 0 && m.auth.timestamp > ts, "timestamps strictly increase");
	nym_gw_msg_free(&m);
	feed(s, "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":false,\"bandwidth_remaining\":0,\"upgrade_mode\":false}");
	CHECK(O.fatal_err == NYM_EPERM && nym_gwsess_state(s) == NYM_GWSESS_DEAD, "refused: gives up");
	nym_gwsess_free(s);
}

static void
test_give_up(struct nym_client_keys *ck)
{
	struct nym_rng r = nym_rng_system();
	struct nym_gw_msg m;
	uint8_t other_seed[32], other[32], m2[NYM_GW_M2_LEN];
	struct nym_gw_hs_gateway g;
	char *js;
	size_t jl;

	memset(&O, 0, sizeof O);
	struct nym_gwsess *s = nym_gwsess_new(ck, ck->identity_pk, NULL, &r, &OPS);
	nym_gwsess_open(s, 1);
	feed(s, "{\"type\":\"supportedProtocol\",\"version\":3}");
	CHECK(O.fatal_err == NYM_EVERSION, "a gateway below protocol 4: gives up");
	nym_gwsess_free(s);

	/* a gateway other than the one the topology names */
	memset(&O, 0, sizeof O);
	nym_rng_fill(&r, other_seed, 32);
	nym_ed25519_public(other, other_seed);
	uint8_t expect[32];
	nym_rng_fill(&r, expect, 32);
	uint8_t expect_pk[32];
	nym_ed25519_public(expect_pk, expect);
	s = nym_gwsess_new(ck, expect_pk, NULL, &r, &OPS);
	nym_gwsess_open(s, 1);
	feed(s, "{\"type\":\"supportedProtocol\",\"version\":6}");
	CHECK(last_req(&m) == 0 && nym_gw_hs_gateway_m1(&g, other_seed, m.hs, m.hs_len, &r, m2) == 0, "M1");
	nym_gw_msg_free(&m);
	nym_gw_json_handshake(&js, &jl, 0, 6, m2, sizeof m2);
	feed(s, js);
	free(js);
	CHECK(O.fatal_err == NYM_EMAC && !O.got_key, "a gateway signing with another key: refused");
	nym_gwsess_free(s);
}

/* The packet in the last binary frame (its first byte: which one). */
static int
last_packet(const uint8_t key[32])
{
	uint8_t pt[300], kind;
	int n = O.binary ? nym_gw_bin_open(&kind, pt, sizeof pt, O.frame, O.len, key) : -1;
	return n > 0 && kind == NYM_GW_BIN_FORWARD_SPHINX_V2 ? pt[0] : -1;
}

static void
feed_at(struct nym_gwsess *s, const char *json, uint64_t t)
{
	nym_gwsess_frame(s, 0, (const uint8_t *)json, strlen(json), t);
}

#define OOB "{\"type\":\"typedError\",\"error\":{\"out_of_bandwidth\":{\"required\":1,\"available\":0}}}"
#define SENT "{\"type\":\"send\",\"remaining_bandwidth\":1000000000,\"upgrade_mode\":false}"
#define GRANT "{\"type\":\"bandwidth\",\"available_total\":1000000000,\"upgrade_mode\":false}"

/* Queueing, held pushes, one claim per out-of-bandwidth episode, the UTC
 * day's re-claim, a credential-only gateway (doc/spec/gateway.md §10.1, §13). */
static void
test_bandwidth(struct nym_client_keys *ck, const uint8_t gpk[32], const uint8_t key[32])
{
	struct nym_rng r = nym_rng_system();
	struct nym_gw_msg m;
	const uint64_t T = 19675ull * 86400 + 86399; /* 23:59:59 UTC */
	uint8_t a[60], b[60], fr[300];
	memset(a, 'A', sizeof a);
	memset(b, 'B', sizeof b);

	memset(&O, 0, sizeof O);
	struct nym_gwsess *s = nym_gwsess_new(ck, gpk, key, &r, &OPS);
	CHECK(nym_gwsess_forward(s, a, sizeof a) == NYM_ENET, "no queue by default: refused while down");
	nym_gwsess_set_queue(s, 1);
	CHECK(nym_gwsess_forward(s, a, sizeof a) == 0 && O.nsent == 0 && nym_gwsess_backlog(s) == sizeof a,
	      "queued while down");
	nym_gwsess_open(s, T);
	feed_at(s, "{\"type\":\"supportedProtocol\",\"version\":6}", T);
	int fl = nym_gw_bin_seal(fr, sizeof fr, NYM_GW_BIN_PUSHED, (const uint8_t *)"stored message", 14, key, &r);
	nym_gwsess_frame(s, 1, fr, (size_t)fl, T);
	CHECK(O.npushed == 0, "a push before the authenticate answer is held");
	feed_at(s, "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":true,\"bandwidth_remaining\":1000000000,\"upgrade_mode\":false}", T);
	CHECK(O.ready == 1 && O.pushed_at_ready == 0 && O.npushed == 1, "ready first, then the held push");
	CHECK(O.nbin == 1 && last_packet(key) == 'A' && nym_gwsess_backlog(s) == 0, "ready: the queue goes out");
	CHECK(nym_gwsess_forward(s, b, sizeof b) == 0 && O.nbin == 2, "B sent at once");

	/* both refused: one claim for the episode, then A and B again, in order */
	feed_at(s, OOB, T);
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_CLAIM_FREE_BANDWIDTH, "out of bandwidth: a claim");
	nym_gw_msg_free(&m);
	int sent = O.nsent;
	feed_at(s, OOB, T);
	CHECK(O.nsent == sent && nym_gwsess_backlog(s) == sizeof a + sizeof b, "one claim per episode, both kept");
	CHECK(nym_gwsess_forward(s, a, sizeof a) == 0 && O.nsent == sent, "a claim outstanding: queued");
	feed_at(s, GRANT, T);
	CHECK(O.nbin == 5 && last_packet(key) == 'A' && nym_gwsess_backlog(s) == 0,
	      "granted: the refused ones first, then the queue");
	feed_at(s, SENT, T);
	feed_at(s, SENT, T);
	feed_at(s, SENT, T);

	/* a new UTC day: the allowance expired, claim before the next packet */
	nym_gwsess_tick(s, T + 1);
	CHECK(nym_gwsess_forward(s, b, sizeof b) == 0 && last_req(&m) == 0 &&
	      m.type == NYM_GW_REQ_CLAIM_FREE_BANDWIDTH && O.nbin == 5, "a new day: claim first, B waits");
	nym_gw_msg_free(&m);
	feed_at(s, GRANT, T + 1);
	CHECK(O.nbin == 6 && last_packet(key) == 'B', "granted: B goes");

	/* closed: the hints for the next connection */
	CHECK(nym_gwsess_closed(s) == NYM_GWSESS_RETRY_BACKOFF && nym_gwsess_state(s) == NYM_GWSESS_IDLE,
	      "a plain close: back off");
	nym_gwsess_open(s, T + 2);
	feed_at(s, "{\"type\":\"supportedProtocol\",\"version\":6}", T + 2);
	feed_at(s, "{\"type\":\"error\",\"message\":\"the client is not registered\"}", T + 2);
	CHECK(nym_gwsess_closed(s) == NYM_GWSESS_RETRY_NOW && O.fatal_err == 0, "not registered: register at once");
	nym_gwsess_open(s, T + 3);
	feed_at(s, "{\"type\":\"supportedProtocol\",\"version\":6}", T + 3);
	CHECK(last_req(&m) == 0 && m.type == NYM_GW_REQ_HANDSHAKE, "the next connection registers");
	nym_gw_msg_free(&m);
	nym_gwsess_free(s);

	/* a gateway that takes zk-nym tickets only */
	memset(&O, 0, sizeof O);
	s = nym_gwsess_new(ck, gpk, key, &r, &OPS);
	nym_gwsess_open(s, T);
	feed_at(s, "{\"type\":\"supportedProtocol\",\"version\":6}", T);
	feed_at(s, "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":true,\"bandwidth_remaining\":0,\"upgrade_mode\":false}", T);
	feed_at(s, "{\"type\":\"error\",\"message\":\"" NYM_GW_ERRTXT_ONLY_ECASH "\"}", T);
	CHECK(O.fatal_err == NYM_EPERM && O.ready == 0 && nym_gwsess_state(s) == NYM_GWSESS_DEAD,
	      "credentials only: gives up");
	nym_gwsess_free(s);
}

int
main(void)
{
	struct nym_rng r;
	struct nym_client_keys ck;
	uint8_t gseed[32], gpk[32], key[32];
	nym_crypto_init();
	r = nym_rng_system();
	nym_client_keys_generate(&ck, &r);
	nym_rng_fill(&r, gseed, 32);
	nym_ed25519_public(gpk, gseed);
	test_register(&ck, gseed, gpk, key);
	test_auth(&ck, gpk, key);
	test_give_up(&ck);
	test_bandwidth(&ck, gpk, key);
	return t_done();
}
