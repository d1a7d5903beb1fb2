/* test_chunking.c — fragment headers, split plans and reassembly against the
 * official client's fragments (cases b, g, h) and the reference sizing table. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "msgvec.h"
#include "proto/chunking.h"
#include "proto/message.h"
#include "test.h"

/* rng that hands out the given set ids (big-endian, as drawn) */
static struct nym_rng
ids_rng(struct nym_rng_fixed *st, uint8_t *buf, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf[4 * i] = (uint8_t)(ids[i] >> 24);
		buf[4 * i + 1] = (uint8_t)(ids[i] >> 16);
		buf[4 * i + 2] = (uint8_t)(ids[i] >> 8);
		buf[4 * i + 3] = (uint8_t)ids[i];
	}
	return nym_rng_fixed(st, buf, 4 * n);
}

static void
sizing_table(void)
{
	static const size_t Ps[] = { 17, 1643, 20, 42, 10000 };
	int bad = 0;

	for (size_t k = 0; k < sizeof Ps / sizeof *Ps; k++) {
		size_t P = Ps[k], U = P - 7, L = P - 10, E = 255 * U - 3, M = 255 * U - 6;
		struct { size_t n, frags, left; } t[] = {
			{ U - 5, 1, 5 }, { U, 1, 0 }, { U + 1, 2, U - 1 }, { 2 * U, 2, 0 },
			{ 42 * U - 5, 42, 5 }, { 42 * U, 42, 0 }, { E + L - 1, 256, 1 },
			{ E + L, 256, 0 }, { E + L + 41 * U - 5, 297, 5 }, { E + L + 41 * U, 297, 0 },
			{ E + 8 * M + L - 1, 2296, 1 }, { E + 8 * M + L, 2296, 0 },
			{ E + 8 * M + L + 41 * U - 5, 2337, 5 }, { E + 8 * M + L + 41 * U, 2337, 0 },
		};
		for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
			size_t left, n = nym_chunking_required_fragments(t[i].n, P, &left);
			if (n != t[i].frags || left != t[i].left) {
				printf("# P=%zu n=%zu: got (%zu,%zu) want (%zu,%zu)\n", P, t[i].n, n, left,
				       t[i].frags, t[i].left);
				bad++;
			}
		}
	}
	CHECK(bad == 0, "required_fragments matches the reference table for P = 17, 1643, 20, 42, 10000");

	struct { size_t n, frags, left, sets; } d[] = {
		{ 7, 1, 1597, 1 }, { 1604, 1, 0, 1 }, { 1605, 2, 1603, 1 }, { 409020, 255, 0, 1 },
		{ 409021, 256, 1597, 2 }, { 818034, 510, 0, 2 }, { 818035, 511, 1597, 3 },
	};
	bad = 0;
	for (size_t i = 0; i < sizeof d / sizeof *d; i++) {
		size_t left, n = nym_chunking_required_fragments(d[i].n, 1611, &left);
		if (n != d[i].frags || left != d[i].left || nym_chunking_sets(d[i].n, 1611) != d[i].sets)
			bad++;
	}
	CHECK(bad == 0, "regular-packet values of nym-message.md §10.4 (1604 / 409020 / 818034 boundaries)");
	size_t left;
	CHECK(nym_chunking_required_fragments(100, 16, &left) == 0, "capacity below 17 is refused");
}

