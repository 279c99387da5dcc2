/* thread.c: x86-64 thread state: switching threads (CR3, FPU, FS/GS base),
 * leaving the kernel by sysret or iret, and the idle loop. */
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/fastpath.h>
#include <arch/floor.h>
#include <arch/gdt.h>
#include <arch/kstack.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <core/sched.h>
#include <core/kernel.h>
#include <ferry/arch_x86_64.h>
#include <object/arch_hooks.h>
#include <object/tcb.h>
#include <panic.h>
#include <printk.h>

/* One idle thread per CPU (its percpu.idle). */
static struct tcb ks_idle_tcb[FERRY_MAX_CPUS] __attribute__((aligned(64)));

void restore_user_iret(struct user_context *ctx) __attribute__((noreturn));

#define FXSAVE_FCW    0
#define FXSAVE_MXCSR  24

static void set_cur(struct tcb *t)
{
    ks_percpu.cur = t;
}

void entry_init(void)
{
    extern char syscall_entry[], syscall_compat_entry[];
    /* GS's base is this CPU's block already (percpu_early_init, ap_entry). */
    struct tcb *idle = &ks_idle_tcb[ks_percpu.cpu];
    ks_percpu.kernel_rsp = (word_t)kstack_top(kstack_of((unsigned)ks_percpu.cpu, KSTACK_KERNEL));
    tcb_init(idle);
    ks_percpu.idle = idle;
    set_cur(idle);
    ks_percpu.fpu_owner = idle;          /* its FXSAVE area takes the boot state */
    sched_init(idle);
    wrmsr(MSR_KERNEL_GS_BASE, 0);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* SYSCALL loads CS = STAR[47:32], SS = +8; SYSRET loads SS = STAR[63:48] + 8
     * and CS = + 16, with RPL 3 (see gdt.h for the order). */
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UCODE32 | 3) << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_CSTAR, (uint64_t)syscall_compat_entry);
    /* Flags cleared on entry: IF (the kernel runs with interrupts off),
     * TF, DF (the C ABI), AC (SMAP stays in force), NT (else iretq would
     * attempt a task return and fault in ring 0), IOPL. */
    wrmsr(MSR_FMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_NT | RFLAGS_IOPL);
    /* User space may use SSE: FXSAVE/FXRSTOR and SIMD exceptions on. */
    write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP);   /* EM off, MP on, TS clear */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    ks_percpu.cr0_ts = read_cr0() | CR0_TS;
    ks_percpu.fpu_ts = false;
    ks_percpu.fpu_clear_left = 1;        /* TS clear implies >= 1 (arch_switch_fpu_cur) */
}

/* Make the current thread the FPU owner and let it use the FPU (CR0.TS
 * clear): its state moves into the registers if another's is there. */
/* How many times a return to the FPU owner clears CR0.TS after the owner
 * was last seen using the FPU (its trap with TS set); then it traps once
 * more, or, if it no longer uses the FPU, switches write CR0 no more. */
#define FPU_CLEAR_RETURNS 64

static void fpu_load_current(void)
{
    if (ks_percpu.fpu_ts) {
        clts();
        ks_percpu.fpu_ts = false;
    }
    if (ks_percpu.fpu_owner != ks_percpu.cur)
        arch_fpu_move(ks_percpu.fpu_owner, ks_percpu.cur);
    ks_percpu.fpu_clear_left = FPU_CLEAR_RETURNS;   /* the owner uses the FPU */
}

bool arch_fpu_trap(void)
{
    /* With TS clear (or eager switching) #NM cannot come from a lazy
     * switch: CR0.EM is off, so it is the thread's own fault. */
    if (!FERRY_LAZY_FPU || !ks_percpu.fpu_ts || arch_is_idle(ks_percpu.cur))
        return false;
    fpu_load_current();
    return true;
}

void arch_fpu_own(void)
{
    if (!arch_is_idle(ks_percpu.cur))
        fpu_load_current();
}

struct tcb *arch_current(void) { return ks_percpu.cur; }
bool arch_is_idle(const struct tcb *t)
{
    return t >= &ks_idle_tcb[0] && t < &ks_idle_tcb[FERRY_MAX_CPUS];
}

/* The current thread leaves the CPU without a switch (its FPU state was
 * saved by arch_fpu_release_local): with eager switching the idle thread
 * then owns the registers, as a switch to it would have made it. */
