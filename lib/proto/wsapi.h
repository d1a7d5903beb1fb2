/* wsapi.h — the binary request/response format of the official nym-client
 * websocket API (doc/spec/client-websocket.md §5–6), sans-I/O. nym-recv serves
 * it on its control socket; nym-send and nym-cover speak it as clients.
 *
 * Requests (client -> nym-client), integers big-endian, connection_id 0 = none:
 *   0x00 Send            recipient[96] || connection_id u64 || len u64 || data
 *   0x01 SendAnonymous   reply_surbs u32 || recipient[96] || connection_id u64 || len u64 || data
 *   0x02 Reply           sender_tag[16] || connection_id u64 || len u64 || data
 *   0x03 SelfAddress     (trailing bytes ignored)
 *   0x04 ClosedConnection connection_id u64   (exactly 9 bytes)
 *   0x05 GetLaneQueueLength connection_id u64 (exactly 9 bytes)
 * Responses (nym-client -> client):
 *   0x00 Error           kind u8 || len u64 || UTF-8 message
 *   0x01 Received        has_tag u8 (0|1) || [sender_tag[16]] || len u64 || data
 *   0x02 SelfAddress     recipient[96]               (exactly 97 bytes)
 *   0x03 LaneQueueLength lane u64 || queue_length u64
 * Decoders point into the input (no copies); data_len must equal what is
 * left exactly.
 *
 * nymkit extensions (tags >= 0x80, which the official server answers with
 * an UnknownRequest error), for nym-cover through nym-recv:
 *   request  0x80 Loop           send one loop cover packet now (1 byte)
 *   response 0x80 LoopSent       loop_id u64              (exactly 9 bytes)
 *   response 0x81 LoopReturned   loop_id u64 || rtt_us u64 (exactly 17 bytes)
 *
 * Text (JSON) frames, §3–4: the same requests and responses as objects
 * tagged by "type" (camelCase names and fields, but "queue_length"):
 *   {"type":"send","message":S,"recipient":ADDR,"connectionId":N?}
 *   {"type":"sendAnonymous","message":S,"recipient":ADDR,"replySurbs":N,"connectionId":N?}
 *   {"type":"reply","message":S,"senderTag":B58,"connectionId":N?}
 *   {"type":"selfAddress"}
 *   {"type":"received","message":S,"senderTag":B58|null}
 *   {"type":"selfAddress","address":ADDR}
 *   {"type":"laneQueueLength","lane":N,"queue_length":N}
 *   {"type":"error","message":"<kind text>:<detail>"}
 * Unknown fields are ignored; connectionId may be absent or null. There is
 * no text form of ClosedConnection or GetLaneQueueLength. */
#ifndef NYM_WSAPI_H
#define NYM_WSAPI_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_WSAPI_REQ_SEND 0x00
#define NYM_WSAPI_REQ_SEND_ANONYMOUS 0x01
#define NYM_WSAPI_REQ_REPLY 0x02
#define NYM_WSAPI_REQ_SELF_ADDRESS 0x03
#define NYM_WSAPI_REQ_CLOSED_CONNECTION 0x04
#define NYM_WSAPI_REQ_LANE_QUEUE_LENGTH 0x05

#define NYM_WSAPI_REQ_NYMKIT_LOOP 0x80

#define NYM_WSAPI_RESP_ERROR 0x00
#define NYM_WSAPI_RESP_RECEIVED 0x01
#define NYM_WSAPI_RESP_SELF_ADDRESS 0x02
#define NYM_WSAPI_RESP_LANE_QUEUE_LENGTH 0x03
#define NYM_WSAPI_RESP_NYMKIT_LOOP_SENT 0x80
#define NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED 0x81

/* Error kinds of the Error response. */
#define NYM_WSAPI_ERR_EMPTY_REQUEST 0x01
#define NYM_WSAPI_ERR_TOO_SHORT_REQUEST 0x02
#define NYM_WSAPI_ERR_UNKNOWN_REQUEST 0x03
#define NYM_WSAPI_ERR_MALFORMED_REQUEST 0x04
#define NYM_WSAPI_ERR_EMPTY_RESPONSE 0x80
#define NYM_WSAPI_ERR_TOO_SHORT_RESPONSE 0x81
#define NYM_WSAPI_ERR_UNKNOWN_RESPONSE 0x82
#define NYM_WSAPI_ERR_MALFORMED_RESPONSE 0x83
#define NYM_WSAPI_ERR_OTHER 0xff

