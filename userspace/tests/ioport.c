/* ioport.c: in-guest tests of I/O port capabilities. */
#include "utest.h"

static unsigned long port_in(unsigned long cap, unsigned long port, unsigned long width, unsigned long *v)
{
    struct inv_result r;
    unsigned long w[] = { port, width };
    unsigned long err = ferry_invoke(cap, FERRY_IOPORT_IN, 2, w, 0, NULL, &r);
    if (!err)
        *v = r.mr[0];
    return err;
}

static unsigned long port_out(unsigned long cap, unsigned long port, unsigned long width, unsigned long v)
{
    unsigned long w[] = { port, width, v };
    return ferry_invoke(cap, FERRY_IOPORT_OUT, 3, w, 0, NULL, NULL);
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
    /* The kernel keeps the PICs, every port of the debug-exit device
     * (it answers on 0xf4-0xf7) and its console, COM1. */
    CHECK(cap_for(0x21) == 0);
    for (unsigned long p = 0xf4; p <= 0xf7; p++)
        CHECK(cap_for(p) == 0);
    for (unsigned long p = 0x3f8; p <= 0x3ff; p++)
        CHECK(cap_for(p) == 0);
    unsigned long cap = cap_for(CMOS_INDEX), v;
    /* a sub-range: only the RTC's two ports */
    unsigned long sub = slot_alloc();
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    unsigned long w[] = { CMOS_INDEX, CMOS_DATA, sub, 64 };
    CHECK_OK(ferry_invoke(cap, FERRY_IOPORT_ISSUE, 4, w, 1, &root, NULL));
    CHECK_OK(port_in(sub, CMOS_DATA, 1, &v));
    CHECK_ERR(port_in(sub, CMOS_INDEX - 1, 1, &v), FERRY_E_RANGE);
    CHECK_ERR(port_in(sub, CMOS_DATA, 2, &v), FERRY_E_RANGE);       /* runs past the end */
    unsigned long w2[] = { CMOS_INDEX - 1, CMOS_DATA + 1, slot_alloc(), 64 };
    CHECK_ERR(ferry_invoke(sub, FERRY_IOPORT_ISSUE, 4, w2, 1, &root, NULL), FERRY_E_RANGE);
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
    { ioport_scratch_register, "ioport_scratch_register" },
    { ioport_ranges_enforced, "ioport_ranges_enforced" },
    { raw_port_access_faults, "raw_port_access_faults" },
};
const size_t utests_ioport_n = sizeof utests_ioport / sizeof utests_ioport[0];
