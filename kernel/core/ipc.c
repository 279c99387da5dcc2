/* ipc.c: the IPC slow path: Send, Recv, Call, Reply and their non-blocking forms on endpoints, Signal/Wait/Poll on notifications, message and capability transfer, fault messages. */
#include <arch/smp.h>
#include <core/ipc.h>
#include <core/cspace.h>
#include <core/sched.h>
#include <arch/thread.h>
#include <object/cnode.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/tcb.h>
#include <ferry/errors.h>
#include <ferry/fault.h>
#include <ferry/syscall.h>
#include <panic.h>

/* The fault kind travels in the upper bits of a faulting thread's ipc_flags. */
#define FAULT_LABEL_SHIFT 8

static inline struct ferry_ipc_buffer *ipc_buf(const struct tcb *t)
{
    return (struct ferry_ipc_buffer *)tcb_ipc_buffer(t);
}

/* The thread the current IPC operation woke for a Call or a reply: if
 * the caller then blocks, it runs next, directly (ipc_switch_direct). */
static struct tcb *ks_ipc_woken;

void ipc_begin(void)
{
    ks_ipc_woken = NULL;
}

#ifndef FERRY_DIRECT_SWITCH
#define FERRY_DIRECT_SWITCH 1
#endif

void ipc_switch_direct(struct tcb *cur)
{
    struct tcb *t = ks_ipc_woken;
    ks_ipc_woken = NULL;
    /* DIRECTSWITCH=0 (a FASTPATH=0 build): the scheduler chooses, to
     * measure what the direct switch is worth. */
    if (!FERRY_DIRECT_SWITCH)
        return;
    /* What the fast path does, so both paths schedule alike: the partner
     * runs at once when none ready is above it, even when threads of its
     * own priority are queued ahead of it. */
    if (!t || cur->state == TCB_RUNNABLE || t->state != TCB_RUNNABLE || !t->in_ready_queue ||
        t->sched_cpu != arch_cpu_index() ||  /* queued on another CPU: it runs there */
        sched_ready_above(t->prio))      /* inline: one look at the bitmap, no call */
        return;
    sched_dequeue(t);
    arch_switch_to(t);
}

/* waker_blocks: the current thread blocks in this system call (Call;
 * ReplyRecv's reply, whose Recv blocks as a rule: ipc_reply does not know
 * a plain Reply from it), so its kernel exit is long (a switch,
 * often to the idle loop) and a partner woken for another, polling CPU is
 * handed over (docs/smp.md, "The hand-off"): that CPU runs it while we
 * finish.  Else (Signal, Send, a Recv that takes a Send) the waker returns
 * to user mode at once and its next system call takes the lock before
 * that CPU can take a hand-off, which then waits for that whole call; a
 * thread queued at the wake is seen by the polling CPU at once, which
 * then takes the lock right after this call (notify/xcpu: docs/smp.md). */
static void wake(struct tcb *t, bool waker_blocks)
{
    t->state = TCB_RUNNABLE;
    t->blocked_on = NULL;
    t->ipc_flags = 0;
    if (waker_blocks)
        sched_enqueue(t);
    else
        sched_enqueue_queued(t);
}

static void set_received(struct tcb *t, word_t msginfo, word_t badge)
{
    ctx_set_result(&t->ctx, FERRY_OK);
    ctx_set_badge(&t->ctx, badge);
    ctx_set_msginfo(&t->ctx, msginfo);
}

/* Copy the capabilities named in src's IPC buffer into the receive slots
 * dst names in its own (recv_cnode, then recv_index + i at recv_depth).
 * Stops at the first capability that cannot move (bad cptr on either side,
 * occupied slot, an untyped): the count says how many arrived, and
 * caps_or_badges[i] of dst holds each one's badge. */
static word_t transfer_caps(struct tcb *src, const struct ferry_ipc_buffer *sbuf, word_t ncaps,
                            struct tcb *dst, struct ferry_ipc_buffer *dbuf)
{
    word_t cptrs[FERRY_MAX_EXTRA_CAPS];
    struct cte *cn;
    for (word_t i = 0; i < ncaps; i++)
        cptrs[i] = sbuf->caps_or_badges[i];     /* before dst's buffer, maybe the same page, changes */
    /* The receiver offers a CNode it may write to, or receives nothing. */
    if (cspace_lookup_cap(&dst->slots[TCB_SLOT_CSPACE].cap, dbuf->recv_cnode, &cn, NULL) ||
        cn->cap.type != FERRY_OBJ_CNODE || !cap_has_rights(&cn->cap, FERRY_RIGHT_WRITE))
        return 0;
    word_t done = 0;
    for (; done < ncaps; done++) {
        struct cte *from, *to;
        if (cspace_lookup_cap(&src->slots[TCB_SLOT_CSPACE].cap, cptrs[done], &from, NULL) ||
            cspace_lookup_slot(&cn->cap, dbuf->recv_index + done, dbuf->recv_depth, &to, NULL) ||
            !cap_is_null(&to->cap) || cte_copy(from, to, FERRY_RIGHTS_ALL) != FERRY_OK)
            break;
        bool badged = from->cap.type == FERRY_OBJ_ENDPOINT || from->cap.type == FERRY_OBJ_NOTIFICATION;
        dbuf->caps_or_badges[done] = badged ? from->cap.u.ep.badge : 0;
    }
    return done;
}

