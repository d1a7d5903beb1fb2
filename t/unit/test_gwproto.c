/* test_gwproto.c — gateway protocol v6: the doc/spec/gateway.md §19 vectors (repository
 * tests and the computed KAT), both roles through buffers, bad input. */
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/gwproto.h"
#include "test.h"

/* doc/spec/gateway.md §19.2 (computed; cross-checked with two implementations). */
#define C_SEED "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
#define C_PUB "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664"
#define G_SEED "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60"
#define G_PUB "adc14011f82d1c56d956aa4f9d73d8858361a606048525e0d08c638dc75dd8c7"
#define X_PRIV "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define Y_PRIV "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
#define SALT "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define KEY "a5d002d97dab16bec76e7ebc879b00dff89928597596fb9e04339575e9d812c0"
#define N_G "b0b1b2b3b4b5b6b7b8b9babb"
#define N_C "c0c1c2c3c4c5c6c7c8c9cacb"
#define M1 C_PUB "358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254" SALT
#define M2 "675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f" \
	"12dc442b65f3045313f2bd63ba880fa35dc742f2228a2bae103c39c71a8aee8e" \
	"bc12a4f6cfcd39b01a2972b7fb6ca3401382db91fa5714169cb2245bbda47774" \
	"f5fbdc0d03673a9ff4cda65dc43e0f82" N_G
#define M3 "414f564426e70bdc6c461d0bf4c0b2b47df187c63745b8ac306ba410dea330c6" \
	"ea66cffd2429ce4c57ecedfe9c216884a79cbffa9385ab0b81c706613879bc9c" \
	"7ea4b71780d96177f5a770c8c6b9c336" N_C
#define AUTH_NONCE "d0d1d2d3d4d5d6d7d8d9dadb"
#define AUTH_TS 1778900000
#define AUTH_JSON "{\"type\":\"authenticateV2\",\"protocolVersion\":6,\"clientIdentity\":[121,181,86,46,143,230,84,249,64,120,177,18,232,169,139,167,144,31,133,58,230,149,190,215,224,227,145,11,173,4,150,100],\"addressCiphertext\":\"jyWJOchDYlvaWAwUQbiT6YFRHQ/jUHe2HuC+NJuRQZ++ZuWFX++Rnta0xcil5atE\",\"nonce\":\"0NHS09TV1tfY2drb\",\"requestUnixTimestamp\":1778900000,\"requestSignature\":[39,88,147,19,131,3,216,22,99,239,59,221,224,224,197,253,123,167,196,133,13,140,91,239,14,78,160,250,85,27,153,141,161,84,74,189,74,8,136,210,81,152,85,25,122,252,5,88,73,227,238,127,86,96,51,31,196,124,224,93,69,151,38,15]}"
#define M1_JSON "{\"type\":\"handshakePayload\",\"protocol_version\":6,\"data\":[121,181,86,46,143,230,84,249,64,120,177,18,232,169,139,167,144,31,133,58,230,149,190,215,224,227,145,11,173,4,150,100,53,128,114,214,54,88,128,209,174,234,50,154,223,145,33,56,56,81,237,33,162,142,59,117,233,101,208,210,205,22,98,84,160,161,162,163,164,165,166,167,168,169,170,171,172,173,174,175]}"
#define PUSH_FRAME "0101e0e1e2e3e4e5e6e7e8e9eaeb" \
	"1e9b5ff549360ad2af5922d5979511cd9f0abea8d8fd641e52070f368c808466"

/* Hex literals decoded for the test's lifetime, freed at the end. */
static uint8_t *pool[64];
static int npool;

static uint8_t *
H(const char *s)
{
	uint8_t *b = t_hex(s, NULL);
	if (npool < 64)
		pool[npool++] = b;
	return b;
}

static struct nym_rng
fixed(struct nym_rng_fixed *st, const char *hex)
{
	size_t n = strlen(hex) / 2;
	return nym_rng_fixed(st, H(hex), n);
}

