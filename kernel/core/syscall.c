/* syscall.c: the system call dispatcher, reached from both entries
 * (syscall and int 0x80) with the caller's registers saved in its TCB. */
#include <arch/floor.h>
#include <arch/machine.h>
#include <arch/serial.h>
#include <arch/thread.h>
#include <core/cspace.h>
#include <core/invariants.h>
#include <core/invoke.h>
#include <core/ipc.h>
#include <core/preempt.h>
#include <core/kernel.h>
#include <ferry/bench_format.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/tcb.h>

#ifndef FERRY_BENCHMARK
#define FERRY_BENCHMARK 1
#endif

/* Copy the message of cur into inv: label and length from msginfo, the
 * first words from registers, the rest and the extra cptrs from its IPC
 * buffer.  A message longer than the maximum is rejected. */
static word_t load_message(struct tcb *cur, word_t cptr, word_t msginfo, struct invocation *inv)
{
    word_t len = FERRY_MSGINFO_LEN(msginfo), ncaps = FERRY_MSGINFO_CAPS(msginfo);
    inv->cptr = cptr;
    inv->label = FERRY_MSGINFO_LABEL(msginfo);
    inv->len = len;
    inv->extra_caps = ncaps;
    inv->err_arg = FERRY_ERR_ARG_NONE;
    inv->err_bits_left = 0;
    if (len > FERRY_MSG_MAX_WORDS || ncaps > FERRY_MAX_EXTRA_CAPS)
        return FERRY_E_RANGE;
    for (word_t i = 0; i < FERRY_MSG_REG_WORDS && i < len; i++)
        inv->mr[i] = ctx_get_mr(&cur->ctx, (unsigned)i);
    if (len > FERRY_MSG_REG_WORDS || ncaps) {
        const struct ferry_ipc_buffer *buf = (const void *)tcb_ipc_buffer(cur);
        if (!buf)
            return FERRY_E_TRUNCATED;    /* words beyond the registers need a buffer */
        for (word_t i = FERRY_MSG_REG_WORDS; i < len; i++)
            inv->mr[i] = buf->mr[i];
        for (word_t i = 0; i < ncaps; i++)
            inv->caps[i] = buf->caps_or_badges[i];
    }
    return FERRY_OK;
}

static void store_reply(struct tcb *cur, const struct invocation *inv)
{
    word_t len = inv->len < FERRY_MSG_MAX_WORDS ? inv->len : FERRY_MSG_MAX_WORDS;
    struct ferry_ipc_buffer *buf = (void *)tcb_ipc_buffer(cur);
    if (!buf && len > FERRY_MSG_REG_WORDS)
        len = FERRY_MSG_REG_WORDS;       /* nowhere to put the rest */
    for (word_t i = 0; i < len; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            ctx_set_mr(&cur->ctx, (unsigned)i, inv->mr[i]);
        else
            buf->mr[i] = inv->mr[i];
    }
    ctx_set_msginfo(&cur->ctx, FERRY_MSGINFO(0, len, 0));
}

static void set_error(struct tcb *cur, word_t err, word_t err_arg, word_t bits_left)
{
    ctx_set_result(&cur->ctx, err);
    ctx_set_mr(&cur->ctx, 0, err_arg);
    ctx_set_mr(&cur->ctx, 1, bits_left);
}

/* A long invocation stopped at a preemption point (core/preempt.h): the
 * caller runs the same system call again when it is next chosen.  Its
 * registers are as it made the call (rax still holds the system call
 * number: nothing was written back), so only RIP goes back over the
 * 2-byte syscall or int 0x80 instruction, as tcb_cancel_ipc does. */
static void sys_restart(struct tcb *cur)
{
    ctx_restart_syscall(&cur->ctx);
}

