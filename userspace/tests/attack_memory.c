/* attack_memory.c: in-guest regression tests for the memory and capability-object attack classes
 * (page-table unmap and aliasing, stale TLB entries, tables of deleted VSpaces, the null slot). */
#include "utest.h"
#include <ferry/rtc.h>

#define VS FERRY_CAP_INIT_VSPACE
#define RW (FERRY_MAP_READ | FERRY_MAP_WRITE)
#define MB2 (2UL << 20)

/* Regions of the root task's first GiB (its PD) that only these tests use. */
#define AM_UNMAP_VA 0x28000000UL
#define AM_ALIAS_VA 0x28800000UL
#define AM_TLB_VA   0x29000000UL
#define AM_DEAD_VA  0x100000000000UL   /* a PML4 slot of its own: a PDPT is mapped there */
#define AM_PROBE_STACK 0x29800000UL

/* 1. A table unmapped while it still maps a frame, then mapped elsewhere,
 *    must show nothing of its old contents (#11 item 5). */
static bool table_unmap_forgets_entries(void)
{
    const unsigned long va1 = AM_UNMAP_VA, va2 = AM_UNMAP_VA + MB2;
    ALLOC(pt, FERRY_OBJ_PT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(fresh, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_table_map(pt, VS, va1));
    CHECK_OK(ferry_frame_map(frame, VS, va1 + 0x3000, RW));
    *(volatile unsigned long *)(va1 + 0x3000) = 0x5ec12e7;
    CHECK_OK(ferry_table_unmap(pt));
    CHECK_OK(ferry_table_map(pt, VS, va2));
    /* The old entry is gone: the place is free, and a new frame there is
     * the new frame (on a kernel that kept the entry, the old frame would
     * be readable at va2 + 0x3000 and this map would be refused). */
    CHECK_OK(ferry_frame_map(fresh, VS, va2 + 0x3000, RW));
    CHECK(*(volatile unsigned long *)(va2 + 0x3000) == 0);
    /* The frame's record points nowhere now: its unmap only forgets it. */
    CHECK_OK(ferry_frame_unmap(frame));
    CHECK_ERR(ferry_frame_unmap(frame), FERRY_E_NOT_MAPPED);
    CHECK_OK(ferry_frame_unmap(fresh));
    CHECK_OK(ferry_table_unmap(pt));
    return true;
}

/* 2. Only one capability to a table can ever map it (#11 item 6): a copy
 *    of a mapped table is mapped (to the same place) and cannot be mapped
 *    again; an unmapped table cannot be copied; a table with copies is
 *    unmapped only through its last capability; deleting the last one
 *    unmaps it. */
static bool table_copy_cannot_alias(void)
{
    const unsigned long va = AM_ALIAS_VA, other = AM_ALIAS_VA + MB2;
    ALLOC(pt, FERRY_OBJ_PT, 0);
    unsigned long copy = slot_alloc(), copy2 = slot_alloc();
    CHECK(copy && copy2);
    CHECK_ERR(ferry_cnode_copy(copy, pt, FERRY_RIGHTS_ALL), FERRY_E_ILLEGAL_OP);  /* unmapped */
    CHECK_OK(ferry_table_map(pt, VS, va));
    CHECK_OK(ferry_cnode_copy(copy, pt, FERRY_RIGHTS_ALL));
    CHECK_ERR(ferry_table_map(copy, VS, other), FERRY_E_ILLEGAL_OP);              /* mapped already */
    CHECK_ERR(ferry_table_unmap(copy), FERRY_E_REVOKE_FIRST);
    CHECK_ERR(ferry_table_unmap(pt), FERRY_E_REVOKE_FIRST);
    /* A mint, and a copy of the copy, behave alike. */
    CHECK_OK(ferry_cnode_mint(copy2, copy, FERRY_RIGHTS_ALL, 0));
    CHECK_ERR(ferry_table_map(copy2, VS, other), FERRY_E_ILLEGAL_OP);
    /* Deleting copies leaves the mapping; the table still works. */
    CHECK_OK(ferry_cnode_delete(copy2));
    CHECK_OK(ferry_cnode_delete(pt));
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_map(frame, VS, va, RW));
    *(volatile unsigned long *)va = 77;
    CHECK(*(volatile unsigned long *)va == 77);
    CHECK_OK(ferry_frame_unmap(frame));
    /* The last capability unmaps; deleting it would have too. */
    CHECK_OK(ferry_table_unmap(copy));
    CHECK_OK(ferry_table_map(copy, VS, other));
    CHECK_OK(ferry_cnode_delete(copy));
    ALLOC(pt2, FERRY_OBJ_PT, 0);
    CHECK_OK(ferry_table_map(pt2, VS, other));         /* the place is free again */
    CHECK_OK(ferry_table_unmap(pt2));
    return true;
}

