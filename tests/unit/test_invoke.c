/* SOURCES: kernel/core/invoke.c kernel/core/cspace.c kernel/object/cnode.c kernel/object/untyped.c kernel/object/objtype.c kernel/object/tcb.c kernel/object/endpoint.c kernel/object/notification.c kernel/core/readyqueue.c tests/unit/objtest.c tests/unit/host_stubs.c */
/* test_invoke.c: invocations through invoke(): decoding, rights, error codes, TCB and CNode operations as user space sees them. */
#include "objtest.h"

#include <string.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <object/endpoint.h>

/* The caller's CSpace: one 256-slot CNode with a 56-bit zero guard, so a
 * cptr is just the slot number.  Fixed slots: */
enum { S_UT = 1, S_SELF = 2, S_VS = 3, S_CN = 4, S_FREE = 10 };

static struct tcb *caller;
static struct cte *cs;
static struct invocation inv;

static int setup(void **state)
{
    (void)state;
    static struct cte ut, cn, cn_guarded, tcbslot;
    objtest_reset();
    memset(&cn, 0, sizeof cn);
    memset(&cn_guarded, 0, sizeof cn_guarded);
    memset(&tcbslot, 0, sizeof tcbslot);
    objtest_untyped(&ut, 0, ARENA_BITS);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_CNODE, 8, &cn, 1), FERRY_OK);
    assert_int_equal(cte_mint(&cn, &cn_guarded, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 56)), FERRY_OK);
    cs = cnode_slot(&cn.cap, 0);
    cte_move(&cn_guarded, &cs[S_CN]);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_TCB, 0, &cs[S_SELF], 1), FERRY_OK);
    assert_int_equal(untyped_retype(&ut, FERRY_OBJ_VSPACE, 0, &cs[S_VS], 1), FERRY_OK);
    caller = cap_tcb(&cs[S_SELF].cap);
    caller->mcp = 200;    /* as the boot code would give the root task */
    assert_int_equal(tcb_configure(caller, &cs[S_CN], &cs[S_VS], NULL, 0, 0), FERRY_OK);
    cte_move(&ut, &cs[S_UT]);
    return 0;
}

static word_t call(word_t cptr, word_t label, word_t ncaps, const word_t *caps, word_t len,
                   const word_t *mr)
{
    memset(&inv, 0xcc, sizeof inv);
    inv.cptr = cptr;
    inv.label = label;
    inv.extra_caps = ncaps;
    for (word_t i = 0; i < ncaps && i < FERRY_MAX_EXTRA_CAPS; i++)
        inv.caps[i] = caps[i];   /* extra_caps may claim more: invoke must refuse */
    inv.len = len;
    for (word_t i = 0; i < len; i++)
        inv.mr[i] = mr[i];
    return invoke(caller, &inv);
}

#define CAPS(...) (const word_t[]){ __VA_ARGS__ }
#define MRS(...)  (const word_t[]){ __VA_ARGS__ }

static word_t retype(word_t type, word_t bits, word_t slot, word_t n)
{
    return call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(S_CN), 6, MRS(type, bits, 0, 0, slot, n));
}

