/* bench.h — timing helpers shared by every benchmark in bench/.
 *
 * A figure is the median over several timed runs of the nanoseconds one call
 * takes; each run repeats the call often enough to last a few milliseconds,
 * so clock resolution and call overhead vanish. Benchmarks print tables and
 * ratios to the crypto floor (bench/floor.h) measured in the same run. */
#ifndef NYM_BENCH_H
#define NYM_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Monotonic clock in nanoseconds. */
static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of n values (sorts v in place). */
static inline double
bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef void (*bench_fn)(void *arg);

/* Default shape of a measurement: runs of about BENCH_RUN_MS each; the
 * median of BENCH_RUNS of them. Override with the environment variables
 * NYM_BENCH_RUNS / NYM_BENCH_RUN_MS. */
#define BENCH_RUNS 7
#define BENCH_RUN_MS 40.0
#define BENCH_MAX_RUNS 64

static inline int
bench_runs(void)
{
	const char *s = getenv("NYM_BENCH_RUNS");
	int n = s ? atoi(s) : BENCH_RUNS;
	return n < 1 ? 1 : n > BENCH_MAX_RUNS ? BENCH_MAX_RUNS : n;
}

static inline double
bench_run_ms(void)
{
	const char *s = getenv("NYM_BENCH_RUN_MS");
	double ms = s ? atof(s) : BENCH_RUN_MS;
	return ms > 0 ? ms : BENCH_RUN_MS;
}

/* Nanoseconds per call of fn(arg): calibrate a call count that lasts about
 * run_ms, then take the median of `runs` timed runs of that many calls. */
static inline double
bench_ns_per_op_with(bench_fn fn, void *arg, int runs, double run_ms)
{
	double per[BENCH_MAX_RUNS];
	uint64_t iters = 1;
	if (runs > BENCH_MAX_RUNS) runs = BENCH_MAX_RUNS;
	fn(arg); /* warm caches and lazily initialised state */
	for (;;) {
		uint64_t t0 = bench_now_ns();
		for (uint64_t i = 0; i < iters; i++)
			fn(arg);
		double ns = (double)(bench_now_ns() - t0);
		if (ns >= run_ms * 1e6 / 4 || iters >= (UINT64_C(1) << 40)) {
			double want = run_ms * 1e6 / (ns / (double)iters);
			iters = want < 1 ? 1 : (uint64_t)want;
			break;
		}
		iters *= 2;
	}
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = bench_now_ns();
		for (uint64_t i = 0; i < iters; i++)
			fn(arg);
		per[r] = (double)(bench_now_ns() - t0) / (double)iters;
	}
	return bench_median(per, runs);
}

static inline double
bench_ns_per_op(bench_fn fn, void *arg)
{
	return bench_ns_per_op_with(fn, arg, bench_runs(), bench_run_ms());
}

/* Keeps results alive so the compiler cannot drop the measured work. */
static volatile uint8_t bench_sink;

static inline void
bench_consume(const uint8_t *p, size_t n)
{
	uint8_t x = 0;
	for (size_t i = 0; i < n; i++) x ^= p[i];
	bench_sink ^= x;
}

/* One table row: name, ns per operation, and MB/s when bytes > 0. */
static inline void
bench_row(const char *name, double ns, size_t bytes)
{
	if (bytes)
		printf("%-34s %12.1f %10.1f\n", name, ns, (double)bytes / ns * 1e3);
	else
		printf("%-34s %12.1f %10s\n", name, ns, "-");
}

static inline void
bench_header(const char *title)
{
	printf("%s\n%-34s %12s %10s\n", title, "operation", "ns/op", "MB/s");
}

#endif
