/* getpid.c: the process's pid and its parent's, from the process server. */
#include <unistd.h>
#include "libc.h"

pid_t getpid(void)
{
    struct sys_msg m = { 0 };
    return __proc_call(PROC_GETPID, 0, NULL, &m) ? -1 : (pid_t)m.w[1];
}

pid_t getppid(void)
{
    struct sys_msg m = { 0 };
    return __proc_call(PROC_GETPID, 0, NULL, &m) ? -1 : (pid_t)m.w[2];
}

long sysconf(int name)
{
    return name == _SC_PAGESIZE ? 4096 : -1;
}

int getpagesize(void)
{
    return 4096;
}
