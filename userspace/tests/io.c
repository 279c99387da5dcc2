/* io.c: in-guest tests of drivers and files: the ATA driver (blk:) and the
 * FAT file server (file:) as separate programs reading the disk image the
 * host made (ferryhost/disk.py), writing to it, and surviving crashes. */
#include "utest.h"
#include "../servers/procsrv.h"
#include <ferry/io.h>
#include <fmt.h>

#define NEED_SYSTEM() CHECK(system_ready())

static unsigned long io_free0;
static unsigned io_blocks0;

/* Serve requests until pid has registered its name with the name service
 * (which tells the process server). */
static bool serve_until_registered(unsigned long pid)
{
    struct proc_info pi;
    while (proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
        procsrv_serve_one();
    return proc_info(pid, &pi) && pi.state == PROC_RUNNING;
}

/* The block driver, then the file server on it (registered both). */
static bool io_start(bool cache)
{
    io_free0 = mm_free_bytes();
    io_blocks0 = mm_blocks();
    unsigned long ata = proc_spawn("ata", NULL, NULL);
    if (!ata || !serve_until_registered(ata))
        return false;
    const char *nocache[] = { "nocache", NULL };
    unsigned long fs = proc_spawn("fatfs", cache ? NULL : nocache, NULL);
    return fs && serve_until_registered(fs);
}

/* A file server on a fresh RAM disk of its own (no driver), holding the
 * disk image's test files but F16M.BIN (fatfs ram= fill). */
static bool io_start_ram(void)
{
    io_free0 = mm_free_bytes();
    io_blocks0 = mm_blocks();
    char ram[24];
    fmt_snprintf(ram, sizeof ram, "ram=%u", IO_RAM_KIB);
    const char *args[] = { ram, "fill", NULL };
    unsigned long fs = proc_spawn("fatfs", args, NULL);
    return fs && serve_until_registered(fs);
}

/* Stops the file server and the driver (if one runs): every byte back. */
static bool io_stop(void)
{
    long status;
    const char *names[] = { "fatfs", "ata" };
    for (int i = 0; i < 2; i++) {
        unsigned long pid = proc_running(names[i]);
        CHECK(i == 1 || pid);
        CHECK(!pid || (proc_stop(pid) && proc_wait(pid, &status)));
    }
    CHECK(proc_count() == tests_boot_services());
    /* every byte back (a new block may have been made meanwhile) */
    CHECK(mm_free_bytes() == io_free0 + (mm_blocks() - io_blocks0) * (1UL << PROCSRV_BLOCK_BITS));
    return true;
}

/* Runs fcat with these arguments; its status. */
static long fcat(const char *const *argv)
{
    long status = -1;
    unsigned long pid = proc_spawn("fcat", argv, NULL);
    if (!pid || !proc_wait(pid, &status))
        return -1;
    return status;
}

#define FCAT(...) ({ const char *a_[] = { __VA_ARGS__, NULL }; fcat(a_); })

/* The demo: a file of the disk image printed through both servers. */
static bool io_demo(void)
{
    NEED_SYSTEM();
    CHECK(io_start(true));
    long status = -1;
    unsigned long pid = proc_spawn("fcat", NULL, NULL);   /* boot.conf: /HELLO.TXT */
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    return io_stop();
}

/* Host-made files read back byte-exact, in several chunk sizes; the
 * listing; the errors a client sees. */
static bool io_read_files(void)
{
    NEED_SYSTEM();
    CHECK(io_start(true));
    CHECK(FCAT("-v", "/F4K.BIN", "1", "4096") == 0);
    CHECK(FCAT("-v", "/f64k.bin", "2", "65536", "1000") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "5", "300007", "65536") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "5", "300007", "7") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "4", "300007") == 2);           /* wrong bytes are noticed */
    CHECK(FCAT("-v", "/F4K.BIN", "1", "4097") == 1);             /* and a wrong size */
    CHECK(FCAT("-l", "/", "HELLO.TXT", "F16M.BIN", "ODD.BIN", "DOCS") == 0);
    CHECK(FCAT("-l", "/DOCS", "README.TXT") == 0);
    CHECK(FCAT("-l", "/DOCS", "HELLO.TXT") == 2);
    CHECK(FCAT("-e") == 0);
    /* zero-copy: through a window granted once */
    CHECK(FCAT("-gbench", "/ODD.BIN", "5", "300007", "2") == 0);
    CHECK(FCAT("-gbench", "/F4K.BIN", "1", "4096", "3") == 0);
    CHECK(FCAT("-gclose", "/F4K.BIN") == PROC_STATUS_FAULTED);   /* the window left with the close */
    return io_stop();
}