/* The fault message of uapi/ferry/fault.h, from src's saved fault state. */
static void deliver_fault(struct tcb *src, struct tcb *dst, word_t badge)
{
    word_t label = src->ipc_flags >> FAULT_LABEL_SHIFT;
    ctx_set_mr(&dst->ctx, FERRY_FAULT_MR_IP, ctx_get_pc(&src->ctx));
    ctx_set_mr(&dst->ctx, FERRY_FAULT_MR_ADDR, src->fault_addr);
    ctx_set_mr(&dst->ctx, FERRY_FAULT_MR_ERROR, label == FERRY_FAULT_EXCEPTION || label == FERRY_FAULT_PAGE
                                                    ? src->ctx.error_code : 0);
    ctx_set_mr(&dst->ctx, FERRY_FAULT_MR_VECTOR, label == FERRY_FAULT_BAD_STATE ? 0 : src->ctx.vector);
    set_received(dst, FERRY_MSGINFO(label, FERRY_FAULT_MSG_LEN, 0), badge);
}

/* Move the message src offers (msginfo, its registers and IPC buffer)
 * into dst's registers and IPC buffer.  The length was checked when src
 * made the system call; a receiver without an IPC buffer gets the
 * register words only (the length it sees says so), as in seL4. */
static void deliver(struct tcb *src, struct tcb *dst, word_t msginfo, word_t badge, word_t flags)
{
    if (flags & TCB_IPC_FAULT) {
        deliver_fault(src, dst, badge);
        return;
    }
    word_t len = FERRY_MSGINFO_LEN(msginfo), ncaps = FERRY_MSGINFO_CAPS(msginfo), got = 0;
    /* Checked at the system call; bounded here again, since what a
     * blocked sender offers is read from its saved registers now. */
    if (len > FERRY_MSG_MAX_WORDS)
        len = FERRY_MSG_MAX_WORDS;
    if (ncaps > FERRY_MAX_EXTRA_CAPS)
        ncaps = FERRY_MAX_EXTRA_CAPS;
    const struct ferry_ipc_buffer *sbuf = ipc_buf(src);
    struct ferry_ipc_buffer *dbuf = ipc_buf(dst);
    if (!sbuf || !dbuf) {
        /* sbuf may have gone by TCB Configure while src waited. */
        if (len > FERRY_MSG_REG_WORDS)
            len = FERRY_MSG_REG_WORDS;
        ncaps = 0;
    }
    /* Message registers beyond the length read as zero (the fast path's
     * exit zeroes them too: design.md, "Message registers"). */
    for (word_t i = 0; i < FERRY_MSG_REG_WORDS; i++)
        ctx_set_mr(&dst->ctx, (unsigned)i, i < len ? ctx_get_mr(&src->ctx, (unsigned)i) : 0);
    if (sbuf != dbuf)
        for (word_t i = FERRY_MSG_REG_WORDS; i < len; i++)
            dbuf->mr[i] = sbuf->mr[i];
    if (ncaps && (flags & TCB_IPC_GRANT))
        got = transfer_caps(src, sbuf, ncaps, dst, dbuf);
    set_received(dst, FERRY_MSGINFO(FERRY_MSGINFO_LABEL(msginfo), len, got), badge);
}

/* caller made a Call that server received: caller now waits for the reply,
 * and server holds the one-shot right to give it.  A right server still
 * held from an earlier Call is dropped (its caller wakes with an error). */
static void link_reply(struct tcb *caller, struct tcb *server)
{
    if (server->reply_to)
        tcb_drop_reply(server);
    caller->state = TCB_BLOCKED_REPLY;
    caller->blocked_on = server;
    server->reply_to = caller;
    if (caller->affinity != server->affinity)
        caller->ipc_flags |= TCB_IPC_XCPU;   /* the reply crosses CPUs: slow path */
}

