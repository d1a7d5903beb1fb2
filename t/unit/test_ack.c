/* test_ack.c — SURB-acks: every official ack body opens to its fragment id,
 * bodies reproduce from their iv, our own blocks survive the 4 vector nodes
 * and come back as the right id, gateway split, timeouts. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "msgvec.h"
#include "proto/ack.h"
#include "proto/chunking.h"
#include "proto/delay.h"
#include "proto/sphinx.h"
#include "test.h"

static int n_open, n_repro, n_split, n_bad;

static void
check_ack(json_t *root, json_t *client, json_t *rec)
{
	json_t *sa = v_get(rec, "nym/surb_ack");
	const char *who = v_str(sa, "ack_key_of");
	json_t *c = !strcmp(who, "recipient R")
	                ? (v_get(root, "clients/recipient") ? v_get(root, "clients/recipient") : v_get(root, "recipient"))
	                : (client ? client : v_get(root, "clients/sender"));
	uint8_t key[16], body[21], iv[16], fid[5], want[5], mine[21];
	struct nym_rng_fixed st;
	struct nym_rng rng;

	v_fix(c, "ack_key", key, 16);
	v_fix(sa, "ack_body", body, 21);
	v_fix(sa, "ack_iv", iv, 16);
	v_fix(sa, "fragment_identifier", want, 5);
	int ok = nym_ack_open(NULL, fid, body, 21, key) == 0 && !memcmp(fid, want, 5);
	n_open += ok;
	n_bad += !ok;
	rng = nym_rng_fixed(&st, iv, 16);
	ok = nym_ack_body(NULL, mine, key, want, &rng) == 0 && !memcmp(mine, body, 21);
	n_repro += ok;
	n_bad += !ok;

	/* the gateway's split of the final plaintext */
	json_t *hops = v_get(rec, "sphinx/hops");
	json_t *last = json_array_get(hops, json_array_size(hops) - 1);
	if (last && v_get(last, "final_payload")) {
		size_t fl, al, fh;
		uint8_t *fp = v_hex(last, "final_payload", &fl), *ap = v_hex(sa, "packet", &al);
		uint8_t *first = v_hex(sa, "first_hop_bytes", &fh), h[32], wh[32];
		struct nym_mix_packet mp;
		const uint8_t *push;
		size_t pl;
		v_fix(rec, "nym/gateway_push_sha256", wh, 32);
		ok = nym_ack_block_split(&mp, &push, &pl, fp + 16, (size_t)v_int(rec, "sphinx/plaintext_len")) == 0 &&
		     mp.next_hop_len == 7 && !memcmp(mp.next_hop, first, 7) && mp.packet_len == 386 &&
		     !memcmp(mp.packet, ap, 386) && pl == (size_t)v_int(rec, "nym/gateway_push_len");
		if (ok) {
			nym_sha256(h, push, pl);
			ok = !memcmp(h, wh, 32);
		}
		n_split += ok;
		n_bad += !ok;
		free(fp);
		free(ap);
		free(first);
	}
}

static void
walk(json_t *root, json_t *client, json_t *j)
{
	if (json_is_object(j)) {
		const char *key;
		json_t *v;
		if (json_is_object(json_object_get(j, "client")))
			client = json_object_get(j, "client");
		if (v_get(j, "nym/surb_ack/ack_body")) {
			check_ack(root, client, j);
			return;
		}
		json_object_foreach(j, key, v)
			if (strcmp(key, "network") && strcmp(key, "clients"))
				walk(root, client, v);
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			walk(root, client, v);
	}
}

static void
official(void)
{
	static const char *files[] = {
		"case-a1-plain-1byte.json", "case-a2-plain-100byte.json",
		"case-b-plain-5000byte-multifragment.json", "case-c-anonymous-3surbs.json",
		"case-d1-loop-cover-default.json", "case-d2-loop-cover-legacy-off.json",
		"case-e-send-to-self.json", "case-f-official-reply-through-model-surbs.json",
		"case-g-extended32-3000byte.json", "case-h-linked-sets-409100byte.json",
		"case-i-key-rotation-odd-even.json",
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		json_t *j = v_load(files[i]);
		walk(j, NULL, j);
		json_decref(j);
	}
	CHECK(n_bad == 0 && n_open >= 20, "%d official ack bodies open to their fragment ids (loop cover: 00..00)", n_open);
	CHECK(n_bad == 0 && n_repro == n_open, "%d ack bodies reproduced byte for byte from their iv", n_repro);
	CHECK(n_bad == 0 && n_split >= 15, "%d final plaintexts split into ack MixPacket + the recorded push", n_split);

	/* case e: the ack the client got back in the closed loop */
	json_t *j = v_load("case-e-send-to-self.json");
	uint8_t key[16], body[21], fid[5], want[5];
	v_fix(j, "clients/sender/ack_key", key, 16);
	v_fix(j, "closed_loop/ack_push", body, 21);
	v_fix(j, "packets/0/nym/fragment/identifier", want, 5);
	CHECK(nym_ack_open(NULL, fid, body, 21, key) == 0 && !memcmp(fid, want, 5),
	      "case e: the pushed ack names the fragment it acknowledges");
	CHECK(nym_ack_open(NULL, fid, body, 20, key) == NYM_ESIZE, "a 20-byte ack is refused");
	json_decref(j);
}

