/* test_surb.c — SURBs: the official client's SURBs (case c) and the model
 * SURB the official client used (case f) parsed and used byte for byte;
 * SURB creation reproduced from its recorded randomness; round trips. */
#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/surb.h"
#include "test.h"

static struct nym_sphinx_ctx ctx;

static uint8_t *
jhex(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? t_hex(json_string_value(v), len) : NULL;
}

static json_t *
load(const char *name)
{
	char path[1024];
	json_error_t err;
	snprintf(path, sizeof path, "%s/%s", t_vectors(), name);
	json_t *j = json_load_file(path, 0, &err);
	if (!j) { printf("Bail out! cannot load %s\n", path); exit(1); }
	return j;
}

/* The Sphinx plaintext of a packet record: final_payload[16:2064). */
static uint8_t *
record_plaintext(json_t *rec, size_t *len)
{
	json_t *hops = json_object_get(json_object_get(rec, "sphinx"), "hops");
	json_t *last = json_array_get(hops, json_array_size(hops) - 1);
	size_t n;
	uint8_t *fp = jhex(last, "final_payload", &n);
	size_t ml = 0;
	if (!fp || nym_sphinx_unpad(fp, n, &ml) != 0) { free(fp); return NULL; }
	memmove(fp, fp + 16, ml);
	*len = ml;
	return fp;
}

static void
case_c(void)
{
	json_t *root = load("case-c-anonymous-3surbs.json"), *sv;
	json_t *replies = json_object_get(root, "model_replies_through_surbs");
	size_t i;

	json_array_foreach(json_object_get(root, "reply_surbs"), i, sv) {
		size_t n, hl, fl, ml, pl;
		uint8_t *b = jhex(sv, "bytes", &n), *hdr = jhex(sv, "header", &hl), *fh = jhex(sv, "first_hop_bytes", &fl);
		struct nym_surb s;
		int rc = nym_surb_parse(&s, b + 16, n - 16); /* Nym's 16-byte reply key first */
		CHECK(rc == 0 && s.nhops == 4 && s.seeds && n - 16 == 444,
		      "case c SURB %zu: 444 bytes parse as 4 hops of seeds", i);
		CHECK_MEM(s.header, hdr, 348, "case c SURB %zu: header", i);
		CHECK_MEM(s.first_hop, fh, 32, "case c SURB %zu: first hop", i);
		json_t *mat = json_object_get(sv, "material"), *m;
		size_t j;
		int seeds_ok = 1;
		json_array_foreach(mat, j, m) {
			uint8_t *sd = t_hex(json_string_value(m), NULL);
			seeds_ok &= memcmp(sd, s.seed[j], 16) == 0;
			free(sd);
		}
		CHECK(seeds_ok, "case c SURB %zu: seeds", i);
		uint8_t out[444];
		CHECK(nym_surb_serialize(out, sizeof out, &s) == 444 && memcmp(out, b + 16, 444) == 0,
		      "case c SURB %zu: serializes back to the same bytes", i);

		/* The model's reply through this SURB (vectors README step 6). */
		json_t *rep = NULL, *r;
		size_t k;
		json_array_foreach(replies, k, r)
			if ((size_t)json_integer_value(json_object_get(r, "surb_index")) == i)
				rep = json_object_get(r, "packet");
		uint8_t *want = jhex(rep, "packet", &pl), *msg = record_plaintext(rep, &ml);
		uint8_t pkt[2413];
		CHECK(want && msg && pl == 2413 && nym_surb_use(pkt, pl, &s, msg, ml) == 0,
		      "case c SURB %zu: use", i);
		CHECK_MEM(pkt, want, 2413, "case c SURB %zu: surb_use(SURB, plaintext) equals the reply packet", i);
		free(b); free(hdr); free(fh); free(want); free(msg);
	}
	json_decref(root);
}

