/* test_reply.c — reply SURBs against the official client: its SURBs (case c)
 * parse and re-serialize, the model's replies through them reproduce byte for
 * byte and are received by digest lookup; the official reply through a model
 * SURB (case f) reproduces and decrypts as its original sender; rotation
 * bytes of SURB batches (case i); the reply-key store. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "msgvec.h"
#include "proto/ack.h"
#include "proto/courier.h"
#include "proto/message.h"
#include "proto/payload.h"
#include "proto/reply.h"
#include "proto/surb.h"
#include "test.h"

static void
client_keys(json_t *c, struct nym_client_keys *k)
{
	memset(k, 0, sizeof *k);
	v_fix(c, "identity_public", k->identity_pk, 32);
	v_fix(c, "encryption_secret", k->encryption_sk, 32);
	v_fix(c, "encryption_public", k->encryption_pk, 32);
	v_fix(c, "ack_key", k->ack_key, 16);
}

/* The Sphinx plaintext (2048 bytes) a packet record's last hop recovered. */
static uint8_t *
final_plaintext(json_t *rec)
{
	json_t *hops = v_get(rec, "sphinx/hops");
	size_t fl;
	uint8_t *fp = v_hex(json_array_get(hops, json_array_size(hops) - 1), "final_payload", &fl);
	memmove(fp, fp + 16, 2048);
	return fp;
}

static void
case_c(void)
{
	json_t *j = v_load("case-c-anonymous-3surbs.json");
	size_t nl;
	uint8_t *nm = v_hex(j, "message/nym_message", &nl);
	struct nym_message m;
	struct nym_reply_surb rs[3];
	int ok = 1;

	CHECK(nym_message_parse(&m, nm, nl) == 0 && m.type == 1 && m.content_tag == 3 && m.nsurbs == 3 &&
	      m.surb_len == 460 && m.surb_hops == 4 && m.surb_rotation == 0, "case c: DataV2 with 3 SURBs of 460 bytes");
	for (int i = 0; i < 3; i++) {
		char path[64];
		size_t bl;
		uint8_t out[1200], rk[16];
		snprintf(path, sizeof path, "reply_surbs/%d/bytes", i);
		uint8_t *b = v_hex(j, path, &bl);
		snprintf(path, sizeof path, "reply_surbs/%d/reply_key", i);
		v_fix(j, path, rk, 16);
		ok &= bl == 460 && !memcmp(m.surbs + 460 * i, b, 460) &&
		      nym_reply_surb_parse(&rs[i], m.surbs + 460 * i, 460) == 0 && rs[i].surb.seeds &&
		      rs[i].surb.nhops == 4 && !memcmp(rs[i].reply_key, rk, 16) &&
		      nym_reply_surb_serialize(out, sizeof out, &rs[i]) == 460 && !memcmp(out, b, 460);
		free(b);
	}
	CHECK(ok, "case c: the official client's 3 SURBs parse (seeds, 4 hops) and re-serialize byte for byte");

	/* the model's replies through them */
	struct nym_client_keys sender;
	client_keys(v_get(j, "clients/sender"), &sender);
	struct nym_reply_keys *store = nym_reply_keys_new(10, 0);
	for (int i = 0; i < 3; i++)
		nym_reply_keys_add(store, rs[i].reply_key, 0);
	struct nym_courier_receiver *rx = nym_courier_receiver_new(&sender, store, NULL);
	json_t *reps = v_get(j, "model_replies_through_surbs");
	int repro = 0, recv = 0;
	for (size_t i = 0; i < json_array_size(reps); i++) {
		json_t *rp = json_array_get(reps, i);
		int si = (int)v_int(rp, "surb_index");
		size_t fl, pl, gl, dl;
		uint8_t *frag = v_hex(rp, "fragment", &fl), *pkt = v_hex(rp, "packet/packet", &pl);
		uint8_t *pt = final_plaintext(v_get(rp, "packet")), body[32 + 1611], *mine = malloc(pl);
		uint8_t *push = v_hex(rp, "gateway_push", &gl), *data = v_hex(rp, "reply_data", &dl);
		nym_payload_reply_encrypt(NULL, body, frag, fl, rs[si].reply_key);
		if (!memcmp(pt + 405, body, sizeof body) &&
		    nym_surb_use(mine, pl, &rs[si].surb, pt, 2048) == 0 && !memcmp(mine, pkt, pl))
			repro++;
		struct nym_courier_received out;
		if (nym_courier_receive(rx, push, gl, 1000, &out) == NYM_RECV_MESSAGE && out.via_reply &&
		    out.msg.type == NYM_MESSAGE_REPLY && out.msg.data_len == dl && !memcmp(out.msg.data, data, dl))
			recv++;
		nym_courier_received_free(&out);
		/* the same push again: its key is spent, the digest is unknown now */
		CHECK(nym_courier_receive(rx, push, gl, 1000, &out) == NYM_EFORMAT,
		      "case c reply %zu replayed: digest no longer known, refused", i);
		free(frag);
		free(pkt);
		free(pt);
		free(mine);
		free(push);
		free(data);
	}
	CHECK(repro == 3, "case c: %d/3 model replies reproduced (reply payload + surb_use) byte for byte", repro);
	CHECK(recv == 3 && nym_reply_keys_count(store) == 0,
	      "case c: %d/3 replies received as the original sender, each reply key used once", recv);
	nym_courier_receiver_free(rx);
	nym_reply_keys_free(store);
	free(nm);
	json_decref(j);
}

