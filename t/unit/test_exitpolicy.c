/* test_exitpolicy.c — the exit policy (doc/spec/socks5.md §9.2, §12) against
 * the repo's tests (common/exit-policy: the sample policy, bad rules, rule
 * matches) and the bincode vector of §11.1. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/exitpolicy.h"
#include "test.h"

static const char sample[] =
	"\nExitPolicy reject 1.2.3.4/32:*#comment\n"
	"ExitPolicy reject 1.2.3.5:* #comment\n"
	"ExitPolicy reject 1.2.3.6/16:*\n"
	"ExitPolicy reject 1.2.3.6/16:123-456 # comment\n\n"
	"ExitPolicy accept *:53 # DNS\n\n# random comment\n\n"
	"ExitPolicy accept6 *6:119\n"
	"ExitPolicy accept *4:120\n"
	"ExitPolicy reject6 [FC00::]/7:*\n\n# Portless\n"
	"ExitPolicy accept *:0\nExitPolicy accept *4:0\nExitPolicy accept *6:0\n\n"
	"ExitPolicy reject *:0\nExitPolicy reject *4:0\nExitPolicy reject *6:0\n\n"
	"#ExitPolicy accept *:8080 #and another comment here\n\n"
	"ExitPolicy reject FE80:0000:0000:0000:0202:B3FF:FE1E:8329:*\n"
	"ExitPolicy reject FE80:0000:0000:0000:0202:B3FF:FE1E:8328:1234\n"
	"ExitPolicy reject FE80:0000:0000:0000:0202:B3FF:FE1E:8328/64:1235\r\n\n"
	"#another comment\n#ExitPolicy accept *:8080 \n\n"
	"ExitPolicy reject *:*\n        ";

/* "a.b.c.d:port" or "[v6]:port" -> family, bytes, port */
static int
sockaddr(const char *s, uint8_t a[16], uint16_t *port)
{
	char h[64];
	const char *c = strrchr(s, ':');
	size_t n = (size_t)(c - s);
	*port = (uint16_t)atoi(c + 1);
	if (s[0] == '[') {
		memcpy(h, s + 1, n - 2), h[n - 2] = 0;
		return inet_pton(AF_INET6, h, a) == 1 ? 6 : -1;
	}
	memcpy(h, s, n), h[n] = 0;
	return inet_pton(AF_INET, h, a) == 1 ? 4 : -1;
}

static int
matches(const char *pattern, const char *target)
{
	struct nym_exitpolicy p;
	char text[128];
	uint8_t a[16];
	uint16_t port;
	int fam = sockaddr(target, a, &port), r;
	snprintf(text, sizeof text, "ExitPolicy accept %s", pattern);
	if (nym_exitpolicy_parse(&p, text, strlen(text), NULL, 0) != 0)
		return -1;
	r = nym_exitpolicy_allows(&p, fam, a, port);
	nym_exitpolicy_free(&p);
	return r == 1;
}

static void
check(const char *pattern, const char *const *yes, const char *const *no)
{
	for (; *yes; yes++)
		CHECK(matches(pattern, *yes) == 1, "%s matches %s", pattern, *yes);
	for (; *no; no++)
		CHECK(matches(pattern, *no) == 0, "%s does not match %s", pattern, *no);
}

#define L(...) (const char *const[]){ __VA_ARGS__, NULL }

