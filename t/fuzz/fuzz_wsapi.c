/* fuzz_wsapi.c — the websocket API's binary requests and responses
 * (lib/proto/wsapi.h; doc/spec/client-websocket.md §5–6), as nym-recv's control
 * socket and the client tools receive them. lib/ has no text (JSON) frame
 * decoder: the tools hand text frames to jansson. Properties: no crash; a
 * failure names one of the documented error kinds; what decodes points into
 * the input, encodes back to the input (a SelfAddress request: to its first
 * byte, trailing bytes being ignored) and decodes again to the same fields. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/wsapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const uint8_t *p, size_t n, const uint8_t *in, size_t len)
{
	return n == 0 || (p >= in && n <= len && p - in <= (ptrdiff_t)(len - n));
}

static void
request(const uint8_t *in, size_t len)
{
	struct nym_wsapi_req r, r2;
	uint8_t kind = 0, *out;
	size_t n;
	int rc = nym_wsapi_req_decode(&r, in, len, &kind);

	if (rc < 0) {
		if (kind != NYM_WSAPI_ERR_EMPTY_REQUEST && kind != NYM_WSAPI_ERR_TOO_SHORT_REQUEST &&
		    kind != NYM_WSAPI_ERR_UNKNOWN_REQUEST && kind != NYM_WSAPI_ERR_MALFORMED_REQUEST)
			abort();
		return;
	}
	if (rc != 0 || !inside(r.data, r.data_len, in, len))
		abort();
	n = nym_wsapi_req_len(&r);
	if (n == 0 || n > len || (n != len && r.tag != NYM_WSAPI_REQ_SELF_ADDRESS))
		abort();
	if (!(out = malloc(n)))
		return;
	if (nym_wsapi_req_encode(out, n, &r) != (int)n || memcmp(out, in, n) != 0)
		abort();
	if (nym_wsapi_req_decode(&r2, out, n, NULL) != 0 || r2.tag != r.tag ||
	    r2.connection_id != r.connection_id || r2.reply_surbs != r.reply_surbs ||
	    memcmp(r2.recipient, r.recipient, sizeof r.recipient) != 0 ||
	    memcmp(r2.sender_tag, r.sender_tag, sizeof r.sender_tag) != 0 || r2.data_len != r.data_len ||
	    (r.data_len && memcmp(r2.data, r.data, r.data_len) != 0))
		abort();
	free(out);
}

static void
response(const uint8_t *in, size_t len)
{
	struct nym_wsapi_resp p, p2;
	uint8_t kind = 0, *out;
	size_t n;
	int rc = nym_wsapi_resp_decode(&p, in, len, &kind);

	if (rc < 0) {
		if (kind != NYM_WSAPI_ERR_EMPTY_RESPONSE && kind != NYM_WSAPI_ERR_TOO_SHORT_RESPONSE &&
		    kind != NYM_WSAPI_ERR_UNKNOWN_RESPONSE && kind != NYM_WSAPI_ERR_MALFORMED_RESPONSE)
			abort();
		return;
	}
	if (rc != 0 || !inside(p.data, p.data_len, in, len))
		abort();
	if ((n = nym_wsapi_resp_len(&p)) != len)
		abort();
	if (!(out = malloc(n)))
		return;
	if (nym_wsapi_resp_encode(out, n, &p) != (int)n || memcmp(out, in, n) != 0)
		abort();
	if (nym_wsapi_resp_decode(&p2, out, n, NULL) != 0 || p2.tag != p.tag ||
	    p2.error_kind != p.error_kind || p2.has_sender_tag != p.has_sender_tag ||
	    memcmp(p2.sender_tag, p.sender_tag, sizeof p.sender_tag) != 0 ||
	    memcmp(p2.recipient, p.recipient, sizeof p.recipient) != 0 || p2.lane != p.lane ||
	    p2.queue_length != p.queue_length || p2.loop_id != p.loop_id || p2.rtt_us != p.rtt_us ||
	    p2.data_len != p.data_len || (p.data_len && memcmp(p2.data, p.data, p.data_len) != 0))
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	response(data, size);
	return 0;
}
