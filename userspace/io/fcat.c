/* fcat.c: a client of the file: service: prints a file (the demo), or
 * checks files against the disk image's patterns (ferry/io.h), writes and
 * lists, and reads through injected crashes of the file server or the
 * block driver.  Status 0 when everything checked out.
 *
 *   fcat PATH                         print it
 *   fcat -v PATH SEED SIZE [CHUNK]    read it back, byte-exact
 *   fcat -w PATH SEED SIZE            create it with the pattern, read it back
 *   fcat -l DIR NAME...               list DIR; each NAME must be there
 *   fcat -e                           errors: missing file, bad name, directory
 *   fcat -gclose PATH                 a granted window, touched after close (must fault)
 *   fcat -crash blk|file N PATH SEED SIZE
 *                                     read PATH N times over, the service
 *                                     dying in the middle of each pass
 *   fcat -killed blk|file PATH SEED SIZE
 *                                     read PATH once as -crash, reconnecting
 *                                     when the test kills the service
 *   fcat -rbench PATH SEED N          N times: the block driver told to die on
 *                                     its next request, then a 512-byte read
 *                                     from the start (a crash, the restart,
 *                                     the retry) and a marker Call, as -bench
 *   fcat -bench|-gbench PATH SEED SIZE N
 *                                     N reads of SIZE bytes from the start (-gbench: through a granted window),
 *                                     each followed by a marker Call to the
 *                                     process server (its clock: bench/ferry/io.c),
 *                                     then the whole file checked
 *   fcat -large                       asks for the large region (PROC_MMAP_LARGE), which its
 *                                     manifest does not grant: status 0 when refused so
 *   fcat -blk                         blk: itself: runs of sectors through its window
 *                                     against one-sector reads, the disk's end,
 *                                     refusals, a drive error, a crash mid-transfer */
#include <ferry/fat.h>
#include <ferry/fileclient.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileread.h"
#include "io_progs.h"

#define FILE_SLOT PROC_CAP_FIRST_FREE
#define BLK_SLOT  (PROC_CAP_FIRST_FREE + 1)
#define CHUNK_MAX 65536

static unsigned char *buf;          /* CHUNK_MAX bytes of anonymous memory */
_Static_assert(FILEREAD_CHUNK <= CHUNK_MAX, "fileread.h's reads fit the buffer");
static unsigned long recoveries;

static inline unsigned long rdtsc(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (unsigned long)hi << 32 | lo;
}

static unsigned long number(const char *s)
{
    unsigned long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long)(*s++ - '0');
    return v;
}

/* Looks name up into slot, waiting while the supervisor restarts it. */
static bool connect(const char *name, unsigned long slot)
{
    for (int i = 0; i < 100000; i++) {
        unsigned long err = proc_lookup(name, slot);
        if (err == PROC_OK)
            return true;
        if (err != PROC_E_NOT_FOUND && err != PROC_E_BAD_REQUEST)
            return false;
        sys_yield();
    }
    return false;
}

static int print_file(const char *path)
{
    unsigned long size;
    long h = fc_open(FILE_SLOT, path, FAT_O_READ, &size);
    if (h < 0) {
        printf("fcat: %s: error %ld\n", path, h);
        return 1;
    }
    long n;
    while ((n = fc_read(FILE_SLOT, h, buf, 512)) > 0) {
        buf[n] = 0;
        printf("%s", (char *)buf);
    }
    fc_close(FILE_SLOT, h);
    return n < 0;
}

static bool check(const unsigned char *b, unsigned seed, unsigned long at, long n)
{
    for (long i = 0; i < n; i++)
        if (b[i] != io_pattern(seed, at + (unsigned long)i)) {
            printf("fcat: byte %lu is %u, expected %u\n", at + (unsigned long)i, b[i],
                   io_pattern(seed, at + (unsigned long)i));
            return false;
        }
    return true;
}

