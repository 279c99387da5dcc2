/* fatfs.c: the file: service: a FAT file system (userspace/fs/fat.c) on the
 * blk: block driver, with a write-through sector cache, or (ram=KIB) on a
 * RAM disk of its own memory, formatted at start; requests and replies
 * carry data through the IPC buffer (ferry/io.h).  A block driver that dies
 * is looked up again and the request retried, so a restart by the
 * supervisor is invisible to clients. */
#include <ferry/fat.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include <stdlib.h>
#include "io_progs.h"

#define BLK_SLOT    PROC_CAP_FIRST_FREE
#define CACHE_SECTORS 256            /* 128 KiB, direct-mapped */
#define FILES_MAX   16
#define PATH_MAX    256

static struct fat_fs fs;
static bool have_blk;
static unsigned long cache_tag[CACHE_SECTORS];      /* lba + 1; 0: empty */
static unsigned char (*cache_data)[FAT_SECTOR];     /* anonymous memory: io.elf's image stays small */
static bool cache_on = true;
/* nocache keeps the last sector only: a read that ends inside a sector and
 * the next one that starts there (896-byte FILE_READs do) fetch it from
 * the driver once, as a large read would, so copy and grant are compared
 * on the same disk traffic. */
static unsigned cache_sectors = CACHE_SECTORS;
static unsigned char last_sector[1][FAT_SECTOR];
static unsigned long blk_calls, blk_retries;
/* The driver's window (BLK_WINDOW), where BLK_READN puts runs of sectors;
 * NULL: one sector a BLK_READ.  It goes with the driver that made it, so
 * it is read only after a BLK_READN that succeeded and asked for again on
 * each new connection, at its first run of more than one sector (a driver
 * restarted under a one-sector read does not make one: sharing its 16
 * pages costs about 80,000 instructions). */
static const unsigned char *blk_window;
static bool blk_window_asked;

static struct {
    struct fat_file f;
    unsigned long owner;      /* the client's badge (its pid) */
    bool used;
    unsigned char *window;    /* FILE_O_GRANT: memory shared with the owner */
} files[FILES_MAX];

/* (Re)connects to blk:, waiting while the supervisor restarts it.  A
 * lookup is a round trip to the name service; between misses the wait
 * yields 1, 2, 4 ... 32 times, so a supervisor backing off (it yields up to
 * 256 times) does not make us spin through a lookup per yield, while a
 * restart without back-off is seen within a few yields. */
#define CONNECT_YIELDS_MAX 32
static bool blk_connect(void)
{
    unsigned long yields = 1;
    for (int i = 0; i < 100000; i++) {
        unsigned long err = proc_lookup("blk:", BLK_SLOT);
        if (err == PROC_OK) {
            blk_window = NULL;
            blk_window_asked = false;
            return have_blk = true;
        }
        if (err != PROC_E_NOT_FOUND)
            return false;
        for (unsigned long y = 0; y < yields; y++)
            sys_yield();
        if (yields < CONNECT_YIELDS_MAX)
            yields *= 2;
    }
    return false;
}

/* One sector through blk:, retried on a new driver when the old one died. */
static int blk_sector(unsigned long label, uint64_t lba, void *buf)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        if (!have_blk && !blk_connect())
            return -1;
        struct sys_msg m = { .info = FERRY_MSGINFO(label, label == BLK_WRITE ? IO_DATA_WORD + 64 : 1, 0),
                             .w = { lba } };
        if (label == BLK_WRITE)
            memcpy(&PROC_IPC->mr[IO_DATA_WORD], buf, FAT_SECTOR);
        blk_calls++;
        unsigned long err = sys_raw(FERRY_SYS_CALL, BLK_SLOT, &m);
        if (err) {
            /* the driver died with our request in flight (or before):
             * its endpoint is gone from our slot; find the new one */
            have_blk = false;
            blk_retries++;
            continue;
        }
        if (m.w[0])
            return -1;
        if (label == BLK_READ)
            memcpy(buf, &PROC_IPC->mr[IO_DATA_WORD], FAT_SECTOR);
        return 0;
    }
    return -1;
}

/* count sectors (<= the window) through the driver's window: one BLK_READN,
 * retried on a new driver when the old one died; one BLK_READ a sector
 * when the driver gave no window. */
