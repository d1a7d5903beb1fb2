/* socks5.c — SOCKS client <-> network requester messages (doc/spec/socks5.md §2–6). */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "proto/socks5.h"

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int
nym_socks5_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* ---- bincode-BE (§6.1) ---- */

size_t
nym_bincode_varint_put(uint8_t *out, uint64_t v)
{
	if (v < 251) {
		out[0] = (uint8_t)v;
		return 1;
	}
	if (v <= 0xffff) {
		out[0] = 0xfb, out[1] = (uint8_t)(v >> 8), out[2] = (uint8_t)v;
		return 3;
	}
	if (v <= 0xffffffffu) {
		out[0] = 0xfc;
		for (int i = 0; i < 4; i++)
			out[1 + i] = (uint8_t)(v >> (24 - 8 * i));
		return 5;
	}
	out[0] = 0xfd;
	put64(out + 1, v);
	return 9;
}

int
nym_bincode_varint_get(uint64_t *v, const uint8_t *in, size_t len, uint64_t max)
{
	size_t w;
	uint64_t x = 0;
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] < 251) {
		x = in[0], w = 0;
	} else if (in[0] == 0xfb) {
		w = 2;
	} else if (in[0] == 0xfc) {
		w = 4;
	} else if (in[0] == 0xfd) {
		w = 8;
	} else {
		return NYM_EFORMAT; /* u128 (FE) or invalid (FF) */
	}
	if (len - 1 < w)
		return NYM_ESHORT;
	for (size_t i = 0; i < w; i++)
		x = x << 8 | in[1 + i];
	if (x > max)
		return NYM_EFORMAT;
	*v = x;
	return (int)(1 + w);
}

/* A bincode String: varint length, UTF-8 bytes. Returns bytes read. */
static int
bc_string(const uint8_t **s, size_t *slen, const uint8_t *in, size_t len)
{
	uint64_t n;
	int w = nym_bincode_varint_get(&n, in, len, UINT64_MAX);
	if (w < 0)
		return w;
	if (n > len - (size_t)w)
		return NYM_ESHORT;
	if (!nym_socks5_utf8_valid(in + w, (size_t)n))
		return NYM_EFORMAT;
	*s = in + w, *slen = (size_t)n;
	return w + (int)n;
}

static int
bc_bool(uint8_t *b, const uint8_t *in, size_t len)
{
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] > 1)
		return NYM_EFORMAT;
	*b = in[0];
	return 1;
}

/* Option<AddressPolicy>: checked structurally (§6.3), bytes read. */
static int
bc_policy(const uint8_t *in, size_t len)
{
	size_t off = 1;
	uint64_t n, v;
	int w;
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] == 0)
		return 1;
	if (in[0] != 1)
		return NYM_EFORMAT;
	if ((w = nym_bincode_varint_get(&n, in + off, len - off, UINT64_MAX)) < 0)
		return w;
	off += (size_t)w;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *s;
		size_t sl;
		if ((w = nym_bincode_varint_get(&v, in + off, len - off, 0xffffffffu)) < 0)
			return w;
		if (v > 3)
			return NYM_EFORMAT;
		off += (size_t)w;
		if ((w = bc_string(&s, &sl, in + off, len - off)) < 0)
			return w;
		off += (size_t)w;
		for (int k = 0; k < 2; k++) {
			if ((w = nym_bincode_varint_get(&v, in + off, len - off, 0xffff)) < 0)
				return w;
			off += (size_t)w;
		}
	}
	return (int)off;
}

/* ---- requests (§3, §4) ---- */

