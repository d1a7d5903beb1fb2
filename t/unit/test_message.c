/* test_message.c — the NymMessage envelope against the official messages,
 * and the one-call sender/receiver (lib/proto/courier.h) end to end over the vector
 * network: every packet we make is processed by the 4 vector nodes, its push
 * is received (shuffled, duplicated), its ack comes back to us. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "msgvec.h"
#include "io/seen.h"
#include "proto/ack.h"
#include "proto/courier.h"
#include "proto/message.h"
#include "test.h"

/* --- the envelope --------------------------------------------------------- */

static void
envelope(void)
{
	struct nym_message m, m2;
	uint8_t buf[4096];
	size_t nl;
	uint8_t *nm;
	json_t *j;

	j = v_load("case-b-plain-5000byte-multifragment.json");
	nm = v_hex(j, "message/nym_message", &nl);
	CHECK(nym_message_parse(&m, nm, nl) == 0 && m.type == 0 && m.data_len == 5000 && m.data == nm + 1,
	      "case b: Plain message of 5000 bytes");
	CHECK(nym_message_encode(buf, sizeof buf, &m) == NYM_ESIZE, "encode into a short buffer: NYM_ESIZE");
	free(nm);
	json_decref(j);

	j = v_load("case-c-anonymous-3surbs.json");
	nm = v_hex(j, "message/nym_message", &nl);
	CHECK(nym_message_parse(&m, nm, nl) == 0 && m.type == 1 && m.content_tag == 3 && m.nsurbs == 3 &&
	      m.data_len == (size_t)v_int(j, "sent/len"), "case c: Repliable DataV2, 3 SURBs, 34 bytes of data");
	CHECK(nym_message_encoded_len(&m) == nl && nym_message_encode(buf, sizeof buf, &m) == (int)nl &&
	      !memcmp(buf, nm, nl), "case c: re-encodes byte for byte");
	m2 = m;
	m2.content_tag = NYM_REPLIABLE_SURBS_V2;
	int n = nym_message_encode(buf, sizeof buf, &m2);
	struct nym_message m3;
	CHECK(n == (int)(nl - m.data_len) && nym_message_parse(&m3, buf, (size_t)n) == 0 && m3.nsurbs == 3 &&
	      m3.data == NULL, "AdditionalSurbsV2 with the same SURBs round-trips (no data)");
	free(nm);
	json_decref(j);

	j = v_load("case-f-official-reply-through-model-surbs.json");
	nm = v_hex(j, "messages/0/nym_message", &nl);
	CHECK(nym_message_parse(&m, nm, nl) == 0 && m.type == 2 && m.content_tag == 0 && m.data_len == 48,
	      "case f: Reply Data (02 00 || 48 bytes)");
	free(nm);
	json_decref(j);

	/* SurbRequest: recipient (96) || amount */
	memset(&m, 0, sizeof m);
	m.type = NYM_MESSAGE_REPLY;
	m.content_tag = NYM_REPLY_SURB_REQUEST;
	memset(m.recipient, 0xab, 96);
	m.amount = 42;
	n = nym_message_encode(buf, sizeof buf, &m);
	CHECK(n == 102 && buf[0] == 2 && buf[1] == 1 && buf[101] == 42 && nym_message_parse(&m2, buf, 102) == 0 &&
	      m2.amount == 42 && !memcmp(m2.recipient, m.recipient, 96), "SurbRequest: 02 01 || 96 || u32 BE amount");
	CHECK(nym_message_parse(&m2, buf, 101) == NYM_ESHORT && nym_message_parse(&m2, buf, 103) == NYM_EFORMAT,
	      "SurbRequest of the wrong length refused");

	/* DataV1 with no SURBs; empty v2 batch writes hops 0, rotation 0 */
	memset(&m, 0, sizeof m);
	m.type = NYM_MESSAGE_REPLIABLE;
	m.content_tag = NYM_REPLIABLE_DATA_V1;
	m.data = (const uint8_t *)"hi";
	m.data_len = 2;
	n = nym_message_encode(buf, sizeof buf, &m);
	CHECK(n == 1 + 16 + 1 + 4 + 2 && nym_message_parse(&m2, buf, (size_t)n) == 0 && m2.data_len == 2 &&
	      m2.nsurbs == 0, "DataV1 with 0 SURBs round-trips");
	m.content_tag = NYM_REPLIABLE_DATA_V2;
	m.surb_hops = 4;
	m.surb_rotation = 2;
	n = nym_message_encode(buf, sizeof buf, &m);
	CHECK(n == 24 && !memcmp(buf + 18, "\0\0\0\0", 4), "DataV2 with 0 SURBs: count 0, hops 0, rotation 0");

	static const struct { const char *hex; int err; } bad[] = {
		{ "", NYM_ESHORT }, { "03", NYM_EFLAG }, { "ff00", NYM_EFLAG },
		{ "0100", NYM_ESHORT },                                     /* truncated tag */
		{ "01000102030405060708090a0b0c0d0e0f06", NYM_EFLAG },      /* content tag 6 */
		{ "01000102030405060708090a0b0c0d0e0f0300010400", NYM_ESHORT }, /* 1 SURB announced, none */
		{ "01000102030405060708090a0b0c0d0e0f00000000ff", NYM_ESHORT },     /* v1 count 255 */
		{ "0200", NYM_ESHORT }, { "0202aa", NYM_EFLAG }, { "02", NYM_ESHORT },
	};
	int okc = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t l;
		uint8_t *b = t_hex(bad[i].hex, &l);
		int e = nym_message_parse(&m, b, l);
		okc += e == bad[i].err;
		if (e != bad[i].err)
			printf("# %s: %d\n", bad[i].hex, e);
		free(b);
	}
	CHECK(okc == (int)(sizeof bad / sizeof *bad), "%d malformed messages refused with the right code", okc);

	CHECK(nym_message_unpad((const uint8_t *)"\x00\x42\x01\x00\x00", 5) == 2, "unpad 00 42 01 00 00 -> 2");
	CHECK(nym_message_unpad((const uint8_t *)"\x00\x00", 2) == NYM_EFORMAT, "no 01 marker: NYM_EFORMAT");
	CHECK(nym_message_packets(1603, 1611) == 1 && nym_message_packets(1604, 1611) == 2 &&
	      nym_message_packets(409019, 1611) == 255 && nym_message_packets(409020, 1611) == 256,
	      "packets per NymMessage length (+1 marker; boundaries 1604, 409020)");
}

