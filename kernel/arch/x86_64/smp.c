/* smp.c: the application processors (found in the MADT, started by INIT-SIPI-SIPI through trampoline.S), the big kernel lock, reschedule IPIs and requests run on another CPU. */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/gdt.h>
#include <arch/kstack.h>
#include <arch/paging.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/trap.h>
#include <arch/x86.h>
#include <bootinfo.h>
#include <cmdline.h>
#include <kstring.h>
#include <arch/kpti.h>
#include <memmap.h>
#include <mm/physmap.h>
#include <core/sched.h>
#include <object/tcb.h>
#include <panic.h>
#include <printk.h>

/* In the KPTI entry window: the entry stubs use it before the CR3 switch. */
KPTI_ENTRY_DATA struct percpu ks_percpu_of[FERRY_MAX_CPUS];
unsigned ks_ncpus = 1;
char *ks_percpu_end = (char *)&ks_percpu_of[1];
/* Its own cache line: the one line every entry and exit writes. */
struct bkl ks_bkl __attribute__((aligned(64)));

volatile uint32_t ks_bkl_holder;

_Static_assert(__builtin_offsetof(struct bkl, next) == BKL_NEXT, "bkl layout");
_Static_assert(__builtin_offsetof(struct bkl, owner) == BKL_OWNER, "bkl layout");

/* percpu.wait_kind: how the entry waiting for the lock came in, which
 * says how a thread taken away meanwhile (stall_fn) restarts. */
enum { WAIT_C = 0, WAIT_SYSCALL = 1, WAIT_INT80 = 2 };
#define SYSCALL_INSN_LEN 2          /* syscall and int 0x80 alike */

void percpu_early_init(void)
{
    struct percpu *p = &ks_percpu_of[0];
    p->self = p;
    p->cpu = 0;
    p->fp_home_want = (uint64_t)(FP_HOME_READY | 0) << 32;
    wrmsr(MSR_GS_BASE, (uint64_t)p);
}

/* ---- the big kernel lock ------------------------------------------------ */

#if FERRY_LOCKDEBUG
/* The lock-order checks (LOCKDEBUG=1): any breach is a panic naming it. */
static uint32_t me_tag(void)
{
    return (uint32_t)arch_cpu_index() + 1;
}

static void ld_not_holding(const char *what)
{
    if (ks_bkl_holder == me_tag())
        panic("lockdebug: CPU %lu %s with the big kernel lock held", (unsigned long)arch_cpu_index(), what);
}

static void ld_holding(const char *what)
{
    if (ks_bkl_holder != me_tag())
        panic("lockdebug: CPU %lu %s without holding the big kernel lock (holder tag %u)",
              (unsigned long)arch_cpu_index(), what, ks_bkl_holder);
}

static void ld_acquired(void)
{
    if (ks_bkl_holder != 0)
        panic("lockdebug: CPU %lu got the big kernel lock while tag %u still holds it",
              (unsigned long)arch_cpu_index(), ks_bkl_holder);
    ks_bkl_holder = me_tag();
}

void bkl_assert_held(const char *what)
{
    ld_holding(what);
}

/* entry.S's checks fail here (on this CPU's kernel stack). */
_Noreturn void lockdebug_fail(word_t what);
void lockdebug_fail(word_t what)
{
    static const char *const whats[] = { "entered the kernel again (re-entry)",
                                         "got the lock while another tag held it",
                                         "returned to user space",
                                         "entered the fast path inside the fast path" };
    panic("lockdebug: CPU %lu %s (holder tag %u, in fast path %u)", (unsigned long)arch_cpu_index(),
          what < 4 ? whats[what] : "?", ks_bkl_holder, (unsigned)ks_percpu.in_fastpath);
}
#else
static inline void ld_not_holding(const char *what) { (void)what; }
static inline void ld_holding(const char *what) { (void)what; }
static inline void ld_acquired(void) {}
#endif

