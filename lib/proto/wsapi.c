/* wsapi.c — binary requests/responses of the nym-client websocket API.
 * See wsapi.h. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"
#include "proto/keys.h"
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

/* ---- text (JSON) frames ------------------------------------------------------ */

size_t
nym_wsapi_utf8_lossy(char *out, const uint8_t *in, size_t len)
{
	static const char rep[3] = {(char)0xef, (char)0xbf, (char)0xbd};
	size_t i = 0, o = 0;

	while (i < len) {
		uint8_t c = in[i];
		size_t need;
		uint8_t lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			memcpy(out + o, rep, 3);
			o += 3;
			i++;
			continue;
		}
		/* the lead byte and as many valid continuation bytes as follow */
		size_t k = 1;
		while (k <= need && i + k < len) {
			uint8_t b = in[i + k];
			if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
				break;
			k++;
		}
		if (k == need + 1) {
			memcpy(out + o, in + i, k);
			o += k;
		} else {
			memcpy(out + o, rep, 3);
			o += 3;
		}
		i += k;
	}
	return o;
}

#define TFAIL(...) do { \
		if (kind) *kind = NYM_WSAPI_ERR_MALFORMED_REQUEST; \
		if (why && whycap) snprintf(why, whycap, __VA_ARGS__); \
		json_decref(root); \
		return NYM_EFORMAT; \
	} while (0)

int
nym_wsapi_text_req_decode(struct nym_wsapi_req *r, uint8_t **owned, const char *in, size_t len,
    uint8_t *kind, char *why, size_t whycap)
{
	json_error_t je;
	json_t *root = NULL, *t, *v;
	const char *type;
	int need_msg = 1;

	memset(r, 0, sizeof *r);
	*owned = NULL;
	if (why && whycap)
		why[0] = 0;
	if (!len) {
		if (kind)
			*kind = NYM_WSAPI_ERR_EMPTY_REQUEST;
		if (why && whycap)
			snprintf(why, whycap, "empty text request");
		return NYM_ESHORT;
	}
	root = json_loadb(in, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	    &je);
	if (!root)
		TFAIL("%s at line %d column %d", je.text, je.line, je.column);
	if (!json_is_object(root))
		TFAIL("expected an object with a \"type\" field");
	t = json_object_get(root, "type");
	if (!t)
		TFAIL("missing field `type`");
	if (!json_is_string(t))
		TFAIL("field `type` is not a string");
	type = json_string_value(t);
	if (!strcmp(type, "send"))
		r->tag = NYM_WSAPI_REQ_SEND;
	else if (!strcmp(type, "sendAnonymous"))
		r->tag = NYM_WSAPI_REQ_SEND_ANONYMOUS;
	else if (!strcmp(type, "reply"))
		r->tag = NYM_WSAPI_REQ_REPLY;
	else if (!strcmp(type, "selfAddress")) {
		r->tag = NYM_WSAPI_REQ_SELF_ADDRESS;
		need_msg = 0;
	} else
		TFAIL("unknown variant `%.64s`, expected one of `send`, `sendAnonymous`, `reply`, "
		      "`selfAddress`", type);
	if (!need_msg) {
		json_decref(root);
		return 0;
	}

	/* connectionId: absent or null = none; a number is a lane, 0 included */
	v = json_object_get(root, "connectionId");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			TFAIL("field `connectionId` is not an unsigned 64-bit integer");
		r->connection_id = (uint64_t)json_integer_value(v);
		r->has_connection_id = 1;
	}
	if (r->tag == NYM_WSAPI_REQ_SEND_ANONYMOUS) {
		v = json_object_get(root, "replySurbs");
		if (!v)
			TFAIL("missing field `replySurbs`");
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)UINT32_MAX)
			TFAIL("field `replySurbs` is not an unsigned 32-bit integer");
		r->reply_surbs = (uint32_t)json_integer_value(v);
	}
	if (r->tag == NYM_WSAPI_REQ_REPLY) {
		v = json_object_get(root, "senderTag");
		if (!v)
			TFAIL("missing field `senderTag`");
		if (!json_is_string(v))
			TFAIL("field `senderTag` is not a string");
		uint8_t tb[NYM_WSAPI_TAG_LEN + 1];
		int n = nym_base58_decode(tb, sizeof tb, json_string_value(v), json_string_length(v));
		if (n != NYM_WSAPI_TAG_LEN)
			TFAIL("malformed sender tag: not 16 bytes of base58");
		memcpy(r->sender_tag, tb, NYM_WSAPI_TAG_LEN);
	} else {
		struct nym_address a;
		char aw[NYM_ADDRESS_WHY_MAX];
		v = json_object_get(root, "recipient");
		if (!v)
			TFAIL("missing field `recipient`");
		if (!json_is_string(v) || json_string_length(v) >= NYM_ADDRESS_MAX * 4)
			TFAIL("field `recipient` is not an address string");
		if (nym_address_parse(&a, json_string_value(v), aw, sizeof aw) < 0)
			TFAIL("malformed recipient: %s", aw);
		memcpy(r->recipient, a.identity, 32);
		memcpy(r->recipient + 32, a.encryption, 32);
		memcpy(r->recipient + 64, a.gateway, 32);
	}
	v = json_object_get(root, "message");
	if (!v)
		TFAIL("missing field `message`");
	if (!json_is_string(v))
		TFAIL("field `message` is not a string");
	r->data_len = json_string_length(v);
	if (!(*owned = malloc(r->data_len ? r->data_len : 1))) {
		json_decref(root);
		if (kind)
			*kind = NYM_WSAPI_ERR_OTHER;
		return NYM_ENOMEM;
	}
	memcpy(*owned, json_string_value(v), r->data_len);
	r->data = *owned;
	json_decref(root);
	return 0;
}

