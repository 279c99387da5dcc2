/* SOURCES: kernel/object/cnode.c kernel/object/untyped.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/cspace.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_cdt.c: the capability derivation tree: copy, mint, move, delete (with destruction), revoke. */
#include "objtest.h"

#include <pthread.h>
#include <string.h>
#include <core/invoke.h>
#include <object/endpoint.h>
#include <object/notification.h>

static struct cte ut, root;    /* untyped and a 256-slot CNode made from it */
static struct cte *s;          /* the CNode's slots */

static int setup(void **state)
{
    (void)state;
    s = objtest_cnode(&ut, &root);
    return 0;
}

static void make(word_t type, word_t bits, int slot, int n)
{
    assert_int_equal(untyped_retype(&ut, type, bits, &s[slot], n), FERRY_OK);
}

/* A thread blocked receiving on the endpoint in slot i. */
static struct tcb *block_on_ep(int tcb_slot, int ep_slot)
{
    make(FERRY_OBJ_TCB, 0, tcb_slot, 1);
    struct tcb *t = cap_tcb(&s[tcb_slot].cap);
    t->state = TCB_BLOCKED_RECV;
    endpoint_enqueue(cap_endpoint(&s[ep_slot].cap), t);
    return t;
}

static void test_copy_is_child_with_fewer_rights(void **state)
{
    (void)state;
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHT_READ | FERRY_RIGHT_GRANT), FERRY_OK);
    assert_ptr_equal(s[1].parent, &s[0]);
    assert_ptr_equal(s[0].first_child, &s[1]);
    assert_int_equal(s[1].cap.rights, FERRY_RIGHT_READ | FERRY_RIGHT_GRANT);
    assert_int_equal(s[1].cap.paddr, s[0].cap.paddr);
    assert_false(cte_is_final(&s[0]));
    assert_false(cte_is_final(&s[1]));

    /* rights only shrink: asking for all from a READ|GRANT cap gives READ|GRANT */
    assert_int_equal(cte_copy(&s[1], &s[2], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(s[2].cap.rights, FERRY_RIGHT_READ | FERRY_RIGHT_GRANT);
    assert_int_equal(cte_copy(&s[2], &s[3], FERRY_RIGHT_WRITE), FERRY_OK);
    assert_int_equal(s[3].cap.rights, 0);

    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHTS_ALL), FERRY_E_SLOT_OCCUPIED);
    assert_int_equal(cte_copy(&s[9], &s[10], FERRY_RIGHTS_ALL), FERRY_E_SLOT_EMPTY);
}

static void test_mint_badge_and_guard(void **state)
{
    (void)state;
    make(FERRY_OBJ_NOTIFICATION, 0, 0, 1);
    assert_int_equal(cte_mint(&s[0], &s[1], FERRY_RIGHTS_ALL, 0x55), FERRY_OK);
    assert_int_equal(s[1].cap.u.ep.badge, 0x55);
    assert_int_equal(s[0].cap.u.ep.badge, 0);
    /* a badge is set once; data 0 copies the badge along */
    assert_int_equal(cte_mint(&s[1], &s[2], FERRY_RIGHTS_ALL, 0x66), FERRY_E_ILLEGAL_OP);
    assert_true(cap_is_null(&s[2].cap));
    assert_int_equal(cte_mint(&s[1], &s[2], FERRY_RIGHT_WRITE, 0), FERRY_OK);
    assert_int_equal(s[2].cap.u.ep.badge, 0x55);
    assert_int_equal(s[2].cap.rights, FERRY_RIGHT_WRITE);

    /* frames have nothing to mint */
    make(FERRY_OBJ_FRAME_4K, 0, 3, 1);
    assert_int_equal(cte_mint(&s[3], &s[4], FERRY_RIGHTS_ALL, 1), FERRY_E_INVALID_ARG);
    assert_int_equal(cte_mint(&s[3], &s[4], FERRY_RIGHT_READ, 0), FERRY_OK);
    assert_int_equal(arch_log.derive_calls, 1);

    /* CNode guards: value must fit its width, width + radix <= 64 */
    make(FERRY_OBJ_CNODE, 4, 5, 1);
    assert_int_equal(cte_mint(&s[5], &s[6], FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0x2a, 6)), FERRY_OK);
    assert_int_equal(s[6].cap.guard_bits, 6);
    assert_int_equal(s[6].cap.u.cnode.guard, 0x2a);
    assert_int_equal(s[6].cap.size_bits, 4);
    assert_int_equal(cte_mint(&s[5], &s[7], FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0x40, 6)), FERRY_E_RANGE);
    assert_int_equal(cte_mint(&s[5], &s[7], FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 61)), FERRY_E_RANGE);
    assert_int_equal(cte_mint(&s[5], &s[7], FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 60)), FERRY_OK);
    assert_true(cap_is_null(&s[8].cap));
}

