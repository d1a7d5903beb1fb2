/* chunking.c — fragment headers, split plans and reassembly (doc/spec/nym-message.md §4.5). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/chunking.h"

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
nym_fragment_parse(struct nym_fragment *f, const uint8_t *buf, size_t len)
{
	uint32_t w, lw = 0;
	size_t hl = NYM_FRAG_HEADER_LEN;

	if (len < NYM_FRAG_HEADER_LEN)
		return NYM_ESHORT;
	w = rd32(buf);
	if (!(w & NYM_FRAG_FLAG))
		return NYM_EFORMAT;
	memset(f, 0, sizeof *f);
	f->set_id = w & ~NYM_FRAG_FLAG;
	f->total = buf[4];
	f->position = buf[5];
	if (f->set_id == 0 || f->total == 0 || f->position == 0 || f->position > f->total)
		return NYM_EFORMAT;
	if (buf[6] != 0) {
		if (len < NYM_FRAG_LINKED_HEADER_LEN)
			return NYM_ESHORT;
		lw = rd32(buf + 6);
		if (!(lw & NYM_FRAG_FLAG))
			return NYM_EFORMAT;
		lw &= ~NYM_FRAG_FLAG;
		if (lw == 0 || lw == f->set_id)
			return NYM_EFORMAT;
		if (f->position == 1)
			f->prev_id = lw;
		else if (f->position == 255 && f->total == 255)
			f->next_id = lw;
		else
			return NYM_EFORMAT;
		hl = NYM_FRAG_LINKED_HEADER_LEN;
	}
	f->payload = buf + hl;
	f->payload_len = len - hl;
	return 0;
}

int
nym_fragment_header_write(uint8_t out[NYM_FRAG_LINKED_HEADER_LEN], const struct nym_fragment *f)
{
	uint32_t link = f->prev_id ? f->prev_id : f->next_id;

	wr32(out, f->set_id | NYM_FRAG_FLAG);
	out[4] = f->total;
	out[5] = f->position;
	if (!link) {
		out[6] = 0;
		return NYM_FRAG_HEADER_LEN;
	}
	wr32(out + 6, link | NYM_FRAG_FLAG);
	return NYM_FRAG_LINKED_HEADER_LEN;
}

void
nym_fragment_id_encode(uint8_t out[NYM_FRAG_ID_LEN], uint32_t set_id, uint8_t position)
{
	wr32(out, set_id);
	out[4] = position;
}

int
nym_fragment_id_decode(uint32_t *set_id, uint8_t *position, const uint8_t in[NYM_FRAG_ID_LEN])
{
	uint32_t v = rd32(in);

	if (v & NYM_FRAG_FLAG) /* negative i32 */
		return NYM_EFORMAT;
	*set_id = v;
	*position = in[4];
	return 0;
}

/* --- sizing ------------------------------------------------------------------ */

size_t
nym_chunking_sets(size_t n, size_t P)
{
	size_t U = P - NYM_FRAG_HEADER_LEN, one = 255 * U, edge = 255 * U - 3, mid = 255 * U - 6;

	if (P < NYM_FRAG_MIN_CAPACITY)
		return 0;
	if (n <= one)
		return 1;
	if (n <= 2 * edge)
		return 2;
	return 2 + (n - 2 * edge + mid - 1) / mid;
}

size_t
nym_chunking_required_fragments(size_t n, size_t P, size_t *space_left)
{
	size_t U = P - NYM_FRAG_HEADER_LEN, L = P - NYM_FRAG_LINKED_HEADER_LEN;
	size_t k = nym_chunking_sets(n, P), q, r, f, linked, full;

	*space_left = 0;
	if (k == 0)
		return 0;
	if (k == 1) {
		if (n < U) {
			*space_left = U - n;
			return 1;
		}
		q = n / U;
		r = n % U;
		if (r)
			*space_left = U - r;
		return r ? q + 1 : q;
	}
	/* All sets but the last are full: 2k-3 linked fragments among them. */
	linked = 2 * k - 3;
	full = 255 * (k - 1);
	f = n - linked * L - (full - linked) * U;
	if (f < L) {
		*space_left = L - f;
		return full + 1;
	}
	if (f == L)
		return full + 1;
	q = (f - L) / U;
	r = (f - L) % U;
	if (r == 0)
		return full + q + 1;
	*space_left = U - r;
	return full + q + 2;
}

