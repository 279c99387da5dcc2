/* tcb.c: thread control blocks: initialisation, wait-queue links, suspend/resume, destruction and TCB invocations. */
#include <object/tcb.h>
#include <object/cnode.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/arch_hooks.h>
#include <arch/smp.h>
#include <arch/thread.h>
#include <core/sched.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/syscall.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <panic.h>

_Static_assert(TCB_SLOT_CSPACE == 0, "the reaper links through slot 0");
_Static_assert((int)FERRY_TCB_CONFIGURE_NCAPS == (int)TCB_NSLOTS, "Configure fills every slot");

#define USER_TOP         FERRY_USER_TOP   /* user addresses: [0, USER_TOP) */

void tcb_init(struct tcb *t)
{
    t->state = TCB_INACTIVE;
    t->prio = 0;
    t->mcp = 0;
    t->time_slice = SCHED_SLICE_TICKS;
    ctx_init_user(&t->ctx);
    arch_tcb_init(t);
}

/* ---- wait queues --------------------------------------------------------- */

void tcbq_append(struct tcb_queue *q, struct tcb *t)
{
    t->ipc_next = NULL;
    t->ipc_prev = q->tail;
    if (q->tail)
        q->tail->ipc_next = t;
    else
        q->head = t;
    q->tail = t;
}

void tcbq_remove(struct tcb_queue *q, struct tcb *t)
{
    if (t->ipc_prev)
        t->ipc_prev->ipc_next = t->ipc_next;
    else
        q->head = t->ipc_next;
    if (t->ipc_next)
        t->ipc_next->ipc_prev = t->ipc_prev;
    else
        q->tail = t->ipc_prev;
    t->ipc_next = t->ipc_prev = NULL;
}

/* ---- state changes --------------------------------------------------------- */

word_t *tcb_ipc_buffer(const struct tcb *t)
{
    const struct cap *f = &t->slots[TCB_SLOT_IPCBUF].cap;
    if (cap_is_null(f))
        return NULL;
    return t->ipc_buffer_kptr;
}

void tcb_cancel_ipc(struct tcb *t)
{
    bool fault = t->ipc_flags & TCB_IPC_FAULT;
    switch (t->state) {
    case TCB_BLOCKED_SEND:
        endpoint_dequeue(t->blocked_on, t);
        break;
    case TCB_BLOCKED_RECV:
        endpoint_dequeue(t->blocked_on, t);
        /* A Recv, or a ReplyRecv whose reply is done: it restarts as a
         * Recv on the same cptr, the one message register the IPC fast
         * path keeps for a waiting receiver (docs/design.md, "Message
         * registers"). */
        if (!fault)
            ctx_set_result(&t->ctx, FERRY_SYS_RECV);
        break;
    case TCB_BLOCKED_NOTIFICATION:
        notification_dequeue(t->blocked_on, t);
        break;
    case TCB_BLOCKED_REPLY:
        /* The server's reply then finds nobody (silently, as in seL4). */
        if (t->blocked_on && ((struct tcb *)t->blocked_on)->reply_to == t)
            ((struct tcb *)t->blocked_on)->reply_to = NULL;
        t->blocked_on = NULL;
        /* A Call whose message went out does not restart (which would
         * send it again, and the IPC fast path does not keep a waiting
         * caller's message registers): it returns as if the server had
         * dropped the reply (tcb_drop_reply), once it runs again.  A
         * faulted thread re-runs its instruction, as below. */
        if (!fault) {
            ctx_set_ipc_error(&t->ctx, FERRY_E_INVALID_CAP);
            t->ipc_flags = 0;
            return;
        }
        break;
    default:
        return;
    }
    /* RIP is the address after the syscall instruction while a thread
     * waits (WriteRegisters on a blocked thread cancels the IPC before it
     * writes: decode_write_regs), so this is always a move back onto
     * that instruction; rax is the call's number (saved by the slow path,
     * or set above). */
    if (!fault)
        ctx_restart_syscall(&t->ctx);
    t->ipc_flags = 0;
}

void tcb_wake_error(struct tcb *t, word_t err)
{
    t->blocked_on = NULL;
    t->ipc_result = err;
    if (!(t->ipc_flags & TCB_IPC_FAULT))
        ctx_set_ipc_error(&t->ctx, err);
    t->ipc_flags = 0;
    t->state = TCB_RUNNABLE;
    sched_enqueue(t);
}

