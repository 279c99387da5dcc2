/* SOURCES: kernel/object/untyped.c kernel/object/cnode.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/cspace.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_untyped.c: untyped memory: region splitting, boot creation, Retype arithmetic (alignment, end, reuse, nesting). */
#include "objtest.h"

#include <string.h>

static struct cte ut, ut2, dest[8];

static int setup(void **state)
{
    (void)state;
    objtest_reset();
    memset(dest, 0, sizeof dest);
    memset(&ut2, 0, sizeof ut2);
    return 0;
}

static void test_split_region(void **state)
{
    (void)state;
    struct untyped_block b[8];

    /* 0x1000..0x9000: 4K at 0x1000, 8K at 0x2000, 16K at 0x4000, 4K at 0x8000 */
    assert_int_equal(untyped_split_region(0x1000, 0x9000, b, 8), 4);
    assert_int_equal(b[0].base, 0x1000); assert_int_equal(b[0].size_bits, 12);
    assert_int_equal(b[1].base, 0x2000); assert_int_equal(b[1].size_bits, 13);
    assert_int_equal(b[2].base, 0x4000); assert_int_equal(b[2].size_bits, 14);
    assert_int_equal(b[3].base, 0x8000); assert_int_equal(b[3].size_bits, 12);

    /* an aligned power of two is one block, even at 0 */
    assert_int_equal(untyped_split_region(0, 1UL << 20, b, 8), 1);
    assert_int_equal(b[0].base, 0); assert_int_equal(b[0].size_bits, 20);

    /* ragged edges shrink to 16-byte granules; too-small out[] reports the need */
    assert_int_equal(untyped_split_region(0x1001, 0x1040, b, 1), 2);
    assert_int_equal(b[0].base, 0x1010); assert_int_equal(b[0].size_bits, 4);
    assert_int_equal(untyped_split_region(0x1001, 0x100f, b, 8), 0);

    /* blocks are capped at the maximum untyped size */
    size_t n = untyped_split_region(0, 1UL << 49, b, 8);
    assert_int_equal(n, 4);
    assert_int_equal(b[0].size_bits, FERRY_UNTYPED_MAX_BITS);
    assert_int_equal(b[3].base, 3UL << FERRY_UNTYPED_MAX_BITS);

    /* the blocks tile the region exactly */
    n = untyped_split_region(0x3000, 0x12345670, b, 8);
    assert_true(n > 8);
    struct untyped_block big[64];
    n = untyped_split_region(0x3000, 0x12345670, big, 64);
    paddr_t at = 0x3000;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(big[i].base, at);
        assert_int_equal(big[i].base & ((1UL << big[i].size_bits) - 1), 0);
        at += 1UL << big[i].size_bits;
    }
    assert_int_equal(at, 0x12345670);
}

static void test_boot_create_checks(void **state)
{
    (void)state;
    struct cte s;
    memset(&s, 0, sizeof s);
    assert_int_equal(untyped_boot_create(&s, ARENA_PADDR + 0x1000, 16, false), FERRY_E_ALIGNMENT);
    assert_int_equal(untyped_boot_create(&s, ARENA_PADDR, 3, false), FERRY_E_RANGE);
    assert_int_equal(untyped_boot_create(&s, ARENA_PADDR, 48, false), FERRY_E_RANGE);
    assert_int_equal(untyped_boot_create(&s, ARENA_PADDR, 16, true), FERRY_OK);
    assert_int_equal(s.cap.type, FERRY_OBJ_UNTYPED);
    assert_int_equal(s.cap.size_bits, 16);
    assert_int_equal(s.cap.flags, CAP_FLAG_DEVICE);
    assert_int_equal(s.cap.rights, FERRY_RIGHTS_ALL);
    assert_null(s.parent);
    assert_int_equal(untyped_boot_create(&s, ARENA_PADDR, 16, false), FERRY_E_SLOT_OCCUPIED);
}

