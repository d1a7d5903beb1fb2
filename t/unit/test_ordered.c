/* test_ordered.c — ordered delivery (doc/spec/socks5.md §7.3): the reference
 * OrderedMessageBuffer's rules, the window, duplicates, closing, the byte cap. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proto/ordered.h"
#include "test.h"

/* Read everything deliverable, concatenated into out; returns the count. */
static int
drain(struct nym_ordered *o, char *out, size_t cap)
{
	uint8_t *d;
	size_t n, used = strlen(out);
	uint64_t seq;
	int k = 0;
	while (nym_ordered_read(o, &d, &n, &seq) == 1) {
		if (n && used + n < cap) {
			memcpy(out + used, d, n);
			used += n;
			out[used] = 0;
		}
		free(d);
		k++;
	}
	return k;
}

int
main(void)
{
	struct nym_ordered o;
	char got[256] = "";
	uint8_t *d;
	size_t n;

	nym_ordered_init(&o, 1 << 20);
	CHECK(nym_ordered_read(&o, &d, &n, NULL) == 0, "nothing to read at first");
	CHECK(nym_ordered_write(&o, 0, 0, (const uint8_t *)"ab", 2) == 0, "seq 0 taken");
	CHECK(drain(&o, got, sizeof got) == 1 && !strcmp(got, "ab"), "seq 0 delivered at once");
	CHECK(nym_ordered_write(&o, 2, 0, (const uint8_t *)"ef", 2) == 0, "seq 2 held");
	CHECK(nym_ordered_write(&o, 3, 0, (const uint8_t *)"gh", 2) == 0, "seq 3 held");
	CHECK(drain(&o, got, sizeof got) == 0 && o.held == 2 && o.held_bytes == 4, "nothing past the gap");
	CHECK(nym_ordered_write(&o, 2, 0, (const uint8_t *)"XX", 2) == NYM_EREPLAY, "a held seq again: duplicate");
	CHECK(nym_ordered_write(&o, 1, 0, (const uint8_t *)"cd", 2) == 0, "the gap fills");
	CHECK(drain(&o, got, sizeof got) == 3 && !strcmp(got, "abcdefgh"), "then 1, 2, 3 in order");
	CHECK(o.next == 4 && o.held == 0 && o.held_bytes == 0, "next is 4, nothing held");
	CHECK(nym_ordered_write(&o, 0, 0, (const uint8_t *)"ZZ", 2) == NYM_EREPLAY, "a delivered seq: dropped");
	CHECK(nym_ordered_write(&o, 4 + NYM_ORDERED_WINDOW + 1, 0, NULL, 0) == NYM_ERANGE, "next + 1001: too far");
	CHECK(nym_ordered_write(&o, UINT64_MAX, 0, NULL, 0) == NYM_ERANGE, "seq 2^64-1: too far, no overflow");
	CHECK(nym_ordered_write(&o, 4 + NYM_ORDERED_WINDOW, 0, (const uint8_t *)"w", 1) == 0, "next + 1000: held");
	/* empty keepalive, then close */
	CHECK(nym_ordered_write(&o, 4, 0, NULL, 0) == 0, "an empty keepalive");
	CHECK(nym_ordered_read(&o, &d, &n, NULL) == 1 && d == NULL && n == 0 && !o.remote_closed, "read as empty");
	CHECK(nym_ordered_write(&o, 6, 1, NULL, 0) == 0 && !o.remote_closed, "close at 6 held, not yet closed");
	CHECK(nym_ordered_write(&o, 5, 0, (const uint8_t *)"ij", 2) == 0, "5 fills the gap");
	got[0] = 0;
	CHECK(drain(&o, got, sizeof got) == 2 && !strcmp(got, "ij") && o.remote_closed, "5 then the close: closed");
	nym_ordered_free(&o);
	CHECK(o.next == 0 && o.held == 0 && o.slots == NULL, "free resets");

	/* the closed flag counts even on a refused message (reference) */
	nym_ordered_init(&o, 1 << 20);
	CHECK(nym_ordered_write(&o, 0, 0, (const uint8_t *)"a", 1) == 0 && drain(&o, got, sizeof got) == 1, "seq 0");
	CHECK(nym_ordered_write(&o, 0, 1, NULL, 0) == NYM_EREPLAY && o.has_closed && o.closed_at == 0,
	      "a refused close is remembered");
	CHECK(nym_ordered_write(&o, 1, 0, NULL, 0) == 0 && drain(&o, got, sizeof got) == 1 && o.remote_closed,
	      "the next delivery is past closed_at: closed");
	nym_ordered_free(&o);

	/* the byte cap: a gap that never fills costs at most max_bytes */
	nym_ordered_init(&o, 10);
	CHECK(nym_ordered_write(&o, 1, 0, (const uint8_t *)"123456", 6) == 0, "6 bytes held");
	CHECK(nym_ordered_write(&o, 2, 0, (const uint8_t *)"123456", 6) == NYM_EFULL, "12 > 10: full");
	CHECK(nym_ordered_write(&o, 2, 0, (const uint8_t *)"1234", 4) == 0, "10 fits");
	CHECK(nym_ordered_write(&o, 3, 0, NULL, 0) == 0, "empty messages cost no bytes");
	nym_ordered_free(&o);

	/* the whole window, in reverse */
	nym_ordered_init(&o, 1 << 20);
	int ok = 1;
	for (uint64_t s = NYM_ORDERED_WINDOW + 1; s-- > 0;)
		ok &= nym_ordered_write(&o, s, s == NYM_ORDERED_WINDOW, (const uint8_t *)"x", 1) == 0;
	got[0] = 0;
	int k = 0;
	uint64_t seq, last = 0;
	while (nym_ordered_read(&o, &d, &n, &seq) == 1) {
		ok &= seq == (uint64_t)k && n == 1;
		last = seq;
		k++;
		free(d);
	}
	CHECK(ok && k == NYM_ORDERED_WINDOW + 1 && last == NYM_ORDERED_WINDOW && o.remote_closed,
	      "1001 messages written backwards come out in order, then closed");
	nym_ordered_free(&o);
	return t_done();
}
