/* fastpath.h: the thread switch shared by arch_switch_to and the IPC fast path (arch/x86_64/fastpath.c), inline so that the fast path needs no calls. */
#ifndef FERRY_ARCH_FASTPATH_H
#define FERRY_ARCH_FASTPATH_H

#include <arch/percpu.h>
#include <arch/kpti.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <object/tcb.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>


_Noreturn void restore_user_sysret(struct user_context *ctx);   /* entry.S */

static inline struct tcb *arch_current_fp(void)
{
    return ks_percpu.cur;
}

/* The PML4 of t's VSpace, 0 when it has none. */
static inline paddr_t arch_tcb_vspace(const struct tcb *t)
{
    const struct cap *c = &t->slots[TCB_SLOT_VSPACE].cap;
    return c->type == FERRY_OBJ_VSPACE ? c->paddr : 0;
}

/* The PML4 of a thread whose ready word the fast path found set (its
 * TCB_SLOT_VSPACE holds a VSpace: object/tcb.h, tcb_fp_home). */
static inline __attribute__((always_inline)) paddr_t arch_tcb_vspace_ready(const struct tcb *t)
{
    return t->slots[TCB_SLOT_VSPACE].cap.paddr;
}

/* Load next's FS and GS bases (thread.c).  Out of line: only switches to
 * or from a thread with a non-zero base need it. */
static inline __attribute__((always_inline)) bool arch_bases_needed(const struct tcb *next)
{
    return (ks_percpu.bases_live | next->ctx.bases) != 0;
}
void arch_switch_bases(struct tcb *next);
_Noreturn void arch_switch_bases_sysret(struct tcb *next);   /* then restore_user_sysret */

/* Move the FPU registers from owner's save area to to's: to owns them. */
static inline __attribute__((always_inline)) void arch_fpu_move(struct tcb *owner, struct tcb *to)
{
    asm volatile("fxsave64 %0" : "=m"(owner->ctx.fpu));
    asm volatile("fxrstor64 %0" : : "m"(to->ctx.fpu));
    ks_percpu.fpu_owner = to;
}

/* FPU registers, then next is current (next is not the current thread).
 * The owner (whose state the FPU registers hold) is never NULL: the idle
 * thread stands for nobody.
 *
 * Lazy (FERRY_LAZY_FPU): nothing moves here; a thread other than the
 * owner runs with CR0.TS set, so its first FPU or SSE instruction traps
 * (#NM) and arch_fpu_trap moves the state then.  Threads that never touch
 * the FPU between IPCs (the usual server) cost no FPU work at all.  The
 * rule kept: TS clear implies the current thread is the owner (TS set for
 * the owner only costs it one trap, with nothing to move).  Leaving with
 * TS clear means leaving the owner, so set it.  Coming back to the owner,
 * TS is cleared only while the owner is known to use the FPU
 * (fpu_clear_left, renewed by arch_fpu_trap when the owner traps): an
 * owner that stopped using it (the client of an IPC loop) keeps TS set, so
 * a steady stream of IPC writes CR0 not at all (seL4 releases an idle
 * owner's FPU likewise): CR0 writes are serialising, and dear under
 * virtualisation and emulation alike.
 *
 * Eager: one fxsave/fxrstor pair whenever the owner changes. */
/* The lazy switch's work once fpu_clear_left is known non-zero: set TS
 * when leaving the owner with it clear, clear it when coming back to an
 * owner whose count has not run out. */
static inline __attribute__((always_inline)) void arch_fpu_lazy_work(const struct tcb *next)
{
    if (!ks_percpu.fpu_ts) {
        ks_percpu.fpu_ts = true;
        write_cr0(ks_percpu.cr0_ts);
    } else if (next == ks_percpu.fpu_owner && --ks_percpu.fpu_clear_left) {
        ks_percpu.fpu_ts = false;
        clts();
    }
}

static inline __attribute__((always_inline)) void arch_switch_fpu_cur(struct tcb *next)
{
#if FERRY_LAZY_FPU
    /* fpu_clear_left == 0 means TS set and nothing to do (the quiet state
     * of an IPC loop whose threads do not use the FPU): one test.  TS
     * clear implies fpu_clear_left >= 1 (fpu_load_current sets it, and it
     * is decremented to 0 only on a return that leaves TS set). */
    if (unlikely(ks_percpu.fpu_clear_left))
        arch_fpu_lazy_work(next);
#else
    if (ks_percpu.fpu_owner != next)
        arch_fpu_move(ks_percpu.fpu_owner, next);
#endif
    ks_percpu.cur = next;
}

/* The part of a switch after the address space: FPU, current thread, and
 * the FS/GS bases (only where a thread has non-zero ones). */
