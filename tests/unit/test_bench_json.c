/* SOURCES: bench/lib/bench_json.c bench/lib/bench_stats.c bench/lib/bench_args.c bench/lib/bench_runner.c lib/tsc.c */
/* test_bench_json.c: host tests of the record output: escaping, piecewise writes and whole runs byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_runner.h"

static char out[1 << 16];
static size_t out_len, max_piece, pieces;

static void capture(const char *s, size_t n)
{
    assert_true(out_len + n < sizeof(out));
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
    if (n > max_piece)
        max_piece = n;
    pieces++;
}

static int reset(void **state)
{
    (void)state;
    out_len = 0;
    out[0] = '\0';
    max_piece = 0;
    pieces = 0;
    return 0;
}

static void test_escaping(void **state)
{
    (void)state;
    struct bench_json j;
    bj_init(&j, capture);
    bj_record_begin(&j, "@x ");
    bj_obj_begin(&j);
    bj_key(&j, "k\"");
    bj_str(&j, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f\xc3\xa9/z");
    bj_obj_end(&j);
    bj_record_end(&j);
    assert_string_equal(out, "@x {\"k\\\"\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\\u00c3\\u00a9/z\"}\n");
}

static void test_nesting_and_numbers(void **state)
{
    (void)state;
    struct bench_json j;
    bj_init(&j, capture);
    bj_record_begin(&j, "@t ");
    bj_obj_begin(&j);
    bj_key(&j, "a");
    bj_arr_begin(&j);
    bj_arr_end(&j);
    bj_key(&j, "b");
    bj_arr_begin(&j);
    bj_u64(&j, 0);
    bj_i64(&j, -1);
    bj_i64(&j, INT64_MIN);
    bj_u64(&j, UINT64_MAX);
    bj_obj_begin(&j);
    bj_obj_end(&j);
    bj_obj_begin(&j);
    bj_key(&j, "c");
    bj_null(&j);
    bj_key(&j, "d");
    bj_bool(&j, false);
    bj_obj_end(&j);
    bj_arr_end(&j);
    bj_key(&j, "e");
    bj_str(&j, NULL);
    bj_obj_end(&j);
    bj_record_end(&j);
    /* A second record starts with fresh comma state. */
    bj_record_begin(&j, "@t ");
    bj_obj_begin(&j);
    bj_obj_end(&j);
    bj_record_end(&j);
    assert_string_equal(out, "@t {\"a\":[],\"b\":[0,-1,-9223372036854775808,18446744073709551615,{},"
                             "{\"c\":null,\"d\":false}],\"e\":null}\n@t {}\n");
}

/* A long line leaves in several pieces, none longer than the buffer. */
static void test_long_line_in_pieces(void **state)
{
    (void)state;
    struct bench_json j;
    bj_init(&j, capture);
    bj_record_begin(&j, "@l ");
    bj_arr_begin(&j);
    for (unsigned i = 0; i < 1000; i++)
        bj_u64(&j, 1000000 + i);
    bj_arr_end(&j);
    bj_record_end(&j);
    assert_int_equal(out_len, 3 + 2 + 1000 * 7 + 999 + 1);
    assert_true(pieces > 1);
    assert_true(max_piece <= BENCH_JSON_BUF);
    assert_memory_equal(out, "@l [1000000,1000001,", 20);
    assert_memory_equal(out + out_len - 10, ",1000999]\n", 10);
}

/* Benchmarks of the fake table: each fills samples from its size. */
static unsigned fake_calls;
static const char *fake_ok(struct bench_ctx *c)
{
    static const uint64_t vals[4] = { 15, 12, 40, 3 };
    fake_calls++;
    for (size_t i = 0; i < c->n; i++)
        c->samples[i] = vals[i % 4] + (c->size > 0 ? (uint64_t)c->size : 0);
    return NULL;
}

static const char *fake_fail(struct bench_ctx *c)
{
    (void)c;
    return "reply 3 != 2";
}

static const char *fake_lazy(struct bench_ctx *c)
{
    c->samples[0] = 1;  /* forgets the rest */
    return NULL;
}

static const int64_t fake_sizes[2] = { 0, 100 };

static const struct bench_entry table[] = {
    { "fake", "v", fake_ok, "fake ok", NULL, 0, 0, NULL, 0 },
    { "sized", "", fake_ok, "fake sized", fake_sizes, 2, 0, NULL, 0 },
    { "bad", "x", fake_fail, "fails its check", NULL, 0, 0, NULL, 0 },
    { "lazy", "", fake_lazy, "leaves slots unset", NULL, 0, 0, NULL, 0 },
    { .name = "novar", .fn = fake_ok, .description = "variant left NULL, as designated initialisers do" },
};

static uint64_t empty_five(void) { return 5; }

static uint64_t buf[64];

static void run(const char *words)
{
    struct bench_runner r;
    fake_calls = 0;
    bench_runner_init(&r, capture, buf, 64, words);
    r.empty_region = empty_five;
    bench_runner_measure_overhead(&r);
    bench_meta_begin(&r, "test");
    bj_key(&r.out, "cmdline");
    bj_str(&r.out, words);
    bench_meta_end(&r, table, sizeof(table) / sizeof(table[0]));
    bench_runner_run(&r, table, sizeof(table) / sizeof(table[0]));
    bench_done(&r);
}