static int verify(const char *path, unsigned seed, unsigned long size, unsigned long chunk)
{
    unsigned long got_size;
    long h = fc_open(FILE_SLOT, path, FAT_O_READ, &got_size);
    if (h < 0 || got_size != size) {
        printf("fcat: %s: open %ld, size %lu (expected %lu)\n", path, h, got_size, size);
        return 1;
    }
    unsigned long at = 0;
    long n;
    while ((n = fc_read(FILE_SLOT, h, buf, chunk)) > 0) {
        if (!check(buf, seed, at, n))
            return 2;
        at += (unsigned long)n;
    }
    fc_close(FILE_SLOT, h);
    if (n < 0 || at != size) {
        printf("fcat: %s: read %ld, %lu bytes of %lu\n", path, n, at, size);
        return 3;
    }
    return 0;
}

static int write_file(const char *path, unsigned seed, unsigned long size)
{
    long h = fc_open(FILE_SLOT, path, FAT_O_WRITE | FAT_O_CREATE | FAT_O_TRUNC, NULL);
    if (h < 0) {
        printf("fcat: create %s: %ld\n", path, h);
        return 1;
    }
    for (unsigned long at = 0; at < size;) {
        unsigned long k = size - at < 3000 ? size - at : 3000;    /* not sector-aligned on purpose */
        for (unsigned long i = 0; i < k; i++)
            buf[i] = io_pattern(seed, at + i);
        if (fc_write(FILE_SLOT, h, buf, k) != (long)k)
            return 2;
        at += k;
    }
    if (fc_close(FILE_SLOT, h))
        return 3;
    unsigned long st_size = 0;
    if (fc_stat(FILE_SLOT, path, &st_size, NULL) || st_size != size)
        return 4;
    return verify(path, seed, size, 1000);
}

static int list(const char *dir, int n, char **names)
{
    long h = fc_opendir(FILE_SLOT, dir);
    if (h < 0)
        return 1;
    unsigned long found = 0, size, attr;
    char name[FAT_NAME_MAX];
    long r;
    while ((r = fc_readdir(FILE_SLOT, h, name, sizeof name, &size, &attr)) == 1) {
        printf("  %-14s %8lu%s\n", name, size, attr & FAT_ATTR_DIR ? " <dir>" : "");
        for (int i = 0; i < n; i++)
            if (strcmp(name, names[i]) == 0)
                found |= 1UL << i;
    }
    fc_close(FILE_SLOT, h);
    return r == 0 && found == (1UL << n) - 1 ? 0 : 2;
}

static int errors(void)
{
    unsigned long size;
    if (fc_open(FILE_SLOT, "/NOSUCH.TXT", FAT_O_READ, &size) != FAT_E_NOENT)
        return 1;
    if (fc_open(FILE_SLOT, "/DOCS", FAT_O_READ, &size) != FAT_E_ISDIR)
        return 2;
    if (fc_open(FILE_SLOT, "/a very long name.txt", FAT_O_WRITE | FAT_O_CREATE, &size) != FAT_E_NAME)
        return 3;
    if (fc_read(FILE_SLOT, 12, buf, 10) != FILE_E_BADREQ)     /* not an open handle */
        return 4;
    long h = fc_open(FILE_SLOT, "/HELLO.TXT", FAT_O_READ, &size);
    if (h < 0 || fc_write(FILE_SLOT, h, "x", 1) != FAT_E_BADF)
        return 5;
    if (fc_seek(FILE_SLOT, h, 6, 0) != 6 || fc_read(FILE_SLOT, h, buf, 4) != 4 || memcmp(buf, "from", 4) != 0)
        return 6;
    fc_close(FILE_SLOT, h);
    return 0;
}

