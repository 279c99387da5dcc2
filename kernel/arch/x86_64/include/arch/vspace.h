/* vspace.h: address spaces (x86-64): ASIDs/PCIDs, mapping frames and page tables. */
#ifndef FERRY_ARCH_VSPACE_H
#define FERRY_ARCH_VSPACE_H

#include <arch/percpu.h>
#include <mm/physmap.h>
#include <object/cap.h>

/* A VSpace can be mapped into once it has an address-space identifier
 * (ASID), assigned from an ASID pool (object/asid.c); with PCIDs on, the ASID is
 * also its PCID.  Frame and table capabilities record (asid, vaddr) of
 * their mapping, so a stale record of a deleted VSpace is detected
 * instead of followed. */
#define ASID_COUNT 4096          /* 0 means none; PCIDs are 12 bits */
#define ASID_FLOOR_PCID 4095     /* loaded by the floor benchmarks (floor.c): never an ASID */

/* Kernel API (the root-task builder and the invocations use these):
 * object/pagetable.c, object/frame.c, object/vspace.c. */
word_t vspace_map_table(struct cte *table, struct cte *vspace, vaddr_t va);
word_t vspace_map_frame(struct cte *frame, struct cte *vspace, vaddr_t va, word_t map_rights);
word_t vspace_unmap(struct cte *slot);

struct invocation;
/* Invocations on frames (object/frame.c) and page tables (object/pagetable.c). */
word_t frame_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);
word_t pagetable_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);

/* ---- shared by the mapping objects (object/{vspace,frame,pagetable}.c) ---- */

static inline bool cap_is_frame(const struct cap *c)
{
    return c->type == FERRY_OBJ_FRAME_4K || c->type == FERRY_OBJ_FRAME_2M;
}

static inline bool cap_is_table(const struct cap *c)
{
    return c->type == FERRY_OBJ_PT || c->type == FERRY_OBJ_PD || c->type == FERRY_OBJ_PDPT;
}

/* log2 of the bytes one entry of this object's level maps. */
unsigned vspace_level_shift(word_t type);
/* The entry that maps va at the level whose entries span 1 << shift bytes,
 * or NULL when a level above is missing. */
uint64_t *vspace_walk(paddr_t pml4, vaddr_t va, unsigned shift);
/* Write entry for capability c at va in vspace and record (ASID, va) in c. */
word_t vspace_map_entry(struct cap *c, struct cte *vspace, vaddr_t va, uint64_t entry);
/* Remove c's mapping if its record still matches the page tables, and forget the record. */
void vspace_unmap_cap(struct cap *c);
/* The VSpace capability argument of a map invocation (extra cap 0, writable). */
word_t vspace_decode_arg(struct invocation *inv, struct cte **extra, unsigned nextra);
/* An unlinked table is emptied (object/pagetable.c). */
void pagetable_clear(const struct cap *c);
/* A VSpace object was made / lost its last capability. */
void vspace_created(paddr_t pml4);
void vspace_deleted(paddr_t pml4);
/* A translation of (asid, va), or of the whole ASID, is gone: flush it (pcid.c). */
void vspace_flush(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space);

/* Load the VSpace whose PML4 is at pml4 (0: the kernel's own tables). */
void vspace_activate(paddr_t pml4);

/* The CR3 value that loads pml4: with PCIDs, its ASID as PCID and the
 * no-flush bit unless that PCID may hold stale translations (a recycled
 * ASID, or an unmap the kernel could not flush precisely); the stale mark
 * is cleared, as this load flushes. */
uint64_t vspace_cr3(paddr_t pml4);

/* A VSpace's ASID lives in a non-present PML4 entry of its own lower half
 * (entry 255, above FERRY_USER_TOP): the CPU ignores every other bit of a
 * non-present entry, so no side table is needed to find it.  Only object/asid.c
 * writes it, and it is exact: set when the pool assigns the ASID, cleared
 * when the VSpace or the pool is deleted (a retyped PML4 starts at 0). */
#define PML4_ASID_INDEX 255
#define PML4_ASID(entry) (((entry) >> 1) & (ASID_COUNT - 1))
/* This CPU's PCIDs that may hold stale translations (per CPU: each TLB
 * is flushed by its own CPU). */
#define ks_asid_dirty (ks_percpu.asid_dirty)
_Static_assert(PERCPU_ASIDS == ASID_COUNT, "percpu.h's copy of ASID_COUNT");

static inline word_t vspace_asid(paddr_t pml4)
{
    return PML4_ASID(((const uint64_t *)phys_to_virt(pml4))[PML4_ASID_INDEX]);
}

static inline void vspace_set_asid(paddr_t pml4, word_t asid)
{
    ((uint64_t *)phys_to_virt(pml4))[PML4_ASID_INDEX] = asid << 1;   /* not present */
}

/* vspace_cr3's common case inline, for the IPC fast path with PCIDs on:
 * a VSpace that has its ASID and whose PCID holds no stale translations
 * loads with the no-flush bit and needs no bookkeeping.  False (and *cr3
 * unset) in every other case: vspace_activate then does the work. */
static inline __attribute__((always_inline)) bool vspace_cr3_clean(paddr_t pml4, uint64_t *cr3)
{
    word_t a = PML4_ASID(((const uint64_t *)phys_to_virt(pml4))[PML4_ASID_INDEX]);
    if (!a || ks_asid_dirty[a])
        return false;
    *cr3 = pml4 | a | BIT(63);
    return true;
}

/* object/asid.c's hooks (pcid.c, object/vspace.c): an ASID was given back (its PCID may still cache
 * translations: its next owner starts with a flush); a VSpace lost its
 * ASID with its pool (its user half is emptied, so nothing its tables
 * link stays reachable, and its old PCID is flushed before reuse). */
void vspace_asid_released(word_t asid);
void vspace_orphan(paddr_t pml4, word_t old_asid);
/* Every CPU (TLB shootdown, pcid.c): asid's translations are stale and a
 * CPU that has pml4 loaded loads it again; a CPU that has pml4 loaded
 * switches to the kernel's tables (pml4 is going away).  Both wait for
 * the other CPUs. */
void vspace_reload_everywhere(paddr_t pml4, word_t asid);
void vspace_drop_everywhere(paddr_t pml4);

/* Someone else (the CR3 floor benchmark) loaded this PCID: whoever gets
 * it as an ASID must start with a flush. */
void vspace_pcid_used(word_t pcid);

/* pcid=off on the command line, or a CPU without PCID: every switch flushes. */
void vspace_init(bool pcid_wanted);
extern bool ks_pcid_on;

#endif
