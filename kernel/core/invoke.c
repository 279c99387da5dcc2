/* invoke.c: dispatch of an invocation to its object's decoder, by the type of the invoked capability. */
#include <core/invoke.h>
#include <core/cspace.h>
#include <object/cnode.h>
#include <object/untyped.h>
#include <object/tcb.h>
#include <object/arch_hooks.h>
#include <ferry/errors.h>

typedef word_t decode_fn(struct tcb *caller, struct cte *slot, struct invocation *inv,
                         struct cte **extra, unsigned nextra);

static decode_fn *const decoders[FERRY_OBJ_COUNT] = {
    [FERRY_OBJ_UNTYPED]     = untyped_decode,
    [FERRY_OBJ_CNODE]       = cnode_decode,
    [FERRY_OBJ_TCB]         = tcb_decode,
    [FERRY_OBJ_FRAME_4K]    = arch_decode_invocation,
    [FERRY_OBJ_FRAME_2M]    = arch_decode_invocation,
    [FERRY_OBJ_PT]          = arch_decode_invocation,
    [FERRY_OBJ_PD]          = arch_decode_invocation,
    [FERRY_OBJ_PDPT]        = arch_decode_invocation,
    [FERRY_OBJ_VSPACE]      = arch_decode_invocation,
    [FERRY_OBJ_IRQ_CONTROL] = arch_decode_invocation,
    [FERRY_OBJ_IRQ_HANDLER] = arch_decode_invocation,
    [FERRY_OBJ_IO_PORT]     = arch_decode_invocation,
    [FERRY_OBJ_ASID_CONTROL] = arch_decode_invocation,
    [FERRY_OBJ_ASID_POOL]   = arch_decode_invocation,
};

word_t invoke(struct tcb *caller, struct invocation *inv)
{
    const struct cap *root = &caller->slots[TCB_SLOT_CSPACE].cap;
    struct cte *slot, *extra[FERRY_MAX_EXTRA_CAPS];
    unsigned left = 0;
    word_t err;

    inv->err_arg = FERRY_ERR_ARG_NONE;
    inv->err_bits_left = 0;
    inv->target = NULL;

    err = cspace_lookup_cap(root, inv->cptr, &slot, &left);
    if (err) {
        inv->err_bits_left = left;
        return err;
    }
    inv->target = slot;

    /* IPC carries its own capability transfer: hand over before touching
     * the extra caps. */
    if (slot->cap.type == FERRY_OBJ_ENDPOINT || slot->cap.type == FERRY_OBJ_NOTIFICATION)
        return INVOKE_IPC;

    if (inv->len > FERRY_MSG_MAX_WORDS)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_ERR_ARG_NONE);
    if (inv->extra_caps > FERRY_MAX_EXTRA_CAPS)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_ERR_ARG_CAP(FERRY_MAX_EXTRA_CAPS));
    for (unsigned i = 0; i < inv->extra_caps; i++) {
        err = cspace_lookup_cap(root, inv->caps[i], &extra[i], &left);
        if (err) {
            inv->err_bits_left = left;
            return inv_fail(inv, err, FERRY_ERR_ARG_CAP(i));
        }
    }

    decode_fn *fn = slot->cap.type < FERRY_OBJ_COUNT ? decoders[slot->cap.type] : NULL;
    if (!fn)
        return FERRY_E_INVALID_CAP;
    return fn(caller, slot, inv, extra, (unsigned)inv->extra_caps);
}

word_t inv_dest_slot(struct invocation *inv, const struct cte *root, word_t argi, struct cte **dst)
{
    if (root->cap.type != FERRY_OBJ_CNODE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(0));
    if (!cap_has_rights(&root->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(0));
    unsigned left;
    word_t err = cspace_lookup_slot(&root->cap, inv->mr[argi], inv->mr[argi + 1], dst, &left);
    if (err) {
        inv->err_bits_left = left;
        return inv_fail(inv, err, argi);
    }
    if (!cap_is_null(&(*dst)->cap))
        return inv_fail(inv, FERRY_E_SLOT_OCCUPIED, argi);
    return FERRY_OK;
}
