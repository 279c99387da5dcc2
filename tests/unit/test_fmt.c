/* SOURCES: lib/fmt.c */
/* test_fmt.c: host tests of the kernel's printf-style formatter against expected strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fmt.h>

#define CHECK(expect, ...)                                              \
    do {                                                                \
        char buf[128];                                                  \
        int n = fmt_snprintf(buf, sizeof buf, __VA_ARGS__);             \
        assert_string_equal(buf, expect);                               \
        assert_int_equal(n, (int)sizeof(expect) - 1);                   \
    } while (0)

static void test_integers(void **state)
{
    (void)state;
    CHECK("0", "%d", 0);
    CHECK("-42", "%d", -42);
    CHECK("-2147483648", "%d", INT32_MIN);
    CHECK("-9223372036854775808", "%ld", INT64_MIN);
    CHECK("18446744073709551615", "%lu", UINT64_MAX);
    CHECK("4294967295", "%u", UINT32_MAX);
    CHECK("255 ff FF 377", "%u %x %X %o", 255, 255, 255, 255);
    CHECK("0xdeadbeef", "%#lx", 0xdeadbeefUL);
    CHECK("0", "%#x", 0);
    CHECK("-1 255", "%hhd %hhu", (char)-1, 255);
    CHECK("42 7", "%zu %td", (size_t)42, (ptrdiff_t)7);
    CHECK("+5 +0", "%+d %+d", 5, 0);
    CHECK(" 5", "% d", 5);
}

static void test_width_and_precision(void **state)
{
    (void)state;
    CHECK("   42", "%5d", 42);
    CHECK("42   |", "%-5d|", 42);
    CHECK("00042", "%05d", 42);
    CHECK("-0042", "%05d", -42);
    CHECK("  042", "%5.3d", 42);
    CHECK("", "%.0d", 0);
    CHECK("0x00000000001000", "%#016lx", 0x1000UL);
    CHECK("   ab", "%*s", 5, "ab");
    CHECK("ab   |", "%*s|", -5, "ab");
    CHECK("abc", "%.3s", "abcdef");
    CHECK("ab", "%.*s", 2, "abcdef");
}

/* Calls the formatter without the compiler's format checking, for inputs
 * that checking rightly rejects at compile time. */
static int unchecked(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = fmt_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

static void test_strings_chars_pointers(void **state)
{
    (void)state;
    CHECK("hello world", "%s %s", "hello", "world");
    char buf[16];
    assert_int_equal(unchecked(buf, sizeof buf, "%s", (char *)NULL), 6);
    assert_string_equal(buf, "(null)");
    CHECK("x", "%c", 'x');
    CHECK("100%", "%d%%", 100);
    CHECK("0x1234", "%p", (void *)0x1234);
    assert_int_equal(unchecked(buf, sizeof buf, "%y"), 2);   /* unknown: printed as written */
    assert_string_equal(buf, "%y");
}

static void test_truncation(void **state)
{
    (void)state;
    char buf[6];
    int n = fmt_snprintf(buf, sizeof buf, "%s", "truncated");
    assert_string_equal(buf, "trunc");
    assert_int_equal(n, 9);
    char one[1] = { 'z' };
    assert_int_equal(fmt_snprintf(one, 1, "abc"), 3);
    assert_int_equal(one[0], '\0');
    assert_int_equal(fmt_snprintf(NULL, 0, "%d", 12345), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_width_and_precision),
        cmocka_unit_test(test_strings_chars_pointers),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
