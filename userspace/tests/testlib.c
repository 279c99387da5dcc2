/* testlib.c: helpers shared by the in-guest test files: threads of the
 * root task's address space with their own stack and IPC buffer, and the
 * fast path's fall-back counters. */
#include "utest.h"

#define TESTLIB_AREA 0x3c000000UL        /* stacks and IPC buffers of testlib threads */

static unsigned long next_va = TESTLIB_AREA;

unsigned long test_page(void)
{
    unsigned long va = next_va;
    next_va += 0x2000;
    return table_ensure(va) ? va : 0;
}

unsigned long test_thread(void (*fn)(void), unsigned long cspace, unsigned prio, unsigned long fault_ep,
                          bool resume)
{
    unsigned long va = test_page();
    return va ? thread_create_at(fn, va, cspace, prio, fault_ep, resume) : 0;
}

struct ferry_ipc_buffer *test_own_buf(void)
{
    unsigned long sp;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp));
    return (struct ferry_ipc_buffer *)((sp & ~0xfffUL) + 0x1000);
}

bool test_fastpath_misses(unsigned long *total)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    if (!bi->fastpath || !bi->benchmark)
        return false;
    struct sys_msg m = { 0 };
    if (sys_raw(FERRY_SYS_FASTPATH_STATS, FERRY_CAP_DEBUG, &m) != FERRY_OK)
        return false;
    unsigned long sum = 0;
    for (unsigned i = 0; i < FERRY_FP_COUNT && i < m.w[0]; i++)
        sum += ulib_ipc->mr[i];
    *total = sum;
    return true;
}