static void test_retype(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, S_FREE, 2), FERRY_OK);
    assert_int_equal(inv.len, 0);    /* no result words */
    assert_int_equal(cs[S_FREE].cap.type, FERRY_OBJ_ENDPOINT);
    assert_int_equal(cs[S_FREE + 1].cap.type, FERRY_OBJ_ENDPOINT);
    assert_ptr_equal(cs[S_FREE].parent, &cs[S_UT]);
    /* destination named through index/depth instead of depth 0 */
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(S_CN), 6,
                          MRS(FERRY_OBJ_NOTIFICATION, 0, S_CN, 64, 20, 1)), FERRY_OK);
    assert_int_equal(cs[20].cap.type, FERRY_OBJ_NOTIFICATION);

    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, S_FREE + 1, 1), FERRY_E_SLOT_OCCUPIED);
    assert_int_equal(inv.err_arg, 4);
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, 250, 7), FERRY_E_RANGE);
    assert_int_equal(inv.err_arg, 5);
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, 256, 1), FERRY_E_RANGE);
    assert_int_equal(inv.err_arg, 4);
    assert_int_equal(retype(FERRY_OBJ_CNODE, 30, 30, 1), FERRY_E_RANGE);
    assert_int_equal(inv.err_arg, 1);
    assert_int_equal(retype(FERRY_OBJ_IO_PORT, 0, 30, 1), FERRY_E_INVALID_ARG);
    assert_int_equal(inv.err_arg, 0);
    assert_int_equal(retype(FERRY_OBJ_UNTYPED, 23, 30, 1), FERRY_E_NO_MEMORY);
    assert_int_equal(inv.err_arg, 5);
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(S_CN), 5, MRS(3, 0, 0, 0, 30)), FERRY_E_TRUNCATED);
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 0, NULL, 6, MRS(3, 0, 0, 0, 30, 1)), FERRY_E_MISSING_CAP);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(0));
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(S_FREE), 6, MRS(3, 0, 0, 0, 30, 1)), FERRY_E_WRONG_TYPE);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(0));
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(99), 6, MRS(3, 0, 0, 0, 30, 1)), FERRY_E_INVALID_CAP);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(0));
    assert_int_equal(call(S_UT, FERRY_CNODE_COPY, 1, CAPS(S_CN), 6, MRS(3, 0, 0, 0, 30, 1)), FERRY_E_INVALID_LABEL);
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(S_CN), 6,
                          MRS(FERRY_OBJ_ENDPOINT, 0, S_FREE, 64, 0, 1)), FERRY_E_WRONG_TYPE);
    assert_int_equal(inv.err_arg, 2);
    /* nothing above created anything */
    for (int i = 21; i < 256; i++)
        assert_true(cap_is_null(&cs[i].cap));
}

/* A Retype's clearing stops at preemption points with nothing created
 * and the watermark where it was; the restarted call goes on from what is
 * already clear, and the objects come out zeroed. */
static void test_retype_clearing_preemptible(void **state)
{
    (void)state;
    struct cap *u = &cs[S_UT].cap;
    word_t wm = u->u.untyped.watermark, start = ALIGN_UP(wm, 4096);
    memset(arena_ptr(u->paddr + wm), 0xaa, start - wm + 8 * 4096);   /* old contents */
    objtest_preempt_every = 3;
    assert_int_equal(retype(FERRY_OBJ_FRAME_4K, 0, S_FREE, 8), INVOKE_PREEMPTED);
    assert_int_equal(u->u.untyped.watermark, wm);
    assert_true(cap_is_null(&cs[S_FREE].cap));
    assert_int_equal(retype(FERRY_OBJ_FRAME_4K, 0, S_FREE, 8), INVOKE_PREEMPTED);
    assert_int_equal(retype(FERRY_OBJ_FRAME_4K, 0, S_FREE, 8), FERRY_OK);
    /* one point per cleared page but the last (the gap below the frames
     * is cleared too, so the first point may come within the first page) */
    assert_true(objtest_preempt_calls >= 7 && objtest_preempt_calls <= 8);
    assert_int_equal(u->u.untyped.watermark, start + 8 * 4096);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(cs[S_FREE + i].cap.type, FERRY_OBJ_FRAME_4K);
        const uint8_t *p = arena_ptr(cs[S_FREE + i].cap.paddr);
        for (int b = 0; b < 4096; b++)
            assert_int_equal(p[b], 0);
    }
}

