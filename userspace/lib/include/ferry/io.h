/* io.h: the protocols of the block driver (blk:) and the file server
 * (file:): Calls whose label names the request; the reply's word 0 is 0 or
 * a negative error (FAT_E_*, BLK_E_*); bulk data rides in the IPC buffer
 * from word IO_DATA_WORD on. */
#ifndef FERRY_USER_IO_H
#define FERRY_USER_IO_H

#define IO_DATA_WORD   8                      /* mr[8..120): bulk data */
#define IO_DATA_BYTES  ((120 - IO_DATA_WORD) * 8)   /* 896 bytes a message */

/* blk: one 512-byte sector a message, or a run of sectors through a
 * window: BLK_WINDOW_BYTES of the driver's memory mapped read-only into
 * the client once (PROC_SHARE), into which each BLK_READN puts its
 * sectors.  The window goes with the driver: a client touches it only
 * after a BLK_READN that succeeded, and asks for a new one after the
 * driver restarts. */
#define BLK_WINDOW_BYTES (64 * 1024)
#define BLK_READN_NOCHECK 1UL  /* BLK_READN w2, tests: send the command past the end of the disk */
enum blk_label {
    BLK_INFO = 1,      /* reply w1 = sectors on the disk, w2 = sectors per READ MULTIPLE
                        * block (0: none), w3 = IRQ waits so far */
    BLK_READ,          /* w0 = lba: reply data = the sector */
    BLK_WRITE,         /* w0 = lba, data = the sector */
    BLK_CRASH,         /* tests: w0 = n: the driver dies on a bad pointer while
                        * serving its n-th next request (0: at once); each
                        * sector of a BLK_READN after its first counts as one,
                        * so it may die in the middle of a transfer */
    BLK_WINDOW,        /* reply w1 = the window's address in the caller, w2 = its bytes */
    BLK_READN,         /* w0 = lba, w1 = sectors (1 .. BLK_WINDOW_BYTES / 512), w2 = flags:
                        * the sectors into the caller's window (BLK_E_BAD: it has none) */
};

#define BLK_E_IO     (-1L)   /* the device reported an error */
#define BLK_E_RANGE  (-2L)   /* past the end of the disk */
#define BLK_E_NODEV  (-3L)   /* no disk */
#define BLK_E_BAD    (-4L)   /* malformed request */

/* file: paths ride as data (w1 = length).  An open with FILE_O_GRANT gets
 * a window: IO_GRANT_BYTES of the server's memory mapped read-only into the
 * client once (PROC_SHARE), into which each FILE_READ of that handle puts
 * its data (up to IO_GRANT_BYTES) instead of the message. */
#define FILE_O_GRANT   0x100
#define IO_GRANT_BYTES (64 * 1024)

enum file_label {
    FILE_OPEN = 1,     /* w0 = FAT_O_* flags (| FILE_O_GRANT), w1 = path length: reply w1 = handle,
                        * w2 = size, w3 = the window's address in the client (FILE_O_GRANT) */
    FILE_READ,         /* w0 = handle, w1 = bytes (<= IO_DATA_BYTES; a granted handle:
                        * <= IO_GRANT_BYTES): reply w1 = bytes, data (or in the window) */
    FILE_WRITE,        /* w0 = handle, w1 = bytes, data: reply w1 = bytes */
    FILE_SEEK,         /* w0 = handle, w1 = offset, w2 = whence: reply w1 = position */
    FILE_CLOSE,        /* w0 = handle */
    FILE_STAT,         /* w1 = path length: reply w1 = size, w2 = attributes */
    FILE_OPENDIR,      /* w1 = path length: reply w1 = handle */
    FILE_READDIR,      /* w0 = handle: reply w1 = 1 (entry) or 0 (end), w2 = size, w3 = attributes, data = name (NUL-ended) */
    FILE_MKDIR,        /* w1 = path length */
    FILE_UNLINK,       /* w1 = path length */
    FILE_CRASH,        /* tests: w0 = n: as BLK_CRASH, for the file server */
};

/* serial: COM1 through the user-space driver (userspace/io/serial.c,
 * docs/io.md "The serial driver"). */
