/* preempt.h: the x86-64 half of a kernel preemption point: a moment with interrupts on. */
#ifndef FERRY_ARCH_PREEMPT_H
#define FERRY_ARCH_PREEMPT_H

/* The kernel runs with IF=0.  sti's one-instruction shadow covers the
 * nop, so a pending interrupt is taken between nop and cli: it is handled
 * on this kernel stack by trap_handler (vector >= 32) and returns here. */
static inline void arch_irq_window(void)
{
    asm volatile("sti; nop; cli" ::: "memory");
}

#endif
