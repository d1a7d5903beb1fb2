/* fuzz_gwserver.c — the gateway server's state machine (lib/proto/gwserver.h)
 * fed arbitrary client messages on up to three connections, mixed with the
 * steps a real client takes (a valid authenticateV2 for a registered client,
 * frames sealed with its key, a registration handshake), pongs, pushes,
 * sent reports, closes and the clock. Nothing may crash, read out of
 * bounds or leak; the server must never call the transport for a
 * connection it was told is gone.
 *
 * Input: a sequence of steps, each op (1 byte) || len (2 bytes, little
 * endian) || len bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "crypto/crypto.h"
#include "proto/framing.h"
#include "proto/gwproto.h"
#include "proto/gwserver.h"

#define T0 1700000000ull
#define NCONN 3

static const uint8_t gw_seed[32] = {9, 9, 9};
static const uint8_t client_seed[32] = {1, 2, 3};
static const uint8_t client_key[32] = {5, 5, 5, 5};
static uint8_t gw_pk[32], client_pk[32];

/* A deterministic rng: a counter. */
static int
det_fill(void *ctx, uint8_t *buf, size_t len)
{
	uint32_t *n = ctx;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((*n)++ * 167u + 13u);
	return 0;
}

/* ---- storage: one registered client, a few stored messages ------------- */

static struct {
	int registered;
	struct nym_gws_client c;
	uint8_t other[32];            /* the last client that registered */
	struct { int64_t id; int live; size_t len; uint8_t data[64]; } msg[32];
	int nmsg;
	int64_t next_id;
} S;

static int
s_get(void *ctx, const uint8_t id[32], struct nym_gws_client *c)
{
	(void)ctx;
	if (!S.registered || (memcmp(id, client_pk, 32) && memcmp(id, S.other, 32)))
		return NYM_ENOTFOUND;
	*c = S.c;
	return 0;
}

static int
s_register(void *ctx, const uint8_t id[32], const uint8_t key[32])
{
	(void)ctx;
	memcpy(S.other, id, 32);
	memcpy(S.c.key, key, 32);
	S.registered = 1;
	return 0;
}

static int
s_auth_ts(void *ctx, const uint8_t id[32], uint64_t ts)
{
	(void)ctx;
	(void)id;
	S.c.last_auth_ts = ts;
	return 0;
}

static int
s_bandwidth(void *ctx, const uint8_t id[32], int64_t bytes, int64_t day)
{
	(void)ctx;
	(void)id;
	S.c.bandwidth = bytes;
	S.c.bandwidth_day = day;
	return 0;
}

static int
s_forget(void *ctx, const uint8_t id[32])
{
	(void)ctx;
	(void)id;
	S.registered = 0;
	return 0;
}

static int
s_store(void *ctx, const uint8_t id[32], const uint8_t *m, size_t len, uint64_t now)
{
	(void)ctx;
	(void)id;
	(void)now;
	if (S.nmsg == 32 || len > 64)
		return NYM_EIO;
	S.msg[S.nmsg].id = ++S.next_id;
	S.msg[S.nmsg].live = 1;
	S.msg[S.nmsg].len = len;
	memcpy(S.msg[S.nmsg++].data, m, len);
	return 0;
}

static int
s_fetch(void *ctx, const uint8_t id[32], int64_t after, int max, nym_gws_stored_fn fn, void *arg)
{
	int n = 0;
	(void)ctx;
	(void)id;
	for (int i = 0; i < S.nmsg && n < max; i++)
		if (S.msg[i].live && S.msg[i].id > after) {
			n++;
			if (fn(arg, S.msg[i].id, S.msg[i].data, S.msg[i].len))
				break;
		}
	return n;
}

static int
s_remove(void *ctx, int64_t id)
{
	(void)ctx;
	for (int i = 0; i < S.nmsg; i++)
		if (S.msg[i].id == id)
			S.msg[i].live = 0;
	return 0;
}

/* ---- transport --------------------------------------------------------- */

struct conn {
	struct nym_gws_conn *c;       /* NULL: no connection in this slot */
	int closing;                  /* asked to close: reported gone at the next step */
	uint64_t last_tag;
	size_t queued;
	uint8_t ping[8];
	char last[512];               /* the last text frame (M2 is read from it) */
	struct nym_gw_hs_client hs;   /* the client's side of a registration */
	int hs_started, registered;   /* registered: the key is hs.key */
};
static struct conn C[NCONN];

static int
t_send(void *ctx, void *h, enum nym_gws_frame type, const uint8_t *data, size_t len, uint64_t tag)
{
	struct conn *k = h;
	(void)ctx;
	if (!k->c)
		abort(); /* a connection reported gone */
	if (type == NYM_GWS_PING) {
		memcpy(k->ping, data, len < 8 ? len : 8);
		return 0;
	}
	if (k->queued + len > 200000)
		return NYM_EFULL;
	k->queued += len;
	if (type == NYM_GWS_TEXT && len < sizeof k->last) {
		memcpy(k->last, data, len);
		k->last[len] = 0;
	}
	if (tag)
		k->last_tag = tag;
	return 0;
}

static void
t_close(void *ctx, void *h, int abort_now)
{
	struct conn *k = h;
	(void)ctx;
	(void)abort_now;
	if (!k->c)
		abort();
	k->closing = 1;
}

