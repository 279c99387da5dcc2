/* endpoint.c: endpoint objects: the FIFO of blocked senders or receivers, and destruction. */
#include <object/endpoint.h>
#include <core/sched.h>
#include <ferry/errors.h>
#include <panic.h>

void endpoint_enqueue(struct endpoint *ep, struct tcb *t)
{
    assert(t->state == TCB_BLOCKED_SEND || t->state == TCB_BLOCKED_RECV);
    word_t want = t->state == TCB_BLOCKED_SEND ? EP_SEND : EP_RECV;
    /* One queue holds one kind of waiter: a sender meeting queued
     * receivers must rendezvous instead (IPC layer's job). */
    assert(ep->state == EP_IDLE || ep->state == want);
    tcbq_append(&ep->queue, t);
    t->blocked_on = ep;
    ep->state = want;
}

void endpoint_dequeue(struct endpoint *ep, struct tcb *t)
{
    assert(t->blocked_on == ep);
    tcbq_remove(&ep->queue, t);
    t->blocked_on = NULL;
    if (!ep->queue.head)
        ep->state = EP_IDLE;
}

void endpoint_destroy(struct endpoint *ep)
{
    /* Waiters return with an error instead of waiting forever on an
     * object that no longer exists.  Threads waiting for a reply are not
     * queued here: their reply link is to a thread, not the endpoint. */
    while (ep->queue.head) {
        struct tcb *t = ep->queue.head;
        endpoint_dequeue(ep, t);
        tcb_wake_error(t, FERRY_E_INVALID_CAP);
    }
}
