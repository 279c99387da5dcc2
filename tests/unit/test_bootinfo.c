/* SOURCES: kernel/arch/x86_64/boot/multiboot.c kernel/core/memmap.c tests/unit/host_stubs.c */
/* test_bootinfo.c: host tests of Multiboot 1 and 2 parsing, with well-formed and malformed structures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <bootinfo.h>
#include <mm/physmap.h>

/* A fake physical memory window: physical address FAKE_PA is mem[0]. */
#define FAKE_PA 0x10000u
static uint8_t mem[8192] __attribute__((aligned(8)));
static size_t used;

static uint32_t put(const void *data, size_t n)
{
    used = (used + 7) & ~(size_t)7;
    memcpy(mem + used, data, n);
    uint32_t pa = FAKE_PA + (uint32_t)used;
    used += n;
    return pa;
}

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof mem);
    used = 0;
    host_physmap_offset = (uintptr_t)mem - FAKE_PA;
    return 0;
}

struct mb1_mmap { uint32_t size; uint64_t addr, len; uint32_t type; } __attribute__((packed));

static uint32_t mb1_info(uint32_t flags, uint32_t cmdline, uint32_t mods_count, uint32_t mods,
                         uint32_t mmap_len, uint32_t mmap, uint32_t loader)
{
    uint32_t info[22] = { 0 };
    info[0] = flags;
    info[1] = 639;           /* mem_lower KiB */
    info[2] = 261120;        /* mem_upper KiB */
    info[4] = cmdline;
    info[5] = mods_count;
    info[6] = mods;
    info[11] = mmap_len;
    info[12] = mmap;
    info[16] = loader;
    return put(info, sizeof info);
}

static void test_mb1_full(void **state)
{
    (void)state;
    uint32_t cl = put("ferry.elf pcid=off", 19);
    uint32_t loader = put("qemu", 5);
    uint32_t mname = put("root.elf", 9);
    uint32_t mods[4] = { 0x200000, 0x201234, mname, 0 };
    uint32_t mods_pa = put(mods, sizeof mods);
    struct mb1_mmap mm[3] = {
        { 20, 0, 0x9fc00, 1 }, { 20, 0x100000, 0xfee0000, 1 }, { 20, 0xfffc0000, 0x40000, 2 } };
    uint32_t mm_pa = put(mm, sizeof mm);
    uint32_t info = mb1_info((1 << 2) | (1 << 3) | (1 << 6) | (1 << 9), cl, 1, mods_pa,
                             sizeof mm, mm_pa, loader);
    struct boot_info bi;
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, info, &bi));
    assert_int_equal(bi.multiboot_version, 1);
    assert_string_equal(bi.cmdline, "ferry.elf pcid=off");
    assert_string_equal(bi.loader, "qemu");
    assert_int_equal(bi.nmodules, 1);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x201234);
    assert_string_equal(bi.modules[0].name, "root.elf");
    assert_int_equal(bi.firmware_map.n, 3);
    assert_int_equal(bi.firmware_map.r[1].start, 0x100000);
    assert_int_equal(bi.firmware_map.r[1].end, 0xffe0000);
    assert_int_equal(bi.firmware_map.r[2].type, MEM_RESERVED);
    assert_int_equal(bi.info_start, info);
}

/* More modules than the kernel keeps: the first BOOT_MODULES_MAX stay,
 * the rest are counted (and reported at boot), never read past. */