void tcb_drop_reply(struct tcb *t)
{
    struct tcb *c = t->reply_to;
    t->reply_to = NULL;
    if (!c || c->state != TCB_BLOCKED_REPLY || c->blocked_on != t)
        return;
    tcb_wake_error(c, FERRY_E_INVALID_CAP);
}

/* Once this returns t runs on no other CPU: one that runs it stops it
 * (smp_stall_thread: its entry is abandoned, a system call restarts
 * later); still runnable, it goes back to a ready queue.  What changes
 * its registers, roots or state needs it: the other CPU would otherwise
 * keep running it, or write its registers back over the change. */
void tcb_stop_remote(struct tcb *t)
{
    int on = smp_running_on(t);
    if (on < 0 || (word_t)on == arch_cpu_index())
        return;
    smp_stall_thread((unsigned)on, t);
    if (t->state == TCB_RUNNABLE)
        sched_enqueue(t);
}

/* A thread runs only on the CPU of its affinity, and its FPU state is in
 * that CPU's registers or in its TCB (docs/smp.md): so a thread running
 * elsewhere is stopped there first, its FPU state saved, and a reply
 * link across the change is marked for the slow path (TCB_IPC_XCPU). */
void tcb_set_affinity(struct tcb *t, unsigned cpu)
{
    tcb_stop_remote(t);
    smp_fpu_release(t);
    if (t->reply_to)
        t->reply_to->ipc_flags |= TCB_IPC_XCPU;
    if (t->state == TCB_BLOCKED_REPLY)
        t->ipc_flags |= TCB_IPC_XCPU;
    sched_set_affinity(t, cpu);
}

void tcb_suspend(struct tcb *t)
{
    tcb_stop_remote(t);
    tcb_cancel_ipc(t);
    sched_dequeue(t);
    t->state = TCB_INACTIVE;
}

void tcb_resume(struct tcb *t)
{
    /* Only a stopped thread starts; a blocked one keeps waiting. */
    if (t->state != TCB_INACTIVE)
        return;
    t->state = TCB_RUNNABLE;
    sched_enqueue(t);
}

void tcb_set_priority(struct tcb *t, word_t prio)
{
    sched_set_prio(t, (uint8_t)prio);
}

static bool tcb_configured(const struct tcb *t)
{
    return t->slots[TCB_SLOT_CSPACE].cap.type == FERRY_OBJ_CNODE &&
           t->slots[TCB_SLOT_VSPACE].cap.type == FERRY_OBJ_VSPACE;
}

void tcb_destroy(struct tcb *t)
{
    tcb_suspend(t);
    tcb_drop_reply(t);
    if (t->bound_notification) {
        t->bound_notification->bound = NULL;
        t->bound_notification = NULL;
    }
    arch_tcb_destroy(t);
    cte_reap_slots(t->slots, TCB_NSLOTS);
}

/* ---- registers ------------------------------------------------------------- */

/* Decode half: would this value be accepted for reg?  (The arch's rule:
 * addresses must be user addresses, flags are sanitised on the write.) */
static word_t reg_check(word_t reg, word_t value)
{
    return ctx_check_user_reg(reg, value);
}

static void reg_set(struct tcb *t, word_t reg, word_t value)
{
    if (ctx_set_user_reg(&t->ctx, reg, value))
        arch_user_bases_written(t);
}

word_t tcb_write_register(struct tcb *t, word_t reg, word_t value)
{
    word_t err = reg_check(reg, value);
    if (err)
        return err;
    reg_set(t, reg, value);
    return FERRY_OK;
}

/* ---- configure --------------------------------------------------------------- */

