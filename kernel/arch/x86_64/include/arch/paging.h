/* paging.h: x86-64 4-level page tables and the kernel's own address space. */
#ifndef FERRY_ARCH_PAGING_H
#define FERRY_ARCH_PAGING_H

#include <memmap.h>
#include <types.h>

#define PTE_P    BIT(0)
#define PTE_W    BIT(1)
#define PTE_U    BIT(2)
#define PTE_PWT  BIT(3)
#define PTE_PCD  BIT(4)
#define PTE_A    BIT(5)
#define PTE_D    BIT(6)
#define PTE_PS   BIT(7)
#define PTE_G    BIT(8)
#define PTE_NX   BIT(63)
#define PTE_ADDR 0x000ffffffffff000ULL

#define PML4_INDEX(va) (((va) >> 39) & 511)
#define PDPT_INDEX(va) (((va) >> 30) & 511)
#define PD_INDEX(va)   (((va) >> 21) & 511)
#define PT_INDEX(va)   (((va) >> 12) & 511)

/* Physical address of the kernel's PML4; its upper half (entries 256-511)
 * is shared by every address space. */
extern paddr_t ks_kernel_pml4;
extern paddr_t ks_physmap_top;   /* the direct map covers [0, ks_physmap_top) */

/* Builds the kernel's page tables (direct map of [0, phys_top), the kernel
 * image with per-section rights, guard pages left unmapped), switches to
 * them and turns on NX, WP, global pages, SMEP and SMAP where present.
 * Page-table pages come from free. */
void paging_init(struct memmap *free, paddr_t phys_top);

/* Map one page of device registers (uncached) into kernel space. */
volatile void *paging_map_mmio(paddr_t pa);

#endif