static void
headers(void)
{
	struct nym_fragment f;
	uint8_t b[16];
	size_t n;
	uint8_t *h;

	h = t_hex("a4cfa148010100", &n);
	CHECK(nym_fragment_parse(&f, h, n) == 0 && f.set_id == 0x24cfa148 && f.total == 1 &&
	      f.position == 1 && !f.prev_id && !f.next_id && f.payload_len == 0,
	      "case-a1 header a4cfa148 01 01 00 parses (id 0x24cfa148, 1/1)");
	free(h);

	static const char *bad[] = {
		"24cfa148010100",       /* flag bit clear */
		"80000000010100",       /* id 0 */
		"a4cfa148000100",       /* total 0 */
		"a4cfa148010000",       /* position 0 */
		"a4cfa148020300",       /* position > total */
		"a4cfa148050201020304", /* link flag clear */
		"a4cfa148050280000000", /* link id 0 */
		"a4cfa1480502a4cfa148", /* link to itself */
		"a4cfa1480502a4cfa149", /* link on a middle position */
		"a4cfa148fffea4cfa149", /* link on 254 */
		"a4cfa148feffa4cfa149", /* 255 of 254 */
		"a4cfa148ff",           /* short */
		"a4cfa1480101a4cf",     /* linked but short */
	};
	int okc = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		h = t_hex(bad[i], &n);
		if (nym_fragment_parse(&f, h, n) < 0)
			okc++;
		else
			printf("# accepted %s\n", bad[i]);
		free(h);
	}
	CHECK(okc == (int)(sizeof bad / sizeof *bad), "%d impossible headers refused", okc);

	h = t_hex("f7cd85d7ffff80000001", &n);
	CHECK(nym_fragment_parse(&f, h, n) == 0 && f.next_id == 1 && !f.prev_id && f.payload_len == 0,
	      "255/255 linked header names the next set");
	CHECK(nym_fragment_header_write(b, &f) == 10 && memcmp(b, h, 10) == 0, "linked header re-encodes");
	free(h);

	nym_fragment_id_encode(b, 0x12345678, 1);
	uint32_t id;
	uint8_t pos;
	CHECK(memcmp(b, "\x12\x34\x56\x78\x01", 5) == 0 && nym_fragment_id_decode(&id, &pos, b) == 0 &&
	      id == 0x12345678 && pos == 1, "fragment identifier 1234567801");
	b[0] = 0x80;
	CHECK(nym_fragment_id_decode(&id, &pos, b) == NYM_EFORMAT, "negative set id in identifier refused");

	/* set id draw: 0 and INT32_MIN redrawn, negative -> absolute value */
	uint8_t r[] = { 0, 0, 0, 0, 0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe };
	struct nym_rng_fixed st;
	struct nym_rng rng = nym_rng_fixed(&st, r, sizeof r);
	CHECK(nym_chunking_draw_set_id(&id, &rng) == 0 && id == 2 && st.pos == 12,
	      "set id draw skips 0 and INT32_MIN, takes |-2| = 2");
}

/* Reproduce every fragment of a case from its message and its set ids. */
static void
reproduce(const char *file, const char *pkts, const uint8_t *nm, size_t nmlen, size_t P,
          const uint32_t *ids, size_t nids, const char *what)
{
	json_t *j = v_load(file);
	json_t *arr = v_get(j, pkts);
	struct nym_split s;
	struct nym_rng_fixed st;
	uint8_t rb[64], *frag = malloc(P), idb[5];
	struct nym_rng rng = ids_rng(&st, rb, ids, nids);
	int e = nym_split_init(&s, nm, nmlen, P, &rng);
	size_t ok = 0, n = json_array_size(arr);

	CHECK(e == 0, "%s: split plan", what);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(arr, i);
		size_t dl, setidx = 0, want_id_len;
		uint8_t *dec = v_hex(p, "nym/decrypted", &dl);
		uint32_t sid = (uint32_t)v_int(p, "nym/fragment/set_id");
		size_t pos = (size_t)v_int(p, "nym/fragment/position");
		uint8_t *wid = v_hex(p, "nym/fragment/identifier", &want_id_len);
		while (setidx < nids && ids[setidx] != sid)
			setidx++;
		int fl = nym_split_fragment(&s, setidx * 255 + pos - 1, frag, idb);
		if (fl == (int)dl && dl == P && memcmp(frag, dec, dl) == 0 && memcmp(idb, wid, 5) == 0)
			ok++;
		else
			printf("# %s packet %zu differs (len %d vs %zu)\n", what, i, fl, dl);
		free(dec);
		free(wid);
	}
	CHECK(n > 0 && ok == n, "%s: %zu/%zu official fragments reproduced byte for byte", what, ok, n);
	nym_split_free(&s);
	free(frag);
	json_decref(j);
}