/* A file the guest writes, read back through a fresh file server with no
 * cache (from the disk, not from memory). */
static bool io_write_file(void)
{
    NEED_SYSTEM();
    CHECK(io_start(true));
    CHECK(FCAT("-w", "/GUEST.BIN", "9", "100000") == 0);
    CHECK(FCAT("-w", "/GUEST2.BIN", "8", "5") == 0);
    CHECK(io_stop());
    CHECK(io_start(false));
    CHECK(FCAT("-v", "/GUEST.BIN", "9", "100000") == 0);
    CHECK(FCAT("-v", "/GUEST2.BIN", "8", "5") == 0);
    CHECK(FCAT("-v", "/F64K.BIN", "2", "65536") == 0);           /* the rest is intact */
    return io_stop();
}

/* The same file server over a RAM disk (fatfs ram=KIB fill: formatted
 * FAT12 at start, the test files written into it): files read back
 * byte-exact, listed, read by grant; a file created, written and read back;
 * the libc's file functions (filetest: create, write, read back, seek,
 * list, unlink); no block driver anywhere.  A RAM disk larger than a
 * process may map comes in 2 MiB pages (F16M.BIN read back); one larger
 * than 32 MiB is refused at start. */
static bool io_ram_files(void)
{
    NEED_SYSTEM();
    CHECK(io_start_ram());
    CHECK(!proc_running("ata"));
    CHECK(FCAT("-v", "/F4K.BIN", "1", "4096") == 0);
    CHECK(FCAT("-v", "/F1M.BIN", "3", "1048576", "65536") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "5", "300007", "7") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "4", "300007") == 2);           /* wrong bytes are noticed */
    CHECK(FCAT("-l", "/", "HELLO.TXT", "F4K.BIN", "F64K.BIN", "F1M.BIN", "ODD.BIN") == 0);
    CHECK(FCAT("-l", "/", "F16M.BIN") == 2);                     /* not on the RAM disk */
    CHECK(FCAT("-gbench", "/ODD.BIN", "5", "300007", "2") == 0);
    CHECK(FCAT("-gbench", "/F64K.BIN", "2", "65536", "3") == 0);
    CHECK(FCAT("-w", "/GUEST.BIN", "9", "100000") == 0);
    CHECK(FCAT("-v", "/GUEST.BIN", "9", "100000", "4096") == 0);
    CHECK(FCAT("-l", "/", "GUEST.BIN", "F1M.BIN") == 0);
    long status = -1;
    unsigned long pid = proc_spawn("filetest", NULL, NULL);     /* boot.conf: in / */
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    CHECK(FCAT("-v", "/F64K.BIN", "2", "65536") == 0);          /* nothing else touched */
    CHECK(io_stop());
    /* the largest RAM disk works, a grant window beside it; more than a
     * process may map is refused, and said so */
    char ram[24];
    fmt_snprintf(ram, sizeof ram, "ram=%u", IO_RAM_MAX_KIB);
    const char *max[] = { ram, "fill", NULL };
    struct mm_mark mark = mm_mark();
    CHECK((pid = proc_spawn("fatfs", max, NULL)) && serve_until_registered(pid));
    CHECK(FCAT("-gbench", "/F1M.BIN", "3", "1048576", "2") == 0);
    CHECK(FCAT("-w", "/GUEST.BIN", "9", "300000") == 0);
    CHECK(proc_stop(pid) && proc_wait(pid, &status));
    /* The large region is a manifest right (boot.conf: mmap_large): fcat
     * lacks it and is refused while nobody holds the block */
    CHECK(FCAT("-large") == 0);
    /* larger: in 2 MiB pages beside the file server's memory, up to
     * 32 MiB: the 16 MiB file read back by copy and by grant (the file
     * server, which has the right, got the block after the refusal) */
    fmt_snprintf(ram, sizeof ram, "ram=%u", IO_RAM_LARGE_KIB);
    const char *large[] = { ram, "fill", NULL };
    CHECK((pid = proc_spawn("fatfs", large, NULL)) && serve_until_registered(pid));
    CHECK(FCAT("-large") == 0);                                  /* refused for the right, held or not */
    CHECK(FCAT("-v", "/F16M.BIN", "4", "16777216", "65536") == 0);
    CHECK(FCAT("-gbench", "/F16M.BIN", "4", "16777216", "2") == 0);
    CHECK(FCAT("-v", "/ODD.BIN", "5", "300007", "7") == 0);
    CHECK(FCAT("-w", "/GUEST.BIN", "9", "1000000") == 0);
    CHECK(FCAT("-v", "/GUEST.BIN", "9", "1000000", "4096") == 0);
    CHECK(proc_stop(pid) && proc_wait(pid, &status));
    fmt_snprintf(ram, sizeof ram, "ram=%lu", PROC_MMAP_LARGE_MAX / 1024 + 4);
    const char *big[] = { ram, NULL };
    CHECK((pid = proc_spawn("fatfs", big, NULL)));
    CHECK(!serve_until_registered(pid));
    CHECK(proc_wait(pid, &status) && status == 1);
    CHECK(mm_back_to(mark));
    return true;
}