int
nym_chunking_draw_set_id(uint32_t *id, const struct nym_rng *rng)
{
	uint8_t b[4];
	uint32_t v;
	int e;

	for (;;) {
		if ((e = nym_rng_fill(rng, b, 4)) < 0)
			return e;
		v = rd32(b);
		if (v == 0 || v == 0x80000000u) /* 0 and INT32_MIN are redrawn */
			continue;
		*id = (v & 0x80000000u) ? (uint32_t)0 - v : v; /* |i32| */
		return 0;
	}
}

/* --- split plans ------------------------------------------------------------- */

int
nym_split_init(struct nym_split *s, const uint8_t *msg, size_t msg_len, size_t P,
               const struct nym_rng *rng)
{
	size_t space, i;
	int e;

	memset(s, 0, sizeof *s);
	if (P < NYM_FRAG_MIN_CAPACITY || msg_len > SIZE_MAX / 2)
		return NYM_EINVAL;
	s->msg = msg;
	s->msg_len = msg_len;
	s->P = P;
	s->nfrags = nym_chunking_required_fragments(msg_len + 1, P, &space);
	s->padded_len = msg_len + 1 + space;
	s->nsets = nym_chunking_sets(msg_len + 1, P);
	s->set_ids = malloc(s->nsets * sizeof *s->set_ids);
	if (!s->set_ids)
		return NYM_ENOMEM;
	for (i = 0; i < s->nsets; i++)
		if ((e = nym_chunking_draw_set_id(&s->set_ids[i], rng)) < 0) {
			nym_split_free(s);
			return e;
		}
	return 0;
}

void
nym_split_free(struct nym_split *s)
{
	free(s->set_ids);
	memset(s, 0, sizeof *s);
}

/* Copy padded[off, off+len) where padded = msg || 01 || 00...; */
static void
padded_copy(const struct nym_split *s, uint8_t *out, size_t off, size_t len)
{
	size_t n = 0;

	if (off < s->msg_len) {
		n = s->msg_len - off < len ? s->msg_len - off : len;
		memcpy(out, s->msg + off, n);
	}
	for (; n < len; n++)
		out[n] = off + n == s->msg_len ? 0x01 : 0x00;
}

int
nym_split_fragment(const struct nym_split *s, size_t i, uint8_t *out, uint8_t id_out[NYM_FRAG_ID_LEN])
{
	size_t U = s->P - NYM_FRAG_HEADER_LEN, L = s->P - NYM_FRAG_LINKED_HEADER_LEN;
	size_t set = i / 255, pos = i % 255 + 1, set_off, first, off, len;
	struct nym_fragment f = { 0 };
	int hl;

	if (i >= s->nfrags)
		return NYM_ERANGE;
	f.set_id = s->set_ids[set];
	f.total = set + 1 < s->nsets ? 255 : (uint8_t)(s->nfrags - 255 * set);
	f.position = (uint8_t)pos;
	if (set > 0 && pos == 1)
		f.prev_id = s->set_ids[set - 1];
	if (set + 1 < s->nsets && pos == 255)
		f.next_id = s->set_ids[set + 1];
	set_off = set == 0 ? 0 : (255 * U - 3) + (set - 1) * (255 * U - 6);
	first = set > 0 ? L : U;
	if (pos == 1) {
		off = set_off;
		len = first;
	} else {
		off = set_off + first + (pos - 2) * U;
		len = f.next_id ? L : U;
	}
	hl = nym_fragment_header_write(out, &f);
	padded_copy(s, out + hl, off, len);
	if (id_out)
		nym_fragment_id_encode(id_out, f.set_id, f.position);
	return (int)(hl + len);
}

/* --- reassembly -------------------------------------------------------------- */

struct rset {
	uint32_t id;
	uint8_t total, got, done;
	uint32_t prev, next;      /* links, known once complete */
	uint64_t last_ms;         /* last fragment (or completion) time */
	size_t bytes;             /* accounted bytes */
	uint8_t **part;           /* total payload copies (NULL when done) */
	size_t *plen;
};

