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
	int binary, nsent, ready, registered_now, fatal_err, npushed;
	uint8_t key[32], pushed[256];
	size_t pushed_len;
	int got_key;
} O;

static void o_send(void *c, int b, const uint8_t *d, size_t n)
{
	(void)c;
	O.binary = b;
	O.len = n < sizeof O.frame ? n : sizeof O.frame;
	memcpy(O.frame, d, O.len);
	O.nsent++;
}
static void o_ready(void *c, int r) { (void)c; O.ready++; O.registered_now = r; }
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
	return t_done();
}
