/* preempt.h: the x86-64 half of a kernel preemption point: a moment with interrupts on. */
#ifndef FERRY_ARCH_PREEMPT_H
#define FERRY_ARCH_PREEMPT_H

#include <arch/smp.h>

/* The kernel runs with IF=0.  sti's one-instruction shadow covers the
 * nop, so a pending interrupt is taken between nop and cli: it is handled
 * on this kernel stack by trap_handler (vector >= 32) and returns here. */
static inline void arch_irq_window(void)
{
    asm volatile("sti; nop; cli" ::: "memory");
}

/* Another CPU waits for the big kernel lock: it holds a ticket beyond
 * ours.  Interrupts go to CPU 0 (ioapic.c); while a long operation on
 * another CPU holds the lock, CPU 0's interrupt handler spins on it, so
 * the window above cannot let that interrupt in: only stopping and
 * restarting the operation (which releases the lock on the way out)
 * does. */
static inline bool arch_kernel_wanted_elsewhere(void)
{
    return __atomic_load_n(&ks_bkl.next, __ATOMIC_RELAXED) - ks_bkl.owner > 1;
}

#endif