static void test_retype_alignment(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 16);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &dest[0], 1), FERRY_OK);
    assert_int_equal(dest[0].cap.paddr, ARENA_PADDR);
    assert_int_equal(ut.cap.u.untyped.watermark, 32);
    /* a TCB (2 KiB) skips to the next 2 KiB boundary */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_TCB, 0, &dest[1], 1), FERRY_OK);
    assert_int_equal(dest[1].cap.paddr, ARENA_PADDR + 2048);
    assert_int_equal(ut.cap.u.untyped.watermark, 4096);
    /* two endpoints after it, consecutive */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &dest[2], 2), FERRY_OK);
    assert_int_equal(dest[2].cap.paddr, ARENA_PADDR + 4096);
    assert_int_equal(dest[3].cap.paddr, ARENA_PADDR + 4096 + 32);
    /* a frame goes to the next page */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, &dest[4], 1), FERRY_OK);
    assert_int_equal(dest[4].cap.paddr, ARENA_PADDR + 8192);
    /* all are CDT children of the untyped; the TCB starts inactive */
    for (int i = 0; i < 5; i++)
        assert_ptr_equal(dest[i].parent, &ut);
    assert_int_equal(cap_tcb(&dest[1].cap)->state, TCB_INACTIVE);
    assert_int_equal(cap_tcb(&dest[1].cap)->mcp, 0);
}

static void test_retype_past_end(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 13);   /* 8 KiB: two frames */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, dest, 3), FERRY_E_NO_MEMORY);
    assert_int_equal(ut.cap.u.untyped.watermark, 0);
    assert_true(cap_is_null(&dest[0].cap));
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_2M, 0, dest, 1), FERRY_E_NO_MEMORY);
    /* exact fit */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, dest, 2), FERRY_OK);
    assert_int_equal(ut.cap.u.untyped.watermark, 8192);
    assert_int_equal(dest[1].cap.paddr, ARENA_PADDR + 4096);
    /* full: not even 16 bytes more */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 4, &dest[2], 1), FERRY_E_NO_MEMORY);
    word_t off;
    assert_int_equal(untyped_fit(&ut.cap, 4, 1, &off), FERRY_E_NO_MEMORY);
    /* a huge count must not overflow into a fit */
    assert_int_equal(untyped_fit(&ut.cap, 12, ~0UL, &off), FERRY_E_NO_MEMORY);
}

static void test_retype_reuse_after_delete(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 13);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, dest, 2), FERRY_OK);
    cte_delete(&dest[0]);
    /* one child left: no reuse yet */
    assert_int_equal(ut.cap.u.untyped.watermark, 8192);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, &dest[2], 1), FERRY_E_NO_MEMORY);
    cte_delete(&dest[1]);
    assert_int_equal(ut.cap.u.untyped.watermark, 0);
    assert_null(ut.first_child);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, &dest[2], 2), FERRY_OK);
    assert_int_equal(dest[2].cap.paddr, ARENA_PADDR);
    assert_int_equal(dest[3].cap.paddr, ARENA_PADDR + 4096);
}

static void test_retype_zeroes_memory(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 14);
    memset(arena_ptr(ARENA_PADDR), 0xa5, 1UL << 14);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, dest, 1), FERRY_OK);
    const uint8_t *p = arena_ptr(ARENA_PADDR);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(p[i], 0);
    assert_int_equal(p[4096], 0xa5);   /* only the object itself */

    /* device memory is left alone and holds no kernel objects */
    memset(&ut2, 0, sizeof ut2);
    assert_int_equal(untyped_boot_create(&ut2, ARENA_PADDR + (1UL << 16), 16, true), FERRY_OK);
    memset(arena_ptr(ARENA_PADDR + (1UL << 16)), 0x5a, 16);
    assert_int_equal(untyped_retype(&ut2, FERRY_OBJ_TCB, 0, &dest[1], 1), FERRY_E_ILLEGAL_OP);
    assert_int_equal(untyped_retype(&ut2, FERRY_OBJ_FRAME_4K, 0, &dest[1], 1), FERRY_OK);
    assert_int_equal(*(uint8_t *)arena_ptr(ARENA_PADDR + (1UL << 16)), 0x5a);
    assert_int_equal(dest[1].cap.flags, CAP_FLAG_DEVICE);
}

