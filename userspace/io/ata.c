/* ata.c: the blk: service: a user-space ATA PIO driver for the primary
 * IDE channel's master disk (QEMU's if=ide index 0, Bochs's ata0-master),
 * using only the I/O-port capabilities its manifest grants (LBA28, a
 * sector moved by one string-I/O invocation straight into or out of the IPC
 * buffer words of the reply or request, status polled with interrupts off). */
#include <ferry/arch_x86_64.h>
#include <ferry/devcaps.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "io_progs.h"

#define CMD_PORTS  PROC_DEV_IOPORT(0)    /* 0x1f0-0x1f7 */
#define CTL_PORT   PROC_DEV_IOPORT(1)    /* 0x3f6 */
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
#define ST_BSY  0x80
#define CMD_READ     0x20
#define CMD_WRITE    0x30
#define CMD_FLUSH    0xe7
#define CMD_IDENTIFY 0xec

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

/* Waits until not busy; then for want (DRQ) if asked.  False on an error. */
static bool wait_ready(bool drq)
{
    for (long i = 0; i < 10000000; i++) {
        unsigned long st = io_in(ATA_STATUS, 1);
        if (st == ~0UL || st == 0xff)
            return false;            /* no capability, or a floating bus */
        if (st & ST_BSY)
            continue;
        if (st & (ST_ERR | ST_DF))
            return false;
        if (!drq || (st & ST_DRQ))
            return true;
    }
    return false;
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

/* The disk's size in sectors, 0 when there is none. */
static unsigned long identify(void)
{
    io_out(CTL_PORT, ATA_CTL, 1, 0x02);             /* nIEN: we poll */
    io_out(CMD_PORTS, ATA_DRIVE, 1, 0xa0);
    io_out(CMD_PORTS, ATA_STATUS, 1, CMD_IDENTIFY);
    unsigned long st = io_in(ATA_STATUS, 1);
    if (st == 0 || st == 0xff || st == ~0UL)
        return 0;
    if (!wait_ready(true))
        return 0;
    if (!pio_string(FERRY_IOPORT_IN_STRING))
        return 0;
    return ((const unsigned *)&PROC_IPC->mr[IO_DATA_WORD])[30];   /* words 60-61: LBA28 sectors */
}

static long do_read(unsigned long lba, unsigned long sectors)
{
    if (lba >= sectors)
        return BLK_E_RANGE;
    if (!wait_ready(false))
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
    if (!wait_ready(false))
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
        unsigned long len = 1, w1 = 0;
        if (!sectors && FERRY_MSGINFO_LABEL(m.info) != BLK_CRASH)
            r = BLK_E_NODEV;
        else switch (FERRY_MSGINFO_LABEL(m.info)) {
        case BLK_INFO:
            r = 0;
            w1 = sectors;
            len = 2;
            break;
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
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
}
