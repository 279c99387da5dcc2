/* objects.c: in-guest tests of untyped memory, capabilities and their errors. */
#include "utest.h"

/* A private untyped of 2^bits bytes split off a boot untyped, so a test
 * knows exactly how much room it has. */
static unsigned long private_untyped(unsigned bits)
{
    return object_alloc(FERRY_OBJ_UNTYPED, bits);
}

static bool retype_basic(void)
{
    ALLOC(ut, FERRY_OBJ_UNTYPED, 16);
    unsigned long s = slot_alloc();
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_ENDPOINT, 0, s, 1));
    /* the slot is taken now */
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_ENDPOINT, 0, s, 1), FERRY_E_SLOT_OCCUPIED);
    /* bad type and bad CNode radix */
    CHECK_ERR(ferry_untyped_retype(ut, 999, 0, slot_alloc(), 1), FERRY_E_INVALID_ARG);
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_CNODE, 99, slot_alloc(), 1), FERRY_E_RANGE);
    return true;
}

static bool retype_overflow(void)
{
    unsigned long ut = private_untyped(14);          /* 16 KiB */
    CHECK(ut != 0);
    unsigned long s = slot_alloc();
    slot_alloc(), slot_alloc(), slot_alloc(), slot_alloc();
    /* five 4 KiB frames do not fit in 16 KiB */
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, s, 5), FERRY_E_NO_MEMORY);
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, s, 4));
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_ENDPOINT, 0, slot_alloc(), 1), FERRY_E_NO_MEMORY);
    /* an object bigger than the whole untyped */
    unsigned long small = private_untyped(12);
    CHECK(small != 0);
    CHECK_ERR(ferry_untyped_retype(small, FERRY_OBJ_FRAME_2M, 0, slot_alloc(), 1), FERRY_E_NO_MEMORY);
    return true;
}

static bool delete_then_reuse(void)
{
    unsigned long ut = private_untyped(13);          /* room for two frames */
    CHECK(ut != 0);
    unsigned long a = slot_alloc(), b = slot_alloc();
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, a, 1));
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, b, 1));
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, slot_alloc(), 1), FERRY_E_NO_MEMORY);
    unsigned long pa, pb;
    CHECK_OK(ferry_frame_address(a, &pa));
    CHECK_OK(ferry_frame_address(b, &pb));
    /* while one child lives, the untyped stays used */
    CHECK_OK(ferry_cnode_delete(a));
    CHECK_ERR(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, a, 1), FERRY_E_NO_MEMORY);
    /* when the last child goes, the memory can be retyped from the start */
    CHECK_OK(ferry_cnode_delete(b));
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, a, 1));
    unsigned long pa2;
    CHECK_OK(ferry_frame_address(a, &pa2));
    CHECK(pa2 == pa);
    /* revoking the untyped removes its children too */
    CHECK_OK(ferry_cnode_revoke(ut));
    CHECK_ERR(ferry_frame_address(a, &pa2), FERRY_E_INVALID_CAP);
    return true;
}

static bool invalid_capability(void)
{
    unsigned long empty = slot_alloc();
    unsigned long pa;
    CHECK_ERR(ferry_frame_address(empty, &pa), FERRY_E_INVALID_CAP);
    CHECK_ERR(ferry_cnode_delete(empty), FERRY_E_SLOT_EMPTY);
    CHECK_ERR(ferry_cnode_copy(slot_alloc(), empty, FERRY_RIGHTS_ALL), FERRY_E_SLOT_EMPTY);
    /* a cptr beyond the root CNode's slots names nothing */
    CHECK_ERR(ferry_frame_address(1UL << 20, &pa), FERRY_E_LOOKUP_GUARD);
    return true;
}

