/* percpu.h: per-CPU kernel data, reached through GS in the entry stubs. */
#ifndef FERRY_ARCH_PERCPU_H
#define FERRY_ARCH_PERCPU_H

/* Offsets used by entry.S; checked against the struct below. */
#define PERCPU_SCRATCH     0
#define PERCPU_KERNEL_RSP  8
#define PERCPU_CUR         16
#define PERCPU_SELF        24
#define PERCPU_CPU         32
/* KPTI=1 (arch/kpti.h): the CR3 values the entry and exit stubs load, and
 * where restore_user_iret builds its frame (this CPU's entry stack). */
#define PERCPU_KPTI_KERNEL_CR3 40
#define PERCPU_KPTI_USER_CR3   48
#define PERCPU_KPTI_ENTRY_RSP  56
/* The IPC fast path runs on this CPU without the big kernel lock (smp.h's
 * FASTPATH_ENTER): its own cache line, the second, which other CPUs read
 * when they take the lock.  PERCPU_SIZE: the block's size, the stride
 * from one CPU's flag to the next (entry.S's BKL_DRAIN). */
#define PERCPU_IN_FASTPATH     64
#define PERCPU_SIZE            4416

/* The most CPUs the kernel brings up (cpus=N limits it further). */
#define FERRY_MAX_CPUS     8
#define PERCPU_ASIDS       4096   /* = ASID_COUNT (vspace.h) */

#ifndef __ASSEMBLER__
#include <types.h>

struct tcb;

struct percpu {
    word_t scratch;          /* user RSP (or RAX) while an entry stub saves registers */
    word_t kernel_rsp;       /* top of this CPU's kernel stack */
    /* The thread running on this CPU (or the idle thread).  Its saved
     * registers are the start of its TCB (ctx), where the syscall entry
     * stores them through this pointer (entry.S's SAVE_SYSCALL_FRAME). */
    struct tcb *cur;
    struct percpu *self;     /* this block's own address: C reaches it by one GS load */
    word_t cpu;              /* this CPU's index, 0 (the boot CPU) .. ks_ncpus - 1 */
    word_t kpti_kernel_cr3;  /* KPTI=1: CR3 of the current space's kernel table (entry) */
    word_t kpti_user_cr3;    /* KPTI=1: CR3 of its user table (every exit to ring 3) */
    word_t kpti_entry_rsp;   /* KPTI=1: top of this CPU's entry stack (TSS.rsp0) */
    /* Non-zero while this CPU runs the IPC fast path without the lock (a
     * reader, docs/smp.md): set by a locked instruction, read by every
     * CPU that takes the lock; alone on its cache line. */
    volatile uint8_t in_fastpath __attribute__((aligned(64)));
    struct tcb *idle __attribute__((aligned(64)));  /* this CPU's idle thread */
    void *sched;             /* this CPU's ready queues (core/sched.c) */
    word_t apic_id;          /* its local APIC's ID (IPIs are addressed by it) */
    /* A request from the lock holder, run by this CPU while it waits for
     * the lock (smp.c): req_fn(req_arg), then req_fn = NULL. */
    void (*volatile req_fn)(word_t);
    word_t req_arg;
    word_t wait_kind;        /* how the entry that waits for the lock came in (smp.c) */
    bool idle_halted;        /* in the idle loop without the lock (traps.c takes it) */
    /* The idle loop polls its ready queues before it halts (thread.c):
     * a CPU that queues a thread here while this is set needs no IPI. */
    bool idle_polling;
    bool yield;              /* the current thread yields at this kernel exit (schedule.c) */
    /* Which PCIDs may hold stale translations in this CPU's TLB (each CPU
     * flushes its own on the next load: vspace.c). */
    bool asid_dirty[PERCPU_ASIDS];
    struct tcb *fpu_owner;   /* whose FPU state the FPU registers hold (the idle thread: nobody's) */
    word_t fpu_ts;           /* lazy FPU: CR0.TS is set (the current thread may not use the FPU) */
    /* What a thread switch may have to do beyond CR3 and the current
     * thread, in one word, so that the assembly IPC fast path
     * (fastpath_asm.S) tests its quiet state (no FPU trap-state work, no
     * FS/GS base live, no PCIDs) and next's bases with one OR: bases_live
     * is the low byte, where next's ctx.bases (CTX_BASE_*) falls. */
    union {
        struct {
            uint8_t bases_live;      /* CTX_BASE_*: which base MSRs may hold non-zero values (thread.c) */
            uint8_t pcid_on;         /* ks_pcid_on (vspace.h), set by vspace_init */
            uint16_t switch_pad;
            uint32_t fpu_clear_left; /* lazy FPU: returns to the owner that still clear TS (arch/fastpath.h) */
        };
        uint64_t switch_work;
    };
    word_t cr0_ts;           /* the CR0 value with TS set (CR0 does not change after boot) */
    paddr_t cur_vspace;      /* physical address of the loaded PML4 */
    /* The cross-CPU hand-off (readyqueue.c; docs/smp.md, "The hand-off"):
     * a thread this CPU, holding the lock, made runnable for an idle,
     * polling CPU, published there when this CPU's kernel work is done
     * (sched_handoff_publish).  Only this CPU reads or writes it. */
    struct tcb *handoff_out;
    /* BENCHMARK=1: the TSC when this CPU last executed its idle halt, 0
     * while it does not halt (thread.c); floor_ipi/halt waits for it. */
    volatile uint64_t halted_since;
    /* What a TCB's ctx.entry_home reads when the IPC fast path may switch
     * to it on this CPU: (FP_HOME_READY | cpu) << 32 (object/tcb.h). */
    uint64_t fp_home_want;
    /* The slot: a thread the lock holder with ticket handoff_ticket
     * handed to this CPU, which its idle loop takes without the lock (a
     * reader, thread.c) or with it.  Polled by this CPU, written by
     * others: its own cache line. */
    struct tcb *volatile handoff __attribute__((aligned(64)));
    volatile uint32_t handoff_ticket;
};