/* An invocation of a non-IPC capability: the message in, the results back. */
static void sys_invoke(struct tcb *cur, word_t cptr, word_t msginfo)
{
    static struct invocation inv;        /* one CPU; a preemption point takes only interrupts */
    word_t err = load_message(cur, cptr, msginfo, &inv);
    preemption_reset();
    if (!err)
        err = invoke(cur, &inv);
    if (err == INVOKE_IPC)
        err = FERRY_E_ILLEGAL_OP;        /* cannot happen: sys_send routes IPC capabilities */
    if (arch_current() != cur)
        return;                          /* the caller deleted itself: nothing to answer */
    if (err == INVOKE_PREEMPTED) {
        sys_restart(cur);
        return;
    }
    /* A caller that suspended itself still gets its answer: it reads it
     * when resumed. */
    if (err) {
        set_error(cur, err, inv.err_arg, inv.err_bits_left);
        return;
    }
    ctx_set_result(&cur->ctx, FERRY_OK);
    store_reply(cur, &inv);
}

/* ---- IPC: the syscall layer checks capability, rights and message; core/ipc moves it ---- */

static struct cte *lookup(struct tcb *cur, word_t cptr)
{
    struct cte *slot;
    unsigned left = 0;
    word_t err = cspace_lookup_cap(&cur->slots[TCB_SLOT_CSPACE].cap, cptr, &slot, &left);
    if (err) {
        set_error(cur, err, FERRY_ERR_ARG_NONE, left);
        return NULL;
    }
    return slot;
}

/* A message cur may send: length within the maximum (FERRY_E_RANGE, as an
 * invocation), words beyond the registers or capabilities only with an
 * IPC buffer, and (when they are to be granted) capabilities that exist. */
static bool check_message(struct tcb *cur, word_t msginfo, bool grant)
{
    word_t len = FERRY_MSGINFO_LEN(msginfo), ncaps = FERRY_MSGINFO_CAPS(msginfo);
    if (len > FERRY_MSG_MAX_WORDS || ncaps > FERRY_MAX_EXTRA_CAPS) {
        set_error(cur, FERRY_E_RANGE, FERRY_ERR_ARG_NONE, 0);
        return false;
    }
    if (len <= FERRY_MSG_REG_WORDS && !ncaps)
        return true;                     /* all in registers: no buffer needed */
    const struct ferry_ipc_buffer *buf = (const void *)tcb_ipc_buffer(cur);
    if (!buf) {
        set_error(cur, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE, 0);
        return false;
    }
    for (word_t i = 0; grant && i < ncaps; i++) {
        struct cte *c;
        unsigned left = 0;
        word_t err = cspace_lookup_cap(&cur->slots[TCB_SLOT_CSPACE].cap, buf->caps_or_badges[i], &c, &left);
        if (err) {
            set_error(cur, err, FERRY_ERR_ARG_CAP(i), left);
            return false;
        }
    }
    return true;
}

static bool need_rights(struct tcb *cur, const struct cap *c, word_t rights)
{
    if (cap_has_rights(c, rights))
        return true;
    set_error(cur, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE, 0);
    return false;
}

/* Send, NBSend and Call: on an endpoint IPC, on a notification Signal,
 * on anything else (Call only) an invocation. */
static void sys_send(struct tcb *cur, word_t sysno, word_t cptr, word_t msginfo)
{
    struct cte *slot = lookup(cur, cptr);
    if (!slot)
        return;
    const struct cap *c = &slot->cap;
    switch (c->type) {
    case FERRY_OBJ_ENDPOINT: {
        if (!need_rights(cur, c, FERRY_RIGHT_WRITE))
            return;
        word_t flags = (sysno == FERRY_SYS_CALL ? TCB_IPC_CALL : 0) |
                       (cap_has_rights(c, FERRY_RIGHT_GRANT) ? TCB_IPC_GRANT : 0) |
                       (cap_has_rights(c, FERRY_RIGHT_GRANT_REPLY) ? TCB_IPC_GRANT_REPLY : 0);
        if (FERRY_MSGINFO_CAPS(msginfo) && !(flags & TCB_IPC_GRANT)) {
            set_error(cur, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(0), 0);
            return;
        }
        if (!check_message(cur, msginfo, true))
            return;
        ipc_send(cur, cap_endpoint(c), c->u.ep.badge, msginfo, flags, sysno != FERRY_SYS_NBSEND);
        return;
    }
    case FERRY_OBJ_NOTIFICATION:
        if (!need_rights(cur, c, FERRY_RIGHT_WRITE))
            return;
        ipc_signal(cap_notification(c), c->u.ep.badge);
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    default:
        if (sysno == FERRY_SYS_CALL)
            sys_invoke(cur, cptr, msginfo);
        else                             /* objects answer: invoke them with Call */
            set_error(cur, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_NONE, 0);
        return;
    }
}

