/* file.c: reading a file with read(2), the Linux side of Ferry's file_read
 * rows: the same reader (userspace/io/fileread.h: lseek to the start, read
 * `size` bytes in reads of up to 64 KiB, the whole file checked afterwards)
 * that Ferry's fcat -bench runs, from a file on tmpfs (the page cache, no
 * device) or from the disk image Ferry's driver reads (the same FAT image on
 * the same emulated IDE disk, through Debian's ata_piix, sd_mod and vfat
 * modules), cold (the file's pages dropped before each read) or cached;
 * only the clock is this file's.  pipeline: "cat FILE | wc" between two
 * processes (userspace/io/pipeline.h, the code Ferry's pipeline row runs) on
 * a tmpfs file with the bytes of the disk image's file of that size. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "linux_bench.h"
#include "../../userspace/io/pipeline.h"
#include "../../userspace/io/fileread.h"

#define FILE_DIR "/io-tmp"

static unsigned char pattern(uint32_t seed, uint64_t i)
{
    uint32_t x = (uint32_t)(i % 4093 + 1) * 2654435761u ^ seed * 40503u;   /* Ferry's io_pattern */
    return (unsigned char)(x >> 13 ^ x >> 24);
}

/* fileread.h's clock here: the TSC, read at each mark (the end of one
 * sample, the start of the next); between the two, outside the timed
 * part, the disk rows drop the file's pages (cold) and check the disk's
 * sector count (where the data came from). */
struct linux_marks {
    struct bench_ctx *c;
    size_t done, size;
    bool started;
    uint64_t t0, sectors0;
    int fd;
    const bool *cold;          /* NULL: tmpfs, no disk */
    const char *fail;
};

static uint64_t disk_sectors_read(void);

static void linux_mark(void *arg)
{
    uint64_t t1 = tsc_end();
    bench_compiler_fence();
    struct linux_marks *m = arg;
    if (m->started) {
        if (m->done >= m->c->warmup)
            m->c->samples[m->done - m->c->warmup] = t1 - m->t0;
        if (m->cold) {
            uint64_t read_sectors = disk_sectors_read() - m->sectors0;
            if (*m->cold && m->size && read_sectors < m->size / 512 && !m->fail)
                m->fail = "a cold read did not reach the disk";
            else if (!*m->cold && m->done > 0 && read_sectors && !m->fail)
                m->fail = "a cached read reached the disk";
        }
        m->done++;
    }
    m->started = true;
    if (m->cold) {
        if (*m->cold && posix_fadvise(m->fd, 0, 0, POSIX_FADV_DONTNEED) != 0 && !m->fail)
            m->fail = "posix_fadvise";
        m->sectors0 = disk_sectors_read();
    }
    bench_compiler_fence();
    m->t0 = tsc_begin();
}

/* fileread.h's loop and checks on fd (a file of file_size bytes of
 * pattern(seed)); cold: NULL (tmpfs) or whether to drop its pages. */
static const char *timed_reads(struct bench_ctx *c, int fd, unsigned char *buf, size_t size, size_t file_size,
                               uint32_t seed, const bool *cold)
{
    struct linux_marks m = { .c = c, .size = size, .fd = fd, .cold = cold };
    int r = fileread_loop(fd, buf, size, c->warmup + c->n, linux_mark, &m);
    if (r)
        return r == 1 ? "lseek failed" : "short read";
    if (m.fail)
        return m.fail;
    if (fileread_check(fd, buf, size, file_size, pattern, seed))
        return "the bytes read back differ";
    return NULL;
}

