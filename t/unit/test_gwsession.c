/* test_gwsession.c — the client's gateway session (lib/gwsession.c) against a
 * small gateway written here from lib/proto/gwproto.h (gateway role), over a
 * websocket on a unix socket: registration and the stored key, a forwarded
 * packet, a push, authenticateV2 on the next start, re-registration when
 * the gateway forgot us, a wrong gateway identity, a too-old protocol, a
 * message stored for the client that comes before its bandwidth is claimed,
 * the daily bandwidth reset (an injected clock) and a gateway that takes
 * zk-nym credentials only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "crypto/crypto.h"
#include "io/gwclient.h"
#include "io/gwsession.h"
#include "io/keyfile.h"
#include "proto/gwproto.h"
#include "test.h"

/* ---- the gateway ------------------------------------------------------------ */

static struct {
	struct nym_node_keys id;
	struct nym_rng rng;
	int version;                /* announced in supportedProtocol */
	int push_on_auth;           /* push a stored message right after authenticating */
	int refuse;                 /* refuse this many frames as out of bandwidth */
	int enforce;                /* refuse free claims (enforce_zk_nyms) */
	char acc[32], ref[32];      /* byte 20 of each frame accepted / refused */
	uint8_t key[32];
	int registered, auths, claims, frames;
	uint8_t last_frame[4000];
	size_t last_len;
	uint8_t last_kind;
	struct nym_gw_hs_gateway hs;
} G;

static void
g_send(struct nym_ws *ws, const struct nym_gw_msg *m)
{
	char *s = NULL;
	size_t n = 0;
	if (nym_gw_msg_encode(m, &s, &n) == 0)
		nym_ws_send(ws, 0, (const uint8_t *)s, n);
	free(s);
}

static void
g_error(struct nym_ws *ws, const char *text)
{
	char *s = NULL;
	size_t n = 0;
	if (nym_gw_json_error(&s, &n, text) == 0)
		nym_ws_send(ws, 0, (const uint8_t *)s, n);
	free(s);
	nym_ws_close(ws);
}