/* Recv, NBRecv: on an endpoint IPC, on a notification Wait/Poll.  With
 * reply (ReplyRecv), everything is checked before the reply goes out, so
 * an error leaves both the caller and cur as they were. */
static void sys_recv(struct tcb *cur, word_t cptr, bool blocking, bool reply, word_t msginfo)
{
    struct cte *slot = lookup(cur, cptr);
    if (!slot)
        return;
    const struct cap *c = &slot->cap;
    if (c->type != FERRY_OBJ_ENDPOINT && c->type != FERRY_OBJ_NOTIFICATION) {
        set_error(cur, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_NONE, 0);
        return;
    }
    if (!need_rights(cur, c, FERRY_RIGHT_READ))
        return;
    if (c->type == FERRY_OBJ_NOTIFICATION) {
        struct notification *n = cap_notification(c);
        /* A bound notification is received through its thread's Recv only. */
        if (n->bound && n->bound != cur) {
            set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
            return;
        }
    }
    if (reply) {
        if (!check_message(cur, msginfo, false))
            return;
        ipc_reply(cur, msginfo);
    }
    if (c->type == FERRY_OBJ_ENDPOINT)
        ipc_recv(cur, cap_endpoint(c), blocking);
    else
        ipc_wait(cur, cap_notification(c), blocking);
}

static void sys_reply(struct tcb *cur, word_t msginfo)
{
    if (!check_message(cur, msginfo, false))
        return;
    ipc_reply(cur, msginfo);
    ctx_set_result(&cur->ctx, FERRY_OK);
}

/* The debug capability named by cptr, with its WRITE right: true, or
 * false with the error set. */
static bool debug_cap(struct tcb *cur, word_t cptr)
{
    struct cte *slot = lookup(cur, cptr);
    if (!slot)
        return false;
    if (slot->cap.type != FERRY_OBJ_DEBUG) {
        set_error(cur, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_NONE, 0);
        return false;
    }
    return need_rights(cur, &slot->cap, FERRY_RIGHT_WRITE);
}

static void sys_debug_write(struct tcb *cur)
{
    const struct ferry_ipc_buffer *buf = (const void *)tcb_ipc_buffer(cur);
    word_t n = ctx_get_mr(&cur->ctx, 0);
    if (!buf || n > sizeof buf->mr) {
        set_error(cur, buf ? FERRY_E_RANGE : FERRY_E_TRUNCATED, 0, 0);
        return;
    }
    serial_write((const char *)buf->mr, n);
    ctx_set_result(&cur->ctx, FERRY_OK);
}

