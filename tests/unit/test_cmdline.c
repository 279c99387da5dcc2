/* SOURCES: lib/cmdline.c tests/unit/host_stubs.c */
/* test_cmdline.c: host tests of the kernel command-line parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cmdline.h>

static void test_get_values_and_flags(void **state)
{
    (void)state;
    const char *cl = "/boot/ferry.elf pcid=off  bench=a,b,c\tverbose samples=100";
    char v[32];
    assert_true(cmdline_get(cl, "pcid", v, sizeof v));
    assert_string_equal(v, "off");
    assert_true(cmdline_get(cl, "bench", v, sizeof v));
    assert_string_equal(v, "a,b,c");
    assert_true(cmdline_get(cl, "verbose", v, sizeof v));
    assert_string_equal(v, "");
    assert_false(cmdline_get(cl, "absent", v, sizeof v));
    /* a key must match a whole word: "bench" is not "ben", "pcid" not "pci" */
    assert_false(cmdline_get(cl, "ben", v, sizeof v));
    assert_false(cmdline_get(cl, "pci", v, sizeof v));
    assert_false(cmdline_get(cl, "", v, sizeof v));
    assert_false(cmdline_get(NULL, "pcid", v, sizeof v));
}

static void test_first_occurrence_wins_and_truncates(void **state)
{
    (void)state;
    char v[4];
    assert_true(cmdline_get("x=1 x=2", "x", v, sizeof v));
    assert_string_equal(v, "1");
    assert_true(cmdline_get("key=abcdefgh", "key", v, sizeof v));
    assert_string_equal(v, "abc");
    /* a value may itself contain '=' */
    char w[16];
    assert_true(cmdline_get("a=b=c", "a", w, sizeof w));
    assert_string_equal(w, "b=c");
}

static void test_numbers(void **state)
{
    (void)state;
    uint64_t n = 7;
    assert_int_equal(cmdline_get_u64("samples=10000", "samples", &n), 1);
    assert_int_equal(n, 10000);
    assert_int_equal(cmdline_get_u64("mask=0xFFff", "mask", &n), 1);
    assert_int_equal(n, 0xffff);
    assert_int_equal(cmdline_get_u64("max=18446744073709551615", "max", &n), 1);
    assert_true(n == UINT64_MAX);
    n = 7;
    assert_int_equal(cmdline_get_u64("over=18446744073709551616", "over", &n), -1);
    assert_int_equal(cmdline_get_u64("bad=12x", "bad", &n), -1);
    assert_int_equal(cmdline_get_u64("hex=0x", "hex", &n), -1);
    assert_int_equal(cmdline_get_u64("empty=", "empty", &n), -1);
    assert_int_equal(cmdline_get_u64("flag", "flag", &n), -1);
    assert_int_equal(cmdline_get_u64("", "samples", &n), 0);
    assert_int_equal(n, 7);
}

static void test_bools(void **state)
{
    (void)state;
    bool b = true;
    assert_int_equal(cmdline_get_bool("pcid=off", "pcid", &b), 1);
    assert_false(b);
    assert_int_equal(cmdline_get_bool("pcid=on", "pcid", &b), 1);
    assert_true(b);
    b = false;
    assert_int_equal(cmdline_get_bool("pcid", "pcid", &b), 1);
    assert_true(b);
    assert_int_equal(cmdline_get_bool("pcid=0", "pcid", &b), 1);
    assert_false(b);
    assert_int_equal(cmdline_get_bool("pcid=maybe", "pcid", &b), -1);
    assert_int_equal(cmdline_get_bool("pcid=offoffoff", "pcid", &b), -1);
    assert_int_equal(cmdline_get_bool("other=1", "pcid", &b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_values_and_flags),
        cmocka_unit_test(test_first_occurrence_wins_and_truncates),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_bools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
