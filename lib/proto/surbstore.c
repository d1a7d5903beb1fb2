/* surbstore.c — reply SURBs per sender tag (surbstore.h). A few senders at
 * a time: a list of tags, each an array of records. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/surbstore.h"

struct tag_surbs {
	struct tag_surbs *next;
	uint8_t tag[16];
	uint8_t rotation;
	size_t rec_len, n, cap;
	uint8_t *recs;
};

struct nym_surbstore {
	struct tag_surbs *tags;
};

struct nym_surbstore *
nym_surbstore_new(void)
{
	return calloc(1, sizeof(struct nym_surbstore));
}

void
nym_surbstore_free(struct nym_surbstore *st)
{
	if (!st)
		return;
	for (struct tag_surbs *s = st->tags, *n; s; s = n) {
		n = s->next;
		if (s->recs)
			nym_wipe(s->recs, s->cap * s->rec_len);
		free(s->recs);
		free(s);
	}
	free(st);
}

static struct tag_surbs *
find(const struct nym_surbstore *st, const uint8_t tag[16])
{
	for (struct tag_surbs *s = st->tags; s; s = s->next)
		if (!memcmp(s->tag, tag, 16))
			return s;
	return NULL;
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
	if (s->n + n > s->cap) {
		size_t cap = s->n + n + 16;
		uint8_t *nr = calloc(cap, s->rec_len);
		if (!nr)
			return NYM_ENOMEM;
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
	s->rotation = rotation;
	return 0;
}

size_t
nym_surbstore_count(const struct nym_surbstore *st, const uint8_t tag[16])
{
	const struct tag_surbs *s = find(st, tag);
	return s ? s->n : 0;
}

int
nym_surbstore_take(struct nym_surbstore *st, const uint8_t tag[16], struct nym_reply_surb *rs)
{
	struct tag_surbs *s = find(st, tag);
	int e;

	while (s && s->n) {
		s->n--;
		e = nym_reply_surb_parse(rs, s->recs + s->n * s->rec_len, s->rec_len);
		nym_wipe(s->recs + s->n * s->rec_len, s->rec_len);
		if (e == 0) {
			rs->key_rotation = s->rotation;
			return 0;
		}
	}
	return NYM_ENOTFOUND;
}
