/* test_quota.c — lib/io/quota.c: the inbox's byte bounds, per client and in
 * all, over reservations (admitted, not yet handled) and stored bytes. */
#include "base/err.h"
#include "io/quota.h"
#include "test.h"

int
main(void)
{
	uint8_t a[32], b[32];
	struct nym_quota *q = nym_quota_new(1000, 1500);

	memset(a, 1, 32);
	memset(b, 2, 32);
	CHECK(q != NULL, "new");
	CHECK(nym_quota_admit(q, a, 600) == 0 && nym_quota_admit(q, a, 400) == 0, "a: up to its bound");
	CHECK(nym_quota_admit(q, a, 1) == NYM_EFULL, "a: one byte more is refused");
	CHECK(nym_quota_admit(q, b, 600) == NYM_EFULL && nym_quota_admit(q, b, 500) == 0,
	    "b: the total bound counts a's bytes");
	CHECK(nym_quota_total(q) == 1500, "1500 in all");
	/* a's payloads handled: one stored (the inbox says so), one pushed */
	nym_quota_stored(q, a, 600);
	nym_quota_settle(q, a, 600);
	nym_quota_settle(q, a, 400);
	CHECK(nym_quota_total(q) == 1100, "stored 600 + b's 500 pending");
	CHECK(nym_quota_admit(q, a, 401) == NYM_EFULL && nym_quota_admit(q, a, 400) == 0,
	    "a: stored bytes count against its bound");
	nym_quota_settle(q, a, 400);
	nym_quota_stored(q, a, -600);  /* delivered */
	nym_quota_settle(q, b, 500);
	CHECK(nym_quota_total(q) == 0, "all handled and delivered: 0");
	nym_quota_settle(q, a, 5);
	nym_quota_stored(q, b, -5);
	CHECK(nym_quota_total(q) == 0, "more released than held: never below 0");
	/* many clients: the table grows and shrinks */
	int ok = 1;
	for (int i = 0; i < 5000; i++) {
		uint8_t c[32] = {0};
		memcpy(c, &i, sizeof i);
		c[31] = 9;
		ok &= nym_quota_admit(q, c, 0) == 0;
	}
	for (int i = 0; i < 5000; i++) {
		uint8_t c[32] = {0};
		memcpy(c, &i, sizeof i);
		c[31] = 9;
		nym_quota_settle(q, c, 0);
	}
	CHECK(ok && nym_quota_admit(q, a, 1000) == 0, "5000 clients admitted and settled; a still fits");
	nym_quota_free(q);
	q = nym_quota_new(0, 0);
	CHECK(nym_quota_admit(q, a, (size_t)1 << 40) == 0, "0: no bound");
	nym_quota_free(q);
	printf("1..%d\n", t_n);
	return t_failed != 0;
}
