/* ata.c: the blk: service: a user-space ATA PIO driver for the primary
 * IDE channel's master disk (QEMU's if=ide index 0, Bochs's ata0-master),
 * using only the I/O-port and IRQ capabilities its manifest grants (LBA28;
 * a sector moved by one string-I/O invocation into or out of the IPC
 * buffer; READ MULTIPLE into a window shared with the client for runs of
 * sectors; waits for the drive on IRQ 14, polls where it has no IRQ). */
#include <ferry/arch_x86_64.h>
#include <ferry/devcaps.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "io_progs.h"

#define CMD_PORTS  PROC_DEV_IOPORT(0)    /* 0x1f0-0x1f7 */
#define CTL_PORT   PROC_DEV_IOPORT(1)    /* 0x3f6 */
#define IRQ_CAP    PROC_DEV_IRQ(0)       /* line 14 */
#define IRQ_NTFN   PROC_DEV_IRQ_NTFN(0)
#define ATA_DATA   0x1f0
#define ATA_COUNT  0x1f2
#define ATA_LBA0   0x1f3
#define ATA_LBA1   0x1f4
#define ATA_LBA2   0x1f5
#define ATA_DRIVE  0x1f6
#define ATA_STATUS 0x1f7     /* read: status; write: command */
#define ATA_CTL    0x3f6
#define ST_ERR  0x01
#define ST_DRQ  0x08
#define ST_DF   0x20
#define ST_DRDY 0x40
#define ST_BSY  0x80
#define CTL_NIEN 0x02       /* device control: no interrupts */
#define CTL_SRST 0x04       /* device control: software reset */
#define CMD_READ       0x20
#define CMD_WRITE      0x30
#define CMD_READ_MULTI 0xc4
#define CMD_SET_MULTI  0xc6
#define CMD_FLUSH      0xe7
#define CMD_IDENTIFY   0xec
#define MULTI_MAX      16   /* sectors per DRQ block we ask for (QEMU's and Bochs's maximum) */
#define WINDOW_CLIENTS 3    /* clients with a window at a time (PROC_SHARE: 64 pages per sharer) */

static unsigned long multi;     /* sectors per DRQ block of READ MULTIPLE; 0: READ SECTORS only */
static bool irq_on;             /* waits sleep on IRQ 14 (else they poll) */
static unsigned long irq_waits;
/* The windows: BLK_WINDOW_BYTES of our memory mapped read-only into a
 * client (PROC_SHARE), where BLK_READN puts its sectors. */
static struct {
    unsigned long pid, there, used;
    unsigned char *mem;
} windows[WINDOW_CLIENTS];
static unsigned long window_clock;

static unsigned long io_in(unsigned long port, unsigned long width)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IOPORT_IN, FERRY_IOPORT_IN_NARGS, 0),
                         .w = { [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = width } };
    return sys_raw(FERRY_SYS_CALL, CMD_PORTS, &m) ? ~0UL : m.w[FERRY_IOPORT_IN_RES_VALUE];
}

static void io_out(unsigned long cap, unsigned long port, unsigned long width, unsigned long v)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IOPORT_OUT, FERRY_IOPORT_OUT_NARGS, 0),
                         .w = { [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = width,
                                [FERRY_IOPORT_ARG_VALUE] = v } };
    sys_raw(FERRY_SYS_CALL, cap, &m);
}

/* Sleeps until IRQ 14 signals, then Acks the line (the kernel masks it
 * from the interrupt until then).  The caller reads the status register
 * after each wake-up (which also lowers the drive's INTRQ): a signal left
 * from an earlier command wakes it once for nothing, and a completion
 * whose edge fell while the line was masked shows in that status read. */
static void irq_wait(void)
{
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, IRQ_NTFN, &m);
    m = (struct sys_msg){ .info = FERRY_MSGINFO(FERRY_IRQ_ACK, 0, 0) };
    sys_raw(FERRY_SYS_CALL, IRQ_CAP, &m);
    irq_waits++;
}

