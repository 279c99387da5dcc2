/* write.c: write(2) for the console descriptors 1 and 2 (the process
 * server prints for the process); descriptors from 3 on are files of the
 * file server (src/file.c). */
#include <errno.h>
#include <unistd.h>
#include "libc.h"

void __console_write(const char *s, size_t n)
{
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