/* --- end to end over the vector network ----------------------------------- */

static struct nym_sphinx_node net[4];
static uint8_t net_sk[4][32];
static uint8_t gw_identity[32];

/* Route source: L1, L2, L3 and the one gateway of the vector network. */
static int
pick(void *ctx, const uint8_t gateway[32], struct nym_sphinx_node hops[NYM_SPHINX_MAX_HOPS])
{
	(void)ctx;
	if (memcmp(gateway, gw_identity, 32))
		return NYM_EROUTE;
	memcpy(hops, net, sizeof net);
	return 4;
}

struct capture {
	size_t n, cap;
	uint8_t **push;     /* what the gateway pushes to the recipient */
	size_t *push_len;
	uint8_t **ack;      /* the 21-byte ack body that comes back */
	uint8_t (*fid)[5];
	uint16_t version;
	uint8_t dest[32];
	int bad;
	size_t max_delay_ms;
};

/* Process every emitted MixPacket as the network would. */
static int
emit(void *ctx, const struct nym_courier_packet *p)
{
	struct capture *c = ctx;
	struct nym_mix_packet mp, amp;
	struct nym_sphinx_ctx sx;
	struct nym_sphinx_processed pr;
	uint8_t pkt[2413], ackp[386];
	const uint8_t *pt, *push, *ab;
	size_t pl, push_len, al;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->push = realloc(c->push, c->cap * sizeof *c->push);
		c->push_len = realloc(c->push_len, c->cap * sizeof *c->push_len);
		c->ack = realloc(c->ack, c->cap * sizeof *c->ack);
		c->fid = realloc(c->fid, c->cap * sizeof *c->fid);
	}
	if (nym_mix_packet_decode(&mp, 2, p->mix_packet, p->mix_packet_len) < 0 || mp.packet_len != 2413 ||
	    memcmp(mp.next_hop, net[0].address, 7) || (p->timeout_ms < 1500 && !nym_ack_is_cover(p->frag_id))) {
		c->bad++;
		return 0;
	}
	nym_sphinx_ctx_init(&sx);
	memcpy(pkt, mp.packet, 2413);
	pt = v_through(&sx, pkt, 2413, net_sk, &pr, &pl);
	if (!pt || pl != 2048 || pr.version != c->version || memcmp(pr.destination, c->dest, 32) ||
	    nym_ack_block_split(&amp, &push, &push_len, pt, pl) < 0) {
		c->bad++;
		nym_sphinx_ctx_free(&sx);
		return 0;
	}
	memcpy(ackp, amp.packet, 386);
	ab = v_through(&sx, ackp, 386, net_sk, &pr, &al);
	nym_sphinx_ctx_free(&sx);
	if (!ab || al != 21) {
		c->bad++;
		return 0;
	}
	c->push[c->n] = malloc(push_len);
	memcpy(c->push[c->n], push, push_len);
	c->push_len[c->n] = push_len;
	c->ack[c->n] = malloc(21);
	memcpy(c->ack[c->n], ab, 21);
	memcpy(c->fid[c->n], p->frag_id, 5);
	c->n++;
	return 0;
}

