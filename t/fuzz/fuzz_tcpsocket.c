/* fuzz_tcpsocket.c — the TCP-socket API's request frames (lib/proto/tcpsocket.h;
 * doc/spec/tcpsocket.md §1-2), as nym-client tcpsocket reads them from a local
 * application. Properties: no crash, no leak; the framer never asks for more
 * than the limit; what decodes as a request encodes again and decodes to the
 * same kind and fields; the response decoder survives the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/tcpsocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
request(const uint8_t *in, size_t len)
{
	struct nym_tcpsocket_req r, r2;
	uint8_t *out;
	size_t n;

	if (nym_tcpsocket_req_decode(&r, in, len) < 0)
		return;
	if (r.kind != NYM_TCPSOCKET_REQ_NONE && (r.kind < NYM_TCPSOCKET_REQ_SEND ||
	    r.kind > NYM_TCPSOCKET_REQ_FLUSH))
		abort();
	if (nym_tcpsocket_req_encode(&out, &n, r.kind, r.message, r.message_len,
	    r.has_recipient ? r.recipient_id : NULL) == 0) {
		if (nym_tcpsocket_frame(out, n, n) != (int64_t)n ||
		    nym_tcpsocket_req_decode(&r2, out + NYM_TCPSOCKET_HEADER, n - NYM_TCPSOCKET_HEADER) < 0)
			abort();
		if (r2.kind != r.kind || r2.message_len != r.message_len ||
		    (r.message_len && memcmp(r2.message, r.message, r.message_len)) ||
		    r2.has_recipient != r.has_recipient || strcmp(r2.recipient_id, r.recipient_id))
			abort();
		nym_tcpsocket_req_free(&r2);
		free(out);
	}
	nym_tcpsocket_req_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t f = nym_tcpsocket_frame(data, size, 4096);
	struct nym_tcpsocket_resp_owned o;

	if (f > 0 && ((size_t)f > size || f > 4096 + NYM_TCPSOCKET_HEADER))
		abort();
	if (f > 0)
		request(data + NYM_TCPSOCKET_HEADER, (size_t)f - NYM_TCPSOCKET_HEADER);
	request(data, size);
	if (nym_tcpsocket_resp_decode(&o, data, size) == 0)
		nym_tcpsocket_resp_free(&o);
	return 0;
}
