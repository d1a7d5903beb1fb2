/* surbstore.c — reply SURBs per sender tag (surbstore.h). A few senders at
 * a time: a list of tags, each an array of records, oldest first. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/framing.h"
#include "proto/surbstore.h"

struct tag_surbs {
	struct tag_surbs *next;
	uint8_t tag[16];
	uint8_t rotation;
	uint32_t rotation_id;
	uint64_t fed; /* when it last got SURBs (store's add counter) */
	size_t rec_len, n, cap;
	uint8_t *recs;
};

struct nym_surbstore {
	struct tag_surbs *tags;
	size_t per_tag, limit, total;
	uint32_t rotation_id;
	uint64_t adds;
};

struct nym_surbstore *
nym_surbstore_new(void)
{
	struct nym_surbstore *st = calloc(1, sizeof *st);
	if (st) {
		st->per_tag = NYM_SURBSTORE_PER_TAG;
		st->limit = NYM_SURBSTORE_TOTAL;
		st->rotation_id = NYM_SURBSTORE_ROTATION_ID_UNKNOWN;
	}
	return st;
}

static void
tag_free(struct tag_surbs *s)
{
	if (s->recs)
		nym_wipe(s->recs, s->cap * s->rec_len);
	free(s->recs);
	free(s);
}

static void
tags_free(struct tag_surbs *s)
{
	for (struct tag_surbs *n; s; s = n) {
		n = s->next;
		tag_free(s);
	}
}

void
nym_surbstore_free(struct nym_surbstore *st)
{
	if (!st)
		return;
	tags_free(st->tags);
	free(st);
}

void
nym_surbstore_set_limits(struct nym_surbstore *st, size_t per_tag, size_t total)
{
	if (per_tag)
		st->per_tag = per_tag;
	if (total)
		st->limit = total;
}

static struct tag_surbs *
find(const struct nym_surbstore *st, const uint8_t tag[16])
{
	for (struct tag_surbs *s = st->tags; s; s = s->next)
		if (!memcmp(s->tag, tag, 16))
			return s;
	return NULL;
}

static void
unlink_tag(struct nym_surbstore *st, struct tag_surbs *s)
{
	for (struct tag_surbs **pp = &st->tags; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	st->total -= s->n;
	tag_free(s);
}

/* Drop the k oldest records of s (its tag too when none is left). */
static void
drop_oldest(struct nym_surbstore *st, struct tag_surbs *s, size_t k)
{
	if (k >= s->n) {
		unlink_tag(st, s);
		return;
	}
	memmove(s->recs, s->recs + k * s->rec_len, (s->n - k) * s->rec_len);
	nym_wipe(s->recs + (s->n - k) * s->rec_len, k * s->rec_len);
	s->n -= k;
	st->total -= k;
}

static void
enforce_bounds(struct nym_surbstore *st, struct tag_surbs *fresh)
{
	if (fresh->n > st->per_tag)
		drop_oldest(st, fresh, fresh->n - st->per_tag);
	while (st->total > st->limit) {
		struct tag_surbs *old = NULL;
		for (struct tag_surbs *s = st->tags; s; s = s->next)
			if (!old || s->fed < old->fed)
				old = s;
		drop_oldest(st, old, st->total - st->limit);
	}
}

int
nym_surbstore_add(struct nym_surbstore *st, const uint8_t tag[16], const uint8_t *recs, size_t n,
                  size_t rec_len, uint8_t rotation)
{
	struct tag_surbs *s;

	if (!n || !rec_len)
		return 0;
	if ((s = find(st, tag)) && s->rec_len != rec_len) {
		/* another SURB format from the same tag: the new one wins */
		nym_wipe(s->recs, s->cap * s->rec_len);
		free(s->recs);
		s->recs = NULL;
		st->total -= s->n;
		s->n = s->cap = 0;
		s->rec_len = rec_len;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)))
			return NYM_ENOMEM;
		memcpy(s->tag, tag, 16);
		s->rec_len = rec_len;
		s->next = st->tags;
		st->tags = s;
	}
	if (n > st->per_tag) { /* only the newest could stay */
		recs += (n - st->per_tag) * rec_len;
		n = st->per_tag;
	}
	if (s->n + n > s->cap) {
		size_t cap = s->n + n + 16;
		uint8_t *nr = calloc(cap, s->rec_len);
		if (!nr) {
			if (!s->n)
				unlink_tag(st, s);
			return NYM_ENOMEM;
		}
		if (s->recs) {
			memcpy(nr, s->recs, s->n * s->rec_len);
			nym_wipe(s->recs, s->cap * s->rec_len);
			free(s->recs);
		}
		s->recs = nr;
		s->cap = cap;
	}
	memcpy(s->recs + s->n * s->rec_len, recs, n * s->rec_len);
	s->n += n;
	st->total += n;
	s->rotation = rotation;
	s->rotation_id = st->rotation_id;
	s->fed = ++st->adds;
	enforce_bounds(st, s);
	return 0;
}

size_t
nym_surbstore_count(const struct nym_surbstore *st, const uint8_t tag[16])
{
	const struct tag_surbs *s = find(st, tag);
	return s ? s->n : 0;
}

size_t
nym_surbstore_total(const struct nym_surbstore *st)
{
	return st->total;
}