static void
capture_free(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->push[i]);
		free(c->ack[i]);
	}
	free(c->push);
	free(c->push_len);
	free(c->ack);
	free(c->fid);
	memset(c, 0, sizeof *c);
}

static struct nym_client_keys A, B;
static struct nym_address addrA, addrB;

static void
load_parties(void)
{
	json_t *j = v_load("case-c-anonymous-3surbs.json");
	json_t *n3 = v_get(j, "network/nodes/3");
	v_network(net, net_sk);
	v_fix(n3, "identity_public", gw_identity, 32);
	v_fix(j, "clients/recipient/identity_public", A.identity_pk, 32);
	v_fix(j, "clients/recipient/encryption_secret", A.encryption_sk, 32);
	v_fix(j, "clients/recipient/encryption_public", A.encryption_pk, 32);
	v_fix(j, "clients/recipient/ack_key", A.ack_key, 16);
	v_fix(j, "clients/sender/identity_public", B.identity_pk, 32);
	v_fix(j, "clients/sender/encryption_secret", B.encryption_sk, 32);
	v_fix(j, "clients/sender/encryption_public", B.encryption_pk, 32);
	v_fix(j, "clients/sender/ack_key", B.ack_key, 16);
	memcpy(addrA.identity, A.identity_pk, 32);
	memcpy(addrA.encryption, A.encryption_pk, 32);
	memcpy(addrA.gateway, gw_identity, 32);
	memcpy(addrB.identity, B.identity_pk, 32);
	memcpy(addrB.encryption, B.encryption_pk, 32);
	memcpy(addrB.gateway, gw_identity, 32);
	json_decref(j);
}

static uint64_t lcg = 12345;
static size_t
rnd(size_t n)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (size_t)(lcg >> 33) % n;
}

/* A sends len bytes to B; B receives the pushes shuffled with duplicates;
 * A receives the acks. */
static void
e2e(size_t len, size_t want_packets, const char *what)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_sender *tx = nym_courier_sender_new(&A, gw_identity, NULL);
	struct nym_courier_receiver *rxB = nym_courier_receiver_new(&B, NULL, NULL), *rxA = nym_courier_receiver_new(&A, NULL, NULL);
	struct capture c = { 0 };
	uint8_t *data = malloc(len + 1);
	size_t *order, got = 0, acks = 0;
	int e, good = 1;

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)rnd(256);
	c.version = 259;
	memcpy(c.dest, B.identity_pk, 32);
	e = nym_courier_send_plain(tx, &addrB, data, len, &rs, &rng, emit, &c);
	CHECK(e == (int)want_packets && c.n == want_packets && c.bad == 0,
	      "%s: %zu bytes -> %d packets, all processed by the 4 nodes to B (v259)", what, len, e);
	order = malloc(2 * c.n * sizeof *order);
	for (size_t i = 0; i < c.n; i++) {
		order[i] = i;
		order[c.n + i] = rnd(c.n);
	}
	for (size_t i = 2 * c.n; i-- > 1;) {
		size_t k = rnd(i + 1), t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
	for (size_t i = 0; i < 2 * c.n; i++) {
		struct nym_courier_received out;
		e = nym_courier_receive(rxB, c.push[order[i]], c.push_len[order[i]], 1000 + i, &out);
		if (e == NYM_RECV_MESSAGE) {
			got++;
			good &= out.msg.type == 0 && out.msg.data_len == len && (len == 0 || !memcmp(out.msg.data, data, len));
		} else if (e != NYM_RECV_STORED && e != NYM_EREPLAY)
			good = 0;
		nym_courier_received_free(&out);
	}
	CHECK(good && got == 1, "%s: B gets the message exactly once (shuffled, duplicated)", what);
	for (size_t i = 0; i < c.n; i++) {
		struct nym_courier_received out;
		if (nym_courier_receive(rxA, c.ack[i], 21, 0, &out) == NYM_RECV_ACK && !memcmp(out.frag_id, c.fid[i], 5))
			acks++;
	}
	CHECK(acks == c.n, "%s: every ack returns to A naming its fragment (%zu)", what, acks);
	free(order);
	free(data);
	capture_free(&c);
	nym_courier_sender_free(tx);
	nym_courier_receiver_free(rxA);
	nym_courier_receiver_free(rxB);
}

