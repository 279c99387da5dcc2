/* call.c: the Call to the process server every libc request is made of
 * (protocol: ferry/proc.h). */
#include <string.h>
#include <ferry/prog.h>
#include "libc.h"

unsigned long __proc_call(unsigned long label, unsigned long n, const unsigned long *w,
                          struct sys_msg *m)
{
    m->info = FERRY_MSGINFO(label, n, 0);
    struct ferry_ipc_buffer *ipc = n > FERRY_MSG_REG_WORDS ? __ipc() : NULL;
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m->w[i] = w[i];
        else
            ipc->mr[i] = w[i];
    }
    unsigned long err = sys_raw(FERRY_SYS_CALL, PROC_CAP_SERVER, m);
    return err ? err : m->w[0];
}

unsigned long proc_call(unsigned long label, unsigned long n, const unsigned long *w,
                        struct sys_msg *m)
{
    return __proc_call(label, n, w, m);
}

unsigned long __proc_call_bytes(unsigned long label, const void *s, size_t len, struct sys_msg *m)
{
    unsigned long w[1 + (PROC_MAX_PRINT + 7) / 8] = { len };
    if (len > PROC_MAX_PRINT)
        return PROC_E_BAD_REQUEST;
    memcpy(&w[1], s, len);
    return __proc_call(label, 1 + (len + 7) / 8, w, m);
}