static void
case_f(void)
{
	json_t *root = load("case-f-official-reply-through-model-surbs.json");
	json_t *surbs = json_object_get(json_object_get(root, "model_repliable"), "surbs");
	json_t *pk = json_array_get(json_object_get(root, "packets"), 0);
	size_t idx = (size_t)json_integer_value(json_array_get(json_object_get(root, "surb_used_per_packet"), 0));
	json_t *sv = json_array_get(surbs, idx), *hops = json_object_get(json_object_get(pk, "sphinx"), "hops"), *h;
	size_t n, pl, ml, j, l;
	uint8_t *b = jhex(sv, "surb_bytes", &n), *want = jhex(pk, "packet", &pl), *msg = record_plaintext(pk, &ml);
	struct nym_surb s;
	uint8_t pkt[2413];

	CHECK(nym_surb_parse(&s, b, n) == 0 && n == 444 && s.nhops == 4 && s.seeds,
	      "case f: model SURB %zu parses (444 bytes, 4 seeds)", idx);
	CHECK(msg && nym_surb_use(pkt, pl, &s, msg, ml) == 0, "case f: use");
	CHECK_MEM(pkt, want, 2413, "case f: the OFFICIAL client's reply equals surb_use(SURB, plaintext)");

	/* Creation of that SURB from its recorded x, delays and final padding. */
	json_t *net = json_object_get(json_object_get(root, "network"), "nodes"), *nd;
	struct nym_sphinx_route r;
	memset(&r, 0, sizeof r);
	r.version = (uint16_t)json_integer_value(json_object_get(sv, "version"));
	r.nhops = json_array_size(hops);
	json_array_foreach(hops, j, h) {
		const char *host = json_string_value(json_object_get(h, "node_host"));
		size_t q;
		json_array_foreach(net, q, nd)
			if (strcmp(json_string_value(json_object_get(nd, "host")), host) == 0) {
				uint8_t *a = jhex(nd, "routing_address_32", &l), *p = jhex(nd, "sphinx_public", &l);
				memcpy(r.hop[j].address, a, 32);
				memcpy(r.hop[j].pubkey, p, 32);
				free(a); free(p);
			}
		r.delay_ns[j] = (uint64_t)json_integer_value(json_array_get(json_object_get(sv, "delays_ns"), j));
		if (j == r.nhops - 1) {
			uint8_t *d = jhex(h, "destination", &l);
			memcpy(r.destination, d, 32);
			free(d);
		}
	}
	uint8_t *x = jhex(sv, "initial_secret_x", &l);
	uint8_t *pad = jhex(json_array_get(hops, r.nhops - 1), "final_block_padding", &l);
	uint8_t rb[32 + 248];
	memcpy(rb, x, 32);
	memcpy(rb + 32, pad, l);
	struct nym_rng_fixed st;
	struct nym_rng rng = nym_rng_fixed(&st, rb, 32 + l);
	struct nym_surb c;
	struct nym_sphinx_layers keys;
	uint8_t ser[444];
	CHECK(nym_surb_create(&ctx, &c, &keys, &r, &rng) == 0 && st.pos == 32 + l, "case f: create from x and padding");
	CHECK(nym_surb_serialize(ser, sizeof ser, &c) == 444, "case f: created SURB is 444 bytes");
	CHECK_MEM(ser, b, 444, "case f: created SURB equals the model SURB byte for byte");

	/* The creator peels the official reply with its own keys. */
	memcpy(pkt, want, sizeof pkt);
	CHECK(nym_surb_unwrap(pkt, sizeof pkt, &keys, &ml) == 0, "case f: creator unwraps the reply (hop 0)");
	size_t ml2;
	uint8_t *msg2 = record_plaintext(pk, &ml2);
	CHECK(ml == ml2 && memcmp(pkt + 364, msg2, ml) == 0, "case f: creator recovers the plaintext");
	nym_wipe(&keys, sizeof keys);
	free(b); free(want); free(msg); free(msg2); free(x); free(pad);
	json_decref(root);
}