static const char *file_read(struct bench_ctx *c)
{
    if (c->size < 0 || c->size > (16 << 20))
        return "sizes from 0 to 16 MiB";
    size_t size = (size_t)c->size;
    mkdir(FILE_DIR, 0755);
    if (mount("tmpfs", FILE_DIR, "tmpfs", 0, "size=64m") != 0)
        return "cannot mount tmpfs";
    const char *fail = NULL;
    unsigned char *buf = malloc(size > FILEREAD_CHUNK ? size : FILEREAD_CHUNK);
    int fd = open(FILE_DIR "/f.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (!buf || fd < 0)
        fail = "cannot create the file";
    for (size_t i = 0; i < size && !fail; i++)
        buf[i] = pattern(3, i);
    if (!fail && size && !lb_write_full(fd, buf, size))
        fail = "cannot write the file";
    if (!fail)
        fail = timed_reads(c, fd, buf, size, size, 3, NULL);
    if (fd >= 0)
        close(fd);
    free(buf);
    unlink(FILE_DIR "/f.bin");
    umount(FILE_DIR);
    return fail;
}

/* Each sample one run of the pipeline; SIGCHLD (the runner's handler
 * interrupts blocking reads, without SA_RESTART) is held off meanwhile. */
static const char *pipeline(struct bench_ctx *c)
{
    if (c->size != 4096 && c->size != 65536)
        return "sizes 4096 and 65536 (the disk image's F4K.BIN and F64K.BIN)";
    size_t size = (size_t)c->size;
    mkdir(FILE_DIR, 0755);
    if (mount("tmpfs", FILE_DIR, "tmpfs", 0, "size=64m") != 0)
        return "cannot mount tmpfs";
    const char *fail = NULL;
    unsigned char *buf = malloc(size);
    int fd = open(FILE_DIR "/f.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (!buf || fd < 0)
        fail = "cannot create the file";
    for (size_t i = 0; i < size && !fail; i++)
        buf[i] = pattern(size == 4096 ? 1 : 2, i);       /* F4K.BIN's and F64K.BIN's bytes */
    if (!fail && !lb_write_full(fd, buf, size))
        fail = "cannot write the file";
    if (fd >= 0)
        close(fd);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    struct pipeline_wc first = { 0 }, wc;
    for (size_t i = 0; i < c->warmup + c->n && !fail; i++) {
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        int err = pipeline_run(FILE_DIR "/f.bin", &wc);
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        if (i == 0)
            first = wc;
        if (err)
            fail = "the pipeline failed";
        else if (wc.bytes != size || wc.words != first.words || wc.lines != first.lines)
            fail = "wc counted wrong";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(buf);
    unlink(FILE_DIR "/f.bin");
    umount(FILE_DIR);
    return fail;
}

static const int64_t pipeline_sizes[] = { 4096, 65536 };
/* The disk: the modules the harness put in the initramfs (lib/modules/order
 * lists them, dependencies first: ferryhost/linux.py) loaded once, the disk
 * found once the ATA probe and SCSI scan (asynchronous) show it, mounted
 * read-only.  NULL when mounted, else why not. */
#define DISK_DIR "/disk"
#define MODULE_DIR "/lib/modules"

static bool read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0;
}

static const char *disk_mount(void)
{
    static int state;                   /* 0: not tried, 1: mounted, -1: failed */
    static char why[160];
    if (state)
        return state > 0 ? NULL : why;
    state = -1;
    FILE *order = fopen(MODULE_DIR "/order", "r");
    if (!order) {
        snprintf(why, sizeof why, "no kernel modules in the initramfs (ferryhost/linux.py found none for the disk)");
        return why;
    }
    char name[128];
    while (fgets(name, sizeof name, order)) {
        name[strcspn(name, "\n")] = '\0';
        if (!name[0])
            continue;
        char path[256];
        snprintf(path, sizeof path, MODULE_DIR "/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        long r = fd < 0 ? -1 : syscall(SYS_finit_module, fd, "", 0);
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (r != 0 && !(fd >= 0 && e == EEXIST)) {
            snprintf(why, sizeof why, "module %s did not load: %s", name, strerror(e));
            fclose(order);
            return why;
        }
    }
    fclose(order);
    char dev[32];
    unsigned maj, min;
    int tries = 0;
    while (!read_small("/sys/block/sda/dev", dev, sizeof dev) && tries++ < 2000)
        usleep(10000);                  /* up to 20 s of guest time for the probe */
    if (sscanf(dev, "%u:%u", &maj, &min) != 2) {
        snprintf(why, sizeof why, "no /sys/block/sda after loading the modules (is the disk attached?)");
        return why;
    }
    mkdir(DISK_DIR, 0755);
    if ((mknod("/dev/sda", S_IFBLK | 0600, makedev(maj, min)) != 0 && errno != EEXIST) ||
        mount("/dev/sda", DISK_DIR, "vfat", MS_RDONLY, "") != 0) {
        snprintf(why, sizeof why, "cannot mount /dev/sda (vfat): %s", strerror(errno));
        return why;
    }
    state = 1;
    return NULL;
}

/* Sectors sda has read so far (/sys/block/sda/stat, field 3). */
static uint64_t disk_sectors_read(void)
{
    char s[256];
    unsigned long long ios, merges, sectors;
    if (!read_small("/sys/block/sda/stat", s, sizeof s) || sscanf(s, "%llu %llu %llu", &ios, &merges, &sectors) != 3)
        return 0;
    return sectors;
}

/* The disk image's file holding at least `size` bytes and its pattern's
 * seed (ferryhost/disk.py; Ferry's bench/ferry/io.c picks the same). */
static const char *disk_file(int64_t size, uint32_t *seed)
{
    *seed = size <= 4096 ? 1 : size <= 65536 ? 2 : size <= 1048576 ? 3 : 4;
    return size <= 4096 ? DISK_DIR "/F4K.BIN" : size <= 65536 ? DISK_DIR "/F64K.BIN"
         : size <= 1048576 ? DISK_DIR "/F1M.BIN" : DISK_DIR "/F16M.BIN";
}

/* cold: the file's pages dropped before each read, so it comes from the
 * disk.  (An entry's arg is its CPU placement on Linux: lb_peer_cpu.) */
static const char *disk_read(struct bench_ctx *c, bool cold)
{
    if (c->size < 0 || c->size > (16 << 20))
        return "sizes from 0 to 16 MiB";
    const char *fail = disk_mount();
    if (fail)
        return fail;
    size_t size = (size_t)c->size;
    uint32_t seed;
    const char *path = disk_file(c->size, &seed);
    unsigned char *buf = malloc(FILEREAD_CHUNK);
    int fd = open(path, fileread_flags(0) | O_CLOEXEC);
    struct stat st;
    if (!buf || fd < 0 || fstat(fd, &st) != 0)
        fail = "cannot open the disk image's file";
    if (!fail)
        fail = timed_reads(c, fd, buf, size, (size_t)st.st_size, seed, &cold);
    if (fd >= 0)
        close(fd);
    free(buf);
    return fail;
}

static const char *disk_read_cold(struct bench_ctx *c) { return disk_read(c, true); }
static const char *disk_read_cached(struct bench_ctx *c) { return disk_read(c, false); }

static const int64_t file_sizes[] = { 0, 4096, 65536, 1048576 };

const struct bench_entry lb_file_table[] = {
    { .name = "file_read", .variant = "tmpfs", .fn = file_read, .sizes = file_sizes,
      .nsizes = sizeof file_sizes / sizeof file_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = 200,
      .description = "lseek + read(size) of a cached file on tmpfs (size 0: the lseek alone)" },
    { .name = "pipeline", .variant = "cpu1", .fn = pipeline, .sizes = pipeline_sizes,
      .nsizes = sizeof pipeline_sizes / sizeof pipeline_sizes[0], .default_samples = 10, .max_samples = 100,
      .description = "cat FILE | wc: pipe, fork, the child reads a tmpfs file into the pipe, the parent "
                     "counts words and lines, waitpid (Ferry's pipeline code)" },
    { .name = "file_read", .variant = "disk", .fn = disk_read_cold, .sizes = file_sizes,
      .nsizes = sizeof file_sizes / sizeof file_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "lseek + read(size) of the FAT disk image's file on the emulated IDE disk (ata_piix, "
                     "vfat), its pages dropped before each read (posix_fadvise): from the disk" },
    { .name = "file_read", .variant = "disk_cached", .fn = disk_read_cached, .sizes = file_sizes,
      .nsizes = sizeof file_sizes / sizeof file_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = 200,
      .description = "lseek + read(size) of the FAT disk image's file, in the page cache after the first "
                     "read (vfat on the emulated IDE disk)" },
};
const size_t lb_file_count = sizeof(lb_file_table) / sizeof(lb_file_table[0]);