static void
test_kat(void)
{
	struct nym_gw_hs_client c;
	struct nym_gw_hs_gateway g;
	struct nym_rng_fixed s1, s2, s3, s4, s5;
	struct nym_rng r;
	uint8_t m1[80], m2[124], m3[92], m4[1], kc[32], kg[32], k[32];
	uint8_t *cseed = H(C_SEED), *gseed = H(G_SEED), *gpub = H(G_PUB);

	r = fixed(&s1, X_PRIV SALT);
	CHECK(nym_gw_hs_client_start(&c, cseed, gpub, &r, m1) == 0, "client start");
	CHECK_MEM(m1, H(M1), 80, "M1 matches §19.2");

	CHECK(nym_gw_derive_key(k, H(X_PRIV),
	                        H("675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f"),
	                        H(SALT)) == 0, "derive key");
	CHECK_MEM(k, H(KEY), 32, "K = HKDF-HMAC-BLAKE3(salt, dh) matches §19.2");

	r = fixed(&s2, Y_PRIV N_G);
	CHECK(nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &r, m2) == 0, "gateway reads M1");
	CHECK_MEM(g.client_pk, H(C_PUB), 32, "gateway learns the client address");
	CHECK_MEM(m2, H(M2), 124, "M2 matches §19.2");

	r = fixed(&s3, N_C);
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &r, m3) == 0, "client accepts M2");
	CHECK_MEM(m3, H(M3), 92, "M3 matches §19.2");

	CHECK(nym_gw_hs_gateway_m3(&g, m3, 92, m4, kg) == 0, "gateway accepts M3");
	CHECK(m4[0] == 1, "M4 = [1]");
	CHECK(nym_gw_hs_client_m4(&c, m4, 1, kc) == 0, "client accepts M4");
	CHECK_MEM(kc, H(KEY), 32, "client key = K");
	CHECK_MEM(kg, H(KEY), 32, "gateway key = K");

	/* JSON of M1 exactly as serde writes it. */
	char *js;
	size_t jl;
	CHECK(nym_gw_json_handshake(&js, &jl, 1, 6, m1, 80) == 0 && strcmp(js, M1_JSON) == 0,
	      "M1 JSON byte-exact");
	free(js);
	CHECK(nym_gw_json_handshake(&js, &jl, 0, 6, m4, 1) == 0 &&
	      strcmp(js, "{\"type\":\"handshakePayload\",\"protocol_version\":6,\"data\":[1]}") == 0,
	      "M4 JSON byte-exact");
	free(js);

	/* authenticateV2 */
	struct nym_gw_msg m = {0};
	r = fixed(&s4, AUTH_NONCE);
	m.type = NYM_GW_REQ_AUTHENTICATE_V2;
	CHECK(nym_gw_auth_build(&m.auth, 6, cseed, kc, AUTH_TS, &r) == 0, "auth build");
	CHECK_MEM(m.auth.address_ct,
	          H("8f258939c843625bda580c1441b893e981511d0fe35077b61ee0be349b91419f"
	            "be66e5855fef919ed6b4c5c8a5e5ab44"), 48, "addressCiphertext matches");
	CHECK_MEM(m.auth.signature,
	          H("275893138303d81663ef3bdde0e0c5fd7ba7c4850d8c5bef0e4ea0fa551b998d"
	            "a1544abd4a0888d2519855197afc055849e3ee7f5660331fc47ce05d4597260f"), 64,
	          "requestSignature matches");
	CHECK(nym_gw_msg_encode(&m, &js, &jl) == 0 && strcmp(js, AUTH_JSON) == 0,
	      "authenticateV2 JSON byte-exact");
	if (js && strcmp(js, AUTH_JSON))
		printf("# got %s\n", js);
	free(js);

	struct nym_gw_msg p;
	CHECK(nym_gw_msg_parse(&p, 1, AUTH_JSON, strlen(AUTH_JSON)) == 0 &&
	      p.type == NYM_GW_REQ_AUTHENTICATE_V2, "parse authenticateV2");
	CHECK(memcmp(&p.auth, &m.auth, sizeof m.auth) == 0, "parsed auth equals built auth");
	CHECK(nym_gw_auth_check_request(&p.auth, AUTH_TS + 5, NYM_GW_MAX_SKEW) == 0,
	      "gateway accepts signature");
	CHECK(nym_gw_auth_check_key(&p.auth, kg, 0) == 0, "gateway accepts address ciphertext");
	CHECK(nym_gw_auth_check_key(&p.auth, kg, AUTH_TS) == NYM_EREPLAY,
	      "same timestamp again is a replay");
	CHECK(nym_gw_auth_check_key(&p.auth, kg, AUTH_TS - 1) == 0, "older last timestamp ok");
	CHECK(nym_gw_auth_check_request(&p.auth, AUTH_TS + 121, 120) == NYM_ERANGE,
	      "121 s late is skewed");
	CHECK(nym_gw_auth_check_request(&p.auth, AUTH_TS - 121, 120) == NYM_ERANGE,
	      "121 s early is skewed");
	CHECK(nym_gw_auth_check_request(&p.auth, AUTH_TS + 120, 120) == 0, "120 s is fine");
	k[0] = kg[0] ^ 1;
	memcpy(k + 1, kg + 1, 31);
	CHECK(nym_gw_auth_check_key(&p.auth, k, 0) == NYM_EKEY, "wrong stored key is rejected");
	struct nym_gw_auth bad = p.auth;
	bad.timestamp++;
	CHECK(nym_gw_auth_check_request(&bad, AUTH_TS, 120) == NYM_EMAC,
	      "changed timestamp breaks the signature");
	bad = p.auth;
	bad.version = 3;
	CHECK(nym_gw_auth_check_request(&bad, AUTH_TS, 120) == NYM_EVERSION, "version 3 refused");
	bad.version = 7;
	CHECK(nym_gw_auth_check_request(&bad, AUTH_TS, 120) == NYM_EVERSION, "version 7 refused");
	char why[200];
	CHECK(strstr(nym_gw_auth_errtxt(NYM_ERANGE, &p.auth, 5, why, sizeof why),
	             "got 1778900000 whilst the server time is 5") != NULL, "skew error text");
	nym_gw_msg_free(&p);

	/* pushed binary frame */
	uint8_t frame[64], pt[64], kind;
	r = fixed(&s5, "e0e1e2e3e4e5e6e7e8e9eaeb");
	int n = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_PUSHED,
	                        (const uint8_t *)"nym test payload", 16, kc, &r);
	CHECK(n == 46, "pushed frame is 46 bytes");
	CHECK_MEM(frame, H(PUSH_FRAME), 46, "pushed frame matches §19.2");
	n = nym_gw_bin_open(&kind, pt, sizeof pt, frame, 46, kc);
	CHECK(n == 16 && kind == 1 && memcmp(pt, "nym test payload", 16) == 0, "pushed frame opens");
	frame[20] ^= 1;
	CHECK(nym_gw_bin_open(&kind, pt, sizeof pt, frame, 46, kc) == NYM_EMAC,
	      "flipped bit: NYM_EMAC");
	frame[20] ^= 1;
	CHECK(nym_gw_bin_open(&kind, pt, sizeof pt, frame, 29, kc) == NYM_ESHORT,
	      "29-byte frame is short");
	CHECK(nym_gw_bin_open(&kind, pt, sizeof pt, frame, 1, kc) == NYM_ESHORT, "1 byte is short");
	frame[1] = 2;
	CHECK(nym_gw_bin_open(&kind, pt, sizeof pt, frame, 46, kc) == NYM_EFLAG,
	      "enc_flag 2 rejected");
	frame[1] = 0;
	CHECK(nym_gw_bin_open(&kind, pt, sizeof pt, frame, 46, kc) == 32,
	      "enc_flag 0: rest taken as plaintext (reference quirk)");
	CHECK(nym_gw_bin_open(&kind, pt, 10, H(PUSH_FRAME), 46, kc) == NYM_ESIZE,
	      "small output buffer: NYM_ESIZE");
}