/* The lock is ours: wait until no CPU runs the IPC fast path without it
 * (a reader: entry.S's FASTPATH_ENTER, and BKL_DRAIN there, its twin).
 * Our ticket came from a locked instruction, a full fence, so either a
 * reader that set its flag sees the lock taken, or we see the flag. */
static void drain_readers(void)
{
#if FERRY_LOCKDEBUG
    if (ks_percpu.in_fastpath)
        panic("lockdebug: CPU %lu took the big kernel lock inside the fast path", (unsigned long)arch_cpu_index());
#endif
    for (unsigned c = 0; c < ks_ncpus; c++)
        while (ks_percpu_of[c].in_fastpath)
            asm volatile("pause" ::: "memory");
}

/* The holder that published a hand-off and must do more kernel work
 * (sched_handoff_retract): wait for a reader to finish, as at an acquire. */
void bkl_drain_readers(void)
{
    ld_holding("drained readers");
    drain_readers();
}

/* A request the lock's holder left for this CPU (request()), run while
 * this CPU waits for the lock without holding it; then answered. */
static void run_request(struct percpu *me)
{
    void (*fn)(word_t) = __atomic_load_n(&me->req_fn, __ATOMIC_ACQUIRE);
    if (fn) {
        ld_not_holding("ran another CPU's request");
        fn(me->req_arg);
        __atomic_store_n(&me->req_fn, NULL, __ATOMIC_RELEASE);
    }
}

/* Spin until ticket holds the lock, running the holder's requests for
 * this CPU meanwhile (the holder may wait for them: a CPU that waits for
 * the lock is the one place where another CPU's request can be run
 * without the lock, and every other CPU gets here soon after an IPI:
 * from user mode or the idle loop's halt through an entry, and the
 * kernel never runs long with interrupts off without the lock).
 * True when the current thread was taken away (stall_fn). */
static bool wait_for(uint32_t ticket)
{
    struct percpu *me = percpu_self();
    struct tcb *before = me->cur;
    while (__atomic_load_n(&ks_bkl.owner, __ATOMIC_ACQUIRE) != ticket) {
        run_request(me);
        asm volatile("pause" ::: "memory");
    }
    drain_readers();
    ld_acquired();
    return me->cur != before;
}

/* entry.S's contended path: the ticket, and WAIT_SYSCALL / WAIT_INT80. */
bool bkl_wait(uint32_t ticket, word_t kind);
bool bkl_wait(uint32_t ticket, word_t kind)
{
    ks_percpu.wait_kind = kind;
    bool stalled = wait_for(ticket);
    ks_percpu.wait_kind = WAIT_C;
    return stalled;
}

/* entry.S's fast path found the lock held or wanted by another CPU: wait
 * until it is free, holding no ticket, then try the fast path again.  A
 * fast path that queued for the lock instead would keep it wanted: the
 * other CPU's next fast path would see it taken and queue too, and the
 * two CPUs would hand the lock to each other for good (a convoy), every
 * IPC on the slow path.  Requests are run meanwhile, as in wait_for.
 * True when the current thread was taken from this CPU meanwhile: the
 * lock is then taken (as bkl_wait's caller expects) for kernel_exit. */
bool bkl_wait_free(word_t kind);
bool bkl_wait_free(word_t kind)
{
    struct percpu *me = percpu_self();
    struct tcb *before = me->cur;
    bool stalled = false;
    ks_percpu.wait_kind = kind;
    while (__atomic_load_n(&ks_bkl.next, __ATOMIC_ACQUIRE) != __atomic_load_n(&ks_bkl.owner, __ATOMIC_ACQUIRE)) {
        run_request(me);
        if (me->cur != before) {
            bkl_lock();
            stalled = true;
            break;
        }
        asm volatile("pause" ::: "memory");
    }
    ks_percpu.wait_kind = WAIT_C;
    return stalled;
}

