/* pagetable.c: page-table capabilities (PT, PD, PDPT): linking one into a
 * VSpace, and unlinking it, which empties it. */
#include <arch/paging.h>
#include <arch/vspace.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <object/cnode.h>

word_t vspace_map_table(struct cte *table, struct cte *vspace, vaddr_t va)
{
    if (va >= FERRY_USER_TOP)
        return FERRY_E_RANGE;
    va = ALIGN_DOWN(va, 1ULL << vspace_level_shift(table->cap.type));
    /* Rights are decided at the leaf: upper levels allow everything. */
    return vspace_map_entry(&table->cap, vspace, va, table->cap.paddr | PTE_P | PTE_W | PTE_U);
}

/* A table leaves its place empty: whatever it still linked (frames,
 * lower tables) must not reappear where it is mapped next, so it is
 * cleared.  Its entries' own records then no longer match any page
 * table and are forgotten when unmapped.  Nothing can translate through
 * the cleared table any more: it is linked nowhere (vspace_unmap_cap unlinked
 * it, or its record was stale, so it was not linked), and the unlink or
 * the VSpace's deletion flushed (or marked for flushing) its ASID. */
void pagetable_clear(const struct cap *c)
{
    memset(phys_to_virt(c->paddr), 0, BIT(FERRY_PAGE_TABLE_BITS));
}

word_t pagetable_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    struct cap *c = &slot->cap;
    word_t err;
    switch (inv->label) {
    case FERRY_TABLE_MAP:
        if (inv->len < FERRY_TABLE_MAP_NARGS)
            return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
        if (!cap_has_rights(c, FERRY_RIGHT_WRITE))
            return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
        if ((err = vspace_decode_arg(inv, extra, nextra)))
            return err;
        err = vspace_map_table(slot, extra[FERRY_MAP_CAP_VSPACE], inv->mr[FERRY_TABLE_MAP_ARG_VADDR]);
        if (err)
            return inv_fail(inv, err, err == FERRY_E_RIGHTS ? FERRY_ERR_ARG_NONE : FERRY_TABLE_MAP_ARG_VADDR);
        inv->len = 0;
        return FERRY_OK;
    case FERRY_TABLE_UNMAP:
        /* A table's copies share its mapping: unmapping through one would
         * leave the others saying it is mapped (seL4: RevokeFirst). */
        if (c->u.map.vspace && !cte_is_final(slot))
            return inv_fail(inv, FERRY_E_REVOKE_FIRST, FERRY_ERR_ARG_NONE);
        if ((err = vspace_unmap(slot)))
            return inv_fail(inv, err, FERRY_ERR_ARG_NONE);
        inv->len = 0;
        return FERRY_OK;
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
}