static int
socks5_req_content(struct nym_socks5_msg *m, const uint8_t *c, size_t len)
{
	uint64_t v;
	int w;

	if (len < 1)
		return NYM_ESHORT;
	if (c[0] > NYM_SOCKS5_PROTOCOL_VERSION)
		return NYM_EVERSION;
	m->socks5 = c[0] < 3 ? NYM_SOCKS5_LEGACY : c[0];
	if (len < 2)
		return NYM_ESHORT;
	c++, len--;
	switch (c[0]) {
	case 0x00: { /* Connect */
		size_t rest;
		m->kind = NYM_SOCKS5_CONNECT;
		if (len < 11)
			return NYM_ESHORT;
		m->conn_id = get64(c + 1);
		m->addr_len = (size_t)c[9] << 8 | c[10];
		if (len - 11 < m->addr_len)
			return NYM_ESHORT;
		m->addr = c + 11;
		rest = len - 11 - m->addr_len;
		if (rest == 0)
			return 0;
		if (rest != NYM_SOCKS5_RECIPIENT_LEN)
			return NYM_EFORMAT;
		memcpy(m->return_address, c + 11 + m->addr_len, NYM_SOCKS5_RECIPIENT_LEN);
		/* identity and gateway are Ed25519 points; the encryption key is any X25519 key */
		if (nym_ed25519_pk_valid(m->return_address) != 0 ||
		    nym_ed25519_pk_valid(m->return_address + 64) != 0)
			return NYM_EKEY;
		m->has_return = 1;
		return 0;
	}
	case 0x01: /* Send: conn_id || closed || seq || data */
		m->kind = NYM_SOCKS5_SEND;
		if (len - 1 < NYM_SOCKS5_DATA_HEADER_LEN)
			return NYM_ESHORT;
		m->conn_id = get64(c + 1);
		m->closed = c[9] != 0;
		m->seq = get64(c + 10);
		m->data = c + 18, m->data_len = len - 18;
		return 0;
	case 0x02: /* Query */
		m->kind = NYM_SOCKS5_QUERY;
		if ((w = nym_bincode_varint_get(&v, c + 1, len - 1, 0xffffffffu)) < 0)
			return w;
		if (v > NYM_SOCKS5_QUERY_EXIT_POLICY)
			return NYM_EFLAG;
		m->tag = (uint8_t)v;
		return (size_t)w == len - 1 ? 0 : NYM_EFORMAT; /* bincode refuses trailing bytes */
	default:
		return NYM_EFLAG;
	}
}

int
nym_socks5_req_decode(struct nym_socks5_msg *m, const uint8_t *in, size_t len)
{
	memset(m, 0, sizeof *m);
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] < 3) /* legacy: no envelope, the whole buffer is the request */
		return socks5_req_content(m, in, len);
	m->iface = in[0];
	if (len < 2)
		return NYM_ESHORT;
	if (in[1] == 0x01)
		return socks5_req_content(m, in + 2, len - 2);
	if (in[1] != 0x00)
		return NYM_EFLAG;
	m->kind = NYM_SOCKS5_CONTROL;
	if (len < 3)
		return NYM_ESHORT;
	if (in[2] > NYM_SOCKS5_CONTROL_VERSIONS)
		return NYM_EFLAG;
	m->tag = in[2];
	return 0;
}

/* Bytes before the socks5 content: the envelope (versioned only). */
static size_t
envelope_len(const struct nym_socks5_msg *m)
{
	return m->iface == NYM_SOCKS5_LEGACY ? 0 : 2;
}

size_t
nym_socks5_req_len(const struct nym_socks5_msg *m)
{
	size_t e = envelope_len(m);
	if (m->iface != NYM_SOCKS5_LEGACY && m->iface < 3)
		return 0;
	if (m->socks5 != NYM_SOCKS5_LEGACY && m->socks5 != NYM_SOCKS5_PROTOCOL_VERSION)
		return 0;
	switch (m->kind) {
	case NYM_SOCKS5_CONTROL:
		return m->iface == NYM_SOCKS5_LEGACY || m->tag > NYM_SOCKS5_CONTROL_VERSIONS ? 0 : 3;
	case NYM_SOCKS5_CONNECT:
		if (m->addr_len > 0xffff)
			return 0;
		return e + 2 + 8 + 2 + m->addr_len + (m->has_return ? NYM_SOCKS5_RECIPIENT_LEN : 0);
	case NYM_SOCKS5_SEND:
		return e + 2 + NYM_SOCKS5_DATA_HEADER_LEN + m->data_len;
	case NYM_SOCKS5_QUERY:
		return m->tag > NYM_SOCKS5_QUERY_EXIT_POLICY ? 0 : e + 3;
	default:
		return 0;
	}
}

