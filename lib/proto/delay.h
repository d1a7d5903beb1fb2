/* delay.h — per-hop mixing delays and the Sphinx route of one packet
 * (doc/spec/nym-message.md §4.7, §6.2; doc/spec/sphinx.md §7.2).
 *
 * A delay is an exponential sample with the configured mean (15 ms for
 * packets and acks by default), rounded to whole nanoseconds; a mean of 0
 * gives 0 without drawing randomness. The delays travel as u64 BE
 * nanoseconds inside the Sphinx header; the last hop's (the gateway's) is
 * never encoded and is left out of expected latencies. */
#ifndef NYM_DELAY_H
#define NYM_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "proto/sphinx.h"

#define NYM_AVERAGE_PACKET_DELAY_NS 15000000ull /* average_packet_delay */
#define NYM_AVERAGE_ACK_DELAY_NS 15000000ull    /* average_ack_delay */

/* One sample: -ln(u) * mean, u uniform in (0, 1] from 8 rng bytes. */
int nym_delay_sample(uint64_t *out, uint64_t mean_ns, const struct nym_rng *rng);

/* Fill r for one packet: version, the n hops (packet order, the last being
 * the destination's gateway), one delay per hop with the given mean, the
 * destination (a client's Ed25519 identity) and the zero identifier.
 * NYM_EROUTE for 0 or more than 5 hops. */
int nym_sphinx_route_prepare(struct nym_sphinx_route *r, uint16_t version,
                      const struct nym_sphinx_node *hops, size_t n,
                      const uint8_t destination[32], uint64_t mean_delay_ns,
                      const struct nym_rng *rng);
/* Sum of the delays of all hops but the last (what the mixes add). */
uint64_t nym_sphinx_route_delay_ns(const struct nym_sphinx_route *r);

#endif
