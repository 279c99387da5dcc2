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

/* cspace_lookup_cap for the usual CSpace, one CNode whose guard and
 * radix take all 64 bits of the cptr; anything else (deeper CSpaces, a
 * guard mismatch) returns NULL and the slow path does the full lookup
 * and reports its errors.  A loop over levels here would cost the fast
 * path more registers than it saves lookups. */
static inline __attribute__((always_inline)) struct cte *lookup_fp(const struct cap *node, word_t cptr)
{
    unsigned radix = node->size_bits;
    if (unlikely(node->type != FERRY_OBJ_CNODE) || unlikely(node->guard_bits + radix != 64) ||
        unlikely(radix == 0))
        return NULL;
    if (unlikely(node->guard_bits && (cptr >> radix) != node->u.cnode.guard))
        return NULL;
    return (struct cte *)cap_object(node) + (cptr & (BIT(radix) - 1));
}

/* Copy len (<= 4) message words, only those, as the slow path does. */
static inline void copy_words_fp(struct tcb *src, struct tcb *dst, word_t len)
{
    word_t *d = dst->ctx.regs;
    const word_t *s = src->ctx.regs;
    if (len > 0) {
        d[CTX_RDX] = s[CTX_RDX];
        if (len > 1) {
            d[CTX_R8] = s[CTX_R8];
            if (len > 2) {
                d[CTX_R9] = s[CTX_R9];
                if (len > 3)
                    d[CTX_R10] = s[CTX_R10];
            }
        }
    }
}

/* The receiver's result registers: success, badge, message info with
 * the bits the slow path would not pass (caps, unused) cleared. */
static inline void set_received_fp(struct tcb *dst, word_t msginfo, word_t badge)
{
    ctx_set_result(&dst->ctx, FERRY_OK);
    ctx_set_badge(&dst->ctx, badge);
    ctx_set_msginfo(&dst->ctx, msginfo);
}

/* A message the fast path carries: at most 4 words, no capabilities, no
 * stray bits (bits 7..11 clear). */
#define MSGINFO_FP_MASK 0xf80UL
static inline bool message_fp(word_t msginfo)
{
    return !(msginfo & MSGINFO_FP_MASK) && FERRY_MSGINFO_LEN(msginfo) <= FERRY_MSG_REG_WORDS;
}

/* Cap type and rights checked together (first two bytes of struct cap). */
static inline bool cap_is_fp(const struct cap *c, uint8_t type, uint8_t right)
{
    return c->type == type && (c->rights & right);
}

_Static_assert(TCB_IPC_GRANT == FERRY_RIGHT_GRANT >> 1 && TCB_IPC_GRANT_REPLY == FERRY_RIGHT_GRANT_REPLY >> 1,
               "grant rights map to ipc_flags by a shift");

/* No frame pointer: nothing unwinds through these (they never return). */
#define FASTPATH_FN __attribute__((optimize("omit-frame-pointer")))

