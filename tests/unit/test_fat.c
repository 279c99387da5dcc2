/* SOURCES: userspace/fs/fat.c */
/* test_fat.c: host tests of the FAT library on images made by Debian's
 * mkfs.fat and mcopy (FAT12, FAT16 and FAT32) and made by fat_format: files read back byte-exact, and
 * files the library wrote checked by fsck.fat -n and read by mtype. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <ferry/fat.h>

static char dir[64];

/* Deterministic contents: byte i of file `seed`. */
static uint8_t pattern(uint32_t seed, uint32_t i)
{
    uint32_t x = (i + 1) * 2654435761u ^ seed * 40503u;
    return (uint8_t)(x >> 13 ^ x >> 24);
}

static void make_file(const char *path, uint32_t seed, uint32_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (uint32_t i = 0; i < size; i++)
        fputc(pattern(seed, i), f);
    fclose(f);
}

static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

struct image {
    char path[128];
    uint8_t *mem;
    size_t bytes;
    struct fat_ramdisk rd;
    struct fat_blockdev dev;
    struct fat_fs fs;
};

/* A fresh image of `mb` MiB, FAT `type`, with the test file set. */
static void image_make(struct image *im, int type, unsigned mb)
{
    snprintf(im->path, sizeof im->path, "%s/fat%d.img", dir, type);
    unlink(im->path);
    assert_int_equal(sh("mkfs.fat -C -F %d -n FERRY %s %u >/dev/null", type, im->path, mb * 1024), 0);
    assert_int_equal(sh("mmd -i %s ::/sub ::/sub/deeper", im->path), 0);
    assert_int_equal(sh("mcopy -i %s %s/hello.txt %s/data.bin ::/", im->path, dir, dir), 0);
    assert_int_equal(sh("mcopy -i %s '%s/a long file name.dat' ::/", im->path, dir), 0);
    assert_int_equal(sh("mcopy -i %s %s/empty %s/small.bin ::/sub/deeper/", im->path, dir, dir), 0);
    FILE *f = fopen(im->path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    im->bytes = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    im->mem = malloc(im->bytes);
    assert_non_null(im->mem);
    assert_int_equal(fread(im->mem, 1, im->bytes, f), im->bytes);
    fclose(f);
    fat_ramdisk_init(&im->dev, &im->rd, im->mem, im->bytes);
    assert_int_equal(fat_mount(&im->fs, &im->dev), FAT_OK);
    assert_int_equal(im->fs.type, type);
}

static void image_save(struct image *im)
{
    FILE *f = fopen(im->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(im->mem, 1, im->bytes, f), im->bytes);
    fclose(f);
}

static void image_free(struct image *im)
{
    free(im->mem);
    unlink(im->path);
}

/* The file at path holds size bytes of pattern seed, read in chunks of `chunk`. */
static void check_read(struct fat_fs *fs, const char *path, uint32_t seed, uint32_t size, size_t chunk)
{
    struct fat_file f;
    assert_int_equal(fat_open(fs, &f, path, FAT_O_READ), FAT_OK);
    uint8_t *buf = malloc(chunk);
    uint32_t at = 0;
    for (;;) {
        long n = fat_read(&f, buf, chunk);
        assert_true(n >= 0);
        if (n == 0)
            break;
        for (long i = 0; i < n; i++)
            if (buf[i] != pattern(seed, at + (uint32_t)i))
                fail_msg("%s: byte %u differs (chunk %zu)", path, at + (unsigned)i, chunk);
        at += (uint32_t)n;
    }
    assert_int_equal(at, size);
    free(buf);
    assert_int_equal(fat_close(&f), FAT_OK);
}

#define DATA_SIZE 300007u
#define SMALL_SIZE 4096u
#define LONG_SIZE 70000u

static void host_files(void)
{
    char p[160];
    snprintf(p, sizeof p, "%s/hello.txt", dir);
    FILE *f = fopen(p, "w");
    fputs("hello, ferry\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/data.bin", dir);
    make_file(p, 1, DATA_SIZE);
    snprintf(p, sizeof p, "%s/small.bin", dir);
    make_file(p, 2, SMALL_SIZE);
    snprintf(p, sizeof p, "%s/a long file name.dat", dir);
    make_file(p, 3, LONG_SIZE);
    snprintf(p, sizeof p, "%s/empty", dir);
    make_file(p, 0, 0);
}

static void read_host_files(int type)
{
    struct image im;
    image_make(&im, type, type == 32 ? 40 : 16);
    static const size_t chunks[] = { 1, 7, 512, 1000, 4096, 65536, 1 << 20 };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
        check_read(&im.fs, "/data.bin", 1, DATA_SIZE, chunks[i]);
    check_read(&im.fs, "sub/deeper/small.bin", 2, SMALL_SIZE, 4096);
    check_read(&im.fs, "/SUB/DEEPER/SMALL.BIN", 2, SMALL_SIZE, 100);
    check_read(&im.fs, "/a long file name.dat", 3, LONG_SIZE, 3000);
    check_read(&im.fs, "/sub/deeper/empty", 0, 0, 512);

    struct fat_file f;
    char buf[32] = { 0 };
    assert_int_equal(fat_open(&im.fs, &f, "/hello.txt", FAT_O_READ), FAT_OK);
    assert_int_equal(fat_read(&f, buf, sizeof buf), 13);
    assert_string_equal(buf, "hello, ferry\n");
    assert_int_equal(fat_read(&f, buf, sizeof buf), 0);
    assert_int_equal(fat_write(&f, "x", 1), FAT_E_BADF);      /* opened read-only */
    assert_int_equal(fat_close(&f), FAT_OK);
    assert_int_equal(fat_close(&f), FAT_E_BADF);

    /* seeks: anywhere, then a read from there */
    uint8_t b[700];
    assert_int_equal(fat_open(&im.fs, &f, "/data.bin", FAT_O_READ), FAT_OK);
    static const long at[] = { 299999, 0, 131072, 4095, 150000, 2 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        assert_int_equal(fat_seek(&f, at[i], 0), at[i]);
        long n = fat_read(&f, b, sizeof b);
        long want = (long)DATA_SIZE - at[i] < (long)sizeof b ? (long)DATA_SIZE - at[i] : (long)sizeof b;
        assert_int_equal(n, want);
        for (long k = 0; k < n; k++)
            assert_int_equal(b[k], pattern(1, (uint32_t)(at[i] + k)));
    }
    assert_int_equal(fat_seek(&f, -8, 2), DATA_SIZE - 8);
    assert_int_equal(fat_seek(&f, 4, 1), DATA_SIZE - 4);
    assert_int_equal(fat_seek(&f, -1, 0), FAT_E_INVAL);
    uint64_t lba;
    assert_true(fat_extent(&f, 0, &lba) > 0);
    assert_int_equal(fat_close(&f), FAT_OK);

    struct fat_stat st;
    assert_int_equal(fat_stat(&im.fs, "/data.bin", &st), FAT_OK);
    assert_int_equal(st.size, DATA_SIZE);
    assert_false(st.is_dir);
    assert_int_equal(fat_stat(&im.fs, "/sub", &st), FAT_OK);
    assert_true(st.is_dir);
    assert_int_equal(fat_stat(&im.fs, "/", &st), FAT_OK);
    assert_true(st.is_dir);
    assert_int_equal(fat_stat(&im.fs, "/nothing", &st), FAT_E_NOENT);
    assert_int_equal(fat_stat(&im.fs, "/hello.txt/x", &st), FAT_E_NOTDIR);
    assert_int_equal(fat_open(&im.fs, &f, "/sub", FAT_O_READ), FAT_E_ISDIR);

    /* the root's listing: every name once, the label not among them */
    struct fat_file d;
    struct fat_dirent de;
    assert_int_equal(fat_opendir(&im.fs, &d, "/"), FAT_OK);
    unsigned seen = 0, n = 0;
    int r;
    while ((r = fat_readdir(&d, &de)) == 1) {
        n++;
        if (strcmp(de.name, "hello.txt") == 0 && de.size == 13)
            seen |= 1;
        if (strcmp(de.name, "data.bin") == 0 && de.size == DATA_SIZE)
            seen |= 2;
        if (strcmp(de.name, "a long file name.dat") == 0 && de.size == LONG_SIZE)
            seen |= 4;
        if (strcmp(de.name, "sub") == 0 && (de.attr & FAT_ATTR_DIR))
            seen |= 8;
    }
    assert_int_equal(r, 0);
    assert_int_equal(seen, 15);
    assert_int_equal(n, 4);
    assert_int_equal(fat_opendir(&im.fs, &d, "/sub/deeper"), FAT_OK);
    n = 0;
    while (fat_readdir(&d, &de) == 1)
        n++;
    assert_int_equal(n, 2);
    assert_int_equal(fat_opendir(&im.fs, &d, "/data.bin"), FAT_E_NOTDIR);
    image_free(&im);
}

static void test_read_fat12(void **state) { (void)state; read_host_files(12); }
static void test_read_fat16(void **state) { (void)state; read_host_files(16); }
static void test_read_fat32(void **state) { (void)state; read_host_files(32); }

/* The image passes fsck.fat -n and mtype prints path's bytes as pattern seed. */
static void host_check(struct image *im, const char *dos_path, uint32_t seed, uint32_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mtype -i %s '::%s'", im->path, dos_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    uint32_t i = 0;
    int c;
    while ((c = fgetc(p)) != EOF) {
        if (i >= size || c != pattern(seed, i))
            fail_msg("mtype %s: byte %u differs", dos_path, i);
        i++;
    }
    assert_int_equal(pclose(p), 0);
    assert_int_equal(i, size);
}

static void write_files(int type)
{
    struct image im;
    image_make(&im, type, type == 32 ? 40 : 16);
    struct fat_fs *fs = &im.fs;
    struct fat_file f;
    /* a new file written in odd pieces */
    uint32_t size = 200000;
    uint8_t *buf = malloc(size);
    for (uint32_t i = 0; i < size; i++)
        buf[i] = pattern(7, i);
    assert_int_equal(fat_open(fs, &f, "/new.bin", FAT_O_WRITE | FAT_O_CREATE), FAT_OK);
    for (uint32_t at = 0; at < size;) {
        uint32_t k = at % 3 ? 777 : 20000;
        if (k > size - at)
            k = size - at;
        assert_int_equal(fat_write(&f, buf + at, k), k);
        at += k;
    }
    assert_int_equal(fat_close(&f), FAT_OK);
    check_read(fs, "/new.bin", 7, size, 4096);

    /* overwrite in the middle, through a read-write open */
    assert_int_equal(fat_open(fs, &f, "/data.bin", FAT_O_READ | FAT_O_WRITE), FAT_OK);
    uint8_t *d = malloc(DATA_SIZE + 5000);
    for (uint32_t i = 0; i < DATA_SIZE + 5000; i++)
        d[i] = pattern(1, i);
    for (uint32_t i = 1000; i < 1000 + 9000; i++)
        d[i] = pattern(9, i);
    assert_int_equal(fat_seek(&f, 1000, 0), 1000);
    assert_int_equal(fat_write(&f, d + 1000, 9000), 9000);
    /* and past the end, growing it */
    assert_int_equal(fat_seek(&f, DATA_SIZE - 10, 0), DATA_SIZE - 10);
    assert_int_equal(fat_write(&f, d + DATA_SIZE - 10, 5010), 5010);
    assert_int_equal(fat_close(&f), FAT_OK);

    /* a file in a new directory; a gap left by a seek past the end */
    assert_int_equal(fat_mkdir(fs, "/logs"), FAT_OK);
    assert_int_equal(fat_mkdir(fs, "/logs"), FAT_E_EXIST);
    assert_int_equal(fat_open(fs, &f, "/logs/gap.bin", FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL), FAT_OK);
    assert_int_equal(fat_seek(&f, 3000, 0), 3000);
    assert_int_equal(fat_write(&f, "end", 3), 3);
    assert_int_equal(fat_close(&f), FAT_OK);
    assert_int_equal(fat_open(fs, &f, "/logs/gap.bin", FAT_O_WRITE | FAT_O_CREATE | FAT_O_EXCL), FAT_E_EXIST);
    /* many files: the new directory grows past its first cluster */
    for (int i = 0; i < 70; i++) {
        char name[32];
        snprintf(name, sizeof name, "/logs/f%d.txt", i);
        assert_int_equal(fat_open(fs, &f, name, FAT_O_WRITE | FAT_O_CREATE), FAT_OK);
        assert_int_equal(fat_write(&f, name, strlen(name)), (long)strlen(name));
        assert_int_equal(fat_close(&f), FAT_OK);
    }
    /* truncate, unlink, names the library refuses */
    assert_int_equal(fat_open(fs, &f, "/hello.txt", FAT_O_WRITE | FAT_O_TRUNC), FAT_OK);
    assert_int_equal(fat_write(&f, "bye\n", 4), 4);
    assert_int_equal(fat_close(&f), FAT_OK);
    assert_int_equal(fat_unlink(fs, "/a long file name.dat"), FAT_OK);
    assert_int_equal(fat_unlink(fs, "/a long file name.dat"), FAT_E_NOENT);
    assert_int_equal(fat_unlink(fs, "/sub"), FAT_E_NOTEMPTY);
    assert_int_equal(fat_open(fs, &f, "/a name too long.txt", FAT_O_WRITE | FAT_O_CREATE), FAT_E_NAME);
    assert_int_equal(fat_open(fs, &f, "/x.toolong", FAT_O_WRITE | FAT_O_CREATE), FAT_E_NAME);
    assert_int_equal(fat_open(fs, &f, "/nodir/x.txt", FAT_O_WRITE | FAT_O_CREATE), FAT_E_NOENT);

    /* a remount sees it all */
    struct fat_fs again;
    assert_int_equal(fat_mount(&again, &im.dev), FAT_OK);
    check_read(&again, "/new.bin", 7, size, 65536);
    assert_int_equal(fat_open(&again, &f, "/data.bin", FAT_O_READ), FAT_OK);
    uint8_t *back = malloc(DATA_SIZE + 5000);
    assert_int_equal(fat_read(&f, back, DATA_SIZE + 5000), DATA_SIZE + 5000);
    assert_memory_equal(back, d, DATA_SIZE + 5000);
    fat_close(&f);
    assert_int_equal(fat_open(&again, &f, "/logs/gap.bin", FAT_O_READ), FAT_OK);
    assert_int_equal(fat_read(&f, back, 4000), 3003);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(back[i], 0);
    assert_memory_equal(back + 3000, "end", 3);
    fat_close(&f);

    /* the host's tools agree */
    image_save(&im);
    assert_int_equal(sh("fsck.fat -n %s >%s/fsck.log 2>&1 || { cat %s/fsck.log; exit 1; }", im.path, dir, dir), 0);
    host_check(&im, "/new.bin", 7, size);
    assert_int_equal(sh("mtype -i %s ::/hello.txt | grep -qx bye", im.path), 0);
    assert_int_equal(sh("mtype -i %s ::/logs/f69.txt | grep -qx /logs/f69.txt", im.path), 0);
    assert_int_equal(sh("mdir -i %s ::/ | grep -q 'long file'", im.path), 256);   /* gone */
    assert_int_equal(sh("mdir -i %s -b ::/logs | wc -l | grep -qx 71", im.path), 0);
    free(buf);
    free(d);
    free(back);
    image_free(&im);
}

static void test_write_fat12(void **state) { (void)state; write_files(12); }
static void test_write_fat16(void **state) { (void)state; write_files(16); }
static void test_write_fat32(void **state) { (void)state; write_files(32); }

/* A small volume filled up: NOSPC, and the tools still agree afterwards. */
static void test_full_disk(void **state)
{
    (void)state;
    struct image im;
    image_make(&im, 16, 16);
    struct fat_file f;
    uint8_t chunk[8192];
    memset(chunk, 0x5a, sizeof chunk);
    assert_int_equal(fat_open(&im.fs, &f, "/fill.bin", FAT_O_WRITE | FAT_O_CREATE), FAT_OK);
    long r;
    uint32_t total = 0;
    while ((r = fat_write(&f, chunk, sizeof chunk)) == (long)sizeof chunk)
        total += sizeof chunk;
    assert_int_equal(r, FAT_E_NOSPC);
    assert_true(total > 15u << 20);
    fat_close(&f);
    assert_int_equal(fat_unlink(&im.fs, "/fill.bin"), FAT_OK);
    image_save(&im);
    assert_int_equal(sh("fsck.fat -n %s >/dev/null 2>&1", im.path), 0);
    image_free(&im);
}

/* fat_format on a RAM disk (the file server's ram= backing): the volume
 * mounts as the type its size makes, takes files, a directory, a seek past
 * the end, and passes fsck.fat -n; mdir and mtype read what was written.
 * Sizes: 1.5 MiB (the in-guest RAM disk, FAT12), 8,100 and 8,300 KiB (FAT12 and FAT16 at their
 * border with 2 KiB clusters), 16 MiB and 64 MiB (FAT16). */
static void test_format(void **state)
{
    (void)state;
    static const struct { uint32_t kib; int type; } sizes[] = {
        { 1536, 12 }, { 8100, 12 }, { 8300, 16 }, { 16384, 16 }, { 65536, 16 },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct image im;
        snprintf(im.path, sizeof im.path, "%s/fmt.img", dir);
        im.bytes = (size_t)sizes[i].kib * 1024;
        im.mem = malloc(im.bytes);
        assert_non_null(im.mem);
        memset(im.mem, 0x6b, im.bytes);                  /* not zero: format must not rely on it */
        fat_ramdisk_init(&im.dev, &im.rd, im.mem, im.bytes);
        assert_int_equal(fat_format(&im.dev, im.bytes / FAT_SECTOR, "ram disk"), FAT_OK);
        assert_int_equal(fat_mount(&im.fs, &im.dev), FAT_OK);
        assert_int_equal(im.fs.type, sizes[i].type);
        struct fat_file f, d;
        struct fat_dirent de;
        assert_int_equal(fat_opendir(&im.fs, &d, "/"), FAT_OK);
        assert_int_equal(fat_readdir(&d, &de), 0);     /* empty: the label is not listed */
        uint32_t size = (uint32_t)(im.bytes / 2);
        uint8_t *buf = malloc(size);
        for (uint32_t k = 0; k < size; k++)
            buf[k] = pattern(4, k);
        assert_int_equal(fat_open(&im.fs, &f, "/half.bin", FAT_O_WRITE | FAT_O_CREATE), FAT_OK);
        for (uint32_t at = 0; at < size; at += 7777)
            assert_int_equal(fat_write(&f, buf + at, size - at < 7777 ? size - at : 7777),
                             size - at < 7777 ? size - at : 7777);
        assert_int_equal(fat_close(&f), FAT_OK);
        assert_int_equal(fat_mkdir(&im.fs, "/dir"), FAT_OK);
        assert_int_equal(fat_open(&im.fs, &f, "/dir/gap.txt", FAT_O_WRITE | FAT_O_CREATE), FAT_OK);
        assert_int_equal(fat_seek(&f, 5000, 0), 5000);
        assert_int_equal(fat_write(&f, "end", 3), 3);
        assert_int_equal(fat_close(&f), FAT_OK);
        check_read(&im.fs, "/half.bin", 4, size, 4096);
        struct fat_fs again;
        assert_int_equal(fat_mount(&again, &im.dev), FAT_OK);
        check_read(&again, "/half.bin", 4, size, 65536);
        image_save(&im);
        assert_int_equal(sh("fsck.fat -n %s >%s/fsck.log 2>&1 || { cat %s/fsck.log; exit 1; }", im.path, dir, dir), 0);
        assert_int_equal(sh("fsck.fat -v -n %s | grep -q '%d bit entries'", im.path, sizes[i].type), 0);
        host_check(&im, "/half.bin", 4, size);
        assert_int_equal(sh("mtype -i %s ::/dir/gap.txt | tail -c 3 | grep -qx end", im.path), 0);
        assert_int_equal(sh("mdir -i %s ::/ | grep -q 'RAM DISK'", im.path), 0);
        free(buf);
        image_free(&im);
    }
    /* too small for any FAT volume */
    static uint8_t tiny[16 * FAT_SECTOR];
    struct fat_ramdisk rd;
    struct fat_blockdev dev;
    fat_ramdisk_init(&dev, &rd, tiny, sizeof tiny);
    assert_int_equal(fat_format(&dev, 16, NULL), FAT_E_INVAL);
}

/* Not a FAT volume: refused. */
static void test_bad_volume(void **state)
{
    (void)state;
    static uint8_t mem[64 * 1024];
    struct fat_ramdisk rd;
    struct fat_blockdev dev;
    struct fat_fs fs;
    fat_ramdisk_init(&dev, &rd, mem, sizeof mem);
    assert_int_equal(fat_mount(&fs, &dev), FAT_E_FORMAT);
    fat_ramdisk_init(&dev, &rd, mem, 100);
    assert_int_equal(fat_mount(&fs, &dev), FAT_E_IO);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ferry-fat-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    if (sh("command -v mkfs.fat >/dev/null && command -v mcopy >/dev/null && command -v fsck.fat >/dev/null")) {
        fprintf(stderr, "test_fat: mkfs.fat, mcopy and fsck.fat are needed (scripts/setup.sh build)\n");
        return 1;
    }
    host_files();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_fat12),
        cmocka_unit_test(test_read_fat16),
        cmocka_unit_test(test_read_fat32),
        cmocka_unit_test(test_write_fat12),
        cmocka_unit_test(test_write_fat16),
        cmocka_unit_test(test_write_fat32),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_bad_volume),
        cmocka_unit_test(test_format),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    sh("rm -rf %s", dir);
    return r;
}
