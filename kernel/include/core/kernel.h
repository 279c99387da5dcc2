/* kernel.h: the kernel's top-level control flow: leaving the kernel,
 * scheduling, and what happens to faulting threads. */
#ifndef FERRY_CORE_KERNEL_H
#define FERRY_CORE_KERNEL_H

#include <types.h>

struct tcb;

/* Pick the thread to run (the current one if it still may) and switch to it. */
void schedule(void);

/* The current thread gives up the rest of its time slice. */
void schedule_yield(void);

/* Has the current thread yielded or used up its slice since it entered
 * the kernel?  (A long operation's preemption point stops then.) */
bool schedule_yield_pending(void);

/* schedule(), then return to user space; the single way out of the kernel. */
_Noreturn void kernel_exit(void);

/* Could any thread ever become runnable again? */
bool kernel_can_wake(void);
_Noreturn void kernel_halt_no_threads(void);

enum fault_kind {
    FAULT_PAGE,          /* addr = faulting address */
    FAULT_EXCEPTION,     /* addr = vector */
    FAULT_BAD_STATE,     /* addr = the offending RIP */
};

/* A user thread faulted: report it and stop the thread (the IPC layer
 * turns this into a message to the thread's fault endpoint). */
void thread_fault(struct tcb *t, enum fault_kind kind, word_t addr);

#endif
