/* wsapi.c — binary requests/responses of the nym-client websocket API.
 * See wsapi.h. */
#include <string.h>

#include "base/err.h"
#include "proto/wsapi.h"

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

size_t
nym_wsapi_req_len(const struct nym_wsapi_req *r)
{
	switch (r->tag) {
	case NYM_WSAPI_REQ_SEND: return 113 + r->data_len;
	case NYM_WSAPI_REQ_SEND_ANONYMOUS: return 117 + r->data_len;
	case NYM_WSAPI_REQ_REPLY: return 33 + r->data_len;
	case NYM_WSAPI_REQ_SELF_ADDRESS:
	case NYM_WSAPI_REQ_NYMKIT_LOOP: return 1;
	case NYM_WSAPI_REQ_CLOSED_CONNECTION:
	case NYM_WSAPI_REQ_LANE_QUEUE_LENGTH: return 9;
	default: return 0;
	}
}

int
nym_wsapi_req_encode(uint8_t *out, size_t cap, const struct nym_wsapi_req *r)
{
	size_t n = nym_wsapi_req_len(r);
	uint8_t *p = out;

	if (!n)
		return NYM_EFLAG;
	if (cap < n)
		return NYM_ESIZE;
	*p++ = r->tag;
	switch (r->tag) {
	case NYM_WSAPI_REQ_SEND_ANONYMOUS:
		p[0] = (uint8_t)(r->reply_surbs >> 24);
		p[1] = (uint8_t)(r->reply_surbs >> 16);
		p[2] = (uint8_t)(r->reply_surbs >> 8);
		p[3] = (uint8_t)r->reply_surbs;
		p += 4;
		/* fall through */
	case NYM_WSAPI_REQ_SEND:
		memcpy(p, r->recipient, 96);
		p += 96;
		goto body;
	case NYM_WSAPI_REQ_REPLY:
		memcpy(p, r->sender_tag, 16);
		p += 16;
	body:
		put64(p, r->connection_id);
		put64(p + 8, r->data_len);
		if (r->data_len)
			memcpy(p + 16, r->data, r->data_len);
		break;
	case NYM_WSAPI_REQ_CLOSED_CONNECTION:
	case NYM_WSAPI_REQ_LANE_QUEUE_LENGTH:
		put64(p, r->connection_id);
		break;
	}
	return (int)n;
}

#define FAIL(k, e) do { if (kind) *kind = (k); return (e); } while (0)

int
nym_wsapi_req_decode(struct nym_wsapi_req *r, const uint8_t *in, size_t len, uint8_t *kind)
{
	const uint8_t *p;
	size_t need;

	memset(r, 0, sizeof *r);
	if (!len)
		FAIL(NYM_WSAPI_ERR_EMPTY_REQUEST, NYM_ESHORT);
	r->tag = in[0];
	switch (r->tag) {
	case NYM_WSAPI_REQ_SELF_ADDRESS:
		return 0;
	case NYM_WSAPI_REQ_NYMKIT_LOOP:
		if (len > 1)
			FAIL(NYM_WSAPI_ERR_MALFORMED_REQUEST, NYM_EFORMAT);
		return 0;
	case NYM_WSAPI_REQ_CLOSED_CONNECTION:
	case NYM_WSAPI_REQ_LANE_QUEUE_LENGTH:
		if (len < 9)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_REQUEST, NYM_ESHORT);
		if (len > 9)
			FAIL(NYM_WSAPI_ERR_MALFORMED_REQUEST, NYM_EFORMAT);
		r->connection_id = get64(in + 1);
		return 0;
	case NYM_WSAPI_REQ_SEND: need = 113; break;
	case NYM_WSAPI_REQ_SEND_ANONYMOUS: need = 117; break;
	case NYM_WSAPI_REQ_REPLY: need = 33; break;
	default:
		FAIL(NYM_WSAPI_ERR_UNKNOWN_REQUEST, NYM_EFLAG);
	}
	if (len < need)
		FAIL(NYM_WSAPI_ERR_TOO_SHORT_REQUEST, NYM_ESHORT);
	p = in + 1;
	if (r->tag == NYM_WSAPI_REQ_SEND_ANONYMOUS) {
		r->reply_surbs = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		p += 4;
	}
	if (r->tag == NYM_WSAPI_REQ_REPLY) {
		memcpy(r->sender_tag, p, 16);
		p += 16;
	} else {
		memcpy(r->recipient, p, 96);
		p += 96;
	}
	r->connection_id = get64(p);
	uint64_t dl = get64(p + 8);
	if (dl != len - need)
		FAIL(NYM_WSAPI_ERR_MALFORMED_REQUEST, NYM_EFORMAT);
	r->data = p + 16;
	r->data_len = (size_t)dl;
	return 0;
}

size_t
nym_wsapi_resp_len(const struct nym_wsapi_resp *p)
{
	switch (p->tag) {
	case NYM_WSAPI_RESP_ERROR: return 10 + p->data_len;
	case NYM_WSAPI_RESP_RECEIVED: return 10 + (p->has_sender_tag ? 16 : 0) + p->data_len;
	case NYM_WSAPI_RESP_SELF_ADDRESS: return 97;
	case NYM_WSAPI_RESP_LANE_QUEUE_LENGTH: return 17;
	case NYM_WSAPI_RESP_NYMKIT_LOOP_SENT: return 9;
	case NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED: return 17;
	default: return 0;
	}
}

