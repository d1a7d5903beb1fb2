/* test_sphinx.c — Sphinx processing and creation against every packet in
 * t/vectors (official client 1.4.1 packets, decoded hop by hop), the spec's
 * §10 known answers, round trips, and bad input. */
#include <dirent.h>
#include <jansson.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/sphinx.h"
#include "test.h"

/* ---- helpers -------------------------------------------------------------- */

static uint8_t *
jhex(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return NULL;
	return t_hex(json_string_value(v), len);
}

/* Compare a hex field of o with bytes; on mismatch print which. */
static int
field_eq(json_t *o, const char *key, const uint8_t *got, size_t len, const char *what)
{
	size_t n;
	uint8_t *want = jhex(o, key, &n);
	int ok = want && n == len && memcmp(want, got, len) == 0;
	if (!ok)
		printf("#   %s: field %s differs\n", what, key);
	free(want);
	return ok;
}

static int
sha_eq(json_t *o, const char *key, const uint8_t *data, size_t len, const char *what)
{
	uint8_t h[32];
	nym_sha256(h, data, len);
	return field_eq(o, key, h, 32, what);
}

struct node { char host[64]; uint8_t sk[32], pk[32], addr[32]; };
static struct node nodes[16];
static size_t nnodes;

static void
load_network(json_t *net)
{
	json_t *arr = json_object_get(net, "nodes"), *n;
	size_t i, l;
	nnodes = 0;
	json_array_foreach(arr, i, n) {
		if (nnodes == 16) break;
		struct node *d = &nodes[nnodes++];
		snprintf(d->host, sizeof d->host, "%s", json_string_value(json_object_get(n, "host")));
		uint8_t *b = jhex(n, "sphinx_secret", &l); memcpy(d->sk, b, 32); free(b);
		b = jhex(n, "sphinx_public", &l); memcpy(d->pk, b, 32); free(b);
		b = jhex(n, "routing_address_32", &l); memcpy(d->addr, b, 32); free(b);
	}
}

static struct node *
node_by_host(const char *host)
{
	for (size_t i = 0; i < nnodes; i++)
		if (strcmp(nodes[i].host, host) == 0)
			return &nodes[i];
	return NULL;
}

static struct nym_sphinx_ctx ctx;
static int npackets, nhops_checked;

/* One packet record (spec of the fields: vectors README): process it hop
 * by hop with lib/ and compare every recorded value. */