/* Both roles through buffers, with the system RNG, JSON in between. */
static void
test_roundtrip(void)
{
	struct nym_rng sys = nym_rng_system();
	uint8_t cseed[32], gseed[32], gpk[32], m1[80], m2[124], m3[92], m4[1], kc[32], kg[32];
	struct nym_gw_hs_client c;
	struct nym_gw_hs_gateway g;
	struct nym_gw_msg m;
	char *js;
	size_t jl;

	nym_rng_fill(&sys, cseed, 32);
	nym_rng_fill(&sys, gseed, 32);
	nym_ed25519_public(gpk, gseed);

	CHECK(nym_gw_hs_client_start(&c, cseed, gpk, &sys, m1) == 0, "rt: M1");
	nym_gw_json_handshake(&js, &jl, 1, 6, m1, 80);
	CHECK(nym_gw_msg_parse(&m, 1, js, jl) == 0 && m.type == NYM_GW_REQ_HANDSHAKE &&
	      m.hs_len == 80 && m.has_version && m.version == 6, "rt: M1 through JSON");
	free(js);
	CHECK(nym_gw_hs_gateway_m1(&g, gseed, m.hs, m.hs_len, &sys, m2) == 0, "rt: M2");
	nym_gw_json_handshake(&js, &jl, 0, 6, m2, 124);
	CHECK(nym_gw_msg_parse(&m, 0, js, jl) == 0 && m.type == NYM_GW_RESP_HANDSHAKE &&
	      m.hs_len == 124, "rt: M2 through JSON");
	free(js);
	CHECK(nym_gw_hs_client_m2(&c, m.hs, m.hs_len, &sys, m3) == 0, "rt: M3");
	CHECK(nym_gw_hs_gateway_m3(&g, m3, 92, m4, kg) == 0, "rt: M4");
	CHECK(nym_gw_hs_client_m4(&c, m4, 1, kc) == 0 && memcmp(kc, kg, 32) == 0,
	      "rt: both derive the same key");

	/* authenticate, twice: second needs a newer timestamp */
	struct nym_gw_auth a;
	nym_gw_auth_build(&a, 6, cseed, kc, 1000, &sys);
	CHECK(nym_gw_auth_check_request(&a, 1000, 120) == 0 && nym_gw_auth_check_key(&a, kg, 0) == 0,
	      "rt: auth accepted");
	CHECK(nym_gw_auth_check_key(&a, kg, 1000) == NYM_EREPLAY, "rt: replayed auth refused");
	nym_gw_auth_build(&a, 4, cseed, kc, 1001, &sys);
	CHECK(nym_gw_auth_check_request(&a, 1000, 120) == 0 && nym_gw_auth_check_key(&a, kg, 1000) == 0,
	      "rt: later auth (v4) accepted");

	/* ForwardSphinxV2 frame client -> gateway */
	static uint8_t pkt[2422], frame[2422 + 30], out[2422];
	uint8_t kind;
	nym_rng_fill(&sys, pkt, sizeof pkt);
	int n = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_FORWARD_SPHINX_V2, pkt, sizeof pkt, kc, &sys);
	CHECK(n == 2452, "rt: ForwardSphinxV2 frame is 2452 bytes (as the trace)");
	CHECK(nym_gw_bin_open(&kind, out, sizeof out, frame, (size_t)n, kg) == 2422 && kind == 2 &&
	      memcmp(out, pkt, sizeof pkt) == 0, "rt: gateway opens it");
	CHECK(nym_gw_bin_seal(frame, 100, 1, pkt, sizeof pkt, kc, &sys) == NYM_ESIZE,
	      "seal into small buffer: NYM_ESIZE");

	/* encrypted requests */
	struct nym_gw_creq_msg cr = {.kind = NYM_GW_CREQ_FORGET_ME, .client = 1}, cr2;
	CHECK(nym_gw_creq_seal(&m, &cr, kc, &sys) == 0 && m.type == NYM_GW_REQ_ENCRYPTED,
	      "rt: ForgetMe sealed");
	nym_gw_msg_encode(&m, &js, &jl);
	nym_gw_msg_free(&m);
	CHECK(nym_gw_msg_parse(&m, 1, js, jl) == 0 && m.type == NYM_GW_REQ_ENCRYPTED, "rt: encryptedRequest parses");
	free(js);
	CHECK(nym_gw_creq_open(&cr2, &m, kg) == 0 && cr2.kind == NYM_GW_CREQ_FORGET_ME &&
	      cr2.client == 1 && cr2.stats == 0, "rt: ForgetMe{client:true,stats:false} opens");
	CHECK(nym_gw_creq_open(&cr2, &m, gseed) == NYM_EMAC, "rt: wrong key: NYM_EMAC");
	nym_gw_msg_free(&m);
	cr.kind = NYM_GW_CREQ_REMEMBER_ME;
	strcpy(cr.session_type, "Native");
	nym_gw_creq_seal(&m, &cr, kc, &sys);
	CHECK(nym_gw_creq_open(&cr2, &m, kg) == 0 && cr2.kind == NYM_GW_CREQ_REMEMBER_ME &&
	      strcmp(cr2.session_type, "Native") == 0, "rt: RememberMe opens");
	nym_gw_msg_free(&m);
	cr.kind = NYM_GW_CRESP_FORGET_ME_ACK;
	nym_gw_creq_seal(&m, &cr, kg, &sys);
	nym_gw_msg_encode(&m, &js, &jl);
	nym_gw_msg_free(&m);
	CHECK(nym_gw_msg_parse(&m, 0, js, jl) == 0 && m.type == NYM_GW_RESP_ENCRYPTED &&
	      nym_gw_creq_open(&cr2, &m, kc) == 0 && cr2.kind == NYM_GW_CRESP_FORGET_ME_ACK,
	      "rt: encryptedResponse ForgetMeAck");
	free(js);
	nym_gw_msg_free(&m);
}