static void test_rights_are_checked(void **state)
{
    (void)state;
    /* a read-only copy of the CNode cap cannot be a destination or modified */
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5,
                          MRS(5, 64, S_CN, 64, FERRY_RIGHT_READ)), FERRY_OK);
    assert_int_equal(cs[5].cap.rights, FERRY_RIGHT_READ);
    assert_int_equal(call(S_UT, FERRY_UNTYPED_RETYPE, 1, CAPS(5), 6,
                          MRS(FERRY_OBJ_ENDPOINT, 0, 0, 0, 40, 1)), FERRY_E_RIGHTS);
    assert_int_equal(inv.err_arg, 2);
    assert_int_equal(call(5, FERRY_CNODE_DELETE, 0, NULL, 2, MRS(S_VS, 64)), FERRY_E_RIGHTS);
    assert_false(cap_is_null(&cs[S_VS].cap));
    /* ... but it can be a Copy source */
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(5), 5, MRS(6, 64, S_VS, 64, FERRY_RIGHTS_ALL)), FERRY_OK);
    /* and not a Move source, which needs write too */
    assert_int_equal(call(S_CN, FERRY_CNODE_MOVE, 1, CAPS(5), 4, MRS(7, 64, 6, 64)), FERRY_E_RIGHTS);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(0));
    /* rights cannot grow back through a copy */
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(8, 64, 5, 64, FERRY_RIGHTS_ALL)), FERRY_OK);
    assert_int_equal(cs[8].cap.rights, FERRY_RIGHT_READ);

    /* a read-only TCB cap can read registers but not write them */
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5,
                          MRS(9, 64, S_SELF, 64, FERRY_RIGHT_READ)), FERRY_OK);
    assert_int_equal(call(9, FERRY_TCB_READ_REGISTERS, 0, NULL, 1, MRS(FERRY_REG_COUNT)), FERRY_OK);
    assert_int_equal(inv.len, FERRY_REG_COUNT);
    assert_int_equal(call(9, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(0, 1, 42)), FERRY_E_RIGHTS);
    assert_int_equal(call(9, FERRY_TCB_SUSPEND, 0, NULL, 0, NULL), FERRY_E_RIGHTS);
}

static void test_cnode_operations(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, S_FREE, 1), FERRY_OK);
    /* Mint a badged, send-only copy */
    assert_int_equal(call(S_CN, FERRY_CNODE_MINT, 1, CAPS(S_CN), 6,
                          MRS(11, 64, S_FREE, 64, FERRY_RIGHT_WRITE, 0xbad)), FERRY_OK);
    assert_int_equal(inv.len, 0);
    assert_int_equal(cs[11].cap.u.ep.badge, 0xbad);
    assert_int_equal(cs[11].cap.rights, FERRY_RIGHT_WRITE);
    assert_int_equal(call(S_CN, FERRY_CNODE_MINT, 1, CAPS(S_CN), 6,
                          MRS(12, 64, 11, 64, FERRY_RIGHTS_ALL, 1)), FERRY_E_ILLEGAL_OP);
    assert_int_equal(inv.err_arg, 5);
    /* Move keeps the derivation */
    assert_int_equal(call(S_CN, FERRY_CNODE_MOVE, 1, CAPS(S_CN), 4, MRS(12, 64, 11, 64)), FERRY_OK);
    assert_true(cap_is_null(&cs[11].cap));
    assert_ptr_equal(cs[12].parent, &cs[S_FREE]);
    /* errors name the argument */
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(12, 64, S_FREE, 64, 15)), FERRY_E_SLOT_OCCUPIED);
    assert_int_equal(inv.err_arg, 0);
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(13, 64, 50, 64, 15)), FERRY_E_SLOT_EMPTY);
    assert_int_equal(inv.err_arg, 2);
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(13, 64, S_UT, 64, 15)), FERRY_E_ILLEGAL_OP);
    assert_int_equal(inv.err_arg, 2);
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(13, 65, S_FREE, 64, 15)), FERRY_E_RANGE);
    assert_int_equal(inv.err_arg, 0);
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 5, MRS(1UL << 60, 64, S_FREE, 64, 15)),
                     FERRY_E_LOOKUP_GUARD);
    assert_int_equal(inv.err_bits_left, 64);
    assert_int_equal(call(S_CN, FERRY_CNODE_COPY, 1, CAPS(S_CN), 4, MRS(13, 64, S_FREE, 64)), FERRY_E_TRUNCATED);
    assert_int_equal(call(S_CN, FERRY_UNTYPED_RETYPE, 0, NULL, 2, MRS(13, 64)), FERRY_E_INVALID_LABEL);
    /* Revoke the endpoint: the minted copy goes, the original stays */
    assert_int_equal(call(S_CN, FERRY_CNODE_REVOKE, 0, NULL, 2, MRS(S_FREE, 64)), FERRY_OK);
    assert_true(cap_is_null(&cs[12].cap));
    assert_false(cap_is_null(&cs[S_FREE].cap));
    assert_int_equal(call(S_CN, FERRY_CNODE_DELETE, 0, NULL, 2, MRS(S_FREE, 64)), FERRY_OK);
    assert_true(cap_is_null(&cs[S_FREE].cap));
    assert_int_equal(call(S_CN, FERRY_CNODE_DELETE, 0, NULL, 2, MRS(S_FREE, 64)), FERRY_E_SLOT_EMPTY);
    /* an untyped with live objects must be revoked before it is deleted */
    assert_int_equal(call(S_CN, FERRY_CNODE_DELETE, 0, NULL, 2, MRS(S_UT, 64)), FERRY_E_REVOKE_FIRST);
    assert_false(cap_is_null(&cs[S_UT].cap));
}

