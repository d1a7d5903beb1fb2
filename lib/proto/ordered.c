/* ordered.c — ordered delivery of one connection direction (doc/spec/socks5.md §7.3). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ordered.h"

struct nym_ordered_slot {
	uint64_t seq;
	uint8_t *data;
	size_t len;
	int used;
};

#define NSLOTS (NYM_ORDERED_WINDOW + 1)

void
nym_ordered_init(struct nym_ordered *o, size_t max_bytes)
{
	memset(o, 0, sizeof *o);
	o->max_bytes = max_bytes;
}

void
nym_ordered_free(struct nym_ordered *o)
{
	if (o->slots)
		for (size_t i = 0; i < NSLOTS; i++)
			free(o->slots[i].data);
	free(o->slots);
	nym_ordered_init(o, o->max_bytes);
}

int
nym_ordered_write(struct nym_ordered *o, uint64_t seq, int closed, const uint8_t *data, size_t len)
{
	struct nym_ordered_slot *s;
	uint8_t *copy = NULL;

	if (closed)
		o->has_closed = 1, o->closed_at = seq;
	if (seq >= o->next && seq - o->next > NYM_ORDERED_WINDOW)
		return NYM_ERANGE;
	if (seq < o->next)
		return NYM_EREPLAY;
	if (!o->slots && !(o->slots = calloc(NSLOTS, sizeof *o->slots)))
		return NYM_ENOMEM;
	s = &o->slots[seq % NSLOTS];
	if (s->used)
		return NYM_EREPLAY; /* within the window a used slot holds this very seq */
	if (len > o->max_bytes - o->held_bytes)
		return NYM_EFULL;
	if (len && !(copy = malloc(len)))
		return NYM_ENOMEM;
	if (len)
		memcpy(copy, data, len);
	s->seq = seq, s->data = copy, s->len = len, s->used = 1;
	o->held++, o->held_bytes += len;
	return 0;
}

int
nym_ordered_read(struct nym_ordered *o, uint8_t **data, size_t *len, uint64_t *seq)
{
	struct nym_ordered_slot *s;

	if (!o->slots || !(s = &o->slots[o->next % NSLOTS])->used || s->seq != o->next)
		return 0;
	*data = s->data, *len = s->len;
	if (seq)
		*seq = s->seq;
	o->held--, o->held_bytes -= s->len;
	memset(s, 0, sizeof *s);
	if (o->has_closed && o->next >= o->closed_at)
		o->remote_closed = 1;
	o->next++;
	return 1;
}
