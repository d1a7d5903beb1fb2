/* test_packet.c — size classes and node routing addresses. */
#include "base/err.h"
#include "proto/packet.h"
#include "proto/sphinx.h"
#include "test.h"

int
main(void)
{
	static const struct { const char *name; uint8_t tag; size_t len, payload, plain; } want[] = {
		{ "regular", 1, 2413, 2065, 2048 }, { "ack", 2, 386, 38, 21 },
		{ "extended32", 3, 33133, 32785, 32768 }, { "extended8", 4, 8557, 8209, 8192 },
		{ "extended16", 5, 16749, 16401, 16384 },
	};
	for (size_t i = 0; i < 5; i++) {
		int t = nym_packet_size_by_name(want[i].name);
		CHECK(t == want[i].tag && nym_size_tag_len((uint8_t)t) == (long)want[i].len &&
		      nym_size_tag_len((uint8_t)t) - NYM_SPHINX_HEADER_LEN == (long)want[i].payload &&
		      nym_size_tag_plaintext((uint8_t)t) == (long)want[i].plain &&
		      nym_size_tag_of_len(want[i].len) == t &&
		      strcmp(nym_packet_size_name((uint8_t)t), want[i].name) == 0,
		      "%s: tag %u, %zu/%zu/%zu bytes", want[i].name, want[i].tag, want[i].len,
		      want[i].payload, want[i].plain);
	}
	CHECK(nym_packet_size_by_name("outfox_regular") == 6 && nym_size_tag_plaintext(6) == NYM_EFLAG,
	      "outfox is named but has no Sphinx sizes");
	CHECK(nym_packet_size_by_name("huge") == NYM_EINVAL && nym_packet_size_name(9) == NULL,
	      "unknown names and tags");
	CHECK(nym_size_tag_of_len(2412) == NYM_ESIZE && nym_size_tag_of_len(2377) == NYM_SIZE_OUTFOX_REGULAR &&
	      nym_size_tag_plaintext(NYM_SIZE_OUTFOX_REGULAR) == NYM_EFLAG,
	      "lengths that are no Sphinx size");

	/* Addresses, as in the vectors: 127.0.0.1:17891 */
	struct nym_node_addr a, b;
	uint8_t buf[32], v4[32] = { 0x04, 0x45, 0xe3, 0x7f, 0, 0, 1 };
	char s[NYM_NODE_ADDR_STR_MAX];
	CHECK(nym_node_addr_parse(&a, "127.0.0.1:17891") == 0 && a.family == 4 && a.port == 17891,
	      "parse 127.0.0.1:17891");
	CHECK(nym_node_addr_encode(buf, 32, &a) == 7 && memcmp(buf, v4, 32) == 0,
	      "encode padded to 32 (vectors' routing_address_32)");
	memset(buf, 0xee, sizeof buf);
	CHECK(nym_node_addr_encode(buf, 19, &a) == 7 && memcmp(buf, v4, 19) == 0 && buf[19] == 0xee,
	      "encode padded to 19 (SURB-ack first hop)");
	CHECK(nym_node_addr_encode(buf, 7, &a) == 7 && nym_node_addr_encode(buf, 6, &a) == NYM_ESIZE,
	      "unpadded 7 bytes; 6 is too small");
	CHECK(nym_node_addr_decode(&b, v4, 32) == 7 && b.port == 17891 && memcmp(b.ip, a.ip, 4) == 0,
	      "decode a padded address");
	CHECK(nym_node_addr_format(s, sizeof s, &b) == 15 && strcmp(s, "127.0.0.1:17891") == 0,
	      "format 127.0.0.1:17891");
	/* spec example 1.2.3.4:1789 -> 04 06fd 01020304 */
	uint8_t ex[7] = { 4, 0x06, 0xfd, 1, 2, 3, 4 };
	CHECK(nym_node_addr_parse(&a, "1.2.3.4:1789") == 0 && nym_node_addr_encode(buf, 7, &a) == 7 &&
	      memcmp(buf, ex, 7) == 0, "spec example 1.2.3.4:1789");
	/* IPv6 */
	CHECK(nym_node_addr_parse(&a, "[2001:db8::1]:1789") == 0 && a.family == 6 &&
	      nym_node_addr_encode(buf, 32, &a) == 19 && buf[0] == 6 && buf[18] == 1 && buf[19] == 0,
	      "IPv6 encodes to 19 bytes");
	CHECK(nym_node_addr_decode(&b, buf, 19) == 19 && nym_node_addr_format(s, sizeof s, &b) > 0 &&
	      strcmp(s, "[2001:db8::1]:1789") == 0, "IPv6 round trip");
	CHECK(nym_node_addr_decode(&b, buf, 18) == NYM_EADDR, "IPv6 needs 19 bytes");
	/* bad forms */
	static const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:12x", "::1:1789", "[::1]1789", "host:1789", ":1789", "1.2.3.4:-1", "" };
	int nb = 0;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		nb += nym_node_addr_parse(&a, bad[i]) == NYM_EADDR;
	CHECK(nb == (int)(sizeof bad / sizeof *bad), "malformed host:port refused (%d)", nb);
	uint8_t b5[7] = { 5, 0, 1, 1, 2, 3, 4 };
	CHECK(nym_node_addr_decode(&b, b5, 7) == NYM_EADDR && nym_node_addr_decode(&b, v4, 6) == NYM_EADDR,
	      "unknown type byte, short IPv4");
	a.family = 5;
	CHECK(nym_node_addr_encode(buf, 32, &a) == NYM_EADDR && nym_node_addr_format(s, sizeof s, &a) == NYM_EADDR,
	      "bad family refused");
	return t_done();
}