/* The gateway pushes a stored message twice (it crashed between handing it
 * over and deleting it): after a reconnect the same receiver drops the
 * copy; after a restart (a fresh receiver) the seen file does, as
 * io/mixclient's gw_pushed checks every completed message. */
static void
pushed_twice(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_sender *tx = nym_courier_sender_new(&A, gw_identity, NULL);
	struct nym_courier_receiver *rx = nym_courier_receiver_new(&B, NULL, NULL);
	struct capture c = { 0 };
	struct nym_seen *seen = NULL;
	char dir[] = "/tmp/nym-pushed-twice-XXXXXX", path[100];
	static uint8_t data[2000]; /* two packets */
	int e, msgs = 0, dropped = 0, replays = 0;

	memset(data, 's', sizeof data);
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/received.seen", dir);
	c.version = 259;
	memcpy(c.dest, B.identity_pk, 32);
	CHECK(nym_courier_send_plain(tx, &addrB, data, sizeof data, &rs, &rng, emit, &c) == 2 && c.n == 2,
	      "a two-packet message for B");
	CHECK(nym_seen_open(&seen, path, 1000000) == 0, "seen file opened");
	/* first delivery, then the same pushes again on the next connection */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < c.n; i++) {
			struct nym_courier_received out;
			e = nym_courier_receive(rx, c.push[i], c.push_len[i], 1000 + i, &out);
			if (e == NYM_RECV_MESSAGE) {
				if (nym_seen_check(seen, out.set_id, out.data, out.len, 1000000) == 1)
					dropped++;
				else
					msgs++;
			} else if (e == NYM_EREPLAY)
				replays++;
			nym_courier_received_free(&out);
		}
	CHECK(msgs == 1 && dropped == 0 && replays == 2,
	      "pushed again after a reconnect: delivered once, the copies refused (%d %d %d)", msgs, dropped,
	      replays);
	/* a restart: new receiver, the seen file reopened */
	nym_seen_free(seen);
	nym_courier_receiver_free(rx);
	rx = nym_courier_receiver_new(&B, NULL, NULL);
	CHECK(nym_seen_open(&seen, path, 1000100) == 0, "seen file reopened");
	for (size_t i = 0; i < c.n; i++) {
		struct nym_courier_received out;
		e = nym_courier_receive(rx, c.push[i], c.push_len[i], 5000 + i, &out);
		if (e == NYM_RECV_MESSAGE) {
			if (nym_seen_check(seen, out.set_id, out.data, out.len, 1000100) == 1)
				dropped++;
			else
				msgs++;
		}
		nym_courier_received_free(&out);
	}
	CHECK(msgs == 1 && dropped == 1, "pushed again after a restart: reassembled, then dropped as seen");
	nym_seen_free(seen);
	unlink(path);
	rmdir(dir);
	capture_free(&c);
	nym_courier_sender_free(tx);
	nym_courier_receiver_free(rx);
}

