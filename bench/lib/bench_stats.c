/* bench_stats.c: sort, nearest-rank percentiles, rounded mean and stdev in integer math. */
#include "bench_stats.h"

static void sift_down(uint64_t *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[root] >= a[child])
            return;
        uint64_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

void bench_sort_u64(uint64_t *a, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        uint64_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

uint64_t bench_percentile_sorted(const uint64_t *a, size_t n, unsigned p)
{
    if (p > 100)
        p = 100;
    /* ceil(p*n/100) without overflow for any realistic n (n < 2^57). */
    uint64_t rank = ((uint64_t)p * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    return a[rank - 1];
}

unsigned __int128 bench_udiv128(unsigned __int128 num, uint64_t den, uint64_t *rem)
{
    unsigned __int128 q = 0, r = 0;
    for (int bit = 127; bit >= 0; bit--) {
        r = (r << 1) | ((num >> bit) & 1);
        if (r >= den) {
            r -= den;
            q |= (unsigned __int128)1 << bit;
        }
    }
    if (rem)
        *rem = (uint64_t)r;
    return q;
}

uint64_t bench_isqrt128(unsigned __int128 x)
{
    unsigned __int128 res = 0;
    unsigned __int128 one = (unsigned __int128)1 << 126;
    while (one > x)
        one >>= 2;
    while (one != 0) {
        if (x >= res + one) {
            x -= res + one;
            res = (res >> 1) + one;
        } else {
            res >>= 1;
        }
        one >>= 2;
    }
    return (uint64_t)res;
}

static unsigned bits128(unsigned __int128 x)
{
    unsigned b = 0;
    while (x != 0) {
        b++;
        x >>= 1;
    }
    return b;
}

/* Population variance is var = sum((x - mu)^2) / n with mu = S/n.  With the
 * integer m = floor(mu) and r = S mod n, mu - m = r/n, so
 *   sum((x - mu)^2) = D - r^2/n   where D = sum((x - m)^2),
 *   4*var = 4*(n*D - r^2) / n^2,
 * all integers.  round(sqrt(var)) = floor((sqrt(4*var) + 1) / 2), and
 * floor(sqrt(y)) = isqrt(floor(y)), so stdev = (isqrt(floor(4*var)) + 1) / 2. */
static uint64_t stdev_of(const uint64_t *a, size_t n, uint64_t m, uint64_t r)
{
    unsigned __int128 d = 0;
    bool overflow = false;
    for (size_t i = 0; i < n; i++) {
        uint64_t diff = a[i] >= m ? a[i] - m : m - a[i];
        unsigned __int128 sq = (unsigned __int128)diff * diff;
        if (d + sq < d)
            overflow = true;
        d += sq;
    }
    uint64_t n64 = (uint64_t)n;
    if (!overflow && n64 < ((uint64_t)1 << 32) && bits128(d) + bits128(n64) + 2 <= 128) {
        unsigned __int128 t = (unsigned __int128)n64 * d - (unsigned __int128)r * r;
        unsigned __int128 q = bench_udiv128(t << 2, n64 * n64, NULL);
        return (bench_isqrt128(q) + 1) / 2;
    }
    if (overflow)
        return UINT64_MAX;
    return bench_isqrt128(bench_udiv128(d, n64, NULL));
}

void bench_stats_compute(uint64_t *a, size_t n, struct bench_stats *st)
{
    *st = (struct bench_stats){ 0 };
    if (n == 0)
        return;
    bench_sort_u64(a, n);
    st->samples = n;
    st->min = a[0];
    st->max = a[n - 1];
    st->p50 = bench_percentile_sorted(a, n, 50);
    st->p90 = bench_percentile_sorted(a, n, 90);
    st->p99 = bench_percentile_sorted(a, n, 99);

    unsigned __int128 sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += a[i];
    uint64_t r;
    uint64_t m = (uint64_t)bench_udiv128(sum, n, &r);
    /* Round half up: mu >= m + 1/2 exactly when 2r >= n. */
    st->mean = m + ((unsigned __int128)r * 2 >= n ? 1 : 0);
    st->stdev = stdev_of(a, n, m, r);
}

void bench_subtract_overhead(uint64_t *a, size_t n, uint64_t overhead)
{
    for (size_t i = 0; i < n; i++)
        a[i] = a[i] > overhead ? a[i] - overhead : 0;
}
