/* objtype.c: the architecture's object types: invocations by capability
 * type, and the object layer's hooks (object/arch_hooks.h). */
#include <arch/asid.h>
#include <arch/ioport.h>
#include <arch/irq.h>
#include <arch/paging.h>
#include <arch/vspace.h>
#include <ferry/arch_x86_64.h>
#include <core/invoke.h>
#include <ferry/errors.h>
#include <object/arch_hooks.h>

/* inv_dest_slot reads a slot argument as an index word, then its depth. */
_Static_assert(FERRY_IOPORT_ISSUE_ARG_DEST_DEPTH == FERRY_IOPORT_ISSUE_ARG_DEST_INDEX + 1 &&
               FERRY_IRQ_GET_ARG_DEST_DEPTH == FERRY_IRQ_GET_ARG_DEST_INDEX + 1 &&
               FERRY_MAKE_POOL_ARG_DEST_DEPTH == FERRY_MAKE_POOL_ARG_DEST_INDEX + 1, "index, then depth");

word_t arch_decode_invocation(struct tcb *caller, struct cte *slot, struct invocation *inv,
                              struct cte **extra, unsigned nextra)
{
    switch (slot->cap.type) {
    case FERRY_OBJ_IO_PORT:
        return ioport_decode(caller, slot, inv, extra, nextra);
    case FERRY_OBJ_IRQ_CONTROL:
    case FERRY_OBJ_IRQ_HANDLER:
        return irq_decode(slot, inv, extra, nextra);
    case FERRY_OBJ_ASID_CONTROL:
    case FERRY_OBJ_ASID_POOL:
        return asid_decode(slot, inv, extra, nextra);
    case FERRY_OBJ_FRAME_4K:
    case FERRY_OBJ_FRAME_2M:
        return frame_decode(slot, inv, extra, nextra);
    case FERRY_OBJ_PT:
    case FERRY_OBJ_PD:
    case FERRY_OBJ_PDPT:
        return pagetable_decode(slot, inv, extra, nextra);
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
}

void arch_object_init(word_t type, paddr_t paddr, unsigned size_bits)
{
    (void)size_bits;
    if (type == FERRY_OBJ_VSPACE)
        vspace_created(paddr);
}

void arch_cap_delete(const struct cap *cap, bool final)
{
    struct cap c = *cap;
    switch (c.type) {
    /* Each frame capability maps its own place; a table's mapping belongs
     * to all its capabilities together (they are copies of the one that
     * mapped it) and goes with the last of them. */
    case FERRY_OBJ_FRAME_4K:
    case FERRY_OBJ_FRAME_2M:
        if (c.u.map.vspace)
            vspace_unmap_cap(&c);
        break;
    case FERRY_OBJ_PT:
    case FERRY_OBJ_PD:
    case FERRY_OBJ_PDPT:
        if (c.u.map.vspace && final)
            vspace_unmap_cap(&c);
        break;
    case FERRY_OBJ_VSPACE:
        if (final)
            vspace_deleted(c.paddr);
        break;
    case FERRY_OBJ_ASID_POOL:
        if (final)
            asid_pool_deleted(&c);
        break;
    case FERRY_OBJ_IRQ_HANDLER:
        if (final)
            irq_handler_deleted(&c);
        break;
    default:
        break;
    }
}

/* seL4's Arch_deriveCap: a frame copy starts unmapped and maps once on
 * its own; a table copy keeps the mapping record, and only a mapped
 * table may be copied.  So every capability to a table says where it is
 * linked, none of them can link it a second time (an alias whose TLB
 * entries a frame's unmap would not flush), and an unmapped table has
 * exactly one capability, the one that may map it. */
word_t arch_cap_derive(struct cap *cap)
{
    if (cap_is_frame(cap)) {
        cap->u.map.vspace = 0;
        cap->u.map.vaddr = 0;
    } else if (cap_is_table(cap) && !cap->u.map.vspace) {
        return FERRY_E_ILLEGAL_OP;
    }
    return FERRY_OK;
}
