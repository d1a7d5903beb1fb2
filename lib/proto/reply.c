/* reply.c — ReplySurbs, reply packets, the reply-key store (doc/spec/nym-message.md §7). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ack.h"
#include "proto/payload.h"
#include "proto/reply.h"

int
nym_reply_surb_parse(struct nym_reply_surb *rs, const uint8_t *in, size_t len)
{
	int e;

	memset(rs, 0, sizeof *rs);
	if (len < 16 + NYM_SURB_MIN_LEN)
		return NYM_ESHORT;
	memcpy(rs->reply_key, in, 16);
	if ((e = nym_surb_parse(&rs->surb, in + 16, len - 16)) < 0)
		return e;
	if (nym_next_hop_len(rs->surb.first_hop, sizeof rs->surb.first_hop) < 0)
		return NYM_EADDR;
	return 0;
}

size_t
nym_reply_surb_len(const struct nym_reply_surb *rs)
{
	return 16 + nym_surb_len(&rs->surb);
}

int
nym_reply_surb_serialize(uint8_t *out, size_t cap, const struct nym_reply_surb *rs)
{
	int n;

	if (cap < nym_reply_surb_len(rs))
		return NYM_ESIZE;
	memcpy(out, rs->reply_key, 16);
	if ((n = nym_surb_serialize(out + 16, cap - 16, &rs->surb)) < 0)
		return n;
	return n + 16;
}

int
nym_reply_surb_create(struct nym_sphinx_ctx *ctx, struct nym_reply_surb *rs,
                      const struct nym_sphinx_route *route, uint8_t key_rotation,
                      const struct nym_rng *rng)
{
	int e;

	memset(rs, 0, sizeof *rs);
	rs->key_rotation = key_rotation;
	if ((e = nym_rng_fill(rng, rs->reply_key, 16)) < 0)
		return e;
	return nym_surb_create(ctx, &rs->surb, NULL, route, rng);
}

int
nym_reply_packet(struct nym_sphinx_ctx *ctx, uint8_t *packet, size_t packet_len,
                 struct nym_mix_packet *mp, const struct nym_reply_surb *rs,
                 const struct nym_sphinx_route *ack_route, const uint8_t ack_key[16],
                 const uint8_t frag_id[5], const struct nym_rng *rng)
{
	int e;

	if (packet_len < NYM_PACKET_FRAGMENT_OFF + 2)
		return NYM_ESIZE;
	memset(mp, 0, sizeof *mp);
	if ((e = nym_mix_packet_set_next_hop(mp, rs->surb.first_hop, sizeof rs->surb.first_hop)) < 0)
		return e;
	if ((e = nym_ack_block(ctx, packet + NYM_PACKET_PLAINTEXT_OFF, ack_route, ack_key, frag_id, rng)) < 0)
		return e;
	if ((e = nym_payload_reply_encrypt(ctx ? &ctx->aes : NULL, packet + NYM_PACKET_PREFIX_OFF,
	                                   packet + NYM_PACKET_FRAGMENT_OFF,
	                                   NYM_PACKET_FRAGMENT_CAP(packet_len), rs->reply_key)) < 0)
		return e;
	if ((e = nym_surb_use(packet, packet_len, &rs->surb, packet + NYM_PACKET_PLAINTEXT_OFF,
	                      packet_len - NYM_PACKET_PLAINTEXT_OFF - 1)) < 0)
		return e;
	mp->packet_type = NYM_PACKET_TYPE_MIX;
	mp->key_rotation = rs->key_rotation;
	mp->packet = packet;
	mp->packet_len = packet_len;
	return 0;
}

/* --- reply-key store: open addressing on the digest ------------------------- */

struct rk {
	uint8_t used;
	uint8_t digest[32];
	uint8_t key[16];
	uint64_t t;
};

struct nym_reply_keys {
	struct rk *tab;
	size_t cap, n, max;
	uint64_t max_age;
};

static size_t
home(const struct nym_reply_keys *k, const uint8_t d[32])
{
	uint64_t h;
	memcpy(&h, d, 8); /* the digest is uniform already */
	return (size_t)h & (k->cap - 1);
}

