/* clock.h — the monotonic clock every timer, delay and round-trip time in
 * lib/ counts on (never the wall clock, which jumps). */
#ifndef NYM_CLOCK_H
#define NYM_CLOCK_H

#include <stdint.h>
#include <time.h>


/* Nanoseconds since an arbitrary start (CLOCK_MONOTONIC). */
static inline uint64_t
nym_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The same clock in milliseconds. */
static inline uint64_t
nym_mono_ms(void)
{
	return nym_mono_ns() / 1000000u;
}

#endif
