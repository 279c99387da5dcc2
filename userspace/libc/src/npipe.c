/* npipe.c: named pipes of the pipe: service (userspace/io/pipesrv.c):
 * open("pipe:NAME", O_RDONLY or O_WRONLY) gives a descriptor whose read
 * and write are Calls on pipe: (looked up once into LIBC_PIPE_SLOT; the
 * manifest must list it).  The service never waits: with nothing to read
 * or no room, the client yields and asks again.  The handle is the
 * opener's: a fork child must open the pipe itself. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "libc.h"

#define LIBC_PIPE_SLOT 44      /* below serial:'s (src/write.c) and file:'s (src/file.c) */

static bool have_ep;

static long call(unsigned long label, unsigned long w0, unsigned long w1, const void *data, size_t n,
                 struct sys_msg *m)
{
    *m = (struct sys_msg){ .info = FERRY_MSGINFO(label, n ? IO_DATA_WORD + (n + 7) / 8 : 2, 0),
                           .w = { w0, w1 } };
    if (n)
        memcpy(&__ipc()->mr[IO_DATA_WORD], data, n);
    if (sys_raw(FERRY_SYS_CALL, LIBC_PIPE_SLOT, m)) {
        have_ep = false;       /* the service died: its pipes went with it */
        return PIPE_E_BAD;
    }
    return (long)m->w[0];
}

static int fail(long r)
{
    errno = r == PIPE_E_NOREADER ? EPIPE : r == PIPE_E_FULL ? ENFILE : EBADF;
    return -1;
}

int __npipe_open(const char *name, int flags)
{
    int acc = flags & O_ACCMODE;
    size_t len = strlen(name);
    if (acc == O_RDWR || len == 0 || len > 31) {
        errno = EINVAL;
        return -1;
    }
    if (!have_ep) {
        unsigned long err = proc_lookup("pipe:", LIBC_PIPE_SLOT);
        if (err != PROC_OK)
            return __set_errno_proc(err);
        have_ep = true;
    }
    int fd = __fd_free();
    if (fd < 0)
        return -1;
    struct sys_msg m;
    long r = call(PIPE_OPEN, acc == O_RDONLY ? PIPE_END_READ : PIPE_END_WRITE, len, name, len, &m);
    if (r < 0)
        return fail(r);
    __fds[fd] = (struct __fd){ .used = true, .handle = (long)m.w[1], .named = true,
                               .write_end = acc == O_WRONLY };
    return fd;
}

long __npipe_read(int fd, void *buf, size_t n)
{
    if (__fds[fd].write_end) {
        errno = EBADF;
        return -1;
    }
    if (n > IO_DATA_BYTES)
        n = IO_DATA_BYTES;
    for (;;) {
        struct sys_msg m;
        long r = call(PIPE_READ, (unsigned long)__fds[fd].handle, n, NULL, 0, &m);
        if (r < 0)
            return fail(r);
        if (m.w[1] > n)
            return fail(PIPE_E_BAD);
        if (m.w[1] || m.w[2] || n == 0) {
            memcpy(buf, &__ipc()->mr[IO_DATA_WORD], m.w[1]);
            return (long)m.w[1];
        }
        sched_yield();
    }
}

long __npipe_write(int fd, const void *buf, size_t n)
{
    if (!__fds[fd].write_end) {
        errno = EBADF;
        return -1;
    }
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < IO_DATA_BYTES ? n - done : IO_DATA_BYTES;
        struct sys_msg m;
        long r = call(PIPE_WRITE, (unsigned long)__fds[fd].handle, k, (const char *)buf + done, k, &m);
        if (r < 0)
            return done ? (long)done : fail(r);
        if (m.w[1] > k)
            return fail(PIPE_E_BAD);
        done += m.w[1];
        if (m.w[1] == 0)
            sched_yield();
    }
    return (long)done;
}

int __npipe_close(int fd)
{
    struct sys_msg m;
    long r = have_ep ? call(PIPE_CLOSE, (unsigned long)__fds[fd].handle, 0, NULL, 0, &m) : 0;
    __fds[fd] = (struct __fd){ 0 };
    return r < 0 ? fail(r) : 0;
}
