/* paging.c: the kernel's page tables, built once at boot. */
#include <arch/cpu.h>
#include <arch/kpti.h>
#include <arch/kstack.h>
#include <arch/percpu.h>
#include <arch/paging.h>
#include <arch/x86.h>
#include <kstring.h>
#include <mm/physmap.h>
#include <panic.h>
#include <printk.h>

/* The boot page tables map only the first 1 GiB, so page-table pages must
 * come from there until the new tables are live. */
#define BOOT_MAPPED_LIMIT (1ULL << 30)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __kernel_end[];

paddr_t ks_kernel_pml4;
paddr_t ks_physmap_top;     /* the direct map covers [0, ks_physmap_top) */

static struct memmap *pt_source;

static paddr_t alloc_table(void)
{
    paddr_t pa = memmap_take_page(pt_source, BOOT_MAPPED_LIMIT);
    if (!pa)
        panic("paging: out of memory for kernel page tables");
    memset(phys_to_virt(pa), 0, PAGE_SIZE);
    return pa;
}

/* Returns the entry for va at the level whose pages are 1 << shift bytes,
 * creating intermediate tables on the way. */
static uint64_t *walk_create_in(paddr_t root, vaddr_t va, unsigned shift)
{
    uint64_t *table = phys_to_virt(root);
    for (unsigned level_shift = 39; level_shift > shift; level_shift -= 9) {
        uint64_t *e = &table[(va >> level_shift) & 511];
        if (!(*e & PTE_P))
            *e = alloc_table() | PTE_P | PTE_W;
        else if (*e & PTE_PS)
            panic("paging: %#lx already mapped by a large page", va);
        table = phys_to_virt(*e & PTE_ADDR);
    }
    return &table[(va >> shift) & 511];
}

static uint64_t *walk_create(vaddr_t va, unsigned shift)
{
    return walk_create_in(ks_kernel_pml4, va, shift);
}

#if FERRY_KPTI
extern char __entry_text_start[], __entry_text_end[], __entry_data_start[], __entry_data_end[];

/* The entry window in the user template (kpti.c): kernel-image pages at
 * their own addresses, not global (a global translation would outlive the
 * switch to the user table, which is what KPTI takes away). */
static void window_map(const void *start, const void *end, uint64_t flags)
{
    for (vaddr_t va = ALIGN_DOWN((vaddr_t)start, PAGE_SIZE); va < (vaddr_t)end; va += PAGE_SIZE)
        *walk_create_in(kpti_user_pml4(0), va, 12) = (va - KERNEL_VIRT_BASE) | flags;
}

/* What the CPU and the stubs touch with the user table loaded: the stubs'
 * text; the per-CPU blocks, GDTs, TSSs, IDT and entry stacks
 * (.entry.data); and the IST stacks an NMI, double fault or debug
 * exception may arrive on inside a stub. */
static void kpti_window_init(uint64_t nx)
{
    kpti_init();
    window_map(__entry_text_start, __entry_text_end, PTE_P);
    window_map(__entry_data_start, __entry_data_end, PTE_P | PTE_W | nx);
    for (unsigned cpu = 0; cpu < FERRY_MAX_CPUS; cpu++)
        for (int k = KSTACK_DF; k <= KSTACK_DB; k++) {
            struct kstack *s = kstack_of(cpu, (enum kstack_kind)k);
            window_map(s->stack, s->stack + KSTACK_SIZE, PTE_P | PTE_W | nx);
        }
}
#endif

void paging_init(struct memmap *free, paddr_t phys_top)
{
    pt_source = free;
    ks_kernel_pml4 = alloc_table();

    /* KPTI=1: no global kernel pages (they would stay in the TLB with the
     * user table loaded). */
    uint64_t g = ks_cpu.pge && !FERRY_KPTI ? PTE_G : 0;
    uint64_t nx = ks_cpu.nx ? PTE_NX : 0;

    /* Direct map: 1 GiB pages where the CPU has them, else 2 MiB. */
    unsigned shift = ks_cpu.page1gb ? 30 : 21;
    uint64_t step = 1ULL << shift;
    paddr_t pa;
    for (pa = 0; pa < phys_top; pa += step)
        *walk_create(KERNEL_PHYSMAP_BASE + pa, shift) = pa | PTE_P | PTE_W | PTE_PS | g | nx;
    ks_physmap_top = pa;

    /* The kernel image, page by page, each section with only the rights it
     * needs; the guard page under every kernel stack stays unmapped. */
    for (vaddr_t va = (vaddr_t)__text_start; va < (vaddr_t)__kernel_end; va += PAGE_SIZE) {
        if (kstack_is_guard_page(va))
            continue;
        uint64_t flags = PTE_P | g;
        if (va >= (vaddr_t)__rodata_start)
            flags |= nx;
        if (va >= (vaddr_t)__data_start)
            flags |= PTE_W;
        *walk_create(va, 12) = (va - KERNEL_VIRT_BASE) | flags;
    }

#if FERRY_KPTI
    kpti_window_init(nx);
#endif
    if (ks_cpu.nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    write_cr0(read_cr0() | CR0_WP);     /* the kernel honours read-only pages too */
    if (ks_cpu.pge)
        write_cr4(read_cr4() | CR4_PGE);
    write_cr3(ks_kernel_pml4);

    uint64_t cr4 = read_cr4();
    if (ks_cpu.smep)
        cr4 |= CR4_SMEP;
    if (ks_cpu.smap)
        cr4 |= CR4_SMAP;    /* user memory is touched only inside stac/clac */
    write_cr4(cr4);

    kprintf("paging: direct map %lu MiB in %s pages, kernel image %lu KiB, NX %s, SMEP %s, SMAP %s\n",
            phys_top >> 20, shift == 30 ? "1 GiB" : "2 MiB",
            ((vaddr_t)__kernel_end - (vaddr_t)__text_start) >> 10,
            ks_cpu.nx ? "on" : "absent", ks_cpu.smep ? "on" : "absent", ks_cpu.smap ? "on" : "absent");
}

/* Device registers live in a window above the kernel image, one page each. */
#define MMIO_BASE (KERNEL_VIRT_BASE + 0x40000000ULL)
#define MMIO_PAGES 64

volatile void *paging_map_mmio(paddr_t pa)
{
    static unsigned used;
    if (used == MMIO_PAGES)
        panic("paging: MMIO window full");
    vaddr_t va = MMIO_BASE + (vaddr_t)used++ * PAGE_SIZE;
    uint64_t nx = ks_cpu.nx ? PTE_NX : 0;
    *walk_create(va, 12) = ALIGN_DOWN(pa, PAGE_SIZE) | PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx;
    invlpg(va);
    return (volatile void *)(va + (pa & (PAGE_SIZE - 1)));
}
