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

/* String I/O through the IPC buffer, on the CMOS RAM: the index port keeps
 * the last byte written to it, the data port reads the indexed byte again
 * and again.  Then every refusal, each leaving the buffer untouched. */
static bool ioport_string(void)
{
    unsigned long cap = cap_for(CMOS_DATA), saved, v;
    CHECK(cap != 0);
    struct ferry_ipc_buffer *b = ulib_ipc;
    unsigned char *bytes = (unsigned char *)&b->mr[8];
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_in(cap, CMOS_DATA, 1, &saved));
    bytes[0] = CMOS_SCRATCH;
    CHECK_OK(ferry_ioport_out_string(cap, CMOS_INDEX, 1, 1, 8));
    b->mr[9] = 0x3c2211;                               /* bytes 0x11, 0x22, 0x3c: the last one stays */
    CHECK_OK(ferry_ioport_out_string(cap, CMOS_DATA, 1, 3, 9));
    b->mr[10] = b->mr[11] = ~0UL;
    CHECK_OK(ferry_ioport_in_string(cap, CMOS_DATA, 1, 8, 10));
    CHECK(b->mr[10] == 0x3c3c3c3c3c3c3c3cUL);
    CHECK(b->mr[11] == ~0UL);                          /* not a byte past the count */
    CHECK_OK(ferry_ioport_in_string(cap, CMOS_DATA, 2, 2, 11));
    /* QEMU's RTC answers 16-bit reads with 0: two bytes written, no more */
    CHECK((b->mr[11] & 0xffff) != 0xffff && b->mr[11] >> 16 == 0xffffffffffffUL);
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_in(cap, CMOS_DATA, 1, &v));
    CHECK(v == 0x3c);
    /* the last words of mr[] are reachable, not one byte more */
    CHECK_OK(ferry_ioport_in_string(cap, CMOS_DATA, 1, 8, FERRY_MSG_MAX_WORDS - 1));
    CHECK(b->mr[FERRY_MSG_MAX_WORDS - 1] == 0x3c3c3c3c3c3c3c3cUL);
    CHECK_OK(ferry_ioport_in_string(cap, CMOS_DATA, 1, FERRY_IOPORT_STRING_MAX,
                                    FERRY_MSG_MAX_WORDS - FERRY_IOPORT_STRING_MAX / 8));

    /* refusals: the buffer keeps its sentinel */
    for (int i = 8; i < FERRY_MSG_MAX_WORDS; i++)
        b->mr[i] = 0x5555555555555555UL;
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, 9, FERRY_MSG_MAX_WORDS - 1), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, 1, FERRY_MSG_MAX_WORDS), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, 8, ~0UL / 8 + 1), FERRY_E_RANGE);   /* word * 8 wraps to 0 */
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, 8, ~0UL), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_out_string(cap, CMOS_DATA, 1, 16, FERRY_MSG_MAX_WORDS - 1), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 3, 3, 8), FERRY_E_INVALID_ARG);         /* width */
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 0, 0, 8), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, 0, 8), FERRY_E_INVALID_ARG);         /* count */
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 2, 3, 8), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 1, FERRY_IOPORT_STRING_MAX + 1, 8), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_ioport_in_string(cap, CMOS_DATA, 4, ~0UL & ~3UL, 8), FERRY_E_INVALID_ARG);
    /* ports: a sub-range of the RTC's two, a width running past it, beyond 16 bits */
    unsigned long sub = slot_alloc(), ro = slot_alloc(), wo = slot_alloc();
    CHECK_OK(ferry_ioport_issue(cap, CMOS_INDEX, CMOS_DATA, sub));
    CHECK_ERR(ferry_ioport_in_string(sub, CMOS_DATA, 2, 2, 8), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_in_string(sub, CMOS_INDEX - 1, 1, 1, 8), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_out_string(sub, CMOS_DATA + 1, 1, 1, 8), FERRY_E_RANGE);
    CHECK_ERR(ferry_ioport_in_string(sub, 0x10000 + CMOS_DATA, 1, 1, 8), FERRY_E_RANGE);
    /* rights: READ for In, WRITE for Out */
    CHECK_OK(ferry_cnode_copy(ro, sub, FERRY_RIGHT_READ));
    CHECK_OK(ferry_cnode_copy(wo, sub, FERRY_RIGHT_WRITE));
    CHECK_ERR(ferry_ioport_out_string(ro, CMOS_DATA, 1, 1, 8), FERRY_E_RIGHTS);
    CHECK_ERR(ferry_ioport_in_string(wo, CMOS_DATA, 1, 1, 8), FERRY_E_RIGHTS);
    /* too few arguments; an empty slot; a capability of another type */
    const unsigned long w[3] = { CMOS_DATA, 1, 8 };
    CHECK_ERR(ferry_invoke(sub, FERRY_IOPORT_IN_STRING, 3, w, 0, NULL, NULL), FERRY_E_TRUNCATED);
    CHECK(ferry_ioport_in_string(slot_alloc(), CMOS_DATA, 1, 8, 8) != FERRY_OK);
    CHECK(ferry_ioport_in_string(FERRY_CAP_IPC_BUFFER, CMOS_DATA, 1, 8, 8) != FERRY_OK);
    for (int i = 8; i < FERRY_MSG_MAX_WORDS; i++)
        CHECK(b->mr[i] == 0x5555555555555555UL);
    CHECK_OK(ferry_ioport_in_string(ro, CMOS_DATA, 1, 1, 8));
    CHECK((b->mr[8] & 0xff) == 0x3c && b->mr[8] >> 8 == 0x55555555555555UL);
    /* revoked: gone */
    CHECK_OK(ferry_cnode_revoke(cap));
    CHECK_ERR(ferry_ioport_in_string(ro, CMOS_DATA, 1, 1, 8), FERRY_E_INVALID_CAP);
    CHECK_OK(port_out(cap, CMOS_INDEX, 1, CMOS_SCRATCH));
    CHECK_OK(port_out(cap, CMOS_DATA, 1, saved));
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
    UTEST(ioport_string),
    UTEST(raw_port_access_faults),
};
const size_t utests_ioport_n = sizeof utests_ioport / sizeof utests_ioport[0];