static void test_move_keeps_derivation(void **state)
{
    (void)state;
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[1], &s[2], FERRY_RIGHTS_ALL), FERRY_OK);
    cte_move(&s[1], &s[7]);
    assert_true(cap_is_null(&s[1].cap));
    assert_null(s[1].parent);
    assert_ptr_equal(s[7].parent, &s[0]);
    assert_ptr_equal(s[0].first_child, &s[7]);
    assert_ptr_equal(s[2].parent, &s[7]);
    /* moving the root: the untyped's child pointer follows */
    cte_move(&s[0], &s[8]);
    assert_ptr_equal(s[8].parent, &ut);
    assert_ptr_equal(s[7].parent, &s[8]);
    bool found = false;
    for (struct cte *c = ut.first_child; c; c = c->next_sibling)
        found |= c == &s[8];
    assert_true(found);
}

static void test_revoke_removes_descendants_only(void **state)
{
    (void)state;
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    struct tcb *t = block_on_ep(20, 0);
    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_mint(&s[1], &s[2], FERRY_RIGHTS_ALL, 7), FERRY_OK);
    assert_int_equal(cte_copy(&s[2], &s[3], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[0], &s[4], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[4], &s[5], FERRY_RIGHTS_ALL), FERRY_OK);

    cte_revoke(&s[1]);
    assert_true(cap_is_null(&s[2].cap));
    assert_true(cap_is_null(&s[3].cap));
    assert_false(cap_is_null(&s[1].cap));
    assert_false(cap_is_null(&s[5].cap));

    cte_revoke(&s[0]);
    for (int i = 1; i <= 5; i++)
        assert_true(cap_is_null(&s[i].cap));
    assert_false(cap_is_null(&s[0].cap));
    assert_null(s[0].first_child);
    /* the endpoint survived: its waiter still waits */
    assert_int_equal(t->state, TCB_BLOCKED_RECV);
    assert_true(cte_is_final(&s[0]));

    /* deleting the last capability destroys it: the waiter wakes with an error */
    cte_delete(&s[0]);
    assert_int_equal(t->state, TCB_RUNNABLE);
    assert_int_equal(t->ipc_result, FERRY_E_INVALID_CAP);
    assert_null(t->blocked_on);
    assert_ptr_equal(sched_choose(), t);
}

static void test_delete_non_final_keeps_object(void **state)
{
    (void)state;
    make(FERRY_OBJ_FRAME_4K, 0, 0, 1);
    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHTS_ALL), FERRY_OK);
    cte_delete(&s[0]);
    assert_int_equal(arch_log.delete_nonfinal, 1);
    assert_int_equal(arch_log.delete_final, 0);
    /* the copy is now the object's root, under the untyped */
    assert_ptr_equal(s[1].parent, &ut);
    assert_true(cte_is_final(&s[1]));
    cte_delete(&s[1]);
    assert_int_equal(arch_log.delete_final, 1);
    assert_int_equal(arch_log.last_final_paddr, ARENA_PADDR + 4096 * 4);  /* after the CNode */
    assert_null(ut.first_child->next_sibling);   /* only the CNode is left */
}