/* Median of v[0..n) (sorts v). */
static unsigned long median(unsigned long *v, unsigned long n)
{
    for (unsigned long i = 1; i < n; i++)
        for (unsigned long j = i; j > 0 && v[j - 1] > v[j]; j--) {
            unsigned long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[n / 2] : 0;
}

#define CRASH_PASSES_MAX 128
#define CRASH_READS_MAX  1024

/* Reads the file `passes` times; in each pass the chosen service is told
 * to die a few requests in.  A dead file server shows as FILE_E_GONE:
 * look it up again, reopen, seek back, go on.  A dead block driver is the
 * file server's business: nothing shows here. */
static int crash_reads(bool file, unsigned long passes, const char *path, unsigned seed, unsigned long size,
                       bool inject)
{
    if (!file && !connect("blk:", BLK_SLOT))
        return 10;
    /* each read's TSC ticks: the slowest of a pass holds its crash, the
     * restart and the retry; the others are ordinary reads */
    static unsigned long crash_t[CRASH_PASSES_MAX], plain_t[CRASH_READS_MAX];
    unsigned long slowest = 0, fastest = ~0UL, nplain = 0;
    for (unsigned long pass = 0; pass < passes; pass++) {
        unsigned long at = 0, got, pass_max = 0;
        long h = -1;
        bool armed = !inject;                    /* -killed: the test kills the service itself */
        while (at < size) {
            if (h < 0 && (h = fc_open(FILE_SLOT, path, FAT_O_READ, &got)) >= 0 &&
                fc_seek(FILE_SLOT, h, (long)at, 0) != (long)at)
                return 11;
            if (h >= 0 && !armed) {
                /* a handful of requests into this pass (a different point each time) */
                unsigned long n = 2 + pass % 7;
                long r = file ? fc_crash(FILE_SLOT, n) : 0;
                if (!file) {
                    struct sys_msg m = { .info = FERRY_MSGINFO(BLK_CRASH, 1, 0), .w = { 1 + pass % 8 } };   /* a pass makes at least 10 requests */
                    if (sys_raw(FERRY_SYS_CALL, BLK_SLOT, &m)) {
                        if (!connect("blk:", BLK_SLOT))   /* the driver restarted since we looked */
                            return 12;
                        continue;
                    }
                }
                armed = r == 0;
            }
            unsigned long t0 = rdtsc();
            long n = h >= 0 ? fc_read(FILE_SLOT, h, buf, 4096) : FILE_E_GONE;
            unsigned long t = rdtsc() - t0;
            if (n > 0 && t > slowest)
                slowest = t;
            if (n > 0 && t < fastest)
                fastest = t;
            if (n > 0) {
                unsigned long keep = t;
                if (keep > pass_max) {               /* the pass's slowest so far: the old one was plain */
                    keep = pass_max;
                    pass_max = t;
                }
                if (keep && nplain < CRASH_READS_MAX)
                    plain_t[nplain++] = keep;
            }
            if (n == FILE_E_GONE) {
                recoveries++;
                if (!connect("file:", FILE_SLOT))
                    return 13;
                h = -1;
                continue;
            }
            if (n <= 0 || !check(buf, seed, at, n)) {
                printf("fcat: pass %lu at %lu: read %ld\n", pass, at, n);
                return 14;
            }
            if (!inject && at < size / 2 && at + (unsigned long)n >= size / 2) {
                /* halfway: the marker the test waits for to kill the
                 * service (IO_KILL_MARK_PAGES first touches: its fault count) */
                volatile char *mark = proc_mmap(IO_KILL_MARK_PAGES * 4096UL);
                for (unsigned long i = 0; mark && i < IO_KILL_MARK_PAGES; i++)
                    mark[i * 4096] = 1;
            }
            at += (unsigned long)n;
        }
        if (h >= 0)
            fc_close(FILE_SLOT, h);
        if (pass < CRASH_PASSES_MAX)
            crash_t[pass] = pass_max;
    }
    unsigned long np = passes < CRASH_PASSES_MAX ? passes : CRASH_PASSES_MAX;
    printf("fcat: %lu passes over %s read right, %lu reconnections; 4 KiB reads took %lu to %lu TSC ticks; "
           "median of each pass's slowest (its crash) %lu",
           passes, path, recoveries, fastest, slowest, median(crash_t, np));
    if (nplain)
        printf(", of the others %lu", median(plain_t, nplain));
    printf("\n");
    return file && recoveries < passes ? 15 : 0;
}

/* -rbench: the block driver dies on the request of each timed read, which
 * the file server retries on the restarted driver (the cache off: the
 * sector comes from the disk; the bench checks one restart per read).  A sample: the BLK_CRASH Call, a lookup of
 * the new blk:, the seek, the 512-byte read through the crash, the restart
 * and the retry, the marker (bench/ferry/io.c: driver_restart/ata). */
static int restart_reads(const char *path, unsigned seed, unsigned long n)
{
    unsigned long fsize;
    long h = fc_open(FILE_SLOT, path, FAT_O_READ, &fsize);
    if (h < 0 || fsize < 2 * FAT_SECTOR || !connect("blk:", BLK_SLOT))
        return 1;
    proc_getpid();                          /* the clock starts */
    for (unsigned long i = 0; i < n; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(BLK_CRASH, 1, 0), .w = { 1 } };
        if (sys_raw(FERRY_SYS_CALL, BLK_SLOT, &m) || m.w[0])
            return 2;
        /* the file's first two sectors in turn: the file server keeps the
         * last one it read (nocache), so each read needs the driver */
        long at = (long)(i % 2) * FAT_SECTOR;
        if (fc_seek(FILE_SLOT, h, at, 0) != at || fc_read(FILE_SLOT, h, buf, FAT_SECTOR) != FAT_SECTOR)
            return 3;
        proc_getpid();                      /* one read done */
        if (!check(buf, seed, (unsigned long)at, FAT_SECTOR))
            return 4;
        if (!connect("blk:", BLK_SLOT))     /* the new driver, for the next crash */
            return 5;
    }
    fc_close(FILE_SLOT, h);
    return 0;
}

