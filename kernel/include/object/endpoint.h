/* endpoint.h: synchronous IPC endpoints: the object and its queue of waiting threads (IPC itself is in core/ipc). */
#ifndef FERRY_OBJECT_ENDPOINT_H
#define FERRY_OBJECT_ENDPOINT_H

#include <object/tcb.h>

/* All threads in the queue wait for the same thing, so one state says
 * which: senders (EP_SEND) or receivers (EP_RECV); empty queue = EP_IDLE. */
enum ep_state { EP_IDLE = 0, EP_SEND, EP_RECV };

struct endpoint {
    struct tcb_queue queue;
    uint32_t state;             /* enum ep_state */
    /* The IPC fast path's lock (arch/x86_64/fastpath.c, docs/smp.md): two
     * CPUs' fast paths, which run without the big kernel lock, may meet at
     * one endpoint; each holds this around its reads and writes of the
     * queue.  The slow path holds the big kernel lock, which excludes every
     * fast path, so it never takes this one.  0: free.  Right after state
     * (the upper half of one 64-bit word): the assembly fast path sets the
     * state and releases the lock with one store (fastpath_asm.S). */
    volatile uint32_t fp_lock;
};

_Static_assert(sizeof(struct endpoint) <= (1UL << FERRY_ENDPOINT_BITS), "endpoint size");

static inline struct endpoint *cap_endpoint(const struct cap *c) { return (struct endpoint *)cap_object(c); }

/* Block t (state TCB_BLOCKED_SEND or _RECV, set by the caller) at the tail
 * of the queue; state becomes EP_SEND/EP_RECV accordingly. */
void endpoint_enqueue(struct endpoint *ep, struct tcb *t);
/* Remove t from the queue (any position); EP_IDLE when it empties. */
void endpoint_dequeue(struct endpoint *ep, struct tcb *t);
/* Last capability deleted: every waiting thread becomes runnable with
 * ipc_result = FERRY_E_INVALID_CAP. */
void endpoint_destroy(struct endpoint *ep);

#endif