static word_t configure_check(struct cte *cspace, struct cte *vspace, struct cte *ipcbuf,
                              vaddr_t ipc_buffer, word_t *bad)
{
    if (cspace && cspace->cap.type != FERRY_OBJ_CNODE)
        return *bad = FERRY_ERR_ARG_CAP(FERRY_TCB_CONFIGURE_CAP_CSPACE), FERRY_E_WRONG_TYPE;
    if (vspace && vspace->cap.type != FERRY_OBJ_VSPACE)
        return *bad = FERRY_ERR_ARG_CAP(FERRY_TCB_CONFIGURE_CAP_VSPACE), FERRY_E_WRONG_TYPE;
    if (ipcbuf) {
        const struct cap *f = &ipcbuf->cap;
        if (f->type != FERRY_OBJ_FRAME_4K && f->type != FERRY_OBJ_FRAME_2M)
            return *bad = FERRY_ERR_ARG_CAP(FERRY_TCB_CONFIGURE_CAP_IPC_BUFFER), FERRY_E_WRONG_TYPE;
        if (!cap_has_rights(f, FERRY_RIGHT_READ | FERRY_RIGHT_WRITE))
            return *bad = FERRY_ERR_ARG_CAP(FERRY_TCB_CONFIGURE_CAP_IPC_BUFFER), FERRY_E_RIGHTS;
        if (!IS_ALIGNED(ipc_buffer, FERRY_IPC_BUFFER_ALIGN))
            return *bad = FERRY_TCB_CONFIGURE_ARG_IPC_BUFFER, FERRY_E_ALIGNMENT;
        if (ipc_buffer >= USER_TOP)
            return *bad = FERRY_TCB_CONFIGURE_ARG_IPC_BUFFER, FERRY_E_INVALID_ARG;
    }
    return FERRY_OK;
}

/* Replace the capabilities in the TCB's slots.  The old ones are first
 * moved to slots on this stack and deleted only at the end: deleting them
 * may destroy objects, including (through a CNode holding its last
 * capability) this very TCB, after which it must not be touched. */
static void invoke_tcb_configure(struct tcb *t, struct cte *src[TCB_NSLOTS], vaddr_t ipc_buffer,
                                 word_t fault_ep)
{
    struct cte old[TCB_NSLOTS];
    memset(old, 0, sizeof old);

    for (unsigned i = 0; i < TCB_NSLOTS; i++) {
        if (!src[i])
            continue;
        if (!cap_is_null(&t->slots[i].cap))
            cte_move(&t->slots[i], &old[i]);
        word_t err = cte_copy(src[i], &t->slots[i], FERRY_RIGHTS_ALL);
        assert(err == FERRY_OK);   /* types were checked: none is untyped */
    }
    if (src[TCB_SLOT_CSPACE]) {
        t->slots[TCB_SLOT_CSPACE].cap.flags |= CAP_FLAG_TCB_CSPACE;  /* its leaving clears fp_cs_* */
        tcb_set_fp_cspace(t);            /* the assembly fast path's lookup (object/tcb.h) */
    }
    if (src[TCB_SLOT_VSPACE])
        t->slots[TCB_SLOT_VSPACE].cap.flags |= CAP_FLAG_TCB_VSPACE;  /* its emptying clears fp_home */
    tcb_set_fp_home(t);                  /* before the deletions below, which may destroy t */
    if (src[TCB_SLOT_IPCBUF]) {
        t->ipc_buffer = ipc_buffer;
        t->ipc_buffer_kptr = tcb_ipc_buffer_addr(t);
    }
    t->fault_ep = fault_ep;
    for (unsigned i = 0; i < TCB_NSLOTS; i++)
        cte_delete(&old[i]);
}

word_t tcb_configure(struct tcb *t, struct cte *cspace, struct cte *vspace, struct cte *ipcbuf,
                     vaddr_t ipc_buffer, word_t fault_ep)
{
    word_t bad;
    word_t err = configure_check(cspace, vspace, ipcbuf, ipc_buffer, &bad);
    if (err)
        return err;
    struct cte *src[TCB_NSLOTS] = { [TCB_SLOT_CSPACE] = cspace, [TCB_SLOT_VSPACE] = vspace,
                                    [TCB_SLOT_IPCBUF] = ipcbuf };
    invoke_tcb_configure(t, src, ipc_buffer, fault_ep);
    return FERRY_OK;
}

/* ---- invocations --------------------------------------------------------------- */

/* ---- decoding: every check before any change -------------------------------- */