struct nym_reasm {
	struct nym_reasm_limits lim;
	struct rset **tab;        /* open addressing, linear probing */
	size_t cap, n;            /* cap is a power of two */
	size_t bytes;
	uint64_t last_check;
	size_t expired_sets, expired_frags; /* incomplete sets dropped, ever */
};

#define SET_OVERHEAD(total) (sizeof(struct rset) + (size_t)(total) * (sizeof(uint8_t *) + sizeof(size_t)))

static size_t
slot_of(const struct nym_reasm *r, uint32_t id)
{
	return (size_t)(id * 2654435761u) & (r->cap - 1);
}

static struct rset *
lookup(const struct nym_reasm *r, uint32_t id)
{
	size_t i;

	if (!r->cap)
		return NULL;
	for (i = slot_of(r, id); r->tab[i]; i = (i + 1) & (r->cap - 1))
		if (r->tab[i]->id == id)
			return r->tab[i];
	return NULL;
}

static void
place(struct nym_reasm *r, struct rset *s)
{
	size_t i = slot_of(r, s->id);

	while (r->tab[i])
		i = (i + 1) & (r->cap - 1);
	r->tab[i] = s;
}

static int
grow(struct nym_reasm *r)
{
	size_t old = r->cap, i;
	struct rset **ot = r->tab;

	r->cap = old ? old * 2 : 64;
	r->tab = calloc(r->cap, sizeof *r->tab);
	if (!r->tab) {
		r->tab = ot;
		r->cap = old;
		return NYM_ENOMEM;
	}
	for (i = 0; i < old; i++)
		if (ot[i])
			place(r, ot[i]);
	free(ot);
	return 0;
}

static void
free_parts(struct nym_reasm *r, struct rset *s)
{
	if (s->part) {
		for (size_t i = 0; i < s->total; i++)
			free(s->part[i]);
		free(s->part);
		free(s->plen);
		s->part = NULL;
		s->plen = NULL;
	}
	r->bytes -= s->bytes;
	s->bytes = 0;
}

/* Remove s from the table (backward-shift deletion) and free it. */
static void
drop(struct nym_reasm *r, struct rset *s)
{
	size_t i = slot_of(r, s->id), j, k;

	while (r->tab[i] != s)
		i = (i + 1) & (r->cap - 1);
	r->tab[i] = NULL;
	for (j = (i + 1) & (r->cap - 1); r->tab[j]; j = (j + 1) & (r->cap - 1)) {
		k = slot_of(r, r->tab[j]->id);
		/* move tab[j] into the hole at i unless its home lies in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			r->tab[i] = r->tab[j];
			r->tab[j] = NULL;
			i = j;
		}
	}
	free_parts(r, s);
	free(s);
	r->n--;
}

struct nym_reasm *
nym_reasm_new(const struct nym_reasm_limits *limits)
{
	struct nym_reasm *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	if (limits)
		r->lim = *limits;
	else {
		r->lim.max_bytes = NYM_REASM_DEFAULT_MAX_BYTES;
		r->lim.max_sets = NYM_REASM_DEFAULT_MAX_SETS;
		r->lim.expiry_ms = NYM_REASM_DEFAULT_EXPIRY_MS;
	}
	return r;
}

void
nym_reasm_free(struct nym_reasm *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->cap; i++)
		if (r->tab[i]) {
			free_parts(r, r->tab[i]);
			free(r->tab[i]);
		}
	free(r->tab);
	free(r);
}

size_t
nym_reasm_expire(struct nym_reasm *r, uint64_t now_ms)
{
	size_t i = 0, dropped = 0;

	r->last_check = now_ms;
	while (i < r->cap) {
		struct rset *s = r->tab[i];
		if (s && now_ms >= s->last_ms && now_ms - s->last_ms >= r->lim.expiry_ms) {
			dropped += !s->done;
			if (!s->done) {
				r->expired_sets++;
				r->expired_frags += s->got;
			}
			drop(r, s); /* may shift a later entry into slot i: look again */
			continue;
		}
		i++;
	}
	return dropped;
}

size_t
nym_reasm_bytes(const struct nym_reasm *r)
{
	return r->bytes;
}

size_t
nym_reasm_sets(const struct nym_reasm *r)
{
	return r->n;
}

