/* framing.h — how a Sphinx packet is wrapped on the node link and on its way
 * to the client's gateway (doc/spec/nym-message.md §2.1–2.4, §3.1–3.2).
 *
 * Packet size tags (u8; not in size order):
 *   1 regular 2413 · 2 ack 386 · 3 extended32 33133 · 4 extended8 8557 ·
 *   5 extended16 16749 · 6 outfox regular 2377 · 7 outfox ack 377
 * Packet type (u8): 0 Mix (Sphinx), 2 Outfox; 1 (old "Vpn") is invalid.
 * Key rotation (u8): 0 Unknown, 1 Odd, 2 Even.
 *
 * Node-link frame = header || packet, back to back on the stream, no length:
 *   v7 (3 bytes): 07 · size tag · packet type
 *   v8 (4 bytes): 08 · size tag · packet type · key rotation
 *
 * MixPacket (what a client hands to its gateway, one per websocket message):
 *   v1 (request kind 1): type · next hop (7 or 19, unpadded) · packet
 *   v2 (request kind 2): type · rotation · next hop (7 or 19, unpadded) · packet
 * The next hop is a node routing address without padding:
 *   04 · port u16 BE · IPv4 (7 bytes)   or   06 · port u16 BE · IPv6 (19 bytes)
 * and the packet length must be one of the sizes above. */
#ifndef NYM_FRAMING_H
#define NYM_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_SIZE_REGULAR 1
#define NYM_SIZE_ACK 2
#define NYM_SIZE_EXTENDED32 3
#define NYM_SIZE_EXTENDED8 4
#define NYM_SIZE_EXTENDED16 5
#define NYM_SIZE_OUTFOX_REGULAR 6
#define NYM_SIZE_OUTFOX_ACK 7
#define NYM_PACKET_MAX_LEN 33133  /* extended32, the largest size */

#define NYM_PACKET_TYPE_MIX 0
#define NYM_PACKET_TYPE_OUTFOX 2

#define NYM_ROTATION_UNKNOWN 0
#define NYM_ROTATION_ODD 1
#define NYM_ROTATION_EVEN 2

#define NYM_FRAME_V7 7
#define NYM_FRAME_V8 8
#define NYM_FRAME_HEADER_MAX 4

#define NYM_MIX_PACKET_V1 1
#define NYM_MIX_PACKET_V2 2
#define NYM_NEXT_HOP_MAX 19

/* The one set of size queries (packet.h only names the tags).
 * Packet length for any size tag, Outfox included, or NYM_EFLAG. */
long nym_size_tag_len(uint8_t tag);
/* Size tag for a packet length, Outfox included (lengths are unique), or
 * NYM_ESIZE. */
int nym_size_tag_of_len(size_t len);
/* Sphinx plaintext size for a Sphinx size tag (2048 for regular, 21 for
 * ack, ...), or NYM_EFLAG for Outfox and unknown tags: >= 0 exactly for the
 * Sphinx classes 1..5. Sphinx payload = nym_size_tag_len - 348. */
long nym_size_tag_plaintext(uint8_t tag);
/* The rotation byte for a network key_rotation_id: 0 and 0xffffffff →
 * Unknown, odd → Odd, even → Even. */
uint8_t nym_rotation_of_id(uint32_t rotation_id);

struct nym_frame_header {
	uint8_t version;      /* 7 or 8 */
	uint8_t size_tag;
	uint8_t packet_type;
	uint8_t key_rotation; /* Unknown for v7 */
	size_t header_len;    /* 3 or 4 */
	size_t packet_len;    /* from the size tag */
};

/* Write a frame header for a packet of packet_len bytes; returns 3 (v7) or
 * 4 (v8). NYM_EVERSION, NYM_ESIZE (no such size), NYM_EFLAG (type or
 * rotation). */
int nym_frame_header_write(uint8_t out[NYM_FRAME_HEADER_MAX], uint8_t version, size_t packet_len,
                           uint8_t packet_type, uint8_t key_rotation);

/* Incremental decoder for a socket reader. Given the len bytes buffered so
 * far, returns how many bytes the frame at buf needs in all: while the
 * header is incomplete that is 3 (or 4 for v8); once the header is known,
 * header_len + packet_len, and *h is filled. When the return value is <= len
 * the whole frame is there: the packet is buf + h->header_len. Malformed
 * headers give NYM_EVERSION (version not 7/8), NYM_ESIZE (size tag) or
 * NYM_EFLAG (packet type or rotation) as soon as the bad byte is seen. */
NYM_MUST_CHECK long nym_frame_need(struct nym_frame_header *h, const uint8_t *buf, size_t len);
/* The same verdict in the shape of netio's frame_len callback (netio.h):
 * the whole frame's length once the header is in, 0 while it is not, or the
 * negative code. */
NYM_MUST_CHECK long nym_frame_len(const uint8_t *buf, size_t avail);

struct nym_mix_packet {
	uint8_t packet_type;
	uint8_t key_rotation;                  /* v2 only; v1 decodes as Unknown */
	uint8_t next_hop[NYM_NEXT_HOP_MAX];    /* unpadded routing address */
	size_t next_hop_len;                   /* 7 or 19 */
	const uint8_t *packet;
	size_t packet_len;
};

/* Length of the routing address at a (4 → 7, 6 → 19), which may be followed
 * by padding or anything; NYM_EADDR for another type byte or too few bytes.
 * (packet.h's nym_node_addr_decode reads the fields on top of this.) */
NYM_MUST_CHECK int nym_next_hop_len(const uint8_t *a, size_t len);
/* Fill mp->next_hop from a padded (19 or 32 bytes) or unpadded address. */
int nym_mix_packet_set_next_hop(struct nym_mix_packet *mp, const uint8_t *a, size_t len);

/* Bytes the serialized MixPacket takes (0 on a bad version). */
size_t nym_mix_packet_len(int version, const struct nym_mix_packet *mp);
/* Serialize; returns the length. NYM_EVERSION, NYM_ESIZE (cap, or a packet
 * length that is no packet size), NYM_EADDR, NYM_EFLAG. */
int nym_mix_packet_encode(uint8_t *out, size_t cap, int version, const struct nym_mix_packet *mp);
/* Parse; mp->packet points into in. Same errors. */
NYM_MUST_CHECK int nym_mix_packet_decode(struct nym_mix_packet *mp, int version, const uint8_t *in, size_t len);

#endif
