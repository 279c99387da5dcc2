/* SOURCES: userspace/lib/bootconf.c */
/* test_bootconf.c: host tests of the boot configuration and manifest
 * parser, the shipped userspace/boot.conf included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <ferry/bootconf.h>

static struct bootconf conf;
static unsigned line;

static const char *parse(const char *text)
{
    return bootconf_parse(text, strlen(text), &conf, &line);
}

static void test_programs_and_manifests(void **state)
{
    (void)state;
    const char *text =
        "# comment line\n"
        "\n"
        "init   init.elf   start   # trailing comment\n"
        "shell\tsh.elf lookup=serial:,file: register=tty: -- -i  --login \r\n"
        "srv srv.elf register=serial:,log-2: restart mmap_large\n";
    assert_null(parse(text));
    assert_int_equal(conf.n, 3);
    const struct bootconf_program *p = bootconf_find(&conf, "init");
    assert_non_null(p);
    assert_string_equal(p->module, "init.elf");
    assert_true(p->start);
    assert_int_equal(p->nlookup, 0);
    assert_string_equal(p->args, "");
    p = bootconf_find(&conf, "shell");
    assert_non_null(p);
    assert_false(p->start);
    assert_int_equal(p->nlookup, 2);
    assert_string_equal(p->lookup[0], "serial:");
    assert_string_equal(p->lookup[1], "file:");
    assert_int_equal(p->nreg, 1);
    assert_string_equal(p->reg[0], "tty:");
    assert_string_equal(p->args, "-i  --login");
    assert_true(bootconf_listed((const char (*)[PROC_NAME_MAX])p->lookup, p->nlookup, "file:", 5));
    assert_false(bootconf_listed((const char (*)[PROC_NAME_MAX])p->lookup, p->nlookup, "file", 4));
    assert_false(bootconf_listed((const char (*)[PROC_NAME_MAX])p->lookup, p->nlookup, "pipe:", 5));
    p = bootconf_find(&conf, "srv");
    assert_true(p->restart);
    assert_true(p->mmap_large);                 /* the large region's right */
    assert_false(bootconf_find(&conf, "init")->restart);
    assert_false(bootconf_find(&conf, "init")->mmap_large);
    assert_int_equal(p->nreg, 2);
    assert_string_equal(p->reg[1], "log-2:");
    assert_null(bootconf_find(&conf, "nosuch"));
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    struct { const char *text; unsigned line; const char *err; } cases[] = {
        { "a a.elf\nlonely\n", 2, "a program needs a name and a module" },
        { "a a.elf bogus\n", 1, "unknown word (expected lookup=, register=, ioport=, irq=, start, restart, mmap_large or --)" },
        { "a a.elf lookup=file\n", 1, "a name must look like \"name:\" (a-z, 0-9, _ or -, then a colon)" },
        { "a a.elf lookup=File:\n", 1, "a name must look like \"name:\" (a-z, 0-9, _ or -, then a colon)" },
        { "a a.elf lookup=:\n", 1, "a name must look like \"name:\" (a-z, 0-9, _ or -, then a colon)" },
        { "a a.elf lookup=a:,,b:\n", 1, "a name must look like \"name:\" (a-z, 0-9, _ or -, then a colon)" },
        { "a a.elf lookup=a:,\n", 1, "a name list ends with a comma" },
        { "a a.elf lookup=a:,a:\n", 1, "a name is listed twice" },
        { "a a.elf lookup=a:,b:,c:,d:,e:,f:,g:,h:,i:\n", 1, "too many names in one list" },
        { "a a.elf\n\na b.elf\n", 3, "program named twice" },
        { "a a.elf ioport=0x1f0-\n", 1, "an I/O port range must look like 0x1f0-0x1f7 or 0x3f6 (ports up to 0xffff)" },
        { "a a.elf ioport=0x10000\n", 1, "an I/O port range must look like 0x1f0-0x1f7 or 0x3f6 (ports up to 0xffff)" },
        { "a a.elf ioport=0xg0\n", 1, "an I/O port range must look like 0x1f0-0x1f7 or 0x3f6 (ports up to 0xffff)" },
        { "a a.elf ioport=0x1f7-0x1f0\n", 1, "an I/O port range ends before it starts" },
        { "a a.elf ioport=1,2,3,4,5\n", 1, "too many I/O port ranges" },
        { "a a.elf ioport=1,\n", 1, "a list ends with a comma" },
        { "a a.elf irq=16\n", 1, "an interrupt line must be a number from 0 to 15" },
        { "a a.elf irq=x\n", 1, "an interrupt line must be a number from 0 to 15" },
        { "a a.elf irq=3,3\n", 1, "an interrupt line is listed twice" },
        { "a a.elf irq=1,2,3\n", 1, "too many interrupt lines" },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x\n", 1, "program name too long" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *err = parse(cases[i].text);
        if (!err || strcmp(err, cases[i].err) != 0 || line != cases[i].line)
            fail_msg("case %zu: expected line %u \"%s\", got line %u \"%s\"", i, cases[i].line,
                     cases[i].err, line, err ? err : "(accepted)");
    }
    char many[2048] = "";
    for (int i = 0; i <= BOOTCONF_PROGRAMS_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "p%d p.elf\n", i);
    assert_string_equal(parse(many), "too many programs");
    assert_int_equal(line, BOOTCONF_PROGRAMS_MAX + 1);
    char longargs[400] = "a a.elf -- ";
    memset(longargs + strlen(longargs), 'x', 300);
    assert_string_equal(parse(longargs), "arguments too long");
}