static void
test_bad_handshakes(void)
{
	struct nym_rng sys = nym_rng_system();
	uint8_t cseed[32], gseed[32], gpk[32], other[32], m1[80], m2[124], m3[92], m4[1], k[32];
	struct nym_gw_hs_client c;
	struct nym_gw_hs_gateway g;

	nym_rng_fill(&sys, cseed, 32);
	nym_rng_fill(&sys, gseed, 32);
	nym_ed25519_public(gpk, gseed);
	nym_rng_fill(&sys, other, 32);
	nym_ed25519_public(other, other);

	/* client expects another gateway identity */
	nym_gw_hs_client_start(&c, cseed, other, &sys, m1);
	nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &sys, m2);
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &sys, m3) == NYM_EMAC,
	      "M2 signed by an unexpected gateway: NYM_EMAC");
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &sys, m3) == NYM_EINVAL, "failed state stays failed");

	/* tampered M2 / wrong lengths */
	nym_gw_hs_client_start(&c, cseed, gpk, &sys, m1);
	nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &sys, m2);
	m2[40] ^= 1;
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &sys, m3) == NYM_EMAC, "tampered M2: NYM_EMAC");
	nym_gw_hs_client_start(&c, cseed, gpk, &sys, m1);
	CHECK(nym_gw_hs_client_m2(&c, m2, 96, &sys, m3) == NYM_ESIZE, "96-byte legacy M2 refused");
	CHECK(nym_gw_hs_gateway_m1(&g, gseed, m1, 64, &sys, m2) == NYM_ESIZE, "64-byte M1 refused");
	CHECK(nym_gw_hs_gateway_m1(&g, gseed, m1, 81, &sys, m2) == NYM_ESIZE, "81-byte M1 refused");
	uint8_t badm1[80];
	memcpy(badm1, m1, 80);
	/* y = 2 with the sign bit: not on the curve (dalek rejects) */
	memset(badm1, 0, 32);
	badm1[0] = 2;
	int bad_rc = nym_gw_hs_gateway_m1(&g, gseed, badm1, 80, &sys, m2);
	CHECK(bad_rc == NYM_EKEY || bad_rc == 0, "M1 with an odd identity point handled (%d)", bad_rc);

	/* M3 signed by a different client key (bad signature) */
	nym_gw_hs_client_start(&c, cseed, gpk, &sys, m1);
	nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &sys, m2);
	int m2e = nym_gw_hs_client_m2(&c, m2, 124, &sys, m3);
	struct nym_gw_hs_gateway g2 = g;
	m3[3] ^= 0x80;
	CHECK(m2e == 0 && nym_gw_hs_gateway_m3(&g, m3, 92, m4, k) == NYM_EMAC, "tampered M3: NYM_EMAC");
	m3[3] ^= 0x80;
	CHECK(nym_gw_hs_gateway_m3(&g, m3, 92, m4, k) == NYM_EINVAL, "gateway state failed for good");
	CHECK(nym_gw_hs_gateway_m3(&g2, m3, 91, m4, k) == NYM_ESIZE, "91-byte M3 refused");
	/* a client that impersonates C but signs with another key */
	uint8_t eve[32];
	nym_rng_fill(&sys, eve, 32);
	nym_gw_hs_client_start(&c, eve, gpk, &sys, m1);
	uint8_t cpk[32];
	nym_ed25519_public(cpk, cseed);
	memcpy(m1, cpk, 32); /* claims C */
	nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &sys, m2);
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &sys, m3) == 0, "eve reads M2");
	CHECK(nym_gw_hs_gateway_m3(&g, m3, 92, m4, k) == NYM_EMAC,
	      "M3 signed by a key other than C: NYM_EMAC");
	m4[0] = 0;
	nym_gw_hs_client_start(&c, cseed, gpk, &sys, m1);
	nym_gw_hs_gateway_m1(&g, gseed, m1, 80, &sys, m2);
	CHECK(nym_gw_hs_client_m2(&c, m2, 124, &sys, m3) == 0 && nym_gw_hs_client_m4(&c, m4, 1, k) == NYM_EPROTO,
	      "M4 [0]: NYM_EPROTO");
}

