/* socks5.h — the messages between a SOCKS client and a network requester, inside
 * Nym messages (doc/spec/socks5.md §2–6), sans-I/O, both directions.
 *
 * Envelope (§2), byte 0 < 3 = legacy (no envelope at all, no control):
 *   versioned: iface u8 (>=3) || tag u8 (00 Control, 01 ProviderData) || content
 *   legacy:    content (= a Socks5Request / Socks5Response, byte 0 included)
 * Socks5Request (§4), integers big-endian:
 *   version u8 (<3 legacy, 3) || 00 || conn_id u64 || addr_len u16 || "host:port" || [recipient 96]
 *   version u8                || 01 || conn_id u64 || closed u8 || seq u64 || data
 *   version u8 (3)            || 02 || bincode QueryRequest (00 OpenProxy, 01 Description, 02 ExitPolicy)
 * Socks5Response (§5), note the data header order differs from Send:
 *   [version u8 (3)] || 01 || closed u8 || conn_id u64 || seq u64 || data
 *   [version u8 (3)] || 02 || conn_id u64 || UTF-8 message
 *    version u8 (3)  || 03 || bincode QueryResponse (§6.3)
 *   (legacy responses have no version byte: they start with the flag)
 * Control (§3), versioned only:
 *   request  iface || 00 || tag (00 Health, 01 BinaryInfo, 02 SupportedRequestVersions), rest ignored
 *   response iface || 00 || tag (00, 01, 02, FF Error) || body (JSON, empty for Health)
 *
 * Decoders validate strictly, never read past len, and point into the input
 * (no copies): the input must outlive the decoded struct. Errors: NYM_ESHORT
 * (truncated), NYM_EFLAG (unknown tag or flag), NYM_EVERSION (socks5 version
 * > 3), NYM_EFORMAT (return address neither 0 nor 96 bytes, bad UTF-8, bad
 * bincode or trailing bytes), NYM_EKEY (return address keys not points). */
#ifndef NYM_SOCKS5_H
#define NYM_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Version values; 0 stands for Legacy in both places. */
#define NYM_SOCKS5_LEGACY 0
#define NYM_SOCKS5_IFACE_VERSION 3
#define NYM_SOCKS5_PROTOCOL_VERSION 3

/* What a message is (one kind per message, requests and responses). */
#define NYM_SOCKS5_CONNECT 1
#define NYM_SOCKS5_SEND 2
#define NYM_SOCKS5_QUERY 3
#define NYM_SOCKS5_CONTROL 4
#define NYM_SOCKS5_NETWORK_DATA 5
#define NYM_SOCKS5_CONNECTION_ERROR 6

/* Control tags (§3). */
#define NYM_SOCKS5_CONTROL_HEALTH 0x00
#define NYM_SOCKS5_CONTROL_BINARY_INFO 0x01
#define NYM_SOCKS5_CONTROL_VERSIONS 0x02
#define NYM_SOCKS5_CONTROL_ERROR 0xff /* responses only */

/* QueryRequest / QueryResponse variants (§6). */
#define NYM_SOCKS5_QUERY_OPEN_PROXY 0
#define NYM_SOCKS5_QUERY_DESCRIPTION 1
#define NYM_SOCKS5_QUERY_EXIT_POLICY 2
#define NYM_SOCKS5_QUERY_ERROR 3 /* responses only */

#define NYM_SOCKS5_RECIPIENT_LEN 96
#define NYM_SOCKS5_DATA_HEADER_LEN 17 /* conn_id 8 + closed 1 + seq 8 */
/* The Description the reference NR answers. */
#define NYM_SOCKS5_DESCRIPTION "Description (placeholder)"

struct nym_socks5_msg {
	uint8_t iface;  /* NYM_SOCKS5_LEGACY or >= 3 (echoed as received) */
	uint8_t socks5; /* NYM_SOCKS5_LEGACY or 3; unused for Control */
	uint8_t kind;   /* NYM_SOCKS5_CONNECT ... */
	uint64_t conn_id;
	/* Connect: the "host:port" bytes (not NUL-terminated, not checked as UTF-8:
	 * the reference decodes them lossily); an optional return address. */
	const uint8_t *addr;
	size_t addr_len;
	int has_return;
	uint8_t return_address[NYM_SOCKS5_RECIPIENT_LEN];
	/* Send, NetworkData: closed is 0 or 1 (any non-zero byte decodes as 1). */
	uint8_t closed;
	uint64_t seq;
	/* Send, NetworkData: the payload; ConnectionError: the message (UTF-8);
	 * Control responses: the JSON body; Query Description / Error responses:
	 * the string. */
	const uint8_t *data;
	size_t data_len;
	/* Control: NYM_SOCKS5_CONTROL_*; Query: NYM_SOCKS5_QUERY_*. */
	uint8_t tag;
	/* Query responses. OpenProxy: flag. ExitPolicy: flag = enabled, data =
	 * upstream URL, policy = the bincode bytes of Option<AddressPolicy>
	 * (proto/exitpolicy.h encodes and reads them; checked structurally here). */
	uint8_t flag;
	const uint8_t *policy;
	size_t policy_len;
};

