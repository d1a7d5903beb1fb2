#include <string.h>

#include "base/err.h"
#include "base/rng.h"

static int
fixed_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct nym_rng_fixed *st = ctx;

	if (len > st->len - st->pos)
		return NYM_ESHORT;
	memcpy(buf, st->buf + st->pos, len);
	st->pos += len;
	return 0;
}

struct nym_rng
nym_rng_fixed(struct nym_rng_fixed *st, const uint8_t *buf, size_t len)
{
	struct nym_rng r = { fixed_fill, st };

	st->buf = buf;
	st->len = len;
	st->pos = 0;
	return r;
}
