/* SOURCES: userspace/lib/elf_load.c lib/elf.c */
/* test_elf_load.c: host tests of the user-space program loader's planning:
 * ELF checks and bounds (a malformed image is an error, never a crash),
 * the page list, and the argument page. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ferry/arch_x86_64.h>
#include <elf.h>
#include <ferry/elf_load.h>

#define TOP 0x0fe00000UL


/* A valid image: text (R X, 0x1800 bytes at 0x400000) and data (RW, 0x100
 * bytes of file, 0x3000 in memory at 0x402000), file data after the headers. */
static unsigned char img[0x3000];
#define IMG_LEN (0x1000 + 0x1800 + 0x100)

static struct elf64_ehdr *eh(void) { return (struct elf64_ehdr *)img; }
static struct elf64_phdr *ph(int i) { return (struct elf64_phdr *)(img + sizeof(struct elf64_ehdr)) + i; }

static void build(void)
{
    memset(img, 0, sizeof img);
    memcpy(eh()->ident, "\177ELF", 4);
    eh()->ident[4] = 2;
    eh()->ident[5] = 1;
    eh()->type = 2;
    eh()->machine = 62;
    eh()->entry = 0x400010;
    eh()->phoff = sizeof(struct elf64_ehdr);
    eh()->phentsize = sizeof(struct elf64_phdr);
    eh()->phnum = 2;
    *ph(0) = (struct elf64_phdr){ .type = 1, .flags = 5, .offset = 0x1000, .vaddr = 0x400000,
                            .filesz = 0x1800, .memsz = 0x1800 };
    *ph(1) = (struct elf64_phdr){ .type = 1, .flags = 6, .offset = 0x2800, .vaddr = 0x402000,
                            .filesz = 0x100, .memsz = 0x3000 };
    for (int i = 0x1000; i < IMG_LEN; i++)
        img[i] = (unsigned char)(i * 7);
}

static struct elf_page pages[64];
static size_t npages;
static unsigned long entry;

static const char *plan(size_t len)
{
    return elf_load_plan(img, len, TOP, &entry, pages, 64, &npages);
}

static void test_valid_image_pages(void **state)
{
    (void)state;
    build();
    assert_null(plan(IMG_LEN));
    assert_int_equal(entry, 0x400010);
    assert_int_equal(npages, 5);
    /* text: two pages, the second half full */
    assert_int_equal(pages[0].va, 0x400000);
    assert_int_equal(pages[0].rights, FERRY_MAP_READ | FERRY_MAP_EXEC);
    assert_int_equal(pages[0].src_off, 0x1000);
    assert_int_equal(pages[0].n, 0x1000);
    assert_int_equal(pages[1].va, 0x401000);
    assert_int_equal(pages[1].src_off, 0x2000);
    assert_int_equal(pages[1].n, 0x800);
    /* data: 0x100 file bytes, then two bss pages with nothing to copy */
    assert_int_equal(pages[2].va, 0x402000);
    assert_int_equal(pages[2].rights, FERRY_MAP_READ | FERRY_MAP_WRITE);
    assert_int_equal(pages[2].src_off, 0x2800);
    assert_int_equal(pages[2].n, 0x100);
    assert_int_equal(pages[3].n, 0);
    assert_int_equal(pages[4].va, 0x404000);
    assert_int_equal(pages[4].n, 0);
}

static void test_unaligned_segment_start(void **state)
{
    (void)state;
    build();
    ph(1)->vaddr = 0x402080;       /* data starts inside its first page */
    assert_null(plan(IMG_LEN));
    assert_int_equal(pages[2].va, 0x402000);
    assert_int_equal(pages[2].dst_off, 0x80);
    assert_int_equal(pages[2].n, 0x100);
}

