/* vspace.c: x86-64 address spaces: the VSpace object (a PML4 sharing the
 * kernel's upper half), walking its page tables, and the mapping records
 * of frame and table capabilities that every map and unmap goes through. */
#include <arch/asid.h>
#include <arch/kpti.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <object/cnode.h>

static uint64_t *pml4_of(paddr_t pml4) { return phys_to_virt(pml4); }

void vspace_orphan(paddr_t pml4, word_t old_asid)
{
    memset(pml4_of(pml4), 0, PML4_ASID_INDEX * sizeof(uint64_t));
    vspace_reload_everywhere(pml4, old_asid);   /* now without a PCID: the load flushes */
}

unsigned vspace_level_shift(word_t type)
{
    switch (type) {
    case FERRY_OBJ_PDPT: return 39;
    case FERRY_OBJ_PD: return 30;
    case FERRY_OBJ_PT: return 21;
    case FERRY_OBJ_FRAME_2M: return 21;
    default: return 12;                  /* 4 KiB frame */
    }
}

/* The entry that maps va at the level whose entries span 1 << shift bytes,
 * or NULL when a level above is missing. */
uint64_t *vspace_walk(paddr_t pml4, vaddr_t va, unsigned shift)
{
    uint64_t *table = pml4_of(pml4);
    for (unsigned s = 39; s > shift; s -= 9) {
        uint64_t e = table[(va >> s) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            return NULL;
        table = phys_to_virt(e & PTE_ADDR);
    }
    return &table[(va >> shift) & 511];
}

word_t vspace_map_entry(struct cap *c, struct cte *vspace, vaddr_t va, uint64_t entry)
{
    if (c->u.map.vspace)
        return FERRY_E_ILLEGAL_OP;                    /* mapped already */
    paddr_t pml4 = vspace->cap.paddr;
    word_t asid = vspace_asid(pml4);
    if (!asid)
        return FERRY_E_NO_ASID;              /* assign one from an ASID pool first */
    uint64_t *e = vspace_walk(pml4, va, vspace_level_shift(c->type));
    if (!e)
        return FERRY_E_NO_TABLE;
    if (*e & PTE_P)
        return FERRY_E_SLOT_OCCUPIED;
    *e = entry;
#if FERRY_KPTI
    kpti_entry_changed(pml4, asid, e);   /* a PDPT linked into the PML4: the user table too */
#endif
    c->u.map.vaddr = va;
    c->u.map.vspace = asid;
    return FERRY_OK;
}


/* Remove a frame's or table's mapping, if the record still matches the
 * page tables: a record whose VSpace is gone, or whose entry now points
 * elsewhere, is only forgotten.  A table's unlink flushes its whole ASID
 * (every translation through it, and the paging-structure caches); a
 * frame's flushes the one place it was mapped, which is the only place a
 * translation of it through this capability can be cached, since a table
 * is linked at one place at most (see vspace_unmap). */
void vspace_unmap_cap(struct cap *c)
{
    word_t asid = c->u.map.vspace;
    vaddr_t va = c->u.map.vaddr;
    c->u.map.vspace = 0;
    c->u.map.vaddr = 0;
    paddr_t pml4 = asid_pml4(asid);
    if (!pml4)
        return;
    uint64_t *e = vspace_walk(pml4, va, vspace_level_shift(c->type));
    if (!e || !(*e & PTE_P) || (*e & PTE_ADDR) != c->paddr)
        return;
    *e = 0;
#if FERRY_KPTI
    kpti_entry_changed(pml4, asid, e);
#endif
    vspace_flush(asid, pml4, va, cap_is_table(c));
}

word_t vspace_unmap(struct cte *slot)
{
    struct cap *c = &slot->cap;
    if (!c->u.map.vspace)
        return FERRY_E_NOT_MAPPED;
    vspace_unmap_cap(c);
    if (cap_is_table(c))
        pagetable_clear(c);
    return FERRY_OK;
}

/* A VSpace is made: every address space maps the kernel, so it shares
 * the kernel's upper half. */
void vspace_created(paddr_t pml4)
{
    memcpy(pml4_of(pml4) + 256, pml4_of(ks_kernel_pml4) + 256, 256 * sizeof(uint64_t));
}

/* The last capability of a VSpace went: its ASID goes back to its pool
 * and the CPU stops using its tables. */
void vspace_deleted(paddr_t pml4)
{
    asid_vspace_deleted(pml4);
    vspace_drop_everywhere(pml4);
}

word_t vspace_decode_arg(struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (nextra < FERRY_MAP_CAP_VSPACE + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_MAP_CAP_VSPACE));
    if (extra[FERRY_MAP_CAP_VSPACE]->cap.type != FERRY_OBJ_VSPACE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_MAP_CAP_VSPACE));
    if (!cap_has_rights(&extra[FERRY_MAP_CAP_VSPACE]->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_MAP_CAP_VSPACE));
    return FERRY_OK;
}
