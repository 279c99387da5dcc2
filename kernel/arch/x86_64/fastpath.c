/* fastpath.c: the IPC fast path for Call and ReplyRecv without capability transfer (built only with FERRY_FASTPATH=1). */
#include <core/ipc.h>

#if FERRY_FASTPATH
#include <arch/fastpath.h>
#include <arch/smp.h>
#include <core/sched.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/tcb.h>
#include <ferry/errors.h>
#include <ferry/syscall.h>
#include <arch/fastpath_asm.h>
#include <arch/vspace.h>
#include <mm/physmap.h>

/* The assembly fast path's constants (arch/fastpath_asm.h), each checked
 * against what it stands for: a layout change fails the build here. */
#define FPA_OFF(type, field, v) _Static_assert(__builtin_offsetof(type, field) == (v), "fastpath_asm.h: " #field)
FPA_OFF(struct tcb, ctx, 0);
FPA_OFF(struct tcb, slots[TCB_SLOT_CSPACE].cap, FPA_TCB_CSPACE);
FPA_OFF(struct tcb, slots[TCB_SLOT_VSPACE].cap, FPA_TCB_VSPACE);
FPA_OFF(struct tcb, state_flags, FPA_TCB_STATE_FLAGS);
FPA_OFF(struct tcb, state, FPA_TCB_STATE);
FPA_OFF(struct tcb, ipc_flags, FPA_TCB_IPC_FLAGS);
FPA_OFF(struct tcb, prio, FPA_TCB_PRIO);
FPA_OFF(struct tcb, affinity, FPA_TCB_AFFINITY);
FPA_OFF(struct tcb, blocked_on, FPA_TCB_BLOCKED_ON);
FPA_OFF(struct tcb, ipc_next, FPA_TCB_IPC_NEXT);
FPA_OFF(struct tcb, ipc_prev, FPA_TCB_IPC_PREV);
FPA_OFF(struct tcb, bound_notification, FPA_TCB_BOUND);
FPA_OFF(struct tcb, reply_to, FPA_TCB_REPLY_TO);
FPA_OFF(struct tcb, ctx.entry_home, FPA_TCB_CTX_ENTRY);
FPA_OFF(struct tcb, ctx.entry, FPA_TCB_CTX_ENTRY);
FPA_OFF(struct tcb, ctx.regs[CTX_FS_BASE], FPA_TCB_FS_BASE);
FPA_OFF(struct tcb, ctx.regs[CTX_GS_BASE], FPA_TCB_GS_BASE);
FPA_OFF(struct tcb, ctx.bases, FPA_TCB_CTX_BASES);
FPA_OFF(struct tcb, fp_cs_lo, FPA_TCB_FP_CS_LO);
FPA_OFF(struct tcb, fp_cs_size, FPA_TCB_FP_CS_SIZE);
FPA_OFF(struct tcb, fp_cs_slot0, FPA_TCB_FP_CS_SLOT0);
FPA_OFF(struct cap, type, FPA_CAP_TYPE);
FPA_OFF(struct cap, rights, FPA_CAP_RIGHTS);
FPA_OFF(struct cap, size_bits, FPA_CAP_SIZE_BITS);
FPA_OFF(struct cap, paddr, FPA_CAP_PADDR);
FPA_OFF(struct cap, u.cnode.guard, FPA_CAP_GUARD);
FPA_OFF(struct cap, u.cnode.fp_base, FPA_CAP_FP_BASE);
FPA_OFF(struct cap, u.ep.badge, FPA_CAP_BADGE);
FPA_OFF(struct endpoint, queue.head, FPA_EP_HEAD);
FPA_OFF(struct endpoint, queue.tail, FPA_EP_TAIL);
FPA_OFF(struct endpoint, state, FPA_EP_STATE);
FPA_OFF(struct endpoint, fp_lock, FPA_EP_LOCK);
FPA_OFF(struct notification, state, FPA_NTFN_STATE);
FPA_OFF(struct percpu, sched, FPA_PC_SCHED);
FPA_OFF(struct percpu, cur, FPA_PC_CUR);
FPA_OFF(struct percpu, fpu_owner, FPA_PC_FPU_OWNER);
FPA_OFF(struct percpu, fpu_ts, FPA_PC_FPU_TS);
FPA_OFF(struct percpu, fpu_clear_left, FPA_PC_FPU_CLEAR_LEFT);
FPA_OFF(struct percpu, cr0_ts, FPA_PC_CR0_TS);
FPA_OFF(struct percpu, cur_vspace, FPA_PC_CUR_VSPACE);
FPA_OFF(struct percpu, bases_live, FPA_PC_BASES_LIVE);
FPA_OFF(struct percpu, fp_home_want, FPA_PC_FP_HOME_WANT);
_Static_assert(sizeof(struct percpu) == PERCPU_SIZE, "percpu: the union kept the size");
FPA_OFF(struct sched_bitmap, l1, 0);
FPA_OFF(struct sched_bitmap, l2, 8);
#define FPA_SIZE(type, field, n) _Static_assert(sizeof(((type *)0)->field) == (n), "fastpath_asm.h: size of " #field)
FPA_SIZE(struct tcb, state, 4);
FPA_SIZE(struct tcb, ipc_flags, 4);
FPA_SIZE(struct tcb, prio, 1);
FPA_SIZE(struct tcb, affinity, 1);
FPA_SIZE(struct tcb, ctx.entry_home, 8);
FPA_SIZE(struct tcb, ctx.entry, 4);
FPA_SIZE(struct percpu, fp_home_want, 8);
FPA_SIZE(struct cap, type, 1);
FPA_SIZE(struct cap, rights, 1);
FPA_SIZE(struct cap, size_bits, 1);
FPA_SIZE(struct endpoint, state, 4);
FPA_SIZE(struct endpoint, fp_lock, 4);
_Static_assert(FPA_EP_LOCK == FPA_EP_STATE + 4 && FPA_EP_STATE_LOCK == FPA_EP_STATE,
               "fastpath_asm.h: state low, fp_lock high (one store sets the state and releases the lock)");