static void
anonymous_and_reply(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_config cfg;
	struct nym_reply_keys *keysA = nym_reply_keys_new(0, 0);
	struct nym_courier_sender *txA, *txB;
	struct nym_courier_receiver *rxA = nym_courier_receiver_new(&A, keysA, NULL), *rxB = nym_courier_receiver_new(&B, NULL, NULL);
	struct capture c = { 0 };
	uint8_t tag[16];
	struct nym_courier_received out;
	struct nym_reply_surb surbs[5];
	size_t ns = 0;

	nym_courier_config_default(&cfg);
	cfg.key_rotation = NYM_ROTATION_ODD;
	txA = nym_courier_sender_new(&A, gw_identity, &cfg);
	txB = nym_courier_sender_new(&B, gw_identity, NULL);
	memset(tag, 0x7e, 16);
	c.version = 259;
	memcpy(c.dest, B.identity_pk, 32);
	int e = nym_courier_send_anonymous(txA, &addrB, tag, (const uint8_t *)"anon", 4, 5, keysA, 0, &rs, &rng, emit, &c);
	CHECK(e == 2 && c.bad == 0 && nym_reply_keys_count(keysA) == 5,
	      "A sends anonymously with 5 SURBs: 2 packets (1 + 5 x 460 bytes), 5 reply keys kept");
	int msgs = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (nym_courier_receive(rxB, c.push[i], c.push_len[i], 0, &out) == NYM_RECV_MESSAGE) {
			msgs++;
			CHECK(out.msg.type == 1 && out.msg.content_tag == 3 && out.msg.nsurbs == 5 &&
			      out.msg.surb_len == 460 && out.msg.surb_hops == 4 && out.msg.surb_rotation == 1 &&
			      !memcmp(out.msg.sender_tag, tag, 16) && out.msg.data_len == 4 &&
			      !memcmp(out.msg.data, "anon", 4), "B: Repliable DataV2, tag, 5 SURBs of 4 hops, rotation Odd, data");
			for (ns = 0; ns < out.msg.nsurbs; ns++)
				if (nym_reply_surb_parse(&surbs[ns], out.msg.surbs + 460 * ns, 460) < 0)
					break;
			for (size_t k = 0; k < ns; k++)
				surbs[k].key_rotation = out.msg.surb_rotation;
		}
		nym_courier_received_free(&out);
	}
	CHECK(msgs == 1 && ns == 5, "B stores the 5 SURBs");
	capture_free(&c);

	/* B replies through them; the packets go back to A */
	uint8_t reply[3300];
	reply[0] = NYM_MESSAGE_REPLY;
	reply[1] = NYM_REPLY_DATA;
	for (size_t i = 2; i < sizeof reply; i++)
		reply[i] = (uint8_t)i;
	c.version = 259;
	memcpy(c.dest, A.identity_pk, 32);
	CHECK(nym_courier_send_reply(txB, surbs, 2, reply, sizeof reply, &rs, &rng, emit, &c) == NYM_EFULL,
	      "a 3-packet reply with 2 SURBs: NYM_EFULL");
	CHECK(nym_courier_send_reply(txB, NULL, 0, reply, sizeof reply, &rs, &rng, emit, &c) == NYM_EFULL,
	      "a reply with no SURBs (unknown sender tag): NYM_EFULL");
	e = nym_courier_send_reply(txB, surbs, 5, reply, sizeof reply, &rs, &rng, emit, &c);
	CHECK(e == 3 && c.n == 3 && c.bad == 0, "B's 3-fragment reply uses 3 SURBs; the nodes take it to A");
	msgs = 0;
	for (size_t i = c.n; i-- > 0;) {
		int r = nym_courier_receive(rxA, c.push[i], c.push_len[i], 0, &out);
		if (r == NYM_RECV_MESSAGE) {
			msgs++;
			CHECK(out.via_reply && out.msg.type == 2 && out.msg.data_len == sizeof reply - 2 &&
			      !memcmp(out.msg.data, reply + 2, sizeof reply - 2), "A decrypts the reply as its original sender");
		}
		nym_courier_received_free(&out);
	}
	CHECK(msgs == 1 && nym_reply_keys_count(keysA) == 2, "one reply message; 2 reply keys left");
	/* B's acks for its reply fragments come back to B */
	size_t acks = 0;
	for (size_t i = 0; i < c.n; i++)
		acks += nym_courier_receive(rxB, c.ack[i], 21, 0, &out) == NYM_RECV_ACK && !memcmp(out.frag_id, c.fid[i], 5);
	CHECK(acks == 3, "B's reply acks return to B");

	/* retransmission of a reply fragment through a fresh SURB */
	capture_free(&c);
	c.version = 259;
	memcpy(c.dest, A.identity_pk, 32);
	uint8_t frag[1611];
	struct nym_split sp;
	nym_split_init(&sp, reply, 100, 1611, &rng);
	nym_split_fragment(&sp, 0, frag, NULL);
	nym_split_free(&sp);
	CHECK(nym_courier_resend(txB, NULL, &surbs[3], frag, sizeof frag, &rs, &rng, emit, &c) == 1 && c.bad == 0 &&
	      nym_courier_receive(rxA, c.push[0], c.push_len[0], 0, &out) == NYM_RECV_MESSAGE && out.msg.data_len == 98,
	      "a resent reply fragment through SURB 4 arrives");
	nym_courier_received_free(&out);
	capture_free(&c);

	/* B asks for more SURBs through its last one; A answers with 3 */
	c.version = 259;
	memcpy(c.dest, A.identity_pk, 32);
	CHECK(nym_courier_send_surb_request(txB, &surbs[4], 1, &addrB, 3, &rs, &rng, emit, &c) == 1 && c.bad == 0,
	      "B sends a SurbRequest through SURB 5");
	int r0 = nym_courier_receive(rxA, c.push[0], c.push_len[0], 0, &out);
	CHECK(r0 == NYM_RECV_MESSAGE && out.msg.type == 2 && out.msg.content_tag == 1 && out.msg.amount == 3 &&
	      !memcmp(out.msg.recipient, &addrB, 96) && nym_reply_keys_count(keysA) == 0,
	      "A reads the SurbRequest: B's address, amount 3 (all 5 reply keys now spent)");
	nym_courier_received_free(&out);
	capture_free(&c);
	c.version = 259;
	memcpy(c.dest, B.identity_pk, 32);
	CHECK(nym_courier_send_additional_surbs(txA, &addrB, tag, 3, keysA, 0, &rs, &rng, emit, &c) == 1 && c.bad == 0 &&
	      nym_reply_keys_count(keysA) == 3, "A answers with AdditionalSurbs (3 fresh reply keys kept)");
	CHECK(nym_courier_receive(rxB, c.push[0], c.push_len[0], 0, &out) == NYM_RECV_MESSAGE && out.msg.type == 1 &&
	      out.msg.content_tag == 4 && out.msg.nsurbs == 3 && !memcmp(out.msg.sender_tag, tag, 16) && !out.msg.data,
	      "B receives AdditionalSurbsV2 with 3 SURBs under A's tag");
	nym_courier_received_free(&out);
	CHECK(nym_courier_send_additional_surbs(txA, &addrB, tag, 101, keysA, 0, &rs, &rng, emit, &c) == NYM_EINVAL,
	      "more than 100 SURBs in one message refused");
	capture_free(&c);

	/* an unknown reply digest falls back to the ephemeral path: garbage */
	uint8_t junk[1643];
	memset(junk, 0x11, sizeof junk);
	CHECK(nym_courier_receive(rxA, junk, sizeof junk, 0, &out) == NYM_EFORMAT, "a push with an unknown prefix: NYM_EFORMAT");

	/* loop cover */
	c.version = 258;
	memcpy(c.dest, A.identity_pk, 32);
	CHECK(nym_courier_cover(txA, &rs, &rng, emit, &c) == 1 && c.bad == 0, "A's loop cover goes round (v258) to A");
	CHECK(nym_courier_receive(rxA, c.push[0], c.push_len[0], 0, &out) == NYM_RECV_COVER &&
	      nym_courier_receive(rxA, c.ack[0], 21, 0, &out) == NYM_RECV_COVER, "A drops its cover and the cover ack");
	capture_free(&c);

	/* an ack for nothing: B's ack key does not open A's acks into a known id */
	uint8_t ack[21];
	memset(ack, 0x55, sizeof ack);
	int r = nym_courier_receive(rxA, ack, 21, 0, &out);
	CHECK(r == NYM_RECV_ACK || r == NYM_EFORMAT, "a random 21-byte ack decodes to some id or is refused (%d)", r);

	nym_courier_sender_free(txA);
	nym_courier_sender_free(txB);
	nym_courier_receiver_free(rxA);
	nym_courier_receiver_free(rxB);
	nym_reply_keys_free(keysA);
}

