/* invariants.h: the kernel invariant check (FERRY_SYS_DEBUG_CHECK): its arguments, results and the codes of the invariants it verifies (ABI). */
#ifndef FERRY_UAPI_INVARIANTS_H
#define FERRY_UAPI_INVARIANTS_H

/*
 * FERRY_SYS_DEBUG_CHECK (debug capability in rdi):
 *   in:  word 0 (rdx) = cptr of the CNode to start from in the caller's
 *        CSpace, 0 = the caller's CSpace root.
 *   out: rax = error of the call itself (FERRY_OK when the check ran);
 *        word 0 = FERRY_INV_OK or the first invariant found broken (the
 *        kernel also prints what and where on its console);
 *        word 1 = free bytes of all untyped capabilities walked (their
 *                 size minus their watermark), to compare before/after;
 *        word 2 = capabilities walked; word 3 = threads checked.
 *
 * What is walked: the start CNode's slots, every derivation tree one of
 * them is in (whole trees, from their roots), the slots of every CNode met
 * on the way (the trees those lead to as well), the ready queues and every
 * queue of an endpoint or notification met.
 */
enum ferry_invariant {
    FERRY_INV_OK = 0,
    FERRY_INV_LIMIT,          /* the walk exceeded a bound of the checker (cycle, or too big to check) */
    FERRY_INV_CAP_TYPE,       /* a slot holds a capability of no known type */
    FERRY_INV_CDT_LINKS,      /* parent / child / sibling links disagree */
    FERRY_INV_CDT_OBJECT,     /* an object's capabilities are not one subtree */
    FERRY_INV_UNTYPED,        /* watermark, or a child object outside / overlapping in its untyped */
    FERRY_INV_MAPPING,        /* a mapping record and the page tables disagree */
    FERRY_INV_SCHED,          /* ready queues or their bitmap inconsistent */
    FERRY_INV_QUEUE,          /* an endpoint or notification queue inconsistent */
    FERRY_INV_THREAD,         /* a thread is lost: not where its state says it is */
    FERRY_INV_COUNT
};

#endif