/* Requests (client -> network requester): Connect, Send, Query, Control. */
NYM_MUST_CHECK int nym_socks5_req_decode(struct nym_socks5_msg *m, const uint8_t *in, size_t len);
/* Bytes nym_socks5_req_encode writes; 0 for a message that cannot be encoded
 * (wrong kind, legacy Control or Query, address longer than 65535). */
size_t nym_socks5_req_len(const struct nym_socks5_msg *m);
/* Returns the length written, NYM_ESIZE when cap is too small, NYM_EINVAL. */
int nym_socks5_req_encode(uint8_t *out, size_t cap, const struct nym_socks5_msg *m);

/* Responses (network requester -> client): NetworkData, ConnectionError, Query, Control. */
NYM_MUST_CHECK int nym_socks5_resp_decode(struct nym_socks5_msg *m, const uint8_t *in, size_t len);
size_t nym_socks5_resp_len(const struct nym_socks5_msg *m);
int nym_socks5_resp_encode(uint8_t *out, size_t cap, const struct nym_socks5_msg *m);

/* The network requester's answers to a control request or a query (§3.2,
 * §6.3), as the reference makes them: the request's interface version
 * echoed, socks5 version 3 for queries whatever was asked. Control: Health
 * empty, BinaryInfo the JSON in info (the tool's words), SupportedRequest-
 * Versions the JSON of interface 3 / socks5 3 written into buf. Query:
 * OpenProxy open_proxy, Description the placeholder, ExitPolicy enabled with
 * upstream ("" when built in) and policy (the bincode Option, exitpolicy.h).
 * The answer points into buf, info, upstream and policy. NYM_EINVAL for a
 * request that is neither; NYM_ESIZE when buf is too small. */
struct nym_socks5_nr_state {
	int open_proxy;
	const char *info;                 /* BinaryInfo JSON */
	const char *upstream;             /* the exit policy's URL, or "" */
	const uint8_t *policy;            /* bincode Some(AddressPolicy) */
	size_t policy_len;
};
int nym_socks5_nr_answer(struct nym_socks5_msg *ans, const struct nym_socks5_msg *req,
                         const struct nym_socks5_nr_state *st, char *buf, size_t cap);

/* A Connect's "host:port" as the reference hands it to lookup_host (§4.2):
 * split at the last ':', the port a decimal u16, "[v6]" unbracketed; the
 * unbracketed uncompressed IPv6 of nym-socks5-client ("0:0:0:0:0:0:0:1:80")
 * works the same way. host gets a NUL-terminated name (no NUL inside).
 * Returns 0 or NYM_EADDR. */
int nym_socks5_target_split(const uint8_t *addr, size_t len, char *host, size_t hostcap, uint16_t *port);

/* The JSON body of a SupportedRequestVersions answer (§3.2) for these
 * versions; returns its length or NYM_ESIZE. */
int nym_socks5_versions_json(char *out, size_t cap, uint8_t iface, uint8_t socks5);

/* The ConnectionError text of a refused destination, `Domain "<addr>" failed
 * filter check` with addr escaped as Rust's {:?} does (§5.3). Returns the
 * length or NYM_ESIZE. */
int nym_socks5_filter_error(char *out, size_t cap, const uint8_t *addr, size_t addr_len);

/* 1 when s[0..n) is strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int nym_socks5_utf8_valid(const uint8_t *s, size_t n);

/* bincode-BE varints (§6.1), shared with proto/exitpolicy. put writes 1, 3, 5
 * or 9 bytes and returns how many. get returns the bytes read, NYM_ESHORT, or
 * NYM_EFORMAT for a bad marker or a value above max (bincode 1.3 accepts a
 * wider marker than needed, so non-minimal forms decode). */
size_t nym_bincode_varint_put(uint8_t *out, uint64_t v);
NYM_MUST_CHECK int nym_bincode_varint_get(uint64_t *v, const uint8_t *in, size_t len, uint64_t max);

#endif
