/* tcb.h: thread control blocks: state, scheduling and IPC queue links, and TCB invocations. */
#ifndef FERRY_OBJECT_TCB_H
#define FERRY_OBJECT_TCB_H

#include <object/cap.h>
#include <arch/context.h>

struct invocation;
struct notification;

enum tcb_state {
    TCB_INACTIVE = 0,         /* not runnable until Resume */
    TCB_RUNNABLE,             /* running (the current thread) or in a ready queue */
    TCB_BLOCKED_SEND,         /* in an endpoint's queue, waiting to send */
    TCB_BLOCKED_RECV,         /* in an endpoint's queue, waiting to receive */
    TCB_BLOCKED_REPLY,        /* sent a Call, waiting for the reply (no queue) */
    TCB_BLOCKED_NOTIFICATION, /* in a notification's queue (Wait) */
};

/* A TCB's own capability slots: the roots it runs with are kept as
 * capabilities (CDT children of the capabilities given to Configure), so
 * deleting the CNode or VSpace elsewhere never leaves a dangling pointer. */
enum tcb_slot {
    TCB_SLOT_CSPACE = 0,   /* must stay 0: the reaper links through slot 0 */
    TCB_SLOT_VSPACE,
    TCB_SLOT_IPCBUF,
    TCB_NSLOTS
};

/* ipc_flags of a blocked thread: a Call (waits for a reply after the
 * send), the endpoint capability's grant rights, a fault message (built
 * from the saved fault state, not the registers; no syscall to restart). */
#define TCB_IPC_CALL        0x1UL
#define TCB_IPC_GRANT       0x4UL   /* = FERRY_RIGHT_GRANT: the fast path copies the rights bits */
#define TCB_IPC_GRANT_REPLY 0x8UL   /* = FERRY_RIGHT_GRANT_REPLY */
#define TCB_IPC_FAULT       0x10UL
/* A caller waiting for a reply from a thread that may run on another CPU
 * (their affinities differed when the Call was received, or one has
 * moved since): the reply goes the slow path, which queues the caller on
 * its own CPU; the fast path, which would run it here, tests this bit
 * with TCB_IPC_FAULT (one test for both). */
#define TCB_IPC_XCPU        0x20UL

/* A FIFO of threads (endpoint and notification wait queues). */
struct tcb_queue {
    struct tcb *head;
    struct tcb *tail;
};

struct tcb {
    struct user_context ctx;
    struct cte slots[TCB_NSLOTS];

    /* The thread state and its IPC flags side by side: the fast path
     * sets both with one store (state_flags: state in the low half). */
    union {
        struct {
            uint32_t state;     /* enum tcb_state */
            uint32_t ipc_flags; /* TCB_IPC_*: what the blocked IPC operation is (core/ipc) */
        };
        uint64_t state_flags;
    };
    uint8_t prio;               /* 0..255, higher runs first */
    uint8_t mcp;                /* maximum controlled priority */
    bool in_ready_queue;
    uint8_t affinity;           /* the CPU it runs on (0 unless SetAffinity moved it) */
    uint8_t sched_cpu;          /* whose ready queue holds it while in_ready_queue */
    /* Queued not in a ready queue but in the hand-off to sched_cpu (the
     * holder's handoff_out, then that CPU's slot: readyqueue.c). */
    bool in_handoff;
    word_t time_slice;          /* timer ticks left */
    struct tcb *sched_next, *sched_prev;

    /* IPC (endpoint/notification queues are FIFOs through these links). */
    void *blocked_on;           /* struct endpoint / struct notification */
    struct tcb *ipc_next, *ipc_prev;
    word_t ipc_badge;           /* badge of the capability used / received */
    word_t ipc_result;          /* error to report when woken without IPC (object deleted) */
    struct notification *bound_notification;  /* signals delivered while in Recv */
    struct tcb *reply_to;       /* the caller whose one-shot reply right this thread holds */
    word_t fault_addr;          /* address of the fault being delivered (page faults) */

