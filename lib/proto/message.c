/* message.c — NymMessage envelope, padding (doc/spec/nym-message.md §4.2–4.4, §7.3–7.4). */
#include <string.h>

#include "base/err.h"
#include "proto/chunking.h"
#include "proto/message.h"

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
parse_surbs_v1(struct nym_message *m, const uint8_t *b, size_t len, size_t *used)
{
	uint32_t n;

	if (len < 4)
		return NYM_ESHORT;
	n = rd32(b);
	if ((len - 4) / NYM_REPLY_SURB_V1_LEN < n)
		return NYM_ESHORT;
	m->nsurbs = n;
	m->surb_len = NYM_REPLY_SURB_V1_LEN;
	m->surb_hops = 4;
	m->surb_rotation = 0; /* v1 SURBs are "Unknown" rotation */
	m->surbs = b + 4;
	*used = 4 + (size_t)n * NYM_REPLY_SURB_V1_LEN;
	return 0;
}

static int
parse_surbs_v2(struct nym_message *m, const uint8_t *b, size_t len, size_t *used)
{
	size_t n, sz;

	if (len < 4)
		return NYM_ESHORT;
	n = (size_t)b[0] << 8 | b[1];
	m->surb_hops = b[2];
	m->surb_rotation = b[3];
	sz = NYM_REPLY_SURB_V2_LEN(b[2]);
	if ((len - 4) / sz < n)
		return NYM_ESHORT;
	m->nsurbs = n;
	m->surb_len = sz;
	m->surbs = b + 4;
	*used = 4 + n * sz;
	return 0;
}

int
nym_message_parse(struct nym_message *m, const uint8_t *buf, size_t len)
{
	size_t used = 0;
	int e;

	memset(m, 0, sizeof *m);
	if (len < 1)
		return NYM_ESHORT;
	m->type = buf[0];
	buf++;
	len--;
	switch (m->type) {
	case NYM_MESSAGE_PLAIN:
		m->data = buf;
		m->data_len = len;
		return 0;
	case NYM_MESSAGE_REPLIABLE:
		if (len < NYM_SENDER_TAG_LEN + 1)
			return NYM_ESHORT;
		memcpy(m->sender_tag, buf, NYM_SENDER_TAG_LEN);
		m->content_tag = buf[NYM_SENDER_TAG_LEN];
		buf += NYM_SENDER_TAG_LEN + 1;
		len -= NYM_SENDER_TAG_LEN + 1;
		if (m->content_tag <= NYM_REPLIABLE_HEARTBEAT_V1)
			e = parse_surbs_v1(m, buf, len, &used);
		else if (m->content_tag <= NYM_REPLIABLE_HEARTBEAT_V2)
			e = parse_surbs_v2(m, buf, len, &used);
		else
			return NYM_EFLAG;
		if (e < 0)
			return e;
		/* Data variants carry the message after the SURBs; the others
		 * ignore trailing bytes, as the reference does. */
		if (m->content_tag == NYM_REPLIABLE_DATA_V1 || m->content_tag == NYM_REPLIABLE_DATA_V2) {
			m->data = buf + used;
			m->data_len = len - used;
		}
		return 0;
	case NYM_MESSAGE_REPLY:
		if (len < 1)
			return NYM_ESHORT;
		m->content_tag = buf[0];
		buf++;
		len--;
		if (m->content_tag == NYM_REPLY_DATA) {
			if (len < 1)
				return NYM_ESHORT; /* empty reply data is rejected */
			m->data = buf;
			m->data_len = len;
			return 0;
		}
		if (m->content_tag == NYM_REPLY_SURB_REQUEST) {
			if (len != NYM_RECIPIENT_LEN + 4)
				return len < NYM_RECIPIENT_LEN + 4 ? NYM_ESHORT : NYM_EFORMAT;
			memcpy(m->recipient, buf, NYM_RECIPIENT_LEN);
			m->amount = rd32(buf + NYM_RECIPIENT_LEN);
			return 0;
		}
		return NYM_EFLAG;
	}
	return NYM_EFLAG;
}

static int
is_v1(uint8_t tag)
{
	return tag <= NYM_REPLIABLE_HEARTBEAT_V1;
}

static int
has_data(const struct nym_message *m)
{
	return m->content_tag == NYM_REPLIABLE_DATA_V1 || m->content_tag == NYM_REPLIABLE_DATA_V2;
}

