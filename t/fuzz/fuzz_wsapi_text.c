/* fuzz_wsapi_text.c — the websocket API's text (JSON) requests
 * (lib/proto/wsapi.h; doc/spec/client-websocket.md §3), as nym-client
 * receives them from any local application. Properties: no crash, no leak;
 * a failure is MalformedRequest or EmptyRequest with a NUL-terminated
 * detail and nothing owned; a decoded send-type request's data lies in the
 * owned buffer; every response built from it encodes as text. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/wsapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_wsapi_req r;
	struct nym_wsapi_resp p;
	uint8_t *own = NULL, kind = 0;
	char why[NYM_WSAPI_WHY_MAX], *out;
	size_t n;
	int e = nym_wsapi_text_req_decode(&r, &own, (const char *)data, size, &kind, why, sizeof why);

	if (e < 0) {
		if (own || (kind != NYM_WSAPI_ERR_MALFORMED_REQUEST && kind != NYM_WSAPI_ERR_EMPTY_REQUEST &&
		    kind != NYM_WSAPI_ERR_OTHER) || !memchr(why, 0, sizeof why))
			abort();
		return 0;
	}
	if (r.tag != NYM_WSAPI_REQ_SELF_ADDRESS && (!own || (r.data_len && r.data != own)))
		abort();
	/* echo it back as a Received and as an Error: must always encode */
	memset(&p, 0, sizeof p);
	p.tag = NYM_WSAPI_RESP_RECEIVED;
	p.data = r.data;
	p.data_len = r.data_len;
	p.has_sender_tag = r.tag == NYM_WSAPI_REQ_REPLY;
	memcpy(p.sender_tag, r.sender_tag, 16);
	if (nym_wsapi_text_resp_encode(&out, &n, &p) != 0 || strlen(out) != n)
		abort();
	free(out);
	p.tag = NYM_WSAPI_RESP_ERROR;
	if (nym_wsapi_text_resp_encode(&out, &n, &p) != 0)
		abort();
	free(out);
	free(own);
	return 0;
}
