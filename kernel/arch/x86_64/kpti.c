/* kpti.c: KPTI=1, the Meltdown-mitigated build: each ASID's user page table
 * (its VSpace's user half and only the kernel's entry window), kept in
 * step with the VSpace, and the invariant check of them (docs/design.md). */
#include <arch/kpti.h>
#include <arch/kstack.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <kstring.h>
#include <mm/physmap.h>

#if FERRY_KPTI

_Static_assert(KPTI_USER_TABLES_BYTES == ASID_COUNT * PAGE_SIZE, "one user table per ASID");

/* One user table per ASID, in the kernel image, so that a VSpace object
 * (and the ABI) stays one page; ASID 0's is the template: the window only,
 * which every other one's kernel half copies, and the table a space
 * without an ASID gets. */
static uint64_t ks_kpti_user_tables[ASID_COUNT][512] __attribute__((aligned(4096)));

/* Read by vectors.S with either table loaded. */
KPTI_ENTRY_DATA word_t ks_kpti_user_base;     /* physical address of the array */
KPTI_ENTRY_DATA word_t ks_kpti_kernel_cr3;    /* the kernel's own table */
/* Each CPU's entry stack (TSS.rsp0). */
KPTI_ENTRY_DATA static uint8_t ks_kpti_entry_stacks[FERRY_MAX_CPUS][KPTI_ENTRY_STACK] __attribute__((aligned(64)));

static uint64_t *pml4_of(paddr_t pml4) { return phys_to_virt(pml4); }

paddr_t kpti_user_pml4(word_t asid)
{
    return (vaddr_t)ks_kpti_user_tables[asid] - KERNEL_VIRT_BASE;
}

void *kpti_entry_stack_top(unsigned cpu)
{
    return ks_kpti_entry_stacks[cpu] + KPTI_ENTRY_STACK;
}

void kpti_init(void)
{
    ks_kpti_user_base = kpti_user_pml4(0);
    ks_kpti_kernel_cr3 = ks_kernel_pml4;
    for (unsigned c = 0; c < FERRY_MAX_CPUS; c++) {
        ks_percpu_of[c].kpti_kernel_cr3 = ks_kernel_pml4;
        ks_percpu_of[c].kpti_user_cr3 = kpti_user_pml4(0);
    }
}

void kpti_asid_assigned(paddr_t pml4, word_t asid)
{
    uint64_t *u = ks_kpti_user_tables[asid];
    memcpy(u, pml4_of(pml4), 256 * sizeof(uint64_t));
    memcpy(u + 256, ks_kpti_user_tables[0] + 256, 256 * sizeof(uint64_t));
    if (ks_percpu.cur_vspace == pml4)
        vspace_activate(pml4);           /* the exit stubs' user CR3 was the template's */
}

void kpti_entry_changed(paddr_t pml4, word_t asid, const uint64_t *e)
{
    const uint64_t *t = pml4_of(pml4);
    if (asid && asid < ASID_COUNT && e >= t && e < t + 256)
        ks_kpti_user_tables[asid][e - t] = *e;
}

/* ---- the invariant check ------------------------------------------------ */

extern char __entry_text_start[], __entry_text_end[], __entry_data_start[], __entry_data_end[];

static bool in_range(vaddr_t va, const void *start, const void *end)
{
    return va >= (vaddr_t)start && va < (vaddr_t)end;
}

/* May the window map va, and with these flags?  Entry text: present,
 * executable, read-only; entry data and IST stacks: writable, never
 * executable (where the CPU has NX); nothing user-accessible. */
