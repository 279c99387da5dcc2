/* invariants.h: the kernel invariant check behind FERRY_SYS_DEBUG_CHECK (core/invariants.c, arch part in arch/x86_64/object/invariants.c). */
#ifndef FERRY_CORE_INVARIANTS_H
#define FERRY_CORE_INVARIANTS_H

#include <object/cap.h>
#include <ferry/invariants.h>

struct tcb;

struct inv_report {
    word_t code;        /* enum ferry_invariant: the first one found broken */
    word_t free_bytes;  /* sum over the untyped capabilities walked of size - watermark */
    word_t caps;        /* capabilities walked */
    word_t threads;     /* threads checked */
};

/* Walk from the CNode capability in slot start (see uapi/ferry/invariants.h for
 * what is reached) and check every invariant on the way; the first broken
 * one is printed on the console and its code put in r->code.  Reads kernel
 * state only, except a walk mark in each visited capability's padding. */
void invariants_check(struct cte *start, struct inv_report *r);

/* The system call: cur asked, debug_cptr names its debug capability
 * (checked by the dispatcher), the start CNode cptr is in word 0. */
void invariants_syscall(struct tcb *cur, word_t debug_cptr);

/* The architecture's part: mapping records against the page tables.
 * begin resets it; cap is called once per capability walked (object_root:
 * the first capability of its object met, so once per object); end runs
 * the checks that need every record.  They return NULL or what is broken. */
#define INV_LIMIT_MSG "limit: "   /* a message that starts so is FERRY_INV_LIMIT, not a mapping error */
void arch_inv_begin(void);
const char *arch_inv_cap(const struct cte *slot, bool object_root);
const char *arch_inv_end(void);

#endif