static void
check_packet(json_t *rec, const char *where)
{
	size_t len, l;
	uint8_t *pkt = jhex(rec, "packet", &len);
	json_t *sph = json_object_get(rec, "sphinx");
	json_t *hops = json_object_get(sph ? sph : rec, "hops"), *h;
	size_t i;
	char what[256];

	if (!pkt || !json_is_array(hops))
		return;
	npackets++;
	json_array_foreach(hops, i, h) {
		struct node *nd = node_by_host(json_string_value(json_object_get(h, "node_host")));
		struct nym_sphinx_secret s;
		struct nym_sphinx_processed out;
		uint8_t pkey[192], in_alpha[32];
		int ok = 1;

		snprintf(what, sizeof what, "%s hop %zu", where, i);
		if (!nd) { CHECK(0, "%s: node known", what); break; }
		ok &= sha_eq(h, "input_sha256", pkt, len, what);
		ok &= field_eq(h, "alpha", pkt, 32, what);
		memcpy(in_alpha, pkt, 32);
		CHECK(nym_sphinx_derive(&s, pkt, len, nd->sk) == 0, "%s: derive", what);
		ok &= field_eq(h, "shared_secret", s.shared, 32, what);
		ok &= field_eq(h, "expanded_shared_secret", s.okm, 288, what);
		ok &= field_eq(h, "replay_tag", s.okm + 256, 32, what);
		int rc = nym_sphinx_process_secret(&ctx, pkt, len, &s, &out);
		CHECK(rc == 0, "%s: processes (rc %d)", what, rc);
		if (rc) { free(pkt); return; }
		ok &= out.version == json_integer_value(json_object_get(h, "version"));
		ok &= out.flag == json_integer_value(json_object_get(h, "routing_flag"));
		ok &= memcmp(out.replay_tag, s.okm + 256, 32) == 0;
		nym_sphinx_payload_key(pkey, out.version, s.okm);
		ok &= field_eq(h, "payload_key", pkey, 192, what);
		if (!out.final) {
			ok &= (json_int_t)out.delay_ns == json_integer_value(json_object_get(h, "delay_ns"));
			ok &= field_eq(h, "next_address_bytes", out.next_hop, 32, what);
			ok &= field_eq(h, "next_alpha", pkt, 32, what);
			ok &= out.payload_off == 0 && out.payload_len == len;
			if (json_object_get(h, "output_packet"))
				ok &= field_eq(h, "output_packet", pkt, len, what);
			ok &= sha_eq(h, "output_sha256", pkt, len, what);
			/* the vectors' own delays_ns list agrees */
			json_t *dl = json_array_get(json_object_get(sph ? sph : rec, "delays_ns"), i);
			if (dl)
				ok &= (json_int_t)out.delay_ns == json_integer_value(dl);
		} else {
			ok &= field_eq(h, "destination", out.destination, 32, what);
			ok &= field_eq(h, "identifier", out.identifier, 16, what);
			ok &= out.payload_off == 348 && out.payload_len == len - 348;
			if (json_object_get(h, "final_payload"))
				ok &= field_eq(h, "final_payload", pkt + 348, len - 348, what);
			ok &= sha_eq(h, "final_payload_sha256", pkt + 348, len - 348, what);
			size_t ml;
			ok &= nym_sphinx_unpad(pkt + 348, len - 348, &ml) == 0;
			json_t *pl = json_object_get(sph ? sph : rec, "plaintext_len");
			if (pl)
				ok &= (json_int_t)ml == json_integer_value(pl);
		}
		(void)in_alpha; (void)l;
		nym_wipe(&s, sizeof s);
		CHECK(ok, "%s: every recorded value matches (v%u, %s)", what, out.version,
		      out.final ? "final" : "forward");
		nhops_checked++;
		if (out.final)
			break;
	}
	free(pkt);
}

/* Walk a vector file: every object holding "packet" (hex) and "hops" is a
 * packet record, the SURB-acks under nym.surb_ack included. */
static void
walk(json_t *o, const char *where)
{
	char sub[512];

	if (json_is_object(o)) {
		const char *k;
		json_t *v;
		if (json_is_string(json_object_get(o, "packet")) &&
		    (json_object_get(o, "sphinx") || json_object_get(o, "hops")))
			check_packet(o, where);
		json_object_foreach(o, k, v) {
			if (strcmp(k, "network") == 0 && json_object_get(v, "nodes"))
				continue;
			snprintf(sub, sizeof sub, "%s.%s", where, k);
			walk(v, sub);
		}
	} else if (json_is_array(o)) {
		size_t i;
		json_t *v;
		json_array_foreach(o, i, v) {
			snprintf(sub, sizeof sub, "%s[%zu]", where, i);
			walk(v, sub);
		}
	}
}

static void
vectors(void)
{
	const char *dir = t_vectors();
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024], *names[64];
	int nn = 0;

	if (!d) { printf("Bail out! no %s\n", dir); exit(1); }
	while ((e = readdir(d)) && nn < 64)
		if (strncmp(e->d_name, "case-", 5) == 0 || strncmp(e->d_name, "model-", 6) == 0)
			names[nn++] = strdup(e->d_name);
	closedir(d);
	CHECK(nn >= 12, "found the vector files (%d)", nn);
	for (int i = 0; i < nn; i++) {
		json_error_t err;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		json_t *root = json_load_file(path, 0, &err);
		CHECK(root != NULL, "%s parses", names[i]);
		if (!root) continue;
		load_network(json_object_get(root, "network"));
		int before = npackets;
		walk(root, names[i]);
		CHECK(npackets > before, "%s: %d packet records processed", names[i], npackets - before);
		json_decref(root);
		free(names[i]);
	}
}