static void
g_message(struct nym_ws *ws, int binary, const uint8_t *d, size_t n, void *arg)
{
	struct nym_gw_msg m, r;
	(void)arg;
	memset(&r, 0, sizeof r);
	if (binary) {
		uint8_t kind;
		int len = nym_gw_bin_open(&kind, G.last_frame, sizeof G.last_frame, d, n, G.key);
		if (len < 0)
			return;
		G.frames++;
		G.last_len = (size_t)len;
		G.last_kind = kind;
		if (G.refuse > 0) {
			G.refuse--;
			size_t k = strlen(G.ref);
			if (k + 1 < sizeof G.ref && len > 20)
				G.ref[k] = (char)G.last_frame[20];
			r.type = NYM_GW_RESP_TYPED_ERROR;
			r.typed_error = NYM_GW_TE_OUT_OF_BANDWIDTH;
			r.te_required = len;
			g_send(ws, &r);
			return;
		}
		size_t k = strlen(G.acc);
		if (k + 1 < sizeof G.acc && len > 20)
			G.acc[k] = (char)G.last_frame[20];
		r.type = NYM_GW_RESP_SEND;
		r.bandwidth = 1000000000;
		g_send(ws, &r);
		/* and push something back */
		uint8_t frame[200];
		int fl = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_PUSHED,
		    (const uint8_t *)"pushed payload", 14, G.key, &G.rng);
		nym_ws_send(ws, 1, frame, (size_t)fl);
		return;
	}
	memset(&m, 0, sizeof m);
	if (nym_gw_msg_parse(&m, 1, (const char *)d, n) < 0)
		return;
	switch (m.type) {
	case NYM_GW_REQ_SUPPORTED_PROTOCOL:
		r.type = NYM_GW_RESP_SUPPORTED_PROTOCOL;
		r.has_version = 1;
		r.version = (uint8_t)G.version;
		g_send(ws, &r);
		break;
	case NYM_GW_REQ_HANDSHAKE:
		if (m.hs_len == NYM_GW_M1_LEN) {
			uint8_t m2[NYM_GW_M2_LEN];
			char *s = NULL;
			size_t sl;
			nym_gw_hs_gateway_m1(&G.hs, G.id.identity_seed, m.hs, m.hs_len, &G.rng, m2);
			nym_gw_json_handshake(&s, &sl, 0, 6, m2, sizeof m2);
			nym_ws_send(ws, 0, (const uint8_t *)s, sl);
			free(s);
		} else {
			uint8_t m4[1];
			char *s = NULL;
			size_t sl;
			if (nym_gw_hs_gateway_m3(&G.hs, m.hs, m.hs_len, m4, G.key) < 0) {
				g_error(ws, "bad M3");
				break;
			}
			nym_gw_json_handshake(&s, &sl, 0, 6, m4, 1);
			nym_ws_send(ws, 0, (const uint8_t *)s, sl);
			free(s);
			G.registered++;
			r.type = NYM_GW_RESP_REGISTER;
			r.has_version = 1;
			r.version = 6;
			r.status = 1;
			g_send(ws, &r);
		}
		break;
	case NYM_GW_REQ_AUTHENTICATE_V2:
		if (!G.registered) {
			g_error(ws, NYM_GW_ERRTXT_NOT_REGISTERED);
			break;
		}
		if (nym_gw_auth_check_request(&m.auth, (uint64_t)time(NULL), NYM_GW_MAX_SKEW) < 0 ||
		    nym_gw_auth_check_key(&m.auth, G.key, 0) < 0) {
			g_error(ws, NYM_GW_ERRTXT_BAD_ADDRESS);
			break;
		}
		G.auths++;
		r.type = NYM_GW_RESP_AUTHENTICATE;
		r.has_version = 1;
		r.version = 6;
		r.status = 1;
		r.bandwidth = 0; /* makes the client claim */
		if (G.push_on_auth) {
			/* as Nym's gateway does: stored messages before the answer */
			uint8_t frame[200];
			int fl = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_PUSHED,
			    (const uint8_t *)"stored", 6, G.key, &G.rng);
			nym_ws_send(ws, 1, frame, (size_t)fl);
		}
		g_send(ws, &r);
		if (G.push_on_auth) {
			/* and one more between the answer and the bandwidth claim */
			uint8_t frame[200];
			int fl = nym_gw_bin_seal(frame, sizeof frame, NYM_GW_BIN_PUSHED,
			    (const uint8_t *)"stored2", 7, G.key, &G.rng);
			nym_ws_send(ws, 1, frame, (size_t)fl);
		}
		break;
	case NYM_GW_REQ_CLAIM_FREE_BANDWIDTH:
		G.claims++;
		if (G.enforce) { /* as Nym's gateway: an error, the connection stays */
			char *e = NULL;
			size_t el = 0;
			if (nym_gw_json_error(&e, &el, NYM_GW_ERRTXT_ONLY_ECASH) == 0)
				nym_ws_send(ws, 0, (const uint8_t *)e, el);
			free(e);
			break;
		}
		r.type = NYM_GW_RESP_BANDWIDTH;
		r.bandwidth = NYM_GW_FREE_BANDWIDTH;
		g_send(ws, &r);
		break;
	default:
		break;
	}
	nym_gw_msg_free(&m);
}

/* ---- the client --------------------------------------------------------------- */

static struct {
	int ready, registered, down, fatal, err, pushed;
	char why[400], push[64], order[16]; /* 'R' ready, 'P' push, in order */
} C;

static void
c_note(char what)
{
	size_t n = strlen(C.order);
	if (n + 1 < sizeof C.order)
		C.order[n] = what;
}

static void
c_ready(struct nym_gw *gw, int registered, void *arg)
{
	(void)gw, (void)arg;
	C.ready++;
	C.registered = registered;
	c_note('R');
}
static void
c_pushed(struct nym_gw *gw, const uint8_t *pt, size_t len, void *arg)
{
	(void)gw, (void)arg;
	C.pushed++;
	c_note('P');
	snprintf(C.push, sizeof C.push, "%.*s", (int)len, (const char *)pt);
}
static void
c_down(struct nym_gw *gw, int err, const char *why, int fatal, void *arg)
{
	(void)gw, (void)arg;
	C.down++;
	C.fatal = fatal;
	C.err = err;
	snprintf(C.why, sizeof C.why, "%s", why);
}

