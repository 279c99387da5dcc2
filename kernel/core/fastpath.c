/* fastpath.c: the IPC fast path for Call and ReplyRecv with register-only messages (built only with FERRY_FASTPATH=1). */
#include <core/ipc.h>

#if FERRY_FASTPATH
#include <arch/fastpath.h>
#include <core/sched.h>
#include <object/endpoint.h>
#include <object/tcb.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>

/*
 * seL4's shape (src/fastpath/fastpath.c): each function first checks
 * everything that could make the general path behave differently and
 * returns to it (`slowpath`) on any doubt, without having changed
 * anything; after the point of no return it moves the message words
 * between the saved register files, updates the queues and reply link,
 * and leaves by sysret into the partner without the scheduler.  What the
 * slow path would do in the same situation is exactly this (core/ipc.c,
 * including its direct switch in ipc_switch_direct), so the two differ
 * only in speed.
 */

#define slowpath() return

/* cspace_lookup_cap without error reporting: any failure returns NULL and
 * the slow path repeats the lookup to report it. */
static inline struct cte *lookup_fp(const struct cap *node, word_t cptr)
{
    unsigned n = 64;
    for (;;) {
        if (unlikely(node->type != FERRY_OBJ_CNODE))
            return NULL;
        unsigned radix = node->size_bits, gbits = node->guard_bits, level = radix + gbits;
        if (unlikely(level > n || level == 0))
            return NULL;
        if (gbits && unlikely(((cptr >> (n - gbits)) & (BIT(gbits) - 1)) != node->u.cnode.guard))
            return NULL;
        struct cte *s = (struct cte *)cap_object(node) + ((cptr >> (n - level)) & (BIT(radix) - 1));
        n -= level;
        if (n == 0 || s->cap.type != FERRY_OBJ_CNODE)
            return s;
        node = &s->cap;
    }
}

/* Copy len (<= 4) message words and set the receiver's result registers. */
static inline void transfer_fp(struct tcb *src, struct tcb *dst, word_t msginfo, word_t badge)
{
    word_t len = FERRY_MSGINFO_LEN(msginfo);
    for (word_t i = 0; i < len; i++)
        ctx_set_mr(&dst->ctx, (unsigned)i, ctx_get_mr(&src->ctx, (unsigned)i));
    ctx_set_result(&dst->ctx, FERRY_OK);
    ctx_set_badge(&dst->ctx, badge);
    ctx_set_msginfo(&dst->ctx, FERRY_MSGINFO(FERRY_MSGINFO_LABEL(msginfo), len, 0));
}

/* Can we enter t directly, in place of the scheduler's choice? */
static inline bool switchable_fp(const struct tcb *t)
{
    return t->ctx.entry == CTX_ENTRY_SYSCALL && arch_tcb_vspace(t) != 0 &&
           (int)t->prio >= sched_highest_prio();
}

void fastpath_call(word_t cptr, word_t msginfo)
{
    struct tcb *cur = arch_current_fp();

    /* A register-only message without capabilities. */
    if (unlikely(msginfo & ~(((word_t)-1 << 12) | 0x7f)) || unlikely(FERRY_MSGINFO_LEN(msginfo) > FERRY_MSG_REG_WORDS))
        slowpath();
    /* An endpoint we may send to... */
    struct cte *slot = lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr);
    if (unlikely(!slot) || unlikely(slot->cap.type != FERRY_OBJ_ENDPOINT) ||
        unlikely(!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE)))
        slowpath();
    /* ...with a receiver waiting, who holds no other caller's reply right... */
    struct endpoint *ep = cap_endpoint(&slot->cap);
    if (unlikely(ep->state != EP_RECV))
        slowpath();
    struct tcb *dest = ep->queue.head;
    if (unlikely(dest->reply_to != NULL))
        slowpath();
    /* ...and that the scheduler would run now (we are about to block). */
    if (unlikely(!switchable_fp(dest)))
        slowpath();

    /* ---- point of no return ---- */

    /* Dequeue the receiver (it is the head). */
    ep->queue.head = dest->ipc_next;
    if (dest->ipc_next)
        dest->ipc_next->ipc_prev = NULL;
    else {
        ep->queue.tail = NULL;
        ep->state = EP_IDLE;
    }
    dest->ipc_next = NULL;

    transfer_fp(cur, dest, msginfo, slot->cap.u.ep.badge);
    dest->state = TCB_RUNNABLE;
    dest->ipc_flags = 0;

    /* The caller waits for the reply; rax keeps FERRY_SYS_CALL (restart). */
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    cur->ipc_flags = TCB_IPC_CALL |
                     (cap_has_rights(&slot->cap, FERRY_RIGHT_GRANT) ? TCB_IPC_GRANT : 0) |
                     (cap_has_rights(&slot->cap, FERRY_RIGHT_GRANT_REPLY) ? TCB_IPC_GRANT_REPLY : 0);
    cur->state = TCB_BLOCKED_REPLY;
    cur->blocked_on = dest;
    dest->reply_to = cur;
    dest->blocked_on = NULL;

    arch_fastpath_switch_exit(dest);
}

void fastpath_reply_recv(word_t cptr, word_t msginfo)
{
    struct tcb *cur = arch_current_fp();

    /* A register-only reply without capabilities... */
    if (unlikely(msginfo & ~(((word_t)-1 << 12) | 0x7f)) || unlikely(FERRY_MSGINFO_LEN(msginfo) > FERRY_MSG_REG_WORDS))
        slowpath();
    /* ...to a caller that waits for it (not a faulted thread)... */
    struct tcb *caller = cur->reply_to;
    if (unlikely(!caller) || unlikely(caller->ipc_flags & TCB_IPC_FAULT))
        slowpath();
    /* ...then a Recv on an endpoint with no sender queued, so we block... */
    struct cte *slot = lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr);
    if (unlikely(!slot) || unlikely(slot->cap.type != FERRY_OBJ_ENDPOINT) ||
        unlikely(!cap_has_rights(&slot->cap, FERRY_RIGHT_READ)))
        slowpath();
    struct endpoint *ep = cap_endpoint(&slot->cap);
    if (unlikely(ep->state == EP_SEND))
        slowpath();
    /* ...and no bound notification that might end the Recv at once. */
    if (unlikely(cur->bound_notification != NULL))
        slowpath();
    if (unlikely(!switchable_fp(caller)))
        slowpath();

    /* ---- point of no return ---- */

    /* The reply. */
    cur->reply_to = NULL;
    transfer_fp(cur, caller, msginfo, 0);
    caller->state = TCB_RUNNABLE;
    caller->blocked_on = NULL;
    caller->ipc_flags = 0;

    /* We wait at the tail of the endpoint's queue; rax keeps
     * FERRY_SYS_REPLY_RECV (restart). */
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    cur->ipc_flags = 0;
    cur->state = TCB_BLOCKED_RECV;
    cur->blocked_on = ep;
    cur->ipc_next = NULL;
    cur->ipc_prev = ep->queue.tail;
    if (ep->queue.tail)
        ep->queue.tail->ipc_next = cur;
    else
        ep->queue.head = cur;
    ep->queue.tail = cur;
    ep->state = EP_RECV;

    arch_fastpath_switch_exit(caller);
}
#endif