/* fileread.h's clock here: a getpid() Call, which the process server
 * timestamps (bench/ferry/io.c reads its records). */
static void bench_mark(void *arg)
{
    (void)arg;
    getpid();
}

static unsigned char bench_pattern(uint32_t seed, uint64_t i)
{
    return io_pattern(seed, (unsigned long)i);
}

/* -bench/-gbench: fileread.h's loop, the program Linux's file_read rows
 * run, on the libc's file descriptors (the file: server behind them; by
 * grant: O_FERRY_GRANT). */
static int bench_reads(const char *path, unsigned seed, unsigned long size, unsigned long n, bool grant)
{
    struct stat st;
    int fd = open(path, fileread_flags(grant));
    if (fd < 0 || fstat(fd, &st) != 0 || size > (unsigned long)st.st_size)
        return 1;
    int r = fileread_loop(fd, buf, size, n, bench_mark, NULL);
    if (!r)
        r = fileread_check(fd, buf, size, (size_t)st.st_size, bench_pattern, seed);
    if (r)
        printf("fcat: %s: the timed reads failed at step %d\n", path, r);
    close(fd);
    return r;
}

/* -large: the process server must refuse the large region to a program
 * whose manifest lacks mmap_large (PROC_E_DENIED, whoever holds it). */
static int large_refused(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(PROC_MMAP, 2, 0), .w = { 4UL << 20, PROC_MMAP_LARGE } };
    if (sys_raw(FERRY_SYS_CALL, PROC_CAP_SERVER, &m))
        return 1;
    if (m.w[0] != PROC_E_DENIED) {
        printf("fcat: the large region without the right: error %lu, address %#lx\n", m.w[0], m.w[1]);
        return 2;
    }
    return 0;
}

/* One blk: request: label, w0..w2; the reply's status (w0), or 1 when the
 * Call itself failed (the driver died). */
