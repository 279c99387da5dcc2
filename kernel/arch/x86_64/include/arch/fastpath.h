/* fastpath.h: what the IPC fast path (core/fastpath.c) needs from the architecture: the current thread without a call, and a switch that leaves by sysret. */
#ifndef FERRY_ARCH_FASTPATH_H
#define FERRY_ARCH_FASTPATH_H

#include <arch/percpu.h>

struct tcb;

static inline struct tcb *arch_current_fp(void)
{
    return ks_percpu.cur;
}

/* The PML4 of t's VSpace, 0 when it has none (thread.c). */
paddr_t arch_tcb_vspace(const struct tcb *t);

/* Switch to next (address space PCID-aware, FPU, FS/GS base) and enter it
 * by sysret.  next entered the kernel by `syscall` (ctx.entry ==
 * CTX_ENTRY_SYSCALL), so its saved RIP came from RCX and is canonical. */
_Noreturn void arch_fastpath_switch_exit(struct tcb *next);

#endif