bool bkl_lock(void)
{
    ld_not_holding("took the big kernel lock again (re-entry)");
    uint32_t t = __atomic_fetch_add(&ks_bkl.next, 1, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&ks_bkl.owner, __ATOMIC_ACQUIRE) == t) {
        drain_readers();
        ld_acquired();
        return false;
    }
    return wait_for(t);
}

void bkl_unlock(void)
{
    ld_holding("released the lock");
    /* An interrupt taken in the idle halt may have woken a thread for
     * another CPU: its hand-off goes out now, our last step (schedule()
     * publishes on every other way out). */
    sched_handoff_publish();
#if FERRY_LOCKDEBUG
    ks_bkl_holder = 0;
#endif
    /* Only the holder writes owner: a plain increment, published with
     * release order after everything written under the lock. */
    __atomic_store_n(&ks_bkl.owner, ks_bkl.owner + 1, __ATOMIC_RELEASE);
}

/* ---- requests to other CPUs ---------------------------------------------- */

static void request(unsigned cpu, void (*fn)(word_t), word_t arg)
{
    ld_holding("made a request to another CPU");
    struct percpu *p = &ks_percpu_of[cpu];
    p->req_arg = arg;
    __atomic_store_n(&p->req_fn, fn, __ATOMIC_RELEASE);
    apic_send_ipi((uint32_t)p->apic_id, VEC_IPI);
}

static void request_wait(unsigned cpu)
{
    ld_holding("waited for another CPU's answer");
    while (__atomic_load_n(&ks_percpu_of[cpu].req_fn, __ATOMIC_ACQUIRE))
        asm volatile("pause" ::: "memory");
}

void smp_call_others(uint64_t mask, void (*fn)(word_t), word_t arg)
{
    unsigned me = (unsigned)arch_cpu_index();
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (c != me && (mask & BIT(c)))
            request(c, fn, arg);
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (c != me && (mask & BIT(c)))
            request_wait(c);
}

void smp_resched(unsigned cpu)
{
    if (cpu < ks_ncpus && cpu != arch_cpu_index())
        apic_send_ipi((uint32_t)ks_percpu_of[cpu].apic_id, VEC_IPI);
}

int smp_running_on(const struct tcb *t)
{
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (ks_percpu_of[c].cur == t)
            return (int)c;
    return -1;
}

bool smp_other_cpu_busy(void)
{
    unsigned me = (unsigned)arch_cpu_index();
    for (unsigned c = 0; c < ks_ncpus; c++) {
        if (c == me)
            continue;
        /* A thread handed to CPU c that its reader may be taking right
         * now without the lock (thread.c): it takes the slot, then sets
         * cur, then clears its flag.  Read in the opposite order, so the
         * thread is seen in one of the three places. */
        const struct percpu *p = &ks_percpu_of[c];
        if (__atomic_load_n(&p->handoff, __ATOMIC_ACQUIRE) || __atomic_load_n(&p->in_fastpath, __ATOMIC_ACQUIRE) ||
            !arch_is_idle(__atomic_load_n(&p->cur, __ATOMIC_ACQUIRE)))
            return true;
    }
    return false;
}

/* Run by the CPU whose current thread t is, while it waits for the lock
 * in the entry t made: that entry is abandoned (a system call restarts,
 * an exception recurs, an interrupt was handled or is still pending), t's
 * FPU state is saved and the CPU runs its idle thread. */
static void stall_fn(word_t arg)
{
    struct tcb *t = (struct tcb *)arg;
    struct percpu *me = percpu_self();
    if (me->cur != t)
        return;
    if (me->wait_kind != WAIT_C) {
        t->ctx.entry = me->wait_kind == WAIT_SYSCALL ? CTX_ENTRY_SYSCALL : CTX_ENTRY_FULL;
        t->ctx.regs[CTX_RIP] -= SYSCALL_INSN_LEN;
    }
    arch_fpu_release_local(t);
    arch_set_idle();
}

void smp_stall_thread(unsigned cpu, struct tcb *t)
{
    if (cpu == arch_cpu_index() || cpu >= ks_ncpus)
        return;
    request(cpu, stall_fn, (word_t)t);
    request_wait(cpu);
}

