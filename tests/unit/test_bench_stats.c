/* SOURCES: bench/lib/bench_stats.c */
/* test_bench_stats.c: host tests of the runner's sort, percentiles, mean/stdev rounding and overhead clamping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench_stats.h"

static void test_sort_orders_and_keeps_values(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint64_t a[N];
    uint64_t count_before[64] = { 0 }, count_after[64] = { 0 };
    uint64_t x = 12345;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (x >> 33) % 64;  /* many duplicates on purpose */
        count_before[a[i]]++;
    }
    bench_sort_u64(a, N);
    for (size_t i = 1; i < N; i++)
        assert_true(a[i - 1] <= a[i]);
    for (size_t i = 0; i < N; i++)
        count_after[a[i]]++;
    assert_memory_equal(count_before, count_after, sizeof(count_before));
}

static void test_sort_edge_shapes(void **state)
{
    (void)state;
    uint64_t one[1] = { 9 };
    bench_sort_u64(one, 1);
    assert_int_equal(one[0], 9);
    bench_sort_u64(NULL, 0);

    uint64_t rev[7] = { 7, 6, 5, 4, 3, 2, 1 };
    bench_sort_u64(rev, 7);
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(rev[i], i + 1);

    uint64_t big[3] = { UINT64_MAX, 0, UINT64_MAX - 1 };
    bench_sort_u64(big, 3);
    assert_int_equal(big[0], 0);
    assert_true(big[1] == UINT64_MAX - 1 && big[2] == UINT64_MAX);
}

/* {1,2,3,4}: mean 2.5 rounds up to 3; population variance 1.25,
 * stdev 1.118 -> 1; nearest rank p50 = rank 2 -> 2, p90 = rank 4 -> 4. */
static void test_stats_hand_computed(void **state)
{
    (void)state;
    uint64_t a[4] = { 4, 1, 3, 2 };
    struct bench_stats st;
    bench_stats_compute(a, 4, &st);
    assert_int_equal(st.samples, 4);
    assert_int_equal(st.min, 1);
    assert_int_equal(st.p50, 2);
    assert_int_equal(st.p90, 4);
    assert_int_equal(st.p99, 4);
    assert_int_equal(st.max, 4);
    assert_int_equal(st.mean, 3);
    assert_int_equal(st.stdev, 1);

    /* The textbook set: mean 5, population stdev exactly 2. */
    uint64_t b[8] = { 9, 2, 4, 4, 5, 5, 7, 4 };
    bench_stats_compute(b, 8, &st);
    assert_int_equal(st.mean, 5);
    assert_int_equal(st.stdev, 2);
    assert_int_equal(st.p50, 4);   /* rank 4 of 2,4,4,4,5,5,7,9 */
    assert_int_equal(st.p90, 9);   /* rank ceil(7.2) = 8 */
}

static void test_stats_one_sample(void **state)
{
    (void)state;
    uint64_t a[1] = { 77 };
    struct bench_stats st;
    bench_stats_compute(a, 1, &st);
    assert_int_equal(st.samples, 1);
    assert_int_equal(st.min, 77);
    assert_int_equal(st.p50, 77);
    assert_int_equal(st.p90, 77);
    assert_int_equal(st.p99, 77);
    assert_int_equal(st.max, 77);
    assert_int_equal(st.mean, 77);
    assert_int_equal(st.stdev, 0);
}

/* {3,10}: p50 = rank 1 = 3, p90 = rank 2 = 10; mean 6.5 -> 7 (ties up);
 * stdev exactly 3.5 -> 4 (ties up). */
static void test_stats_two_samples(void **state)
{
    (void)state;
    uint64_t a[2] = { 10, 3 };
    struct bench_stats st;
    bench_stats_compute(a, 2, &st);
    assert_int_equal(st.min, 3);
    assert_int_equal(st.p50, 3);
    assert_int_equal(st.p90, 10);
    assert_int_equal(st.p99, 10);
    assert_int_equal(st.max, 10);
    assert_int_equal(st.mean, 7);
    assert_int_equal(st.stdev, 4);
}

/* 1..10001 in scrambled order: p50 = rank 5001, p90 = rank ceil(9000.9) =
 * 9001, p99 = rank ceil(9900.99) = 9901; mean 5001; stdev =
 * sqrt((n^2 - 1) / 12) = sqrt(8335000) = 2887.04 -> 2887. */
static void test_stats_10001(void **state)
{
    (void)state;
    enum { N = 10001 };
    static uint64_t a[N];
    /* 7919 is prime, so i -> i*7919 mod N is a permutation of 0..N-1. */
    for (size_t i = 0; i < N; i++)
        a[i] = (i * 7919) % N + 1;
    struct bench_stats st;
    bench_stats_compute(a, N, &st);
    assert_int_equal(st.samples, N);
    assert_int_equal(st.min, 1);
    assert_int_equal(st.p50, 5001);
    assert_int_equal(st.p90, 9001);
    assert_int_equal(st.p99, 9901);
    assert_int_equal(st.max, 10001);
    assert_int_equal(st.mean, 5001);
    assert_int_equal(st.stdev, 2887);
}

