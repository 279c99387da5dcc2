/* percpu.h: per-CPU kernel data, reached through GS in the entry stubs. */
#ifndef FERRY_ARCH_PERCPU_H
#define FERRY_ARCH_PERCPU_H

/* Offsets used by entry.S; checked against the struct below. */
#define PERCPU_SCRATCH     0
#define PERCPU_KERNEL_RSP  8
#define PERCPU_CUR_CTX_TOP 16

#ifndef __ASSEMBLER__
#include <types.h>

struct tcb;

struct percpu {
    word_t scratch;          /* user RSP (or RAX) while an entry stub saves registers */
    word_t kernel_rsp;       /* top of this CPU's kernel stack */
    word_t cur_ctx_top;      /* end of the current thread's saved registers: the
                              * entry stubs push RFLAGS, RSP, RIP, R15..RAX down from here */
    struct tcb *cur;         /* the thread running on this CPU (or the idle thread) */
    struct tcb *fpu_owner;   /* whose FPU state the FPU registers hold (the idle thread: nobody's) */
    word_t fpu_ts;           /* lazy FPU: CR0.TS is set (the current thread may not use the FPU) */
    word_t fpu_clear_left;   /* lazy FPU: returns to the owner that still clear TS (arch/fastpath.h) */
    word_t cr0_ts;           /* the CR0 value with TS set (CR0 does not change after boot) */
    paddr_t cur_vspace;      /* physical address of the loaded PML4 */
    word_t bases_live;       /* CTX_BASE_*: which base MSRs may hold non-zero values (thread.c) */
};

_Static_assert(__builtin_offsetof(struct percpu, scratch) == PERCPU_SCRATCH, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, cur_ctx_top) == PERCPU_CUR_CTX_TOP, "percpu layout");

extern struct percpu ks_percpu;   /* one CPU for now */

#endif
#endif
