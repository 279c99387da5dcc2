/* errno.c: errno, one per thread, and the process server's errors as
 * errno values. */
#include <errno.h>
#include "libc.h"

#define THREADS_MAX 16

static int errnos[THREADS_MAX];

int *__errno_location(void)
{
    return &errnos[__thread_index() % THREADS_MAX];
}

int __set_errno_proc(unsigned long err)
{
    switch (err) {
    case PROC_E_DENIED:    errno = EACCES; break;
    case PROC_E_NOT_FOUND: errno = ENOENT; break;
    case PROC_E_BAD_NAME:  errno = ENAMETOOLONG; break;
    case PROC_E_TAKEN:     errno = EEXIST; break;
    case PROC_E_NO_MEMORY: errno = ENOMEM; break;
    case PROC_E_NO_CHILD:  errno = ECHILD; break;
    case PROC_E_AGAIN:     errno = EAGAIN; break;
    default:               errno = EINVAL; break;
    }
    return -1;
}