static inline __attribute__((always_inline)) void arch_switch_rest(struct tcb *next)
{
    arch_switch_fpu_cur(next);
    if (unlikely(arch_bases_needed(next)))
        arch_switch_bases(next);
}

/* Load next's user state: its address space (PCID-aware), then the rest.
 * vs = its PML4. */
static inline __attribute__((always_inline)) void arch_switch_user(struct tcb *next, paddr_t vs)
{
    if (vs != ks_percpu.cur_vspace)
        vspace_activate(vs);
    arch_switch_rest(next);
}

/* The fast path's exit with PCIDs on when the PCID needs bookkeeping (no
 * ASID yet, or stale translations): vspace_activate (thread.c).  The usual
 * case, a clean PCID, is inline (vspace_cr3_clean). */
_Noreturn void arch_fastpath_switch_exit_pcid(struct tcb *next, paddr_t vs);

/* entry.S: into next by sysret with the message words still live.
 * r11 = &next->ctx, rsi = the message info next receives, rdi = the badge,
 * rcx = the length (0..4): rdx r8 r9 r10 keep the sender's
 * words up to the length and are zeroed beyond it; rax = FERRY_OK; the
 * callee-saved registers, RIP, RSP and RFLAGS come from next->ctx. */
_Noreturn void fastpath_sysret(struct user_context *ctx);

/* Leave by a jump, not a call: the fast path functions stay leaves, with
 * no frame to set up (they were called on the kernel stack, which nothing
 * needs once the thread leaves). */