static void test_delete_middle_keeps_subtree(void **state)
{
    (void)state;
    /* A -> B -> {C, D}, A -> E */
    make(FERRY_OBJ_FRAME_4K, 0, 0, 1);
    assert_int_equal(cte_copy(&s[0], &s[1], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[1], &s[2], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[1], &s[3], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[0], &s[4], FERRY_RIGHTS_ALL), FERRY_OK);

    cte_delete(&s[1]);    /* B: its children move up to A */
    assert_ptr_equal(s[2].parent, &s[0]);
    assert_ptr_equal(s[3].parent, &s[0]);
    int n = 0;
    for (struct cte *c = s[0].first_child; c; c = c->next_sibling) {
        assert_ptr_equal(c->parent, &s[0]);
        n++;
    }
    assert_int_equal(n, 3);

    cte_delete(&s[0]);    /* the root A: one child takes its place */
    struct cte *heir = NULL;
    for (struct cte *c = ut.first_child; c; c = c->next_sibling)
        if (c == &s[2] || c == &s[3] || c == &s[4])
            heir = c;
    assert_non_null(heir);
    for (int i = 2; i <= 4; i++)
        if (&s[i] != heir)
            assert_ptr_equal(s[i].parent, heir);
    assert_int_equal(arch_log.delete_final, 0);

    cte_delete(&s[2]);
    cte_delete(&s[4]);
    assert_int_equal(arch_log.delete_final, 0);
    assert_true(cte_is_final(&s[3]));
    cte_revoke(&s[3]);    /* nothing below: no-op */
    assert_false(cap_is_null(&s[3].cap));
    cte_delete(&s[3]);
    assert_int_equal(arch_log.delete_final, 1);
    assert_int_equal(arch_log.delete_nonfinal, 4);
}

static void test_revoke_untyped_destroys_everything(void **state)
{
    (void)state;
    struct cte sub;
    memset(&sub, 0, sizeof sub);
    /* a private untyped so the test CNode survives */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 16, &s[100], 1), FERRY_OK);
    struct cte *u = &s[100];
    assert_int_equal(untyped_retype(u, FERRY_OBJ_ENDPOINT, 0, &s[0], 3), FERRY_OK);
    assert_int_equal(untyped_retype(u, FERRY_OBJ_TCB, 0, &s[3], 1), FERRY_OK);
    assert_int_equal(untyped_retype(u, FERRY_OBJ_FRAME_4K, 0, &s[4], 1), FERRY_OK);
    struct tcb *t = cap_tcb(&s[3].cap);
    tcb_resume(t);
    assert_true(t->in_ready_queue);
    assert_int_equal(cte_copy(&s[1], &s[10], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_copy(&s[4], &s[11], FERRY_RIGHTS_ALL), FERRY_OK);

    cte_revoke(u);
    for (int i = 0; i < 12; i++)
        assert_true(cap_is_null(&s[i].cap));
    assert_false(cap_is_null(&u->cap));
    assert_int_equal(u->cap.u.untyped.watermark, 0);
    assert_false(t->in_ready_queue);
    assert_int_equal(t->state, TCB_INACTIVE);
    assert_int_equal(arch_log.delete_final, 1);
    assert_int_equal(arch_log.delete_nonfinal, 1);
    assert_int_equal(arch_log.tcb_destroy_calls, 1);
    assert_int_equal(sched_highest_prio(), -1);
}

/* A long derivation chain with branches, revoked through preemption
 * points that stop every 7th time: each restart goes on where the last
 * one stopped, and in the end exactly the descendants are gone. */
static void test_revoke_preemptible_chain(void **state)
{
    (void)state;
    enum { RADIX = 13, N = 1 << RADIX };
    struct cte big;
    memset(&big, 0, sizeof big);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, RADIX, &big, 1), FERRY_OK);
    struct cte *b = cnode_slot(&big.cap, 0);
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    assert_int_equal(cte_copy(&s[0], &b[0], FERRY_RIGHTS_ALL), FERRY_OK);
    /* b[i] is a copy of b[i - 1], and every 16th also gets a side branch */
    int caps = 1;
    for (int i = 1; i < N - N / 16; i++, caps++)
        assert_int_equal(cte_copy(&b[i - 1], &b[i], FERRY_RIGHTS_ALL), FERRY_OK);
    for (int i = 0, j = N - N / 16; j < N; i += 16, j++, caps++)
        assert_int_equal(cte_copy(&b[i], &b[j], FERRY_RIGHTS_ALL), FERRY_OK);
    objtest_preempt_every = 7;
    int rounds = 0;
    while (cte_revoke_preemptible(&s[0]) != FERRY_OK)
        rounds++;
    /* a unit per deleted capability and per capability moved up, each
     * moved at most once: linear, and the restarts redo nothing */
    assert_true(objtest_preempt_calls >= caps && objtest_preempt_calls <= 2 * caps);
    assert_int_equal(rounds, objtest_preempt_calls / 7);
    for (int i = 0; i < N; i++)
        assert_true(cap_is_null(&b[i].cap));
    assert_null(s[0].first_child);
    assert_false(cap_is_null(&s[0].cap));
    assert_int_equal(arch_log.delete_final, 0);
    /* nothing left: a revoke with nothing to do stops nowhere */
    objtest_preempt_calls = 0;
    assert_int_equal(cte_revoke_preemptible(&s[0]), FERRY_OK);
    assert_int_equal(objtest_preempt_calls, 0);
}

