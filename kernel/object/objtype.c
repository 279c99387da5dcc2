/* objtype.c: per-type object sizes, creation of the first capability, and destruction of leaf objects. */
#include <object/objtype.h>
#include <object/tcb.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/arch_hooks.h>

unsigned object_size_bits(word_t type, word_t user_bits)
{
    switch (type) {
    case FERRY_OBJ_UNTYPED:
        if (user_bits < FERRY_UNTYPED_MIN_BITS || user_bits > FERRY_UNTYPED_MAX_BITS)
            return 0;
        return (unsigned)user_bits;
    case FERRY_OBJ_CNODE:
        if (user_bits < FERRY_CNODE_MIN_RADIX || user_bits > FERRY_CNODE_MAX_RADIX)
            return 0;
        return (unsigned)user_bits + FERRY_CTE_BITS;
    case FERRY_OBJ_TCB:          return FERRY_TCB_BITS;
    case FERRY_OBJ_ENDPOINT:     return FERRY_ENDPOINT_BITS;
    case FERRY_OBJ_NOTIFICATION: return FERRY_NOTIFICATION_BITS;
    case FERRY_OBJ_FRAME_4K:     return FERRY_FRAME_4K_BITS;
    case FERRY_OBJ_FRAME_2M:     return FERRY_FRAME_2M_BITS;
    case FERRY_OBJ_PT:
    case FERRY_OBJ_PD:
    case FERRY_OBJ_PDPT:
    case FERRY_OBJ_VSPACE:       return FERRY_PAGE_TABLE_BITS;
    default:                     return 0;
    }
}

struct cap object_create(word_t type, paddr_t paddr, unsigned user_bits, bool device)
{
    struct cap c = {
        .type = (uint8_t)type,
        .rights = FERRY_RIGHTS_ALL,
        .paddr = paddr,
    };
    switch (type) {
    case FERRY_OBJ_UNTYPED:
        c.size_bits = (uint8_t)user_bits;
        c.flags = device ? CAP_FLAG_DEVICE : 0;
        break;
    case FERRY_OBJ_CNODE:
        c.size_bits = (uint8_t)user_bits;   /* radix; no guard until minted */
        cap_cnode_set_fp(&c);
        break;
    case FERRY_OBJ_TCB:
        tcb_init(cap_tcb(&c));
        break;
    case FERRY_OBJ_ENDPOINT:
    case FERRY_OBJ_NOTIFICATION:
        break;  /* all-zero is the idle, empty object */
    default:
        c.size_bits = (uint8_t)object_size_bits(type, user_bits);
        c.flags = device ? CAP_FLAG_DEVICE : 0;
        arch_object_init(type, paddr, c.size_bits);
        break;
    }
    return c;
}

void object_destroy(const struct cap *cap)
{
    switch (cap->type) {
    case FERRY_OBJ_ENDPOINT:
        endpoint_destroy(cap_endpoint(cap));
        break;
    case FERRY_OBJ_NOTIFICATION:
        notification_destroy(cap_notification(cap));
        break;
    default:
        /* Untyped: nothing to do.  Arch types: arch_cap_delete(final) was
         * called when the slot was cleared.  CNode/TCB: see cnode.c. */
        break;
    }
}