int
nym_surbstore_take(struct nym_surbstore *st, const uint8_t tag[16], struct nym_reply_surb *rs)
{
	struct tag_surbs *s = find(st, tag);
	int e = NYM_ENOTFOUND;

	while (s && s->n) {
		s->n--;
		st->total--;
		e = nym_reply_surb_parse(rs, s->recs + s->n * s->rec_len, s->rec_len);
		nym_wipe(s->recs + s->n * s->rec_len, s->rec_len);
		if (e == 0) {
			rs->key_rotation = s->rotation;
			break;
		}
		e = NYM_ENOTFOUND;
	}
	if (s && !s->n)
		unlink_tag(st, s);
	return e;
}

/* Made for keys the network no longer uses (current id known)? */
static int
rotated_out(const struct tag_surbs *s, uint32_t cur)
{
	uint8_t parity = nym_rotation_of_id(cur);
	if (parity == NYM_ROTATION_UNKNOWN)
		return 0;
	if ((s->rotation == NYM_ROTATION_ODD || s->rotation == NYM_ROTATION_EVEN) && s->rotation != parity)
		return 1;
	return s->rotation_id != NYM_SURBSTORE_ROTATION_ID_UNKNOWN && s->rotation_id != cur;
}

size_t
nym_surbstore_rotation(struct nym_surbstore *st, uint32_t rotation_id)
{
	size_t dropped = 0;
	struct tag_surbs *s, *n;
	st->rotation_id = rotation_id;
	for (s = st->tags; s; s = n) {
		n = s->next;
		if (rotated_out(s, rotation_id)) {
			dropped += s->n;
			unlink_tag(st, s);
		}
	}
	return dropped;
}

/* ---- bytes ------------------------------------------------------------------- */

#define HDR_LEN 12      /* magic + ntags */
#define TAG_HDR_LEN 29  /* tag, rotation, rotation_id, rec_len, n */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
nym_surbstore_encode(const struct nym_surbstore *st, uint8_t **out, size_t *len)
{
	size_t need = HDR_LEN, ntags = 0, at, k;
	const struct tag_surbs *s;
	const struct tag_surbs **order;
	uint8_t *b;

	for (s = st->tags; s; s = s->next) {
		need += TAG_HDR_LEN + s->n * s->rec_len;
		ntags++;
	}
	if (!(b = malloc(need)))
		return NYM_ENOMEM;
	if (!(order = calloc(ntags ? ntags : 1, sizeof *order))) {
		free(b);
		return NYM_ENOMEM;
	}
	/* least recently fed first: decoding in order rebuilds the same ages */
	k = 0;
	for (s = st->tags; s; s = s->next) {
		size_t i = k++;
		while (i && order[i - 1]->fed > s->fed) {
			order[i] = order[i - 1];
			i--;
		}
		order[i] = s;
	}
	memcpy(b, NYM_SURBSTORE_MAGIC, 8);
	put32(b + 8, (uint32_t)ntags);
	at = HDR_LEN;
	for (k = 0; k < ntags; k++) {
		s = order[k];
		memcpy(b + at, s->tag, 16);
		b[at + 16] = s->rotation;
		put32(b + at + 17, s->rotation_id);
		put32(b + at + 21, (uint32_t)s->rec_len);
		put32(b + at + 25, (uint32_t)s->n);
		memcpy(b + at + TAG_HDR_LEN, s->recs, s->n * s->rec_len);
		at += TAG_HDR_LEN + s->n * s->rec_len;
	}
	free(order);
	*out = b;
	*len = at;
	return 0;
}

int
nym_surbstore_decode(struct nym_surbstore *st, const uint8_t *b, size_t len)
{
	struct nym_surbstore fresh = *st;
	size_t at = HDR_LEN, total = 0;
	uint32_t ntags;

	if (len < HDR_LEN)
		return NYM_ESHORT;
	if (memcmp(b, NYM_SURBSTORE_MAGIC, 8))
		return NYM_EFORMAT;
	ntags = get32(b + 8);
	/* first pass: every length checked, nothing kept */
	for (uint32_t i = 0; i < ntags; i++) {
		uint32_t rl, n;
		if (len - at < TAG_HDR_LEN)
			return NYM_ESHORT;
		rl = get32(b + at + 21);
		n = get32(b + at + 25);
		if (!rl || rl > NYM_SURBSTORE_REC_MAX || !n || n > st->per_tag || total + n > st->limit)
			return NYM_EFORMAT;
		total += n;
		at += TAG_HDR_LEN;
		if ((len - at) / rl < n)
			return NYM_ESHORT;
		at += (size_t)n * rl;
	}
	if (at != len)
		return NYM_EFORMAT;
	fresh.tags = NULL;
	fresh.total = 0;
	fresh.adds = 0;
	at = HDR_LEN;
	for (uint32_t i = 0; i < ntags; i++) {
		const uint8_t *t = b + at;
		size_t rl = get32(t + 21), n = get32(t + 25);
		struct tag_surbs *s;
		if (find(&fresh, t)) { /* a tag twice: not ours */
			tags_free(fresh.tags);
			return NYM_EFORMAT;
		}
		if (!(s = calloc(1, sizeof *s)) || !(s->recs = malloc(n * rl))) {
			free(s);
			tags_free(fresh.tags);
			return NYM_ENOMEM;
		}
		memcpy(s->tag, t, 16);
		s->rotation = t[16];
		s->rotation_id = get32(t + 17);
		s->rec_len = rl;
		s->n = s->cap = n;
		s->fed = ++fresh.adds;
		memcpy(s->recs, t + TAG_HDR_LEN, n * rl);
		s->next = fresh.tags;
		fresh.tags = s;
		fresh.total += n;
		at += TAG_HDR_LEN + n * rl;
	}
	tags_free(st->tags);
	*st = fresh;
	return 0;
}
