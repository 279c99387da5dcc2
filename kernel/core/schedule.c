/* schedule.c: choosing the next thread and leaving the kernel. */
#include <arch/irq.h>
#include <arch/machine.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <core/ipc.h>
#include <core/kernel.h>
#include <core/sched.h>
#include <ferry/bench_format.h>
#include <ferry/fault.h>
#include <object/tcb.h>
#include <printk.h>

/* Per CPU: the current thread yields at this kernel exit. */
#define ks_yield (ks_percpu.yield)

void schedule(void)
{
    struct tcb *cur = arch_current();
    bool cur_runs = !arch_is_idle(cur) && cur->state == TCB_RUNNABLE;
    /* A thread whose affinity moved away (it set its own) goes to its
     * CPU's queue, its FPU state saved here, and this CPU chooses again. */
    bool moves = cur_runs && cur->affinity != arch_cpu_index();
    if (cur_runs && !moves && !ks_yield && !sched_should_preempt(cur))
        return;
    if (cur_runs) {
        /* A preempted thread keeps its place; one that yields goes last. */
        if (moves)
            smp_fpu_release(cur);
        if (ks_yield || moves)
            sched_enqueue(cur);
        else
            sched_enqueue_front(cur);
    }
    ks_yield = false;
    arch_switch_to(sched_choose());
}

void schedule_yield(void)
{
    ks_yield = true;
}

bool schedule_yield_pending(void)
{
    return ks_yield;
}

void kernel_exit(void)
{
    /* arch_return_to_user comes back only when the chosen thread could not
     * be entered (and was faulted): choose again, in this loop, so that no
     * number of such threads can deepen the kernel stack. */
    for (;;) {
        schedule();
        arch_return_to_user();
    }
}

bool kernel_can_wake(void)
{
    /* A ready thread, or an interrupt line that may signal a waiting one
     * (no thread waits on time: there are no timeouts). */
    return sched_any_ready() || smp_other_cpu_busy() || irq_any_bound();
}

void kernel_halt_no_threads(void)
{
    machine_exit(FERRY_EXIT_FAILURE);
}

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
            (void *)t, kinds[kind], addr, ctx_get(&t->ctx, CTX_RIP));
    tcb_suspend(t);
}
