/* route.c — a route through the topology: chosen like the official client,
 * written and read back as JSON (doc/spec/topology.md, doc/spec/nym-message.md §8). */
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "proto/route.h"
#include "proto/topojson.h"

#define FAIL(code, ...) nym_err_set(err, errlen, code, __VA_ARGS__)

/* ---- routes ------------------------------------------------------------------ */

/* Uniform integer in [0, n) from the rng, by rejection (no modulo bias). */
static int
uniform(const struct nym_rng *rng, uint32_t n, uint32_t *out)
{
	uint32_t floor_ = (uint32_t)(0u - n) % n; /* 2^32 mod n */

	for (;;) {
		uint8_t b[4];
		uint32_t x;
		int r = nym_rng_fill(rng, b, 4);
		if (r < 0)
			return r;
		x = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		if (x >= floor_) {
			*out = x % n;
			return 0;
		}
	}
}

int
nym_route_choose(const struct nym_topology *t, const struct nym_rng *rng,
                   const uint8_t *egress_identity, struct nym_route *rt,
                   char *err, size_t errlen)
{
	const struct nym_node *egress = NULL;
	uint32_t pick;
	int r;

	memset(rt, 0, sizeof *rt);
	for (int l = 1; l <= 3; l++) {
		uint32_t count = 0;
		for (size_t i = 0; i < t->n_nodes; i++)
			count += t->nodes[i].layer == l;
		if (!count)
			return FAIL(NYM_EROUTE, "layer %d is empty: no route", l);
		if ((r = uniform(rng, count, &pick)) < 0)
			return FAIL(r, "randomness: %s", nym_strerror(r));
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].layer == l && pick-- == 0) {
				rt->hops[rt->n_hops++] = t->nodes[i];
				break;
			}
	}
	if (egress_identity) {
		if (!(egress = nym_topology_find_identity(t, egress_identity))) {
			char s[NYM_B58_KEY_MAX];
			nym_base58_encode(s, sizeof s, egress_identity, 32);
			return FAIL(NYM_EROUTE, "gateway %s is not in the topology", s);
		}
	} else {
		uint32_t count = 0;
		for (size_t i = 0; i < t->n_nodes; i++)
			count += t->nodes[i].is_gateway;
		if (!count)
			return FAIL(NYM_EROUTE, "no gateway in the topology");
		if ((r = uniform(rng, count, &pick)) < 0)
			return FAIL(r, "randomness: %s", nym_strerror(r));
		for (size_t i = 0; i < t->n_nodes; i++)
			if (t->nodes[i].is_gateway && pick-- == 0) {
				egress = &t->nodes[i];
				break;
			}
	}
	rt->hops[rt->n_hops++] = *egress;
	return 0;
}

int
nym_route_dump(const struct nym_route *rt, const char *destination, char **out)
{
	json_t *o = json_object(), *hops = json_array();

	json_object_set_new(o, "destination", nym_tj_str_or_null(destination));
	for (size_t i = 0; i < rt->n_hops; i++)
		json_array_append_new(hops, nym_tj_node_json(&rt->hops[i], i + 1 == rt->n_hops &&
							       rt->hops[i].is_gateway));
	json_object_set_new(o, "hops", hops);
	return nym_tj_dumps(o, 0, out);
}

int
nym_route_parse(struct nym_route *rt, char *dest, size_t destcap, const char *json, size_t len,
                char *err, size_t errlen)
{
	json_t *root = nym_tj_load_object("route", json, len, err, errlen), *hops, *x, *d;
	size_t i;
	int r = 0;

	memset(rt, 0, sizeof *rt);
	if (!root)
		return NYM_EJSON;
	hops = json_object_get(root, "hops");
	if (!json_is_array(hops)) {
		r = FAIL(NYM_EJSON, "route: missing array \"hops\"");
		goto out;
	}
	if (json_array_size(hops) < 1 || json_array_size(hops) > NYM_ROUTE_MAX_HOPS) {
		r = FAIL(NYM_EROUTE, "route: %zu hops (1..%d allowed)", json_array_size(hops), NYM_ROUTE_MAX_HOPS);
		goto out;
	}
	json_array_foreach(hops, i, x) {
		json_t *lay = json_is_object(x) ? json_object_get(x, "layer") : NULL;
		if ((r = nym_tj_parse_doc_node(x, &rt->hops[i], 0, 1, "route hop", i, err, errlen)) < 0)
			goto out;
		if (json_is_integer(lay) && json_integer_value(lay) >= 1 && json_integer_value(lay) <= 3)
			rt->hops[i].layer = (uint8_t)json_integer_value(lay);
	}
	rt->n_hops = json_array_size(hops);
	d = json_object_get(root, "destination");
	if (dest && destcap)
		dest[0] = 0;
	if (d && !json_is_null(d)) {
		if (!json_is_string(d)) {
			r = FAIL(NYM_EJSON, "route: \"destination\" is not a string");
			goto out;
		}
		if (dest && (r = nym_tj_copy_str(dest, destcap, json_string_value(d), "route", "destination",
					  err, errlen)) < 0)
			goto out;
	}
out:
	json_decref(root);
	return r;
}