static void test_dispatch_by_type(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, S_FREE, 1), FERRY_OK);
    assert_int_equal(retype(FERRY_OBJ_NOTIFICATION, 0, S_FREE + 1, 1), FERRY_OK);
    assert_int_equal(retype(FERRY_OBJ_FRAME_4K, 0, S_FREE + 2, 1), FERRY_OK);
    assert_int_equal(call(S_FREE, 1234, 0, NULL, 0, NULL), INVOKE_IPC);
    assert_ptr_equal(inv.target, &cs[S_FREE]);
    assert_int_equal(call(S_FREE + 1, 1234, 0, NULL, 0, NULL), INVOKE_IPC);
    assert_int_equal(arch_log.decode_calls, 0);
    assert_int_equal(call(S_FREE + 2, FERRY_ARCH_LABEL_BASE, 0, NULL, 0, NULL), ARCH_DECODE_MARK);
    assert_int_equal(arch_log.decode_calls, 1);
    /* an empty slot, a bad guard */
    assert_int_equal(call(77, FERRY_TCB_RESUME, 0, NULL, 0, NULL), FERRY_E_INVALID_CAP);
    assert_int_equal(inv.err_bits_left, 0);
    assert_int_equal(call(1UL << 63, FERRY_TCB_RESUME, 0, NULL, 0, NULL), FERRY_E_LOOKUP_GUARD);
    assert_int_equal(inv.err_bits_left, 64);
    assert_int_equal(call(S_SELF, FERRY_TCB_SUSPEND, 4, CAPS(1, 2, 3, 4), 0, NULL), FERRY_E_RANGE);
    memset(&inv, 0, sizeof inv);
    inv.cptr = S_SELF;
    inv.label = FERRY_TCB_SUSPEND;
    inv.len = FERRY_MSG_MAX_WORDS + 1;
    assert_int_equal(invoke(caller, &inv), FERRY_E_RANGE);
    /* a caller without a CSpace resolves nothing */
    struct tcb lonely;
    memset(&lonely, 0, sizeof lonely);
    memset(&inv, 0, sizeof inv);
    inv.cptr = S_SELF;
    assert_int_equal(invoke(&lonely, &inv), FERRY_E_INVALID_CAP);
}

