/* vspace.h: address spaces (x86-64): ASIDs/PCIDs, mapping frames and page tables. */
#ifndef FERRY_ARCH_VSPACE_H
#define FERRY_ARCH_VSPACE_H

#include <object/cap.h>

/* Every VSpace gets an address-space identifier when first used; with
 * PCIDs on, the ASID is also its PCID.  Frame and table capabilities
 * record (asid, vaddr) of their mapping, so a stale record of a deleted
 * VSpace is detected instead of followed. */
#define ASID_COUNT 4096          /* 0 means none; PCIDs are 12 bits */

/* Kernel API (the root-task builder and the invocations use these). */
word_t vspace_map_table(struct cte *table, struct cte *vspace, vaddr_t va);
word_t vspace_map_frame(struct cte *frame, struct cte *vspace, vaddr_t va, word_t map_rights);
word_t vspace_unmap(struct cte *slot);

struct invocation;
/* Invocations on frames, page tables and VSpaces. */
word_t vspace_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);

/* Load the VSpace whose PML4 is at pml4 (0: the kernel's own tables). */
void vspace_activate(paddr_t pml4);

/* The CR3 value that loads pml4: with PCIDs, its ASID as PCID and the
 * no-flush bit unless that PCID may hold stale translations (a recycled
 * ASID, or an unmap the kernel could not flush precisely); the stale mark
 * is cleared, as this load flushes. */
uint64_t vspace_cr3(paddr_t pml4);

/* Someone else (the CR3 floor benchmark) loaded this PCID: whoever gets
 * it as an ASID must start with a flush. */
void vspace_pcid_used(word_t pcid);

/* pcid=off on the command line, or a CPU without PCID: every switch flushes. */
void vspace_init(bool pcid_wanted);
extern bool ks_pcid_on;

#endif