int
nym_socks5_req_encode(uint8_t *out, size_t cap, const struct nym_socks5_msg *m)
{
	size_t n = nym_socks5_req_len(m), e = envelope_len(m);
	uint8_t *c;
	if (n == 0)
		return NYM_EINVAL;
	if (n > cap || n > (size_t)INT32_MAX)
		return NYM_ESIZE;
	if (m->kind == NYM_SOCKS5_CONTROL) {
		out[0] = m->iface, out[1] = 0x00, out[2] = m->tag;
		return 3;
	}
	if (e)
		out[0] = m->iface, out[1] = 0x01;
	c = out + e;
	c[0] = m->socks5; /* legacy: the old type tag 00 */
	switch (m->kind) {
	case NYM_SOCKS5_CONNECT:
		c[1] = 0x00;
		put64(c + 2, m->conn_id);
		c[10] = (uint8_t)(m->addr_len >> 8), c[11] = (uint8_t)m->addr_len;
		if (m->addr_len)
			memcpy(c + 12, m->addr, m->addr_len);
		if (m->has_return)
			memcpy(c + 12 + m->addr_len, m->return_address, NYM_SOCKS5_RECIPIENT_LEN);
		break;
	case NYM_SOCKS5_SEND:
		c[1] = 0x01;
		put64(c + 2, m->conn_id);
		c[10] = m->closed ? 1 : 0;
		put64(c + 11, m->seq);
		if (m->data_len)
			memcpy(c + 19, m->data, m->data_len);
		break;
	default: /* Query */
		c[1] = 0x02, c[2] = m->tag;
		break;
	}
	return (int)n;
}

/* ---- responses (§3.2, §5, §6.3) ---- */

static int
query_resp(struct nym_socks5_msg *m, const uint8_t *b, size_t len)
{
	uint64_t v;
	size_t off;
	int w;
	if ((w = nym_bincode_varint_get(&v, b, len, 0xffffffffu)) < 0)
		return w;
	if (v > NYM_SOCKS5_QUERY_ERROR)
		return NYM_EFLAG;
	m->tag = (uint8_t)v;
	off = (size_t)w;
	switch (m->tag) {
	case NYM_SOCKS5_QUERY_OPEN_PROXY:
		w = bc_bool(&m->flag, b + off, len - off);
		break;
	case NYM_SOCKS5_QUERY_EXIT_POLICY:
		if ((w = bc_bool(&m->flag, b + off, len - off)) < 0)
			return w;
		off += (size_t)w;
		if ((w = bc_string(&m->data, &m->data_len, b + off, len - off)) < 0)
			return w;
		off += (size_t)w;
		if ((w = bc_policy(b + off, len - off)) < 0)
			return w;
		m->policy = b + off, m->policy_len = (size_t)w;
		break;
	default: /* Description, Error */
		w = bc_string(&m->data, &m->data_len, b + off, len - off);
		break;
	}
	if (w < 0)
		return w;
	return off + (size_t)w == len ? 0 : NYM_EFORMAT;
}