static struct nym_loop *L;

static void
spin(int *flag, int ms)
{
	uint64_t t0 = nym_mono_ms();
	while (!*flag && nym_mono_ms() - t0 < (uint64_t)ms)
		nym_loop_run(L, 20);
}

/* the injected wall clock (0: the real one) */
static uint64_t T;
static uint64_t
t_clock(void *arg)
{
	(void)arg;
	return T;
}

static struct nym_gw *
start(const char *url, const struct nym_client_keys *k, const char *dir, const uint8_t gw[32])
{
	struct nym_gw_params p = {.url = url, .keys = k, .dir = dir, .rng = &G.rng, .max_retries = 2};
	if (T) {
		p.clock = t_clock;
		p.clock_arg = NULL;
	}
	struct nym_gw_events ev = {c_ready, c_pushed, c_down, NULL, NULL};
	struct nym_gw *s = NULL;
	memcpy(p.gateway, gw, 32);
	memset(&C, 0, sizeof C);
	CHECK(nym_gw_start(&s, L, &p, &ev) == 0, "session starts (%s)", url);
	return s;
}

static void
spin_acc(size_t n, int ms)
{
	uint64_t t0 = nym_mono_ms();
	while (strlen(G.acc) < n && !C.fatal && nym_mono_ms() - t0 < (uint64_t)ms)
		nym_loop_run(L, 20);
	for (int i = 0; i < 5; i++) /* and whatever else follows */
		nym_loop_run(L, 10);
}

static void
forward_marked(struct nym_gw *s, char mark)
{
	uint8_t p[2 + 7 + 2413];
	memset(p, 0x5a, sizeof p);
	p[0] = 0, p[1] = 2, p[2] = 4, p[3] = 0x06, p[4] = 0xfd;
	p[20] = (uint8_t)mark;
	CHECK(nym_gw_forward(s, p, sizeof p) == 0, "forward %c", mark);
}

static void
stop(struct nym_gw *s)
{
	nym_gw_close(s);
	for (int i = 0; i < 5; i++)
		nym_loop_run(L, 10);
	nym_gw_free(s);
}