/* Waits until not busy; then for want (DRQ) if asked.  False on an error
 * (ERR or DF, unless idle: before a command they tell of the one before).
 * While the drive is busy it sleeps on the IRQ when it has one: the drive
 * interrupts when it leaves BSY for a command's data or its end. */
static bool wait_status(bool drq, bool idle)
{
    for (long i = 0; i < 10000000; i++) {
        unsigned long st = io_in(ATA_STATUS, 1);
        if (st == ~0UL || st == 0xff)
            return false;            /* no capability, or a floating bus */
        if (st & ST_BSY) {
            if (irq_on)
                irq_wait();
            continue;
        }
        if (idle)
            return true;
        if (st & (ST_ERR | ST_DF))
            return false;
        if (!drq || (st & ST_DRQ))
            return true;
    }
    return false;
}

static bool wait_ready(bool drq)
{
    return wait_status(drq, false);
}

/* Before a command: the drive not busy. */
static bool wait_idle(void)
{
    return wait_status(false, true);
}

static void select_lba(unsigned long lba, unsigned long count, unsigned long cmd)
{
    io_out(CMD_PORTS, ATA_DRIVE, 1, 0xe0 | ((lba >> 24) & 0x0f));
    io_out(CMD_PORTS, ATA_COUNT, 1, count);
    io_out(CMD_PORTS, ATA_LBA0, 1, lba & 0xff);
    io_out(CMD_PORTS, ATA_LBA1, 1, (lba >> 8) & 0xff);
    io_out(CMD_PORTS, ATA_LBA2, 1, (lba >> 16) & 0xff);
    io_out(CMD_PORTS, ATA_STATUS, 1, cmd);
}

/* One sector between the data port and IPC buffer words IO_DATA_WORD..+63
 * (rep insl/outsl in the kernel): where blk: requests carry it and replies
 * take it, so the driver never copies a sector. */
static bool pio_string(unsigned long label)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(label, FERRY_IOPORT_STRING_NARGS, 0),
                         .w = { [FERRY_IOPORT_STRING_ARG_PORT] = ATA_DATA, [FERRY_IOPORT_STRING_ARG_WIDTH] = 4,
                                [FERRY_IOPORT_STRING_ARG_COUNT] = 512,
                                [FERRY_IOPORT_STRING_ARG_WORD] = IO_DATA_WORD } };
    return sys_raw(FERRY_SYS_CALL, CMD_PORTS, &m) == 0;
}

/* A software reset when the drive is in the middle of something: a
 * driver that died during a transfer left it holding DRQ (or busy), and a
 * drive takes no command until that ends.  Then waits for DRDY (QEMU
 * resets in its main loop, after the write that asked for it). */
static bool reset_if_busy(void)
{
    io_out(CMD_PORTS, ATA_DRIVE, 1, 0xa0);
    unsigned long st = io_in(ATA_STATUS, 1);
    if (st == ~0UL || st == 0xff || !(st & (ST_BSY | ST_DRQ)))
        return true;
    io_out(CTL_PORT, ATA_CTL, 1, CTL_SRST | CTL_NIEN);
    for (int i = 0; i < 4; i++)
        io_in(ATA_STATUS, 1);                        /* >= 5 us of SRST (each read >= 400 ns) */
    io_out(CTL_PORT, ATA_CTL, 1, CTL_NIEN);
    for (long i = 0; i < 10000000; i++) {
        io_out(CMD_PORTS, ATA_DRIVE, 1, 0xa0);       /* the reset selects the master; once more */
        st = io_in(ATA_STATUS, 1);
        if ((st & (ST_BSY | ST_DRDY | ST_DRQ)) == ST_DRDY)
            return true;
    }
    return false;
}

