/* io.c: end-to-end file reads: a program (fcat -bench) reads a file of the
 * disk image through the file server (fatfs, file:) and the ATA driver
 * (ata, blk:), three processes and the process server apart, data copied
 * through the IPC buffers (896 bytes a message; 512 a sector from the
 * driver), or of the file server's RAM disk (no driver); pipes. */
#include "ferry_bench.h"
#include <fmt.h>
#include <ferry/io.h>
#include "../../userspace/servers/procsrv.h"

struct file_read_arg {
    bool cache;          /* the file server's 128 KiB sector cache */
    bool grant;          /* data through a window granted at open (FILE_O_GRANT) */
    bool restart;        /* the driver dies on each read's request (fcat -rbench) */
    bool ram;            /* the file server on a RAM disk of its own (fatfs ram= fill): no driver */
};

/* The disk image's file holding at least `size` bytes (ferryhost/disk.py). */
static const char *file_for(int64_t size, const char **seed)
{
    *seed = size <= 4096 ? "1" : size <= 65536 ? "2" : size <= 1048576 ? "3" : "4";
    return size <= 4096 ? "/F4K.BIN" : size <= 65536 ? "/F64K.BIN" : size <= 1048576 ? "/F1M.BIN" : "/F16M.BIN";
}

/* Serve requests until pid has registered its name with the name service
 * (which tells the process server). */
static bool serve_until_registered(unsigned long pid)
{
    struct proc_info pi;
    while (proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
        procsrv_serve_one();
    return proc_info(pid, &pi) && pi.state == PROC_RUNNING;
}

static void stop(const char *name)
{
    long status;
    unsigned long pid = proc_running(name);
    if (pid && proc_stop(pid))
        proc_wait(pid, &status);
}

#define FILE_READ_MARKS 1024

/* The clock is the process server's, as first_touch's: the reader Calls it
 * after each read, so a sample is one read of `size` bytes plus one marker
 * round trip to the process server (size 0: the marker alone). */
static const char *file_read(struct bench_ctx *c)
{
    const struct file_read_arg *a = c->entry->arg;
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    if (c->size < 0 || c->size > (16 << 20))
        return "sizes from 0 to 16 MiB";

    const char *fail = NULL, *seed;
    const char *path = file_for(c->size, &seed);
    unsigned long fs = 0;
    if (a->ram) {
        char ram[24];
        /* up to 1 MiB in the file server's own memory; 16 MiB on a large
         * RAM disk of 2 MiB pages (PROC_MMAP_LARGE: docs/io.md) */
        fmt_snprintf(ram, sizeof ram, "ram=%u", c->size > (1 << 20) ? IO_RAM_LARGE_KIB : IO_RAM_KIB);
        const char *ramargv[] = { ram, "fill", NULL };
        fs = proc_spawn("fatfs", ramargv, NULL);
    } else {
        unsigned long ata = proc_spawn("ata", NULL, NULL);
        const char *nocache[] = { "nocache", NULL };
        fs = ata && serve_until_registered(ata) ? proc_spawn("fatfs", a->cache ? NULL : nocache, NULL) : 0;
    }
    if (!fs || !serve_until_registered(fs))
        fail = a->ram ? "the file server on a RAM disk did not start"
                      : "the block driver or the file server did not start (is the disk image attached?)";
    char size_s[24], n_s[24];
    fmt_snprintf(size_s, sizeof size_s, "%ld", (long)c->size);
    fmt_snprintf(n_s, sizeof n_s, "%lu", (unsigned long)(c->warmup + c->n));
    const char *argv[] = { a->grant ? "-gbench" : "-bench", path, seed, size_s, n_s, NULL };
    const char *rargv[] = { "-rbench", path, seed, n_s, NULL };
    if (a->restart && c->size != 512)
        fail = "driver_restart reads one sector: size 512";
    if (c->warmup + c->n + 1 > FILE_READ_MARKS)
        fail = "too many samples for file_read (warmup + samples < 1024)";
    unsigned long restarts0 = procsrv_restarts("ata");
    procsrv_events_drain();
    unsigned long lost = procsrv_events_lost();
    unsigned long pid = fail ? 0 : proc_spawn("fcat", a->restart ? rargv : argv, NULL);
    if (!fail && !pid)
        fail = "spawn of fcat failed";
    if (pid) {
        /* Its requests to the process server are the markers (getpid,
         * fileread.h's clock: the first starts the clock, one after each
         * read) and, before them, what its start-up asks (its buffer's
         * mmap): so the samples are the gaps between its last need + 1
         * requests (page faults and its exit are events of other kinds).
         * The times are the process server's, from its ring of records,
         * read once fcat has ended (the root task is not woken between
         * two reads). */
        long fcat_status = -1;
        bool fcat_ended = proc_wait(pid, &fcat_status);
        size_t need = c->warmup + c->n, got = 0;
        static uint64_t marks[FILE_READ_MARKS];
        enum procsrv_event ev;
        while (procsrv_event_next(&ev)) {
            if (procsrv_event_pid() != pid || ev != PROCSRV_OTHER)
                continue;                       /* another process's event, or its page faults */
            marks[got++ % (need + 1)] = procsrv_event_tsc();
        }
        if (got >= need + 1)
            for (size_t i = c->warmup; i < need; i++)
                c->samples[i - c->warmup] = marks[(got - need + i) % (need + 1)] -
                                            marks[(got - need - 1 + i) % (need + 1)];
        if (!fcat_ended || fcat_status != 0)
            fail = "fcat did not read the file's bytes back right";
        else if (procsrv_events_lost() != lost)
            fail = "the process server's ring of records overflowed";
        else if (got < need + 1)
            fail = "fewer reads than samples";
        else if (a->restart && procsrv_restarts("ata") != restarts0 + need)
            fail = "the driver was not restarted once per read";
    }
    stop("fatfs");
    stop("ata");
    return fail;
}

/* 1 MiB and 16 MiB by sizes= (the ATA driver's PIO makes a 1 MiB read
 * about 3e8 instructions) */
/* A one-byte pipe round trip between two processes (pipetest rt: the
 * parent writes a byte, the forked child writes it back; libc pipes, a ring
 * in memory the fork shares).  The reader times itself: each sample is the
 * median of 64 round trips of one run, its exit status. */
static const char *pipe_rt(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        const char *argv[] = { "rt", "64", NULL };
        long status = -1;
        unsigned long pid = proc_spawn("pipetest", argv, NULL);
        if (!pid || !proc_wait(pid, &status) || status <= 4)
            return "pipetest rt failed (a byte came back wrong, or a process did not end)";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = (uint64_t)status;
    }
    return NULL;
}