int
main(void)
{
	char tmp[] = "/tmp/nym-gwsession-XXXXXX", sock[200], url[220], dir[300], keyf[400];
	struct nym_client_keys k;
	const char *bad;
	struct stat st;
	struct nym_gw *s;
	uint8_t gw[32], loaded[32];

	nym_crypto_init();
	G.rng = nym_rng_system();
	G.version = 6;
	CHECK(mkdtemp(tmp) != NULL, "temp dir");
	snprintf(sock, sizeof sock, "%s/gw.sock", tmp);
	snprintf(url, sizeof url, "unix:%s", sock);
	snprintf(dir, sizeof dir, "%s/client", tmp);
	snprintf(keyf, sizeof keyf, "%s/%s", dir, NYM_CLIENT_GATEWAY_SHARED_KEY);
	nym_node_keys_generate(&G.id, &G.rng);
	memcpy(gw, G.id.identity_pk, 32);
	nym_client_keys_generate(&k, &G.rng);
	CHECK(nym_client_keys_save(dir, &k, 0, &bad) == 0, "client keys saved");
	CHECK(nym_loop_new(&L, NULL) == 0, "loop");
	struct nym_ws_handler gh = {.message = g_message};
	CHECK(nym_ws_listen_unix(L, sock, &gh) == 0, "gateway listens");

	/* 1. first start: registration, key stored, bandwidth claimed */
	s = start(url, &k, dir, gw);
	spin(&C.ready, 3000);
	CHECK(C.ready == 1 && C.registered == 1 && G.registered == 1, "registered on first use");
	CHECK(G.claims == 1, "free bandwidth claimed after registration");
	CHECK(nym_gw_version(s) == 6, "protocol 6 negotiated");
	CHECK(stat(keyf, &st) == 0 && (st.st_mode & 0777) == 0600, "shared key file is 0600");
	uint8_t stored[32];
	CHECK(nym_keyfile_read(keyf, NYM_PEM_GATEWAY_SHARED_KEY, stored, 32) == 0 &&
	    !memcmp(stored, G.key, 32), "the stored key is the gateway's");
	CHECK(nym_client_gateway_load(dir, loaded) == 0 && !memcmp(loaded, gw, 32),
	    "gateway_identity.pem names the gateway (address complete)");

	/* 2. a packet out (ForwardSphinxV2), a push in */
	uint8_t mp[2 + 7 + 2413];
	memset(mp, 0x5a, sizeof mp);
	mp[0] = 0, mp[1] = 2, mp[2] = 4, mp[3] = 0x06, mp[4] = 0xfd;
	CHECK(nym_gw_forward(s, mp, sizeof mp) == 0, "forward");
	spin(&C.pushed, 3000);
	CHECK(G.frames == 1 && G.last_kind == 2 && G.last_len == sizeof mp &&
	    !memcmp(G.last_frame, mp, sizeof mp), "gateway got the MixPacket as ForwardSphinxV2");
	CHECK(C.pushed == 1 && !strcmp(C.push, "pushed payload"), "client got the push decrypted");
	stop(s);

	/* 3. next start: authenticateV2 with the stored key; a stored message
	 * pushed before the claim is answered is handed up after ready */
	G.push_on_auth = 1;
	s = start(url, &k, dir, gw);
	for (int i = 0; i < 150 && C.pushed < 2; i++)
		nym_loop_run(L, 20);
	CHECK(C.ready == 1 && C.registered == 0 && G.auths == 1 && G.registered == 1,
	    "authenticated with the stored key, no new registration");
	CHECK(G.claims == 2, "claimed again (bandwidth 0 reported)");
	CHECK(C.pushed == 2 && !strcmp(C.push, "stored2") && !strcmp(C.order, "RPP"),
	    "stored messages (before and after the answer) handed up after ready, in order (%s)",
	    C.order);
	G.push_on_auth = 0;
	stop(s);

	/* 4. the gateway lost us: "not registered" -> a fresh registration */
	G.registered = 0;
	s = start(url, &k, dir, gw);
	spin(&C.ready, 5000);
	CHECK(C.ready == 1 && C.registered == 1 && G.registered == 1, "re-registered (%s)", C.why);
	CHECK(nym_keyfile_read(keyf, NYM_PEM_GATEWAY_SHARED_KEY, stored, 32) == 0 &&
	    !memcmp(stored, G.key, 32), "the new key replaced the old one");
	stop(s);

	/* 5. a gateway that is not the one the topology names */
	uint8_t other[32];
	struct nym_node_keys ok;
	nym_node_keys_generate(&ok, &G.rng);
	memcpy(other, ok.identity_pk, 32);
	char dir2[320];
	snprintf(dir2, sizeof dir2, "%s/client2", tmp);
	struct nym_client_keys k2;
	nym_client_keys_generate(&k2, &G.rng);
	nym_client_keys_save(dir2, &k2, 0, &bad);
	s = start(url, &k2, dir2, other);
	spin(&C.fatal, 3000);
	CHECK(C.fatal && C.err == NYM_EMAC && strstr(C.why, "signature"),
	    "wrong gateway identity: fatal, says why (%s)", C.why);
	CHECK(access(dir2, F_OK) == 0 && nym_client_gateway_load(dir2, loaded) != 0,
	    "nothing stored for it");
	nym_gw_free(s);

	/* 6. a gateway below protocol 4 */
	G.version = 3;
	s = start(url, &k2, dir2, gw);
	spin(&C.fatal, 3000);
	CHECK(C.fatal && C.err == NYM_EVERSION, "protocol 3: fatal (%s)", C.why);
	nym_gw_free(s);
	G.version = 6;

	/* 7. nobody listening: retries, then gives up */
	char url2[240];
	snprintf(url2, sizeof url2, "unix:%s/none.sock", tmp);
	s = start(url2, &k2, dir2, gw);
	spin(&C.fatal, 8000);
	CHECK(C.fatal && C.down == 3 && strstr(C.why, "gave up after 3 attempts"),
	    "unreachable: two retries, then fatal (%s)", C.why);
	nym_gw_free(s);

	/* 8. the daily reset: a claim at 23:59:59 UTC; at 00:00:00 the gateway
	 * refuses the two packets in flight as out of bandwidth: one claim,
	 * each packet sent again once */
	char dir3[320];
	struct nym_client_keys k3;
	snprintf(dir3, sizeof dir3, "%s/client3", tmp);
	nym_client_keys_generate(&k3, &G.rng);
	CHECK(nym_client_keys_save(dir3, &k3, 0, &bad) == 0, "third client");
	T = (uint64_t)20000 * 86400 - 1;
	int c0 = G.claims;
	memset(G.acc, 0, sizeof G.acc);
	s = start(url, &k3, dir3, gw);
	spin(&C.ready, 3000);
	CHECK(C.ready == 1 && G.claims == c0 + 1, "ready, claimed at 23:59:59");
	G.refuse = 2;
	forward_marked(s, 'A');
	forward_marked(s, 'B');
	T++; /* 00:00:00: the refusals arrive */
	spin_acc(2, 3000);
	CHECK(!strcmp(G.ref, "AB"), "the gateway refused both (%s)", G.ref);
	CHECK(G.claims == c0 + 2, "one re-claim for the episode, not one per packet (%d)",
	    G.claims - c0 - 1);
	CHECK(!strcmp(G.acc, "AB"), "each accepted exactly once after the claim (%s)", G.acc);
	CHECK(nym_gw_backlog(s) == 0, "nothing left waiting");
	T++;
	forward_marked(s, 'C');
	spin_acc(3, 3000);
	CHECK(!strcmp(G.acc, "ABC") && G.claims == c0 + 2, "same day: sent without a claim");
	T += 86400; /* the next day change: claimed before sending, nothing refused */
	forward_marked(s, 'D');
	spin_acc(4, 3000);
	CHECK(!strcmp(G.acc, "ABCD") && !strcmp(G.ref, "AB") && G.claims == c0 + 3,
	    "a new UTC day: claimed first, the packet sent once (%s/%s)", G.acc, G.ref);
	CHECK(C.down == 0, "the connection stayed up");
	/* the gateway turns enforcing at the next reset: the client stops */
	G.enforce = 1;
	G.refuse = 1;
	forward_marked(s, 'E');
	spin(&C.fatal, 3000);
	CHECK(C.fatal && C.err == NYM_EPERM && strstr(C.why, "zk-nym") &&
	    strstr(C.why, "nym-keygen --id NAME --gateway ID --force") && !strchr(C.why, '\n'),
	    "connected client, claim refused for credentials: fatal, one line (%s)", C.why);
	CHECK(G.claims == c0 + 4, "one claim, no loop");
	CHECK(nym_gw_forward(s, (const uint8_t *)"xyz", 3) == NYM_ENET, "dead session refuses more");
	nym_gw_free(s);

	/* 9. an enforcing gateway at the first connection: fatal, no ready */
	char dir4[320];
	struct nym_client_keys k4;
	snprintf(dir4, sizeof dir4, "%s/client4", tmp);
	nym_client_keys_generate(&k4, &G.rng);
	CHECK(nym_client_keys_save(dir4, &k4, 0, &bad) == 0, "fourth client");
	c0 = G.claims;
	s = start(url, &k4, dir4, gw);
	spin(&C.fatal, 3000);
	CHECK(C.fatal && C.ready == 0 && strstr(C.why, "zk-nym credentials") && C.down == 1,
	    "enforcing gateway: fatal before ready (%s)", C.why);
	CHECK(G.claims == c0 + 1, "claimed once");
	nym_gw_free(s);
	G.enforce = 0;
	T = 0;

	nym_loop_free(L);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd)) {
	}
	return t_done();
}