/* 3. The attack of #11 item 6 in full: read a frame through a second
 *    mapping of its page table, unmap and delete the frame, retype its
 *    memory into a kernel object, read again.  The second mapping must be
 *    impossible; where a kernel allowed it, the read shows the object. */
static bool stale_tlb_after_retype(void)
{
    const unsigned long va1 = AM_TLB_VA, va2 = AM_TLB_VA + MB2;
    ALLOC(ut, FERRY_OBJ_UNTYPED, 12);            /* one page we can retype again */
    ALLOC(pt, FERRY_OBJ_PT, 0);
    unsigned long frame = slot_alloc(), alias = slot_alloc(), obj = slot_alloc();
    CHECK(frame && alias && obj);
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, frame, 1));
    CHECK_OK(ferry_table_map(pt, VS, va1));
    CHECK_OK(ferry_frame_map(frame, VS, va1, RW));
    volatile unsigned long *p1 = (void *)va1, *p2 = (void *)va2;
    p1[0] = 0xa11a5;
    CHECK_OK(ferry_cnode_copy(alias, pt, FERRY_RIGHTS_ALL));
    unsigned long e = ferry_table_map(alias, VS, va2);
    if (e == FERRY_OK) {
        /* The hole: show what the alias reads after the retype, then fail. */
        unsigned long before = p2[0];
        ferry_frame_unmap(frame);
        ferry_cnode_delete(frame);
        ferry_untyped_retype(ut, FERRY_OBJ_TCB, 0, obj, 1);
        printf("    alias read %#lx before, %#lx after the frame became a TCB\n", before, p2[8]);
    }
    CHECK_ERR(e, FERRY_E_ILLEGAL_OP);
    /* The frame's own unmap flushes its one place: after the retype the
     * old address shows the new object (a fresh, zeroed frame), never the
     * old contents. */
    CHECK_OK(ferry_frame_unmap(frame));
    CHECK_OK(ferry_cnode_delete(frame));
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, obj, 1));
    CHECK_OK(ferry_frame_map(obj, VS, va1, RW));
    CHECK(p1[0] == 0);
    CHECK_OK(ferry_cnode_delete(obj));
    CHECK_OK(ferry_cnode_delete(alias));
    CHECK_OK(ferry_table_unmap(pt));
    return true;
}

/* 4. Tables left behind by a deleted VSpace keep a stale mapping record:
 *    they must be unmapped (which clears them) before they map again, and
 *    then carry nothing of the dead address space. */
static bool deleted_vspace_tables(void)
{
    unsigned long vs2 = vspace_create();
    CHECK(vs2 != 0);
    ALLOC(pdpt, FERRY_OBJ_PDPT, 0);
    ALLOC(pd, FERRY_OBJ_PD, 0);
    ALLOC(pt, FERRY_OBJ_PT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_table_map(pdpt, vs2, 0));
    CHECK_OK(ferry_table_map(pd, vs2, 0));
    CHECK_OK(ferry_table_map(pt, vs2, 0));
    CHECK_OK(ferry_frame_map(frame, vs2, 0x1000, RW));
    CHECK_OK(ferry_cnode_delete(vs2));
    /* Still recorded as mapped (in a VSpace that is gone). */
    CHECK_ERR(ferry_table_map(pdpt, VS, AM_DEAD_VA), FERRY_E_ILLEGAL_OP);
    CHECK_OK(ferry_table_unmap(pdpt));
    CHECK_OK(ferry_table_map(pdpt, VS, AM_DEAD_VA));
    /* Nothing of the dead space's PD is linked below it. */
    ALLOC(pd2, FERRY_OBJ_PD, 0);
    CHECK_OK(ferry_table_map(pd2, VS, AM_DEAD_VA));
    ALLOC(pt2, FERRY_OBJ_PT, 0);
    CHECK_OK(ferry_table_map(pt2, VS, AM_DEAD_VA));
    ALLOC(f2, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_map(f2, VS, AM_DEAD_VA + 0x1000, RW));
    CHECK(*(volatile unsigned long *)(AM_DEAD_VA + 0x1000) == 0);
    /* The dead space's lower tables and frame: unmapping only forgets. */
    CHECK_OK(ferry_frame_unmap(frame));
    CHECK_OK(ferry_table_unmap(pt));
    CHECK_OK(ferry_table_unmap(pd));
    CHECK_OK(ferry_frame_unmap(f2));
    CHECK_OK(ferry_table_unmap(pt2));
    CHECK_OK(ferry_table_unmap(pd2));
    CHECK_OK(ferry_table_unmap(pdpt));
    return true;
}