static long blk_call(struct sys_msg *m, unsigned long label, unsigned long w0, unsigned long w1, unsigned long w2)
{
    *m = (struct sys_msg){ .info = FERRY_MSGINFO(label, 3, 0), .w = { w0, w1, w2 } };
    return sys_raw(FERRY_SYS_CALL, BLK_SLOT, m) ? 1 : (long)m->w[0];
}

/* BLK_READN of n sectors from lba, each compared with a BLK_READ of it. */
static int blk_run_check(const unsigned char *win, unsigned long lba, unsigned long n)
{
    struct sys_msg m;
    long r = blk_call(&m, BLK_READN, lba, n, 0);
    if (r) {
        printf("fcat: blk: %lu sectors at %lu: %ld\n", n, lba, r);
        return 1;
    }
    memcpy(buf, win, n * FAT_SECTOR);         /* before the next request reuses the window */
    for (unsigned long i = 0; i < n; i++) {
        if (blk_call(&m, BLK_READ, lba + i, 0, 0))
            return 2;
        if (memcmp(buf + i * FAT_SECTOR, &PROC_IPC->mr[IO_DATA_WORD], FAT_SECTOR)) {
            printf("fcat: blk: sector %lu of the run at %lu differs\n", i, lba);
            return 3;
        }
    }
    return 0;
}

static int blk_checks(void)
{
    struct sys_msg m;
    if (!connect("blk:", BLK_SLOT) || blk_call(&m, BLK_INFO, 0, 0, 0))
        return 30;
    unsigned long sectors = m.w[1], multi = m.w[2], waits0 = m.w[3];
    if (blk_call(&m, BLK_READN, 0, 1, 0) != BLK_E_BAD)            /* no window yet */
        return 31;
    if (blk_call(&m, BLK_WINDOW, 0, 0, 0) || m.w[2] != BLK_WINDOW_BYTES)
        return 32;
    const unsigned char *win = (const unsigned char *)m.w[1];
    if (blk_call(&m, BLK_WINDOW, 0, 0, 0) || (const unsigned char *)m.w[1] != win)   /* the same one again */
        return 33;
    const unsigned long max = BLK_WINDOW_BYTES / FAT_SECTOR;
    /* within a block, across blocks from inside one, the whole window,
     * the last sectors of the disk */
    const unsigned long runs[][2] = { { 0, 1 }, { 3, 37 }, { 15, 2 }, { 31, 33 }, { 200, max },
                                      { sectors - 5, 5 }, { sectors - 1, 1 }, { sectors - max, max } };
    for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++)
        if (blk_run_check(win, runs[i][0], runs[i][1]))
            return 34;
    /* a run of the file F64K.BIN checked against its pattern: the data itself */
    unsigned long fsize;
    long h = fc_open(FILE_SLOT, "/F64K.BIN", FAT_O_READ, &fsize);
    if (h < 0 || fc_read(FILE_SLOT, h, buf, 4096) != 4096 || !check(buf, 2, 0, 4096))
        return 35;
    fc_close(FILE_SLOT, h);
    /* refusals: past the end, no sectors, more than the window */
    if (blk_call(&m, BLK_READN, sectors - 4, 5, 0) != BLK_E_RANGE || blk_call(&m, BLK_READN, sectors, 1, 0) != BLK_E_RANGE ||
        blk_call(&m, BLK_READN, ~0UL, 2, 0) != BLK_E_RANGE ||
        blk_call(&m, BLK_READN, 0, 0, 0) != BLK_E_BAD || blk_call(&m, BLK_READN, 0, max + 1, 0) != BLK_E_BAD)
        return 36;
    /* the drive's own error: a command past the end (the driver's range
     * check skipped), then an ordinary read works */
    if (blk_call(&m, BLK_READN, sectors - 2, 4, BLK_READN_NOCHECK) != BLK_E_IO)
        return 37;
    if (blk_run_check(win, 40, 20))
        return 38;
    /* interrupts: the driver slept on IRQ 14 (the manifest grants it) */
    if (blk_call(&m, BLK_INFO, 0, 0, 0) || m.w[3] <= waits0)
        return 39;
    printf("fcat: blk: %lu sectors, %lu a READ MULTIPLE block, %lu IRQ waits; runs, the end, refusals, "
           "a drive error checked\n", sectors, multi, m.w[3] - waits0);
    /* a crash in the middle of a transfer (the drive left holding DRQ):
     * the restarted driver resets it, and gives a new window */
    if (blk_call(&m, BLK_CRASH, 3, 0, 0) || blk_call(&m, BLK_READN, 0, 32, 0) != 1)
        return 40;
    if (!connect("blk:", BLK_SLOT) || blk_call(&m, BLK_WINDOW, 0, 0, 0))
        return 41;
    win = (const unsigned char *)m.w[1];
    return blk_run_check(win, 0, 32) ? 42 : 0;
}