static int room_for_set(struct nym_reasm *r, uint64_t now_ms);

size_t
nym_reasm_expired(const struct nym_reasm *r, size_t *fragments)
{
	if (fragments)
		*fragments = r->expired_frags;
	return r->expired_sets;
}

int
nym_reasm_each(const struct nym_reasm *r,
    int (*fn)(void *arg, const struct nym_fragment *f, uint64_t last_ms), void *arg)
{
	struct nym_fragment f;
	int e;

	for (size_t i = 0; i < r->cap; i++) {
		const struct rset *s = r->tab[i];
		if (!s)
			continue;
		memset(&f, 0, sizeof f);
		f.set_id = s->id;
		f.total = s->total;
		if (s->done) {
			if ((e = fn(arg, &f, s->last_ms)) < 0)
				return e;
			continue;
		}
		for (size_t k = 0; k < s->total; k++) {
			if (!s->part[k])
				continue;
			f.position = (uint8_t)(k + 1);
			f.prev_id = k == 0 ? s->prev : 0;
			f.next_id = k == 254 && s->total == 255 ? s->next : 0;
			f.payload = s->part[k];
			f.payload_len = s->plen[k];
			if ((e = fn(arg, &f, s->last_ms)) < 0)
				return e;
		}
	}
	return 0;
}

size_t
nym_reasm_chain(const struct nym_reasm *r, uint32_t set_id, uint32_t *ids, size_t max)
{
	const struct rset *s = lookup(r, set_id), *p;
	size_t n = 0, steps = 0;

	if (!s || !s->done || !max)
		return 0;
	/* back to the first set, then forward: links of done sets are kept */
	while (s->prev && (p = lookup(r, s->prev)) && p->done && p->next == s->id && steps++ <= r->n)
		s = p;
	for (steps = 0; s && n < max && steps++ <= r->n; ) {
		ids[n++] = s->id;
		p = s->next ? lookup(r, s->next) : NULL;
		s = p && p->done && p->prev == s->id ? p : NULL;
	}
	return n;
}

int
nym_reasm_mark_done(struct nym_reasm *r, uint32_t set_id, uint64_t now_ms)
{
	struct rset *s;
	int e;

	if (!set_id || set_id & NYM_FRAG_FLAG)
		return NYM_EFORMAT;
	if ((s = lookup(r, set_id))) {
		free_parts(r, s);
		s->got = s->total;
		s->done = 1;
		if (now_ms > s->last_ms)
			s->last_ms = now_ms;
		return 0;
	}
	if ((e = room_for_set(r, now_ms)) < 0)
		return e;
	if ((r->n + 1) * 2 > r->cap && (e = grow(r)) < 0)
		return e;
	if (!(s = calloc(1, sizeof *s)))
		return NYM_ENOMEM;
	s->id = set_id;
	s->done = 1;
	s->last_ms = now_ms;
	place(r, s);
	r->n++;
	return 0;
}

static int
complete(const struct rset *s)
{
	return s && !s->done && s->got == s->total;
}

/* If the message containing set s is complete, return its first set. */
static struct rset *
chain_start(struct nym_reasm *r, struct rset *s)
{
	struct rset *c = s, *p;
	size_t steps;

	for (steps = 0; c->prev; steps++) {
		p = lookup(r, c->prev);
		if (!complete(p) || p->next != c->id || steps > r->n)
			return NULL;
		c = p;
	}
	for (p = c, steps = 0; p->next; steps++) {
		struct rset *nx = lookup(r, p->next);
		if (!complete(nx) || nx->prev != p->id || steps > r->n)
			return NULL;
		p = nx;
	}
	return c;
}

static int
assemble(struct nym_reasm *r, struct rset *first, uint64_t now_ms, uint8_t **out, size_t *out_len)
{
	struct rset *c;
	size_t total = 0, off = 0, i;
	uint8_t *buf;

	for (c = first; c; c = c->next ? lookup(r, c->next) : NULL)
		for (i = 0; i < c->total; i++)
			total += c->plen[i];
	buf = malloc(total ? total : 1);
	if (!buf)
		return NYM_ENOMEM;
	for (c = first; c; c = c->next ? lookup(r, c->next) : NULL) {
		for (i = 0; i < c->total; i++) {
			memcpy(buf + off, c->part[i], c->plen[i]);
			off += c->plen[i];
		}
		/* Keep the id as "recently completed" so duplicates are refused. */
		free_parts(r, c);
		c->done = 1;
		c->last_ms = now_ms;
	}
	*out = buf;
	*out_len = total;
	return 1;
}

