/* irq.c: in-guest tests of device interrupts: COM1's transmitter-empty
 * interrupt (ISA line 4) delivered to a notification. */
#include "utest.h"
#include <ferry/ipc.h>

#define COM1 0x3f8
#define IER (COM1 + 1)
#define MCR (COM1 + 4)
#define LINE 4

static unsigned long com1_cap(void)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    for (unsigned long s = bi->ioports.start; s < bi->ioports.end; s++) {
        unsigned long w[] = { MCR, 1 };
        struct inv_result r;
        if (ferry_invoke(s, FERRY_IOPORT_IN, 2, w, 0, NULL, &r) == FERRY_OK)
            return s;
    }
    return 0;
}

static unsigned long out8(unsigned long cap, unsigned long port, unsigned long v)
{
    unsigned long w[] = { port, 1, v };
    return ferry_invoke(cap, FERRY_IOPORT_OUT, 3, w, 0, NULL, NULL);
}

static unsigned long irq_get(unsigned long line, unsigned long slot)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    unsigned long w[] = { line, slot, 64 };
    return ferry_invoke(FERRY_CAP_IRQ_CONTROL, FERRY_IRQ_CONTROL_GET, 3, w, 1, &root, NULL);
}

static bool irq_serial_interrupt_signals(void)
{
    unsigned long io = com1_cap(), h = slot_alloc(), bits = 0;
    CHECK(io != 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long badged = slot_alloc();
    CHECK_OK(cnode_mint(badged, ntfn, FERRY_RIGHTS_ALL, 1UL << LINE));
    CHECK_OK(irq_get(LINE, h));
    CHECK_ERR(irq_get(LINE, slot_alloc()), FERRY_E_ILLEGAL_OP);     /* one handler per line */
    CHECK_ERR(irq_get(0, slot_alloc()), FERRY_E_RANGE);             /* the kernel's */
    CHECK_ERR(irq_get(16, slot_alloc()), FERRY_E_RANGE);
    CHECK_ERR(ferry_invoke(h, FERRY_IRQ_SET_NOTIFICATION, 0, NULL, 1, &io, NULL), FERRY_E_WRONG_TYPE);
    CHECK_OK(ferry_invoke(h, FERRY_IRQ_SET_NOTIFICATION, 0, NULL, 1, &badged, NULL));
    CHECK_OK(ferry_invoke(h, FERRY_IRQ_ACK, 0, NULL, 0, NULL, NULL));
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0);                                               /* nothing yet */
    /* Let the UART interrupt when its transmitter is empty (it is): OUT2
     * gates its interrupt line on PCs. */
    CHECK_OK(out8(io, MCR, 0x0b));
    CHECK_OK(out8(io, IER, 0x02));
    for (int i = 0; i < 1000 && bits == 0; i++) {
        CHECK_OK(ntfn_poll(ntfn, &bits));
        if (!bits)
            sys_yield();
    }
    CHECK_OK(out8(io, IER, 0x00));
    CHECK_OK(out8(io, MCR, 0x03));
    CHECK(bits == 1UL << LINE);
    /* the line stays masked until Ack; deleting the handler frees the line */
    CHECK_OK(cnode_delete(h));
    CHECK_OK(irq_get(LINE, h));
    CHECK_OK(cnode_delete(h));
    return true;
}

const struct utest utests_irq[] = {
    { irq_serial_interrupt_signals, "irq_serial_interrupt_signals" },
};
const size_t utests_irq_n = sizeof utests_irq / sizeof utests_irq[0];
