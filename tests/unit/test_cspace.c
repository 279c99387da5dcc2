/* SOURCES: kernel/core/cspace.c kernel/object/cnode.c kernel/object/untyped.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_cspace.c: cptr resolution: radix, guards, depth, multiple levels and the error for each failure. */
#include "objtest.h"

#include <string.h>
#include <core/cspace.h>

static struct cte ut, top;     /* top: 16-slot CNode, no guard */
static struct cte *ts;

static int setup(void **state)
{
    (void)state;
    objtest_reset();
    memset(&top, 0, sizeof top);
    objtest_untyped(&ut, 0, 20);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 4, &top, 1), FERRY_OK);
    ts = cnode_slot(&top.cap, 0);
    return 0;
}

static void test_single_level_radix(void **state)
{
    (void)state;
    struct cte *slot;
    unsigned left = 99;
    assert_int_equal(cspace_lookup_slot(&top.cap, 5, 4, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &ts[5]);
    assert_int_equal(left, 0);
    /* only the low depth bits count */
    assert_int_equal(cspace_lookup_slot(&top.cap, 0xf0 | 0xc, 4, &slot, NULL), FERRY_OK);
    assert_ptr_equal(slot, &ts[12]);
    /* depth must match the levels exactly */
    assert_int_equal(cspace_lookup_slot(&top.cap, 5, 3, &slot, &left), FERRY_E_LOOKUP_DEPTH);
    assert_int_equal(left, 3);
    assert_int_equal(cspace_lookup_slot(&top.cap, 5, 0, &slot, &left), FERRY_E_RANGE);
    assert_int_equal(cspace_lookup_slot(&top.cap, 5, 65, &slot, &left), FERRY_E_RANGE);
    /* 5 bits: the slot is reached with a bit left over, but it is empty */
    assert_int_equal(cspace_lookup_slot(&top.cap, 5 << 1, 5, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(left, 1);
    /* the root must be a CNode */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &ts[1], 1), FERRY_OK);
    assert_int_equal(cspace_lookup_slot(&ts[1].cap, 0, 4, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(left, 4);
    /* bits left at a non-CNode capability */
    assert_int_equal(cspace_lookup_slot(&top.cap, 1 << 2, 6, &slot, &left), FERRY_E_LOOKUP_DEPTH);
    assert_int_equal(left, 2);
}

static void test_guard(void **state)
{
    (void)state;
    struct cte g, *slot;
    unsigned left;
    memset(&g, 0, sizeof g);
    /* guard 0b101 of 3 bits above a 4-bit index: 7-bit names */
    assert_int_equal(cte_mint(&top, &g, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(5, 3)), FERRY_OK);
    assert_int_equal(cspace_lookup_slot(&g.cap, (5 << 4) | 9, 7, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &ts[9]);
    assert_int_equal(cspace_lookup_slot(&g.cap, (4 << 4) | 9, 7, &slot, &left), FERRY_E_LOOKUP_GUARD);
    assert_int_equal(left, 7);
    assert_int_equal(cspace_lookup_slot(&g.cap, 9, 4, &slot, &left), FERRY_E_LOOKUP_DEPTH);

    /* a full-word guard of zeros makes a one-level CSpace take plain indices */
    struct cte w;
    memset(&w, 0, sizeof w);
    assert_int_equal(cte_mint(&top, &w, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 60)), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &ts[3], 1), FERRY_OK);
    assert_int_equal(cspace_lookup_cap(&w.cap, 3, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &ts[3]);
    assert_int_equal(cspace_lookup_cap(&w.cap, 4, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(cspace_lookup_cap(&w.cap, (1UL << 63) | 3, &slot, &left), FERRY_E_LOOKUP_GUARD);
    assert_int_equal(left, 64);
}

static void test_multi_level(void **state)
{
    (void)state;
    struct cte *slot;
    unsigned left;
    /* top[3] -> L2 (radix 8, guard 0xa of 4 bits) -> L3 (radix 2) */
    struct cte tmp;
    memset(&tmp, 0, sizeof tmp);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 8, &tmp, 1), FERRY_OK);
    assert_int_equal(cte_mint(&tmp, &ts[3], FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0xa, 4)), FERRY_OK);
    struct cte *l2 = cnode_slot(&tmp.cap, 0);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 2, &l2[0x42], 1), FERRY_OK);
    struct cte *l3 = cnode_slot(&l2[0x42].cap, 0);

    word_t c2 = (3UL << 12) | (0xaUL << 8) | 0x42;   /* 16 bits to L2 slot 0x42 */
    assert_int_equal(cspace_lookup_slot(&top.cap, c2, 16, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &l2[0x42]);
    assert_int_equal(cspace_lookup_slot(&top.cap, (c2 << 2) | 1, 18, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &l3[1]);
    /* depth 4 names top[3] itself, the CNode cap */
    assert_int_equal(cspace_lookup_slot(&top.cap, 3, 4, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &ts[3]);
    /* wrong guard at the second level: 12 bits were still unresolved */
    assert_int_equal(cspace_lookup_slot(&top.cap, c2 ^ (1UL << 9), 16, &slot, &left), FERRY_E_LOOKUP_GUARD);
    assert_int_equal(left, 12);
    /* depth ending inside L2's guard+radix */
    assert_int_equal(cspace_lookup_slot(&top.cap, c2 >> 2, 14, &slot, &left), FERRY_E_LOOKUP_DEPTH);
    assert_int_equal(left, 10);
    /* L3 needs 2 bits but only 1 is left */
    assert_int_equal(cspace_lookup_slot(&top.cap, (c2 << 1) | 1, 17, &slot, &left), FERRY_E_LOOKUP_DEPTH);
    assert_int_equal(left, 1);
    /* an empty slot on the way */
    assert_int_equal(cspace_lookup_slot(&top.cap, (4UL << 12), 16, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(left, 12);

    /* lookup_cap (depth 64) stops at the first non-CNode capability */
    struct cte r;
    memset(&r, 0, sizeof r);
    assert_int_equal(cte_mint(&top, &r, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 42)), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_NOTIFICATION, 0, &l3[2], 1), FERRY_OK);
    /* 42 guard + 4 + 4 guard + 8 = 58 bits to L2, then 2 for L3: 60, 4 bits spare */
    word_t c3 = ((c2 << 2) | 2) << 4;
    assert_int_equal(cspace_lookup_cap(&r.cap, c3 | 0xf, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &l3[2]);
    assert_int_equal(left, 4);
    assert_int_equal(cspace_lookup_cap(&r.cap, (((c2 << 2) | 3) << 4), &slot, &left), FERRY_E_INVALID_CAP);
}

/* The null cptr names nothing, whatever the depth and the CSpace: not
 * even slot 0 of a CNode whose slot 0 holds a capability. */
static void test_null_cptr(void **state)
{
    (void)state;
    struct cte *slot = NULL;
    unsigned left = 0;
    ts[0].cap = top.cap;                   /* a CNode cap in slot 0: the path would go on */
    assert_int_equal(cspace_lookup_slot(&top.cap, 0, 4, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(left, 4);
    assert_int_equal(cspace_lookup_slot(&top.cap, 0, 8, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(cspace_lookup_cap(&top.cap, 0, &slot, &left), FERRY_E_INVALID_CAP);
    assert_int_equal(left, 64);
    assert_null(slot);
    /* slot 0 of a second level, by a cptr that is not null, is a slot */
    ts[1].cap = top.cap;
    assert_int_equal(cspace_lookup_slot(&top.cap, 1 << 4, 8, &slot, &left), FERRY_OK);
    assert_ptr_equal(slot, &ts[0]);
    memset(&ts[0].cap, 0, sizeof ts[0].cap);
    memset(&ts[1].cap, 0, sizeof ts[1].cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_single_level_radix, setup),
        cmocka_unit_test_setup(test_guard, setup),
        cmocka_unit_test_setup(test_multi_level, setup),
        cmocka_unit_test_setup(test_null_cptr, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
