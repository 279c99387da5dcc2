/* gdt.c: each CPU's GDT and TSS, whose IST stacks keep double faults and
 * NMIs on known-good stacks. */
#include <arch/gdt.h>
#include <arch/kpti.h>
#include <arch/kstack.h>
#include <arch/percpu.h>

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

/* One of each per CPU: a TSS is busy while loaded (ltr), so no two CPUs
 * can share one, and each holds its own CPU's stacks. */
/* Both in the KPTI entry window: the CPU reads them on every entry. */
KPTI_ENTRY_DATA static struct tss ks_tss_of[FERRY_MAX_CPUS];
KPTI_ENTRY_DATA static uint64_t ks_gdt_of[FERRY_MAX_CPUS][8] __attribute__((aligned(16)));

void gdt_init(unsigned cpu)
{
    uint64_t *ks_gdt = ks_gdt_of[cpu];
    struct tss *tss = &ks_tss_of[cpu];
    ks_gdt[0] = 0;
    ks_gdt[1] = 0x00af9a000000ffffULL;   /* kernel code, 64-bit, DPL 0 */
    ks_gdt[2] = 0x00cf92000000ffffULL;   /* kernel data */
    /* Slot 3 only fixes SYSRET's layout (user SS = slot 4, user CS = slot 5);
     * a 64-bit SYSRET never reads it.  It stays empty: with no 32-bit user
     * code segment, ring 3 cannot enter compatibility mode (where AMD's
     * SYSCALL would go through CSTAR); a far jump to 0x1b faults. */
    ks_gdt[3] = 0;
    ks_gdt[4] = 0x00cff2000000ffffULL;   /* user data, DPL 3 */
    ks_gdt[5] = 0x00affa000000ffffULL;   /* user code, 64-bit, DPL 3 */

#if FERRY_KPTI
    /* An interrupt from ring 3 arrives with the user table loaded: its
     * frame goes on the small entry stack of the window (vectors.S). */
    tss->rsp[0] = (uint64_t)kpti_entry_stack_top(cpu);
    ks_percpu_of[cpu].kpti_entry_rsp = tss->rsp[0];
#else
    tss->rsp[0] = (uint64_t)kstack_top(kstack_of(cpu, KSTACK_KERNEL));
#endif
    tss->ist[IST_DF - 1] = (uint64_t)kstack_top(kstack_of(cpu, KSTACK_DF));
    tss->ist[IST_NMI - 1] = (uint64_t)kstack_top(kstack_of(cpu, KSTACK_NMI));
    tss->ist[IST_DB - 1] = (uint64_t)kstack_top(kstack_of(cpu, KSTACK_DB));
    tss->iomap_base = sizeof(struct tss);   /* no I/O bitmap: ring 3 gets no ports */

    uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;
    ks_gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    ks_gdt[7] = base >> 32;

    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = {
        sizeof(ks_gdt_of[0]) - 1, (uint64_t)ks_gdt
    };
    asm volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "ltr %w3\n\t"
        : : "m"(gdtr), "i"(SEL_KCODE), "i"(SEL_KDATA), "r"((uint16_t)SEL_TSS) : "rax", "memory");
}
