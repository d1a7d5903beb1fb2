/* fuzz_socks.c — the SOCKS handshake (lib/proto/socks.h; doc/spec/socks5.md
 * §8), fed by a hostile local application. The first byte picks how the
 * input is cut into calls. Properties: no crash; every call takes at least
 * one byte or ends; replies fit and are of a known form; a complete request
 * yields a NUL-terminated destination of its stated length with a port. */
#include <stdlib.h>
#include <string.h>

#include "proto/socks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_socks s;
	uint8_t out[NYM_SOCKS_REPLY_MAX];
	size_t off = 1, used, ol, step;
	int r = NYM_SOCKS_MORE;

	if (size < 1)
		return 0;
	step = data[0] ? data[0] : size;
	nym_socks_init(&s);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		r = nym_socks_input(&s, data + off, n, &used, out, &ol);
		if (used > n || ol > NYM_SOCKS_REPLY_MAX)
			abort();
		if (ol && !(ol == 2 || ol == 8 || ol == 10))
			abort();
		off += used;
		if (r != NYM_SOCKS_MORE)
			break;
		if (used == 0)
			abort();
	}
	if (r == NYM_SOCKS_DONE) {
		if (strlen(s.dest) != s.dest_len || !strchr(s.dest, ':') || (s.version != 4 && s.version != 5))
			abort();
		if (nym_socks_reply(&s, 1, 0, out) > NYM_SOCKS_REPLY_MAX)
			abort();
	} else if (r < 0 && !s.why)
		abort();
	return 0;
}
