/* sched.c: Yield between two threads (of one address space, or two): a
 * round trip is two thread switches through the scheduler; the fpu
 * variant has both threads use an SSE register between switches, so each
 * switch moves FPU state (lazy switching's worst case: a #NM trap each). */
#include "ferry_bench.h"
#include <ferry/process.h>

#define PARTNER_STACK 0x31000000UL

enum yield_kind { SAME, CROSS, SAME_FPU };

static volatile unsigned long partner_rounds;

static void partner(void)
{
    for (;;) {
        partner_rounds++;
        sys_yield();
    }
}

static inline void touch_sse(unsigned long v)
{
    __asm__ __volatile__("movq %0, %%xmm5" : : "r"(v) : "xmm5");
}

static void partner_fpu(void)
{
    for (;;) {
        partner_rounds++;
        touch_sse(partner_rounds);
        sys_yield();
    }
}

/* The partner thread: same address space, or a second one running the
 * same image (the counter is shared memory in both). */
static unsigned long partner_tcb(enum yield_kind k)
{
    static unsigned long tcbs[3];
    if (tcbs[k] || !table_ensure(PARTNER_STACK))
        return tcbs[k];
    if (k == SAME) {
        tcbs[k] = thread_start(partner, PARTNER_STACK, 255, false);
    } else if (k == SAME_FPU) {
        tcbs[k] = thread_start(partner_fpu, PARTNER_STACK + 0x2000, 255, false);
    } else {
        struct process p;
        if (process_create(&p, partner, PARTNER_STACK + 0x1000, 255, false) == FERRY_OK)
            tcbs[k] = p.tcb;
    }
    return tcbs[k];
}

static const char *yield_rt(struct bench_ctx *c)
{
    enum yield_kind k = (enum yield_kind)(unsigned long)c->entry->arg;
    unsigned long tcb = partner_tcb(k);
    if (!tcb)
        return "could not start the partner thread";
    if (ferry_tcb_resume(tcb))
        return "could not resume the partner thread";
    unsigned long before = partner_rounds;
    if (k == SAME_FPU) {
        BENCH_LOOP(c, { touch_sse(c->n); sys_yield(); });
    } else {
        BENCH_LOOP(c, sys_yield());
    }
    ferry_tcb_suspend(tcb);
    /* Each of our yields lets the partner run once, except where the timer
     * preempted it between its count and its own yield (then our next
     * yield only finishes its turn).  A yield that switched to nobody
     * would leave the count near zero; preemption cannot halve it. */
    if (partner_rounds - before < (c->warmup + c->n) / 2)
        return "the partner did not run between our yields";
    return NULL;
}

const struct bench_entry bench_sched[] = {
    { .name = "yield", .variant = "same", .fn = yield_rt, .arg = (void *)SAME,
      .description = "Yield to a thread of the same address space and back" },
    { .name = "yield", .variant = "cross", .fn = yield_rt, .arg = (void *)CROSS,
      .description = "Yield to a thread of another address space and back (two VSpace switches)" },
    { .name = "yield", .variant = "fpu", .fn = yield_rt, .arg = (void *)SAME_FPU,
      .description = "as same, both threads writing an SSE register each round: every switch moves FPU state" },
};
const size_t bench_sched_n = sizeof bench_sched / sizeof bench_sched[0];