int
nym_wsapi_text_resp_encode(char **out, size_t *outlen, const struct nym_wsapi_resp *p)
{
	json_t *o = json_object();
	char b58[NYM_ADDRESS_MAX];
	int e = 0;

	*out = NULL;
	if (!o)
		return NYM_ENOMEM;
	switch (p->tag) {
	case NYM_WSAPI_RESP_RECEIVED: {
		char *u = malloc(p->data_len * 3 + 1);
		size_t n;
		if (!u) {
			e = NYM_ENOMEM;
			break;
		}
		n = nym_wsapi_utf8_lossy(u, p->data, p->data_len);
		json_object_set_new(o, "type", json_string("received"));
		json_object_set_new(o, "message", json_stringn(u, n));
		free(u);
		if (p->has_sender_tag) {
			nym_base58_encode(b58, sizeof b58, p->sender_tag, NYM_WSAPI_TAG_LEN);
			json_object_set_new(o, "senderTag", json_string(b58));
		} else
			json_object_set_new(o, "senderTag", json_null());
		if (!json_object_get(o, "message"))
			e = NYM_ENOMEM;
		break;
	}
	case NYM_WSAPI_RESP_SELF_ADDRESS: {
		struct nym_address a;
		memcpy(a.identity, p->recipient, 32);
		memcpy(a.encryption, p->recipient + 32, 32);
		memcpy(a.gateway, p->recipient + 64, 32);
		if (nym_address_format(b58, sizeof b58, &a) < 0) {
			e = NYM_EADDR;
			break;
		}
		json_object_set_new(o, "type", json_string("selfAddress"));
		json_object_set_new(o, "address", json_string(b58));
		break;
	}
	case NYM_WSAPI_RESP_LANE_QUEUE_LENGTH:
		/* u64 on the wire; jansson stops at INT64_MAX, far above any lane count */
		json_object_set_new(o, "type", json_string("laneQueueLength"));
		json_object_set_new(o, "lane", json_integer((json_int_t)(p->lane > INT64_MAX ?
		    INT64_MAX : p->lane)));
		json_object_set_new(o, "queue_length", json_integer((json_int_t)(p->queue_length >
		    INT64_MAX ? INT64_MAX : p->queue_length)));
		break;
	case NYM_WSAPI_RESP_ERROR: {
		char *u = malloc(p->data_len * 3 + 1);
		size_t n;
		if (!u) {
			e = NYM_ENOMEM;
			break;
		}
		n = nym_wsapi_utf8_lossy(u, p->data, p->data_len);
		json_object_set_new(o, "type", json_string("error"));
		json_object_set_new(o, "message", json_stringn(u, n));
		free(u);
		break;
	}
	default:
		e = NYM_EFLAG;
	}
	if (!e && !(*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		e = NYM_ENOMEM;
	json_decref(o);
	if (e)
		return e;
	*outlen = strlen(*out);
	return 0;
}
