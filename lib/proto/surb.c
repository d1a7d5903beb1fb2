/* surb.c — SURB create, serialize, parse, use, unwrap (surb.h). */
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "crypto/lioness.h"
#include "proto/surb.h"

int
nym_surb_create(struct nym_sphinx_ctx *ctx, struct nym_surb *s, struct nym_sphinx_layers *keys,
                const struct nym_sphinx_route *r, const struct nym_rng *rng)
{
	struct nym_sphinx_layers l;
	int rc;

	memset(s, 0, sizeof *s);
	if (r->nhops < 1 || r->nhops > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	if ((rc = nym_sphinx_header_create(ctx, s->header, &l, r, rng)) < 0)
		return rc;
	memcpy(s->first_hop, r->hop[0].address, NYM_SPHINX_ADDR_LEN);
	s->nhops = r->nhops;
	s->seeds = !nym_sphinx_version_full_keys(r->version);
	for (size_t i = 0; i < s->nhops; i++) {
		memcpy(s->seed[i], l.hop[i].seed, NYM_SPHINX_SEED_LEN);
		memcpy(s->key[i], l.hop[i].payload_key, NYM_SPHINX_PAYLOAD_KEY_LEN);
	}
	if (keys)
		*keys = l;
	nym_wipe(&l, sizeof l);
	return 0;
}

size_t
nym_surb_len(const struct nym_surb *s)
{
	return NYM_SURB_LEN(s->nhops, s->seeds);
}

int
nym_surb_serialize(uint8_t *out, size_t cap, const struct nym_surb *s)
{
	size_t n = nym_surb_len(s), m = s->seeds ? NYM_SPHINX_SEED_LEN : NYM_SPHINX_PAYLOAD_KEY_LEN;
	uint8_t *p = out + NYM_SPHINX_HEADER_LEN + NYM_SPHINX_ADDR_LEN;

	if (s->nhops < 1 || s->nhops > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	if (cap < n)
		return NYM_ESIZE;
	memcpy(out, s->header, NYM_SPHINX_HEADER_LEN);
	memcpy(out + NYM_SPHINX_HEADER_LEN, s->first_hop, NYM_SPHINX_ADDR_LEN);
	for (size_t i = 0; i < s->nhops; i++, p += m)
		memcpy(p, s->seeds ? s->seed[i] : s->key[i], m);
	return (int)n;
}

int
nym_surb_parse(struct nym_surb *s, const uint8_t *in, size_t len)
{
	const uint8_t *m = in + NYM_SPHINX_HEADER_LEN + NYM_SPHINX_ADDR_LEN;
	size_t mlen, unit;

	memset(s, 0, sizeof *s);
	if (len < NYM_SURB_MIN_LEN)
		return NYM_ESHORT;
	mlen = len - NYM_SPHINX_HEADER_LEN - NYM_SPHINX_ADDR_LEN;
	s->seeds = mlen < NYM_SPHINX_PAYLOAD_KEY_LEN;
	unit = s->seeds ? NYM_SPHINX_SEED_LEN : NYM_SPHINX_PAYLOAD_KEY_LEN;
	if (mlen % unit)
		return NYM_EFORMAT;
	if (mlen / unit > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	s->nhops = mlen / unit;
	memcpy(s->header, in, NYM_SPHINX_HEADER_LEN);
	memcpy(s->first_hop, in + NYM_SPHINX_HEADER_LEN, NYM_SPHINX_ADDR_LEN);
	for (size_t i = 0; i < s->nhops; i++, m += unit)
		memcpy(s->seeds ? s->seed[i] : s->key[i], m, unit);
	return 0;
}

int
nym_surb_use(uint8_t *packet, size_t len, const struct nym_surb *s,
             const uint8_t *msg, size_t msg_len)
{
	uint8_t key[NYM_SPHINX_PAYLOAD_KEY_LEN];
	uint8_t *payload = packet + NYM_SPHINX_HEADER_LEN;
	size_t plen;
	int rc = 0;

	if (len < NYM_SPHINX_MIN_PACKET)
		return NYM_ESIZE;
	if (s->nhops < 1 || s->nhops > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	plen = len - NYM_SPHINX_HEADER_LEN;
	if ((rc = nym_sphinx_pad(payload, plen, msg, msg_len)) < 0)
		return rc;
	memcpy(packet, s->header, NYM_SPHINX_HEADER_LEN);
	for (size_t i = s->nhops; i-- > 0;) {
		if (s->seeds)
			rc = nym_sphinx_seed_key(key, s->seed[i]);
		else
			memcpy(key, s->key[i], sizeof key);
		if (rc < 0 || (rc = nym_lioness_encrypt(payload, plen, key)) < 0)
			break;
	}
	nym_wipe(key, sizeof key);
	return rc;
}

int
nym_surb_unwrap(uint8_t *packet, size_t len, const struct nym_sphinx_layers *keys, size_t *msg_len)
{
	int hop, rc;

	if (len < NYM_SPHINX_MIN_PACKET)
		return NYM_ESHORT;
	if ((hop = nym_sphinx_layers_find(keys, packet)) < 0)
		return hop;
	if ((rc = nym_sphinx_payload_unwrap(packet + NYM_SPHINX_HEADER_LEN,
	                                    len - NYM_SPHINX_HEADER_LEN, keys, (size_t)hop)) < 0 ||
	    (rc = nym_sphinx_unpad(packet + NYM_SPHINX_HEADER_LEN, len - NYM_SPHINX_HEADER_LEN,
	                           msg_len)) < 0)
		return rc;
	return hop;
}