/* Device grants: I/O port ranges and interrupt lines. */
static void test_device_grants(void **state)
{
    (void)state;
    assert_null(parse("ata ata.elf register=blk: ioport=0x1f0-0x1f7,0x3f6,1016-0x3FF irq=14,0x3 restart\n"));
    const struct bootconf_program *p = &conf.prog[0];
    assert_int_equal(p->nioport, 3);
    assert_int_equal(p->ioport[0].first, 0x1f0);
    assert_int_equal(p->ioport[0].last, 0x1f7);
    assert_int_equal(p->ioport[1].first, 0x3f6);
    assert_int_equal(p->ioport[1].last, 0x3f6);
    assert_int_equal(p->ioport[2].first, 0x3f8);
    assert_int_equal(p->ioport[2].last, 0x3ff);
    assert_int_equal(p->nirq, 2);
    assert_int_equal(p->irq[0], 14);
    assert_int_equal(p->irq[1], 3);
    assert_true(p->restart);
    assert_null(parse("a a.elf\n"));
    assert_int_equal(conf.prog[0].nioport, 0);
    assert_int_equal(conf.prog[0].nirq, 0);
}

static void test_length_and_nul_bound_the_text(void **state)
{
    (void)state;
    const char text[] = "a a.elf\nb b.elf\0c c.elf\n";
    assert_null(bootconf_parse(text, sizeof text, &conf, &line));
    assert_int_equal(conf.n, 2);                  /* the NUL ends it */
    assert_null(bootconf_parse(text, 5, &conf, &line));
    assert_int_equal(conf.n, 1);                  /* "a a.e": module cut at the length */
    assert_string_equal(conf.prog[0].module, "a.e");
    assert_null(bootconf_parse(text, 0, &conf, &line));
    assert_int_equal(conf.n, 0);
}

static void test_scheme_names(void **state)
{
    (void)state;
    assert_true(proc_name_valid("serial:", 7));
    assert_true(proc_name_valid("a:", 2));
    assert_true(proc_name_valid("net_2-x:", 8));
    assert_false(proc_name_valid(":", 1));
    assert_false(proc_name_valid("serial", 6));
    assert_false(proc_name_valid("se:rial:", 8));
    assert_false(proc_name_valid("Serial:", 7));
    assert_false(proc_name_valid("a/b:", 4));
    assert_false(proc_name_valid("abcdefghijklmnopqrstuvwxyz01234:", 32));   /* 32 bytes: too long */
    assert_true(proc_name_valid("abcdefghijklmnopqrstuvwxyz0123:", 31));
}

/* The configuration the system boots with parses and grants what the
 * in-guest tests rely on. */
static void test_shipped_boot_conf(void **state)
{
    (void)state;
    static char text[16384];
    FILE *f = fopen("userspace/boot.conf", "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    assert_null(bootconf_parse(text, n, &conf, &line));
    const struct bootconf_program *echo = bootconf_find(&conf, "echo"), *client = bootconf_find(&conf, "client");
    assert_non_null(echo);
    assert_non_null(client);
    assert_true(bootconf_listed((const char (*)[PROC_NAME_MAX])echo->reg, echo->nreg, "echo:", 5));
    assert_true(bootconf_listed((const char (*)[PROC_NAME_MAX])client->lookup, client->nlookup, "echo:", 5));
    assert_false(bootconf_listed((const char (*)[PROC_NAME_MAX])client->lookup, client->nlookup, "file:", 5));
    assert_non_null(bootconf_find(&conf, "true"));
    assert_true(bootconf_find(&conf, "hello")->start);
    assert_true(echo->restart);
    /* the block driver's devices: the primary IDE channel's ports and line */
    const struct bootconf_program *ata = bootconf_find(&conf, "ata");
    assert_non_null(ata);
    assert_int_equal(ata->nioport, 2);
    assert_int_equal(ata->ioport[0].first, 0x1f0);
    assert_int_equal(ata->ioport[0].last, 0x1f7);
    assert_int_equal(ata->ioport[1].first, 0x3f6);
    assert_int_equal(ata->nirq, 1);
    assert_int_equal(ata->irq[0], 14);
    assert_true(ata->restart && bootconf_find(&conf, "fatfs")->restart);
    /* the large region (PROC_MMAP_LARGE): the file server's only */
    assert_true(bootconf_find(&conf, "fatfs")->mmap_large);
    assert_false(ata->mmap_large || bootconf_find(&conf, "fcat")->mmap_large);
    /* the serial driver: COM1 and its line; the pipe: service */
    const struct bootconf_program *serial = bootconf_find(&conf, "serial");
    assert_non_null(serial);
    assert_int_equal(serial->nioport, 1);
    assert_int_equal(serial->ioport[0].first, 0x3f8);
    assert_int_equal(serial->ioport[0].last, 0x3ff);
    assert_int_equal(serial->nirq, 1);
    assert_int_equal(serial->irq[0], 4);
    assert_true(serial->restart && serial->start);            /* a boot service */
    assert_true(bootconf_listed((const char (*)[PROC_NAME_MAX])serial->reg, serial->nreg, "serial:", 7));
    const struct bootconf_program *pipes = bootconf_find(&conf, "pipesrv");
    assert_non_null(pipes);
    assert_true(bootconf_listed((const char (*)[PROC_NAME_MAX])pipes->reg, pipes->nreg, "pipe:", 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_programs_and_manifests),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_device_grants),
        cmocka_unit_test(test_length_and_nul_bound_the_text),
        cmocka_unit_test(test_scheme_names),
        cmocka_unit_test(test_shipped_boot_conf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
