/* bench_crypto — the crypto floor of this machine: ns per operation (median
 * of several runs) for every primitive nymkit is built from. Other
 * benchmarks express their figures as ratios to these. */
#include "floor.h"

int
main(void)
{
	struct bench_floor f;
	uint64_t t0 = bench_now_ns();
	if (bench_floor_measure(&f) != 0) {
		fprintf(stderr, "bench_crypto: cannot set up the crypto contexts\n");
		return 1;
	}
	bench_header("crypto floor (median of runs)");
	bench_floor_print(&f);
	printf("ratios: unclamped ladder = %.2f x X25519; Ed25519 verify = %.2f x sign; "
	       "GCM-SIV 2 KiB = %.2f x AES-128-CTR 2 KiB\n",
	       f.ns[BENCH_FLOOR_LADDER] / f.ns[BENCH_FLOOR_X25519],
	       f.ns[BENCH_FLOOR_ED_VERIFY] / f.ns[BENCH_FLOOR_ED_SIGN],
	       f.ns[BENCH_FLOOR_GCMSIV] / f.ns[BENCH_FLOOR_AES_CTR]);
	printf("(%d runs of ~%.0f ms each per row; measured in %.1f s)\n",
	       bench_runs(), bench_run_ms(), (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
