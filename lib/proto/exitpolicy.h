/* exitpolicy.h — the network requester's exit policy (doc/spec/socks5.md §9.2,
 * §12), sans-I/O: the official torrc-like text, the bincode form a query
 * answer carries (§6.3), and the decision for a resolved destination.
 *
 * Text, one rule a line ('#' to the end of a line is a comment, blank lines
 * and surrounding whitespace ignored):
 *   ExitPolicy <accept|reject|accept6|reject6> <ip_pattern>:<ports>
 *   ip_pattern  *  |  *4  |  *6  |  a.b.c.d[/m]  |  v6[/m]  |  [v6][/m]
 *   ports       *  (1-65535)  |  n  |  n-m  (1 <= n <= m; 0 only alone)
 * Bincode (inside Option::Some): rules: varint count ||
 *   per rule: action varint (0 accept, 1 reject, 2 accept6, 3 reject6) ||
 *             ip_pattern as a String in display form || start varint || end varint
 * The first rule whose pattern matches decides; accept6/reject6 act as
 * accept/reject (the pattern alone names the family); no rule -> refused;
 * a destination port 0 matches any ports. */
#ifndef NYM_EXITPOLICY_H
#define NYM_EXITPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define NYM_EXITPOLICY_ACCEPT 0
#define NYM_EXITPOLICY_REJECT 1
#define NYM_EXITPOLICY_ACCEPT6 2
#define NYM_EXITPOLICY_REJECT6 3

/* ip pattern kinds */
#define NYM_EXITPOLICY_STAR 0
#define NYM_EXITPOLICY_STAR4 1
#define NYM_EXITPOLICY_STAR6 2
#define NYM_EXITPOLICY_V4 3
#define NYM_EXITPOLICY_V6 4

#define NYM_EXITPOLICY_MAX_RULES 65536 /* refuse a larger file or answer */

struct nym_exitpolicy_rule {
	uint8_t action, kind;
	uint8_t addr[16]; /* V4: the first 4 bytes */
	uint8_t mask;     /* prefix bits: <= 32 for V4, <= 128 for V6 */
	uint16_t port_lo, port_hi;
};

struct nym_exitpolicy {
	struct nym_exitpolicy_rule *rules;
	size_t n;
};

/* Parse the text; on failure returns NYM_EFORMAT (NYM_EFULL past
 * MAX_RULES, NYM_ENOMEM) and, if why is given, "line N: reason". */
NYM_MUST_CHECK int nym_exitpolicy_parse(struct nym_exitpolicy *p, const char *text, size_t len,
                                        char *why, size_t whycap);
/* The open policy: accept *:*. */
int nym_exitpolicy_open(struct nym_exitpolicy *p);
void nym_exitpolicy_free(struct nym_exitpolicy *p);

/* addr: 4 bytes (family 4) or 16 (family 6). Returns 1 accepted, 0 rejected,
 * NYM_ENOTFOUND when no rule covers it (the caller refuses). */
int nym_exitpolicy_allows(const struct nym_exitpolicy *p, int family, const uint8_t *addr, uint16_t port);

/* 1 when addr is globally routable as the 2026 NR's is_global_ip says
 * (§12): not 0/8, private, 100.64/10, loopback, link-local, 192.0.0/24 but .9
 * and .10, documentation, 198.18/15, 240/4, broadcast; for IPv6 not ::, ::1,
 * v4-mapped, 64:ff9b:1::/48, 100::/64, most of 2001::/23, 2002::/16,
 * 2001:db8::/32, fc00::/7, fe80::/10. */
int nym_exitpolicy_is_global(int family, const uint8_t *addr);

/* The whole decision for one resolved address of a Connect: a local address
 * is refused unless allow_local; then the policy decides (no rule: refused).
 * Returns 1 allowed, 0 refused. */
int nym_exitpolicy_check(const struct nym_exitpolicy *p, int allow_local, int family,
                         const uint8_t *addr, uint16_t port);

/* Option::Some(AddressPolicy) in bincode-BE: its length, and the bytes
 * (returns the length or NYM_ESIZE). decode reads the same (a leading 00 =
 * None gives an empty policy) and refuses what does not parse back. */
size_t nym_exitpolicy_bincode_len(const struct nym_exitpolicy *p);
int nym_exitpolicy_bincode_encode(uint8_t *out, size_t cap, const struct nym_exitpolicy *p);
NYM_MUST_CHECK int nym_exitpolicy_bincode_decode(struct nym_exitpolicy *p, const uint8_t *in, size_t len);

/* The display form of a rule's ip pattern ("*", "1.2.3.0/24", "fc00::/7");
 * returns its length or NYM_ESIZE (46 + 4 bytes always suffice). */
int nym_exitpolicy_pattern_format(char *out, size_t cap, const struct nym_exitpolicy_rule *r);

#endif