/* Linux's bulk_pipe on Ferry's libc pipes: size bytes from one process to
 * another and an 8-byte ack (pipetest bw); each sample the median of 16
 * transfers of one run. */
static const char *bulk_pipe(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    if (c->size < 64 || c->size > (1 << 20))
        return "sizes from 64 bytes to 1 MiB";
    char size_s[24];
    fmt_snprintf(size_s, sizeof size_s, "%ld", (long)c->size);
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        const char *argv[] = { "bw", size_s, "16", NULL };
        long status = -1;
        unsigned long pid = proc_spawn("pipetest", argv, NULL);
        if (!pid || !proc_wait(pid, &status) || status <= 6)
            return "pipetest bw failed (a stamp came back wrong, or a process did not end)";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = (uint64_t)status;
    }
    return NULL;
}

/* "cat FILE | wc" (userspace/io/pipeline.h, the same code as Linux's
 * pipeline row): pipe, fork; the child opens a file of the disk image
 * through the file server (its cache warm after the first run: no driver
 * in the timed runs after that) and writes it into the pipe 4 KiB at a
 * time, the parent counts words and lines, then reaps it.  pipetest times
 * itself: each sample is the median of 8 runs of one program. */
static const char *pipeline(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    if (c->size != 4096 && c->size != 65536)
        return "sizes 4096 and 65536 (the disk image's F4K.BIN and F64K.BIN)";
    const char *fail = NULL, *seed;
    const char *path = file_for(c->size, &seed);
    unsigned long ata = proc_spawn("ata", NULL, NULL);
    unsigned long fs = ata && serve_until_registered(ata) ? proc_spawn("fatfs", NULL, NULL) : 0;
    if (!fs || !serve_until_registered(fs))
        fail = "the block driver or the file server did not start (is the disk image attached?)";
    char size_s[24];
    fmt_snprintf(size_s, sizeof size_s, "%ld", (long)c->size);
    for (size_t i = 0; i < c->warmup + c->n && !fail; i++) {
        const char *argv[] = { "wc", path, size_s, "8", NULL };
        long status = -1;
        unsigned long pid = proc_spawn("pipetest", argv, NULL);
        if (!pid || !proc_wait(pid, &status) || status <= 4)
            fail = "pipetest wc failed (a wrong count, or a process did not end)";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = (uint64_t)status;
    }
    stop("fatfs");
    stop("ata");
    return fail;
}

static const int64_t pipeline_sizes[] = { 4096, 65536 };
static const int64_t pipe_sizes[] = { 64, 1024, 16384, 65536, 262144, 1048576 };