/* 5. The null capability pointer names no slot (#21 item 6): nothing can
 *    be put there, and nothing found there. */
static bool null_slot_unusable(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ut, FERRY_OBJ_UNTYPED, 12);
    CHECK_ERR(ferry_cnode_move(FERRY_CAP_NULL, ep), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_cnode_copy(FERRY_CAP_NULL, ep, FERRY_RIGHTS_ALL), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_cnode_mint(FERRY_CAP_NULL, ep, FERRY_RIGHTS_ALL, 5), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_cnode_delete(FERRY_CAP_NULL), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_cnode_revoke(FERRY_CAP_NULL), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_ENDPOINT, 0, FERRY_CAP_NULL, 1), FERRY_E_RANGE);
    CHECK_ERR(ferry_cnode_copy(slot_alloc(), FERRY_CAP_NULL, FERRY_RIGHTS_ALL), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_invoke(FERRY_CAP_NULL, FERRY_CNODE_DELETE, 0, NULL, 0, NULL, NULL), FERRY_E_INVALID_CAP);
    /* The endpoint is where it was. */
    CHECK_OK(ferry_cnode_delete(ep));
    return true;
}

/* 6. ASIDs are charged to capabilities (#21 item 4): a VSpace without an
 *    ASID cannot be mapped into; pools come only from ASID control and
 *    untyped memory of the pool's size; a pool hands out its block and no
 *    more (never PCID 4095); deleting a pool takes its VSpaces' ASIDs and
 *    mappings away. */
