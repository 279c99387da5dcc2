/* write.c: write(2) for the console descriptors 1 and 2: through the
 * serial: driver when the program's manifest lists serial: and the driver
 * is up, otherwise printed by the process server (the kernel's console);
 * and read(2) of descriptor 0, the console's input, from serial:.
 * Descriptors from 3 on are files of the file server (src/file.c). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "libc.h"

#define LIBC_SERIAL_SLOT 46    /* below file:'s slot (src/file.c) */

/* serial:, asked for at the first console write.  Not in the manifest:
 * never asked again.  Not registered (the driver not up yet, or being
 * restarted), or a Call that failed (it died; a fork child, which has
 * none of its parent's looked-up capabilities): asked again at the next
 * write, and this one goes to the process server, so no line is lost. */
static enum { SERIAL_ASK, SERIAL_HAVE, SERIAL_DENIED } serial_state;

/* serial: in LIBC_SERIAL_SLOT, asked for now if not yet; false when not
 * (serial_state says whether it may be asked again). */
static bool serial_have(void)
{
    if (serial_state == SERIAL_ASK) {
        unsigned long err = proc_probe("serial:", LIBC_SERIAL_SLOT);
        if (err == PROC_E_DENIED)
            serial_state = SERIAL_DENIED;
        if (err == PROC_OK)
            serial_state = SERIAL_HAVE;
    }
    return serial_state == SERIAL_HAVE;
}

/* Standard input: what the driver received, at least one byte.  The
 * driver sleeps until a byte came (SERIAL_READ_WAIT: on IRQ 4, not by this
 * program's yields); when another reader sleeps there already it answers
 * 0 at once and this yields and asks again.  While the driver is not up
 * (not yet, or being restarted) it waits for it.  A program whose
 * manifest does not list serial: has no console input: read returns 0,
 * the end. */
long __console_read(void *buf, size_t n)
{
    if (n == 0)
        return 0;
    for (;;) {
        if (!serial_have()) {
            if (serial_state == SERIAL_DENIED)
                return 0;
            sched_yield();
            continue;
        }
        size_t k = n < IO_DATA_BYTES ? n : IO_DATA_BYTES;
        struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_READ, 2, 0), .w = { k, SERIAL_READ_WAIT } };
        if (sys_raw(FERRY_SYS_CALL, LIBC_SERIAL_SLOT, &m) || m.w[0] != 0 || m.w[1] > k) {
            serial_state = SERIAL_ASK;       /* it died: the restarted one, when it is up */
            continue;
        }
        if (m.w[1]) {
            memcpy(buf, &__ipc()->mr[IO_DATA_WORD], m.w[1]);
            return (long)m.w[1];
        }
        sched_yield();
    }
}

/* How many of the n bytes the driver wrote. */
static size_t serial_write(const char *s, size_t n)
{
    if (!serial_have())
        return 0;
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < IO_DATA_BYTES ? n - done : IO_DATA_BYTES;
        struct sys_msg m = { .info = FERRY_MSGINFO(SERIAL_WRITE, IO_DATA_WORD + (k + 7) / 8, 0),
                             .w = { k } };
        memcpy(&__ipc()->mr[IO_DATA_WORD], s + done, k);
        if (sys_raw(FERRY_SYS_CALL, LIBC_SERIAL_SLOT, &m) || m.w[0] != 0) {
            serial_state = SERIAL_ASK;
            break;
        }
        done += k;
    }
    return done;
}

void __console_write(const char *s, size_t n)
{
    size_t done = serial_write(s, n);
    s += done;
    n -= done;
    struct sys_msg m = { 0 };
    while (n) {
        size_t chunk = n < PROC_MAX_PRINT ? n : PROC_MAX_PRINT;
        __proc_call_bytes(PROC_PRINT, s, chunk, &m);
        s += chunk;
        n -= chunk;
    }
}

ssize_t write(int fd, const void *buf, size_t n)
{
    if (fd > STDERR_FILENO || (fd >= 0 && __fds[fd].used))     /* a file, a pipe, or a dup2 onto 0-2 */
        return __file_write(fd, buf, n);
    if (fd != STDOUT_FILENO && fd != STDERR_FILENO) {
        errno = EBADF;
        return -1;
    }
    __console_write(buf, n);
    return (ssize_t)n;
}
