/* objtest.h: shared fixture for the object-layer unit tests: a fake physical arena and recording arch hooks. */
#ifndef FERRY_TEST_OBJTEST_H
#define FERRY_TEST_OBJTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <object/cap.h>
#include <object/cnode.h>
#include <object/untyped.h>
#include <object/tcb.h>
#include <object/arch_hooks.h>
#include <core/sched.h>
#include <ferry/errors.h>
#include <ferry/invocation.h>

#define ARENA_PADDR 0x800000UL    /* the arena is physical [8 MiB, 16 MiB) */
#define ARENA_BITS  23

/* What the recording arch hooks saw since objtest_reset(). */
struct arch_log {
    int init_calls;
    word_t init_type;
    paddr_t init_paddr;
    unsigned init_bits;
    int delete_final;
    int delete_nonfinal;
    paddr_t last_final_paddr;
    int derive_calls;
    int decode_calls;
    int tcb_init_calls;
    int tcb_destroy_calls;
    int bases_in_use_calls;
};
extern struct arch_log arch_log;
/* The fake preemption point stops every objtest_preempt_every-th call
 * (0: never); objtest_preempt_calls counts the calls. */
extern int objtest_preempt_every, objtest_preempt_calls;
extern struct tcb objtest_idle;

#define ARCH_DECODE_MARK 0x777UL  /* what the fake arch_decode_invocation returns */

/* Zero the arena, point the physmap at it, reset the scheduler and log. */
void objtest_reset(void);
void *arena_ptr(paddr_t pa);
/* A root untyped of 2^bits at ARENA_PADDR + offset, in *slot. */
void objtest_untyped(struct cte *slot, word_t offset, unsigned bits);
/* objtest_reset, then the whole arena as untyped *ut and a 256-slot CNode
 * made from it in *root; returns the CNode's slots. */
struct cte *objtest_cnode(struct cte *ut, struct cte *root);

#endif
