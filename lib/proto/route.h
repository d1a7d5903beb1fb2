/* route.h — a route through the topology: the nodes a Sphinx packet visits,
 * in packet order (doc/spec/topology.md, doc/spec/nym-message.md §8), chosen as the
 * official client chooses them; and the route document `nym-topology route`
 * prints and the tools read back ({"destination", "hops": [node...]}, the
 * nodes as in our normalized document). */
#ifndef NYM_ROUTE_H
#define NYM_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "proto/topology.h"

#define NYM_ROUTE_MAX_HOPS 5

/* A route: hops in packet order (mix layers 1..3, then the egress gateway). */
struct nym_route {
	struct nym_node hops[NYM_ROUTE_MAX_HOPS];
	size_t n_hops;
};

/* Pick a route like the official client: one node uniformly at random from
 * each of layers 1, 2, 3, then the node whose identity is egress_identity
 * (any known node, as with ignore_egress_epoch_roles; NYM_EROUTE if unknown).
 * egress_identity NULL: a gateway chosen uniformly at random. */
int nym_route_choose(const struct nym_topology *t, const struct nym_rng *rng,
                       const uint8_t *egress_identity, struct nym_route *r,
                       char *err, size_t errlen);

/* {"destination": <address or null>, "hops": [node...]}; destination may be NULL. */
int nym_route_dump(const struct nym_route *r, const char *destination, char **out);
/* Read a route document: needs hops[].mix_host and hops[].sphinx_key (other
 * node fields optional); destination copied into dest (if not NULL, "" when
 * null). Unknown fields are ignored. */
int nym_route_parse(struct nym_route *r, char *dest, size_t destcap,
                    const char *json, size_t len, char *err, size_t errlen);

#endif