void arch_set_idle(void)
{
    if (!FERRY_LAZY_FPU && ks_percpu.fpu_owner == ks_percpu.cur)
        ks_percpu.fpu_owner = ks_percpu.idle;
    set_cur(ks_percpu.idle);
}

void arch_fpu_release_local(struct tcb *t)
{
    if (ks_percpu.fpu_owner != t)
        return;
#if FERRY_LAZY_FPU
    /* Save t's registers (TS clear for fxsave), then nobody owns them:
     * TS set, so the next user of the FPU here traps and loads its own
     * (t too, if it goes on running here). */
    if (ks_percpu.fpu_ts)
        clts();
    asm volatile("fxsave64 %0" : "=m"(t->ctx.fpu));
    ks_percpu.fpu_owner = ks_percpu.idle;
    ks_percpu.fpu_ts = true;
    write_cr0(ks_percpu.cr0_ts);
#else
    /* Eager: CR0.TS is never set, and the registers always belong to
     * the current thread (the owner), because a switch moves them.  Save
     * t's into its TCB.  A t that is still current keeps the registers
     * (it may return to user space here, having set its own affinity to
     * this CPU; a switch away saves them again): its callers that take
     * it off the CPU without a switch (arch_set_idle, arch_tcb_destroy)
     * hand them to the idle thread.  Any other t owns nothing now. */
    asm volatile("fxsave64 %0" : "=m"(t->ctx.fpu));
    if (ks_percpu.cur != t)
        ks_percpu.fpu_owner = ks_percpu.idle;
#endif
}

void arch_tcb_init(struct tcb *t)
{
    /* FXSAVE-area defaults: x87 exceptions masked, SSE exceptions masked. */
    *(uint16_t *)&t->ctx.fpu[FXSAVE_FCW] = 0x037f;
    *(uint32_t *)&t->ctx.fpu[FXSAVE_MXCSR] = 0x1f80;
    t->ctx.entry = CTX_ENTRY_FULL;
}

void arch_tcb_destroy(struct tcb *t)
{
    floor_end(t);                        /* a floor dies with its thread */
    /* No CPU's FPU registers may stay owned by a TCB that goes away (a
     * later switch would save into its memory): save them, owner none. */
    smp_fpu_release(t);
    if (ks_percpu.cur == t)
        arch_set_idle();                 /* the caller reschedules */
}

void arch_user_bases_written(struct tcb *t)
{
    t->ctx.bases = (t->ctx.regs[CTX_FS_BASE] ? CTX_BASE_FS : 0) | (t->ctx.regs[CTX_GS_BASE] ? CTX_BASE_GS : 0);
}

/* The FS and GS bases: a switch loads them when the next thread has a
 * non-zero one or the registers may hold one (bases_live), and then both,
 * never "only what differs from what was written last": ring 3 changes
 * the real base registers by loading a selector into FS or GS, so such a
 * cache would go stale behind the kernel's back.  A selector load can only
 * make a base the descriptor's, 0 (no user descriptor has another base,
 * CR4.FSGSBASE is off), so a register whose bases_live bit is clear holds
 * 0 and a thread whose base is 0 needs no write of it. */
static inline __attribute__((always_inline)) void switch_bases(struct tcb *next)
{
    /* Both, without a test each: fewer instructions on this path than
     * deciding which (a TLS thread's round trip stays within 10% of a
     * plain one's under tcg-icount); on hardware a wrmsr costs more, and
     * writing only the base that is live is the refinement to measure. */
    wrmsr(MSR_FS_BASE, next->ctx.regs[CTX_FS_BASE]);
    wrmsr(MSR_KERNEL_GS_BASE, next->ctx.regs[CTX_GS_BASE]);   /* GS after swapgs */
    ks_percpu.bases_live = next->ctx.bases;
}

void arch_switch_bases(struct tcb *next)
{
    switch_bases(next);
}

/* The fast path's exit for threads with bases: no frame, leaves by a jump. */
__attribute__((optimize("omit-frame-pointer"))) void arch_switch_bases_sysret(struct tcb *next)
{
    switch_bases(next);
    FASTPATH_JUMP_1(restore_user_sysret, &next->ctx);
}

