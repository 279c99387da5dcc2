/* invocation.c: the architecture's invocations, by capability type. */
#include <arch/ioport.h>
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
        /* Interrupt delivery to user space needs notifications (IPC issue). */
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE);
    default:
        return vspace_decode(slot, inv, extra, nextra);
    }
}
