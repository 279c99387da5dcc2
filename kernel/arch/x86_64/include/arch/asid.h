/* asid.h: ASID control and ASID pools (seL4's x86 ASID design): which VSpace owns which ASID. */
#ifndef FERRY_ARCH_ASID_H
#define FERRY_ARCH_ASID_H

#include <object/cap.h>

struct invocation;

/* The PML4 that owns asid, 0 when none does (no pool, or a free entry). */
paddr_t asid_pml4(word_t asid);

/* Make the pool for the next block without one in the 2^FERRY_ASID_POOL_BITS
 * bytes of RAM at mem (cleared here) and its capability in *out; the
 * caller inserts it into the CDT.  FERRY_E_NO_ASID: every block has one. */
word_t asid_pool_create(paddr_t mem, struct cap *out);

/* Give the VSpace at pml4 the lowest free ASID of pool.  FERRY_E_ILLEGAL_OP
 * if it has one already, FERRY_E_NO_ASID if the pool is full. */
word_t asid_assign(const struct cap *pool, paddr_t pml4, word_t *asid);

/* The VSpace at pml4 is destroyed: its ASID goes back to its pool. */
void asid_vspace_deleted(paddr_t pml4);

/* The pool's last capability is gone: its VSpaces lose their ASIDs (and
 * their user halves, vspace_orphan) and its block is free again. */
void asid_pool_deleted(const struct cap *pool);

/* ASIDControl MakePool and ASIDPool Assign (see ferry/arch_x86_64.h). */
word_t asid_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);

#endif