static void test_tcb_priorities(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_TCB, 0, S_FREE, 1), FERRY_OK);
    struct tcb *t = cap_tcb(&cs[S_FREE].cap);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_SELF), 1, MRS(150)), FERRY_OK);
    assert_int_equal(inv.len, 0);
    assert_int_equal(t->prio, 150);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_SELF), 1, MRS(201)), FERRY_E_RANGE);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_SELF), 1, MRS(256)), FERRY_E_RANGE);
    assert_int_equal(t->prio, 150);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_MCPRIORITY, 1, CAPS(S_SELF), 1, MRS(250)), FERRY_E_RANGE);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_MCPRIORITY, 1, CAPS(S_SELF), 1, MRS(100)), FERRY_OK);
    assert_int_equal(t->mcp, 100);
    /* the new thread's own authority reaches only its MCP */
    assert_int_equal(call(S_SELF, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_FREE), 1, MRS(101)), FERRY_E_RANGE);
    assert_int_equal(call(S_SELF, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_FREE), 1, MRS(100)), FERRY_OK);
    assert_int_equal(caller->prio, 100);
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_PRIORITY, 1, CAPS(S_VS), 1, MRS(1)), FERRY_E_WRONG_TYPE);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(0));
    assert_int_equal(call(S_FREE, FERRY_TCB_SET_PRIORITY, 0, NULL, 1, MRS(1)), FERRY_E_MISSING_CAP);
}

static void test_tcb_registers(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_TCB, 0, S_FREE, 1), FERRY_OK);
    word_t v[2 + FERRY_REG_COUNT] = { 0, FERRY_REG_COUNT };
    for (int i = 0; i < FERRY_REG_COUNT; i++)
        v[2 + i] = 0x1000 + i;
    v[2 + FERRY_REG_RIP] = 0x400000;
    v[2 + FERRY_REG_RSP] = 0x7ffffff000;
    v[2 + FERRY_REG_RFLAGS] = ~0UL;
    v[2 + FERRY_REG_GS_BASE] = 0x7f0000001000UL;
    struct tcb *t = cap_tcb(&cs[S_FREE].cap);
    assert_int_equal(arch_log.tcb_init_calls, 2);     /* the caller's and this one */
    t->ctx.entry = CTX_ENTRY_SYSCALL;
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 2 + FERRY_REG_COUNT, v), FERRY_OK);
    assert_int_equal(t->ctx.entry, CTX_ENTRY_FULL);   /* RCX/R11 must survive the return */
    assert_int_equal(inv.len, 0);
    assert_int_equal(call(S_FREE, FERRY_TCB_READ_REGISTERS, 0, NULL, 1, MRS(FERRY_REG_COUNT)), FERRY_OK);
    assert_int_equal(inv.len, FERRY_REG_COUNT);
    assert_int_equal(inv.mr[FERRY_REG_RAX], 0x1000);
    assert_int_equal(inv.mr[FERRY_REG_RIP], 0x400000);
    assert_int_equal(inv.mr[FERRY_REG_RFLAGS], 0x8d5 | 0x202);   /* arithmetic flags, IF, bit 1 */
    assert_int_equal(inv.mr[FERRY_REG_GS_BASE], 0x7f0000001000UL);
    assert_int_equal(arch_log.bases_in_use_calls, 2);   /* the FS and GS bases were written */

    /* rejected values change nothing */
    word_t bad[][2] = {
        { FERRY_REG_RIP, 0x0000800000000000UL },
        { FERRY_REG_RSP, 0xffff800000000000UL },
        { FERRY_REG_FS_BASE, 0x0000900000000000UL },
        { FERRY_REG_GS_BASE, 0xffff800000001000UL },      /* canonical, but the kernel's half */
        { FERRY_REG_RIP, FERRY_USER_TOP },                 /* canonical, above the user top */
    };
    for (unsigned k = 0; k < 5; k++) {
        memcpy(v, (word_t[]){ 0, FERRY_REG_COUNT }, 2 * sizeof(word_t));
        for (int i = 0; i < FERRY_REG_COUNT; i++)
            v[2 + i] = 0;
        v[2 + bad[k][0]] = bad[k][1];
        assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 2 + FERRY_REG_COUNT, v),
                         FERRY_E_INVALID_ARG);
        assert_int_equal(inv.err_arg, 2 + bad[k][0]);
    }
    assert_int_equal(ctx_get(&cap_tcb(&cs[S_FREE].cap)->ctx, CTX_RAX), 0x1000);
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(0, FERRY_REG_COUNT + 1, 0)), FERRY_E_RANGE);
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(0, 2, 0)), FERRY_E_TRUNCATED);
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(2, 1, 0)), FERRY_E_INVALID_ARG);
    assert_int_equal(call(S_FREE, FERRY_TCB_READ_REGISTERS, 0, NULL, 1, MRS(FERRY_REG_COUNT + 1)), FERRY_E_RANGE);
    /* writing 1 register leaves the rest */
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(0, 1, 7)), FERRY_OK);
    assert_int_equal(ctx_get(&cap_tcb(&cs[S_FREE].cap)->ctx, CTX_RAX), 7);
    assert_int_equal(ctx_get(&cap_tcb(&cs[S_FREE].cap)->ctx, CTX_RBX), 0x1001);
}