/* An object with many direct copies, revoked from its untyped: linear
 * (each unit moves one copy up or deletes a leaf), and the object goes
 * once, with its last capability. */
static void test_revoke_untyped_star(void **state)
{
    (void)state;
    enum { RADIX = 12, N = 1 << RADIX };
    struct cte big;
    memset(&big, 0, sizeof big);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, RADIX, &big, 1), FERRY_OK);
    struct cte *b = cnode_slot(&big.cap, 0);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 12, &s[100], 1), FERRY_OK);
    assert_int_equal(untyped_retype(&s[100], FERRY_OBJ_NOTIFICATION, 0, &s[0], 1), FERRY_OK);
    for (int i = 1; i < N; i++)
        assert_int_equal(cte_copy(&s[0], &b[i], FERRY_RIGHTS_ALL), FERRY_OK);
    objtest_preempt_every = 1000000;
    cte_revoke(&s[100]);                     /* not preemptible: counts nothing */
    assert_int_equal(objtest_preempt_calls, 0);
    for (int i = 1; i < N; i++)
        assert_true(cap_is_null(&b[i].cap));
    assert_true(cap_is_null(&s[0].cap));
    assert_null(s[100].first_child);
    /* again, preemptible, counting the units */
    assert_int_equal(untyped_retype(&s[100], FERRY_OBJ_NOTIFICATION, 0, &s[0], 1), FERRY_OK);
    for (int i = 1; i < N; i++)
        assert_int_equal(cte_copy(&s[0], &b[i], FERRY_RIGHTS_ALL), FERRY_OK);
    assert_int_equal(cte_revoke_preemptible(&s[100]), FERRY_OK);
    assert_true(objtest_preempt_calls <= 2 * N);
    assert_null(s[100].first_child);
    assert_int_equal(s[100].cap.u.untyped.watermark, 0);
}

/* Two dead CNodes that hold the last capability to each other (a cycle
 * nobody reaches) go when their untyped is revoked; with preemption
 * points that stop often, the untyped keeps its memory until the last
 * Zombie is gone, and restarts finish the job. */
static void test_cnode_cycle_preemptible_revoke(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 16, &s[100], 1), FERRY_OK);
    struct cte *u = &s[100];
    assert_int_equal(untyped_retype(u, FERRY_OBJ_CNODE, 4, &s[0], 2), FERRY_OK);
    struct cte *k = cnode_slot(&s[0].cap, 0), *c = cnode_slot(&s[1].cap, 0);
    assert_int_equal(untyped_retype(u, FERRY_OBJ_ENDPOINT, 0, &k[5], 3), FERRY_OK);
    assert_int_equal(untyped_retype(u, FERRY_OBJ_NOTIFICATION, 0, &c[9], 1), FERRY_OK);
    cte_move(&s[0], &c[0]);      /* K's cap in C's slot 0, C's in K's slot 3 */
    cte_move(&s[1], &k[3]);
    objtest_preempt_every = 2;
    int rounds = 0;
    while (cte_revoke_preemptible(u) != FERRY_OK) {
        /* the memory is released only once both CNodes are empty */
        if (u->cap.u.untyped.watermark == 0)
            for (int i = 0; i < 16; i++)
                assert_true(cap_is_null(&k[i].cap) && cap_is_null(&c[i].cap));
        rounds++;
    }
    assert_true(rounds > 0);
    assert_null(u->first_child);
    assert_int_equal(u->cap.u.untyped.watermark, 0);
    assert_false(cap_is_null(&u->cap));
}