static bool wrong_type(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    unsigned long pa;
    /* a frame invocation on an endpoint is IPC; on a TCB it is a wrong label */
    CHECK_ERR(ferry_frame_address(FERRY_CAP_INIT_TCB, &pa), FERRY_E_INVALID_LABEL);
    /* a frame mapped "into" an endpoint */
    CHECK_ERR(ferry_frame_map(frame, ep, 0x20000000, FERRY_MAP_READ), FERRY_E_WRONG_TYPE);
    /* retype from something that is not untyped */
    CHECK_ERR(ferry_untyped_retype(frame, FERRY_OBJ_ENDPOINT, 0, slot_alloc(), 1), FERRY_E_INVALID_LABEL);
    return true;
}

static bool rights_reduced(void)
{
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    unsigned long ro = slot_alloc(), rw = slot_alloc();
    CHECK_OK(ferry_cnode_mint(ro, frame, FERRY_RIGHT_READ, 0));
    /* rights only shrink: a copy of the read-only cap asking for all rights stays read-only */
    CHECK_OK(ferry_cnode_copy(rw, ro, FERRY_RIGHTS_ALL));
    ALLOC(pt, FERRY_OBJ_PT, 0);
    (void)pt;
    CHECK_ERR(ferry_frame_map(rw, FERRY_CAP_INIT_VSPACE, 0x30000000, FERRY_MAP_READ | FERRY_MAP_WRITE),
              FERRY_E_RIGHTS);
    /* a CNode without write right cannot be changed through */
    unsigned long cn = slot_alloc();
    CHECK_OK(ferry_cnode_mint(cn, FERRY_CAP_INIT_CNODE, FERRY_RIGHT_READ, FERRY_CNODE_GUARD(0, 64 - ulib_bootinfo->cnode_radix)));
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    unsigned long w[FERRY_CNODE_COPY_NARGS] = {
        [FERRY_CNODE_ARG_DEST_INDEX] = slot_alloc(), [FERRY_CNODE_ARG_DEST_DEPTH] = 64,
        [FERRY_CNODE_ARG_SRC_INDEX] = frame, [FERRY_CNODE_ARG_SRC_DEPTH] = 64,
        [FERRY_CNODE_ARG_RIGHTS] = FERRY_RIGHTS_ALL,
    };
    CHECK_ERR(ferry_invoke(cn, FERRY_CNODE_COPY, FERRY_CNODE_COPY_NARGS, w, 1, &root, NULL), FERRY_E_RIGHTS);
    /* untyped memory cannot be copied (two caps would hand out the same memory) */
    ALLOC(ut, FERRY_OBJ_UNTYPED, 12);
    CHECK_ERR(ferry_cnode_copy(slot_alloc(), ut, FERRY_RIGHTS_ALL), FERRY_E_ILLEGAL_OP);
    return true;
}

static bool revoke_removes_descendants(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long c1 = slot_alloc(), c2 = slot_alloc(), g1 = slot_alloc();
    CHECK_OK(ferry_cnode_copy(c1, ep, FERRY_RIGHTS_ALL));
    CHECK_OK(ferry_cnode_mint(c2, ep, FERRY_RIGHT_WRITE, 42));
    CHECK_OK(ferry_cnode_copy(g1, c1, FERRY_RIGHTS_ALL));
    CHECK_OK(ferry_cnode_revoke(ep));
    /* the children and grandchild are gone, the original stays */
    unsigned long probe = slot_alloc();
    CHECK_ERR(ferry_cnode_copy(probe, c1, FERRY_RIGHTS_ALL), FERRY_E_SLOT_EMPTY);
    CHECK_ERR(ferry_cnode_copy(probe, c2, FERRY_RIGHTS_ALL), FERRY_E_SLOT_EMPTY);
    CHECK_ERR(ferry_cnode_copy(probe, g1, FERRY_RIGHTS_ALL), FERRY_E_SLOT_EMPTY);
    CHECK_OK(ferry_cnode_copy(probe, ep, FERRY_RIGHTS_ALL));
    return true;
}