/* The driver's multi-sector path (READ MULTIPLE into a window shared
 * with the client, IRQ 14): runs that start inside a DRQ block and span
 * several, the disk's last sectors, refusals, the drive's own error, and
 * a crash in the middle of a transfer (one restart). */
static bool io_blk_multi(void)
{
    NEED_SYSTEM();
    CHECK(io_start(false));
    unsigned long restarts0 = procsrv_restarts("ata");
    CHECK(FCAT("-blk") == 0);
    CHECK(procsrv_restarts("ata") == restarts0 + 1);
    return io_stop();
}

/* Kills the running service name while fcat reads a 1 MiB file through
 * it: once fcat's marker says it is halfway (IO_KILL_MARK_PAGES pages
 * made at its first touch: more than it makes otherwise); fcat's status. */
static long kill_while_reading(const char *name, const char *kind)
{
    unsigned long pid = proc_running(name);
    struct proc_info pi;
    const char *argv[] = { "-killed", kind, "/F1M.BIN", "3", "1048576", NULL };
    unsigned long reader = pid ? proc_spawn("fcat", argv, NULL) : 0;
    if (!reader)
        return -1;
    PROCSRV_AWAIT(!proc_info(reader, &pi) || pi.state != PROC_RUNNING || pi.faults >= IO_KILL_MARK_PAGES);
    if (!proc_info(reader, &pi) || pi.state != PROC_RUNNING || !proc_kill(pid))
        return -1;
    long status = -1;
    return proc_wait(reader, &status) ? status : -1;
}

#define CRASHES 100

/* The block driver dies 100 times in the middle of reads; the supervisor
 * restarts it, the file server reconnects and retries, and the client
 * reads every byte right without noticing. */
static bool io_blk_crash(void)
{
    NEED_SYSTEM();
    CHECK(io_start(false));
    unsigned long restarts0 = procsrv_restarts("ata"), fs = proc_running("fatfs");
    CHECK(FCAT("-crash", "blk", "100", "/F4K.BIN", "1", "4096") == 0);
    _Static_assert(CRASHES == 100, "the argument above");
    CHECK(procsrv_restarts("ata") == restarts0 + CRASHES);
    /* and while a large file is read: one crash in each of 4 passes over 1 MiB */
    CHECK(FCAT("-crash", "blk", "4", "/F1M.BIN", "3", "1048576") == 0);
    CHECK(procsrv_restarts("ata") == restarts0 + CRASHES + 4);
    /* killed by the root task (not a crash of its own) while it serves a 1 MiB read */
    CHECK(kill_while_reading("ata", "blk") == 0);
    CHECK(procsrv_restarts("ata") == restarts0 + CRASHES + 5);
    CHECK(proc_running("fatfs") == fs);                          /* nothing else restarted */
    return io_stop();
}

/* The file server dies in the middle of reads 20 times; the client looks
 * it up again, reopens, seeks and reads on, every byte right. */
static bool io_file_crash(void)
{
    NEED_SYSTEM();
    CHECK(io_start(true));
    unsigned long restarts0 = procsrv_restarts("fatfs"), ata = proc_running("ata");
    CHECK(FCAT("-crash", "file", "20", "/F64K.BIN", "2", "65536") == 0);
    CHECK(procsrv_restarts("fatfs") == restarts0 + 20);
    CHECK(FCAT("-crash", "file", "4", "/F1M.BIN", "3", "1048576") == 0);   /* a large file */
    CHECK(procsrv_restarts("fatfs") == restarts0 + 24);
    CHECK(kill_while_reading("fatfs", "file") == 0);                       /* killed while it serves one */
    CHECK(procsrv_restarts("fatfs") == restarts0 + 25);
    CHECK(proc_running("ata") == ata);
    return io_stop();
}