/* Build our own block over the vector network and run it through the nodes. */
static void
own_block(void)
{
	json_t *j = v_load("network.json"), *nodes = v_get(j, "nodes");
	struct nym_sphinx_node hops[4];
	uint8_t sks[4][32], ident[32], key[16], fid[5], block[405];
	struct nym_sphinx_route r;
	struct nym_rng rng = nym_rng_system();
	struct nym_sphinx_ctx ctx;

	if (!nodes)
		nodes = v_get(j, "network/nodes");
	for (int i = 0; i < 4; i++) {
		json_t *n = json_array_get(nodes, (size_t)i);
		v_fix(n, "routing_address_32", hops[i].address, 32);
		v_fix(n, "sphinx_public", hops[i].pubkey, 32);
		v_fix(n, "sphinx_secret", sks[i], 32);
	}
	memset(ident, 0x5a, 32);
	memset(key, 0x42, 16);
	nym_fragment_id_encode(fid, 0x12345678, 7);
	nym_sphinx_ctx_init(&ctx);
	for (uint16_t version = 258; version <= 259; version++) {
		CHECK(nym_sphinx_route_prepare(&r, version, hops, 4, ident, NYM_AVERAGE_ACK_DELAY_NS, &rng) == 0 &&
		      nym_ack_block(&ctx, block, &r, key, fid, &rng) == 0, "v%u: ack block built", version);
		CHECK(memcmp(block, hops[0].address, 7) == 0 && memcmp(block + 7, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0,
		      "v%u: first hop = L1 address padded to 19", version);
		uint8_t pkt[386];
		struct nym_sphinx_processed p = { 0 };
		int e = 0, h;
		memcpy(pkt, block + 19, 386);
		for (h = 0; h < 4 && e == 0; h++)
			e = nym_sphinx_process(&ctx, pkt, 386, sks[h], &p);
		size_t ml = 0;
		uint8_t back[5];
		int ok = e == 0 && p.final && !memcmp(p.destination, ident, 32) &&
		         nym_sphinx_unpad(pkt + p.payload_off, p.payload_len, &ml) == 0 && ml == 21 &&
		         nym_ack_open(&ctx.aes, back, pkt + p.payload_off + 16, 21, key) == 0 && !memcmp(back, fid, 5);
		CHECK(ok, "v%u: through 4 hops to our identity; the 21-byte body opens to 12345678 07", version);
		CHECK(nym_sphinx_route_delay_ns(&r) == r.delay_ns[0] + r.delay_ns[1] + r.delay_ns[2],
		      "v%u: expected ack delay leaves out the gateway", version);
	}
	nym_sphinx_ctx_free(&ctx);
	json_decref(j);

	struct nym_mix_packet mp;
	const uint8_t *push;
	size_t pl;
	uint8_t junk[500] = { 5 };
	CHECK(nym_ack_block_split(&mp, &push, &pl, junk, 500) == NYM_EADDR, "block with address type 5 refused");
	CHECK(nym_ack_block_split(&mp, &push, &pl, junk, 404) == NYM_ESHORT, "plaintext shorter than a block refused");
}

static void
misc(void)
{
	uint8_t z[5] = { 0 }, one[5] = { 0, 0, 0, 0, 1 };
	CHECK(nym_ack_is_cover(z) && !nym_ack_is_cover(one), "cover id 00 00 00 00 00 recognised");
	CHECK(nym_ack_timeout_ms(60000000, NYM_ACK_WAIT_MULTIPLIER, NYM_ACK_WAIT_ADDITION_MS) == 1590,
	      "timeout for 60 ms of delays: 60 x 1.5 + 1500 = 1590 ms");
	CHECK(nym_ack_timeout_ms(0, 1.5, 1500) == 1500, "zero delays: 1500 ms");

	/* delay sampling: mean over many samples near 15 ms; mean 0 draws nothing */
	struct nym_rng rng = nym_rng_system();
	double sum = 0;
	uint64_t d;
	for (int i = 0; i < 20000; i++) {
		nym_delay_sample(&d, 15000000, &rng);
		sum += (double)d;
	}
	sum /= 20000;
	CHECK(sum > 14.0e6 && sum < 16.0e6, "exponential delays average %.2f ms (mean 15)", sum / 1e6);
	struct nym_rng_fixed st;
	struct nym_rng none = nym_rng_fixed(&st, z, 0);
	CHECK(nym_delay_sample(&d, 0, &none) == 0 && d == 0, "mean 0: delay 0, no randomness drawn");
	uint8_t ones[8];
	memset(ones, 0xff, 8);
	none = nym_rng_fixed(&st, ones, 8);
	CHECK(nym_delay_sample(&d, 15000000, &none) == 0 && d == 0, "u = 1 gives delay 0");
}

int
main(void)
{
	nym_crypto_init();
	official();
	own_block();
	misc();
	return t_done();
}