#define NYM_WSAPI_RECIPIENT_LEN 96
#define NYM_WSAPI_TAG_LEN 16

struct nym_wsapi_req {
	uint8_t tag;                 /* NYM_WSAPI_REQ_* */
	uint8_t recipient[96];       /* Send, SendAnonymous */
	uint32_t reply_surbs;        /* SendAnonymous */
	uint8_t sender_tag[16];      /* Reply */
	uint64_t connection_id;      /* all but SelfAddress */
	int has_connection_id;       /* text only: connectionId given (then 0 is lane 0);
	                              * binary: unset, connection_id 0 = none */
	const uint8_t *data;         /* Send, SendAnonymous, Reply: points into the input */
	size_t data_len;
};

struct nym_wsapi_resp {
	uint8_t tag;                 /* NYM_WSAPI_RESP_* */
	uint8_t error_kind;          /* Error */
	int has_sender_tag;          /* Received */
	uint8_t sender_tag[16];
	uint8_t recipient[96];       /* SelfAddress */
	uint64_t lane, queue_length; /* LaneQueueLength */
	uint64_t loop_id, rtt_us;    /* nymkit LoopSent / LoopReturned */
	const uint8_t *data;         /* Error message / Received data: into the input */
	size_t data_len;
};

/* Size of the encoding of r (or of p). */
size_t nym_wsapi_req_len(const struct nym_wsapi_req *r);
size_t nym_wsapi_resp_len(const struct nym_wsapi_resp *p);
/* Encode into out (cap >= the length above); returns the length written or
 * NYM_ESIZE / NYM_EFLAG (unknown tag). */
int nym_wsapi_req_encode(uint8_t *out, size_t cap, const struct nym_wsapi_req *r);
int nym_wsapi_resp_encode(uint8_t *out, size_t cap, const struct nym_wsapi_resp *p);

/* Decode. On failure returns a negative NYM_E* code and, if kind is not
 * NULL, the error kind the official server would answer with
 * (EMPTY/TOO_SHORT/UNKNOWN/MALFORMED_REQUEST, or the _RESPONSE ones). The
 * recipient bytes are not checked as keys here (keys.h does that). */
NYM_MUST_CHECK int nym_wsapi_req_decode(struct nym_wsapi_req *r, const uint8_t *in, size_t len, uint8_t *kind);
NYM_MUST_CHECK int nym_wsapi_resp_decode(struct nym_wsapi_resp *p, const uint8_t *in, size_t len, uint8_t *kind);

/* The words the official server puts before ':' in an error message. */
const char *nym_wsapi_err_text(uint8_t kind);

/* ---- text (JSON) frames ---------------------------------------------------- */

#define NYM_WSAPI_WHY_MAX 256 /* room for any detail the text decoder gives */

/* Decode a text request of len bytes (no NUL needed). The message is
 * unescaped into *owned (malloc'd; the caller frees it, NULL on failure),
 * which r->data points into. The recipient is parsed and checked as keys
 * (proto/keys.h), the sender tag must be 16 bytes of base58. On failure: a
 * negative code, *kind = NYM_WSAPI_ERR_MALFORMED_REQUEST (what the official
 * server answers for every text error) and why = the detail after ':'. */
NYM_MUST_CHECK int nym_wsapi_text_req_decode(struct nym_wsapi_req *r, uint8_t **owned,
    const char *in, size_t len, uint8_t *kind, char *why, size_t whycap);
/* Encode a response as text: *out (malloc'd, NUL-terminated, the caller
 * frees) of *outlen bytes. Received: the data as UTF-8, invalid bytes
 * replaced by U+FFFD as the official client does; Error: the data is the
 * whole message. NYM_EFLAG for a tag with no text form (nymkit's), NYM_ENOMEM. */
int nym_wsapi_text_resp_encode(char **out, size_t *outlen, const struct nym_wsapi_resp *p);
/* in as valid UTF-8, each maximal invalid subpart replaced by U+FFFD (Rust's
 * from_utf8_lossy): out needs 3 * len bytes; returns the length written. */
size_t nym_wsapi_utf8_lossy(char *out, const uint8_t *in, size_t len);

#endif