/* ---- the model-legacy file: creation byte for byte, and the negative test */

static void
model_legacy(void)
{
	char path[1024];
	json_error_t err;
	snprintf(path, sizeof path, "%s/model-legacy-v257-v258.json", t_vectors());
	json_t *root = json_load_file(path, 0, &err), *v;
	size_t i, l;
	CHECK(root != NULL, "model-legacy parses");
	if (!root) return;
	load_network(json_object_get(root, "network"));
	json_array_foreach(json_object_get(root, "vectors"), i, v) {
		struct nym_sphinx_route r;
		json_t *rec = json_object_get(v, "packet"), *hops = json_object_get(json_object_get(rec, "sphinx"), "hops"), *h;
		size_t j, plen = (size_t)json_integer_value(json_object_get(v, "payload_size"));
		l = 0;
		uint8_t *x = jhex(v, "initial_secret_x", &l), *pad = jhex(v, "final_block_padding", &l);
		size_t padlen = l, mlen = 0;
		uint8_t *msg = jhex(v, "message", &mlen), *want = jhex(rec, "packet", &l);
		uint8_t *id = jhex(root, "recipient_identity", &l);
		uint8_t rbuf[512], pkt[2413];
		struct nym_rng_fixed st;

		memset(&r, 0, sizeof r);
		r.version = (uint16_t)json_integer_value(json_object_get(v, "version"));
		r.nhops = json_array_size(hops);
		json_array_foreach(hops, j, h) {
			struct node *nd = node_by_host(json_string_value(json_object_get(h, "node_host")));
			memcpy(r.hop[j].address, nd->addr, 32);
			memcpy(r.hop[j].pubkey, nd->pk, 32);
			r.delay_ns[j] = (uint64_t)json_integer_value(json_array_get(json_object_get(v, "delays_ns"), j));
		}
		memcpy(r.destination, id, 32);
		memcpy(rbuf, x, 32);
		memcpy(rbuf + 32, pad, padlen);
		struct nym_rng rng = nym_rng_fixed(&st, rbuf, 32 + padlen);
		int rc = nym_sphinx_create(&ctx, pkt, plen + 348, &r, msg, mlen, &rng);
		CHECK(rc == 0 && st.pos == 32 + padlen, "model v%u: create uses x then the padding", r.version);
		CHECK_MEM(pkt, want, plen + 348, "model v%u: created packet equals the vector byte for byte", r.version);

		/* Negative test: clamped blinding of a v257 packet breaks hop 1. */
		if (r.version == 257) {
			uint8_t p2[2413], wrong[32];
			struct nym_sphinx_secret s;
			struct nym_sphinx_processed out;
			const char *neg = json_string_value(json_object_get(v, "negative_test"));
			const char *hx = strstr(neg, "next_alpha ");
			char hex64[65];
			snprintf(hex64, sizeof hex64, "%s", hx + 11);
			uint8_t *nega = t_hex(hex64, NULL);
			memcpy(p2, want, sizeof p2);
			struct node *n0 = node_by_host(json_string_value(json_object_get(json_array_get(hops, 0), "node_host")));
			nym_sphinx_derive(&s, p2, sizeof p2, n0->sk);
			nym_x25519(wrong, s.okm + NYM_SPHINX_OKM_BLINDING, p2);
			CHECK_MEM(wrong, nega, 32, "v257: clamped blinding gives the vector's wrong next_alpha");
			CHECK(nym_sphinx_process_secret(&ctx, p2, sizeof p2, &s, &out) == 0 &&
			      memcmp(p2, nega, 32) != 0, "v257: lib/ blinds unclamped (alpha differs from the wrong one)");
			memcpy(p2, wrong, 32);
			struct node *n1 = node_by_host(json_string_value(json_object_get(json_array_get(hops, 1), "node_host")));
			CHECK(nym_sphinx_process(&ctx, p2, sizeof p2, n1->sk, &out) == NYM_EMAC,
			      "v257: hop 1 rejects the clamped-blinded packet (MAC)");
			free(nega);
			nym_wipe(&s, sizeof s);
		}
		free(x); free(pad); free(msg); free(want); free(id);
	}
	json_decref(root);
}

