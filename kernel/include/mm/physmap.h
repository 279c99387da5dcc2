/* physmap.h: the kernel's direct map of all physical memory.
 *
 * The kernel maps physical memory 1:1 at KERNEL_PHYSMAP_BASE, so kernel
 * objects carved from untyped memory are reached through phys_to_virt().
 * Host unit tests build with FERRY_HOST_TEST and point the map at a buffer. */
#ifndef FERRY_MM_PHYSMAP_H
#define FERRY_MM_PHYSMAP_H

#include <types.h>

#define KERNEL_PHYSMAP_BASE 0xffff800000000000ULL  /* 512 GiB direct map */
#define KERNEL_VIRT_BASE    0xffffffff80000000ULL  /* kernel image, -2 GiB */

#ifdef FERRY_HOST_TEST
extern uintptr_t host_physmap_offset;  /* host pointer = paddr + offset */
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)(pa + host_physmap_offset); }
static inline paddr_t virt_to_phys(const void *va) { return (paddr_t)((uintptr_t)va - host_physmap_offset); }
#else
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)(pa + KERNEL_PHYSMAP_BASE); }
static inline paddr_t virt_to_phys(const void *va)
{
    uintptr_t v = (uintptr_t)va;
    return v >= KERNEL_VIRT_BASE ? v - KERNEL_VIRT_BASE : v - KERNEL_PHYSMAP_BASE;
}
#endif

#endif