static int
socks5_resp_content(struct nym_socks5_msg *m, const uint8_t *c, size_t len)
{
	if (len < 1)
		return NYM_ESHORT;
	if (c[0] < 3) { /* legacy: no version byte, c[0] is the flag */
		m->socks5 = NYM_SOCKS5_LEGACY;
	} else {
		m->socks5 = c[0]; /* no upper bound (§5.1) */
		c++, len--;
		if (len < 1)
			return NYM_ESHORT;
	}
	switch (c[0]) {
	case 0x01: /* NetworkData: closed || conn_id || seq || data */
		m->kind = NYM_SOCKS5_NETWORK_DATA;
		if (len - 1 < NYM_SOCKS5_DATA_HEADER_LEN)
			return NYM_ESHORT;
		m->closed = c[1] != 0;
		m->conn_id = get64(c + 2);
		m->seq = get64(c + 10);
		m->data = c + 18, m->data_len = len - 18;
		return 0;
	case 0x02:
		m->kind = NYM_SOCKS5_CONNECTION_ERROR;
		if (len - 1 < 8)
			return NYM_ESHORT;
		m->conn_id = get64(c + 1);
		m->data = c + 9, m->data_len = len - 9;
		return nym_socks5_utf8_valid(m->data, m->data_len) ? 0 : NYM_EFORMAT;
	case 0x03:
		m->kind = NYM_SOCKS5_QUERY;
		if (m->socks5 == NYM_SOCKS5_LEGACY)
			return NYM_EFLAG; /* unreachable: 03 is read as a version */
		return query_resp(m, c + 1, len - 1);
	default:
		return NYM_EFLAG;
	}
}

int
nym_socks5_resp_decode(struct nym_socks5_msg *m, const uint8_t *in, size_t len)
{
	memset(m, 0, sizeof *m);
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] < 3)
		return socks5_resp_content(m, in, len);
	m->iface = in[0];
	if (len < 2)
		return NYM_ESHORT;
	if (in[1] == 0x01)
		return socks5_resp_content(m, in + 2, len - 2);
	if (in[1] != 0x00)
		return NYM_EFLAG;
	m->kind = NYM_SOCKS5_CONTROL;
	if (len < 3)
		return NYM_ESHORT;
	if (in[2] > NYM_SOCKS5_CONTROL_VERSIONS && in[2] != NYM_SOCKS5_CONTROL_ERROR)
		return NYM_EFLAG;
	m->tag = in[2];
	/* Health ignores what follows; the JSON bodies are the caller's to parse */
	m->data = in + 3, m->data_len = len - 3;
	return 0;
}

static size_t
query_resp_len(const struct nym_socks5_msg *m)
{
	uint8_t tmp[9];
	switch (m->tag) {
	case NYM_SOCKS5_QUERY_OPEN_PROXY:
		return 2;
	case NYM_SOCKS5_QUERY_EXIT_POLICY:
		return 2 + nym_bincode_varint_put(tmp, m->data_len) + m->data_len +
		       (m->policy_len ? m->policy_len : 1);
	case NYM_SOCKS5_QUERY_DESCRIPTION:
	case NYM_SOCKS5_QUERY_ERROR:
		return 1 + nym_bincode_varint_put(tmp, m->data_len) + m->data_len;
	default:
		return 0;
	}
}

size_t
nym_socks5_resp_len(const struct nym_socks5_msg *m)
{
	size_t e = envelope_len(m), v = m->socks5 == NYM_SOCKS5_LEGACY ? 0 : 1, q;
	if (m->iface != NYM_SOCKS5_LEGACY && m->iface < 3)
		return 0;
	if (m->socks5 != NYM_SOCKS5_LEGACY && m->socks5 < 3)
		return 0;
	switch (m->kind) {
	case NYM_SOCKS5_CONTROL:
		if (m->iface == NYM_SOCKS5_LEGACY ||
		    (m->tag > NYM_SOCKS5_CONTROL_VERSIONS && m->tag != NYM_SOCKS5_CONTROL_ERROR))
			return 0;
		return 3 + m->data_len;
	case NYM_SOCKS5_NETWORK_DATA:
		return e + v + 1 + NYM_SOCKS5_DATA_HEADER_LEN + m->data_len;
	case NYM_SOCKS5_CONNECTION_ERROR:
		return e + v + 1 + 8 + m->data_len;
	case NYM_SOCKS5_QUERY:
		if (!v || !(q = query_resp_len(m)))
			return 0;
		return e + v + 1 + q;
	default:
		return 0;
	}
}

