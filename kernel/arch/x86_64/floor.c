/* floor.c: the hardware floors that need ring 0 (rdtsc, CR3 switch pairs),
 * timed with the same fences as every benchmark (bench/lib/tsc.h), and the
 * floor modes of the syscall entry (bare sysret, or a CR3 switch each). */
#include <arch/cpu.h>
#include <arch/floor.h>
#include <arch/paging.h>
#include <arch/thread.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <ferry/syscall.h>
#include <kstring.h>
#include <mm/physmap.h>
#include <tsc.h>

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
            /* ASIDs start at 1: PCID 4095 is the last to be handed out. */
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
    default:
        return false;
    }
    *ticks = t1 - t0;
    return true;
}

/* ---- the floor entries (entry.S) --------------------------------------------------- */

/* floor_ipc_entry writes floor_cr3_next to CR3 and flips it to the other
 * value (next ^= flip): home and away alternate with no branch. */
uint64_t floor_cr3_next, floor_cr3_flip;
static uint64_t floor_cr3_home;
static bool floor_ipc_on;

bool floor_begin(word_t mode)
{
    extern char floor_syscall_entry[], floor_ipc_entry[];
    if (mode == FERRY_FLOOR_SYSCALL) {
        wrmsr(MSR_LSTAR, (uint64_t)floor_syscall_entry);
        return true;
    }
    if (mode != FERRY_FLOOR_IPC || !floor_pml4 || floor_ipc_on)
        return false;
    /* Away: a copy of the caller's top-level table (its user half too, so
     * that user code runs in either), with the last PCID when PCIDs are on. */
    uint64_t home = read_cr3(), *away_table = phys_to_virt(floor_pml4);
    memcpy(away_table, phys_to_virt(home & PTE_ADDR), PAGE_SIZE / 2);
    uint64_t away = floor_pml4;
    if (ks_pcid_on) {
        away |= 4095 | BIT(63);
        home |= BIT(63);
    }
    floor_cr3_home = home;
    floor_cr3_next = away;
    floor_cr3_flip = home ^ away;
    floor_ipc_on = true;
    wrmsr(MSR_LSTAR, (uint64_t)floor_ipc_entry);
    return true;
}

void floor_end(void)
{
    extern char syscall_entry[];
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    if (!floor_ipc_on)
        return;
    /* Home again, flushing (an interrupt may have switched threads while
     * away: the kernel's idea of the loaded space is what it loads). */
    write_cr3(floor_cr3_home & ~BIT(63));
    if (ks_pcid_on)
        vspace_pcid_used(4095);
    memset(phys_to_virt(floor_pml4), 0, PAGE_SIZE / 2);
    floor_ipc_on = false;
}
