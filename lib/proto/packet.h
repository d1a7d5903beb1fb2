/* packet.h — Nym packet size classes by name, and node routing addresses
 * (doc/spec/nym-message.md §1.5, §2.1). The size tags, their lengths and the
 * wire framing are in framing.h (nym_size_tag_len, nym_size_tag_of_len,
 * nym_size_tag_plaintext: the one source of the sizes); this module names
 * the classes and reads and writes addresses.
 *
 * Size classes (tag: name, total, Sphinx payload = total - 348, plaintext =
 * payload - 17):
 *   1 regular 2413/2065/2048 · 2 ack 386/38/21 · 3 extended32 33133/32785/32768
 *   4 extended8 8557/8209/8192 · 5 extended16 16749/16401/16384
 *   6 outfox_regular 2377 · 7 outfox_ack 377 (not Sphinx: no payload sizes)
 *
 * Node routing address (NymNodeRoutingAddress):
 *   IPv4: 04 || port u16 BE || 4 octets    (7 bytes)
 *   IPv6: 06 || port u16 BE || 16 octets   (19 bytes)
 * zero-padded to 32 in Sphinx routing blocks, to 19 as the first hop of a
 * SURB-ack, unpadded in a MixPacket. Decoding ignores what follows. */
#ifndef NYM_PACKET_H
#define NYM_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "proto/framing.h"

/* The tag for a config name ("regular", "ack", "extended8", "extended16",
 * "extended32", "outfox_regular", "outfox_ack"), or NYM_EINVAL. */
int nym_packet_size_by_name(const char *name);
/* The name for a tag, or NULL. */
const char *nym_packet_size_name(uint8_t tag);

#define NYM_NODE_ADDR_V4_LEN 7
#define NYM_NODE_ADDR_V6_LEN 19
#define NYM_NODE_ADDR_STR_MAX 48  /* "[ffff:...:ffff]:65535" + NUL */

struct nym_node_addr {
	uint8_t family;   /* 4 or 6 */
	uint16_t port;
	uint8_t ip[16];   /* IPv4 in the first 4 bytes */
};

/* Write the encoding, zero-padded to outlen bytes (7/19 for none);
 * returns the unpadded length, NYM_ESIZE if outlen is too small,
 * NYM_EADDR for a bad family. */
int nym_node_addr_encode(uint8_t *out, size_t outlen, const struct nym_node_addr *a);
/* Read an encoding (padding after it ignored); returns its unpadded
 * length, or NYM_EADDR (unknown type byte, too few bytes). */
NYM_MUST_CHECK int nym_node_addr_decode(struct nym_node_addr *a, const uint8_t *in, size_t len);
/* "1.2.3.4:1789" or "[::1]:1789" (port 1..65535); NYM_EADDR otherwise. */
NYM_MUST_CHECK int nym_node_addr_parse(struct nym_node_addr *a, const char *s);
/* The same forms; returns the string length or NYM_ESIZE / NYM_EADDR. */
int nym_node_addr_format(char *out, size_t cap, const struct nym_node_addr *a);

#endif