static bool asid_pools(void)
{
    ALLOC(bare, FERRY_OBJ_VSPACE, 0);
    ALLOC(pdpt, FERRY_OBJ_PDPT, 0);
    CHECK_ERR(ferry_table_map(pdpt, bare, 0), FERRY_E_NO_ASID);
    unsigned long asid = 0;
    CHECK_OK(ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, bare, &asid));
    CHECK(asid > 0 && asid < FERRY_ASIDS_PER_POOL);
    CHECK_ERR(ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, bare, NULL), FERRY_E_ILLEGAL_OP);
    CHECK_OK(ferry_table_map(pdpt, bare, 0));

    /* MakePool: only with ASID control, only from an exact, unused untyped. */
    ALLOC(big, FERRY_OBJ_UNTYPED, 13);
    unsigned long uts[FERRY_ASID_POOLS], pools[FERRY_ASID_POOLS], first[FERRY_ASID_POOLS];
    unsigned long dest = slot_alloc();
    CHECK_ERR(ferry_asid_make_pool(FERRY_CAP_ASID_CONTROL, big, dest, NULL), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_asid_make_pool(FERRY_CAP_INIT_ASID_POOL, big, dest, NULL), FERRY_E_INVALID_LABEL);
    unsigned n = 0;
    unsigned long err = FERRY_OK;
    while (n < FERRY_ASID_POOLS) {
        uts[n] = object_alloc(FERRY_OBJ_UNTYPED, FERRY_ASID_POOL_BITS);
        pools[n] = slot_alloc();
        CHECK(uts[n] && pools[n]);
        err = ferry_asid_make_pool(FERRY_CAP_ASID_CONTROL, uts[n], pools[n], &first[n]);
        if (err)
            break;
        CHECK(first[n] % FERRY_ASIDS_PER_POOL == 0 && first[n] != 0);
        n++;
    }
    /* The boot pool has block 0; the others get the rest, then none is left. */
    CHECK_ERR(err, FERRY_E_NO_ASID);
    CHECK(n == FERRY_ASID_POOLS - 1);
    CHECK_ERR(ferry_untyped_retype(uts[0], FERRY_OBJ_FRAME_4K, 0, slot_alloc(), 1), FERRY_E_NO_MEMORY);
    CHECK_ERR(ferry_asid_make_pool(FERRY_CAP_ASID_CONTROL, uts[0], slot_alloc(), NULL), FERRY_E_REVOKE_FIRST);

    /* Fill the last block's pool: 511 ASIDs, PCID 4095 stays out.  With
     * KPTI and PCIDs an ASID's user table takes PCID ASID + 2048, so the
     * ASIDs end at 2046: the last usable block is the fourth (2047 | 2048
     * is PCID 4095), and the blocks above it give none. */
    bool split = ulib_bootinfo->kpti && ulib_bootinfo->pcid_on;
    unsigned long top = split ? FERRY_ASID_POOLS / 2 - 1 : FERRY_ASID_POOLS - 1;
    unsigned last = n;
    for (unsigned i = 0; i < n; i++) {
        if (first[i] == top * FERRY_ASIDS_PER_POOL)
            last = i;
        else if (first[i] > top * FERRY_ASIDS_PER_POOL) {
            unsigned long vsx = object_alloc(FERRY_OBJ_VSPACE, 0);
            CHECK(vsx != 0);
            CHECK_ERR(ferry_asid_assign(pools[i], vsx, NULL), FERRY_E_NO_ASID);
            CHECK_OK(ferry_cnode_delete(vsx));
        }
    }
    CHECK(last < n);
    unsigned long vs_first = 0, vs_last = 0, count = 0;
    for (;;) {
        unsigned long vs = object_alloc(FERRY_OBJ_VSPACE, 0), a;
        CHECK(vs != 0);
        err = ferry_asid_assign(pools[last], vs, &a);
        if (err) {
            CHECK_OK(ferry_cnode_delete(vs));
            break;
        }
        CHECK(a >= first[last] && a < (top + 1) * FERRY_ASIDS_PER_POOL - 1);
        if (!vs_first)
            vs_first = vs;
        vs_last = vs;
        count++;
    }
    CHECK_ERR(err, FERRY_E_NO_ASID);
    CHECK(count == FERRY_ASIDS_PER_POOL - 1);

    /* A VSpace of another pool, with something mapped, loses it all with
     * its pool; assigned again, its address space is empty. */
    unsigned long vs2 = object_alloc(FERRY_OBJ_VSPACE, 0);
    ALLOC(pdpt2, FERRY_OBJ_PDPT, 0);
    ALLOC(pd2, FERRY_OBJ_PD, 0);
    CHECK(vs2 != 0);
    CHECK_OK(ferry_asid_assign(pools[0], vs2, NULL));
    CHECK_OK(ferry_table_map(pdpt2, vs2, 0));
    CHECK_OK(ferry_table_map(pd2, vs2, 0));
    for (unsigned i = 0; i < n; i++)
        CHECK_OK(ferry_cnode_revoke(uts[i]));            /* deletes the pool */
    CHECK_ERR(ferry_asid_assign(pools[0], vs2, NULL), FERRY_E_INVALID_CAP);
    ALLOC(pd3, FERRY_OBJ_PD, 0);
    CHECK_ERR(ferry_table_map(pd3, vs2, 0), FERRY_E_NO_ASID);
    CHECK_OK(ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, vs2, NULL));
    CHECK_ERR(ferry_table_map(pd3, vs2, 0), FERRY_E_NO_TABLE);          /* the PDPT is gone */
    CHECK_ERR(ferry_table_map(pdpt2, vs2, 0), FERRY_E_ILLEGAL_OP);      /* stale: unmap first */
    CHECK_OK(ferry_table_unmap(pd2));
    CHECK_OK(ferry_table_unmap(pdpt2));
    CHECK_OK(ferry_table_map(pdpt2, vs2, 0));
    CHECK_OK(ferry_table_map(pd3, vs2, 0));
    /* The blocks are free again: a pool can be made. */
    CHECK_OK(ferry_asid_make_pool(FERRY_CAP_ASID_CONTROL, uts[0], slot_alloc(), NULL));
    CHECK_OK(ferry_cnode_revoke(uts[0]));
    for (unsigned long v = vs_first; v <= vs_last; v++)
        CHECK_OK(ferry_cnode_delete(v));                 /* the filled pool's VSpaces */
    CHECK_OK(ferry_cnode_delete(vs2));
    CHECK_OK(ferry_cnode_delete(bare));
    return true;
}