static void
case_f(void)
{
	json_t *j = v_load("case-f-official-reply-through-model-surbs.json");
	size_t nl;
	uint8_t *nm = v_hex(j, "model_repliable/nym_message", &nl);
	struct nym_message m;
	struct nym_client_keys official, R;

	client_keys(v_get(j, "clients/sender"), &official);
	client_keys(v_get(j, "clients/recipient"), &R);
	CHECK(nym_message_parse(&m, nm, nl) == 0 && m.nsurbs == 12 && m.surb_len == 460,
	      "case f: the model's DataV2 with 12 SURBs parses");

	/* the official client side: the 4 model fragments, out of order */
	struct nym_courier_receiver *rx = nym_courier_receiver_new(&official, NULL, NULL);
	static const int order[] = { 2, 0, 3, 0, 1 };
	int msgs = 0;
	for (size_t k = 0; k < 5; k++) {
		char path[64];
		size_t gl;
		snprintf(path, sizeof path, "model_repliable/gateway_pushes/%d", order[k]);
		uint8_t *push = v_hex(j, path, &gl);
		struct nym_courier_received out;
		int e = nym_courier_receive(rx, push, gl, 5, &out);
		if (e == NYM_RECV_MESSAGE) {
			size_t tl;
			uint8_t *text = v_hex(j, "model_repliable/text", &tl);
			CHECK(out.len == nl && !memcmp(out.data, nm, nl) && out.msg.nsurbs == 12 &&
			      out.msg.data_len == tl && !memcmp(out.msg.data, text, tl) && !memcmp(out.msg.sender_tag,
			      nm + 1, 16), "case f: the 4-fragment repliable message reassembles (12 SURBs, text, tag)");
			free(text);
			msgs++;
		}
		nym_courier_received_free(&out);
		free(push);
	}
	CHECK(msgs == 1, "case f: delivered once despite the duplicate");
	nym_courier_receiver_free(rx);

	/* the official reply through model SURB 0 */
	struct nym_reply_surb rs;
	int si = (int)v_int(j, "surb_used_per_packet/0");
	json_t *rec = v_get(j, "packets/0");
	size_t pl, dl;
	uint8_t *pkt = v_hex(rec, "packet", &pl), *pt = final_plaintext(rec), *mine = malloc(pl);
	uint8_t *dec = v_hex(rec, "nym/decrypted", &dl), body[32 + 1611];
	CHECK(nym_reply_surb_parse(&rs, m.surbs + 460 * si, 460) == 0, "case f: model SURB %d parses", si);
	nym_payload_reply_encrypt(NULL, body, dec, dl, rs.reply_key);
	CHECK(!memcmp(pt + 405, body, sizeof body), "case f: official reply payload = BLAKE3(key) || AES-CTR(key, fragment)");
	CHECK(nym_surb_use(mine, pl, &rs.surb, pt, 2048) == 0 && !memcmp(mine, pkt, pl),
	      "case f: the official reply packet equals surb_use of that SURB byte for byte");
	struct nym_mix_packet mp;
	CHECK(nym_mix_packet_set_next_hop(&mp, rs.surb.first_hop, 32) == 0 && mp.next_hop_len == 7,
	      "case f: the MixPacket next hop is the SURB's first hop");

	/* R, the original sender, holds the 12 reply keys and decrypts the reply */
	struct nym_reply_keys *store = nym_reply_keys_new(0, 0);
	for (size_t i = 0; i < 12; i++) {
		struct nym_reply_surb t;
		if (nym_reply_surb_parse(&t, m.surbs + 460 * i, 460) == 0) /* else fewer keys: fails below */
			nym_reply_keys_add(store, t.reply_key, 0);
	}
	rx = nym_courier_receiver_new(&R, store, NULL);
	struct nym_courier_received out;
	size_t tl;
	uint8_t *text = v_hex(j, "reply_text", &tl);
	CHECK(nym_courier_receive(rx, pt + 405, 2048 - 405, 10, &out) == NYM_RECV_MESSAGE && out.via_reply &&
	      out.msg.type == NYM_MESSAGE_REPLY && out.msg.content_tag == 0 && out.msg.data_len == tl &&
	      !memcmp(out.msg.data, text, tl) && nym_reply_keys_count(store) == 11,
	      "case f: R decrypts the official reply with the right stored key (11 left)");
	nym_courier_received_free(&out);
	/* a reply key past its 24 h */
	uint8_t digest[32], k[16];
	struct nym_reply_surb t;
	int pe = nym_reply_surb_parse(&t, m.surbs + 460 * 5, 460);
	nym_reply_key_digest(digest, t.reply_key);
	CHECK(pe == 0 && nym_reply_keys_take(store, digest, k, NYM_REPLY_KEY_MAX_AGE_MS) == NYM_ENOTFOUND &&
	      nym_reply_keys_count(store) == 10, "a reply key older than 24 h is not used (and is dropped)");
	CHECK(nym_reply_keys_expire(store, NYM_REPLY_KEY_MAX_AGE_MS) == 10 && nym_reply_keys_count(store) == 0,
	      "expiry drops the remaining 10");
	nym_courier_receiver_free(rx);
	nym_reply_keys_free(store);
	free(text);
	free(pkt);
	free(pt);
	free(mine);
	free(dec);
	free(nm);
	json_decref(j);
}