static word_t decode_configure(struct tcb *t, struct invocation *inv, struct cte **extra,
                               unsigned nextra)
{
    if (inv->len < FERRY_TCB_CONFIGURE_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (nextra < FERRY_TCB_CONFIGURE_NCAPS)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(nextra));
    struct cte *cspace = extra[FERRY_TCB_CONFIGURE_CAP_CSPACE], *vspace = extra[FERRY_TCB_CONFIGURE_CAP_VSPACE];
    struct cte *ipcbuf = extra[FERRY_TCB_CONFIGURE_CAP_IPC_BUFFER];
    word_t ipcbuf_va = inv->mr[FERRY_TCB_CONFIGURE_ARG_IPC_BUFFER];
    word_t bad = FERRY_ERR_ARG_NONE;
    word_t err = configure_check(cspace, vspace, ipcbuf, ipcbuf_va, &bad);
    if (err)
        return inv_fail(inv, err, bad);
    struct cte *src[TCB_NSLOTS] = { cspace, vspace, ipcbuf };
    invoke_tcb_configure(t, src, ipcbuf_va, inv->mr[FERRY_TCB_CONFIGURE_ARG_FAULT_EP]);
    return FERRY_OK;
}

static void invoke_tcb_set_prio(struct tcb *t, bool mcp, word_t prio)
{
    if (mcp)
        t->mcp = (uint8_t)prio;
    else
        tcb_set_priority(t, prio);
}

static void invoke_tcb_read_regs(const struct tcb *t, struct invocation *inv, word_t n)
{
    for (word_t i = 0; i < n; i++)
        inv->mr[i] = ctx_get_user_reg(&t->ctx, i);
    inv->len = n;
}

static bool tcb_blocked(const struct tcb *t)
{
    return t->state == TCB_BLOCKED_SEND || t->state == TCB_BLOCKED_RECV ||
           t->state == TCB_BLOCKED_REPLY || t->state == TCB_BLOCKED_NOTIFICATION;
}

/* A thread blocked in IPC first leaves it, as after Suspend + Resume: it
 * restarts the system call with the registers written (which the syscall
 * layer then checks afresh), so an IPC in flight never uses registers
 * changed after it was checked, and the restart moves back from the RIP
 * the syscall left, never from a written one. */
static void invoke_tcb_write_regs(struct tcb *t, const word_t *values, word_t n, bool resume)
{
    bool blocked = tcb_blocked(t);
    if (blocked)
        tcb_cancel_ipc(t);
    for (word_t i = 0; i < n; i++)
        reg_set(t, i, values[i]);
    if (blocked) {
        t->state = TCB_RUNNABLE;
        sched_enqueue(t);
    } else if (resume) {
        tcb_resume(t);
    }
}

static word_t decode_set_prio(struct tcb *t, struct invocation *inv, struct cte **extra,
                              unsigned nextra)
{
    if (inv->len < FERRY_TCB_PRIO_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (nextra < FERRY_TCB_PRIO_CAP_AUTHORITY + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_TCB_PRIO_CAP_AUTHORITY));
    const struct cap *authority = &extra[FERRY_TCB_PRIO_CAP_AUTHORITY]->cap;
    if (authority->type != FERRY_OBJ_TCB)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_TCB_PRIO_CAP_AUTHORITY));
    /* Lending another thread's priority authority is acting on it. */
    if (!cap_has_rights(authority, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_TCB_PRIO_CAP_AUTHORITY));
    const struct tcb *auth = cap_tcb(authority);
    word_t prio = inv->mr[FERRY_TCB_PRIO_ARG_PRIO];
    /* A thread can hand out at most the priority it controls. */
    if (prio > FERRY_MAX_PRIO || prio > auth->mcp)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_TCB_PRIO_ARG_PRIO);
    invoke_tcb_set_prio(t, inv->label == FERRY_TCB_SET_MCPRIORITY, prio);
    return FERRY_OK;
}

static word_t decode_read_regs(struct tcb *t, struct invocation *inv)
{
    if (inv->len < FERRY_TCB_READREGS_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    word_t n = inv->mr[FERRY_TCB_READREGS_ARG_COUNT];
    if (n > FERRY_REG_COUNT)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_TCB_READREGS_ARG_COUNT);
    invoke_tcb_read_regs(t, inv, n);
    return FERRY_OK;
}

