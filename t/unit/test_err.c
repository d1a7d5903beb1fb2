#include "test.h"
#include "err.h"
#include "rng.h"

int
main(void)
{
	CHECK(strcmp(nym_strerror(NYM_EMAC), "MAC verification failed") == 0, "strerror words");
	CHECK(strcmp(nym_strerror(-9999), "unknown error") == 0, "unknown code has words");

	const uint8_t src[4] = { 1, 2, 3, 4 };
	uint8_t out[3];
	struct nym_rng_fixed st;
	struct nym_rng r = nym_rng_fixed(&st, src, sizeof src);
	CHECK(nym_rng_fill(&r, out, 3) == 0 && out[2] == 3, "fixed rng replays bytes");
	CHECK(nym_rng_fill(&r, out, 2) == NYM_ESHORT, "fixed rng fails when exhausted");
	return t_done();
}