static void syscall_handle(struct tcb *cur, word_t cptr, word_t msginfo, word_t sysno)
{
    switch (sysno) {
    case FERRY_SYS_NULL:
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    case FERRY_SYS_CALL:
    case FERRY_SYS_SEND:
    case FERRY_SYS_NBSEND:
        ipc_begin();
        sys_send(cur, sysno, cptr, msginfo);
        ipc_switch_direct(cur);
        return;
    case FERRY_SYS_RECV:
    case FERRY_SYS_NBRECV:
        sys_recv(cur, cptr, sysno == FERRY_SYS_RECV, false, 0);
        return;
    case FERRY_SYS_REPLY_RECV:
#if FERRY_FASTPATH
        /* A reply with capabilities (the fast path takes none): the medium
         * path, when nothing is unusual (core/ipc.c). */
        if (FERRY_MSGINFO_CAPS(msginfo) && ipc_reply_recv_caps(cur, cptr, msginfo))
            return;
#endif
        ipc_begin();
        sys_recv(cur, cptr, true, true, msginfo);
        ipc_switch_direct(cur);
        return;
    case FERRY_SYS_REPLY:
        ipc_begin();
        sys_reply(cur, msginfo);
        ipc_switch_direct(cur);           /* cur runs on: only clears */
        return;
    case FERRY_SYS_YIELD:
        ctx_set_result(&cur->ctx, FERRY_OK);
        schedule_yield();
        return;
    case FERRY_SYS_DEBUG_WRITE:
        if (debug_cap(cur, cptr))
            sys_debug_write(cur);
        return;
    case FERRY_SYS_DEBUG_EXIT:
        if (debug_cap(cur, cptr))
            machine_exit(ctx_get_mr(&cur->ctx, 0) == 0 ? FERRY_EXIT_SUCCESS : FERRY_EXIT_FAILURE);
        return;
#if FERRY_BENCHMARK
    case FERRY_SYS_KFLOOR: {
        uint64_t ticks;
        if (!debug_cap(cur, cptr))
            return;
        if (!floor_sample(ctx_get_mr(&cur->ctx, 0), &ticks)) {
            set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
            return;
        }
        ctx_set_result(&cur->ctx, FERRY_OK);
        ctx_set_mr(&cur->ctx, 0, ticks);
        return;
    }
    case FERRY_SYS_FLOOR_BEGIN:
        /* Until FLOOR_END every syscall of cur (of cur only: floor.c
         * switches the entry with the thread) is a bare syscall/sysret
         * pair, or one with a CR3 switch. */
        if (!debug_cap(cur, cptr))
            return;
        if (!floor_begin(cur, ctx_get_mr(&cur->ctx, 0))) {
            set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
            return;
        }
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
    case FERRY_SYS_FLOOR_END:
        if (!debug_cap(cur, cptr))
            return;
        if (!floor_end(cur)) {
            set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
            return;
        }
        ctx_set_result(&cur->ctx, FERRY_OK);
        return;
#if FERRY_FASTPATH
    case FERRY_SYS_FASTPATH_STATS: {
        struct ferry_ipc_buffer *buf = (void *)tcb_ipc_buffer(cur);
        if (!debug_cap(cur, cptr))
            return;
        if (!buf) {
            set_error(cur, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE, 0);
            return;
        }
        for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
            buf->mr[i] = ks_fastpath_miss[i];
        ctx_set_result(&cur->ctx, FERRY_OK);
        ctx_set_mr(&cur->ctx, 0, FERRY_FP_COUNT);
        return;
    }
#endif
    case FERRY_SYS_DEBUG_CHECK:
        if (debug_cap(cur, cptr))
            invariants_syscall(cur, cptr);
        return;
#endif
    default:
        set_error(cur, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE, 0);
        return;
    }
}

_Noreturn void int80_dispatch(word_t cptr, word_t msginfo, word_t sysno);

/* From syscall_entry, or from the fast path when it cannot do the call. */
void syscall_dispatch(word_t cptr, word_t msginfo, word_t sysno)
{
    struct tcb *cur = arch_current();
    ctx_entered_by_syscall(&cur->ctx);
    syscall_handle(cur, cptr, msginfo, sysno);
    kernel_exit();
}

void int80_dispatch(word_t cptr, word_t msginfo, word_t sysno)
{
    struct tcb *cur = arch_current();
    ctx_entered_by_trap(&cur->ctx);      /* leaves by iretq, every register intact */
    syscall_handle(cur, cptr, msginfo, sysno);
    kernel_exit();
}