static void fpu_release_fn(word_t arg)
{
    arch_fpu_release_local((struct tcb *)arg);
}

void smp_fpu_release(struct tcb *t)
{
    unsigned me = (unsigned)arch_cpu_index();
    for (unsigned c = 0; c < ks_ncpus; c++) {
        if (ks_percpu_of[c].fpu_owner != t)
            continue;
        if (c == me) {
            arch_fpu_release_local(t);
        } else {
            request(c, fpu_release_fn, (word_t)t);
            request_wait(c);
        }
    }
}

/* ---- start-up ------------------------------------------------------------ */

extern char ap_trampoline_start[], ap_trampoline_end[];
extern char ap_tr_gdtr[], ap_tr_pm_ptr[], ap_tr_lm_ptr[], ap_tr_cr3[], ap_tr_efer[];
extern char ap_tr_stack[], ap_tr_entry[], ap_tr_gdt[], ap_tr_pm32[], ap_tr_lm64[];
extern char boot_pml4[];

static volatile unsigned ap_booting;     /* the CPU index the next AP takes */
static volatile unsigned ap_up;          /* the last AP that reached the kernel */
static uint64_t bsp_cr0, bsp_cr4, bsp_efer;

static void delay_us(uint64_t us)
{
    uint64_t end = rdtsc_now() + ks_cpu.tsc_hz_calibrated / 1000000 * us;
    while (rdtsc_now() < end)
        asm volatile("pause");
}

/* Where the trampoline goes: a free page below 1 MiB (the first MiB is
 * never handed out as free memory) inside RAM the firmware reports, away
 * from the loader's information structure (and what it points at, kept
 * in the same 64 KiB) and the boot modules. */
static paddr_t trampoline_page(const struct boot_info *bi)
{
    for (paddr_t p = 0x1000; p < 0x80000; p += PAGE_SIZE) {
        bool ram = false;
        for (size_t i = 0; i < bi->firmware_map.n; i++) {
            const struct mem_range *r = &bi->firmware_map.r[i];
            ram |= r->type == MEM_AVAILABLE && r->start <= p && p + PAGE_SIZE <= r->end;
        }
        if (!ram)
            continue;
        bool busy = p + PAGE_SIZE > ALIGN_DOWN(bi->info_start, 0x10000) &&
                    p < ALIGN_UP(bi->info_end, 0x10000);
        for (size_t i = 0; i < bi->nmodules; i++)
            busy |= p + PAGE_SIZE > bi->modules[i].start && p < bi->modules[i].end;
        if (!busy)
            return p;
    }
    return 0;
}

/* Where a trampoline label lies in the copy (labels of one assembly
 * section; as integers, since they are distinct C objects). */
static paddr_t tr_off(const char *label)
{
    return (uintptr_t)label - (uintptr_t)ap_trampoline_start;
}

static void patch32(paddr_t tp, const char *field, uint64_t v, size_t bytes)
{
    memcpy((char *)phys_to_virt(tp) + tr_off(field), &v, bytes);
}

/* An AP's first C code, on its kernel stack, with the boot page tables. */
_Noreturn void ap_entry(void);
void ap_entry(void)
{
    unsigned cpu = ap_booting;
    gdt_init(cpu);                       /* off the trampoline's GDT (low memory) */
    idt_load();
    write_cr3(ks_kernel_pml4);
    write_cr0(bsp_cr0);                  /* caches on (INIT left CD and NW set), WP */
    write_cr4(bsp_cr4);                  /* PGE, SMEP, SMAP, PCIDE as on the boot CPU */
    wrmsr(MSR_EFER, bsp_efer);
    wrmsr(MSR_GS_BASE, (uint64_t)&ks_percpu_of[cpu]);
    entry_init();
    apic_init_ap();
    __atomic_store_n(&ap_up, cpu, __ATOMIC_RELEASE);
    bkl_lock();
    arch_idle_enter();
}

