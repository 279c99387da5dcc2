/* traps.c: CPU exceptions.  Every kernel-mode exception is fatal and is
 * reported with its vector, error code, RIP, CR2 and all registers. */
#include <arch/apic.h>
#include <arch/irq.h>
#include <arch/kstack.h>
#include <arch/thread.h>
#include <core/kernel.h>
#include <core/sched.h>
#include <object/tcb.h>
#include <arch/machine.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <ferry/bench_format.h>
#include <fmt.h>
#include <printk.h>

static const char *const trap_names[32] = {
    [VEC_DE] = "divide error", [VEC_DB] = "debug", [VEC_NMI] = "NMI",
    [VEC_BP] = "breakpoint", [VEC_OF] = "overflow", [VEC_BR] = "bound range exceeded",
    [VEC_UD] = "invalid opcode", [VEC_NM] = "device not available",
    [VEC_DF] = "double fault", [VEC_TS] = "invalid TSS", [VEC_NP] = "segment not present",
    [VEC_SS] = "stack-segment fault", [VEC_GP] = "general protection fault",
    [VEC_PF] = "page fault", [VEC_MF] = "x87 floating-point error",
    [VEC_AC] = "alignment check", [VEC_MC] = "machine check",
    [VEC_XM] = "SIMD floating-point error", [VEC_VE] = "virtualization exception",
    [VEC_CP] = "control protection",
};

const char *trap_name(uint64_t vector)
{
    if (vector < 32 && trap_names[vector])
        return trap_names[vector];
    return vector < 32 ? "reserved exception" : "interrupt";
}