/* Samples {15,12,40,3} minus overhead 5 -> {10,7,35,0} (clamped):
 * sorted 0,7,10,35; p50 rank 2 = 7; p90/p99 rank 4 = 35; mean 13;
 * population stdev sqrt(171.5) = 13.1 -> 13. */
static void test_run_byte_for_byte(void **state)
{
    (void)state;
    /* tsc=mfence: the method must not depend on the host's CPU here. */
    run("bench=fake samples=4 raw=1 tsc=mfence");
    assert_string_equal(out,
        "@meta {\"schema\":1,\"system\":\"test\",\"cmdline\":\"bench=fake samples=4 raw=1 tsc=mfence\","
        "\"benchmarks\":[\"fake\"],\"samples\":4,\"warmup\":null,\"raw\":true,"
        "\"tsc_method\":\"mfence\",\"tsc_read\":\"mfence;rdtsc .. mfence;rdtsc;mfence\","
        "\"tsc_overhead\":5,\"tsc_overhead_stable\":true,\"tsc_overhead_tries\":1}\n"
        "@samples {\"bench\":\"fake\",\"variant\":\"v\",\"size\":-1,\"values\":[10,7,35,0]}\n"
        "@result {\"bench\":\"fake\",\"variant\":\"v\",\"size\":-1,\"unit\":\"tsc\",\"samples\":4,"
        "\"overhead\":5,\"min\":0,\"p50\":7,\"p90\":35,\"p99\":35,\"max\":35,\"mean\":13,\"stdev\":13}\n"
        "@done {\"records\":1,\"errors\":0}\n");
}

static void test_run_sizes(void **state)
{
    (void)state;
    run("bench=sized samples=4");
    assert_int_equal(fake_calls, 2);
    assert_non_null(strstr(out, "@result {\"bench\":\"sized\",\"variant\":\"\",\"size\":0,"));
    assert_non_null(strstr(out, "@result {\"bench\":\"sized\",\"variant\":\"\",\"size\":100,\"unit\":\"tsc\","
                                "\"samples\":4,\"overhead\":5,\"min\":98,"));
    assert_null(strstr(out, "@samples"));
    reset(NULL);
    run("bench=sized samples=2 sizes=7,1K,2");
    assert_int_equal(fake_calls, 3);
    assert_non_null(strstr(out, "\"size\":1024,"));
    assert_null(strstr(out, "\"size\":100,"));
    assert_non_null(strstr(out, "@done {\"records\":3,\"errors\":0}\n"));
}

static void test_run_errors(void **state)
{
    (void)state;
    run("bench=bad,nosuch,lazy,fake/v,fake/w samples=4");
    assert_non_null(strstr(out, "@error {\"bench\":\"nosuch\",\"variant\":\"\",\"size\":-1,\"msg\":\"unknown benchmark\"}\n"));
    assert_non_null(strstr(out, "@error {\"bench\":\"fake/w\",\"variant\":\"\",\"size\":-1,\"msg\":\"unknown benchmark\"}\n"));
    assert_non_null(strstr(out, "@error {\"bench\":\"bad\",\"variant\":\"x\",\"size\":-1,\"msg\":\"reply 3 != 2\"}\n"));
    assert_non_null(strstr(out, "@error {\"bench\":\"lazy\",\"variant\":\"\",\"size\":-1,\"msg\":\"benchmark left samples unfilled\"}\n"));
    assert_non_null(strstr(out, "\"benchmarks\":[\"fake\",\"bad\",\"lazy\"]"));
    assert_non_null(strstr(out, "@result {\"bench\":\"fake\",\"variant\":\"v\""));
    assert_non_null(strstr(out, "@done {\"records\":1,\"errors\":4}\n"));
}

static void test_null_variant_and_name_variant_selection(void **state)
{
    (void)state;
    run("bench=novar,novar/,sized/ samples=1");
    assert_non_null(strstr(out, "@result {\"bench\":\"novar\",\"variant\":\"\",\"size\":-1,"));
    /* "sized/" names sized's empty variant: both sizes run. */
    assert_non_null(strstr(out, "@done {\"records\":3,\"errors\":0}\n"));
}

static void test_run_bad_words_run_nothing(void **state)
{
    (void)state;
    run("bench=fake samples=4x");
    assert_int_equal(fake_calls, 0);
    assert_non_null(strstr(out, "\"benchmarks\":[],"));
    assert_non_null(strstr(out, "@error {\"bench\":\"\",\"variant\":\"\",\"size\":-1,\"msg\":\"samples=4x: not a number\"}\n"));
    assert_non_null(strstr(out, "@done {\"records\":0,\"errors\":1}\n"));
}

static void test_run_samples_exceed_buffer(void **state)
{
    (void)state;
    run("bench=fake samples=65");
    assert_int_equal(fake_calls, 0);
    assert_non_null(strstr(out, "\"msg\":\"samples exceed the sample buffer of 64\"}\n"));
}