static void
test_json(void)
{
	struct nym_gw_msg m;
	char *js;
	size_t jl;
	const char *s;

	s = "{\"type\":\"handshakePayload\",\"protocol_version\":42,\"data\":[1,2,3,4,5,6]}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_HANDSHAKE &&
	      m.has_version && m.version == 42 && m.hs_len == 6 && m.hs[5] == 6,
	      "repo test: handshakePayload v42 parses as registration init");
	s = "{\"type\":\"registerHandshakeInitRequest\",\"data\":[1]}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_HANDSHAKE &&
	      !m.has_version, "registerHandshakeInitRequest alias, version absent");
	s = "{\"type\":\"handshakePayload\",\"protocol_version\":null,\"data\":[]}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && !m.has_version && m.hs_len == 0,
	      "protocol_version null");
	s = "{\"type\":\"bandwidth\",\"available_total\":100}";
	CHECK(nym_gw_msg_parse(&m, 0, s, strlen(s)) == 0 && m.type == NYM_GW_RESP_BANDWIDTH &&
	      m.bandwidth == 100 && m.upgrade_mode == 0, "repo test: bandwidth without upgrade_mode");
	s = "{\"type\":\"send\",\"remaining_bandwidth\":100}";
	CHECK(nym_gw_msg_parse(&m, 0, s, strlen(s)) == 0 && m.type == NYM_GW_RESP_SEND &&
	      m.bandwidth == 100 && m.upgrade_mode == 0, "repo test: send without upgrade_mode");
	s = "{\"type\":\"supportedProtocol\"}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_SUPPORTED_PROTOCOL,
	      "supportedProtocol request");
	s = "{\"type\":\"claimFreeTestnetBandwidth\",\"extra\":1}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_CLAIM_FREE_BANDWIDTH,
	      "claimFreeTestnetBandwidth, unknown field ignored");
	s = "{\"type\":\"authenticate\",\"address\":\"x\"}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_AUTHENTICATE_V1,
	      "legacy authenticate recognised (to reject it)");
	s = "{\"type\":\"ecashCredential\",\"enc_credential\":[1,2,3],\"nonce\":[0,1,2,3,4,5,6,7,8,9,10,11]}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_ECASH_CREDENTIAL &&
	      m.bytes_len == 3 && m.nonce[11] == 11, "ecashCredential with nonce alias");
	nym_gw_msg_free(&m);
	s = "{\"type\":\"upgradeModeJWT\",\"token\":\"a.b.c\"}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_REQ_UPGRADE_MODE_JWT &&
	      strcmp(m.text, "a.b.c") == 0, "upgradeModeJWT");
	nym_gw_msg_free(&m);
	s = "{\"type\":\"typedError\",\"error\":{\"out_of_bandwidth\":{\"required\":2413,\"available\":0}}}";
	CHECK(nym_gw_msg_parse(&m, 0, s, strlen(s)) == 0 && m.typed_error == NYM_GW_TE_OUT_OF_BANDWIDTH &&
	      m.te_required == 2413 && m.te_available == 0, "typedError out_of_bandwidth");
	CHECK(nym_gw_msg_encode(&m, &js, &jl) == 0 && strcmp(js, s) == 0, "typedError re-encodes byte-exact");
	free(js);
	s = "{\"type\":\"typedError\",\"error\":\"ticket_replay\"}";
	CHECK(nym_gw_msg_parse(&m, 0, s, strlen(s)) == 0 && m.typed_error == NYM_GW_TE_TICKET_REPLAY,
	      "typedError ticket_replay");
	CHECK(nym_gw_msg_encode(&m, &js, &jl) == 0 && strcmp(js, s) == 0, "ticket_replay re-encodes");
	free(js);

	/* Encoders: the exact reference forms of §9.2 */
	struct nym_gw_msg e = {.type = NYM_GW_RESP_BANDWIDTH, .bandwidth = NYM_GW_FREE_BANDWIDTH};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"bandwidth\",\"available_total\":68719476736,\"upgrade_mode\":false}") == 0,
	      "bandwidth reply byte-exact");
	free(js);
	e = (struct nym_gw_msg){.type = NYM_GW_RESP_SEND, .bandwidth = 68719474323};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"send\",\"remaining_bandwidth\":68719474323,\"upgrade_mode\":false}") == 0,
	      "send reply byte-exact");
	free(js);
	e = (struct nym_gw_msg){.type = NYM_GW_RESP_AUTHENTICATE, .version = 6, .status = 1,
	                        .bandwidth = 68719470000};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"authenticate\",\"protocol_version\":6,\"status\":true,"
	                 "\"bandwidth_remaining\":68719470000,\"upgrade_mode\":false}") == 0,
	      "authenticate reply byte-exact");
	free(js);
	e = (struct nym_gw_msg){.type = NYM_GW_RESP_REGISTER, .version = 6, .status = 1};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"register\",\"protocol_version\":6,\"status\":true,\"upgrade_mode\":false}") == 0,
	      "register reply byte-exact");
	free(js);
	e = (struct nym_gw_msg){.type = NYM_GW_RESP_SUPPORTED_PROTOCOL, .version = 6};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"supportedProtocol\",\"version\":6}") == 0, "supportedProtocol reply");
	free(js);
	e = (struct nym_gw_msg){.type = NYM_GW_REQ_CLAIM_FREE_BANDWIDTH};
	nym_gw_msg_encode(&e, &js, &jl);
	CHECK(strcmp(js, "{\"type\":\"claimFreeTestnetBandwidth\"}") == 0, "claim request");
	free(js);
	nym_gw_json_error(&js, &jl, "The received request is not valid in the current context: \"x\"\n");
	CHECK(strcmp(js, "{\"type\":\"error\",\"message\":\"The received request is not valid in the "
	                 "current context: \\\"x\\\"\\n\"}") == 0, "error text escaped as serde does");
	free(js);

	/* garbage */
	static const char *bad[] = {
		"", "{", "[]", "null", "42", "\"str\"", "{\"type\":1}", "{\"notype\":1}",
		"{\"type\":\"handshakePayload\"}",
		"{\"type\":\"handshakePayload\",\"data\":\"AAEC\"}",
		"{\"type\":\"handshakePayload\",\"data\":[256]}",
		"{\"type\":\"handshakePayload\",\"data\":[-1]}",
		"{\"type\":\"handshakePayload\",\"data\":[1.5]}",
		"{\"type\":\"handshakePayload\",\"protocol_version\":256,\"data\":[]}",
		"{\"type\":\"handshakePayload\",\"protocol_version\":\"6\",\"data\":[]}",
		"{\"type\":\"authenticateV2\",\"protocolVersion\":6}",
		"{\"type\":\"upgradeModeJWT\",\"token\":5}",
		"{\"type\":\"encryptedRequest\",\"ciphertext\":[1],\"nonce\":[1,2]}",
		"{\"type\":\"supportedProtocol\",\"type\":\"authenticateV2\"}",
		"{\"type\":\"supportedProtocol\"} trailing",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(nym_gw_msg_parse(&m, 1, bad[i], strlen(bad[i])) < 0, "garbage rejected: %s", bad[i]);
	static const char *badr[] = {
		"{\"type\":\"register\",\"protocol_version\":6}",
		"{\"type\":\"authenticate\",\"status\":true}",
		"{\"type\":\"bandwidth\",\"available_total\":\"1\"}",
		"{\"type\":\"typedError\",\"error\":\"other\"}",
		"{\"type\":\"supportedProtocol\"}",
		"{\"type\":\"error\"}",
	};
	for (size_t i = 0; i < sizeof badr / sizeof badr[0]; i++)
		CHECK(nym_gw_msg_parse(&m, 0, badr[i], strlen(badr[i])) < 0, "bad response rejected: %s", badr[i]);
	s = "{\"type\":\"whatever\"}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_UNKNOWN, "unknown type: UNKNOWN");
	s = "{\"type\":\"send\",\"remaining_bandwidth\":1}";
	CHECK(nym_gw_msg_parse(&m, 1, s, strlen(s)) == 0 && m.type == NYM_GW_UNKNOWN,
	      "a response type sent to the gateway is UNKNOWN");
	char big[200];
	memset(big, ' ', sizeof big);
	CHECK(nym_gw_msg_parse(&m, 1, big, (size_t)NYM_GW_JSON_MAX + 1) == NYM_ETOOBIG, "oversized JSON refused");
	{
		char hs[600] = "{\"type\":\"handshakePayload\",\"data\":[0";
		for (int i = 1; i < 125; i++)
			strcat(hs, ",1");
		strcat(hs, "]}");
		CHECK(nym_gw_msg_parse(&m, 1, hs, strlen(hs)) == NYM_ESIZE, "handshake data of 125 bytes refused");
	}
}

