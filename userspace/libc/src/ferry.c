/* ferry.c: the Ferry-specific calls of a program (ferry/prog.h): names,
 * anonymous memory and exit, each a Call to the process server on
 * PROC_CAP_SERVER (protocol: ferry/proc.h). */
#include <stdlib.h>
#include <unistd.h>
#include <ferry/prog.h>
#include "libc.h"

void proc_exit(long status)
{
    exit((int)status);
}

unsigned long proc_getpid(void)
{
    struct sys_msg m = { 0 };
    return __proc_call(PROC_GETPID, 0, NULL, &m) ? 0 : m.w[1];
}

unsigned long proc_lookup(const char *name, unsigned long dest)
{
    size_t len = strlen(name);
    if (len >= PROC_NAME_MAX)
        return PROC_E_BAD_NAME;
    __ipc()->recv_cnode = PROC_CAP_CNODE;
    __ipc()->recv_index = dest;
    __ipc()->recv_depth = 64;
    struct sys_msg m = { 0 };
    unsigned long err = __proc_call_bytes(PROC_LOOKUP, name, len, &m);
    if (err == PROC_OK && FERRY_MSGINFO_CAPS(m.info) != 1)
        return PROC_E_BAD_REQUEST;     /* the slot was not free */
    return err;
}

unsigned long proc_register(const char *name)
{
    size_t len = strlen(name);
    if (len >= PROC_NAME_MAX)
        return PROC_E_BAD_NAME;
    struct sys_msg m = { 0 };
    return __proc_call_bytes(PROC_REGISTER, name, len, &m);
}

void *proc_mmap(size_t len)
{
    struct sys_msg m = { 0 };
    unsigned long w = len;
    return __proc_call(PROC_MMAP, 1, &w, &m) ? NULL : (void *)m.w[1];
}

unsigned long proc_munmap(void *addr, size_t len)
{
    struct sys_msg m = { 0 };
    const unsigned long w[2] = { (unsigned long)addr, len };
    return __proc_call(PROC_MUNMAP, 2, w, &m);
}

const char *proc_getenv(char **envp, const char *name)
{
    size_t n = strlen(name);
    for (; envp && *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}