FASTPATH_FN void fastpath_call(void)
{
    /* Taken first, while nothing else is live; cptr and msginfo are read
     * from the saved registers (where syscall_entry put them). */
    int top = sched_highest_prio();
    struct tcb *cur = arch_current_fp();
    word_t cptr = ctx_get_cptr(&cur->ctx), msginfo = ctx_get_msginfo(&cur->ctx);

    if (unlikely(!message_fp(msginfo)))
        goto slow;
    /* An endpoint we may send to... */
    struct cte *slot = lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr);
    if (unlikely(!slot) || unlikely(!cap_is_fp(&slot->cap, FERRY_OBJ_ENDPOINT, FERRY_RIGHT_WRITE)))
        goto slow;
    /* ...with a receiver waiting, who holds no other caller's reply right... */
    struct endpoint *ep = cap_endpoint(&slot->cap);
    if (unlikely(ep->state != EP_RECV))
        goto slow;
    struct tcb *dest = ep->queue.head;
    if (unlikely(dest->reply_to != NULL))
        goto slow;
    /* ...that entered by syscall, has a VSpace, and that the scheduler
     * would run now: no ready thread above it (we are about to block). */
    paddr_t vs = arch_tcb_vspace(dest);
    if (unlikely(dest->ctx.entry != CTX_ENTRY_SYSCALL) || unlikely(!vs) || unlikely((int)dest->prio < top))
        goto slow;

    /* ---- point of no return ---- */

    /* Dequeue the receiver (the head). */
    struct tcb *next = dest->ipc_next;
    ep->queue.head = next;
    if (next) {
        next->ipc_prev = NULL;
        dest->ipc_next = NULL;
    } else {
        ep->queue.tail = NULL;
        ep->state = EP_IDLE;
    }
    copy_words_fp(cur, dest, FERRY_MSGINFO_LEN(msginfo));
    set_received_fp(dest, msginfo, slot->cap.u.ep.badge);
    dest->state = TCB_RUNNABLE;
    dest->blocked_on = NULL;
    dest->ipc_flags = 0;

    /* The caller waits for the reply; rax keeps FERRY_SYS_CALL (restart). */
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    cur->ipc_flags = TCB_IPC_CALL | ((slot->cap.rights >> 1) & (TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY));
    cur->state = TCB_BLOCKED_REPLY;
    cur->blocked_on = dest;
    dest->reply_to = cur;

    arch_fastpath_switch_exit(dest, vs);
slow:
    syscall_dispatch(cptr, msginfo, FERRY_SYS_CALL);
}

FASTPATH_FN void fastpath_reply_recv(void)
{
    /* Taken first, while nothing else is live; cptr and msginfo are read
     * from the saved registers (where syscall_entry put them). */
    int top = sched_highest_prio();
    struct tcb *cur = arch_current_fp();
    word_t cptr = ctx_get_cptr(&cur->ctx), msginfo = ctx_get_msginfo(&cur->ctx);

    /* A register-only reply without capabilities... */
    if (unlikely(!message_fp(msginfo)))
        goto slow;
    /* ...to a caller that waits for it (not a faulted thread)... */
    struct tcb *caller = cur->reply_to;
    if (unlikely(!caller) || unlikely(caller->ipc_flags & TCB_IPC_FAULT))
        goto slow;
    /* ...then a Recv on an endpoint with no sender queued, so we block,
     * and no bound notification that might end the Recv at once... */
    struct cte *slot = lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr);
    if (unlikely(!slot) || unlikely(!cap_is_fp(&slot->cap, FERRY_OBJ_ENDPOINT, FERRY_RIGHT_READ)))
        goto slow;
    struct endpoint *ep = cap_endpoint(&slot->cap);
    if (unlikely(ep->state == EP_SEND) || unlikely(cur->bound_notification != NULL))
        goto slow;
    /* ...and a caller the scheduler would run now. */
    paddr_t vs = arch_tcb_vspace(caller);
    if (unlikely(caller->ctx.entry != CTX_ENTRY_SYSCALL) || unlikely(!vs) || unlikely((int)caller->prio < top))
        goto slow;

    /* ---- point of no return ---- */

    /* The reply (no badge on replies). */
    cur->reply_to = NULL;
    copy_words_fp(cur, caller, FERRY_MSGINFO_LEN(msginfo));
    set_received_fp(caller, msginfo, 0);
    caller->state = TCB_RUNNABLE;
    caller->blocked_on = NULL;
    caller->ipc_flags = 0;

    /* We wait at the tail of the endpoint's queue; rax keeps
     * FERRY_SYS_REPLY_RECV (restart). */
    cur->ctx.entry = CTX_ENTRY_SYSCALL;
    cur->ipc_flags = 0;
    cur->state = TCB_BLOCKED_RECV;
    cur->blocked_on = ep;
    struct tcb *tail = ep->queue.tail;
    cur->ipc_next = NULL;
    cur->ipc_prev = tail;
    if (tail)
        tail->ipc_next = cur;
    else
        ep->queue.head = cur;
    ep->queue.tail = cur;
    ep->state = EP_RECV;

    arch_fastpath_switch_exit(caller, vs);
slow:
    syscall_dispatch(cptr, msginfo, FERRY_SYS_REPLY_RECV);
}
#endif