/* After `syscall` the CPU holds RIP in RCX and RFLAGS in R11; the entry
 * stub does not store those slots, so reads report the CPU's values, and a
 * write (which makes the thread leave by iretq) fills them in first. */
static void test_tcb_registers_after_syscall(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_TCB, 0, S_FREE, 1), FERRY_OK);
    struct tcb *t = cap_tcb(&cs[S_FREE].cap);
    t->ctx.entry = CTX_ENTRY_SYSCALL;
    ctx_set(&t->ctx, CTX_RIP, 0x401234);
    ctx_set(&t->ctx, CTX_RFLAGS, 0x246);
    ctx_set(&t->ctx, CTX_RCX, 0xdead);             /* stale: never stored by syscall_entry */
    ctx_set(&t->ctx, CTX_R11, 0xbeef);
    assert_int_equal(call(S_FREE, FERRY_TCB_READ_REGISTERS, 0, NULL, 1, MRS(FERRY_REG_COUNT)), FERRY_OK);
    assert_int_equal(inv.mr[FERRY_REG_RCX], 0x401234);
    assert_int_equal(inv.mr[FERRY_REG_R11], 0x246);
    /* writing RAX only: RCX/R11 become what the CPU had, then iretq */
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(0, 1, 7)), FERRY_OK);
    assert_int_equal(t->ctx.entry, CTX_ENTRY_FULL);
    assert_int_equal(t->ctx.regs[CTX_RCX], 0x401234);
    assert_int_equal(t->ctx.regs[CTX_R11], 0x246);
    assert_int_equal(arch_log.bases_in_use_calls, 0);   /* no base was written */
}

