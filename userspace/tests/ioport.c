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

static bool ioport_scratch_register(void)
{
    /* COM1's scratch register (0x3ff) holds whatever was written to it. */
    unsigned long cap = cap_for(0x3ff), v = 0;
    CHECK(cap != 0);
    CHECK_OK(port_out(cap, 0x3ff, 1, 0x5a));
    CHECK_OK(port_in(cap, 0x3ff, 1, &v));
    CHECK(v == 0x5a);
    CHECK_OK(port_out(cap, 0x3ff, 1, 0xa5));
    CHECK_OK(port_in(cap, 0x3ff, 1, &v));
    CHECK(v == 0xa5);
    CHECK_ERR(port_in(cap, 0x3ff, 3, &v), FERRY_E_INVALID_ARG);
    return true;
}

static bool ioport_ranges_enforced(void)
{
    /* The kernel keeps the PICs and the debug-exit port. */
    CHECK(cap_for(0x21) == 0);
    CHECK(cap_for(0xf4) == 0);
    unsigned long cap = cap_for(0x3f8), v;
    /* a sub-range: only COM1's eight ports */
    unsigned long sub = slot_alloc();
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    unsigned long w[] = { 0x3f8, 0x3ff, sub, 64 };
    CHECK_OK(ferry_invoke(cap, FERRY_IOPORT_ISSUE, 4, w, 1, &root, NULL));
    CHECK_OK(port_in(sub, 0x3ff, 1, &v));
    CHECK_ERR(port_in(sub, 0x3f7, 1, &v), FERRY_E_RANGE);
    CHECK_ERR(port_in(sub, 0x3fe, 4, &v), FERRY_E_RANGE);       /* runs past the end */
    unsigned long w2[] = { 0x3f0, 0x400, slot_alloc(), 64 };
    CHECK_ERR(ferry_invoke(sub, FERRY_IOPORT_ISSUE, 4, w2, 1, &root, NULL), FERRY_E_RANGE);
    /* revoking the parent removes the issued range */
    CHECK_OK(cnode_revoke(cap));
    CHECK_ERR(port_in(sub, 0x3ff, 1, &v), FERRY_E_INVALID_CAP);
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
