/* test_surbstore.c — reply SURBs held per sender tag (lib/proto/surbstore.h). */
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/delay.h"
#include "proto/framing.h"
#include "proto/packet.h"
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
	return t_done();
}
