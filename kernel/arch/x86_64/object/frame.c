/* frame.c: frame capabilities (4 KiB and 2 MiB): mapping one into a
 * VSpace with the rights asked for, unmapping it, reading its address. */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/vspace.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <object/cnode.h>

word_t vspace_map_frame(struct cte *frame, struct cte *vspace, vaddr_t va, word_t map_rights)
{
    uint64_t size = 1ULL << vspace_level_shift(frame->cap.type);
    if (!IS_ALIGNED(va, size))
        return FERRY_E_ALIGNMENT;
    if (va >= FERRY_USER_TOP || FERRY_USER_TOP - va < size)
        return FERRY_E_RANGE;
    if ((map_rights & FERRY_MAP_WRITE) && !cap_has_rights(&frame->cap, FERRY_RIGHT_WRITE))
        return FERRY_E_RIGHTS;
    uint64_t e = frame->cap.paddr | PTE_P | PTE_U;
    if (map_rights & FERRY_MAP_WRITE)
        e |= PTE_W;
    if (!(map_rights & FERRY_MAP_EXEC) && ks_cpu.nx)
        e |= PTE_NX;
    if (frame->cap.type == FERRY_OBJ_FRAME_2M)
        e |= PTE_PS;
    return vspace_map_entry(&frame->cap, vspace, va, e);
}

word_t frame_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    struct cap *c = &slot->cap;
    word_t err;
    switch (inv->label) {
    case FERRY_FRAME_MAP:
        if (inv->len < FERRY_FRAME_MAP_NARGS)
            return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
        if (!cap_has_rights(c, FERRY_RIGHT_READ))
            return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
        if ((err = vspace_decode_arg(inv, extra, nextra)))
            return err;
        if (inv->mr[FERRY_FRAME_MAP_ARG_RIGHTS] & ~(FERRY_MAP_READ | FERRY_MAP_WRITE | FERRY_MAP_EXEC))
            return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_FRAME_MAP_ARG_RIGHTS);
        err = vspace_map_frame(slot, extra[FERRY_MAP_CAP_VSPACE], inv->mr[FERRY_FRAME_MAP_ARG_VADDR],
                               inv->mr[FERRY_FRAME_MAP_ARG_RIGHTS]);
        if (err)
            return inv_fail(inv, err, err == FERRY_E_RIGHTS ? FERRY_ERR_ARG_NONE : FERRY_FRAME_MAP_ARG_VADDR);
        inv->len = 0;
        return FERRY_OK;
    case FERRY_FRAME_UNMAP:
        if ((err = vspace_unmap(slot)))
            return inv_fail(inv, err, FERRY_ERR_ARG_NONE);
        inv->len = 0;
        return FERRY_OK;
    case FERRY_FRAME_ADDRESS:
        inv->mr[FERRY_FRAME_ADDRESS_RES_PADDR] = c->paddr;
        inv->mr[FERRY_FRAME_ADDRESS_RES_VADDR] = c->u.map.vspace ? c->u.map.vaddr : 0;
        inv->len = FERRY_FRAME_ADDRESS_NRES;
        return FERRY_OK;
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
}