FPA_SIZE(struct notification, state, 8);
FPA_SIZE(struct percpu, fpu_clear_left, 4);
FPA_SIZE(struct percpu, fpu_ts, 8);
FPA_SIZE(struct percpu, bases_live, 1);
FPA_SIZE(struct percpu, switch_work, 8);
FPA_OFF(struct percpu, switch_work, FPA_PC_SWITCH_WORK);
FPA_OFF(struct percpu, pcid_on, FPA_PC_PCID_ON);
FPA_SIZE(struct percpu, pcid_on, 1);
_Static_assert(FPA_SW_PCID_ALONE == 1u << ((FPA_PC_PCID_ON - FPA_PC_SWITCH_WORK) * 8),
               "fastpath_asm.h: pcid_on (1, vspace_init) in switch_work");
FPA_OFF(struct percpu, asid_dirty, FPA_PC_ASID_DIRTY);
_Static_assert(PML4_ASID_INDEX * 8 == FPA_PML4_ASID_OFF, "fastpath_asm.h: PML4_ASID_INDEX");
/* CR3_PCID takes the ASID entry shifted right by one, unmasked (the
 * invariant walk checks that the entry holds nothing else). */
_Static_assert(PML4_ASID(2ull * (ASID_COUNT - 1)) == ASID_COUNT - 1, "fastpath_asm.h: the ASID's place in its entry");
FPA_SIZE(struct percpu, cpu, 8);
#define FPA_VAL(a, b) _Static_assert((a) == (b), "fastpath_asm.h: " #a)
FPA_VAL(FERRY_OBJ_ENDPOINT, FPA_OBJ_ENDPOINT);
FPA_VAL(FERRY_OBJ_CNODE, FPA_OBJ_CNODE);
FPA_VAL(FERRY_OBJ_VSPACE, FPA_OBJ_VSPACE);
FPA_VAL(FERRY_RIGHT_READ, FPA_RIGHT_READ);
FPA_VAL(FERRY_RIGHT_WRITE, FPA_RIGHT_WRITE);
FPA_VAL(EP_IDLE, FPA_EP_IDLE);
FPA_VAL(EP_SEND, FPA_EP_SEND);
FPA_VAL(EP_RECV, FPA_EP_RECV);
FPA_VAL(NTFN_ACTIVE, FPA_NTFN_ACTIVE);
FPA_VAL(TCB_STATE_FLAGS(TCB_RUNNABLE, 0), FPA_ST_RUNNABLE);
FPA_VAL(TCB_STATE_FLAGS(TCB_BLOCKED_RECV, 0), FPA_ST_BLOCKED_RECV);
FPA_VAL(TCB_BLOCKED_REPLY, FPA_ST_BLOCKED_REPLY);
FPA_VAL(TCB_IPC_CALL, FPA_IPC_CALL);
FPA_VAL(TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY, FPA_IPC_GRANTS);
FPA_VAL(TCB_IPC_FAULT | TCB_IPC_XCPU, FPA_IPC_FAULT_XCPU);
FPA_VAL(CTX_ENTRY_SYSCALL, 0);
FPA_VAL(FERRY_CTE_BITS, FPA_CTE_BITS);
FPA_VAL(FERRY_MSG_REG_WORDS, FPA_MSG_REG_WORDS);
FPA_VAL(CTX_BASE_FS, FPA_BASE_FS);
FPA_VAL(CTX_BASE_GS, FPA_BASE_GS);
/* The quiet test ORs next's ctx.bases into switch_work: its bits must
 * fall on bases_live (the low byte), and the TLS copy's test of "FS
 * alone" is `testq $-2` (FS is bit 0). */
