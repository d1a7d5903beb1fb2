/* test_framing.c — size tags, node-link frame headers, MixPacket v1/v2
 * against the spec's examples and the official client's mix_packet fields. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "msgvec.h"
#include "proto/framing.h"
#include "test.h"

static void
tags(void)
{
	static const size_t want[] = { 0, 2413, 386, 33133, 8557, 16749, 2377, 377 };
	int ok = 1;

	for (int t = 1; t <= 7; t++)
		if (nym_size_tag_len((uint8_t)t) != (long)want[t] || nym_size_tag_of_len(want[t]) != t)
			ok = 0;
	CHECK(ok, "size tags 1..7 <-> 2413 386 33133 8557 16749 2377 377");
	CHECK(nym_size_tag_len(0) == NYM_EFLAG && nym_size_tag_len(8) == NYM_EFLAG &&
	      nym_size_tag_of_len(2412) == NYM_ESIZE, "unknown tags and lengths refused");
	CHECK(nym_size_tag_plaintext(NYM_SIZE_REGULAR) == 2048 && nym_size_tag_plaintext(NYM_SIZE_ACK) == 21 &&
	      nym_size_tag_plaintext(NYM_SIZE_EXTENDED32) == 32768 && nym_size_tag_plaintext(6) == NYM_EFLAG,
	      "Sphinx plaintext sizes per tag");
	CHECK(nym_rotation_of_id(0) == 0 && nym_rotation_of_id(0xffffffff) == 0 && nym_rotation_of_id(7) == 1 &&
	      nym_rotation_of_id(8) == 2, "rotation id 0/max -> Unknown, 7 -> Odd, 8 -> Even");
}

static void
frames(void)
{
	uint8_t h[4], *pkt = calloc(1, 2413 + 4);
	struct nym_frame_header fh;
	long need;

	CHECK(nym_frame_header_write(h, 8, 2413, 0, 2) == 4 && memcmp(h, "\x08\x01\x00\x02", 4) == 0,
	      "v8 header for a regular Mix packet, even rotation: 08 01 00 02");
	CHECK(nym_frame_header_write(h, 7, 2413, 0, 0) == 3 && memcmp(h, "\x07\x01\x00", 3) == 0,
	      "v7 header: 07 01 00");
	CHECK(nym_frame_header_write(h, 123, 2413, 0, 0) == NYM_EVERSION &&
	      nym_frame_header_write(h, 8, 2414, 0, 0) == NYM_ESIZE &&
	      nym_frame_header_write(h, 8, 2413, 1, 0) == NYM_EFLAG &&
	      nym_frame_header_write(h, 8, 2413, 0, 3) == NYM_EFLAG, "encoder refuses bad version/size/type/rotation");

	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x08\xff\x00\x02", 4) == NYM_ESIZE, "08 ff 00 02 (size tag 255) refused");
	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x07\x01\xff", 3) == NYM_EFLAG, "07 01 ff (type 255) refused");
	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x7b", 1) == NYM_EVERSION, "version 123 refused at once");
	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x06\x01\x00", 3) == NYM_EVERSION, "version 6 refused");
	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x08\x01\x00\x03", 4) == NYM_EFLAG, "rotation 3 refused");
	CHECK(nym_frame_need(&fh, (const uint8_t *)"\x08\x01\x01\x00", 4) == NYM_EFLAG, "type 1 (old Vpn) refused");

	/* byte by byte, as a socket reader sees it */
	memcpy(pkt, "\x08\x02\x00\x01", 4);
	size_t steps[] = { 0, 1, 2, 3, 4, 389, 390 };
	long wants[] = { 3, 3, 3, 4, 390, 390, 390 };
	int ok = 1;
	for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
		if ((need = nym_frame_need(&fh, pkt, steps[i])) != wants[i])
			ok = 0;
	CHECK(ok && fh.header_len == 4 && fh.packet_len == 386 && fh.key_rotation == 1 && fh.size_tag == 2,
	      "incremental decode of a v8 ack frame: need 3, 4, then 390");
	memcpy(pkt, "\x07\x01\x00", 3);
	CHECK(nym_frame_need(&fh, pkt, 3) == 2416 && fh.key_rotation == 0 && fh.header_len == 3,
	      "v7 regular frame needs 2416 bytes, rotation Unknown");
	/* netio's frame_len shape: 0 until the header is in */
	memcpy(pkt, "\x08\x02\x00\x01", 4);
	CHECK(nym_frame_len(pkt, 1) == 0 && nym_frame_len(pkt, 3) == 0 && nym_frame_len(pkt, 4) == 390 &&
	      nym_frame_len(pkt, 390) == 390 && nym_frame_len((const uint8_t *)"\x08\xff", 2) == NYM_ESIZE &&
	      nym_frame_len((const uint8_t *)"\x07\x01\x00", 3) == 2416,
	      "nym_frame_len: 0 while the header is short, then the frame length or the error");
	free(pkt);
}