void ipc_send(struct tcb *cur, struct endpoint *ep, word_t badge, word_t msginfo, word_t flags,
              bool blocking)
{
    cur->ipc_flags = flags;
    if (ep->state == EP_RECV) {
        struct tcb *dst = ep->queue.head;
        endpoint_dequeue(ep, dst);
        deliver(cur, dst, msginfo, badge, flags);
        wake(dst, flags & TCB_IPC_CALL);
        if (flags & TCB_IPC_CALL) {
            link_reply(cur, dst);
            ks_ipc_woken = dst;
        }
        else
            ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    }
    if (!blocking) {
        /* NBSend with nobody waiting: the message is dropped (seL4). */
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    }
    cur->ipc_badge = badge;
    cur->state = TCB_BLOCKED_SEND;
    endpoint_enqueue(ep, cur);
}

/* An empty message: badge, and zero in every message register (words
 * beyond the length read as zero, and a thread that waited after the IPC
 * fast path has not its own in its saved registers: docs/design.md,
 * "Message registers"). */
static void set_received_empty(struct tcb *t, word_t badge)
{
    for (unsigned i = 0; i < FERRY_MSG_REG_WORDS; i++)
        ctx_set_mr(&t->ctx, i, 0);
    set_received(t, FERRY_MSGINFO(0, 0, 0), badge);
}

/* Signal bits delivered to a thread: badge = the bits, empty message. */
static void set_signalled(struct tcb *t, word_t bits)
{
    set_received_empty(t, bits);
}

void ipc_recv(struct tcb *cur, struct endpoint *ep, bool blocking)
{
    struct notification *n = cur->bound_notification;
    if (n && n->state == NTFN_ACTIVE) {
        /* The bound notification first, as in seL4. */
        set_signalled(cur, n->pending);
        n->pending = 0;
        n->state = NTFN_IDLE;
        return;
    }
    if (ep->state == EP_SEND) {
        struct tcb *src = ep->queue.head;
        endpoint_dequeue(ep, src);
        deliver(src, cur, ctx_get_msginfo(&src->ctx), src->ipc_badge, src->ipc_flags);
        if (src->ipc_flags & TCB_IPC_CALL) {
            link_reply(src, cur);
        } else {
            ctx_set_result(&src->ctx, FERRY_OK);
            wake(src, false);
        }
        return;
    }
    if (!blocking) {
        /* NBRecv with no sender: success with badge 0 and an empty message (seL4). */
        set_received_empty(cur, 0);
        return;
    }
    cur->ipc_flags = 0;
    cur->state = TCB_BLOCKED_RECV;
    endpoint_enqueue(ep, cur);
}

void ipc_reply(struct tcb *cur, word_t msginfo)
{
    struct tcb *c = cur->reply_to;
    if (!c)
        return;
    assert(c->state == TCB_BLOCKED_REPLY && c->blocked_on == cur);
    cur->reply_to = NULL;
    /* A faulted thread just resumes: the reply's words are not registers. */
    if (!(c->ipc_flags & TCB_IPC_FAULT)) {
        word_t grant = c->ipc_flags & (TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY) ? TCB_IPC_GRANT : 0;
        deliver(cur, c, msginfo, 0, grant);
    }
    wake(c, true);
    ks_ipc_woken = c;
}

#if FERRY_FASTPATH
/* The medium path's own fall-backs, counted like the fast path's
 * (BENCHMARK=1 kernels): FERRY_FP_RR_CAPS_SLOW. */
#if FERRY_BENCHMARK
#define MEDIUM_MISS()                                                   \
    do {                                                                \
        ks_fastpath_miss[FERRY_FP_RR_CAPS_SLOW]++;                      \
        return false;                                                   \
    } while (0)
#else
#define MEDIUM_MISS() return false
#endif

