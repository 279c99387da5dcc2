/* invocation.c: the architecture's invocations, by capability type. */
#include <arch/asid.h>
#include <arch/ioport.h>
#include <arch/irq.h>
#include <arch/vspace.h>
#include <core/invoke.h>
#include <ferry/errors.h>
#include <object/arch_hooks.h>

word_t arch_decode_invocation(struct tcb *caller, struct cte *slot, struct invocation *inv,
                              struct cte **extra, unsigned nextra)
{
    (void)caller;
    switch (slot->cap.type) {
    case FERRY_OBJ_IO_PORT:
        return ioport_decode(slot, inv, extra, nextra);
    case FERRY_OBJ_IRQ_CONTROL:
    case FERRY_OBJ_IRQ_HANDLER:
        return irq_decode(slot, inv, extra, nextra);
    case FERRY_OBJ_ASID_CONTROL:
    case FERRY_OBJ_ASID_POOL:
        return asid_decode(slot, inv, extra, nextra);
    default:
        return vspace_decode(slot, inv, extra, nextra);
    }
}
