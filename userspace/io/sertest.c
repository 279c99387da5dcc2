/* sertest.c: the serial driver's test client.  "sertest write TEXT": prints
 * TEXT with printf (the libc sends it to serial: when the manifest lists
 * it) and checks, by SERIAL_INFO before and after, that the driver wrote
 * exactly those bytes; "sertest read TEXT": announces that it waits, then
 * reads its standard input (the libc's read(0), from serial:) until TEXT
 * and a newline arrived (the boot test types it into QEMU's serial input)
 * and checks that the driver's IRQ thread took them;
 * "sertest empty": a read with nothing received returns 0 bytes at once;
 * "sertest block": a SERIAL_READ_WAIT with nothing typed sleeps in the
 * driver until the driver goes (status 0 when its Call then fails, having
 * received nothing); "sertest sleeping": waits until the driver says a
 * reader sleeps, then checks that writes and reads are still served and a
 * second waiting read is answered at once (0 bytes, busy);
 * "sertest crash": the driver dies serving this program's next printf
 * (which the libc then gives the process server: the line still shows),
 * and once the supervisor has restarted it printf goes through it again.
 * Status 0 when all held, else the number of the failed check. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "io_progs.h"

#define SLOT 45     /* serial: for the direct Calls (the libc's own is 46) */

static unsigned long info_slept, info_reads, info_sleeper;   /* SERIAL_INFO's IPC-buffer words */

static bool info(unsigned long *written, unsigned long *received, unsigned long *irqs)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_INFO, 0, 0) };
    if (sys_raw(FERRY_SYS_CALL, SLOT, &m) || m.w[0] != 0 || FERRY_MSGINFO_LEN(m.info) < 8)
        return false;
    *written = m.w[1], *received = m.w[2], *irqs = m.w[3];
    info_slept = PROC_IPC->mr[5], info_reads = PROC_IPC->mr[6], info_sleeper = PROC_IPC->mr[7];
    return true;
}

/* Up to max bytes received so far into buf; -1 on an error. */
static long serial_read(char *buf, unsigned long max)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_READ, 1, 0), .w = { max } };
    if (sys_raw(FERRY_SYS_CALL, SLOT, &m) || m.w[0] != 0 || m.w[1] > max)
        return -1;
    memcpy(buf, &PROC_IPC->mr[IO_DATA_WORD], m.w[1]);
    return (long)m.w[1];
}

int sertest_main(int argc, char **argv)
{
    if (argc < 2 || proc_lookup("serial:", SLOT) != PROC_OK)
        return 1;
    unsigned long w0, r0, i0, w1, r1, i1;
    if (!info(&w0, &r0, &i0))
        return 2;
    if (strcmp(argv[1], "write") == 0 && argc > 2) {
        int n = printf("sertest: %s\n", argv[2]);
        fflush(stdout);
        if (!info(&w1, &r1, &i1))
            return 3;
        return w1 - w0 == (unsigned long)n ? 0 : 4;
    }
    if (strcmp(argv[1], "crash") == 0) {
        struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_CRASH, 1, 0), .w = { 1 } };
        if (sys_raw(FERRY_SYS_CALL, SLOT, &m) || m.w[0] != 0)
            return 13;
        printf("sertest: a line while the driver crashes\n");
        unsigned long err = PROC_E_NOT_FOUND;
        for (unsigned long i = 0; i < 1000000 && err != PROC_OK; i++)
            if ((err = proc_lookup("serial:", SLOT)) != PROC_OK)
                sched_yield();
        if (err != PROC_OK || !info(&w0, &r0, &i0))
            return 14;
        int n = printf("sertest: a line through the restarted driver\n");
        if (!info(&w1, &r1, &i1))
            return 15;
        return w1 - w0 == (unsigned long)n ? 0 : 16;
    }
    if (strcmp(argv[1], "empty") == 0) {
        char c;
        return serial_read(&c, 1) == 0 ? 0 : 5;
    }
    if (strcmp(argv[1], "block") == 0) {
        struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_READ, 2, 0), .w = { 1, SERIAL_READ_WAIT } };
        unsigned long err = sys_raw(FERRY_SYS_CALL, SLOT, &m);
        return err ? 0 : 17;                 /* answered: nothing was typed, it must not have been */
    }
    if (strcmp(argv[1], "sleeping") == 0) {
        for (unsigned long i = 0; i < 1000000 && info_sleeper == 0; i++) {
            sched_yield();
            if (!info(&w0, &r0, &i0))
                return 18;
        }
        if (info_sleeper != 1 || info_slept == 0)
            return 19;
        unsigned long slept0 = info_slept;
        int n = printf("sertest: a line while a reader sleeps in the driver\n");
        fflush(stdout);
        char c;
        if (serial_read(&c, 1) != 0)
            return 20;
        struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_READ, 2, 0), .w = { 1, SERIAL_READ_WAIT } };
        if (sys_raw(FERRY_SYS_CALL, SLOT, &m) || m.w[0] != 0 || m.w[1] != 0 || m.w[2] != 1)
            return 21;                       /* a second waiting reader: 0 bytes, busy, at once */
        if (!info(&w1, &r1, &i1))
            return 22;
        return w1 - w0 == (unsigned long)n && info_sleeper == 1 && info_slept == slept0 ? 0 : 23;
    }
    if (strcmp(argv[1], "read") == 0 && argc > 2) {
        char line[128];
        size_t got = 0, want = strlen(argv[2]);
        if (want + 1 > sizeof line)
            return 6;
        printf("sertest: waiting for input\n");
        fflush(stdout);
        /* stdin: read(0) returns what came, at least a byte (the driver
         * sleeps until then: one SERIAL_READ a read, not one a yield) */
        unsigned long calls = 0, reads0 = info_reads, slept0 = info_slept;
        while (got < want + 1) {
            long k = read(STDIN_FILENO, line + got, want + 1 - got);
            if (k <= 0)
                return 7;
            got += (size_t)k;
            calls++;
        }
        if (got != want + 1)
            return 8;
        line[want] = 0;
        printf("sertest: read \"%s\"\n", line);
        fflush(stdout);
        if (strcmp(line, argv[2]) != 0)
            return 9;
        if (!info(&w1, &r1, &i1))
            return 10;
        if (info_reads - reads0 != calls || info_slept == slept0)
            return 24;                       /* each read(0) one request, and the driver slept */
        return r1 - r0 >= want + 1 && i1 > i0 ? 0 : 11;
    }
    return 12;
}
