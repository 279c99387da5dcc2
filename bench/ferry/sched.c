/* sched.c: Yield between two threads of one address space: a round trip is
 * two thread switches through the scheduler. */
#include "ferry_bench.h"

#define PARTNER_STACK 0x31000000UL

static volatile unsigned long partner_rounds;

static void partner(void)
{
    for (;;) {
        partner_rounds++;
        sys_yield();
    }
}

static const char *yield_rt(struct bench_ctx *c)
{
    static unsigned long tcb;
    if (!tcb) {
        if (!table_ensure(PARTNER_STACK))
            return "no page table for the partner's stack";
        tcb = thread_start(partner, PARTNER_STACK, 255, false);
        if (!tcb)
            return "could not start the partner thread";
    }
    if (tcb_resume(tcb))
        return "could not resume the partner thread";
    unsigned long before = partner_rounds;
    BENCH_LOOP(c, sys_yield());
    tcb_suspend(tcb);
    /* Each of our yields must have let the partner run once. */
    if (partner_rounds - before < c->warmup + c->n - 1)
        return "the partner did not run between our yields";
    return NULL;
}

const struct bench_entry bench_sched[] = {
    { .name = "yield", .variant = "same", .fn = yield_rt,
      .description = "Yield to a thread of the same address space and back" },
};
const size_t bench_sched_n = sizeof bench_sched / sizeof bench_sched[0];
