/* vspace.c: in-guest tests of mapping and unmapping frames and page tables. */
#include "utest.h"

#define VS FERRY_CAP_INIT_VSPACE
#define RW (FERRY_MAP_READ | FERRY_MAP_WRITE)

/* A page table for the 2 MiB region around va (the root task's PD covers the first GiB). */
static bool table_for(unsigned long va)
{
    unsigned long pt = object_alloc(FERRY_OBJ_PT, 0);
    return pt && ferry_table_map(pt, VS, va) == FERRY_OK;
}

static bool map_and_share(void)
{
    const unsigned long va = 0x20000000;
    CHECK(table_for(va));
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    unsigned long copy = slot_alloc();
    CHECK_OK(ferry_cnode_copy(copy, frame, FERRY_RIGHTS_ALL));
    CHECK_OK(ferry_frame_map(frame, VS, va, RW));
    CHECK_OK(ferry_frame_map(copy, VS, va + 0x1000, FERRY_MAP_READ));
    volatile unsigned long *a = (void *)va, *b = (void *)(va + 0x1000);
    CHECK(a[0] == 0);                        /* retyped memory is zeroed */
    a[0] = 0xfe77ee;
    a[511] = 42;
    CHECK(b[0] == 0xfe77ee && b[511] == 42); /* both mappings show one frame */
    return true;
}

static bool map_twice(void)
{
    const unsigned long va = 0x20200000;
    CHECK(table_for(va));
    ALLOC(f1, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(f2, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_map(f1, VS, va, RW));
    CHECK_ERR(ferry_frame_map(f2, VS, va, RW), FERRY_E_SLOT_OCCUPIED);        /* place taken */
    CHECK_ERR(ferry_frame_map(f1, VS, va + 0x1000, RW), FERRY_E_ILLEGAL_OP);  /* cap already mapped */
    /* the page table itself cannot be mapped twice either */
    ALLOC(pt, FERRY_OBJ_PT, 0);
    CHECK_ERR(ferry_table_map(pt, VS, va), FERRY_E_SLOT_OCCUPIED);
    return true;
}

static bool unmap_errors(void)
{
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    CHECK_ERR(ferry_frame_unmap(frame), FERRY_E_NOT_MAPPED);
    ALLOC(pt, FERRY_OBJ_PT, 0);
    CHECK_ERR(ferry_table_unmap(pt), FERRY_E_NOT_MAPPED);
    /* a page-table label on a frame and the reverse */
    CHECK_ERR(ferry_table_unmap(frame), FERRY_E_INVALID_LABEL);
    CHECK_ERR(ferry_frame_unmap(pt), FERRY_E_INVALID_LABEL);
    return true;
}

static bool map_bad_addresses(void)
{
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    /* no page table there */
    CHECK_ERR(ferry_frame_map(frame, VS, 0x100000000000UL, RW), FERRY_E_NO_TABLE);
    /* not page aligned */
    CHECK_ERR(ferry_frame_map(frame, VS, 0x20000010, RW), FERRY_E_ALIGNMENT);
    /* outside user space: the kernel's half and the reserved top */
    CHECK_ERR(ferry_frame_map(frame, VS, 0xffffffff80000000UL, RW), FERRY_E_RANGE);
    CHECK_ERR(ferry_frame_map(frame, VS, FERRY_USER_TOP, RW), FERRY_E_RANGE);
    /* unknown rights bits */
    CHECK_ERR(ferry_frame_map(frame, VS, 0x20000000, 0x80), FERRY_E_INVALID_ARG);
    return true;
}

static bool remap_sees_new_frame(void)
{
    /* After an unmap, the old translation must be gone from the TLB. */
    const unsigned long va = 0x20400000;
    CHECK(table_for(va));
    ALLOC(f1, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(f2, FERRY_OBJ_FRAME_4K, 0);
    volatile unsigned long *p = (void *)va;
    CHECK_OK(ferry_frame_map(f1, VS, va, RW));
    p[0] = 1111;
    CHECK_OK(ferry_frame_unmap(f1));
    CHECK_OK(ferry_frame_map(f2, VS, va, RW));
    CHECK(p[0] == 0);
    p[0] = 2222;
    /* deleting a mapped frame capability unmaps it */
    CHECK_OK(ferry_cnode_delete(f2));
    CHECK_OK(ferry_frame_map(f1, VS, va, RW));
    CHECK(p[0] == 1111);
    return true;
}

static bool large_frame(void)
{
    const unsigned long va = 0x40000000;      /* second GiB: needs its own PD */
    ALLOC(pd, FERRY_OBJ_PD, 0);
    CHECK_OK(ferry_table_map(pd, VS, va));
    ALLOC(big, FERRY_OBJ_FRAME_2M, 0);
    CHECK_ERR(ferry_frame_map(big, VS, va + 0x1000, RW), FERRY_E_ALIGNMENT);
    CHECK_OK(ferry_frame_map(big, VS, va, RW));
    volatile unsigned long *p = (void *)va;
    p[0] = 7;
    p[(2UL << 20) / 8 - 1] = 9;
    CHECK(p[0] == 7 && p[(2UL << 20) / 8 - 1] == 9);
    CHECK_OK(ferry_frame_unmap(big));
    /* unmapping the PD takes the region away; mapping under it then fails */
    CHECK_OK(ferry_table_unmap(pd));
    CHECK_ERR(ferry_frame_map(big, VS, va, RW), FERRY_E_NO_TABLE);
    return true;
}

const struct utest utests_vspace[] = {
    UTEST(map_and_share),
    UTEST(map_twice),
    UTEST(unmap_errors),
    UTEST(map_bad_addresses),
    UTEST(remap_sees_new_frame),
    UTEST(large_frame),
};
const size_t utests_vspace_n = sizeof utests_vspace / sizeof utests_vspace[0];