enum serial_label {
    SERIAL_WRITE = 1,  /* w0 = bytes (<= IO_DATA_BYTES), data: written before the reply
                        * ("\n" goes out as "\r\n", as the kernel console does); reply w1 = bytes */
    SERIAL_READ,       /* w0 = at most this many bytes (<= IO_DATA_BYTES), w1 (optional) =
                        * SERIAL_READ_WAIT: reply w1 = bytes received so far, data; none
                        * yet: without the flag 0 at once, with it the driver sleeps until
                        * a byte came (on IRQ 4, one such reader at a time: a second one
                        * gets 0 at once, reply w2 = 1, and asks again) */
    SERIAL_INFO,       /* reply w1 = bytes written, w2 = bytes received, w3 = receive
                        * interrupts; IPC buffer: w4 = bytes lost to a full buffer,
                        * w5 = SERIAL_READs that slept, w6 = SERIAL_READs served,
                        * w7 = 1 while a reader sleeps */
    SERIAL_CRASH,      /* tests: w0 = n: as BLK_CRASH, for the serial driver */
};

#define SERIAL_E_BAD   (-1L)    /* malformed request */
#define SERIAL_READ_WAIT 1UL    /* SERIAL_READ's w1: wait for a byte */

/* pipe: named pipes between processes that share no memory (userspace/io/
 * pipesrv.c): the bytes are copied through the server, PIPE_RING at most
 * held.  The server never waits: a read with nothing to read and a write
 * with no room answer 0 bytes, and the client yields and asks again. */
#define PIPE_RING 4096
#define PIPE_ATOMIC 512        /* a write of at most this many bytes goes in whole or not at all */
enum pipe_label {
    PIPE_OPEN = 1,     /* w0 = PIPE_END_READ or PIPE_END_WRITE, w1 = name length, data = the name
                        * (1..31 bytes): reply w1 = handle (the pipe is made at its first open) */
    PIPE_READ,         /* w0 = handle, w1 = at most (<= IO_DATA_BYTES): reply w1 = bytes, data;
                        * w2 = 1: the end (empty, and every writer that opened it closed) */
    PIPE_WRITE,        /* w0 = handle, w1 = bytes (<= IO_DATA_BYTES), data: reply w1 = bytes taken */
    PIPE_CLOSE,        /* w0 = handle */
};
enum { PIPE_END_READ, PIPE_END_WRITE };
#define PIPE_E_BAD      (-1L)   /* malformed request, or not this client's handle */
#define PIPE_E_NOREADER (-2L)   /* a write when every reader that opened it closed */
#define PIPE_E_FULL     (-3L)   /* no room for another pipe or handle */

/* The largest RAM disk of a file server (fatfs ram=KIB): a process maps
 * at most 520 pages (the process server's PROC_PAGES_MAX), io.elf's image,
 * stack and a 64 KiB grant window among them. */
#define IO_RAM_MAX_KIB 1792u
/* fatfs ram= of the tests and benchmarks: room for the files of `fill`
 * (1.35 MiB) and about 250 KiB more. */
#define IO_RAM_KIB 1664u
/* A RAM disk above IO_RAM_MAX_KIB (up to 32 MiB) is made of 2 MiB pages
 * beside the file server's memory (PROC_MMAP_LARGE); from this size on
 * `fill` writes F16M.BIN too (17.35 MiB of files): the 16 MiB rows. */
#define IO_RAM_LARGE_KIB 20480u

/* Tests: fcat -killed touches this many fresh pages halfway through its
 * file, the marker the test (io_blk_crash, io_file_crash) waits for in
 * fcat's fault count before it kills the service. */
#define IO_KILL_MARK_PAGES 128

/* Byte i of the disk image's test file `seed` (ferryhost/disk.py makes the
 * same bytes): a 4093-byte block, repeated. */
static inline unsigned char io_pattern(unsigned seed, unsigned long i)
{
    unsigned x = (unsigned)(i % 4093 + 1) * 2654435761u ^ seed * 40503u;
    return (unsigned char)(x >> 13 ^ x >> 24);
}

/* The injected crash of BLK_CRASH and FILE_CRASH: a write to address 0
 * (in assembly: the compiler may drop a C store it can prove undefined). */
static inline void io_crash(void)
{
    __asm__ __volatile__("movq $1, 0" ::: "memory");
}

/* The servers' CRASH request (w0 = n): die now when n is 0, else while
 * serving the n-th next request.  *crash_in is the countdown, -1 when none
 * is armed; io_crash_tick runs at each request, before it is served. */
static inline void io_crash_arm(long *crash_in, unsigned long n)
{
    if (n == 0)
        io_crash();
    *crash_in = (long)n - 1;
}

static inline void io_crash_tick(long *crash_in)
{
    if (*crash_in >= 0 && (*crash_in)-- == 0)
        io_crash();   /* dies with this request in flight */
}

#define FILE_E_BADREQ  (-20L)   /* malformed request */
#define FILE_E_NFILE   (-21L)   /* too many open files */
#define FILE_E_GONE    (-22L)   /* (client side) the server died: look it up again */

#endif
