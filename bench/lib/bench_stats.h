/* bench_stats.h: integer-only statistics over a buffer of TSC samples. */
#ifndef FERRY_BENCH_STATS_H
#define FERRY_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_stats {
    uint64_t samples;
    uint64_t min, p50, p90, p99, max;
    uint64_t mean;   /* arithmetic mean, rounded to nearest (ties up) */
    uint64_t stdev;  /* population standard deviation, rounded to nearest */
};

/* Heapsort, ascending, in place: O(n log n), no recursion, no extra memory. */
void bench_sort_u64(uint64_t *a, size_t n);

/* Nearest-rank percentile of an ascending array, 0 < n, 0 <= p <= 100:
 * the value at rank ceil(p/100 * n) (1-based), with rank at least 1.
 * So p50 of {1,2} is 1, p90 of {1,2} is 2, p0 is the minimum, p100 the max. */
uint64_t bench_percentile_sorted(const uint64_t *a, size_t n, unsigned p);

/* Sorts a[0..n) and fills st; n == 0 gives all zeros.  The mean is always
 * exact before rounding.  The stdev is exact before rounding while
 * 4 * n * sum((x - floor(mean))^2) fits 128 bits (e.g. deviations below 2^43
 * ticks with up to 2^20 samples); beyond that it is
 * floor(sqrt(floor(sum((x - floor(mean))^2) / n))), off by well under one
 * part in 10^6 at such magnitudes, and UINT64_MAX if even the sum overflows. */
void bench_stats_compute(uint64_t *a, size_t n, struct bench_stats *st);

/* Subtracts the empty-region overhead from every sample, clamping at 0. */
void bench_subtract_overhead(uint64_t *a, size_t n, uint64_t overhead);

/* floor(sqrt(x)) by the bit-by-bit method: no division, no floating point. */
uint64_t bench_isqrt128(unsigned __int128 x);

/* q = floor(num / den), *rem = num mod den; den != 0.  Shift-and-subtract,
 * because a 128-bit '/' would call libgcc's __udivti3, which freestanding
 * kernel code does not link. */
unsigned __int128 bench_udiv128(unsigned __int128 num, uint64_t den, uint64_t *rem);

#endif
