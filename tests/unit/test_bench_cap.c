/* SOURCES: bench/lib/bench_json.c bench/lib/bench_stats.c bench/lib/bench_args.c bench/lib/bench_runner.c lib/tsc.c */
/* test_bench_cap.c: host tests of an entry's max_samples bound: the benchmark gets at most that many, the record says so. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_runner.h"

static char out[1 << 14];
static size_t out_len;
static size_t seen_n, seen_warmup;

static void capture(const char *s, size_t n)
{
    assert_true(out_len + n < sizeof out);
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
}

static uint64_t empty_region(void) { return 10; }

static const char *fill(struct bench_ctx *c)
{
    seen_n = c->n;
    seen_warmup = c->warmup;
    for (size_t i = 0; i < c->n; i++)
        c->samples[i] = 110 + i;
    return NULL;
}

static const struct bench_entry table[] = {
    { .name = "capped", .fn = fill, .max_samples = 5 },
    { .name = "free", .fn = fill },
};

static void run(const char *words)
{
    static uint64_t buf[1000];
    static struct bench_runner r;
    out_len = 0;
    bench_runner_init(&r, capture, buf, 1000, words);
    r.empty_region = empty_region;
    bench_runner_measure_overhead(&r);
    bench_runner_run(&r, table, 2);
}

static void test_bound_applies_to_asked_samples(void **state)
{
    (void)state;
    run("bench=capped samples=100 warmup=50");
    assert_int_equal(seen_n, 5);
    assert_true(seen_warmup <= 5);
    assert_non_null(strstr(out, "\"bench\":\"capped\""));
    assert_non_null(strstr(out, "\"samples\":5,"));
    /* samples 110..114 minus the overhead of 10: the median is 102 */
    assert_non_null(strstr(out, "\"p50\":102"));
}

static void test_unbounded_entry_takes_what_is_asked(void **state)
{
    (void)state;
    run("bench=free samples=100 warmup=50");
    assert_int_equal(seen_n, 100);
    assert_int_equal(seen_warmup, 50);
    assert_non_null(strstr(out, "\"samples\":100,"));
}

static void test_fewer_than_the_bound_is_kept(void **state)
{
    (void)state;
    run("bench=capped samples=3");
    assert_int_equal(seen_n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_applies_to_asked_samples),
        cmocka_unit_test(test_unbounded_entry_takes_what_is_asked),
        cmocka_unit_test(test_fewer_than_the_bound_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