void arch_switch_to(struct tcb *next)
{
    struct tcb *prev = ks_percpu.cur;
    if (prev == next)
        return;
    if (arch_is_idle(next))
        set_cur(next);
    else
        arch_switch_user(next, arch_tcb_vspace(next));
    if (unlikely(ks_floor_owner != NULL))
        floor_switch(prev, next);        /* a floor entry serves its owner only */
}

void arch_fastpath_switch_exit_pcid(struct tcb *next, paddr_t vs)
{
    arch_switch_user(next, vs);
    restore_user_sysret(&next->ctx);
}

/* How long the idle loop polls its ready queues before it halts, in TSC
 * ticks (command line idle_poll_us=, arch_idle_poll_init; 0: halt at
 * once).  A cross-core wake-up of a halted CPU costs an IPI and the
 * halt's exit; on a virtual CPU that is the host scheduling a sleeping
 * vCPU thread again, many times the IPC itself (docs/smp.md).  A CPU that
 * polls instead finds the thread in its queue and needs no IPI (kick in
 * readyqueue.c), as Linux's guest halt-polling does.  Bounded, so an
 * idle CPU still halts: polling burns the host CPU it runs on. */
static uint64_t idle_poll_ticks;

void arch_idle_poll_init(uint64_t us)
{
    idle_poll_ticks = ks_cpu.tsc_hz_calibrated / 1000000 * us;
    if (us)
        kprintf("idle: a CPU polls its ready queues for %lu us before it halts\n", us);
}

/* The hand-off's reader (docs/smp.md, "The hand-off"): with interrupts
 * off and without the lock, take the thread another CPU's lock holder
 * put in our slot, switch to it and leave by sysret, as the IPC fast
 * path leaves.  Like the fast path it sets our in_fastpath flag by a
 * locked instruction first, so every later acquire of the lock waits for
 * it (BKL_DRAIN, drain_readers); and it goes on only if no other CPU has
 * held the lock since the slot was filled and none waits for it: the lock
 * is still held by the ticket that published (which after its publish
 * only chooses its own next thread and leaves, or retracts first), or
 * free just after it.  So nothing it reads or writes (the thread, this
 * CPU's block) is written by anyone else meanwhile.  Returns when it
 * took nothing: the idle loop then takes the lock and finds the thread
 * (sched_handoff_absorb). */
