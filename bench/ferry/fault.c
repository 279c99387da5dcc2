/* fault.c: the fault-delivery round trip: a thread faults, the kernel sends
 * the fault to its handler as IPC, the handler replies, the thread resumes
 * (and, re-executing its ud2, faults again). */
#include "ferry_bench.h"
#include <ferry/ipc.h>

#define FAULTER_STACK 0x35000000UL

static void faulter(void)
{
    for (;;)
        __asm__ __volatile__("ud2");
}

static const char *fault_rt(struct bench_ctx *c)
{
    static unsigned long ep, tcb;
    if (!tcb) {
        ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
        if (!ep || !table_ensure(FAULTER_STACK))
            return "no endpoint or page table for the faulting thread";
        tcb = thread_start(faulter, FAULTER_STACK, 255, false);
        if (!tcb || ferry_tcb_configure(tcb, FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                                   FERRY_ROOT_IPC_BUFFER, ep))
            return "could not give the faulting thread its fault endpoint";
    }
    struct sys_msg m = { 0 };
    if (ferry_tcb_resume(tcb) || ipc_recv(ep, &m))
        return "the first fault did not arrive";
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        m.info = FERRY_MSGINFO(0, 0, 0);
        uint64_t t0 = tsc_begin();
        unsigned long e = ipc_reply_recv(ep, &m);
        uint64_t t1 = tsc_end();
        if (e || FERRY_MSGINFO_LABEL(m.info) != FERRY_FAULT_EXCEPTION || m.w[FERRY_FAULT_MR_VECTOR] != 6 ||
            m.w[FERRY_FAULT_MR_IP] < (unsigned long)faulter || m.w[FERRY_FAULT_MR_IP] > (unsigned long)faulter + 16)
            return "the handler did not get the invalid-opcode fault of the faulting thread";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    ferry_tcb_suspend(tcb);
    return NULL;
}

const struct bench_entry bench_fault[] = {
    { .name = "fault_rt", .fn = fault_rt,
      .description = "fault -> IPC to the handler -> reply -> resume -> fault again" },
};
const size_t bench_fault_n = sizeof bench_fault / sizeof bench_fault[0];