/* ---- doc/spec/sphinx.md §10 known answers ----------------------------------- */

static void
kat_t1(void)
{
	uint8_t *sk1 = t_hex("023f37203a2476c42566a61cc55c3ca875dbb4cc41c0deb789f8e7bf88183638", NULL);
	uint8_t *sk2 = t_hex("1ecc3686b60ee3b84b6c7d321d70d5c06e9dac63a4d0a79d731b17c0d04d030d", NULL);
	uint8_t *s_w = t_hex("499a6ab6e6c50f92a5f15d4a93bf90c0b7d8b0e9577f31907c8e01152b752747", NULL);
	uint8_t *okm_w = t_hex(
		"baea9871ca7cbfe4ad595b087ffbd6c81cde11e32eb4aa072234b18e96898ede"
		"d2d151f1fe7b24519b55732865d26108c4683d17a5bebfeccb450fe64664a188"
		"3558747651393ab5e866955defff9ccd00926e75893b66aa57faafcfc16b709a"
		"f7dc6e87206a14980e84599af918b0281eb6c3d17c3b3ac9d1ff50976de29de8"
		"3080389f5aa8e53c6a0e32d7c6c8a8189fe0f07717f23d8136248cf57f9fe605"
		"348efe34a8ab8b64ce105edb44718d9f04e9bd90a4cab44ad64260b946bf9b12"
		"d2347b47e7e14f00c419d9e785bf607767b6c824d73ecb95d68b2046421e3f66"
		"e340b8eb8c3ee8aceb2a3aa9f1fdf50288954a3006a59185be69dedaf8ac31bc"
		"10e008d2c39ea43ac2a4837ec49a2a0151825117c62f8fc51b31abd37202ade5", NULL);
	uint8_t *pk259 = t_hex(
		"5e3ec0826fabe7ad928194bd4b2b5877184791c9fb94e46b92ff9460ee026d14"
		"726bb9c76213b532a3922826807cf45a435a2fb3c2e64298c19979858bd83a04"
		"0d509e0f2f836727d93518d716ea5740bbb2ec454ba5a20cb8c8914373a426ca"
		"c0dcef02ff2fddb06c0f268b860900021ee969a5da99c0d93444b35ba3217699"
		"44005d942731e5533074b9d2b5cec2b5407e8445f35c269ec2ee62bad8d8c769"
		"514d0879a1b9951a5b14d1098ec47c5eac73a8bdd0620a660e79da8179ccf0e0", NULL);
	uint8_t pk1[32], packet[381] = { 0 }, key[192];
	struct nym_sphinx_secret s;

	nym_x25519_base(pk1, sk1);
	memcpy(packet, pk1, 32);
	CHECK(nym_sphinx_derive(&s, packet, sizeof packet, sk2) == 0, "T1: derive");
	CHECK_MEM(s.shared, s_w, 32, "T1: shared secret");
	CHECK_MEM(s.okm, okm_w, 288, "T1: expanded shared secret (crate test), replay tag");
	nym_sphinx_payload_key(key, 259, s.okm);
	CHECK_MEM(key, pk259, 192, "T1: v259 payload key from the seed");
	nym_sphinx_payload_key(key, 258, s.okm);
	CHECK_MEM(key, okm_w + 32, 192, "T1: v258 payload key is OKM[32,224)");
	nym_sphinx_payload_key(key, 260, s.okm);
	CHECK_MEM(key, pk259, 192, "T1: an unknown version (260) is keyed like 259");
	free(sk1); free(sk2); free(s_w); free(okm_w); free(pk259);
}