static void
case_i(void)
{
	json_t *j = v_load("case-i-key-rotation-odd-even.json");
	for (int r = 0; r < 2; r++) {
		char path[64];
		size_t nl;
		struct nym_message m;
		snprintf(path, sizeof path, "runs/%d/message/nym_message", r);
		uint8_t *nm = v_hex(j, path, &nl);
		snprintf(path, sizeof path, "runs/%d/surb_batch_key_rotation_byte", r);
		long long want = v_int(j, path);
		struct nym_reply_surb rs;
		CHECK(nym_message_parse(&m, nm, nl) == 0 && m.nsurbs == 1 && m.surb_rotation == want &&
		      nym_reply_surb_parse(&rs, m.surbs, m.surb_len) == 0,
		      "case i run %d: SURB batch rotation byte %lld", r, want);
		free(nm);
	}
	json_decref(j);
}

static void
store_limits(void)
{
	struct nym_reply_keys *s = nym_reply_keys_new(3, 1000);
	uint8_t k[16] = { 0 }, d[32], out[16];
	for (int i = 0; i < 3; i++) {
		k[0] = (uint8_t)i;
		nym_reply_keys_add(s, k, 0);
	}
	k[0] = 9;
	CHECK(nym_reply_keys_add(s, k, 10) == NYM_EFULL, "store of 3 keys refuses a 4th");
	CHECK(nym_reply_keys_add(s, k, 1000) == 0 && nym_reply_keys_count(s) == 1, "after max age the old keys make room");
	nym_reply_key_digest(d, k);
	CHECK(nym_reply_keys_take(s, d, out, 1001) == 0 && !memcmp(out, k, 16), "key found by its digest");
	CHECK(nym_reply_keys_take(s, d, out, 1001) == NYM_ENOTFOUND, "and only once");
	nym_reply_keys_free(s);
	/* many keys: growth and deletion keep every key findable */
	s = nym_reply_keys_new(5000, 0);
	int found = 0;
	for (int i = 0; i < 3000; i++) {
		memcpy(k, &i, sizeof i);
		nym_reply_keys_add(s, k, 0);
	}
	for (int i = 0; i < 3000; i += 2) {
		memcpy(k, &i, sizeof i);
		nym_reply_key_digest(d, k);
		found += nym_reply_keys_take(s, d, out, 1) == 0;
	}
	for (int i = 1; i < 3000; i += 2) {
		memcpy(k, &i, sizeof i);
		nym_reply_key_digest(d, k);
		found += nym_reply_keys_take(s, d, out, 1) == 0 && !memcmp(out, k, 16);
	}
	CHECK(found == 3000 && nym_reply_keys_count(s) == 0, "3000 keys stored and taken back (%d)", found);
	nym_reply_keys_free(s);

	struct nym_reply_surb rs;
	uint8_t junk[460];
	memset(junk, 0, sizeof junk);
	CHECK(nym_reply_surb_parse(&rs, junk, 460) == NYM_EADDR, "SURB whose first hop is no address refused");
	CHECK(nym_reply_surb_parse(&rs, junk, 100) == NYM_ESHORT, "short SURB refused");
}

int
main(void)
{
	nym_crypto_init();
	case_c();
	case_f();
	case_i();
	store_limits();
	return t_done();
}
