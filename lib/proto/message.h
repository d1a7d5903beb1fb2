/* message.h — the NymMessage envelope and its padding (doc/spec/nym-message.md
 * §4.2–4.4, §7.3–7.4).
 *
 *   NymMessage = type (u8) || body
 *     0 Plain      body = application bytes
 *     1 Repliable  body = sender_tag (16) || content_tag (u8) || content
 *     2 Reply      body = content_tag (u8) || content
 *
 *   Repliable content:
 *     0 DataV1            n (u32 BE) || n × ReplySurb v1 (1164) || data
 *     1 AdditionalSurbsV1 n (u32 BE) || n × ReplySurb v1
 *     2 HeartbeatV1       as 1
 *     3 DataV2            n (u16 BE) || hops (u8) || key_rotation (u8) ||
 *                         n × ReplySurb (16 + 348 + 32 + hops·16) || data
 *     4 AdditionalSurbsV2 as 3 without data
 *     5 HeartbeatV2       as 4
 *   Reply content:
 *     0 Data        data (at least 1 byte)
 *     1 SurbRequest recipient address (96) || amount (u32 BE)
 *
 * A ReplySurb is reply_key (16) || Sphinx SURB; this module treats SURBs as
 * opaque fixed-size records (lib/proto/reply.h interprets them).
 *
 * Padding: padded = NymMessage || 01 || 00 … so that the fragments fill their
 * packets exactly (lib/proto/chunking.h does it on the fly); removal keeps what
 * precedes the LAST 01 byte. */
#ifndef NYM_MESSAGE_H
#define NYM_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_MESSAGE_PLAIN 0
#define NYM_MESSAGE_REPLIABLE 1
#define NYM_MESSAGE_REPLY 2

#define NYM_REPLIABLE_DATA_V1 0
#define NYM_REPLIABLE_SURBS_V1 1
#define NYM_REPLIABLE_HEARTBEAT_V1 2
#define NYM_REPLIABLE_DATA_V2 3
#define NYM_REPLIABLE_SURBS_V2 4
#define NYM_REPLIABLE_HEARTBEAT_V2 5

#define NYM_REPLY_DATA 0
#define NYM_REPLY_SURB_REQUEST 1

#define NYM_SENDER_TAG_LEN 16
#define NYM_RECIPIENT_LEN 96
/* Serialized ReplySurb sizes for 4 hops: v1 (192-byte keys) and v2 (seeds). */
#define NYM_REPLY_SURB_V1_LEN 1164
#define NYM_REPLY_SURB_V2_HOP_LEN 16
#define NYM_REPLY_SURB_V2_LEN(hops) (16 + 348 + 32 + (size_t)(hops) * 16)
/* Most SURBs a SurbRequest may ask for (larger amounts are clamped). */
#define NYM_MAX_SURB_REQUEST 500

/* Bytes a packet of Sphinx plaintext size `plaintext` leaves for one
 * fragment: plaintext − 405 (SURB-ack block) − 32 (ephemeral key or reply
 * key digest). 1611 for regular (2048), 32331 for extended32. */
#define NYM_FRAGMENT_CAPACITY(plaintext) ((size_t)(plaintext) - 405 - 32)

/* A NymMessage, parsed (pointers into the parsed buffer) or to be encoded. */
struct nym_message {
	uint8_t type;                            /* NYM_MSG_* */
	uint8_t content_tag;                     /* repliable / reply content */
	uint8_t sender_tag[NYM_SENDER_TAG_LEN];  /* repliable */
	/* repliable SURBs: nsurbs records of surb_len bytes at surbs */
	size_t nsurbs, surb_len;
	uint8_t surb_hops, surb_rotation;        /* v2 batch header */
	const uint8_t *surbs;
	/* plain data, DataV1/V2 message, reply data */
	const uint8_t *data;
	size_t data_len;
	/* reply SurbRequest */
	uint8_t recipient[NYM_RECIPIENT_LEN];
	uint32_t amount;
};

/* Parse a serialized (unpadded) NymMessage by the reference rules.
 * NYM_EFLAG unknown type/content tag, NYM_ESHORT truncated, NYM_EFORMAT. */
NYM_MUST_CHECK int nym_message_parse(struct nym_message *m, const uint8_t *buf, size_t len);
/* Serialized length of m, and the encoder (returns that length, or
 * NYM_ESIZE if cap is short, NYM_EINVAL if m is inconsistent). */
size_t nym_message_encoded_len(const struct nym_message *m);
int nym_message_encode(uint8_t *out, size_t cap, const struct nym_message *m);

/* Names as nym-sphinx-wrap prints them: the type ("plain", "repliable",
 * "reply", "unknown" for any other byte) and the content ("data",
 * "additional_surbs", "heartbeat" for repliable; "data", "surb_request" for
 * reply; "data" for plain). */
const char *nym_message_type_name(uint8_t type);
const char *nym_message_content_name(const struct nym_message *m);

/* Length of the message inside padded bytes (before the last 0x01), or
 * NYM_EFORMAT when there is no marker. */
NYM_MUST_CHECK long nym_message_unpad(const uint8_t *padded, size_t len);

/* Packets a NymMessage of len bytes needs at fragment capacity P (see
 * NYM_FRAGMENT_CAPACITY); 0 if P is too small. */
size_t nym_message_packets(size_t len, size_t P);

#endif
