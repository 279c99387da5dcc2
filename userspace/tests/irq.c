/* irq.c: in-guest tests of device interrupts: the RTC's periodic
 * interrupt (ISA line 8) delivered to a notification, and the lines the
 * kernel keeps. */
#include "utest.h"
#include <ferry/ipc.h>

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_REG_B  0x0b
#define RTC_REG_C  0x0c
#define RTC_PIE    0x40          /* register B: periodic interrupt enable */
#define LINE 8

static unsigned long rtc_cap(void)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    for (unsigned long s = bi->ioports.start; s < bi->ioports.end; s++) {
        if (ferry_ioport_in(s, CMOS_DATA, 1, NULL) == FERRY_OK)
            return s;
    }
    return 0;
}

static unsigned long out8(unsigned long cap, unsigned long port, unsigned long v)
{
    return ferry_ioport_out(cap, port, 1, v);
}

static unsigned long cmos_read(unsigned long cap, unsigned long reg, unsigned long *v)
{
    unsigned long err = out8(cap, CMOS_INDEX, reg);
    if (!err)
        err = ferry_ioport_in(cap, CMOS_DATA, 1, v);
    return err;
}

static unsigned long cmos_write(unsigned long cap, unsigned long reg, unsigned long v)
{
    unsigned long err = out8(cap, CMOS_INDEX, reg);
    return err ? err : out8(cap, CMOS_DATA, v);
}

static unsigned long irq_get(unsigned long line, unsigned long slot)
{
    return ferry_irq_get(FERRY_CAP_IRQ_CONTROL, line, slot);
}

static bool irq_rtc_interrupt_signals(void)
{
    unsigned long io = rtc_cap(), h = slot_alloc(), bits = 0, regb, junk;
    CHECK(io != 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long badged = slot_alloc();
    CHECK_OK(ferry_cnode_mint(badged, ntfn, FERRY_RIGHTS_ALL, 1UL << LINE));
    CHECK_OK(irq_get(LINE, h));
    CHECK_ERR(irq_get(LINE, slot_alloc()), FERRY_E_ILLEGAL_OP);     /* one handler per line */
    CHECK_ERR(irq_get(0, slot_alloc()), FERRY_E_RANGE);             /* the kernel's */
    unsigned long com1 = slot_alloc();                              /* COM1: the serial driver's line */
    CHECK_OK(irq_get(4, com1));
    CHECK_ERR(irq_get(4, slot_alloc()), FERRY_E_ILLEGAL_OP);
    CHECK_OK(ferry_cnode_delete(com1));                             /* free for the driver again */
    CHECK_ERR(irq_get(16, slot_alloc()), FERRY_E_RANGE);
    CHECK_ERR(ferry_irq_set_notification(h, io), FERRY_E_WRONG_TYPE);
    CHECK_OK(ferry_irq_set_notification(h, badged));
    CHECK_OK(ferry_irq_ack(h));
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0);                                               /* nothing yet */
    /* The RTC's periodic interrupt (1024 Hz by default): enable it, and
     * read register C, which re-arms it. */
    CHECK_OK(cmos_read(io, RTC_REG_B, &regb));
    CHECK_OK(cmos_write(io, RTC_REG_B, regb | RTC_PIE));
    CHECK_OK(cmos_read(io, RTC_REG_C, &junk));
    for (int i = 0; i < 200000 && bits == 0; i++) {   /* a 1024 Hz tick: polls for a few ms at least */
        CHECK_OK(ntfn_poll(ntfn, &bits));
        if (!bits)
            sys_yield();
    }
    CHECK_OK(cmos_write(io, RTC_REG_B, regb & ~RTC_PIE));
    CHECK_OK(cmos_read(io, RTC_REG_C, &junk));
    CHECK(bits == 1UL << LINE);
    /* the line stays masked until Ack; deleting the handler frees the line */
    CHECK_OK(ferry_cnode_delete(h));
    CHECK_OK(irq_get(LINE, h));
    CHECK_OK(ferry_cnode_delete(h));
    return true;
}

const struct utest utests_irq[] = {
    UTEST(irq_rtc_interrupt_signals),
};
const size_t utests_irq_n = sizeof utests_irq / sizeof utests_irq[0];
