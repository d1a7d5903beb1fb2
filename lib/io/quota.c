/* quota.c — inbox byte bounds across threads (see quota.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "io/quota.h"

struct qent {
	uint8_t client[32];
	uint64_t stored, pending;
	int used;
};

struct nym_quota {
	pthread_mutex_t mu;
	uint64_t per_client, total_max, total;
	struct qent *tab;
	size_t cap, n; /* cap: a power of two */
};

static size_t
home(const struct nym_quota *q, const uint8_t c[32])
{
	uint64_t h;
	memcpy(&h, c, sizeof h); /* addresses are keys: uniform already */
	return (size_t)(h * 0x9e3779b97f4a7c15ull >> 17) & (q->cap - 1);
}

static struct qent *
find(struct nym_quota *q, const uint8_t c[32])
{
	for (size_t i = home(q, c); q->tab[i].used; i = (i + 1) & (q->cap - 1))
		if (!memcmp(q->tab[i].client, c, 32))
			return &q->tab[i];
	return NULL;
}

static int
grow(struct nym_quota *q)
{
	struct qent *old = q->tab, *nt;
	size_t oc = q->cap;
	if (!(nt = calloc(oc * 2, sizeof *nt)))
		return NYM_ENOMEM;
	q->tab = nt;
	q->cap = oc * 2;
	for (size_t i = 0; i < oc; i++)
		if (old[i].used) {
			size_t k = home(q, old[i].client);
			while (q->tab[k].used)
				k = (k + 1) & (q->cap - 1);
			q->tab[k] = old[i];
		}
	free(old);
	return 0;
}

static struct qent *
get(struct nym_quota *q, const uint8_t c[32])
{
	struct qent *e = find(q, c);
	size_t i;
	if (e)
		return e;
	if ((q->n + 1) * 2 > q->cap && grow(q) < 0)
		return NULL;
	for (i = home(q, c); q->tab[i].used; i = (i + 1) & (q->cap - 1))
		;
	memset(&q->tab[i], 0, sizeof q->tab[i]);
	memcpy(q->tab[i].client, c, 32);
	q->tab[i].used = 1;
	q->n++;
	return &q->tab[i];
}

/* Forget an address whose counts are both zero (backward-shift deletion). */
static void
drop_if_empty(struct nym_quota *q, struct qent *e)
{
	size_t i = (size_t)(e - q->tab), j, k;
	if (e->stored || e->pending)
		return;
	e->used = 0;
	q->n--;
	for (j = (i + 1) & (q->cap - 1); q->tab[j].used; j = (j + 1) & (q->cap - 1)) {
		k = home(q, q->tab[j].client);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			q->tab[i] = q->tab[j];
			q->tab[j].used = 0;
			i = j;
		}
	}
}

struct nym_quota *
nym_quota_new(uint64_t per_client, uint64_t total)
{
	struct nym_quota *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->cap = 64;
	if (!(q->tab = calloc(q->cap, sizeof *q->tab))) {
		free(q);
		return NULL;
	}
	q->per_client = per_client;
	q->total_max = total;
	pthread_mutex_init(&q->mu, NULL);
	return q;
}

void
nym_quota_free(struct nym_quota *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	free(q->tab);
	free(q);
}

int
nym_quota_admit(struct nym_quota *q, const uint8_t client[32], size_t len)
{
	struct qent *e;
	int r = 0;
	pthread_mutex_lock(&q->mu);
	e = find(q, client);
	if (q->total_max && q->total + len > q->total_max)
		r = NYM_EFULL;
	else if (q->per_client && (e ? e->stored + e->pending : 0) + len > q->per_client)
		r = NYM_EFULL;
	else if (!(e = get(q, client)))
		r = NYM_ENOMEM;
	else {
		e->pending += len;
		q->total += len;
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}

void
nym_quota_settle(struct nym_quota *q, const uint8_t client[32], size_t len)
{
	struct qent *e;
	pthread_mutex_lock(&q->mu);
	if ((e = find(q, client))) {
		uint64_t d = e->pending < len ? e->pending : len;
		e->pending -= d;
		q->total -= d;
		drop_if_empty(q, e);
	}
	pthread_mutex_unlock(&q->mu);
}

void
nym_quota_stored(struct nym_quota *q, const uint8_t client[32], int64_t delta)
{
	struct qent *e;
	pthread_mutex_lock(&q->mu);
	if (delta > 0 && (e = get(q, client))) {
		e->stored += (uint64_t)delta;
		q->total += (uint64_t)delta;
	} else if (delta < 0 && (e = find(q, client))) {
		uint64_t d = (uint64_t)-delta < e->stored ? (uint64_t)-delta : e->stored;
		e->stored -= d;
		q->total -= d;
		drop_if_empty(q, e);
	}
	pthread_mutex_unlock(&q->mu);
}

uint64_t
nym_quota_total(struct nym_quota *q)
{
	uint64_t t;
	pthread_mutex_lock(&q->mu);
	t = q->total;
	pthread_mutex_unlock(&q->mu);
	return t;
}