/* The disk's size in sectors, 0 when there is none. */
static unsigned long identify(void)
{
    io_out(CTL_PORT, ATA_CTL, 1, CTL_NIEN);          /* nIEN: polled until set up */
    if (!reset_if_busy())
        return 0;
    io_out(CMD_PORTS, ATA_DRIVE, 1, 0xa0);
    if (!wait_idle())
        return 0;
    io_out(CMD_PORTS, ATA_STATUS, 1, CMD_IDENTIFY);
    unsigned long st = io_in(ATA_STATUS, 1);
    if (st == 0 || st == 0xff || st == ~0UL)
        return 0;
    if (!wait_ready(true))
        return 0;
    if (!pio_string(FERRY_IOPORT_IN_STRING))
        return 0;
    const uint16_t *id = (const uint16_t *)&PROC_IPC->mr[IO_DATA_WORD];
    unsigned long sectors = id[60] | (unsigned long)id[61] << 16;     /* LBA28 sectors */
    /* READ MULTIPLE: word 47 holds the most sectors a DRQ block can have */
    unsigned long most = id[47] & 0xff;
    unsigned long want = most < MULTI_MAX ? most : MULTI_MAX;
    while (want & (want - 1))
        want &= want - 1;                            /* a power of two */
    if (want > 1 && wait_idle()) {
        io_out(CMD_PORTS, ATA_COUNT, 1, want);
        io_out(CMD_PORTS, ATA_STATUS, 1, CMD_SET_MULTI);
        if (wait_ready(false))
            multi = want;
    }
    if (!wait_idle())
        return 0;
    return sectors;
}

/* Interrupts on when the manifest granted the line (an Ack of an empty
 * slot fails): the drive's nIEN off, the line unmasked. */
static void irq_setup(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IRQ_ACK, 0, 0) };
    if (sys_raw(FERRY_SYS_CALL, IRQ_CAP, &m))
        return;
    irq_on = true;
    io_out(CTL_PORT, ATA_CTL, 1, 0);
}

/* count sectors from lba into window w, a DRQ block a wait: READ MULTIPLE
 * (or READ SECTORS, a sector a block, where the drive has no multiple
 * mode); each sector one string invocation into the IPC buffer, then
 * copied into the window.  check = false lets a test send a command past
 * the end, for the drive to refuse. */
static long do_readn(unsigned long lba, unsigned long count, unsigned long sectors, unsigned char *w,
                     bool check, long *crash_in)
{
    if (count == 0 || count > BLK_WINDOW_BYTES / 512 || count > 256)
        return BLK_E_BAD;
    if (check && (lba >= sectors || count > sectors - lba))
        return BLK_E_RANGE;
    if (lba >= 1UL << 28 || lba + count > 1UL << 28)
        return BLK_E_RANGE;                          /* LBA28 */
    if (!wait_idle())
        return BLK_E_IO;
    unsigned long block = multi ? multi : 1;
    select_lba(lba, count & 0xff, multi ? CMD_READ_MULTI : CMD_READ);
    for (unsigned long i = 0; i < count; i++) {
        if (i % block == 0 && !wait_ready(true))
            return BLK_E_IO;
        if (i)
            io_crash_tick(crash_in);  /* BLK_CRASH counts the sectors after a request's first */
        if (!pio_string(FERRY_IOPORT_IN_STRING))
            return BLK_E_IO;
        memcpy(w + i * 512, &PROC_IPC->mr[IO_DATA_WORD], 512);
    }
    return 0;
}

/* The window of client pid: made and shared at its first BLK_WINDOW; with
 * every entry taken, the one used longest ago goes (its client, if it
 * still lives, gets BLK_E_BAD from BLK_READN and asks again). */
static long window_of(unsigned long pid, bool make, unsigned long *there)
{
    int lru = 0;
    for (int i = 0; i < WINDOW_CLIENTS; i++) {
        if (windows[i].mem && windows[i].pid == pid) {
            windows[i].used = ++window_clock;
            *there = windows[i].there;
            return i;
        }
        if (windows[i].used < windows[lru].used)
            lru = i;
    }
    if (!make)
        return BLK_E_BAD;
    if (windows[lru].mem)
        proc_munmap(windows[lru].mem, BLK_WINDOW_BYTES);   /* and out of its client */
    windows[lru].mem = proc_mmap(BLK_WINDOW_BYTES);
    if (!windows[lru].mem || proc_share(windows[lru].mem, BLK_WINDOW_BYTES, pid, &windows[lru].there)) {
        if (windows[lru].mem)
            proc_munmap(windows[lru].mem, BLK_WINDOW_BYTES);
        windows[lru].mem = NULL;
        windows[lru].used = 0;
        return BLK_E_BAD;
    }
    windows[lru].pid = pid;
    windows[lru].used = ++window_clock;
    *there = windows[lru].there;
    return lru;
}

