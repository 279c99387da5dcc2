/* scheduler.c: choosing the next thread (from the ready queues of
 * readyqueue.c) and leaving the kernel. */
#include <arch/irq.h>
#include <arch/machine.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <core/kernel.h>
#include <core/sched.h>
#include <ferry/bench_format.h>

/* Per CPU: the current thread yields at this kernel exit. */
#define ks_yield (ks_percpu.yield)

void schedule(void)
{
    struct tcb *cur = arch_current();
    bool cur_runs = !arch_is_idle(cur) && cur->state == TCB_RUNNABLE;
    /* A thread whose affinity moved away (it set its own) goes to its
     * CPU's queue, its FPU state saved here, and this CPU chooses again. */
    bool moves = cur_runs && cur->affinity != arch_cpu_index();
    if (cur_runs && !moves && !ks_yield && !sched_should_preempt(cur)) {
        sched_handoff_publish();
        return;
    }
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
    /* Our kernel work is done (what follows is this CPU's choice and
     * switch, and its exit): a thread we woke for an idle CPU goes out
     * now, so that CPU runs it while we leave (docs/smp.md, "The
     * hand-off"). */
    sched_handoff_publish();
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