/* §10.2: three hops, addresses 01..03 x32, destination 03x32, id 04x16,
 * delays 1,2,3 ms, "hello sphinx", P = 64, final padding 128 zero bytes. */
static const char *T4_SK[3] = {
	"ca25be395a24942825cbcfe50550084de35f43142f53dc22a4cf05d461978ea8",
	"821f00538b10e1ef84827a12d9bb5b57fa8998dcfe99f6f9fc2b99bf98309aaa",
	"74cc6cba4be9e8164f4241b0c4f6fd1e85996de585b1282aaf485046a107bb9b" };
static const char *T4_PK[3] = {
	"695bd292f59b1ba9c07b4b7913cc3bbbbe968376974db490fd5806d43f053307",
	"b22f62b367c710f52355093f8ad453e9a91fcd1449ee8dcc1323e28a2c43e12e",
	"155d0450b2b107dac0d53a9deff28b2d4b1ae136ae159f193e57bb2e5cf68851" };

struct kat_v {
	uint16_t version;
	const char *x, *alpha1, *sha[3], *header_head, *payload;
};

static void
kat_v(const struct kat_v *k)
{
	struct nym_sphinx_route r;
	uint8_t rbuf[32 + 128] = { 0 }, pkt[412], sk[3][32], h[32];
	struct nym_rng_fixed st;
	struct nym_sphinx_processed out;
	uint8_t *x = t_hex(k->x, NULL);

	memset(&r, 0, sizeof r);
	r.version = k->version;
	r.nhops = 3;
	for (int i = 0; i < 3; i++) {
		uint8_t *s = t_hex(T4_SK[i], NULL), *p = t_hex(T4_PK[i], NULL), pk[32];
		memcpy(sk[i], s, 32);
		nym_x25519_base(pk, s);
		CHECK_MEM(pk, p, 32, "T4 key pair %d", i);
		memcpy(r.hop[i].pubkey, p, 32);
		memset(r.hop[i].address, i + 1, 32);
		r.delay_ns[i] = 1000000u * (uint64_t)(i + 1);
		free(s); free(p);
	}
	memset(r.destination, 3, 32);
	memset(r.identifier, 4, 16);
	memcpy(rbuf, x, 32);
	struct nym_rng rng = nym_rng_fixed(&st, rbuf, sizeof rbuf);
	CHECK(nym_sphinx_create(&ctx, pkt, sizeof pkt, &r, (const uint8_t *)"hello sphinx", 12, &rng) == 0,
	      "V%u: create", k->version);
	uint8_t *hh = t_hex(k->header_head, NULL), *pl = t_hex(k->payload, NULL), *w;
	CHECK_MEM(pkt, hh, 64, "V%u: header alpha and gamma", k->version);
	CHECK_MEM(pkt + 348, pl, 64, "V%u: payload", k->version);
	for (int i = 0; i < 3; i++) {
		nym_sha256(h, pkt, sizeof pkt);
		w = t_hex(k->sha[i], NULL);
		CHECK_MEM(h, w, 32, "V%u: sha256 of the packet before hop %d", k->version, i);
		free(w);
		if (i == 1) {
			w = t_hex(k->alpha1, NULL);
			CHECK_MEM(pkt, w, 32, "V%u: hop 1 alpha", k->version);
			free(w);
		}
		int rc = nym_sphinx_process(&ctx, pkt, sizeof pkt, sk[i], &out);
		CHECK(rc == 0 && out.version == k->version && out.final == (i == 2),
		      "V%u: hop %d processes", k->version, i);
		if (i < 2) {
			uint8_t a[32];
			memset(a, i + 2, 32);
			CHECK(memcmp(out.next_hop, a, 32) == 0 && out.delay_ns == 1000000u * (uint64_t)(i + 1),
			      "V%u: hop %d next address and delay", k->version, i);
		}
	}
	size_t ml;
	CHECK(nym_sphinx_unpad(pkt + 348, 64, &ml) == 0 && ml == 12 &&
	      memcmp(pkt + 364, "hello sphinx", 12) == 0, "V%u: message recovered", k->version);
	CHECK(out.destination[0] == 3 && out.identifier[15] == 4, "V%u: destination, identifier", k->version);
	free(x); free(hh); free(pl);
}