static void
mixpackets(void)
{
	uint8_t *pkt = calloc(1, 2413), *out = malloc(2500);
	struct nym_mix_packet mp = { 0 }, back;
	uint8_t pad32[32] = { 4, 0x06, 0xfd, 1, 2, 3, 4 };

	mp.packet_type = 0;
	mp.key_rotation = 2;
	mp.packet = pkt;
	mp.packet_len = 2413;
	CHECK(nym_mix_packet_set_next_hop(&mp, pad32, 32) == 0 && mp.next_hop_len == 7, "next hop from a 32-byte padded address");
	int n = nym_mix_packet_encode(out, 2500, 2, &mp);
	CHECK(n == 2422 && memcmp(out, "\x00\x02\x04\x06\xfd\x01\x02\x03\x04", 9) == 0,
	      "v2 MixPacket to 1.2.3.4:1789, even: 00 02 04 06fd 01020304 ... (2422 bytes)");
	CHECK(nym_mix_packet_decode(&back, 2, out, (size_t)n) == 0 && back.key_rotation == 2 &&
	      back.next_hop_len == 7 && back.packet == out + 9 && back.packet_len == 2413, "v2 decodes back");
	n = nym_mix_packet_encode(out, 2500, 1, &mp);
	CHECK(n == 2421 && memcmp(out, "\x00\x04\x06\xfd", 4) == 0 &&
	      nym_mix_packet_decode(&back, 1, out, (size_t)n) == 0 && back.key_rotation == 0,
	      "v1 MixPacket has no rotation byte and decodes as Unknown");
	uint8_t v6[19] = { 6, 0x06, 0xfd };
	v6[18] = 1;
	nym_mix_packet_set_next_hop(&mp, v6, 19);
	n = nym_mix_packet_encode(out, 2500, 2, &mp);
	CHECK(n == 2 + 19 + 2413 && nym_mix_packet_decode(&back, 2, out, (size_t)n) == 0 && back.next_hop_len == 19,
	      "IPv6 next hop (19 bytes)");
	CHECK(nym_mix_packet_decode(&back, 2, out, (size_t)n - 1) == NYM_ESIZE, "packet of no known size refused");
	out[2] = 5;
	CHECK(nym_mix_packet_decode(&back, 2, out, (size_t)n) == NYM_EADDR, "address type 5 refused");
	out[2] = 6;
	out[1] = 9;
	CHECK(nym_mix_packet_decode(&back, 2, out, (size_t)n) == NYM_EFLAG, "rotation 9 refused");
	CHECK(nym_mix_packet_decode(&back, 3, out, (size_t)n) == NYM_EVERSION, "MixPacket v3 refused");
	CHECK(nym_mix_packet_decode(&back, 2, out, 5) == NYM_ESHORT, "truncated MixPacket refused");
	free(pkt);
	free(out);
}

/* "127.0.0.1:17891" -> 04 45e3 7f000001 */
static void
host_addr(const char *host, uint8_t a[7])
{
	char ip[64];
	const char *c = strrchr(host, ':');
	unsigned port = (unsigned)atoi(c + 1);
	memcpy(ip, host, (size_t)(c - host));
	ip[c - host] = 0;
	a[0] = 4;
	a[1] = (uint8_t)(port >> 8);
	a[2] = (uint8_t)port;
	inet_pton(AF_INET, ip, a + 3);
}

/* Rebuild each official MixPacket from its recorded fields and check it. */
static void
official(const char *file, const char *path, uint8_t want_rot)
{
	json_t *j = v_load(file), *p = v_get(j, path);
	size_t plen, fl;
	uint8_t *pkt = v_hex(p, "packet", &plen), a[7], *out = malloc(plen + 32);
	uint8_t *first = v_hex(p, "nym/surb_ack/first_hop_bytes", &fl);
	struct nym_mix_packet mp = { 0 }, back;

	host_addr(v_str(p, "mix_packet/next_hop"), a);
	mp.packet_type = (uint8_t)v_int(p, "mix_packet/packet_type");
	mp.key_rotation = (uint8_t)v_int(p, "mix_packet/key_rotation");
	mp.packet = pkt;
	mp.packet_len = plen;
	nym_mix_packet_set_next_hop(&mp, a, 7);
	int n = nym_mix_packet_encode(out, plen + 32, (int)v_int(p, "mix_packet/request_kind"), &mp);
	CHECK(n == (int)plen + 9 && nym_mix_packet_decode(&back, 2, out, (size_t)n) == 0 &&
	      back.key_rotation == want_rot && memcmp(back.packet, pkt, plen) == 0 &&
	      nym_size_tag_of_len(back.packet_len) == (strcmp(v_str(p, "packet_size"), "regular") ? 3 : 1),
	      "%s: official MixPacket v2 (rotation %u, %zu-byte packet) round-trips", file, want_rot, plen);
	/* the SURB-ack's 19-byte padded first hop names the same kind of address */
	struct nym_mix_packet ackmp = { 0 };
	CHECK(fl == 19 && nym_mix_packet_set_next_hop(&ackmp, first, 19) == 0 && ackmp.next_hop_len == 7 &&
	      memcmp(first + 7, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0,
	      "%s: ack first hop is a 7-byte address zero-padded to 19", file);
	free(first);
	free(pkt);
	free(out);
	json_decref(j);
}

int
main(void)
{
	tags();
	frames();
	mixpackets();
	official("case-a1-plain-1byte.json", "packets/0", 0);
	official("case-g-extended32-3000byte.json", "packets/0", 0);
	official("case-i-key-rotation-odd-even.json", "runs/0/packet", 1);
	official("case-i-key-rotation-odd-even.json", "runs/1/packet", 2);
	{
		json_t *j = v_load("case-i-key-rotation-odd-even.json");
		CHECK(nym_rotation_of_id((uint32_t)v_int(j, "runs/0/rotation_id")) == v_int(j, "runs/0/mix_packet_key_rotation_byte") &&
		      nym_rotation_of_id((uint32_t)v_int(j, "runs/1/rotation_id")) == v_int(j, "runs/1/mix_packet_key_rotation_byte"),
		      "case i: rotation ids 7 and 8 map to the official bytes");
		json_decref(j);
	}
	return t_done();
}