int
nym_socks5_resp_encode(uint8_t *out, size_t cap, const struct nym_socks5_msg *m)
{
	size_t n = nym_socks5_resp_len(m), e = envelope_len(m), off;
	uint8_t *c;
	if (n == 0)
		return NYM_EINVAL;
	if (n > cap || n > (size_t)INT32_MAX)
		return NYM_ESIZE;
	if (m->kind == NYM_SOCKS5_CONTROL) {
		out[0] = m->iface, out[1] = 0x00, out[2] = m->tag;
		if (m->data_len)
			memcpy(out + 3, m->data, m->data_len);
		return (int)n;
	}
	if (e)
		out[0] = m->iface, out[1] = 0x01;
	c = out + e;
	if (m->socks5 != NYM_SOCKS5_LEGACY)
		*c++ = m->socks5;
	switch (m->kind) {
	case NYM_SOCKS5_NETWORK_DATA:
		c[0] = 0x01, c[1] = m->closed ? 1 : 0;
		put64(c + 2, m->conn_id);
		put64(c + 10, m->seq);
		if (m->data_len)
			memcpy(c + 18, m->data, m->data_len);
		break;
	case NYM_SOCKS5_CONNECTION_ERROR:
		c[0] = 0x02;
		put64(c + 1, m->conn_id);
		if (m->data_len)
			memcpy(c + 9, m->data, m->data_len);
		break;
	default: /* Query */
		c[0] = 0x03, c[1] = m->tag, off = 2;
		if (m->tag == NYM_SOCKS5_QUERY_OPEN_PROXY || m->tag == NYM_SOCKS5_QUERY_EXIT_POLICY)
			c[off++] = m->flag ? 1 : 0;
		if (m->tag != NYM_SOCKS5_QUERY_OPEN_PROXY) {
			off += nym_bincode_varint_put(c + off, m->data_len);
			if (m->data_len)
				memcpy(c + off, m->data, m->data_len);
			off += m->data_len;
		}
		if (m->tag == NYM_SOCKS5_QUERY_EXIT_POLICY) {
			if (m->policy_len)
				memcpy(c + off, m->policy, m->policy_len);
			else
				c[off] = 0x00; /* None */
		}
		break;
	}
	return (int)n;
}

/* ---- texts ---- */

int
nym_socks5_target_split(const uint8_t *addr, size_t len, char *host, size_t hostcap, uint16_t *port)
{
	size_t c = len, hl;
	unsigned long p = 0;
	while (c > 0 && addr[c - 1] != ':')
		c--;
	if (c == 0 || c == len || len - c > 5 || memchr(addr, 0, len))
		return NYM_EADDR;
	for (size_t i = c; i < len; i++) {
		if (addr[i] < '0' || addr[i] > '9')
			return NYM_EADDR;
		p = p * 10 + (addr[i] - '0');
	}
	if (p > 0xffff)
		return NYM_EADDR;
	hl = c - 1;
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']')
		addr++, hl -= 2;
	if (hl == 0 || hl >= hostcap)
		return NYM_EADDR;
	memcpy(host, addr, hl);
	host[hl] = 0;
	*port = (uint16_t)p;
	return 0;
}

