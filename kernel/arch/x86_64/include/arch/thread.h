/* thread.h: what core code asks of the architecture about threads. */
#ifndef FERRY_ARCH_THREAD_H
#define FERRY_ARCH_THREAD_H

#include <types.h>

struct tcb;

/* syscall/sysret MSRs and the per-CPU block; called once at boot. */
void entry_init(void);

struct tcb *arch_current(void);
bool arch_is_idle(const struct tcb *t);

/* This CPU runs its idle thread from now (smp.c: its thread was taken). */
void arch_set_idle(void);
/* If this CPU's FPU registers hold t's state: save it into t, owner none. */
void arch_fpu_release_local(struct tcb *t);
/* How long an idle CPU polls for a thread before it halts (boot). */
void arch_idle_poll_init(uint64_t us);
/* Into the idle loop on a fresh kernel stack, the big kernel lock held. */
_Noreturn void arch_idle_enter(void);

/* Make next the current thread: its address space, FPU state, FS/GS bases. */
void arch_switch_to(struct tcb *next);

/* Leave the kernel into the current thread (or the idle loop).  Returns
 * only when the thread cannot be entered (its saved state is unusable):
 * it has been handed to its fault handler or stopped, and the caller
 * (kernel_exit) chooses again. */
void arch_return_to_user(void);

/* Lazy FPU switching (FERRY_LAZY_FPU): a #NM from user mode; true when
 * it was the lazy switch's trap and the current thread's FPU state is now
 * loaded (the instruction is simply retried), false when it is the
 * thread's own fault. */
bool arch_fpu_trap(void);

/* The current thread's FPU state into the FPU registers, usable by the
 * kernel on its behalf (the FPU floor benchmark). */
void arch_fpu_own(void);

/* A fresh TCB's architecture state (FPU defaults). */
void arch_tcb_init(struct tcb *t);

#endif