/* Legacy form: a 258 sender attaches v1 SURBs (1164 bytes, DataV1); the
 * peer replies through them. */
static void
legacy_surbs(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_config cfg;
	struct nym_reply_keys *keysA = nym_reply_keys_new(0, 0);
	struct nym_courier_sender *txA, *txB = nym_courier_sender_new(&B, gw_identity, NULL);
	struct nym_courier_receiver *rxA = nym_courier_receiver_new(&A, keysA, NULL), *rxB = nym_courier_receiver_new(&B, NULL, NULL);
	struct capture c = { 0 };
	struct nym_courier_received out;
	struct nym_reply_surb surbs[2];
	uint8_t tag[16] = { 1 };
	size_t ns = 0;

	nym_courier_config_default(&cfg);
	cfg.sphinx_version = 258;
	txA = nym_courier_sender_new(&A, gw_identity, &cfg);
	c.version = 258;
	memcpy(c.dest, B.identity_pk, 32);
	CHECK(nym_courier_send_anonymous(txA, &addrB, tag, (const uint8_t *)"old", 3, 2, keysA, 0, &rs, &rng, emit, &c) == 2 &&
	      c.bad == 0, "v258 sender: repliable message with 2 v1 SURBs (2 packets)");
	for (size_t i = 0; i < c.n; i++) {
		if (nym_courier_receive(rxB, c.push[i], c.push_len[i], 0, &out) == NYM_RECV_MESSAGE) {
			CHECK(out.msg.content_tag == NYM_REPLIABLE_DATA_V1 && out.msg.nsurbs == 2 &&
			      out.msg.surb_len == NYM_REPLY_SURB_V1_LEN && out.msg.data_len == 3,
			      "B: DataV1 with 2 SURBs of 1164 bytes");
			for (ns = 0; ns < 2; ns++)
				if (nym_reply_surb_parse(&surbs[ns], out.msg.surbs + 1164 * ns, 1164) < 0 || surbs[ns].surb.seeds)
					break;
		}
		nym_courier_received_free(&out);
	}
	CHECK(ns == 2, "B parses both as full-key SURBs");
	capture_free(&c);
	memcpy(c.dest, A.identity_pk, 32);
	uint8_t reply[] = { 2, 0, 'o', 'k' };
	c.version = 258; /* the SURB's header decides the version the hops see */
	CHECK(nym_courier_send_reply(txB, surbs, 2, reply, sizeof reply, &rs, &rng, emit, &c) == 1 && c.bad == 0,
	      "B replies through a v1 SURB; the nodes take it to A");
	CHECK(c.n == 1 && nym_courier_receive(rxA, c.push[0], c.push_len[0], 0, &out) == NYM_RECV_MESSAGE &&
	      out.via_reply && out.msg.data_len == 2 && !memcmp(out.msg.data, "ok", 2), "A decrypts the reply");
	nym_courier_received_free(&out);
	capture_free(&c);
	nym_courier_sender_free(txA);
	nym_courier_sender_free(txB);
	nym_courier_receiver_free(rxA);
	nym_courier_receiver_free(rxB);
	nym_reply_keys_free(keysA);
}