/* A granted window is gone after close: touching it ends this process. */
static int window_after_close(const char *path)
{
    const unsigned char *window;
    unsigned long size;
    long h = fc_open_grant(FILE_SLOT, path, FAT_O_READ, &size, &window);
    if (h < 0 || fc_read_window(FILE_SLOT, h, 16) != 16 || window[0] != io_pattern(1, 0))
        return 1;
    if (fc_close(FILE_SLOT, h))
        return 2;
    return window[0] == 0xee ? 3 : 4;       /* not reached: the read faults */
}

int fcat_main(int argc, char **argv, char **envp)
{
    (void)envp;
    if (!(buf = proc_mmap(CHUNK_MAX)))
        return 22;
    if (argc == 2 && strcmp(argv[1], "-large") == 0)
        return large_refused();             /* no file: needed */
    if (!connect("file:", FILE_SLOT)) {
        printf("fcat: no file: service\n");
        return 20;
    }
    if (argc == 2 && argv[1][0] != '-')
        return print_file(argv[1]);
    if (argc >= 5 && strcmp(argv[1], "-v") == 0)
        return verify(argv[2], (unsigned)number(argv[3]), number(argv[4]),
                      argc > 5 && number(argv[5]) <= CHUNK_MAX ? number(argv[5]) : 4096);
    if (argc == 5 && strcmp(argv[1], "-w") == 0)
        return write_file(argv[2], (unsigned)number(argv[3]), number(argv[4]));
    if (argc >= 3 && strcmp(argv[1], "-l") == 0)
        return list(argv[2], argc - 3, argv + 3);
    if (argc == 2 && strcmp(argv[1], "-e") == 0)
        return errors();
    if (argc == 2 && strcmp(argv[1], "-blk") == 0)
        return blk_checks();
    if (argc == 3 && strcmp(argv[1], "-gclose") == 0)
        return window_after_close(argv[2]);
    if (argc == 7 && strcmp(argv[1], "-crash") == 0)
        return crash_reads(strcmp(argv[2], "file") == 0, number(argv[3]), argv[4],
                           (unsigned)number(argv[5]), number(argv[6]), true);
    if (argc == 6 && strcmp(argv[1], "-killed") == 0)
        return crash_reads(strcmp(argv[2], "file") == 0, 1, argv[3], (unsigned)number(argv[4]),
                           number(argv[5]), false);
    if (argc == 5 && strcmp(argv[1], "-rbench") == 0)
        return restart_reads(argv[2], (unsigned)number(argv[3]), number(argv[4]));
    if (argc == 6 && (strcmp(argv[1], "-bench") == 0 || strcmp(argv[1], "-gbench") == 0))
        return bench_reads(argv[2], (unsigned)number(argv[3]), number(argv[4]), number(argv[5]),
                           argv[1][1] == 'g');
    printf("fcat: bad arguments\n");
    return 21;
}