/* 7. Long operations let interrupts and higher-priority threads in
 *    (#21 item 2): while this thread (priority 200) revokes a 64K-copy
 *    chain, deletes a CNode holding 64K capabilities and retypes 32 MiB
 *    of frames, the RTC's 1024 Hz interrupt keeps waking a thread of
 *    priority 255.  A kernel that ran each operation to its end with
 *    interrupts off delivers one interrupt per operation, after it. */
#define LO_RADIX 17
static unsigned long lo_cnode, lo_ep;

static unsigned long lo_copy(unsigned long dest, unsigned long src_root, unsigned long src,
                             unsigned long src_depth)
{
    unsigned long w[5] = { dest, LO_RADIX, src, src_depth, FERRY_RIGHTS_ALL };
    return ferry_invoke(lo_cnode, FERRY_CNODE_COPY, 5, w, 1, &src_root, NULL);
}

static bool lo_chain(unsigned long n)
{
    CHECK_OK(lo_copy(1, FERRY_CAP_INIT_CNODE, lo_ep, 64));
    for (unsigned long i = 2; i <= n; i++)
        CHECK_OK(lo_copy(i, lo_cnode, i - 1, LO_RADIX));
    return true;
}

static bool long_ops_body(void)
{
    enum { N = 65536, BIG_FRAMES = 16 };
    lo_cnode = object_alloc(FERRY_OBJ_CNODE, LO_RADIX);
    lo_ep = object_alloc(FERRY_OBJ_ENDPOINT, 0);
    CHECK(lo_cnode && lo_ep);
    CHECK_OK(rtc_probe_start(AM_PROBE_STACK, 255));
    for (unsigned long spin = 0; rtc_probe.ticks < 3 && spin < 2000000000UL; spin++)
        ;
    CHECK(rtc_probe.ticks >= 3);                 /* the probe works */
    unsigned long n[3], gap[3];

    CHECK(lo_chain(N));
    rtc_probe_reset();
    CHECK_OK(ferry_cnode_revoke(lo_ep));
    n[0] = rtc_probe.ticks, gap[0] = rtc_probe.max_gap;
    unsigned long last[2] = { N, LO_RADIX };
    CHECK_ERR(ferry_invoke(lo_cnode, FERRY_CNODE_DELETE, 2, last, 0, NULL, NULL), FERRY_E_SLOT_EMPTY);

    CHECK(lo_chain(N));
    rtc_probe_reset();
    CHECK_OK(ferry_cnode_delete(lo_cnode));
    n[1] = rtc_probe.ticks, gap[1] = rtc_probe.max_gap;
    CHECK_ERR(ferry_cnode_revoke(lo_ep), FERRY_OK);   /* nothing left below it */

    ALLOC(ut, FERRY_OBJ_UNTYPED, 25);
    unsigned long first = slot_alloc();
    for (int i = 1; i < BIG_FRAMES; i++)
        CHECK(slot_alloc() == first + (unsigned long)i);
    rtc_probe_reset();
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_2M, 0, first, BIG_FRAMES));
    n[2] = rtc_probe.ticks, gap[2] = rtc_probe.max_gap;
    unsigned long pa;
    CHECK_OK(ferry_frame_address(first + BIG_FRAMES - 1, &pa));
    CHECK_OK(ferry_cnode_revoke(ut));
    CHECK_OK(ferry_cnode_delete(ut));
    CHECK_OK(ferry_cnode_delete(lo_ep));

    printf("    RTC interrupts delivered during revoke %lu, CNode delete %lu, retype %lu; "
           "longest gaps %lu, %lu, %lu TSC ticks\n", n[0], n[1], n[2], gap[0], gap[1], gap[2]);
    for (int i = 0; i < 3; i++)
        CHECK(n[i] >= 2);
    return true;
}

static bool long_ops_preemptible(void)
{
    CHECK(table_ensure(AM_PROBE_STACK));
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 200));
    bool ok = long_ops_body();
    rtc_probe_stop();
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 255));
    return ok;
}

const struct utest utests_attack_memory[] = {
    UTEST(table_unmap_forgets_entries),
    UTEST(table_copy_cannot_alias),
    UTEST(stale_tlb_after_retype),
    UTEST(deleted_vspace_tables),
    UTEST(null_slot_unusable),
    UTEST(asid_pools),
    UTEST(long_ops_preemptible),
};
const size_t utests_attack_memory_n = sizeof utests_attack_memory / sizeof utests_attack_memory[0];