int
nym_wsapi_resp_encode(uint8_t *out, size_t cap, const struct nym_wsapi_resp *r)
{
	size_t n = nym_wsapi_resp_len(r);
	uint8_t *p = out;

	if (!n)
		return NYM_EFLAG;
	if (cap < n)
		return NYM_ESIZE;
	*p++ = r->tag;
	switch (r->tag) {
	case NYM_WSAPI_RESP_ERROR:
		*p++ = r->error_kind;
		goto body;
	case NYM_WSAPI_RESP_RECEIVED:
		*p++ = r->has_sender_tag ? 1 : 0;
		if (r->has_sender_tag) {
			memcpy(p, r->sender_tag, 16);
			p += 16;
		}
	body:
		put64(p, r->data_len);
		if (r->data_len)
			memcpy(p + 8, r->data, r->data_len);
		break;
	case NYM_WSAPI_RESP_SELF_ADDRESS:
		memcpy(p, r->recipient, 96);
		break;
	case NYM_WSAPI_RESP_LANE_QUEUE_LENGTH:
		put64(p, r->lane);
		put64(p + 8, r->queue_length);
		break;
	case NYM_WSAPI_RESP_NYMKIT_LOOP_SENT:
		put64(p, r->loop_id);
		break;
	case NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED:
		put64(p, r->loop_id);
		put64(p + 8, r->rtt_us);
		break;
	}
	return (int)n;
}

int
nym_wsapi_resp_decode(struct nym_wsapi_resp *r, const uint8_t *in, size_t len, uint8_t *kind)
{
	const uint8_t *p;
	size_t left;

	memset(r, 0, sizeof *r);
	if (!len)
		FAIL(NYM_WSAPI_ERR_EMPTY_RESPONSE, NYM_ESHORT);
	r->tag = in[0];
	p = in + 1;
	left = len - 1;
	switch (r->tag) {
	case NYM_WSAPI_RESP_ERROR:
		if (left < 9)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
		r->error_kind = *p++;
		left--;
		break;
	case NYM_WSAPI_RESP_RECEIVED:
		if (left < 9)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
		if (p[0] > 1)
			FAIL(NYM_WSAPI_ERR_MALFORMED_RESPONSE, NYM_EFORMAT);
		r->has_sender_tag = p[0];
		p++;
		left--;
		if (r->has_sender_tag) {
			if (left < 24)
				FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
			memcpy(r->sender_tag, p, 16);
			p += 16;
			left -= 16;
		}
		break;
	case NYM_WSAPI_RESP_SELF_ADDRESS:
		if (left < 96)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
		if (left > 96)
			FAIL(NYM_WSAPI_ERR_MALFORMED_RESPONSE, NYM_EFORMAT);
		memcpy(r->recipient, p, 96);
		return 0;
	case NYM_WSAPI_RESP_LANE_QUEUE_LENGTH:
		if (left < 16)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
		if (left > 16)
			FAIL(NYM_WSAPI_ERR_MALFORMED_RESPONSE, NYM_EFORMAT);
		r->lane = get64(p);
		r->queue_length = get64(p + 8);
		return 0;
	case NYM_WSAPI_RESP_NYMKIT_LOOP_SENT:
	case NYM_WSAPI_RESP_NYMKIT_LOOP_RETURNED: {
		size_t want = r->tag == NYM_WSAPI_RESP_NYMKIT_LOOP_SENT ? 8 : 16;
		if (left < want)
			FAIL(NYM_WSAPI_ERR_TOO_SHORT_RESPONSE, NYM_ESHORT);
		if (left > want)
			FAIL(NYM_WSAPI_ERR_MALFORMED_RESPONSE, NYM_EFORMAT);
		r->loop_id = get64(p);
		if (want == 16)
			r->rtt_us = get64(p + 8);
		return 0;
	}
	default:
		FAIL(NYM_WSAPI_ERR_UNKNOWN_RESPONSE, NYM_EFLAG);
	}
	uint64_t dl = get64(p);
	if (dl != left - 8)
		FAIL(NYM_WSAPI_ERR_MALFORMED_RESPONSE, NYM_EFORMAT);
	r->data = p + 8;
	r->data_len = (size_t)dl;
	return 0;
}

const char *
nym_wsapi_err_text(uint8_t kind)
{
	switch (kind) {
	case NYM_WSAPI_ERR_EMPTY_REQUEST: return "received request contained no data";
	case NYM_WSAPI_ERR_TOO_SHORT_REQUEST: return "received request did not contain enough data";
	case NYM_WSAPI_ERR_UNKNOWN_REQUEST: return "unknown request type";
	case NYM_WSAPI_ERR_MALFORMED_REQUEST: return "malformed request";
	case NYM_WSAPI_ERR_EMPTY_RESPONSE: return "received response contained no data";
	case NYM_WSAPI_ERR_TOO_SHORT_RESPONSE: return "received response did not contain enough data";
	case NYM_WSAPI_ERR_UNKNOWN_RESPONSE: return "unknown response type";
	case NYM_WSAPI_ERR_MALFORMED_RESPONSE: return "malformed response";
	default: return "other";
	}
}