/* Make room for one more set: expire, then forget the oldest completed id. */
static int
room_for_set(struct nym_reasm *r, uint64_t now_ms)
{
	struct rset *oldest = NULL;

	if (r->n < r->lim.max_sets)
		return 0;
	nym_reasm_expire(r, now_ms);
	if (r->n < r->lim.max_sets)
		return 0;
	for (size_t i = 0; i < r->cap; i++)
		if (r->tab[i] && r->tab[i]->done && (!oldest || r->tab[i]->last_ms < oldest->last_ms))
			oldest = r->tab[i];
	if (!oldest)
		return NYM_EFULL;
	drop(r, oldest);
	return 0;
}

int
nym_reasm_add(struct nym_reasm *r, const struct nym_fragment *f, uint64_t now_ms,
              uint8_t **out, size_t *out_len)
{
	struct rset *s;
	size_t need, idx = (size_t)f->position - 1;
	uint8_t *copy;
	int e;

	*out = NULL;
	*out_len = 0;
	if (f->total == 0 || f->position == 0 || f->position > f->total || f->set_id == 0)
		return NYM_EFORMAT;
	/* time going back (state restored from disk, oldest first per set) does
	 * not trigger a sweep: the caller expires once it is done */
	if (now_ms >= r->last_check && now_ms - r->last_check >= NYM_REASM_CHECK_INTERVAL_MS)
		nym_reasm_expire(r, now_ms);
	s = lookup(r, f->set_id);
	if (s && s->done)
		return NYM_EREPLAY;
	if (s && s->total != f->total)
		return NYM_EFORMAT;
	need = f->payload_len + (s ? 0 : SET_OVERHEAD(f->total));
	if (s && s->part[idx])
		need = f->payload_len > s->plen[idx] ? f->payload_len - s->plen[idx] : 0;
	if (r->bytes + need > r->lim.max_bytes) {
		nym_reasm_expire(r, now_ms);
		if (r->bytes + need > r->lim.max_bytes)
			return NYM_EFULL;
		s = lookup(r, f->set_id); /* it may have expired */
		if (!s)
			need = f->payload_len + SET_OVERHEAD(f->total);
		if (r->bytes + need > r->lim.max_bytes)
			return NYM_EFULL;
	}
	if (!s) {
		if ((e = room_for_set(r, now_ms)) < 0)
			return e;
		if ((r->n + 1) * 2 > r->cap && (e = grow(r)) < 0)
			return e;
		s = calloc(1, sizeof *s);
		if (!s)
			return NYM_ENOMEM;
		s->part = calloc(f->total, sizeof *s->part);
		s->plen = calloc(f->total, sizeof *s->plen);
		if (!s->part || !s->plen) {
			free(s->part);
			free(s->plen);
			free(s);
			return NYM_ENOMEM;
		}
		s->id = f->set_id;
		s->total = f->total;
		s->bytes = SET_OVERHEAD(f->total);
		r->bytes += s->bytes;
		place(r, s);
		r->n++;
	}
	copy = malloc(f->payload_len ? f->payload_len : 1);
	if (!copy)
		return NYM_ENOMEM;
	memcpy(copy, f->payload, f->payload_len);
	s->last_ms = now_ms;
	if (s->part[idx]) { /* duplicate position: the newer copy wins */
		r->bytes -= s->plen[idx];
		s->bytes -= s->plen[idx];
		free(s->part[idx]);
	} else
		s->got++;
	s->part[idx] = copy;
	s->plen[idx] = f->payload_len;
	s->bytes += f->payload_len;
	r->bytes += f->payload_len;
	if (f->position == 1)
		s->prev = f->prev_id;
	if (f->position == 255 && s->total == 255)
		s->next = f->next_id;
	if (!complete(s))
		return 0;
	{
		struct rset *first = chain_start(r, s);
		if (!first)
			return 0;
		return assemble(r, first, now_ms, out, out_len);
	}
}
