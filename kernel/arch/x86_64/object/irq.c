/* irq.c: IRQ control and IRQ handler capabilities: ISA interrupts
 * delivered to user-space drivers as notification signals; a line stays
 * masked (ioapic.c) until its Ack. */
#include <arch/ioapic.h>
#include <arch/irq.h>
#include <core/invoke.h>
#include <core/ipc.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <object/cnode.h>
#include <object/notification.h>
#include <printk.h>

/* Per line: issued to user space, and the notification it signals (a
 * kernel-held copy, so deleting or revoking the user's capability is seen). */
static struct {
    bool issued;
    struct cte ntfn;
} lines[FERRY_IRQ_LINES];

bool irq_any_bound(void)
{
    for (unsigned i = 1; i < FERRY_IRQ_LINES; i++)
        if (!cap_is_null(&lines[i].ntfn.cap))
            return true;
    return false;
}

void irq_deliver(unsigned vec)
{
    unsigned line = vec - VEC_IRQ_BASE;
    if (!ioapic_present() || line == 0 || line >= FERRY_IRQ_LINES)
        return;
    ioapic_mask(line, true);               /* until the driver's Ack */
    struct cap *n = &lines[line].ntfn.cap;
    if (!cap_is_null(n))
        ipc_signal(cap_notification(n), n->u.ep.badge);
}

void irq_handler_deleted(const struct cap *cap)
{
    unsigned line = (unsigned)cap->paddr;
    if (line >= FERRY_IRQ_LINES || !lines[line].issued)
        return;
    if (ioapic_present())
        ioapic_mask(line, true);
    if (!cap_is_null(&lines[line].ntfn.cap))
        cte_delete(&lines[line].ntfn);
    lines[line].issued = false;
}

static word_t decode_get(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (inv->len < FERRY_IRQ_GET_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
    if (nextra < FERRY_IRQ_GET_CAP_ROOT + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_IRQ_GET_CAP_ROOT));
    if (!ioapic_present())
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE);
    word_t line = inv->mr[FERRY_IRQ_GET_ARG_LINE];
    if (line == 0 || line >= FERRY_IRQ_LINES)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_IRQ_GET_ARG_LINE);
    if (lines[line].issued)
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_IRQ_GET_ARG_LINE);
    struct cte *dst;
    word_t err = inv_dest_slot(inv, extra[FERRY_IRQ_GET_CAP_ROOT], FERRY_IRQ_GET_ARG_DEST_INDEX, &dst);
    if (err)
        return err;
    struct cap h = { .type = FERRY_OBJ_IRQ_HANDLER, .rights = FERRY_RIGHTS_ALL, .paddr = line };
    cte_insert(dst, &h, slot);
    lines[line].issued = true;
    inv->len = 0;
    return FERRY_OK;
}

static word_t decode_handler(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    unsigned line = (unsigned)slot->cap.paddr;
    if (line >= FERRY_IRQ_LINES || !lines[line].issued)
        return inv_fail(inv, FERRY_E_INVALID_CAP, FERRY_ERR_ARG_NONE);
    if (!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
    switch (inv->label) {
    case FERRY_IRQ_SET_NOTIFICATION: {
        if (nextra < FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN + 1)
            return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN));
        if (extra[FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN]->cap.type != FERRY_OBJ_NOTIFICATION)
            return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN));
        if (!cap_has_rights(&extra[FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN]->cap, FERRY_RIGHT_WRITE))
            return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN));
        if (!cap_is_null(&lines[line].ntfn.cap))
            cte_delete(&lines[line].ntfn);
        word_t err = cte_copy(extra[FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN], &lines[line].ntfn, FERRY_RIGHTS_ALL);
        if (err)
            return inv_fail(inv, err, FERRY_ERR_ARG_CAP(FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN));
        break;
    }
    case FERRY_IRQ_ACK:
        ioapic_mask(line, false);
        break;
    case FERRY_IRQ_CLEAR:
        ioapic_mask(line, true);
        if (!cap_is_null(&lines[line].ntfn.cap))
            cte_delete(&lines[line].ntfn);
        break;
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
    inv->len = 0;
    return FERRY_OK;
}

word_t irq_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (slot->cap.type == FERRY_OBJ_IRQ_CONTROL) {
        if (inv->label != FERRY_IRQ_CONTROL_GET)
            return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
        return decode_get(slot, inv, extra, nextra);
    }
    return decode_handler(slot, inv, extra, nextra);
}
