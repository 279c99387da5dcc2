/* ioport.c: in-guest tests of I/O port capabilities. */
#include "utest.h"

static unsigned long port_in(unsigned long cap, unsigned long port, unsigned long width, unsigned long *v)
{
    return ferry_ioport_in(cap, port, width, v);
}

static unsigned long port_out(unsigned long cap, unsigned long port, unsigned long width, unsigned long v)
{
    return ferry_ioport_out(cap, port, width, v);
}

static unsigned long cap_for(unsigned long port)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    for (unsigned long s = bi->ioports.start; s < bi->ioports.end; s++) {
        unsigned long v;
        if (port_in(s, port, 1, &v) == FERRY_OK)
            return s;
    }
    return 0;
}

/* The CMOS RAM behind the RTC (index 0x70, data 0x71): one of its
 * general-purpose bytes serves as a scratch register. */
#define CMOS_INDEX   0x70
#define CMOS_DATA    0x71
#define CMOS_SCRATCH 0x6f

static bool ioport_scratch_register(void)
{
    unsigned long cap = cap_for(CMOS_DATA), v = 0, saved;
    CHECK(cap != 0);
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_in(cap, CMOS_DATA, 1, &saved));
    CHECK_OK(port_out(cap, CMOS_DATA, 1, 0x5a));
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_in(cap, CMOS_DATA, 1, &v));
    CHECK(v == 0x5a);
    CHECK_OK(port_out(cap, CMOS_DATA, 1, 0xa5));
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_in(cap, CMOS_DATA, 1, &v));
    CHECK(v == 0xa5);
    CHECK_OK(port_out(cap, CMOS_DATA, 1, saved));
    CHECK_ERR(port_in(cap, CMOS_DATA, 3, &v), FERRY_E_INVALID_ARG);
    return true;
}

static bool ioport_ranges_enforced(void)
{
    /* The kernel keeps the PICs and every port of the debug-exit device
     * (it answers on 0xf4-0xf7); COM1 is a range of its own (the serial
     * driver's, shared with the kernel console: docs/serial.md). */
    CHECK(cap_for(0x21) == 0);
    for (unsigned long p = 0xf4; p <= 0xf7; p++)
        CHECK(cap_for(p) == 0);
    CHECK(cap_for(0x3fd) != 0 && cap_for(0x3fd) == cap_for(0x3ff));   /* LSR, scratch: no side effects */
    CHECK(cap_for(0x3f7) != cap_for(0x3fd) && cap_for(0x400) != cap_for(0x3ff));
    unsigned long cap = cap_for(CMOS_INDEX), v;
    /* a sub-range: only the RTC's two ports */
    unsigned long sub = slot_alloc();
    CHECK_OK(ferry_ioport_issue(cap, CMOS_INDEX, CMOS_DATA, sub));
    CHECK_OK(port_in(sub, CMOS_DATA, 1, &v));
    CHECK_ERR(port_in(sub, CMOS_INDEX - 1, 1, &v), FERRY_E_RANGE);
    CHECK_ERR(port_in(sub, CMOS_DATA, 2, &v), FERRY_E_RANGE);       /* runs past the end */
    CHECK_ERR(ferry_ioport_issue(sub, CMOS_INDEX - 1, CMOS_DATA + 1, slot_alloc()), FERRY_E_RANGE);
    /* revoking the parent removes the issued range */
    CHECK_OK(ferry_cnode_revoke(cap));
    CHECK_ERR(port_in(sub, CMOS_DATA, 1, &v), FERRY_E_INVALID_CAP);
    return true;
}

static volatile unsigned long io_child_step;

static void child_raw_io(void)
{
    io_child_step = 1;
    __asm__ __volatile__("inb $0x61, %%al" : : : "rax");   /* no I/O privilege in ring 3 */
    io_child_step = 2;
    for (;;)
        sys_yield();
}

static bool raw_port_access_faults(void)
{
    CHECK(table_ensure(0x32000000));
    io_child_step = 0;
    unsigned long t = thread_start(child_raw_io, 0x32000000, 255, true);
    CHECK(t != 0);
    for (int i = 0; i < 5; i++)
        sys_yield();
    CHECK(io_child_step == 1);
    return true;
}

const struct utest utests_ioport[] = {
    UTEST(ioport_scratch_register),
    UTEST(ioport_ranges_enforced),
    UTEST(raw_port_access_faults),
};
const size_t utests_ioport_n = sizeof utests_ioport / sizeof utests_ioport[0];
