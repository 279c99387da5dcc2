/* floor.c: the hardware floors that need ring 0 (rdtsc, CR3 switch pairs),
 * timed with the same fences as every benchmark (lib/include/tsc.h), and the
 * floor modes of one thread's syscall entry (bare sysret, or a CR3 switch
 * each).  Built only with BENCHMARK=1; reached only through the debug
 * capability (syscall.c). */
#include <arch/cpu.h>
#include <arch/floor.h>
#include <arch/kpti.h>
#include <arch/paging.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <arch/vspace.h>
#include <arch/fastpath.h>
#include <arch/x86.h>
#include <ferry/syscall.h>
#include <kstring.h>
#include <mm/physmap.h>
#include <tsc.h>

#if FERRY_BENCHMARK

/* A second top-level table sharing the kernel half, so the kernel keeps
 * running whichever one CR3 holds. */
static paddr_t floor_pml4;

void floor_init(struct memmap *free)
{
    floor_pml4 = memmap_take_range(free, PAGE_SIZE, PAGE_SIZE);
    if (!floor_pml4)
        return;
    uint64_t *p = phys_to_virt(floor_pml4);
    memset(p, 0, PAGE_SIZE / 2);
    memcpy(p + 256, (uint64_t *)phys_to_virt(ks_kernel_pml4) + 256, PAGE_SIZE / 2);
}

static void ipi_floor_fn(word_t arg)
{
    (void)arg;
}

