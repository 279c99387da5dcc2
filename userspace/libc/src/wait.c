/* wait.c: waitpid: PROC_WAIT reaps an ended child at once; while the
 * child runs the server answers PROC_E_AGAIN and the parent waits on its
 * own notification (PROC_CAP_NOTIFY), which the server signals whenever
 * one of its children ends, then asks again. */
#include <errno.h>
#include <sys/wait.h>
#include "libc.h"

/* A Ferry status as Linux encodes it (see sys/wait.h). */
static int encode(long status)
{
    if (status == PROC_STATUS_KILLED)
        return 9;                          /* SIGKILL */
    if (status == PROC_STATUS_FAULTED)
        return 11;                         /* SIGSEGV */
    return (int)((status & 0xff) << 8);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
    for (;;) {
        struct sys_msg m = { 0 };
        const unsigned long w[1] = { (unsigned long)(long)pid };
        unsigned long err = __proc_call(PROC_WAIT, 1, w, &m);
        if (err == PROC_OK) {
            if (status)
                *status = encode((long)m.w[2]);
            return (pid_t)m.w[1];
        }
        if (err != PROC_E_AGAIN)
            return __set_errno_proc(err);
        if (options & WNOHANG)
            return 0;
        struct sys_msg n = { 0 };
        sys_raw(FERRY_SYS_RECV, PROC_CAP_NOTIFY, &n);
    }
}

pid_t wait(int *status)
{
    return waitpid(-1, status, 0);
}