bool ipc_reply_recv_caps(struct tcb *cur, word_t cptr, word_t msginfo)
{
    /* A caller waiting for our reply on this CPU: not a faulted thread (its
     * reply is no message), not one from another CPU (the slow path wakes
     * it there), one the IPC buffers let receive capabilities... */
    struct tcb *caller = cur->reply_to;
    if (!caller || (caller->ipc_flags & (TCB_IPC_FAULT | TCB_IPC_XCPU)) ||
        !(caller->ipc_flags & (TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY)) || caller->affinity != arch_cpu_index())
        MEDIUM_MISS();
    /* ...with a message the syscall layer would pass (check_message for a
     * reply: length and count within bounds, an IPC buffer for them) and
     * that deliver would not cut short (both buffers present)... */
    word_t len = FERRY_MSGINFO_LEN(msginfo), ncaps = FERRY_MSGINFO_CAPS(msginfo);
    const struct ferry_ipc_buffer *sbuf = ipc_buf(cur);
    struct ferry_ipc_buffer *dbuf = ipc_buf(caller);
    if (len > FERRY_MSG_MAX_WORDS || ncaps == 0 || ncaps > FERRY_MAX_EXTRA_CAPS || !sbuf || !dbuf)
        MEDIUM_MISS();
    /* ...then a Recv on an endpoint we may read, with no sender queued
     * and no signal pending on a bound notification, so that we block... */
    struct cte *slot;
    if (cspace_lookup_cap(&cur->slots[TCB_SLOT_CSPACE].cap, cptr, &slot, NULL) ||
        slot->cap.type != FERRY_OBJ_ENDPOINT || !cap_has_rights(&slot->cap, FERRY_RIGHT_READ))
        MEDIUM_MISS();
    struct endpoint *ep = cap_endpoint(&slot->cap);
    const struct notification *bound = cur->bound_notification;
    if (ep->state == EP_SEND || (bound && bound->state == NTFN_ACTIVE))
        MEDIUM_MISS();
    /* ...and the caller runs next: no ready thread above it
     * (ipc_switch_direct's rule). */
    if (sched_ready_above(caller->prio))
        MEDIUM_MISS();

    /* ---- point of no return: ipc_reply, then ipc_recv's blocking case ---- */

    cur->reply_to = NULL;
    /* deliver()'s steps for this case (no fault, both buffers there, grant
     * given), with the buffers found above rather than looked up again: a
     * name lookup's reply is this path, every time. */
    for (word_t i = 0; i < FERRY_MSG_REG_WORDS; i++)
        ctx_set_mr(&caller->ctx, (unsigned)i, i < len ? ctx_get_mr(&cur->ctx, (unsigned)i) : 0);
    if (sbuf != dbuf)
        for (word_t i = FERRY_MSG_REG_WORDS; i < len; i++)
            dbuf->mr[i] = sbuf->mr[i];
    word_t got = transfer_caps(cur, sbuf, ncaps, caller, dbuf);
    set_received(caller, FERRY_MSGINFO(FERRY_MSGINFO_LABEL(msginfo), len, got), 0);
    caller->state = TCB_RUNNABLE;        /* wake without the ready queue: it runs now */
    caller->blocked_on = NULL;
    caller->ipc_flags = 0;
    cur->ipc_flags = 0;
    cur->state = TCB_BLOCKED_RECV;
    endpoint_enqueue(ep, cur);
    arch_switch_to(caller);
    return true;
}
#endif

void ipc_signal(struct notification *n, word_t badge)
{
    if (n->state == NTFN_WAITING) {
        /* Waiters exist only while nothing is pending: this badge alone. */
        struct tcb *t = n->queue.head;
        notification_dequeue(n, t);
        set_signalled(t, badge);
        wake(t, false);
        return;
    }
    struct tcb *b = n->bound;
    if (b && b->state == TCB_BLOCKED_RECV) {
        /* The bound thread waits on an endpoint: the signal ends that Recv. */
        endpoint_dequeue(b->blocked_on, b);
        set_signalled(b, badge);
        wake(b, false);
        return;
    }
    n->pending |= badge;
    n->state = NTFN_ACTIVE;
}

void ipc_wait(struct tcb *cur, struct notification *n, bool blocking)
{
    if (n->state == NTFN_ACTIVE) {
        set_signalled(cur, n->pending);
        n->pending = 0;
        n->state = NTFN_IDLE;
        return;
    }
    if (!blocking) {
        set_signalled(cur, 0);          /* Poll: nothing pending */
        return;
    }
    cur->ipc_flags = 0;
    cur->state = TCB_BLOCKED_NOTIFICATION;
    notification_enqueue(n, cur);
}

bool ipc_fault(struct tcb *t, word_t label, word_t addr)
{
    struct cte *slot;
    if (!t->fault_ep ||
        cspace_lookup_cap(&t->slots[TCB_SLOT_CSPACE].cap, t->fault_ep, &slot, NULL) ||
        slot->cap.type != FERRY_OBJ_ENDPOINT || !cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return false;
    t->fault_addr = addr;
    ipc_begin();
    ipc_send(t, cap_endpoint(&slot->cap), slot->cap.u.ep.badge, 0,
             TCB_IPC_CALL | TCB_IPC_FAULT | (label << FAULT_LABEL_SHIFT), true);
    ipc_begin();                          /* the scheduler picks who runs */
    return true;
}