static const int64_t file_sizes[] = { 0, 4096, 65536 };
static const int64_t ram_sizes[] = { 0, 4096, 65536, 1048576, 16777216 };
static const int64_t sector_size[] = { 512 };
static const struct file_read_arg blk_arg = { .cache = false }, cached_arg = { .cache = true },
    blk_grant_arg = { .cache = false, .grant = true }, cached_grant_arg = { .cache = true, .grant = true },
    restart_arg = { .cache = false, .restart = true }, ram_arg = { .ram = true },
    ram_grant_arg = { .ram = true, .grant = true };

const struct bench_entry bench_io[] = {
    { .name = "pipe_rt", .variant = "cpu1", .fn = pipe_rt, .default_samples = 20, .max_samples = 200,
      .description = "one-byte pipe round trip between two processes (libc pipes over memory a fork "
                     "shares, blocking by yield); each sample the median of 64" },
    { .name = "bulk_pipe", .variant = "cpu1", .fn = bulk_pipe, .sizes = pipe_sizes,
      .nsizes = sizeof pipe_sizes / sizeof pipe_sizes[0], .default_samples = BENCH_BULK_MAX_SAMPLES,
      .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "bytes through a libc pipe plus an 8-byte ack, two processes, one CPU; each sample "
                     "the median of 16" },
    { .name = "pipeline", .variant = "cpu1", .fn = pipeline, .sizes = pipeline_sizes,
      .nsizes = sizeof pipeline_sizes / sizeof pipeline_sizes[0], .default_samples = 10, .max_samples = 100,
      .description = "cat FILE | wc: pipe, fork, the child reads a file through the file server (cache "
                     "warm) into the pipe, the parent counts words and lines, waitpid; median of 8 runs" },
    { .name = "file_read", .variant = "blk_copy", .fn = file_read, .arg = &blk_arg,
      .sizes = file_sizes, .nsizes = sizeof file_sizes / sizeof file_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "read(size) of a file through the file server and the ATA driver (no cache), "
                     "data copied through IPC buffers; plus one marker Call (size 0)" },
    { .name = "file_read", .variant = "cached_copy", .fn = file_read, .arg = &cached_arg,
      .sizes = file_sizes, .nsizes = sizeof file_sizes / sizeof file_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = 200,
      .description = "read(size) of a file in the file server's sector cache (warm), data copied "
                     "through IPC buffers; plus one marker Call (size 0)" },
    { .name = "file_read", .variant = "blk_grant", .fn = file_read, .arg = &blk_grant_arg,
      .sizes = file_sizes, .nsizes = sizeof file_sizes / sizeof file_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = BENCH_BULK_MAX_SAMPLES,
      .description = "read(size) through the file server and the ATA driver (no cache), data through "
                     "a 64 KiB window granted at open, copied out by the reader; plus one marker Call" },
    { .name = "file_read", .variant = "cached_grant", .fn = file_read, .arg = &cached_grant_arg,
      .sizes = file_sizes, .nsizes = sizeof file_sizes / sizeof file_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = 200,
      .description = "read(size) of a file in the file server's sector cache (warm), data through a "
                     "64 KiB window granted at open, copied out by the reader; plus one marker Call" },
    { .name = "file_read", .variant = "ram_copy", .fn = file_read, .arg = &ram_arg,
      .sizes = ram_sizes, .nsizes = sizeof ram_sizes / sizeof ram_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = 200,
      .description = "read(size) of a file on the file server's RAM disk (FAT12 in its own memory, no "
                     "driver), data copied through IPC buffers; plus one marker Call (size 0)" },
    { .name = "file_read", .variant = "ram_grant", .fn = file_read, .arg = &ram_grant_arg,
      .sizes = ram_sizes, .nsizes = sizeof ram_sizes / sizeof ram_sizes[0],
      .default_samples = BENCH_BULK_MAX_SAMPLES, .max_samples = 200,
      .description = "read(size) of a file on the file server's RAM disk (no driver), data through a "
                     "64 KiB window granted at open, copied out by the reader; plus one marker Call" },
    { .name = "driver_restart", .variant = "ata", .fn = file_read, .arg = &restart_arg,
      .sizes = sector_size, .nsizes = 1, .default_samples = 20, .max_samples = 100,
      .description = "a 512-byte read (no cache) during which the ATA driver dies: the supervisor's "
                     "restart, the file server's retry on the new driver; plus the crash request, a "
                     "lookup of the new blk: and the marker; from the fourth sample on, the supervisor "
                     "backs off (crashes in a row)" },
};
const size_t bench_io_n = sizeof bench_io / sizeof bench_io[0];