static void idle_take_handoff(struct percpu *me)
{
#if FERRY_FASTPATH
    struct tcb *t = __atomic_load_n(&me->handoff, __ATOMIC_ACQUIRE);
    if (!t)
        return;
#if FERRY_LOCKDEBUG
    if (ks_bkl_holder == me->cpu + 1 || me->in_fastpath)
        panic("lockdebug: CPU %lu took a hand-off holding the lock or inside the fast path", me->cpu);
#endif
    __atomic_fetch_or(&me->in_fastpath, 1, __ATOMIC_SEQ_CST);    /* lock orb: a full fence */
    uint32_t tk = __atomic_load_n(&me->handoff_ticket, __ATOMIC_ACQUIRE);
    uint32_t next = __atomic_load_n(&ks_bkl.next, __ATOMIC_ACQUIRE);
    uint32_t owner = __atomic_load_n(&ks_bkl.owner, __ATOMIC_ACQUIRE);
    bool quiet = next == tk + 1 && (owner == tk || owner == tk + 1);
    /* Nothing queued here (it would choose under the lock), no floor to
     * switch (floor.c's state is the lock's), and a thread that sysret
     * can enter (what arch_return_to_user checks). */
    if (quiet && ks_ready_bitmap.l1 == 0 && !ks_floor_owner && t->ctx.entry == CTX_ENTRY_SYSCALL &&
        t->ctx.regs[CTX_RIP] < FERRY_USER_TOP &&
        __atomic_compare_exchange_n(&me->handoff, &t, NULL, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        t->in_handoff = false;
        t->in_ready_queue = false;
        me->idle_polling = false;
        me->idle_halted = false;
        t->ctx.regs[CTX_RFLAGS] = (t->ctx.regs[CTX_RFLAGS] & RFLAGS_USER) | RFLAGS_IF | RFLAGS_FIXED;
        arch_switch_to(t);
        restore_user_sysret(&t->ctx);    /* clears in_fastpath after its last read of t */
    }
    __atomic_store_n(&me->in_fastpath, 0, __ATOMIC_RELEASE);
#else
    (void)me;
#endif
}

/* Without the lock, interrupts on: poll until a thread is queued here
 * (or handed here: taken at once if it can be), then halt (unless one
 * was) until an interrupt. */
static void idle_wait(void)
{
    if (idle_poll_ticks) {
        struct percpu *me = percpu_self();
        __atomic_store_n(&me->idle_polling, true, __ATOMIC_RELAXED);
        uint64_t end = rdtsc_now() + idle_poll_ticks;
        asm volatile("sti" ::: "memory");
        while (!sched_ready_hint() && rdtsc_now() < end)
            asm volatile("pause" ::: "memory");
        asm volatile("cli" ::: "memory");
        idle_take_handoff(me);
        /* Stop polling, then look once more (kick's fence pairs with
         * this one, as sched_handoff_publish's does): a thread queued or
         * handed here after this look sends an IPI, which the halt below
         * takes (sti; hlt has no window). */
        __atomic_store_n(&me->idle_polling, false, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (sched_ready_hint())
            return;
    }
    /* The tick stops while the CPU halts (an idle CPU is not woken to
     * count it), and only then: polling found its thread with the timer
     * untouched, two timer writes fewer (MSR or MMIO: exits under KVM). */
    apic_timer_stop();
#if FERRY_BENCHMARK
    __atomic_store_n(&percpu_self()->halted_since, rdtsc_now(), __ATOMIC_RELAXED);
#endif
    asm volatile("sti; hlt; cli" ::: "memory");
#if FERRY_BENCHMARK
    __atomic_store_n(&percpu_self()->halted_since, 0, __ATOMIC_RELAXED);
#endif
    apic_timer_resume();
}

/* The idle thread runs here, in ring 0, entered with the big kernel lock
 * held; it polls and halts without it (interrupts then take it:
 * traps.c), and leaves through kernel_exit once this CPU has a ready
 * thread. */
static _Noreturn void idle_loop(void)
{
    for (;;) {
        sched_handoff_absorb();          /* a thread handed here that the reader did not take */
        if (sched_highest_prio() >= 0)
            kernel_exit();
        if (!kernel_can_wake()) {
            kprintf("kernel: every thread is blocked or inactive and nothing can wake one\n");
            kernel_halt_no_threads();
        }
        ks_percpu.idle_halted = true;
        bkl_unlock();
        idle_wait();
        bkl_lock();
        ks_percpu.idle_halted = false;
    }
}

void arch_idle_enter(void)
{
    asm volatile("movq %0, %%rsp; jmp *%1"
                 : : "r"(ks_percpu.kernel_rsp), "r"(idle_loop) : "memory");
    __builtin_unreachable();
}

void arch_return_to_user(void)
{
    struct tcb *t = ks_percpu.cur;
    if (arch_is_idle(t))
        arch_idle_enter();               /* fresh stack: nothing below this frame is needed */
    /* sysret to a non-canonical RIP would fault in ring 0 with the user's
     * RSP, iretq would fault in ring 0 too: a thread whose RIP is not a user
     * address is stopped (tcb_write_register never lets one through) and
     * the caller, kernel_exit, chooses again: a loop, never a nested exit,
     * however many such threads there are. */
    if (unlikely(t->ctx.regs[CTX_RIP] >= FERRY_USER_TOP)) {
        sched_handoff_retract();         /* more kernel work after schedule()'s publish */
        thread_fault(t, FAULT_BAD_STATE, t->ctx.regs[CTX_RIP]);
        return;
    }
    /* Only flags ring 3 could set itself leave the kernel (x86.h); a
     * thread that entered by syscall has exactly what the CPU saved, and
     * the fast path relies on that. */
    t->ctx.regs[CTX_RFLAGS] = (t->ctx.regs[CTX_RFLAGS] & RFLAGS_USER) | RFLAGS_IF | RFLAGS_FIXED;
#if FERRY_LOCKDEBUG
    if (ks_percpu.handoff_out)
        panic("lockdebug: CPU %lu leaves with a hand-off not published", ks_percpu.cpu);
#endif
    if (t->ctx.entry == CTX_ENTRY_SYSCALL)
        restore_user_sysret(&t->ctx);
    restore_user_iret(&t->ctx);
}
