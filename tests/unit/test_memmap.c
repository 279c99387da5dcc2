/* SOURCES: kernel/core/memmap.c */
/* test_memmap.c: host tests of physical range lists: free memory from a firmware map, reservations, frame accounting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <memmap.h>

#define MiB (1024ULL * 1024)

static void expect_ranges(const struct memmap *m, size_t n, const paddr_t (*want)[2])
{
    assert_int_equal(m->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m->r[i].start, want[i][0]);
        assert_int_equal(m->r[i].end, want[i][1]);
    }
}

/* The map QEMU's pc machine reports for 256 MiB. */
static void qemu_map(struct memmap *fw)
{
    *fw = (struct memmap){ 0 };
    memmap_add(fw, 0x100000, 0xffe0000, MEM_AVAILABLE);
    memmap_add(fw, 0, 0x9fc00, MEM_AVAILABLE);
    memmap_add(fw, 0x9fc00, 0xa0000, MEM_RESERVED);
    memmap_add(fw, 0xf0000, 0x100000, MEM_RESERVED);
    memmap_add(fw, 0xffe0000, 0x10000000, MEM_RESERVED);
    memmap_add(fw, 0xfffc0000, 0x100000000ULL, MEM_RESERVED);
}

static void test_add_keeps_order(void **state)
{
    (void)state;
    struct memmap fw;
    qemu_map(&fw);
    assert_int_equal(fw.n, 6);
    for (size_t i = 1; i < fw.n; i++)
        assert_true(fw.r[i - 1].start <= fw.r[i].start);
    memmap_add(&fw, 5, 5, MEM_AVAILABLE);        /* empty: ignored */
    assert_int_equal(fw.n, 6);
}

static void test_free_from_firmware_trims_pages(void **state)
{
    (void)state;
    struct memmap fw, free;
    qemu_map(&fw);
    memmap_free_from_firmware(&fw, &free);
    /* 0x9fc00 is not page aligned: the last partial page is not free. */
    static const paddr_t want[][2] = { { 0, 0x9f000 }, { 0x100000, 0xffe0000 } };
    expect_ranges(&free, 2, want);
    assert_int_equal(memmap_bytes(&free), 0x9f000 + (0xffe0000 - 0x100000));
    assert_int_equal(memmap_highest(&free), 0xffe0000);
}

static void test_reserved_beats_overlapping_available(void **state)
{
    (void)state;
    struct memmap fw = { 0 }, free;
    memmap_add(&fw, 0, 16 * MiB, MEM_AVAILABLE);
    memmap_add(&fw, 8 * MiB, 24 * MiB, MEM_AVAILABLE);     /* overlaps the first */
    memmap_add(&fw, 4 * MiB + 10, 5 * MiB, MEM_ACPI_NVS);  /* unaligned hole */
    memmap_add(&fw, 24 * MiB, 32 * MiB, MEM_AVAILABLE);    /* adjacent: merged */
    memmap_free_from_firmware(&fw, &free);
    static const paddr_t want[][2] = { { 0, 4 * MiB }, { 5 * MiB, 32 * MiB } };
    expect_ranges(&free, 2, want);
}

static void test_remove_splits_and_cuts(void **state)
{
    (void)state;
    struct memmap m = { 0 };
    memmap_add(&m, 0x1000, 0x10000, MEM_AVAILABLE);
    memmap_add(&m, 0x20000, 0x30000, MEM_AVAILABLE);
    memmap_remove(&m, 0x4000, 0x6000);        /* hole */
    memmap_remove(&m, 0x0, 0x2000);           /* head */
    memmap_remove(&m, 0xf000, 0x21000);       /* tail of one, head of next */
    memmap_remove(&m, 0x2f000, 0x40000);      /* tail */
    static const paddr_t want[][2] = {
        { 0x2000, 0x4000 }, { 0x6000, 0xf000 }, { 0x21000, 0x2f000 } };
    expect_ranges(&m, 3, want);
    memmap_remove(&m, 0, 0x100000);           /* everything */
    assert_int_equal(m.n, 0);
    assert_int_equal(memmap_bytes(&m), 0);
}

static void test_take_page_respects_limit(void **state)
{
    (void)state;
    struct memmap m = { 0 };
    memmap_add(&m, 0x100000, 0x102000, MEM_AVAILABLE);
    memmap_add(&m, 0x40000000, 0x40002000, MEM_AVAILABLE);   /* above 1 GiB */
    assert_int_equal(memmap_take_page(&m, 0x40000000), 0x101000);
    assert_int_equal(memmap_take_page(&m, 0x40000000), 0x100000);
    assert_int_equal(memmap_take_page(&m, 0x40000000), 0);      /* nothing below */
    assert_int_equal(memmap_take_page(&m, UINT64_MAX), 0x40001000);
    /* a limit inside a range takes the highest page below it */
    memmap_add(&m, 0x200000, 0x300000, MEM_AVAILABLE);
    assert_int_equal(memmap_take_page(&m, 0x280800), 0x27f000);
    assert_int_equal(memmap_bytes(&m), 0x1000 + 0x100000 - 0x1000);
}

static void test_take_range(void **state)
{
    (void)state;
    struct memmap m = { 0 };
    memmap_add(&m, 0x100000, 0x200000, MEM_AVAILABLE);
    memmap_add(&m, 0x400000, 0x403000, MEM_AVAILABLE);
    /* the highest range is too small for 5 pages: the lower one serves */
    assert_int_equal(memmap_take_range(&m, 5 * 4096, 4096), 0x200000 - 5 * 4096);
    /* 4097 bytes round up to two pages, from the top of the highest range */
    assert_int_equal(memmap_take_range(&m, 4097, 0), 0x401000);
    assert_int_equal(memmap_take_range(&m, 0x200000, 4096), 0);
    assert_int_equal(memmap_take_range(&m, 0, 4096), 0);
    assert_int_equal(memmap_bytes(&m), 0x100000 - 5 * 4096 + 0x1000);
    /* aligned: 64 KiB at a 64 KiB boundary, leaving the pieces around it free */
    assert_int_equal(memmap_take_range(&m, 0x10000, 0x10000), 0x1e0000);
    assert_int_equal(memmap_bytes(&m), 0x100000 - 5 * 4096 + 0x1000 - 0x10000);
    assert_int_equal(m.n, 3);
    /* no 1 MiB-aligned 64 KiB fits below 0x1e0000 except at 0x100000 */
    assert_int_equal(memmap_take_range(&m, 0x10000, 0x100000), 0x100000);
}

static void test_full_list_is_flagged(void **state)
{
    (void)state;
    struct memmap m = { 0 };
    for (int i = 0; i < MEMMAP_MAX + 3; i++)
        memmap_add(&m, (paddr_t)i * 0x2000, (paddr_t)i * 0x2000 + 0x1000, MEM_AVAILABLE);
    assert_int_equal(m.n, MEMMAP_MAX);
    assert_true(m.overflow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_keeps_order),
        cmocka_unit_test(test_free_from_firmware_trims_pages),
        cmocka_unit_test(test_reserved_beats_overlapping_available),
        cmocka_unit_test(test_remove_splits_and_cuts),
        cmocka_unit_test(test_take_page_respects_limit),
        cmocka_unit_test(test_take_range),
        cmocka_unit_test(test_full_list_is_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