struct nym_reply_keys *
nym_reply_keys_new(size_t max, uint64_t max_age_ms)
{
	struct nym_reply_keys *k = calloc(1, sizeof *k);

	if (!k)
		return NULL;
	k->max = max ? max : NYM_REPLY_KEYS_DEFAULT_MAX;
	k->max_age = max_age_ms ? max_age_ms : NYM_REPLY_KEY_MAX_AGE_MS;
	return k;
}

void
nym_reply_keys_free(struct nym_reply_keys *k)
{
	if (!k)
		return;
	if (k->tab) {
		nym_wipe(k->tab, k->cap * sizeof *k->tab);
		free(k->tab);
	}
	free(k);
}

static void
put(struct nym_reply_keys *k, const struct rk *e)
{
	size_t i = home(k, e->digest);

	while (k->tab[i].used)
		i = (i + 1) & (k->cap - 1);
	k->tab[i] = *e;
}

static int
grow(struct nym_reply_keys *k)
{
	struct rk *old = k->tab;
	size_t oc = k->cap;

	k->cap = oc ? oc * 2 : 64;
	k->tab = calloc(k->cap, sizeof *k->tab);
	if (!k->tab) {
		k->tab = old;
		k->cap = oc;
		return NYM_ENOMEM;
	}
	for (size_t i = 0; i < oc; i++)
		if (old[i].used)
			put(k, &old[i]);
	if (old) {
		nym_wipe(old, oc * sizeof *old);
		free(old);
	}
	return 0;
}

/* Remove slot i with backward-shift deletion. */
static void
remove_at(struct nym_reply_keys *k, size_t i)
{
	size_t j, h;

	nym_wipe(&k->tab[i], sizeof k->tab[i]);
	for (j = (i + 1) & (k->cap - 1); k->tab[j].used; j = (j + 1) & (k->cap - 1)) {
		h = home(k, k->tab[j].digest);
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			k->tab[i] = k->tab[j];
			nym_wipe(&k->tab[j], sizeof k->tab[j]);
			i = j;
		}
	}
	k->n--;
}

int
nym_reply_keys_add(struct nym_reply_keys *k, const uint8_t key[16], uint64_t now_ms)
{
	struct rk e = { 1, { 0 }, { 0 }, now_ms };
	int rc;

	if (k->n >= k->max) {
		nym_reply_keys_expire(k, now_ms);
		if (k->n >= k->max)
			return NYM_EFULL;
	}
	if ((k->n + 1) * 2 > k->cap && (rc = grow(k)) < 0)
		return rc;
	nym_reply_key_digest(e.digest, key);
	memcpy(e.key, key, 16);
	put(k, &e);
	nym_wipe(&e, sizeof e);
	k->n++;
	return 0;
}

int
nym_reply_keys_take(struct nym_reply_keys *k, const uint8_t digest[32], uint8_t key[16], uint64_t now_ms)
{
	if (!k || !k->cap)
		return NYM_ENOTFOUND;
	for (size_t i = home(k, digest); k->tab[i].used; i = (i + 1) & (k->cap - 1)) {
		if (nym_ct_eq(k->tab[i].digest, digest, 32) == 0) {
			int fresh = now_ms < k->tab[i].t || now_ms - k->tab[i].t < k->max_age;
			if (fresh)
				memcpy(key, k->tab[i].key, 16);
			remove_at(k, i);
			return fresh ? 0 : NYM_ENOTFOUND;
		}
	}
	return NYM_ENOTFOUND;
}

size_t
nym_reply_keys_count(const struct nym_reply_keys *k)
{
	return k->n;
}

int
nym_reply_keys_each(const struct nym_reply_keys *k,
                    int (*fn)(void *ctx, const uint8_t key[16], uint64_t added_ms), void *ctx)
{
	int rc;

	for (size_t i = 0; k && i < k->cap; i++)
		if (k->tab[i].used && (rc = fn(ctx, k->tab[i].key, k->tab[i].t)) != 0)
			return rc;
	return 0;
}

size_t
nym_reply_keys_expire(struct nym_reply_keys *k, uint64_t now_ms)
{
	size_t i = 0, n = 0;

	while (i < k->cap) {
		if (k->tab[i].used && now_ms >= k->tab[i].t && now_ms - k->tab[i].t >= k->max_age) {
			remove_at(k, i);
			n++;
			continue;
		}
		i++;
	}
	return n;
}