static long do_read(unsigned long lba, unsigned long sectors)
{
    if (lba >= sectors)
        return BLK_E_RANGE;
    if (!wait_idle())
        return BLK_E_IO;
    select_lba(lba, 1, CMD_READ);
    if (!wait_ready(true))
        return BLK_E_IO;
    return pio_string(FERRY_IOPORT_IN_STRING) ? 0 : BLK_E_IO;
}

static long do_write(unsigned long lba, unsigned long sectors)
{
    if (lba >= sectors)
        return BLK_E_RANGE;
    if (!wait_idle())
        return BLK_E_IO;
    select_lba(lba, 1, CMD_WRITE);
    if (!wait_ready(true))
        return BLK_E_IO;
    if (!pio_string(FERRY_IOPORT_OUT_STRING) || !wait_ready(false))
        return BLK_E_IO;
    io_out(CMD_PORTS, ATA_STATUS, 1, CMD_FLUSH);
    return wait_ready(false) ? 0 : BLK_E_IO;
}

int ata_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    unsigned long sectors = identify();
    if (!sectors)
        printf("ata: no disk on the primary channel\n");
    else
        irq_setup();
    unsigned long err = proc_register("blk:");
    if (err) {
        printf("ata: register failed (%lu)\n", err);
        return 1;
    }
    struct sys_msg m = { 0 };
    long crash_in = -1;         /* BLK_CRASH's countdown: requests left before the crash */
    sys_raw(FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
    for (;;) {
        io_crash_tick(&crash_in);
        long r = BLK_E_BAD;
        unsigned long len = 1, w1 = 0, w2 = 0, w3 = 0;
        long w;
        if (!sectors && FERRY_MSGINFO_LABEL(m.info) != BLK_CRASH)
            r = BLK_E_NODEV;
        else switch (FERRY_MSGINFO_LABEL(m.info)) {
        case BLK_INFO:
            r = 0;
            w1 = sectors;
            w2 = multi;
            w3 = irq_waits;
            len = 4;
            break;
        case BLK_WINDOW:
            r = window_of(m.badge, true, &w1);
            if (r >= 0) {
                r = 0;
                w2 = BLK_WINDOW_BYTES;
                len = 3;
            }
            break;
        case BLK_READN: {
            /* words the message did not carry are our last reply's: not the request's */
            unsigned long flags = FERRY_MSGINFO_LEN(m.info) >= 3 ? m.w[2] : 0;
            if (FERRY_MSGINFO_LEN(m.info) < 2)
                break;
            r = w = window_of(m.badge, false, &w1);
            if (w >= 0)
                r = do_readn(m.w[0], m.w[1], sectors, windows[w].mem, !(flags & BLK_READN_NOCHECK), &crash_in);
            w1 = 0;
            break;
        }
        case BLK_READ:
            r = do_read(m.w[0], sectors);
            if (!r)
                len = IO_DATA_WORD + 64;
            break;
        case BLK_WRITE:
            if (FERRY_MSGINFO_LEN(m.info) == IO_DATA_WORD + 64)
                r = do_write(m.w[0], sectors);
            break;
        case BLK_CRASH:                 /* w0 = n: die while serving the n-th next request */
            io_crash_arm(&crash_in, m.w[0]);
            r = 0;
            break;
        }
        m.info = FERRY_MSGINFO(0, len, 0);
        m.w[0] = (unsigned long)r;
        m.w[1] = w1;
        m.w[2] = w2;
        m.w[3] = w3;
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
}
