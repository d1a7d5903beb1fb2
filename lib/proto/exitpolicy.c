/* exitpolicy.c — exit policy text, bincode and decisions (doc/spec/socks5.md §9.2, §12). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/exitpolicy.h"
#include "proto/socks5.h"

void
nym_exitpolicy_free(struct nym_exitpolicy *p)
{
	free(p->rules);
	p->rules = NULL, p->n = 0;
}

static int
push(struct nym_exitpolicy *p, size_t *cap, const struct nym_exitpolicy_rule *r)
{
	if (p->n >= NYM_EXITPOLICY_MAX_RULES)
		return NYM_EFULL;
	if (p->n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct nym_exitpolicy_rule *n = realloc(p->rules, c * sizeof *n);
		if (!n)
			return NYM_ENOMEM;
		p->rules = n, *cap = c;
	}
	p->rules[p->n++] = *r;
	return 0;
}

int
nym_exitpolicy_open(struct nym_exitpolicy *p)
{
	struct nym_exitpolicy_rule r = { .action = NYM_EXITPOLICY_ACCEPT, .kind = NYM_EXITPOLICY_STAR,
	                                 .port_lo = 1, .port_hi = 65535 };
	size_t cap = 0;
	p->rules = NULL, p->n = 0;
	return push(p, &cap, &r);
}

/* A decimal u8/u16 as Rust's from_str takes it: digits, at most max. */
static int
number(const char *s, size_t n, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(s[i] - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

static int
ip_pattern(struct nym_exitpolicy_rule *r, const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t il = slash ? (size_t)(slash - s) : n;
	char ip[64];
	unsigned long mask;

	if (il == 1 && s[0] == '*')
		return slash ? -1 : (r->kind = NYM_EXITPOLICY_STAR, 0);
	if (il == 2 && s[0] == '*' && (s[1] == '4' || s[1] == '6'))
		return slash ? -1 : (r->kind = s[1] == '4' ? NYM_EXITPOLICY_STAR4 : NYM_EXITPOLICY_STAR6, 0);
	if (il >= sizeof ip || memchr(s, 0, n))
		return -1;
	memset(r->addr, 0, sizeof r->addr);
	if (il >= 2 && s[0] == '[' && s[il - 1] == ']') { /* brackets: IPv6 only */
		memcpy(ip, s + 1, il - 2), ip[il - 2] = 0;
		if (inet_pton(AF_INET6, ip, r->addr) != 1)
			return -1;
		r->kind = NYM_EXITPOLICY_V6;
	} else {
		memcpy(ip, s, il), ip[il] = 0;
		if (inet_pton(AF_INET, ip, r->addr) == 1)
			r->kind = NYM_EXITPOLICY_V4;
		else if (inet_pton(AF_INET6, ip, r->addr) == 1)
			r->kind = NYM_EXITPOLICY_V6;
		else
			return -1;
	}
	mask = r->kind == NYM_EXITPOLICY_V4 ? 32 : 128;
	if (slash && number(slash + 1, n - il - 1, 255, &mask) != 0)
		return -1;
	if (mask > (r->kind == NYM_EXITPOLICY_V4 ? 32u : 128u))
		return -1;
	if (mask == 0) /* a /0 is the family's star, as the reference makes it */
		r->kind = r->kind == NYM_EXITPOLICY_V4 ? NYM_EXITPOLICY_STAR4 : NYM_EXITPOLICY_STAR6;
	r->mask = (uint8_t)mask;
	return 0;
}

static int
ports(struct nym_exitpolicy_rule *r, const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	unsigned long a, b;
	if (n == 1 && s[0] == '*') {
		r->port_lo = 1, r->port_hi = 65535;
		return 0;
	}
	if (!dash) {
		if (number(s, n, 65535, &a) != 0)
			return -1;
		r->port_lo = r->port_hi = (uint16_t)a;
		return 0;
	}
	if (number(s, (size_t)(dash - s), 65535, &a) != 0 ||
	    number(dash + 1, n - (size_t)(dash - s) - 1, 65535, &b) != 0 || a == 0 || a > b)
		return -1;
	r->port_lo = (uint16_t)a, r->port_hi = (uint16_t)b;
	return 0;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* One rule without the ExitPolicy word: "<action> <ip_pattern>:<ports>". */
static const char *
rule(struct nym_exitpolicy_rule *r, const char *s, size_t n)
{
	static const char *const actions[] = { "accept", "reject", "accept6", "reject6" };
	const char *sp = memchr(s, ' ', n), *pat, *colon = NULL;
	size_t al, pl;

	memset(r, 0, sizeof *r);
	if (!sp)
		return "no pattern after the action";
	al = (size_t)(sp - s);
	r->action = 0xff;
	for (uint8_t i = 0; i < 4; i++)
		if (strlen(actions[i]) == al && !memcmp(actions[i], s, al))
			r->action = i;
	if (r->action == 0xff)
		return "the action is not accept, reject, accept6 or reject6";
	pat = sp + 1, pl = n - al - 1;
	for (size_t i = pl; i-- > 0;)
		if (pat[i] == ':') {
			colon = pat + i;
			break;
		}
	if (!colon || colon + 1 == pat + pl)
		return "no :ports after the address";
	if (ip_pattern(r, pat, (size_t)(colon - pat)) != 0)
		return "bad address pattern";
	if (ports(r, colon + 1, pl - (size_t)(colon - pat) - 1) != 0)
		return "bad ports";
	return NULL;
}

int
nym_exitpolicy_parse(struct nym_exitpolicy *p, const char *text, size_t len, char *why, size_t whycap)
{
	size_t cap = 0, line = 0;
	const char *s = text, *end = text + len;
	int rc;

	p->rules = NULL, p->n = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end, *hash, *why_s;
		struct nym_exitpolicy_rule r;
		line++;
		if ((hash = memchr(s, '#', (size_t)(e - s))))
			e = hash;
		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s < e) {
			if ((size_t)(e - s) < 10 || memcmp(s, "ExitPolicy", 10) != 0) {
				why_s = "no ExitPolicy at the start";
			} else {
				s += 10;
				while (s < e && is_space(*s))
					s++;
				why_s = rule(&r, s, (size_t)(e - s));
			}
			if (why_s) {
				nym_exitpolicy_free(p);
				return nym_err_set(why, whycap, NYM_EFORMAT, "line %zu: %s", line, why_s);
			}
			if ((rc = push(p, &cap, &r)) < 0) {
				nym_exitpolicy_free(p);
				return nym_err_set(why, whycap, rc, "line %zu: %s", line,
				                   rc == NYM_EFULL ? "too many rules" : "out of memory");
			}
		}
		s = nl ? nl + 1 : end;
	}
	return 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static int
pattern_matches(const struct nym_exitpolicy_rule *r, int family, const uint8_t *addr)
{
	switch (r->kind) {
	case NYM_EXITPOLICY_STAR:
		return 1;
	case NYM_EXITPOLICY_STAR4:
		return family == 4;
	case NYM_EXITPOLICY_STAR6:
		return family == 6;
	case NYM_EXITPOLICY_V4:
		return family == 4 && prefix_match(r->addr, addr, r->mask);
	default:
		return family == 6 && prefix_match(r->addr, addr, r->mask);
	}
}

int
nym_exitpolicy_allows(const struct nym_exitpolicy *p, int family, const uint8_t *addr, uint16_t port)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct nym_exitpolicy_rule *r = &p->rules[i];
		if (!pattern_matches(r, family, addr))
			continue;
		if (port != 0 && (port < r->port_lo || port > r->port_hi))
			continue;
		return r->action == NYM_EXITPOLICY_ACCEPT || r->action == NYM_EXITPOLICY_ACCEPT6;
	}
	return NYM_ENOTFOUND;
}