/* Overhead: unstable batches first, then a stable one is taken as is. */
static unsigned seq_i;
static uint64_t noisy_then_stable(void)
{
    unsigned i = seq_i++;
    /* 16 warm-up calls, then 3 noisy batches of 16, then constant 9. */
    if (i < 16 + 3 * 16)
        return 4 + (i % 3);
    return 9;
}

static uint64_t always_noisy(void)
{
    return 20 + (seq_i++ % 2);
}

static void test_overhead_retry(void **state)
{
    (void)state;
    struct bench_runner r;
    bench_runner_init(&r, capture, buf, 64, "");
    seq_i = 0;
    r.empty_region = noisy_then_stable;
    bench_runner_measure_overhead(&r);
    assert_int_equal(r.overhead, 9);
    assert_true(r.overhead_stable);
    assert_int_equal(r.overhead_tries, 4);

    seq_i = 0;
    r.empty_region = always_noisy;
    bench_runner_measure_overhead(&r);
    assert_int_equal(r.overhead, 20);   /* the minimum seen */
    assert_false(r.overhead_stable);
    assert_int_equal(r.overhead_tries, BENCH_OVERHEAD_TRIES);
}

/* The method choice, for CPUs this host is not: Intel-like with and without
 * RDTSCP, AMD with and without a serialising LFENCE, and the tsc= word. */
static void test_tsc_pick(void **state)
{
    (void)state;
    const char *note;
    struct tsc_cpu intel = { .rdtscp = true, .amd = false, .lfence_serialising = true };
    struct tsc_cpu nehalem = { .rdtscp = false, .amd = false, .lfence_serialising = true };
    struct tsc_cpu zen4_no_rdtscp = { .rdtscp = false, .amd = true, .lfence_serialising = true };
    struct tsc_cpu old_amd = { .rdtscp = false, .amd = true, .lfence_serialising = false };
    assert_int_equal(tsc_pick(&intel, "", &note), TSC_RDTSCP);
    assert_null(note);
    assert_int_equal(tsc_pick(&intel, NULL, NULL), TSC_RDTSCP);
    assert_int_equal(tsc_pick(&nehalem, "bench=all", &note), TSC_LFENCE);
    assert_int_equal(tsc_pick(&zen4_no_rdtscp, "", &note), TSC_LFENCE);
    assert_int_equal(tsc_pick(&old_amd, "", &note), TSC_MFENCE);
    /* Forced fallbacks (always available) and a refused forced RDTSCP. */
    assert_int_equal(tsc_pick(&intel, "samples=4 tsc=lfence raw=1", &note), TSC_LFENCE);
    assert_null(note);
    assert_int_equal(tsc_pick(&intel, "tsc=mfence", &note), TSC_MFENCE);
    assert_int_equal(tsc_pick(&old_amd, "tsc=rdtscp", &note), TSC_MFENCE);
    assert_non_null(note);
    assert_int_equal(tsc_pick(&nehalem, "tsc=bogus", &note), TSC_LFENCE);
    assert_non_null(note);
    /* Only the key "tsc" counts, not one that merely starts with it. */
    assert_int_equal(tsc_pick(&intel, "tscx=lfence tsc_hz=5", &note), TSC_RDTSCP);
    assert_null(note);
    assert_string_equal(tsc_method_name(TSC_LFENCE), "lfence");
}

/* The real TSC path on the host, by every method this CPU supports (the
 * fallbacks always; RDTSCP only where offered): it runs and is plausible. */
static void test_overhead_real_tsc(void **state)
{
    (void)state;
    static const char *const words[] = { "tsc=lfence", "tsc=mfence", "" };
    for (size_t i = 0; i < 3; i++) {
        struct bench_runner r;
        bench_runner_init(&r, capture, buf, 64, words[i]);
        struct tsc_cpu c;
        tsc_probe(&c);
        if (i == 2)
            assert_int_equal(tsc_method, tsc_pick(&c, "", NULL));
        else
            assert_int_equal(tsc_method, i == 0 ? TSC_LFENCE : TSC_MFENCE);
        bench_runner_measure_overhead(&r);
        assert_true(r.overhead > 0 && r.overhead < 100000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_escaping, reset),
        cmocka_unit_test_setup(test_nesting_and_numbers, reset),
        cmocka_unit_test_setup(test_long_line_in_pieces, reset),
        cmocka_unit_test_setup(test_run_byte_for_byte, reset),
        cmocka_unit_test_setup(test_run_sizes, reset),
        cmocka_unit_test_setup(test_run_errors, reset),
        cmocka_unit_test_setup(test_null_variant_and_name_variant_selection, reset),
        cmocka_unit_test_setup(test_run_bad_words_run_nothing, reset),
        cmocka_unit_test_setup(test_run_samples_exceed_buffer, reset),
        cmocka_unit_test_setup(test_overhead_retry, reset),
        cmocka_unit_test_setup(test_tsc_pick, reset),
        cmocka_unit_test_setup(test_overhead_real_tsc, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
