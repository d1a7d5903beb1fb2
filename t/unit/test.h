/* test.h — a tiny TAP producer for lib/ unit tests.
 * Each CHECK is one test point; t/run counts "ok" and "not ok" lines. */
#ifndef NYM_TEST_H
#define NYM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static int t_n, t_failed;

#define CHECK(cond, ...) do { \
	t_n++; \
	if (cond) { printf("ok %d - ", t_n); printf(__VA_ARGS__); printf("\n"); } \
	else { t_failed++; printf("not ok %d - ", t_n); printf(__VA_ARGS__); \
	       printf("\n#   at %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

/* Compare bytes and print both in hex when they differ. */
#define CHECK_MEM(a, b, len, ...) do { \
	const uint8_t *ta_ = (const uint8_t *)(a), *tb_ = (const uint8_t *)(b); \
	size_t tl_ = (len); int teq_ = memcmp(ta_, tb_, tl_) == 0; \
	CHECK(teq_, __VA_ARGS__); \
	if (!teq_) { printf("#   got:  "); for (size_t ti_ = 0; ti_ < tl_ && ti_ < 64; ti_++) printf("%02x", ta_[ti_]); \
	             printf("\n#   want: "); for (size_t ti_ = 0; ti_ < tl_ && ti_ < 64; ti_++) printf("%02x", tb_[ti_]); printf("\n"); } \
} while (0)

/* Decode a hex literal into a malloc'd buffer (test helper; aborts on bad hex). */
static inline uint8_t *
t_hex(const char *s, size_t *len)
{
	size_t n = strlen(s) / 2;
	uint8_t *b = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1) abort();
		b[i] = (uint8_t)v;
	}
	if (len) *len = n;
	return b;
}

/* Read a whole file (vectors) into a NUL-terminated malloc'd buffer. */
static inline char *
t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) { printf("Bail out! cannot open %s\n", path); exit(1); }
	fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) { printf("Bail out! cannot read %s\n", path); exit(1); }
	b[n] = 0; fclose(f);
	if (len) *len = (size_t)n;
	return b;
}

/* Where t/vectors is: $NYM_VECTORS or ./t/vectors (tests run from the top). */
static inline const char *
t_vectors(void)
{
	const char *d = getenv("NYM_VECTORS");
	return d ? d : "t/vectors";
}

static inline int
t_done(void)
{
	printf("1..%d\n", t_n);
	return t_failed ? 1 : 0;
}

#endif
