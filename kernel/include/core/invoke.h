/* invoke.h: the invocation record the syscall layer fills, and dispatch of an invocation by capability type. */
#ifndef FERRY_CORE_INVOKE_H
#define FERRY_CORE_INVOKE_H

#include <types.h>
#include <ferry/errors.h>
#include <ferry/invocation.h>

struct tcb;
struct cte;

/* Not an error: the invoked capability is an endpoint or notification, so
 * the syscall layer must route the message to IPC (inv->target is its
 * slot).  Never returned to user space. */
#define INVOKE_IPC 0x1000UL

/* Not an error either: a long operation stopped at a preemption point
 * (core/preempt.h) with its progress kept in the objects; the syscall
 * layer makes the caller restart the system call when it next runs.
 * Never returned to user space. */
#define INVOKE_PREEMPTED 0x1001UL

struct invocation {
    word_t cptr;                          /* invoked capability, in the caller's CSpace */
    word_t label;                         /* enum ferry_label */
    word_t len;                           /* in: valid mr[] words; out (success): result
                                           * words in mr[], 0 if the invocation has none */
    word_t extra_caps;                    /* valid caps[] entries */
    word_t caps[FERRY_MAX_EXTRA_CAPS];    /* cptrs of extra capabilities */
    word_t mr[FERRY_MSG_MAX_WORDS];       /* arguments in, results out */
    /* Out, on error: which argument failed (mr index, FERRY_ERR_ARG_CAP(i)
     * for caps[i], or FERRY_ERR_ARG_NONE) and, for lookup errors, how many
     * cptr bits were left unresolved. */
    word_t err_arg;
    word_t err_bits_left;
    struct cte *target;                   /* out: the resolved invoked slot */
};

/* Resolve inv->cptr and the extra caps in caller's CSpace and perform the
 * invocation.  Returns 0, a FERRY_E_* code, or INVOKE_IPC.  On return the
 * caller may have been suspended or destroyed by its own invocation
 * (check caller->state), and a thread of higher priority may be ready
 * (sched_should_preempt). */
word_t invoke(struct tcb *caller, struct invocation *inv);

/* The empty slot where an invocation puts a new capability: mr[argi] is
 * its index and mr[argi + 1] its depth under the CNode capability root
 * (caps[0], which needs WRITE).  Errors name the argument at fault. */
word_t inv_dest_slot(struct invocation *inv, const struct cte *root, word_t argi, struct cte **dst);

/* Decoders fail through this: record which argument was wrong. */
static inline word_t inv_fail(struct invocation *inv, word_t err, word_t arg)
{
    inv->err_arg = arg;
    return err;
}

#endif