static int blk_run(uint64_t lba, uint32_t count, unsigned char *out)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        if (!have_blk && !blk_connect())
            return -1;
        if (!blk_window && !blk_window_asked && count > 1) {
            struct sys_msg m = { .info = FERRY_MSGINFO(BLK_WINDOW, 0, 0) };
            if (sys_raw(FERRY_SYS_CALL, BLK_SLOT, &m)) {
                have_blk = false;                       /* died: again on the next one */
                continue;
            }
            blk_window_asked = true;
            if (m.w[0] == 0 && m.w[2] == BLK_WINDOW_BYTES)
                blk_window = (const unsigned char *)m.w[1];
        }
        if (!blk_window || count == 1) {
            for (uint32_t i = 0; i < count; i++)
                if (blk_sector(BLK_READ, lba + i, out + (size_t)i * FAT_SECTOR))
                    return -1;
            return 0;
        }
        struct sys_msg m = { .info = FERRY_MSGINFO(BLK_READN, 3, 0), .w = { lba, count, 0 } };
        blk_calls++;
        if (sys_raw(FERRY_SYS_CALL, BLK_SLOT, &m)) {
            have_blk = false;           /* died: its window went with it */
            blk_window = NULL;
            blk_retries++;
            continue;
        }
        if ((long)m.w[0] == BLK_E_BAD) {
            have_blk = false;           /* the driver took our window back: ask again */
            blk_window = NULL;
            continue;
        }
        if (m.w[0])
            return -1;
        memcpy(out, blk_window, (size_t)count * FAT_SECTOR);
        return 0;
    }
    return -1;
}

/* Sectors from the cache where it has them; each run of misses from the
 * driver in as few requests as the window allows. */
static int dev_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    (void)ctx;
    unsigned char *out = buf;
    for (uint32_t i = 0; i < count;) {
        unsigned k = (unsigned)((lba + i) % cache_sectors);
        if (cache_tag[k] == lba + i + 1) {
            memcpy(out + (size_t)i * FAT_SECTOR, cache_data[k], FAT_SECTOR);
            i++;
            continue;
        }
        uint32_t run = 1;
        while (i + run < count && run < BLK_WINDOW_BYTES / FAT_SECTOR &&
               cache_tag[(lba + i + run) % cache_sectors] != lba + i + run + 1)
            run++;
        if (blk_run(lba + i, run, out + (size_t)i * FAT_SECTOR))
            return -1;
        for (uint32_t j = i + run - (run < cache_sectors ? run : cache_sectors); j < i + run; j++) {
            unsigned kj = (unsigned)((lba + j) % cache_sectors);
            memcpy(cache_data[kj], out + (size_t)j * FAT_SECTOR, FAT_SECTOR);
            cache_tag[kj] = lba + j + 1;
        }
        i += run;
    }
    return 0;
}

static int dev_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    (void)ctx;
    const unsigned char *in = buf;
    for (uint32_t i = 0; i < count; i++, lba++, in += FAT_SECTOR) {
        unsigned k = (unsigned)(lba % cache_sectors);
        cache_tag[k] = 0;
        if (blk_sector(BLK_WRITE, lba, (void *)in))
            return -1;
        memcpy(cache_data[k], in, FAT_SECTOR);
        cache_tag[k] = lba + 1;
    }
    return 0;
}

/* The request's path (data words, w1 = length) into buf. */
static bool req_path(const struct sys_msg *m, char *buf)
{
    unsigned long len = m->w[1];
    if (len == 0 || len >= PATH_MAX || len > IO_DATA_BYTES ||
        FERRY_MSGINFO_LEN(m->info) < IO_DATA_WORD + (len + 7) / 8)
        return false;
    memcpy(buf, &PROC_IPC->mr[IO_DATA_WORD], len);
    buf[len] = 0;
    return true;
}

static struct fat_file *handle(const struct sys_msg *m)
{
    unsigned long h = m->w[0];
    if (h >= FILES_MAX || !files[h].used || files[h].owner != m->badge)
        return NULL;
    return &files[h].f;
}

static long new_handle(unsigned long owner)
{
    for (long h = 0; h < FILES_MAX; h++)
        if (!files[h].used) {
            files[h].used = true;
            files[h].owner = owner;
            return h;
        }
    return FILE_E_NFILE;
}

/* `fill`: the disk image's test files (ferryhost/disk.py's names, seeds
 * and sizes; F16M.BIN only on a large RAM disk, IO_RAM_LARGE_KIB or
 * more) written into the fresh RAM disk. */
