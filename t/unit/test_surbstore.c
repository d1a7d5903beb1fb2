/* test_surbstore.c — reply SURBs held per sender tag (lib/proto/surbstore.h):
 * take order, formats, the bounds, the rotation drop, the encoding and its
 * file (lib/io/surbfile.h): written 0600, read back, damaged files refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/delay.h"
#include "proto/framing.h"
#include "proto/packet.h"
#include "io/surbfile.h"
#include "proto/surbstore.h"
#include "test.h"

/* n serialized ReplySurbs of one version over a 4-hop route; their reply
 * keys are 01.., 02.., … so that take order can be seen. */
static size_t
make_surbs(uint8_t *out, size_t n, uint16_t version, struct nym_rng *rng)
{
	struct nym_sphinx_ctx ctx;
	struct nym_sphinx_node hops[4];
	struct nym_sphinx_route r;
	uint8_t dest[32] = {9}, sk[32];
	size_t len = 0;

	nym_sphinx_ctx_init(&ctx);
	for (int i = 0; i < 4; i++) {
		struct nym_node_addr na;
		char host[32];
		snprintf(host, sizeof host, "10.0.0.%d:1789", i + 1);
		if (nym_node_addr_parse(&na, host) < 0) {
			printf("Bail out! node address %s\n", host);
			exit(1);
		}
		nym_node_addr_encode(hops[i].address, 32, &na);
		nym_rng_fill(rng, sk, 32);
		nym_x25519_base(hops[i].pubkey, sk);
	}
	for (size_t i = 0; i < n; i++) {
		struct nym_reply_surb rs;
		nym_sphinx_route_prepare(&r, version, hops, 4, dest, 0, rng);
		nym_reply_surb_create(&ctx, &rs, &r, 0, rng);
		memset(rs.reply_key, (int)(i + 1), 16);
		len = nym_reply_surb_len(&rs);
		nym_reply_surb_serialize(out + i * len, len, &rs);
	}
	nym_sphinx_ctx_free(&ctx);
	return len;
}