static void test_child_untyped(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 16);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &dest[0], 1), FERRY_OK);
    /* two 16 KiB children, aligned past the endpoint */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 14, &dest[1], 2), FERRY_OK);
    assert_int_equal(dest[1].cap.paddr, ARENA_PADDR + (1UL << 14));
    assert_int_equal(dest[2].cap.paddr, ARENA_PADDR + (2UL << 14));
    assert_int_equal(dest[1].cap.size_bits, 14);
    assert_int_equal(ut.cap.u.untyped.watermark, 3UL << 14);
    /* retype inside a child stays inside it */
    assert_int_equal(untyped_retype(&dest[2], FERRY_OBJ_FRAME_4K, 0, &dest[3], 4), FERRY_OK);
    assert_int_equal(dest[3].cap.paddr, ARENA_PADDR + (2UL << 14));
    assert_int_equal(dest[6].cap.paddr, ARENA_PADDR + (2UL << 14) + 3 * 4096);
    assert_ptr_equal(dest[6].parent, &dest[2]);
    assert_int_equal(untyped_retype(&dest[2], FERRY_OBJ_FRAME_4K, 0, &dest[7], 1), FERRY_E_NO_MEMORY);
    /* the parent's remaining space is unaffected */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_FRAME_4K, 0, &dest[7], 1), FERRY_OK);
    assert_int_equal(dest[7].cap.paddr, ARENA_PADDR + (3UL << 14));
    /* untyped caps cannot be copied: they would hand out the memory twice */
    struct cte c;
    memset(&c, 0, sizeof c);
    assert_int_equal(cte_copy(&dest[2], &c, FERRY_RIGHTS_ALL), FERRY_E_ILLEGAL_OP);
    /* revoking the parent removes grandchildren too and resets it */
    cte_revoke(&ut);
    for (int i = 0; i < 8; i++)
        assert_true(cap_is_null(&dest[i].cap));
    assert_int_equal(ut.cap.u.untyped.watermark, 0);
    assert_int_equal(arch_log.delete_final, 5);
}

static void test_retype_argument_checks(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 16);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_NULL, 0, dest, 1), FERRY_E_INVALID_ARG);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_IRQ_CONTROL, 0, dest, 1), FERRY_E_INVALID_ARG);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 0, dest, 1), FERRY_E_RANGE);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, FERRY_CNODE_MAX_RADIX + 1, dest, 1), FERRY_E_RANGE);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 3, dest, 1), FERRY_E_RANGE);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_UNTYPED, 17, dest, 1), FERRY_E_NO_MEMORY);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, dest, 0), FERRY_E_RANGE);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, dest, FERRY_RETYPE_MAX_OBJECTS + 1), FERRY_E_RANGE);
    assert_int_equal(untyped_retype(&dest[0], FERRY_OBJ_ENDPOINT, 0, &dest[1], 1), FERRY_E_WRONG_TYPE);
    /* an occupied destination slot stops the whole retype */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &dest[1], 1), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_ENDPOINT, 0, &dest[0], 2), FERRY_E_SLOT_OCCUPIED);
    assert_true(cap_is_null(&dest[0].cap));
    assert_int_equal(ut.cap.u.untyped.watermark, 32);
    assert_int_equal(arch_log.init_calls, 0);
}

static void test_cnode_and_arch_sizes(void **state)
{
    (void)state;
    objtest_untyped(&ut, 0, 16);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 4, &dest[0], 1), FERRY_OK);
    assert_int_equal(dest[0].cap.size_bits, 4);
    assert_int_equal(ut.cap.u.untyped.watermark, 16 * 64);   /* 2^4 slots of 64 bytes */
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_VSPACE, 0, &dest[1], 1), FERRY_OK);
    assert_int_equal(arch_log.init_calls, 1);
    assert_int_equal(arch_log.init_type, FERRY_OBJ_VSPACE);
    assert_int_equal(arch_log.init_paddr, ARENA_PADDR + 4096);
    assert_int_equal(arch_log.init_bits, 12);
    assert_int_equal(dest[1].cap.paddr, ARENA_PADDR + 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_region),
        cmocka_unit_test_setup(test_boot_create_checks, setup),
        cmocka_unit_test_setup(test_retype_alignment, setup),
        cmocka_unit_test_setup(test_retype_past_end, setup),
        cmocka_unit_test_setup(test_retype_reuse_after_delete, setup),
        cmocka_unit_test_setup(test_retype_zeroes_memory, setup),
        cmocka_unit_test_setup(test_child_untyped, setup),
        cmocka_unit_test_setup(test_retype_argument_checks, setup),
        cmocka_unit_test_setup(test_cnode_and_arch_sizes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