void trap_dump(const struct trap_frame *tf, uint64_t cr2)
{
    kprintf("  vector %lu (%s)  error %#lx  cr2 0x%016lx\n",
            tf->vector, trap_name(tf->vector), tf->error, cr2);
    kprintf("  rip 0x%016lx  cs %#lx  rflags %#lx  rsp 0x%016lx  ss %#lx\n",
            tf->rip, tf->cs, tf->rflags, tf->rsp, tf->ss);
    kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
    kprintf("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
    kprintf("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
    kprintf("  r13 %016lx r14 %016lx r15 %016lx\n", tf->r13, tf->r14, tf->r15);
    kprintf("  cr0 %#lx cr3 %#lx cr4 %#lx\n", read_cr0(), read_cr3(), read_cr4());
}

static _Noreturn void trap_fatal(const struct trap_frame *tf, uint64_t cr2, const char *reason)
{
    kprintf(FERRY_CONSOLE_PANIC "%s\n", reason);
    trap_dump(tf, cr2);
    machine_exit(FERRY_EXIT_FAILURE);
}

static void irq_handle(uint64_t vector)
{
    if (vector == VEC_SPURIOUS)
        return;                          /* no EOI for the spurious vector */
    apic_eoi();
    if (vector == VEC_IPI)
        return;                          /* a reschedule: the kernel exit chooses */
    if (vector == VEC_TIMER) {
        apic_timer_rearm();
        struct tcb *cur = arch_current();
        if (!arch_is_idle(cur) && sched_tick(cur))
            schedule_yield();            /* slice used up: to the back of its queue */
    } else {
        irq_deliver((unsigned)vector);
    }
}

/* From ring 3: the thread's registers move into its TCB, and the kernel
 * leaves through the scheduler, never back through this frame. */
static _Noreturn void user_trap(struct trap_frame *tf, uint64_t cr2)
{
    struct tcb *cur = arch_current();
    struct user_context *c = &cur->ctx;
    static const uint8_t order[] = {
        CTX_RAX, CTX_RBX, CTX_RCX, CTX_RDX, CTX_RSI, CTX_RDI, CTX_RBP, CTX_R8, CTX_R9,
        CTX_R10, CTX_R11, CTX_R12, CTX_R13, CTX_R14, CTX_R15 };
    const uint64_t vals[] = { tf->rax, tf->rbx, tf->rcx, tf->rdx, tf->rsi, tf->rdi, tf->rbp,
                              tf->r8, tf->r9, tf->r10, tf->r11, tf->r12, tf->r13, tf->r14, tf->r15 };
    for (size_t i = 0; i < ARRAY_SIZE(order); i++)
        c->regs[order[i]] = vals[i];
    c->regs[CTX_RIP] = tf->rip;
    c->regs[CTX_RSP] = tf->rsp;
    c->regs[CTX_RFLAGS] = tf->rflags;
    c->entry = CTX_ENTRY_FULL;
    c->vector = tf->vector;
    c->error_code = tf->error;

    /* The registers are saved first: if the lock's holder takes this
     * thread from the CPU meanwhile, they are where it will look.  The
     * fault is then simply not handled (the instruction faults again when
     * the thread next runs); an interrupt still is (EOI, delivery). */
    if (bkl_lock()) {
        if (tf->vector >= 32)
            irq_handle(tf->vector);
        kernel_exit();
    }
    if (tf->vector >= 32)
        irq_handle(tf->vector);
    else if (tf->vector == VEC_NM && arch_fpu_trap())
        ;                                /* lazy FPU switch done: retry the instruction */
    else if (tf->vector == VEC_PF)
        thread_fault(cur, FAULT_PAGE, cr2);
    else
        thread_fault(cur, FAULT_EXCEPTION, tf->vector);
    kernel_exit();
}

/* Is rip where MSR_LSTAR or MSR_CSTAR sends `syscall` (in whatever mode
 * the floor benchmark put LSTAR)? */
static bool syscall_entry_point(uint64_t rip)
{
    extern char syscall_entry[], syscall_compat_entry[];
    extern char floor_syscall_entry[] __attribute__((weak)), floor_ipc_entry[] __attribute__((weak));
    return rip == (uint64_t)syscall_entry || rip == (uint64_t)syscall_compat_entry ||
           (floor_syscall_entry && rip == (uint64_t)floor_syscall_entry) ||
           (floor_ipc_entry && rip == (uint64_t)floor_ipc_entry);
}

/* A `syscall` from compatibility mode (entry.S, MSR_CSTAR): saved like
 * a syscall; the thread gets an invalid-opcode fault, as on Intel CPUs,
 * where that instruction does not exist in compatibility mode. */
_Noreturn void syscall_compat_fault(void);
void syscall_compat_fault(void)
{
    struct tcb *cur = arch_current();
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    ctx_make_full(&cur->ctx);
    cur->ctx.vector = VEC_UD;
    cur->ctx.error_code = 0;
    thread_fault(cur, FAULT_EXCEPTION, VEC_UD);
    kernel_exit();
}

/* A timer tick from ring 3 that only counts down the running thread's
 * slice takes no lock: the big kernel lock is for the kernel's shared
 * state, and this touches this CPU's APIC and a word of the thread only
 * this CPU runs.  Without it, every CPU took the lock once per tick (1 ms),
 * all CPUs at about the same moment, and under multi-threaded TCG each
 * such meeting stopped both CPUs' IPC for a lock hand-off (docs/smp.md,
 * "The convoy").  The locked way stays for a slice that ends, a request
 * from another CPU or a yield due at the exit; a thread to run here comes
 * with an IPI of its own (another vector).  trap_common's return is the
 * exit (iretq, swapgs): not under KPTI, whose exit must switch tables. */
static bool user_tick_unlocked(const struct trap_frame *tf)
{
#if FERRY_KPTI
    (void)tf;
    return false;
#else
    struct percpu *me = percpu_self();
    if (tf->vector != VEC_TIMER || __atomic_load_n(&me->req_fn, __ATOMIC_ACQUIRE) || me->yield ||
        !sched_tick_unlocked(me->cur))
        return false;
    apic_eoi();
    apic_timer_rearm();
    return true;
#endif
}

void trap_handler(struct trap_frame *tf)
{
    uint64_t cr2 = read_cr2();
    char reason[160];

    if ((tf->cs & 3) == 3) {
        if (user_tick_unlocked(tf))
            return;
        user_trap(tf, cr2);
    }
    if (tf->vector >= 32) {
        /* The idle loop's halt (without the big kernel lock: take it), or
         * a preemption point (with it). */
        bool take = ks_percpu.idle_halted;
        if (take)
            bkl_lock();
        else
            bkl_assert_held("took an interrupt in the kernel outside the idle halt");
        irq_handle(tf->vector);
        if (take)
            bkl_unlock();
        return;
    }
    /* A debug exception at the first instruction of a syscall entry: a
     * single-step trap for a `syscall` made with TF set, delivered after
     * the instruction although MSR_FMASK has cleared TF (Bochs 2.7 does;
     * the CPUs we know do not), or a debug exception the CPU deferred
     * across the entry.  Nothing of the kernel has run yet, the user's GS
     * is still loaded and RSP is the user's (hence the IST stack): return
     * and let the entry run, with TF clear in the flags restored. */
    if (tf->vector == VEC_DB && syscall_entry_point(tf->rip))
        return;

    /* A fault on a guard page means the stack below it ran out: during the
     * #PF the CPU could not push its frame, so it usually arrives as a
     * double fault on the IST stack with CR2 in the guard page. */
    const char *owner = kstack_guard_owner(cr2);
    if ((tf->vector == VEC_DF || tf->vector == VEC_PF) && owner) {
        fmt_snprintf(reason, sizeof reason, "kernel stack overflow (%s, guard page %#lx hit)",
                     owner, ALIGN_DOWN(cr2, PAGE_SIZE));
        trap_fatal(tf, cr2, reason);
    }

    const char *mode = (tf->cs & 3) == 3 ? "user" : "kernel";
    if (tf->vector == VEC_PF)
        fmt_snprintf(reason, sizeof reason, "%s-mode page fault at %#lx (%s, %s%s) rip %#lx",
                     mode, cr2, tf->error & 1 ? "protection" : "not present",
                     tf->error & 2 ? "write" : "read", tf->error & 16 ? ", fetch" : "", tf->rip);
    else
        fmt_snprintf(reason, sizeof reason, "%s-mode %s (vector %lu, error %#lx) rip %#lx",
                     mode, trap_name(tf->vector), tf->vector, tf->error, tf->rip);
    trap_fatal(tf, cr2, reason);
}
