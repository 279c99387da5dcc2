/* SOURCES: kernel/core/invariants.c kernel/object/cnode.c kernel/object/untyped.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/cspace.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_invariants.c: the kernel invariant check passes on consistent state and names each kind of corruption (never loops on a cycle). */
#include "objtest.h"

#include <string.h>
#include <core/invariants.h>
#include <object/endpoint.h>
#include <object/notification.h>

static struct cte ut, root;    /* untyped and a 256-slot CNode made from it */
static struct cte *s;          /* the CNode's slots */
static struct tcb cur_thread;  /* the caller of the check */
static const char *arch_answer;

struct tcb *arch_current(void) { return &cur_thread; }
bool arch_is_idle(const struct tcb *t) { return t == &objtest_idle; }
void arch_inv_begin(void) {}
const char *arch_inv_cap(const struct cte *slot, bool object_root)
{
    (void)slot;
    (void)object_root;
    return NULL;
}
const char *arch_inv_end(void) { return arch_answer; }

static int setup(void **state)
{
    (void)state;
    s = objtest_cnode(&ut, &root);
    memset(&cur_thread, 0, sizeof cur_thread);
    cur_thread.state = TCB_RUNNABLE;
    arch_answer = NULL;
    return 0;
}

static void make(word_t type, word_t bits, int slot, int n)
{
    assert_int_equal(untyped_retype(&ut, type, bits, &s[slot], n), FERRY_OK);
}

static struct inv_report check(void)
{
    struct inv_report r;
    invariants_check(&root, &r);
    return r;
}

/* Some of everything: objects, copies, a blocked thread, a ready one. */
static void populate(void)
{
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    make(FERRY_OBJ_NOTIFICATION, 0, 1, 1);
    make(FERRY_OBJ_TCB, 0, 2, 2);
    make(FERRY_OBJ_UNTYPED, 12, 4, 1);
    assert_int_equal(cte_copy(&s[0], &s[10], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[10], &s[11], FERRY_RIGHTS_ALL), FERRY_OK);
    struct tcb *blocked = cap_tcb(&s[2].cap), *ready = cap_tcb(&s[3].cap);
    blocked->state = TCB_BLOCKED_RECV;
    endpoint_enqueue(cap_endpoint(&s[0].cap), blocked);
    ready->state = TCB_RUNNABLE;
    ready->prio = 7;
    sched_enqueue(ready);
}

static void test_consistent_state_passes(void **state)
{
    (void)state;
    populate();
    struct inv_report r = check();
    assert_int_equal(r.code, FERRY_INV_OK);
    /* the arena untyped's free part plus the whole child untyped */
    assert_int_equal(r.free_bytes, (BIT(ARENA_BITS) - ut.cap.u.untyped.watermark) + BIT(12));
    assert_int_equal(r.caps, 1 + 1 + 5 + 2);   /* ut, root CNode, 5 objects, 2 copies */
    assert_int_equal(r.threads, 2);
}

static void test_free_bytes_follow_retype_and_delete(void **state)
{
    (void)state;
    struct inv_report before = check();
    assert_int_equal(before.code, FERRY_INV_OK);
    assert_int_equal(before.free_bytes, BIT(ARENA_BITS) - ut.cap.u.untyped.watermark);
    make(FERRY_OBJ_CNODE, 4, 20, 1);
    struct inv_report mid = check();
    assert_int_equal(mid.code, FERRY_INV_OK);
    assert_int_equal(mid.free_bytes, before.free_bytes - BIT(4 + FERRY_CTE_BITS));
    cte_delete(&s[20]);
    struct inv_report after = check();
    assert_int_equal(after.code, FERRY_INV_OK);
    /* the watermark stays (other children), so only a revoke of all gives it back */
    assert_int_equal(after.free_bytes, mid.free_bytes);
}

static void test_broken_sibling_link(void **state)
{
    (void)state;
    populate();
    s[11].prev_sibling = &s[5];
    assert_int_equal(check().code, FERRY_INV_CDT_LINKS);
}

