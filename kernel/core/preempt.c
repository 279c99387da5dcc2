/* preempt.c: preemption points: let interrupts in during long operations and say when to stop. */
#include <arch/preempt.h>
#include <arch/thread.h>
#include <core/kernel.h>
#include <core/preempt.h>
#include <core/sched.h>

static unsigned ks_preempt_work;

void preemption_reset(void)
{
    ks_preempt_work = 0;
}

bool preemption_point(void)
{
    if (++ks_preempt_work < PREEMPT_WORK_UNITS)
        return false;
    ks_preempt_work = 0;
    arch_irq_window();
    return sched_should_preempt(arch_current()) || schedule_yield_pending() ||
           arch_kernel_wanted_elsewhere();
}
