/* mman.c: mmap and munmap of anonymous memory through the process
 * server's pager (PROC_MMAP, PROC_MUNMAP): pages appear on first touch,
 * zeroed.  Only what Ferry's pager offers: no files, no fixed addresses. */
#include <errno.h>
#include <sys/mman.h>
#include "libc.h"

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    (void)addr;     /* a hint only, as POSIX allows */
    (void)prot;     /* every anonymous page is mapped read-write, never executable */
    if (!(flags & MAP_ANONYMOUS) || (flags & MAP_FIXED) || fd != -1 || off != 0) {
        errno = (flags & MAP_ANONYMOUS) ? EINVAL : ENOSYS;
        return MAP_FAILED;
    }
    if (len == 0) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    struct sys_msg m = { 0 };
    unsigned long w[2] = { len, (flags & MAP_SHARED) ? 1UL : 0UL };
    unsigned long err = __proc_call(PROC_MMAP, 2, w, &m);
    if (err) {
        __set_errno_proc(err);
        return MAP_FAILED;
    }
    return (void *)m.w[1];
}

int munmap(void *addr, size_t len)
{
    struct sys_msg m = { 0 };
    const unsigned long w[2] = { (unsigned long)addr, len };
    unsigned long err = __proc_call(PROC_MUNMAP, 2, w, &m);
    return err ? __set_errno_proc(err) : 0;
}