void smp_init(const char *cmdline, paddr_t physmap_top, const struct boot_info *bi)
{
    uint64_t want = FERRY_MAX_CPUS;
    int r = cmdline_get_u64(cmdline, "cpus", &want);
    if (r < 0 || want < 1 || want > FERRY_MAX_CPUS)
        panic("command line: cpus= takes 1 to %d", FERRY_MAX_CPUS);
    uint32_t me = apic_id();
    ks_percpu_of[0].apic_id = me;
    uint32_t ids[64];
    unsigned n = acpi_cpu_apic_ids(ids, ARRAY_SIZE(ids), physmap_top);
    if (n <= 1 || want == 1) {
        kprintf("smp: 1 CPU up (%s)\n", n == 0 ? "no ACPI MADT" : n == 1 ? "the MADT lists one" : "cpus=1");
        return;
    }
    paddr_t tp = trampoline_page(bi);
    if (!tp) {
        kprintf("smp: 1 CPU up (no free page below 1 MiB for the start-up code)\n");
        return;
    }
    size_t len = (size_t)tr_off(ap_trampoline_end);
    memcpy(phys_to_virt(tp), ap_trampoline_start, len);
    patch32(tp, ap_tr_gdtr + 2, tp + tr_off(ap_tr_gdt), 4);
    patch32(tp, ap_tr_pm_ptr, tp + tr_off(ap_tr_pm32), 4);
    patch32(tp, ap_tr_lm_ptr, tp + tr_off(ap_tr_lm64), 4);
    patch32(tp, ap_tr_cr3, (paddr_t)boot_pml4, 8);
    patch32(tp, ap_tr_efer, EFER_LME | (ks_cpu.nx ? EFER_NXE : 0), 8);
    patch32(tp, ap_tr_entry, (uint64_t)ap_entry, 8);
    bsp_cr0 = read_cr0() & ~(uint64_t)CR0_TS;
    bsp_cr4 = read_cr4();
    bsp_efer = rdmsr(MSR_EFER);

    unsigned failed = 0;
    for (unsigned i = 0; i < n && ks_ncpus < want; i++) {
        if (ids[i] == me)
            continue;
        unsigned cpu = ks_ncpus;
        struct percpu *p = &ks_percpu_of[cpu];
        p->self = p;
        p->cpu = cpu;
        p->fp_home_want = (uint64_t)(FP_HOME_READY | cpu) << 32;
        p->apic_id = ids[i];
        patch32(tp, ap_tr_stack, (uint64_t)kstack_top(kstack_of(cpu, KSTACK_KERNEL)), 8);
        ap_booting = cpu;
        /* Intel SDM 8.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI (if needed). */
        apic_send_init(ids[i]);
        delay_us(10000);
        apic_send_sipi(ids[i], (uint8_t)(tp >> 12));
        delay_us(200);
        if (__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE) != cpu)
            apic_send_sipi(ids[i], (uint8_t)(tp >> 12));
        uint64_t end = rdtsc_now() + ks_cpu.tsc_hz_calibrated;   /* 1 s */
        while (__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE) != cpu && rdtsc_now() < end)
            asm volatile("pause");
        if (ap_up == cpu) {
            ks_ncpus++;
            ks_percpu_end = (char *)&ks_percpu_of[ks_ncpus];
        } else {
            kprintf("smp: the CPU with APIC ID %u did not start\n", ids[i]);
            failed++;
        }
    }
    kprintf("smp: %u CPUs up (%u in the MADT%s%s), %s, APIC IDs", ks_ncpus, n,
            want < n ? ", cpus= limits" : "", failed ? ", some failed" : "",
            apic_x2apic_mode() ? "x2APIC" : "xAPIC");
    for (unsigned c = 0; c < ks_ncpus; c++)
        kprintf(" %lu", ks_percpu_of[c].apic_id);
    kprintf("\n");
}
