/* SOURCES: userspace/lib/spawnmsg.c */
/* test_spawnmsg.c: host tests of the PROC_SPAWN request format: what the
 * libc packs the process server parses back; malformed, truncated and
 * over-long requests are refused, never read past. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ferry/spawnmsg.h>

static void test_round_trip(void **state)
{
    (void)state;
    char buf[256];
    char *argv[] = { "/bin/ignored", "one", "two", NULL };
    char *envp[] = { "A=1", "PATH=/x", NULL };
    long n = spawnmsg_pack(buf, sizeof buf, "prog", argv, envp);
    assert_int_equal(n, (long)sizeof "prog\0one\0two\0\0A=1\0PATH=/x\0");
    const char *name, *av[8], *ev[8];
    assert_true(spawnmsg_parse(buf, (size_t)n, &name, av, ev, 7));
    assert_string_equal(name, "prog");
    assert_string_equal(av[0], "one");
    assert_string_equal(av[1], "two");
    assert_null(av[2]);
    assert_string_equal(ev[0], "A=1");
    assert_string_equal(ev[1], "PATH=/x");
    assert_null(ev[2]);
}

static void test_empty_lists(void **state)
{
    (void)state;
    char buf[64];
    long n = spawnmsg_pack(buf, sizeof buf, "true", NULL, NULL);
    assert_int_equal(n, 7);                 /* "true\0" "\0" "\0" */
    const char *name, *av[2], *ev[2];
    assert_true(spawnmsg_parse(buf, (size_t)n, &name, av, ev, 1));
    assert_string_equal(name, "true");
    assert_null(av[0]);
    assert_null(ev[0]);
    char *only0[] = { "argv0", NULL };
    assert_int_equal(spawnmsg_pack(buf, sizeof buf, "true", only0, NULL), 7);
}

static void test_pack_refuses(void **state)
{
    (void)state;
    char buf[16];
    char *empty[] = { "x", "", NULL };
    assert_int_equal(spawnmsg_pack(buf, sizeof buf, "p", empty, NULL), -1);
    char *big[] = { "x", "0123456789abcdef", NULL };
    assert_int_equal(spawnmsg_pack(buf, sizeof buf, "p", big, NULL), -1);
    char *fits[] = { "x", "0123456789", NULL };    /* p\0 0123456789\0 \0 \0 = 15 bytes */
    assert_int_equal(spawnmsg_pack(buf, sizeof buf, "p", fits, NULL), 15);
    assert_int_equal(spawnmsg_pack(buf, 14, "p", fits, NULL), -1);
}

static void test_parse_refuses(void **state)
{
    (void)state;
    const char *name, *av[3], *ev[3];
    /* Not ending in two NULs, too short, an unterminated environment. */
    assert_false(spawnmsg_parse("p\0a\0\0b", 7, &name, av, ev, 2));
    assert_false(spawnmsg_parse("p\0", 2, &name, av, ev, 2));
    assert_false(spawnmsg_parse("p\0a\0\0", 5, &name, av, ev, 2));
    /* Bytes after the environment's end. */
    assert_false(spawnmsg_parse("p\0\0\0x\0\0", 7, &name, av, ev, 2));
    /* More arguments than room. */
    assert_false(spawnmsg_parse("p\0a\0b\0c\0\0\0", 10, &name, av, ev, 2));
    assert_true(spawnmsg_parse("p\0a\0b\0\0\0", 8, &name, av, ev, 2));
    assert_false(spawnmsg_parse("p\0a\0b\0\0\0", 9, &name, av, ev, 2));   /* a byte after the end */
}

/* Every truncation and a few thousand byte flips of a valid request:
 * parsing gives false or lists that point inside the buffer. */
static void test_parse_fuzz(void **state)
{
    (void)state;
    char good[128];
    char *argv[] = { "x", "alpha", "beta", NULL };
    char *envp[] = { "K=V", NULL };
    long n = spawnmsg_pack(good, sizeof good, "prog", argv, envp);
    assert_true(n > 0);
    srand(16);
    for (int round = 0; round < 5000; round++) {
        char buf[128];
        size_t len = round < n ? (size_t)round : (size_t)n;
        memcpy(buf, good, (size_t)n);
        if (round >= n)
            buf[rand() % n] = (char)(rand() % 4 == 0 ? 0 : rand());
        const char *name, *av[4], *ev[4];
        if (!spawnmsg_parse(buf, len, &name, av, ev, 3))
            continue;
        assert_true(name >= buf && name < buf + len);
        for (int i = 0; av[i]; i++)
            assert_true(av[i] >= buf && av[i] + strlen(av[i]) < buf + len);
        for (int i = 0; ev[i]; i++)
            assert_true(ev[i] >= buf && ev[i] + strlen(ev[i]) < buf + len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_pack_refuses),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_parse_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
