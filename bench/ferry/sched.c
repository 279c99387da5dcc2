/* sched.c: Yield between two threads of one address space: a round trip is
 * two thread switches through the scheduler. */
#include "ferry_bench.h"
#include <ferry/process.h>

#define PARTNER_STACK 0x31000000UL

static volatile unsigned long partner_rounds;

static void partner(void)
{
    for (;;) {
        partner_rounds++;
        sys_yield();
    }
}

/* The partner thread: same address space, or a second one running the
 * same image (the counter is shared memory in both). */
static unsigned long partner_tcb(bool cross)
{
    static unsigned long same, other;
    if (!cross && !same && table_ensure(PARTNER_STACK))
        same = thread_start(partner, PARTNER_STACK, 255, false);
    if (cross && !other) {
        struct process p;
        if (process_create(&p, partner, PARTNER_STACK + 0x1000, 255, false) == FERRY_OK)
            other = p.tcb;
    }
    return cross ? other : same;
}

static const char *yield_rt(struct bench_ctx *c)
{
    unsigned long tcb = partner_tcb(c->entry->arg != NULL);
    if (!tcb)
        return "could not start the partner thread";
    if (tcb_resume(tcb))
        return "could not resume the partner thread";
    unsigned long before = partner_rounds;
    BENCH_LOOP(c, sys_yield());
    tcb_suspend(tcb);
    /* Each of our yields lets the partner run once, except where the timer
     * preempted it between its count and its own yield (then our next
     * yield only finishes its turn).  A yield that switched to nobody
     * would leave the count near zero; preemption cannot halve it. */
    if (partner_rounds - before < (c->warmup + c->n) / 2)
        return "the partner did not run between our yields";
    return NULL;
}

const struct bench_entry bench_sched[] = {
    { .name = "yield", .variant = "same", .fn = yield_rt, .arg = NULL,
      .description = "Yield to a thread of the same address space and back" },
    { .name = "yield", .variant = "cross", .fn = yield_rt, .arg = (void *)1,
      .description = "Yield to a thread of another address space and back (two VSpace switches)" },
};
const size_t bench_sched_n = sizeof bench_sched / sizeof bench_sched[0];
