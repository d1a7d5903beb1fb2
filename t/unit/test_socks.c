/* test_socks.c — the SOCKS4/4a/5 handshake (lib/proto/socks.h;
 * doc/spec/socks5.md §8): whole and byte by byte, every address form, the
 * replies, the refusals, the limits. */
#include "proto/socks.h"
#include "test.h"

/* Feed hex all at once (split = 0) or one byte per call; collect replies in
 * rep (hex). Returns the last result; *rest = bytes left after DONE. */
static int
feed(struct nym_socks *s, const char *hex, int split, char *rep, size_t *rest)
{
	size_t n, off = 0, used, ol;
	uint8_t *b = t_hex(hex, &n), out[NYM_SOCKS_REPLY_MAX];
	int r = NYM_SOCKS_MORE;
	rep[0] = 0;
	nym_socks_init(s);
	while (off < n) {
		size_t chunk = split ? 1 : n - off;
		r = nym_socks_input(s, b + off, chunk, &used, out, &ol);
		for (size_t i = 0; i < ol; i++)
			sprintf(rep + strlen(rep), "%02x", out[i]);
		off += used;
		if (r != NYM_SOCKS_MORE)
			break;
		if (used == 0)
			break;
	}
	*rest = n - off;
	free(b);
	return r;
}

struct ok_case {
	const char *name, *hex, *dest, *reply;
	uint8_t version;
};

