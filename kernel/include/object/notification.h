/* notification.h: notification objects (a word of signal bits plus waiting threads); Signal/Wait are in core/ipc. */
#ifndef FERRY_OBJECT_NOTIFICATION_H
#define FERRY_OBJECT_NOTIFICATION_H

#include <object/tcb.h>

/* NTFN_WAITING: threads queued, no pending bits; NTFN_ACTIVE: bits pending
 * in `pending`, no waiters; NTFN_IDLE: neither. */
enum ntfn_state { NTFN_IDLE = 0, NTFN_WAITING, NTFN_ACTIVE };

struct notification {
    struct tcb_queue queue;
    word_t state;
    word_t pending;        /* OR of the badges signalled since the last Wait/Poll */
    struct tcb *bound;     /* TCB bound to receive signals while in Recv (IPC issue) */
    word_t pad[3];
};

_Static_assert(sizeof(struct notification) <= (1UL << FERRY_NOTIFICATION_BITS), "notification size");

static inline struct notification *cap_notification(const struct cap *c) { return (struct notification *)cap_object(c); }

/* Block t (state TCB_BLOCKED_NOTIFICATION) at the tail; state NTFN_WAITING. */
void notification_enqueue(struct notification *n, struct tcb *t);
/* Remove t from the queue; NTFN_IDLE when it empties. */
void notification_dequeue(struct notification *n, struct tcb *t);
/* Last capability deleted: waiters become runnable with ipc_result =
 * FERRY_E_INVALID_CAP; a bound TCB is unbound. */
void notification_destroy(struct notification *n);

#endif