    word_t fault_ep;            /* cptr of the fault endpoint in the thread's CSpace */
    vaddr_t ipc_buffer;         /* user address of the IPC buffer */
    /* Its kernel address (through the physmap), what tcb_ipc_buffer_addr
     * computes from the frame capability in TCB_SLOT_IPCBUF and
     * ipc_buffer: set where both are written (Configure, the only writer
     * of that slot), meaningful only while the slot holds a capability
     * (tcb_ipc_buffer and the fast path test the slot first; a revoked
     * frame empties the slot, which the test sees).  kernel_invariants
     * checks it. */
    void *ipc_buffer_kptr;
    /* The assembly fast path's lookup in the thread's CSpace root
     * (fastpath_asm.S), what tcb_fp_cspace computes from the capability
     * in TCB_SLOT_CSPACE: for a single-level CNode (u.cnode.fp_base not
     * 0) the cptrs in [fp_cs_lo, fp_cs_lo + fp_cs_size) are its slots,
     * from fp_cs_slot0; fp_cs_size is 0 for any other CNode.  Set where
     * the slot is written (Configure, its only writer), meaningful only
     * while the slot holds a CNode: the assembly tests the slot's type
     * first (a revoked CNode empties the slot, the reaper's Zombie in it
     * has another type).  kernel_invariants checks it. */
    word_t fp_cs_lo, fp_cs_size;
    struct cte *fp_cs_slot0;
};

_Static_assert(sizeof(struct tcb) <= (1UL << FERRY_TCB_BITS), "TCB does not fit its object size");
_Static_assert(__builtin_offsetof(struct tcb, ipc_flags) == __builtin_offsetof(struct tcb, state) + 4,
               "state_flags: state low, ipc_flags high (x86 is little-endian)");
/* The value of state_flags for a state and IPC flags. */
#define TCB_STATE_FLAGS(state, flags) ((uint64_t)(state) | (uint64_t)(flags) << 32)

static inline struct tcb *cap_tcb(const struct cap *c) { return (struct tcb *)cap_object(c); }

/* Kernel address of the thread's IPC buffer (through the physmap and the
 * frame capability in TCB_SLOT_IPCBUF, never through the user mapping),
 * or NULL when none is configured. */
word_t *tcb_ipc_buffer(const struct tcb *t);
/* What ipc_buffer_kptr must be while TCB_SLOT_IPCBUF holds a frame. */
static inline void *tcb_ipc_buffer_addr(const struct tcb *t)
{
    const struct cap *f = &t->slots[TCB_SLOT_IPCBUF].cap;
    return (char *)cap_object(f) + (t->ipc_buffer & (BIT(f->size_bits) - 1));
}

/* fp_cs_lo, fp_cs_size and fp_cs_slot0 as they must be while
 * TCB_SLOT_CSPACE holds a CNode: the slot of cptr is fp_cs_slot0 +
 * (cptr - fp_cs_lo) exactly when cptr - fp_cs_lo < fp_cs_size (unsigned),
 * which is when the C fast path's lookup_fp finds it (cptr >> radix ==
 * guard, guard + radix = 64). */
static inline void tcb_fp_cspace(const struct tcb *t, word_t *lo, word_t *size, struct cte **slot0)
{
    const struct cap *c = &t->slots[TCB_SLOT_CSPACE].cap;
    if (c->type != FERRY_OBJ_CNODE || !c->u.cnode.fp_base) {
        *lo = *size = 0;
        *slot0 = NULL;
        return;
    }
    *lo = c->u.cnode.guard << c->size_bits;
    *size = BIT(c->size_bits);
    *slot0 = (struct cte *)cap_object(c);
}

static inline void tcb_set_fp_cspace(struct tcb *t)
{
    tcb_fp_cspace(t, &t->fp_cs_lo, &t->fp_cs_size, &t->fp_cs_slot0);
}

/* ctx.fp_home, the IPC fast path's "ready" word (fastpath_asm.S): FP_HOME_READY
 * | affinity while TCB_SLOT_VSPACE holds a VSpace, else 0, so that with
 * ctx.entry beside it (CTX_ENTRY_SYSCALL, 0) one 64-bit compare against
 * this CPU's percpu.fp_home_want ((FP_HOME_READY | cpu) << 32) says "entered
 * by syscall, has a VSpace, runs on this CPU" (7 instructions in the
 * Call's checks before, 4 in ReplyRecv's).  A stale word would be a wrong
 * fast path, so it is written wherever an input changes: Configure (the
 * only writer of the slot), the slot's emptying (slot_clear, cte_move:
 * the capability's CAP_FLAG_TCB_VSPACE marks the slot), SetAffinity
 * (sched_set_affinity); a zeroed TCB reads 0, never ready; and
 * kernel_invariants checks every TCB's word against this. */
