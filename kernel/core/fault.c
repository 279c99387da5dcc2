/* fault.c: a user thread faulted: a message to its fault handler, or,
 * without one, a report and the thread suspended. */
#include <arch/thread.h>
#include <core/ipc.h>
#include <core/kernel.h>
#include <ferry/fault.h>
#include <object/tcb.h>
#include <printk.h>

void thread_fault(struct tcb *t, enum fault_kind kind, word_t addr)
{
    static const char *const kinds[] = {
        [FAULT_PAGE] = "page fault at", [FAULT_EXCEPTION] = "exception, vector",
        [FAULT_BAD_STATE] = "unusable register state, rip",
    };
    static const word_t labels[] = {
        [FAULT_PAGE] = FERRY_FAULT_PAGE, [FAULT_EXCEPTION] = FERRY_FAULT_EXCEPTION,
        [FAULT_BAD_STATE] = FERRY_FAULT_BAD_STATE,
    };
    /* The handler gets a Call from t; t runs again when it replies. */
    if (ipc_fault(t, labels[kind], addr))
        return;
    kprintf("thread %p: %s %#lx (rip %#lx): no fault handler, thread suspended\n",
            (void *)t, kinds[kind], addr, ctx_get_pc(&t->ctx));
    tcb_suspend(t);
}