#define FASTPATH_JUMP_1(fn, a)                                          \
    do {                                                                \
        asm volatile("jmp " #fn : : "D"(a) : "memory");                 \
        __builtin_unreachable();                                        \
    } while (0)
#define FASTPATH_JUMP_2(fn, a, b)                                       \
    do {                                                                \
        asm volatile("jmp " #fn : : "D"(a), "S"(b) : "memory");         \
        __builtin_unreachable();                                        \
    } while (0)
/* Into fastpath_sysret: the context in r11 (no constraint letter names it). */
#define FASTPATH_JUMP_SYSRET(ctx, msginfo, badge, len)                  \
    do {                                                                \
        register struct user_context *ctx_ asm("r11") = (ctx);          \
        asm volatile("jmp fastpath_sysret"                              \
                     : : "r"(ctx_), "S"(msginfo), "D"(badge), "c"(len) : "memory"); \
        __builtin_unreachable();                                        \
    } while (0)

/*
 * The message words on the fast path.  arch/x86_64/fastpath.c is compiled with
 * rdx, r8, r9 and r10 fixed (Makefile): from `syscall` to `sysretq` they
 * hold the sender's words 0..3, which the receiver gets where they are,
 * with no store to and load from its saved registers (they were also
 * saved in the sender's, for a restart).  Code that runs on the way and
 * needs one of them (wrmsr, a call into C) keeps them itself, or, on the
 * rare exits, spills the message into next's saved registers and leaves
 * the slow path's way (fastpath_spill_fp).
 */

/* Write the message into next's saved registers as the slow path would
 * (words beyond the length are zeroed, as fastpath_sysret does), so that
 * restore_user_sysret delivers it. */
static inline __attribute__((always_inline)) void fastpath_spill_fp(struct tcb *next, word_t msginfo,
                                                                      word_t badge, word_t len)
{
    word_t *r = next->ctx.regs;
    asm volatile("movq %%rdx, %0\n\tmovq %%r8, %1\n\tmovq %%r9, %2\n\tmovq %%r10, %3"
                 : "=m"(r[CTX_RDX]), "=m"(r[CTX_R8]), "=m"(r[CTX_R9]), "=m"(r[CTX_R10]));
    for (word_t i = len; i < FERRY_MSG_REG_WORDS; i++)
        ctx_set_mr(&next->ctx, (unsigned)i, 0);
    ctx_set_result(&next->ctx, FERRY_OK);
    ctx_set_badge(&next->ctx, badge);
    ctx_set_msginfo(&next->ctx, msginfo);
}

/* wrmsr with rdx, a live message word, kept around it (wrmsr takes the
 * value's high half in edx). */
static inline __attribute__((always_inline)) void wrmsr_live(uint32_t msr, const uint64_t *v)
{
    /* The value's halves loaded straight into eax and edx (x86 is
     * little-endian: the high half is at +4). */
    const uint32_t *half = (const uint32_t *)v;
    asm volatile("movq %%rdx, %%r11\n\tmovl %1, %%eax\n\tmovl %2, %%edx\n\twrmsr\n\tmovq %%r11, %%rdx"
                 : : "c"(msr), "m"(half[0]), "m"(half[1]) : "rax", "r11", "memory");
}

/* The FS and GS bases of next, as thread.c's switch_bases does, but only
 * the base that next has or the registers may hold (a TLS server's round
 * trip writes FS_BASE alone, twice): need = bases_live | next's bits. */
static inline __attribute__((always_inline)) void arch_switch_bases_live(struct tcb *next, word_t need)
{
    if (need & CTX_BASE_FS)
        wrmsr_live(MSR_FS_BASE, &next->ctx.regs[CTX_FS_BASE]);
    if (need & CTX_BASE_GS)
        wrmsr_live(MSR_KERNEL_GS_BASE, &next->ctx.regs[CTX_GS_BASE]);   /* GS after swapgs */
    ks_percpu.bases_live = next->ctx.bases;
}

/* Branches to label when the word at (m) is non-zero (asm goto: GCC
 * tests a %gs: field by loading it into a register and testing that).
 * The asm gotos here are volatile: GCC does not make an asm goto with
 * outputs volatile by itself (and dropped one). */
#define IF_NONZERO_FP(m, label)                                              \
    asm volatile goto("cmpl $0, %0\n\tjne %l[" #label "]" : : "m"(m) : "cc" : label)
_Static_assert(sizeof ks_percpu.fpu_clear_left == 4, "IF_NONZERO_FP compares 32 bits");

/* Switch to next and enter it by sysret with the message (msginfo, badge,
 * len words in rdx r8 r9 r10; len <= FERRY_MSG_REG_WORDS: longer messages
 * were copied between the IPC buffers).  next entered the kernel by
 * `syscall` (ctx.entry == CTX_ENTRY_SYSCALL), so its saved RIP came from
 * RCX and is canonical (a restart only moves it back 2 bytes), and its
 * saved RFLAGS are what the CPU saved (only flags ring 3 may set). */
static inline __attribute__((always_inline)) _Noreturn void arch_fastpath_switch_exit(struct tcb *next, paddr_t vs,
                                                                                    word_t msginfo, word_t badge,
                                                                                    word_t len)
{
    if (vs != ks_percpu.cur_vspace) {
        /* Either layout costs one jump on the other path; the one without
         * PCIDs (TCG, pcid=off) is the straight one. */
        if (!unlikely(ks_pcid_on)) {
            ks_percpu.cur_vspace = vs;
            KPTI_FASTPATH_CR3(vs, vs, false); /* KPTI=1 hook (arch/kpti.h) */
            write_cr3(vs);               /* without PCIDs: CR3 = the PML4 (vspace_cr3) */
        } else {
            uint64_t cr3;
            if (unlikely(!vspace_cr3_clean(vs, &cr3))) {
                fastpath_spill_fp(next, msginfo, badge, len);
                FASTPATH_JUMP_2(arch_fastpath_switch_exit_pcid, next, vs);
            }
            ks_percpu.cur_vspace = vs;
            KPTI_FASTPATH_CR3(vs, cr3, true);  /* KPTI=1 hook (arch/kpti.h) */
            write_cr3(cr3);
        }
    }
    /* The FPU's trap state, quiet in an IPC loop (no owner to give TS
     * back to: fpu_clear_left == 0): one compare. */
    IF_NONZERO_FP(ks_percpu.fpu_clear_left, fpu_work);
fpu_done:
    ks_percpu.cur = next;
    /* The FS/GS bases: none in use on either side, or (TLS) FS alone.
     * The quiet case jumps, so that the OR computed for the test is the
     * asm's output on the fall-through, where the TLS work uses it (an
     * output is not defined on an asm goto's jump: with the branch the
     * other way round the TLS path loaded both words again). */
    word_t need = 0;                     /* (dead: the asm's output; for cppcheck) */
    asm volatile goto("movzbl %1, %k0\n\torq %2, %0\n\tjz %l[bases_quiet]"
                      : "=&r"(need) : "m"(ks_percpu.bases_live), "m"(next->ctx.bases) : "cc" : bases_quiet);
    /* The usual case, thread-local storage: FS alone, one test. */
    if (likely(need == CTX_BASE_FS)) {
        wrmsr_live(MSR_FS_BASE, &next->ctx.regs[CTX_FS_BASE]);
        ks_percpu.bases_live = next->ctx.bases;
    } else {
        arch_switch_bases_live(next, need);
    }
bases_quiet:
    FASTPATH_JUMP_SYSRET(&next->ctx, msginfo, badge, len);
fpu_work:
#if FERRY_LAZY_FPU
    /* fpu_clear_left is non-zero (the test above): only the work, not
     * the test again nor arch_switch_fpu_cur's stores of cur, which
     * fpu_done makes. */
    arch_fpu_lazy_work(next);
#else
    arch_switch_fpu_cur(next);           /* sets cur again: harmless */
#endif
    goto fpu_done;
}

#endif