#define FP_HOME_READY 0x100u
static inline uint32_t tcb_fp_home(const struct tcb *t)
{
    return t->slots[TCB_SLOT_VSPACE].cap.type == FERRY_OBJ_VSPACE ? FP_HOME_READY | t->affinity : 0;
}
static inline void tcb_set_fp_home(struct tcb *t) { t->ctx.fp_home = tcb_fp_home(t); }
/* A TCB's VSpace slot (vslot, marked CAP_FLAG_TCB_VSPACE) is being emptied. */
static inline void tcb_fp_vspace_gone(struct cte *vslot)
{
    struct tcb *t = (struct tcb *)((char *)vslot - __builtin_offsetof(struct tcb, slots[TCB_SLOT_VSPACE]));
    t->ctx.fp_home = 0;
}
/* A TCB's CSpace slot (cslot, marked CAP_FLAG_TCB_CSPACE) loses its CNode
 * (deleted, moved out, or its Zombie in its place): the assembly's lookup
 * (fp_cs_size 0) misses from now on, which is what lets it skip the
 * slot's type test. */
static inline void tcb_fp_cspace_gone(struct cte *cslot)
{
    struct tcb *t = (struct tcb *)((char *)cslot - __builtin_offsetof(struct tcb, slots[TCB_SLOT_CSPACE]));
    t->fp_cs_lo = t->fp_cs_size = 0;
    t->fp_cs_slot0 = NULL;
}

/* Initialise a freshly zeroed TCB: inactive, priority 0, MCP 0. */
void tcb_init(struct tcb *t);

/* Kernel API for the boot code and the IPC layer. */
word_t tcb_configure(struct tcb *t, struct cte *cspace, struct cte *vspace, struct cte *ipcbuf,
                     vaddr_t ipc_buffer, word_t fault_ep);
void tcb_resume(struct tcb *t);
/* t stops running on any other CPU (multiprocessor: tcb.c). */
void tcb_stop_remote(struct tcb *t);
/* t runs on CPU cpu (< ks_ncpus) from now (TCB SetAffinity). */
void tcb_set_affinity(struct tcb *t, unsigned cpu);
void tcb_suspend(struct tcb *t);
void tcb_set_priority(struct tcb *t, word_t prio);
/* Take the thread off any endpoint/notification queue it waits in, or
 * break its reply link.  A thread that waited inside an IPC system call
 * has its RIP moved back onto the `syscall` instruction so that resuming
 * it restarts the call (seL4's Restart); a faulted one re-executes the
 * faulting instruction anyway. */
void tcb_cancel_ipc(struct tcb *t);
/* A thread blocked on an object that went away (already off any queue):
 * it becomes runnable, and the system call it waited in returns err (a
 * faulted thread has no call to return from: it re-runs the instruction). */
void tcb_wake_error(struct tcb *t, word_t err);
/* t gives up the reply right it holds: the caller waiting for that reply
 * wakes with FERRY_E_INVALID_CAP (a faulted caller just re-runs). */
void tcb_drop_reply(struct tcb *t);

/* Sanitised register write: returns FERRY_E_INVALID_ARG for a rejected
 * value (RIP, RSP, FS/GS base not user addresses); RFLAGS is masked to the
 * arithmetic flags with IF on. */
word_t tcb_write_register(struct tcb *t, word_t reg, word_t value);

/* Destroy a TCB whose last capability was deleted: suspend it, then delete
 * its slots through the reaper. */
void tcb_destroy(struct tcb *t);

void tcbq_append(struct tcb_queue *q, struct tcb *t);
void tcbq_remove(struct tcb_queue *q, struct tcb *t);

/* Invocation on a TCB capability (FERRY_TCB_*). */
word_t tcb_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                  struct cte **extra, unsigned nextra);

#endif