static void test_percentile_ranks(void **state)
{
    (void)state;
    uint64_t a[10] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
    assert_int_equal(bench_percentile_sorted(a, 10, 0), 10);
    assert_int_equal(bench_percentile_sorted(a, 10, 10), 10);
    assert_int_equal(bench_percentile_sorted(a, 10, 11), 20);
    assert_int_equal(bench_percentile_sorted(a, 10, 50), 50);
    assert_int_equal(bench_percentile_sorted(a, 10, 90), 90);
    assert_int_equal(bench_percentile_sorted(a, 10, 99), 100);
    assert_int_equal(bench_percentile_sorted(a, 10, 100), 100);
}

/* The stdev must use the exact mean, not the rounded one:
 * {0,1,1}: var = 2/9, stdev 0.47 -> 0 (around floor(mean) = 0 it would be
 * sqrt(2/3) = 0.82 -> 1).  {0,3}: 1.5 -> 2.  {0,1}: 0.5 -> 1 (ties up). */
static void test_stdev_rounding(void **state)
{
    (void)state;
    struct bench_stats st;
    uint64_t a[3] = { 1, 0, 1 };
    bench_stats_compute(a, 3, &st);
    assert_int_equal(st.mean, 1);
    assert_int_equal(st.stdev, 0);
    uint64_t b[2] = { 0, 3 };
    bench_stats_compute(b, 2, &st);
    assert_int_equal(st.stdev, 2);
    uint64_t c[2] = { 0, 1 };
    bench_stats_compute(c, 2, &st);
    assert_int_equal(st.mean, 1);
    assert_int_equal(st.stdev, 1);
    uint64_t d[4] = { 0, 0, 0, 1 };   /* mean 0.25 -> 0, stdev 0.433 -> 0 */
    bench_stats_compute(d, 4, &st);
    assert_int_equal(st.mean, 0);
    assert_int_equal(st.stdev, 0);
}

/* Big tick counts (a 4 MiB transfer under TCG) must not overflow. */
static void test_stats_large_values(void **state)
{
    (void)state;
    struct bench_stats st;
    uint64_t a[2] = { 1000000000000ull, 1000000000002ull };
    bench_stats_compute(a, 2, &st);
    assert_int_equal(st.mean, 1000000000001ull);
    assert_int_equal(st.stdev, 1);
    uint64_t b[2] = { 0, UINT64_MAX - 1 };  /* mean (2^64-2)/2, stdev the same */
    bench_stats_compute(b, 2, &st);
    assert_int_equal(st.mean, UINT64_MAX / 2);
    assert_int_equal(st.stdev, UINT64_MAX / 2);
}

static void test_stats_empty(void **state)
{
    (void)state;
    struct bench_stats st = { .min = 5 };
    bench_stats_compute(NULL, 0, &st);
    assert_int_equal(st.samples, 0);
    assert_int_equal(st.min, 0);
}

static void test_subtract_overhead_clamps(void **state)
{
    (void)state;
    uint64_t a[5] = { 5, 10, 3, 0, 6 };
    bench_subtract_overhead(a, 5, 5);
    uint64_t want[5] = { 0, 5, 0, 0, 1 };
    assert_memory_equal(a, want, sizeof(a));
    uint64_t b[2] = { 1, 2 };
    bench_subtract_overhead(b, 2, 0);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[1], 2);
}

static void test_isqrt(void **state)
{
    (void)state;
    assert_int_equal(bench_isqrt128(0), 0);
    assert_int_equal(bench_isqrt128(1), 1);
    assert_int_equal(bench_isqrt128(3), 1);
    assert_int_equal(bench_isqrt128(4), 2);
    assert_int_equal(bench_isqrt128(8335000), 2887);
    unsigned __int128 m = UINT64_MAX;
    assert_true(bench_isqrt128(m * m) == UINT64_MAX);
    assert_true(bench_isqrt128(m * m - 1) == UINT64_MAX - 1);
    assert_true(bench_isqrt128(~(unsigned __int128)0) == UINT64_MAX);
    for (uint64_t v = 0; v < 100000; v += 7) {
        uint64_t r = bench_isqrt128(v);
        assert_true(r * r <= v && (r + 1) * (r + 1) > v);
    }
}

static void test_udiv128(void **state)
{
    (void)state;
    uint64_t rem;
    unsigned __int128 num = ((unsigned __int128)1 << 100) + 5;
    unsigned __int128 q = bench_udiv128(num, 7, &rem);
    assert_true(q * 7 + rem == num);
    assert_true(rem < 7);
    q = bench_udiv128(~(unsigned __int128)0, UINT64_MAX, &rem);
    assert_true(q * UINT64_MAX + rem == ~(unsigned __int128)0);
    assert_true(bench_udiv128(41, 6, &rem) == 6 && rem == 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_orders_and_keeps_values),
        cmocka_unit_test(test_sort_edge_shapes),
        cmocka_unit_test(test_stats_hand_computed),
        cmocka_unit_test(test_stats_one_sample),
        cmocka_unit_test(test_stats_two_samples),
        cmocka_unit_test(test_stats_10001),
        cmocka_unit_test(test_percentile_ranks),
        cmocka_unit_test(test_stdev_rounding),
        cmocka_unit_test(test_stats_large_values),
        cmocka_unit_test(test_stats_empty),
        cmocka_unit_test(test_subtract_overhead_clamps),
        cmocka_unit_test(test_isqrt),
        cmocka_unit_test(test_udiv128),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