static void test_cycle_is_reported_not_followed(void **state)
{
    (void)state;
    populate();
    s[11].first_child = &s[10];    /* copy of a copy points back at its parent */
    assert_int_equal(check().code, FERRY_INV_CDT_LINKS);
}

static void test_object_in_two_subtrees(void **state)
{
    (void)state;
    populate();
    /* Cut the copy chain off its object's subtree and make it a root. */
    s[10].first_child = NULL;
    s[11].parent = NULL;
    s[11].prev_sibling = s[11].next_sibling = NULL;
    assert_int_equal(check().code, FERRY_INV_CDT_OBJECT);
}

static void test_slot_outside_its_tree(void **state)
{
    (void)state;
    populate();
    s[10].first_child = NULL;      /* s[11] still says its parent is s[10] */
    assert_int_equal(check().code, FERRY_INV_CDT_LINKS);
}

static void test_untyped_watermark(void **state)
{
    (void)state;
    populate();
    s[4].cap.u.untyped.watermark = 64;   /* no children, yet memory in use */
    assert_int_equal(check().code, FERRY_INV_UNTYPED);
}

static void test_untyped_objects_overlap(void **state)
{
    (void)state;
    populate();
    s[1].cap.paddr = s[0].cap.paddr;     /* the notification on top of the endpoint */
    assert_int_equal(check().code, FERRY_INV_UNTYPED);
}

static void test_runnable_thread_lost(void **state)
{
    (void)state;
    populate();
    struct tcb *ready = cap_tcb(&s[3].cap);
    sched_dequeue(ready);              /* runnable, yet in no queue and not current */
    assert_int_equal(check().code, FERRY_INV_THREAD);
}

static void test_blocked_thread_not_in_queue(void **state)
{
    (void)state;
    populate();
    struct endpoint *ep = cap_endpoint(&s[0].cap);
    ep->queue.head = ep->queue.tail = NULL;
    ep->state = EP_IDLE;
    assert_int_equal(check().code, FERRY_INV_THREAD);
}

static void test_ready_bitmap(void **state)
{
    (void)state;
    populate();
    ks_ready_bitmap.l2[1] |= 1;        /* priority 64 marked ready, its queue empty */
    ks_ready_bitmap.l1 |= 2;
    assert_int_equal(check().code, FERRY_INV_SCHED);
}

static void test_endpoint_queue_state(void **state)
{
    (void)state;
    populate();
    cap_endpoint(&s[0].cap)->state = EP_SEND;   /* a receiver queued as if sending */
    assert_int_not_equal(check().code, FERRY_INV_OK);
}

static void test_arch_answer_is_a_mapping_failure(void **state)
{
    (void)state;
    populate();
    arch_answer = "made up";
    assert_int_equal(check().code, FERRY_INV_MAPPING);
}

static void test_deep_chain(void **state)
{
    (void)state;
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    for (int i = 1; i < 256; i++)
        assert_int_equal(cte_copy(&s[i - 1], &s[i], FERRY_RIGHTS_ALL), FERRY_OK);
    struct inv_report r = check();
    assert_int_equal(r.code, FERRY_INV_OK);
    assert_int_equal(r.caps, 2 + 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_consistent_state_passes, setup),
        cmocka_unit_test_setup(test_free_bytes_follow_retype_and_delete, setup),
        cmocka_unit_test_setup(test_broken_sibling_link, setup),
        cmocka_unit_test_setup(test_cycle_is_reported_not_followed, setup),
        cmocka_unit_test_setup(test_object_in_two_subtrees, setup),
        cmocka_unit_test_setup(test_slot_outside_its_tree, setup),
        cmocka_unit_test_setup(test_untyped_watermark, setup),
        cmocka_unit_test_setup(test_untyped_objects_overlap, setup),
        cmocka_unit_test_setup(test_runnable_thread_lost, setup),
        cmocka_unit_test_setup(test_blocked_thread_not_in_queue, setup),
        cmocka_unit_test_setup(test_ready_bitmap, setup),
        cmocka_unit_test_setup(test_endpoint_queue_state, setup),
        cmocka_unit_test_setup(test_arch_answer_is_a_mapping_failure, setup),
        cmocka_unit_test_setup(test_deep_chain, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
