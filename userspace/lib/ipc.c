/* ipc.c: the TCB invocations that belong to IPC (binding a notification). */
#include <ferry/ipc.h>
#include <ferry/ulib.h>

unsigned long tcb_bind_notification(unsigned long tcb, unsigned long ntfn)
{
    return ferry_invoke(tcb, FERRY_TCB_BIND_NOTIFICATION, 0, NULL, 1, &ntfn, NULL);
}

unsigned long tcb_unbind_notification(unsigned long tcb)
{
    return ferry_invoke(tcb, FERRY_TCB_UNBIND_NOTIFICATION, 0, NULL, 0, NULL, NULL);
}