static void
vectors(void)
{
	json_t *j;
	uint8_t *data, *nm;
	size_t dl;
	uint32_t id;

	/* case b: 5000 bytes, 4 fragments */
	j = v_load("case-b-plain-5000byte-multifragment.json");
	data = v_hex(j, "sent/data", &dl);
	nm = malloc(dl + 1);
	nm[0] = 0;
	memcpy(nm + 1, data, dl);
	id = (uint32_t)v_int(j, "packets/0/nym/fragment/set_id");
	CHECK(nym_message_packets(dl + 1, 1611) == 4, "case b: 5000 bytes need 4 regular packets");
	reproduce("case-b-plain-5000byte-multifragment.json", "packets", nm, dl + 1, 1611, &id, 1, "case b");
	free(data);
	free(nm);
	json_decref(j);

	/* case g: extended32, one fragment of 32331 bytes */
	j = v_load("case-g-extended32-3000byte.json");
	data = v_hex(j, "sent/data", &dl);
	nm = malloc(dl + 1);
	nm[0] = 0;
	memcpy(nm + 1, data, dl);
	id = (uint32_t)v_int(j, "packets/0/nym/fragment/set_id");
	CHECK(NYM_FRAGMENT_CAPACITY(32768) == 32331, "extended32 fragment capacity 32331");
	reproduce("case-g-extended32-3000byte.json", "packets", nm, dl + 1, 32331, &id, 1, "case g");
	free(data);
	free(nm);
	json_decref(j);

	/* case h: 409100 bytes, linked sets 255 + 1 */
	j = v_load("case-h-linked-sets-409100byte.json");
	size_t n = (size_t)v_int(j, "sent/len");
	nm = malloc(n + 1);
	nm[0] = 0;
	for (size_t i = 0; i < n; i++)
		nm[i + 1] = (uint8_t)((i * 37 + 11) & 0xff);
	uint32_t ids[2] = { (uint32_t)v_int(j, "sets/0/set_id"), (uint32_t)v_int(j, "sets/1/set_id") };
	reproduce("case-h-linked-sets-409100byte.json", "packets_full", nm, n + 1, 1611, ids, 2, "case h");
	{
		struct nym_split s;
		struct nym_rng_fixed st;
		uint8_t rb[8], frag[1611];
		struct nym_rng rng = ids_rng(&st, rb, ids, 2);
		json_t *sum = v_get(j, "packets_summary");
		size_t ok = 0, m = json_array_size(sum);
		nym_split_init(&s, nm, n + 1, 1611, &rng);
		CHECK(s.nfrags == 256 && s.nsets == 2 && s.padded_len == 410618,
		      "case h: 256 fragments in 2 sets, padded length 410618");
		for (size_t i = 0; i < m; i++) {
			json_t *p = json_array_get(sum, i);
			size_t hl;
			uint8_t *hdr = v_hex(p, "fragment_header", &hl);
			uint32_t sid = (uint32_t)v_int(p, "set_id");
			size_t pos = (size_t)v_int(p, "position");
			int fl = nym_split_fragment(&s, (sid == ids[1] ? 255 : 0) + pos - 1, frag, NULL);
			if (fl == 1611 && memcmp(frag, hdr, hl) == 0)
				ok++;
			free(hdr);
		}
		CHECK(m == 256 && ok == m, "case h: all %zu fragment headers reproduced", ok);
		nym_split_free(&s);
	}
	free(nm);
	json_decref(j);
}