/* Dead CNodes holding each other's last capability in slot 0, in a ring
 * of two and of three: their Zombies are rotated into their own slot 0
 * and everything goes, with and without preemption. */
static void slot0_ring(int n, int every)
{
    objtest_reset();
    s = objtest_cnode(&ut, &root);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 16, &s[100], 1), FERRY_OK);
    struct cte *u = &s[100];
    assert_int_equal(untyped_retype(u, FERRY_OBJ_CNODE, 2, &s[0], n), FERRY_OK);
    struct cte *k[3] = { NULL, NULL, NULL };
    for (int i = 0; i < n; i++)
        k[i] = cnode_slot(&s[i].cap, 0);
    assert_int_equal(untyped_retype(u, FERRY_OBJ_ENDPOINT, 0, &k[0][2], 1), FERRY_OK);
    for (int i = 0; i < n; i++)              /* node i's cap into slot 0 of node i+1 */
        cte_move(&s[i], &k[(i + 1) % n][0]);
    objtest_preempt_every = every;
    while (cte_revoke_preemptible(u) != FERRY_OK)
        ;
    assert_null(u->first_child);
    assert_int_equal(u->cap.u.untyped.watermark, 0);
    assert_int_equal(arch_log.delete_final, 0);
    objtest_preempt_every = 0;
}

static void test_slot0_cycles(void **state)
{
    (void)state;
    for (int every = 0; every < 4; every++) {
        slot0_ring(2, every);
        slot0_ring(3, every);
    }
}

/* A big CNode deleted through preemption points: a Zombie holds its
 * place (and memory) until the restarted deletes have emptied it. */
static void test_cnode_delete_preemptible(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 20, &s[100], 1), FERRY_OK);
    struct cte *u = &s[100];
    assert_int_equal(untyped_retype(u, FERRY_OBJ_CNODE, 10, &s[0], 1), FERRY_OK);
    struct cte *k = cnode_slot(&s[0].cap, 0);
    make(FERRY_OBJ_ENDPOINT, 0, 1, 1);
    for (int i = 1; i < 1024; i++)
        assert_int_equal(cte_copy(&s[1], &k[i], FERRY_RIGHTS_ALL), FERRY_OK);
    objtest_preempt_every = 100;
    int rounds = 0;
    word_t err;
    while ((err = cte_delete_preemptible(&s[0])) == INVOKE_PREEMPTED) {
        assert_int_equal(s[0].cap.type, CAP_TYPE_ZOMBIE);  /* the restart's marker */
        assert_null(s[0].parent);
        assert_ptr_equal(u->first_child, &k[0]);           /* the Zombie holds the memory */
        rounds++;
    }
    assert_int_equal(err, FERRY_OK);
    assert_int_equal(rounds, 1024 / 100);
    assert_true(cap_is_null(&s[0].cap));
    assert_null(s[1].first_child);
    assert_null(u->first_child);
    assert_int_equal(u->cap.u.untyped.watermark, 0);
}

static void test_cnode_destroy_deletes_contents(void **state)
{
    (void)state;
    make(FERRY_OBJ_CNODE, 2, 0, 1);
    struct cte *inner = cnode_slot(&s[0].cap, 0);
    make(FERRY_OBJ_ENDPOINT, 0, 1, 1);
    struct tcb *t = block_on_ep(2, 1);
    make(FERRY_OBJ_FRAME_4K, 0, 3, 1);
    /* the endpoint's and frame's only caps go into the inner CNode */
    cte_move(&s[1], &inner[3]);
    cte_move(&s[3], &inner[0]);
    assert_int_equal(cte_copy(&s[0], &inner[1], FERRY_RIGHTS_ALL), FERRY_OK);  /* cap to itself */

    cte_delete(&s[0]);   /* not the last: inner[1] still names the CNode */
    assert_int_equal(t->state, TCB_BLOCKED_RECV);
    assert_false(cap_is_null(&inner[3].cap));

    cte_delete(&inner[1]);  /* the last, held inside the CNode itself */
    assert_int_equal(t->state, TCB_RUNNABLE);
    assert_int_equal(arch_log.delete_final, 1);
    for (int i = 0; i < 4; i++) {
        assert_true(cap_is_null(&inner[i].cap));
        assert_null(inner[i].parent);
        assert_null(inner[i].first_child);
    }
}