static void test_tcb_lifecycle(void **state)
{
    (void)state;
    assert_int_equal(retype(FERRY_OBJ_TCB, 0, S_FREE, 1), FERRY_OK);
    assert_int_equal(retype(FERRY_OBJ_FRAME_4K, 0, S_FREE + 1, 1), FERRY_OK);
    assert_int_equal(retype(FERRY_OBJ_ENDPOINT, 0, S_FREE + 2, 1), FERRY_OK);
    struct tcb *t = cap_tcb(&cs[S_FREE].cap);

    assert_int_equal(call(S_FREE, FERRY_TCB_RESUME, 0, NULL, 0, NULL), FERRY_E_ILLEGAL_OP);
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(FERRY_WRITEREGS_RESUME, 1, 5)),
                     FERRY_E_ILLEGAL_OP);
    assert_int_equal(call(S_FREE, FERRY_TCB_CONFIGURE, 3, CAPS(S_CN, S_FREE + 1, S_FREE + 1), 2, MRS(7, 0x20000)),
                     FERRY_E_WRONG_TYPE);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(1));
    assert_int_equal(call(S_FREE, FERRY_TCB_CONFIGURE, 2, CAPS(S_CN, S_VS), 2, MRS(7, 0x20000)), FERRY_E_MISSING_CAP);
    assert_int_equal(inv.err_arg, FERRY_ERR_ARG_CAP(2));
    assert_int_equal(call(S_FREE, FERRY_TCB_CONFIGURE, 3, CAPS(S_CN, S_VS, S_FREE + 1), 2, MRS(7, 0x20008)),
                     FERRY_E_ALIGNMENT);
    assert_int_equal(inv.err_arg, 1);
    assert_true(cap_is_null(&t->slots[TCB_SLOT_CSPACE].cap));

    assert_int_equal(call(S_FREE, FERRY_TCB_CONFIGURE, 3, CAPS(S_CN, S_VS, S_FREE + 1), 2,
                          MRS(7, 0x20000 + FERRY_IPC_BUFFER_ALIGN)),
                     FERRY_OK);
    assert_int_equal(t->fault_ep, 7);
    assert_int_equal(t->ipc_buffer, 0x20000 + FERRY_IPC_BUFFER_ALIGN);
    assert_ptr_equal(tcb_ipc_buffer(t),
                     (word_t *)((char *)arena_ptr(cs[S_FREE + 1].cap.paddr) + FERRY_IPC_BUFFER_ALIGN));

    assert_int_equal(call(S_FREE, FERRY_TCB_RESUME, 0, NULL, 0, NULL), FERRY_OK);
    assert_int_equal(t->state, TCB_RUNNABLE);
    assert_true(t->in_ready_queue);
    assert_int_equal(call(S_FREE, FERRY_TCB_SUSPEND, 0, NULL, 0, NULL), FERRY_OK);
    assert_int_equal(t->state, TCB_INACTIVE);
    assert_false(t->in_ready_queue);
    assert_int_equal(call(S_FREE, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 3, MRS(FERRY_WRITEREGS_RESUME, 1, 5)), FERRY_OK);
    assert_true(t->in_ready_queue);

    /* suspending a thread blocked on an endpoint takes it off the queue */
    struct endpoint *ep = cap_endpoint(&cs[S_FREE + 2].cap);
    sched_dequeue(t);
    t->state = TCB_BLOCKED_SEND;
    endpoint_enqueue(ep, t);
    assert_int_equal(ep->state, EP_SEND);
    assert_int_equal(call(S_FREE, FERRY_TCB_SUSPEND, 0, NULL, 0, NULL), FERRY_OK);
    assert_null(ep->queue.head);
    assert_int_equal(ep->state, EP_IDLE);
    assert_null(t->blocked_on);

    /* deleting the last TCB cap: destroyed, its copies of the roots gone */
    assert_int_equal(call(S_FREE, FERRY_TCB_RESUME, 0, NULL, 0, NULL), FERRY_OK);
    assert_int_equal(call(S_CN, FERRY_CNODE_DELETE, 0, NULL, 2, MRS(S_FREE, 64)), FERRY_OK);
    assert_false(t->in_ready_queue);
    assert_int_equal(t->state, TCB_INACTIVE);
    assert_int_equal(arch_log.tcb_destroy_calls, 1);
    for (int i = 0; i < TCB_NSLOTS; i++)
        assert_true(cap_is_null(&t->slots[i].cap));
    assert_int_equal(arch_log.delete_final, 0);     /* VSpace and frame live on */
    assert_int_equal(arch_log.delete_nonfinal, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_retype, setup),
        cmocka_unit_test_setup(test_retype_clearing_preemptible, setup),
        cmocka_unit_test_setup(test_rights_are_checked, setup),
        cmocka_unit_test_setup(test_cnode_operations, setup),
        cmocka_unit_test_setup(test_dispatch_by_type, setup),
        cmocka_unit_test_setup(test_tcb_priorities, setup),
        cmocka_unit_test_setup(test_tcb_registers, setup),
        cmocka_unit_test_setup(test_tcb_registers_after_syscall, setup),
        cmocka_unit_test_setup(test_tcb_lifecycle, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