/* Feed decrypted official fragments of case b out of order, with duplicates. */
static void
reassemble_vector(void)
{
	json_t *j = v_load("case-b-plain-5000byte-multifragment.json");
	struct nym_reasm *r = nym_reasm_new(NULL);
	uint8_t *frags[4], *out = NULL;
	size_t lens[4], olen = 0, done = 0;
	static const int order[] = { 3, 1, 1, 0, 3, 2 };
	int e, last = 0;

	for (int i = 0; i < 4; i++) {
		char path[64];
		snprintf(path, sizeof path, "packets/%d/nym/decrypted", i);
		frags[i] = v_hex(j, path, &lens[i]);
	}
	for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
		struct nym_fragment f;
		e = nym_fragment_parse(&f, frags[order[k]], lens[order[k]]);
		if (e == 0)
			e = nym_reasm_add(r, &f, 1000 + k, &out, &olen);
		if (e == 1) {
			done++;
			last = (int)k;
			size_t wl;
			uint8_t *want = v_hex(j, "message/nym_message", &wl);
			long ul = nym_message_unpad(out, olen);
			CHECK(olen == 6416 && ul == (long)wl && memcmp(out, want, wl) == 0,
			      "case b reassembled out of order: 6416 padded bytes, NymMessage of %zu", wl);
			free(want);
			free(out);
		}
	}
	CHECK(done == 1 && last == 5, "message yielded once, when its last fragment arrived");
	struct nym_fragment f;
	CHECK(nym_fragment_parse(&f, frags[0], lens[0]) == 0 && nym_reasm_add(r, &f, 2000, &out, &olen) == NYM_EREPLAY,
	      "late duplicate of a completed set refused");
	CHECK(nym_reasm_bytes(r) == 0, "no payload held after completion");
	for (int i = 0; i < 4; i++)
		free(frags[i]);
	nym_reasm_free(r);
	json_decref(j);
}

static uint64_t lcg = 88172645463325252ull;
static uint32_t
rnd(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(lcg >> 33);
}

static int
sys_fill(void *ctx, uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
	return 0;
}

/* Split a message of len bytes at P, deliver shuffled with duplicates, compare. */
static void
roundtrip(size_t len, size_t P, size_t want_frags, const char *what)
{
	struct nym_rng rng = { sys_fill, NULL };
	uint8_t *msg = malloc(len + 2), *out = NULL;
	struct nym_split s;
	size_t n, olen = 0, got = 0, *order;
	uint8_t **frag;
	struct nym_reasm *r = nym_reasm_new(NULL);
	int good = 1;

	msg[0] = 0;
	for (size_t i = 1; i <= len; i++)
		msg[i] = (uint8_t)rnd();
	nym_split_init(&s, msg, len + 1, P, &rng);
	n = s.nfrags;
	frag = calloc(n, sizeof *frag);
	order = malloc(2 * n * sizeof *order);
	for (size_t i = 0; i < n; i++) {
		frag[i] = malloc(P);
		if (nym_split_fragment(&s, i, frag[i], NULL) != (int)P)
			good = 0;
		order[i] = i;
		order[n + i] = rnd() % n; /* duplicates */
	}
	for (size_t i = 2 * n - 1; i > 0; i--) {
		size_t k = rnd() % (i + 1), t = order[i];
		order[i] = order[k];
		order[k] = t;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		struct nym_fragment f;
		if (nym_fragment_parse(&f, frag[order[i]], P) < 0) {
			good = 0;
			continue;
		}
		int e = nym_reasm_add(r, &f, i, &out, &olen);
		if (e == 1) {
			long ul = nym_message_unpad(out, olen);
			if (ul != (long)len + 1 || memcmp(out, msg, len + 1) || olen != s.padded_len)
				good = 0;
			got++;
			free(out);
		} else if (e < 0 && e != NYM_EREPLAY)
			good = 0;
	}
	CHECK(good && got == 1 && (want_frags == 0 || n == want_frags),
	      "%s: %zu bytes -> %zu fragments of %zu bytes, shuffled + duplicated, one message back",
	      what, len, n, P);
	CHECK(nym_reasm_bytes(r) == 0, "%s: nothing left buffered", what);
	for (size_t i = 0; i < n; i++)
		free(frag[i]);
	free(frag);
	free(order);
	free(msg);
	nym_split_free(&s);
	nym_reasm_free(r);
}