static int
global4(const uint8_t *a)
{
	if (a[0] == 0 || a[0] == 10 || a[0] == 127)
		return 0;
	if ((a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168))
		return 0; /* private */
	if (a[0] == 100 && (a[1] & 0xc0) == 0x40)
		return 0; /* shared 100.64/10 */
	if (a[0] == 169 && a[1] == 254)
		return 0; /* link-local */
	if (a[0] == 192 && a[1] == 0 && a[2] == 0 && a[3] != 9 && a[3] != 10)
		return 0;
	if ((a[0] == 192 && a[1] == 0 && a[2] == 2) || (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	    (a[0] == 203 && a[1] == 0 && a[2] == 113))
		return 0; /* documentation */
	if (a[0] == 198 && (a[1] & 0xfe) == 18)
		return 0; /* benchmarking */
	if ((a[0] & 0xf0) == 0xf0)
		return 0; /* reserved 240/4 and the broadcast address */
	return 1;
}

int
nym_exitpolicy_is_global(int family, const uint8_t *a)
{
	static const uint8_t zero[16], one[16] = { [15] = 1 };
	uint16_t s0, s1;
	if (family == 4)
		return global4(a);
	s0 = (uint16_t)(a[0] << 8 | a[1]), s1 = (uint16_t)(a[2] << 8 | a[3]);
	if (!memcmp(a, zero, 16) || !memcmp(a, one, 16))
		return 0;
	if (!memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff)
		return 0; /* v4-mapped */
	if (s0 == 0x64 && s1 == 0xff9b && a[4] == 0 && a[5] == 1)
		return 0; /* 64:ff9b:1::/48 */
	if (s0 == 0x100 && !memcmp(a + 2, zero, 6))
		return 0; /* 100::/64 */
	if (s0 == 0x2001 && s1 < 0x200) {
		static const uint8_t any1[16] = { 0x20, 0x01, 0, 1, [15] = 1 }, any2[16] = { 0x20, 0x01, 0, 1, [15] = 2 };
		uint16_t s2 = (uint16_t)(a[4] << 8 | a[5]);
		int except = !memcmp(a, any1, 16) || !memcmp(a, any2, 16) || s1 == 3 ||
		             (s1 == 4 && s2 == 0x112) || (s1 >= 0x20 && s1 <= 0x3f);
		if (!except)
			return 0;
	}
	if (s0 == 0x2002 || (s0 == 0x2001 && s1 == 0xdb8))
		return 0;
	if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
		return 0; /* unique local, link-local unicast */
	return 1;
}

int
nym_exitpolicy_check(const struct nym_exitpolicy *p, int allow_local, int family, const uint8_t *addr,
                     uint16_t port)
{
	if (!allow_local && !nym_exitpolicy_is_global(family, addr))
		return 0;
	return nym_exitpolicy_allows(p, family, addr, port) == 1;
}

int
nym_exitpolicy_pattern_format(char *out, size_t cap, const struct nym_exitpolicy_rule *r)
{
	char ip[INET6_ADDRSTRLEN];
	int n;
	switch (r->kind) {
	case NYM_EXITPOLICY_STAR:
		n = snprintf(out, cap, "*");
		break;
	case NYM_EXITPOLICY_STAR4:
		n = snprintf(out, cap, "*4");
		break;
	case NYM_EXITPOLICY_STAR6:
		n = snprintf(out, cap, "*6");
		break;
	default:
		if (!inet_ntop(r->kind == NYM_EXITPOLICY_V4 ? AF_INET : AF_INET6, r->addr, ip, sizeof ip))
			return NYM_EINVAL;
		n = snprintf(out, cap, "%s/%u", ip, r->mask);
		break;
	}
	return n < 0 || (size_t)n >= cap ? NYM_ESIZE : n;
}

size_t
nym_exitpolicy_bincode_len(const struct nym_exitpolicy *p)
{
	uint8_t v[9];
	char pat[64];
	size_t n = 1 + nym_bincode_varint_put(v, p->n);
	for (size_t i = 0; i < p->n; i++) {
		int l = nym_exitpolicy_pattern_format(pat, sizeof pat, &p->rules[i]);
		if (l < 0)
			return 0;
		n += 1 + 1 + (size_t)l + nym_bincode_varint_put(v, p->rules[i].port_lo) +
		     nym_bincode_varint_put(v, p->rules[i].port_hi);
	}
	return n;
}

int
nym_exitpolicy_bincode_encode(uint8_t *out, size_t cap, const struct nym_exitpolicy *p)
{
	size_t n = nym_exitpolicy_bincode_len(p), o = 0;
	char pat[64];
	if (n == 0)
		return NYM_EINVAL;
	if (n > cap || n > (size_t)INT32_MAX)
		return NYM_ESIZE;
	out[o++] = 1; /* Some */
	o += nym_bincode_varint_put(out + o, p->n);
	for (size_t i = 0; i < p->n; i++) {
		int l = nym_exitpolicy_pattern_format(pat, sizeof pat, &p->rules[i]);
		out[o++] = p->rules[i].action;
		out[o++] = (uint8_t)l; /* < 251: one byte */
		memcpy(out + o, pat, (size_t)l), o += (size_t)l;
		o += nym_bincode_varint_put(out + o, p->rules[i].port_lo);
		o += nym_bincode_varint_put(out + o, p->rules[i].port_hi);
	}
	return (int)o;
}

int
nym_exitpolicy_bincode_decode(struct nym_exitpolicy *p, const uint8_t *in, size_t len)
{
	size_t o = 1, cap = 0;
	uint64_t n, v;
	int w, rc;

	p->rules = NULL, p->n = 0;
	if (len < 1)
		return NYM_ESHORT;
	if (in[0] == 0)
		return len == 1 ? 0 : NYM_EFORMAT;
	if (in[0] != 1)
		return NYM_EFORMAT;
	if ((w = nym_bincode_varint_get(&n, in + o, len - o, UINT64_MAX)) < 0)
		return w;
	o += (size_t)w;
	for (uint64_t i = 0; i < n; i++) {
		struct nym_exitpolicy_rule r;
		uint64_t sl;
		memset(&r, 0, sizeof r);
		if ((w = nym_bincode_varint_get(&v, in + o, len - o, 0xffffffffu)) < 0)
			goto fail;
		rc = NYM_EFORMAT;
		if (v > 3)
			goto fail_rc;
		r.action = (uint8_t)v, o += (size_t)w;
		if ((w = nym_bincode_varint_get(&sl, in + o, len - o, UINT64_MAX)) < 0)
			goto fail;
		o += (size_t)w;
		rc = NYM_ESHORT;
		if (sl > len - o)
			goto fail_rc;
		rc = NYM_EFORMAT;
		if (ip_pattern(&r, (const char *)in + o, (size_t)sl) != 0)
			goto fail_rc;
		o += (size_t)sl;
		if ((w = nym_bincode_varint_get(&v, in + o, len - o, 0xffff)) < 0)
			goto fail;
		r.port_lo = (uint16_t)v, o += (size_t)w;
		if ((w = nym_bincode_varint_get(&v, in + o, len - o, 0xffff)) < 0)
			goto fail;
		r.port_hi = (uint16_t)v, o += (size_t)w;
		if ((rc = push(p, &cap, &r)) < 0)
			goto fail_rc;
	}
	if (o != len) {
		rc = NYM_EFORMAT;
		goto fail_rc;
	}
	return 0;
fail:
	rc = w;
fail_rc:
	nym_exitpolicy_free(p);
	return rc;
}