static void
round_trips(void)
{
	static const uint16_t versions[] = { 257, 258, 259 };
	static const size_t sizes[] = { 2413, 386, 33133 };
	static uint8_t pkt[33133], msg[33000], copy[33133];
	struct nym_rng sys = nym_rng_system();
	int total = 0, good = 0;

	for (size_t vi = 0; vi < 3; vi++)
		for (size_t n = 1; n <= 5; n++)
			for (size_t si = 0; si < 3; si++) {
				struct nym_sphinx_route r;
				struct nym_surb s, p;
				struct nym_sphinx_layers keys;
				struct nym_sphinx_processed out;
				uint8_t sk[5][32], ser[NYM_SURB_MAX_LEN];
				size_t len = sizes[si], mlen = len - 365 - n, ml = 0;
				int ok = 1, sl;
				memset(&r, 0, sizeof r);
				r.version = versions[vi];
				r.nhops = n;
				for (size_t i = 0; i < n; i++) {
					randombytes_buf(sk[i], 32);
					nym_x25519_base(r.hop[i].pubkey, sk[i]);
					memset(r.hop[i].address, (int)i + 1, 32);
				}
				memset(r.destination, 0xcc, 32);
				randombytes_buf(msg, mlen);
				ok &= nym_surb_create(&ctx, &s, &keys, &r, &sys) == 0;
				sl = nym_surb_serialize(ser, sizeof ser, &s);
				ok &= sl == (int)NYM_SURB_LEN(n, r.version == 259);
				ok &= nym_surb_parse(&p, ser, (size_t)sl) == 0 && p.nhops == n;
				ok &= nym_surb_use(pkt, len, &p, msg, mlen) == 0;
				ok &= memcmp(p.first_hop, r.hop[0].address, 32) == 0;
				for (size_t i = 0; ok && i < n; i++) {
					/* the creator can peel it at every stage */
					memcpy(copy, pkt, len);
					int hop = nym_surb_unwrap(copy, len, &keys, &ml);
					ok &= hop == (int)i && ml == mlen && memcmp(copy + 364, msg, mlen) == 0;
					ok &= nym_sphinx_process(&ctx, pkt, len, sk[i], &out) == 0;
				}
				ok = ok && out.final && memcmp(out.destination, r.destination, 32) == 0 &&
				     nym_sphinx_unpad(pkt + 348, len - 348, &ml) == 0 && ml == mlen &&
				     memcmp(pkt + 364, msg, mlen) == 0;
				total++;
				good += ok;
				if (!ok)
					printf("#   SURB round trip failed: v%u, %zu hops, %zu bytes\n", r.version, n, len);
				nym_wipe(&keys, sizeof keys);
			}
	CHECK(good == total, "SURB create -> serialize -> parse -> use -> hops / creator unwrap: %d of %d", good, total);

	/* Nym's sizes: 4 hops, 1148 bytes (258), 444 bytes (259). */
	struct nym_sphinx_route r;
	struct nym_surb s;
	memset(&r, 0, sizeof r);
	r.nhops = 4;
	for (int i = 0; i < 4; i++)
		randombytes_buf(r.hop[i].pubkey, 32);
	r.version = 258;
	nym_surb_create(&ctx, &s, NULL, &r, &sys);
	CHECK(nym_surb_len(&s) == 1148 && !s.seeds, "v258 SURB with 4 hops is 1148 bytes");
	r.version = 259;
	nym_surb_create(&ctx, &s, NULL, &r, &sys);
	CHECK(nym_surb_len(&s) == 444 && s.seeds, "v259 SURB with 4 hops is 444 bytes");
}

static void
bad_input(void)
{
	static uint8_t b[2000];
	struct nym_surb s;
	struct nym_sphinx_layers keys;
	struct nym_sphinx_route r;
	struct nym_rng sys = nym_rng_system();
	uint8_t pkt[2413];
	size_t ml;

	memset(b, 0x5a, sizeof b);
	CHECK(nym_surb_parse(&s, b, 395) == NYM_ESHORT, "SURB of 395 bytes: too short");
	CHECK(nym_surb_parse(&s, b, 0) == NYM_ESHORT, "empty SURB");
	CHECK(nym_surb_parse(&s, b, 380 + 17) == NYM_EFORMAT, "17 bytes of seeds: not a multiple of 16");
	CHECK(nym_surb_parse(&s, b, 380 + 193) == NYM_EFORMAT, "193 bytes of keys: not a multiple of 192");
	CHECK(nym_surb_parse(&s, b, 380 + 6 * 192) == NYM_EROUTE, "6 full keys: too many hops");
	CHECK(nym_surb_parse(&s, b, 380 + 176) == NYM_EROUTE, "11 seeds: too many hops");
	CHECK(nym_surb_parse(&s, b, 380 + 192) == 0 && s.nhops == 1 && !s.seeds,
	      "192 bytes of material: one full key (the crate's rule)");
	CHECK(nym_surb_use(pkt, sizeof pkt, &s, b, 2049) == NYM_ETOOBIG, "use: 2049 bytes too big for regular");
	memset(&r, 0, sizeof r);
	r.version = 259;
	r.nhops = 6;
	CHECK(nym_surb_create(&ctx, &s, NULL, &r, &sys) == NYM_EROUTE, "create: 6 hops refused");
	r.nhops = 3;
	for (int i = 0; i < 3; i++)
		randombytes_buf(r.hop[i].pubkey, 32);
	nym_surb_create(&ctx, &s, &keys, &r, &sys);
	nym_surb_use(pkt, sizeof pkt, &s, (const uint8_t *)"hi", 2);
	pkt[40] ^= 1;
	CHECK(nym_surb_unwrap(pkt, sizeof pkt, &keys, &ml) == NYM_ENOTFOUND, "unwrap: a flipped MAC bit is no hop of ours");
	pkt[40] ^= 1;
	pkt[600] ^= 1;
	CHECK(nym_surb_unwrap(pkt, sizeof pkt, &keys, &ml) == NYM_EFORMAT, "unwrap: a flipped payload bit breaks the padding");
	CHECK(nym_surb_unwrap(pkt, 300, &keys, &ml) == NYM_ESHORT, "unwrap: truncated packet");
}

int
main(void)
{
	nym_crypto_init();
	nym_sphinx_ctx_init(&ctx);
	case_c();
	case_f();
	round_trips();
	bad_input();
	nym_sphinx_ctx_free(&ctx);
	return t_done();
}
