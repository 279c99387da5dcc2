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
        tcb_wake_error(t, FERRY_E_INVALID_CAP);
    }
    if (n->bound) {
        n->bound->bound_notification = NULL;
        n->bound = NULL;
    }
}