static const char *window_page_ok(vaddr_t va, uint64_t pte)
{
    if (pte & PTE_U)
        return "KPTI window: a user-accessible page";
    if (pte & PTE_G)
        return "KPTI window: a global page";
    if ((pte & PTE_ADDR) != va - KERNEL_VIRT_BASE)
        return "KPTI window: a page not at its kernel-image address";
    if (in_range(va, __entry_text_start, __entry_text_end))
        return (pte & PTE_W) ? "KPTI window: writable entry text" : NULL;
    if (in_range(va, __entry_data_start, __entry_data_end))
        return NULL;
    for (unsigned cpu = 0; cpu < FERRY_MAX_CPUS; cpu++)
        for (int k = KSTACK_DF; k <= KSTACK_DB; k++) {
            struct kstack *s = kstack_of(cpu, (enum kstack_kind)k);
            if (in_range(va, s->stack, s->stack + KSTACK_SIZE))
                return NULL;
        }
    return "KPTI window: maps a kernel page outside the entry window";
}

/* Walk the template's kernel half: every leaf must be a window page, and
 * every window page must be there (else the entry would fault). */
static const char *walk_window(paddr_t table, unsigned shift, vaddr_t base, word_t *pages)
{
    const uint64_t *t = phys_to_virt(table);
    for (unsigned i = 0; i < 512; i++) {
        if (!(t[i] & PTE_P))
            continue;
        vaddr_t va = base + ((vaddr_t)i << shift);
        if (shift == 39)
            va |= 0xffff000000000000ULL;     /* sign-extend the upper half */
        if (t[i] & PTE_PS)
            return "KPTI window: a large page";
        const char *why;
        if (shift == 12) {
            if ((why = window_page_ok(va, t[i])))
                return why;
            (*pages)++;
        } else if ((why = walk_window(t[i] & PTE_ADDR, shift - 9, va, pages))) {
            return why;
        }
    }
    return NULL;
}

const char *kpti_check_window(void)
{
    const uint64_t *tmpl = ks_kpti_user_tables[0];
    for (unsigned i = 0; i < 256; i++)
        if (tmpl[i])
            return "KPTI template: a user-half entry";
    word_t pages = 0, want = 0;
    const char *why = NULL;
    for (unsigned i = 256; i < 512 && !why; i++) {
        if (!(tmpl[i] & PTE_P))
            continue;
        if (tmpl[i] & PTE_U)
            return "KPTI template: a user-accessible kernel-half entry";
        why = walk_window(tmpl[i] & PTE_ADDR, 30, 0xffff000000000000ULL | ((vaddr_t)i << 39), &pages);
    }
    if (why)
        return why;
    want += ((vaddr_t)__entry_text_end - (vaddr_t)__entry_text_start) / PAGE_SIZE;
    want += ((vaddr_t)__entry_data_end - (vaddr_t)__entry_data_start) / PAGE_SIZE;
    want += (word_t)FERRY_MAX_CPUS * 3 * (KSTACK_SIZE / PAGE_SIZE);
    if (pages != want)
        return "KPTI window: pages missing";
    /* The entry stubs' own addresses lie in it. */
    extern char syscall_entry[], int80_entry[], restore_user_sysret[], restore_user_iret[];
    if (!in_range((vaddr_t)syscall_entry, __entry_text_start, __entry_text_end) ||
        !in_range((vaddr_t)int80_entry, __entry_text_start, __entry_text_end) ||
        !in_range((vaddr_t)restore_user_sysret, __entry_text_start, __entry_text_end) ||
        !in_range((vaddr_t)restore_user_iret, __entry_text_start, __entry_text_end))
        return "KPTI window: an entry stub outside it";
    if (!in_range((vaddr_t)ks_percpu_of, __entry_data_start, __entry_data_end))
        return "KPTI window: per-CPU blocks outside it";
    return NULL;
}

const char *kpti_check(paddr_t pml4, word_t asid)
{
    const uint64_t *u = ks_kpti_user_tables[asid], *k = pml4_of(pml4);
    for (unsigned i = 0; i < 256; i++)
        if ((u[i] ^ k[i]) & ~PTE_A)     /* the CPU sets accessed bits in each on its own */
            return "KPTI: a user table's user half differs from its VSpace's";
    for (unsigned i = 256; i < 512; i++)
        if ((u[i] ^ ks_kpti_user_tables[0][i]) & ~PTE_A)
            return "KPTI: a user table's kernel half is not the entry window";
    return NULL;
}

#endif /* FERRY_KPTI */
