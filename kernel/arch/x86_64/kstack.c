/* kstack.c: the kernel's stacks, every CPU's, and the guard pages below them. */
#include <arch/kstack.h>
#include <arch/percpu.h>

/* In .bss so they cost nothing in the image; paging_init leaves each guard
 * page unmapped. */
__attribute__((section(".bss.kstack"))) struct kstack ks_boot_stack;
__attribute__((section(".bss.kstack"))) struct kstack ks_df_stack;
__attribute__((section(".bss.kstack"))) struct kstack ks_nmi_stack;
__attribute__((section(".bss.kstack"))) struct kstack ks_db_stack;
/* The other CPUs' four stacks each (the boot CPU has the ones above). */
__attribute__((section(".bss.kstack"))) static struct kstack ks_ap_stacks[FERRY_MAX_CPUS - 1][KSTACK_KINDS];

static const struct {
    struct kstack *stack;
    const char *name;
} kstacks[] = {
    { &ks_boot_stack, "kernel stack" },
    { &ks_df_stack, "double-fault stack" },
    { &ks_nmi_stack, "NMI stack" },
    { &ks_db_stack, "debug-exception stack" },
};

struct kstack *kstack_of(unsigned cpu, enum kstack_kind kind)
{
    if (cpu == 0)
        return kstacks[kind].stack;
    return &ks_ap_stacks[cpu - 1][kind];
}

const char *kstack_guard_owner(vaddr_t va)
{
    for (unsigned cpu = 0; cpu < FERRY_MAX_CPUS; cpu++)
        for (size_t i = 0; i < ARRAY_SIZE(kstacks); i++) {
            vaddr_t g = (vaddr_t)kstack_of(cpu, (enum kstack_kind)i)->guard;
            if (va >= g && va < g + KSTACK_GUARD)
                return kstacks[i].name;
        }
    return NULL;
}

bool kstack_is_guard_page(vaddr_t va)
{
    return kstack_guard_owner(ALIGN_DOWN(va, PAGE_SIZE)) != NULL;
}
