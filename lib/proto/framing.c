/* framing.c — size tags, node-link frames, MixPacket v1/v2 (doc/spec/nym-message.md §2–3). */
#include <string.h>

#include "base/err.h"
#include "proto/framing.h"

/* The one table of packet sizes (packet.c names them):
 * tag → (packet length, Sphinx plaintext length); plain 0 = not Sphinx. */
static const struct { size_t len, plain; } sizes[] = {
	[NYM_SIZE_REGULAR] = { 2413, 2048 },
	[NYM_SIZE_ACK] = { 386, 21 },
	[NYM_SIZE_EXTENDED32] = { NYM_PACKET_MAX_LEN, 32768 },
	[NYM_SIZE_EXTENDED8] = { 8557, 8192 },
	[NYM_SIZE_EXTENDED16] = { 16749, 16384 },
	[NYM_SIZE_OUTFOX_REGULAR] = { 2377, 0 },
	[NYM_SIZE_OUTFOX_ACK] = { 377, 0 },
};
#define NSIZES (sizeof sizes / sizeof *sizes)

long
nym_size_tag_len(uint8_t tag)
{
	if (tag < 1 || tag >= NSIZES)
		return NYM_EFLAG;
	return (long)sizes[tag].len;
}

long
nym_size_tag_plaintext(uint8_t tag)
{
	if (tag < 1 || tag >= NSIZES || !sizes[tag].plain)
		return NYM_EFLAG;
	return (long)sizes[tag].plain;
}

int
nym_size_tag_of_len(size_t len)
{
	for (size_t t = 1; t < NSIZES; t++)
		if (sizes[t].len == len)
			return (int)t;
	return NYM_ESIZE;
}

uint8_t
nym_rotation_of_id(uint32_t id)
{
	if (id == 0 || id == 0xffffffffu)
		return NYM_ROTATION_UNKNOWN;
	return (id & 1) ? NYM_ROTATION_ODD : NYM_ROTATION_EVEN;
}

static int
type_ok(uint8_t t)
{
	return t == NYM_PACKET_TYPE_MIX || t == NYM_PACKET_TYPE_OUTFOX;
}

int
nym_frame_header_write(uint8_t out[NYM_FRAME_HEADER_MAX], uint8_t version, size_t packet_len,
                       uint8_t packet_type, uint8_t key_rotation)
{
	int tag = nym_size_tag_of_len(packet_len);

	if (version != NYM_FRAME_V7 && version != NYM_FRAME_V8)
		return NYM_EVERSION;
	if (tag < 0)
		return tag;
	if (!type_ok(packet_type) || key_rotation > NYM_ROTATION_EVEN)
		return NYM_EFLAG;
	out[0] = version;
	out[1] = (uint8_t)tag;
	out[2] = packet_type;
	if (version == NYM_FRAME_V7)
		return 3;
	out[3] = key_rotation;
	return 4;
}

long
nym_frame_need(struct nym_frame_header *h, const uint8_t *buf, size_t len)
{
	long plen;

	if (len >= 1 && buf[0] != NYM_FRAME_V7 && buf[0] != NYM_FRAME_V8)
		return NYM_EVERSION;
	if (len >= 2 && nym_size_tag_len(buf[1]) < 0)
		return NYM_ESIZE;
	if (len >= 3 && !type_ok(buf[2]))
		return NYM_EFLAG;
	if (len < 3)
		return 3;
	memset(h, 0, sizeof *h);
	h->version = buf[0];
	h->size_tag = buf[1];
	h->packet_type = buf[2];
	h->header_len = 3;
	if (h->version == NYM_FRAME_V8) {
		if (len < 4)
			return 4;
		if (buf[3] > NYM_ROTATION_EVEN)
			return NYM_EFLAG;
		h->key_rotation = buf[3];
		h->header_len = 4;
	}
	plen = nym_size_tag_len(h->size_tag);
	h->packet_len = (size_t)plen;
	return (long)(h->header_len + h->packet_len);
}

long
nym_frame_len(const uint8_t *buf, size_t avail)
{
	struct nym_frame_header h;
	long need = nym_frame_need(&h, buf, avail);

	/* While the header is incomplete, need is its length (3 or 4); a whole
	 * frame is always longer. */
	return need >= 0 && need <= NYM_FRAME_HEADER_MAX ? 0 : need;
}

int
nym_next_hop_len(const uint8_t *a, size_t len)
{
	if (len >= 7 && a[0] == 4)
		return 7;
	if (len >= 19 && a[0] == 6)
		return 19;
	return NYM_EADDR;
}

int
nym_mix_packet_set_next_hop(struct nym_mix_packet *mp, const uint8_t *a, size_t len)
{
	int n = nym_next_hop_len(a, len);

	if (n < 0)
		return n;
	memcpy(mp->next_hop, a, (size_t)n);
	mp->next_hop_len = (size_t)n;
	return 0;
}

size_t
nym_mix_packet_len(int version, const struct nym_mix_packet *mp)
{
	if (version != NYM_MIX_PACKET_V1 && version != NYM_MIX_PACKET_V2)
		return 0;
	return (size_t)version + mp->next_hop_len + mp->packet_len;
}

int
nym_mix_packet_encode(uint8_t *out, size_t cap, int version, const struct nym_mix_packet *mp)
{
	size_t n = nym_mix_packet_len(version, mp), o = 0;

	if (!n)
		return NYM_EVERSION;
	if (nym_size_tag_of_len(mp->packet_len) < 0)
		return NYM_ESIZE;
	if (nym_next_hop_len(mp->next_hop, mp->next_hop_len) != (int)mp->next_hop_len)
		return NYM_EADDR;
	if (!type_ok(mp->packet_type) || mp->key_rotation > NYM_ROTATION_EVEN)
		return NYM_EFLAG;
	if (cap < n)
		return NYM_ESIZE;
	out[o++] = mp->packet_type;
	if (version == NYM_MIX_PACKET_V2)
		out[o++] = mp->key_rotation;
	memcpy(out + o, mp->next_hop, mp->next_hop_len);
	o += mp->next_hop_len;
	memmove(out + o, mp->packet, mp->packet_len);
	return (int)(o + mp->packet_len);
}

int
nym_mix_packet_decode(struct nym_mix_packet *mp, int version, const uint8_t *in, size_t len)
{
	size_t o = 0;
	int e;

	memset(mp, 0, sizeof *mp);
	if (version != NYM_MIX_PACKET_V1 && version != NYM_MIX_PACKET_V2)
		return NYM_EVERSION;
	if (len < (size_t)version + 7)
		return NYM_ESHORT;
	mp->packet_type = in[o++];
	if (!type_ok(mp->packet_type))
		return NYM_EFLAG;
	if (version == NYM_MIX_PACKET_V2) {
		mp->key_rotation = in[o++];
		if (mp->key_rotation > NYM_ROTATION_EVEN)
			return NYM_EFLAG;
	}
	if ((e = nym_mix_packet_set_next_hop(mp, in + o, len - o)) < 0)
		return e;
	o += mp->next_hop_len;
	mp->packet = in + o;
	mp->packet_len = len - o;
	if (nym_size_tag_of_len(mp->packet_len) < 0)
		return NYM_ESIZE;
	return 0;
}
