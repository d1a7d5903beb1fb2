#include "base/err.h"
#include "base/rng.h"
#include "test.h"

int
main(void)
{
	CHECK(strcmp(nym_strerror(NYM_EMAC), "MAC verification failed") == 0, "strerror words");
	CHECK(strcmp(nym_strerror(-9999), "unknown error") == 0, "unknown code has words");
	char why[8] = "x";
	CHECK(nym_err_set(why, sizeof why, NYM_EJSON, "%s %d", "field", 12345) == NYM_EJSON &&
	      strcmp(why, "field 1") == 0, "nym_err_set: returns the code, message truncated to the buffer");
	CHECK(nym_err_set(NULL, 0, NYM_ENET, "%s", "nowhere") == NYM_ENET &&
	      nym_err_set(why, 0, NYM_ENET, "other") == NYM_ENET && strcmp(why, "field 1") == 0,
	      "nym_err_set: no buffer, nothing written");

	const uint8_t src[4] = { 1, 2, 3, 4 };
	uint8_t out[3];
	struct nym_rng_fixed st;
	struct nym_rng r = nym_rng_fixed(&st, src, sizeof src);
	CHECK(nym_rng_fill(&r, out, 3) == 0 && out[2] == 3, "fixed rng replays bytes");
	CHECK(nym_rng_fill(&r, out, 2) == NYM_ESHORT, "fixed rng fails when exhausted");
	return t_done();
}