static bool ram_fill(bool large)
{
    static const struct { const char *name; unsigned seed; unsigned long size; } files_[] = {
        { "/F4K.BIN", 1, 4096 }, { "/F64K.BIN", 2, 65536 }, { "/F1M.BIN", 3, 1 << 20 }, { "/ODD.BIN", 5, 300007 },
        { "/F16M.BIN", 4, 16 << 20 },
    };
    static const char hello[] = "Hello from the Ferry file server: read from its RAM disk.\n";
    static unsigned char chunk[4096], period[4093];   /* io_pattern repeats every 4093 bytes */
    struct fat_file f;
    if (fat_open(&fs, &f, "/HELLO.TXT", FAT_O_WRITE | FAT_O_CREATE) ||
        fat_write(&f, hello, sizeof hello - 1) != (long)sizeof hello - 1 || fat_close(&f))
        return false;
    for (size_t k = 0; k < sizeof files_ / sizeof files_[0] - !large; k++) {
        if (fat_open(&fs, &f, files_[k].name, FAT_O_WRITE | FAT_O_CREATE))
            return false;
        for (size_t i = 0; i < sizeof period; i++)
            period[i] = io_pattern(files_[k].seed, i);
        for (unsigned long at = 0; at < files_[k].size;) {
            size_t n = files_[k].size - at < sizeof chunk ? files_[k].size - at : sizeof chunk;
            for (size_t i = 0; i < n;) {                  /* the period copied, in at most two pieces */
                size_t from = (at + i) % sizeof period, run = sizeof period - from < n - i ? sizeof period - from : n - i;
                memcpy(chunk + i, period + from, run);
                i += run;
            }
            if (fat_write(&f, chunk, n) != (long)n)
                return false;
            at += n;
        }
        if (fat_close(&f))
            return false;
    }
    return true;
}