static void test_mb1_too_many_modules(void **state)
{
    (void)state;
    uint32_t name = put("a long module name that is kept whole: build/programs/hello.elf arg", 68);
    uint32_t mods[(BOOT_MODULES_MAX + 3) * 4];
    for (int i = 0; i < BOOT_MODULES_MAX + 3; i++) {
        mods[i * 4] = 0x200000 + i * 0x1000;
        mods[i * 4 + 1] = 0x200000 + i * 0x1000 + 0x10;
        mods[i * 4 + 2] = name;
        mods[i * 4 + 3] = 0;
    }
    uint32_t mods_pa = put(mods, sizeof mods);
    uint32_t info = mb1_info((1 << 0) | (1 << 3), 0, BOOT_MODULES_MAX + 3, mods_pa, 0, 0, 0);
    struct boot_info bi;
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, info, &bi));
    assert_int_equal(bi.nmodules, BOOT_MODULES_MAX);
    assert_int_equal(bi.modules_dropped, 3);
    assert_string_equal(bi.modules[BOOT_MODULES_MAX - 1].name,
                        "a long module name that is kept whole: build/programs/hello.elf arg");
}

/* A string longer than a module name keeps its file name and arguments:
 * the directory of its first word goes (a cut at the end lost the file
 * name of a prebuilt kernel's modules); what is still too long is cut. */
static void test_mb1_long_module_path_keeps_its_file_name(void **state)
{
    (void)state;
    char path[400];
    memset(path, 'd', sizeof path);
    memcpy(path, "/results/.binaries/", 19);
    strcpy(path + 200, "/supervisor.elf restart arg/x");
    uint32_t name = put(path, strlen(path) + 1);
    char longargs[400];
    memset(longargs, 'a', sizeof longargs);
    memcpy(longargs, "dir/hello.elf ", 14);
    longargs[sizeof longargs - 1] = 0;
    uint32_t name2 = put(longargs, sizeof longargs);
    uint32_t short_name = put("build/programs/hello.elf x/y", 29);
    uint32_t mods[12] = { 0x200000, 0x201000, name, 0, 0x202000, 0x203000, name2, 0,
                          0x204000, 0x205000, short_name, 0 };
    uint32_t mods_pa = put(mods, sizeof mods);
    uint32_t info = mb1_info((1 << 0) | (1 << 3), 0, 3, mods_pa, 0, 0, 0);
    struct boot_info bi;
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, info, &bi));
    assert_int_equal(bi.nmodules, 3);
    assert_string_equal(bi.modules[0].name, "supervisor.elf restart arg/x");
    assert_int_equal(strlen(bi.modules[1].name), BOOT_MODULE_NAME_MAX - 1);
    assert_memory_equal(bi.modules[1].name, "hello.elf aaaa", 14);
    assert_string_equal(bi.modules[2].name, "build/programs/hello.elf x/y");   /* fits: whole */
}

static void test_mb1_basic_memory_only(void **state)
{
    (void)state;
    uint32_t info = mb1_info(1 << 0, 0, 0, 0, 0, 0, 0);
    struct boot_info bi;
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, info, &bi));
    assert_int_equal(bi.firmware_map.n, 2);
    assert_int_equal(bi.firmware_map.r[1].end, 0x100000 + 261120ULL * 1024);
    assert_string_equal(bi.cmdline, "");
}

static void test_mb1_errors(void **state)
{
    (void)state;
    struct boot_info bi;
    assert_non_null(bootinfo_parse(MB1_BOOT_MAGIC, mb1_info(0, 0, 0, 0, 0, 0, 0), &bi));
    struct mb1_mmap bad = { 4, 0, 0x1000, 1 };          /* entry size too small */
    uint32_t pa = put(&bad, sizeof bad);
    const char *err = bootinfo_parse(MB1_BOOT_MAGIC, mb1_info(1 << 6, 0, 0, 0, sizeof bad, pa, 0), &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "too small"));
    struct mb1_mmap wrap = { 20, 0xfffffffffffff000ULL, 0x2000, 1 };
    pa = put(&wrap, sizeof wrap);
    err = bootinfo_parse(MB1_BOOT_MAGIC, mb1_info(1 << 6, 0, 0, 0, sizeof wrap, pa, 0), &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "wraps"));
    assert_non_null(bootinfo_parse(0x12345678, pa, &bi));
}

/* Multiboot 2: a byte builder for tags. */
static uint8_t mb2[1024] __attribute__((aligned(8)));
static size_t mb2_len;