static bool move_keeps_object(void)
{
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    unsigned long pa, pb, dst = slot_alloc();
    CHECK_OK(ferry_frame_address(frame, &pa));
    CHECK_OK(ferry_cnode_move(dst, frame));
    CHECK_ERR(ferry_frame_address(frame, &pb), FERRY_E_INVALID_CAP);
    CHECK_OK(ferry_frame_address(dst, &pb));
    CHECK(pa == pb);
    CHECK_ERR(ferry_cnode_move(dst, dst), FERRY_E_SLOT_OCCUPIED);
    return true;
}

static bool message_too_long(void)
{
    /* length field values above the maximum are rejected, not clamped */
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_CNODE_DELETE, FERRY_MSG_MAX_WORDS + 1, 0) };
    CHECK_ERR(sys_raw(FERRY_SYS_CALL, FERRY_CAP_INIT_CNODE, &m), FERRY_E_RANGE);
    /* too few words for the invocation */
    unsigned long w = 5;
    CHECK_ERR(ferry_invoke(FERRY_CAP_INIT_CNODE, FERRY_CNODE_DELETE, FERRY_CNODE_DELETE_NARGS - 1, &w, 0, NULL, NULL),
              FERRY_E_TRUNCATED);
    /* an unknown system call number */
    CHECK_ERR(sys_raw(999, 0, &m), FERRY_E_ILLEGAL_OP);
    /* debug write longer than the buffer */
    CHECK_ERR(sys_debug_write(1UL << 40), FERRY_E_RANGE);
    return true;
}

/* The floor modes of the syscall entry: an unknown mode is refused; in
 * the IPC floor mode every syscall switches CR3 and returns 0 without the
 * dispatcher (an odd number of them leaves CR3 "away"), and FLOOR_END puts
 * the normal entry and the caller's address space back. */
static bool floor_modes(void)
{
    struct sys_msg m = { .w = { 7 } };
    CHECK_ERR(sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m), FERRY_E_ILLEGAL_OP);
    if (!ulib_bootinfo->benchmark) {
        /* BENCHMARK=0: no floor at all */
        m.w[0] = FERRY_FLOOR_IPC;
        CHECK_ERR(sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m), FERRY_E_ILLEGAL_OP);
        m.w[0] = FERRY_KFLOOR_RDTSC;
        CHECK_ERR(sys_raw(FERRY_SYS_KFLOOR, FERRY_CAP_DEBUG, &m), FERRY_E_ILLEGAL_OP);
        return true;
    }
    CHECK_OK(sys_null());                          /* still the normal entry */
    m.w[0] = FERRY_FLOOR_IPC;
    CHECK_OK(sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m));
    volatile unsigned long probe = 1;
    for (int i = 0; i < 3; i++) {
        CHECK(sys_raw(999, 0, &m) == 0);           /* not dispatched: no ILLEGAL_OP */
        probe++;                                   /* our memory, in either table */
    }
    CHECK_OK(sys_raw(FERRY_SYS_FLOOR_END, FERRY_CAP_DEBUG, &m));
    CHECK(probe == 4);
    CHECK_ERR(sys_raw(999, 0, &m), FERRY_E_ILLEGAL_OP);   /* dispatched again */
    /* Mapping after the floor: the address space in use is really ours. */
    ALLOC(f, FERRY_OBJ_FRAME_4K, 0);
    CHECK(table_ensure(0x3b000000UL));
    CHECK_OK(ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, 0x3b000000UL, FERRY_MAP_READ | FERRY_MAP_WRITE));
    *(volatile unsigned long *)0x3b000000UL = 42;
    CHECK(*(volatile unsigned long *)0x3b000000UL == 42);
    CHECK_OK(ferry_frame_unmap(f));
    return true;
}

const struct utest utests_objects[] = {
    UTEST(retype_basic),
    UTEST(retype_overflow),
    UTEST(delete_then_reuse),
    UTEST(invalid_capability),
    UTEST(wrong_type),
    UTEST(rights_reduced),
    UTEST(revoke_removes_descendants),
    UTEST(move_keeps_object),
    UTEST(message_too_long),
    UTEST(floor_modes),
};
const size_t utests_objects_n = sizeof utests_objects / sizeof utests_objects[0];