int
main(void)
{
	struct nym_rng rng = nym_rng_system();
	static uint8_t v2[4 * 1024], v1[2 * 1024];
	uint8_t a[16] = {1}, b[16] = {2};
	struct nym_reply_surb rs;
	struct nym_surbstore *st = nym_surbstore_new();
	size_t l2 = make_surbs(v2, 3, NYM_SPHINX_V259, &rng), l1 = make_surbs(v1, 1, NYM_SPHINX_V258, &rng);

	CHECK(st && l2 && l1 && l1 != l2 && 3 * l2 <= sizeof v2, "SURBs of two formats made (%zu, %zu bytes)", l2, l1);
	CHECK(nym_surbstore_count(st, a) == 0 && nym_surbstore_take(st, a, &rs) == NYM_ENOTFOUND,
	      "unknown tag: none held, none to take");
	CHECK(nym_surbstore_add(st, a, v2, 0, l2, 7) == 0 && nym_surbstore_count(st, a) == 0, "adding none keeps none");
	CHECK(nym_surbstore_add(st, a, v2, 2, l2, 7) == 0 && nym_surbstore_add(st, a, v2 + 2 * l2, 1, l2, 9) == 0 &&
	      nym_surbstore_count(st, a) == 3 && nym_surbstore_count(st, b) == 0, "three SURBs held for a, none for b");
	CHECK(nym_surbstore_take(st, a, &rs) == 0 && rs.reply_key[0] == 3 && rs.key_rotation == 9,
	      "take: the most recent, with the rotation of the latest message");
	CHECK(nym_surbstore_take(st, a, &rs) == 0 && rs.reply_key[0] == 2 && nym_surbstore_count(st, a) == 1,
	      "take again: the one before; one left");
	CHECK(nym_surbstore_add(st, b, v1, 1, l1, NYM_ROTATION_UNKNOWN) == 0 && nym_surbstore_count(st, a) == 1 &&
	      nym_surbstore_count(st, b) == 1, "tags are held apart");
	CHECK(nym_surbstore_add(st, a, v1, 1, l1, 0) == 0 && nym_surbstore_count(st, a) == 1 &&
	      nym_surbstore_take(st, a, &rs) == 0 && nym_surbstore_count(st, a) == 0 &&
	      nym_surbstore_take(st, a, &rs) == NYM_ENOTFOUND, "another format from the same tag replaces the old SURBs");
	static uint8_t junk[2048];
	memset(junk, 0xee, sizeof junk);
	CHECK(nym_surbstore_add(st, b, junk, 1, l1, 0) == 0 && nym_surbstore_count(st, b) == 2 &&
	      nym_surbstore_take(st, b, &rs) == 0 && rs.reply_key[0] == 1 && nym_surbstore_count(st, b) == 0,
	      "a record that does not parse is skipped and dropped");
	nym_wipe(&rs, sizeof rs);
	nym_surbstore_free(st);
	nym_surbstore_free(NULL);

	/* bounds: per tag the oldest go; in all the tag fed longest ago loses */
	static uint8_t many[8 * 1024];
	size_t lm = make_surbs(many, 6, NYM_SPHINX_V259, &rng);
	uint8_t c[16] = {3};
	CHECK(6 * lm <= sizeof many, "six SURBs made");
	st = nym_surbstore_new();
	nym_surbstore_set_limits(st, 4, 6);
	CHECK(nym_surbstore_add(st, a, many, 6, lm, 2) == 0 && nym_surbstore_count(st, a) == 4,
	      "per-tag bound: 6 given, 4 kept");
	CHECK(nym_surbstore_take(st, a, &rs) == 0 && rs.reply_key[0] == 6, "the newest kept");
	CHECK(nym_surbstore_add(st, b, many, 3, lm, 2) == 0 && nym_surbstore_total(st) == 6 &&
	      nym_surbstore_count(st, a) == 3 && nym_surbstore_count(st, b) == 3, "at the total bound");
	CHECK(nym_surbstore_add(st, c, many, 2, lm, 2) == 0 && nym_surbstore_total(st) == 6 &&
	      nym_surbstore_count(st, a) == 1 && nym_surbstore_count(st, c) == 2,
	      "over the total: the tag fed longest ago lost its oldest (%zu %zu %zu)",
	      nym_surbstore_count(st, a), nym_surbstore_count(st, b), nym_surbstore_count(st, c));
	CHECK(nym_surbstore_take(st, a, &rs) == 0 && rs.reply_key[0] == 5, "and kept its newest");
	CHECK(nym_surbstore_count(st, a) == 0 && nym_surbstore_total(st) == 5, "a: none left");

	/* encoding and the file */
	char dir[] = "/tmp/nym-surbstore-XXXXXX", path[100];
	struct stat sb;
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/%s", dir, NYM_CLIENT_REPLY_SURBS);
	struct nym_surbstore *st2 = nym_surbstore_new();
	CHECK(nym_surbfile_load(path, st2) == 0 && nym_surbstore_total(st2) == 0, "no file: empty");
	CHECK(nym_surbfile_save(path, st) == 0 && stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600,
	      "saved, mode 0600");
	CHECK(nym_surbfile_load(path, st2) == 0 && nym_surbstore_total(st2) == 5 &&
	      nym_surbstore_count(st2, b) == 3 && nym_surbstore_count(st2, c) == 2, "read back whole");
	CHECK(nym_surbstore_take(st2, c, &rs) == 0 && rs.reply_key[0] == 2 && rs.key_rotation == 2,
	      "the same SURBs, newest first, rotation byte kept");
	uint8_t *enc;
	size_t elen;
	CHECK(nym_surbstore_encode(st, &enc, &elen) == 0 && elen == 12 + 2 * 29 + 5 * lm &&
	      !memcmp(enc, "NYMSURB1", 8), "encoding: %zu bytes as the header says", elen);
	int bad = 0;
	for (size_t cut = 0; cut < elen; cut += 97)
		bad += nym_surbstore_decode(st2, enc, cut) == 0;
	CHECK(bad == 0 && nym_surbstore_total(st2) == 4, "every truncation refused, store unchanged");
	enc[0] ^= 1;
	CHECK(nym_surbstore_decode(st2, enc, elen) == NYM_EFORMAT, "bad magic refused");
	enc[0] ^= 1;
	enc[12 + 25] = 0x7f; /* first tag's n: beyond any bound */
	CHECK(nym_surbstore_decode(st2, enc, elen) == NYM_EFORMAT, "a hostile count refused");
	enc[12 + 25] = 0;
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(enc, 1, elen / 2, f) == elen / 2 && fclose(f) == 0, "a truncated file written");
	CHECK(nym_surbfile_load(path, st2) == NYM_ESHORT && nym_surbstore_total(st2) == 4,
	      "a truncated file: refused, nothing lost in memory");
	nym_wipe(enc, elen);
	free(enc);

	/* rotation: SURBs for keys that rotated out are dropped */
	nym_surbstore_free(st2);
	st2 = nym_surbstore_new();
	CHECK(nym_surbstore_rotation(st2, 41) == 0, "rotation 41 (odd)");
	CHECK(nym_surbstore_add(st2, a, many, 2, lm, NYM_ROTATION_ODD) == 0 &&
	      nym_surbstore_add(st2, b, many, 1, lm, NYM_ROTATION_UNKNOWN) == 0, "SURBs under 41");
	nym_surbstore_rotation(st2, NYM_SURBSTORE_ROTATION_ID_UNKNOWN);
	CHECK(nym_surbstore_add(st2, c, many, 1, lm, NYM_ROTATION_EVEN) == 0 &&
	      nym_surbstore_rotation(st2, 41) == 1 && nym_surbstore_count(st2, c) == 0,
	      "an even SURB under an odd rotation: dropped");
	CHECK(nym_surbfile_save(path, st2) == 0 && nym_surbfile_load(path, st2) == 0 &&
	      nym_surbstore_rotation(st2, 41) == 0 && nym_surbstore_total(st2) == 3,
	      "same rotation after a reload: all kept");
	CHECK(nym_surbstore_rotation(st2, 43) == 3 && nym_surbstore_total(st2) == 0,
	      "two rotations later (same parity): all dropped, the unknown-byte ones too");
	nym_surbstore_free(st2);
	unlink(path);
	rmdir(dir);
	nym_wipe(&rs, sizeof rs);
	nym_surbstore_free(st);
	return t_done();
}