_Static_assert(FPA_PC_BASES_LIVE == FPA_PC_SWITCH_WORK, "bases_live is switch_work's low byte");
_Static_assert((CTX_BASE_FS | CTX_BASE_GS) < 0x100 && CTX_BASE_FS == 1, "ctx.bases ORs into bases_live");
FPA_VAL(MSR_FS_BASE, FPA_MSR_FS_BASE);
FPA_VAL(MSR_KERNEL_GS_BASE, FPA_MSR_KERNEL_GS_BASE);
FPA_VAL(KERNEL_PHYSMAP_BASE, FPA_PHYSMAP);

/*
 * seL4's shape (src/fastpath/fastpath.c): each function first checks
 * everything that could make the general path behave differently and
 * returns to syscall_entry on any doubt, without having changed anything
 * (syscall_entry then calls the slow path); after the point of no return it moves the message words
 * between the saved register files (and IPC buffers beyond the first
 * four), updates the queues and reply link,
 * and leaves by sysret into the partner without the scheduler.  What the
 * slow path would do in the same situation is exactly this (core/ipc.c,
 * including its direct switch in ipc_switch_direct), so the two differ
 * only in speed.
 */

/* cspace_lookup_cap for the usual CSpace, one CNode whose guard and
 * radix take all 64 bits of the cptr; anything else (deeper CSpaces, a
 * guard mismatch) returns false and the slow path does the full lookup
 * and reports its errors.  A loop over levels here would cost the fast
 * path more registers than it saves lookups.  The CNode capability
 * carries the precomputed u.cnode.fp_base (object/cap.h): non-zero only
 * for a single-level CNode, and then slot 0's address less the guard's
 * share, so after the guard check the slot is one multiply-add away.  A
 * CNode's radix is 1..24 (objtypes.h), so no shift is by 64. */
_Static_assert(FERRY_CNODE_MIN_RADIX >= 1 && FERRY_CNODE_MAX_RADIX < 64, "lookup_fp's shifts");
_Static_assert(sizeof(struct cte) == BIT(FERRY_CTE_BITS), "cte size");
static inline __attribute__((always_inline)) bool lookup_fp(const struct cap *node, word_t cptr, struct cte **slot)
{
    word_t base = node->u.cnode.fp_base;
    if (unlikely(node->type != FERRY_OBJ_CNODE) || unlikely(!base) ||
        unlikely((cptr >> node->size_bits) != node->u.cnode.guard))
        return false;
    *slot = (struct cte *)(base + (cptr << FERRY_CTE_BITS));
    return true;
}

/* A message the fast path carries: no capabilities, no stray bits (bits
 * 7..11 clear).  The low 12 bits are then the length: they are read as
 * one value, and only a value above 4 needs a closer look. */
#define MSGINFO_LOW_BITS 0xfffUL
static inline bool message_fp(word_t msginfo)
{
    return !(msginfo & 0xf80);
}

/* Does t have an IPC buffer (tcb_ipc_buffer would not return NULL)? */
static inline bool has_ipc_buffer_fp(const struct tcb *t)
{
    return !cap_is_null(&t->slots[TCB_SLOT_IPCBUF].cap);
}

/* tcb_ipc_buffer without the call: the kernel address of t's IPC buffer
 * (it has one: has_ipc_buffer_fp), one load. */
static inline struct ferry_ipc_buffer *ipc_buffer_fp(const struct tcb *t)
{
    return t->ipc_buffer_kptr;          /* kept by Configure (object/tcb.h) */
}

/* Words beyond the registers: from src's IPC buffer into dst's (len is at
 * most FERRY_MSG_MAX_WORDS): one `rep movsq`, no memcpy call (see
 * FASTPATH_FN). */
