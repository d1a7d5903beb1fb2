/* delay.c — exponential per-hop delays, one packet's Sphinx route. */
#include <math.h>
#include <string.h>

#include "base/err.h"
#include "proto/delay.h"

int
nym_delay_sample(uint64_t *out, uint64_t mean_ns, const struct nym_rng *rng)
{
	uint8_t b[8];
	uint64_t x = 0;
	double u, d;
	int e;

	*out = 0;
	if (mean_ns == 0)
		return 0;
	if ((e = nym_rng_fill(rng, b, sizeof b)) < 0)
		return e;
	for (int i = 0; i < 8; i++)
		x = x << 8 | b[i];
	u = (double)((x >> 11) + 1) / 9007199254740992.0; /* (0, 1] */
	d = -log(u) * (double)mean_ns;
	*out = d >= 1.8e19 ? UINT64_MAX : (uint64_t)(d + 0.5); /* round half up */
	return 0;
}

int
nym_sphinx_route_prepare(struct nym_sphinx_route *r, uint16_t version,
                  const struct nym_sphinx_node *hops, size_t n,
                  const uint8_t destination[32], uint64_t mean_delay_ns,
                  const struct nym_rng *rng)
{
	int e;

	memset(r, 0, sizeof *r);
	if (n == 0 || n > NYM_SPHINX_MAX_HOPS)
		return NYM_EROUTE;
	r->version = version;
	r->nhops = n;
	memcpy(r->hop, hops, n * sizeof *hops);
	memcpy(r->destination, destination, 32);
	for (size_t i = 0; i < n; i++)
		if ((e = nym_delay_sample(&r->delay_ns[i], mean_delay_ns, rng)) < 0)
			return e;
	return 0;
}

uint64_t
nym_sphinx_route_delay_ns(const struct nym_sphinx_route *r)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < r->nhops; i++)
		s += r->delay_ns[i];
	return s;
}