/* The libc's file functions: filetest.c, the program that also runs on
 * Linux (make unit-tests), here on the disk image through file:. */
static bool io_libc_files(void)
{
    NEED_SYSTEM();
    CHECK(io_start(true));
    long status = -1;
    unsigned long pid = proc_spawn("filetest", NULL, NULL);     /* boot.conf: in / */
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    CHECK(FCAT("-v", "/F64K.BIN", "2", "65536") == 0);          /* nothing else touched */
    return io_stop();
}

/* Pipes: pipetest.c (also run on Linux by make unit-tests): the end of the
 * data, a writer that blocks, three writers, dup2 onto stdout, EPIPE. */
static bool io_pipes(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    long status = -1;
    unsigned long pid = proc_spawn("pipetest", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    /* the notification the pipes sleep on: PROC_NOTIFICATION, copied by fork */
    const char *ntfn[] = { "ntfn", "-", NULL };
    CHECK((pid = proc_spawn("npipetest", ntfn, NULL)) && proc_wait(pid, &status));
    CHECK(status == 0);
    CHECK(proc_count() == tests_boot_services());                                    /* its children too */
    CHECK(mm_back_to(mark));
    return true;
}

/* The fork child of npipetest, once it runs: the first process made
 * after it (pids are handed out in order; nothing else starts meanwhile;
 * proc_info gives no name now that the process server is a process). */
static unsigned long child_of(unsigned long parent)
{
    struct proc_info pi;
    for (unsigned long pid = parent + 1; pid < parent + 64; pid++)
        if (proc_info(pid, &pi) && pi.state == PROC_RUNNING)
            return pid;
    return 0;
}

/* A pipe's holder killed in the middle of a stream (npipetest wkilled,
 * rkilled): a fork child that writes (reads) for ever is killed once the
 * other side's marker says 10,000 bytes went through.  Its holds die with
 * it, unclosed: the process server signals its notifications at its end,
 * the other side wakes, asks which holders still run (PROC_ALIVE) and
 * takes the dead one's holds out.  The reader gets every byte the killed
 * writer wrote, then the end; the writer gets EPIPE; neither hangs.
 * Memory back, no process left. */
static bool io_pipe_killed(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    for (int round = 0; round < 2; round++) {
        const char *args[] = { round ? "rkilled" : "wkilled", "-", NULL };
        unsigned long pid = proc_spawn("npipetest", args, NULL), child = 0;
        CHECK(pid);
        PROCSRV_AWAIT((child = child_of(pid)) != 0);
        struct proc_info pi;
        CHECK(proc_info(pid, &pi));
        /* the marker: npipetest's first touch of a page it did not touch
         * before (a page the pager makes: faults, not a copy on write)
         * once 10,000 bytes went through */
        unsigned long f0 = pi.faults;
        PROCSRV_AWAIT(proc_info(pid, &pi) && pi.faults > f0);
        CHECK(proc_kill(child));
        long status = -1;
        CHECK(proc_wait(pid, &status));
        CHECK(status == 0);
    }
    CHECK(proc_count() == tests_boot_services());
    CHECK(mm_back_to(mark));
    return true;
}

/* Runs sertest with these arguments; its status. */
static long sertest(const char *const *argv)
{
    long status = -1;
    unsigned long pid = proc_spawn("sertest", argv, NULL);
    if (!pid || !proc_wait(pid, &status))
        return -1;
    return status;
}

#define SERTEST(...) ({ const char *a_[] = { __VA_ARGS__, NULL }; sertest(a_); })

/* The serial driver (serial:): a program's printf goes through it (the
 * driver's byte count grows by exactly the line; the boot test sees the
 * line); a read with nothing received returns at once; a waiting read
 * sleeps in the driver while other requests are served; a crash while
 * serving a printf is restarted by the supervisor and that line reaches
 * the console through the process server.  With serial_input=TEXT on the
 * command line, sertest also waits for TEXT typed into COM1 (the boot
 * test types it) and checks that the IRQ thread received it. */
static bool io_serial(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long pid = proc_running("serial");                  /* the boot service, when it runs */
    bool own = !pid;
    if (own)
        CHECK((pid = proc_spawn("serial", NULL, NULL)) && serve_until_registered(pid));
    CHECK(SERTEST("write", "a line through the serial driver") == 0);
    CHECK(SERTEST("empty") == 0);
    /* a reader that sleeps in the driver for input (SERIAL_READ_WAIT):
     * writes and reads are served meanwhile, a second waiting reader is
     * answered at once; the crash below ends its Call */
    const char *block[] = { "block", NULL };
    unsigned long blocked = proc_spawn("sertest", block, NULL);
    CHECK(blocked);
    CHECK(SERTEST("sleeping") == 0);
    CHECK(SERTEST("crash") == 0);
    long bstatus = -1;
    CHECK(proc_wait(blocked, &bstatus) && bstatus == 0);
    unsigned long again = proc_running("serial");
    CHECK(again && again != pid);                                /* restarted, not the same */
    CHECK(SERTEST("write", "after the restart") == 0);
    char text[64];
    if (cmdline_get(ulib_bootinfo->cmdline, "serial_input", text, sizeof text))
        CHECK(SERTEST("read", text) == 0);
    long status = -1;
    const char *nostdin[] = { "stdin", "-", NULL };                 /* no serial: in its manifest */
    unsigned long n = proc_spawn("npipetest", nostdin, NULL);
    CHECK(n && proc_wait(n, &status) && status == 0);              /* read(0): the end */
    if (own)
        CHECK(proc_stop(again) && proc_wait(again, &status));   /* the boot service's restart stays */
    CHECK(proc_count() == tests_boot_services());
    CHECK(mm_back_to(mark));
    return true;
}

/* Named pipes (pipe:) between two programs the root task spawns apart (no
 * fork, no shared memory): 100,000 bytes, more than the service holds, the
 * reader started first and waiting for a writer, every byte and the end
 * checked; a write after the last reader closed is EPIPE; a writer, then a
 * reader, killed in the middle of a stream: the other side gets the end,
 * EPIPE; the pipes went (a name is used again); memory back. */
static bool io_named_pipe(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long srv = proc_spawn("pipesrv", NULL, NULL);
    CHECK(srv && serve_until_registered(srv));
    for (int round = 0; round < 2; round++) {
        const char *rd[] = { "read", "p1", "100000", NULL }, *wr[] = { "write", "p1", "100000", NULL };
        unsigned long r = proc_spawn("npipetest", rd, NULL), w = proc_spawn("npipetest", wr, NULL);
        long rs = -1, ws = -1;
        CHECK(r && w && proc_wait(w, &ws) && proc_wait(r, &rs));
        CHECK(rs == 0 && ws == 0);
    }
    /* a holder killed in the middle of a stream: the service closes its
     * handle once the process server says it ended (PROC_ALIVE): the
     * reader gets the end, the writer EPIPE */
    for (int round = 0; round < 2; round++) {
        const char *victim[] = { round ? "read" : "write", "p3", "1000000000", NULL };
        const char *survivor[] = { round ? "writekill" : "readkill", "p3", NULL };
        unsigned long s = proc_spawn("npipetest", survivor, NULL), v = proc_spawn("npipetest", victim, NULL);
        struct proc_info pi;
        CHECK(s && v && proc_info(s, &pi));
        unsigned long f0 = pi.faults;
        PROCSRV_AWAIT(proc_info(s, &pi) && pi.faults > f0);      /* its marker: 10,000 bytes through */
        CHECK(proc_kill(v));
        long ss = -1, vs = -1;
        CHECK(proc_wait(s, &ss) && ss == 0);
        CHECK(proc_wait(v, &vs) && vs == PROC_STATUS_KILLED);
    }
    const char *ep[] = { "epipe", "p2", NULL };
    long status = -1;
    unsigned long e = proc_spawn("npipetest", ep, NULL);
    CHECK(e && proc_wait(e, &status) && status == 0);
    CHECK(proc_stop(srv) && proc_wait(srv, &status));
    CHECK(proc_count() == tests_boot_services());
    CHECK(mm_back_to(mark));
    return true;
}

const struct utest utests_io[] = {
    { io_demo, "io_demo" },
    { io_read_files, "io_read_files" },
    { io_write_file, "io_write_file" },
    { io_ram_files, "io_ram_files" },
    { io_libc_files, "io_libc_files" },
    { io_pipes, "io_pipes" },
    { io_pipe_killed, "io_pipe_killed" },
    { io_serial, "io_serial" },
    { io_named_pipe, "io_named_pipe" },
    { io_blk_multi, "io_blk_multi" },
    { io_blk_crash, "io_blk_crash" },
    { io_file_crash, "io_file_crash" },
};
const size_t utests_io_n = sizeof utests_io / sizeof utests_io[0];