int
nym_socks5_versions_json(char *out, size_t cap, uint8_t iface, uint8_t socks5)
{
	char a[48], b[48];
	int n;
	if (iface == NYM_SOCKS5_LEGACY)
		snprintf(a, sizeof a, "{\\\"type\\\":\\\"Legacy\\\"}");
	else
		snprintf(a, sizeof a, "{\\\"type\\\":\\\"Versioned\\\",\\\"version\\\":%u}", iface);
	if (socks5 == NYM_SOCKS5_LEGACY)
		snprintf(b, sizeof b, "{\\\"type\\\":\\\"Legacy\\\"}");
	else
		snprintf(b, sizeof b, "{\\\"type\\\":\\\"Versioned\\\",\\\"version\\\":%u}", socks5);
	n = snprintf(out, cap, "{\"interface_version\":\"%s\",\"provider_version\":\"%s\"}", a, b);
	return n < 0 || (size_t)n >= cap ? NYM_ESIZE : n;
}

int
nym_socks5_nr_answer(struct nym_socks5_msg *ans, const struct nym_socks5_msg *req,
                     const struct nym_socks5_nr_state *st, char *buf, size_t cap)
{
	int n;
	memset(ans, 0, sizeof *ans);
	ans->iface = req->iface;
	ans->kind = req->kind;
	ans->tag = req->tag;
	if (req->kind == NYM_SOCKS5_CONTROL) {
		if (req->tag == NYM_SOCKS5_CONTROL_BINARY_INFO) {
			ans->data = (const uint8_t *)st->info, ans->data_len = strlen(st->info);
		} else if (req->tag == NYM_SOCKS5_CONTROL_VERSIONS) {
			if ((n = nym_socks5_versions_json(buf, cap, NYM_SOCKS5_IFACE_VERSION,
			                                  NYM_SOCKS5_PROTOCOL_VERSION)) < 0)
				return n;
			ans->data = (const uint8_t *)buf, ans->data_len = (size_t)n;
		}
		return 0;
	}
	if (req->kind != NYM_SOCKS5_QUERY)
		return NYM_EINVAL;
	ans->socks5 = NYM_SOCKS5_PROTOCOL_VERSION; /* Socks5ProtocolVersion::default() */
	switch (req->tag) {
	case NYM_SOCKS5_QUERY_OPEN_PROXY:
		ans->flag = st->open_proxy ? 1 : 0;
		break;
	case NYM_SOCKS5_QUERY_DESCRIPTION:
		ans->data = (const uint8_t *)NYM_SOCKS5_DESCRIPTION;
		ans->data_len = sizeof NYM_SOCKS5_DESCRIPTION - 1;
		break;
	default:
		ans->flag = 1; /* enabled: always, in the reference */
		ans->data = (const uint8_t *)st->upstream, ans->data_len = strlen(st->upstream);
		ans->policy = st->policy, ans->policy_len = st->policy_len;
		break;
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	size_t k = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
	                         (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	return k && k <= n && nym_socks5_utf8_valid(s, k) ? k : 0;
}

int
nym_socks5_filter_error(char *out, size_t cap, const uint8_t *addr, size_t addr_len)
{
	static const char head[] = "Domain \"", tail[] = "\" failed filter check";
	size_t o = 0;
#define EMIT(str, l) do { if (o + (l) >= cap) return NYM_ESIZE; memcpy(out + o, (str), (l)); o += (l); } while (0)
	EMIT(head, sizeof head - 1);
	for (size_t i = 0; i < addr_len;) {
		uint8_t c = addr[i];
		size_t k = utf8_seq(addr + i, addr_len - i);
		char esc[12];
		if (k == 0) { /* lossy decoding: one U+FFFD per bad byte */
			EMIT("\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		if (k > 1) {
			EMIT(addr + i, k);
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			EMIT(esc, 2);
		} else if (c == '\n' || c == '\r' || c == '\t' || c == 0) {
			esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '0';
			EMIT(esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			int l = snprintf(esc, sizeof esc, "\\u{%x}", c);
			EMIT(esc, (size_t)l);
		} else {
			EMIT(&addr[i], 1);
		}
		i += k;
	}
	EMIT(tail, sizeof tail - 1);
#undef EMIT
	out[o] = 0;
	return (int)o;
}