/* Two senders build the halves of one plan (as two threads would). */
static void
parts(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_sender *t1 = nym_courier_sender_new(&A, gw_identity, NULL), *t2 = nym_courier_sender_new(&A, gw_identity, NULL);
	struct nym_courier_receiver *rx = nym_courier_receiver_new(&B, NULL, NULL);
	struct capture c = { 0 };
	struct nym_split sp;
	size_t len = 5 * 1604;
	uint8_t *m = malloc(len);
	int got = 0;

	m[0] = 0;
	for (size_t i = 1; i < len; i++)
		m[i] = (uint8_t)i;
	c.version = 259;
	memcpy(c.dest, B.identity_pk, 32);
	nym_split_init(&sp, m, len, nym_courier_sender_capacity(t1), &rng);
	CHECK(nym_courier_send_part(t2, &addrB, &sp, 3, sp.nfrags - 3, &rs, &rng, emit, &c) == (int)sp.nfrags - 3 &&
	      nym_courier_send_part(t1, &addrB, &sp, 0, 3, &rs, &rng, emit, &c) == 3 && c.bad == 0,
	      "a plan of %zu fragments built by two senders", sp.nfrags);
	CHECK(nym_courier_send_part(t1, &addrB, &sp, 5, 9, &rs, &rng, emit, &c) == NYM_EINVAL, "range beyond the plan refused");
	for (size_t i = 0; i < c.n; i++) {
		struct nym_courier_received out;
		if (nym_courier_receive(rx, c.push[i], c.push_len[i], 0, &out) == NYM_RECV_MESSAGE)
			got += out.len == len && !memcmp(out.data, m, len);
		nym_courier_received_free(&out);
	}
	CHECK(got == 1, "the receiver reassembles the message built in parts");
	nym_split_free(&sp);
	capture_free(&c);
	free(m);
	nym_courier_sender_free(t1);
	nym_courier_sender_free(t2);
	nym_courier_receiver_free(rx);
}

static int
stop_emit(void *ctx, const struct nym_courier_packet *p)
{
	(void)ctx;
	(void)p;
	return NYM_EIO;
}

static void
errors(void)
{
	struct nym_rng rng = nym_rng_system();
	struct nym_route_source rs = { pick, NULL };
	struct nym_courier_sender *tx = nym_courier_sender_new(&A, gw_identity, NULL);
	struct nym_address nowhere = addrB;

	nowhere.gateway[0] ^= 1;
	CHECK(nym_courier_send_plain(tx, &nowhere, (const uint8_t *)"x", 1, &rs, &rng, stop_emit, NULL) == NYM_EROUTE,
	      "recipient behind an unknown gateway: NYM_EROUTE");
	CHECK(nym_courier_send_plain(tx, &addrB, (const uint8_t *)"x", 1, &rs, &rng, stop_emit, NULL) == NYM_EIO,
	      "an emit error stops sending and is passed back");
	CHECK(nym_courier_send(tx, &addrB, (const uint8_t *)"", 0, &rs, &rng, stop_emit, NULL) == NYM_EINVAL,
	      "an empty NymMessage is refused");
	struct nym_courier_config cfg;
	nym_courier_config_default(&cfg);
	cfg.size_tag = NYM_SIZE_ACK;
	CHECK(nym_courier_sender_new(&A, gw_identity, &cfg) == NULL, "ack-size packets cannot carry messages");
	nym_courier_sender_free(tx);

	struct nym_courier_receiver *rx = nym_courier_receiver_new(&B, NULL, NULL);
	struct nym_courier_received out;
	uint8_t small[30] = { 0 };
	CHECK(nym_courier_receive(rx, small, sizeof small, 0, &out) == NYM_ESHORT, "a 30-byte push: NYM_ESHORT");
	nym_courier_receiver_free(rx);
}

