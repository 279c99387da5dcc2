/* file.c: reading a cached file with read(2), the Linux side of Ferry's
 * file_read rows: a file on tmpfs (the page cache, no device), lseek to its
 * start and read(size), as Ferry's reader seeks and reads through the file
 * server.  The bytes are checked after the timed loop.  pipeline: "cat FILE
 * | wc" between two processes (userspace/io/pipeline.h, the code Ferry's
 * pipeline row runs) on a tmpfs file with the bytes of the disk image's
 * file of that size. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux_bench.h"
#include "../../userspace/io/pipeline.h"

#define FILE_DIR "/io-tmp"

static unsigned char pattern(uint32_t seed, uint64_t i)
{
    uint32_t x = (uint32_t)(i % 4093 + 1) * 2654435761u ^ seed * 40503u;   /* Ferry's io_pattern */
    return (unsigned char)(x >> 13 ^ x >> 24);
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
    unsigned char *buf = malloc(size ? size : 1);
    int fd = open(FILE_DIR "/f.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (!buf || fd < 0)
        fail = "cannot create the file";
    for (size_t i = 0; i < size && !fail; i++)
        buf[i] = pattern(3, i);
    if (!fail && size && !lb_write_full(fd, buf, size))
        fail = "cannot write the file";
    for (size_t i = 0; i < c->warmup + c->n && !fail; i++) {
        uint64_t t0 = tsc_begin();
        bench_compiler_fence();
        off_t o = lseek(fd, 0, SEEK_SET);
        ssize_t n = size ? read(fd, buf, size) : 0;
        bench_compiler_fence();
        uint64_t t1 = tsc_end();
        if (o != 0 || n != (ssize_t)size)
            fail = "short read";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    for (size_t i = 0; i < size && !fail; i++)
        if (buf[i] != pattern(3, i))
            fail = "the bytes read back differ";
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
};
const size_t lb_file_count = sizeof(lb_file_table) / sizeof(lb_file_table[0]);
