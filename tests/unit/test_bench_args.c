/* SOURCES: bench/lib/bench_args.c */
/* test_bench_args.c: host tests of the benchmark words parser: values, defaults, and each error message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_args.h"

static struct bench_args a;
static char err[BENCH_ERR_MAX];

static void test_defaults(void **state)
{
    (void)state;
    assert_true(bench_args_parse(&a, NULL, err, sizeof(err)));
    assert_true(a.all);
    assert_false(a.samples_set);
    assert_false(a.warmup_set);
    assert_int_equal(a.nsizes, 0);
    assert_false(a.raw);
    assert_true(bench_args_parse(&a, "   ", err, sizeof(err)));
    assert_true(a.all);
    assert_string_equal(err, "");
}

static void test_full_line(void **state)
{
    (void)state;
    assert_true(bench_args_parse(&a,
        "console=ttyS0 quiet bench=pipe_rt,futex_rt/cpu1 samples=1000 warmup=0 sizes=64,4K,4M raw=1 pcid=off",
        err, sizeof(err)));
    assert_false(a.all);
    assert_int_equal(a.nselect, 2);
    assert_string_equal(a.select[0], "pipe_rt");
    assert_string_equal(a.select[1], "futex_rt/cpu1");
    assert_true(a.samples_set);
    assert_int_equal(a.samples, 1000);
    assert_true(a.warmup_set);
    assert_int_equal(a.warmup, 0);
    assert_int_equal(a.nsizes, 3);
    assert_int_equal(a.sizes[0], 64);
    assert_int_equal(a.sizes[1], 4096);
    assert_int_equal(a.sizes[2], 4 << 20);
    assert_true(a.raw);
}

static void test_all_and_last_word_wins(void **state)
{
    (void)state;
    assert_true(bench_args_parse(&a, "bench=x bench=all samples=5 samples=7 raw=1 raw=0", err, sizeof(err)));
    assert_true(a.all);
    assert_int_equal(a.nselect, 0);
    assert_int_equal(a.samples, 7);
    assert_false(a.raw);
}

static void expect_error(const char *words, const char *msg)
{
    assert_false(bench_args_parse(&a, words, err, sizeof(err)));
    assert_string_equal(err, msg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("samples=12x", "samples=12x: not a number");
    expect_error("samples=", "samples=: not a number");
    expect_error("samples=-3", "samples=-3: not a number");
    expect_error("samples=0", "samples=0: need at least 1 sample");
    expect_error("samples=99999999999999999999", "samples=99999999999999999999: not a number");
    expect_error("warmup=1.5", "warmup=1.5: not a number");
    expect_error("sizes=64,,128", "sizes=64,,128: not a size (decimal, optional K/M/G suffix)");
    expect_error("sizes=", "sizes=: names no size");
    expect_error("sizes=4Q", "sizes=4Q: not a size (decimal, optional K/M/G suffix)");
    expect_error("sizes=17179869184G", "sizes=17179869184G: not a size (decimal, optional K/M/G suffix)");
    expect_error("bench=", "bench=: names no benchmark");
    expect_error("bench=a,", "bench=a,: empty benchmark name");
    expect_error("bench=a;b", "bench=a;b: bad character in benchmark name");
    expect_error("bench=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "bench=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: benchmark name too long");
    expect_error("raw=yes", "raw=yes: raw takes 0 or 1");
    expect_error("samples=10 raw=2", "raw=2: raw takes 0 or 1");
}

static void test_error_truncated_safely(void **state)
{
    (void)state;
    char small[8];
    assert_false(bench_args_parse(&a, "samples=12x", small, sizeof(small)));
    assert_string_equal(small, "samples");
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(bench_parse_u64("0", 1, &v) && v == 0);
    assert_true(bench_parse_u64("18446744073709551615", 20, &v) && v == UINT64_MAX);
    assert_false(bench_parse_u64("18446744073709551616", 20, &v));
    assert_true(bench_parse_u64("1k", 2, &v) && v == 1024);
    assert_true(bench_parse_u64("3G", 2, &v) && v == 3ull << 30);
    assert_false(bench_parse_u64("1KK", 3, &v));
    assert_false(bench_parse_u64("K", 1, &v));
    /* Only n bytes are read: "12" out of "123". */
    assert_true(bench_parse_u64("123", 2, &v) && v == 12);
}

static void test_too_many(void **state)
{
    (void)state;
    char words[600] = "bench=";
    size_t p = 6;
    for (int i = 0; i <= BENCH_MAX_SELECT; i++) {
        words[p++] = 'a' + (char)(i % 26);
        words[p++] = 'a' + (char)(i / 26);
        words[p++] = ',';
    }
    words[p - 1] = '\0';
    char big[256];
    assert_false(bench_args_parse(&a, words, big, sizeof(big)));
    assert_non_null(strstr(big, ": too many benchmark names"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_line),
        cmocka_unit_test(test_all_and_last_word_wins),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_truncated_safely),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