/* 30000 CNodes, each holding the only capability to the next: deleting
 * the first destroys all of them.  The delete runs on a 64 KiB stack, far
 * too small for one stack frame per level, so this fails if the reaper
 * recursed. */
enum { CHAIN = 30000 };
static struct cte chain_holder[CHAIN];

static void *chain_delete(void *arg)
{
    (void)arg;
    cte_delete(&chain_holder[0]);
    return NULL;
}

static void test_deep_chain_is_reaped(void **state)
{
    (void)state;
    memset(chain_holder, 0, sizeof chain_holder);
    for (int i = 0; i < CHAIN; i += 250)
        assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 1, &chain_holder[i], 250), FERRY_OK);
    paddr_t last = chain_holder[CHAIN - 1].cap.paddr;
    for (int i = CHAIN - 1; i > 0; i--) {
        struct cte *prev = cnode_slot(&chain_holder[i - 1].cap, 0);
        cte_move(&chain_holder[i], &prev[i % 2]);   /* slot 0 or 1: both reaper paths */
    }
    make(FERRY_OBJ_FRAME_4K, 0, 0, 1);
    cte_move(&s[0], (struct cte *)arena_ptr(last) + 1);

    pthread_attr_t attr;
    pthread_t th;
    assert_int_equal(pthread_attr_init(&attr), 0);
    assert_int_equal(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
    assert_int_equal(pthread_create(&th, &attr, chain_delete, NULL), 0);
    assert_int_equal(pthread_join(th, NULL), 0);

    assert_int_equal(arch_log.delete_final, 1);
    /* only the test CNode is left under the untyped */
    assert_ptr_equal(ut.first_child, &root);
    assert_null(root.next_sibling);
    const uint8_t *p = arena_ptr(last);
    for (int i = 0; i < 128; i++)
        assert_int_equal(p[i], 0);
}

static void test_notification_destroy(void **state)
{
    (void)state;
    make(FERRY_OBJ_NOTIFICATION, 0, 0, 1);
    make(FERRY_OBJ_TCB, 0, 1, 3);
    struct notification *n = cap_notification(&s[0].cap);
    struct tcb *a = cap_tcb(&s[1].cap), *b = cap_tcb(&s[2].cap), *bound = cap_tcb(&s[3].cap);
    a->state = b->state = TCB_BLOCKED_NOTIFICATION;
    notification_enqueue(n, a);
    notification_enqueue(n, b);
    assert_int_equal(n->state, NTFN_WAITING);
    n->bound = bound;
    bound->bound_notification = n;

    /* suspending a waiter takes it out of the queue, FIFO order kept */
    tcb_suspend(a);
    assert_ptr_equal(n->queue.head, b);
    assert_ptr_equal(n->queue.tail, b);
    assert_null(a->blocked_on);

    cte_delete(&s[0]);
    assert_int_equal(b->state, TCB_RUNNABLE);
    assert_int_equal(b->ipc_result, FERRY_E_INVALID_CAP);
    assert_null(bound->bound_notification);
    assert_int_equal(a->state, TCB_INACTIVE);
    assert_ptr_equal(sched_choose(), b);
    assert_ptr_equal(sched_choose(), &objtest_idle);
}

static void test_endpoint_queue_is_fifo(void **state)
{
    (void)state;
    make(FERRY_OBJ_ENDPOINT, 0, 0, 1);
    make(FERRY_OBJ_TCB, 0, 1, 3);
    struct endpoint *ep = cap_endpoint(&s[0].cap);
    struct tcb *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = cap_tcb(&s[1 + i].cap);
        t[i]->state = TCB_BLOCKED_SEND;
        endpoint_enqueue(ep, t[i]);
    }
    assert_int_equal(ep->state, EP_SEND);
    endpoint_dequeue(ep, t[1]);
    assert_ptr_equal(ep->queue.head, t[0]);
    assert_ptr_equal(t[0]->ipc_next, t[2]);
    assert_ptr_equal(t[2]->ipc_prev, t[0]);
    /* destroying a TCB removes it from the endpoint */
    cte_delete(&s[1]);
    assert_ptr_equal(ep->queue.head, t[2]);
    cte_delete(&s[3]);
    assert_null(ep->queue.head);
    assert_int_equal(ep->state, EP_IDLE);
}