static void
roundtrips(void)
{
	size_t U = 1604;

	roundtrip(0, 1611, 1, "empty");
	roundtrip(1, 1611, 1, "1 byte");
	roundtrip(U - 3, 1611, 1, "one byte short of a packet");
	roundtrip(U - 2, 1611, 1, "exactly one packet");
	roundtrip(U - 1, 1611, 2, "one byte over");
	roundtrip(2 * U - 2, 1611, 2, "2 fragments");
	roundtrip(3 * U - 2, 1611, 3, "3 fragments");
	roundtrip(100 * U - 2, 1611, 100, "100 fragments");
	roundtrip(255 * U - 2, 1611, 255, "one full set");
	roundtrip(255 * U - 1, 1611, 256, "first linked split");
	roundtrip(3 * 255 * U, 1611, 0, "three linked sets");
	roundtrip(5000, 17, 0, "tiny capacity (P = 17), linked sets");
}

static void
bad_and_limits(void)
{
	struct nym_reasm_limits lim = { 8000, 4, 30 * 60 * 1000 };
	struct nym_reasm *r = nym_reasm_new(&lim);
	uint8_t buf[1611], *out;
	size_t olen;
	struct nym_fragment f;

	memset(buf, 0xab, sizeof buf);
	/* set 7: 3 fragments, only 1 and 2 arrive */
	f = (struct nym_fragment){ 7, 3, 1, 0, 0, buf, 1604 };
	CHECK(nym_reasm_add(r, &f, 0, &out, &olen) == 0, "fragment 1/3 stored");
	f.position = 2;
	CHECK(nym_reasm_add(r, &f, 1000, &out, &olen) == 0, "fragment 2/3 stored");
	f.total = 4;
	f.position = 3;
	CHECK(nym_reasm_add(r, &f, 1000, &out, &olen) == NYM_EFORMAT, "fragment with another total refused");
	f = (struct nym_fragment){ 9, 5, 1, 0, 0, buf, 1604 };
	nym_reasm_add(r, &f, 2000, &out, &olen);
	f.position = 2;
	nym_reasm_add(r, &f, 2000, &out, &olen);
	f.position = 3;
	CHECK(nym_reasm_add(r, &f, 2000, &out, &olen) == NYM_EFULL, "byte limit 8000 reached: NYM_EFULL");
	CHECK(nym_reasm_bytes(r) <= 8000, "held bytes within the limit (%zu)", nym_reasm_bytes(r));
	CHECK(nym_reasm_expire(r, 1000 + 30 * 60 * 1000 - 1) == 0, "nothing expires before 30 min");
	CHECK(nym_reasm_expire(r, 2000 + 30 * 60 * 1000) == 2, "both stale sets expire after 30 min");
	CHECK(nym_reasm_bytes(r) == 0 && nym_reasm_sets(r) == 0, "expired buffers freed");

	/* set-count limit: 4 incomplete sets, the 5th is refused */
	int e = 0;
	for (uint32_t id = 1; id <= 5; id++) {
		f = (struct nym_fragment){ id, 2, 1, 0, 0, buf, 10 };
		e = nym_reasm_add(r, &f, 5000000, &out, &olen);
	}
	CHECK(e == NYM_EFULL && nym_reasm_sets(r) == 4, "set limit 4 reached: NYM_EFULL");
	/* periodic expiry happens inside add */
	f = (struct nym_fragment){ 99, 2, 1, 0, 0, buf, 10 };
	CHECK(nym_reasm_add(r, &f, 5000000 + 31 * 60 * 1000, &out, &olen) == 0 && nym_reasm_sets(r) == 1,
	      "stale sets expired by a later add");
	nym_reasm_free(r);

	/* a linked pair whose links disagree never completes */
	r = nym_reasm_new(NULL);
	f = (struct nym_fragment){ 11, 1, 1, 12, 0, buf, 10 };
	CHECK(nym_reasm_add(r, &f, 0, &out, &olen) == 0, "set linked back to a missing set waits");
	f = (struct nym_fragment){ 12, 1, 1, 11, 0, buf, 10 }; /* cycle-ish: both claim prev */
	CHECK(nym_reasm_add(r, &f, 0, &out, &olen) == 0, "inconsistent links do not complete");
	nym_reasm_free(r);
}

int
main(void)
{
	sizing_table();
	headers();
	vectors();
	reassemble_vector();
	roundtrips();
	bad_and_limits();
	return t_done();
}