int fatfs_main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long ram_kib = 0;
    bool fill = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "nocache") == 0) {
            cache_on = false;
            cache_sectors = 1;
            cache_data = last_sector;
        } else if (strncmp(argv[i], "ram=", 4) == 0) {
            ram_kib = strtoul(argv[i] + 4, NULL, 10);
        } else if (strcmp(argv[i], "fill") == 0) {
            fill = true;
        }
    struct fat_blockdev dev = { .read = dev_read, .write = dev_write };
    static struct fat_ramdisk rd;
    if (ram_kib) {
        /* A RAM disk: no driver, no cache (the disk is memory already).
         * Up to IO_RAM_MAX_KIB in this process's own memory, every page
         * touched now, so a disk larger than it may map ends it here and
         * not in the middle of a write; larger ones (up to 32 MiB) in 2 MiB
         * pages beside it (PROC_MMAP_LARGE: one such in the system). */
        void *mem = ram_kib <= IO_RAM_MAX_KIB ? proc_mmap(ram_kib * 1024)
                  : ram_kib <= PROC_MMAP_LARGE_MAX / 1024 ? proc_mmap_large(ram_kib * 1024) : NULL;
        if (!mem) {
            printf("fatfs: no memory for a RAM disk of %lu KiB (at most %u, or %lu in large pages)\n", ram_kib,
                   IO_RAM_MAX_KIB, PROC_MMAP_LARGE_MAX / 1024);
            return 1;
        }
        if (ram_kib <= IO_RAM_MAX_KIB)
            memset(mem, 0, ram_kib * 1024);  /* (large pages come made, and zero) */
        fat_ramdisk_init(&dev, &rd, mem, ram_kib * 1024);
        int err = fat_format(&dev, ram_kib * 1024 / FAT_SECTOR, "ram disk");
        if (err) {
            printf("fatfs: format of the RAM disk failed (%d)\n", err);
            return 1;
        }
    } else if (cache_on && !(cache_data = proc_mmap(CACHE_SECTORS * FAT_SECTOR))) {
        printf("fatfs: no memory for the cache\n");
        return 1;
    }
    int err = fat_mount(&fs, &dev);
    if (err) {
        printf("fatfs: no FAT volume on %s (%d)\n", ram_kib ? "the RAM disk" : "blk:", err);
        return 1;
    }
    if (fill && !ram_fill(ram_kib >= IO_RAM_LARGE_KIB)) {
        printf("fatfs: the RAM disk's files could not be written\n");
        return 1;
    }
    if (proc_register("file:")) {
        printf("fatfs: register failed\n");
        return 1;
    }
    static unsigned char buf[IO_DATA_BYTES];
    static char path[PATH_MAX];
    long crash_in = -1;
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
    for (;;) {
        io_crash_tick(&crash_in);
        long r = FILE_E_BADREQ;
        unsigned long len = 1, w1 = 0, w2 = 0, w3 = 0;
        struct fat_file *f;
        struct fat_stat st;
        struct fat_dirent de;
        switch (FERRY_MSGINFO_LABEL(m.info)) {
        case FILE_OPEN:
        case FILE_OPENDIR: {
            if (!req_path(&m, path))
                break;
            long h = new_handle(m.badge);
            if (h < 0) {
                r = h;
                break;
            }
            f = &files[h].f;
            files[h].window = NULL;
            r = FERRY_MSGINFO_LABEL(m.info) == FILE_OPEN ? fat_open(&fs, f, path, (int)(m.w[0] & ~FILE_O_GRANT))
                                                         : fat_opendir(&fs, f, path);
            if (!r && FERRY_MSGINFO_LABEL(m.info) == FILE_OPEN && (m.w[0] & FILE_O_GRANT)) {
                /* the window: made once, mapped into the client once */
                files[h].window = proc_mmap(IO_GRANT_BYTES);
                if (!files[h].window || proc_share(files[h].window, IO_GRANT_BYTES, m.badge, &w3)) {
                    if (files[h].window)
                        proc_munmap(files[h].window, IO_GRANT_BYTES);
                    fat_close(f);
                    r = FILE_E_NFILE;
                }
            }
            if (r) {
                files[h].used = false;
                break;
            }
            w1 = (unsigned long)h;
            w2 = f->size;
            len = 4;
            break;
        }
        case FILE_READ:
            if (!(f = handle(&m)))
                break;
            if (files[m.w[0]].window) {
                if (m.w[1] > IO_GRANT_BYTES)
                    break;
                r = fat_read(f, files[m.w[0]].window, m.w[1]);
                if (r >= 0) {
                    w1 = (unsigned long)r;
                    len = 2;
                    r = 0;
                }
                break;
            }
            if (m.w[1] > IO_DATA_BYTES)
                break;
            r = fat_read(f, buf, m.w[1]);
            if (r >= 0) {
                memcpy(&PROC_IPC->mr[IO_DATA_WORD], buf, (size_t)r);
                w1 = (unsigned long)r;
                len = IO_DATA_WORD + ((unsigned long)r + 7) / 8;
                r = 0;
            }
            break;
        case FILE_WRITE:
            if (!(f = handle(&m)) || m.w[1] > IO_DATA_BYTES ||
                FERRY_MSGINFO_LEN(m.info) < IO_DATA_WORD + (m.w[1] + 7) / 8)
                break;
            memcpy(buf, &PROC_IPC->mr[IO_DATA_WORD], m.w[1]);   /* before blk: reuses the buffer */
            r = fat_write(f, buf, m.w[1]);
            if (r >= 0) {
                w1 = (unsigned long)r;
                len = 2;
                r = 0;
            }
            break;
        case FILE_SEEK:
            if (!(f = handle(&m)))
                break;
            r = fat_seek(f, (long)m.w[1], (int)m.w[2]);
            if (r >= 0) {
                w1 = (unsigned long)r;
                len = 2;
                r = 0;
            }
            break;
        case FILE_CLOSE:
            if (!(f = handle(&m)))
                break;
            r = f->attr & FAT_ATTR_DIR ? 0 : fat_close(f);
            if (files[m.w[0]].window)
                proc_munmap(files[m.w[0]].window, IO_GRANT_BYTES);   /* and out of the client */
            files[m.w[0]].used = false;
            break;
        case FILE_STAT:
            if (!req_path(&m, path))
                break;
            r = fat_stat(&fs, path, &st);
            w1 = st.size;
            w2 = st.attr;
            len = 3;
            break;
        case FILE_READDIR:
            if (!(f = handle(&m)))
                break;
            r = fat_readdir(f, &de);
            if (r >= 0) {
                w1 = (unsigned long)r;
                w2 = de.size;
                w3 = de.attr;
                size_t n = r ? strlen(de.name) + 1 : 1;
                if (!r)
                    de.name[0] = 0;
                memcpy(&PROC_IPC->mr[IO_DATA_WORD], de.name, n);
                len = IO_DATA_WORD + (n + 7) / 8;
                r = 0;
            }
            break;
        case FILE_MKDIR:
            if (req_path(&m, path))
                r = fat_mkdir(&fs, path);
            break;
        case FILE_UNLINK:
            if (req_path(&m, path))
                r = fat_unlink(&fs, path);
            break;
        case FILE_CRASH:
            io_crash_arm(&crash_in, m.w[0]);
            r = 0;
            break;
        }
        if (r < 0 && len < 2)
            len = 1;
        m.info = FERRY_MSGINFO(0, len, 0);
        m.w[0] = (unsigned long)r;
        m.w[1] = w1;
        m.w[2] = w2;
        m.w[3] = w3;
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
}
