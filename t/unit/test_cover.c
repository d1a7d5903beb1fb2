/* test_cover.c — loop cover: the official cover payloads (cases d1, d2) equal
 * our content; our own cover packets go round the vector network, decrypt
 * with our own key to the marker, and carry a cover ack. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "msgvec.h"
#include "proto/ack.h"
#include "proto/cover.h"
#include "proto/delay.h"
#include "proto/payload.h"
#include "test.h"

static void
official(const char *file, uint16_t want_version)
{
	json_t *j = v_load(file), *cp = v_get(j, "cover_packets");
	uint8_t content[1611];
	size_t n = json_array_size(cp), ok = 0;

	nym_cover_content(content, sizeof content);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(cp, i);
		size_t dl;
		uint8_t *dec = v_hex(p, "nym/decrypted", &dl), fid[5];
		v_fix(p, "nym/surb_ack/fragment_identifier", fid, 5);
		if (dl == 1611 && !memcmp(dec, content, dl) && nym_cover_is(dec, dl) && nym_ack_is_cover(fid) &&
		    v_int(p, "sphinx/version") == want_version && v_int(p, "nym/surb_ack/version") == want_version)
			ok++;
		free(dec);
	}
	CHECK(n > 0 && ok == n, "%s: %zu/%zu official cover payloads = marker || 01 || 0..., cover ack id, version %u",
	      file, ok, n, want_version);
	size_t dl;
	uint8_t *dec = v_hex(j, "real_packet_among_cover/packet/nym/decrypted", &dl);
	CHECK(!nym_cover_is(dec, dl), "%s: the real packet among them is not cover", file);
	free(dec);
	json_decref(j);
}

static void
own(uint16_t version)
{
	struct nym_sphinx_node hops[4];
	uint8_t sks[4][32], *pkt = malloc(2413), ack[386];
	struct nym_sphinx_route fwd, ackr;
	struct nym_rng rng = nym_rng_system();
	struct nym_sphinx_ctx ctx;
	struct nym_sphinx_processed p;
	json_t *j = v_load("recipient.json");
	uint8_t ident[32], esk[32], epk[32], akey[16];
	size_t pl;

	v_network(hops, sks);
	v_fix(j, "identity_public", ident, 32);
	v_fix(j, "encryption_secret", esk, 32);
	v_fix(j, "encryption_public", epk, 32);
	v_fix(j, "ack_key", akey, 16);
	nym_sphinx_ctx_init(&ctx);
	nym_sphinx_route_prepare(&fwd, version, hops, 4, ident, NYM_AVERAGE_PACKET_DELAY_NS, &rng);
	nym_sphinx_route_prepare(&ackr, version, hops, 4, ident, NYM_AVERAGE_ACK_DELAY_NS, &rng);
	CHECK(nym_cover_packet(&ctx, pkt, 2413, &fwd, &ackr, akey, epk, &rng) == 0, "v%u: cover packet built", version);
	const uint8_t *pt = v_through(&ctx, pkt, 2413, sks, &p, &pl);
	CHECK(pt && pl == 2048 && p.version == version && !memcmp(p.destination, ident, 32),
	      "v%u: through 4 hops back to our own identity", version);
	if (pt) {
		struct nym_mix_packet mp;
		const uint8_t *push;
		size_t push_len;
		uint8_t dec[1611], fid[5];
		CHECK(nym_ack_block_split(&mp, &push, &push_len, pt, pl) == 0 && push_len == 1643 &&
		      nym_payload_decrypt(NULL, dec, push, push_len, esk) == 0 && nym_cover_is(dec, 1611),
		      "v%u: the push decrypts with our own key to the cover marker", version);
		memcpy(ack, mp.packet, 386);
		const uint8_t *ab = v_through(&ctx, ack, 386, sks, &p, &pl);
		CHECK(ab && pl == 21 && p.version == version && nym_ack_open(NULL, fid, ab, 21, akey) == 0 &&
		      nym_ack_is_cover(fid), "v%u: its ack comes back as the cover id", version);
	}
	CHECK(nym_cover_packet(&ctx, pkt, 800, &fwd, &ackr, akey, epk, &rng) == NYM_ESIZE, "packet too small for cover refused");
	nym_sphinx_ctx_free(&ctx);
	json_decref(j);
	free(pkt);
}

int
main(void)
{
	uint8_t s[10];
	nym_crypto_init();
	nym_cover_content(s, sizeof s);
	CHECK(!memcmp(s, "The cake i", 10), "content truncated to short lengths");
	CHECK(!nym_cover_is((const uint8_t *)"The cake is a lie", 17), "17 bytes of marker are not cover");
	official("case-d1-loop-cover-default.json", 258);
	official("case-d2-loop-cover-legacy-off.json", 259);
	CHECK(NYM_COVER_DEFAULT_VERSION == 258, "default cover version 258 (as d1)");
	own(258);
	own(259);
	return t_done();
}