/* Each case breaks one thing; each must be refused with its reason. */
static void test_malformed_images_refused(void **state)
{
    (void)state;
    struct { void (*breakit)(void); const char *reason; } cases[] = {
        { ({ void f(void) { img[1] = 'X'; } f; }), "not an ELF file" },
        { ({ void f(void) { eh()->ident[4] = 1; } f; }), "not a 64-bit little-endian ELF file" },
        { ({ void f(void) { eh()->machine = 3; } f; }), "not an x86-64 executable" },
        { ({ void f(void) { eh()->type = 3; } f; }), "not an x86-64 executable" },
        { ({ void f(void) { eh()->phoff = IMG_LEN + 8; } f; }), "program headers outside the file" },
        { ({ void f(void) { eh()->phnum = 0xffff; } f; }), "program headers outside the file" },
        { ({ void f(void) { eh()->phentsize = 40; } f; }), "program headers outside the file" },
        { ({ void f(void) { ph(1)->filesz = 0x4000; } f; }), "segment data outside the file" },
        { ({ void f(void) { ph(1)->offset = ~0UL - 8; } f; }), "segment data outside the file" },
        { ({ void f(void) { ph(0)->filesz = IMG_LEN; } f; }), "segment data outside the file" },
        { ({ void f(void) { ph(1)->vaddr = TOP; } f; }), "segment outside user space" },
        { ({ void f(void) { ph(1)->vaddr = TOP - 0x1000; } f; }), "segment outside user space" },
        { ({ void f(void) { ph(1)->memsz = ~0UL - 0x1000; } f; }), "segment outside user space" },
        { ({ void f(void) { ph(1)->vaddr = 0x401800; } f; }), "segments share a page" },
        { ({ void f(void) { ph(0)->type = 4; ph(1)->type = 4; } f; }), "no loadable segment" },
        { ({ void f(void) { eh()->entry = 0x402010; } f; }), "entry point outside the executable segments" },
        { ({ void f(void) { eh()->entry = 0x401800; } f; }), "entry point outside the executable segments" },
        { ({ void f(void) { eh()->entry = TOP + 5; } f; }), "entry point outside user space" },
        { ({ void f(void) { ph(0)->vaddr = 0; eh()->entry = 0x10; } f; }), "segment in page 0" },
        { ({ void f(void) { ph(1)->memsz = 0x100000; } f; }), "image has too many pages" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build();
        cases[i].breakit();
        const char *err = plan(IMG_LEN);
        if (!err || strcmp(err, cases[i].reason) != 0)
            fail_msg("case %zu: expected \"%s\", got \"%s\"", i, cases[i].reason, err ? err : "(accepted)");
    }
}

static void test_too_many_segments(void **state)
{
    (void)state;
    build();
    eh()->phnum = 9;
    for (int i = 0; i < 9; i++)
        *ph(i) = (struct elf64_phdr){ .type = 1, .flags = 5, .offset = 0x1000, .vaddr = 0x400000 + i * 0x1000UL,
                                .filesz = 0x10, .memsz = 0x10 };
    assert_string_equal(plan(IMG_LEN), "too many loadable segments");
}

/* Whatever the bytes, every accepted plan stays inside the file, its
 * pages and user space: every truncation and random corruption. */
static void check_plan_bounds(size_t len)
{
    for (size_t i = 0; i < npages; i++) {
        assert_true(pages[i].va < TOP && pages[i].va % 4096 == 0);
        assert_true(pages[i].dst_off + pages[i].n <= 4096);
        assert_true(pages[i].n == 0 || (pages[i].src_off < len && pages[i].n <= len - pages[i].src_off));
    }
}

static void test_truncations_and_corruptions(void **state)
{
    (void)state;
    for (size_t len = 0; len <= IMG_LEN; len++) {
        build();
        if (!plan(len))
            check_plan_bounds(len);
        else
            assert_true(len < IMG_LEN);
    }
    srand(12345);
    unsigned accepted = 0;
    for (int round = 0; round < 20000; round++) {
        build();
        /* flips in the headers, where they matter */
        for (int k = 0; k < 1 + rand() % 4; k++)
            img[rand() % (sizeof(struct elf64_ehdr) + 2 * sizeof(struct elf64_phdr))] ^= (unsigned char)(1 << (rand() % 8));
        if (!plan(IMG_LEN)) {
            accepted++;
            check_plan_bounds(IMG_LEN);
        }
    }
    assert_true(accepted > 0);      /* some flips (e.g. in padding) are harmless */
}

static void test_args_page(void **state)
{
    (void)state;
    static unsigned long page[512];
    const char *argv[] = { "prog", "a", "", "bcd", NULL };
    const char *envp[] = { "K=V", NULL };
    unsigned long argc, av, ev, base = 0x10020000;
    assert_true(args_pack(page, sizeof page, base, argv, envp, &argc, &av, &ev));
    assert_int_equal(argc, 4);
    assert_int_equal(av, base);
    assert_int_equal(ev, base + 5 * 8);
    assert_int_equal(page[4], 0);             /* argv[argc] */
    assert_int_equal(page[6], 0);             /* envp end */
    const char *p = (const char *)page;
    assert_string_equal(p + (page[0] - base), "prog");
    assert_string_equal(p + (page[2] - base), "");
    assert_string_equal(p + (page[3] - base), "bcd");
    assert_string_equal(p + (page[5] - base), "K=V");
    /* nothing at all */
    assert_true(args_pack(page, sizeof page, base, NULL, NULL, &argc, &av, &ev));
    assert_int_equal(argc, 0);
    assert_int_equal(page[0], 0);
    assert_int_equal(page[1], 0);
    /* too much: refused, never written past the page */
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    const char *huge[] = { big, NULL };
    assert_false(args_pack(page, sizeof page, base, huge, NULL, &argc, &av, &ev));
    const char *exact_fit[] = { big + sizeof big - (4096 - 24), NULL };   /* 2 pointers + 1 empty envp */
    assert_true(args_pack(page, sizeof page, base, exact_fit, NULL, &argc, &av, &ev));
    const char *one_over[] = { big + sizeof big - (4096 - 24) - 1, NULL };
    assert_false(args_pack(page, sizeof page, base, one_over, NULL, &argc, &av, &ev));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_image_pages),
        cmocka_unit_test(test_unaligned_segment_start),
        cmocka_unit_test(test_malformed_images_refused),
        cmocka_unit_test(test_too_many_segments),
        cmocka_unit_test(test_truncations_and_corruptions),
        cmocka_unit_test(test_args_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
