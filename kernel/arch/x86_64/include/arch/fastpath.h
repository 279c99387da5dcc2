/* fastpath.h: the thread switch shared by arch_switch_to and the IPC fast path (core/fastpath.c), inline so that the fast path needs no calls. */
#ifndef FERRY_ARCH_FASTPATH_H
#define FERRY_ARCH_FASTPATH_H

#include <arch/percpu.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <object/tcb.h>

/* The user FS and GS (kernel GS) bases the MSRs hold now (thread.c). */
extern word_t ks_fs_base, ks_gs_base;

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

/* The part of a switch after the address space: FPU registers (eager:
 * one fxsave/fxrstor pair when the owner changes), FS/GS bases; then
 * next is current. */
static inline __attribute__((always_inline)) void arch_switch_rest(struct tcb *next)
{
    struct tcb *owner = ks_percpu.fpu_owner;
    if (owner != next) {
        if (owner)
            asm volatile("fxsave64 %0" : "=m"(owner->ctx.fpu));
        asm volatile("fxrstor64 %0" : : "m"(next->ctx.fpu));
        ks_percpu.fpu_owner = next;
    }
    /* User code cannot change the bases itself (CR4.FSGSBASE is off), so
     * the MSRs hold what was last written: write only what differs
     * (wrmsr is slow, above all under virtualisation). */
    if (unlikely(next->ctx.regs[CTX_FS_BASE] != ks_fs_base)) {
        ks_fs_base = next->ctx.regs[CTX_FS_BASE];
        wrmsr(MSR_FS_BASE, ks_fs_base);
    }
    if (unlikely(next->ctx.regs[CTX_GS_BASE] != ks_gs_base)) {
        ks_gs_base = next->ctx.regs[CTX_GS_BASE];
        wrmsr(MSR_KERNEL_GS_BASE, ks_gs_base);   /* GS after swapgs */
    }
    ks_percpu.cur = next;
    ks_percpu.cur_ctx_top = (word_t)&next->ctx.regs[CTX_RFLAGS + 1];
}

/* Load next's user state: its address space (PCID-aware), then the rest.
 * vs = its PML4. */
static inline __attribute__((always_inline)) void arch_switch_user(struct tcb *next, paddr_t vs)
{
    if (vs != ks_percpu.cur_vspace)
        vspace_activate(vs);
    arch_switch_rest(next);
}

/* The fast path's exit with PCIDs on (thread.c): vspace_activate looks up
 * the PCID, a call the inline exit below avoids without PCIDs. */
_Noreturn void arch_fastpath_switch_exit_pcid(struct tcb *next, paddr_t vs);

/* Switch to next and enter it by sysret.  next entered the kernel by
 * `syscall` (ctx.entry == CTX_ENTRY_SYSCALL), so its saved RIP came from
 * RCX and is canonical (a restart only moves it back 2 bytes).  Only
 * no-return calls here, so the fast path keeps nothing across a call. */
static inline __attribute__((always_inline)) _Noreturn void arch_fastpath_switch_exit(struct tcb *next, paddr_t vs)
{
    if (vs != ks_percpu.cur_vspace) {
        if (ks_pcid_on)
            arch_fastpath_switch_exit_pcid(next, vs);
        ks_percpu.cur_vspace = vs;
        write_cr3(vs);                   /* without PCIDs: CR3 = the PML4 (vspace_cr3) */
    }
    arch_switch_rest(next);
    restore_user_sysret(&next->ctx);
}

#endif
