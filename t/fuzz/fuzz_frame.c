/* fuzz_frame — the node-link frame decoder (lib/proto/framing.h) as a socket
 * reader drives it, and MixPacket decoding.
 * Properties: no crash; only the documented errors; the decoder's answer for
 * a stream does not depend on how the bytes were split into reads (every
 * prefix agrees with the whole: "need more" never contradicts a later
 * verdict); a decoded header re-encodes to the same bytes; a decoded
 * MixPacket re-encodes to exactly its input. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(long rc)
{
	if (rc < 0 && rc != NYM_EVERSION && rc != NYM_ESIZE && rc != NYM_EFLAG)
		abort();
}

/* Walk a stream of back-to-back frames the way lib/io/netio.c does. */
static void
walk(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		struct nym_frame_header h;
		long need = nym_frame_need(&h, data + off, size - off);
		check_err(need);
		if (need < 0) {
			/* The verdict must already hold on the shortest prefix that
			 * shows the bad byte: at most the 4 header bytes. */
			size_t k;
			for (k = 1; k <= 4 && off + k <= size; k++) {
				struct nym_frame_header h2;
				long r = nym_frame_need(&h2, data + off, k);
				if (r < 0)
					break;
				if (r <= (long)k) /* "complete" on a prefix of a bad header */
					abort();
			}
			if (k > 4 || off + k > size)
				abort();
			return;
		}
		if (need == 0)
			abort();
		/* Every shorter prefix says "need more" with a consistent size. */
		for (size_t k = 1; k < (size_t)need && off + k <= size && k <= 8; k++) {
			struct nym_frame_header h2;
			long r = nym_frame_need(&h2, data + off, k);
			if (r < 0 || r <= (long)k)
				abort();
			if (k >= h.header_len && r != need)
				abort();
		}
		if ((size_t)need > size - off)
			return; /* incomplete last frame */
		if (h.header_len != 3 && h.header_len != 4)
			abort();
		if ((size_t)need != h.header_len + h.packet_len)
			abort();
		if (nym_size_tag_len(h.size_tag) != (long)h.packet_len)
			abort();
		uint8_t hdr[NYM_FRAME_HEADER_MAX];
		int hl = nym_frame_header_write(hdr, h.version, h.packet_len, h.packet_type,
		                                h.key_rotation);
		if (hl != (int)h.header_len || memcmp(hdr, data + off, (size_t)hl) != 0)
			abort();
		off += (size_t)need;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size);

	/* MixPacket v1 and v2 from the same bytes. */
	for (int v = 1; v <= 2; v++) {
		struct nym_mix_packet mp;
		int rc = nym_mix_packet_decode(&mp, v, data, size);
		if (rc < 0) {
			if (rc != NYM_EVERSION && rc != NYM_ESIZE && rc != NYM_EADDR && rc != NYM_EFLAG &&
			    rc != NYM_ESHORT && rc != NYM_EFORMAT)
				abort();
			continue;
		}
		size_t len = nym_mix_packet_len(v, &mp);
		if (len != size)
			abort();
		uint8_t *out = malloc(len);
		if (!out || nym_mix_packet_encode(out, len, v, &mp) != (int)len ||
		    memcmp(out, data, len) != 0)
			abort();
		free(out);
	}
	return 0;
}