static void tag(uint32_t type, const void *body, uint32_t blen)
{
    uint32_t hdr[2] = { type, 8 + blen };
    memcpy(mb2 + mb2_len, hdr, 8);
    memcpy(mb2 + mb2_len + 8, body, blen);
    mb2_len += (8 + blen + 7) & ~7u;
}

static uint32_t mb2_finish(void)
{
    tag(0, NULL, 0);
    uint32_t hdr[2] = { (uint32_t)mb2_len, 0 };
    memcpy(mb2, hdr, 8);
    return put(mb2, mb2_len);
}

static void mb2_begin(void)
{
    memset(mb2, 0, sizeof mb2);
    mb2_len = 8;
}

static void test_mb2_full(void **state)
{
    (void)state;
    mb2_begin();
    tag(1, "/boot/ferry.elf bench=all", 26);
    tag(2, "GRUB 2.06", 10);
    uint8_t mod[8 + 9];
    uint32_t range[2] = { 0x300000, 0x304000 };
    memcpy(mod, range, 8);
    memcpy(mod + 8, "root.elf", 9);
    tag(3, mod, sizeof mod);
    struct { uint32_t esize, ever; uint64_t e[2][3]; } mm = {
        24, 0, { { 0, 0x9fc00, 1 }, { 0x100000, 0xfee0000, 1 } } };
    tag(6, &mm, sizeof mm);
    uint32_t pa = mb2_finish();
    struct boot_info bi;
    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, pa, &bi));
    assert_int_equal(bi.multiboot_version, 2);
    assert_string_equal(bi.cmdline, "/boot/ferry.elf bench=all");
    assert_string_equal(bi.loader, "GRUB 2.06");
    assert_int_equal(bi.nmodules, 1);
    assert_int_equal(bi.modules[0].end, 0x304000);
    assert_string_equal(bi.modules[0].name, "root.elf");
    assert_int_equal(bi.firmware_map.n, 2);
    assert_int_equal(bi.firmware_map.r[1].end, 0xffe0000);
    assert_int_equal(bi.info_end - bi.info_start, mb2_len);
}

static void test_mb2_errors(void **state)
{
    (void)state;
    struct boot_info bi;
    /* no memory map */
    mb2_begin();
    tag(1, "x", 2);
    const char *err = bootinfo_parse(MB2_BOOT_MAGIC, mb2_finish(), &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "no memory map"));
    /* a tag claiming to run past the end */
    mb2_begin();
    tag(1, "x", 2);
    uint32_t pa = mb2_finish();
    uint32_t huge = 4096;
    memcpy(mem + (pa - FAKE_PA) + 12, &huge, 4);
    err = bootinfo_parse(MB2_BOOT_MAGIC, pa, &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "out of bounds"));
    /* bad memory map entry size */
    mb2_begin();
    uint32_t mm[2] = { 12, 0 };
    tag(6, mm, sizeof mm);
    err = bootinfo_parse(MB2_BOOT_MAGIC, mb2_finish(), &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "entry size"));
    /* missing end tag: total size cuts the list short */
    mb2_begin();
    tag(1, "x", 2);
    uint32_t hdr[2] = { (uint32_t)mb2_len, 0 };
    memcpy(mb2, hdr, 8);
    err = bootinfo_parse(MB2_BOOT_MAGIC, put(mb2, mb2_len), &bi);
    assert_non_null(err);
    assert_non_null(strstr(err, "no end tag"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_mb1_full, setup),
        cmocka_unit_test_setup(test_mb1_too_many_modules, setup),
        cmocka_unit_test_setup(test_mb1_long_module_path_keeps_its_file_name, setup),
        cmocka_unit_test_setup(test_mb1_basic_memory_only, setup),
        cmocka_unit_test_setup(test_mb1_errors, setup),
        cmocka_unit_test_setup(test_mb2_full, setup),
        cmocka_unit_test_setup(test_mb2_errors, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