bool floor_sample(word_t kind, uint64_t *ticks)
{
    uint64_t t0, t1;
    switch (kind) {
    case FERRY_KFLOOR_RDTSC: {
        uint32_t lo, hi;
        t0 = tsc_begin();
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_CR3_FLUSH:
    case FERRY_KFLOOR_CR3_PCID: {
        bool pcid = kind == FERRY_KFLOOR_CR3_PCID;
        /* Without PCIDE a no-flush CR3 write is not defined (TCG hangs on it). */
        if (!floor_pml4 || (pcid && !ks_pcid_on))
            return false;
        uint64_t home = read_cr3(), away = floor_pml4;
        if (pcid) {
            /* PCID 4095 is the floors' own: no ASID pool hands it out. */
            away |= 4095 | BIT(63);
            home |= BIT(63);
        } else {
            home &= PTE_ADDR;
        }
        t0 = tsc_begin();
        write_cr3(away);
        write_cr3(home);
        t1 = tsc_end();
        if (pcid)
            vspace_pcid_used(4095);
        break;
    }
    case FERRY_KFLOOR_FPU: {
        static uint8_t area[512] __attribute__((aligned(16)));
        /* Save and restore the current FPU state: it is unchanged after.
         * (The caller's own state first, with CR0.TS clear: with lazy
         * switching another thread's may be in the registers.) */
        arch_fpu_own();
        t0 = tsc_begin();
        asm volatile("fxsave64 %0" : "=m"(area));
        asm volatile("fxrstor64 %0" : : "m"(area));
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_IPI: {
        /* An IPI to CPU 1 and back: it wakes from its idle halt (or
         * leaves user mode), enters the kernel, finds our request while it
         * waits for the lock we hold and answers; we wait for the answer.
         * The least a cross-core wake-up costs, timed on this CPU's clock. */
        if (ks_ncpus < 2 || arch_cpu_index() == 1)
            return false;
        t0 = tsc_begin();
        smp_call_others(BIT(1), ipi_floor_fn, 0);
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_IPI_HALT: {
        /* The same, only once CPU 1 has sat in its halt for 20 us (its
         * vCPU thread asleep on the host), as a halting CPU is when a
         * cross-core Call wakes it; before that, 0 and nothing timed (we
         * hold the lock, which CPU 1 needs on its way to the halt: the
         * caller waits in user mode and asks again). */
        if (ks_ncpus < 2 || arch_cpu_index() == 1)
            return false;
        uint64_t since = __atomic_load_n(&ks_percpu_of[1].halted_since, __ATOMIC_RELAXED);
        if (!since || rdtsc_now() - since < ks_cpu.tsc_hz_calibrated / 50000) {
            *ticks = 0;
            return true;
        }
        t0 = tsc_begin();
        smp_call_others(BIT(1), ipi_floor_fn, 0);
        t1 = tsc_end();
        if (t1 == t0)
            t1++;                            /* 0 says "not halted" */
        break;
    }
    case FERRY_KFLOOR_NOP10:
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tnop\n\t.endr" ::: "memory");
        t1 = tsc_end();
        break;
    case FERRY_KFLOOR_SWAPGS10:
        /* Interrupts are off: nothing runs on the user GS meanwhile. */
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tswapgs\n\t.endr" ::: "memory");
        t1 = tsc_end();
        break;
    case FERRY_KFLOOR_WRMSR10: {
        uint64_t v = rdmsr(MSR_FS_BASE);
        t0 = tsc_begin();
        asm volatile(".rept 10\n\twrmsr\n\t.endr"
                     : : "c"(MSR_FS_BASE), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_RDMSR10: {
        uint32_t lo, hi;
        t0 = tsc_begin();
        asm volatile(".rept 10\n\trdmsr\n\t.endr" : "=a"(lo), "=d"(hi) : "c"(MSR_FS_BASE) : "memory");
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_CR0W10:
    case FERRY_KFLOOR_CLTS10: {
        /* The current thread owns the FPU and TS is clear (the lazy FPU's
         * rule holds throughout: these change nothing). */
        arch_fpu_own();
        uint64_t cr0;
        asm volatile("movq %%cr0, %0" : "=r"(cr0));
        t0 = tsc_begin();
        if (kind == FERRY_KFLOOR_CR0W10)
            asm volatile(".rept 10\n\tmovq %0, %%cr0\n\t.endr" : : "r"(cr0) : "memory");
        else
            asm volatile(".rept 10\n\tclts\n\t.endr" ::: "memory");
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_XADD10: {
        uint32_t lock = 0, one = 1;
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tlock xaddl %1, %0\n\t.endr" : "+m"(lock), "+r"(one) : : "memory");
        t1 = tsc_end();
        break;
    }
    case FERRY_KFLOOR_POPF10:
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tpushfq\n\tpopfq\n\t.endr" ::: "memory", "cc");
        t1 = tsc_end();
        break;
    case FERRY_KFLOOR_LFENCE10:
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tlfence\n\t.endr" ::: "memory");
        t1 = tsc_end();
        break;
    case FERRY_KFLOOR_JMPIND10: {
        /* Each jump goes through a register to the next instruction. */
        word_t tmp;
        t0 = tsc_begin();
        asm volatile(".rept 10\n\tleaq 1f(%%rip), %0\n\tjmp *%0\n1:\n\t.endr" : "=&r"(tmp) : : "memory");
        t1 = tsc_end();
        break;
    }
    default:
        return false;
    }
    *ticks = t1 - t0;
    return true;
}

/* ---- the floor entries (entry.S) ---------------------------------------------------
 *
 * LSTAR is a CPU-wide register, so a floor entry would serve every
 * thread's system calls: it is installed only while the owner runs.
 * Every switch away from the owner goes through arch_switch_to (the
 * owner makes no system call but FLOOR_END meanwhile, so it never blocks
 * in IPC and the fast path never switches to or from it), which calls
 * floor_switch: other threads get the normal entry and their real CR3,
 * never the away table, and the owner gets its floor back, with the away
 * table copied afresh from its address space as it is now (page tables
 * it had when the floor began may have been unmapped since).  One CPU:
 * nobody changes the owner's address space while it runs. */

/* floor_ipc_entry writes floor_cr3_next to CR3 and flips it to the other
 * value (next ^= flip): home and away alternate with no branch. */
KPTI_ENTRY_DATA uint64_t floor_cr3_next, floor_cr3_flip;   /* read with the user table loaded */
struct tcb *ks_floor_owner;
static word_t floor_mode;
static paddr_t floor_vspace;                /* the owner's PML4 when it began */

/* The owner's entry and CR3 values, for a floor in mode. */
static void floor_install(void)
{
    extern char floor_syscall_entry[], floor_ipc_entry[];
    if (floor_mode == FERRY_FLOOR_SYSCALL) {
        wrmsr(MSR_LSTAR, (uint64_t)floor_syscall_entry);
        return;
    }
    /* Away: a copy of the owner's top-level table (its user half too, so
     * that user code runs in either), with the last PCID when PCIDs are
     * on.  The owner is current and its home space loaded. */
#if FERRY_KPTI
    /* KPTI=1: user code runs on the user table, so home is the owner's
     * user table and away a copy of it (user half and entry window). */
    uint64_t home = ks_percpu.kpti_user_cr3 & ~BIT(63), *away_table = phys_to_virt(floor_pml4);
    memcpy(away_table, phys_to_virt(kpti_user_pml4(vspace_asid(floor_vspace))), PAGE_SIZE);
#else
    uint64_t home = read_cr3(), *away_table = phys_to_virt(floor_pml4);
    memcpy(away_table, phys_to_virt(floor_vspace), PAGE_SIZE / 2);
#endif
    uint64_t away = floor_pml4;
    if (ks_pcid_on) {
        away |= 4095 | BIT(63);
        home |= BIT(63);
    }
    floor_cr3_next = away;
    floor_cr3_flip = home ^ away;
    wrmsr(MSR_LSTAR, (uint64_t)floor_ipc_entry);
}

/* The normal entry, and CR3 reloaded from what the kernel thinks is
 * loaded (the IPC floor may have left the away table in CR3). */
static void floor_uninstall(void)
{
    extern char syscall_entry[];
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    if (floor_mode == FERRY_FLOOR_IPC) {
        vspace_activate(ks_percpu.cur_vspace);
        if (ks_pcid_on)
            vspace_pcid_used(4095);
    }
}

bool floor_begin(struct tcb *owner, word_t mode)
{
    if (ks_floor_owner || (mode != FERRY_FLOOR_SYSCALL && mode != FERRY_FLOOR_IPC))
        return false;
    if (mode == FERRY_FLOOR_IPC && !floor_pml4)
        return false;
    ks_floor_owner = owner;
    floor_mode = mode;
    floor_vspace = ks_percpu.cur_vspace;    /* the owner is running: its space is loaded */
    floor_install();
    return true;
}

bool floor_end(struct tcb *t)
{
    if (!ks_floor_owner || t != ks_floor_owner)
        return false;
    if (ks_percpu.cur == t)
        floor_uninstall();                  /* else the switch away from t did it */
    if (floor_mode == FERRY_FLOOR_IPC) {
        memset(phys_to_virt(floor_pml4), 0, PAGE_SIZE / 2);
#if FERRY_KPTI
        /* The copy of a user table had only the window above: the kernel
         * half again, for the CR3 floors that run kernel code on it. */
        memcpy((uint64_t *)phys_to_virt(floor_pml4) + 256,
               (uint64_t *)phys_to_virt(ks_kernel_pml4) + 256, PAGE_SIZE / 2);
#endif
    }
    ks_floor_owner = NULL;
    return true;
}

void floor_switch(struct tcb *prev, struct tcb *next)
{
    if (next == ks_floor_owner) {
        /* The owner may have been given another address space meanwhile
         * (TCB Configure): then its floor ends. */
        if (arch_tcb_vspace(next) != floor_vspace) {
            floor_end(next);
            return;
        }
        floor_install();
    } else if (prev == ks_floor_owner) {
        floor_uninstall();              /* CR3 may hold the away table even if next shares the space */
    }
}

#endif /* FERRY_BENCHMARK */