static void
kats(void)
{
	static const struct kat_v v[] = {
		{ 258, "686a3a1c357fd8d808544aabdc479119cd18fd17787cff720ef6b377650e0a59",
		  "9d193218f2c1ffa257088315b28f7a394647fe3df4b35e4c726e06bc6bab1321",
		  { "3c9bf909ba07967c2922ac66fc3158b0b482cf83f2798b8e979e455ae169936f",
		    "c7219b9549f53435e0ddd28edefe7bda816d2fdf6089a00d8ef1dd1668f49430",
		    "2f33450034a790c5b8be79c7c10acb47a7ecc87a5247cb3b11557c76282159df" },
		  "768a7c629e33e5f148969dca4103334e680bff81b525006de75041abab9f660e"
		  "fb12e6457783cd33e2e69ee2fba43ab5d18385a3e081d1f31fcb848c1de5171e",
		  "6d7b62cb0d6e3e04285042f251b6237ebc89025d2fa5fbb5608cb20cd2510ed8"
		  "f87879f13a03dff0aefef9167bc9b07ffd67b5590f7bcc2cd1c390849d08672a" },
		{ 259, "686a3a1c357fd8d808544aabdc479119cd18fd17787cff720ef6b377650e0a59",
		  "9d193218f2c1ffa257088315b28f7a394647fe3df4b35e4c726e06bc6bab1321",
		  { "413b26e420dd40b2b22fac9270d96c1ce68d0620d98bfba9a02e850726af01fd",
		    "472522ec50bc457ffa982033eb7cd5140dfaf648243f9295031b3eef52e77429",
		    "c0356a6988f707e2cf4a45898e7e21994a4a7991b52999f0875c833cd1a9c15a" },
		  "768a7c629e33e5f148969dca4103334e680bff81b525006de75041abab9f660e"
		  "99b9733caeb7cbd5ec0bcc1ba11b06afd18385a2e081d1f31fcb848c1de5171e",
		  "57b5015b9c34ce487bc9439a80b755789f16d9def3cd2e0af9774e9d24db87b5"
		  "ec3b38a953d7c90d095599163f9f900da3df535c94e2f56a621c502f55f3e07b" },
		{ 257, "0101010101010101010101010101010101010101010101010101010101010101",
		  "57a871b318552a6fb38a70fc49d47e7f1e5a617c3d90a087b68838ce99ba5b56",
		  { "dcf02bd1edbdaa447db413e78994e8482e5d38907d8c49d5345075db62fe1c5d",
		    "a4f67e3086e32a2b41fb3054e7a242d4534484dc50ced9bcca6baf1bfa0de8b3",
		    "3c8e51d58e0189b80f14a69fae53e3ea7f2a41b151ce8b85ce44b400a594666d" },
		  "9dd1240fb713719c3f0cfcd4405b4fe6050ae3375bc44e1a9088b6861b9cae4b"
		  "8caa4f93800d15f5dbc3c488ef6ef1a78bc376e563e1005962dfac2b2bb7b879",
		  "5e3bcb903ba44a56ce59368b8cf4327ffb66906ed138a5559ab7fee7b4665ab5"
		  "77b978e33e7435d729f866ec7be976ee5e662b7805e65e11d822c781ee61093d" },
	};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		kat_v(&v[i]);
}

/* ---- round trips: every version x 1..5 hops x every Nym size ------------ */