int
main(void)
{
	static const struct ok_case ok[] = {
		{"socks5 IPv4", "050100" "050100017f00000101bb", "127.0.0.1:443", "0500", 5},
		{"socks5 domain, methods 02 and 00", "05020200" "0501000307" "6578616d706c65" "0050",
		 "example:80", "0500", 5},
		{"socks5 IPv6, the official client's form", "050100"
		 "0501000420010db8000000000000000000000001" "01bb", "2001:db8:0:0:0:0:0:1:443", "0500", 5},
		{"socks5 IPv6 loopback", "050100" "05010004" "00000000000000000000000000000001" "0050",
		 "0:0:0:0:0:0:0:1:80", "0500", 5},
		{"socks5 empty domain", "050100" "05010003000050", ":80", "0500", 5},
		{"socks4 IPv4, user id", "0401" "1f90" "0a000001" "626f6200", "10.0.0.1:8080", "", 4},
		{"socks4 empty user id", "0401" "0050" "7f000001" "00", "127.0.0.1:80", "", 4},
		{"socks4a domain", "0401" "0050" "00000001" "7500" "6c6f63616c686f737400", "localhost:80", "", 4},
	};
	struct nym_socks s;
	char rep[256];
	size_t rest;
	uint8_t out[NYM_SOCKS_REPLY_MAX];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		for (int split = 0; split < 2; split++) {
			int r = feed(&s, ok[i].hex, split, rep, &rest);
			CHECK(r == NYM_SOCKS_DONE && rest == 0 && !strcmp(s.dest, ok[i].dest) &&
			      s.dest_len == strlen(ok[i].dest) && s.version == ok[i].version &&
			      !strcmp(rep, ok[i].reply),
			    "%s (%s): dest %s, reply %s", ok[i].name, split ? "byte by byte" : "whole",
			    s.dest, rep);
		}

	/* application data right behind the request stays with the caller */
	CHECK(feed(&s, "0401005001020304" "00" "474554", 0, rep, &rest) == NYM_SOCKS_DONE && rest == 3,
	    "socks4: bytes after the request are left (3)");
	CHECK(feed(&s, "050100" "050100017f0000010050" "4745", 0, rep, &rest) == NYM_SOCKS_DONE &&
	      rest == 2, "socks5: bytes after the request are left (2)");

	/* replies */
	feed(&s, "050100" "050100017f00000101bb", 0, rep, &rest);
	CHECK(nym_socks_reply(&s, 1, 0, out) == 10 &&
	      !memcmp(out, "\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10), "socks5 success: 05 00 00 01 7f000001 0000");
	CHECK(nym_socks_reply(&s, 0, NYM_SOCKS_REP_HOST_UNREACHABLE, out) == 10 && out[1] == 4,
	    "socks5 refusal carries its code");
	CHECK(nym_socks_reply(&s, 0, 0, out) == 10 && out[1] == 1, "socks5 refusal without a code: 01");
	feed(&s, "0401005001020304" "00", 0, rep, &rest);
	CHECK(nym_socks_reply(&s, 1, 0, out) == 8 && !memcmp(out, "\x00\x5a\x00\x00\x7f\x00\x00\x01", 8),
	    "socks4 granted: 00 5a 0000 7f000001");
	CHECK(nym_socks_reply(&s, 0, NYM_SOCKS_REP_REFUSED, out) == 8 && out[0] == 0 && out[1] == 0x5b,
	    "socks4 rejected: 00 5b");

	/* refusals */
	for (int split = 0; split < 2; split++) {
		const char *how = split ? "byte by byte" : "whole";
		CHECK(feed(&s, "474554202f20", split, rep, &rest) == NYM_EVERSION && !rep[0] && s.why,
		    "HTTP instead of SOCKS: no reply, refused (%s)", how);
		CHECK(feed(&s, "05020102", split, rep, &rest) == NYM_EPROTO && !strcmp(rep, "05ff"),
		    "socks5 without method 00: 05 ff (%s)", how);
		CHECK(feed(&s, "050100" "050200017f0000010050", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "0500" "05070001" "7f0000010000"), "socks5 BIND: 05 07 (%s)", how);
		CHECK(feed(&s, "050100" "050300017f0000010050", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "0500" "05070001" "7f0000010000"), "socks5 UDP ASSOCIATE: 05 07 (%s)", how);
		CHECK(feed(&s, "050100" "05010005aabb", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "0500" "05080001" "7f0000010000"), "socks5 unknown ATYP: 05 08 (%s)", how);
		CHECK(feed(&s, "050100" "04010001", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "0500" "05010001" "7f0000010000"), "socks5 request of version 4: 05 01 (%s)", how);
		CHECK(feed(&s, "050100" "050100030361000a0050", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "0500" "05080001" "7f0000010000"), "socks5 name with a control byte: 05 08 (%s)", how);
		CHECK(feed(&s, "0402005001020304" "00", split, rep, &rest) == NYM_EPROTO &&
		      !strcmp(rep, "005b00007f000001"), "socks4 BIND: 00 5b (%s)", how);
	}

	/* a user id without end, a 4a name without end: refused at 256 bytes */
	{
		char hex[2 * 1200 + 1] = "0401005001020304";
		for (int i = 0; i < 600; i++)
			strcat(hex, "41");
		CHECK(feed(&s, hex, 0, rep, &rest) == NYM_EFULL && !strcmp(rep, "005b00007f000001") &&
		      rest < 600 - 250, "socks4 user id without end: refused after 255 bytes");
		strcpy(hex, "0401005000000001" "00");
		for (int i = 0; i < 600; i++)
			strcat(hex, "41");
		CHECK(feed(&s, hex, 1, rep, &rest) == NYM_EFULL && rest < 600 - 250,
		    "socks4a name without end: refused after 255 bytes");
	}
	/* a longest name: 255 bytes */
	{
		char hex[1200] = "050100" "05010003ff";
		for (int i = 0; i < 255; i++)
			strcat(hex, "61");
		strcat(hex, "ffff");
		CHECK(feed(&s, hex, 1, rep, &rest) == NYM_SOCKS_DONE && s.dest_len == 255 + 6 &&
		      !strcmp(s.dest + 255, ":65535"), "socks5 name of 255 bytes, port 65535");
	}
	/* nothing more is taken after the end */
	{
		size_t used, ol;
		feed(&s, "0401005001020304" "00", 0, rep, &rest);
		CHECK(nym_socks_input(&s, (const uint8_t *)"x", 1, &used, out, &ol) == NYM_EINVAL && used == 0,
		    "input after DONE: NYM_EINVAL, nothing used");
	}
	return t_done();
}
