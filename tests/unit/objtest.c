/* objtest.c: fixture for the object-layer unit tests (arena as physical memory, recording arch hooks). */
#include "objtest.h"

#include <stdlib.h>
#include <string.h>
#include <mm/physmap.h>

struct arch_log arch_log;
struct tcb objtest_idle;
static uint8_t *arena;

void objtest_reset(void)
{
    if (!arena) {
        arena = aligned_alloc(1UL << ARENA_BITS, 1UL << ARENA_BITS);
        assert_non_null(arena);
    }
    memset(arena, 0, 1UL << ARENA_BITS);
    objtest_preempt_every = objtest_preempt_calls = 0;
    host_physmap_offset = (uintptr_t)arena - ARENA_PADDR;
    memset(&arch_log, 0, sizeof arch_log);
    memset(&objtest_idle, 0, sizeof objtest_idle);
    sched_init(&objtest_idle);
}

void *arena_ptr(paddr_t pa)
{
    assert_true(pa >= ARENA_PADDR && pa < ARENA_PADDR + (1UL << ARENA_BITS));
    return arena + (pa - ARENA_PADDR);
}

void objtest_untyped(struct cte *slot, word_t offset, unsigned bits)
{
    memset(slot, 0, sizeof *slot);
    assert_int_equal(untyped_boot_create(slot, ARENA_PADDR + offset, bits, false), FERRY_OK);
}

struct cte *objtest_cnode(struct cte *ut, struct cte *root)
{
    objtest_reset();
    memset(root, 0, sizeof *root);
    objtest_untyped(ut, 0, ARENA_BITS);
    assert_int_equal(untyped_retype(ut, FERRY_OBJ_CNODE, 8, root, 1), FERRY_OK);
    return cnode_slot(&root->cap, 0);
}

void arch_object_init(word_t type, paddr_t paddr, unsigned size_bits)
{
    arch_log.init_calls++;
    arch_log.init_type = type;
    arch_log.init_paddr = paddr;
    arch_log.init_bits = size_bits;
}

void arch_cap_delete(const struct cap *cap, bool final)
{
    if (final) {
        arch_log.delete_final++;
        arch_log.last_final_paddr = cap->paddr;
    } else {
        arch_log.delete_nonfinal++;
    }
}

/* Preemption points: stop every objtest_preempt_every-th one (0: never). */
int objtest_preempt_every;
int objtest_preempt_calls;

bool preemption_point(void)
{
    objtest_preempt_calls++;
    return objtest_preempt_every && objtest_preempt_calls % objtest_preempt_every == 0;
}

void preemption_reset(void) {}

word_t arch_cap_derive(struct cap *cap)
{
    arch_log.derive_calls++;
    cap->u.map.vaddr = 0;
    cap->u.map.vspace = 0;
    return FERRY_OK;
}

word_t arch_decode_invocation(struct tcb *caller, struct cte *slot, struct invocation *inv,
                              struct cte **extra, unsigned nextra)
{
    (void)caller; (void)slot; (void)inv; (void)extra; (void)nextra;
    arch_log.decode_calls++;
    return ARCH_DECODE_MARK;
}

void arch_tcb_init(struct tcb *tcb)
{
    arch_log.tcb_init_calls++;
    tcb->ctx.entry = CTX_ENTRY_FULL;
}

void arch_user_bases_written(struct tcb *tcb)
{
    (void)tcb;
    arch_log.bases_in_use_calls++;
}

void arch_tcb_destroy(struct tcb *tcb)
{
    (void)tcb;
    arch_log.tcb_destroy_calls++;
}