static void
round_trips(void)
{
	static const uint16_t versions[] = { 1, 257, 258, 259 };
	static const size_t sizes[] = { 2413, 386, 8557, 16749, 33133 };
	static uint8_t pkt[33133], msg[33133];
	struct nym_rng sys = nym_rng_system();
	uint8_t sk[5][32];
	int total = 0, good = 0;

	for (size_t vi = 0; vi < 4; vi++)
		for (size_t n = 1; n <= 5; n++)
			for (size_t si = 0; si < 5; si++) {
				struct nym_sphinx_route r;
				struct nym_sphinx_processed out;
				size_t len = sizes[si], mlen = len - 365 - (n * 3 % 7), ml;
				int ok = 1;
				memset(&r, 0, sizeof r);
				r.version = versions[vi];
				r.nhops = n;
				for (size_t i = 0; i < n; i++) {
					randombytes_buf(sk[i], 32);
					nym_x25519_base(r.hop[i].pubkey, sk[i]);
					memset(r.hop[i].address, 0x10 + (int)i, 32);
					r.delay_ns[i] = 1000 * i + 7;
				}
				randombytes_buf(r.destination, 32);
				randombytes_buf(msg, mlen);
				ok &= nym_sphinx_create(&ctx, pkt, len, &r, msg, mlen, &sys) == 0;
				for (size_t i = 0; ok && i < n; i++) {
					ok &= nym_sphinx_process(&ctx, pkt, len, sk[i], &out) == 0;
					ok &= out.version == r.version && out.final == (i == n - 1);
					if (ok && !out.final)
						ok &= memcmp(out.next_hop, r.hop[i + 1].address, 32) == 0 &&
						      out.delay_ns == r.delay_ns[i];
				}
				ok = ok && memcmp(out.destination, r.destination, 32) == 0 &&
				     nym_sphinx_unpad(pkt + 348, len - 348, &ml) == 0 && ml == mlen &&
				     memcmp(pkt + 364, msg, mlen) == 0;
				total++;
				good += ok;
				if (!ok)
					printf("#   round trip failed: v%u, %zu hops, %zu bytes\n", r.version, n, len);
			}
	CHECK(good == total, "round trips: 4 versions x 1..5 hops x 5 sizes (%d of %d)", good, total);
}

/* ---- bad input ------------------------------------------------------------ */