static void
test_versions(void)
{
	CHECK(nym_gw_version_accept(1, 6 + 42) == 6, "repo test protocol_downgrade: 48 proposed, 6 used");
	CHECK(nym_gw_version_accept(1, 3) == 3, "an older proposal is accepted as is (wasm 1.4.1 sends 3)");
	CHECK(nym_gw_version_accept(0, 0) == 0, "absent protocol_version is 0");
	CHECK(nym_gw_version_propose(6) == 6 && nym_gw_version_propose(5) == 5 &&
	      nym_gw_version_propose(4) == 4, "client proposes what the gateway announced (4..6)");
	CHECK(nym_gw_version_propose(9) == 6, "a future gateway gets our current version");
	CHECK(nym_gw_version_propose(3) == NYM_EVERSION, "a gateway older than 4 is refused");
}

static void
test_bandwidth(void)
{
	struct nym_gw_bandwidth b = {0};
	uint64_t day = 20000ull * 86400;

	CHECK(nym_gw_bandwidth_available(&b, day) == 0, "no allowance at first");
	CHECK(nym_gw_bandwidth_charge(&b, day, 2413) == NYM_EFULL, "cannot send without bandwidth");
	CHECK(nym_gw_bandwidth_claim_free(&b, day + 10, NYM_GW_FREE_BANDWIDTH) == NYM_GW_FREE_BANDWIDTH, "claim gives 64 GiB");
	CHECK(nym_gw_bandwidth_charge(&b, day + 20, 2413) == 0 &&
	      nym_gw_bandwidth_available(&b, day + 30) == NYM_GW_FREE_BANDWIDTH - 2413, "charge 2413");
	CHECK(nym_gw_bandwidth_claim_free(&b, day + 40, NYM_GW_FREE_BANDWIDTH) == 2 * NYM_GW_FREE_BANDWIDTH - 2413,
	      "claims add up");
	CHECK(nym_gw_bandwidth_available(&b, day + 86400) == 0, "expired the next UTC day");
	CHECK(nym_gw_bandwidth_claim_free(&b, day + 86400, NYM_GW_FREE_BANDWIDTH) == NYM_GW_FREE_BANDWIDTH,
	      "claim after expiry starts from zero");
	CHECK(nym_gw_bandwidth_charge(&b, day + 86400, -1) == NYM_EFULL, "negative charge refused");
}

int
main(void)
{
	nym_crypto_init();
	test_kat();
	test_roundtrip();
	test_bad_handshakes();
	test_json();
	test_versions();
	test_bandwidth();
	while (npool)
		free(pool[--npool]);
	return t_done();
}