static int
t_forward(void *ctx, void *h, const struct nym_gws_forward *f)
{
	struct conn *k = h;
	(void)ctx;
	if (!k->c || f->mp->packet_len == 0)
		abort();
	return f->mp->packet[0] & 1 ? NYM_EFULL : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	static uint8_t frame[70000];
	uint32_t counter = 0;
	struct nym_rng rng = {det_fill, &counter};
	struct nym_gws *g;
	struct nym_gws_now now = {0, T0};
	int cur = 0;

	if (!init) {
		nym_crypto_init();
		nym_ed25519_public(gw_pk, gw_seed);
		nym_ed25519_public(client_pk, client_seed);
		init = 1;
	}
	memset(&S, 0, sizeof S);
	memset(C, 0, sizeof C);
	S.registered = 1;
	memcpy(S.c.key, client_key, 32);
	struct nym_gws_config cfg = {
		.identity_seed = gw_seed, .rng = &rng, .inbox_batch = 3,
		.store = {s_get, s_register, s_auth_ts, s_bandwidth, s_forget, s_store, s_fetch, s_remove,
		          NULL, NULL},
		.io = {t_send, t_close, t_forward, NULL, NULL},
	};
	if (nym_gws_new(&g, &cfg) != 0)
		abort();
	C[0].c = nym_gws_accept(g, &C[0], now);

	for (size_t i = 0; i + 3 <= size;) {
		uint8_t op = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;
		const uint8_t *p = data + i + 3;
		if (len > size - i - 3)
			len = size - i - 3;
		i += 3 + len;

		/* closes asked for are reported now, from "the loop" */
		for (int k = 0; k < NCONN; k++)
			if (C[k].c && C[k].closing) {
				nym_gws_closed(C[k].c, now);
				memset(&C[k], 0, sizeof C[k]);
			}
		struct conn *k = &C[cur];
		if (!k->c && op % 12 != 9)
			continue;
		switch (op % 12) {
		case 0: /* a text message */
			nym_gws_text(k->c, (const char *)p, len, now);
			break;
		case 1: /* a binary message as it is */
			nym_gws_binary(k->c, p, len, now);
			break;
		case 2: { /* a binary message sealed with the client's key: kind || plaintext */
			if (len > sizeof frame - 64)
				break;
			int n = nym_gw_bin_seal(frame, sizeof frame, len ? p[0] : 2, len ? p + 1 : p,
			                        len ? len - 1 : 0, k->registered ? k->hs.key : client_key, &rng);
			if (n > 0)
				nym_gws_binary(k->c, frame, (size_t)n, now);
			break;
		}
		case 3: { /* a valid authenticateV2 (version and time offset from the input) */
			struct nym_gw_msg m = {.type = NYM_GW_REQ_AUTHENTICATE_V2};
			char *js;
			size_t jl;
			uint8_t v = len ? (uint8_t)(4 + p[0] % 4) : 6;
			uint64_t ts = now.unix_s + (len > 1 ? p[1] : 0) - 100;
			nym_gw_auth_build(&m.auth, v, client_seed, client_key, ts, &rng);
			if (nym_gw_msg_encode(&m, &js, &jl) == 0) {
				nym_gws_text(k->c, js, jl, now);
				free(js);
			}
			break;
		}
		case 4: /* a pong: the ping's bytes, or the input */
			nym_gws_pong(k->c, len ? p : k->ping, len ? len : 8, now);
			break;
		case 5: /* time passes */
			now.ms += (uint64_t)(len ? p[0] : 1) * 100;
			now.unix_s = T0 + now.ms / 1000;
			nym_gws_tick(g, now);
			break;
		case 6: /* a final-hop payload for the client */
			nym_gws_push(g, client_pk, p, len, now);
			break;
		case 7: /* the transport wrote everything queued */
			k->queued = 0;
			if (k->last_tag)
				nym_gws_sent(k->c, len ? k->last_tag - p[0] % (k->last_tag + 1) : k->last_tag, now);
			break;
		case 8: /* the client goes away */
			nym_gws_closed(k->c, now);
			memset(k, 0, sizeof *k);
			break;
		case 9: /* another connection */
			cur = (cur + 1) % NCONN;
			if (!C[cur].c)
				C[cur].c = nym_gws_accept(g, &C[cur], now);
			break;
		case 10: { /* registration M1 of a client (seed from the input) */
			uint8_t seed[32] = {0}, m1[NYM_GW_M1_LEN];
			char *js;
			size_t jl;
			memcpy(seed, p, len < 32 ? len : 32);
			if (nym_gw_hs_client_start(&k->hs, seed, gw_pk, &rng, m1) == 0 &&
			    nym_gw_json_handshake(&js, &jl, 1, len > 32 ? p[32] : 6, m1, sizeof m1) == 0) {
				k->hs_started = 1;
				nym_gws_text(k->c, js, jl, now);
				free(js);
			}
			break;
		}
		case 11: { /* M3 for the gateway's M2 (len 0), or garbage */
			struct nym_gw_msg m2;
			uint8_t m3[NYM_GW_M3_LEN];
			char *js;
			size_t jl;
			int ok = 0;
			if (!len && k->hs_started && nym_gw_msg_parse(&m2, 0, k->last, strlen(k->last)) == 0) {
				ok = m2.type == NYM_GW_RESP_HANDSHAKE &&
				     nym_gw_hs_client_m2(&k->hs, m2.hs, m2.hs_len, &rng, m3) == 0;
				nym_gw_msg_free(&m2);
			}
			if (!ok)
				memset(m3, len ? p[0] : 0, sizeof m3);
			k->registered = ok;
			if (nym_gw_json_handshake(&js, &jl, 1, 6, m3, sizeof m3) == 0) {
				nym_gws_text(k->c, js, jl, now);
				free(js);
			}
			break;
		}
		}
	}
	nym_gws_free(g); /* ends every connection still open */
	return 0;
}