static void
bad_input(void)
{
	struct nym_sphinx_route r;
	struct nym_sphinx_processed out;
	struct nym_rng sys = nym_rng_system();
	uint8_t sk[4][32], wrong[32], pkt[2413], copy[2413], big[2413];
	size_t plen = 2413;

	memset(&r, 0, sizeof r);
	r.version = 259;
	r.nhops = 4;
	for (int i = 0; i < 4; i++) {
		randombytes_buf(sk[i], 32);
		nym_x25519_base(r.hop[i].pubkey, sk[i]);
	}
	randombytes_buf(wrong, 32);
	CHECK(nym_sphinx_create(&ctx, pkt, plen, &r, (const uint8_t *)"x", 1, &sys) == 0, "bad input: base packet");
	memcpy(copy, pkt, plen);

	CHECK(nym_sphinx_process(&ctx, pkt, 380, sk[0], &out) == NYM_ESHORT, "packet of 380 bytes: too short");
	CHECK(nym_sphinx_process(&ctx, pkt, 100, sk[0], &out) == NYM_ESHORT, "packet of 100 bytes: too short");
	CHECK(nym_sphinx_process(&ctx, pkt, 0, sk[0], &out) == NYM_ESHORT, "empty packet");
	CHECK(nym_sphinx_process(&ctx, pkt, plen, wrong, &out) == NYM_EMAC, "wrong key: MAC fails");
	CHECK(memcmp(pkt, copy, plen) == 0, "a failed packet is left untouched");
	/* A flipped bit in alpha, gamma, beta: MAC fails. Payload: the header
	 * still routes, the final unpadding fails. */
	int macfail = 0, tries = 0;
	for (size_t bit = 0; bit < 348 * 8; bit += 13, tries++) {
		memcpy(pkt, copy, plen);
		pkt[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		macfail += nym_sphinx_process(&ctx, pkt, plen, sk[0], &out) == NYM_EMAC;
	}
	CHECK(macfail == tries, "flipped header bits (alpha, MAC, routing info): MAC fails (%d of %d)", macfail, tries);
	memcpy(pkt, copy, plen);
	pkt[1000] ^= 0x40;
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++)
		rc = nym_sphinx_process(&ctx, pkt, plen, sk[i], &out);
	size_t ml;
	CHECK(rc == 0 && out.final && nym_sphinx_unpad(pkt + 348, plen - 348, &ml) == NYM_EFORMAT,
	      "flipped payload bit: routes, then the padding check fails");
	/* Oversized: extra bytes change the payload size, so Lioness gives garbage. */
	memcpy(big, copy, plen);
	CHECK(nym_sphinx_process(&ctx, big, plen - 1, sk[0], &out) == 0, "a truncated payload still peels (no length field)");

	/* Unknown routing flag: a crafted 1-hop packet with flag 3. */
	{
		struct nym_sphinx_secret s;
		uint8_t p[400] = { 0 }, d[300] = { 0 }, z[16] = { 0 }, esk[32];
		randombytes_buf(esk, 32);
		nym_x25519_base(p, esk);
		nym_sphinx_derive(&s, p, sizeof p, sk[0]);
		d[0] = 3;
		nym_aes128_ctr(p + 48, d, 300, s.okm, z);
		uint8_t m[32];
		nym_hmac_sha256(m, s.okm + 16, 16, p + 48, 300);
		memcpy(p + 32, m, 16);
		CHECK(nym_sphinx_process(&ctx, p, sizeof p, sk[0], &out) == NYM_EFLAG, "routing flag 3: unknown flag");
		nym_wipe(&s, sizeof s);
	}
	/* Creation limits. */
	r.nhops = 6;
	CHECK(nym_sphinx_create(&ctx, pkt, plen, &r, (const uint8_t *)"x", 1, &sys) == NYM_EROUTE, "route of 6 hops refused");
	r.nhops = 0;
	CHECK(nym_sphinx_create(&ctx, pkt, plen, &r, (const uint8_t *)"x", 1, &sys) == NYM_EROUTE, "empty route refused");
	r.nhops = 4;
	static uint8_t m[2100];
	CHECK(nym_sphinx_create(&ctx, pkt, plen, &r, m, 2049, &sys) == NYM_ETOOBIG, "2049 bytes in a regular packet: too big");
	CHECK(nym_sphinx_create(&ctx, pkt, plen, &r, m, 2048, &sys) == 0, "2048 bytes fit a regular packet");
	CHECK(nym_sphinx_create(&ctx, pkt, 386, &r, m, 22, &sys) == NYM_ETOOBIG, "22 bytes in an ack packet: too big");
	CHECK(nym_sphinx_create(&ctx, pkt, 380, &r, m, 1, &sys) == NYM_ESIZE, "payload under 33 bytes refused");
	/* Unpadding rules. */
	uint8_t pay[40] = { 0 };
	pay[20] = 1; pay[30] = 1; pay[35] = 7;
	CHECK(nym_sphinx_unpad(pay, 40, &ml) == 0 && ml == 14, "unpad: the LAST 01 ends the message, tail unchecked");
	pay[3] = 1;
	CHECK(nym_sphinx_unpad(pay, 40, &ml) == NYM_EFORMAT, "unpad: leading bytes must be zero");
	memset(pay, 0, 40);
	CHECK(nym_sphinx_unpad(pay, 40, &ml) == NYM_EFORMAT, "unpad: no 01 marker");
}

int
main(void)
{
	nym_crypto_init();
	if (nym_sphinx_ctx_init(&ctx) != 0) { printf("Bail out! ctx\n"); return 1; }
	kat_t1();
	kats();
	vectors();
	printf("# %d packet records, %d hops checked\n", npackets, nhops_checked);
	model_legacy();
	round_trips();
	bad_input();
	nym_sphinx_ctx_free(&ctx);
	return t_done();
}