size_t
nym_message_encoded_len(const struct nym_message *m)
{
	switch (m->type) {
	case NYM_MESSAGE_PLAIN:
		return 1 + m->data_len;
	case NYM_MESSAGE_REPLIABLE:
		return 1 + NYM_SENDER_TAG_LEN + 1 + 4 + m->nsurbs * m->surb_len +
		       (has_data(m) ? m->data_len : 0);
	case NYM_MESSAGE_REPLY:
		return 2 + (m->content_tag == NYM_REPLY_DATA ? m->data_len : NYM_RECIPIENT_LEN + 4);
	}
	return 0;
}

int
nym_message_encode(uint8_t *out, size_t cap, const struct nym_message *m)
{
	size_t n = nym_message_encoded_len(m), o = 0;

	if (n == 0)
		return NYM_EINVAL;
	if (n > cap)
		return NYM_ESIZE;
	if (n > INT32_MAX)
		return NYM_ETOOBIG;
	out[o++] = m->type;
	switch (m->type) {
	case NYM_MESSAGE_PLAIN:
		break;
	case NYM_MESSAGE_REPLIABLE:
		if (m->content_tag > NYM_REPLIABLE_HEARTBEAT_V2)
			return NYM_EFLAG;
		memcpy(out + o, m->sender_tag, NYM_SENDER_TAG_LEN);
		o += NYM_SENDER_TAG_LEN;
		out[o++] = m->content_tag;
		if (is_v1(m->content_tag)) {
			if (m->nsurbs && m->surb_len != NYM_REPLY_SURB_V1_LEN)
				return NYM_EINVAL;
			out[o++] = (uint8_t)(m->nsurbs >> 24);
			out[o++] = (uint8_t)(m->nsurbs >> 16);
			out[o++] = (uint8_t)(m->nsurbs >> 8);
			out[o++] = (uint8_t)m->nsurbs;
		} else {
			if (m->nsurbs > 0xffff || (m->nsurbs && m->surb_len != NYM_REPLY_SURB_V2_LEN(m->surb_hops)))
				return NYM_EINVAL;
			out[o++] = (uint8_t)(m->nsurbs >> 8);
			out[o++] = (uint8_t)m->nsurbs;
			/* With no SURBs the reference writes hops = 0, rotation = 0. */
			out[o++] = m->nsurbs ? m->surb_hops : 0;
			out[o++] = m->nsurbs ? m->surb_rotation : 0;
		}
		if (m->nsurbs)
			memcpy(out + o, m->surbs, m->nsurbs * m->surb_len);
		o += m->nsurbs * m->surb_len;
		break;
	case NYM_MESSAGE_REPLY:
		out[o++] = m->content_tag;
		if (m->content_tag == NYM_REPLY_SURB_REQUEST) {
			memcpy(out + o, m->recipient, NYM_RECIPIENT_LEN);
			o += NYM_RECIPIENT_LEN;
			out[o++] = (uint8_t)(m->amount >> 24);
			out[o++] = (uint8_t)(m->amount >> 16);
			out[o++] = (uint8_t)(m->amount >> 8);
			out[o++] = (uint8_t)m->amount;
			return (int)o;
		}
		if (m->content_tag != NYM_REPLY_DATA)
			return NYM_EFLAG;
		break;
	default:
		return NYM_EFLAG;
	}
	if (m->type == NYM_MESSAGE_PLAIN || m->type == NYM_MESSAGE_REPLY || has_data(m)) {
		if (m->data_len)
			memcpy(out + o, m->data, m->data_len);
		o += m->data_len;
	}
	return (int)o;
}

long
nym_message_unpad(const uint8_t *padded, size_t len)
{
	while (len > 0) {
		if (padded[len - 1] == 0x01)
			return (long)(len - 1);
		len--;
	}
	return NYM_EFORMAT;
}

size_t
nym_message_packets(size_t len, size_t P)
{
	size_t space;

	return nym_chunking_required_fragments(len + 1, P, &space);
}

const char *
nym_message_type_name(uint8_t t)
{
	return t == NYM_MESSAGE_PLAIN ? "plain" : t == NYM_MESSAGE_REPLIABLE ? "repliable" :
	       t == NYM_MESSAGE_REPLY ? "reply" : "unknown";
}

const char *
nym_message_content_name(const struct nym_message *m)
{
	if (m->type == NYM_MESSAGE_PLAIN)
		return "data";
	if (m->type == NYM_MESSAGE_REPLY)
		return m->content_tag == NYM_REPLY_DATA ? "data" : "surb_request";
	switch (m->content_tag) {
	case NYM_REPLIABLE_DATA_V1: case NYM_REPLIABLE_DATA_V2: return "data";
	case NYM_REPLIABLE_SURBS_V1: case NYM_REPLIABLE_SURBS_V2: return "additional_surbs";
	default: return "heartbeat";
	}
}
