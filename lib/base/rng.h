/* rng.h — the caller-supplied randomness source.
 *
 * lib/ never draws randomness on its own: every function that needs it takes
 * a struct nym_rng, so a test can replay an official vector byte for byte by
 * passing a source that returns recorded bytes. The system source,
 * nym_rng_system, is crypto/crypto.h's (libsodium). */
#ifndef NYM_RNG_H
#define NYM_RNG_H

#include <stddef.h>
#include <stdint.h>

struct nym_rng {
	/* Fill buf with len bytes; return 0 or a negative NYM_E* code. */
	int (*fill)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

/* A replay source: hands out the bytes of buf in order, then fails with
 * NYM_ESHORT. *st keeps the position; it must outlive the returned rng. */
struct nym_rng_fixed {
	const uint8_t *buf;
	size_t len, pos;
};
struct nym_rng nym_rng_fixed(struct nym_rng_fixed *st, const uint8_t *buf, size_t len);

static inline int
nym_rng_fill(const struct nym_rng *r, uint8_t *buf, size_t len)
{
	return r->fill(r->ctx, buf, len);
}

#endif