/* --- names and payload kinds (what nym-sphinx-wrap prints) ------------------ */

static void
names(void)
{
	struct nym_message m = { .type = NYM_MESSAGE_REPLIABLE };
	static const char *const rep[] = { "data", "additional_surbs", "heartbeat", "data",
	                                   "additional_surbs", "heartbeat" };
	int ok = 1;

	CHECK(strcmp(nym_message_type_name(NYM_MESSAGE_PLAIN), "plain") == 0 &&
	      strcmp(nym_message_type_name(NYM_MESSAGE_REPLIABLE), "repliable") == 0 &&
	      strcmp(nym_message_type_name(NYM_MESSAGE_REPLY), "reply") == 0 &&
	      strcmp(nym_message_type_name(3), "unknown") == 0, "message type names");
	for (uint8_t t = 0; t < 6; t++) {
		m.content_tag = t;
		ok &= strcmp(nym_message_content_name(&m), rep[t]) == 0;
	}
	CHECK(ok, "repliable content names, V1 and V2");
	m.type = NYM_MESSAGE_REPLY;
	m.content_tag = NYM_REPLY_DATA;
	ok = strcmp(nym_message_content_name(&m), "data") == 0;
	m.content_tag = NYM_REPLY_SURB_REQUEST;
	ok &= strcmp(nym_message_content_name(&m), "surb_request") == 0;
	m.type = NYM_MESSAGE_PLAIN;
	ok &= strcmp(nym_message_content_name(&m), "data") == 0;
	CHECK(ok, "reply and plain content names");

	static const struct { size_t len; int kind; } k[] = {
		{ 21, NYM_PAYLOAD_ACK }, { 2048, NYM_PAYLOAD_FINAL }, { 2048 - 405, NYM_PAYLOAD_PUSH },
		{ 8192, NYM_PAYLOAD_FINAL }, { 16384 - 405, NYM_PAYLOAD_PUSH }, { 32768, NYM_PAYLOAD_FINAL },
		{ 0, NYM_PAYLOAD_NONE }, { 2047, NYM_PAYLOAD_NONE }, { 2413, NYM_PAYLOAD_NONE },
	};
	ok = 1;
	for (size_t i = 0; i < sizeof k / sizeof *k; i++)
		ok &= nym_courier_payload_kind(k[i].len) == k[i].kind;
	CHECK(ok, "payload kinds by length: ack 21, final 2048.., push 405 fewer, others none");
	CHECK(strcmp(nym_courier_payload_kind_name(NYM_PAYLOAD_FINAL), "final_payload") == 0 &&
	      strcmp(nym_courier_payload_kind_name(NYM_PAYLOAD_PUSH), "gateway_push") == 0 &&
	      strcmp(nym_courier_payload_kind_name(NYM_PAYLOAD_ACK), "ack") == 0 &&
	      nym_courier_payload_kind_name(NYM_PAYLOAD_NONE) == NULL, "payload kind names");

	uint8_t *p = calloc(1, 2048);
	const uint8_t *push = NULL;
	size_t plen = 0;
	CHECK(nym_courier_payload_push(p, 2048, &push, &plen) == NYM_EADDR,
	      "a final payload whose first hop is no address is refused");
	p[0] = 4; /* 04 · port · IPv4: a node address */
	CHECK(nym_courier_payload_push(p, 2048, &push, &plen) == NYM_PAYLOAD_FINAL &&
	      push == p + NYM_ACK_BLOCK_LEN && plen == 2048 - NYM_ACK_BLOCK_LEN,
	      "the push follows the SURB-ack block");
	CHECK(nym_courier_payload_push(p, 21, &push, &plen) == NYM_PAYLOAD_ACK && push == p && plen == 21 &&
	      nym_courier_payload_push(p, 1643, &push, &plen) == NYM_PAYLOAD_PUSH && plen == 1643 &&
	      nym_courier_payload_push(p, 100, &push, &plen) == NYM_ESIZE,
	      "acks and pushes are their own push; other lengths refused");
	free(p);
}

int
main(void)
{
	nym_crypto_init();
	envelope();
	names();
	load_parties();
	e2e(0, 1, "empty");
	e2e(1, 1, "1 byte");
	e2e(1601, 1, "one byte short of a packet");
	e2e(1602, 1, "exactly one packet");
	e2e(1603, 2, "one byte over");
	e2e(3 * 1604 - 2, 3, "3 packets");
	e2e(100 * 1604 - 2, 100, "100 packets");
	e2e(255 * 1604 - 1, 256, "linked sets (255 + 1)");
	anonymous_and_reply();
	pushed_twice();
	legacy_surbs();
	parts();
	errors();
	return t_done();
}
