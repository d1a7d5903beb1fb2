/* fuzz_socks5.c — the network requester's requests and the SOCKS client's
 * responses (lib/proto/socks5.h; doc/spec/socks5.md §2–6), as they arrive
 * from the mixnet. Properties: no crash, no read past the input; a failure is
 * one of the documented codes; what decodes points into the input, encodes
 * to the input again (up to a closed byte > 1, read as 1, the ignored rest
 * of a control message, and bincode varints wider than needed) and decodes to the same fields. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ordered.h"
#include "proto/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const uint8_t *p, size_t n, const uint8_t *in, size_t len)
{
	return n == 0 || (p >= in && n <= len && p - in <= (ptrdiff_t)(len - n));
}

static int
code_ok(int rc)
{
	return rc == NYM_ESHORT || rc == NYM_EFLAG || rc == NYM_EVERSION || rc == NYM_EFORMAT || rc == NYM_EKEY;
}

static int
same(const struct nym_socks5_msg *a, const struct nym_socks5_msg *b)
{
	return a->iface == b->iface && a->socks5 == b->socks5 && a->kind == b->kind &&
	       a->conn_id == b->conn_id && a->addr_len == b->addr_len && a->has_return == b->has_return &&
	       a->closed == b->closed && a->seq == b->seq && a->data_len == b->data_len && a->tag == b->tag &&
	       a->flag == b->flag && a->policy_len == b->policy_len &&
	       (!a->data_len || !memcmp(a->data, b->data, a->data_len));
}

static void
one(const uint8_t *in, size_t len, int req)
{
	struct nym_socks5_msg m, m2;
	uint8_t *out;
	size_t n;
	int rc = req ? nym_socks5_req_decode(&m, in, len) : nym_socks5_resp_decode(&m, in, len);

	if (rc < 0) {
		if (!code_ok(rc))
			abort();
		return;
	}
	if (rc != 0 || !inside(m.data, m.data_len, in, len) || !inside(m.addr, m.addr_len, in, len) ||
	    !inside(m.policy, m.policy_len, in, len))
		abort();
	n = req ? nym_socks5_req_len(&m) : nym_socks5_resp_len(&m);
	/* shorter only for a control request's ignored rest, or a query's wider varints */
	if (n == 0 || n > len || (n != len && !(req && m.kind == NYM_SOCKS5_CONTROL) && m.kind != NYM_SOCKS5_QUERY))
		abort();
	if (!(out = malloc(n)))
		return;
	if ((req ? nym_socks5_req_encode(out, n, &m) : nym_socks5_resp_encode(out, n, &m)) != (int)n)
		abort();
	rc = req ? nym_socks5_req_decode(&m2, out, n) : nym_socks5_resp_decode(&m2, out, n);
	if (rc != 0 || !same(&m, &m2))
		abort();
	free(out);
}

/* The input as a run of (seq u16, closed, len u8, data) writes into one buffer. */
static void
ordered(const uint8_t *in, size_t len)
{
	struct nym_ordered o;
	uint8_t *d;
	size_t n;
	uint64_t seq, want = 0;
	nym_ordered_init(&o, 4096);
	for (size_t i = 0; i + 4 <= len;) {
		uint64_t s = (uint64_t)in[i] << 8 | in[i + 1];
		int closed = in[i + 2] & 1;
		size_t l = in[i + 3];
		i += 4;
		if (l > len - i)
			l = len - i;
		int rc = nym_ordered_write(&o, s, closed, in + i, l);
		if (rc != 0 && rc != NYM_ERANGE && rc != NYM_EREPLAY && rc != NYM_EFULL)
			abort();
		i += l;
		while (nym_ordered_read(&o, &d, &n, &seq) == 1) {
			if (seq != want++)
				abort();
			free(d);
		}
		if (o.held_bytes > 4096)
			abort();
	}
	nym_ordered_free(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 1);
	one(data, size, 0);
	ordered(data, size);
	return 0;
}