static void test_tcb_slots_keep_objects_alive(void **state)
{
    (void)state;
    make(FERRY_OBJ_TCB, 0, 0, 1);
    make(FERRY_OBJ_CNODE, 3, 1, 1);
    make(FERRY_OBJ_VSPACE, 0, 2, 1);
    make(FERRY_OBJ_FRAME_4K, 0, 3, 1);
    struct tcb *t = cap_tcb(&s[0].cap);
    assert_int_equal(tcb_configure(t, &s[1], &s[2], &s[3], 0x10000, 5), FERRY_OK);
    assert_ptr_equal(t->slots[TCB_SLOT_CSPACE].parent, &s[1]);
    assert_int_equal(t->slots[TCB_SLOT_VSPACE].cap.paddr, s[2].cap.paddr);
    assert_ptr_equal(tcb_ipc_buffer(t), arena_ptr(s[3].cap.paddr));

    /* deleting the user's caps leaves the TCB's copies: nothing destroyed */
    cte_delete(&s[1]);
    cte_delete(&s[2]);
    cte_delete(&s[3]);
    assert_int_equal(arch_log.delete_final, 0);
    assert_int_equal(t->slots[TCB_SLOT_CSPACE].cap.type, FERRY_OBJ_CNODE);
    assert_ptr_equal(t->slots[TCB_SLOT_CSPACE].parent, &ut);

    /* deleting the TCB deletes them, destroying VSpace and frame */
    cte_delete(&s[0]);
    assert_int_equal(arch_log.delete_final, 2);
    assert_int_equal(arch_log.tcb_destroy_calls, 1);
    for (int i = 0; i < TCB_NSLOTS; i++)
        assert_true(cap_is_null(&t->slots[i].cap));
    assert_ptr_equal(ut.first_child, &root);
    assert_null(root.next_sibling);
}

static void test_reconfigure_replaces_old_caps(void **state)
{
    (void)state;
    make(FERRY_OBJ_TCB, 0, 0, 1);
    make(FERRY_OBJ_VSPACE, 0, 1, 2);
    struct tcb *t = cap_tcb(&s[0].cap);
    assert_int_equal(tcb_configure(t, NULL, &s[1], NULL, 0, 0), FERRY_OK);
    cte_delete(&s[1]);   /* the TCB now holds the only cap to VSpace 1 */
    assert_int_equal(tcb_configure(t, NULL, &s[2], NULL, 0, 0), FERRY_OK);
    assert_int_equal(arch_log.delete_final, 1);
    assert_int_equal(t->slots[TCB_SLOT_VSPACE].cap.paddr, s[2].cap.paddr);
    /* wrong types are refused before anything changes */
    assert_int_equal(tcb_configure(t, &s[2], NULL, NULL, 0, 0), FERRY_E_WRONG_TYPE);
    assert_int_equal(tcb_configure(t, NULL, &s[0], NULL, 0, 0), FERRY_E_WRONG_TYPE);
    make(FERRY_OBJ_FRAME_4K, 0, 3, 1);
    assert_int_equal(tcb_configure(t, NULL, NULL, &s[3], 0x10100, 0), FERRY_E_ALIGNMENT);
    assert_int_equal(tcb_configure(t, NULL, NULL, &s[3], 0x800000000000UL, 0), FERRY_E_INVALID_ARG);
    assert_int_equal(cte_copy(&s[3], &s[4], FERRY_RIGHT_READ), FERRY_OK);
    assert_int_equal(tcb_configure(t, NULL, NULL, &s[4], 0x10000, 0), FERRY_E_RIGHTS);
    assert_true(cap_is_null(&t->slots[TCB_SLOT_IPCBUF].cap));
}

/* Random Retype, Copy, Move, Delete and Revoke, with preemption points
 * stopping often and stopped operations left pending while others run:
 * after every step the derivation tree is consistent, and at the end,
 * with everything deleted, the untyped is whole again. */
