/* notification.c: notification objects: pending signal word, queue of waiting threads, destruction. */
#include <object/notification.h>
#include <core/sched.h>
#include <ferry/errors.h>
#include <panic.h>

void notification_enqueue(struct notification *n, struct tcb *t)
{
    assert(t->state == TCB_BLOCKED_NOTIFICATION);
    /* A waiter only queues when nothing is pending (else Wait returns). */
    assert(n->state != NTFN_ACTIVE);
    tcbq_append(&n->queue, t);
    t->blocked_on = n;
    n->state = NTFN_WAITING;
}

void notification_dequeue(struct notification *n, struct tcb *t)
{
    assert(t->blocked_on == n);
    tcbq_remove(&n->queue, t);
    t->blocked_on = NULL;
    if (!n->queue.head && n->state == NTFN_WAITING)
        n->state = NTFN_IDLE;
}

void notification_destroy(struct notification *n)
{
    while (n->queue.head) {
        struct tcb *t = n->queue.head;
        notification_dequeue(n, t);
        t->ipc_result = FERRY_E_INVALID_CAP;
        /* The system call it waited in returns this error (a faulted
         * thread has no call to return from: it re-runs the instruction). */
        if (!(t->ipc_flags & TCB_IPC_FAULT))
            ctx_set_result(&t->ctx, FERRY_E_INVALID_CAP);
        t->ipc_flags = 0;
        t->state = TCB_RUNNABLE;
        sched_enqueue(t);
    }
    if (n->bound) {
        n->bound->bound_notification = NULL;
        n->bound = NULL;
    }
}
