/* endpoint.h: synchronous IPC endpoints: the object and its queue of waiting threads (IPC itself is in core/ipc). */
#ifndef FERRY_OBJECT_ENDPOINT_H
#define FERRY_OBJECT_ENDPOINT_H

#include <object/tcb.h>

/* All threads in the queue wait for the same thing, so one state says
 * which: senders (EP_SEND) or receivers (EP_RECV); empty queue = EP_IDLE. */
enum ep_state { EP_IDLE = 0, EP_SEND, EP_RECV };

struct endpoint {
    struct tcb_queue queue;
    word_t state;
    word_t pad;
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