static inline __attribute__((always_inline)) void copy_words_fp(const struct ferry_ipc_buffer *sbuf,
                                                                struct ferry_ipc_buffer *dbuf, word_t len)
{
    if (sbuf == dbuf)
        return;                          /* one buffer shared: nothing moves (as deliver) */
    const word_t *s = &sbuf->mr[FERRY_MSG_REG_WORDS];
    word_t *d = &dbuf->mr[FERRY_MSG_REG_WORDS];
    word_t n = len - FERRY_MSG_REG_WORDS;
    asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static inline __attribute__((always_inline)) void copy_buffer_fp(const struct tcb *src, const struct tcb *dst,
                                                                 word_t len)
{
    copy_words_fp(ipc_buffer_fp(src), ipc_buffer_fp(dst), len);
}

/* Cap type and one right checked by one comparison of the first two bytes
 * of struct cap (type, then rights; x86 is little-endian). */
_Static_assert(__builtin_offsetof(struct cap, type) == 0 && __builtin_offsetof(struct cap, rights) == 1,
               "cap_is_fp reads type and rights as one 16-bit word");
static inline __attribute__((always_inline)) bool cap_is_fp(const struct cap *c, uint8_t type, uint8_t right)
{
    /* An acquire load: a slot that a fast path on another CPU fills
     * (cap_insert_fp) is seen empty or whole. */
    uint16_t type_rights = __atomic_load_n((const uint16_t *)c, __ATOMIC_ACQUIRE);
    uint16_t want = (uint16_t)(type | right << 8);
    return (type_rights & (0xff | right << 8)) == want;
}

_Static_assert(TCB_IPC_GRANT == FERRY_RIGHT_GRANT && TCB_IPC_GRANT_REPLY == FERRY_RIGHT_GRANT_REPLY,
               "grant rights are ipc_flags bits as they are");

/* A fall back to the slow path, counted by reason in benchmark builds
 * (FERRY_SYS_FASTPATH_STATS reads the counts): one increment, on the
 * way out only, so the fast path itself is not longer.  entry.S jumped
 * here (no call: no return address), so the way out is a jump to
 * fastpath_miss_call or _reply_recv (FN), which saves the rest of the
 * message registers for the slow path: the entry saved only the cptr
 * and msginfo (entry.S's SAVE_SYSCALL_FRAME), which the C may use, and
 * the words never left rdx r8 r9 r10 (fixed).  (Keeping msginfo live in
 * rsi for the jump instead costs GCC a register: one push more.) */
#ifndef FERRY_BENCHMARK
#define FERRY_BENCHMARK 1
#endif
/* (The `return` after the jump is never reached; it keeps the functions
 * ordinary ones to GCC: one that never returns is "executed once" to its
 * heuristics and compiled for size, several instructions longer.) */
#define FP_JUMP_MISS(fn)                                                \
    do {                                                                \
        asm volatile("jmp " #fn : : : "memory");                        \
        return;                                                         \
    } while (0)
#if FERRY_BENCHMARK
word_t ks_fastpath_miss[FERRY_FP_COUNT];
/* Atomic: the fast path runs without the big kernel lock, on several CPUs
 * at once (docs/smp.md); a miss goes on to take the lock anyway, so the
 * locked add costs next to nothing beside it. */
#define FP_MISS(fn, reason)                                             \
    do {                                                                \
        __atomic_fetch_add(&ks_fastpath_miss[reason], 1, __ATOMIC_RELAXED); \
        FP_JUMP_MISS(fn);                                               \
    } while (0)
#else
#define FP_MISS(fn, reason) FP_JUMP_MISS(fn)
#endif
#define CALL_MISS(reason) FP_MISS(fastpath_miss_call, reason)
#define RR_MISS(reason) FP_MISS(fastpath_miss_reply_recv, reason)

/* The endpoint's fast-path lock (object/endpoint.h, docs/smp.md): the fast
 * path runs without the big kernel lock, so two CPUs' fast paths may meet
 * at one endpoint; each holds ep->fp_lock from its first read of the queue
 * to its last write.  Every other thread a fast path writes is its own
 * CPU's (the affinity tests below) and every slow path holds the big kernel
 * lock, which waits for all fast paths, so this is the only lock here.
 * One locked bit-test-and-set when free, one store to release. */
static inline __attribute__((always_inline)) void ep_lock_fp(struct endpoint *ep)
{
    while (unlikely(__atomic_fetch_or(&ep->fp_lock, 1, __ATOMIC_ACQUIRE) & 1))
        while (ep->fp_lock)
            asm volatile("pause" ::: "memory");
}
static inline __attribute__((always_inline)) void ep_unlock_fp(struct endpoint *ep)
{
    __atomic_store_n(&ep->fp_lock, 0, __ATOMIC_RELEASE);
}
/* A fall back with the endpoint's lock held: give it back first. */
#define CALL_MISS_EP(ep, reason)                                        \
    do {                                                                \
        ep_unlock_fp(ep);                                               \
        CALL_MISS(reason);                                              \
    } while (0)
#define RR_MISS_EP(ep, reason)                                          \
    do {                                                                \
        ep_unlock_fp(ep);                                               \
        RR_MISS(reason);                                                \
    } while (0)

/* No frame pointer and no calls (they leave by jumps, FASTPATH_JUMP_*):
 * leaf functions need no frame; no memcpy call for the buffer copy
 * either. */
#define FASTPATH_FN __attribute__((optimize("omit-frame-pointer", "no-tree-loop-distribute-patterns")))

/* Call.  general = false: a message of at most four words
 * (fastpath_call, the usual case); true: longer words
 * (fastpath_call_long, jumped to from the other). */
static inline __attribute__((always_inline)) void call_fp(word_t cptr, word_t msginfo, const bool general)
{
    struct tcb *cur = arch_current_fp();

    /* An endpoint we may send to... */
    struct cte *slot;
    if (unlikely(!lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr, &slot)) ||
        unlikely(!cap_is_fp(&slot->cap, FERRY_OBJ_ENDPOINT, FERRY_RIGHT_WRITE)))
        CALL_MISS(FERRY_FP_CALL_CAP);
    /* ...with a receiver waiting, who holds no other caller's reply right... */
    struct endpoint *ep = cap_endpoint(&slot->cap);
    ep_lock_fp(ep);
    if (unlikely(ep->state != EP_RECV))
        CALL_MISS_EP(ep, FERRY_FP_CALL_NO_RECEIVER);
    struct tcb *dest = ep->queue.head;
    if (unlikely(dest->reply_to != NULL))
        CALL_MISS_EP(ep, FERRY_FP_CALL_NO_RECEIVER);
    /* ...that entered by syscall, has a VSpace, runs on this CPU (a
     * partner on another goes the slow path: queued there, woken by IPI)
     * and that the scheduler would run now (we are about to block). */
    /* One compare of ctx.entry and the ready word beside it (object/tcb.h,
     * tcb_fp_home: FP_HOME_READY | affinity while it has a VSpace). */
    if (unlikely(dest->ctx.entry_home != ks_percpu.fp_home_want))
        CALL_MISS_EP(ep, FERRY_FP_CALL_PARTNER);
    paddr_t vs = arch_tcb_vspace_ready(dest);
    /* A receiver below us runs next only if no ready thread is above it
     * (nothing ready is above us while we run): ipc_switch_direct's rule,
     * asked of the ready queues' bitmap. */
    if (unlikely(dest->prio < cur->prio) && unlikely(sched_ready_above(dest->prio)))
        CALL_MISS_EP(ep, FERRY_FP_CALL_PRIO);
    /* A message without capabilities: words beyond the registers need
     * both IPC buffers (else the slow path reports the error or
     * truncates, as it does). */
    word_t len = msginfo & MSGINFO_LOW_BITS;     /* general = false: at most 4 */
    if (general && (unlikely(!message_fp(msginfo)) || unlikely(len > FERRY_MSG_MAX_WORDS) ||
                    unlikely(!has_ipc_buffer_fp(cur)) || unlikely(!has_ipc_buffer_fp(dest))))
        CALL_MISS_EP(ep, FERRY_FP_CALL_MESSAGE);

    /* ---- point of no return ---- */

    /* Dequeue the receiver (the head). */
    struct tcb *next = dest->ipc_next;
    ep->queue.head = next;
    if (unlikely(next)) {                /* the usual server waits alone */
        next->ipc_prev = NULL;
        dest->ipc_next = NULL;
    } else {
        ep->queue.tail = NULL;
        ep->state = EP_IDLE;
    }
    ep_unlock_fp(ep);                    /* dest is ours now: off the queue, on this CPU */
    if (general) {
        copy_buffer_fp(cur, dest, len);
        len = FERRY_MSG_REG_WORDS;
        /* Re-read (the entry saved it), so that msginfo need not live
         * across the copy's rdi/rsi (it stays in rsi on the
         * register-only path). */
        msginfo = ctx_get_msginfo(&cur->ctx);
    }
    word_t badge = slot->cap.u.ep.badge;
    dest->state_flags = TCB_STATE_FLAGS(TCB_RUNNABLE, 0);
    dest->blocked_on = NULL;

    /* The caller waits for the reply, its message registers unsaved (it
     * gets them from the reply; a cancelled wait returns an error with
     * them zeroed, tcb_cancel_ipc); its ctx.entry reads CTX_ENTRY_SYSCALL
     * already (arch/context.h). */
    cur->ipc_flags = TCB_IPC_CALL | (slot->cap.rights & (TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY));
    cur->state = TCB_BLOCKED_REPLY;
    cur->blocked_on = dest;
    dest->reply_to = cur;

    arch_fastpath_switch_exit(dest, vs, msginfo, badge, len);
}

FASTPATH_FN void fastpath_call(word_t cptr, word_t msginfo)
{
    /* Longer words: the general version (a jump: rdi and rsi still hold
     * cptr and msginfo). */
    if (unlikely((msginfo & MSGINFO_LOW_BITS) > FERRY_MSG_REG_WORDS))
        FASTPATH_JUMP_2(fastpath_call_long, cptr, msginfo);
    call_fp(cptr, msginfo, false);
}

FASTPATH_FN void fastpath_call_long(word_t cptr, word_t msginfo)
{
    call_fp(cptr, msginfo, true);
}

/* ---- One capability with a reply (the name service's answer) ---- */

/* The fast path's own lock on the capability derivation tree.  The slow
 * path changes capabilities only with the big kernel lock, which waits for
 * every fast path (BKL_DRAIN), so fast paths are the only ones that can
 * meet here: a reply that moves a capability holds this lock from its
 * first look at the slots involved to its last write into the tree, so
 * two such replies (on two CPUs) cannot fill one slot or link one parent's
 * child list at once.  Free whenever the big kernel lock is held
 * (kernel_invariants checks it).  Taken after an endpoint's fp_lock, never
 * before one. */
volatile word_t ks_fp_cdt_lock;

static inline __attribute__((always_inline)) void cdt_lock_fp(void)
{
    while (unlikely(__atomic_fetch_or(&ks_fp_cdt_lock, 1, __ATOMIC_ACQUIRE) & 1))
        while (ks_fp_cdt_lock)
            asm volatile("pause" ::: "memory");
}
static inline __attribute__((always_inline)) void cdt_unlock_fp(void)
{
    __atomic_store_n(&ks_fp_cdt_lock, 0, __ATOMIC_RELEASE);
}

/* What transfer_caps (core/ipc.c) would do with the one capability of a
 * reply from src to dst: move it (MOVE: *from to *to), give the reply
 * without it (NONE: the slow path's lookup errors, an occupied slot, an
 * untyped), or something the fast path leaves to the medium path (MISS:
 * a lookup that is not single-level at depth 64, a type whose copy is not
 * a plain copy).  Every word read from the IPC buffers is read once (user
 * threads on other CPUs may write them meanwhile).  Caller holds
 * ks_fp_cdt_lock. */
enum { XFER_NONE, XFER_MOVE, XFER_MISS };
#define READ_ONCE_FP(x) (*(const volatile word_t *)&(x))
static inline __attribute__((always_inline)) int cap_transfer_fp(const struct tcb *src, const struct tcb *dst,
                                                                 const struct ferry_ipc_buffer *sbuf,
                                                                 const struct ferry_ipc_buffer *dbuf,
                                                                 struct cte **from, struct cte **to)
{
    word_t scptr = READ_ONCE_FP(sbuf->caps_or_badges[0]);
    word_t rcnode = READ_ONCE_FP(dbuf->recv_cnode), rindex = READ_ONCE_FP(dbuf->recv_index);
    word_t rdepth = READ_ONCE_FP(dbuf->recv_depth);
    struct cte *cn;
    /* The null cptr names no slot (cspace.c's null_cptr): no transfer. */
    if (unlikely(!scptr) || unlikely(!rcnode) || unlikely(!rindex))
        return XFER_NONE;
    if (unlikely(rdepth != 64) || unlikely(!lookup_fp(&dst->slots[TCB_SLOT_CSPACE].cap, rcnode, &cn)) ||
        unlikely(!lookup_fp(&src->slots[TCB_SLOT_CSPACE].cap, scptr, from)))
        return XFER_MISS;
    /* A CNode the receiver may write (cn may be an empty slot: its type
     * then fails the test, as the slow path's lookup error does)... */
    if (unlikely(!cap_is_fp(&cn->cap, FERRY_OBJ_CNODE, FERRY_RIGHT_WRITE)))
        return XFER_NONE;
    /* ...its slot, which must be empty... */
    if (unlikely(!lookup_fp(&cn->cap, rindex, to)))
        return XFER_MISS;
    if (unlikely(!cap_is_null(&(*to)->cap)))
        return XFER_NONE;
    /* ...and a capability whose copy is the capability itself (derive_check:
     * an endpoint or a notification, badge and rights kept); an untyped is
     * never copied (nor an empty slot: the slow path's lookup error). */
    uint8_t type = (*from)->cap.type;
    if (likely(type == FERRY_OBJ_ENDPOINT) || type == FERRY_OBJ_NOTIFICATION)
        return XFER_MOVE;
    if (type == FERRY_OBJ_NULL || type == FERRY_OBJ_UNTYPED)
        return XFER_NONE;
    return XFER_MISS;
}

/* cte_copy(from, to, FERRY_RIGHTS_ALL) of an endpoint or notification
 * into the empty slot to: the same capability, a child of from in the
 * derivation tree (cte_insert: first child).  The capability's first word
 * (type and rights) is stored last, with release order: a fast path on
 * another CPU that looks the slot up (cap_is_fp, an acquire load) sees
 * either the empty slot or the whole capability. */
_Static_assert(__builtin_offsetof(struct cap, paddr) == 8, "cap_insert_fp: the first word is type..pad");
static inline __attribute__((always_inline)) void cap_insert_fp(struct cte *from, struct cte *to)
{
    struct cte *sib = from->first_child;
    uint64_t head;
    __builtin_memcpy(&head, &from->cap, sizeof head);
    head &= ~((uint64_t)(uint8_t)~FERRY_RIGHTS_ALL << 8);   /* rights & FERRY_RIGHTS_ALL */
    to->cap.paddr = from->cap.paddr;
    to->cap.u.raw[0] = from->cap.u.raw[0];
    to->cap.u.raw[1] = from->cap.u.raw[1];
    to->parent = from;
    to->first_child = NULL;
    to->prev_sibling = NULL;
    to->next_sibling = sib;
    if (sib)
        sib->prev_sibling = to;
    from->first_child = to;
    __atomic_store_n((uint64_t *)&to->cap, head, __ATOMIC_RELEASE);
}

/* ReplyRecv.  general = false: a reply of at most four words and no
 * capability (fastpath_reply_recv, the usual case); true: anything else
 * the fast path takes, longer words and one capability
 * (fastpath_reply_recv_long, jumped to from the other). */
static inline __attribute__((always_inline)) void reply_recv_fp(word_t cptr, word_t msginfo, const bool general)
{
    struct tcb *cur = arch_current_fp();
    struct tcb *caller = cur->reply_to;

    /* A caller that waits for our reply (not a faulted thread, nor one
     * on another CPU: TCB_IPC_XCPU)... */
    if (unlikely(!caller) || unlikely(caller->ipc_flags & (TCB_IPC_FAULT | TCB_IPC_XCPU)))
        RR_MISS(FERRY_FP_RR_NO_CALLER);
    /* ...and that the scheduler would run once we block: at our priority
     * or above (no ready thread is above us while we run: every kernel
     * exit goes through schedule(), which preempts for one), else only
     * if no ready thread is above it (as ipc_switch_direct decides). */
    if (unlikely(caller->prio < cur->prio) && sched_ready_above(caller->prio))
        RR_MISS(FERRY_FP_RR_PRIO);
    /* ...then a Recv on an endpoint with no sender queued, so we block,
     * and no signal pending on a bound notification (which would end the
     * Recv at once; an idle one only waits with us, as in seL4)... */
    struct cte *slot;
    if (unlikely(!lookup_fp(&cur->slots[TCB_SLOT_CSPACE].cap, cptr, &slot)) ||
        unlikely(!cap_is_fp(&slot->cap, FERRY_OBJ_ENDPOINT, FERRY_RIGHT_READ)))
        RR_MISS(FERRY_FP_RR_CAP);
    struct endpoint *ep = cap_endpoint(&slot->cap);
    const struct notification *bound = cur->bound_notification;
    ep_lock_fp(ep);
    if (unlikely(ep->state == EP_SEND) || (unlikely(bound != NULL) && unlikely(bound->state == NTFN_ACTIVE)))
        RR_MISS_EP(ep, FERRY_FP_RR_QUEUED);
    /* ...and a caller that entered by syscall and has a VSpace. */
    /* (The Call's compare: it also asks for the caller's affinity to be
     * this CPU, which TCB_IPC_XCPU clear implies.) */
    if (unlikely(caller->ctx.entry_home != ks_percpu.fp_home_want))
        RR_MISS_EP(ep, FERRY_FP_RR_PARTNER);
    paddr_t vs = arch_tcb_vspace_ready(caller);
    word_t len = msginfo & MSGINFO_LOW_BITS;     /* general = false: at most 4, no capability */
    struct cte *from = NULL, *to = NULL;
    const struct ferry_ipc_buffer *sbuf = NULL;
    struct ferry_ipc_buffer *dbuf = NULL;
    if (general) {
        /* Words beyond the registers, or one capability: both IPC buffers
         * needed (else the slow path reports the error, or cuts the
         * message short and sends no capability, as it does); no stray
         * bits, at most one capability. */
        word_t caps = msginfo & 0xf80;
        len = msginfo & 0x7f;
        if (unlikely(caps & ~0x80UL) || unlikely(len > FERRY_MSG_MAX_WORDS) ||
            unlikely(!has_ipc_buffer_fp(cur)) || unlikely(!has_ipc_buffer_fp(caller)))
            RR_MISS_EP(ep, FERRY_FP_RR_MESSAGE);
        sbuf = ipc_buffer_fp(cur);       /* once: the lock's asm makes GCC compute them again */
        dbuf = ipc_buffer_fp(caller);
        /* The capability moves only if the caller's Call capability had
         * a grant right (TCB_IPC_GRANT or _GRANT_REPLY, as ipc_reply);
         * else, or when transfer_caps would not move it, the reply goes
         * without it (the count it sees says so). */
        if (caps) {
            int x = XFER_NONE;
            if (caller->ipc_flags & (TCB_IPC_GRANT | TCB_IPC_GRANT_REPLY)) {
                cdt_lock_fp();
                x = cap_transfer_fp(cur, caller, sbuf, dbuf, &from, &to);
                if (unlikely(x == XFER_MISS)) {
                    cdt_unlock_fp();
                    RR_MISS_EP(ep, FERRY_FP_RR_CAP_XFER);
                }
                if (x == XFER_NONE)
                    cdt_unlock_fp();
            }
            if (x == XFER_NONE) {
                to = NULL;               /* (the lookups may have set it) */
                msginfo &= ~0x80UL;
            }
        }
    }

    /* ---- point of no return ---- */

    /* The reply (no badge on replies). */
    cur->reply_to = NULL;
    if (general) {
        if (len > FERRY_MSG_REG_WORDS) {
            copy_words_fp(sbuf, dbuf, len);
            len = FERRY_MSG_REG_WORDS;
        }
        if (to) {
            cap_insert_fp(from, to);
            dbuf->caps_or_badges[0] = from->cap.u.ep.badge;
            cdt_unlock_fp();
        }
    }
    caller->state_flags = TCB_STATE_FLAGS(TCB_RUNNABLE, 0);
    caller->blocked_on = NULL;

    /* We wait at the tail of the endpoint's queue.  A cancelled wait
     * restarts as Recv on the same cptr (tcb_cancel_ipc), which the entry
     * saved.  Our queue links are NULL already
     * (we run: a thread in no queue has none, kernel_invariants checks
     * it), so only a tail to follow sets one; ctx.entry reads
     * CTX_ENTRY_SYSCALL already (arch/context.h). */
    cur->state_flags = TCB_STATE_FLAGS(TCB_BLOCKED_RECV, 0);
    cur->blocked_on = ep;
    struct tcb *tail = ep->queue.tail;
    if (unlikely(tail)) {                /* the usual server waits alone */
        cur->ipc_prev = tail;
        tail->ipc_next = cur;
    } else {
        ep->queue.head = cur;
    }
    ep->queue.tail = cur;
    ep->state = EP_RECV;
    ep_unlock_fp(ep);

    arch_fastpath_switch_exit(caller, vs, msginfo, 0, len);
}

FASTPATH_FN void fastpath_reply_recv(word_t cptr, word_t msginfo)
{
    /* Longer words or a capability: the general version (a jump: rdi and
     * rsi still hold cptr and msginfo). */
    if (unlikely((msginfo & MSGINFO_LOW_BITS) > FERRY_MSG_REG_WORDS))
        FASTPATH_JUMP_2(fastpath_reply_recv_long, cptr, msginfo);
    reply_recv_fp(cptr, msginfo, false);
}

FASTPATH_FN void fastpath_reply_recv_long(word_t cptr, word_t msginfo)
{
    reply_recv_fp(cptr, msginfo, true);
}
#endif