static word_t decode_write_regs(struct tcb *t, struct invocation *inv)
{
    if (inv->len < FERRY_TCB_WRITEREGS_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    word_t flags = inv->mr[FERRY_TCB_WRITEREGS_ARG_FLAGS], n = inv->mr[FERRY_TCB_WRITEREGS_ARG_COUNT];
    const word_t *values = &inv->mr[FERRY_TCB_WRITEREGS_ARG_VALUES];
    if (flags & ~FERRY_WRITEREGS_RESUME)
        return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_TCB_WRITEREGS_ARG_FLAGS);
    if (n > FERRY_REG_COUNT)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_TCB_WRITEREGS_ARG_COUNT);
    if (inv->len < FERRY_TCB_WRITEREGS_ARG_VALUES + n)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    for (word_t i = 0; i < n; i++) {
        word_t err = reg_check(i, values[i]);
        if (err)
            return inv_fail(inv, err, FERRY_TCB_WRITEREGS_ARG_VALUES + i);
    }
    if ((flags & FERRY_WRITEREGS_RESUME) && !tcb_configured(t))
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_TCB_WRITEREGS_ARG_FLAGS);
    invoke_tcb_write_regs(t, values, n, flags & FERRY_WRITEREGS_RESUME);
    return FERRY_OK;
}

static void invoke_tcb_bind(struct tcb *t, struct notification *n)
{
    t->bound_notification = n;
    n->bound = t;
}

static void invoke_tcb_unbind(struct tcb *t)
{
    t->bound_notification->bound = NULL;
    t->bound_notification = NULL;
}

static word_t decode_bind(struct tcb *t, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (nextra < 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_TCB_BIND_CAP_NOTIFICATION));
    const struct cap *c = &extra[FERRY_TCB_BIND_CAP_NOTIFICATION]->cap;
    if (c->type != FERRY_OBJ_NOTIFICATION)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_TCB_BIND_CAP_NOTIFICATION));
    if (!cap_has_rights(c, FERRY_RIGHT_READ))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_TCB_BIND_CAP_NOTIFICATION));
    struct notification *n = cap_notification(c);
    /* One notification per thread and one thread per notification. */
    if (t->bound_notification || n->bound)
        return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_CAP(FERRY_TCB_BIND_CAP_NOTIFICATION));
    invoke_tcb_bind(t, n);
    return FERRY_OK;
}

word_t tcb_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                  struct cte **extra, unsigned nextra)
{
    (void)caller;
    struct tcb *t = cap_tcb(&slot->cap);
    word_t need = inv->label == FERRY_TCB_READ_REGISTERS ? FERRY_RIGHT_READ : FERRY_RIGHT_WRITE;

    if (inv->label < FERRY_TCB_CONFIGURE || inv->label > FERRY_TCB_SET_AFFINITY)
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    if (!cap_has_rights(&slot->cap, need))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);

    if (inv->label == FERRY_TCB_CONFIGURE || inv->label == FERRY_TCB_READ_REGISTERS ||
        inv->label == FERRY_TCB_WRITE_REGISTERS)
        tcb_stop_remote(t);
    word_t err = FERRY_OK;
    switch (inv->label) {
    case FERRY_TCB_CONFIGURE:
        err = decode_configure(t, inv, extra, nextra);
        break;
    case FERRY_TCB_SET_PRIORITY:
    case FERRY_TCB_SET_MCPRIORITY:
        err = decode_set_prio(t, inv, extra, nextra);
        break;
    case FERRY_TCB_READ_REGISTERS:
        return decode_read_regs(t, inv);   /* sets len to its result count */
    case FERRY_TCB_WRITE_REGISTERS:
        err = decode_write_regs(t, inv);
        break;
    case FERRY_TCB_RESUME:
        if (!tcb_configured(t))
            return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE);
        tcb_resume(t);
        break;
    case FERRY_TCB_BIND_NOTIFICATION:
        err = decode_bind(t, inv, extra, nextra);
        break;
    case FERRY_TCB_UNBIND_NOTIFICATION:
        if (!t->bound_notification)
            return inv_fail(inv, FERRY_E_ILLEGAL_OP, FERRY_ERR_ARG_NONE);
        invoke_tcb_unbind(t);
        break;
    case FERRY_TCB_SET_AFFINITY:
        if (inv->len < FERRY_TCB_AFFINITY_NARGS)
            return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
        if (inv->mr[FERRY_TCB_AFFINITY_ARG_CPU] >= ks_ncpus)
            return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_TCB_AFFINITY_ARG_CPU);
        tcb_set_affinity(t, (unsigned)inv->mr[FERRY_TCB_AFFINITY_ARG_CPU]);
        break;
    default: /* FERRY_TCB_SUSPEND */
        tcb_suspend(t);
        break;
    }
    if (!err)
        inv->len = 0;   /* no results */
    return err;
}
