/* tcpsocket.h — the 2019 nym-mixnet client's TCP-socket API
 * (doc/spec/tcpsocket.md), sans-I/O: request frames in, response frames out.
 *
 * Every message, both ways (§1):
 *   len u64 big-endian || protobuf bytes (len of them)
 * Requests over NYM_TCPSOCKET_MAX_REQUEST bytes are refused.
 *
 * The protobuf messages (§2; lib/proto/tcpsocket.proto, compiled by protoc-c
 * at build time), oneof field numbers:
 *   Request  { send = 2 {message, recipient ClientConfig} | fetch = 3 |
 *              clients = 4 | details = 5 | flush = 6 }
 *   Response { exception = 1 {error} | send = 2 | fetch = 3 {repeated messages} |
 *              clients = 4 {repeated ClientConfig} | details = 5 {ClientConfig} |
 *              flush = 6 }
 *   ClientConfig { Id = 1, Host = 2, Port = 3, PubKey = 4, Provider = 5 MixConfig }
 *   MixConfig    { Id = 1, Host = 2, Port = 3, PubKey = 4, Layer = 5 }
 * A Nym address maps onto a ClientConfig as §3 says: Id = the address text,
 * PubKey = the client identity key, Provider = the gateway. */
#ifndef NYM_TCPSOCKET_H
#define NYM_TCPSOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_TCPSOCKET_HEADER 8
#define NYM_TCPSOCKET_MAX_REQUEST ((size_t)1 << 20)

/* Request kinds: the oneof's field numbers; NONE = no field set. */
#define NYM_TCPSOCKET_REQ_NONE 0
#define NYM_TCPSOCKET_REQ_SEND 2
#define NYM_TCPSOCKET_REQ_FETCH 3
#define NYM_TCPSOCKET_REQ_CLIENTS 4
#define NYM_TCPSOCKET_REQ_DETAILS 5
#define NYM_TCPSOCKET_REQ_FLUSH 6

#define NYM_TCPSOCKET_RESP_EXCEPTION 1
#define NYM_TCPSOCKET_RESP_SEND 2
#define NYM_TCPSOCKET_RESP_FETCH 3
#define NYM_TCPSOCKET_RESP_CLIENTS 4
#define NYM_TCPSOCKET_RESP_DETAILS 5
#define NYM_TCPSOCKET_RESP_FLUSH 6

/* What the old server answered a Request with no field set (§3). */
#define NYM_TCPSOCKET_INVALID_REQUEST "Invalid server request"

/* One whole frame at the front of buf? Returns 0 (not yet: more bytes
 * needed), the frame's whole length (header included; the protobuf bytes
 * are at buf + NYM_TCPSOCKET_HEADER), or NYM_ETOOBIG when the header claims
 * more than max bytes — decided from the header alone, so a caller never
 * buffers more than max + NYM_TCPSOCKET_HEADER. */
NYM_MUST_CHECK int64_t nym_tcpsocket_frame(const uint8_t *buf, size_t len, size_t max);

/* A decoded request. Pointers go into memory the request owns until
 * nym_tcpsocket_req_free. */
struct nym_tcpsocket_req {
	int kind;                  /* NYM_TCPSOCKET_REQ_* */
	const uint8_t *message;    /* send: the bytes (may be empty) */
	size_t message_len;
	int has_recipient;         /* send: a recipient ClientConfig was given */
	const char *recipient_id;  /* its Id ("" when absent) */
	void *owned;
};
/* Decode protobuf bytes (a frame's body) into r. NYM_EFORMAT when they are
 * not a Request, NYM_ENOMEM. Unknown fields are skipped (proto3). */
NYM_MUST_CHECK int nym_tcpsocket_req_decode(struct nym_tcpsocket_req *r, const uint8_t *in,
    size_t len);
void nym_tcpsocket_req_free(struct nym_tcpsocket_req *r);

/* A client as a ClientConfig (§3). */
struct nym_tcpsocket_client {
	const char *id;               /* the whole Nym address, text */
	const uint8_t *pubkey;        /* 32 bytes: its identity key */
	const char *provider_id;      /* the gateway identity, base58 */
	const char *provider_host, *provider_port;
	const uint8_t *provider_key;  /* 32 bytes: the gateway identity key */
};

struct nym_tcpsocket_resp {
	int kind;                                  /* NYM_TCPSOCKET_RESP_* */
	const char *error;                         /* exception */
	const uint8_t *const *messages;            /* fetch */
	const size_t *message_lens;
	size_t n_messages;
	const struct nym_tcpsocket_client *details;/* details */
};
/* The response as one frame (header and protobuf bytes), malloc'd into
 * *out (free it). NYM_EINVAL for an unknown kind, NYM_ENOMEM. */
NYM_MUST_CHECK int nym_tcpsocket_resp_encode(uint8_t **out, size_t *len,
    const struct nym_tcpsocket_resp *r);

/* The other way, for tests and clients: a request as one frame (send:
 * message and the recipient's Id), and a response frame's body decoded
 * (pointers into memory it owns until nym_tcpsocket_resp_free; details are
 * given back through a struct the response owns). */
NYM_MUST_CHECK int nym_tcpsocket_req_encode(uint8_t **out, size_t *len, int kind,
    const uint8_t *message, size_t message_len, const char *recipient_id);
struct nym_tcpsocket_resp_owned {
	struct nym_tcpsocket_resp r;
	struct nym_tcpsocket_client details;
	size_t n_clients;
	void *owned;
	void *vec;
};
NYM_MUST_CHECK int nym_tcpsocket_resp_decode(struct nym_tcpsocket_resp_owned *o,
    const uint8_t *in, size_t len);
void nym_tcpsocket_resp_free(struct nym_tcpsocket_resp_owned *o);

#endif