static unsigned long rnd_state = 0x9e3779b97f4a7c15UL;
static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static int tree_check(const struct cte *n)
{
    int count = 1;
    const struct cte *prev = NULL;
    for (const struct cte *c = n->first_child; c; c = c->next_sibling) {
        assert_ptr_equal(c->parent, n);
        assert_ptr_equal(c->prev_sibling, prev);
        assert_false(cap_is_null(&c->cap));
        prev = c;
        count += tree_check(c);
    }
    return count;
}

/* A random slot: one of the test CNode's first 100, or one inside a CNode
 * whose capability is there. */
static struct cte *rnd_slot(void)
{
    struct cte *c = &s[rnd(100)];
    if (c->cap.type == FERRY_OBJ_CNODE && rnd(2))
        return cnode_slot(&c->cap, rnd((unsigned)BIT(c->cap.size_bits)));
    return c;
}

static void test_random_cdt_operations(void **state)
{
    (void)state;
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 20, &s[200], 1), FERRY_OK);
    struct cte *u = &s[200];
    static const word_t types[] = { FERRY_OBJ_ENDPOINT, FERRY_OBJ_NOTIFICATION, FERRY_OBJ_CNODE,
                                    FERRY_OBJ_CNODE, FERRY_OBJ_TCB, FERRY_OBJ_UNTYPED };
    for (int step = 0; step < 20000; step++) {
        objtest_preempt_every = 1 + (int)rnd(5);
        struct cte *a = rnd_slot(), *b = rnd_slot();
        bool a_live = !cap_is_null(&a->cap) && a->cap.type != CAP_TYPE_ZOMBIE;
        switch (rnd(6)) {
        case 0: {
            word_t t = types[rnd(6)];
            struct cte *from = u;
            if (rnd(3) == 0 && a_live && a->cap.type == FERRY_OBJ_UNTYPED)
                from = a;
            if (cap_is_null(&b->cap))
                untyped_retype(from, t, t == FERRY_OBJ_CNODE ? 1 + rnd(3) : t == FERRY_OBJ_UNTYPED ? 12 : 0, b, 1);
            break;
        }
        case 1:
            if (a_live && a->cap.type != FERRY_OBJ_UNTYPED)
                cte_copy(a, b, FERRY_RIGHTS_ALL);
            break;
        case 2:
            if (a_live && a != b && cap_is_null(&b->cap))
                cte_move(a, b);
            break;
        case 3:
            if (!(a->cap.type == FERRY_OBJ_UNTYPED && a->first_child))
                cte_delete_preemptible(a);
            break;
        case 4:
            cte_revoke_preemptible(a);
            break;
        default:
            break;
        }
        tree_check(&ut);
    }
    objtest_preempt_every = 0;
    cte_revoke(u);
    tree_check(&ut);
    assert_null(u->first_child);
    assert_int_equal(u->cap.u.untyped.watermark, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_copy_is_child_with_fewer_rights, setup),
        cmocka_unit_test_setup(test_mint_badge_and_guard, setup),
        cmocka_unit_test_setup(test_move_keeps_derivation, setup),
        cmocka_unit_test_setup(test_revoke_removes_descendants_only, setup),
        cmocka_unit_test_setup(test_delete_non_final_keeps_object, setup),
        cmocka_unit_test_setup(test_delete_middle_keeps_subtree, setup),
        cmocka_unit_test_setup(test_revoke_untyped_destroys_everything, setup),
        cmocka_unit_test_setup(test_revoke_preemptible_chain, setup),
        cmocka_unit_test_setup(test_revoke_untyped_star, setup),
        cmocka_unit_test_setup(test_random_cdt_operations, setup),
        cmocka_unit_test_setup(test_cnode_cycle_preemptible_revoke, setup),
        cmocka_unit_test_setup(test_slot0_cycles, setup),
        cmocka_unit_test_setup(test_cnode_delete_preemptible, setup),
        cmocka_unit_test_setup(test_cnode_destroy_deletes_contents, setup),
        cmocka_unit_test_setup(test_deep_chain_is_reaped, setup),
        cmocka_unit_test_setup(test_notification_destroy, setup),
        cmocka_unit_test_setup(test_endpoint_queue_is_fifo, setup),
        cmocka_unit_test_setup(test_tcb_slots_keep_objects_alive, setup),
        cmocka_unit_test_setup(test_reconfigure_replaces_old_caps, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