_Static_assert(__builtin_offsetof(struct percpu, scratch) == PERCPU_SCRATCH, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, cur) == PERCPU_CUR, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == PERCPU_CPU, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kpti_kernel_cr3) == PERCPU_KPTI_KERNEL_CR3, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kpti_user_cr3) == PERCPU_KPTI_USER_CR3, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, kpti_entry_rsp) == PERCPU_KPTI_ENTRY_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct percpu, in_fastpath) == PERCPU_IN_FASTPATH, "percpu layout");
_Static_assert(sizeof(struct percpu) == PERCPU_SIZE, "percpu layout: PERCPU_SIZE is the block's size");

/* One block per CPU; in kernel mode GS's base is the running CPU's block
 * (set at boot, swapgs on every entry from and exit to ring 3). */
extern struct percpu ks_percpu_of[FERRY_MAX_CPUS];
extern unsigned ks_ncpus;         /* CPUs running the kernel (1 until smp_init) */

/* The running CPU's block, a variable in GCC's GS address space: each
 * field is one %gs:offset access, as cheap as the one global it was on a
 * single CPU (the IPC fast path reads several).  percpu_self() is its
 * ordinary address, for code that passes a pointer around. */
#if defined(FERRY_HOST_TEST) || defined(FERRY_LINT)
/* Host unit tests (and cppcheck, which reads a GS-relative access as a
 * dereference of 0): one CPU, an ordinary variable. */
#define ks_percpu (ks_percpu_of[0])
#else
/* An object at GS offset 0, named by a symbol the linker script sets to 0
 * rather than written as *(struct percpu *)0: the same %gs:disp32
 * accesses, but not a null-pointer dereference, which UBSan (UBSAN=1)
 * rightly traps on. */
extern __seg_gs struct percpu ks_percpu_gs;
#define ks_percpu ks_percpu_gs
#endif

static inline __attribute__((always_inline)) struct percpu *percpu_self(void)
{
    return ks_percpu.self;
}

#endif
#endif