int
main(void)
{
	struct nym_exitpolicy p, q;
	char why[128], pat[64];
	uint8_t buf[1024], a[16];
	uint16_t port;

	CHECK(nym_exitpolicy_parse(&p, sample, strlen(sample), why, sizeof why) == 0, "the repo's sample parses");
	CHECK(p.n == 18, "18 rules (%zu)", p.n);
	if (p.n == 18) {
		CHECK(p.rules[0].action == NYM_EXITPOLICY_REJECT && p.rules[0].kind == NYM_EXITPOLICY_V4 &&
		      p.rules[0].mask == 32 && p.rules[0].port_lo == 1 && p.rules[0].port_hi == 65535, "reject 1.2.3.4/32:*");
		CHECK(p.rules[1].mask == 32, "1.2.3.5 has mask 32");
		CHECK(p.rules[3].mask == 16 && p.rules[3].port_lo == 123 && p.rules[3].port_hi == 456, "/16:123-456");
		CHECK(p.rules[4].kind == NYM_EXITPOLICY_STAR && p.rules[4].port_lo == 53 && p.rules[4].port_hi == 53, "*:53");
		CHECK(p.rules[5].action == NYM_EXITPOLICY_ACCEPT6 && p.rules[5].kind == NYM_EXITPOLICY_STAR6, "accept6 *6:119");
		CHECK(p.rules[7].action == NYM_EXITPOLICY_REJECT6 && p.rules[7].kind == NYM_EXITPOLICY_V6 &&
		      p.rules[7].mask == 7 && p.rules[7].addr[0] == 0xfc, "reject6 [FC00::]/7:*");
		CHECK(p.rules[8].port_lo == 0 && p.rules[8].port_hi == 0, "*:0 is port 0 alone");
		CHECK(p.rules[14].kind == NYM_EXITPOLICY_V6 && p.rules[14].mask == 128 && p.rules[14].addr[15] == 0x29,
		      "an unbracketed IPv6 with ports");
		CHECK(p.rules[17].action == NYM_EXITPOLICY_REJECT && p.rules[17].kind == NYM_EXITPOLICY_STAR, "reject *:* last");
		CHECK(nym_exitpolicy_pattern_format(pat, sizeof pat, &p.rules[7]) > 0 && !strcmp(pat, "fc00::/7"),
		      "display form %s", pat);
		CHECK(nym_exitpolicy_pattern_format(pat, sizeof pat, &p.rules[2]) > 0 && !strcmp(pat, "1.2.3.6/16"),
		      "display form %s", pat);
	}
	/* the sample decides: DNS anywhere accepted, 1.2.3.4 rejected, 8.8.8.8:80 by the last rule */
	sockaddr("9.9.9.9:53", a, &port);
	CHECK(nym_exitpolicy_allows(&p, 4, a, port) == 1, "9.9.9.9:53 accepted");
	sockaddr("1.2.3.4:53", a, &port);
	CHECK(nym_exitpolicy_allows(&p, 4, a, port) == 0, "1.2.3.4:53: the first rule rejects");
	sockaddr("8.8.8.8:80", a, &port);
	CHECK(nym_exitpolicy_allows(&p, 4, a, port) == 0, "8.8.8.8:80: reject *:*");
	sockaddr("[fc00::1]:119", a, &port);
	CHECK(nym_exitpolicy_allows(&p, 6, a, port) == 1, "accept6 *6:119 comes before reject6 fc00::/7");

	/* bincode round trip */
	int n = nym_exitpolicy_bincode_encode(buf, sizeof buf, &p);
	CHECK(n > 0 && (size_t)n == nym_exitpolicy_bincode_len(&p), "bincode: %d bytes", n);
	CHECK(nym_exitpolicy_bincode_decode(&q, buf, (size_t)n) == 0 && q.n == p.n &&
	      !memcmp(q.rules, p.rules, p.n * sizeof *p.rules), "bincode decodes to the same rules");
	nym_exitpolicy_free(&q);
	CHECK(nym_exitpolicy_bincode_decode(&q, buf, (size_t)n - 1) == NYM_ESHORT, "bincode truncated");
	buf[n] = 0;
	CHECK(nym_exitpolicy_bincode_decode(&q, buf, (size_t)n + 1) == NYM_EFORMAT, "bincode trailing byte");
	nym_exitpolicy_free(&p);

	CHECK(nym_exitpolicy_open(&p) == 0, "the open policy");
	n = nym_exitpolicy_bincode_encode(buf, sizeof buf, &p);
	CHECK(n == 9 && !memcmp(buf, "\x01\x01\x00\x01*\x01\xfb\xff\xff", 9), "accept *:* in bincode (§11.1)");
	nym_exitpolicy_free(&p);
	CHECK(nym_exitpolicy_bincode_decode(&q, (const uint8_t *)"\x01\x01\x00\x01" "x" "\x01\x01", 7) == NYM_EFORMAT,
	      "bincode: a pattern that does not parse");
	CHECK(nym_exitpolicy_bincode_decode(&q, (const uint8_t *)"\x01\x01\x00\x08" "1.2.3.4\0" "\x01\x01", 14) == NYM_EFORMAT,
	      "bincode: a NUL inside a pattern");
	CHECK(nym_exitpolicy_bincode_decode(&q, (const uint8_t *)"\x01\xfd\xff\xff\xff\xff\xff\xff\xff\xff", 10) == NYM_ESHORT,
	      "bincode: 2^64-1 rules announced, none there");

	/* the repo's bad rules, and a few more */
	const char *const badrules[] = { "marzipan:80", "1.2.3.4:90-80", "1.2.3.4:0-80", "1.2.3.4/100:8888",
		"[1.2.3.4]/16:80", "[::1]/130:8888", "*/8:80", "*4/8:80", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536",
		"01.2.3.4:80", "1.2.3.4:8a", NULL };
	for (const char *const *b = badrules; *b; b++) {
		char text[96];
		snprintf(text, sizeof text, "ExitPolicy accept %s", *b);
		CHECK(nym_exitpolicy_parse(&p, text, strlen(text), why, sizeof why) == NYM_EFORMAT, "refused: %s (%s)", *b, why);
	}
	CHECK(nym_exitpolicy_parse(&p, "# ok\nExitPolicy permit *:*\n", 26, why, sizeof why) == NYM_EFORMAT &&
	      !strncmp(why, "line 2:", 7), "a bad action, named with its line: %s", why);
	CHECK(nym_exitpolicy_parse(&p, "accept *:*", 10, why, sizeof why) == NYM_EFORMAT, "no ExitPolicy word: %s", why);
	CHECK(nym_exitpolicy_parse(&p, "ExitPolicy accept  *:*", 22, why, sizeof why) == NYM_EFORMAT,
	      "two spaces after the action (the reference splits at the first)");
	CHECK(nym_exitpolicy_parse(&p, "", 0, NULL, 0) == 0 && p.n == 0, "an empty policy parses (and refuses all)");
	sockaddr("8.8.8.8:80", a, &port);
	CHECK(nym_exitpolicy_allows(&p, 4, a, port) == NYM_ENOTFOUND, "no rule: not found");
	nym_exitpolicy_free(&p);

	/* the repo's rule-match table */
	check("1.2.3.4/16:80", L("1.2.3.4:80", "1.2.44.55:80"), L("9.9.9.9:80", "1.3.3.4:80", "1.2.3.4:81"));
	check("*:443-8000", L("1.2.3.4:443", "[::1]:500"), L("9.0.0.0:80", "[::1]:80"));
	check("[face::]/8:80", L("[fab0::7]:80"), L("[dd00::]:80", "[face::7]:443"));
	check("0.0.0.0/0:*", L("127.0.0.1:80"), L("[f00b::]:80"));
	check("[::]/0:*", L("[f00b::]:80"), L("127.0.0.1:80"));
	check("*:0", L("1.2.3.4:0", "[::1]:0", "9.0.0.0:0"), L("1.2.3.4:443", "[::1]:500", "9.0.0.0:80", "[::1]:80"));
	check("*4:0", L("1.2.3.4:0", "9.0.0.0:0"), L("1.2.3.4:443", "9.0.0.0:80", "[::1]:0", "[::1]:80"));
	check("*6:0", L("[::1]:0"), L("[::1]:80", "1.2.3.4:0", "1.2.3.4:443"));

	/* is_global (2026.9) and the whole check */
	const char *const local[] = { "0.1.2.3:1", "10.0.0.1:1", "172.16.0.1:1", "172.31.255.255:1", "192.168.1.1:1",
		"100.64.0.1:1", "127.0.0.1:1", "169.254.1.1:1", "192.0.0.1:1", "192.0.2.1:1", "198.51.100.1:1",
		"203.0.113.1:1", "198.18.0.1:1", "198.19.255.1:1", "240.0.0.1:1", "255.255.255.255:1", "[::]:1",
		"[::1]:1", "[::ffff:8.8.8.8]:1", "[64:ff9b:1::1]:1", "[100::1]:1", "[2001::1]:1", "[2002::1]:1",
		"[2001:db8::1]:1", "[fc00::1]:1", "[fd12::1]:1", "[fe80::1]:1", NULL };
	const char *const global[] = { "8.8.8.8:1", "172.32.0.1:1", "100.128.0.1:1", "192.0.0.9:1", "192.0.0.10:1",
		"198.20.0.1:1", "1.1.1.1:1", "[2606:4700::1111]:1", "[2001:1::1]:1", "[2001:3::1]:1",
		"[2001:20::1]:1", "[2001:4:112::1]:1", "[64:ff9b::808:808]:1", NULL };
	for (const char *const *s = local; *s; s++) {
		int f = sockaddr(*s, a, &port);
		CHECK(nym_exitpolicy_is_global(f, a) == 0, "%s is not global", *s);
	}
	for (const char *const *s = global; *s; s++) {
		int f = sockaddr(*s, a, &port);
		CHECK(nym_exitpolicy_is_global(f, a) == 1, "%s is global", *s);
	}
	nym_exitpolicy_open(&p);
	sockaddr("127.0.0.1:80", a, &port);
	CHECK(nym_exitpolicy_check(&p, 0, 4, a, port) == 0, "open proxy: loopback refused without allow-local-ips");
	CHECK(nym_exitpolicy_check(&p, 1, 4, a, port) == 1, "open proxy: loopback allowed with allow-local-ips");
	sockaddr("8.8.8.8:80", a, &port);
	CHECK(nym_exitpolicy_check(&p, 0, 4, a, port) == 1, "open proxy: a global address allowed");
	nym_exitpolicy_free(&p);
	return t_done();
}
